#!/usr/bin/env bash
# Configures and builds mpitune (Release) in build/ (or $MPITUNE_BUILD_DIR). Idempotent: a
# second run only rebuilds what changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MPITUNE_BUILD_DIR:-$root/build}
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release ${MPITUNE_CMAKE_ARGS:-}
fi
cmake --build "$build" --parallel "${MPITUNE_JOBS:-$(nproc)}"
