#!/usr/bin/env bash
# The README's second command (and CI's, through .ci/run): installs what is missing, builds,
# and runs the whole test suite with ctest (unit tests, tests under mpirun, the h5py checks).
# Extra arguments go to ctest (e.g. -L unit, -R Asha).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/mpi_scripts/install_deps.sh"
"$root/mpi_scripts/build.sh"
# The project's own base model (cached: about 2.5 minutes once): tests validate the configs that
# fine-tune it.
"$root/mpi_scripts/base_model.sh" >/dev/null
source "$root/mpi_scripts/env.sh"
cd "${MPITUNE_BUILD_DIR:-$root/build}"
ctest --output-on-failure --timeout 600 -j "${MPITUNE_TEST_JOBS:-2}" "$@"
