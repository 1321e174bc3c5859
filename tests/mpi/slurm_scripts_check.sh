#!/bin/sh
# Every batch script of mpi_scripts/slurm/ runs a config that `mpitune validate` accepts with
# the world size the script asks Slurm for (#SBATCH --ntasks), and (groups of G > 1) refuses
# with one rank more;
# each is valid bash, asks for the USR1 warning and a requeue, and sources run_step.sh.
# GPU scripts say train.device = cuda; without a GPU here it is validated as auto.
#   slurm_scripts_check.sh MPITUNE SOURCE_DIR
set -u
exe=$1 src=$2
cd "$src" || exit 1
fail=0
count=0
for script in mpi_scripts/slurm/*.sbatch; do
  count=$((count + 1))
  bad() { echo "FAIL: $script: $*"; fail=1; }
  bash -n "$script" || bad "not valid bash"
  np=$(sed -n 's/^#SBATCH --ntasks=\([0-9]*\).*/\1/p' "$script")
  [ -n "$np" ] || { bad "no #SBATCH --ntasks=N"; continue; }
  grep -q '^#SBATCH --signal=B:USR1@' "$script" || bad "no --signal=B:USR1@T"
  grep -q '^#SBATCH --requeue' "$script" || bad "no --requeue"
  grep -q 'run_step.sh' "$script" || bad "does not source run_step.sh"
  # The script's own MPITUNE_CONFIG and MPITUNE_SETS lines, as the job would expand them.
  SLURM_JOB_ID=check
  eval "$(grep '^MPITUNE_CONFIG=\|^MPITUNE_SETS=' "$script")"
  [ -n "${MPITUNE_CONFIG:-}" ] || { bad "no MPITUNE_CONFIG"; continue; }
  # shellcheck disable=SC2086
  out=$("$exe" validate --config "$MPITUNE_CONFIG" $MPITUNE_SETS --set train.device=auto --np "$np" 2>&1) ||
    bad "validate --np $np refused it: $out"
  # With groups of G > 1 one rank more is no 1 + K*G: refused, so the check above meant something.
  g=$(printf '%s\n' "$out" | sed -n 's/.*group_size \([0-9]*\).*/\1/p' | head -1)
  if [ "${g:-1}" -gt 1 ]; then
    # shellcheck disable=SC2086
    "$exe" validate --config "$MPITUNE_CONFIG" $MPITUNE_SETS --set train.device=auto --np $((np + 1)) >/dev/null 2>&1
    [ $? = 2 ] || bad "validate --np $((np + 1)) did not refuse groups of $g"
  fi
  echo "$script: --ntasks=$np ok (${out%%,*})"
  unset MPITUNE_CONFIG MPITUNE_SETS
done
[ $count = 3 ] || { echo "FAIL: $count batch scripts, expected 3"; fail=1; }
grep -q 'srun --mpi=' mpi_scripts/slurm/run_step.sh || { echo "FAIL: run_step.sh: srun without --mpi"; fail=1; }
bash -n mpi_scripts/slurm/run_step.sh || fail=1
exit $fail
