"""Text classification (fastText's supervised mode): kernels against plain-numpy
references, .bin interop with the fasttext package both ways, bad input, the CLI, and
a quality floor on TREC."""
from __future__ import annotations

import json
import logging
import random

import re

import numpy as np
import pytest
from click.testing import CliRunner

import fasttext_peer
import reference_classify as ref
from conftest import SHARED_DATA, kernel_increfs
from embedtrain.cli.app import main
from embedtrain.classify.data import LineEncoder, build_dictionary, tokenize
from embedtrain.classify.model import Classifier, train
from embedtrain.classify.tree import huffman_tree, negative_table
from embedtrain.errors import EmbedtrainError
from embedtrain.kernels.classify import LOSS_CODES, fasttext_sigmoid_table, train_lines
from embedtrain.kernels.rng import seed_states

TOPICS = {
    "sport": "match goal team score player coach league café stadium",
    "food": "recipe bake oven sugar flour naïve taste dinner kitchen",
    "tech": "computer code software chip 日本 network server data bug",
}
SHARED = "the a of and is in it this very with".split()


def _corpus(n: int, seed: int, multi: bool = False) -> str:
    rng = random.Random(seed)
    out = []
    names = sorted(TOPICS)
    for _ in range(n):
        topic = rng.choice(names)
        words = rng.choices(TOPICS[topic].split(), k=4) + rng.choices(SHARED, k=4)
        rng.shuffle(words)
        labels = [topic]
        if multi and rng.random() < 0.3:
            labels.append(rng.choice([t for t in names if t != topic]))
            words += rng.choices(TOPICS[labels[-1]].split(), k=2)
        out.append(" ".join(f"__label__{t}" for t in labels) + " " + " ".join(words))
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("classify")
    (d / "train.txt").write_text(_corpus(400, 1, multi=True), encoding="utf-8")
    (d / "test.txt").write_text(_corpus(100, 2), encoding="utf-8")
    return d


# ------------------------------------------------------------------ kernels vs reference
def _one_step(loss: str, labels: list[int]):
    rng = np.random.default_rng(0)
    nrows, nlabels, dim = 12, 5, 8
    wi = rng.uniform(-0.5, 0.5, (nrows, dim)).astype(np.float32)
    wo = rng.uniform(-0.5, 0.5, (nlabels, dim)).astype(np.float32)
    rows = np.array([3, 7, 3, 11, 0], dtype=np.int32)       # a repeated row gets two updates
    counts = np.array([50, 20, 10, 5, 1], dtype=np.int64)
    tree = huffman_tree(counts)
    neg = negative_table(counts)
    state = seed_states(5, 1)[0]
    start_state = int(state[0])
    lr = 0.2
    a_wi, a_wo = wi.copy(), wo.copy()
    train_lines(LOSS_CODES[loss], a_wi, a_wo, np.array([0, len(rows)], dtype=np.int64), rows,
                np.array([0, len(labels)], dtype=np.int64), np.array(labels, dtype=np.int32),
                np.array([5], dtype=np.int64), 0, 1, np.float32(lr), 1e12, np.zeros(1, np.int64),
                state, fasttext_sigmoid_table(), 3, neg, tree.offsets, tree.points, tree.codes)
    b_wi, b_wo = wi.astype(np.float64), wo.astype(np.float64)
    if loss == "softmax":
        ref.softmax_step(b_wi, b_wo, rows, labels[0], lr)
    elif loss == "ova":
        ref.ova_step(b_wi, b_wo, rows, set(labels), lr)
    elif loss == "hs":
        t = labels[0]
        span = slice(tree.offsets[t], tree.offsets[t + 1])
        ref.hs_step(b_wi, b_wo, rows, tree.points[span], tree.codes[span], lr)
    else:
        end_state = ref.ns_step(b_wi, b_wo, rows, labels[0], lr, 3, neg, start_state)
        assert end_state == int(state[0])
    return (a_wi, a_wo), (b_wi, b_wo), wi, wo


@pytest.mark.parametrize("loss,labels", [("softmax", [2]), ("ns", [1]), ("hs", [3]), ("ova", [0, 3])])
def test_kernel_step_matches_reference(loss, labels):
    (a_wi, a_wo), (b_wi, b_wo), wi, wo = _one_step(loss, labels)
    assert not np.allclose(a_wo, wo) and not np.allclose(a_wi, wi)   # the step did something
    np.testing.assert_allclose(a_wo, b_wo, atol=2e-6)
    np.testing.assert_allclose(a_wi, b_wi, atol=2e-6)


def test_fasttext_sigmoid_at_its_edges_and_inside():
    """ft_sigmoid reads its table before its branches (at x clamped into [-8, 8]); what it
    returns is fastText's Loss::sigmoid: 0 below -8, 1 above 8, NaN for NaN, else the cell."""
    from embedtrain.kernels.classify import ft_sigmoid

    table = fasttext_sigmoid_table()
    xs = [np.nan, -np.inf, -9.0, -8.0, -7.99, -0.01, 0.0, 3.3, 7.99, 8.0, 9.0, np.inf]
    xs += list(np.random.default_rng(0).uniform(-8, 8, 200))
    for x in np.array(xs, dtype=np.float32):
        got = ft_sigmoid(x, table)
        if np.isnan(x):
            assert np.isnan(got)
        elif x < -8:
            assert got == 0.0
        elif x > 8:
            assert got == 1.0
        else:
            i = int((x + np.float32(8)) * np.float32(512) / np.float32(8) / np.float32(2))
            assert got == table[i], x


def test_a_nan_score_moves_no_row_and_gives_a_nan_loss():
    """binary_logistic has one way out (so that numba counts no reference to its arrays); a
    NaN score still leaves the output row and the gradient as they were."""
    from embedtrain.kernels.classify import binary_logistic

    out = np.random.default_rng(1).uniform(-1, 1, (3, 4)).astype(np.float32)
    out[1, 2] = np.nan
    hidden = np.ones(4, dtype=np.float32)
    grad = np.zeros(4, dtype=np.float32)
    before = out.copy()
    assert np.isnan(binary_logistic(out, 1, True, np.float32(0.1), hidden, grad, fasttext_sigmoid_table()))
    np.testing.assert_array_equal(out, before)
    assert not grad.any()
    loss = binary_logistic(out, 0, True, np.float32(0.1), hidden, grad, fasttext_sigmoid_table())
    assert np.isfinite(loss) and grad.any() and not np.array_equal(out[0], before[0])


def test_the_training_kernel_counts_few_references_past_its_entry():
    """A helper that reads an array only inside a branch, or returns early, left numba a
    reference count on the array (an atomic add and release) per call; on the matrices and
    tables every thread shares, that is a cache line both cores write. train_lines had 37 such
    calls past its entry block; it has the per-call ones of its arguments and the three of its
    per-line choice of loss."""
    from numba import njit

    from embedtrain.kernels.classify import train_lines as kernel
    from embedtrain.kernels.options import KERNEL_OPTIONS

    fresh = njit(**dict(KERNEL_OPTIONS, cache=False))(kernel.py_func)   # a cached kernel has no IR
    counts = np.array([50, 20, 10, 5, 1], dtype=np.int64)
    tree, neg = huffman_tree(counts), negative_table(counts)
    wi = np.zeros((12, 8), np.float32)
    wo = np.zeros((5, 8), np.float32)
    fresh(LOSS_CODES["ns"], wi, wo, np.array([0, 2], np.int64), np.array([1, 2], np.int32),
          np.array([0, 1], np.int64), np.array([1], np.int32), np.array([2], np.int64), 0, 1,
          np.float32(0.1), 1e12, np.zeros(1, np.int64), seed_states(1, 1)[0], fasttext_sigmoid_table(), 3,
          neg, tree.offsets, tree.points, tree.codes)
    _, past_entry = kernel_increfs("".join(fresh.inspect_llvm().values()), "train_lines")
    assert past_entry <= 20


def test_huffman_tree_is_optimal():
    counts = np.array([90, 40, 33, 20, 8, 7, 3, 1], dtype=np.int64)
    tree = huffman_tree(counts)
    lengths = np.diff(tree.offsets)
    assert sorted(lengths) == sorted(ref.huffman_lengths(counts.tolist()))
    assert int((lengths * counts).sum()) == int((np.array(ref.huffman_lengths(counts.tolist())) * counts).sum())
    codes = {tuple(tree.codes[tree.offsets[i]:tree.offsets[i + 1]][::-1]) for i in range(len(counts))}
    assert len(codes) == len(counts)        # each label has its own path


def test_word_ngram_rows_follow_fasttext_hashing():
    d = build_dictionary([tokenize(b"__label__a hello world")], b"__label__", 1, 1)
    enc = LineEncoder(d, 0, 0, 1000, 2).encode([tokenize(b"hello world")])
    rows = enc.rows[enc.offsets[0]:enc.offsets[1]].tolist()
    from embedtrain.subwords import fnv1a_32

    def signed(h):
        return h - (1 << 32) if h >= 1 << 31 else h
    hs = [signed(fnv1a_32(w)) for w in (b"hello", b"world", b"</s>")]
    expect = []
    for i in range(3):                      # Dictionary::addWordNgrams by hand
        if i + 1 < 3:
            h = (hs[i] % (1 << 64)) * 116049371 + (hs[i + 1] % (1 << 64))
            expect.append(d.nwords + (h % (1 << 64)) % 1000)
    assert rows == [d.word_index[b"hello"], d.word_index[b"world"], d.word_index[b"</s>"]] + expect


# ------------------------------------------------------------------ interop with fasttext
@pytest.fixture(scope="module")
def trained(files):
    return {loss: train(files / "train.txt", loss=loss, word_ngrams=2, minn=2, maxn=4, bucket=5000,
                        epochs=10, lr=0.5, threads=1, seed=3)
            for loss in ("softmax", "ns", "hs", "ova")}


def _texts(files) -> list[str]:
    lines = (files / "test.txt").read_text(encoding="utf-8").splitlines()
    texts = [" ".join(t for t in line.split() if not t.startswith("__label__")) for line in lines]
    return texts[:60] + ["unknownword recipe", "", "日本 café zzz", "the the the"]


@pytest.mark.parametrize("loss", ["softmax", "ns", "hs", "ova"])
def test_exported_bin_predicts_like_fasttext(trained, files, tmp_path, loss):
    fasttext = pytest.importorskip("fasttext")
    clf = trained[loss]
    path = tmp_path / f"{loss}.bin"
    clf.save(tmp_path / "m.etm")
    result = CliRunner().invoke(main, ["export", str(tmp_path / "m.etm"), "-f", "fasttext-bin",
                                       "-o", str(path)])
    assert result.exit_code == 0, result.output
    ft = fasttext.load_model(str(path))
    texts = _texts(files)
    ft_labels, ft_probs = ft.predict(texts, k=3)
    ours = clf.predict(texts, k=3)
    for text, labels, probs, mine in zip(texts, ft_labels, ft_probs, ours):
        assert list(labels) == [lab for lab, _ in mine], text
        np.testing.assert_allclose(probs, [p for _, p in mine], atol=1e-5)
    n, p, r = ft.test(str(files / "test.txt"), k=2)
    res = clf.test(files / "test.txt", k=2)
    assert (n, p, r) == pytest.approx((res.examples, res.precision, res.recall))


@pytest.mark.parametrize("loss,ngrams", [("softmax", 2), ("hs", 1)])
def test_reads_a_bin_that_fasttext_trained(files, tmp_path, loss, ngrams):
    fasttext = pytest.importorskip("fasttext")
    ft = fasttext_peer.train_supervised(fasttext, str(files / "train.txt"), dim=8, epoch=10, lr=0.5,
                                        loss=loss, wordNgrams=ngrams, minn=2, maxn=3, bucket=3000, thread=1, verbose=0, seed=1)
    path = tmp_path / "ft.bin"
    ft.save_model(str(path))
    clf = Classifier.load(path)
    assert clf.config.loss == loss and clf.config.word_ngrams == ngrams
    texts = _texts(files)
    ft_labels, ft_probs = ft.predict(texts, k=2)
    for text, labels, probs, mine in zip(texts, ft_labels, ft_probs, clf.predict(texts, k=2)):
        assert list(labels) == [lab for lab, _ in mine], text
        np.testing.assert_allclose(probs, [p for _, p in mine], atol=1e-5)
    runner = CliRunner()
    out = runner.invoke(main, ["classify", "test", str(path), str(files / "test.txt"), "--json"])
    assert out.exit_code == 0, out.output
    n, p, r = ft.test(str(files / "test.txt"))
    got = json.loads(out.output.strip().splitlines()[-1])
    assert (got["N"], got["P@1"], got["R@1"]) == pytest.approx((n, p, r))


# ------------------------------------------------------------------ library behaviour
def test_save_load_and_seeded_runs(trained, files, tmp_path):
    clf = trained["softmax"]
    clf.save(tmp_path / "c.etm")
    back = Classifier.load(tmp_path / "c.etm")
    texts = _texts(files)
    assert back.predict(texts, k=3) == clf.predict(texts, k=3)
    again = train(files / "train.txt", loss="softmax", word_ngrams=2, minn=2, maxn=4, bucket=5000,
                  epochs=10, lr=0.5, threads=1, seed=3)
    assert np.array_equal(again.input_vectors, clf.input_vectors)
    assert np.array_equal(again.output_vectors, clf.output_vectors)


def test_multilabel_ova_learns_both_labels(trained, files):
    res = trained["ova"].test(files / "train.txt", k=2, threshold=0.3)
    assert res.recall > 0.8


# ------------------------------------------------------------------ bad input
def _logged(fn):
    """(fn(), the warnings the "embedtrain" logger gave), through a handler of our own
    (the CLI's set_verbosity stops propagation to caplog's)."""
    lines = []

    class Handler(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    logger = logging.getLogger("embedtrain")
    handler, prior = Handler(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    try:
        return fn(), lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(prior)


def test_bad_input_lines(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"__label__a good words here\n\n   \nno label here\nnor here\n__label__b\n"
                     b"__label__b caf\xe9 latin1 bytes\n__label__a more good words\n")
    clf, warnings = _logged(lambda: train(path, threads=1, epochs=2))
    assert sum("without a label" in w for w in warnings) == 1
    assert any("2 lines without a label" in w for w in warnings)
    assert any("not valid UTF-8" in w for w in warnings)
    assert sorted(clf.labels) == ["__label__a", "__label__b"]
    assert "caf\ufffd" in clf.words               # kept as bytes, shown with a replacement char
    # the label-only line trains on </s> alone (as in fastText); blank lines train nothing
    assert clf.stats["examples_per_epoch"] == 4
    assert clf.dictionary.word_counts[clf.dictionary.word_index[b"</s>"]] == 8
    # -k above the label count: every label, with a warning
    assert len(clf.predict("good words", k=5)) == 2
    test = tmp_path / "test.txt"
    test.write_text("__label__a good words\n__label__zzz other words\n__label__c\n")
    res, warnings = _logged(lambda: clf.test(test))
    assert res.unseen_labels == {"__label__zzz": 1, "__label__c": 1}
    assert res.examples == 1 and res.skipped_lines == 2
    assert any("never saw" in w for w in warnings)


def test_no_labels_is_one_error(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("just words\nmore words\n")
    with pytest.raises(EmbedtrainError, match="no labels"):
        train(path)
    result = CliRunner().invoke(main, ["classify", "train", str(path), "-o", str(tmp_path / "m.etm")])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1


def test_predict_on_a_word_model_is_one_line(skipgram_files, tmp_path):
    model = skipgram_files["model"]
    result = CliRunner().invoke(main, ["classify", "predict", str(model)], input="some text\n")
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and "not a classifier" in result.output


def test_bad_input_on_the_command_line(skipgram_files, tmp_path):
    """Each refusal of the bad-input list through the CLI: one line on stderr, exit 1;
    what is only odd (-k above the label count, labels the model never saw) a warning."""
    path = tmp_path / "train.txt"
    path.write_text("__label__a good words\n__label__b bad words\n" * 5)
    model = tmp_path / "m.etm"
    runner = CliRunner()
    assert runner.invoke(main, ["classify", "train", str(path), "-o", str(model), "-q",
                                "--threads", "1"]).exit_code == 0
    for args in (["classify", "test", str(skipgram_files["model"]), str(path)],
                 ["classify", "predict", str(model), "-", "-k", "0"],
                 ["classify", "predict", str(model), "-", "--threshold", "2"],
                 ["classify", "test", str(model), str(tmp_path / "missing.txt")]):
        out = runner.invoke(main, args, input="good words\n")
        assert out.exit_code == 1 and len(out.output.strip().splitlines()) == 1, (args, out.output)
    out = runner.invoke(main, ["classify", "predict", str(model), "-", "-k", "5"], input="good words\n")
    assert out.exit_code == 0 and "more than the model's 2 labels" in out.output
    assert sorted(out.output.strip().splitlines()[-1].split()) == ["__label__a", "__label__b"]
    test = tmp_path / "test.txt"
    test.write_text("__label__a good words\n__label__zzz other\n")
    out = runner.invoke(main, ["classify", "test", str(model), str(test)])
    assert out.exit_code == 0 and "never saw" in out.output and "N\t1" in out.output


# ------------------------------------------------------------------ CLI
def test_cli_train_test_predict(files, tmp_path):
    runner = CliRunner()
    model = tmp_path / "cli.etm"
    out = runner.invoke(main, ["classify", "train", str(files / "train.txt"), "-o", str(model),
                               "--epochs", "10", "--lr", "0.5", "--threads", "1", "--loss", "hs"])
    assert out.exit_code == 0, out.output
    clf = Classifier.load(model)
    assert clf.config.loss == "hs" and clf.config.epochs == 10 and clf.config.dim == 10
    out = runner.invoke(main, ["classify", "test", str(model), str(files / "test.txt"), "--per-label"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    res = clf.test(files / "test.txt")
    assert lines[0] == f"N\t{res.examples}" and lines[1] == f"P@1\t{res.precision:.3g}"
    assert len(lines) == 4 + len(clf.labels)
    texts = ["recipe oven sugar", "code server bug"]
    out = runner.invoke(main, ["classify", "predict", str(model), "-", "-k", "2", "--probabilities"],
                        input="\n".join(texts) + "\n")
    assert out.exit_code == 0, out.output
    got = [line.split() for line in out.output.strip().splitlines()]
    for fields, want in zip(got, clf.predict(texts, k=2)):
        assert fields[0::2] == [lab for lab, _ in want]
        np.testing.assert_allclose([float(x) for x in fields[1::2]], [p for _, p in want], rtol=1e-5)


def test_autotune_reports_best(files, tmp_path):
    from embedtrain.classify.autotune import autotune
    clf = autotune(files / "train.txt", str(files / "test.txt"), 3.0, threads=1)
    info = clf.stats["autotune"]
    assert info["trials"] >= 2
    assert info["validation_p_at_1"] == max(t["score"] for t in info["history"]) or \
        abs(info["validation_p_at_1"] - max(t["score"] for t in info["history"])) < 1e-5
    assert clf.test(files / "test.txt").precision == pytest.approx(info["validation_p_at_1"], abs=1e-5)


# ------------------------------------------------------------------ quality
TREC = SHARED_DATA / "classify"


@pytest.mark.skipif(not (TREC / "trec.train.txt").exists(), reason="shared TREC data not present")
def test_trec_quality_floor(tmp_path):
    for name in ("train", "test"):        # TREC's "LABEL text" lines in fastText's format
        lines = (TREC / f"trec.{name}.txt").read_bytes().splitlines()
        (tmp_path / name).write_bytes(b"".join(b"__label__" + line + b"\n" for line in lines))
    clf = train(tmp_path / "train", threads=2, seed=1)
    # fastText 0.9.2 with the same settings (dim 10): 0.84; ours 0.83 (scripts/bench_classify.py)
    assert clf.test(tmp_path / "test").precision >= 0.80


def test_docs_settings_table_is_current():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    generated = subprocess.run([sys.executable, str(root / "scripts" / "readme_classify_options.py")],
                               capture_output=True, text=True, check=True,
                               env=dict(os.environ, PYTHONPATH=str(root))).stdout.strip()
    blocks = re.findall(r"<!-- [A-Z]+-OPTIONS:BEGIN.*?-OPTIONS:END -->", generated, re.S)
    assert len(blocks) == 2  # classify train's settings and classify quantize's
    page = (root / "docs" / "classify.md").read_text()
    for block in blocks:
        assert block in page, \
            "docs/classify.md settings tables are stale: run python scripts/readme_classify_options.py --write"


def test_pretrained_rows(files, tmp_path):
    vec = tmp_path / "pre.vec"
    rows = {"recipe": np.arange(10) / 10.0, "server": -np.arange(10) / 10.0}
    vec.write_text("2 10\n" + "".join(f"{w} {' '.join(map(str, v))}\n" for w, v in rows.items()))
    clf = train(files / "train.txt", pretrained=str(vec), lr=1e-12, epochs=1, threads=1)
    for w, v in rows.items():
        np.testing.assert_allclose(clf.input_vectors[clf.dictionary.word_index[w.encode()]], v, atol=1e-6)
    with pytest.raises(EmbedtrainError, match="dimension"):
        train(files / "train.txt", pretrained=str(vec), dim=12, threads=1)


def test_callbacks_see_every_epoch(files):
    from embedtrain.training.callbacks import Callback

    class Record(Callback):
        def __init__(self):
            self.epochs = []

        def on_epoch_end(self, info):
            self.epochs.append((info.epoch, info.loss))

    rec = Record()
    clf = train(files / "train.txt", epochs=3, threads=1, callbacks=[rec])
    assert [e for e, _ in rec.epochs] == [1, 2, 3]
    assert [round(x, 6) for _, x in rec.epochs] == clf.stats["epoch_losses"]
    assert rec.epochs[-1][1] < rec.epochs[0][1]      # the loss falls


# ------------------------------------------------------------------ --pretrained as fastText
def _pretrained_file(path, dim: int, rows: dict[str, np.ndarray]) -> None:
    path.write_text(f"{len(rows)} {dim}\n" + "".join(
        f"{w} {' '.join(f'{x:.6f}' for x in v)}\n" for w, v in rows.items()))


@pytest.fixture(scope="module")
def pretrained_case(files, tmp_path_factory):
    """A training file with a rare word (below --min-count 2) and pretrained vectors for: a
    training word, the rare word, two words the training file lacks, a word listed twice
    and a token with the label prefix (fastText makes it a label)."""
    d = tmp_path_factory.mktemp("pretrained")
    train_file = d / "train.txt"
    train_file.write_text((files / "train.txt").read_text(encoding="utf-8")
                          + "__label__sport rareword match goal\n", encoding="utf-8")
    rng = np.random.default_rng(7)
    rows = {w: rng.uniform(-1, 1, 8) for w in ("recipe", "rareword", "zeppelin", "quasar",
                                               "__label__extra")}
    vec = d / "pre.vec"
    _pretrained_file(vec, 8, rows)
    with open(vec, "a") as f:   # "recipe" again: the last vector wins, and it counts twice
        rows["recipe"] = rng.uniform(-1, 1, 8)
        f.write("recipe " + " ".join(f"{x:.6f}" for x in rows["recipe"]) + "\n")
    text = vec.read_text().splitlines()
    vec.write_text(f"{len(text) - 1} 8\n" + "\n".join(text[1:]) + "\n")
    return train_file, vec, rows


def test_pretrained_words_join_the_dictionary_as_in_fasttext(pretrained_case, tmp_path):
    """fastText's getInputMatrixFromFile: every pretrained word is added (count + 1, ntokens
    + 1), words below --min-count come back, a label-prefixed token becomes a label; the
    rows of words the training file lacks keep their pretrained values. Checked against
    the dictionary of a .bin the fasttext package trained with the same file."""
    fasttext = pytest.importorskip("fasttext")
    train_file, vec, rows = pretrained_case
    settings = dict(dim=8, min_count=2, word_ngrams=2, bucket=3000, epochs=5, lr=0.5, threads=1, seed=1)
    clf = train(train_file, pretrained=str(vec), **settings)
    ft = fasttext_peer.train_supervised(fasttext, str(train_file), dim=8, minCount=2, wordNgrams=2,
                                        bucket=3000, epoch=5, lr=0.5, thread=1, seed=1, verbose=0, pretrainedVectors=str(vec))
    ft.save_model(str(tmp_path / "ft.bin"))
    theirs = Classifier.load(tmp_path / "ft.bin").dictionary
    ours = clf.dictionary
    assert dict(zip(ours.words, ours.word_counts.tolist())) == dict(zip(theirs.words, theirs.word_counts.tolist()))
    assert dict(zip(ours.labels, ours.label_counts.tolist())) == dict(zip(theirs.labels, theirs.label_counts.tolist()))
    assert ours.ntokens == theirs.ntokens
    assert b"rareword" in ours.word_index and b"__label__extra" in ours.label_index
    for w in ("zeppelin", "quasar"):      # never trained: the pretrained row, in both
        np.testing.assert_allclose(clf.input_vectors[ours.word_index[w.encode()]], rows[w], atol=1e-6)
        np.testing.assert_allclose(ft.get_input_vector(ft.get_word_id(w)), rows[w], atol=1e-6)
    # a word only in the pretrained file is used at predict time, in both: ours changes the
    # probabilities; fastText's hidden vector (what its output layer sees) changes with it.
    # Not fastText's probabilities: in one CI run they were equal for the two lines (the
    # wheel's runs are erratic, 38 of 40 stop with "Encountered NaN" here; a saturated
    # softmax gives 1.0 to one label whatever the line)
    a, b = dict(clf.predict("zeppelin", k=9)), dict(clf.predict("qqqq", k=9))
    assert max(abs(a[lab] - b[lab]) for lab in a) > 1e-3
    assert np.abs(ft.get_sentence_vector("zeppelin") - ft.get_sentence_vector("qqqq")).max() > 1e-3
    # and our model, exported, predicts in fastText what it predicts here
    clf.save(tmp_path / "m.etm")
    out = CliRunner().invoke(main, ["export", str(tmp_path / "m.etm"), "-f", "fasttext-bin",
                                    "-o", str(tmp_path / "m.bin")])
    assert out.exit_code == 0, out.output
    back = fasttext.load_model(str(tmp_path / "m.bin"))
    labels, probs = back.predict(["zeppelin quasar"], k=3)
    assert list(labels[0]) == [lab for lab, _ in clf.predict("zeppelin quasar", k=3)]
    np.testing.assert_allclose(probs[0], [p for _, p in clf.predict("zeppelin quasar", k=3)], atol=1e-5)


def test_pretrained_words_lengthen_the_schedule_as_in_fasttext():
    """fastText trains until epochs * ntokens tokens are done, ntokens counting the
    pretrained words too: more passes over the lines, the last one stopping at the first
    update of the shared progress that reaches the budget. Against a plain-Python loop
    (fastText's trainThread with one thread; we also update the progress at the end of
    each pass)."""
    from embedtrain.classify.training import schedule

    rng = np.random.default_rng(3)
    tokens = rng.integers(1, 40, size=300).astype(np.int64)
    for extra in (0, 1, 5000, 12345):
        ntokens = int(tokens.sum()) + extra
        plan = schedule(tokens, 3, ntokens, job_tokens=500)
        budget, done, lines, local = 3 * ntokens, 0, 0, 0
        while done < budget:                       # FastText::keepTraining
            i = lines % len(tokens)
            local += int(tokens[i])
            lines += 1
            if local > 100 or i == len(tokens) - 1:
                done += local
                local = 0
        assert (plan.passes - 1) * len(tokens) + plan.last_line == lines, extra
        assert plan.passes == 3 if extra == 0 else plan.passes > 3
        assert plan.bounds[0] == 0 and plan.bounds[-1] == len(tokens)
