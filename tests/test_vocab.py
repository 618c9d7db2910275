"""Vocabulary: counts and order, files, subsampling, noise table, Huffman codes."""
import heapq

import numpy as np
import pytest

from embedtrain.corpus import encode
from embedtrain.errors import EmbedtrainError
from embedtrain.kernels.rng import next_state_py
from embedtrain.vocab import Vocab


def test_sorted_by_count_ties_in_first_seen_order(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text("d c b a c b a b a a\nz y\n")
    raw = encode([p])
    vocab = Vocab.build(raw.words, raw.counts, min_count=1)
    assert vocab.words == ["a", "b", "c", "d", "z", "y"]
    assert vocab.counts.tolist() == [4, 3, 2, 1, 1, 1]
    trimmed = Vocab.build(raw.words, raw.counts, min_count=2)
    assert trimmed.words == ["a", "b", "c"]
    assert Vocab.build(raw.words, raw.counts, min_count=1, max_vocab=2).words == ["a", "b"]
    raw.close()


def test_nothing_reaches_min_count():
    with pytest.raises(EmbedtrainError, match="lower --min-count"):
        Vocab.build(["a", "b"], np.array([2, 1]), min_count=5)


def test_save_and_read_vocab(tmp_path):
    vocab = Vocab(["the", "straße", "中文"], np.array([9, 4, 2]))
    vocab.save(tmp_path / "v.txt")
    assert (tmp_path / "v.txt").read_text(encoding="utf-8") == "the 9\nstraße 4\n中文 2\n"
    back = Vocab.load(tmp_path / "v.txt")
    assert back.words == vocab.words and back.counts.tolist() == [9, 4, 2]


@pytest.mark.parametrize("text,message", [("a 1\nb two\n", "line 2"), ("a 1 2\n", "line 1"),
                                          ("a 1\na 2\n", "twice"), ("\n\n", "no words")])
def test_bad_vocab_files(tmp_path, text, message):
    (tmp_path / "v.txt").write_text(text)
    with pytest.raises(EmbedtrainError, match=message):
        Vocab.load(tmp_path / "v.txt")


def test_keep_prob_matches_word2vec_formula():
    counts = np.array([1000, 100, 10, 1])
    vocab = Vocab(list("abcd"), counts)
    sample = 1e-2
    t = sample * counts.sum()
    expected = np.minimum((np.sqrt(counts / t) + 1) * t / counts, 1.0)
    np.testing.assert_allclose(vocab.keep_prob(sample), expected, rtol=1e-6)
    assert expected[0] < 0.5 and expected[-1] == 1.0  # frequent words dropped, rare kept
    assert (vocab.keep_prob(0) == 1).all()


def test_noise_table_has_the_unigram_power_distribution():
    counts = np.array([500, 120, 60, 7, 3, 1, 1])
    sampler = Vocab([str(i) for i in range(7)], counts).noise_sampler(0.75)
    target = counts ** 0.75 / (counts ** 0.75).sum()
    np.testing.assert_allclose(sampler.probabilities(), target, rtol=1e-5)
    # draws made the kernels' way follow it too
    state, hits = 42, np.zeros(7)
    for _ in range(40_000):
        state, bits = next_state_py(state)
        word = ((bits >> 32) * 7) >> 32
        if (bits & 0xFFFFFF) / (1 << 24) >= sampler.prob[word]:
            word = sampler.alias[word]
        hits[word] += 1
    np.testing.assert_allclose(hits / hits.sum(), target, atol=0.01)


def _huffman_lengths(counts):
    heap = [(c, i, (i,)) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    depth = np.zeros(len(counts), dtype=int)
    n = len(counts)
    while len(heap) > 1:
        c1, _, a = heapq.heappop(heap)
        c2, _, b = heapq.heappop(heap)
        for leaf in a + b:
            depth[leaf] += 1
        heapq.heappush(heap, (c1 + c2, n, a + b))
        n += 1
    return depth


def test_huffman_codes_are_optimal_and_prefix_free():
    rng = np.random.default_rng(1)
    counts = np.sort(rng.integers(1, 1000, 300))[::-1]
    vocab = Vocab([f"w{i}" for i in range(300)], counts)
    tree = vocab.huffman()
    codes = ["".join(map(str, tree.code(i))) for i in range(300)]
    assert len(set(codes)) == 300
    for a in codes:  # prefix-free
        assert not any(b != a and b.startswith(a) for b in codes)
    lengths = np.array([len(c) for c in codes])
    # same total cost as a textbook Huffman code
    assert (lengths * counts).sum() == (_huffman_lengths(counts) * counts).sum()
    # every path starts at the root (row V-2) and uses inner-node rows 0..V-2
    assert all(tree.path(i)[0] == 298 for i in range(300))
    assert tree.points.min() >= 0 and tree.points.max() == 298
    # frequent words get codes no longer than rare ones
    assert lengths[0] <= lengths[-1]
