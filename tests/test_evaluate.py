"""Evaluation: Spearman similarity and 3CosAdd / 3CosMul analogies, checked against a slow
reference of gensim's semantics, against gensim itself, and on the shipped datasets."""
from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from embedtrain.datasets import QUESTIONS_WORDS, WORDSIM353, dataset_path, default_datasets
from embedtrain import evaluate as evaluate_module
from embedtrain.errors import EmbedtrainError
from embedtrain.evaluate import (evaluate, evaluate_analogies, evaluate_similarity,
                                 parse_analogies, parse_similarity, spearman)
from embedtrain.io.formats import load_vectors
from embedtrain.vectors import COSMUL_EPSILON, Vectors

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = dataset_path(QUESTIONS_WORDS)
WORDSIM = dataset_path(WORDSIM353)
GENSIM_TOLERANCE = 0.001  # the agreement bound


@pytest.fixture
def warnings_seen():
    """Warnings logged by embedtrain (its logger may not propagate to pytest's caplog)."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = logging.getLogger("embedtrain")
    handler, level = Collect(logging.WARNING), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


# ---------------------------------------------------------------------- reference
def reference_analogies(vectors: Vectors, questions, restrict: int, method: str,
                        case_insensitive: bool = True) -> tuple[int, int]:
    """(found, correct) by gensim's evaluate_word_analogies loop, one question at a time."""
    words = vectors.words[:restrict]
    key = str.upper if case_insensitive else (lambda w: w)
    ok = {}
    for i in reversed(range(len(words))):
        ok[key(words[i])] = i
    unit = vectors.vectors[:restrict].astype(np.float64)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    found = correct = 0
    for _, quad in questions:
        a, b, c, d = (key(w) for w in quad)
        if not all(w in ok for w in (a, b, c, d)):
            continue
        found += 1
        ia, ib, ic = ok[a], ok[b], ok[c]
        if method == "3cosadd":
            mean = unit[ib] + unit[ic] - unit[ia]
            dists = unit @ (mean / np.linalg.norm(mean))
        else:
            ca, cb, cc = (unit @ unit[i] for i in (ia, ib, ic))
            dists = ((1 + cb) / 2) * ((1 + cc) / 2) / ((1 + ca) / 2 + COSMUL_EPSILON)
        sims = [j for j in np.argsort(-dists, kind="stable") if j not in (ia, ib, ic)][:5]
        predicted = None
        for j in sims:
            predicted = key(words[j])
            if predicted not in (a, b, c):
                break
        correct += predicted == d
    return found, correct


@pytest.fixture(scope="module")
def cased():
    """Random vectors with case variants (some more frequent than the lower-case word), and
    analogy questions of mixed case, half of them answerable."""
    rng = np.random.default_rng(11)
    base = [f"w{i}" for i in range(300)]
    matrix = {w: rng.standard_normal(10) for w in base}
    words = list(base)
    for i in rng.choice(300, 80, replace=False):
        variant = f"W{i}"
        matrix[variant] = matrix[f"w{i}"] + 0.05 * rng.standard_normal(10)
        words.insert(int(rng.integers(0, len(words) + 1)), variant)
    vectors = Vectors(words, np.array([matrix[w] for w in words], dtype=np.float32))
    questions = []
    for n in range(400):
        quad = [base[i] for i in rng.choice(300, 3, replace=False)]
        if n % 2:
            quad.append(vectors.analogy(*quad, topn=1)[0][0])
        else:
            quad.append(base[int(rng.integers(300))])
        questions.append([w.upper() if rng.random() < 0.3 else w for w in quad])
    return vectors, questions


def write_questions(path: Path, questions, sections=("first", "second")) -> Path:
    half = len(questions) // 2
    lines = [f": {sections[0]}"] + [" ".join(q) for q in questions[:half]]
    lines += [f": {sections[1]}"] + [" ".join(q) for q in questions[half:]]
    path.write_text("\n".join(lines) + "\n")
    return path


# ---------------------------------------------------------------------- similarity
def test_spearman_matches_scipy_with_ties():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 8, 60).astype(float)   # many ties
    y = x + rng.integers(0, 5, 60)
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert spearman([1.0], [2.0]) is None
    assert spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]) is None


def test_similarity_parsing_and_warning(tmp_path, warnings_seen):
    path = tmp_path / "pairs.txt"
    path.write_text("# comment\nw1\tw2\t1.5\nw3 w4 2\n\nbroken line here too\nw5\tw6\tnan-ish\n")
    pairs = parse_similarity(path.read_text().splitlines(), "pairs")
    assert pairs == [("w1", "w2", 1.5), ("w3", "w4", 2.0)]
    assert len(warnings_seen) == 1
    assert "skipped 2 lines" in warnings_seen[0].getMessage()
    assert "first: line 5" in warnings_seen[0].getMessage()


def test_similarity_against_direct_computation(tmp_path, cased):
    vectors, _ = cased
    path = tmp_path / "sim.tsv"
    path.write_text("w1\tw2\t3\nW5\tw9\t1\nw3\tnope\t2\nw4\tw7\t9\nw8\tw100\t4\n")
    result = evaluate_similarity(vectors, path)
    assert (result.dataset, result.pairs, result.found) == ("sim", 5, 4)
    rep = {w.upper(): i for i, w in reversed(list(enumerate(vectors.words)))}
    u = vectors.unit_vectors
    cos = [float(u[rep[a]] @ u[rep[b]]) for a, b in
           [("W1", "W2"), ("W5", "W9"), ("W4", "W7"), ("W8", "W100")]]
    assert result.spearman == pytest.approx(spearman([3, 1, 9, 4], cos))
    strict = evaluate_similarity(vectors, path, case_sensitive=True)
    assert strict.found == sum(a in vectors.index and b in vectors.index for a, b in
                               [("w1", "w2"), ("W5", "w9"), ("w4", "w7"), ("w8", "w100")])


def test_case_folding_is_gensims_upper_case(tmp_path):
    # str.upper maps "ß" to "SS" (gensim's rule), so "STRASSE" finds "straße"; lower() would not.
    vectors = Vectors(["straße", "weg", "haus"], np.eye(3, dtype=np.float32) + 0.1)
    path = tmp_path / "de.txt"
    path.write_text("STRASSE weg 1\nHaus weg 2\nstraße haus 3\n")
    assert evaluate_similarity(vectors, path).found == 3
    assert evaluate_similarity(vectors, path, case_sensitive=True).found == 1


class BuildingVectors(Vectors):
    """Like FastText: builds a vector for unseen words (here: not for words with a 'q')."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.built: list[str] = []

    def vector_for_unknown(self, word):
        if "q" in word:
            return None
        self.built.append(word)
        seed = sum(map(ord, word))
        return np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)


def test_similarity_counts_pairs_with_built_vectors(tmp_path, cased):
    vectors, _ = cased
    building = BuildingVectors(vectors.words, vectors.vectors)
    path = tmp_path / "oov.txt"
    path.write_text("w1 w2 3\nw3 Unseen 2\nw4 qqq 1\nw5 w6 5\n")
    plain = evaluate_similarity(vectors, path)
    built = evaluate_similarity(building, path)
    assert (plain.found, built.found) == (2, 3)
    assert building.built == ["unseen"]  # case-insensitive: built from the lower-case form
    evaluate_similarity(building, path, case_sensitive=True)
    assert building.built[-1] == "Unseen"


# ---------------------------------------------------------------------- analogies
@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
@pytest.mark.parametrize("restrict", [None, 250])
@pytest.mark.parametrize("case_sensitive", [False, True])
@pytest.mark.parametrize("cosine_table", [True, False])
def test_analogies_match_reference(tmp_path, cased, method, restrict, case_sensitive, cosine_table,
                                   monkeypatch):
    vectors, questions = cased
    if not cosine_table:  # one matrix product per batch of questions instead
        monkeypatch.setattr(evaluate_module, "COSINE_TABLE_ELEMENTS", 0)
    path = write_questions(tmp_path / "q.txt", questions)
    result = evaluate_analogies(vectors, path, restrict_vocab=restrict, method=method,
                                case_sensitive=case_sensitive)
    limit = restrict or len(vectors)
    found, correct = reference_analogies(vectors, [(None, q) for q in questions], limit, method,
                                         case_insensitive=not case_sensitive)
    assert (result.found, result.correct) == (found, correct)
    assert result.questions == 400 and set(result.sections) == {"first", "second"}
    assert result.accuracy_all == pytest.approx(correct / 400)
    if not case_sensitive and method == "3cosadd":
        assert result.accuracy > 0.3  # half the questions are answerable


def test_3cosmul_differs_from_3cosadd(tmp_path, cased):
    vectors, questions = cased
    path = write_questions(tmp_path / "q.txt", questions)
    add = evaluate_analogies(vectors, path, method="3cosadd")
    mul = evaluate_analogies(vectors, path, method="3cosmul")
    assert add.found == mul.found and add.correct != mul.correct


def test_vectors_analogy_methods_agree_with_evaluation(cased):
    vectors, _ = cased
    a, b, c = "w1", "w2", "w3"
    unit = vectors.unit_vectors
    cos = unit @ np.stack([unit[vectors.index[w]] for w in (a, b, c)]).T
    scores = ((1 + cos[:, 1]) / 2) * ((1 + cos[:, 2]) / 2) / ((1 + cos[:, 0]) / 2 + COSMUL_EPSILON)
    scores[[vectors.index[w] for w in (a, b, c)]] = -np.inf
    best = vectors.analogy(a, b, c, topn=3, method="3cosmul")
    assert [w for w, _ in best] == [vectors.words[i] for i in np.argsort(-scores)[:3]]
    with pytest.raises(EmbedtrainError, match="unknown analogy method"):
        vectors.analogy(a, b, c, method="3cosfoo")


def test_analogy_file_details(tmp_path, cased, warnings_seen):
    vectors, _ = cased
    path = tmp_path / "plain.txt"
    path.write_text("w1 w2 w3 w4\nw1 w2 w3\n# note\nw1 w2 w3 unknownword\n")
    result = evaluate_analogies(vectors, path)
    # Questions before any ": section" line belong to a section named after the file.
    assert list(result.sections) == ["plain"]
    assert (result.questions, result.found) == (2, 1)
    assert ["skipped 1 line" in r.getMessage() for r in warnings_seen] == [True]
    with pytest.raises(EmbedtrainError, match="restrict-vocab must be >= 0"):
        evaluate_analogies(vectors, path, restrict_vocab=-1)
    empty = tmp_path / "empty.txt"
    empty.write_text(": section\n")
    with pytest.raises(EmbedtrainError, match="no 'a b c d' analogy questions"):
        evaluate_analogies(vectors, empty)


def test_dataset_kind_is_detected(tmp_path, cased):
    vectors, questions = cased
    sim = tmp_path / "sim.txt"
    sim.write_text("w1 w2 3\nw3 w4 1\nw5 w6 2\n")
    ana = tmp_path / "ana.txt"
    ana.write_text("w1 w2 w3 w4\nw5 w6 w7 w8\n")  # no sections: four words per line
    results = evaluate(vectors, [sim, ana])
    assert [(r.kind, r.dataset) for r in results] == [("similarity", "sim"), ("analogy", "ana")]
    junk = tmp_path / "junk.txt"
    junk.write_text("hello world\nfoo\n")
    with pytest.raises(EmbedtrainError, match="neither"):
        evaluate(vectors, [junk])
    with pytest.raises(EmbedtrainError, match="does not exist"):
        evaluate(vectors, [tmp_path / "missing.txt"])


# ---------------------------------------------------------------------- gensim agreement
@pytest.fixture(scope="module")
def gensim_kv(skipgram_files):
    gensim_models = pytest.importorskip("gensim.models")
    return gensim_models.KeyedVectors.load_word2vec_format(str(skipgram_files["vec"]))


@pytest.mark.peers
def test_similarity_agrees_with_gensim(gensim_kv, skipgram_files):
    vectors = load_vectors(skipgram_files["vec"])
    ours = evaluate_similarity(vectors, WORDSIM)
    _, (rho, _), oov_percent = gensim_kv.evaluate_word_pairs(str(WORDSIM), case_insensitive=True)
    assert ours.found > 100
    assert ours.spearman == pytest.approx(rho, abs=GENSIM_TOLERANCE)
    assert ours.found == round(ours.pairs * (1 - oov_percent / 100))


@pytest.mark.peers
@pytest.mark.parametrize("restrict", [30_000, 3_000])
def test_analogies_agree_with_gensim(gensim_kv, skipgram_files, restrict):
    logging.getLogger("gensim").setLevel(logging.WARNING)
    vectors = load_vectors(skipgram_files["vec"])
    ours = evaluate_analogies(vectors, QUESTIONS, restrict_vocab=restrict)
    score, sections = gensim_kv.evaluate_word_analogies(str(QUESTIONS), restrict_vocab=restrict,
                                                         case_insensitive=True)
    assert ours.found > 500
    assert ours.accuracy == pytest.approx(score, abs=GENSIM_TOLERANCE)
    theirs = {s["section"]: len(s["correct"]) + len(s["incorrect"]) for s in sections[:-1]}
    assert {name: s.found for name, s in ours.sections.items()} == theirs


@pytest.mark.peers
def test_case_variants_agree_with_gensim(tmp_path, cased):
    gensim_models = pytest.importorskip("gensim.models")
    vectors, questions = cased
    kv = gensim_models.KeyedVectors(vectors.dim)
    kv.add_vectors(vectors.words, vectors.vectors)
    path = write_questions(tmp_path / "q.txt", questions)
    for restrict in (len(vectors), 250):
        ours = evaluate_analogies(vectors, path, restrict_vocab=restrict)
        score, sections = kv.evaluate_word_analogies(str(path), restrict_vocab=restrict)
        assert ours.correct == len(sections[-1]["correct"]) and ours.accuracy == pytest.approx(score)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("".join(f"{' '.join(q[:1])}\t{q[1]}\t{i % 7}\n" for i, q in enumerate(questions)))
    ours = evaluate_similarity(vectors, pairs)
    _, (rho, _), _ = kv.evaluate_word_pairs(str(pairs))
    assert ours.spearman == pytest.approx(rho, abs=1e-6)


# ---------------------------------------------------------------------- shipped datasets
def test_shipped_datasets_parse_completely(warnings_seen):
    questions = parse_analogies(QUESTIONS.read_text().splitlines())
    assert len(questions) == 19_544 and len({s for s, _ in questions}) == 14
    assert len(parse_similarity(WORDSIM.read_text().splitlines())) == 353
    assert warnings_seen == []
    assert [p.name for p in default_datasets()] == [QUESTIONS_WORDS, WORDSIM353]


def test_default_evaluation_uses_shipped_sets(skipgram_model):
    results = evaluate(skipgram_model.vectors)
    assert [(r.dataset, r.kind) for r in results] == [("questions-words", "analogy"),
                                                      ("wordsim353", "similarity")]
    assert results[0].questions == 19_544 and results[1].pairs == 353


@pytest.mark.slow
def test_datasets_are_in_a_plain_install(tmp_path):
    """A non-editable `pip install .` carries the datasets (package data, not the checkout)."""
    # Build from a clean copy: a stale build/ directory in the checkout could hide a problem.
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", "data", "tests", "run", "out"))
    target = tmp_path / "site"
    base = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target)]
    # Offline first (needs `wheel`), then with build isolation (fetches setuptools).
    for extra in (["--no-build-isolation"], []):
        proc = subprocess.run(base + extra + [str(source)], capture_output=True, text=True)
        if proc.returncode == 0:
            break
    else:
        pytest.skip(f"pip could not build the package here: {proc.stderr.strip()[-200:]}")
    check = ("import embedtrain.datasets as d, pathlib; "
             "print(pathlib.Path(d.__file__).parent); "
             "print(*[len(p.read_text().splitlines()) for p in d.default_datasets()])")
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True,
                         cwd=tmp_path, env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    location, counts = out.stdout.split("\n")[:2]
    assert Path(location).resolve() == (target / "embedtrain" / "datasets").resolve()
    assert counts.split() == ["19558", "354"]
