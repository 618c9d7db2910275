"""One step of each word2vec kernel against the plain-numpy reference."""
import numpy as np
import pytest

from embedtrain.kernels import word2vec as k
from embedtrain.vocab import Vocab

from reference import train_sentence

COUNTS = np.array([40, 25, 12, 9, 5, 3, 2], dtype=np.int64)
WORDS = [f"w{i}" for i in range(len(COUNTS))]
SENTENCE = np.array([0, 3, 1, 0, 5, 2, 6, 4, 1, 0], dtype=np.int32)


def _setup(seed, dim=8):
    rng = np.random.default_rng(seed)
    vocab = Vocab(WORDS, COUNTS)
    v = len(vocab)
    inp = rng.uniform(-0.5, 0.5, (v, dim)).astype(np.float32)
    out = rng.uniform(-0.5, 0.5, (v, dim)).astype(np.float32)
    out_hs = rng.uniform(-0.5, 0.5, (v - 1, dim)).astype(np.float32)
    return vocab, inp, out, out_hs


@pytest.mark.parametrize("arch", ["skipgram", "cbow"])
@pytest.mark.parametrize("negative,use_hs", [(3, False), (0, True), (2, True)])
@pytest.mark.parametrize("sample", [0.0, 0.05])
def test_kernel_step_matches_reference(arch, negative, use_hs, sample):
    vocab, inp, out, out_hs = _setup(seed=hash((arch, negative, use_hs)) % 1000)
    keep = vocab.keep_prob(sample)
    noise = vocab.noise_sampler(0.75)
    tree = vocab.huffman()
    sig, logsig = k.sigmoid_tables()
    lr, window, state0 = 0.4, 3, 123456789

    ref = [a.astype(np.float64) for a in (inp, out, out_hs)]
    ref_state = train_sentence(arch, SENTENCE, *ref, keep, noise.prob, noise.alias, tree,
                               window, negative, use_hs, lr, state0)

    got = [a.copy() for a in (inp, out, out_hs)]
    rng_state = np.array([state0], dtype=np.uint64)
    kernel = k.skipgram if arch == "skipgram" else k.cbow
    tokens = np.append(SENTENCE, np.int32(k.SENTENCE_END))
    words, loss, examples = kernel(tokens, *got, keep, noise.prob, noise.alias, tree.offsets,
                                   tree.codes, tree.points, window, negative, use_hs, lr, 0,
                                   10**12, rng_state, sig, logsig)
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


def test_learning_rate_decays_linearly_to_floor():
    assert k.learning_rate(0.025, 0, 1000) == pytest.approx(0.025, rel=1e-3)
    assert k.learning_rate(0.025, 500, 1000) == pytest.approx(0.0125, rel=1e-2)
    assert k.learning_rate(0.025, 10**6, 10**6) == pytest.approx(0.025 * k.MIN_LR_FRACTION, rel=1e-2)


def test_sigmoid_tables_are_sigmoid():
    sig, logsig = k.sigmoid_tables()
    x = np.linspace(-k.MAX_EXP, k.MAX_EXP, k.SIGMOID_TABLE_SIZE + 1)
    np.testing.assert_allclose(sig, 1 / (1 + np.exp(-x)), atol=1e-6)
    np.testing.assert_allclose(logsig, np.log(sig.astype(np.float64)), atol=1e-5)
    # table_index maps a value to its nearest grid point
    for f in (-5.99, -1.0, 0.0, 0.3, 5.99):
        assert abs(x[k.table_index(f)] - f) <= k.MAX_EXP / k.SIGMOID_TABLE_SIZE + 1e-9


def test_empty_sentences_and_separators_are_skipped():
    vocab, inp, out, out_hs = _setup(seed=3)
    noise = vocab.noise_sampler(0.75)
    tree = vocab.huffman()
    sig, logsig = k.sigmoid_tables()
    tokens = np.array([-1, 0, -1, -1, 1, 2, -1], dtype=np.int32)
    state = np.array([5], dtype=np.uint64)
    words, _, examples = k.skipgram(tokens, inp, out, out_hs, np.ones(7, np.float32), noise.prob,
                                    noise.alias, tree.offsets, tree.codes, tree.points, 2, 2, False,
                                    0.025, 0, 100, state, sig, logsig)
    assert words == 3
    assert examples == 2  # only the pair (1, 2) in both directions; the lone 0 has no context
