"""Quantised classifiers (fastText's quantize, .ftz): the product quantiser and the
pruning against plain-numpy references of fastText's code, the .ftz we write loaded by
the fasttext package, a .ftz the fasttext package wrote read by us, the quantised .etm,
and bad input."""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import reference_quantize as ref
from embedtrain.cli.app import main
from embedtrain.classify.data import EOS
from embedtrain.classify.model import Classifier, train
from embedtrain.classify.quantization import quantize, select_rows
from embedtrain.classify.quantmatrix import QuantMatrix, product_quantize
from embedtrain.errors import EmbedtrainError

TOPICS = {
    "sport": "match goal team score player coach league café stadium referee",
    "food": "recipe bake oven sugar flour naïve taste dinner kitchen spoon",
    "tech": "computer code software chip 日本 network server data bug cloud",
}
SHARED = "the a of and is in it this very with".split()


def _corpus(n: int, seed: int) -> str:
    rng = random.Random(seed)
    names = sorted(TOPICS)
    out = []
    for _ in range(n):
        topic = rng.choice(names)
        words = rng.choices(TOPICS[topic].split(), k=3) + rng.choices(SHARED, k=3)
        words.append(f"rare{rng.randrange(300)}")     # many rows with few updates
        rng.shuffle(words)
        out.append(f"__label__{topic} " + " ".join(words))
    return "\n".join(out) + "\n"


def _many_labels(n_labels: int, seed: int) -> str:
    """Each of n_labels labels with its own two words: enough output rows for --qout."""
    rng = random.Random(seed)
    lines = []
    for _ in range(3):
        for k in range(n_labels):
            words = [f"w{k}a", f"w{k}b"] + rng.choices(SHARED, k=2)
            rng.shuffle(words)
            lines.append(f"__label__L{k} " + " ".join(words))
    rng.shuffle(lines)
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("quantize")
    (d / "train.txt").write_text(_corpus(600, 1), encoding="utf-8")
    (d / "test.txt").write_text(_corpus(80, 2), encoding="utf-8")
    (d / "labels.txt").write_text(_many_labels(300, 3), encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def model(files):
    return train(files / "train.txt", word_ngrams=2, minn=2, maxn=3, bucket=2000, dim=10,
                 epochs=10, lr=0.5, threads=1, seed=3)


def _texts(files) -> list[str]:
    lines = (files / "test.txt").read_text(encoding="utf-8").splitlines()
    texts = [" ".join(t for t in line.split() if not t.startswith("__label__")) for line in lines]
    return texts[:50] + ["unknownword recipe", "", "日本 café zzz", "the the the"]


def _same_predictions(ft, clf, texts, k=3):
    ft_labels, ft_probs = ft.predict(texts, k=k)
    for text, labels, probs, mine in zip(texts, ft_labels, ft_probs, clf.predict(texts, k=k)):
        assert list(labels) == [lab for lab, _ in mine], text
        np.testing.assert_allclose(probs, [p for _, p in mine], atol=1e-5)


# ------------------------------------------------------------------ against references
@pytest.mark.parametrize("dim,dsub,qnorm", [(10, 2, False), (10, 3, True), (7, 7, False), (5, 1, True)])
def test_product_quantizer_follows_fasttexts_layout(dim, dsub, qnorm):
    rng = np.random.default_rng(dim * 10 + dsub)
    matrix = rng.normal(size=(700, dim)).astype(np.float32)
    q = QuantMatrix.encode(matrix, dsub, qnorm, seed=5)
    assert q.check() == "" and q.codes.shape == (700, -(-dim // dsub))
    assert q.lastdsub == dim - (q.nsubq - 1) * dsub
    unit = matrix
    if qnorm:
        norms = np.linalg.norm(matrix.astype(np.float64), axis=1).astype(np.float32)
        unit = matrix / norms[:, None]
        norm_book = q.norm_centroids.copy()
        expected_norm_codes = np.abs(norms[:, None] - norm_book[None, :]).argmin(axis=1)
        np.testing.assert_array_equal(q.norm_codes, expected_norm_codes)
    # every code is fastText's compute_code with these centroids (first nearest)
    np.testing.assert_array_equal(q.codes, ref.ft_compute_codes(unit, q.centroids, dsub))
    # decoding is fastText's addcode, value for value
    ids = np.arange(0, 700, 7)
    expected = ref.ft_decode(q.codes[ids], q.centroids, dim, dsub,
                             None if not qnorm else q.norm_codes[ids], q.norm_centroids)
    np.testing.assert_array_equal(q.rows(ids), expected)
    # and the quantiser learnt something: closer than the mean row
    err = np.linalg.norm(np.asarray(q) - matrix) / np.linalg.norm(matrix - matrix.mean(axis=0))
    assert err < 0.9


def test_too_few_rows_is_one_error():
    with pytest.raises(EmbedtrainError, match="at least 256 rows"):
        product_quantize(np.zeros((100, 4), dtype=np.float32), 2, 1)


def test_cutoff_keeps_fasttexts_rows_and_maps_buckets(model, files):
    eos = model.dictionary.word_index[EOS.encode() if isinstance(EOS, str) else EOS]
    selected = select_rows(model.input_vectors, eos, 700)
    assert list(selected) == ref.ft_select_embeddings(model.input_vectors, eos, 700)
    small = quantize(model, cutoff=700, qnorm=True)
    nwords = model.dictionary.nwords
    kept_words = sorted(i for i in selected if i < nwords)
    assert small.dictionary.words == [model.dictionary.words[i] for i in kept_words]
    assert list(small.kept_buckets) == [i - nwords for i in selected if i >= nwords]
    # each line's rows: the full model's rows that were kept, renumbered (fastText's pushHash)
    new_row = {old: new for new, old in enumerate(kept_words)}
    new_row.update({old: len(kept_words) + j for j, old in enumerate(i for i in selected if i >= nwords)})
    from embedtrain.classify.data import tokenize
    lines = [tokenize(t.encode()) for t in _texts(files)]
    full, pruned = model.encoder.encode(lines), small.encoder.encode(lines)
    for i in range(len(lines)):
        rows = full.rows[full.offsets[i]:full.offsets[i + 1]]
        expected = [new_row[r] for r in rows if r in new_row]
        assert list(pruned.rows[pruned.offsets[i]:pruned.offsets[i + 1]]) == expected
    # prediction uses the decoded rows: the mean of the kept rows, as fastText's hidden vector
    dense = Classifier(small.config, small.dictionary, np.asarray(small.input_vectors),
                       small.output_vectors, kept_buckets=small.kept_buckets, bucket=small.bucket)
    texts = _texts(files)
    assert dense.predict(texts, k=2) == small.predict(texts, k=2)


# ------------------------------------------------------------------ fastText reads ours
@pytest.mark.parametrize("settings", [
    {"cutoff": 600, "retrain": True, "qnorm": True, "dsub": 3},
    {"dsub": 2},
    {"cutoff": 400, "dsub": 4},
])
def test_written_ftz_predicts_like_fasttext(model, files, tmp_path, settings):
    fasttext = pytest.importorskip("fasttext")
    small = quantize(model, training_data=files / "train.txt", threads=1, **settings)
    path = tmp_path / "small.ftz"
    small.save(path)
    ft = fasttext.load_model(str(path))
    texts = _texts(files)
    _same_predictions(ft, small, texts)
    n, p, r = ft.test(str(files / "test.txt"), k=1)
    res = small.test(files / "test.txt", k=1)
    assert (n, p, r) == pytest.approx((res.examples, res.precision, res.recall))
    # our reader gives back the same model; so does the .etm
    for copy in (Classifier.load(path), _etm_round_trip(small, tmp_path)):
        assert copy.quantized and copy.predict(texts, k=3) == small.predict(texts, k=3)


def _etm_round_trip(clf, tmp_path):
    clf.save(tmp_path / "small.etm")
    return Classifier.load(tmp_path / "small.etm")


@pytest.mark.parametrize("loss", ["ns", "hs"])
def test_qout_with_many_labels(files, tmp_path, loss):
    fasttext = pytest.importorskip("fasttext")
    clf = train(files / "labels.txt", loss=loss, dim=8, epochs=5, lr=0.5, threads=1, seed=2)
    small = quantize(clf, qout=True, qnorm=loss == "ns")
    assert not isinstance(small.output_vectors, np.ndarray)
    path = tmp_path / "qout.ftz"
    small.save(path)
    texts = [f"w{k}a w{k}b the" for k in range(0, 300, 7)]
    _same_predictions(fasttext.load_model(str(path)), small, texts)
    assert _etm_round_trip(small, tmp_path).predict(texts, k=3) == small.predict(texts, k=3)


# ------------------------------------------------------------------ we read fastText's
def test_reads_a_ftz_that_fasttext_made(files, tmp_path):
    """A .ftz the fasttext package trained on files/train.txt and quantised (tests/data/README.md
    says how; kept as a file because fastText's runs here are erratic)."""
    fasttext = pytest.importorskip("fasttext")
    path = Path(__file__).parent / "data" / "fasttext-made.ftz"
    ft = fasttext.load_model(str(path))
    clf = Classifier.load(path)
    assert clf.quantized and clf.input_vectors.shape == (500, 10) and clf.kept_buckets is not None
    texts = _texts(files)
    _same_predictions(ft, clf, texts, k=2)
    out = CliRunner().invoke(main, ["classify", "test", str(path), str(files / "test.txt"), "--json"])
    assert out.exit_code == 0, out.output
    n, p, r = ft.test(str(files / "test.txt"))
    got = json.loads(out.output.strip().splitlines()[-1])
    assert (got["N"], got["P@1"], got["R@1"]) == pytest.approx((n, p, r))
    # written back by us, fastText still reads it and predicts the same
    clf.save(tmp_path / "again.ftz")
    _same_predictions(fasttext.load_model(str(tmp_path / "again.ftz")), clf, texts, k=2)


# ------------------------------------------------------------------ the CLI
def test_cli_quantize_test_predict(model, files, tmp_path):
    model.save(tmp_path / "m.etm")
    runner = CliRunner()
    out = runner.invoke(main, ["classify", "quantize", str(tmp_path / "m.etm"), "-o",
                               str(tmp_path / "s.ftz"), "--cutoff", "500", "--retrain", "--input",
                               str(files / "train.txt"), "--qnorm", "--threads", "1"])
    assert out.exit_code == 0, out.output
    small = Classifier.load(tmp_path / "s.ftz")
    assert small.input_vectors.shape[0] == 500
    library = quantize(tmp_path / "m.etm", training_data=files / "train.txt", cutoff=500,
                       retrain=True, qnorm=True, threads=1)
    assert library.predict(_texts(files), k=2) == small.predict(_texts(files), k=2)
    out = runner.invoke(main, ["classify", "test", str(tmp_path / "s.ftz"), str(files / "test.txt"),
                               "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output.strip().splitlines()[-1])["P@1"] == pytest.approx(
        small.test(files / "test.txt").precision)
    out = runner.invoke(main, ["classify", "predict", str(tmp_path / "s.ftz"), "-k", "2"],
                        input="recipe bake oven\n")
    assert out.exit_code == 0, out.output
    assert out.output.split() == [lab for lab, _ in small.predict("recipe bake oven", k=2)]
    # a quantised .etm: predict reads it, export -f fasttext-bin writes fastText's .ftz layout
    out = runner.invoke(main, ["classify", "quantize", str(tmp_path / "m.etm"), "-o",
                               str(tmp_path / "s.etm"), "--cutoff", "500", "--dsub", "3", "-q"])
    assert out.exit_code == 0, out.output
    etm = Classifier.load(tmp_path / "s.etm")
    out = runner.invoke(main, ["export", str(tmp_path / "s.etm"), "-f", "fasttext-bin", "-o",
                               str(tmp_path / "e.ftz")])
    assert out.exit_code == 0, out.output
    assert Classifier.load(tmp_path / "e.ftz").predict(_texts(files), k=3) == etm.predict(_texts(files), k=3)


# ------------------------------------------------------------------ bad input
def test_bad_settings_are_one_line(model, files, tmp_path, skipgram_files):
    model.save(tmp_path / "m.etm")
    runner = CliRunner()
    cases = [
        (["--cutoff", "0"], "--cutoff must be at least 1"),
        (["--cutoff", "100"], "needs at least 256"),
        (["--qout"], "--qout needs at least 256 output rows"),
        (["--cutoff", "500", "--retrain"], "--retrain needs the training data"),
        (["--dsub", "11"], "--dsub 11 is larger than the dimension 10"),
        (["--dsub", "0"], "--dsub must be at least 1"),
        (["--retrain", "--cutoff", "500", "--input", str(tmp_path / "none.txt")], "does not exist"),
    ]
    out_path = tmp_path / "x.ftz"
    for args, message in cases:
        out = runner.invoke(main, ["classify", "quantize", str(tmp_path / "m.etm"), "-o",
                                   str(out_path)] + args)
        assert out.exit_code == 1 and message in out.output, (args, out.output)
        assert "Traceback" not in out.output and not out_path.exists()
    out = runner.invoke(main, ["classify", "quantize", str(skipgram_files["model"]), "-o", str(out_path)])
    assert out.exit_code == 1 and "not a classifier" in out.output, out.output
    out = runner.invoke(main, ["compress", str(tmp_path / "m.etm"), "-o", str(out_path)])
    assert out.exit_code == 1 and "classify quantize" in out.output, out.output
    small = quantize(model, cutoff=500)
    with pytest.raises(EmbedtrainError, match="quantised already"):
        quantize(small, cutoff=300)
    with pytest.raises(EmbedtrainError, match="only text classifiers"):
        quantize(object())
    # the library refuses what the CLI refuses
    with pytest.raises(EmbedtrainError, match="--cutoff must be at least 1"):
        quantize(model, cutoff=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.etm"]


def test_damaged_ftz_is_one_line(model, tmp_path):
    small = quantize(model, cutoff=600, qnorm=True, dsub=3)
    good = tmp_path / "good.ftz"
    small.save(good)
    data = good.read_bytes()
    bad = tmp_path / "bad.ftz"
    cuts = sorted(set(range(0, len(data), max(1, len(data) // 40))) | {9, len(data) - 1})
    for cut in cuts:
        bad.write_bytes(data[:cut])
        with pytest.raises(EmbedtrainError):
            Classifier.load(bad)
    rng = np.random.default_rng(0)
    for _ in range(40):  # a changed byte: read as a model or refused in one line
        raw = bytearray(data)
        raw[int(rng.integers(8, 400))] ^= int(rng.integers(1, 256))
        bad.write_bytes(bytes(raw))
        try:
            Classifier.load(bad)
        except EmbedtrainError as exc:
            assert "\n" not in str(exc)
    out = CliRunner().invoke(main, ["classify", "test", str(tmp_path / "bad.ftz"), str(good)])
    assert "Traceback" not in out.output
    bad.write_bytes(data[:len(data) // 2])
    out = CliRunner().invoke(main, ["classify", "predict", str(bad)], input="recipe\n")
    assert out.exit_code == 1 and "truncated" in out.output and len(out.output.strip().splitlines()) == 1
    assert "damaged fastText .ftz file" in out.output


def test_a_ftz_with_nan_centroids_is_one_line(tmp_path):
    """A .ftz whose centroids hold NaN (fastText wrote one here after a run that diverged) is
    refused when read, naming the file and the NaN, and never predicts."""
    clf = Classifier.load(Path(__file__).parent / "data" / "fasttext-made.ftz")
    clf.input_vectors.centroids[3] = np.nan
    clf.save(tmp_path / "nan.ftz")
    with pytest.raises(EmbedtrainError, match=r"nan\.ftz: .*centroids hold NaN or infinite values"):
        Classifier.load(tmp_path / "nan.ftz")
    out = CliRunner().invoke(main, ["classify", "predict", str(tmp_path / "nan.ftz"), "-"], input="a b\n")
    assert out.exit_code == 1 and "NaN" in out.output and "Traceback" not in out.output
