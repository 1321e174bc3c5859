#!/usr/bin/python3
"""Check /groups of an mpitune result file against the host every world rank was given.

Usage: check_placement.py RESULTS.h5 HOSTS [--span]
    HOSTS: the comma-separated host of each world rank (MPITUNE_TEST_HOSTNAME_OF_RANK).
    without --span: every group's ranks are on one host, each group holds the lowest G
        unassigned worker ranks of its host (local-rank order), and groups are numbered by
        their first rank;
    with --span (experiment.groups_span_nodes = true): groups are consecutive world ranks.
Either way /groups must record, for every rank, the host it was given.
Prints every problem and exits 1, or prints one line and exits 0.
"""

import sys

import h5py


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def main():
    path, hosts = sys.argv[1], sys.argv[2].split(",")
    span = "--span" in sys.argv[3:]
    problems = []
    with h5py.File(path, "r") as f:
        g_size = int(f.attrs["group_size"])
        rows = sorted(f["groups"][()], key=lambda r: int(r["group"]))
    groups = []
    for r in rows:
        ranks = [int(x) for x in text(r["ranks"]).split(",")]
        recorded = text(r["hosts"]).split(",")
        groups.append(ranks)
        given = [hosts[w] for w in ranks]
        if recorded != given:
            problems.append(f"group {int(r['group'])}: hosts {recorded} recorded, ranks {ranks} were given {given}")
        if not span and len(set(given)) != 1:
            problems.append(f"group {int(r['group'])}: ranks {ranks} mix hosts {given}")
    if span:
        expected = [list(range(1 + g * g_size, 1 + (g + 1) * g_size)) for g in range(len(groups))]
    else:
        # The expected layout, written out independently of mpitune's: per host, its worker
        # ranks in order, cut into groups of G (this test gives every host a multiple of G).
        by_host = {}
        for w, h in enumerate(hosts):
            if w:
                by_host.setdefault(h, []).append(w)
        expected = []
        for ranks in by_host.values():
            if len(ranks) % g_size:
                problems.append(f"the test's hosts give {len(ranks)} workers to one host, not a multiple of {g_size}")
            expected += [ranks[i:i + g_size] for i in range(0, len(ranks), g_size)]
        expected.sort()
    if groups != expected:
        problems.append(f"/groups ranks {groups}, expected {expected}")
    for p in problems:
        print("FAIL:", p)
    if problems:
        return 1
    print(f"placement ok: {len(groups)} groups {groups} on hosts {sorted(set(hosts[1:]))}" + (" (span)" if span else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
