# Sourced by the scripts: Open MPI settings for laptops, CI runners and containers.
#  - as root (containers, CI) Open MPI refuses to start without these two;
#  - ranks may outnumber cores (the coordinator mostly sleeps), so allow oversubscription;
#  - yield when idle, so a waiting rank gives its core to a training one.
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_mpi_yield_when_idle=1
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
