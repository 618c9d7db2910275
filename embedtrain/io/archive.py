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

from ..errors import EmbedtrainError
from ..vocab import Vocab
from .atomic import atomic_output


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


class DamagedArchive(Exception):
    """Raised inside :func:`open_archive`'s block for a damaged member."""


def read_archive(path: str | os.PathLike, format_name: str, max_version: int, what: str,
                 array_names=None) -> tuple[dict[str, Any], Vocab, dict[str, np.ndarray]]:
    """Open an archive written by :func:`write_archive` and check its kind and version.

    Returns (meta, vocab, arrays); ``array_names`` defaults to ``meta["arrays"]``.
    Every problem is an EmbedtrainError naming the file (``what`` says what it is,
    e.g. "model file").
    """
    p = Path(path)
    not_one = f"{p} is not an embedtrain {what}"
    if p.is_dir():
        raise EmbedtrainError(f"{what} {p} is a directory")
    try:
        zf = zipfile.ZipFile(p)
    except FileNotFoundError:
        raise EmbedtrainError(f"{what} {p} does not exist") from None
    except (zipfile.BadZipFile, OSError):
        raise EmbedtrainError(not_one) from None
    with zf:
        try:
            meta = json.loads(zf.read("meta.json"))
        except (KeyError, ValueError, zipfile.BadZipFile, OSError):
            raise EmbedtrainError(not_one) from None
        if not isinstance(meta, dict) or meta.get("format") != format_name:
            raise EmbedtrainError(not_one)
        version = meta.get("format_version", 0)
        if not isinstance(version, int) or isinstance(version, bool):
            raise EmbedtrainError(f"{p}: damaged {what} (format_version {version!r})")
        if version > max_version:
            raise EmbedtrainError(f"{p} has {what} format version {version}; this embedtrain "
                                  f"reads up to {max_version}: upgrade embedtrain")
        try:
            names = list(meta["arrays"] if array_names is None else array_names)
            vocab = read_vocab(zf, p)
            arrays = read_arrays(zf, names)
        except KeyError as exc:
            raise EmbedtrainError(f"{p}: damaged {what} (missing {exc})") from None
        except (ValueError, TypeError, zipfile.BadZipFile, EOFError, OSError) as exc:
            raise EmbedtrainError(f"{p}: damaged {what} ({exc})") from None
    return meta, vocab, arrays


def is_archive_of(path: str | os.PathLike, format_name: str) -> bool:
    """True when ``path`` is an archive whose meta.json names ``format_name``."""
    try:
        with zipfile.ZipFile(path) as zf:
            meta = json.loads(zf.read("meta.json"))
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("format") == format_name
