#!/bin/sh
# Which processes load libtorch (issue 12): mpitune links none; a synthetic job's ranks never
# map it; a GPT job's workers run in mpitune-torch (they hand over before MPI starts) and its
# rank 0 stays without it; the export of the best trial at the end runs mpitune-torch as a child.
# The dynamic loader itself reports each process's libraries (LD_DEBUG=libs, one file per PID,
# appended to across an execve): a process that loaded libtorch cannot hide it.
# usage: torch_free_check.sh MPITUNE SYNTHETIC_INI GPT_INI WORKDIR MPIEXEC [MPIEXEC_PREFLAGS...]
set -eu
exe=$1 synthetic=$2 gpt=$3 work=$4 mpiexec=$5
shift 5
preflags="$*"  # MPIEXEC_PREFLAGS (words without spaces; "$@" is reused below)
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"

ldd "$exe" | grep -q torch && fail "$exe links libtorch"
ldd "$(dirname "$exe")/mpitune-torch" | grep -q libtorch || fail "mpitune-torch does not link libtorch"

# count DIR KIND: the processes whose first program is mpitune (the ranks; KIND rank) or
# mpitune-torch (children; KIND child), and of those the ones that loaded libtorch.
count() {
  n=0 t=0
  for f in "$1"/ld.*; do
    prog=$(grep -m1 'initialize program:' "$f" | sed 's/.*initialize program: //')
    case "$2:$prog" in
      rank:*/mpitune | child:*/mpitune-torch) ;;
      *) continue ;;
    esac
    n=$((n + 1))
    if grep -q 'libtorch' "$f"; then t=$((t + 1)); fi
  done
  echo "$n $t"
}

# 1. Synthetic: 5 ranks, none loads libtorch.
mkdir "$work/synthetic"
LD_DEBUG=libs LD_DEBUG_OUTPUT="$work/synthetic/ld" "$mpiexec" -np 5 --oversubscribe --bind-to none $preflags \
  "$exe" run --config "$synthetic" -q --set experiment.max_trials=4 --set scheduler.type=fifo \
  --set scheduler.max_t=1 --set synthetic.step_cost_ms=0 --set experiment.output="$work/synthetic.h5" \
  > "$work/synthetic.log" 2>&1 || { cat "$work/synthetic.log"; fail "the synthetic run failed"; }
set -- $(count "$work/synthetic" rank)
[ "$1" -eq 5 ] || fail "synthetic: $1 mpitune processes reported, 5 expected"
[ "$2" -eq 0 ] || fail "synthetic: $2 of 5 ranks loaded libtorch"

# 2. GPT: 3 ranks (groups of one); the 2 workers load libtorch, rank 0 does not; --verbose says
# which ranks were handed over; the best trial's export (a child mpitune-torch) is written.
mkdir "$work/gpt"
LD_DEBUG=libs LD_DEBUG_OUTPUT="$work/gpt/ld" "$mpiexec" -np 3 --oversubscribe --bind-to none $preflags \
  "$exe" run --config "$gpt" --verbose --set experiment.max_trials=2 --set experiment.time_budget_s=0 \
  --set scheduler.max_t=2 --set model.d_model=32 --set data.eval_batches=1 --set experiment.output="$work/gpt.h5" \
  > "$work/gpt.log" 2>&1 || { cat "$work/gpt.log"; fail "the gpt run failed"; }
set -- $(count "$work/gpt" rank)
[ "$1" -eq 3 ] || fail "gpt: $1 mpitune processes reported, 3 expected"
[ "$2" -eq 2 ] || fail "gpt: $2 of 3 ranks loaded libtorch, 2 (the workers) expected"
handed=$(grep -c '^mpitune: rank [12] runs in mpitune-torch' "$work/gpt.log" || true)
[ "$handed" -eq 2 ] || { cat "$work/gpt.log"; fail "gpt: $handed ranks said they run in mpitune-torch, 2 expected"; }
grep -q '^mpitune: rank 0 runs in mpitune-torch' "$work/gpt.log" && fail "gpt: rank 0 was handed over"
set -- $(count "$work/gpt" child)
[ "$1" -eq 1 ] && [ "$2" -eq 1 ] || fail "gpt: $1 mpitune-torch children ($2 with libtorch), 1 expected (the export)"
[ -f "$work/gpt.h5.best/config.json" ] || { cat "$work/gpt.log"; fail "gpt: the export $work/gpt.h5.best has no config.json"; }
echo "ok: synthetic ranks without libtorch; gpt workers in mpitune-torch, rank 0 without it; export by a child"
