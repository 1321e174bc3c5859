#!/usr/bin/python3
"""End to end, as a user runs it: fine-tune a pretrained (test-made) Hugging Face model with
mpitune under mpirun, read the result file with h5py, export the kept best trial, check the
export against the fixtures' own layout tables, and re-evaluate it with `mpitune eval`: the loss
must be the trial's own final eval loss (the same windows of the same validation corpus).

    finetune_e2e.py --mpitune EXE --fixtures DIR --work DIR --mode lora|full|pbt [--np 5]

lora: ASHA over lr and lora.rank of LoRA on llama_bytes_tiny (bytes tokenizer, fp32).
full: Hyperband (pausing and resuming through sharded checkpoints), full fine-tuning of
      gpt2_bare_bf16 in bf16, keep = all (paused trials that end keep their checkpoint).
pbt:  synchronous PBT over lr and lora.alpha of LoRA on llama_bytes_tiny: its exploits move only
      the adapters and their optimizer state, and /pbt_transfers says so.
Prints what it checked; exits 1 on the first problem (with the reason).
"""

import argparse
import json
import math
import os
import subprocess
import sys

import h5py

HERE = os.path.dirname(os.path.abspath(__file__))
FORTUNES = "/usr/share/games/fortunes"


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(cmd, **kw):
    print("+", " ".join(cmd))
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        print(r.stdout[-4000:])
        print(r.stderr[-4000:])
        fail(f"{cmd[0]} {cmd[1] if len(cmd) > 1 else ''} exited {r.returncode}")
    return r.stdout


def config(mode, fixtures, work):
    val = os.path.join(FORTUNES, "goedel")
    common = f"""
[experiment]
name = e2e_{mode}
seed = 3
output = {work}/{mode}.h5
overwrite = true
group_size = 1
status_interval_s = 1000
[data]
corpus = {FORTUNES}/fortunes
val_corpus = {val}
document_separator = %
tokenizer = bytes
eval_batches = 2
cache_dir = {work}/tokens
[train]
batch_size = 8
warmup_steps = 2
log_interval = 3
"""
    if mode == "pbt":
        return common + f"""
[experiment]
keep = best
[space]
lr = loguniform(1e-3, 3e-2)
lora.alpha = uniform(4, 32)
[scheduler]
type = pbt
population = 4
perturbation_interval = 3
max_t = 9
synchronous = true
[model]
init = pretrained
path = {fixtures}/llama_bytes_tiny
seq_len = 32
[lora]
rank = 4
targets = attention
[train]
precision = fp32
""", val
    if mode == "lora":
        return common + f"""
[experiment]
max_trials = 6
keep = best
[space]
lr = loguniform(1e-3, 3e-2)
lora.rank = choice(2, 4, 8)
[scheduler]
type = asha
max_t = 9
grace_period = 1
reduction_factor = 3
[model]
init = pretrained
path = {fixtures}/llama_bytes_tiny
seq_len = 32
[lora]
alpha = 8
targets = attention
[train]
precision = fp32
""", val
    return common + f"""
[experiment]
max_trials = 17
keep = all
[space]
lr = loguniform(1e-4, 1e-3)
[scheduler]
type = hyperband
min_t = 1
max_t = 9
reduction_factor = 3
[model]
init = pretrained
path = {fixtures}/gpt2_bare_bf16
seq_len = 32
[train]
precision = bf16
""", val


def merged(text):
    """The config above repeats sections; merge them into one INI text (later keys win)."""
    sections, order, current = {}, [], None
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("["):
            current = line[1:-1]
            if current not in sections:
                sections[current] = {}
                order.append(current)
            continue
        k, v = line.split("=", 1)
        sections[current][k.strip()] = v.strip()
    return "".join(f"[{s}]\n" + "".join(f"{k} = {v}\n" for k, v in sections[s].items()) for s in order)


def table(f, name):
    rows = f[name][()]
    return [{k: (r[k].decode() if isinstance(r[k], bytes) else r[k]) for k in rows.dtype.names} for r in rows]


def check_export_and_eval(a, out, trial, metrics, base, lora, precision, val):
    """Exports `trial`, checks the folder with the fixtures' layout tables, and re-evaluates it:
    the loss must be the trial's own last eval loss."""
    evals = [m for m in metrics if m["trial"] == trial and not math.isnan(m["eval_loss"])]
    final_eval = max(evals, key=lambda m: m["step"])["eval_loss"]
    export = os.path.join(a.work, f"{a.mode}_export_{trial}")
    print(run([a.mpitune, "export", out, "--trial", str(trial), "--out", export]).strip())
    check = ["/usr/bin/python3", os.path.join(HERE, "hf_fixtures.py"), "check-export", export, "--base", base]
    print(run(check + (["--adapter"] if lora else [])).strip())
    got = json.loads(run([a.mpitune, "eval", "--model", export, "--corpus", val, "--tokenizer", "bytes",
                          "--separator", "%", "--batches", "2", "--batch-size", "8", "--seq-len", "32",
                          "--precision", precision, "--cache-dir", os.path.join(a.work, "tokens"), "--json"]))
    print(f"trial {trial}: final eval loss {final_eval:.7f}; mpitune eval of the export {got['loss']:.7f} "
          f"over {got['tokens']} tokens")
    if abs(got["loss"] - final_eval) > 1e-5:
        fail(f"the exported model's eval loss {got['loss']} differs from trial {trial}'s {final_eval}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mpitune", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--mode", choices=["lora", "full", "pbt"], required=True)
    ap.add_argument("--np", type=int, default=5)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    text, val = config(a.mode, os.path.abspath(a.fixtures), os.path.abspath(a.work))
    ini = os.path.join(a.work, f"{a.mode}.ini")
    with open(ini, "w") as fh:
        fh.write(merged(text))
    out = os.path.join(a.work, f"{a.mode}.h5")
    stdout = run(["mpirun", "-np", str(a.np), "--oversubscribe", "--bind-to", "none", a.mpitune, "run", "--quiet",
                  "--config", ini])
    print(stdout[-1500:])
    run(["/usr/bin/python3", os.path.join(HERE, "..", "python", "check_results.py"), out])

    with h5py.File(out, "r") as f:
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
        trials = table(f, "trials")
        metrics = table(f, "metrics")
        summary = table(f, "summary")[0]
        transfers = table(f, "pbt_transfers")
    lora = a.mode in ("lora", "pbt")
    expected_arch = "llama" if lora else "gpt2"
    if attrs["model_init"] != "pretrained" or attrs["architecture"] != expected_arch:
        fail(f"root attributes say {attrs['model_init']} {attrs['architecture']}")
    if "bytes" not in attrs["tokenizer"]:
        fail(f"tokenizer attribute '{attrs['tokenizer']}'")
    if summary["status"] != "finished":
        fail(f"summary status {summary['status']}")
    for t in trials:
        if t["params_total"] <= 0 or not 0 < t["params_trainable"] <= t["params_total"]:
            fail(f"trial {t['id']}: params {t['params_total']} / trainable {t['params_trainable']}")
    if a.mode == "pbt":
        if not transfers:
            fail("synchronous PBT made no exploit")
        trainable = int(trials[0]["params_trainable"])
        for x in transfers:
            # The adapters' fp32 master, m and v (12 bytes each) and a small header, never the base.
            if x["payload"] != "adapters" or not 12 * trainable <= x["bytes"] < 12 * trainable + 4096:
                fail(f"a PBT exploit moved {x['bytes']} bytes of '{x['payload']}' for {trainable} adapter parameters")
        print(f"PBT exploits: {len(transfers)}, each {transfers[0]['bytes']} bytes of {transfers[0]['payload']} "
              f"({trainable} trainable of {int(trials[0]['params_total'])} parameters), "
              f"{max(x['seconds'] for x in transfers):.4f} s at most")
    if a.mode == "lora":
        by_rank = {}
        for t in trials:
            by_rank.setdefault(int(round(t["lora.rank"])), set()).add(int(t["params_trainable"]))
        # One trainable count per rank, growing with it; the total grows by the same adapters.
        if any(len(v) != 1 for v in by_rank.values()):
            fail(f"trainable parameters per lora.rank are not unique: {by_rank}")
        counts = [next(iter(by_rank[r])) for r in sorted(by_rank)]
        if counts != sorted(counts) or len(set(counts)) != len(counts):
            fail(f"trainable parameters do not grow with lora.rank: {by_rank}")
        if not all(t["params_trainable"] < t["params_total"] / 10 for t in trials):
            fail("LoRA trains more than a tenth of the model")
    if a.mode == "full":
        if not all(t["params_trainable"] == t["params_total"] for t in trials):
            fail("full fine-tuning must train every parameter")
    print(f"trials: {len(trials)}, statuses {sorted({t['status'] for t in trials})}, "
          f"trainable/total {[(int(t['params_trainable']), int(t['params_total'])) for t in trials]}")

    best = int(summary["best_trial"])
    keep_dir = attrs["keep_dir"]
    kept = sorted(int(d.split("-")[1]) for d in os.listdir(keep_dir)) if os.path.isdir(keep_dir) else []
    if lora and kept != [best]:
        fail(f"keep = best kept {kept}, the best trial is {best}")
    if a.mode == "full" and kept != sorted(int(t["id"]) for t in trials if t["status"] != "failed"):
        fail(f"keep = all kept {kept}")
    base = os.path.join(a.fixtures, "llama_bytes_tiny" if lora else "gpt2_bare_bf16")
    precision = "fp32" if lora else "bf16"
    check_export_and_eval(a, out, best, metrics, base, lora, precision, val)
    if a.mode == "full":
        # A trial Hyperband stopped while paused: its kept weights are its moved checkpoint.
        paused = [t for t in trials if t["status"] == "stopped" and 0 < t["last_step"] < 9]
        if not paused:
            fail("no trial was stopped while paused")
        check_export_and_eval(a, out, int(paused[0]["id"]), metrics, base, lora, precision, val)
    print("OK")


if __name__ == "__main__":
    main()
