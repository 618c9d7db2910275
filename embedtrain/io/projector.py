"""The TensorFlow Embedding Projector's files (https://projector.tensorflow.org, "Load").

``DIR/vectors.tsv``
    one vector per line, values separated by tabs, no header (6 significant digits).
``DIR/metadata.tsv``
    line i names row i: a ``word<TAB>count`` header, then ``word<TAB>count`` per word. Vectors
    without counts give one column of words and no header (the projector reads a
    one-column file as labels only, and wants a header when there are two or more).

The projector loads at most :data:`PROJECTOR_MAX_POINTS` points, so more are never written.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np

from ..errors import EmbedtrainError
from ..vectors import Vectors
from .atomic import atomic_group, atomic_output, check_writable
from .text import TEXT_FLOAT_FORMAT, WRITE_BATCH_ROWS

PROJECTOR_VECTORS = "vectors.tsv"
PROJECTOR_METADATA = "metadata.tsv"
# The projector refuses more points than this (its data-loading limit).
PROJECTOR_MAX_POINTS = 100_000
# The default --limit: the projector's t-SNE and UMAP also sample 10,000 points, and the
# page stays responsive at this size.
PROJECTOR_DEFAULT_LIMIT = 10_000
METADATA_HEADER = "word\tcount"


def projector_paths(directory: str | os.PathLike) -> tuple[Path, Path]:
    d = Path(directory)
    return d / PROJECTOR_VECTORS, d / PROJECTOR_METADATA


def check_projector_output(directory: str | os.PathLike) -> None:
    """Fail now if ``directory`` (created when missing, inside an existing one) cannot hold
    the two files."""
    d = Path(directory)
    if d.exists() and not d.is_dir():
        raise EmbedtrainError(f"output {d} exists and is not a directory (the projector export "
                              f"writes {PROJECTOR_VECTORS} and {PROJECTOR_METADATA} into a directory)")
    if d.is_dir():
        for path in projector_paths(d):
            check_writable(path)
    else:
        check_writable(d)  # its parent exists and is writable


def projector_limit(limit: int | None) -> int:
    """``limit`` (or the default) capped at what the projector can load."""
    if limit is None:
        return PROJECTOR_DEFAULT_LIMIT
    return min(limit, PROJECTOR_MAX_POINTS)


def _write_rows(path: Path, vectors: Vectors) -> None:
    matrix = np.asarray(vectors.vectors, dtype=np.float32)
    row_format = "\t".join([TEXT_FLOAT_FORMAT] * matrix.shape[1]) + "\n"
    with atomic_output(path, "w", encoding="utf-8", newline="\n") as out:
        for start in range(0, len(matrix), WRITE_BATCH_ROWS):
            out.write("".join(row_format % tuple(row)
                              for row in matrix[start:start + WRITE_BATCH_ROWS].tolist()))


def _write_metadata(path: Path, vectors: Vectors) -> None:
    with atomic_output(path, "w", encoding="utf-8", newline="\n") as out:
        if vectors.counts is None:
            out.write("".join(w + "\n" for w in vectors.words))
        else:
            out.write(METADATA_HEADER + "\n")
            out.write("".join(f"{w}\t{int(c)}\n" for w, c in zip(vectors.words, vectors.counts)))


def write_projector(directory: str | os.PathLike, vectors: Vectors) -> tuple[Path, Path]:
    """Write ``vectors`` (at most :data:`PROJECTOR_MAX_POINTS` rows) as ``DIR/vectors.tsv``
    and ``DIR/metadata.tsv``, together (on failure neither changes, and a directory
    this call created is removed); returns their paths."""
    if len(vectors) > PROJECTOR_MAX_POINTS:
        raise EmbedtrainError(f"the Embedding Projector loads at most {PROJECTOR_MAX_POINTS:,} "
                              f"points; got {len(vectors):,} (use --limit)")
    for w in vectors.words:
        if not w or "\t" in w or "\n" in w or "\r" in w:
            raise EmbedtrainError(f"cannot write the word {w!r} to a TSV file: it is empty or "
                                  f"contains a tab or a line break")
    check_projector_output(directory)
    created = not Path(directory).is_dir()
    Path(directory).mkdir(exist_ok=True)
    vectors_path, metadata_path = projector_paths(directory)
    try:
        with atomic_group():  # both files, or neither (the old pair stays)
            _write_rows(vectors_path, vectors)
            _write_metadata(metadata_path, vectors)
    except BaseException:
        if created:  # a directory this call made is not left behind empty
            with contextlib.suppress(OSError):
                Path(directory).rmdir()
        raise
    return vectors_path, metadata_path
