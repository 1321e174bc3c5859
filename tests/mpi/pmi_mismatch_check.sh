#!/bin/sh
# srun without PMI, imitated: `mpitune run` started alone (an MPI world of one) with
# SLURM_NTASKS=3 must end with exit 2 and one line with the srun --mpi=pmix hint (from task 0
# only), before it writes anything.
#   pmi_mismatch_check.sh MPITUNE CONFIG WORKDIR
set -u
exe=$1 config=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
out="$work/never.h5"
fail() { echo "FAIL: $*"; exit 1; }
for procid in 0 1; do
  SLURM_NTASKS=3 SLURM_PROCID=$procid "$exe" run --config "$config" --set experiment.output="$out" \
    >"$work/out.$procid" 2>"$work/err.$procid"
  code=$?
  [ $code = 2 ] || { cat "$work/err.$procid"; fail "task $procid exited $code, not 2"; }
  [ ! -s "$work/out.$procid" ] || { cat "$work/out.$procid"; fail "task $procid printed on stdout"; }
  [ -z "$(ls "$work" | grep never)" ] || fail "task $procid wrote $(ls "$work" | grep never)"
done
[ "$(wc -l <"$work/err.0")" = 1 ] || { cat "$work/err.0"; fail "task 0: not one line on stderr"; }
grep -q "srun --mpi=pmix" "$work/err.0" || { cat "$work/err.0"; fail "task 0: no srun --mpi=pmix hint"; }
[ ! -s "$work/err.1" ] || { cat "$work/err.1"; fail "task 1 printed too (one task says it)"; }
# The same process without SLURM_NTASKS is not refused for it (it fails the world-size check).
"$exe" run --config "$config" --set experiment.output="$out" >/dev/null 2>"$work/err.plain"
grep -q "srun" "$work/err.plain" && fail "without Slurm the hint appeared"
grep -q "group_size" "$work/err.plain" || { cat "$work/err.plain"; fail "without Slurm: expected the world-size error"; }
rm -rf "$work"
echo "pmi mismatch ok"
