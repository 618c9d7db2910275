"""Hogwild threads that keep the most frequent words' output rows as their own
(training/own_rows.py): the merge kernel against numpy, the threads' views, and training."""
from __future__ import annotations

import mmap
import threading
import time

import numpy as np
import pytest

import embedtrain
from embedtrain.kernels.replicas import merge_own_rows
from embedtrain.training import own_rows as own_rows_module
from embedtrain.training import prepare
from embedtrain.training.own_rows import OwnRowsExecutor, own_row_count

pytestmark = pytest.mark.skipif(not own_rows_module.supported(), reason="needs Linux's memfd_create")


def test_merge_matches_numpy():
    rng = np.random.default_rng(3)
    master, own, snapshot = (rng.standard_normal((50, 7)).astype(np.float32) for _ in range(3))
    want_master = master.copy()
    want_master[:20] = master[:20] + (own[:20] - snapshot[:20])
    untouched_own, untouched_snapshot = own[20:].copy(), snapshot[20:].copy()
    merge_own_rows(master, own, snapshot, 20)
    assert np.array_equal(master, want_master)
    assert np.array_equal(own[:20], want_master[:20]) and np.array_equal(snapshot[:20], want_master[:20])
    # rows past the thread's own are not touched
    assert np.array_equal(own[20:], untouched_own) and np.array_equal(snapshot[20:], untouched_snapshot)


@pytest.mark.parametrize("dim", [16, 100, 300, 7])
def test_own_rows_fill_whole_pages(dim):
    rows = own_row_count(1_000_000, dim, 1000)
    assert rows >= 1000 and rows * dim * 4 % mmap.PAGESIZE == 0
    step = mmap.PAGESIZE // np.gcd(dim * 4, mmap.PAGESIZE)
    assert rows - 1000 < step
    # nothing left to share: no own rows
    assert own_row_count(rows, dim, 1000) == 0


class _Task:
    """What the executor needs of a task: its arrays, the names of those whose rows the
    threads keep, and copies training other arrays."""

    def __init__(self, arrays, own=("out",)):
        self.arrays = arrays
        self.own_rows_arrays = own

    def use_array(self, name, array):
        self.arrays[name] = array

    def with_arrays(self, arrays):
        return _Task({**self.arrays, **arrays}, self.own_rows_arrays)


def test_views_share_all_but_the_own_rows():
    values = np.arange(1000 * 16, dtype=np.float32).reshape(1000, 16)
    task = _Task({"out": values.copy()})
    executor = OwnRowsExecutor(2, 64)
    first, second = executor.bind(task)
    assert executor.own_rows == 64
    master, view = task.arrays["out"], second.arrays["out"]
    assert first is task and master is not values and np.array_equal(master, values)
    assert view.shape == values.shape and view.flags.c_contiguous and view.flags.writeable
    executor.run([], lambda w, j: None, lambda j, r: None, lambda: False)   # views take the rows
    assert np.array_equal(view, values)
    view[500, 3] = -1.0          # a shared row: the master sees it at once
    assert master[500, 3] == -1.0
    master[700, 0] = -2.0
    assert view[700, 0] == -2.0
    view[10, 0] = -3.0           # the thread's own row: the master does not
    assert master[10, 0] == values[10, 0]


def test_jobs_merge_the_own_rows():
    # two arrays of different lengths, as the output rows and FastText's longer input rows
    task = _Task({"out": np.zeros((1000, 16), dtype=np.float32),
                  "in": np.zeros((1500, 16), dtype=np.float32),
                  "other": np.zeros((1000, 16), dtype=np.float32)}, own=("out", "in"))
    executor = OwnRowsExecutor(2, 64)
    tasks = executor.bind(task)
    assert executor.own_arrays == ("out", "in")
    assert tasks[1].arrays["other"] is task.arrays["other"]   # an array not named: shared as it is
    counts = [0, 0]
    lock = threading.Lock()

    def work(worker, job):
        for name, step in (("out", 1.0), ("in", 2.0)):
            array = tasks[worker].arrays[name]
            if worker:
                array[0] += step     # an own row: only the merges reach the master
            array[100 + job] = job   # a shared row, one per job
        with lock:
            counts[worker] += 1
        time.sleep(0.002)        # both threads take jobs
        return job

    done = []
    assert executor.run(range(40), work, lambda j, r: done.append(j), lambda: False) == 40
    assert sorted(done) == list(range(40)) and counts[1] > 0
    for name, step in (("out", 1.0), ("in", 2.0)):
        master = task.arrays[name]
        assert np.all(master[0] == step * counts[1])     # every merge counted once
        assert np.array_equal(master[100:140, 0], np.arange(40, dtype=np.float32))
        assert np.array_equal(tasks[1].arrays[name][0], master[0])   # the view took the sum back


def test_no_views_where_they_cannot_be_made(monkeypatch):
    task = _Task({"out": np.ones((1000, 16), dtype=np.float32)})
    original = task.arrays["out"]

    def refuse(*_):
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(own_rows_module.os, "memfd_create", refuse)
    executor = OwnRowsExecutor(2, 64)
    assert executor.bind(task) == [task, task]
    assert executor.own_rows == 0 and task.arrays["out"] is original
    ran = []
    assert executor.run(range(5), lambda w, j: ran.append(j), lambda j, r: None, lambda: False) == 5
    assert sorted(ran) == list(range(5))


@pytest.mark.parametrize("model", ["cbow", "skipgram", "fasttext"])
def test_two_threads_train_with_own_rows(small_corpus, monkeypatch, model):
    monkeypatch.setattr(prepare, "OWN_ROWS", 64)
    corpus = small_corpus
    trained = embedtrain.train(str(corpus), model=model, dim=16, threads=2, epochs=2, min_count=1, seed=1,
                               progress=False)
    assert trained.stats["own_rows"] == 64
    # word2vec: the input rows too; FastText: the output rows only
    names = ("output_vectors",) if model == "fasttext" else ("output_vectors", "input_vectors")
    for name in ("output_vectors", "input_vectors"):
        array = trained.arrays[name]
        assert np.isfinite(array).all() and np.abs(array[:64]).max() > 0 and np.abs(array[64:]).max() > 0
        # the model keeps the master (memory-mapped), not a copy
        base = array
        while isinstance(base, np.ndarray) and base.base is not None:
            base = base.base
        assert isinstance(base.obj if isinstance(base, memoryview) else base, mmap.mmap) == (name in names), name
    # one thread: plain Hogwild, no own rows
    one = embedtrain.train(str(corpus), model=model, dim=16, threads=1, epochs=1, min_count=1, seed=1,
                           progress=False)
    assert "own_rows" not in one.stats


def test_too_few_words_for_own_rows(small_corpus):
    # 159 words seen 20 times: the default's 4,096 rows would leave none shared, so every row is
    trained = embedtrain.train(str(small_corpus), model="cbow", dim=16, threads=2, epochs=1,
                               min_count=20, seed=1, progress=False)
    assert "own_rows" not in trained.stats


def test_more_threads_share_every_row(small_corpus, monkeypatch):
    monkeypatch.setattr(prepare, "OWN_ROWS", 64)
    threads = prepare.OWN_ROWS_THREADS + 1
    trained = embedtrain.train(str(small_corpus), model="cbow", dim=16, threads=threads, epochs=1,
                               min_count=1, seed=1, progress=False)
    assert trained.stats["threads"] == threads and "own_rows" not in trained.stats


def _anon_kb():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    pytest.skip("no RssAnon in /proc/self/status")


def test_free_memory_goes_back_before_training():
    # 25 MB of the C heap freed under one block still in use at its top: glibc keeps it
    # resident until malloc_trim, which prepare calls before training
    blocks = [bytearray(64 * 1024) for _ in range(400)]
    for block in blocks:
        block[::4096] = b"x" * len(block[::4096])     # resident
    last = blocks[-1]
    del blocks
    before = _anon_kb()
    prepare.return_free_memory()
    after = _anon_kb()
    assert before - after > 10 * 1024, (before, after)
    assert last[0] == ord("x")


def test_no_output_rows_no_own_rows(small_corpus):
    # hierarchical softmax alone: no output rows of negative sampling, so every row is shared
    trained = embedtrain.train(str(small_corpus), model="cbow", dim=16, threads=2, epochs=1, min_count=1,
                               seed=1, hs=True, negative=0, progress=False)
    assert trained.stats["threads"] == 2 and "own_rows" not in trained.stats
