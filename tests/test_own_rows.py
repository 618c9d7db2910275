"""Hogwild threads that keep the most frequent words' rows as their own
(training/own_rows.py): the merge kernel against numpy, the thread's copy of the task (same
training on renamed words), the executor's rows, and training."""
from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

import embedtrain
from embedtrain.config import make_config
from embedtrain.corpus import SENTENCE_END
from embedtrain.io.checkpoint import Checkpoint
from embedtrain.kernels import sgns as kernels
from embedtrain.kernels.replicas import merge_own_rows
from embedtrain.training import prepare
from embedtrain.training.own_rows import OwnRowsExecutor, own_row_count
from embedtrain.training.sgns import SgnsTask, identity_rows
from embedtrain.vocab import NoiseSampler, Vocab

from conftest import StopAtEpoch, StopTraining


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


def test_own_row_count_leaves_shared_rows():
    assert own_row_count(1000, 64) == 64
    assert own_row_count(64, 64) == 0 and own_row_count(10, 64) == 0 and own_row_count(1000, 0) == 0


# ---------------------------------------------------------------- the thread's copy of the task
V, OWN, DIM = 40, 7, 8
COUNTS = np.array(sorted(np.random.default_rng(5).integers(3, 400, V), reverse=True), dtype=np.int64)


def _task(model, arch, rows, arrays, tokens, negative=0):
    """A skip-gram-family task on one chunk of ``tokens``, as the families build one."""
    config = make_config(model, dim=DIM, window=3, negative=negative, hs=True, epochs=1, min_count=1)
    vocab = Vocab([f"w{i}" for i in range(V)], COUNTS)
    stream = SimpleNamespace(n_tokens=len(tokens), n_chunks=1, chunk_words=np.array([0]),
                             chunk=lambda job: tokens)
    keep = np.linspace(1.0, 0.3, V).astype(np.float32)    # subsampling draws: the same in both
    return SgnsTask(model, config, vocab, arrays, arch=arch, rows=rows, keep_prob=keep, use_hs=True,
                    lr_floor=1e-4, lr_offset=0.0, stream=stream)


def _tokens(seed):
    rng = np.random.default_rng(seed)
    words = rng.choice(V, size=400, p=COUNTS / COUNTS.sum()).astype(np.int32)
    words[::37] = SENTENCE_END
    return words


def _fasttext_rows(seed):
    rng = np.random.default_rng(seed)
    lists = [[w] + sorted(V + rng.choice(11, size=rng.integers(0, 4), replace=False)) for w in range(V)]
    offsets = np.zeros(V + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(x) for x in lists])
    return offsets, np.concatenate(lists).astype(np.int32)


@pytest.mark.parametrize("model,arch,fasttext", [("cbow", kernels.CBOW, False),
                                                 ("skipgram", kernels.SKIPGRAM, False),
                                                 ("cbow", kernels.CBOW, True),
                                                 ("skipgram", kernels.SKIPGRAM_CENTRE, True)])
def test_a_copy_with_own_rows_trains_the_same(model, arch, fasttext):
    """Hierarchical softmax (nothing drawn but the window and subsampling): the copy that
    names words 0..OWN-1 by rows after the vocabulary's trains exactly what the task trains,
    into those rows; word2vec through its input rows, FastText through its row lists and
    Huffman paths alone."""
    rng = np.random.default_rng(1)
    rows_total = V + 11 if fasttext else V
    arrays = {"input_vectors": rng.uniform(-0.5, 0.5, (rows_total, DIM)).astype(np.float32),
              "output_vectors": np.zeros((0, DIM), np.float32),
              "output_hs": rng.uniform(-0.5, 0.5, (V - 1, DIM)).astype(np.float32)}
    rows = _fasttext_rows(2) if fasttext else identity_rows(V)
    tokens = _tokens(3)
    plain = _task(model, arch, rows, {k: a.copy() for k, a in arrays.items()}, tokens)
    copied = {k: a.copy() for k, a in arrays.items()}
    base = _task(model, arch, rows, copied, tokens)
    gap = 5                                           # a thread after another's rows
    first = V + gap
    if fasttext:
        thread = base.with_own_rows({}, OWN, first)
    else:
        longer = np.full((first + OWN, DIM), np.nan, dtype=np.float32)
        longer[:V] = arrays["input_vectors"]
        longer[first:] = arrays["input_vectors"][:OWN]
        longer[:OWN] = np.nan                         # the first rows: thread 0's, not read here
        thread = base.with_own_rows({"input_vectors": longer}, OWN, first)
    assert thread is not None and base.token_map is None
    # the lists are the task's, their offsets the copy's own
    assert thread.rows.ids is base.rows.ids and thread.tables.hs_points is base.tables.hs_points
    # what the copy must not read any more: the moved words' entries under their old ids
    thread.tables.keep_prob[:OWN] = 0.0                # would drop every one of them
    if fasttext:                                       # their old lists: the row between
        thread.rows.offsets[:OWN] = thread.rows.offsets[V]
    thread.tables.hs_offsets[:OWN] = thread.tables.hs_offsets[V]
    got = plain.run_job(0, 0, np.array([9], dtype=np.uint64))
    assert thread.run_job(0, 0, np.array([9], dtype=np.uint64)) == got
    assert got[2] > 0
    want = plain.arrays
    assert np.array_equal(thread.arrays["output_hs"], want["output_hs"])
    assert not np.array_equal(want["output_hs"], arrays["output_hs"])      # it trained
    if fasttext:
        assert np.array_equal(copied["input_vectors"], want["input_vectors"])
    else:
        assert np.array_equal(longer[first:], want["input_vectors"][:OWN])   # the copies trained
        assert np.isnan(longer[:OWN]).all()                                  # nor read the first rows
        assert np.array_equal(longer[OWN:V], want["input_vectors"][OWN:])
        assert np.isnan(longer[V:first]).all()                               # another thread's
        assert not np.array_equal(want["input_vectors"][:OWN], arrays["input_vectors"][:OWN])


def test_a_copy_draws_the_same_noise_distribution():
    tokens = _tokens(3)
    arrays = {"input_vectors": np.zeros((V, DIM), np.float32), "output_vectors": np.zeros((V, DIM), np.float32),
              "output_hs": np.zeros((V - 1, DIM), np.float32)}
    task = _task("cbow", kernels.CBOW, identity_rows(V), arrays, tokens, negative=5)
    longer = {k: np.zeros((V + 3 + OWN, DIM), np.float32) for k in ("input_vectors", "output_vectors")}
    thread = task.with_own_rows(longer, OWN, V + 3)
    want = NoiseSampler(task.tables.noise_prob, task.tables.noise_alias).probabilities()
    got = NoiseSampler(thread.tables.noise_prob, thread.tables.noise_alias).probabilities()
    assert len(got) == V + 3 + OWN
    np.testing.assert_allclose(got[V + 3:], want[:OWN], rtol=1e-6)
    np.testing.assert_allclose(got[OWN:V], want[OWN:], rtol=1e-6, atol=1e-12)
    assert np.all(got[:OWN] < 1e-9) and np.all(got[V:V + 3] < 1e-9)
    # tokens, subsampling, Huffman paths by the new names
    assert np.array_equal(thread.token_map[tokens], np.where((tokens >= 0) & (tokens < OWN), tokens + V + 3, tokens))
    assert np.array_equal(thread.tables.keep_prob[V + 3:], task.tables.keep_prob[:OWN])
    for w in range(OWN):
        t, o = thread.tables, task.tables
        new = V + 3 + w
        assert np.array_equal(t.hs_points[t.hs_offsets[new]:t.hs_offsets[new + 1]],
                              o.hs_points[o.hs_offsets[w]:o.hs_offsets[w + 1]])
        assert np.array_equal(t.hs_codes[t.hs_offsets[new]:t.hs_offsets[new + 1]],
                              o.hs_codes[o.hs_offsets[w]:o.hs_offsets[w + 1]])
    # word2vec reads input rows by word: without its input matrix there is no copy
    assert task.with_own_rows({"output_vectors": longer["output_vectors"]}, OWN, V + 3) is None
    # nor with copies inside the words' rows or right after them, or arrays too short
    assert task.with_own_rows(longer, OWN, V - 1) is None and task.with_own_rows(longer, OWN, V) is None
    assert task.with_own_rows({k: a[:V + 3 + OWN - 1] for k, a in longer.items()}, OWN, V + 3) is None


# ---------------------------------------------------------------- the executor
class _Task:
    """What the executor needs of a task: its arrays, the names of those whose rows the
    threads keep, and copies training other arrays."""

    def __init__(self, arrays, own=("out",)):
        self.arrays = arrays
        self.own_rows_arrays = own
        self.first = None

    def use_array(self, name, array):
        self.arrays[name] = array

    def with_own_rows(self, arrays, own, first):
        other = _Task({**self.arrays, **arrays}, self.own_rows_arrays)
        other.first = first
        return other


def test_threads_train_copies_after_the_rows():
    values = np.arange(1000 * 16, dtype=np.float32).reshape(1000, 16)
    task = _Task({"out": values.copy()})
    executor = OwnRowsExecutor(3, 64)
    first, second, third = executor.bind(task)
    assert executor.own_rows == 64
    master, longer = task.arrays["out"], second.arrays["out"]
    assert first is task and np.array_equal(master, values) and master.flags.c_contiguous
    assert longer.shape == (1000 + 1 + 2 * 64, 16) and third.arrays["out"] is longer
    assert master.base is longer and np.shares_memory(master, longer[:1000])
    assert (second.first, third.first) == (1001, 1065)     # a row between: never trained
    executor.run([], lambda w, j: None, lambda j, r: None, lambda: False)   # copies take the rows
    assert np.array_equal(longer[1001:1065], values[:64]) and np.array_equal(longer[1065:], values[:64])
    longer[500, 3] = -1.0          # a shared row: the same memory
    assert master[500, 3] == -1.0


def test_jobs_merge_the_own_rows():
    task = _Task({"out": np.zeros((1000, 16), dtype=np.float32),
                  "in": np.zeros((1000, 16), dtype=np.float32),
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
            row = tasks[worker].first if worker else 0
            array[row] += step       # row 0 (the thread's copy): only the merges reach the master
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
        assert np.all(master[0] == step * 40)     # every job's step counted once
        assert np.array_equal(master[100:140, 0], np.arange(40, dtype=np.float32))
        assert np.array_equal(tasks[1].arrays[name][1001], master[0])   # the copy took the sum back


@pytest.mark.parametrize("arrays", [
    {"out": np.ones((1000, 16), dtype=np.float32), "in": np.ones((1500, 16), dtype=np.float32)},  # not a row a word
    {"out": np.ones((1000, 16), dtype=np.float64), "in": np.ones((1000, 16), dtype=np.float64)},
])
def test_every_row_shared_where_rows_cannot_be_kept(arrays):
    task = _Task(dict(arrays), own=("out", "in"))
    executor = OwnRowsExecutor(2, 64)
    assert executor.bind(task) == [task, task]
    assert executor.own_rows == 0 and all(task.arrays[k] is arrays[k] for k in arrays)
    ran = []
    assert executor.run(range(5), lambda w, j: ran.append(j), lambda j, r: None, lambda: False) == 5
    assert sorted(ran) == list(range(5))


def test_every_row_shared_when_the_task_cannot_copy():
    task = _Task({"out": np.ones((1000, 16), dtype=np.float32)})
    task.with_own_rows = lambda arrays, own, first: None
    original = task.arrays["out"]
    executor = OwnRowsExecutor(2, 64)
    assert executor.bind(task) == [task, task] and task.arrays["out"] is original


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
        # the model keeps the first rows of the longer array the threads trained
        longer = array.base is not None and array.base.shape[0] == array.shape[0] + 1 + 64
        assert longer == (name in names), name
    # one thread: plain Hogwild, no own rows
    one = embedtrain.train(str(corpus), model=model, dim=16, threads=1, epochs=1, min_count=1, seed=1,
                           progress=False)
    assert "own_rows" not in one.stats


def test_two_threads_checkpoint_the_words_rows_and_resume(small_corpus, monkeypatch, tmp_path):
    # a checkpoint holds the model's V rows, not the second thread's copies after them; a run
    # resumed from it keeps rows of its own again
    monkeypatch.setattr(prepare, "OWN_ROWS", 64)
    settings = dict(model="cbow", dim=16, threads=2, epochs=3, min_count=1, seed=1, progress=False)
    ckpt = tmp_path / "run.ckpt"
    with pytest.raises(StopTraining):
        embedtrain.train(str(small_corpus), checkpoint=ckpt, checkpoint_every=1e-9,
                         callbacks=[StopAtEpoch(2)], **settings)
    saved = Checkpoint.load(ckpt)
    words = len(saved.vocab)
    assert words > 64 and all(saved.arrays[name].shape == (words, 16)
                              for name in ("input_vectors", "output_vectors"))
    resumed = embedtrain.train(str(small_corpus), resume=ckpt, **settings)
    assert resumed.stats["own_rows"] == 64 and resumed.stats["resumed_from_checkpoint"]["epoch"] >= 2
    for name in ("input_vectors", "output_vectors"):
        array = resumed.arrays[name]
        assert array.shape == (words, 16) and np.isfinite(array).all()
        assert not np.array_equal(array, saved.arrays[name])     # it trained on


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
