#!/bin/sh
# `mpitune status` on a file being written by a live run under mpirun, then on the finished file.
#   status_check.sh MPITUNE CONFIG WORKDIR MPIEXEC NUMPROC_FLAG [MPIEXEC_PREFLAGS...]
#  1. A synthetic ASHA run (~20 s: 24 trials, 100 ms per step, 3 groups) starts in the
#     background; `mpitune status FILE` is polled (a bounded number of tries, no fixed sleeps)
#     until it shows a running trial with a metric; that view must say "running" and have
#     the summary lines and the table's header.
#  2. After the run: the view says "finished", its counts by status and its rows are those of
#     /trials read with h5py, and the best trial is first.
#  3. --watch 1 on the finished file prints once and exits 0 at once; a file that is not a
#     result file is one error line and exit code 2.
# Exits 77 (skip) without h5py.
set -u
exe=$1 config=$2 work=$3 mpiexec=$4 npflag=$5
shift 5
python=/usr/bin/python3
"$python" -c "import h5py" 2>/dev/null || { echo "SKIP: $python cannot import h5py"; exit 77; }
rm -rf "$work" && mkdir -p "$work" || exit 1
out=$work/live.h5
fail() { echo "FAIL: $*"; exit 1; }

# shellcheck disable=SC2068
"$mpiexec" "$npflag" 4 --oversubscribe --bind-to none $@ "$exe" run --quiet --config "$config" \
  --set synthetic.step_cost_ms=100 --set experiment.max_trials=24 --set experiment.deterministic=true \
  --set experiment.output="$out" > "$work/run.log" 2>&1 &
job=$!

# 1. Poll until a running trial has a metric: status "running" in column 2, a number in the
# "last" column (third from the end; "-" while it has none).
seen=no
i=0
while [ $i -lt 150 ]; do
  if "$exe" status "$out" > "$work/live.txt" 2> "$work/live.err"; then
    if awk '$2 == "running" && $(NF-2) != "-" { found = 1 } END { exit !found }' "$work/live.txt"; then
      seen=yes
      break
    fi
  fi
  kill -0 "$job" 2>/dev/null || break  # the run ended (or failed) before we saw it run
  i=$((i + 1))
  sleep 0.1
done
[ "$seen" = yes ] || { cat "$work/live.txt" "$work/live.err" "$work/run.log"; kill "$job" 2>/dev/null; fail "no running trial with a metric seen in $i tries"; }
echo "live view after $i polls:"
cat "$work/live.txt"
head -1 "$work/live.txt" | grep -q "synthetic-asha (asha + random): running," || fail "the live view does not say running"
sed -n 2p "$work/live.txt" | grep -q "^   trials [0-9]*: .*running" || fail "the live view has no trial counts"
sed -n 4p "$work/live.txt" | grep -q "^trial  status .*lr.*momentum.*layers.*step.*last eval_loss.*best eval_loss.*group" \
  || fail "the live view has no table header"

wait "$job"
rc=$?
[ "$rc" -eq 0 ] || { cat "$work/run.log"; fail "the run exited $rc"; }

# 2. The finished file: status, counts and rows against /trials.
"$exe" status "$out" > "$work/done.txt" 2>&1 || { cat "$work/done.txt"; fail "status on the finished file exited $?"; }
cat "$work/done.txt"
"$python" - "$out" "$work/done.txt" <<'EOF' || fail "the finished view does not match /trials"
import collections, re, sys
import h5py
path, view = sys.argv[1], open(sys.argv[2]).read().splitlines()
with h5py.File(path, "r", swmr=True) as f:
    trials = f["trials"][()]
    summary = f["summary"][0]
    mode = f.attrs["mode"]
problems = []
if ": finished," not in view[0]:
    problems.append(f"line 1 does not say finished: {view[0]!r}")
counts = collections.Counter(s.decode() for s in trials["status"])
m = re.match(r"^   trials (\d+)(: (.*))?$", view[1])
shown = dict((name, int(n)) for n, name in re.findall(r"(\d+) (\w+)", m.group(3) or "")) if m else {}
if not m or int(m.group(1)) != len(trials) or shown != dict(counts):
    problems.append(f"counts {view[1]!r}, /trials has {len(trials)}: {dict(counts)}")
rows = [l.split() for l in view[4:]]
if sorted(int(r[0]) for r in rows) != sorted(int(i) for i in trials["id"]):
    problems.append(f"{len(rows)} rows, /trials has {len(trials)} (stdout is not a terminal: all rows)")
best = trials[trials["best_metric"].argmin() if mode == "min" else trials["best_metric"].argmax()]
if rows and int(rows[0][0]) != int(best["id"]):
    problems.append(f"the first row is trial {rows[0][0]}, the best is {best['id']}")
for p in problems:
    print("FAIL: " + p)
sys.exit(1 if problems else 0)
EOF

# 3. --watch on a finished file: one view, exit 0 at once.
start=$(date +%s)
timeout 20 "$exe" status "$out" --watch 1 > "$work/watch.txt" 2>&1
rc=$?
took=$(($(date +%s) - start))
[ "$rc" -eq 0 ] || { cat "$work/watch.txt"; fail "--watch 1 on a finished file exited $rc"; }
[ "$took" -le 5 ] || fail "--watch 1 on a finished file took $took s"
[ "$(grep -c '^== ' "$work/watch.txt")" -eq 1 ] || fail "--watch 1 on a finished file printed the view more than once"
cmp -s "$work/watch.txt" "$work/done.txt" || fail "--watch 1 printed another view than status"

# Not a result file, and a missing one: one line, exit code 2.
"$exe" status "$config" > "$work/bad.txt" 2>&1
rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l < "$work/bad.txt")" -eq 1 ] || { cat "$work/bad.txt"; fail "status on a config file: exit $rc"; }
"$exe" status "$work/missing.h5" > "$work/missing.txt" 2>&1
rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l < "$work/missing.txt")" -eq 1 ] || { cat "$work/missing.txt"; fail "status on a missing file: exit $rc"; }
echo "ok: live view after $i polls, finished view matches /trials, --watch on a finished file took $took s"
rm -rf "$work"
