#!/usr/bin/env python
"""Seconds inside the classifier's training kernel (kernels/classify.train_lines), one thread
and two, for each loss: the slowest thread's sum over its jobs (wall seconds), 10 epochs of a
synthetic 1,000-label corpus made from the text8 prefix (100,000 lines of 20 words, the label
from the first word's CRC32). Prints one JSON line; run it once per checkout, alternating:

    for r in 1 2 3; do for t in . /tmp/before; do PYTHONPATH=$t flock /tmp/embedtrain-bench.lock \
        python scripts/classify_kernel_time.py; done; done
"""
from __future__ import annotations

import collections
import gzip
import json
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "data" / "text8-prefix.gz"
LABELS = 1000


def corpus(directory: Path) -> Path:
    path = directory / "synthetic-1000-labels.txt"
    words = gzip.open(CORPUS, "rt").read().split()[:2_000_000]
    with open(path, "w") as f:
        for i in range(0, len(words), 20):
            line = words[i:i + 20]
            f.write(f"__label__{zlib.crc32(line[0].encode()) % LABELS} " + " ".join(line) + "\n")
    return path


def main() -> None:
    if not CORPUS.exists():
        sys.exit(f"needs {CORPUS}")
    import embedtrain.classify.training as training
    from embedtrain.classify.config import ClassifyConfig
    from embedtrain.classify.model import train

    seconds: dict[int, float] = collections.defaultdict(float)
    kernel = training.train_lines

    def timed(*args):
        started = time.perf_counter()
        result = kernel(*args)
        seconds[threading.get_ident()] += time.perf_counter() - started
        return result

    training.train_lines = timed
    out = {}
    with tempfile.TemporaryDirectory() as d:
        path = corpus(Path(d))
        for loss in ("ns", "hs", "softmax"):
            train(path, ClassifyConfig(threads=1, epochs=1, loss=loss))   # compiled before timing
            for threads in (1, 2):
                seconds.clear()
                train(path, ClassifyConfig(threads=threads, epochs=10, loss=loss))
                out[f"{loss}, {threads} thread{'s' if threads > 1 else ''}"] = round(max(seconds.values()), 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
