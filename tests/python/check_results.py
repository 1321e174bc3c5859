#!/usr/bin/python3
"""Check an mpitune result file (HDF5) the way a user reads it: with h5py.

Usage:
    /usr/bin/python3 check_results.py RESULTS.h5 [--swmr] [--expect-trials N]
        [--expect-status completed=3 --expect-status failed=1] [--min-metric-rows N]
        [--expect-groups N] [--expect-summary finished] [--min-transfers N]

Checks the structure (root attributes, every dataset with its columns and types, one /trials
column per hyperparameter of /space) and the consistency of the rows (every trial id that a
row names exists, completed trials end after they start, steps never go back within a trial
except where a PBT transfer moved it, hyperparameters lie in their domains, the summary agrees
with the trials). Prints every problem found and exits 1, or prints a one-line summary and
exits 0. --swmr opens a file that is still being written.

Loading the tables into pandas: the README's snippet (section "The result file"), which
readme_pandas_test.py runs on sample files.
"""

import argparse
import math
import sys

import h5py
import numpy as np

SUPPORTED_SCHEMA = 4
STATUSES = {"pending", "running", "paused", "completed", "stopped", "failed", "early_stopped"}
FINISHED_STATUSES = {"completed", "stopped", "failed", "early_stopped"}
UNSET_INT = -(2 ** 63)  # an int64 hyperparameter column's "no value" (a pending trial)
ACTIONS = {"start", "continue", "stop", "pause", "resume", "clone", "complete", "fail"}
SUMMARY_STATUSES = {"running", "finished", "interrupted", "failed"}
SEGMENT_STATUSES = {"running", "finished", "interrupted", "aborted"}
EVENT_KINDS = {"message", "budget", "stop", "preempt", "job"}
KINDS = {"uniform", "loguniform", "int", "choice", "grid"}
RANGE_KINDS = {"uniform", "loguniform", "int"}

# Root attributes by the schema version that added them.
ROOT_ATTRIBUTES = {
    1: {"schema_version": int, "mpitune_version": str, "name": str, "command_line": str,
        "config_text": str, "seed": int, "metric": str, "mode": str, "scheduler": str,
        "searcher": str, "trainable": str, "world_size": int, "group_size": int, "num_groups": int,
        "device_kind": str, "start_time": float},
    2: {"model_init": str, "model_path": str, "architecture": str, "tokenizer": str,  # the model
        "params_total": int, "params_trainable": int, "keep_dir": str},
    3: {"devices": int, "max_t": int},
}

# Column -> numpy kind: f float64, i integer, S fixed-length bytes.
COLUMNS = {
    "space": {"name": "S", "kind": "S", "low": "f", "high": "f", "choices": "S", "spec": "S"},
    "trials": {"id": "i", "parent": "i", "group": "i", "status": "S", "start_time": "f",
               "end_time": "f", "last_step": "i", "best_metric": "f", "last_metric": "f",
               "metric_step": "i", "device_seconds": "f", "reason": "S", "params_total": "i",
               "params_trainable": "i"},
    "metrics": {"trial": "i", "step": "i", "time": "f", "train_loss": "f", "eval_loss": "f",
                "retention_loss": "f", "lr": "f", "tokens": "i", "throughput": "f", "loss_scale": "f"},
    "decisions": {"time": "f", "trial": "i", "step": "i", "bracket": "i", "rung": "i",
                  "budget": "f", "action": "S", "reason": "S"},
    "pbt_transfers": {"time": "f", "source_trial": "i", "source_group": "i", "target_trial": "i",
                      "target_group": "i", "step": "i", "bytes": "i", "seconds": "f",
                      "old_hparams": "S", "new_hparams": "S", "payload": "S", "via": "S"},
    "groups": {"group": "i", "ranks": "S", "hosts": "S", "devices": "S"},
    "summary": {"status": "S", "end_time": "f", "elapsed_s": "f", "device_seconds": "f",
                "trials": "i", "best_trial": "i", "best_metric": "f", "best_budget": "i",
                "best_any_trial": "i", "best_any_metric": "f"},
    "final": {"label": "S", "trial": "i", "step": "i", "hparams": "S", "eval_loss": "f",
              "test_loss": "f", "test_ci_low": "f", "test_ci_high": "f", "test_documents": "i",
              "test_tokens": "i", "bootstrap": "i", "retention_loss": "f", "seconds": "f"},
    "final_documents": {"label": "S", "document": "i", "loss_sum": "f", "tokens": "i"},
    "events": {"seq": "i", "time": "f", "vtime": "i", "group": "i", "kind": "S", "part": "i", "parts": "i",
               "size": "i", "data": "B"},
    "segments": {"index": "i", "start_time": "f", "end_time": "f", "status": "S", "elapsed_s": "f",
                 "device_seconds": "f", "world_size": "i", "group_size": "i", "num_groups": "i", "devices": "i",
                 "hosts": "S", "command_line": "S", "first_event": "i", "reason": "S"},
}


class Problems:
    """Collects every failed check, so one run shows all that is wrong with a file."""

    def __init__(self):
        self.items = []

    def check(self, ok, message):
        if not ok:
            self.items.append(message)
        return ok


def text(value):
    """A fixed-length string cell (bytes) or a str attribute, as str."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def split_choices(choices):
    """'8, 16, 32' or 'adamw, "sgd, nesterov"' -> list of str; quotes protect commas."""
    out, cur, quote = [], "", None
    for c in choices:
        if quote:
            if c == quote:
                quote = None
            else:
                cur += c
        elif c in "'\"":
            quote = c
        elif c == ",":
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
    out.append(cur.strip())
    return [v for v in out if v != ""]


def as_number(s):
    try:
        return float(s)
    except ValueError:
        return None


def check_root(f, p):
    attrs = {}
    version = int(f.attrs["schema_version"]) if "schema_version" in f.attrs else SUPPORTED_SCHEMA
    for added, names in ROOT_ATTRIBUTES.items():
        if added > version:
            continue
        for name, kind in names.items():
            if not p.check(name in f.attrs, f"root attribute '{name}' is missing"):
                continue
            value = f.attrs[name]
            if kind is str:
                p.check(isinstance(value, (str, bytes)), f"attribute {name} is not a string: {value!r}")
                value = text(value)
            elif kind is int:
                p.check(np.issubdtype(np.asarray(value).dtype, np.integer), f"attribute {name} is not an integer")
                value = int(value)
            else:
                p.check(np.issubdtype(np.asarray(value).dtype, np.floating), f"attribute {name} is not a float")
                value = float(value)
            attrs[name] = value
    if p.items:
        return attrs
    p.check(1 <= attrs["schema_version"] <= SUPPORTED_SCHEMA,
            f"schema_version {attrs['schema_version']} is not one this checker knows (1..{SUPPORTED_SCHEMA})")
    p.check(attrs["metric"] in ("eval_loss", "train_loss"), f"metric '{attrs['metric']}' is not eval_loss/train_loss")
    p.check(attrs["mode"] in ("min", "max"), f"mode '{attrs['mode']}' is not min/max")
    p.check(attrs["group_size"] >= 1 and attrs["num_groups"] >= 1, "group_size and num_groups must be >= 1")
    p.check(attrs["world_size"] == 1 + attrs["num_groups"] * attrs["group_size"],
            f"world_size {attrs['world_size']} != 1 + num_groups {attrs['num_groups']} x group_size {attrs['group_size']}")
    p.check(attrs["start_time"] > 0, "start_time is not set")
    if attrs["schema_version"] >= 3:
        p.check(attrs["devices"] >= 1, f"devices {attrs['devices']} < 1")
        p.check(attrs["max_t"] >= 0, f"max_t {attrs['max_t']} < 0")
    p.check(attrs["config_text"].strip() != "", "config_text is empty")
    return attrs


# Columns by the schema version that added them (the others are in every version).
# Columns added within a schema version: checked when present, not required (older files).
OPTIONAL_COLUMNS = {"groups": {"cpus": "S"}}

ADDED_COLUMNS = {
    2: {"trials": {"params_total", "params_trainable"}, "pbt_transfers": {"payload"}},
    3: {"trials": {"metric_step"}, "metrics": {"retention_loss"},
        "summary": {"best_budget", "best_any_trial", "best_any_metric"}},
    4: {"pbt_transfers": {"via"}},
}


def read_table(f, name, p, extra_columns=(), version=SUPPORTED_SCHEMA):
    """The dataset as a numpy structured array, after checking its shape and column types."""
    if not p.check(name in f and isinstance(f[name], h5py.Dataset), f"dataset /{name} is missing"):
        return None
    ds = f[name]
    p.check(ds.ndim == 1, f"/{name} is not one-dimensional")
    p.check(ds.chunks is not None and ds.maxshape == (None,), f"/{name} is not chunked and extendible")
    fields = ds.dtype.fields or {}
    expected = dict(COLUMNS[name])
    for added, tables in ADDED_COLUMNS.items():
        if added > version:
            for col in tables.get(name, ()):
                expected.pop(col, None)
    expected.update(dict(extra_columns))
    expected.update({c: k for c, k in OPTIONAL_COLUMNS.get(name, {}).items() if c in fields})
    for col, kind in expected.items():
        if not p.check(col in fields, f"/{name} has no column '{col}'"):
            continue
        got = fields[col][0].kind
        if kind == "i":
            p.check(got in "iu", f"/{name}.{col} is {fields[col][0]}, not an integer")
        elif kind == "f":
            p.check(got == "f", f"/{name}.{col} is {fields[col][0]}, not float64")
        elif kind == "S":
            p.check(got == "S", f"/{name}.{col} is {fields[col][0]}, not a fixed-length string")
        elif kind == "B":
            sub = fields[col][0].subdtype
            p.check(sub is not None and sub[0] == np.uint8 and len(sub[1]) == 1,
                    f"/{name}.{col} is {fields[col][0]}, not an array of bytes")
        # kind None: float or string, checked by the caller
    unexpected = set(fields) - set(expected)
    p.check(not unexpected, f"/{name} has unexpected columns {sorted(unexpected)}")
    return ds[()]


def check_space(space, p):
    """Returns [(name, kind, low, high, choices as str list)]."""
    domains = []
    names = [text(r["name"]) for r in space]
    p.check(len(names) == len(set(names)), f"/space names are not unique: {names}")
    for r in space:
        name, kind, spec = text(r["name"]), text(r["kind"]), text(r["spec"])
        choices = split_choices(text(r["choices"]))
        p.check(kind in KINDS, f"/space {name}: unknown kind '{kind}'")
        p.check(spec.startswith(kind + "(") and spec.endswith(")"), f"/space {name}: spec '{spec}' is not {kind}(...)")
        if kind in RANGE_KINDS:
            low, high = float(r["low"]), float(r["high"])
            p.check(low <= high if kind == "int" else low < high, f"/space {name}: empty range [{low}, {high}]")
            p.check(kind != "loguniform" or low > 0, f"/space {name}: loguniform with low {low} <= 0")
        else:
            p.check(math.isnan(r["low"]) and math.isnan(r["high"]), f"/space {name}: {kind} with numeric bounds")
            p.check(len(choices) > 0, f"/space {name}: {kind} without values")
        domains.append((name, kind, float(r["low"]), float(r["high"]), choices))
    return domains


def expected_column_kind(domain, version):
    """How a hyperparameter must be stored: 'i' int64 (integers only, schema >= 3), 'S' text, 'f'."""
    name, kind, low, high, choices = domain
    if kind in RANGE_KINDS:
        return "i" if kind == "int" and version >= 3 else "f"
    numbers = [as_number(c) for c in choices]
    if any(n is None for n in numbers):
        return "S"
    if version >= 3 and all(c.lstrip("+-").isdigit() for c in choices):
        return "i"
    return "f"


def check_hparam(where, status, domain, value, column_kind, p):
    name, kind, low, high, choices = domain
    where = f"{where}: {name}"
    if column_kind == "S":
        v = text(value)
        unset = v == ""
    elif column_kind == "i":
        unset = int(value) == UNSET_INT
        v = int(value)
    else:
        v = float(value)
        unset = math.isnan(v)
    if unset:
        p.check(status == "pending", f"{where} is unset but the trial is {status}")
        return
    if kind in RANGE_KINDS:
        if p.check(column_kind in "if", f"{where}: numeric domain stored as text"):
            p.check(low <= v <= high, f"{where} = {v} outside [{low}, {high}]")
            p.check(kind != "int" or v == math.floor(v), f"{where} = {v} is not an integer")
    elif column_kind == "S":
        p.check(v in choices, f"{where} = '{v}' is not one of {choices}")
    else:
        numbers = [as_number(c) for c in choices]
        p.check(any(n is not None and n == v for n in numbers), f"{where} = {v} is not one of {choices}")


def check_finals(finals, documents, id_set, p):
    """/final rows and their /final_documents: labels tie them, the totals and the loss agree."""
    labels = [text(x["label"]) for x in finals]
    p.check(len(labels) == len(set(labels)), f"/final labels are not unique: {labels}")
    by_label = {}
    for d in documents:
        by_label.setdefault(text(d["label"]), []).append(d)
    for label in by_label:
        p.check(label in labels, f"/final_documents has rows for '{label}', which is not a /final label")
    for x, label in zip(finals, labels):
        where = f"/final '{label}'"
        p.check(label != "", "/final has a row without a label")
        p.check(int(x["trial"]) == -1 or int(x["trial"]) in id_set, f"{where}: trial {x['trial']} is not in /trials")
        docs = by_label.get(label, [])
        p.check(int(x["test_documents"]) == len(docs),
                f"{where}: test_documents {x['test_documents']} but {len(docs)} /final_documents rows")
        tokens = sum(int(d["tokens"]) for d in docs)
        p.check(int(x["test_tokens"]) == tokens, f"{where}: test_tokens {x['test_tokens']} but its documents have {tokens}")
        loss, low, high = float(x["test_loss"]), float(x["test_ci_low"]), float(x["test_ci_high"])
        if tokens > 0:
            mean = sum(float(d["loss_sum"]) for d in docs) / tokens
            p.check(math.isclose(loss, mean, rel_tol=1e-9), f"{where}: test_loss {loss} but its documents give {mean}")
        if not math.isnan(low):
            p.check(low <= loss <= high, f"{where}: test_loss {loss} outside its interval [{low}, {high}]")


def group_by(values, keys):
    out = {}
    for k, v in zip(keys, values):
        out.setdefault(int(k), []).append(v)
    return out


def check_file(path, swmr, p):
    with h5py.File(path, "r", swmr=swmr) as f:
        attrs = check_root(f, p)
        if p.items:
            return None
        version = attrs["schema_version"]
        space = read_table(f, "space", p)
        if space is None:
            return None
        domains = check_space(space, p)

        # /trials: one column per hyperparameter: int64 for integer domains (schema >= 3), text for
        # choices with text, float64 otherwise; /pbt_transfers: the same as old.<name>, new.<name>.
        kinds = {d[0]: expected_column_kind(d, version) for d in domains}
        trials = read_table(f, "trials", p, [(name, kind) for name, kind in kinds.items()], version)
        metrics = read_table(f, "metrics", p, (), version)
        decisions = read_table(f, "decisions", p, (), version)
        typed_values = [(prefix + name, kind) for prefix in ("old.", "new.") for name, kind in kinds.items()]
        transfers = read_table(f, "pbt_transfers", p, typed_values if version >= 3 else (), version)
        groups = read_table(f, "groups", p, (), version)
        summary = read_table(f, "summary", p, (), version)
        tables = [trials, metrics, decisions, transfers, groups, summary]
        finals = documents = None
        if version >= 3:
            finals = read_table(f, "final", p, (), version)
            documents = read_table(f, "final_documents", p, (), version)
            tables += [finals, documents]
        events = segments = None
        if version >= 4:
            events = read_table(f, "events", p, (), version)
            segments = read_table(f, "segments", p, (), version)
            tables += [events, segments]
        if any(t is None for t in tables) or p.items:
            return None

        # /groups
        group_ids = [int(g["group"]) for g in groups]
        p.check(sorted(group_ids) == list(range(attrs["num_groups"])),
                f"/groups ids {group_ids} are not 0..{attrs['num_groups'] - 1}")
        seen_ranks = set()
        for g in groups:
            ranks = [int(r) for r in text(g["ranks"]).split(",") if r.strip()]
            p.check(len(ranks) == attrs["group_size"], f"/groups {g['group']}: {len(ranks)} ranks, group_size is {attrs['group_size']}")
            p.check(all(1 <= r < attrs["world_size"] for r in ranks), f"/groups {g['group']}: ranks {ranks} outside 1..world_size-1")
            p.check(not (seen_ranks & set(ranks)), f"/groups {g['group']}: ranks {ranks} also belong to another group")
            seen_ranks |= set(ranks)
            p.check(text(g["devices"]) != "", f"/groups {g['group']}: no devices")
            if "cpus" in groups.dtype.fields and text(g["cpus"]) != "":
                cpus = text(g["cpus"]).split(";")
                p.check(len(cpus) == len(ranks) and all(c.strip() for c in cpus),
                        f"/groups {g['group']}: cpus '{text(g['cpus'])}' is not one CPU set per rank")

        # /trials
        ids = [int(t) for t in trials["id"]]
        p.check(len(ids) == len(set(ids)), "/trials ids are not unique")
        id_set = set(ids)
        statuses = [text(s) for s in trials["status"]]
        column_kinds = {d[0]: trials.dtype.fields[d[0]][0].kind for d in domains}
        for t, status in zip(trials, statuses):
            tid = int(t["id"])
            p.check(status in STATUSES, f"/trials id {tid}: unknown status '{status}'")
            p.check(int(t["parent"]) == -1 or int(t["parent"]) in id_set, f"/trials id {tid}: parent {t['parent']} is not a trial")
            p.check(int(t["group"]) == -1 or int(t["group"]) in group_ids, f"/trials id {tid}: group {t['group']} is not in /groups")
            p.check(int(t["last_step"]) >= 0, f"/trials id {tid}: negative last_step")
            p.check(float(t["device_seconds"]) >= 0, f"/trials id {tid}: negative device_seconds")
            if status in FINISHED_STATUSES:
                start, end = float(t["start_time"]), float(t["end_time"])
                p.check(not math.isnan(start) and not math.isnan(end) and end >= start,
                        f"/trials id {tid}: {status} with start_time {start} and end_time {end}")
            if status == "failed":
                p.check(text(t["reason"]) != "", f"/trials id {tid}: failed without a reason")
            for d in domains:
                check_hparam(f"/trials id {tid}", status, d, t[d[0]], column_kinds[d[0]], p)
            if version >= 3:
                p.check(int(t["metric_step"]) <= int(t["last_step"]),
                        f"/trials id {tid}: metric_step {t['metric_step']} after last_step {t['last_step']}")
                p.check((int(t["metric_step"]) == -1) == math.isnan(float(t["last_metric"])),
                        f"/trials id {tid}: metric_step {t['metric_step']} with last_metric {t['last_metric']}")

        # /metrics: trial ids exist, steps never go back except where a PBT transfer moved the trial.
        for m_trial in set(int(x) for x in metrics["trial"]):
            p.check(m_trial in id_set, f"/metrics has rows for trial {m_trial}, which is not in /trials")
        moved_to = {(int(x["target_trial"]), int(x["step"])) for x in transfers}
        for tid, steps in group_by(list(metrics["step"]), metrics["trial"]).items():
            for prev, cur in zip(steps, steps[1:]):
                p.check(cur >= prev or (tid, int(cur)) in moved_to,
                        f"/metrics trial {tid}: step goes back from {prev} to {cur}")
        p.check(bool(np.all(np.isfinite(metrics["time"]))), "/metrics has rows without a time")
        p.check(bool(np.all(metrics["tokens"] >= 0)), "/metrics has negative token counts")

        # Each trial's best_metric is one of its reported values of the experiment metric.
        metric = attrs["metric"]
        values = group_by(list(metrics[metric]), metrics["trial"])
        for t in trials:
            best = float(t["best_metric"])
            if not math.isnan(best):
                reported = [float(v) for v in values.get(int(t["id"]), [])]
                p.check(any(math.isclose(best, v, rel_tol=1e-12, abs_tol=0) for v in reported),
                        f"/trials id {t['id']}: best_metric {best} is not among its /metrics {metric} values")

        # /decisions and /pbt_transfers name existing trials and groups.
        for d in decisions:
            p.check(text(d["action"]) in ACTIONS, f"/decisions: unknown action '{text(d['action'])}'")
            p.check(int(d["trial"]) == -1 or int(d["trial"]) in id_set, f"/decisions: trial {d['trial']} is not in /trials")
        for x in transfers:
            for key in ("source_trial", "target_trial"):
                p.check(int(x[key]) in id_set, f"/pbt_transfers: {key} {x[key]} is not in /trials")
            # A paused source is copied from its checkpoint: no source group (-1).
            p.check(int(x["source_group"]) == -1 or int(x["source_group"]) in group_ids,
                    f"/pbt_transfers: source_group {x['source_group']} is not in /groups")
            p.check(int(x["target_group"]) in group_ids, f"/pbt_transfers: target_group {x['target_group']} is not in /groups")
            if version >= 2:
                p.check(text(x["payload"]) in ("model", "adapters"), f"/pbt_transfers: payload '{text(x['payload'])}'")
            if version >= 4:
                via = text(x["via"])
                p.check(via in ("ranks", "memory", "files"), f"/pbt_transfers: via '{via}'")
                p.check((via == "files") == (int(x["source_group"]) == -1),
                        f"/pbt_transfers: via '{via}' with source_group {x['source_group']}")
            p.check(int(x["bytes"]) >= 0 and float(x["seconds"]) >= 0, "/pbt_transfers: negative bytes or seconds")
            if version >= 3:
                for prefix in ("old.", "new."):
                    for d in domains:
                        check_hparam(f"/pbt_transfers {x['source_trial']} -> {x['target_trial']} {prefix}", "running",
                                     d, x[prefix + d[0]], column_kinds[d[0]], p)

        # /summary: one row that agrees with /trials.
        if p.check(len(summary) == 1, f"/summary has {len(summary)} rows, not 1"):
            s = summary[0]
            s_status = text(s["status"])
            p.check(s_status in SUMMARY_STATUSES, f"/summary: unknown status '{s_status}'")
            p.check(float(s["elapsed_s"]) >= 0 and float(s["device_seconds"]) >= 0, "/summary: negative elapsed_s or device_seconds")
            p.check(int(s["trials"]) <= len(ids), f"/summary counts {s['trials']} trials, /trials has {len(ids)}")
            bests = [float(b) for b in trials["best_metric"] if not math.isnan(b)]
            overall = (min(bests) if attrs["mode"] == "min" else max(bests)) if bests else math.nan
            by_id = {int(t["id"]): t for t in trials}
            if version >= 3:
                # best_*: the best final result (best_trial.hpp's rule); best_any_*: the best at any step.
                if int(s["best_trial"]) != -1 and p.check(int(s["best_trial"]) in id_set,
                                                         f"/summary: best_trial {s['best_trial']} is not in /trials"):
                    last = float(by_id[int(s["best_trial"])]["last_metric"])
                    p.check(float(s["best_metric"]) == last,
                            f"/summary: best_metric {float(s['best_metric'])} but its trial's last_metric is {last}")
                    p.check(int(s["best_budget"]) >= 0, f"/summary: best_budget {s['best_budget']} < 0")
                if int(s["best_any_trial"]) != -1 and p.check(int(s["best_any_trial"]) in id_set,
                                                             f"/summary: best_any_trial {s['best_any_trial']} is not in /trials"):
                    p.check(float(s["best_any_metric"]) == overall,
                            f"/summary: best_any_metric {float(s['best_any_metric'])} but the best of /trials is {overall}")
            elif int(s["best_trial"]) != -1:
                p.check(int(s["best_trial"]) in id_set, f"/summary: best_trial {s['best_trial']} is not in /trials")
                if bests:
                    p.check(float(s["best_metric"]) == overall,
                            f"/summary: best_metric {float(s['best_metric'])} but the best of /trials is {overall}")
            if s_status == "finished":
                p.check(float(s["end_time"]) >= attrs["start_time"], "/summary: finished before it started")

        if finals is not None:
            check_finals(finals, documents, id_set, p)
        if events is not None:
            check_events(events, segments, p)

        counts = {}
        for status in statuses:
            counts[status] = counts.get(status, 0) + 1
        return {"attrs": attrs, "trials": len(ids), "statuses": counts, "metric_rows": len(metrics),
                "groups": len(groups), "transfers": len(transfers), "finals": len(finals) if finals is not None else 0,
                "summary": text(summary[0]["status"]) if len(summary) else None}


def check_events(events, segments, p):
    """/events: seq 0, 1, 2, ... each in parts 0..parts-1, every part but the last full;
    /segments: unique indices, known statuses, first_event within /events."""
    width = events.dtype.fields["data"][0].subdtype[1][0] if len(events.dtype.fields or {}) else 0
    seq, part = 0, 0
    for i, e in enumerate(events):
        where = f"/events row {i}"
        if not p.check(int(e["seq"]) == seq and int(e["part"]) == part,
                       f"{where}: event {e['seq']} part {e['part']} where event {seq} part {part} was due"):
            return
        parts, size = int(e["parts"]), int(e["size"])
        p.check(text(e["kind"]) in EVENT_KINDS, f"{where}: unknown kind '{text(e['kind'])}'")
        p.check(0 <= size <= width and (part == parts - 1 or size == width), f"{where}: size {size} of part {part}/{parts}")
        part += 1
        if part == parts:
            seq, part = seq + 1, 0
    p.check(part == 0, f"/events ends inside event {seq}")
    indices = [int(s["index"]) for s in segments]
    p.check(len(indices) == len(set(indices)), f"/segments indices {indices} are not unique")
    for s in segments:
        p.check(text(s["status"]) in SEGMENT_STATUSES, f"/segments {s['index']}: unknown status '{text(s['status'])}'")
        p.check(0 <= int(s["first_event"]) <= seq, f"/segments {s['index']}: first_event {s['first_event']} beyond /events")
        p.check(float(s["elapsed_s"]) >= 0, f"/segments {s['index']}: negative elapsed_s")


def parse_status_expectations(items, parser):
    out = {}
    for item in items:
        for part in item.split(","):
            name, sep, count = part.partition("=")
            if not sep or name not in STATUSES or not count.isdigit():
                parser.error(f"--expect-status wants status=N with status in {sorted(STATUSES)}, got '{part}'")
            out[name] = int(count)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--swmr", action="store_true", help="open a file that is still being written")
    parser.add_argument("--expect-trials", type=int, help="exact number of rows in /trials")
    parser.add_argument("--expect-status", action="append", default=[], metavar="STATUS=N",
                        help="exact number of trials in a status (repeatable, or comma-separated)")
    parser.add_argument("--min-metric-rows", type=int, help="at least this many rows in /metrics")
    parser.add_argument("--expect-groups", type=int, help="exact number of rows in /groups")
    parser.add_argument("--expect-summary", choices=sorted(SUMMARY_STATUSES), help="the summary's status")
    parser.add_argument("--min-transfers", type=int, help="at least this many rows in /pbt_transfers")
    parser.add_argument("--expect-finals", type=int, help="exact number of rows in /final")
    args = parser.parse_args()
    expected_status = parse_status_expectations(args.expect_status, parser)

    p = Problems()
    try:
        facts = check_file(args.file, args.swmr, p)
    except OSError as e:
        hint = "" if args.swmr else " (a file still being written, or whose writer died, needs --swmr)"
        print(f"FAIL: {args.file}: cannot open with h5py: {e}{hint}")
        return 1
    if facts:
        if args.expect_trials is not None:
            p.check(facts["trials"] == args.expect_trials, f"expected {args.expect_trials} trials, found {facts['trials']}")
        for status, n in expected_status.items():
            got = facts["statuses"].get(status, 0)
            p.check(got == n, f"expected {n} {status} trials, found {got}")
        if args.min_metric_rows is not None:
            p.check(facts["metric_rows"] >= args.min_metric_rows,
                    f"expected at least {args.min_metric_rows} /metrics rows, found {facts['metric_rows']}")
        if args.expect_groups is not None:
            p.check(facts["groups"] == args.expect_groups, f"expected {args.expect_groups} groups, found {facts['groups']}")
        if args.expect_summary is not None:
            p.check(facts["summary"] == args.expect_summary, f"expected summary '{args.expect_summary}', found '{facts['summary']}'")
        if args.min_transfers is not None:
            p.check(facts["transfers"] >= args.min_transfers,
                    f"expected at least {args.min_transfers} /pbt_transfers rows, found {facts['transfers']}")
        if args.expect_finals is not None:
            p.check(facts["finals"] == args.expect_finals, f"expected {args.expect_finals} /final rows, found {facts['finals']}")
    if p.items:
        for item in p.items:
            print(f"FAIL: {args.file}: {item}")
        return 1
    by_status = ", ".join(f"{k} {v}" for k, v in sorted(facts["statuses"].items()))
    print(f"ok: {args.file}: experiment '{facts['attrs']['name']}', {facts['trials']} trials ({by_status}), "
          f"{facts['metric_rows']} metric rows, {facts['groups']} groups, summary {facts['summary']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
