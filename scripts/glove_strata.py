#!/usr/bin/env python
"""GloVe trained in strata (issue 22): what N workers that never touch the same row
at once would learn, run in this process.

The words are cut into N groups. A visit of the co-occurrence matrix (an entry as
itself or mirrored) updates one word row and one context row, so it lies in a block
(group of its word row, group of its context row). Stratum s holds the blocks (k, (k + s)
mod N), k = 0..N-1: no two of them share a word row, a context row or a bias, so N
workers can train them at once, worker k on block (k, (k + s) mod N), and no update
needs combining. An epoch is the N strata one after another (a random sequence each
epoch), each a random order of its visits; worker k keeps its word rows and passes
its context rows on between strata (stratified SGD, Gemulla et al. 2011).

Because the blocks of a stratum share no row, training their visits one after another
in one process gives the bytes N workers would: this script trains one machine's
visits (its epoch's random order, ``EntryReplica``) sorted by stratum, keeping their
order within a stratum. N = 1 is one machine's run.

    python scripts/glove_strata.py CORPUS WORKERS SEED [--set k=v ...]

Prints one JSON line: settings, the blocks' balance (slowest block over the mean, per
stratum) and questions-words and WordSim-353 (gensim's evaluators).
"""
from __future__ import annotations

import argparse
import heapq
import json
import sys
import time
from pathlib import Path

import numpy as np

from sync_experiment import glove_replicas, score_model

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from embedtrain.kernels import glove as kernels  # noqa: E402
from embedtrain.config import make_config  # noqa: E402
from embedtrain.distributed.task import make_model  # noqa: E402


def groups_by_visits(visits: np.ndarray, n: int) -> np.ndarray:
    """Each word's group (int64 [V]): the words in decreasing visits, each to the group
    with the fewest visits so far (longest processing time first)."""
    group = np.zeros(len(visits), dtype=np.int64)
    heap = [(0, k) for k in range(n)]
    for w in np.argsort(-visits, kind="stable"):
        load, k = heapq.heappop(heap)
        group[w] = k
        heapq.heappush(heap, (load + int(visits[w]), k))
    return group


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("workers", type=int)
    ap.add_argument("seed", type=int)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--set", action="append", default=[], metavar="K=V",
                    help="another setting, e.g. --set epochs=15 --set window=10 (JSON values)")
    a = ap.parse_args()
    extra = {k: json.loads(v) for k, v in (s.split("=", 1) for s in a.set)}
    config = make_config("glove", dim=a.dim, seed=a.seed, threads=1, epochs=extra.pop("epochs", 3), **extra)
    started = time.time()
    ws, vocab, _ = glove_replicas(a.corpus, config, 1, 10 ** 12, False)
    rep = ws[0].replica
    config = ws[0].config  # sized
    rows, cols = rep.entries[0], rep.entries[1]
    m, n, v = len(rows), a.workers, len(vocab)
    word_row = np.concatenate([rows, cols]).astype(np.int64)  # visit id -> its word row
    context_row = np.concatenate([cols, rows]).astype(np.int64)
    mirror_diag = np.concatenate([np.zeros(m, bool), rows == cols])  # skipped by the kernel
    visits = np.bincount(word_row[~mirror_diag], minlength=v)
    group = groups_by_visits(visits, n)
    stratum = (group[context_row] - group[word_row]) % n
    block = group[word_row] * n + group[context_row]
    sizes = np.bincount(block[~mirror_diag], minlength=n * n).reshape(n, n)
    per_stratum = np.array([[sizes[k, (k + s) % n] for k in range(n)] for s in range(n)])
    balance = float(np.mean(per_stratum.max(axis=1) / per_stratum.mean(axis=1)))
    del word_row, context_row, block, mirror_diag
    key = np.empty(2 * m, dtype=np.int16)
    for epoch in range(config.epochs):
        rep._shuffle(epoch)  # one machine's order of this epoch
        sequence = np.random.default_rng([a.seed, epoch, 22]).permutation(n)  # the strata's order
        rank = np.empty(n, dtype=np.int64)
        rank[sequence] = np.arange(n)
        np.take(rank.astype(np.int16), stratum[rep.order], out=key)
        order = rep.order[np.argsort(key, kind="stable")]
        cost, trained = kernels.train_entries(order, 0, len(order), rep.entries, rep.weights, rep.gradsq,
                                              config.lr, kernels.GRAD_CLIP)
        print(f"epoch {epoch + 1}: cost {cost / max(trained, 1):.5f}", file=sys.stderr, flush=True)
        del order
    analogy, wordsim = score_model(make_model(config, vocab, ws[0].weights(), {}))
    print(json.dumps(dict(model="glove", protocol="strata", workers=n, seed=a.seed, dim=a.dim, settings=extra,
                          epochs=config.epochs, block_balance=round(balance, 4),
                          wall_seconds=round(time.time() - started),
                          analogy=round(analogy, 4), wordsim=round(wordsim, 4))), flush=True)


if __name__ == "__main__":
    main()
