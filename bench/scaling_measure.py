#!/usr/bin/python3
"""Figures of one real `mpitune run` for the scaling study (mpi_scripts/scaling_study.sh).

    scaling_measure.py row FILE.h5 --label L --launch T0 --exit T1 --load LOAD [--sim-output SIM.txt]
    scaling_measure.py header
    scaling_measure.py markdown REAL_RUNS.csv
    scaling_measure.py roundtrip FILE.h5     (mpi_scripts/throughput_goals.sh)

Prints one CSV row (or the header). Where the figures come from:
  busy group-seconds  sum of /trials.device_seconds / group_size: the workers' own wall seconds
                      of every segment (training and evaluation), as the coordinator records them
  span                first 'start' decision in /decisions to the last /trials.end_time: the
                      part of the job in which trials ran (what the simulator's elapsed is)
  utilisation         busy / (groups x span), the simulator's definition (comparable to it)
  job utilisation     busy / (groups x (T1 - T0)): over the whole mpirun, start-up and shutdown in
  start-up            first 'start' decision - T0 (mpirun launched at T0, a time.time() stamp)
  idle per segment    (groups x span - busy) / segments: what a segment boundary costs a group
                      (the round trip to rank 0, plus waiting at the end when no work is left)
  ideal               busy / groups; overhead = span / ideal - 1
With --sim-output (what `mpitune simulate` printed for the same config): the simulator's
utilisation and elapsed next to the measured ones, and their difference in percentage points.

roundtrip: the round trip a group waits per segment, without the end-of-run tail: for each
group, the span of its own trials (first start to last end) minus its busy seconds, divided by
its segments between them. With one-segment trials (FIFO, max_t = 1) that is the time from a
group's SegmentDone leaving it to its next order arriving, plus rank 0's handling.
"""
import argparse
import re
import sys

COLUMNS = ["label", "groups", "world_size", "trials", "segments", "load_before", "launch_to_exit_s", "startup_s",
           "span_s", "busy_group_s", "ideal_s", "overhead", "utilisation", "job_utilisation",
           "idle_per_segment_ms", "coordinator_elapsed_s", "sim_utilisation", "sim_elapsed_s",
           "sim_minus_real_pp"]

# Decisions that end a segment (a group then asks for its next order).
SEGMENT_ENDS = {"continue", "stop", "pause", "complete", "fail", "early_stop", "retry"}


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def sim_figures(path):
    """utilisation and virtual elapsed seconds from `mpitune simulate`'s printed lines."""
    out = open(path).read()
    u = re.search(r"^utilisation:\s+([0-9.eE+-]+)", out, re.M)
    e = re.search(r"^simulated:\s+([0-9.eE+-]+) s virtual", out, re.M)
    if not u or not e:
        sys.exit(f"scaling_measure.py: no 'utilisation:' / 'simulated:' line in {path}")
    return float(u.group(1)), float(e.group(1))


def row(args):
    import h5py
    import numpy as np
    with h5py.File(args.file, "r") as f:
        attrs = f.attrs
        groups = int(attrs["num_groups"])
        group_size = int(attrs["group_size"])
        world = int(attrs["world_size"])
        trials = f["trials"][()]
        decisions = f["decisions"][()]
        summary = f["summary"][()]
    actions = np.array([text(a) for a in decisions["action"]])
    starts = decisions["time"][actions == "start"]
    if len(starts) == 0:
        sys.exit(f"scaling_measure.py: {args.file} has no start decision")
    first = float(starts.min())
    last = float(trials["end_time"].max())
    span = last - first
    busy = float(trials["device_seconds"].sum()) / group_size
    segments = int(np.isin(actions, list(SEGMENT_ENDS)).sum())
    launch_to_exit = args.exit - args.launch
    ideal = busy / groups
    util = busy / (groups * span) if span > 0 else 0.0
    r = {
        "label": args.label, "groups": groups, "world_size": world, "trials": len(trials), "segments": segments,
        "load_before": args.load, "launch_to_exit_s": f"{launch_to_exit:.2f}", "startup_s": f"{first - args.launch:.2f}",
        "span_s": f"{span:.2f}", "busy_group_s": f"{busy:.2f}", "ideal_s": f"{ideal:.2f}",
        "overhead": f"{span / ideal - 1:.4f}" if ideal > 0 else "",
        "utilisation": f"{util:.4f}", "job_utilisation": f"{busy / (groups * launch_to_exit):.4f}",
        "idle_per_segment_ms": f"{1000 * (groups * span - busy) / segments:.2f}" if segments else "",
        "coordinator_elapsed_s": f"{float(summary['elapsed_s'][0]):.2f}" if len(summary) else "",
        "sim_utilisation": "", "sim_elapsed_s": "", "sim_minus_real_pp": "",
    }
    if args.sim_output:
        su, se = sim_figures(args.sim_output)
        r["sim_utilisation"] = f"{su:.4f}"
        r["sim_elapsed_s"] = f"{se:.2f}"
        r["sim_minus_real_pp"] = f"{100 * (su - util):.2f}"
    print(",".join(str(r[c]) for c in COLUMNS))


def roundtrip(path):
    import collections
    import h5py
    with h5py.File(path, "r") as f:
        group_size = int(f.attrs["group_size"])
        trials = f["trials"][()]
    by_group = collections.defaultdict(list)
    for t in trials:
        by_group[int(t["group"])].append((float(t["start_time"]), float(t["end_time"]),
                                          float(t["device_seconds"]) / group_size))
    idle = []
    for rows in by_group.values():
        rows.sort()
        idle.append((rows[-1][1] - rows[0][0] - sum(r[2] for r in rows)) / max(1, len(rows) - 1))
    print("%.2f ms (groups %.2f..%.2f, %d segments)" % (1e3 * sum(idle) / len(idle), 1e3 * min(idle), 1e3 * max(idle),
                                                        len(trials)))


def markdown(path):
    """The real runs' CSV as a markdown table fragment (docs/scaling.md)."""
    import csv
    rows = list(csv.DictReader(open(path)))
    print("| run | np | groups | trials | load before | launch to exit (s) | start-up (s) | span (s) | ideal (s) "
          "| overhead | utilisation | simulator | sim - real (pp) | idle per segment (ms) |")
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        over = f"{100 * float(r['overhead']):.1f}%" if r["overhead"] else ""
        print(f"| {r['label']} | {r['world_size']} | {r['groups']} | {r['trials']} | {r['load_before']} "
              f"| {r['launch_to_exit_s']} | {r['startup_s']} | {r['span_s']} | {r['ideal_s']} | {over} "
              f"| {r['utilisation']} | {r['sim_utilisation']} | {r['sim_minus_real_pp']} | {r['idle_per_segment_ms']} |")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    sub.add_parser("header")
    sub.add_parser("markdown").add_argument("csv")
    sub.add_parser("roundtrip").add_argument("file")
    r = sub.add_parser("row")
    r.add_argument("file")
    r.add_argument("--label", required=True)
    r.add_argument("--launch", type=float, required=True)
    r.add_argument("--exit", type=float, required=True)
    r.add_argument("--load", default="")
    r.add_argument("--sim-output")
    args = p.parse_args()
    if args.what == "header":
        print(",".join(COLUMNS))
    elif args.what == "markdown":
        markdown(args.csv)
    elif args.what == "roundtrip":
        roundtrip(args.file)
    else:
        row(args)


if __name__ == "__main__":
    main()
