#!/usr/bin/env bash
# On a GPU machine: configures and builds the CUDA variant of mpitune (Release, against the
# libtorch of the installed PyTorch, with NCCL), runs the GPU tests (ctest -L gpu) and the unit
# tests that make sense there, then the ZeRO-3 benchmark (bench/zero3_bench.cpp), and prints the
# benchmark table last. Full logs go to $OUT (or ./gpu-bench-logs).
#
#   mpi_scripts/gpu_bench.sh            env: MPITUNE_BUILD_DIR (build-cuda), MPITUNE_JOBS (nproc),
#                                            BENCH_STEPS (10), BENCH_ARGS (extra zero3_bench flags),
#                                            GTEST_SOURCE (a googletest source tree, built when the
#                                            machine has no GoogleTest package; default: .gpu-carry/
#                                            googletest, made by mpi_scripts/gpu_prepare.sh and carried)
# Exit status: 0 when the build, every test and the benchmark succeeded.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$root/gpu-bench-logs}
build=${MPITUNE_BUILD_DIR:-$root/build-cuda}
jobs=${MPITUNE_JOBS:-$(nproc)}
mkdir -p "$out"
# shellcheck source=env.sh
source "$root/mpi_scripts/env.sh"
status=0
say() { echo "[gpu_bench $(date +%H:%M:%S)] $*"; }

{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
  command -v nvcc >/dev/null && nvcc --version | tail -2
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' || true
  mpirun --version 2>&1 | head -1
  nproc
} > "$out/env.txt" 2>&1
say "environment: $(tr '\n' ' ' < "$out/env.txt" | cut -c1-300)"

# 1. Configure and build only what runs here (the tests' executables and the benchmark).
command -v mpirun >/dev/null 2>&1 || { say "no mpirun: mpitune needs MPI (Open MPI)"; exit 1; }
prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
# No system GoogleTest: build one from a carried source tree (GTEST_SOURCE, or .gpu-carry/googletest from
# mpi_scripts/gpu_prepare.sh) into /tmp.
if ! ls -d /usr/lib/*/cmake/GTest /usr/lib/cmake/GTest /usr/local/lib/cmake/GTest >/dev/null 2>&1; then
  gsrc=${GTEST_SOURCE:-$root/.gpu-carry/googletest}
  if [ -d "$gsrc" ] && cmake -S "$gsrc" -B /tmp/gtest-build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
       -DBUILD_GMOCK=OFF -DINSTALL_GTEST=ON -DCMAKE_INSTALL_PREFIX=/tmp/gtest > "$out/gtest.log" 2>&1 &&
     cmake --build /tmp/gtest-build --target install --parallel "$jobs" >> "$out/gtest.log" 2>&1; then
    prefix="$prefix;/tmp/gtest"
    say "no system GoogleTest: built one from $gsrc"
  else
    say "no system GoogleTest and none could be built (log: $out/gtest.log)"
  fi
fi
# No system NCCL: use the one the pip PyTorch depends on (nvidia-nccl).
if [ -z "${NCCL_HOME:-}" ] && [ ! -f /usr/include/nccl.h ] && [ ! -f /usr/local/cuda/include/nccl.h ]; then
  NCCL_HOME=$(python3 -c 'import nvidia.nccl as n; print(list(n.__path__)[0])' 2>/dev/null) && export NCCL_HOME
  say "no system NCCL: NCCL_HOME=${NCCL_HOME:-none found}"
fi
cuda_root=()
[ -d /usr/local/cuda ] && cuda_root=(-DCUDAToolkit_ROOT=/usr/local/cuda)
t0=$(date +%s)
if ! cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
     "${cuda_root[@]}" ${MPITUNE_CMAKE_ARGS:-} > "$out/configure.log" 2>&1; then
  tail -40 "$out/configure.log"
  say "configure failed (log: $out/configure.log)"
  exit 1
fi
grep -E "mpitune: CUDA|mpitune executable" "$out/configure.log" || true
if ! grep -q "mpitune: CUDA build with NCCL" "$out/configure.log"; then
  say "warning: not a CUDA build with NCCL (see $out/configure.log); GPU tests will not exist"
  status=1
fi
targets=(test_comm test_train zero3_bench)
grep -q "mpitune: CUDA build with NCCL" "$out/configure.log" && targets+=(gpu_train_test)
if ! cmake --build "$build" --parallel "$jobs" --target "${targets[@]}" > "$out/build.log" 2>&1; then
  grep -E "error|Error" "$out/build.log" | head -40
  say "build failed (log: $out/build.log)"
  exit 1
fi
say "built ${targets[*]} in $(( $(date +%s) - t0 )) s"

# 2. Tests: the GPU tests under mpirun (1 and 2 ranks on the GPU), then the comm and train unit
#    tests (CPU tensors; they check the same code on this toolchain and libtorch).
summary=()
run_test() {  # name, log, command...
  local name=$1 log=$2
  shift 2
  local t=$(date +%s)
  if timeout 600 "$@" > "$log" 2>&1; then
    summary+=("| $name | passed | $(( $(date +%s) - t )) s |")
  else
    summary+=("| $name | FAILED (see $log) | $(( $(date +%s) - t )) s |")
    status=1
    tail -30 "$log"
  fi
}
if [ -x "$build/tests/gpu/gpu_train_test" ]; then
  run_test "ctest -L gpu" "$out/gpu_tests.log" ctest --test-dir "$build" -L gpu --output-on-failure
fi
# The tests that train on the default corpus read the copy gpu_prepare.sh carried, if any.
[ -d "$root/.gpu-carry/fortunes" ] && export MPITUNE_TEST_CORPUS="$root/.gpu-carry/fortunes"
run_test test_comm "$out/test_comm.log" "$build/tests/test_comm"
run_test test_train "$out/test_train.log" "$build/tests/test_train"

# 3. Benchmark: tokens/s and MFU of the C++ trainer beside PyTorch's figures (DESIGN.md §7), then
#    eager PyTorch's own step measured here (bench/torch_reference.py).
t=$(date +%s)
if timeout 420 mpirun -np 1 "$build/zero3_bench" --steps "${BENCH_STEPS:-10}" ${BENCH_ARGS:-} \
     > "$out/bench_table.md" 2> "$out/bench.log"; then
  summary+=("| zero3_bench | done | $(( $(date +%s) - t )) s |")
else
  summary+=("| zero3_bench | FAILED (see $out/bench.log) | $(( $(date +%s) - t )) s |")
  status=1
  tail -20 "$out/bench.log"
fi

# The same step in eager PyTorch on this machine now, for an apples-to-apples ratio.
if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
  timeout 300 python3 "$root/bench/torch_reference.py" --steps "${BENCH_STEPS:-10}" > "$out/torch_reference.md" 2>&1 ||
    summary+=("| torch_reference.py | FAILED (see $out/torch_reference.md) | |")
fi

echo
grep -h -E "^fp16:|PASSED|FAILED|Failure" "$out"/gpu_tests.log 2>/dev/null | sort | uniq -c | head -20
echo
echo "| step | result | time |"
echo "|---|---|---|"
printf '%s\n' "${summary[@]}"
cat "$out/torch_reference.md" 2>/dev/null
cat "$out/bench_table.md" 2>/dev/null
exit $status
