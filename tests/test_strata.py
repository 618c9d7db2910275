"""GloVe in strata (embedtrain/distributed/strata.py), without Ray: the groups, the
blocks (every visit once an epoch, no row shared within a step), and N workers
passing context rows along giving the bytes of one process that trains the same
blocks in the same order."""
from __future__ import annotations

import numpy as np
import pytest

from embedtrain.config import make_config
from embedtrain.distributed import strata
from embedtrain.families.glove import GRADSQ_NAMES, WEIGHT_NAMES, initial_arrays
from embedtrain.kernels import glove as kernels
from embedtrain.vocab import Vocab

V = 40


@pytest.fixture(scope="module")
def matrix():
    """An upper-triangle co-occurrence matrix of V words (diagonal included), with more
    entries on frequent (low) ids, as a real one has."""
    rng = np.random.default_rng(3)
    keys = set()
    while len(keys) < 300:
        i, j = sorted(rng.integers(0, V, size=2) * rng.random(2) ** 0.5 // 1)
        keys.add((int(i), int(j)))
    rows, cols = (np.array(x, dtype=np.int32) for x in zip(*sorted(keys)))
    values = rng.random(len(rows)) * 20 + 0.5
    vocab = Vocab([f"w{i}" for i in range(V)], np.arange(V, 0, -1) * 10)
    return rows, cols, values, vocab


def replicas(matrix, n, **settings):
    rows, cols, values, vocab = matrix
    config = make_config("glove", dim=8, seed=5, epochs=2, x_max=10.0, threads=1, **settings)
    groups = strata.word_groups(V, n)
    out = []
    for k in range(n):
        keep = strata.keep_entries(rows, cols, groups, k)
        out.append(strata.StrataReplica(config, vocab, k, n, rows[keep], cols[keep], values[keep]))
    return config, out


def test_groups_deal_the_words_in_a_snake():
    assert strata.word_groups(10, 3).tolist() == [0, 1, 2, 2, 1, 0, 0, 1, 2, 2]
    rows = strata.group_rows(strata.word_groups(10, 3), 3)
    assert [r.tolist() for r in rows] == [[0, 5, 6], [1, 4, 7], [2, 3, 8, 9]]
    seq = strata.block_sequence(7, 2, 5)
    assert sorted(seq.tolist()) == list(range(5))
    assert seq.tolist() == strata.block_sequence(7, 2, 5).tolist()


@pytest.mark.parametrize("n", [1, 3, 4])
def test_every_visit_once_an_epoch_and_no_row_shared_within_a_step(matrix, n):
    rows, cols, _, _ = matrix
    _, reps = replicas(matrix, n)
    groups = strata.word_groups(V, n)
    visits = []
    for step in range(n):
        shift = strata.block_sequence(5, 0, n)[step]
        word_rows, context_rows = [], []
        for rep in reps:
            group = strata.context_group(rep.index, shift, n)
            r, c = rep.entries[0], rep.entries[1]
            m = len(r)
            ids = rep.ids[rep.starts[group]:rep.starts[group + 1]].astype(np.int64)
            w = np.where(ids < m, r[ids % m], c[ids % m])
            x = np.where(ids < m, c[ids % m], r[ids % m])
            assert (groups[w] == rep.index).all() and (groups[x] == group).all()
            word_rows.append(set(w.tolist()))
            context_rows.append(set(x.tolist()))
            visits += list(zip(w.tolist(), x.tolist()))
        for a in range(n):  # the step's blocks share no word row and no context row
            for b in range(a + 1, n):
                assert not word_rows[a] & word_rows[b] and not context_rows[a] & context_rows[b]
    expected = list(zip(rows.tolist(), cols.tolist())) + list(zip(cols.tolist(), rows.tolist()))
    assert sorted(visits) == sorted(expected)  # each stored entry as itself and mirrored


def test_workers_passing_context_rows_give_one_process_bytes(matrix):
    """Three workers, each with its own arrays, exchanging context rows as the driver
    routes them, against one set of arrays that trains the same blocks in turn."""
    n = 3
    config, reps = replicas(matrix, n)
    _, mirror = replicas(matrix, n)   # the same blocks and orders, for the reference
    ref = initial_arrays(V, config.dim, config.seed)
    ref_weights = tuple(ref[k] for k in WEIGHT_NAMES)
    ref_gradsq = tuple(ref[k] for k in GRADSQ_NAMES)
    contexts = {}
    for epoch in range(config.epochs):
        shifts = strata.block_sequence(config.seed, epoch, n)
        for step in range(n):
            for rep, twin in zip(reps, mirror):
                group = strata.context_group(rep.index, shifts[step], n)
                stats, contexts[group] = strata.train_step(rep, epoch, step, contexts.get(group), 1)
                assert stats["block"] == [rep.index, group]
                twin._shuffle(epoch)
                lo, hi = twin.starts[group], twin.starts[group + 1]
                kernels.train_entries(twin.order, lo, hi, twin.entries, ref_weights, ref_gradsq, config.lr,
                                      kernels.GRAD_CLIP)
    out = finished(reps, contexts)
    for name in WEIGHT_NAMES + GRADSQ_NAMES:
        np.testing.assert_array_equal(out[name], ref[name], err_msg=name)
    # the words moved: a replica alone is not the model
    assert not np.array_equal(reps[0].arrays["word_vectors"], out["word_vectors"])


def train_steps(reps, epoch: int, steps, contexts: dict) -> None:
    """Steps ``steps`` of ``epoch`` on every replica, the context rows passed on as the
    Ray driver passes them."""
    n = len(reps)
    shifts = strata.block_sequence(reps[0].config.seed, epoch, n)
    for step in steps:
        for rep in reps:
            group = strata.context_group(rep.index, shifts[step], n)
            _, contexts[group] = strata.train_step(rep, epoch, step, contexts.get(group), 1)


def finished(reps, contexts: dict) -> dict:
    return strata.assemble(reps[0].arrays, {r.index: strata.word_rows(r) for r in reps}, contexts, len(reps))


@pytest.mark.parametrize("epoch", [0, 1])
def test_going_back_to_an_epochs_start_redoes_it_to_the_same_bytes(matrix, epoch):
    """What the Ray driver does when a worker dies in a step: every replica is reset (the
    arrays as loaded, then its word rows after the epoch before), the context rows are
    the references of the epoch's start, and the epoch's steps are trained again. In
    epoch 0 no context rows have been passed yet, so the reset is what undoes the steps
    a replica trained on its own rows (without it the bytes differ)."""
    n = 3
    _, plain = replicas(matrix, n)
    contexts = {}
    for e in range(epoch + 1):
        train_steps(plain, e, range(n), contexts)
    expected = finished(plain, contexts)

    _, reps = replicas(matrix, n)
    contexts = {}
    for e in range(epoch):
        train_steps(reps, e, range(n), contexts)
    start_words = {r.index: strata.word_rows(r) for r in reps} if epoch else {}
    start_contexts = dict(contexts)
    train_steps(reps, epoch, range(2), contexts)    # two steps, then a worker "dies"
    for rep in reps:
        rep.reset(None)
        if rep.index in start_words:
            rep.set_rows(start_words[rep.index], rep.index)
    contexts = dict(start_contexts)
    train_steps(reps, epoch, range(n), contexts)
    out = finished(reps, contexts)
    for name in WEIGHT_NAMES + GRADSQ_NAMES:
        np.testing.assert_array_equal(out[name], expected[name], err_msg=name)


def test_one_group_is_one_machines_visits(matrix):
    """One worker's one block holds every visit, in a random order of them."""
    rows, _, _, _ = matrix
    _, (rep,) = replicas(matrix, 1)
    rep._shuffle(0)
    assert sorted(rep.order.tolist()) == list(range(2 * len(rows)))
    assert rep.order.tolist() != list(range(2 * len(rows)))


def test_a_block_trains_on_several_threads(matrix):
    """With two threads (they share a block's jobs, Hogwild, when it holds more than one job)
    every visit of the block is trained once, and of the word rows only the worker's move."""
    config, reps = replicas(matrix, 2)
    rep = reps[1]
    before = rep.arrays["word_vectors"].copy()
    stats, context = strata.train_step(rep, 0, 0, None, 2)
    block = stats["block"][1]
    assert stats["words"] == rep.starts[block + 1] - rep.starts[block] > 0
    assert set(context) == set(strata.CONTEXT_ARRAYS) and set(strata.word_rows(rep)) == set(strata.WORD_ARRAYS)
    assert np.isfinite(rep.arrays["word_vectors"]).all()
    mine = rep.group_rows[1]
    others = np.setdiff1d(np.arange(V), mine)
    assert not np.array_equal(before[mine], rep.arrays["word_vectors"][mine])
    np.testing.assert_array_equal(before[others], rep.arrays["word_vectors"][others])  # only its own word rows
