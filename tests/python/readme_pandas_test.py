#!/usr/bin/python3
"""Runs the README's pandas snippet, as written there, on sample result files.

Usage:
    /usr/bin/python3 readme_pandas_test.py WRITER README.md WORKDIR

The snippet is the ```python block between the README's "<!-- pandas-snippet:begin -->" and
"<!-- pandas-snippet:end -->" markers. WRITER (write_sample_results) writes three files into
WORKDIR: one a few steps into a run (no evaluation yet: the snippet used to raise
KeyError: nan there), a PBT run, and a finished run with /final rows. The snippet runs on each
with its file name put in for the README's; then what it left (the tables, the best report,
the curves) is compared with what h5py reads from the same file. Integer hyperparameters must
come back as int64 columns, in /trials and in /pbt_transfers' old./new. columns.

Exits 0 when every check passes, 1 with one FAIL line per problem, 77 (ctest: skipped) when
this python has no pandas (Debian: apt-get install python3-pandas).
"""

import os
import subprocess
import sys

import h5py
import numpy as np

BEGIN = "<!-- pandas-snippet:begin -->"
END = "<!-- pandas-snippet:end -->"
README_PATH = "results/quickstart.h5"
INT_HPARAMS = ("n_layer", "batch_size", "warmup_steps")  # write_sample_results' integer domains


def snippet(readme):
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"FAIL: {readme} has no {BEGIN} ... {END} section")
    block = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    if not block.startswith("```python\n") or not block.endswith("```"):
        raise SystemExit(f"FAIL: the section between the markers is not one ```python block")
    code = block[len("```python\n"):-3]
    if README_PATH not in code:
        raise SystemExit(f"FAIL: the snippet does not open {README_PATH}")
    return code


def run_snippet(code, path):
    scope = {"__name__": "readme_snippet"}
    exec(compile(code.replace(README_PATH, path), "README.md snippet", "exec"), scope)
    return scope


class Checks:
    def __init__(self):
        self.failures = []

    def check(self, ok, message):
        if not ok:
            self.failures.append(message)
        return ok


def check_common(name, scope, f, c):
    """What every file must give: the tables, typed as the file stores them."""
    import pandas as pd

    missing = [v for v in ("info", "trials", "metrics", "transfers", "final", "best", "curves") if v not in scope]
    if not c.check(not missing, f"{name}: the snippet defines no {', '.join(missing)}"):
        return None
    trials, metrics = scope["trials"], scope["metrics"]
    c.check(len(trials) == len(f["trials"]), f"{name}: {len(trials)} trials, the file has {len(f['trials'])}")
    c.check(len(metrics) == len(f["metrics"]), f"{name}: {len(metrics)} metric rows, the file has {len(f['metrics'])}")
    for col in INT_HPARAMS:
        c.check(trials[col].dtype == np.int64, f"{name}: trials.{col} is {trials[col].dtype}, not int64")
    c.check(trials["lr"].dtype == np.float64, f"{name}: trials.lr is {trials['lr'].dtype}")
    c.check(all(isinstance(v, str) for v in trials["optimizer"]), f"{name}: trials.optimizer is not decoded to str")
    c.check(all(isinstance(v, str) for v in trials["status"]), f"{name}: trials.status is not decoded to str")
    c.check(isinstance(scope["curves"], pd.DataFrame), f"{name}: curves is not a DataFrame")

    # The best report: the same row as the best value h5py reads (mode min).
    values = np.asarray(f["metrics"][scope["info"]["metric"]])
    finite = values[~np.isnan(values)]
    best = scope["best"]
    if finite.size == 0:
        c.check(best is None, f"{name}: best is {best!r} though no report has an evaluation")
    elif c.check(best is not None, f"{name}: best is None though {finite.size} reports have an evaluation"):
        c.check(float(best[scope["info"]["metric"]]) == float(finite.min()),
                f"{name}: best {best[scope['info']['metric']]} but the lowest in the file is {finite.min()}")
    return values


def check_no_eval(scope, f, c):
    values = check_common("no eval", scope, f, c)
    if values is None:
        return
    c.check(len(values) > 0 and bool(np.all(np.isnan(values))), "no eval: the sample file has evaluations")
    c.check(scope["curves"].empty, f"no eval: curves is not empty:\n{scope['curves']}")
    c.check(scope["final"] is not None and len(scope["final"]) == 0, "no eval: /final should be there and empty")


def check_pbt(scope, f, c):
    if check_common("pbt", scope, f, c) is None:
        return
    transfers = scope["transfers"]
    c.check(len(transfers) == len(f["pbt_transfers"]) and len(transfers) >= 2, f"pbt: {len(transfers)} transfers")
    for prefix in ("old.", "new."):
        for col in INT_HPARAMS:
            c.check(transfers[prefix + col].dtype == np.int64,
                    f"pbt: transfers.{prefix}{col} is {transfers[prefix + col].dtype}, not int64")
        c.check(transfers[prefix + "lr"].dtype == np.float64, f"pbt: transfers.{prefix}lr is not float64")
        c.check(all(isinstance(v, str) for v in transfers[prefix + "optimizer"]), f"pbt: {prefix}optimizer not str")
    # The typed new values are the ones the text column names.
    for _, row in transfers.iterrows():
        named = dict(kv.split("=", 1) for kv in row["new_hparams"].split(" ") if "=" in kv)
        c.check(int(named["batch_size"]) == row["new.batch_size"],
                f"pbt: new.batch_size {row['new.batch_size']} but new_hparams says {named['batch_size']}")
    curves = scope["curves"]
    c.check(sorted(curves.columns) == sorted(set(int(t) for t in f["metrics"]["trial"])),
            f"pbt: curves has columns {list(curves.columns)}")


def check_final(scope, f, c):
    if check_common("final", scope, f, c) is None:
        return
    final = scope["final"]
    if c.check(final is not None and len(final) == len(f["final"]) and len(final) > 0, "final: /final rows missing"):
        c.check(list(final["label"]) == [x.decode() for x in f["final"]["label"]], f"final: labels {list(final['label'])}")
        c.check(final["test_documents"].dtype == np.int64, "final: test_documents is not int64")
        for _, row in final.iterrows():
            c.check(row["test_ci_low"] <= row["test_loss"] <= row["test_ci_high"],
                    f"final: {row['label']}: test_loss outside its interval")
    statuses = set(scope["trials"]["status"])
    c.check("early_stopped" in statuses, f"final: no early_stopped trial among {statuses}")


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    writer, readme, workdir = sys.argv[1:]
    try:
        import pandas  # noqa: F401  (the snippet imports it itself)
    except ImportError:
        print(f"SKIP: {sys.executable} cannot import pandas (Debian: apt-get install python3-pandas)")
        return 77
    code = snippet(readme)
    os.makedirs(workdir, exist_ok=True)
    c = Checks()
    for flag, check in (("--no-eval", check_no_eval), ("--pbt", check_pbt), (None, check_final)):
        path = os.path.join(workdir, f"readme_{(flag or '--final').lstrip('-')}.h5")
        subprocess.run([writer, path] + ([flag] if flag else []), check=True)
        try:
            scope = run_snippet(code, path)
        except Exception as e:  # the README's snippet failing is the failure this test is for
            c.check(False, f"{path}: the README's snippet raised {type(e).__name__}: {e}")
            continue
        with h5py.File(path, "r") as f:
            check(scope, f, c)
        os.remove(path)
    for failure in c.failures:
        print(f"FAIL: {failure}")
    if c.failures:
        return 1
    print("ok: the README's pandas snippet runs on a file with no evaluation, a PBT file and one with /final rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
