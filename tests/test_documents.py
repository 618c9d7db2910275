"""Document vectors from word vectors (mean of unit vectors, SIF) and the extrinsic
evaluation (eval-classify), against plain-numpy references and the fasttext package."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import embedtrain
from conftest import SHARED_DATA
from embedtrain.documents import DocumentEmbedder, mean_vectors, sif_vectors, weighted_averages
from embedtrain.errors import EmbedtrainError
from embedtrain.vectors import Vectors

DOCS = ["the king of france", "", "zzzqqq qqqzzz", "anarchism is a political philosophy",
        "the the the", "one two three four five six", "war and peace in europe"]
UNSEEN_DOCS = ["computerz of the kingz", "unhappinessly café", "中文字"]
TREC = SHARED_DATA / "classify"


def run_cli(*args, input_text=None):
    return subprocess.run([sys.executable, "-m", "embedtrain", *map(str, args)], input=input_text,
                          capture_output=True, text=True)


# ----------------------------------------------------------------------- references
def reference_mean(vectors, doc: str) -> np.ndarray:
    """fastText's getSentenceVector (unsupervised), written out: unit vectors of the words
    that have a nonzero vector, averaged."""
    total = np.zeros(vectors.dim, dtype=np.float64)
    count = 0
    for word in doc.split():
        vec = vectors[word] if word in vectors else vectors.vector_for_unknown(word)
        if vec is None:
            continue
        norm = np.linalg.norm(vec.astype(np.float64))
        if norm > 0:
            total += vec / norm
            count += 1
    return total / count if count else total


def reference_sif(vectors, docs: list[str], a: float) -> np.ndarray:
    """Arora et al. (2017), Algorithm 1, in plain numpy."""
    total = vectors.counts.sum()
    rows = []
    for doc in docs:
        words = [w for w in doc.split() if w in vectors]
        v = np.zeros(vectors.dim)
        for w in words:
            p = vectors.counts[vectors.index[w]] / total
            v += a / (a + p) * vectors[w].astype(np.float64)
        rows.append(v / len(words) if words else v)
    x = np.array(rows)
    nonzero = x[np.abs(x).sum(axis=1) > 0]
    u = np.linalg.svd(nonzero)[2][0]
    return x - np.outer(x @ u, u)


# ----------------------------------------------------------------------- mean
def test_mean_matches_reference(skipgram_model):
    got = mean_vectors(skipgram_model.vectors, DOCS)
    want = np.array([reference_mean(skipgram_model.vectors, d) for d in DOCS])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert not got[1].any() and not got[2].any()  # no known word: zeros, as in fastText


def test_a_zero_vector_is_neither_added_nor_counted():
    vectors = Vectors(["a", "b", "z"], np.array([[3, 4], [0, 2], [0, 0]], dtype=np.float32))
    got = mean_vectors(vectors, ["a b z z", "z"])
    np.testing.assert_allclose(got, [[0.3, 0.9], [0, 0]], rtol=1e-6)


@pytest.fixture(scope="module")
def ft_model(sample_corpus):
    return embedtrain.train(sample_corpus, model="fasttext", dim=16, epochs=1, threads=2, bucket=20_000,
                            progress=False, seed=11)


def test_fasttext_unseen_words_through_subwords(ft_model):
    docs = DOCS + UNSEEN_DOCS
    got = mean_vectors(ft_model.vectors, docs)
    want = np.array([reference_mean(ft_model.vectors, d) for d in docs])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert got[-3].any() and got[-1].any()


def test_mean_equals_fasttext_get_sentence_vector(ft_model, tmp_path):
    """The fasttext package's get_sentence_vector on our model exported to .bin."""
    fasttext = pytest.importorskip("fasttext")
    from embedtrain.io.fasttext_bin import write_fasttext_bin

    path = tmp_path / "model.bin"
    write_fasttext_bin(ft_model, path)
    loaded = fasttext.load_model(str(path))
    docs = DOCS + UNSEEN_DOCS
    got = mean_vectors(ft_model.vectors, docs)
    for doc, vec in zip(docs, got):
        np.testing.assert_allclose(vec, loaded.get_sentence_vector(doc), rtol=1e-4, atol=1e-6, err_msg=doc)


# ----------------------------------------------------------------------- SIF
def test_sif_matches_reference(skipgram_model):
    got = sif_vectors(skipgram_model.vectors, DOCS, a=1e-3)
    np.testing.assert_allclose(got, reference_sif(skipgram_model.vectors, DOCS, 1e-3), rtol=1e-4, atol=1e-6)
    got = sif_vectors(skipgram_model.vectors, DOCS, a=1e-2)
    np.testing.assert_allclose(got, reference_sif(skipgram_model.vectors, DOCS, 1e-2), rtol=1e-4, atol=1e-6)


def test_sif_removes_the_common_component(skipgram_model):
    x = sif_vectors(skipgram_model.vectors, DOCS)
    averages = weighted_averages(skipgram_model.vectors, DOCS)
    u = np.linalg.svd(averages[np.abs(averages).sum(axis=1) > 0])[2][0]
    np.testing.assert_allclose(x @ u, 0, atol=1e-5)


def test_sif_refuses_one_document_and_vectors_without_counts(skipgram_model):
    with pytest.raises(EmbedtrainError, match="at least 2 documents"):
        sif_vectors(skipgram_model.vectors, ["the king", "zzzqqq"])
    # with the training documents' component, one document is fine
    embedder = DocumentEmbedder(skipgram_model.vectors, "sif")
    embedder.embed(DOCS)
    one = embedder.embed(["the king of france"])
    np.testing.assert_allclose(one[0], embedder.embed(DOCS)[0], rtol=1e-5, atol=1e-7)
    no_counts = Vectors(skipgram_model.vectors.words, skipgram_model.vectors.vectors)
    with pytest.raises(EmbedtrainError, match="counts"):
        sif_vectors(no_counts, DOCS)


# ----------------------------------------------------------------------- CLI
def test_cli_doc_vectors(skipgram_files, skipgram_model, tmp_path):
    path = tmp_path / "docs.txt"
    path.write_text("\n".join(DOCS) + "\n")
    out = run_cli("doc-vectors", skipgram_files["model"], path)
    assert out.returncode == 0, out.stderr
    printed = np.array([[float(x) for x in line.split()] for line in out.stdout.splitlines()])
    np.testing.assert_allclose(printed, mean_vectors(skipgram_model.vectors, DOCS), rtol=1e-5, atol=1e-6)
    assert "2 lines had no word with a vector" in out.stderr
    out = run_cli("doc-vectors", skipgram_files["model"], "-", "--sif", "--json",
                  input_text="\n".join(DOCS) + "\n")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["method"] == "sif" and got["documents"] == len(DOCS)
    np.testing.assert_allclose(got["vectors"], sif_vectors(skipgram_model.vectors, DOCS), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("args,message", [
    (["--sif"], "at least 2 documents"),
    (["--sif-a", "0.01"], "only with --sif"),
    (["--epochs", "3"], "doc2vec"),
])
def test_cli_doc_vectors_refusals(skipgram_files, args, message):
    out = run_cli("doc-vectors", skipgram_files["model"], "-", *args, input_text="the king\n")
    assert out.returncode != 0 and message in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_cli_sif_needs_counts(skipgram_files):
    out = run_cli("doc-vectors", skipgram_files["vec"], "-", "--sif", input_text="the king\na b\n")
    assert out.returncode == 1 and "counts" in out.stderr and "Traceback" not in out.stderr


# ----------------------------------------------------------------------- eval-classify
TOPICS = {"war": "war army battle soldiers military forces troops attack".split(),
          "music": "music album band song rock singer guitar records".split(),
          "science": "theory physics mathematics energy equation scientific particles quantum".split()}


def write_labelled(path, rows, fasttext_format=False):
    lines = [(f"__label__{lab} {text}" if fasttext_format else f"{lab} {text}") for lab, text in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def topic_rows():
    rng = np.random.default_rng(3)
    filler = "the of and in a to is was".split()
    rows = []
    for i in range(240):
        label = list(TOPICS)[i % 3]
        words = list(rng.choice(TOPICS[label], 3)) + list(rng.choice(filler, 4))
        rng.shuffle(words)
        rows.append((label, " ".join(words)))
    return rows[:180], rows[180:]


def test_eval_classify_matches_sklearn_on_our_vectors(skipgram_model, topic_rows, tmp_path):
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.preprocessing import StandardScaler

    from embedtrain.extrinsic import evaluate_classification

    train, test = topic_rows
    result = evaluate_classification(skipgram_model, write_labelled(tmp_path / "train.txt", train),
                                     write_labelled(tmp_path / "test.txt", test))
    x_train = mean_vectors(skipgram_model.vectors, [t for _, t in train])
    x_test = mean_vectors(skipgram_model.vectors, [t for _, t in test])
    scaler = StandardScaler().fit(x_train)
    clf = LogisticRegression(max_iter=2000).fit(scaler.transform(x_train), [lab for lab, _ in train])
    predicted = clf.predict(scaler.transform(x_test))
    truth = [lab for lab, _ in test]
    assert result.accuracy == pytest.approx(accuracy_score(truth, predicted))
    assert result.macro_f1 == pytest.approx(f1_score(truth, predicted, average="macro"))
    assert result.accuracy > 0.9  # the topics' words are far apart in any decent space
    # fastText's format gives the same documents and labels
    again = evaluate_classification(skipgram_model, write_labelled(tmp_path / "train.ft", train, True),
                                    write_labelled(tmp_path / "test.ft", test, True))
    assert again.accuracy == result.accuracy and again.macro_f1 == result.macro_f1


def test_eval_classify_bad_lines_are_counted(skipgram_files, topic_rows, tmp_path):
    pytest.importorskip("sklearn")
    train, test = topic_rows
    train_path = tmp_path / "train.txt"
    train_path.write_bytes(("\n".join(f"__label__{lab} {t}" for lab, t in train)
                            + "\nno label here\n\n__label__war\n__label__war bad \xff byte\n").encode("latin-1"))
    test_path = write_labelled(tmp_path / "test.txt", test + [("sports", "football match goal")], True)
    out = run_cli("eval-classify", skipgram_files["model"], train_path, test_path, "--json")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["train_documents"] == len(train) + 1 and got["test_documents"] == len(test) + 1
    assert got["unseen_test_labels"] == {"sports": 1}
    for expected in ("1 line without a __label__ label", "1 line with a label but no text",
                     "not valid UTF-8", "label the training file never has (sports)"):
        assert expected in out.stderr


def test_eval_classify_refusals(skipgram_files, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    one = write_labelled(tmp_path / "one.txt", [("a", "the king"), ("a", "the queen")])
    for train, message in [(empty, "holds no labelled document"), (one, "at least 2"),
                           (tmp_path / "missing.txt", "does not exist")]:
        out = run_cli("eval-classify", skipgram_files["model"], train, one)
        assert out.returncode == 1 and message in out.stderr and "Traceback" not in out.stderr


@pytest.mark.skipif(not (TREC / "trec.train.txt").exists(), reason="shared TREC data absent")
def test_trec_quality_floor(skipgram_model, skipgram_files):
    """Mean vectors of a skip-gram model of 200k tokens of text8 on TREC's 6 question types:
    well above the majority class (which is 0.276 of the test set)."""
    pytest.importorskip("sklearn")
    out = run_cli("eval-classify", skipgram_files["model"], TREC / "trec.train.txt",
                  TREC / "trec.test.txt", "--lowercase", "--json")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["train_documents"] == 5452 and got["test_documents"] == 500
    assert got["accuracy"] > 0.55 and got["macro_f1"] > 0.5


def test_eval_classify_without_scikit_learn_names_the_extra(skipgram_model, monkeypatch, tmp_path):
    from embedtrain.extrinsic import evaluate_classification

    for name in ("sklearn", "sklearn.linear_model"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails
    path = write_labelled(tmp_path / "t.txt", [("a", "the king"), ("b", "the queen")])
    with pytest.raises(EmbedtrainError, match=r"scikit-learn: pip install .*\[extrinsic\]"):
        evaluate_classification(skipgram_model, path, path)
