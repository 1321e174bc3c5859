#!/usr/bin/python3
"""`mpitune simulate` end to end: the command writes a result file through the real HDF5 store,
h5py reads it as a user would, and the figures it prints agree with the file and with the
analytic values of a FIFO experiment with fixed step times.

Usage: /usr/bin/python3 simulate_test.py MPITUNE CHECK_RESULTS_PY WORKDIR
Exits 77 (ctest: skipped) when /usr/bin/python3 has no h5py.
"""

import os
import re
import shutil
import subprocess
import sys

try:
    import h5py
except ImportError:
    print("SKIP: /usr/bin/python3 cannot import h5py")
    sys.exit(77)

FIFO = """
[experiment]
name = sim-fifo
seed = 3
max_trials = 9
trainable = synthetic
[space]
x = uniform(0, 1)
batch_size = choice(8, 16)
[scheduler]
type = fifo
max_t = 5
[synthetic]
objective = learning_curve
step_cost_ms = 1000
"""

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(mpitune, *args):
    p = subprocess.run([mpitune, "simulate", *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def figure(out, name):
    m = re.search(r"^" + name + r":\s+([-0-9.]+)", out, re.M)
    return float(m.group(1)) if m else None


def main():
    mpitune, checker, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    cfg = os.path.join(work, "fifo.ini")
    with open(cfg, "w") as f:
        f.write(FIFO)

    # 9 trials of 5 one-second steps (synthetic.step_cost_ms = 1000 is the default step) on 4
    # groups: three waves, 15 s, utilisation 45 / 60.
    out_file = os.path.join(work, "fifo.h5")
    rc, out, err = run(mpitune, "--config", cfg, "--groups", "4", "--output", out_file)
    print(out, err)
    check(rc == 0, "simulate exited %d" % rc)
    check(figure(out, "utilisation") is not None and abs(figure(out, "utilisation") - 0.75) < 1e-4,
          "utilisation 0.75 printed")
    check(figure(out, "ideal") is not None and abs(figure(out, "ideal") - 11.25) < 0.05, "ideal 11.25 s printed")
    with h5py.File(out_file, "r") as h:
        trials = h["trials"][:]
        check(len(trials) == 9, "9 trials in /trials, got %d" % len(trials))
        check(all(s.decode() == "completed" for s in trials["status"]), "every trial completed")
        check(all(int(s) == 5 for s in trials["last_step"]), "every trial at step 5")
        check(len(h["groups"]) == 4, "4 rows in /groups")
        check(h.attrs["device_kind"] == "simulated", "device_kind simulated")
        check(int(h.attrs["num_groups"]) == 4, "num_groups 4")
        check("step_cost_ms = 1000" in h.attrs["config_text"], "config_text is the config's")
        summary = h["summary"][0]
        check(summary["status"].decode() == "finished", "summary finished")
        check(abs(summary["elapsed_s"] - 15.0) < 1e-6, "elapsed 15 s, got %r" % summary["elapsed_s"])
        segments = h["segments"][:]
        check(len(segments) == 1 and segments[0]["status"].decode() == "finished", "one finished /segments row")
        # Each trial's wall time is its 5 virtual seconds.
        for t in trials:
            check(abs((t["end_time"] - t["start_time"]) - 5.0) < 1e-6, "trial %d took 5 s" % t["id"])
        check(len(h["decisions"]) > 0 and len(h["metrics"]) >= 9, "decisions and metrics written")
    p = subprocess.run(["/usr/bin/python3", checker, out_file, "--expect-trials", "9", "--expect-groups", "4",
                        "--expect-summary", "finished"], capture_output=True, text=True)
    print(p.stdout, p.stderr)
    check(p.returncode == 0, "check_results.py accepts the simulated file")
    p = subprocess.run([mpitune, "report", out_file], capture_output=True, text=True)
    check(p.returncode == 0 and "sim-fifo" in p.stdout, "mpitune report reads it")

    # Failures and a cost in the trials' hyperparameters: some trials fail, the file says why.
    fail_file = os.path.join(work, "fail.h5")
    rc, out, err = run(mpitune, "--config", cfg, "--groups", "3", "--output", fail_file,
                       "--set", "experiment.max_trials=30", "--set", "simulate.failure_probability=0.5",
                       "--set", "simulate.step_seconds=0.5", "--set", "simulate.step_seconds_per=batch_size:0.1")
    check(rc == 0, "simulate with failures exited %d: %s" % (rc, err))
    with h5py.File(fail_file, "r") as h:
        trials = h["trials"][:]
        failed = [t for t in trials if t["status"].decode() == "failed"]
        check(0 < len(failed) < 30, "some trials failed (%d)" % len(failed))
        check(all(b"simulate.failure_probability" in t["reason"] for t in failed), "failure reasons name the key")
        for t in trials:
            if t["status"].decode() == "completed":
                step = 0.5 + 0.1 * t["batch_size"]
                check(abs((t["end_time"] - t["start_time"]) - 5 * step) < 1e-6, "trial %d: 5 steps of %g s" % (t["id"], step))

    # Bad input: one line naming the field, exit code 2, no file.
    for args, field in [(["--set", "simulate.jitter=2"], "simulate.jitter"),
                        (["--set", "simulate.step_seconds_per=depth:1"], "simulate.step_seconds_per"),
                        (["--set", "simulate.nope=1"], "simulate.nope")]:
        bad = os.path.join(work, "bad.h5")
        rc, out, err = run(mpitune, "--config", cfg, "--output", bad, *args)
        check(rc == 2 and field in err and err.count("\n") == 1, "%s: exit 2 and one line (%d, %r)" % (field, rc, err))
        check(not os.path.exists(bad), "%s: no file written" % field)

    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("simulate_test: ok")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
