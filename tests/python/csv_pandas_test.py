#!/usr/bin/python3
"""The CSV tables of `mpitune report --table` read back into pandas with the file's types.

Usage:
    /usr/bin/python3 csv_pandas_test.py MPITUNE WRITER WORKDIR

WRITER (write_sample_results) writes three files into WORKDIR: a finished run with /final rows,
a run a few steps in (no evaluation yet) and a PBT run. For each file and each table,
`MPITUNE report FILE --table NAME` is read with plain pd.read_csv (as a user would) and compared
with the same dataset read with h5py: the same columns in the same order (/pbt_transfers without
its text copies old_hparams/new_hparams), the same number of rows, int64 for the file's integer
columns, float64 for its float columns with the exact same values (NaN where the file has NaN;
exact with float_precision="round_trip", within 2 ulp with pandas' default float parser),
object (str) for its text columns with the same text. Then the rows of two files at once (a
leading `file` column) and the errors of a bad --table value and of --table with --format md.

Exits 0 when every check passes, 1 with one FAIL line per problem. pandas is required on Debian
(mpi_scripts/install_deps.sh installs python3-pandas): missing there it is a failure; elsewhere
the test is skipped (77).
"""

import io
import os
import subprocess
import sys

import h5py
import numpy as np

try:
    import pandas as pd
except ImportError:
    if os.path.exists("/etc/debian_version"):
        print("FAIL: /usr/bin/python3 has no pandas: apt-get install python3-pandas (mpi_scripts/install_deps.sh)")
        sys.exit(1)
    print("SKIP: no pandas")
    sys.exit(77)

TABLES = ["trials", "metrics", "decisions", "pbt_transfers", "final", "groups", "segments"]
TEXT_COPIES = {"pbt_transfers": {"old_hparams", "new_hparams"}}
INT64_UNSET = np.iinfo(np.int64).min  # an unset integer hyperparameter in the file

failures = []


def check(ok, message):
    if not ok:
        failures.append(message)
    return ok


def run(args):
    return subprocess.run(args, capture_output=True, text=True)


def export_text(mpitune, files, table):
    p = run([mpitune, "report", *files, "--table", table])
    if not check(p.returncode == 0, f"report {' '.join(files)} --table {table} exited {p.returncode}: {p.stderr}"):
        return None
    return p.stdout


def export(mpitune, files, table):
    text = export_text(mpitune, files, table)
    return None if text is None else pd.read_csv(io.StringIO(text))


def compare(name, table, df, data, exact=True):
    """df: the CSV read by pandas; data: the h5py structured array of the same table. exact:
    floats must be the same doubles (float_precision="round_trip"); else within 2 ulp (pandas'
    default parser is fast, not always correctly rounded: "3.7800000000000002" -> 3.78)."""
    fields = [c for c in data.dtype.names if c not in TEXT_COPIES.get(table, set())]
    where = f"{name} /{table}"
    if not check(list(df.columns) == fields, f"{where}: columns {list(df.columns)}, the file has {fields}"):
        return
    if not check(len(df) == len(data), f"{where}: {len(df)} rows, the file has {len(data)}"):
        return
    if len(data) == 0:
        return  # pandas cannot type the columns of a table without rows
    for col in fields:
        stored = data[col]
        got = df[col]
        kind = stored.dtype.kind
        if kind in "iu":
            unset = stored == INT64_UNSET
            if unset.any():  # unset hyperparameters are empty fields: pandas makes them NaN
                check(got.dtype == np.float64, f"{where}.{col}: {got.dtype} with unset values, expected float64")
                check(np.array_equal(got.isna().to_numpy(), unset), f"{where}.{col}: unset values differ")
                check(np.array_equal(got[~unset].to_numpy(), stored[~unset].astype(np.float64)),
                      f"{where}.{col}: values differ")
                continue
            check(got.dtype == np.int64, f"{where}.{col}: {got.dtype}, expected int64 (the file has {stored.dtype})")
            check(np.array_equal(got.to_numpy(), stored.astype(np.int64)),
                  f"{where}.{col}: {list(got)} != {list(stored)}")
        elif kind == "f":
            check(got.dtype == np.float64, f"{where}.{col}: {got.dtype}, expected float64")
            values = got.to_numpy(dtype=np.float64)
            if exact:
                same = np.array_equal(values, stored, equal_nan=True)
            else:
                same = np.array_equal(np.isnan(values), np.isnan(stored)) and np.allclose(
                    values, stored, rtol=4.5e-16, atol=0, equal_nan=True)
            check(same, f"{where}.{col}: {list(got)} != {list(stored)} ({'not exact' if exact else 'beyond 2 ulp'})")
        elif kind == "S":
            text = [v.decode("utf-8") for v in stored]
            if any(text):
                check(got.dtype == object, f"{where}.{col}: {got.dtype}, expected object (text)")
                # pandas reads an empty field as NaN, also a quoted one ("").
                values = ["" if isinstance(v, float) and np.isnan(v) else v for v in got]
                check(values == text, f"{where}.{col}: {values} != {text}")
            else:  # every value empty: pandas has nothing to call text
                check(got.isna().all(), f"{where}.{col}: expected empty values, got {list(got)}")
        else:
            check(False, f"{where}.{col}: the file's column kind {stored.dtype} is not one the CSV knows")


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    mpitune, writer, workdir = sys.argv[1:]
    os.makedirs(workdir, exist_ok=True)
    files = {}
    for name, flag in (("finished", None), ("no_eval", "--no-eval"), ("pbt", "--pbt")):
        path = os.path.join(workdir, name + ".h5")
        if os.path.exists(path):
            os.remove(path)
        p = run([writer, path] + ([flag] if flag else []))
        if not check(p.returncode == 0, f"{writer} {path} {flag or ''} exited {p.returncode}: {p.stderr}"):
            continue
        files[name] = path

    rows_checked = 0
    for name, path in files.items():
        with h5py.File(path, "r", swmr=True) as f:
            for table in TABLES:
                # Exactly as stored with Python's float parser; the default parser for the types.
                text = export_text(mpitune, [path], table)
                if text is None:
                    continue
                df = pd.read_csv(io.StringIO(text), float_precision="round_trip")
                compare(name, table, df, f[table][()])
                rows_checked += len(df)
                compare(name + " (default parser)", table, pd.read_csv(io.StringIO(text)), f[table][()], exact=False)
    # The PBT file's transfers must carry typed hyperparameters (integers as int64).
    if "pbt" in files:
        df = export(mpitune, [files["pbt"]], "pbt_transfers")
        if df is not None:
            check(len(df) >= 4, f"pbt: {len(df)} transfers, expected at least 4")
            for col in ("old.n_layer", "new.batch_size", "new.warmup_steps"):
                check(col in df and df[col].dtype == np.int64, f"pbt /pbt_transfers.{col} is not an int64 column")
            check("new.lr" in df and df["new.lr"].dtype == np.float64, "pbt /pbt_transfers.new.lr is not float64")

    # Two files at once: a leading file column, the rows of both in order.
    if "finished" in files and "pbt" in files:
        both = [files["finished"], files["pbt"]]
        df = export(mpitune, both, "trials")
        if df is not None and check(list(df.columns)[:2] == ["file", "id"], f"two files: columns {list(df.columns)[:2]}"):
            with h5py.File(both[0], "r", swmr=True) as a, h5py.File(both[1], "r", swmr=True) as b:
                expected = [both[0]] * len(a["trials"]) + [both[1]] * len(b["trials"])
                check(list(df["file"]) == expected, f"two files: file column {list(df['file'])}")
                check(list(df["id"]) == list(a["trials"]["id"]) + list(b["trials"]["id"]), "two files: ids differ")

    # Errors: one line naming --table and every table; --table with another format.
    if files:
        path = next(iter(files.values()))
        p = run([mpitune, "report", path, "--table", "trial"])
        lines = p.stderr.strip().splitlines()
        check(p.returncode == 2, f"--table trial exited {p.returncode}, expected 2")
        check(len(lines) == 1 and "--table" in p.stderr and all(t in p.stderr for t in TABLES),
              f"--table trial: stderr {p.stderr!r} is not one line naming --table and the tables")
        p = run([mpitune, "report", path, "--table", "trials", "--format", "md"])
        check(p.returncode == 2 and "--table" in p.stderr, f"--table with --format md: exit {p.returncode}, {p.stderr!r}")

    for message in failures:
        print("FAIL: " + message)
    if failures:
        return 1
    print(f"ok: {len(files)} files x {len(TABLES)} tables, {rows_checked} rows read back into pandas with their types")
    return 0


if __name__ == "__main__":
    sys.exit(main())
