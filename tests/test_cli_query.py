"""The eval / similar / analogy / export commands: run them, then check through the library."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from embedtrain.cli import main
from embedtrain.datasets import QUESTIONS_WORDS, WORDSIM353, dataset_path
from embedtrain.evaluate import evaluate
from embedtrain.io.formats import load_vectors, write_glove

ANALOGY_KEYS = {"dataset", "kind", "method", "accuracy", "accuracy_all", "questions", "found",
                "sections"}
SIMILARITY_KEYS = {"dataset", "kind", "spearman", "pairs", "found"}


def run(*args: str):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("embedtrain: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="module")
def vec(skipgram_files):
    return skipgram_files["vec"]


@pytest.fixture(scope="module")
def vectors(vec):
    return load_vectors(vec)


# ---------------------------------------------------------------------- eval
def test_eval_json_default_datasets(vec, vectors):
    result = run("eval", vec, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["vectors"] == str(vec)
    assert (out["vocab_size"], out["dim"]) == (len(vectors), vectors.dim)
    analogy, similarity = out["results"]
    assert set(analogy) == ANALOGY_KEYS and set(similarity) == SIMILARITY_KEYS
    assert (analogy["dataset"], analogy["kind"], analogy["method"]) == (
        "questions-words", "analogy", "3cosadd")
    assert (similarity["dataset"], similarity["kind"]) == ("wordsim353", "similarity")
    assert set(analogy["sections"]["family"]) == {"accuracy", "found", "questions"}
    expected = [r.to_dict() for r in evaluate(vectors)]
    assert out["results"] == expected
    assert analogy["questions"] == 19_544 and similarity["pairs"] == 353


def test_eval_options_reach_the_library(vec, vectors, tmp_path):
    datasets = [dataset_path(WORDSIM353), dataset_path(QUESTIONS_WORDS)]
    result = run("eval", vec, *datasets, "--restrict-vocab", 2000, "--method", "3cosmul",
                 "--case-sensitive", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)["results"]
    expected = evaluate(vectors, datasets, restrict_vocab=2000, method="3cosmul",
                        case_sensitive=True)
    assert out == [r.to_dict() for r in expected]
    assert out[1]["method"] == "3cosmul"
    # Case-sensitive: the capitalised questions (capital-world, ...) are not found.
    assert out[1]["found"] < evaluate(vectors, datasets[1:], restrict_vocab=2000)[0].found


def test_eval_table(vec, vectors):
    result = run("eval", vec)
    assert result.exit_code == 0, result.output
    text = result.stdout
    expected = evaluate(vectors)
    assert f"{len(vectors):,} words, dim {vectors.dim}" in text
    assert "questions-words (analogy, 3cosadd" in text
    assert re.search(rf"all sections +{expected[0].accuracy:.4f} +{expected[0].found:,} +19,544", text)
    assert f"Spearman {expected[1].spearman:.4f}" in text
    assert "gram8-plural" in text


def test_eval_bad_inputs(tmp_path, vec):
    bad = tmp_path / "bad.vec"
    bad.write_text("2 3\nthe 1 2 3\nof 1 2\n")
    assert_one_line_error(run("eval", bad), "line 3", "expected 3 values")
    assert_one_line_error(run("eval", tmp_path / "none.vec"), "does not exist")
    junk = tmp_path / "junk.txt"
    junk.write_text("just some words\n")
    assert_one_line_error(run("eval", vec, junk), "junk.txt", "neither")


def test_eval_format_option(tmp_path, vectors):
    glove = tmp_path / "g.txt"
    write_glove(glove, vectors.words, vectors.vectors)
    ok = run("eval", glove, dataset_path(WORDSIM353), "--format", "glove", "--json")
    assert ok.exit_code == 0, ok.output
    # Forced to the wrong format, the file is rejected with the line at fault.
    wrong = run("eval", glove, "--format", "word2vec-text")
    assert_one_line_error(wrong, "line 1", "header")


# ---------------------------------------------------------------------- similar / analogy
def test_similar_json_and_text(vec, vectors):
    words = vectors.words[10:12]
    result = run("similar", vec, *words, "-n", 3, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)["results"]
    assert [r["word"] for r in out] == words
    for r, w in zip(out, words):
        expected = vectors.most_similar(w, topn=3)
        assert [(n["word"], n["similarity"]) for n in r["neighbours"]] == [
            (n, pytest.approx(s, abs=1e-6)) for n, s in expected]
    text = run("similar", vec, words[0], "-n", 2).stdout
    assert text.splitlines()[0] == f"{words[0]}:"
    assert len(text.splitlines()) == 3


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_analogy_json(vec, vectors, method):
    a, b, c = vectors.words[20:23]
    result = run("analogy", vec, a, b, c, "-n", 4, "--method", method, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["query"] == [a, b, c] and out["method"] == method
    expected = vectors.analogy(a, b, c, topn=4, method=method)
    assert [x["word"] for x in out["answers"]] == [w for w, _ in expected]
    assert not {a, b, c} & {x["word"] for x in out["answers"]}


def test_unknown_words_are_one_line_errors(vec, vectors):
    known = vectors.words[5]
    assert_one_line_error(run("similar", vec, known, "notaword"), "'notaword'", "not in the vocabulary")
    assert_one_line_error(run("similar", vec, known.upper()), f"did you mean {known!r}")
    result = run("analogy", vec, known, "xyzzy", "plugh", "--json")
    assert_one_line_error(result, "'xyzzy'", "'plugh'")


# ---------------------------------------------------------------------- export
@pytest.mark.parametrize("fmt,name,exact", [
    ("word2vec-text", "out.vec", False),
    ("word2vec-binary", "out.bin", True),
    ("glove", "out.txt", False),
    ("npy", "out", True),
])
def test_export_round_trips(tmp_path, skipgram_files, skipgram_model, fmt, name, exact):
    out = tmp_path / name
    result = run("export", skipgram_files["model"], "-o", out, "--format", fmt)
    assert result.exit_code == 0, result.output
    back = load_vectors(out.with_suffix(".npy") if fmt == "npy" else out)
    source = skipgram_model.vectors
    assert back.words == source.words
    if exact:
        np.testing.assert_array_equal(back.vectors, source.vectors)
    else:
        np.testing.assert_allclose(back.vectors, source.vectors, rtol=1e-5, atol=1e-7)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_export_limit_and_normalize(tmp_path, skipgram_files, skipgram_model):
    out = tmp_path / "top.bin"
    result = run("export", skipgram_files["vec"], "-o", out, "--format", "word2vec-binary",
                 "--limit", 100, "--normalize")
    assert result.exit_code == 0, result.output
    back = load_vectors(out)
    source = skipgram_model.vectors
    assert back.words == source.words[:100]
    np.testing.assert_allclose(np.linalg.norm(back.vectors, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(back.vectors, source.unit_vectors[:100], rtol=1e-5, atol=1e-6)


def test_export_fasttext_bin_needs_a_fasttext_model(tmp_path, skipgram_files):
    out = tmp_path / "x.bin"
    assert_one_line_error(run("export", skipgram_files["vec"], "-o", out, "--format", "fasttext-bin"),
                          "not a model file")
    assert_one_line_error(run("export", skipgram_files["model"], "-o", out, "--format", "fasttext-bin"),
                          "skipgram model")
    assert not out.exists()


def test_export_to_missing_directory_fails_before_work(tmp_path, skipgram_files):
    result = run("export", skipgram_files["vec"], "-o", tmp_path / "no" / "out.vec",
                 "--format", "word2vec-text")
    assert_one_line_error(result, "does not exist")
