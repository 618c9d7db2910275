"""The synchronisation protocol (embedtrain/distributed/sync.py) against plain loops."""
from __future__ import annotations

import numpy as np
import pytest

from embedtrain.distributed.sync import (PROTOCOLS, SIGMOID_SLOPE, ReplicaTracker, RowUpdate, combine,
                                         mean_row_ratio, split_shards, subword_rows, update_masses,
                                         word_rows)

import reference_sync as ref


def random_update(rng, n_rows, dim, k):
    rows = np.sort(rng.choice(n_rows, size=k, replace=False)).astype(np.int64)
    return RowUpdate(rows, rng.normal(size=(k, dim)).astype(np.float32),
                     rng.integers(1, 20, size=k).astype(np.float32))


def naive(updates, protocol, n_rows, dim):
    total = np.zeros((n_rows, dim))
    wsum = np.zeros(n_rows)
    touched = np.zeros(n_rows, bool)
    for u in updates:
        for r, d, w in zip(u.rows, u.delta, u.weight):
            touched[r] = True
            if protocol == "sum":
                total[r] += d
            else:
                total[r] += w * d
            wsum[r] += w
    if protocol == "mean":
        total[touched] /= wsum[touched][:, None]
    return touched, total


@pytest.mark.parametrize("protocol", ["sum", "mean"])
def test_combine_matches_a_loop(protocol):
    rng = np.random.default_rng(1)
    updates = [random_update(rng, 300, 8, k) for k in (40, 150, 0, 299)]
    out = combine(updates, protocol)
    touched, expected = naive(updates, protocol, 300, 8)
    np.testing.assert_array_equal(out.rows, np.flatnonzero(touched))
    np.testing.assert_allclose(out.delta, expected[touched], rtol=1e-5, atol=1e-6)


def scaled_loop(updates, n_rows, dim):
    """``scaled`` row by row: S * g(sum m) / sum g(m_i), g(m) = 1 - exp(-m)."""
    total, masses = np.zeros((n_rows, dim)), [[] for _ in range(n_rows)]
    for u in updates:
        for r, d, w in zip(u.rows, u.delta, u.weight):
            total[r] += d
            masses[r].append(float(w))
    for r in range(n_rows):
        if masses[r]:
            total[r] *= (1 - np.exp(-sum(masses[r]))) / sum(1 - np.exp(-m) for m in masses[r])
    return total


def test_scaled_matches_a_loop():
    rng = np.random.default_rng(4)
    updates = [random_update(rng, 200, 5, k) for k in (30, 120, 199)]
    for u in updates:
        u.weight[:] = rng.exponential(2.0, size=len(u)).astype(np.float32)
    out = combine(updates, "scaled")
    np.testing.assert_allclose(out.delta, scaled_loop(updates, 200, 5)[out.rows], rtol=2e-5, atol=1e-6)


def test_scaled_sums_light_rows_and_averages_saturated_ones():
    d = np.array([[1.0, 2.0]], np.float32)
    light = [RowUpdate(np.array([0]), d, np.array([1e-4], np.float32)) for _ in range(4)]
    heavy = [RowUpdate(np.array([0]), d, np.array([60.0], np.float32)) for _ in range(4)]
    np.testing.assert_allclose(combine(light, "scaled").delta, 4 * d, rtol=1e-3)   # linear: the sum
    np.testing.assert_allclose(combine(heavy, "scaled").delta, d, rtol=1e-5)       # arrived: the mean
    # rows nobody gave a mass (untrained output rows) keep the sum
    zero = [RowUpdate(np.array([0]), d, np.array([0.0], np.float32)) for _ in range(2)]
    np.testing.assert_allclose(combine(zero, "scaled").delta, 2 * d)


def test_update_masses_follow_counts_rate_and_norms():
    rng = np.random.default_rng(5)
    v, dim = 6, 4
    arrays = {"input_vectors": rng.normal(size=(v, dim)).astype(np.float32),
              "output_vectors": rng.normal(size=(v, dim)).astype(np.float32),
              "output_hs": np.zeros((0, dim), np.float32)}
    trained = np.array([50.0, 20.0, 5.0, 1.0, 0.0, 0.0])
    noise = np.full(v, 1.0 / v)
    m = update_masses(arrays, trained, 0.025, window=5, negative=5, noise_prob=noise, cbow=False)
    # a plain recount: skip-gram, 6 contexts per position, 5 negatives per pair
    pairs = trained.sum() * 6
    terms = trained * 6 + pairs * 5 * noise
    in_sq = float(trained @ (arrays["input_vectors"] ** 2).sum(1) / trained.sum())
    np.testing.assert_allclose(m["output_vectors"], 0.025 * SIGMOID_SLOPE * in_sq * terms, rtol=1e-6)
    h_in = SIGMOID_SLOPE * float(terms @ (arrays["output_vectors"] ** 2).sum(1)) / pairs
    np.testing.assert_allclose(m["input_vectors"], 0.025 * h_in * trained * 6, rtol=1e-6)
    # twice the rate, twice the mass; zero output vectors (the start) move input rows linearly
    m2 = update_masses(arrays, trained, 0.05, window=5, negative=5, noise_prob=noise, cbow=False)
    np.testing.assert_allclose(m2["input_vectors"], 2 * m["input_vectors"], rtol=1e-6)
    arrays["output_vectors"][:] = 0
    m0 = update_masses(arrays, trained, 0.025, window=5, negative=5, noise_prob=noise, cbow=False)
    assert not m0["input_vectors"].any()


def test_cbow_masses_see_the_mean_of_the_context_rows():
    # CBOW's output terms are trained against the mean h of about window + 1 context rows
    # (a Monte Carlo of |h|^2 over context rows drawn by frequency); every context row gets
    # the same gradient of h, so h moves as far as each row and an input row contracts as
    # in skip-gram, at about window + 1 updates an occurrence (a plain recount)
    rng = np.random.default_rng(7)
    v, dim, window, lr = 8, 5, 5, 0.05
    f = window + 1
    arrays = {"input_vectors": (rng.normal(size=(v, dim)) + 0.7).astype(np.float32),
              "output_vectors": rng.normal(size=(v, dim)).astype(np.float32),
              "output_hs": np.zeros((0, dim), np.float32)}
    trained = np.array([40.0, 30.0, 10.0, 8.0, 5.0, 4.0, 2.0, 1.0])
    noise = np.full(v, 1.0 / v)
    m = update_masses(arrays, trained, lr, window=window, negative=5, noise_prob=noise, cbow=True)
    terms = trained + trained.sum() * 5 * noise
    draws = rng.choice(v, size=(200_000, f), p=trained / trained.sum())
    h_sq = float((arrays["input_vectors"][draws].astype(np.float64).mean(axis=1) ** 2).sum(1).mean())
    np.testing.assert_allclose(m["output_vectors"], lr * SIGMOID_SLOPE * h_sq * terms, rtol=0.01)
    one_row = float(trained @ (arrays["input_vectors"] ** 2).sum(1) / trained.sum())
    assert h_sq < 0.9 * one_row   # what the skip-gram formula would have used
    h_in = SIGMOID_SLOPE * float(terms @ (arrays["output_vectors"] ** 2).sum(1)) / trained.sum()
    np.testing.assert_allclose(m["input_vectors"], lr * h_in * trained * f, rtol=1e-6)
    # the same rows everywhere: the mean of the context is that row, nothing shrinks
    arrays["input_vectors"][:] = arrays["input_vectors"][0]
    same = update_masses(arrays, trained, lr, window=window, negative=5, noise_prob=noise, cbow=True)
    row_sq = float((arrays["input_vectors"][0].astype(np.float64) ** 2).sum())
    np.testing.assert_allclose(same["output_vectors"], lr * SIGMOID_SLOPE * row_sq * terms, rtol=1e-5)


def test_fasttext_output_masses_see_the_mean_of_the_words_rows():
    # FastText's output terms are trained against h, the mean of the centre word's word
    # and n-gram rows: its squared norm, weighted by the trained occurrences of the
    # vocabulary's first `sample` words, over that of their word rows scales the output
    # masses; the input rows' masses are the skip-gram recount
    rng = np.random.default_rng(11)
    v, buckets, dim, lr = 6, 5, 4, 0.05
    inp = (rng.normal(size=(v + buckets, dim)) + 0.5).astype(np.float32)
    arrays = {"input_vectors": inp, "output_vectors": rng.normal(size=(v, dim)).astype(np.float32),
              "output_hs": np.zeros((0, dim), np.float32)}
    rows = [[0, 6, 7], [1, 8], [2], [3, 6, 9, 10], [4, 10], [5, 7, 8]]
    offsets = np.cumsum([0] + [len(r) for r in rows]).astype(np.int64)
    ids = np.concatenate(rows).astype(np.int32)
    trained = np.array([50.0, 20.0, 9.0, 5.0, 2.0, 1.0])
    noise = np.full(v, 1.0 / v)
    plain = update_masses(arrays, trained, lr, window=5, negative=5, noise_prob=noise, cbow=False)
    word_sq = np.einsum("ij,ij->i", inp[:v], inp[:v]).astype(np.float64)
    for sample, expected_words in ((4096, v), (3, 3)):
        h = np.array([inp[r].astype(np.float64).mean(0) for r in rows])
        t = trained[:expected_words]
        ratio = float(t @ (h[:expected_words] ** 2).sum(1)) / float(t @ (inp[:expected_words].astype(np.float64) ** 2).sum(1))
        assert mean_row_ratio(inp, (offsets, ids), trained, word_sq, sample=sample) == pytest.approx(ratio, rel=1e-6)
    m = update_masses(arrays, trained, lr, window=5, negative=5, noise_prob=noise, cbow=False,
                      input_rows=(offsets, ids))
    full = mean_row_ratio(inp, (offsets, ids), trained, word_sq)
    assert abs(full - 1.0) > 0.05   # the rows' mean is not the word row here
    np.testing.assert_allclose(m["output_vectors"], plain["output_vectors"] * full, rtol=1e-6)
    np.testing.assert_array_equal(m["input_vectors"], plain["input_vectors"])
    # a word whose only row is its word row: h is that row, nothing changes
    word_only = (np.arange(v + 1, dtype=np.int64), np.arange(v, dtype=np.int32))
    same = update_masses(arrays, trained, lr, window=5, negative=5, noise_prob=noise, cbow=False,
                         input_rows=word_only)
    np.testing.assert_allclose(same["output_vectors"], plain["output_vectors"], rtol=1e-6)
    # word2vec's one row per word (no row lists): the masses of before, to the bit
    none = (np.zeros(0, np.int64), np.zeros(0, np.int32))
    word2vec = update_masses(arrays, trained, lr, window=5, negative=5, noise_prob=noise, cbow=False,
                             input_rows=none)
    for name in ("output_vectors", "input_vectors"):
        np.testing.assert_array_equal(word2vec[name], plain[name])


@pytest.mark.parametrize("protocol", ["sum", "mean", "scaled"])
def test_a_row_one_worker_trained_keeps_its_whole_update(protocol):
    # Spark-style averaging would divide it by the number of workers.
    a = RowUpdate(np.array([3]), np.full((1, 4), 0.5, np.float32), np.array([7], np.float32))
    idle = RowUpdate.empty(4)
    out = combine([a, idle, idle, idle], protocol)
    np.testing.assert_array_equal(out.rows, [3])
    np.testing.assert_allclose(out.delta, a.delta)


def test_mean_weights_by_update_count():
    a = RowUpdate(np.array([0]), np.array([[1.0]], np.float32), np.array([3], np.float32))
    b = RowUpdate(np.array([0]), np.array([[5.0]], np.float32), np.array([1], np.float32))
    assert combine([a, b], "mean").delta[0, 0] == pytest.approx(2.0)
    assert combine([a, b], "sum").delta[0, 0] == pytest.approx(6.0)


@pytest.mark.parametrize("shards", [1, 2, 5])
def test_combining_shards_equals_combining_whole(shards):
    rng = np.random.default_rng(2)
    updates = [random_update(rng, 500, 3, 120) for _ in range(4)]
    whole = combine(updates, "mean")
    per_worker = [split_shards(u, shards) for u in updates]
    combined = [combine([pw[s] for pw in per_worker], "mean") for s in range(shards)]
    joined = ref.concat_shards(combined)
    np.testing.assert_array_equal(joined.rows, whole.rows)
    np.testing.assert_allclose(joined.delta, whole.delta, rtol=1e-6)
    assert sum(len(c) for c in combined) == len(whole)
    assert whole.nbytes == len(whole) * (4 + 4 + 3 * 4)


def test_subword_rows_lists_every_row_of_every_word():
    offsets = np.array([0, 2, 5, 6])
    table_rows = np.array([0, 10, 1, 10, 11, 2], np.int32)   # word 1 shares row 10 with word 0
    rows, weight = subword_rows(offsets, table_rows)(np.array([2, 3, 0]), np.array([2.0, 3.0, 0.0]))
    np.testing.assert_array_equal(rows, [0, 1, 10, 11])
    np.testing.assert_array_equal(weight, [2, 3, 5, 3])


@pytest.mark.parametrize("protocol", ["sum", "mean"])
def test_replicas_end_equal_to_base_plus_combined(protocol):
    rng = np.random.default_rng(3)
    vocab, dim = 50, 6
    base_in = rng.normal(size=(vocab, dim)).astype(np.float32)
    base_out = rng.normal(size=(vocab, dim)).astype(np.float32)
    replicas, trackers, updates = [], [], []
    for w in range(3):
        inp, out = base_in.copy(), base_out.copy()
        tracker = ReplicaTracker({"input": inp, "output": out}, {"input": word_rows, "output": None})
        counts = np.zeros(vocab, np.int64)
        words = rng.choice(vocab, size=10, replace=False)
        counts[words] = rng.integers(1, 5, size=10)
        tracker.begin(counts)
        inp[words[:8]] += rng.normal(size=(8, dim)).astype(np.float32)    # rows it trained
        out[rng.choice(vocab, 20)] += 0.1                                 # noise rows anywhere
        replicas.append((inp, out))
        trackers.append(tracker)
        updates.append(tracker.update())
    combined = {name: combine([u[name] for u in updates], protocol) for name in ("input", "output")}
    for tracker in trackers:
        tracker.apply({name: [u] for name, u in combined.items()})
    expect_in, expect_out = base_in.copy(), base_out.copy()
    expect_in[combined["input"].rows] += combined["input"].delta
    expect_out[combined["output"].rows] += combined["output"].delta
    for inp, out in replicas:
        np.testing.assert_allclose(inp, expect_in, rtol=1e-6)
        np.testing.assert_allclose(out, expect_out, rtol=1e-6)
    assert len(combined["input"]) <= 24 and len(combined["output"]) <= 60


def test_adaptive_takes_the_mean_of_equal_deltas_and_the_sum_of_independent_ones():
    d = np.array([[1.0, 2.0, 0.0]], np.float32)
    e = np.array([[0.0, 0.0, 3.0]], np.float32)   # orthogonal to d
    one = np.ones(1, np.float32)
    same = combine([RowUpdate(np.array([0]), d, one)] * 4, "adaptive")
    np.testing.assert_allclose(same.delta, d, rtol=1e-6)                 # not 4 d
    ortho = combine([RowUpdate(np.array([0]), d, one), RowUpdate(np.array([0]), e, one)], "adaptive")
    np.testing.assert_allclose(ortho.delta, d + e, rtol=1e-6)
    opposed = combine([RowUpdate(np.array([0]), d, one), RowUpdate(np.array([0]), -d, one)], "adaptive")
    np.testing.assert_allclose(opposed.delta, 0 * d, atol=1e-7)
    partly = combine([RowUpdate(np.array([0]), d, one), RowUpdate(np.array([0]), d + e, one)], "adaptive")
    assert np.linalg.norm(d) < np.linalg.norm(partly.delta) < np.linalg.norm(d + d + e)


def test_overlapped_rounds_apply_each_combination_once_and_keep_newer_training():
    """Overlapped synchronisation (workers.py, ``overlap=True``): the combination of
    round r reaches a replica after it trained round r+1 and replaces that replica's
    own round-r update; once every round is applied (settle), every replica is the
    start plus every update of every worker (``sum``), whatever it trained meanwhile."""
    rng = np.random.default_rng(5)
    vocab, dim, workers, rounds = 40, 4, 3, 5
    base_in = rng.normal(size=(vocab, dim)).astype(np.float32)
    base_out = rng.normal(size=(vocab, dim)).astype(np.float32)
    replicas = [(base_in.copy(), base_out.copy()) for _ in range(workers)]
    trackers = [ReplicaTracker({"input": i, "output": o}, {"input": word_rows, "output": None})
                for i, o in replicas]
    own = [[] for _ in range(workers)]
    expect_in, expect_out = base_in.astype(np.float64), base_out.astype(np.float64)
    pending = []
    for r in range(rounds):
        late = pending.pop(0) if len(pending) == 2 else None
        updates = []
        for w, tracker in enumerate(trackers):
            inp, out = replicas[w]
            if late is not None:
                tracker.apply_late({name: [u] for name, u in late.items()}, own[w].pop(0))
            counts = np.zeros(vocab, np.int64)
            words = rng.choice(vocab, size=6, replace=False)
            counts[words] = 1
            tracker.begin(counts)
            step_in = rng.normal(size=(6, dim)).astype(np.float32)
            step_out = np.float32(0.01) * rng.normal(size=(vocab, dim)).astype(np.float32)
            inp[words] += step_in
            out += step_out
            expect_in[words] += step_in
            expect_out += step_out
            u = tracker.update()
            own[w].append(u)
            updates.append(u)
        pending.append({name: combine([u[name] for u in updates], "sum") for name in ("input", "output")})
        if r == 1:  # before anything came back, replicas differ: each has only its own rounds
            assert not np.allclose(replicas[0][0], replicas[1][0])
    for w, tracker in enumerate(trackers):
        for late in pending:
            tracker.apply_late({name: [u] for name, u in late.items()}, own[w].pop(0))
        assert not own[w]
    for inp, out in replicas:
        np.testing.assert_allclose(inp, expect_in, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(out, expect_out, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------- the row kernels against numpy

@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_combine_kernels_match_the_numpy_reference(protocol):
    rng = np.random.default_rng(7)
    updates = [random_update(rng, 400, 12, k) for k in (50, 399, 0, 200)]
    for u in updates:
        u.weight[:] = rng.uniform(0.01, 4.0, size=len(u))
    out = combine(updates, protocol)
    rows, delta, weight = ref.combine(updates, protocol)
    np.testing.assert_array_equal(out.rows, rows)
    np.testing.assert_array_equal(out.weight, weight)
    if protocol == "adaptive":   # |delta|^2 summed in another order
        np.testing.assert_allclose(out.delta, delta, rtol=1e-5, atol=1e-7)
    else:                        # the same float32 operations in the same order
        np.testing.assert_array_equal(out.delta, delta)


@pytest.mark.parametrize("protocol", ["scaled", "sum"])
@pytest.mark.parametrize("dtype, levels", [("int16", 32767), ("int8", 127)])
def test_fixed_point_is_within_half_a_step_of_float32(protocol, dtype, levels):
    rng = np.random.default_rng(8)
    updates = [random_update(rng, 300, 20, k) for k in (120, 250)]
    updates[0].values[5] *= 1e-6                      # a row of tiny changes keeps its precision
    exact = combine(updates, protocol)
    fixed = combine(updates, protocol, dtype)
    assert fixed.values.dtype == np.dtype(dtype) and fixed.step.shape == (len(fixed),)
    np.testing.assert_array_equal(fixed.rows, exact.rows)
    big = np.abs(exact.delta).max(axis=1)
    np.testing.assert_allclose(fixed.step, big / levels, rtol=1e-6)
    assert np.abs(fixed.values).max() == levels
    # within half a step, plus float32 rounding
    assert np.all(np.abs(fixed.delta - exact.delta) <= 0.51 * fixed.step[:, None])
    assert fixed.nbytes == len(fixed) * (4 + 4 + 4 + 20 * np.dtype(dtype).itemsize) < exact.nbytes
    # decoding a fixed-point input and combining it again loses nothing more
    again = combine([fixed, RowUpdate.empty(20, dtype)], "sum")
    np.testing.assert_array_equal(again.values, fixed.values)


def test_subword_rows_match_the_reference_on_a_random_table():
    rng = np.random.default_rng(9)
    lengths = rng.integers(1, 8, size=60)
    offsets = np.r_[0, np.cumsum(lengths)]
    table_rows = rng.integers(0, 150, size=offsets[-1]).astype(np.int32)
    counts = rng.integers(0, 3, size=60)
    weight = rng.uniform(0, 2, size=60)
    rows, w = subword_rows(offsets, table_rows)(counts, weight)
    expect_rows, expect_w = ref.subword_rows(offsets, table_rows, counts, weight)
    np.testing.assert_array_equal(rows, expect_rows)
    np.testing.assert_array_equal(w, expect_w)


@pytest.mark.parametrize("dtype", ["float32", "int16", "int8"])
def test_tracker_update_comes_grouped_by_shard(dtype):
    rng = np.random.default_rng(10)
    m = rng.normal(size=(90, 7)).astype(np.float32)
    tracker = ReplicaTracker({"input": m}, {"input": word_rows}, shards=4, dtype=dtype)
    counts = rng.integers(0, 3, size=90)
    tracker.begin(counts)
    base = m.copy()
    moved = np.flatnonzero(counts)[::2]
    m[moved] += rng.normal(size=(len(moved), 7)).astype(np.float32)
    m[np.flatnonzero(counts == 0)[:3]] += 1.0      # rows it was not expected to touch: not sent
    update = tracker.update()
    shards = tracker.shards_of(update)
    rows, delta = ref.changed(m, np.flatnonzero(counts), base[np.flatnonzero(counts)])
    np.testing.assert_array_equal(np.sort(np.concatenate([s["input"].rows for s in shards])), rows)
    for s, shard in enumerate(shards):
        r = shard["input"].rows
        assert np.all(r % 4 == s) and np.all(np.diff(r) > 0)
        expect = delta[np.searchsorted(rows, r)]
        tol = 0.0 if dtype == "float32" else 0.51 * shard["input"].step[:, None]
        assert np.all(np.abs(shard["input"].delta - expect) <= tol)
        np.testing.assert_array_equal(shard["input"].weight, counts[r])
    # the slices are what splitting the whole update gives
    for a, b in zip(shards, split_shards(RowUpdate(update["input"].rows, update["input"].values,
                                                   update["input"].weight, update["input"].step), 4)):
        np.testing.assert_array_equal(a["input"].rows, b.rows)
        np.testing.assert_array_equal(a["input"].values, b.values)


def test_replicas_stay_identical_with_fixed_point_updates():
    """int16 updates: every replica ends the same (the combined, decoded deltas added to
    the same base), and within half a step per round of the float32 result."""
    rng = np.random.default_rng(11)
    vocab, dim, workers = 40, 5, 3
    start = rng.normal(size=(vocab, dim)).astype(np.float32)
    results = {}
    for dtype in ("float32", "int16"):
        local = np.random.default_rng(12)
        replicas = [start.copy() for _ in range(workers)]
        trackers = [ReplicaTracker({"m": r}, {"m": None}, shards=2, dtype=dtype) for r in replicas]
        for _ in range(3):
            shards = []
            for r, t in zip(replicas, trackers):
                t.begin(np.zeros(vocab, np.int64))
                r[local.choice(vocab, 15)] += local.normal(size=(15, dim)).astype(np.float32) * 0.1
                shards.append(t.shards_of(t.update()))
            combined = [{"m": combine([sh[s]["m"] for sh in shards], "sum")} for s in range(2)]
            for t in trackers:
                t.apply({"m": [c["m"] for c in combined]})
        for r in replicas[1:]:
            np.testing.assert_array_equal(r, replicas[0])
        results[dtype] = replicas[0]
    assert not np.array_equal(results["int16"], results["float32"])
    np.testing.assert_allclose(results["int16"], results["float32"], atol=3 * 0.3 * 3 / 32767 * 2)


def test_weighted_row_sum_is_the_float64_product_over_the_weighted_rows():
    from embedtrain.kernels.sync import weighted_row_sum

    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(9, 4)).astype(np.float32)      # rows beyond the weights: n-grams
    weights = np.array([0.0, 2.5, 0.0, 1.0, 7.0, 0.0])
    np.testing.assert_allclose(weighted_row_sum(matrix, weights), weights @ matrix[:6].astype(np.float64),
                               rtol=1e-12)


def test_average_is_the_sum_over_every_worker_divided_by_their_number():
    """GloVe's AdaGrad sums (sync.average): rows summed over the workers that moved them,
    divided by all N workers (idle ones count as zero), against a plain loop."""
    from embedtrain.distributed.sync import average

    rng = np.random.default_rng(7)
    updates = [random_update(rng, 200, 6, k) for k in (30, 0, 120, 199, 5)]
    out = average(updates)
    touched, total = naive(updates, "sum", 200, 6)
    np.testing.assert_array_equal(out.rows, np.flatnonzero(touched))
    np.testing.assert_allclose(out.delta, total[touched] / len(updates), rtol=1e-5, atol=1e-6)
    lone = average([updates[0], RowUpdate.empty(6)])  # one worker moved: half its change
    np.testing.assert_allclose(lone.delta, updates[0].delta / 2, rtol=1e-6)
    np.testing.assert_array_equal(average([updates[2]]).delta, updates[2].delta)  # one worker: unchanged


def test_reduce_shard_averages_sums_and_combines_each_array_by_its_rule():
    from embedtrain.distributed.sync import average
    from embedtrain.distributed.workers import reduce_shard

    rng = np.random.default_rng(8)
    shards = [{name: random_update(rng, 50, 4, k) for name in ("v", "s", "g")} for k in (10, 40, 25)]
    out = reduce_shard("mean", *shards, summed=("s",), averaged=("g",))
    for name, expected in (("v", combine([s["v"] for s in shards], "mean")),
                           ("s", combine([s["s"] for s in shards], "sum")),
                           ("g", average([s["g"] for s in shards]))):
        np.testing.assert_array_equal(out[name].rows, expected.rows)
        np.testing.assert_array_equal(out[name].delta, expected.delta)
    touched, total = naive([s["g"] for s in shards], "sum", 50, 4)
    np.testing.assert_allclose(out["g"].delta, total[touched] / 3, rtol=1e-5, atol=1e-6)


def test_float32_masses_filled_while_training_are_the_weights_sent():
    """GloVe's kernel adds each row's mass while it trains, after begin(): the tracker
    keeps a float32 mass array itself, so the update carries what was filled in."""
    m = np.zeros((5, 3), np.float32)
    mass = np.zeros(5, np.float32)
    tracker = ReplicaTracker({"m": m}, {"m": None})
    tracker.begin(np.zeros(5, np.int64), {"m": mass})
    m[[1, 3]] += 1.0
    mass[[1, 3]] = [0.5, 2.0]   # what the kernel adds during the round
    update = tracker.update()["m"]
    np.testing.assert_array_equal(update.rows, [1, 3])
    np.testing.assert_array_equal(update.weight, [0.5, 2.0])
