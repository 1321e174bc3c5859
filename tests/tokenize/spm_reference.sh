#!/usr/bin/env bash
# SentencePiece reference test: trains a small model with Debian's spm_train on fortunes text,
# then mpitune's ids must equal spm_encode's on every non-empty line of the corpus, and (with
# identity normalization, no whitespace folding and byte fallback) decode(encode(x)) == x.
#
#   spm_reference.sh VARIANT WORK_DIR TOKENIZE_CHECK FORTUNES_DIR
#
# VARIANT: bpe, unigram (identity normalization: ids and round trip), unigram_nfkc (spm's
# default nmt_nfkc normalization and whitespace folding: ids only, since that folding is lossy).
set -euo pipefail
variant=$1 work=$2 tool=$3 corpus=$4
for cmd in spm_train spm_encode; do
  command -v "$cmd" >/dev/null 2>&1 || { echo "spm_reference: '$cmd' is not installed (Debian package sentencepiece)" >&2; exit 1; }
done
mkdir -p "$work/model"

# Every non-empty line of the corpus files in name order; the model learns from the first 5000.
find "$corpus" -maxdepth 1 -type f ! -name '*.dat' ! -name '*.u8' | LC_ALL=C sort | xargs cat | grep -v '^$' > "$work/lines.txt"
head -n 5000 "$work/lines.txt" > "$work/train.txt"

common=(--input="$work/train.txt" --model_prefix="$work/model/tokenizer" --vocab_size=1000
        --character_coverage=1.0 --minloglevel=2)
case "$variant" in
  bpe) spm_train "${common[@]}" --model_type=bpe --normalization_rule_name=identity \
                 --remove_extra_whitespaces=false --byte_fallback=true; roundtrip=--roundtrip ;;
  unigram) spm_train "${common[@]}" --model_type=unigram --normalization_rule_name=identity \
                     --remove_extra_whitespaces=false --byte_fallback=true; roundtrip=--roundtrip ;;
  unigram_nfkc) spm_train "${common[@]}" --model_type=unigram; roundtrip= ;;
  *) echo "spm_reference: unknown variant '$variant'" >&2; exit 2 ;;
esac

spm_encode --model="$work/model/tokenizer.model" --output_format=id < "$work/lines.txt" > "$work/reference_ids.txt"
"$tool" --tokenizer "$work/model" --lines "$work/lines.txt" --expected "$work/reference_ids.txt" $roundtrip \
        --threads 2 --label "sentencepiece_$variant"
