"""Benchmarks for word vectors: word similarity (Spearman) and analogies (3CosAdd, 3CosMul).

The numbers follow gensim's ``KeyedVectors.evaluate_word_pairs`` and
``evaluate_word_analogies`` (gensim 4.4, ``gensim/models/keyedvectors.py``):

- Case-insensitive matching upper-cases dataset and vocabulary words (``str.upper``, as
  gensim does); when several vocabulary words share an upper-case form, the most
  frequent (the first in the file) stands for all of them.
- An analogy question counts ("found") when its four words are among the
  ``restrict_vocab`` most frequent words. The answer is searched among those words,
  skipping the representatives of a, b and c; of the 5 best candidates, the first
  whose case-folded form is none of a, b, c is the prediction (gensim takes
  ``topn=5`` and falls back to the fifth).
- Similarity uses the whole vocabulary (gensim: the first 300,000 words) and the
  Spearman correlation with average ranks for ties (``scipy.stats.spearmanr``).
  We differ from gensim in one point: for vectors that can build a vector for an
  unseen word (FastText), a pair with such a word counts as found, where gensim skips it.

Unlike gensim's loop of one ``most_similar`` per question, all questions are answered
with batched matrix products over the unit vectors.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .errors import EmbedtrainError
from .vectors import COSMUL_EPSILON, Vectors

log = logging.getLogger("embedtrain")

DEFAULT_RESTRICT_VOCAB = 30_000
ANALOGY_METHODS = ("3cosadd", "3cosmul")
# gensim's evaluate_word_analogies looks at the 5 best answers (most_similar(topn=5)).
ANALOGY_CANDIDATES = 5
# Scores computed per batch of questions: about this many float32 values per matrix.
BATCH_ELEMENTS = 1 << 23
TABLE_BATCH_ELEMENTS = 1 << 19
# Largest table of cosines between question words and candidates (float32 values: 256 MB).
COSINE_TABLE_ELEMENTS = 1 << 26

SIMILARITY, ANALOGY = "similarity", "analogy"


# ---------------------------------------------------------------------- results
@dataclass
class SimilarityResult:
    dataset: str
    pairs: int
    found: int
    spearman: float | None  # None when fewer than 2 pairs were found (or constant scores)
    kind: str = SIMILARITY

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "kind": self.kind, "spearman": self.spearman,
                "pairs": self.pairs, "found": self.found}


@dataclass
class SectionScore:
    questions: int = 0
    found: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.found if self.found else 0.0


@dataclass
class AnalogyResult:
    dataset: str
    method: str
    restrict_vocab: int
    sections: dict[str, SectionScore] = field(default_factory=dict)
    kind: str = ANALOGY

    @property
    def questions(self) -> int:
        return sum(s.questions for s in self.sections.values())

    @property
    def found(self) -> int:
        return sum(s.found for s in self.sections.values())

    @property
    def correct(self) -> int:
        return sum(s.correct for s in self.sections.values())

    @property
    def accuracy(self) -> float:
        """Over the questions whose words are all known (gensim's score)."""
        return self.correct / self.found if self.found else 0.0

    @property
    def accuracy_all(self) -> float:
        """Counting every question with an unknown word as wrong."""
        return self.correct / self.questions if self.questions else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "kind": self.kind, "method": self.method,
                "accuracy": self.accuracy, "accuracy_all": self.accuracy_all,
                "questions": self.questions, "found": self.found,
                "sections": {name: {"accuracy": s.accuracy, "found": s.found,
                                    "questions": s.questions}
                             for name, s in self.sections.items()}}


# ---------------------------------------------------------------------- datasets
def _read_lines(path) -> tuple[str, list[str]]:
    """(stem, lines) of a dataset given as a path or an importlib.resources Traversable."""
    if isinstance(path, (str, os.PathLike)):
        path = Path(path)
        if not path.is_file():
            raise EmbedtrainError(f"dataset file {path} does not exist")
    name = path.name
    stem = name.rsplit(".", 1)[0] if "." in name[1:] else name
    text = path.read_bytes().decode("utf-8", errors="replace")
    return stem, text.splitlines()


def _content_lines(lines: Sequence[str]) -> Iterable[tuple[int, str]]:
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, stripped


def _similarity_fields(line: str) -> list[str]:
    # Tab-separated when there is a tab (gensim's delimiter), else any whitespace.
    return [f.strip() for f in line.split("\t")] if "\t" in line else line.split()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def detect_kind(lines: Sequence[str]) -> str | None:
    """'analogy' (``: section`` lines, ``a b c d`` lines), 'similarity' (``w1 w2 score``) or None."""
    four = three = 0
    for _, line in _content_lines(lines):
        if line.startswith(":"):
            return ANALOGY
        fields = _similarity_fields(line)
        if len(fields) == 3 and _is_number(fields[2]):
            three += 1
        elif len(line.split()) == 4:
            four += 1
    if three == four == 0:
        return None
    return SIMILARITY if three >= four else ANALOGY


def _warn_skipped(stem: str, bad: list[int]) -> None:
    if bad:
        log.warning("%s: skipped %d line%s that could not be parsed (first: line %d)",
                    stem, len(bad), "" if len(bad) == 1 else "s", bad[0])


def parse_similarity(lines: Sequence[str], stem: str = "dataset") -> list[tuple[str, str, float]]:
    pairs, bad = [], []
    for number, line in _content_lines(lines):
        fields = _similarity_fields(line)
        if len(fields) == 3 and _is_number(fields[2]):
            pairs.append((fields[0], fields[1], float(fields[2])))
        else:
            bad.append(number)
    _warn_skipped(stem, bad)
    return pairs


def parse_analogies(lines: Sequence[str], stem: str = "dataset") -> list[tuple[str, tuple[str, ...]]]:
    """``[(section, (a, b, c, d)), ...]``; questions before any ``:`` line go to section ``stem``."""
    questions, bad = [], []
    section = stem
    for number, line in _content_lines(lines):
        if line.startswith(":"):
            section = line.lstrip(": ").strip() or stem  # gensim: line.lstrip(': ').strip()
            continue
        words = line.split()
        if len(words) == 4:
            questions.append((section, tuple(words)))
        else:
            bad.append(number)
    _warn_skipped(stem, bad)
    return questions


# ---------------------------------------------------------------------- word lookup
def _case_key(case_sensitive: bool):
    # gensim upper-cases (str.upper, so German "ß" matches "SS").
    return (lambda w: w) if case_sensitive else str.upper


def representatives(words: Sequence[str], case_sensitive: bool = False) -> dict[str, int]:
    """Case key -> index of the first (most frequent) word with that key."""
    key = _case_key(case_sensitive)
    rep: dict[str, int] = {}
    for i, w in enumerate(words):
        rep.setdefault(key(w), i)
    return rep


# ---------------------------------------------------------------------- similarity
def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rho: Pearson correlation of the ranks, ties getting their average rank."""
    rx, ry = _average_ranks(np.asarray(x, np.float64)), _average_ranks(np.asarray(y, np.float64))
    if len(rx) < 2:
        return None
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = np.sqrt((rx @ rx) * (ry @ ry))
    return float(rx @ ry / denom) if denom > 0 else None


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    # Runs of equal values share the mean of their 1-based positions.
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    mean_rank = (starts + ends + 1) / 2.0
    ranks = np.empty(len(values), np.float64)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def evaluate_similarity(vectors: Vectors, dataset, case_sensitive: bool = False) -> SimilarityResult:
    """Spearman correlation between cosine similarity and the dataset's scores."""
    stem, lines = _read_lines(dataset)
    pairs = parse_similarity(lines, stem)
    if not pairs:
        raise EmbedtrainError(f"dataset {stem}: no 'word1 word2 score' lines")
    key = _case_key(case_sensitive)
    rep = representatives(vectors.words, case_sensitive)
    unit = vectors.unit_vectors
    gold, model = [], []
    for a, b, score in pairs:
        va, vb = _unit_or_built(vectors, unit, rep, key, a, case_sensitive), None
        if va is not None:
            vb = _unit_or_built(vectors, unit, rep, key, b, case_sensitive)
        if va is None or vb is None:
            continue
        gold.append(score)
        model.append(float(np.dot(va, vb)))
    return SimilarityResult(stem, len(pairs), len(gold), spearman(gold, model))


def _unit_or_built(vectors: Vectors, unit: np.ndarray, rep: dict[str, int], key, word: str,
                   case_sensitive: bool) -> np.ndarray | None:
    i = rep.get(key(word))
    if i is not None:
        return unit[i]
    # Vectors that build unseen words (FastText). Case-insensitive evaluation builds from
    # the lower-case form, the form most corpora are normalised to.
    built = vectors.vector_for_unknown(word if case_sensitive else word.lower())
    if built is None:
        return None
    built = np.asarray(built, np.float32)
    norm = float(np.linalg.norm(built))
    return built / norm if norm else built


# ---------------------------------------------------------------------- analogies
def evaluate_analogies(vectors: Vectors, dataset, restrict_vocab: int | None = DEFAULT_RESTRICT_VOCAB,
                       method: str = "3cosadd", case_sensitive: bool = False) -> AnalogyResult:
    """Accuracy on ``a b c d`` questions (a : b :: c : d), per section and overall."""
    if method not in ANALOGY_METHODS:
        raise EmbedtrainError(f"unknown analogy method {method!r} (choose from {', '.join(ANALOGY_METHODS)})")
    if restrict_vocab is not None and restrict_vocab < 0:
        raise EmbedtrainError(f"--restrict-vocab must be >= 0, not {restrict_vocab}")
    stem, lines = _read_lines(dataset)
    questions = parse_analogies(lines, stem)
    if not questions:
        raise EmbedtrainError(f"dataset {stem}: no 'a b c d' analogy questions")
    limit = min(restrict_vocab or len(vectors), len(vectors))
    key = _case_key(case_sensitive)
    rep = representatives(vectors.words[:limit], case_sensitive)

    result = AnalogyResult(stem, method, limit)
    found_ids, found_section = [], []
    for section, words in questions:
        score = result.sections.setdefault(section, SectionScore())
        score.questions += 1
        ids = [rep.get(key(w)) for w in words]
        if None in ids:
            continue
        score.found += 1
        found_ids.append(ids)
        found_section.append(section)
    if not found_ids:
        return result
    ids = np.asarray(found_ids, dtype=np.int64)
    canon = np.fromiter((rep[key(w)] for w in vectors.words[:limit]), dtype=np.int64, count=limit)
    predicted = answer_analogies(vectors.unit_vectors[:limit], canon, ids[:, 0], ids[:, 1],
                                 ids[:, 2], method)
    for section, ok in zip(found_section, (predicted == ids[:, 3]).tolist()):
        result.sections[section].correct += ok
    return result


def answer_analogies(unit: np.ndarray, canon: np.ndarray, a: np.ndarray, b: np.ndarray,
                     c: np.ndarray, method: str = "3cosadd") -> np.ndarray:
    """The predicted word (as a representative index, see ``canon``) for each question.

    ``unit`` float32 [R, dim]: unit vectors of the candidate words; ``canon`` int64 [R]:
    the representative index of each candidate (itself unless case variants share it);
    ``a``, ``b``, ``c`` int64 [Q]: representative indices of the question words.
    Returns int64 [Q]; -1 where there was no candidate.
    """
    # Questions repeated across sections (171 in the Google set) are answered once.
    triples, inverse = np.unique(np.stack([a, b, c], axis=1), axis=0, return_inverse=True)
    n_words = unit.shape[0]
    k = min(ANALOGY_CANDIDATES, n_words)
    out = np.empty(len(triples), dtype=np.int64)
    cosines = _question_word_cosines(unit, triples)
    # Gathered rows: small batches that stay in cache; matrix products: larger ones.
    elements = TABLE_BATCH_ELEMENTS if cosines is not None else BATCH_ELEMENTS
    batch = max(1, elements // max(n_words, 1))
    for start in range(0, len(triples), batch):
        qa, qb, qc = triples[start:start + batch].T
        if cosines is not None:
            # cos(x, a) etc. precomputed for the few distinct question words.
            rows_of, table = cosines
            ca, cb, cc = (table[rows_of[start:start + batch, j]] for j in range(3))
        elif method == "3cosadd":
            ca = None
        else:
            ca, cb, cc = (unit[q] @ unit.T for q in (qa, qb, qc))
        if method == "3cosadd":
            # x . (b + c - a) = cos(x, b) + cos(x, c) - cos(x, a) for unit vectors: the
            # ranking of gensim's most_similar(positive=[b, c], negative=[a]).
            if ca is None:
                scores = (unit[qb] + unit[qc] - unit[qa]) @ unit.T
            else:
                scores = cb
                scores += cc
                scores -= ca
        else:
            # 3CosMul (see vectors.cosmul_scores), computed in place.
            scores = cb
            scores += 1.0
            cc += 1.0
            scores *= cc
            scores *= 0.25
            ca += 1.0
            ca *= 0.5
            ca += COSMUL_EPSILON
            scores /= ca
        rows = np.arange(len(qa))
        for q in (qa, qb, qc):
            scores[rows, q] = -np.inf
        top, top_scores = _top_k(scores, k)
        valid = top_scores > -np.inf
        cand = np.where(valid, canon[top], -1)
        ok = valid & (cand != qa[:, None]) & (cand != qb[:, None]) & (cand != qc[:, None])
        first = np.argmax(ok, axis=1)
        # No acceptable candidate: gensim's loop ends on the last one it saw.
        last = np.maximum(valid.sum(axis=1) - 1, 0)
        pick = np.where(ok.any(axis=1), first, last)
        out[start:start + len(qa)] = cand[rows, pick]
    return out[inverse.reshape(-1)]


def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the k largest scores of each row, best first (ties: lowest
    index first). ``scores`` float32 [B, R] is overwritten (the picks become -inf).

    k passes of argmax beat argpartition here: k is 5 and argmax is vectorised.
    """
    rows = np.arange(scores.shape[0])
    top = np.empty((scores.shape[0], k), dtype=np.int64)
    values = np.empty((scores.shape[0], k), dtype=scores.dtype)
    for j in range(k):
        best = scores.argmax(axis=1)
        top[:, j] = best
        values[:, j] = scores[rows, best]
        scores[rows, best] = -np.inf
    return top, values


def _question_word_cosines(unit: np.ndarray, triples: np.ndarray):
    """``(rows_of, table)``: ``table[rows_of[q, j]]`` is the cosine of every candidate with
    word j (a, b, c) of question q; None when that table would not save work or memory.

    A benchmark asks about far fewer distinct words than it has questions (the Google set:
    905 words in 19,544 questions), so one [words, R] matrix product replaces one per question.
    """
    needed, rows_of = np.unique(triples, return_inverse=True)
    if len(needed) >= len(triples) or len(needed) * unit.shape[0] > COSINE_TABLE_ELEMENTS:
        return None
    return rows_of.reshape(triples.shape), unit[needed] @ unit.T


# ---------------------------------------------------------------------- both
def evaluate(vectors: Vectors, datasets: Iterable | None = None,
             restrict_vocab: int | None = DEFAULT_RESTRICT_VOCAB, method: str = "3cosadd",
             case_sensitive: bool = False) -> list[SimilarityResult | AnalogyResult]:
    """Evaluate on each dataset (kind told from its content); None: the shipped standard sets."""
    if datasets is None:
        from .datasets import default_datasets

        datasets = default_datasets()
    results: list[SimilarityResult | AnalogyResult] = []
    for dataset in datasets:
        kind = dataset_kind(dataset)
        if kind == SIMILARITY:
            results.append(evaluate_similarity(vectors, dataset, case_sensitive=case_sensitive))
        else:
            results.append(evaluate_analogies(vectors, dataset, restrict_vocab=restrict_vocab,
                                              method=method, case_sensitive=case_sensitive))
    return results


def dataset_kind(dataset) -> str:
    stem, lines = _read_lines(dataset)
    kind = detect_kind(lines)
    if kind is None:
        raise EmbedtrainError(f"dataset {dataset}: neither 'word1 word2 score' similarity lines nor "
                              f"': section' / 'a b c d' analogy lines")
    return kind
