# Sourced by the batch scripts of this folder: runs the job step and handles the time limit.
# Needs MPITUNE_CONFIG and MPITUNE_SETS. --signal=B:USR1@180 signals this shell only, so it
# forwards SIGUSR1 to srun, which passes it to every task: the running trials are checkpointed
# and mpitune exits 3; 3 (interrupted) and 4 (a rank died or hung) are resumable, so the job is
# requeued and the same command continues the experiment (experiment.resume = auto; the output
# name must not change, and SLURM_JOB_ID does not on a requeue).
# --mpi=pmix: without the PMI plugin each task would be alone in a world of one (mpitune says so).
MPITUNE_BIN=${MPITUNE_BIN:-build/mpitune}
# shellcheck disable=SC2086
srun --mpi=${MPITUNE_SRUN_MPI:-pmix} --cpu-bind=cores "$MPITUNE_BIN" run --config "$MPITUNE_CONFIG" $MPITUNE_SETS &
step=$!
trap 'kill -USR1 "$step" 2>/dev/null' USR1
wait "$step"; rc=$?
while [ "$rc" -gt 128 ] && kill -0 "$step" 2>/dev/null; do wait "$step"; rc=$?; done  # wait returned for the trap
if [ "$rc" -eq 3 ] || [ "$rc" -eq 4 ]; then scontrol requeue "$SLURM_JOB_ID"; fi
exit "$rc"
