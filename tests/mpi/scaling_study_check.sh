#!/bin/sh
# ctest scaling_study_quick: mpi_scripts/scaling_study.sh --quick on the binaries of this build
# (no build step), then check_scaling_study.py on its output folder. Exits 77 (skip) without h5py.
#   scaling_study_check.sh BUILD_DIR WORKDIR
set -u
build=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
/usr/bin/python3 -c "import h5py" 2>/dev/null || { echo "SKIP: /usr/bin/python3 cannot import h5py"; exit 77; }
rm -rf "$work"
MPITUNE_BUILD_DIR=$build "$here/../../mpi_scripts/scaling_study.sh" --quick --no-build "$work" || exit 1
/usr/bin/python3 "$here/check_scaling_study.py" "$work"
