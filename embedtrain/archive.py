"""The zip archives embedtrain writes (model files, co-occurrence files).

Both are uncompressed zip files that ``numpy.load`` also opens: ``meta.json``,
``vocab.txt`` (``word count`` lines, line i is id i) and one ``NAME.npy`` per array
(no pickled objects). Each file kind checks its own ``meta.json``.
"""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ._atomic import atomic_output
from .errors import EmbedtrainError
from .vocab import Vocab


def write_archive(path: str | os.PathLike, meta: dict[str, Any], vocab: Vocab,
                  arrays: dict[str, np.ndarray]) -> Path:
    """Write the archive atomically (temporary name, then rename)."""
    with atomic_output(path, "wb") as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr("meta.json", json.dumps(meta, indent=1))
            zf.writestr("vocab.txt", vocab.to_text().encode("utf-8"))
            for name, array in arrays.items():
                with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
    return Path(path)


def read_vocab(zf: zipfile.ZipFile, source: Path) -> Vocab:
    """The archive's vocabulary; a malformed one raises ValueError (a damaged file)."""
    try:
        return Vocab.parse(zf.read("vocab.txt").decode("utf-8", errors="replace"), f"{source}:vocab.txt")
    except EmbedtrainError as exc:
        raise ValueError(str(exc)) from None


def read_arrays(zf: zipfile.ZipFile, names: Iterable[str]) -> dict[str, np.ndarray]:
    """The named arrays. read_array fills each array straight from its member, chunk by
    chunk: no second copy of an 800 MB n-gram matrix in a bytes buffer."""
    arrays = {}
    for name in names:
        with zf.open(f"{name}.npy") as member:
            arrays[name] = np.lib.format.read_array(member, allow_pickle=False)
    return arrays
