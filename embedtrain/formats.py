"""Vector file formats: reading and writing what other tools use.

word2vec text: a ``V dim`` header line, then ``word v1 ... vdim`` per line.
"""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from ._atomic import atomic_output

# Written values keep 6 significant digits, like word2vec.c's "%lf" keeps 6 decimals;
# the model file (.etm) keeps the exact float32 weights.
TEXT_FLOAT_FORMAT = "%.6g"
WRITE_BATCH_ROWS = 4096


def _text_rows(words: Sequence[str], vectors: np.ndarray):
    row_format = " ".join([TEXT_FLOAT_FORMAT] * vectors.shape[1])
    for start in range(0, len(words), WRITE_BATCH_ROWS):
        block = vectors[start:start + WRITE_BATCH_ROWS].tolist()
        yield "".join(f"{w} {row_format % tuple(row)}\n"
                      for w, row in zip(words[start:start + WRITE_BATCH_ROWS], block))


def write_word2vec_text(path: str | os.PathLike, words: Sequence[str], vectors: np.ndarray,
                        header: bool = True) -> None:
    """word2vec text format (``header=False`` gives GloVe's text format)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    with atomic_output(path, "w", encoding="utf-8", newline="\n") as out:
        if header:
            out.write(f"{vectors.shape[0]} {vectors.shape[1]}\n")
        for chunk in _text_rows(words, vectors):
            out.write(chunk)
