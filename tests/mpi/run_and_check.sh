#!/bin/sh
# Runs `mpirun -np NP mpitune run --config CONFIG [--set ...]` into OUT.h5, then checks the file
# with check_results.py under /usr/bin/python3 (h5py), as a user would read it.
#   run_and_check.sh MPITUNE CHECKER NP CONFIG OUT.h5 "SETS" [CHECKER ARGS...]
# SETS is a space-separated list of section.key=value overrides. Exits 77 (skip) without h5py.
set -u
exe=$1 checker=$2 np=$3 config=$4 out=$5 sets=$6
shift 6
python=/usr/bin/python3
"$python" -c "import h5py" 2>/dev/null || { echo "SKIP: $python cannot import h5py"; exit 77; }
rm -f "$out"
args=""
for s in $sets; do args="$args --set $s"; done
# shellcheck disable=SC2086
mpirun -np "$np" --oversubscribe --bind-to none "$exe" run --quiet --config "$config" \
  --set experiment.output="$out" --set experiment.overwrite=true $args || { echo "FAIL: mpitune exited $?"; exit 1; }
"$python" "$checker" "$out" "$@" || exit 1
rm -f "$out"
