"""Seeded fuzzing of every file kind embedtrain reads: 360 mutations (bit flips,
truncations, insertions, deletions, header edits) of a small .vec, word2vec .bin, .etm,
.cooc, fastText .bin and checkpoint (resumed), each through the library and the CLI, in
one child process under a memory limit (tests/fuzz_loaders.py). Each must load (or
train) or give one line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import embedtrain
from embedtrain.config import FastTextConfig
from embedtrain.io.cooc import CooccurrenceMatrix
from embedtrain.io.fasttext_bin import write_fasttext_bin
from embedtrain.io.formats import write_word2vec_binary
from embedtrain.io.text import write_word2vec_text
from embedtrain.models import FastTextModel
from embedtrain.vocab import Vocab

from conftest import StopAtEpoch, StopTraining

ROOT = Path(__file__).resolve().parent.parent
SEED = 20251121
CASES_PER_KIND = 60
# Address space for the child: numba and LLVM need about 1.5 GB of it; a loader that
# believed a damaged header would ask for terabytes and hit MemoryError instead.
MEMORY_LIMIT = 3 << 30
TIMEOUT_SECONDS = 600


def write_originals(work: Path) -> None:
    rng = np.random.default_rng(SEED)
    words = [f"w{i}" for i in range(40)] + ["king", "queen", "man", "woman", "paris", "france"]
    counts = np.arange(len(words) * 3, 0, -3)
    vocab = Vocab(words, counts)
    dim, bucket = 6, 64
    config = FastTextConfig(dim=dim, bucket=bucket, min_count=1, minn=2, maxn=4)
    model = FastTextModel(config, vocab, {
        "input_vectors": rng.uniform(-1, 1, (len(words) + bucket, dim)).astype(np.float32),
        "output_vectors": rng.uniform(-1, 1, (len(words), dim)).astype(np.float32)})
    vectors = model.vectors
    write_word2vec_text(work / "small.vec", vectors.words, vectors.vectors)
    write_word2vec_binary(work / "small.w2v.bin", vectors.words, vectors.vectors)
    model.save_model(work / "small.etm")
    write_fasttext_bin(model, work / "small.ft.bin")
    pairs = [(i, j) for i in range(len(words)) for j in range(i, min(i + 4, len(words)))]
    rows = np.array([p[0] for p in pairs], dtype=np.int32)
    cols = np.array([p[1] for p in pairs], dtype=np.int32)
    settings = {"window": 5, "distance_weighting": True, "min_count": 1, "max_vocab": None,
                "lowercase": False, "max_line_tokens": 1000}
    CooccurrenceMatrix(vocab, rows, cols, rng.uniform(0.5, 5, len(pairs)), settings, 1000).save(
        work / "small.cooc")
    corpus = work / "corpus.txt"
    corpus.write_text("\n".join(" ".join(rng.choice(words, size=12)) for _ in range(60)) + "\n")

    try:
        embedtrain.train(str(corpus), dim=4, epochs=2, threads=1, min_count=1, progress=False,
                         checkpoint=work / "small.ckpt", checkpoint_every=1e-9,
                         callbacks=[StopAtEpoch(1)])
    except StopTraining:
        pass
    (work / "sim.tsv").write_text("king\tqueen\t8\nman\twoman\t7\nparis\tfrance\t6\nw1\tw2\t1\n")
    (work / "analogy.txt").write_text(": test\nman king woman queen\nparis france w1 w2\n")


def test_every_mutated_file_loads_or_gives_one_line(tmp_path):
    write_originals(tmp_path)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "fuzz_loaders.py"), str(tmp_path), str(SEED),
         str(CASES_PER_KIND), str(MEMORY_LIMIT)],
        capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    current = (tmp_path / "current.txt").read_text() if (tmp_path / "current.txt").exists() else "?"
    assert proc.returncode == 0, f"fuzzing crashed (exit {proc.returncode}) at {current}: {proc.stderr[-2000:]}"
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["cases"] == 6 * CASES_PER_KIND
    assert report["failures"] == [], "\n".join(report["failures"][:20])
