#!/bin/sh
# Interrupt, kill and hang a deterministic synthetic ASHA experiment under mpirun, resume each
# with the same command, and check (compare_runs.py, h5py) that it ends exactly as the
# uninterrupted run: the same trials, statuses, steps, metrics and best.
#   resume_check.sh MPITUNE CONFIG WORKDIR
#  1. SIGUSR1 to mpirun mid-run: exit code 3, /summary interrupted; the same command resumes
#     (experiment.resume = auto) and exits 0. A second job on the live output is refused.
#  2. kill -9 of a worker at step 50 of trial 1 (faults.fail_mode = kill), with periodic
#     checkpoints (experiment.checkpoint_interval_s): mpirun ends the job;
#     `mpitune run --resume FILE` (the file's own config, its fault turned off) finishes it.
#  2b. kill -9 of the whole job (mpirun and every rank) by the test, mid-run: the same command
#     resumes it.
#  3. SIGSTOP of a worker (fail_mode = stop): the job ends with code 4 within
#     heartbeat_timeout_s + 10 s, /summary aborted; resume finishes it.
#  4. SIGSTOP of a worker while it starts (faults.startup_rank): the job ends with code 4 within
#     heartbeat_timeout_s + 10 s, naming the rank; no result file was begun.
# Exits 77 (skip) without h5py.
set -u
exe=$1 config=$2 work=$3
python=/usr/bin/python3
"$python" -c "import h5py" 2>/dev/null || { echo "SKIP: $python cannot import h5py"; exit 77; }
here=$(dirname "$0")
compare="$python $here/../python/compare_runs.py"
rm -rf "$work" && mkdir -p "$work" || exit 1
sets="--set synthetic.step_cost_ms=25 --set experiment.max_trials=24 --set experiment.deterministic=true"
run() { # OUTPUT [more args]: one mpitune job on 4 ranks (3 groups)
  out=$1; shift
  # shellcheck disable=SC2086
  mpirun -np 4 --oversubscribe --bind-to none "$exe" run --quiet --config "$config" $sets \
    --set experiment.output="$out" "$@"
}
run_in_background() { # OUTPUT LOG: as run, in the background; its mpirun's pid in $job
  # shellcheck disable=SC2086
  mpirun -np 4 --oversubscribe --bind-to none "$exe" run --quiet --config "$config" $sets \
    --set experiment.output="$1" > "$2" 2>&1 &
  job=$!
}
fail() { echo "FAIL: $*"; exit 1; }

run "$work/reference.h5" > "$work/reference.log" 2>&1 || fail "the uninterrupted run exited $?"

# 1. SIGUSR1, then the same command.
run_in_background "$work/usr1.h5" "$work/usr1.log"
# Wait until the experiment is under way (its file has events), then interrupt it.
i=0
while [ $i -lt 200 ]; do
  "$python" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r',swmr=True); sys.exit(0 if f['events'].shape[0] > 10 else 1)" \
    "$work/usr1.h5" 2>/dev/null && break
  i=$((i + 1)); sleep 0.05
done
# A second job on the output being written is refused, even with overwrite = true.
run "$work/usr1.h5" --set experiment.overwrite=true > "$work/second.log" 2>&1
second=$?
kill -USR1 "$job"
wait "$job"
rc=$?
[ "$second" -eq 2 ] || fail "a second job on a live output exited $second, expected 2"
grep -q "being written by another job" "$work/second.log" || fail "the second job did not say the output is busy"
[ "$rc" -eq 3 ] || { cat "$work/usr1.log"; fail "SIGUSR1: exit code $rc, expected 3"; }
grep -q "checkpointing the running trials" "$work/usr1.log" || fail "SIGUSR1: no checkpoint message"
"$python" -c "import h5py,sys; s=h5py.File(sys.argv[1],'r')['summary'][0]['status']; sys.exit(0 if s==b'interrupted' else 1)" \
  "$work/usr1.h5" || fail "SIGUSR1: /summary is not 'interrupted'"
run "$work/usr1.h5" > "$work/usr1-resume.log" 2>&1 || fail "the resume after SIGUSR1 exited $?"
$compare "$work/reference.h5" "$work/usr1.h5" --segments 2 || fail "SIGUSR1 then resume differs from the uninterrupted run"

# 2. kill -9 of a worker, then --resume FILE.
# With periodic checkpoints (every 0.1 s of a segment), the killed trial resumes from one of them.
run "$work/kill.h5" --set faults.fail_trials=1 --set faults.fail_at_step=50 --set faults.fail_mode=kill \
  --set experiment.checkpoint_interval_s=0.1 > "$work/kill.log" 2>&1 && fail "the killed job exited 0"
# mpirun sends SIGTERM to every rank when one has died, then SIGKILL: rank 0 marks the file aborted.
"$python" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r',swmr=True); sys.exit(0 if f['summary'][0]['status']==b'aborted' and f['segments'][0]['status']==b'aborted' else 1)" \
  "$work/kill.h5" || { cat "$work/kill.log"; fail "kill -9 of a worker: /summary and /segments are not aborted"; }
mpirun -np 4 --oversubscribe --bind-to none "$exe" run --quiet --resume "$work/kill.h5" --set faults.fail_trials= > "$work/kill-resume.log" 2>&1 \
  || { cat "$work/kill-resume.log"; fail "--resume after kill -9 exited $?"; }
$compare "$work/reference.h5" "$work/kill.h5" --segments 2 --resumed-from-checkpoint \
  || fail "kill -9 then resume differs from the uninterrupted run, or resumed nothing from a periodic checkpoint"

# 2b. kill -9 of every process of the job at once (mpirun and all ranks), from outside.
run_in_background "$work/sig9.h5" "$work/sig9.log"
i=0
while [ $i -lt 200 ]; do
  "$python" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r',swmr=True); sys.exit(0 if f['events'].shape[0] > 30 else 1)" \
    "$work/sig9.h5" 2>/dev/null && break
  i=$((i + 1)); sleep 0.05
done
pkill -KILL -f "experiment.output=$work/sig9.h5"
wait "$job"
run "$work/sig9.h5" > "$work/sig9-resume.log" 2>&1 || { cat "$work/sig9-resume.log"; fail "the resume after kill -9 of the job exited $?"; }
# Killed at once, rank 0 included, the job could not write its end; the job that resumed it did.
"$python" -c "import h5py,sys; s=h5py.File(sys.argv[1],'r')['segments'][0]; sys.exit(0 if s['status']==b'aborted' and b'without closing' in s['reason'] else 1)" \
  "$work/sig9.h5" || fail "kill -9 of the job: its /segments row is not aborted after the resume"
$compare "$work/reference.h5" "$work/sig9.h5" --segments 2 || fail "kill -9 of the whole job then resume differs from the uninterrupted run"

# 3. A stopped (hung) worker: the heartbeat timeout ends the job, then resume.
start=$(date +%s)
run "$work/stop.h5" --set faults.fail_trials=1 --set faults.fail_at_step=20 --set faults.fail_mode=stop \
  --set experiment.heartbeat_timeout_s=3 > "$work/stop.log" 2>&1
rc=$?
took=$(($(date +%s) - start))
[ "$rc" -ne 0 ] || fail "the job with a stopped worker exited 0"
grep -q "sent nothing for" "$work/stop.log" || { cat "$work/stop.log"; fail "no line naming the silent group"; }
[ "$took" -le 40 ] || fail "the job with a stopped worker took $took s"
"$python" -c "import h5py,sys; s=h5py.File(sys.argv[1],'r',swmr=True)['summary'][0]['status']; sys.exit(0 if s==b'aborted' else 1)" \
  "$work/stop.h5" || fail "a stopped worker: /summary is not 'aborted'"
run "$work/stop.h5" > "$work/stop-resume.log" 2>&1 || fail "the resume after a hang exited $?"
$compare "$work/reference.h5" "$work/stop.h5" --segments 2 || fail "hang then resume differs from the uninterrupted run"
echo "stopped worker: job ended in $took s"

# 4. A worker stopped while it starts (before its trainable exists): rank 0 ends the job.
start=$(date +%s)
run "$work/startup.h5" --set faults.startup_rank=2 --set faults.fail_mode=stop \
  --set experiment.heartbeat_timeout_s=3 > "$work/startup.log" 2>&1
rc=$?
took=$(($(date +%s) - start))
[ "$rc" -ne 0 ] || fail "the job with a worker stopped while starting exited 0"
grep -q "rank 2 (group 1) on .* sent nothing for .* while starting" "$work/startup.log" \
  || { cat "$work/startup.log"; fail "no line naming the rank stopped while starting"; }
[ "$took" -le 25 ] || fail "the job with a worker stopped while starting took $took s (mpirun start-up included)"
[ ! -e "$work/startup.h5" ] || fail "a job that never started left a result file"
echo "worker stopped while starting: job ended in $took s"
rm -rf "$work"
