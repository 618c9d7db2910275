"""The zip archives embedtrain writes (model files, co-occurrence files).

Both are uncompressed zip files that ``numpy.load`` also opens: ``meta.json``,
``vocab.txt`` (``word count`` lines, line i is id i) and one ``NAME.npy`` per array
(no pickled objects). Each file kind checks its own ``meta.json``; reading checks
every member against what it claims to hold, so a damaged file gives one line.
"""
from __future__ import annotations

import json
import mmap
import os
import struct
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..errors import EmbedtrainError
from ..vocab import Vocab
from .atomic import atomic_output

# Words and vectors alone (KeyedVectors.save of compat/gensim.py): vocab.txt and vectors.npy.
VECTORS_ARCHIVE, VECTORS_ARCHIVE_VERSION = "embedtrain-vectors", 1


def write_archive(path: str | os.PathLike, meta: dict[str, Any], vocab: Vocab,
                  arrays: dict[str, np.ndarray], texts: dict[str, str] | None = None,
                  deflate_vocab: bool = False, vocab_offsets: bool = False) -> Path:
    """Write the archive atomically (temporary name, then rename); ``texts``: more UTF-8
    members by name (a model's unkept.txt). ``deflate_vocab``: vocab.txt deflated (a
    compressed model, where it is a large share of a small file; arrays stay stored).
    ``vocab_offsets``: also where each line of vocab.txt starts and where its space is
    (:data:`VOCAB_OFFSETS`, int64 [2, V + 1], mapped_vocab.line_offsets), which a mapped
    load maps instead of scanning vocab.txt; meta.json records vocab.txt's CRC-32 and size
    beside it, so a vocab.txt rewritten since is read without it."""
    vocab_bytes = vocab.to_text().encode("utf-8")
    offsets = None
    if vocab_offsets:
        from ..mapped_vocab import line_offsets

        offsets = line_offsets(np.frombuffer(vocab_bytes, dtype=np.uint8))
        if offsets is not None:
            meta = {**meta, VOCAB_OFFSETS: {"vocab_crc32": zlib.crc32(vocab_bytes),
                                            "vocab_bytes": len(vocab_bytes)}}
    with atomic_output(path, "wb") as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr("meta.json", json.dumps(meta, indent=1))
            zf.writestr("vocab.txt", vocab_bytes,
                        compress_type=zipfile.ZIP_DEFLATED if deflate_vocab else None)
            for name, text in (texts or {}).items():
                zf.writestr(name, text.encode("utf-8"))
            if offsets is not None:
                arrays = {**arrays, VOCAB_OFFSETS: offsets}
            for name, array in arrays.items():
                info = aligned_member(f"{name}.npy", handle.tell())
                with zf.open(info, "w", force_zip64=True) as member:
                    write_npy(member, array)
    return Path(path)


# The member (NAME.npy) and meta.json key of a model's vocabulary line offsets.
VOCAB_OFFSETS = "vocab_offsets"


# write_npy's slice of the data: numpy's write_array copies up to 16 MiB at a time into
# a new bytes object when the file is not a real file (a zip member), which was the
# peak memory of a whole skip-gram run (issue 28, docs/benchmarks.md "Peak memory").
WRITE_SLICE_BYTES = 1 << 20


def write_npy(handle, array: np.ndarray) -> None:
    """The bytes ``np.lib.format.write_array(handle, array, allow_pickle=False)`` writes
    (a version 1.0 header, then the data in C order), the data written from the array in
    slices of WRITE_SLICE_BYTES without copying it."""
    array = np.ascontiguousarray(array)
    if array.dtype.hasobject or array.dtype.names is not None:
        np.lib.format.write_array(handle, array, allow_pickle=False)  # not our arrays; numpy's way
        return
    try:
        np.lib.format.write_array_header_1_0(handle, np.lib.format.header_data_from_array_1_0(array))
    except ValueError:  # a header too long for version 1.0 (it is not, for our shapes)
        np.lib.format.write_array(handle, array, allow_pickle=False)
        return
    data = memoryview(array.reshape(-1).view(np.uint8))
    for start in range(0, len(data), WRITE_SLICE_BYTES):
        handle.write(data[start:start + WRITE_SLICE_BYTES])


# Array data starts at a multiple of this many bytes in the file, so that a member can be
# memory-mapped (Model.load(path, mmap=True)) as an aligned array: the member's data
# starts aligned, and numpy pads its .npy header to a multiple of 64 bytes.
ARRAY_ALIGN = 64
# The zip extra field that pads a local header (the id Android's zipalign uses).
_PADDING_EXTRA_ID = 0xD935
_LOCAL_HEADER_BYTES = 30
_ZIP64_EXTRA_BYTES = 20  # what force_zip64 adds to the local header


def aligned_member(name: str, offset: int) -> zipfile.ZipInfo:
    """A ZipInfo for member ``name`` whose local header, written at ``offset``, ends on
    a multiple of :data:`ARRAY_ALIGN` (padded by an extra field)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    header = _LOCAL_HEADER_BYTES + len(name.encode("utf-8")) + _ZIP64_EXTRA_BYTES + 4
    pad = (-(offset + header)) % ARRAY_ALIGN
    info.extra = struct.pack("<HH", _PADDING_EXTRA_ID, pad) + bytes(pad)
    return info


def read_vocab(zf: zipfile.ZipFile, source: Path) -> Vocab:
    """The archive's vocabulary; a malformed one raises ValueError (a damaged file)."""
    try:
        return Vocab.parse(zf.read("vocab.txt").decode("utf-8", errors="replace"), f"{source}:vocab.txt")
    except EmbedtrainError as exc:
        raise ValueError(str(exc)) from None


# meta.json is a few kilobytes; anything far larger is not one of ours.
MAX_META_BYTES = 1 << 20
# Bytes read into an array at a time.
READ_CHUNK_BYTES = 1 << 24
_NPY_HEADER_LIMIT = 10_000


def read_arrays(zf: zipfile.ZipFile, names: Iterable[str]) -> dict[str, np.ndarray]:
    """The named arrays, each checked against its member before anything is allocated."""
    return {name: read_array(zf, name) for name in names}


def read_array(zf: zipfile.ZipFile, name: str) -> np.ndarray:
    """Member ``NAME.npy``: its header must describe exactly the bytes the member holds
    (so a damaged header cannot make us allocate terabytes), no pickled objects. The
    data is read straight into the final array, chunk by chunk: no second copy of an
    800 MB n-gram matrix in a bytes buffer. Raises ValueError on any damage."""
    member_name = f"{name}.npy"
    info = zf.getinfo(member_name)  # KeyError: missing
    if info.compress_type != zipfile.ZIP_STORED:
        raise ValueError(f"{member_name} is compressed; embedtrain stores arrays uncompressed")
    with zf.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(
                member, max_header_size=_NPY_HEADER_LIMIT)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(
                member, max_header_size=_NPY_HEADER_LIMIT)
        else:
            raise ValueError(f"{member_name}: unsupported .npy version {version}")
        if dtype.hasobject or dtype.itemsize == 0:
            raise ValueError(f"{member_name}: arrays of {dtype} are not allowed")
        if any(n < 0 for n in shape):
            raise ValueError(f"{member_name}: negative shape {shape}")
        count = int(np.prod(shape, dtype=object))
        expected = count * dtype.itemsize
        held = info.file_size - member.tell()
        if expected != held:
            raise ValueError(f"{member_name}: its header announces shape {shape} of {dtype} "
                             f"({expected:,} bytes) but it holds {held:,} bytes")
        flat = np.empty(count, dtype=dtype)
        view = memoryview(flat).cast("B") if count else memoryview(b"")
        done = 0
        while done < expected:
            got = member.readinto(view[done:done + READ_CHUNK_BYTES])
            if not got:
                raise ValueError(f"{member_name} ends after {done:,} of {expected:,} bytes")
            done += got
        member.read(1)  # reaching the end checks the member's CRC-32
    return flat.reshape(shape, order="F" if fortran else "C")


def map_array(zf: zipfile.ZipFile, path: Path, name: str) -> np.ndarray:
    """Member ``NAME.npy`` memory-mapped read-only (np.memmap), not read: its local
    header and .npy header are checked as :func:`read_array` checks them, but not its
    CRC-32 nor its values (that would read every byte). Raises ValueError on damage."""
    member_name = f"{name}.npy"
    info = zf.getinfo(member_name)  # KeyError: missing
    if info.compress_type != zipfile.ZIP_STORED:
        raise ValueError(f"{member_name} is compressed; only stored members can be mapped")
    with open(path, "rb") as f:
        data_start = _data_start(f, info)
        f.seek(data_start)
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=_NPY_HEADER_LIMIT)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=_NPY_HEADER_LIMIT)
        else:
            raise ValueError(f"{member_name}: unsupported .npy version {version}")
        offset = f.tell()
    if dtype.hasobject or dtype.itemsize == 0:
        raise ValueError(f"{member_name}: arrays of {dtype} are not allowed")
    count = int(np.prod(shape, dtype=object))
    expected = count * dtype.itemsize
    held = info.file_size - (offset - data_start)
    if expected != held:
        raise ValueError(f"{member_name}: its header announces shape {shape} of {dtype} "
                         f"({expected:,} bytes) but it holds {held:,} bytes")
    if count == 0:
        return np.empty(shape, dtype=dtype, order="F" if fortran else "C")
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=tuple(shape),
                     order="F" if fortran else "C")


def _data_start(f, info: zipfile.ZipInfo) -> int:
    """Where member ``info``'s data starts in the open file ``f`` (after its local
    header, whose name and extra field may differ in length from the directory's)."""
    f.seek(info.header_offset)
    local = f.read(_LOCAL_HEADER_BYTES)
    if len(local) != _LOCAL_HEADER_BYTES or local[:4] != b"PK\x03\x04":
        raise ValueError(f"{info.filename}: bad local header")
    name_len, extra_len = struct.unpack("<HH", local[26:30])
    return info.header_offset + _LOCAL_HEADER_BYTES + name_len + extra_len


def map_vocab_member(zf: zipfile.ZipFile, path: Path, meta: dict[str, Any]) -> Vocab:
    """The archive's vocabulary left in place (mapped_vocab.py: the bytes of vocab.txt
    memory-mapped read-only, with the line offsets the file stores, mapped, or found in
    a few array operations), or read as :func:`read_vocab` reads it when it is not in
    the form we write. Its CRC-32 is not checked (that would read every byte), only
    compared with the one recorded beside the offsets. Raises ValueError on damage."""
    from ..mapped_vocab import map_vocab

    info = zf.getinfo("vocab.txt")  # KeyError: missing
    if info.compress_type != zipfile.ZIP_STORED or info.file_size == 0:
        return read_vocab(zf, path)
    with open(path, "rb") as f:
        start = _data_start(f, info)
        if start + info.file_size > os.fstat(f.fileno()).st_size:
            raise ValueError("vocab.txt ends beyond the end of the file")
        whole = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    blob = np.frombuffer(whole, dtype=np.uint8, count=info.file_size, offset=start)
    recorded = meta.get(VOCAB_OFFSETS)
    offsets = None
    if (isinstance(recorded, dict) and recorded.get("vocab_crc32") == info.CRC
            and recorded.get("vocab_bytes") == info.file_size and f"{VOCAB_OFFSETS}.npy" in zf.NameToInfo):
        offsets = map_array(zf, path, VOCAB_OFFSETS)
        if offsets.dtype != np.int64:
            raise ValueError(f"{VOCAB_OFFSETS} holds {offsets.dtype} values, not int64")
    vocab = map_vocab(blob, str(path), offsets)
    return read_vocab(zf, path) if vocab is None else vocab


# What reading a damaged archive can raise, besides our own errors.
_DAMAGE = (ValueError, TypeError, KeyError, zipfile.BadZipFile, zipfile.LargeZipFile, EOFError,
           OSError, NotImplementedError, RuntimeError, OverflowError, SyntaxError, IndexError,
           UnicodeDecodeError, zlib.error, struct.error,
           tokenize.TokenError)  # numpy reading a .npy header whose brackets a flipped bit broke


def read_archive(path: str | os.PathLike, format_name: str, max_version: int, what: str,
                 array_names=None, hint: str = "", mmap: bool = False,
                 ) -> tuple[dict[str, Any], Vocab, dict[str, np.ndarray]]:
    """Open an archive written by :func:`write_archive` and check its kind and version.

    Returns (meta, vocab, arrays); ``array_names`` defaults to ``meta["arrays"]``;
    ``mmap``: the arrays are memory-mapped read-only (:func:`map_array`), not read.
    Every problem is an EmbedtrainError naming the file (``what`` says what it is,
    e.g. "model file"); ``hint`` is added to "is not an embedtrain ..." errors.
    """
    p = Path(path)
    not_one = f"{p} is not an embedtrain {what}{hint}"
    if p.is_dir():
        raise EmbedtrainError(f"{what} {p} is a directory")
    try:
        zf = zipfile.ZipFile(p)
    except FileNotFoundError:
        raise EmbedtrainError(f"{what} {p} does not exist") from None
    except PermissionError:
        raise EmbedtrainError(f"cannot read {what} {p}: permission denied") from None
    except _DAMAGE:
        raise EmbedtrainError(_not_a_zip(p, not_one, what)) from None
    with zf:
        try:
            info = zf.getinfo("meta.json")
            if info.file_size > MAX_META_BYTES:
                raise ValueError("too large")
            meta = json.loads(zf.read(info))
        except _DAMAGE:
            if not _names_member(zf, "meta.json"):
                raise EmbedtrainError(not_one) from None
            raise EmbedtrainError(f"{p}: damaged {what} (unreadable meta.json)") from None
        if not isinstance(meta, dict):
            raise EmbedtrainError(f"{p}: damaged {what} (meta.json holds a {type(meta).__name__}, "
                                  f"not an object)")
        if meta.get("format") != format_name:
            raise EmbedtrainError(not_one)
        version = meta.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise EmbedtrainError(f"{p}: damaged {what} (format_version {version!r} is not a "
                                  f"positive whole number)")
        if version > max_version:
            raise EmbedtrainError(f"{p} has {what} format version {version}; this embedtrain "
                                  f"reads up to {max_version}: upgrade embedtrain")
        names = meta.get("arrays") if array_names is None else array_names
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names) \
                or len(set(names)) != len(names):
            raise EmbedtrainError(f"{p}: damaged {what} (meta.json's 'arrays' is not a list of "
                                  f"distinct names)")
        try:
            vocab = map_vocab_member(zf, p, meta) if mmap else read_vocab(zf, p)
            arrays = ({n: map_array(zf, p, n) for n in names} if mmap else read_arrays(zf, names))
        except KeyError as exc:
            raise EmbedtrainError(f"{p}: damaged {what} (missing {exc})") from None
        except MemoryError:
            raise EmbedtrainError(f"{p}: not enough memory to load this {what}") from None
        except _DAMAGE as exc:
            raise EmbedtrainError(f"{p}: damaged {what} ({_one_line(exc)})") from None
    return meta, vocab, arrays


def read_counts_member(path: str | os.PathLike, name: str, what: str) -> Vocab:
    """Member ``name`` of the archive at ``path``: ``word count`` lines (may be empty);
    damage is one EmbedtrainError naming the file."""
    p = Path(path)
    try:
        with zipfile.ZipFile(p) as zf:
            text = zf.read(name).decode("utf-8", errors="replace")
        if not text.strip():
            return Vocab([], np.zeros(0, dtype=np.int64))
        return Vocab.parse(text, f"{p}:{name}")
    except KeyError:
        raise EmbedtrainError(f"{p}: damaged {what} (missing {name})") from None
    except EmbedtrainError as exc:
        raise EmbedtrainError(f"{p}: damaged {what} ({_one_line(exc)})") from None
    except _DAMAGE as exc:
        raise EmbedtrainError(f"{p}: damaged {what} ({_one_line(exc)})") from None


def _names_member(zf: zipfile.ZipFile, name: str) -> bool:
    return name in zf.NameToInfo


def _not_a_zip(p: Path, not_one: str, what: str) -> str:
    """A file that is not a readable zip: truncated, or something else altogether."""
    try:
        with open(p, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        return f"cannot read {what} {p}: {exc.strerror or exc}"
    if head.startswith(b"PK"):
        return f"{p}: damaged {what} (a zip archive without its directory: truncated or cut short?)"
    return not_one


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "..."


def is_archive_of(path: str | os.PathLike, format_name: str) -> bool:
    """True when ``path`` is an archive whose meta.json names ``format_name``."""
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("meta.json")
            if info.file_size > MAX_META_BYTES:
                return False
            meta = json.loads(zf.read(info))
    except _DAMAGE:
        return False
    return isinstance(meta, dict) and meta.get("format") == format_name


# Rows checked for NaN/inf at a time (bounds the temporary boolean array).
FINITE_CHECK_ROWS = 1 << 16


def check_arrays(expected: dict[str, tuple[list[tuple[int, ...]], Any]], arrays: dict[str, np.ndarray],
                 required: Iterable[str] | None = None) -> str:
    """What is wrong with the arrays read from an archive ("" if nothing): ``expected``
    maps each name allowed to (the shapes allowed, dtype); ``required``: the names that
    must be there (default: all of ``expected``). Floating-point arrays must be finite
    (not checked for memory-mapped arrays: that would read every byte of the file)."""
    missing = sorted(set(expected if required is None else required) - set(arrays))
    if missing:
        return f"array {missing[0]} is missing"
    extra = sorted(set(arrays) - set(expected))
    if extra:
        return f"unexpected array {extra[0]}"
    for name, a in arrays.items():
        shapes, dtype = expected[name]
        if a.dtype != dtype:
            return f"{name} holds {a.dtype} values, not {np.dtype(dtype)}"
        if a.shape not in shapes:
            return f"{name} has shape {a.shape}; the vocabulary and settings call for {shapes[0]}"
    for name, a in arrays.items():
        if a.size == 0 or a.dtype.kind != "f" or isinstance(a, np.memmap):
            continue
        flat = a.reshape(a.shape[0], -1)
        for start in range(0, flat.shape[0], FINITE_CHECK_ROWS):
            if not np.isfinite(flat[start:start + FINITE_CHECK_ROWS]).all():
                return f"{name} holds NaN or infinite values"
    return ""
