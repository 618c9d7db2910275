#!/usr/bin/env python
"""What it costs two cores to write the same rows right now: two threads each update 100,000
rows picked at random among 64 rows of 100 float32 (one cache line is 16 of them), once on rows of
their own and once on the same rows, and the time per update of each. On a machine whose two
cores share their last cache the two are close; on this machine's virtual cores they are close at
some times (about 90 ns against 83) and 2.5 times apart at others (about 210 ns), as the host
places them, and a process of two threads that write shared rows (Hogwild training) slows down
with them while two processes do not (docs/benchmarks.md, "Two threads, and what they share").
``bench_threads.py --probe`` runs it around every run. Run it on an otherwise idle machine: a
process busy on one of the cores slows both figures alike and hides the difference.

    python scripts/line_probe.py [--runs 5]
"""
from __future__ import annotations

import argparse
import threading
import time

import numpy as np
from numba import njit

ROWS = 64
UPDATES = 100_000
# a shared row costing this many times an own row: the cores do not share their last cache
SLOW_RATIO = 1.6


@njit(nogil=True, cache=True)
def _update(matrix, first, rows, n, seed):
    state = np.uint64(seed)
    total = np.float32(0.0)
    for _ in range(n):
        state = state * np.uint64(6364136223846793005) + np.uint64(1442695040888963407)
        r = first + int((state >> np.uint64(33)) % np.uint64(rows))
        for k in range(matrix.shape[1]):
            v = matrix[r, k]
            total += v
            matrix[r, k] = v * np.float32(0.999) + np.float32(0.001)
    return total


def _timed(shared: bool) -> float:
    matrix = np.zeros((4 * ROWS, 100), dtype=np.float32)
    firsts = (0, 0) if shared else (0, 2 * ROWS)
    threads = [threading.Thread(target=_update, args=(matrix, f, ROWS, UPDATES, 7 + i)) for i, f in enumerate(firsts)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (time.perf_counter() - started) / UPDATES * 1e9


def probe() -> dict:
    """ns per update on rows of each thread's own and on the same rows, and their ratio."""
    _update(np.zeros((1, 100), np.float32), 0, 1, 1, 1)  # compiled (or loaded) before timing
    own, same = _timed(False), _timed(True)
    return {"own_ns": round(own, 1), "shared_ns": round(same, 1), "ratio": round(same / own, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pause", type=float, default=0.5, help="seconds between runs")
    args = ap.parse_args()
    for r in range(args.runs):
        got = probe()
        print(f"{time.strftime('%H:%M:%S')} own rows {got['own_ns']:.1f} ns, the same rows {got['shared_ns']:.1f} ns "
              f"per update: x{got['ratio']:.2f}", flush=True)
        if r + 1 < args.runs:
            time.sleep(args.pause)


if __name__ == "__main__":
    main()
