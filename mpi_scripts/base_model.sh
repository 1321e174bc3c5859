#!/usr/bin/env bash
# The project's own pretrained base model, made once and cached: a byte-level BPE tokenizer
# trained by `mpitune train-tokenizer` on the English fortunes corpus, a small Llama-layout model
# pretrained from scratch by `mpitune run --config configs/base_model.ini`, exported as a
# Hugging Face folder (config.json, model.safetensors, tokenizer.json, tokenizer_config.json)
# and checked with `mpitune eval` on the held-out people text.
#
#   mpi_scripts/base_model.sh [--print-path]
#
# Prints the model folder on stdout (progress goes to stderr), so `base=$(mpi_scripts/base_model.sh)`
# works. The folder is
#   ${MPITUNE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mpitune}/base-fortunes-<hash>
# where <hash> covers configs/base_model.ini, the tokenizer settings below and this script's
# version: change any of them and a new model is made, next to the old one. When the folder
# already holds config.json + model.safetensors + tokenizer.json it is printed at once. It is
# built in a temporary folder beside it and renamed into place, so an interrupted or failed
# build never leaves a half-made model where the next run would take it.
# $cache/base-fortunes is kept a symlink to it (the embedded default config's model.path).
# --print-path prints the folder without building anything.
#
# Needs a built mpitune in ${MPITUNE_BUILD_DIR:-<repo>/build} (mpi_scripts/build.sh) and the
# fortunes corpus (/usr/share/games/fortunes). About 2-3 minutes on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

version=1                     # bump when what this script does changes the model
corpus=/usr/share/games/fortunes
exclude="computers, people"   # the fine-tuning corpus and the validation / retention text
val_corpus=$corpus/people
# 2048 ids: 2.77 bytes per token on people (4096: 3.08), so 10% more tokens per text, but the
# tied embedding / output head, a large share of a 2M-parameter model's compute, is half as
# big, and each id is seen twice as often in a two-minute budget.
vocab_size=2048
min_frequency=2
np=3                          # rank 0 coordinates, ranks 1-2 train one ZeRO-3 group (group_size = 2)

config=$root/configs/base_model.ini
build=${MPITUNE_BUILD_DIR:-$root/build}
cache=${MPITUNE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mpitune}

log() { echo "base_model: $*" >&2; }
die() { echo "base_model: error: $*" >&2; exit 1; }

case "${1:-}" in
  "") print_only=0 ;;
  --print-path) print_only=1 ;;
  -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (usage: base_model.sh [--print-path])" ;;
esac
[ $# -le 1 ] || die "too many arguments (usage: base_model.sh [--print-path])"

[ -f "$config" ] || die "$config is missing"
tokenizer_settings="corpus=$corpus exclude=$exclude separator=% vocab_size=$vocab_size min_frequency=$min_frequency"
recipe_hash=$( { cat "$config"; echo "$tokenizer_settings"; echo "base_model.sh version $version np $np"; } |
               sha256sum | cut -c1-12)
dir=$cache/base-fortunes-$recipe_hash

complete() { [ -f "$1/config.json" ] && [ -f "$1/model.safetensors" ] && [ -f "$1/tokenizer.json" ]; }
# $cache/base-fortunes -> the current recipe's folder: what the embedded default config's
# `model.path = {cache}/base-fortunes` names. Replaced in one rename.
link_current() {
  ln -sfn "$(basename "$dir")" "$cache/.base-fortunes.link.$$"
  mv -Tf "$cache/.base-fortunes.link.$$" "$cache/base-fortunes"
}

if [ "$print_only" = 1 ]; then
  echo "$dir"
  exit 0
fi
if complete "$dir"; then
  link_current
  echo "$dir"
  exit 0
fi

exe=$build/mpitune
[ -x "$exe" ] || die "$exe is not built (run mpi_scripts/build.sh, or set MPITUNE_BUILD_DIR)"
[ -d "$corpus" ] || die "$corpus is missing (install the Debian package fortunes: apt-get install fortunes)"
command -v mpirun >/dev/null 2>&1 || die "mpirun is not on PATH (mpi_scripts/install_deps.sh installs Open MPI)"

mkdir -p "$cache"
work=$(mktemp -d "$cache/.base-fortunes-$recipe_hash.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s.%N)
seconds_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

log "making $dir (a few minutes, once)"
t=$(date +%s.%N)
"$exe" train-tokenizer --corpus "$corpus" --exclude "$exclude" --document-separator % \
    --vocab-size "$vocab_size" --min-frequency "$min_frequency" --out "$work/tokenizer" >&2
log "tokenizer trained in $(seconds_since "$t") s"

# shellcheck source=env.sh
source "$root/mpi_scripts/env.sh"
t=$(date +%s.%N)
mpirun -np "$np" --bind-to none "$exe" run --config "$config" --quiet \
    --set data.tokenizer="$work/tokenizer" \
    --set experiment.output="$work/run/base-fortunes.h5" \
    --set data.cache_dir="$work/token-cache" >&2
log "pretrained in $(seconds_since "$t") s"

# The one kept trial (keep = best): its folder name carries its id.
kept=("$work"/run/base-fortunes.h5.keep/trial-*)
[ -d "${kept[0]}" ] || die "the run kept no trial under $work/run/base-fortunes.h5.keep (see its output above)"
trial=${kept[0]##*trial-}
"$exe" export "$work/run/base-fortunes.h5" --trial "$trial" --out "$work/model" >&2
complete "$work/model" || die "the export of trial $trial lacks config.json, model.safetensors or tokenizer.json"

# The check: the loss on the validation text, as the run's own eval computes it (same windows).
seq_len=$(sed -n 's/^seq_len *= *\([0-9]*\).*/\1/p' "$config" | head -n 1)
eval_json=$("$exe" eval --model "$work/model" --corpus "$val_corpus" --separator % --seq-len "$seq_len" \
            --precision bf16 --threads 2 --cache-dir "$work/token-cache" --json)
loss=$(sed -n 's/.*"loss": *\([0-9.eE+-]*\).*/\1/p' <<<"$eval_json")
[ -n "$loss" ] || die "mpitune eval gave no loss: $eval_json"
awk -v l="$loss" 'BEGIN { exit !(l > 0 && l < 6) }' ||
  die "the model's loss on $val_corpus is $loss: not a trained model (see the run's output above)"
log "eval loss on $val_corpus: $loss"

{
  echo "mpitune base model: configs/base_model.ini, made by mpi_scripts/base_model.sh version $version"
  echo "recipe hash: $recipe_hash"
  echo "tokenizer: $tokenizer_settings"
  echo "made: $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(seconds_since "$start") s, mpitune $("$exe" --version | cut -d' ' -f2)"
  echo "eval on $val_corpus (seq_len $seq_len): $eval_json"
} > "$work/model/mpitune_base_model.txt"

# Into place in one rename; a concurrent build that finished first wins, and is as good.
if ! mv -T "$work/model" "$dir" 2>/dev/null; then
  complete "$dir" || die "cannot move the model to $dir"
fi
link_current
log "done in $(seconds_since "$start") s"
echo "$dir"
