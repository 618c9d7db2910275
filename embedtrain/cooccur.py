"""GloVe co-occurrence counting with bounded memory.

Counting reads the training stream (vocabulary ids, ``SENTENCE_END`` between
sentences) chunk by chunk on worker threads; each worker adds the pairs of its
chunks to its own hash table (kernels/glove.py), so no locks are needed. Only the
upper triangle (row <= col) of the symmetric matrix is stored.

Memory: ``--memory`` GB caps the counting tables, shared out between the
workers. A table starts small and doubles while it may; when it may not, its
entries are sorted and written to a temporary file (a *run*) and it starts
again empty, as cooccur.c writes its overflow buffer. At the end the runs are
merged, summing equal pairs: a k-way merge of at most ``MERGE_FANIN`` files at a
time, in rounds, so the number of open files stays bounded however many runs
there are. Temporary files live in a private directory under ``--tmp-dir`` that
is removed afterwards, also after an error or Ctrl-C.

The counted matrix (:class:`~embedtrain.io.cooc.CooccurrenceMatrix`), its file and
the partitioned matrix of a Ray run are in io/cooc.py; run files are written in the
partition files' record format.
"""
from __future__ import annotations

import errno
import fcntl
import itertools
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from typing import Callable

import numpy as np
from tqdm import tqdm

from .io.cooc import COUNTING_SETTINGS, RECORD_BYTES, CooccurrenceMatrix, _write_records
from .io.atomic import process_alive, take_lock_if_free
from .errors import EmbedtrainError
from .kernels import glove as kernels
from .parallel import run_jobs
from .vocab import Vocab

log = logging.getLogger("embedtrain")


GIGABYTE = 1 << 30
# A table of S slots takes 16 S bytes (int64 key, float64 value); sorting its
# entries for a spill takes 16 bytes more per entry, at most MAX_LOAD * S of them.
SLOT_BYTES = 16
MAX_LOAD = 0.7
PEAK_BYTES_PER_SLOT = SLOT_BYTES * (1.0 + MAX_LOAD)
INITIAL_SLOTS = 1 << 16
MIN_SLOTS = 1 << 10
MAX_SLOTS = 1 << 40
# Merging: files open at once, and records read from each at a time.
MERGE_FANIN = 64
MIN_MERGE_BLOCK = 256
MAX_MERGE_BLOCK = 1 << 16  # 1 MB per file: plenty for sequential reads
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
# Spill directories: PREFIX + PID + random, holding a lock file while the run lives.
SPILL_DIR_PREFIX = "embedtrain-cooccur-"
SPILL_LOCK = "lock"
_SPILL_DIR = re.compile(re.escape(SPILL_DIR_PREFIX) + r"(\d+)-[A-Za-z0-9_]+$")


# --------------------------------------------------------------------------- memory

def table_slots(memory_gb: float, threads: int, window: int) -> int:
    """The most slots each worker's table may grow to under ``memory_gb``.

    Raises EmbedtrainError when even the smallest table does not fit.
    """
    per_thread = memory_gb * GIGABYTE / threads
    slots = MIN_SLOTS
    while slots < MAX_SLOTS and slots * 2 * PEAK_BYTES_PER_SLOT <= per_thread:
        slots *= 2
    smallest = max(MIN_SLOTS, _pow2_at_least((window + 1) / MAX_LOAD))
    if slots * PEAK_BYTES_PER_SLOT > per_thread or slots < smallest:
        need = smallest * PEAK_BYTES_PER_SLOT * threads
        raise EmbedtrainError(
            f"--memory {memory_gb:g} GB is too small to hold even one partial co-occurrence table: "
            f"{threads} thread{'s' if threads != 1 else ''} with --window {window} need at least "
            f"{need / GIGABYTE:.6f} GB ({need / (1 << 20):.2f} MB)")
    return slots


def _pow2_at_least(x: float) -> int:
    n = 1
    while n < x:
        n *= 2
    return n


class _Table:
    """One worker's hash table (see kernels/glove.py), grown by doubling up to a cap."""

    def __init__(self, max_slots: int):
        self.max_slots = max_slots
        slots = min(INITIAL_SLOTS, max_slots)
        self.keys = np.full(slots, kernels.EMPTY_KEY, dtype=np.int64)
        self.values = np.zeros(slots, dtype=np.float64)
        self.fill = 0

    @property
    def max_fill(self) -> int:
        return int(len(self.keys) * MAX_LOAD)

    def grow(self) -> bool:
        slots = 2 * len(self.keys)
        if slots > self.max_slots:
            return False
        keys = np.full(slots, kernels.EMPTY_KEY, dtype=np.int64)
        values = np.zeros(slots, dtype=np.float64)
        self.fill = kernels.rehash(self.keys, self.values, keys, values)
        self.keys, self.values = keys, values
        return True

    def clear(self) -> None:
        self.keys.fill(kernels.EMPTY_KEY)
        self.values.fill(0.0)
        self.fill = 0


# --------------------------------------------------------------------------- runs on disk

class _Runs:
    """Sorted partial tables in files of a private temporary directory."""

    def __init__(self, tmp_dir: str | None):
        self.tmp_dir = tmp_dir
        self.dir: str | None = None
        self.paths: list[str] = []
        self._names = itertools.count()
        self._lock = threading.Lock()
        self.written = 0    # runs written while counting (spills)
        self._lock_fd: int | None = None

    def _new_path(self) -> str:
        with self._lock:
            return self._new_path_locked()

    def _new_path_locked(self) -> str:
        if self.dir is None:
            parent = self.tmp_dir or tempfile.gettempdir()
            sweep_stale_spill_dirs(parent)
            try:
                self.dir = tempfile.mkdtemp(prefix=f"{SPILL_DIR_PREFIX}{os.getpid()}-", dir=parent)
                # Held until cleanup: a sweeper that can take it knows the run is gone.
                self._lock_fd = os.open(os.path.join(self.dir, SPILL_LOCK), os.O_CREAT | os.O_RDWR, 0o600)
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                raise EmbedtrainError(f"cannot create a temporary directory in {parent}: "
                                      f"{exc.strerror or exc}") from None
        return os.path.join(self.dir, f"run-{next(self._names):06d}.bin")

    def write(self, keys: np.ndarray, values: np.ndarray) -> str:
        """A new run file holding ``keys`` (sorted) and their ``values``."""
        path = self._new_path()
        try:
            with open(path, "wb") as handle:
                _write_records(handle, keys, values)
        except OSError as exc:
            raise self.disk_error(exc) from None
        return path

    def disk_error(self, exc: OSError) -> EmbedtrainError:
        where = self.dir or self.tmp_dir or tempfile.gettempdir()
        if exc.errno in _NO_SPACE:
            return EmbedtrainError(
                f"no space left on the device for temporary co-occurrence files in {where}: free some "
                f"space, give --tmp-dir on a larger disk, or a larger --memory (fewer files)")
        return EmbedtrainError(f"cannot write temporary co-occurrence file in {where}: {exc.strerror or exc}")

    def cleanup(self) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def sweep_stale_spill_dirs(parent: str) -> list[str]:
    """Remove spill directories of embedtrain runs that were killed (kill -9) in ``parent``:
    only when the PID in the name is not running and nobody holds the directory's lock,
    so a live run's directory is never touched (not even one in another PID namespace)."""
    removed = []
    try:
        entries = os.listdir(parent)
    except OSError:
        return removed
    for entry in entries:
        match = _SPILL_DIR.match(entry)
        if match is None or process_alive(int(match.group(1))):
            continue
        path = os.path.join(parent, entry)
        if os.path.islink(path) or not os.path.isdir(path):
            continue
        fd = take_lock_if_free(os.path.join(path, SPILL_LOCK))
        if fd is None:
            continue
        try:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        finally:
            os.close(fd)
    return removed


class _RunReader:
    """Reads one run file block by block; ``keys``/``values`` hold the unread block."""

    def __init__(self, path: str, block: int):
        self.handle = open(path, "rb")
        self.remaining = os.fstat(self.handle.fileno()).st_size // RECORD_BYTES
        self.block = block
        self.keys = np.zeros(0, dtype=np.int64)
        self.values = np.zeros(0, dtype=np.float64)
        self._refill()

    def _refill(self) -> None:
        count = min(self.block, self.remaining)
        data = self.handle.read(count * RECORD_BYTES)
        if len(data) != count * RECORD_BYTES:
            raise EmbedtrainError("a temporary co-occurrence file was truncated (disk full?)")
        records = np.frombuffer(data, dtype=np.int64).reshape(count, 2)
        self.keys = records[:, 0].copy()
        self.values = records[:, 1].copy().view(np.float64)
        self.remaining -= count

    def take_upto(self, bound: int) -> tuple[np.ndarray, np.ndarray]:
        cut = int(np.searchsorted(self.keys, bound, side="right"))
        out = self.keys[:cut], self.values[:cut]
        self.keys, self.values = self.keys[cut:], self.values[cut:]
        if not len(self.keys) and self.remaining:
            self._refill()
        return out

    def close(self) -> None:
        self.handle.close()


def _tree_merge(runs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Merge sorted runs pairwise, summing equal keys (a fixed order: deterministic)."""
    runs = [r for r in runs if len(r[0])]
    if not runs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    while len(runs) > 1:
        merged = [kernels.merge_sum(*runs[i], *runs[i + 1]) for i in range(0, len(runs) - 1, 2)]
        if len(runs) % 2:
            merged.append(runs[-1])
        runs = merged
    return runs[0]


def _merge_files(paths: list[str], block: int, sink: Callable[[np.ndarray, np.ndarray], None]) -> None:
    """k-way merge of run files into ``sink``, summing equal keys.

    Each step takes from every buffer the keys up to the smallest last key among
    the buffers whose files still have data: no later record can be smaller, so
    those keys are final. Every step empties at least one buffer.
    """
    readers: list[_RunReader] = []
    try:
        for path in paths:
            readers.append(_RunReader(path, block))
        while True:
            live = [r for r in readers if len(r.keys)]
            if not live:
                break
            bounds = [int(r.keys[-1]) for r in live if r.remaining]
            bound = min(bounds) if bounds else np.iinfo(np.int64).max
            sink(*_tree_merge([r.take_upto(bound) for r in live]))
    finally:
        for r in readers:
            r.close()


def merge_runs(runs: _Runs, memory_gb: float, fanin: int = MERGE_FANIN) -> tuple[np.ndarray, np.ndarray]:
    """Merge every run file into one in-memory run, at most ``fanin`` files at a time."""
    if fanin < 2:
        raise ValueError("fanin must be at least 2")
    budget = memory_gb * GIGABYTE
    paths = list(runs.paths)
    while len(paths) > fanin:  # rounds: groups of `fanin` files become one file each
        block = _merge_block(budget, fanin)
        next_paths = []
        for g in range(0, len(paths), fanin):
            group = paths[g:g + fanin]
            out_path = runs._new_path()
            try:
                with open(out_path, "wb") as handle:
                    _merge_files(group, block, lambda k, v, handle=handle: _write_records(handle, k, v))
            except OSError as exc:
                raise runs.disk_error(exc) from None
            for path in group:
                os.unlink(path)
            next_paths.append(out_path)
        paths = next_paths
    pieces: list[tuple[np.ndarray, np.ndarray]] = []
    _merge_files(paths, _merge_block(budget, len(paths)), lambda k, v: pieces.append((k.copy(), v.copy())))
    for path in paths:
        os.unlink(path)
    runs.paths = []
    if not pieces:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    return (np.concatenate([k for k, _ in pieces]), np.concatenate([v for _, v in pieces]))


def merge_to_file(paths: list[str], out_path: str, memory_gb: float, tmp_dir: str | None = None,
                  fanin: int = MERGE_FANIN,
                  observe: Callable[[np.ndarray, np.ndarray], None] | None = None) -> int:
    """Merge sorted record files into ``out_path`` (summing equal keys), streaming, with
    at most ``fanin`` files open: groups are merged into private temporary files
    first. The inputs are left in place. Written under a temporary name, renamed when
    complete. Returns the records written."""
    if fanin < 2:
        raise ValueError("fanin must be at least 2")
    runs = _Runs(tmp_dir)
    budget = memory_gb * GIGABYTE
    written = [0]
    tmp = f"{out_path}.tmp-{os.getpid()}"
    try:
        while len(paths) > fanin:
            next_paths = []
            for g in range(0, len(paths), fanin):
                out = runs._new_path()
                try:
                    with open(out, "wb") as handle:
                        _merge_files(paths[g:g + fanin], _merge_block(budget, fanin),
                                     lambda k, v, handle=handle: _write_records(handle, k, v))
                except OSError as exc:
                    raise runs.disk_error(exc) from None
                next_paths.append(out)
            paths = next_paths

        def sink(keys: np.ndarray, values: np.ndarray) -> None:
            _write_records(handle, keys, values)
            written[0] += len(keys)
            if observe is not None:
                observe(keys, values)

        try:
            with open(tmp, "wb") as handle:
                _merge_files(list(paths), _merge_block(budget, max(len(paths), 1)), sink)
            os.replace(tmp, out_path)
        except OSError as exc:
            raise EmbedtrainError(f"cannot write co-occurrence partition {out_path}: "
                                  f"{exc.strerror or exc}") from None
    finally:
        runs.cleanup()
        if os.path.exists(tmp):
            os.unlink(tmp)
    return written[0]


def _merge_block(budget: float, files: int) -> int:
    # reader buffers, the pieces taken and the merge output each hold up to
    # files * block records; allow four times that.
    block = int(budget // (max(files, 1) * RECORD_BYTES * 4))
    return max(MIN_MERGE_BLOCK, min(MAX_MERGE_BLOCK, block))


# --------------------------------------------------------------------------- counting

def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def count_cooccurrences(stream, vocab: Vocab, config, *, threads: int = 1, tmp_dir: str | None = None,
                        progress: bool = True, merge_fanin: int = MERGE_FANIN) -> CooccurrenceMatrix:
    """Count the co-occurrences of ``stream`` (a corpus.TokenStream over ``vocab``).

    ``config`` supplies window, distance_weighting and memory (GB) and the
    other COUNTING_SETTINGS recorded with the matrix.
    """
    vocab_size = len(vocab)
    window = int(config.window)
    max_slots = table_slots(config.memory, threads, window)
    tables: list[_Table | None] = [None] * threads
    runs = _Runs(tmp_dir)
    started = time.perf_counter()
    # A bar on a terminal only: a log file gets the "counted co-occurrences" line instead.
    bar = tqdm(total=stream.n_tokens, unit="word", unit_scale=True, dynamic_ncols=True,
               disable=not (progress and _stderr_is_terminal()), leave=False,
               desc="counting co-occurrences")

    def work(worker: int, chunk: int) -> int:
        tokens = stream.chunk(chunk)
        table = tables[worker]
        if table is None:
            table = tables[worker] = _Table(max_slots)
        position = 0
        while True:
            before = position
            position, table.fill = kernels.count_pairs(
                tokens, position, window, bool(config.distance_weighting), vocab_size,
                table.keys, table.values, table.fill, table.max_fill)
            if position >= len(tokens):
                break
            if not table.grow():
                if position == before and table.fill == 0:  # pragma: no cover - table_slots prevents it
                    raise EmbedtrainError("--memory is too small for one partial co-occurrence table")
                runs.paths.append(runs.write(*kernels.sorted_entries(table.keys, table.values)))
                runs.written += 1
                table.clear()
        return int(stream.chunk_words[chunk + 1] - stream.chunk_words[chunk])

    try:
        run_jobs(list(range(stream.n_chunks)), work, lambda job, words: bar.update(words), threads)
        bar.close()
        finals = []
        for t in range(threads):  # one table at a time, each dropped once sorted
            if tables[t] is not None:
                finals.append(kernels.sorted_entries(tables[t].keys, tables[t].values))
                tables[t] = None
                if runs.written:  # merge everything through files, memory stays bounded
                    runs.paths.append(runs.write(*finals.pop()))
        counted = time.perf_counter()
        if runs.written:
            log.info("merging %d partial co-occurrence tables written to %s", len(runs.paths), runs.dir)
            keys, values = merge_runs(runs, config.memory, merge_fanin)
        else:
            keys, values = _tree_merge(finals)
        finals = []
    finally:
        bar.close()
        tables = []
        runs.cleanup()
    rows, cols = kernels.split_keys(keys, vocab_size)
    del keys
    done = time.perf_counter()
    settings = {name: getattr(config, name) for name in COUNTING_SETTINGS}
    stats = {"count_seconds": round(counted - started, 3), "merge_seconds": round(done - counted, 3),
             "cooccur_spills": runs.written}
    return CooccurrenceMatrix(vocab, rows, cols, values, settings, int(stream.n_tokens), stats)
