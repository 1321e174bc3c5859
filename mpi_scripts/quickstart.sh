#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, makes the project's own small
# pretrained base model once (mpi_scripts/base_model.sh: cached, later runs skip it), and runs
# the embedded default experiment (ASHA over the LoRA fine-tuning of that model on a held-out
# fortunes category) with rank 0 coordinating and 4 single-rank trial groups; it ends with the
# cost table, the test loss of the best configuration and its export. Extra arguments go to
# `mpitune run` (e.g. --config configs/workshop/pbt.ini, --set experiment.time_budget_s=60).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/mpi_scripts/install_deps.sh"
"$root/mpi_scripts/build.sh"
"$root/mpi_scripts/base_model.sh"
source "$root/mpi_scripts/env.sh"
cd "$root"
exec mpirun -np "${MPITUNE_NP:-5}" --bind-to none "${MPITUNE_BUILD_DIR:-$root/build}/mpitune" run "$@"
