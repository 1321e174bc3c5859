#!/usr/bin/env bash
# The workshop's comparison, from one command: the four methods of configs/workshop/ (a manual
# grid, the reference; ASHA; PBT; BOHB) on the same fine-tuning task, with the same world size
# and time budget (so at equal device-minutes), then the comparison table of `mpitune report`
# over their result files: best eval loss at full budget, test loss with its 95% interval,
# runtime and device-minutes to the best, cost against the grid, time to reach the grid's best,
# paired significance of the test losses, and forgetting.
#
#   mpi_scripts/workshop.sh [--repeats N] [--np N] [-- extra mpitune run arguments]
#
# --repeats N runs every method N times with seeds 1..N; the table then shows the median and
# the interquartile range over the repeats (mpitune report --aggregate), so one lucky seed does
# not decide. Results: results/workshop/<method>-seed<S>.h5.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
repeats=1
np=${MPITUNE_NP:-5}
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --repeats) repeats=$2; shift 2 ;;
    --np) np=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "workshop.sh: unknown argument '$1' (use --repeats N, --np N, -- mpitune run args)" >&2; exit 2 ;;
  esac
done
case "$repeats" in ''|*[!0-9]*|0) echo "workshop.sh: --repeats must be a positive integer" >&2; exit 2 ;; esac

"$root/mpi_scripts/install_deps.sh"
"$root/mpi_scripts/build.sh"
"$root/mpi_scripts/base_model.sh"
source "$root/mpi_scripts/env.sh"
cd "$root"
mpitune=${MPITUNE_BUILD_DIR:-$root/build}/mpitune
mkdir -p results/workshop
files=() references=()
for seed in $(seq 1 "$repeats"); do
  for method in grid asha pbt bohb; do
    out=results/workshop/$method-seed$seed.h5
    echo "== workshop: $method, seed $seed -> $out" >&2
    mpirun -np "$np" --bind-to none "$mpitune" run --config "configs/workshop/$method.ini" --quiet \
      --set experiment.seed="$seed" --set experiment.output="$out" --set experiment.export_dir=none \
      "${extra[@]}" > "results/workshop/$method-seed$seed.log"
    files+=("$out")
    [ "$method" = grid ] && references+=("$out")
  done
done
report=("$mpitune" report "${files[@]}")
for r in "${references[@]}"; do report+=(--reference "$r"); done
[ "$repeats" -gt 1 ] && report+=(--aggregate)
"${report[@]}"
