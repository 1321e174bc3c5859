#!/usr/bin/env bash
# The scaling study of docs/scaling.md, from one command:
#  1. the simulator sweep (build/scaling_study): utilisation, overhead and decisions/s of FIFO,
#     ASHA, Hyperband, BOHB and PBT on 16 .. 10,000 simulated groups, plots, and Ray Tune's
#     release test (10,000 trials of 1 s on 16 workers) in the simulator;
#  2. real runs under mpirun on this machine, sleeping synthetic workers:
#     (a) ASHA (max_t 81, grace 3, eta 3, deterministic), steps of 100 ms, 10 trials per group, world sizes
#         5, 17, 33, 65, 129 (4 .. 128 groups);
#     (b) Ray's test scaled down: FIFO, 16 groups (np 17), 10,000 trials of one 100-ms step
#         (ideal 62.5 s; the throughput goal is within 3% of it);
#     (c) the ASHA runs of (a) again with deterministic = false (the default);
#  3. for every real run, `mpitune simulate` on exactly the same config (same seed, step_seconds
#     = the step cost, round_trip_s = $ROUND_TRIP_S, default 0.0015: the round trip
#     mpi_scripts/throughput_goals.sh measures) and the difference between its utilisation and
#     the measured one.
# Each real run records the load average just before it (builds of others distort it).
#
#   mpi_scripts/scaling_study.sh [--quick] [--no-build] OUTDIR
#
# Writes into OUTDIR: simulator_sweep.{csv,md}, utilisation.svg, overhead.svg,
# decisions_per_s.svg, ray_release_simulated.{csv,md}, real_runs.{csv,md}, and runs/ (the
# result files and logs). --quick: a tiny version in seconds (4 and 16 simulated groups, an
# ASHA run and a 40-trial FIFO run of np 5) for the test (ctest -L scaling). --no-build: use
# the binaries already in the build folder ($MPITUNE_BUILD_DIR, default build/).
# The full run takes ~14 min on 2 idle cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=no build_it=yes out=
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=yes; shift ;;
    --no-build) build_it=no; shift ;;
    -*) echo "scaling_study.sh: unknown option '$1' (use --quick, --no-build, OUTDIR)" >&2; exit 2 ;;
    *) [ -z "$out" ] || { echo "scaling_study.sh: one OUTDIR only" >&2; exit 2; }; out=$1; shift ;;
  esac
done
[ -n "$out" ] || { echo "usage: mpi_scripts/scaling_study.sh [--quick] [--no-build] OUTDIR" >&2; exit 2; }
build=${MPITUNE_BUILD_DIR:-$root/build}
python=/usr/bin/python3
mpiexec=${MPIEXEC:-mpirun}
"$python" -c "import h5py" 2>/dev/null || { echo "scaling_study.sh: $python cannot import h5py (apt-get install python3-h5py)" >&2; exit 77; }

if [ "$build_it" = yes ]; then
  generator=()
  command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
  [ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release ${MPITUNE_CMAKE_ARGS:-}
  cmake --build "$build" --parallel "${MPITUNE_JOBS:-$(nproc)}" --target mpitune scaling_study
fi
source "$root/mpi_scripts/env.sh"
mkdir -p "$out/runs"
out=$(cd "$out" && pwd)
measure="$python $root/bench/scaling_measure.py"
config=$root/configs/synthetic_asha.ini

# 1. The simulator.
study_args=()
[ "$quick" = yes ] && study_args=(--quick)
echo "== scaling_study.sh: simulator sweep" >&2
"$build/scaling_study" "$out" "${study_args[@]}"

# 2 and 3. A real run and the simulator on the same config: label, np, then --set overrides.
now() { "$python" -c 'import time; print(f"{time.time():.3f}")'; }
$measure header > "$out/real_runs.csv"
real_run() {
  local label=$1 np=$2
  shift 2
  local sets=() s
  for s in "$@"; do sets+=(--set "$s"); done
  local file=$out/runs/$label.h5 load t0 t1
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "== scaling_study.sh: $label (np $np, load $load)" >&2
  t0=$(now)
  "$mpiexec" -np "$np" --oversubscribe --bind-to none "$build/mpitune" run --quiet --config "$config" \
    "${sets[@]}" --set experiment.output="$file" > "$out/runs/$label.log" 2>&1 \
    || { cat "$out/runs/$label.log" >&2; echo "scaling_study.sh: $label failed" >&2; exit 1; }
  t1=$(now)
  "$build/mpitune" simulate --config "$config" "${sets[@]}" --groups $((np - 1)) \
    --set simulate.round_trip_s="${ROUND_TRIP_S:-0.0015}" \
    --set experiment.output="$out/runs/$label.sim.h5" > "$out/runs/$label.sim.txt" 2>&1 \
    || { cat "$out/runs/$label.sim.txt" >&2; echo "scaling_study.sh: simulate $label failed" >&2; exit 1; }
  $measure row "$file" --label "$label" --launch "$t0" --exit "$t1" --load "$load" \
    --sim-output "$out/runs/$label.sim.txt" >> "$out/real_runs.csv"
  tail -1 "$out/real_runs.csv" >&2
}

# ASHA with deterministic = true: its decisions then depend on the seed only and equal the
# simulator's, so the comparison is of timing alone (the virtual-clock ordering it costs is in
# the measured figures: with equal step times a group rarely waits for it).
asha=(scheduler.type=asha scheduler.max_t=81 scheduler.grace_period=3 scheduler.reduction_factor=3
      experiment.deterministic=true experiment.seed=0 experiment.status_interval_s=30)
fifo=(scheduler.type=fifo scheduler.max_t=1 experiment.deterministic=false experiment.seed=0
      experiment.status_interval_s=30)
if [ "$quick" = yes ]; then
  real_run asha-np5 5 "${asha[@]}" synthetic.step_cost_ms=20 experiment.max_trials=8
  real_run ray-fifo-np5 5 "${fifo[@]}" synthetic.step_cost_ms=20 experiment.max_trials=40
else
  for groups in 4 16 32 64 128; do
    real_run "asha-np$((groups + 1))" $((groups + 1)) "${asha[@]}" synthetic.step_cost_ms=100 \
      experiment.max_trials=$((10 * groups))
  done
  for groups in 4 16 32 64 128; do
    real_run "asha-async-np$((groups + 1))" $((groups + 1)) "${asha[@]}" experiment.deterministic=false \
      synthetic.step_cost_ms=100 experiment.max_trials=$((10 * groups))
  done
  real_run ray-fifo-np17 17 "${fifo[@]}" synthetic.step_cost_ms=100 experiment.max_trials=10000
fi
$measure markdown "$out/real_runs.csv" > "$out/real_runs.md"
cat "$out/real_runs.md"
echo "scaling_study.sh: results in $out" >&2
