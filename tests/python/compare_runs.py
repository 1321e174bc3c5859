"""Compares two mpitune result files as a user would (h5py): the same trials end the same way
(status, last step, last metric) with the same best, and the second file's /events and
/segments are consistent (one seq over all jobs, `--segments N` jobs, the last one finished).

    compare_runs.py REFERENCE.h5 RESUMED.h5 --segments N [--last-status finished] [--metrics]
        [--resumed-from-checkpoint]

--metrics: every /metrics row (trial, step) has the same training and validation loss, bit for
bit, in both files. --resumed-from-checkpoint: at least one trial of the resumed file was
resumed from a checkpoint (not restarted from step 0).
"""
import math
import argparse
import sys

import h5py


def load(path):
    with h5py.File(path, "r") as f:
        trials = {int(r["id"]): (r["status"].decode(), int(r["last_step"]), float(r["last_metric"]))
                  for r in f["trials"][:]}
        s = f["summary"][0]
        summary = (int(s["best_trial"]), float(s["best_metric"]), s["status"].decode())
        seq = [int(x) for x in f["events"]["seq"][:]] if "events" in f else []
        segments = [r["status"].decode() for r in f["segments"][:]] if "segments" in f else []
        metrics = {(int(r["trial"]), int(r["step"])): (float(r["train_loss"]), float(r["eval_loss"]))
                   for r in f["metrics"][:]}
        resumes = [r["reason"].decode() for r in f["decisions"][:] if r["action"] == b"resume"]
    return trials, summary, seq, segments, metrics, resumes


def same_losses(a, b):
    return all((math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(a, b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference")
    ap.add_argument("resumed")
    ap.add_argument("--segments", type=int, required=True)
    ap.add_argument("--last-status", default="finished")
    ap.add_argument("--metrics", action="store_true")
    ap.add_argument("--resumed-from-checkpoint", action="store_true")
    a = ap.parse_args()
    ref, res = load(a.reference), load(a.resumed)
    problems = []
    if ref[1] != res[1]:
        problems.append(f"summary (best trial, best metric, status): {ref[1]} vs {res[1]}")
    for tid in sorted(set(ref[0]) | set(res[0])):
        if ref[0].get(tid) != res[0].get(tid):
            problems.append(f"trial {tid}: {ref[0].get(tid)} vs {res[0].get(tid)}")
    seq = res[2]
    # Events span several rows when long; seq is the same on each row of one event.
    distinct = sorted(set(seq))
    if distinct != list(range(len(distinct))):
        problems.append("the resumed file's /events are not numbered 0, 1, 2, ...")
    if len(res[3]) != a.segments:
        problems.append(f"/segments has {len(res[3])} rows ({res[3]}), expected {a.segments}")
    elif res[3][-1] != a.last_status:
        problems.append(f"the last job ended {res[3][-1]}, expected {a.last_status}")
    if a.metrics:
        for key in sorted(set(ref[4]) | set(res[4])):
            if key not in ref[4] or key not in res[4] or not same_losses(ref[4][key], res[4][key]):
                problems.append(f"/metrics trial {key[0]} step {key[1]}: {ref[4].get(key)} vs {res[4].get(key)}")
    from_checkpoint = [r for r in res[5] if "resumed from its checkpoint at step" in r]
    if a.resumed_from_checkpoint and not from_checkpoint:
        problems.append(f"no trial was resumed from a checkpoint: {res[5]}")
    completed = sorted(t for t, v in res[0].items() if v[0] == "completed")
    print(f"{len(res[0])} trials, completed {completed}, best {res[1][0]} ({res[1][1]:.6g}), "
          f"{len(distinct)} events, jobs {res[3]}, {len(from_checkpoint)} resumed from a checkpoint")
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
