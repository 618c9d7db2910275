"""floret (--floret): MurmurHash3 against golden values and references, each word's table
rows against a plain-Python reference, trained vectors as the mean of their rows, the
.floret export read by spaCy (``spacy init vectors --mode floret``) giving our vectors,
the rows of the floret package itself, and bad input."""
from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import embedtrain
from embedtrain.cli import main
from embedtrain.config import FastTextConfig
from embedtrain.errors import ConfigError, EmbedtrainError
from embedtrain.floret import FLORET_HASH_SEED, floret_hashes, floret_strings, floret_table
from embedtrain.models import FastTextModel, Model
from embedtrain.vectors import FloretVectors

import reference_floret as ref

# MurmurHash3_x64_128 keys (h1 low, h1 high, h2 low, h2 high) with floret's seed, as
# spaCy's Vectors._get_ngram_hashes gives them (spaCy 3.8, murmurhash's C code).
GOLDEN = {
    "": (3262466624, 277172068, 371838263, 1319709105),
    "a": (3866313536, 178567642, 3873701348, 1228511562),
    "<the>": (2595341338, 2331835178, 1044867836, 779827009),
    "<king>": (1998971074, 3647965632, 37781911, 3452933800),
    "ing": (3623562494, 2262800719, 330316395, 2988732678),
    "abcdefghijklmnop": (2050495325, 3192433632, 4014104513, 3045375784),      # one whole block
    "<abcdefghijklmnopq>": (3586528964, 1275929204, 3339736687, 2406048912),   # block + 3-byte tail
    "<café>": (364877610, 3577021900, 2582911068, 1477601738),
    "<Москва>": (4047977202, 751710081, 2446912880, 1068516929),               # 14 bytes: both tails
    "中文字": (94959043, 193548474, 1375968601, 3713919293),
}
WORDS = ["the", "a", "ab", "king", "kingdom", "café", "naïveté", "Москва", "中文字", "x" * 40]
UNSEEN = ["computerz", "unhappinessly", "café", "Москва", "中文字", "qj", "ab\U0001F600cd"]
SMALL = dict(model="fasttext", floret=True, bucket=5000, hash_count=2, dim=16, epochs=2, threads=1,
             min_count=2, progress=False, seed=5)


def spacy_or_skip():
    """spaCy is in the test extra (CI installs it); skipped only where it is not installed."""
    return pytest.importorskip("spacy", reason="spaCy is not installed (pip install -e '.[test]')")


# ----------------------------------------------------------------------------- hashing

@pytest.mark.parametrize("text", list(GOLDEN))
def test_hash_golden_values(text):
    assert tuple(int(k) for k in floret_hashes(text)) == GOLDEN[text]
    assert tuple(ref.keys(text, 4, FLORET_HASH_SEED)) == GOLDEN[text]
    assert list(floret_hashes(text, 2)) == list(GOLDEN[text][:2])


def test_hash_matches_reference_and_spacy_on_random_strings():
    rng = random.Random(3)
    alphabet = "abcxyz<>éü日本\U0001F600"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(300)]
    for seed in (FLORET_HASH_SEED, 0, 12345):
        for text in texts:
            assert list(floret_hashes(text, 4, seed)) == ref.keys(text, 4, seed), (text, seed)
    try:
        from spacy.vectors import Vectors
    except ImportError:
        return
    spacy_vectors = Vectors(mode="floret", data=np.zeros((7, 2), dtype=np.float32), minn=3, maxn=5,
                            hash_count=4, hash_seed=FLORET_HASH_SEED)
    for text in texts:
        assert list(floret_hashes(text)) == spacy_vectors._get_ngram_hashes(text), text


@pytest.mark.parametrize("minn,maxn,bucket,hash_count", [(3, 6, 50_000, 2), (2, 4, 97, 1), (4, 5, 1000, 4),
                                                         (3, 3, 10, 3)])
def test_table_rows_match_reference(minn, maxn, bucket, hash_count):
    table = floret_table(WORDS, minn, maxn, bucket, hash_count)
    assert len(table) == len(WORDS)
    for i, word in enumerate(WORDS):
        got = [int(r) for r in table.of(i)]
        # floret's order: <word>, then fastText's n-grams (by start, then length)
        assert got == [k % bucket for s in floret_strings(word, minn, maxn)
                       for k in ref.keys(s, hash_count, FLORET_HASH_SEED)], word
        # the same rows as spaCy lists them (by length, then start)
        assert sorted(got) == sorted(ref.spacy_order_rows(word, minn, maxn, bucket, hash_count,
                                                          FLORET_HASH_SEED)), word


# ----------------------------------------------------------------------------- training

@pytest.fixture(scope="module")
def floret_model(small_corpus):
    return embedtrain.train(small_corpus, **SMALL)


@pytest.fixture(scope="module")
def floret_files(floret_model, tmp_path_factory):
    prefix = tmp_path_factory.mktemp("floret") / "small"
    _, etm = floret_model.save(prefix)
    return {"prefix": prefix, "model": etm}


def full_table(model) -> np.ndarray:
    return model.ngrams.lookup(np.arange(model.config.bucket))


def test_no_word_rows_and_vectors_are_means_of_hashed_rows(floret_model):
    m = floret_model
    assert isinstance(m, FastTextModel) and isinstance(m.vectors, FloretVectors)
    assert m.input_vectors.shape == (len(m.ngram_buckets), 16)     # the table's used rows alone
    assert m.output_vectors.shape == (len(m.vocab), 16)
    table = full_table(m)
    c = m.config
    trained = 0
    for word in m.vocab.words[:50] + UNSEEN:
        rows = ref.spacy_order_rows(word, c.minn, c.maxn, c.bucket, c.hash_count, FLORET_HASH_SEED)
        expected = ref.mean_rows(table, rows)
        np.testing.assert_allclose(m.vectors[word], expected, rtol=1e-5, atol=1e-7, err_msg=word)
        trained += word in m.vocab.words
    assert trained == 50
    # training moved the rows: a vocabulary word is not its initial mean
    from embedtrain.ngram_rows import initial_rows

    word = m.vocab.words[0]
    rows = ref.spacy_order_rows(word, c.minn, c.maxn, c.bucket, c.hash_count, FLORET_HASH_SEED)
    assert not np.allclose(m.vectors[word], ref.mean_rows(initial_rows(np.array(rows), 16, c.seed),
                                                          list(range(len(rows)))), atol=1e-4)


def test_model_file_round_trip(floret_model, floret_files):
    loaded = Model.load(floret_files["model"])
    assert loaded.config.floret and loaded.config.hash_count == 2
    for word in floret_model.vocab.words[:20] + UNSEEN:
        np.testing.assert_array_equal(loaded[word], floret_model[word])
    assert loaded.subwords("king")[0] == "<king>"


def test_cli_vectors_and_similar_for_unseen_words(floret_model, floret_files):
    result = CliRunner().invoke(main, ["vectors", str(floret_files["model"])], input="computerz\nthe\n")
    assert result.exit_code == 0, result.output
    for line in result.stdout.splitlines():
        word, *values = line.split(" ")
        np.testing.assert_allclose(np.array(values, dtype=np.float32), floret_model[word], rtol=1e-5,
                                   atol=1e-6)
    result = CliRunner().invoke(main, ["similar", str(floret_files["model"]), "computerz", "--json"])
    assert result.exit_code == 0, result.output
    assert "computerz" not in floret_model.vocab.words
    best = floret_model.most_similar("computerz", topn=3)
    assert [w for w, _ in best][0] in result.stdout


# ----------------------------------------------------------------------------- spaCy

def test_spacy_reads_the_export_and_gives_our_vectors(floret_model, floret_files, tmp_path):
    spacy = spacy_or_skip()
    out = tmp_path / "vectors.floret"
    result = CliRunner().invoke(main, ["export", str(floret_files["model"]), "--format", "floret",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    c = floret_model.config
    header = out.open(encoding="utf-8").readline().split()
    assert header == [str(x) for x in (c.bucket, c.dim, c.minn, c.maxn, c.hash_count, FLORET_HASH_SEED)] + ["<", ">"]
    target = tmp_path / "spacy_vectors"
    init = subprocess.run([sys.executable, "-m", "spacy", "init", "vectors", "en", str(out), str(target),
                           "--mode", "floret"], capture_output=True, text=True)
    assert init.returncode == 0, init.stderr
    vectors = spacy.load(target).vocab.vectors
    assert vectors.shape == (c.bucket, c.dim)
    np.testing.assert_array_equal(vectors.data, full_table(floret_model))   # 9 digits: exact
    words = floret_model.vocab.words[:200] + UNSEEN
    theirs = vectors.get_batch(words)
    ours = np.stack([floret_model[w] for w in words])
    np.testing.assert_allclose(theirs, ours, rtol=1e-5, atol=1e-6 * np.abs(ours).max())


# ----------------------------------------------------------------------------- floret itself

def test_rows_match_the_floret_package(small_corpus, tmp_path):
    """The floret binary's own input matrix, read through our rows, gives its word vectors."""
    floret = pytest.importorskip("floret", reason="the floret package is not installed (optional peer)")
    # epoch=0: the rows as floret initialised them, which is all the mapping needs (floret's
    # training, as fastText's, can stop with "Encountered NaN" at random)
    m = floret.train_unsupervised(str(small_corpus), model="skipgram", mode="floret", hashCount=3,
                                  bucket=997, dim=8, epoch=0, minCount=3, minn=3, maxn=5, thread=1,
                                  verbose=0)
    matrix = m.get_input_matrix()
    nwords = len(m.words)
    assert matrix.shape == (nwords + 997, 8)
    # floret keeps the own row of word 0 (meant for '</s>', src/dictionary.cc initNgrams),
    # whatever word that is (its .floret table cannot hold it), and gives '</s>' zeros: neither compared
    words = [w for w in m.words[1:30] if w != "</s>"] + UNSEEN
    for word in words:
        rows = floret_table([word], 3, 5, 997, 3).rows
        np.testing.assert_allclose(matrix[nwords + rows].mean(axis=0), m.get_word_vector(word),
                                   rtol=1e-5, atol=1e-6, err_msg=word)


# ----------------------------------------------------------------------------- bad input

def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def one_line_error(result, message):
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert lines[0].startswith("embedtrain: error: ")


@pytest.mark.parametrize("args,message", [
    (["--model", "fasttext", "--floret", "--hash-count", "0"], "--hash-count must be at least 1"),
    (["--model", "fasttext", "--floret", "--hash-count", "5"], "--hash-count must be at most 4"),
    (["--model", "skipgram", "--floret"], "--floret does not apply to --model skipgram"),
    (["--model", "glove", "--hash-count", "2"], "--hash-count does not apply to --model glove"),
    (["--model", "fasttext", "--floret", "--minn", "1"], "--floret needs character n-grams"),
    (["--model", "fasttext", "--floret", "--maxn", "0"], "--floret needs character n-grams"),
    (["--model", "fasttext", "--hash-count", "3"], "--hash-count applies with --floret only"),
])
def test_bad_train_input_is_one_line(small_corpus, tmp_path, args, message):
    one_line_error(run("train", small_corpus, "-o", tmp_path / "out", *args), message)
    assert not list(tmp_path.iterdir())  # nothing written


def test_hash_count_default_comes_with_floret():
    assert FastTextConfig(floret=True).hash_count == 2 and FastTextConfig().hash_count is None


@pytest.mark.parametrize("settings,message", [
    (dict(hash_count=0), "--hash-count must be at least 1"),
    (dict(hash_count=5), "--hash-count must be at most 4"),
    (dict(minn=1), "--floret needs character n-grams"),
    (dict(floret=False, hash_count=3), "--hash-count applies with --floret only"),
])
def test_library_refuses_what_the_cli_refuses(settings, message):
    with pytest.raises(ConfigError, match=message):
        FastTextConfig(**{"floret": True, **settings})
    with pytest.raises(EmbedtrainError, match=message):
        embedtrain.train(["a b c"], **{**SMALL, **settings})


def test_export_refuses_other_models_and_writes_nothing(small_corpus, floret_files, tmp_path):
    plain = embedtrain.train(small_corpus, **{**SMALL, "floret": False, "hash_count": None})
    _, etm = plain.save(tmp_path / "plain")
    out = tmp_path / "v.floret"
    one_line_error(run("export", etm, "--format", "floret", "-o", out), "trained without --floret")
    one_line_error(run("export", tmp_path / "plain.vec", "--format", "floret", "-o", out),
                   "is not an embedtrain model file")
    one_line_error(run("export", floret_files["model"], "--format", "floret", "-o", out, "--limit", "5"),
                   "--limit and --normalize do not apply to floret")
    one_line_error(run("export", floret_files["model"], "--format", "fasttext-bin", "-o", out),
                   "--format floret")
    assert not out.exists() and not list(tmp_path.glob("v.floret*"))


def test_continue_keeps_the_table_rows_and_output_rows(tmp_path):
    """--continue: the table rows the model stored and the old words' output rows carry over;
    the rows only new words reach start as a fresh run over the grown vocabulary starts them."""
    from embedtrain.families import family_of

    old_text, new_text = tmp_path / "old.txt", tmp_path / "new.txt"
    old_text.write_text("the lion and the tiger of the savanna hunt\n" * 30)
    new_text.write_text("zebroid quagga okapi zebroid the of and\n" * 30)
    first = embedtrain.train(old_text, **{**SMALL, "bucket": 100_000, "min_count": 1, "threads": 1})
    continued = embedtrain.train(new_text, init=first, progress=False, threads=1, epochs=1)
    assert continued.config.floret and continued.config.hash_count == first.config.hash_count
    assert "zebroid" in continued.vocab.index
    family = family_of("fasttext")
    layout = family.layout(continued.config, continued.vocab)
    grown = family.grown_arrays(first, continued.config, continued.vocab, layout)
    fresh = family.fresh_arrays(continued.config, continued.vocab, layout)
    buckets = layout[1]
    at = np.searchsorted(buckets, first.ngram_buckets)
    np.testing.assert_array_equal(grown["input_vectors"][at], first.input_vectors)
    new = np.setdiff1d(np.arange(len(buckets)), at)
    assert len(new)
    np.testing.assert_array_equal(grown["input_vectors"][new], fresh["input_vectors"][new])
    for word in first.vocab.words:
        np.testing.assert_array_equal(grown["output_vectors"][continued.vocab.index[word]],
                                      first.output_vectors[first.vocab.index[word]])
    # the continued model's vectors are still the means of its hashed rows
    c, table = continued.config, full_table(continued)
    for word in ["zebroid", "computerz"]:
        rows = ref.spacy_order_rows(word, c.minn, c.maxn, c.bucket, c.hash_count, FLORET_HASH_SEED)
        np.testing.assert_allclose(continued[word], ref.mean_rows(table, rows), rtol=1e-5, atol=1e-7)


def test_ray_is_refused_before_ray_starts():
    with pytest.raises(EmbedtrainError, match="--floret does not train on Ray yet"):
        embedtrain.train(["a b c"], **{**SMALL, "ray": "local"})


def test_an_interrupted_run_resumes_to_the_same_bytes(small_corpus, tmp_path):
    """A checkpoint of a floret run (table rows, no word rows) resumes to the uninterrupted bytes."""
    from conftest import StopAtEpoch, StopTraining

    settings = {**SMALL, "threads": 1, "epochs": 2}
    whole = embedtrain.train(small_corpus, **settings)
    ckpt = tmp_path / "run.ckpt"
    with pytest.raises(StopTraining):
        embedtrain.train(small_corpus, checkpoint=ckpt, checkpoint_every=1e-9, callbacks=[StopAtEpoch(1)],
                         **settings)
    resumed = embedtrain.train(small_corpus, resume=str(ckpt), progress=False)
    assert resumed.config.floret
    for name in ("input_vectors", "output_vectors", "ngram_buckets"):
        np.testing.assert_array_equal(resumed.arrays[name], whole.arrays[name])
