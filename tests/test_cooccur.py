"""GloVe co-occurrence counting: against a brute-force count, spilling and merging
under a tiny memory cap, temporary files, and the saved matrix file."""
import errno
import gzip
import json
import zipfile

import numpy as np
import pytest

from embedtrain import cooccur
from embedtrain.io import cooc
from embedtrain.config import make_config
from embedtrain.cooccur import count_cooccurrences, table_slots
from embedtrain.io.cooc import CooccurrenceMatrix
from embedtrain.errors import EmbedtrainError, TrainingInterrupted
from embedtrain.kernels import glove as kernels
from embedtrain.training.prepare import RunOptions, prepare_corpus


# --------------------------------------------------------------------------- reference

def brute_force_counts(sentences, vocab_size, window, distance_weighting=True):
    """cooccur.c's loops, written out: every word pairs with the `window` words
    before it in its sentence, and the pair counts in both directions."""
    x = np.zeros((vocab_size, vocab_size))
    for sentence in sentences:
        for j, centre in enumerate(sentence):
            for k in range(max(0, j - window), j):
                amount = 1.0 / (j - k) if distance_weighting else 1.0
                x[sentence[k], centre] += amount
                x[centre, sentence[k]] += amount
    return x


def vocab_sentences(text, vocab):
    """The text's lines as id lists, out-of-vocabulary words dropped first (as the
    training stream does, so a window reaches past them)."""
    return [[vocab.index[w] for w in line.split() if w in vocab.index] for line in text.splitlines()]


def counted(path, tmp_dir=None, merge_fanin=cooccur.MERGE_FANIN, **settings):
    config = make_config("glove", **{"min_count": 1, "threads": 1, **settings})
    vocab, stream, _ = prepare_corpus(path, config, RunOptions(progress=False))
    with stream:
        matrix = count_cooccurrences(stream, vocab, config, threads=config.worker_threads,
                                     tmp_dir=tmp_dir, progress=False, merge_fanin=merge_fanin)
    return matrix


TINY = ("the cat sat on the mat\n"
        "the dog sat on the log the end\n"
        "cat cat cat\n"
        "a rare word then the cat\n"
        "dog\n"
        "mat the\n")


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    p = tmp_path_factory.mktemp("tiny") / "tiny.txt"
    p.write_text(TINY)
    return p


@pytest.fixture(scope="module")
def medium_corpus(tmp_path_factory, sample_text):
    """12,000 tokens of text8 in lines of 100: about 50,000 distinct pairs."""
    words = sample_text.split()[:12000]
    p = tmp_path_factory.mktemp("medium") / "medium.txt"
    p.write_text("\n".join(" ".join(words[i:i + 100]) for i in range(0, len(words), 100)) + "\n")
    return p


# --------------------------------------------------------------------------- counting

@pytest.mark.parametrize("window", [1, 2, 5])
@pytest.mark.parametrize("distance_weighting", [True, False])
def test_counts_match_brute_force(tiny_corpus, window, distance_weighting):
    m = counted(tiny_corpus, window=window, distance_weighting=distance_weighting)
    expected = brute_force_counts(vocab_sentences(TINY, m.vocab), len(m.vocab), window, distance_weighting)
    got = m.dense()
    np.testing.assert_array_equal(got != 0, expected != 0)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    assert m.nnz == np.count_nonzero(expected)
    # the stored upper triangle: row <= col, sorted by (row, col), each pair once
    assert (m.rows <= m.cols).all()
    keys = m.rows.astype(np.int64) * len(m.vocab) + m.cols
    assert (np.diff(keys) > 0).all()
    assert m.n_tokens == sum(len(s) for s in vocab_sentences(TINY, m.vocab))


def test_weights_symmetry_and_sentence_ends(tiny_corpus):
    m = counted(tiny_corpus, window=2)
    x, i = m.dense(), m.vocab.index
    np.testing.assert_array_equal(x, x.T)
    # "the cat sat on the mat" and "the dog sat on the log": "sat" is two words
    # from a "the" on either side, each time adding 1/2
    assert x[i["sat"], i["the"]] == pytest.approx(4 * 0.5)
    # a word next to itself: "cat cat cat" has two pairs at distance 1 and one at 2,
    # each counted in both directions as in cooccur.c
    assert x[i["cat"], i["cat"]] == pytest.approx(2 * (1 + 1 + 0.5))
    # never across a line end: "the end" / "cat cat cat" and "dog" / "mat the"
    assert x[i["end"], i["cat"]] == 0
    assert x[i["dog"], i["mat"]] == 0


def test_words_below_min_count_are_dropped_before_windows(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text("a x b\na b\n")
    m = counted(p, window=1, min_count=2)
    assert m.vocab.words == ["a", "b"]
    # x removed first, so a and b are neighbours twice
    assert m.dense()[0, 1] == 2.0


# --------------------------------------------------------------------------- spilling and merging

@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("distance_weighting", [False, True])
def test_spill_and_merge_gives_the_in_memory_counts(medium_corpus, tmp_path, threads, distance_weighting):
    in_memory = counted(medium_corpus, window=5, distance_weighting=distance_weighting, threads=1)
    assert in_memory.stats["cooccur_spills"] == 0
    tiny_gb = 2 * cooccur.MIN_SLOTS * cooccur.PEAK_BYTES_PER_SLOT * threads / cooccur.GIGABYTE
    spilled = counted(medium_corpus, window=5, distance_weighting=distance_weighting, threads=threads,
                      memory=tiny_gb, tmp_dir=str(tmp_path), merge_fanin=4)
    # enough partial tables for merge rounds (more than the fan-in)
    assert spilled.stats["cooccur_spills"] > 4 * 4
    np.testing.assert_array_equal(spilled.rows, in_memory.rows)
    np.testing.assert_array_equal(spilled.cols, in_memory.cols)
    if distance_weighting:  # sums of 1/d in another order: equal to rounding
        np.testing.assert_allclose(spilled.values, in_memory.values, rtol=1e-12)
    else:  # whole numbers: exactly equal
        np.testing.assert_array_equal(spilled.values, in_memory.values)
    assert list(tmp_path.iterdir()) == []  # temporary files removed after success


def _failing_writes(monkeypatch, after, exc):
    calls = []
    real = cooc._write_bytes

    def write(handle, data):
        calls.append(1)
        if len(calls) > after:
            raise exc
        real(handle, data)

    monkeypatch.setattr(cooc, "_write_bytes", write)
    return calls


def test_full_disk_while_spilling_is_a_clear_error_and_leaves_nothing(medium_corpus, tmp_path, monkeypatch):
    calls = _failing_writes(monkeypatch, 3, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(EmbedtrainError, match="no space left on the device"):
        counted(medium_corpus, window=5, memory=1e-4, tmp_dir=str(tmp_path))
    assert len(calls) > 3
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("threads", [1, 2])
def test_interrupt_while_spilling_leaves_nothing(medium_corpus, tmp_path, monkeypatch, threads):
    _failing_writes(monkeypatch, 2, KeyboardInterrupt())
    with pytest.raises((TrainingInterrupted, KeyboardInterrupt)):
        counted(medium_corpus, window=5, memory=1e-4 * threads, threads=threads, tmp_dir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_memory_too_small_for_one_table():
    with pytest.raises(EmbedtrainError, match="--memory 1e-06 GB is too small"):
        table_slots(1e-6, 2, 10)
    # the smallest table must also hold one centre's pairs
    with pytest.raises(EmbedtrainError, match="--window 5000"):
        table_slots(cooccur.MIN_SLOTS * 40 / cooccur.GIGABYTE, 1, 5000)
    assert table_slots(4.0, 2, 15) >= 1 << 20


# --------------------------------------------------------------------------- kernels

def test_merge_sum_against_numpy():
    rng = np.random.default_rng(3)
    a = np.unique(rng.integers(0, 500, 200))
    b = np.unique(rng.integers(0, 500, 300))
    va, vb = rng.random(len(a)), rng.random(len(b))
    keys, values = kernels.merge_sum(a, va, b, vb)
    expected_keys = np.union1d(a, b)
    expected = np.zeros(500)
    np.add.at(expected, a, va)
    np.add.at(expected, b, vb)
    np.testing.assert_array_equal(keys, expected_keys)
    np.testing.assert_allclose(values, expected[expected_keys], rtol=1e-15)


@pytest.mark.parametrize("top", [1000, 5000, 1 << 40])  # radix passes: 1, 2 (even), 5
def test_sorted_entries_sorts_the_table(top):
    rng = np.random.default_rng(4)
    table_keys = np.full(1 << 12, kernels.EMPTY_KEY, dtype=np.int64)
    table_values = np.zeros(1 << 12)
    chosen = np.unique(rng.integers(0, top, 2000)).astype(np.int64)
    table_keys[rng.choice(1 << 12, len(chosen), replace=False)] = chosen
    table_values[table_keys != kernels.EMPTY_KEY] = table_keys[table_keys != kernels.EMPTY_KEY] * 0.5
    keys, values = kernels.sorted_entries(table_keys, table_values)
    np.testing.assert_array_equal(keys, np.sort(chosen))
    np.testing.assert_array_equal(values, keys * 0.5)


# --------------------------------------------------------------------------- the matrix file

def test_save_and_load_round_trip(tiny_corpus, tmp_path):
    m = counted(tiny_corpus, window=3)
    path = m.save(tmp_path / "m.cooc")
    back = CooccurrenceMatrix.load(path)
    assert back.vocab.words == m.vocab.words
    np.testing.assert_array_equal(back.vocab.counts, m.vocab.counts)
    for name in ("rows", "cols", "values"):
        np.testing.assert_array_equal(getattr(back, name), getattr(m, name))
    assert back.settings == m.settings and back.settings["window"] == 3
    assert back.n_tokens == m.n_tokens
    with zipfile.ZipFile(path) as zf:  # numpy can open it too
        assert json.loads(zf.read("meta.json"))["format"] == "embedtrain-cooccur"
    with np.load(path) as npz:
        np.testing.assert_array_equal(npz["values"], m.values)


def test_load_rejects_what_is_not_a_matrix(tiny_corpus, tmp_path):
    text = tmp_path / "plain.txt"
    text.write_text("hello\n")
    gz = tmp_path / "corpus.gz"
    gz.write_bytes(gzip.compress(b"a b c\n"))
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("meta.json", json.dumps({"format": "embedtrain-model"}))
    for path in (text, gz, other_zip):
        with pytest.raises(EmbedtrainError, match="is not an embedtrain co-occurrence file"):
            CooccurrenceMatrix.load(path)
    with pytest.raises(EmbedtrainError, match="does not exist"):
        CooccurrenceMatrix.load(tmp_path / "missing.cooc")
    # right format, wrong content: an id beyond the vocabulary
    m = counted(tiny_corpus, window=3)
    m.cols = m.cols.copy()
    m.cols[-1] = len(m.vocab) + 5
    m.save(tmp_path / "bad.cooc")
    with pytest.raises(EmbedtrainError, match="damaged co-occurrence file"):
        CooccurrenceMatrix.load(tmp_path / "bad.cooc")
