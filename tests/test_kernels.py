"""One step of each word2vec kernel against the plain-numpy reference."""
import zlib

import numpy as np
import pytest

from embedtrain.config import CommonConfig
from embedtrain.corpus import SENTENCE_END
from embedtrain.kernels import common as c
from embedtrain.kernels import sgns
from embedtrain.training.sgns import identity_rows
from embedtrain.vocab import HuffmanTree, Vocab

from reference import train_sentence

DEFAULT_DIM = CommonConfig().dim

COUNTS = np.array([40, 25, 12, 9, 5, 3, 2], dtype=np.int64)
WORDS = [f"w{i}" for i in range(len(COUNTS))]
SENTENCE = np.array([0, 3, 1, 0, 5, 2, 6, 4, 1, 0], dtype=np.int32)


def word2vec_chunk(arch, tokens, inp, out, out_hs, keep, noise, tree, window, negative, use_hs,
                   lr, words_done, total, state, rows=None):
    """The word2vec kernel as the word2vec driver calls it (one row per word)."""
    sig, logsig = c.sigmoid_tables()
    tables = (keep, noise.prob, noise.alias, tree.offsets, tree.codes, tree.points, sig, logsig)
    code = {"skipgram": sgns.SKIPGRAM, "skipgram_shared": sgns.SKIPGRAM_SHARED, "cbow": sgns.CBOW}[arch]
    params = (code, window, negative, use_hs, False,
              lr, c.WORD2VEC_LR_FLOOR, c.WORD2VEC_LR_OFFSET, words_done, total)
    return sgns.train_chunk(tokens, (inp, out, out_hs), rows or identity_rows(len(keep)), tables,
                            params, state)


def _setup(seed, dim=8):
    rng = np.random.default_rng(seed)
    vocab = Vocab(WORDS, COUNTS)
    v = len(vocab)
    inp = rng.uniform(-0.5, 0.5, (v, dim)).astype(np.float32)
    out = rng.uniform(-0.5, 0.5, (v, dim)).astype(np.float32)
    out_hs = rng.uniform(-0.5, 0.5, (v - 1, dim)).astype(np.float32)
    return vocab, inp, out, out_hs


@pytest.mark.parametrize("arch", ["skipgram", "cbow"])
@pytest.mark.parametrize("negative,use_hs", [(3, False), (0, True), (2, True), (5, False), (5, True)])
@pytest.mark.parametrize("sample", [0.0, 0.05])
def test_kernel_step_matches_reference(arch, negative, use_hs, sample):
    # a seed of the parameters that is the same in every process (hash() of a str is not)
    vocab, inp, out, out_hs = _setup(seed=zlib.crc32(repr((arch, negative, use_hs)).encode()) % 1000)
    keep = vocab.keep_prob(sample)
    noise = vocab.noise_sampler(0.75)
    tree = vocab.huffman()
    lr, window, state0 = 0.4, 3, 123456789

    ref = [a.astype(np.float64) for a in (inp, out, out_hs)]
    ref_state = train_sentence(arch, SENTENCE, *ref, keep, noise.prob, noise.alias, tree,
                               window, negative, use_hs, lr, state0)

    got = [a.copy() for a in (inp, out, out_hs)]
    rng_state = np.array([state0], dtype=np.uint64)
    tokens = np.append(SENTENCE, np.int32(SENTENCE_END))
    words, loss, examples = word2vec_chunk(arch, tokens, *got, keep, noise, tree, window, negative,
                                           use_hs, lr, 0, 10**12, rng_state)
    assert words == len(SENTENCE)
    assert examples > 0 and np.isfinite(loss) and loss > 0
    assert int(rng_state[0]) == ref_state  # same random draws, in the same order
    for name, before, after, expected in zip(("input", "output", "output_hs"), (inp, out, out_hs), got, ref):
        change, ref_change = after - before, expected - before
        if not (use_hs or name != "output_hs") or (negative == 0 and name == "output"):
            assert not change.any(), f"{name} should not change"
            continue
        assert np.abs(ref_change).max() > 1e-3, f"reference made no {name} update"
        # the kernel reads the sigmoid from word2vec's 1000-entry table: 0.5% tolerance
        np.testing.assert_allclose(change, ref_change, rtol=0, atol=5e-3 * np.abs(ref_change).max() + 1e-6,
                                   err_msg=f"{arch} {name}")


@pytest.mark.parametrize("sample", [0.0, 0.05])
@pytest.mark.parametrize("negative", [1, 3, 5])
def test_shared_negative_kernel_step_matches_reference(sample, negative):
    """SKIPGRAM_SHARED (pWord2Vec's HogBatch) against its plain-numpy reference (negative 5
    takes the kernel's path for word2vec's default)."""
    vocab, inp, out, out_hs = _setup(seed=77 + negative)
    keep, noise, tree = vocab.keep_prob(sample), vocab.noise_sampler(0.75), HuffmanTree.empty(len(vocab))
    lr, window, state0 = 0.4, 3, 987654321
    tokens = np.append(np.tile(SENTENCE, 2), np.int32(SENTENCE_END))
    ref = [a.astype(np.float64) for a in (inp, out, out_hs[:0])]
    ref_state = train_sentence("skipgram_shared", tokens[:-1], *ref, keep, noise.prob, noise.alias, tree,
                               window, negative, False, lr, state0)
    got = [a.copy() for a in (inp, out, out_hs[:0])]
    rng_state = np.array([state0], dtype=np.uint64)
    words, loss, examples = word2vec_chunk("skipgram_shared", tokens, *got, keep, noise, tree, window,
                                           negative, False, lr, 0, 10**12, rng_state)
    assert words == len(tokens) - 1 and examples > 0 and np.isfinite(loss) and loss > 0
    assert int(rng_state[0]) == ref_state  # one draw per window for the window, negative per centre
    for name, before, after, expected in zip(("input", "output"), (inp, out), got, ref):
        change, ref_change = after - before, expected - before
        assert np.abs(ref_change).max() > 1e-3, f"reference made no {name} update"
        np.testing.assert_allclose(change, ref_change, rtol=0, atol=5e-3 * np.abs(ref_change).max() + 1e-6,
                                   err_msg=name)
    # and it is not the per-pair kernel
    per_pair = [a.copy() for a in (inp, out, out_hs[:0])]
    word2vec_chunk("skipgram", tokens, *per_pair, keep, noise, tree, window, negative, False, lr, 0,
                   10**12, np.array([state0], dtype=np.uint64))
    assert not np.allclose(per_pair[1], got[1], atol=1e-3)


def test_learning_rate_decays_linearly_to_floor():
    def lr(done, total):
        return c.learning_rate(0.025, c.WORD2VEC_LR_FLOOR, c.WORD2VEC_LR_OFFSET, done, total)

    assert lr(0, 1000) == pytest.approx(0.025, rel=1e-3)
    assert lr(500, 1000) == pytest.approx(0.0125, rel=1e-2)
    assert lr(10**6, 10**6) == pytest.approx(0.025 * c.WORD2VEC_LR_FLOOR, rel=1e-2)
    # fastText's schedule reaches zero, and the Python twin agrees with the kernel
    assert c.learning_rate(0.05, c.FASTTEXT_LR_FLOOR, c.FASTTEXT_LR_OFFSET, 10**6, 10**6) == 0.0
    for done in (0, 123, 999, 1000):
        assert c.learning_rate(0.025, 1e-4, 1.0, done, 1000) == pytest.approx(
            0.025 * c.schedule_fraction(done, 1000, 1e-4, 1.0), rel=1e-6)


def test_sigmoid_tables_are_sigmoid():
    sig, logsig = c.sigmoid_tables()
    x = np.linspace(-c.MAX_EXP, c.MAX_EXP, c.SIGMOID_TABLE_SIZE + 1)
    np.testing.assert_allclose(sig, 1 / (1 + np.exp(-x)), atol=1e-6)
    np.testing.assert_allclose(logsig, np.log(sig.astype(np.float64)), atol=1e-5)
    # table_index maps a value to its nearest grid point
    for f in (-5.99, -1.0, 0.0, 0.3, 5.99):
        assert abs(x[c.table_index(f)] - f) <= c.MAX_EXP / c.SIGMOID_TABLE_SIZE + 1e-9


def test_empty_sentences_and_separators_are_skipped():
    vocab, inp, out, out_hs = _setup(seed=3)
    noise = vocab.noise_sampler(0.75)
    tree = vocab.huffman()
    tokens = np.array([-1, 0, -1, -1, 1, 2, -1], dtype=np.int32)
    state = np.array([5], dtype=np.uint64)
    words, _, examples = word2vec_chunk("skipgram", tokens, inp, out, out_hs, np.ones(7, np.float32),
                                        noise, tree, 2, 2, False, 0.025, 0, 100, state)
    assert words == 3
    assert examples == 2  # only the pair (1, 2) in both directions; the lone 0 has no context


@pytest.mark.parametrize("arch", ["skipgram", "cbow"])
def test_one_row_fast_path_equals_explicit_rows(arch):
    """word2vec's convention (empty rows: word w is row w) gives the same bytes as
    listing every word's single row, which is what FastText's path does."""
    vocab, inp, out, out_hs = _setup(seed=11)
    noise, tree, keep = vocab.noise_sampler(0.75), vocab.huffman(), vocab.keep_prob(0.05)
    tokens = np.append(np.tile(SENTENCE, 3), np.int32(SENTENCE_END))
    explicit = (np.arange(len(vocab) + 1, dtype=np.int64), np.arange(len(vocab), dtype=np.int32))
    results = []
    for rows in (None, explicit):
        got = [a.copy() for a in (inp, out, out_hs)]
        state = np.array([42], dtype=np.uint64)
        word2vec_chunk(arch, tokens, *got, keep, noise, tree, 3, 2, True, 0.3, 0, 1000, state, rows)
        results.append((got, int(state[0])))
    (fast, s1), (slow, s2) = results
    assert s1 == s2
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(fast[0], inp)  # it trained


def test_window_zero_uses_the_whole_line_and_draws_nothing():
    vocab, inp, out, out_hs = _setup(seed=5)
    noise, tree = vocab.noise_sampler(0.75), HuffmanTree.empty(len(vocab))
    keep = np.ones(len(vocab), np.float32)
    tokens = np.append(SENTENCE, np.int32(SENTENCE_END))
    state = np.array([9], dtype=np.uint64)
    _, _, examples = word2vec_chunk("skipgram", tokens, inp.copy(), out.copy(), out_hs[:0].copy(),
                                    keep, noise, tree, 0, 1, False, 0.1, 0, 100, state)
    n = len(SENTENCE)
    assert examples == n * (n - 1)  # every ordered pair of the line
    # with negative 1 the only draws are one noise word per pair
    expected = 9
    from embedtrain.kernels.rng import next_state_py
    for _ in range(n * (n - 1)):
        expected, _ = next_state_py(expected)
    assert int(state[0]) == expected


def test_shuffle_lines_permutes_each_line():
    from embedtrain.kernels.common import shuffle_sentence

    sentence = np.arange(50, dtype=np.int32)
    state = shuffle_sentence(sentence, 40, np.uint64(3))
    assert sorted(sentence[:40]) == list(range(40)) and list(sentence[40:]) == list(range(40, 50))
    assert not np.array_equal(sentence[:40], np.arange(40))
    again = np.arange(50, dtype=np.int32)
    assert shuffle_sentence(again, 40, np.uint64(3)) == state
    np.testing.assert_array_equal(again, sentence)  # seeded: the same permutation


@pytest.mark.parametrize("arch,negative,use_hs", [("skipgram", 2, False), ("cbow", 0, True)])
def test_nan_weights_give_a_nan_loss_not_a_crash(arch, negative, use_hs):
    vocab, inp, out, out_hs = _setup(seed=4)
    inp[:] = np.nan
    noise, tree = vocab.noise_sampler(0.75), vocab.huffman()
    tokens = np.append(SENTENCE, np.int32(SENTENCE_END))
    state = np.array([1], dtype=np.uint64)
    words, loss, _ = word2vec_chunk(arch, tokens, inp, out, out_hs, np.ones(len(vocab), np.float32),
                                    noise, tree, 3, negative, use_hs, 0.1, 0, 100, state)
    assert words == len(SENTENCE) and np.isnan(loss)
    assert np.isfinite(out).all() and np.isfinite(out_hs).all()  # NaN never reached a table index


def test_epoch_decay_schedule_starts_each_epoch_on_the_linear_one(monkeypatch):
    """--epoch-decay 0.5 (gensim's corpus_file schedule at 2 workers): each epoch starts where
    the linear schedule stands and falls half an epoch's share; the kernel sees the same rate."""
    from types import SimpleNamespace

    from embedtrain.config import make_config
    from embedtrain.families import word2vec

    vocab = Vocab(WORDS, COUNTS)
    captured = []
    monkeypatch.setattr(sgns, "train_chunk", lambda tokens, w, r, t, params, s: captured.append(params))
    for decay in (1.0, 0.5):
        config = make_config("skipgram", epochs=4, epoch_decay=decay, lr=0.1)
        task = word2vec.WORD2VEC.make_task(config, vocab, word2vec.initial_arrays(config, len(vocab)), 0, None)
        task.units_per_epoch, task.epochs = 1000, 4
        task.stream = SimpleNamespace(chunk_words=np.array([0, 600]), chunk=lambda job: None)
        for units, linear_frac in ((0, 0.0), (1000, 0.25), (3000, 0.75)):
            assert task.lr_at(units) == pytest.approx(0.1 * (1 - units / 4001))  # epoch starts
        mid = task.lr_at(1600)  # 60% into epoch 2
        assert mid == pytest.approx(0.1 * (1 - (1000 + decay * 600) / 4001))
        captured.clear()
        task.run_job(1, 1, np.array([1], dtype=np.uint64))
        *_, lr_start, floor, offset, done, total = captured[0]
        assert c.learning_rate(lr_start, floor, offset, done, total) == pytest.approx(mid, rel=1e-6)
        # and 300 words further into the chunk, the kernel's rate falls decay x 300 words' worth
        assert c.learning_rate(lr_start, floor, offset, done + 300, total) == pytest.approx(
            0.1 * (1 - (1000 + decay * 900) / 4001), rel=1e-6)
    assert task.lr_at(4000) == pytest.approx(0.1 * (1 - 3500 / 4001))  # gensim never reaches the floor


def test_init_bound_scales_the_initial_vectors():
    from embedtrain.families.word2vec import init_input_vectors

    a = init_input_vectors(500, 10, seed=3)
    b = init_input_vectors(500, 10, seed=3, bound=1.0)
    np.testing.assert_array_equal(b, 2 * a)
    assert a.max() < 0.05 and a.min() >= -0.05 and b.max() > 0.09


def test_a_chunk_with_rows_of_two_lengths_is_refused_before_the_kernel_reads_them():
    """The kernel is compiled for one rows' length and reads rows without bounds checks, so
    weights whose rows differ in length never reach it."""
    vocab, inp, out, out_hs = _setup(seed=2, dim=8)
    keep, noise, tree = vocab.keep_prob(0.0), vocab.noise_sampler(0.75), HuffmanTree.empty(len(vocab))
    tokens = np.append(SENTENCE, np.int32(SENTENCE_END))
    before = out.copy()
    with pytest.raises(ValueError, match="rows differ in length"):
        word2vec_chunk("cbow", tokens, inp, out[:, :6].copy(), out_hs[:0], keep, noise, tree, 3, 5,
                       False, 0.05, 0, 10**6, np.array([1], dtype=np.uint64))
    np.testing.assert_array_equal(out, before)
    # the same rows, one length: trained
    word2vec_chunk("cbow", tokens, inp, out, out_hs[:0], keep, noise, tree, 3, 5, False, 0.05, 0, 10**6,
                   np.array([1], dtype=np.uint64))
    assert not np.array_equal(out, before)


@pytest.mark.parametrize("arch,most", [(sgns.SKIPGRAM_SHARED, 16), (sgns.CBOW, 0)])
def test_six_row_loops_count_no_references_in_their_bodies(monkeypatch, arch, most):
    """numba counts a reference (an atomic add, and its release) for a row view or an array
    handed to a helper, unless it can prove it needless; in the six-row loops that cost skip-gram
    12 % of a core (docs/benchmarks.md, "Skip-gram's pair loop without row views"), and on an
    array every thread shares (the noise table's alias column, read inside a branch of
    losses.draw_noise: once for each noise word drawn) it costs more with two threads, whose
    cores pass the count's cache line back and forth ("A count on the noise table, every draw").
    Compiled afresh (a cached kernel has no IR), the kernel's own body calls NRT_incref at most
    ``most`` times, all in its entry block: skip-gram once for each argument, CBOW never. With the
    row views back, skip-gram's body had 43; with the alias read in the branch, one in the loop.
    At the default rows' length, a constant of the kernel: at toy lengths (12 and below) LLVM
    unrolls CBOW's loops whole, and numba's pass that pairs the counts then leaves 29."""
    from conftest import kernel_increfs

    monkeypatch.setattr(sgns, "KERNEL_OPTIONS", dict(sgns.KERNEL_OPTIONS, cache=False))
    key = sgns.kernel_key(arch, False, 5, True, DEFAULT_DIM)
    assert key[4], "not the six-row loop"
    kernel = sgns._make_kernel(*key)
    vocab, inp, out, out_hs = _setup(seed=5, dim=DEFAULT_DIM)
    keep, noise, tree = vocab.keep_prob(0.0), vocab.noise_sampler(0.75), HuffmanTree.empty(len(vocab))
    sig, logsig = c.sigmoid_tables()
    tables = (keep, noise.prob, noise.alias, tree.offsets, tree.codes, tree.points, sig, logsig)
    params = (arch, 3, 5, False, False, 0.05, c.WORD2VEC_LR_FLOOR, c.WORD2VEC_LR_OFFSET, 0, 10**12)
    tokens = np.append(SENTENCE, np.int32(SENTENCE_END))
    kernel(tokens, (inp, out, out_hs[:0]), identity_rows(len(vocab)), tables, params,
           np.array([1], dtype=np.uint64), sgns.scratch_arrays(len(tokens), inp.shape[1], 5))
    calls, past_entry = kernel_increfs("".join(kernel.inspect_llvm().values()), "_train_chunk")
    assert calls <= most
    # none after the entry block: no reference counted per window, per row or per noise word
    assert past_entry == 0
