#!/bin/sh
# Placement "on two hosts" on one machine: MPITUNE_TEST_HOSTNAME_OF_RANK gives the 1 + 2x2 ranks
# of a synthetic run alternating host names (rank 0 on host-a, then host-b, host-a, ...), the
# mapping `--map-by node` gives on a cluster, where rank arithmetic would pair every group
# across the two hosts. Then, with h5py (check_placement.py):
#   1. by node (the default): every group on one host, in local-rank order; no "spans" line;
#   2. experiment.groups_span_nodes = true: consecutive ranks, and rank 0 says they span nodes.
#   multihost_check.sh MPITUNE CONFIG WORKDIR MPIEXEC [MPIEXEC ARGS...]
# Exits 77 (skip) without h5py.
set -u
exe=$1 config=$2 work=$3
shift 3
python=/usr/bin/python3
here=$(dirname "$0")
"$python" -c "import h5py" 2>/dev/null || { echo "SKIP: $python cannot import h5py"; exit 77; }
mkdir -p "$work"
hosts="host-a,host-b,host-a,host-b,host-a"
export MPITUNE_TEST_HOSTNAME_OF_RANK="$hosts"

status=0
for mode in node span; do
  out="$work/$mode.h5"
  rm -f "$out"
  span_set=""
  [ "$mode" = span ] && span_set="--set experiment.groups_span_nodes=true"
  # shellcheck disable=SC2086
  "$@" -np 5 --oversubscribe --bind-to none -x MPITUNE_TEST_HOSTNAME_OF_RANK "$exe" run --quiet \
    --config "$config" --set experiment.output="$out" --set experiment.overwrite=true \
    --set experiment.group_size=2 --set experiment.max_trials=6 --set synthetic.step_cost_ms=0 $span_set \
    >"$work/$mode.out" 2>"$work/$mode.err" || { echo "FAIL: mpitune exited $? ($mode)"; cat "$work/$mode.err"; exit 1; }
  grep -q "MPITUNE_TEST_HOSTNAME_OF_RANK" "$work/$mode.err" ||
    { echo "FAIL: ($mode) rank 0 did not say the host names came from the test override"; status=1; }
  if [ "$mode" = span ]; then
    "$python" "$here/check_placement.py" "$out" "$hosts" --span || status=1
    [ "$(grep -c '^mpitune: placement: .* span' "$work/$mode.out")" = 1 ] ||
      { echo "FAIL: (span) expected one line saying groups span nodes:"; cat "$work/$mode.out"; status=1; }
  else
    "$python" "$here/check_placement.py" "$out" "$hosts" || status=1
    "$python" "$here/../python/check_results.py" "$out" --expect-groups 2 --expect-summary finished || status=1
    ! grep -q "^mpitune: placement:" "$work/$mode.out" || { echo "FAIL: (node) a group was said to span nodes"; status=1; }
  fi
done
[ $status = 0 ] && rm -rf "$work"
exit $status
