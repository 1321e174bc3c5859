#!/bin/sh
# A real two-host run on one machine: two network namespaces act as hosts (each with its own
# host name, through a UTS namespace, and a veth on a bridge), and Open MPI launches its daemons
# in them through a launch agent of our own (plm_rsh_agent: `ip netns exec NS unshare --uts`).
# MPI_Get_processor_name then really differs, messages between the hosts go over TCP, and
# `--map-by node` alternates the ranks (rank 0 on host-a, 1 on host-b, ...), so rank arithmetic
# would pair every group across the hosts. check_placement.py then checks /groups with h5py.
#   netns_multihost_check.sh MPITUNE CONFIG WORKDIR MPIEXEC
# Exits 77 (skip) where namespaces cannot be made (not root, no ip/unshare) or without h5py.
set -u
unset MPITUNE_TEST_HOSTNAME_OF_RANK
exe=$1 config=$2 work=$3 mpiexec=$4
python=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)
skip() { echo "SKIP: $*"; exit 77; }
"$python" -c "import h5py" 2>/dev/null || skip "$python cannot import h5py"
[ "$(id -u)" = 0 ] || skip "network namespaces need root"
command -v ip >/dev/null && command -v unshare >/dev/null || skip "no ip (iproute2) or unshare (util-linux)"

tag=$$                     # names unique to this run (link names: 15 characters at most)
br=mtbr$tag ns_a=mtna$tag ns_b=mtnb$tag net=10.231.$((tag % 200 + 20))
cleanup() {
  ip netns del "$ns_a" 2>/dev/null
  ip netns del "$ns_b" 2>/dev/null
  ip link del "$br" 2>/dev/null
  ip link del "mva$tag" 2>/dev/null
  ip link del "mvb$tag" 2>/dev/null
}
trap cleanup EXIT INT TERM
rm -rf "$work" && mkdir -p "$work"

ip link add "$br" type bridge 2>/dev/null || skip "cannot create a bridge (no CAP_NET_ADMIN here)"
ip addr add "$net.1/24" dev "$br" && ip link set "$br" up || exit 1
for h in a b; do
  eval ns=\$ns_$h
  [ $h = a ] && ip_end=2 || ip_end=3
  ip netns add "$ns" || skip "cannot create network namespaces"
  ip link add "mv$h$tag" type veth peer name eth0 netns "$ns" &&
    ip link set "mv$h$tag" master "$br" up &&
    ip netns exec "$ns" ip addr add "$net.$ip_end/24" dev eth0 &&
    ip netns exec "$ns" ip link set eth0 up &&
    ip netns exec "$ns" ip link set lo up || exit 1
done

# The launch agent: Open MPI calls it as `agent [ssh options] HOST COMMAND...`.
cat >"$work/agent.sh" <<EOF
#!/bin/sh
while [ \$# -gt 0 ]; do case "\$1" in -*) shift ;; *) break ;; esac; done
host=\$1; shift
case "\$host" in
  $net.2) ns=$ns_a name=host-a ;;
  $net.3) ns=$ns_b name=host-b ;;
  *) echo "agent: unknown host \$host" >&2; exit 1 ;;
esac
exec ip netns exec "\$ns" unshare --uts sh -c "hostname \$name; \$*"  # \$*: a shell command line (PATH=... ; orted ...)
EOF
chmod +x "$work/agent.sh"

out="$work/netns.h5"
timeout 150 "$mpiexec" --host "$net.2:3,$net.3:2" -np 5 --map-by node --oversubscribe --bind-to none \
  --mca plm_rsh_agent "$work/agent.sh" --mca plm_rsh_no_tree_spawn 1 \
  --mca oob_tcp_if_include "$net.0/24" --mca btl_tcp_if_include "$net.0/24" \
  "$exe" run --quiet --config "$config" --set experiment.output="$out" --set experiment.overwrite=true \
  --set experiment.group_size=2 --set experiment.max_trials=6 --set synthetic.step_cost_ms=0 \
  >"$work/run.out" 2>&1 || { echo "FAIL: mpirun across the namespaces exited $?"; tail -20 "$work/run.out"; exit 1; }
if grep -q "MPITUNE_TEST_HOSTNAME_OF_RANK" "$work/run.out"; then echo "FAIL: the test override was set"; exit 1; fi
"$python" "$here/check_placement.py" "$out" "host-a,host-b,host-a,host-b,host-a" || exit 1
"$python" "$here/../python/check_results.py" "$out" --expect-groups 2 --expect-summary finished || exit 1
rm -rf "$work"
