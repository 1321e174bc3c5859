#!/usr/bin/env bash
# The coordinator-throughput goals of issue 12, measured under mpirun on this machine with
# sleeping synthetic workers, printed as one markdown table (docs/scaling.md has the figures):
#   1. round trip: a group's idle time per segment, 1,000 one-step segments of 20 ms on 4 groups
#      (bench/scaling_measure.py roundtrip: each group's span minus its segments' seconds);
#   2. start-up: wall seconds of mpirun for a job of one 0-ms step per group, 17 and 129 ranks
#      (launch, MPI init, the start-up watch, the experiment, shutdown);
#   3. 10,000 trials of one 100-ms step on 16 groups (Ray Tune's release test, 10x shorter
#      steps): the experiment's elapsed against the 62.5 s ideal;
#   4. results a second: one group reporting every step of 200,000 0-ms steps, and rank 0's CPU.
#
#   mpi_scripts/throughput_goals.sh [OUTDIR]      env: MPITUNE_BUILD_DIR (build), QUICK=1 (small sizes)
# Needs a built build/mpitune (mpi_scripts/build.sh). Run it on a quiet machine: other work on
# the cores stretches every wall-clock figure (the load average is printed with the table).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MPITUNE_BUILD_DIR:-$root/build}
out=${1:-$root/results/throughput}
mkdir -p "$out"
# shellcheck source=env.sh
source "$root/mpi_scripts/env.sh"
bin="$build/mpitune"
cfg="$root/configs/synthetic_asha.ini"
py=/usr/bin/python3
quick=${QUICK:-0}
segments=1000 ray_trials=10000 results=200000 big=129
if [ "$quick" = 1 ]; then segments=40 ray_trials=64 results=2000 big=9; fi

run() {  # run NP OUTPUT [--set ...]: one job, its log in OUTDIR
  local np=$1 file=$2
  shift 2
  mpirun -np "$np" --oversubscribe --bind-to none "$bin" run --config "$cfg" \
    --set experiment.output="$file" --set experiment.deterministic=false "$@" >"$file.log" 2>&1
}

# 1. Round trip.
run 5 "$out/roundtrip.h5" --set scheduler.type=fifo --set scheduler.max_t=1 \
  --set experiment.max_trials=$segments --set synthetic.step_cost_ms=20
roundtrip=$($py "$root/bench/scaling_measure.py" roundtrip "$out/roundtrip.h5")

# 2. Start-up.
startup() {
  local np=$1 t0 t1
  t0=$(date +%s.%N)
  run "$np" "$out/startup$np.h5" --set scheduler.type=fifo --set scheduler.max_t=1 \
    --set experiment.max_trials=$((np - 1)) --set synthetic.step_cost_ms=0
  t1=$(date +%s.%N)
  echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}'
}
startup17=$(startup 17)
startup_big=$(startup $big)

# 3. Ray's release test, scaled down.
run 17 "$out/ray.h5" --set scheduler.type=fifo --set scheduler.max_t=1 \
  --set experiment.max_trials=$ray_trials --set synthetic.step_cost_ms=100
ray=$($py - "$out/ray.h5" "$ray_trials" <<'EOF'
import sys, h5py
f = h5py.File(sys.argv[1], 'r', swmr=True)
elapsed = float(f['summary'][0]['elapsed_s'])
ideal = int(sys.argv[2]) * 0.1 / 16
print("%.1f s against %.1f s ideal (%+.1f%%)" % (elapsed, ideal, 100 * (elapsed / ideal - 1)))
EOF
)

# 4. Results a second.
run 2 "$out/results.h5" --set scheduler.type=fifo --set scheduler.max_t=$results \
  --set experiment.max_trials=1 --set train.log_interval=1 --set synthetic.step_cost_ms=0
rate=$($py - "$out/results.h5" <<'EOF'
import sys, h5py
f = h5py.File(sys.argv[1], 'r', swmr=True)
n = f['metrics'].shape[0]
elapsed = float(f['summary'][0]['elapsed_s'])
print("%d results in %.2f s: %.0f a second" % (n, elapsed, n / elapsed))
EOF
)
rank0=$(grep -o "used [0-9.]* s of CPU in [0-9.]* s" "$out/results.h5.log" || echo "?")

{
  echo "| goal | measured |"
  echo "|---|---|"
  echo "| round trip per segment < 2 ms | $roundtrip |"
  echo "| start-up, 17 ranks < 5 s | $startup17 s |"
  echo "| start-up, $big ranks < 15 s | $startup_big s |"
  echo "| $ray_trials x 0.1 s on 16 groups within 3% | $ray |"
  echo "| >= 100,000 results/s at rank 0 | $rate (rank 0 $rank0) |"
  echo
  echo "load average when done: $(cut -d' ' -f1-3 /proc/loadavg); $(getconf _NPROCESSORS_ONLN) cores"
} | tee "$out/goals.md"
