#!/usr/bin/python3
"""The round trip a group waits per segment, from a result file: for each group, the span of
its trials (first start to last end, rank 0's clock) minus the seconds its segments took on the
group (device_seconds: groups of one rank), divided by its segments. With one-segment trials (FIFO, max_t = 1) that is the time from
a group's SegmentDone leaving it to its next order arriving, plus rank 0's handling.

    segment_idle.py RESULT.h5    prints "1.52 ms (groups 1.47..1.60, 1000 segments)"
"""
import collections
import sys

import h5py


def main(path):
    with h5py.File(path, "r", swmr=True) as f:
        trials = f["trials"][()]
    by_group = collections.defaultdict(list)
    for t in trials:
        by_group[int(t["group"])].append((float(t["start_time"]), float(t["end_time"]), float(t["device_seconds"])))
    idle = []
    for rows in by_group.values():
        rows.sort()
        span = rows[-1][1] - rows[0][0]
        busy = sum(r[2] for r in rows)
        idle.append((span - busy) / max(1, len(rows) - 1))
    print("%.2f ms (groups %.2f..%.2f, %d segments)" % (1e3 * sum(idle) / len(idle), 1e3 * min(idle), 1e3 * max(idle),
                                                        len(trials)))


if __name__ == "__main__":
    main(sys.argv[1])
