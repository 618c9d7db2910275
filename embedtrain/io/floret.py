"""floret's vector table (``.floret``), the file ``spacy init vectors LANG FILE DIR --mode floret``
reads (explosion/floret FastText::saveFloretVectors; spaCy's training/initialize.read_vectors).

A header line ``bucket dim minn maxn hash_count hash_seed BOW EOW``, then one line per
table row, in order: the row number, then its ``dim`` values. spaCy reads the rows by
position (the first field is skipped) and computes a word's vector from the header's
settings (embedtrain/floret.py). floret writes 5 significant digits; we write 9, so spaCy
reads back exactly the float32 values we hold.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import EmbedtrainError
from .atomic import atomic_output

# 9 significant digits: every float32 reads back exactly.
FLORET_FLOAT_FORMAT = "%.9g"
FLORET_WRITE_ROWS = 4096


def write_floret(model, path: str | os.PathLike) -> Path:
    """Write a ``--floret`` FastText model's whole table (``bucket`` rows, stored or at
    their initial values) to ``path`` atomically."""
    from ..floret import FLORET_HASH_SEED
    from ..subwords import BOW, EOW

    config = model.config
    if model.kind != "fasttext" or not getattr(config, "floret", False):
        what = f"a {model.kind} model" if model.kind != "fasttext" else "a FastText model trained without --floret"
        raise EmbedtrainError(f"the floret format needs a model trained with --model fasttext --floret; "
                              f"this is {what}")
    ngrams = model.ngrams
    bucket, dim = config.bucket, config.dim
    row_format = " ".join([FLORET_FLOAT_FORMAT] * dim)
    with atomic_output(path, "w", encoding="utf-8", newline="\n") as out:
        out.write(f"{bucket} {dim} {config.minn} {config.maxn} {config.hash_count} {FLORET_HASH_SEED} "
                  f"{BOW} {EOW}\n")
        for start in range(0, bucket, FLORET_WRITE_ROWS):
            stop = min(start + FLORET_WRITE_ROWS, bucket)
            block = ngrams.lookup(np.arange(start, stop)).tolist()
            out.write("".join(f"{start + i} {row_format % tuple(row)}\n" for i, row in enumerate(block)))
    return Path(path)
