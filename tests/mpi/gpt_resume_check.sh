#!/bin/sh
# A GPT experiment interrupted by SIGUSR1 and resumed gives bit-identical curves: every
# /metrics row (training and validation loss) equals the uninterrupted run's, and the trials
# that were running resumed from their preempt checkpoints (not from step 0).
#   gpt_resume_check.sh MPITUNE CONFIG WORKDIR     (CONFIG: configs/fifo.ini, made tiny here)
# Exits 77 (skip) without h5py.
set -u
exe=$1 config=$2 work=$3
python=/usr/bin/python3
"$python" -c "import h5py" 2>/dev/null || { echo "SKIP: $python cannot import h5py"; exit 77; }
here=$(dirname "$0")
rm -rf "$work" && mkdir -p "$work" || exit 1
sets="--set experiment.max_trials=2 --set experiment.time_budget_s=0 --set scheduler.max_t=60 --set model.d_model=32
  --set data.eval_batches=2 --set train.log_interval=4 --set train.eval_interval=10 --set experiment.overwrite=true"
fail() { echo "FAIL: $*"; exit 1; }
# shellcheck disable=SC2086
mpirun -np 3 --oversubscribe --bind-to none "$exe" run --quiet --config "$config" $sets \
  --set experiment.output="$work/reference.h5" > "$work/reference.log" 2>&1 || fail "the uninterrupted run exited $?"
# shellcheck disable=SC2086
mpirun -np 3 --oversubscribe --bind-to none "$exe" run --quiet --config "$config" $sets \
  --set experiment.output="$work/resumed.h5" > "$work/first.log" 2>&1 &
job=$!
# Interrupt once both trials are under way (a few reports in), well before their end (60 steps).
i=0
while [ $i -lt 600 ]; do
  "$python" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r',swmr=True); sys.exit(0 if f['metrics'].shape[0] > 8 else 1)" \
    "$work/resumed.h5" 2>/dev/null && break
  i=$((i + 1)); sleep 0.05
done
kill -USR1 "$job"
wait "$job"
rc=$?
[ "$rc" -eq 3 ] || { cat "$work/first.log"; fail "SIGUSR1: exit code $rc, expected 3"; }
# shellcheck disable=SC2086
mpirun -np 3 --oversubscribe --bind-to none "$exe" run --quiet --config "$config" $sets \
  --set experiment.output="$work/resumed.h5" > "$work/resume.log" 2>&1 || fail "the resume exited $?"
"$python" "$here/../python/compare_runs.py" "$work/reference.h5" "$work/resumed.h5" --segments 2 --metrics \
  --resumed-from-checkpoint || fail "the resumed GPT run's curves differ from the uninterrupted run's"
rm -rf "$work"
