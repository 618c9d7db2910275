#!/usr/bin/env python
"""Time a round's row work of the Ray workers in one process, without Ray: the
snapshot (ReplicaTracker.begin), finding the changed rows (update) and one
reducer's shard (combine), on a real round of a 2-worker run.

    python scripts/profile_sync.py [CORPUS] [--model fasttext] [--sync-every 500000]

It uses only APIs older versions have too, so a checkout of an earlier commit gives
the numbers to compare with (PYTHONPATH=that checkout). Prints the median of 7
timings of each step, in ms.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from benchlib import median_seconds, replicas  # noqa: E402
from embedtrain.config import make_config  # noqa: E402
from embedtrain.distributed import sync  # noqa: E402


def median_ms(f, reps: int = 7) -> float:
    return median_seconds(f, reps) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared" / "data" / "text8-prefix.gz"))
    ap.add_argument("--model", default="fasttext")
    ap.add_argument("--sync-every", type=int, default=500_000)
    ap.add_argument("--dtype", default=None, help="--sync-dtype (versions that have it)")
    a = ap.parse_args()
    workers = 2
    config = make_config(a.model, dim=100, seed=1, threads=1, epochs=1)
    ws, vocab, rounds = replicas(a.corpus, config, workers, a.sync_every, a.dtype)
    results = [wk.train(0, 0, rounds) for wk in ws]          # one real round on both workers
    wk, tracker = ws[0], ws[0].tracker
    if hasattr(wk, "replica"):  # since issue 20: the worker's replica makes the round
        chunks = wk.replica.round_jobs(0, 0, rounds)
        word_counts = wk.replica.round_counts(chunks)
        masses = wk.replica.masses(word_counts, 0, chunks)
    else:
        chunks = wk.chunks_of_round(0, rounds)
        word_counts = np.zeros(len(vocab), np.int64)
        for c in chunks:
            ids = wk.stream.chunk(int(c))
            word_counts += np.bincount(ids[ids >= 0], minlength=len(vocab))
        masses = wk._masses(word_counts, 0, chunks)
    update = median_ms(tracker.update)                        # the round's changes, still tracked
    combined = [sync.combine([r[1 + s][name] for r in results], "scaled") for s in range(workers)
                for name in ("input_vectors",)]
    saved = {k: v.copy() for k, v in tracker.matrices.items()}
    base = dict(tracker._base)

    def apply():
        tracker._base = dict(base)
        for k, v in saved.items():
            tracker.matrices[k][...] = v
        started = time.perf_counter()
        wk.apply(*[{"input_vectors": c} for c in combined])
        return time.perf_counter() - started

    apply()
    applied = float(np.median([apply() for _ in range(7)])) * 1e3
    begin = median_ms(lambda: tracker.begin(word_counts, masses))
    reduce = median_ms(lambda: sync.combine([r[1]["input_vectors"] for r in results], "scaled"))
    rows = [len(r[1]["input_vectors"]) for r in results]
    print(f"{a.model}, 2 workers, --sync-every {a.sync_every:,}: update {update:.1f} ms, begin {begin:.1f} ms, "
          f"one shard of the input rows combined {reduce:.1f} ms ({rows[0]:,} + {rows[1]:,} rows), "
          f"applying the combined input rows {applied:.1f} ms")


if __name__ == "__main__":
    main()
