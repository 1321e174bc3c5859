#!/usr/bin/env bash
# Run here (not on the GPU machine) before calling mpi_scripts/gpu_bench.sh through the device
# tool: the GPU machine has no network and no GoogleTest or nlohmann-json package, so this copies
# Debian's GoogleTest source tree (/usr/src/googletest, from libgtest-dev), nlohmann-json's
# headers (header-only; CMakeLists.txt finds them in .gpu-carry/nlohmann/include) and the
# fortunes corpus (the tests that train on it) into .gpu-carry/, a folder git ignores; name it
# in the run's `carry` list. Nothing of it is committed. (Without PCRE2 and SentencePiece there
# the build has no BPE or SentencePiece tokenizers; the GPU tests and benchmarks need neither.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=${GTEST_SRC:-/usr/src/googletest}
[ -d "$src" ] || { echo "gpu_prepare: no $src (install libgtest-dev)"; exit 1; }
rm -rf "$root/.gpu-carry/googletest"
mkdir -p "$root/.gpu-carry"
cp -r "$src" "$root/.gpu-carry/googletest"
rm -rf "$root/.gpu-carry/nlohmann"
mkdir -p "$root/.gpu-carry/nlohmann/include"
[ -d /usr/include/nlohmann ] || { echo "gpu_prepare: no /usr/include/nlohmann (install nlohmann-json3-dev)"; exit 1; }
cp -r /usr/include/nlohmann "$root/.gpu-carry/nlohmann/include/"
rm -rf "$root/.gpu-carry/fortunes"
mkdir -p "$root/.gpu-carry/fortunes"
find /usr/share/games/fortunes -maxdepth 1 -type f ! -name '*.dat' -exec cp {} "$root/.gpu-carry/fortunes/" \;
echo "gpu_prepare: .gpu-carry/googletest ready ($(du -sh "$root/.gpu-carry" | cut -f1)); carry .gpu-carry"
