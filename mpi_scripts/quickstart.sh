#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the embedded default
# experiment (ASHA + random search on a small byte-level GPT over the fortunes corpus) with
# rank 0 coordinating and 4 single-rank trial groups. Extra arguments go to `mpitune run`
# (e.g. --config configs/asha.ini, --set experiment.time_budget_s=60).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/mpi_scripts/install_deps.sh"
"$root/mpi_scripts/build.sh"
source "$root/mpi_scripts/env.sh"
cd "$root"
exec mpirun -np "${MPITUNE_NP:-5}" --bind-to none "${MPITUNE_BUILD_DIR:-$root/build}/mpitune" run "$@"
