#!/usr/bin/env python
"""The choice for hierarchical softmax's inner-node rows when a model continues on new text
(docs/training.md, "Continuing on new text"): start them at zero (embedtrain's choice when
the Huffman tree changes) or keep them by index (gensim's). Skip-gram --hs on halves A and
B of a corpus (as scripts/bench_continue.py cuts them): train on A, then continue on B both
ways from the same model; scores by gensim's evaluators (benchlib.scores). The second way
replaces the family's grown_arrays in this process only, for the measurement.

    flock /tmp/embedtrain-bench.lock python scripts/bench_continue_hs.py [--epochs 1] [--seed 1]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench_continue import split
from benchlib import SHARED_DATA, scores

SETTINGS = dict(dim=100, window=5, hs=True, sample=1e-3, min_count=5, threads=2)


def main() -> None:

    import embedtrain
    from embedtrain.families.word2vec import Word2Vec

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=SHARED_DATA / "corpora" / "enwiki2015-AA.text8style.txt.gz")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        tokens = split(args.corpus, d)
        settings = dict(SETTINGS, epochs=args.epochs, seed=args.seed, progress=False)

        def record(name, model, seconds):
            model.save(d / name)
            analogy, ws = scores(d / f"{name}.vec")
            row = dict(run=name, seconds=round(seconds, 1), vocab=len(model.vocab),
                       questions_words=round(analogy, 4), wordsim353=round(ws, 4))
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)

        started = time.perf_counter()
        first = embedtrain.train(str(d / "A.txt"), **settings)
        record("A", first, time.perf_counter() - started)
        started = time.perf_counter()
        record("A, continued on B (inner rows reset: embedtrain)",
               embedtrain.train(str(d / "B.txt"), init=first, progress=False), time.perf_counter() - started)

        original = Word2Vec.grown_arrays

        def keep_by_index(self, model, config, vocab, layout):
            arrays = original(self, model, config, vocab, layout)
            old = model.arrays["output_hs"]
            n = min(len(old), len(arrays["output_hs"]))
            arrays["output_hs"][:n] = old[:n]
            return arrays

        Word2Vec.grown_arrays = keep_by_index
        try:
            started = time.perf_counter()
            record("A, continued on B (inner rows kept by index: gensim)",
                   embedtrain.train(str(d / "B.txt"), init=first, progress=False), time.perf_counter() - started)
        finally:
            Word2Vec.grown_arrays = original
        started = time.perf_counter()
        record("A+B from scratch", embedtrain.train(str(d / "AB.txt"), **settings), time.perf_counter() - started)
    print(json.dumps({"corpus": str(args.corpus), "tokens": tokens,
                      "settings": dict(SETTINGS, epochs=args.epochs, seed=args.seed, model="skipgram"),
                      "results": rows}, indent=1))


if __name__ == "__main__":
    main()
