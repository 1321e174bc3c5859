#!/usr/bin/python3
"""Checks the output folder of `mpi_scripts/scaling_study.sh --quick` (ctest scaling_study_quick).

    check_scaling_study.py OUTDIR

Every file exists and parses (CSV, markdown tables, SVG as XML); every sweep point ran; FIFO
with fixed step times (the sweep's fifo-fixed points and the Ray release test) has exactly the
analytic utilisation trials / (groups x ceil(trials / groups)) and elapsed ceil(trials / groups)
x max_t x step_seconds, computed here; the other figures are consistent with each other
(overhead = elapsed / ideal - 1, utilisation = ideal / elapsed); the real runs have a start-up,
a utilisation, the simulator's prediction and their difference. Exits 1 with every problem found.
"""
import csv
import math
import os
import sys
import xml.etree.ElementTree as ET

SCHEDULERS = ["fifo", "fifo-fixed", "asha", "hyperband", "bohb", "pbt"]
problems = []


def check(ok, what):
    if not ok:
        problems.append(what)
    return ok


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def md_table_rows(path):
    lines = [l for l in open(path).read().splitlines() if l.startswith("|")]
    check(len(lines) >= 2 and set(lines[1].replace("|", "").strip()) <= set("-: "), f"{path}: no markdown table header")
    return lines[2:]


def analytic(trials, groups):
    waves = math.ceil(trials / groups)
    return trials / (groups * waves), waves


def check_fifo_fixed(r, where):
    trials, groups = int(r["trials"]), int(r["groups"])
    util, waves = analytic(trials, groups)
    elapsed = waves * int(r["max_t"]) * float(r["step_seconds"])
    check(abs(float(r["utilisation"]) - util) < 1e-9, f"{where}: utilisation {r['utilisation']} != analytic {util}")
    check(abs(float(r["elapsed_s"]) - elapsed) < 1e-6, f"{where}: elapsed {r['elapsed_s']} != analytic {elapsed}")
    check(abs(float(r["analytic_utilisation"]) - util) < 1e-12, f"{where}: recorded analytic value is not {util}")


def main():
    out = sys.argv[1]
    names = ["simulator_sweep.csv", "simulator_sweep.md", "utilisation.svg", "overhead.svg", "decisions_per_s.svg",
             "ray_release_simulated.csv", "ray_release_simulated.md", "real_runs.csv", "real_runs.md"]
    for n in names:
        if not check(os.path.isfile(os.path.join(out, n)), f"{n} is missing"):
            print("\n".join(problems))
            sys.exit(1)
    path = lambda n: os.path.join(out, n)

    sweep = rows(path("simulator_sweep.csv"))
    groups = sorted({int(r["groups"]) for r in sweep})
    check(len(sweep) == len(groups) * len(SCHEDULERS) and len(groups) >= 2,
          f"simulator_sweep.csv: {len(sweep)} rows for groups {groups}, not every scheduler at each")
    check(len(md_table_rows(path("simulator_sweep.md"))) == len(sweep), "simulator_sweep.md: not one row per point")
    for r in sweep:
        where = f"sweep {r['scheduler']} x {r['groups']}"
        if not check(r["error"] == "", f"{where}: {r['error']}"):
            continue
        u, e, i = float(r["utilisation"]), float(r["elapsed_s"]), float(r["ideal_s"])
        check(0 < u <= 1 + 1e-12, f"{where}: utilisation {u} outside (0, 1]")
        check(abs(u - i / e) < 1e-9, f"{where}: utilisation {u} != ideal / elapsed {i / e}")
        check(abs(float(r["overhead"]) - (e / i - 1)) < 1e-9, f"{where}: overhead is not elapsed / ideal - 1")
        check(int(r["decisions"]) > 0 and int(r["steps"]) > 0, f"{where}: no decisions or steps")
        if r["scheduler"] == "fifo-fixed":
            check_fifo_fixed(r, where)
        else:
            check(r["analytic_utilisation"] == "", f"{where}: an analytic value where none exists")
    for n in ["utilisation.svg", "overhead.svg", "decisions_per_s.svg"]:
        try:
            root = ET.parse(path(n)).getroot()
        except ET.ParseError as e:
            check(False, f"{n}: not XML ({e})")
            continue
        check(root.tag.endswith("svg"), f"{n}: root is {root.tag}")
        lines = [el for el in root.iter() if el.tag.endswith("polyline")]
        check(len(lines) == len(SCHEDULERS), f"{n}: {len(lines)} lines, not one per scheduler")

    ray = rows(path("ray_release_simulated.csv"))
    if check(len(ray) == 1, "ray_release_simulated.csv: not one row"):
        r = ray[0]
        check(r["groups"] == "16" and r["max_t"] == "1", "the Ray test is not 16 groups x one-step trials")
        check_fifo_fixed(r, "Ray release test")
    check(len(md_table_rows(path("ray_release_simulated.md"))) == 2, "ray_release_simulated.md: not 2 rows")

    real = rows(path("real_runs.csv"))
    check(len(real) == 2, f"real_runs.csv: {len(real)} rows, not 2")
    check(len(md_table_rows(path("real_runs.md"))) == len(real), "real_runs.md: not one row per run")
    for r in real:
        where = f"real run {r['label']}"
        u, su = float(r["utilisation"]), float(r["sim_utilisation"])
        check(int(r["groups"]) == int(r["world_size"]) - 1, f"{where}: groups is not world size - 1")
        check(0 < u <= 1.05, f"{where}: utilisation {u} outside (0, 1.05]")  # workers' clocks: a little slack
        check(0 < su <= 1, f"{where}: simulator utilisation {su} outside (0, 1]")
        check(abs(float(r["sim_minus_real_pp"]) - 100 * (su - u)) < 0.011, f"{where}: the difference is not sim - real")
        check(float(r["startup_s"]) > 0, f"{where}: no start-up time")
        check(float(r["launch_to_exit_s"]) > float(r["span_s"]) > 0, f"{where}: span not inside launch..exit")
        check(int(r["segments"]) >= int(r["trials"]) > 0, f"{where}: fewer segments than trials")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"scaling study outputs OK: {len(sweep)} simulator points, the Ray test, {len(real)} real runs")


if __name__ == "__main__":
    main()
