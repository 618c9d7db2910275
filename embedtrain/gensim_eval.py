"""gensim's two benchmarks in gensim's shape: ``evaluate_word_pairs`` and
``evaluate_word_analogies`` (gensim 4.4, ``gensim/models/keyedvectors.py``), the same
files read the same way and the same tuples returned, for :class:`~embedtrain.vectors.Vectors`
and the gensim-compatible module. embedtrain's own benchmarks, with their report and
batched search over the standard sets, are in :mod:`embedtrain.evaluate`.

The correlations' p-values are the two-sided t-test of scipy's ``pearsonr`` and
``spearmanr`` (the regularized incomplete beta function, computed here: scipy is not a
dependency).
"""
from __future__ import annotations

import itertools
import logging
import math
import os
from typing import Any, NamedTuple

import numpy as np

from .errors import EmbedtrainError

log = logging.getLogger("embedtrain")

# Questions answered per matrix product (the batch's scores are BATCH x restrict_vocab floats).
ANALOGY_BATCH = 256
# gensim's evaluate_word_analogies looks at the 5 best answers (most_similar(topn=5)).
ANALOGY_TOPN = 5


class Correlation(NamedTuple):
    """A correlation and its two-sided p-value (scipy's result: ``r, p = ...``, ``[0]``,
    ``.statistic``, ``.pvalue``)."""

    statistic: float
    pvalue: float

    @property
    def correlation(self) -> float:
        return self.statistic


def pearson(x: np.ndarray, y: np.ndarray) -> Correlation:
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    xm, ym = x - x.mean(), y - y.mean()
    denom = math.sqrt(float(xm @ xm) * float(ym @ ym))
    r = float(xm @ ym) / denom if denom else float("nan")
    r = max(-1.0, min(1.0, r)) if math.isfinite(r) else r
    return Correlation(r, correlation_pvalue(r, len(x)))


def spearman(x: np.ndarray, y: np.ndarray) -> Correlation:
    """Spearman's rho (Pearson's r of the average ranks) and its p-value."""
    return pearson(average_ranks(np.asarray(x, np.float64)), average_ranks(np.asarray(y, np.float64)))


def average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), np.float64)
    ranks[order] = np.arange(1, len(values) + 1)
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    for s, e in zip(starts, ends):
        if e - s > 1:
            ranks[order[s:e]] = (s + 1 + e) / 2.0
    return ranks


def correlation_pvalue(r: float, n: int) -> float:
    """Two-sided p-value of a correlation ``r`` of ``n`` pairs: P(|T| >= t) for Student's t
    with n - 2 degrees of freedom, t = r sqrt((n - 2) / (1 - r^2)), which is
    I_{1 - r^2}((n - 2) / 2, 1 / 2)."""
    if not math.isfinite(r):
        return float("nan")
    if n <= 2:
        return 1.0
    if abs(r) >= 1.0:
        return 0.0
    return regularized_beta((n - 2) / 2.0, 0.5, 1.0 - r * r)


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) by its continued fraction (modified Lentz; Numerical Recipes 6.4)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a: float, b: float, x: float, iterations: int = 500, eps: float = 1e-15) -> float:
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, iterations + 1):
        m2 = 2 * m
        for num in (m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
                    -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def _ok_vocab(vectors: Any, restrict_vocab: int, case_insensitive: bool) -> dict[str, int]:
    """Key -> row among the first ``restrict_vocab`` words; upper-cased with
    ``case_insensitive``, the first (most frequent) word of a form standing for all."""
    ok: dict[str, int] = {}
    for i, w in enumerate(vectors.words[:restrict_vocab]):
        ok.setdefault(w.upper() if case_insensitive else w, i)
    return ok


def evaluate_word_pairs(vectors: Any, pairs: str | os.PathLike, delimiter: str = "\t",
                        encoding: str = "utf8", restrict_vocab: int = 300_000,
                        case_insensitive: bool = True, dummy4unknown: bool = False
                        ) -> tuple[Correlation, Correlation, float]:
    """gensim's ``evaluate_word_pairs``: (pearson, spearman, oov_ratio in percent)."""
    ok = _ok_vocab(vectors, restrict_vocab, case_insensitive)
    unit = vectors.unit_vectors
    gold, model = [], []
    oov = 0
    with open(pairs, encoding=encoding) as fin:
        for line in fin:
            if not line or line.startswith("#"):
                continue
            fields = line.split(delimiter)
            if case_insensitive:
                fields = [f.upper() for f in fields]
            try:
                a, b, sim = fields
                sim = float(sim)
            except (ValueError, TypeError):
                continue
            if a not in ok or b not in ok:
                oov += 1
                if dummy4unknown:
                    model.append(0.0)
                    gold.append(sim)
                continue
            gold.append(sim)
            model.append(float(unit[ok[a]] @ unit[ok[b]]))
    if not gold:
        raise EmbedtrainError(f"no valid similarity judgements found in {pairs}: either invalid format "
                              "or all are out of the vocabulary")
    ratio = oov / len(gold) * 100 if dummy4unknown else oov / (len(gold) + oov) * 100
    return pearson(np.array(gold), np.array(model)), spearman(np.array(gold), np.array(model)), float(ratio)


def evaluate_word_analogies(vectors: Any, analogies: str | os.PathLike, restrict_vocab: int = 300_000,
                            case_insensitive: bool = True, dummy4unknown: bool = False,
                            similarity_function: str = "most_similar") -> tuple[float, list[dict]]:
    """gensim's ``evaluate_word_analogies``: (score, sections). A question counts when its
    four words are among the first ``restrict_vocab``; the answer is the first of the 5
    nearest (3CosAdd, a, b, c's rows left out) whose form is none of a, b, c (else the
    fifth). Questions are answered in batches of matrix products, not one at a time."""
    if similarity_function != "most_similar":
        raise EmbedtrainError(f"similarity_function={similarity_function!r} is not supported "
                              "(only 'most_similar', gensim's default)")
    ok = _ok_vocab(vectors, restrict_vocab, case_insensitive)
    names: list[str] = []
    items: list[list[tuple[tuple[str, ...], int]]] = []  # per section: (quad, question number or -1: OOV)
    asked: list[tuple[str, ...]] = []
    questions = oov = 0
    with open(analogies, "rb") as fin:
        for line_no, raw in enumerate(fin):
            line = raw.decode("utf8")
            if line.startswith(": "):
                names.append(line.lstrip(": ").strip())
                items.append([])
                continue
            if not names:
                raise EmbedtrainError(f"{analogies}: missing section header before line #{line_no}")
            words = [w.upper() for w in line.split()] if case_insensitive else line.split()
            if len(words) != 4:
                continue
            questions += 1
            quad = tuple(words)
            if any(w not in ok for w in quad):
                oov += 1
                if dummy4unknown:
                    items[-1].append((quad, -1))
                continue
            items[-1].append((quad, len(asked)))
            asked.append(quad)
    right = _answer(vectors, ok, restrict_vocab, case_insensitive, asked)
    sections = [{"section": name,
                 "correct": [q for q, n in section if n >= 0 and right[n]],
                 "incorrect": [q for q, n in section if n < 0 or not right[n]]}
                for name, section in zip(names, items)]
    total = {"section": "Total accuracy",
             "correct": list(itertools.chain.from_iterable(s["correct"] for s in sections)),
             "incorrect": list(itertools.chain.from_iterable(s["incorrect"] for s in sections))}
    done = len(total["correct"]) + len(total["incorrect"])
    score = len(total["correct"]) / done if done else 0.0
    if questions:
        log.info("analogies: %.1f%% of the questions have words outside the vocabulary", 100 * oov / questions)
    return score, sections + [total]


def _answer(vectors: Any, ok: dict[str, int], restrict_vocab: int, case_insensitive: bool,
            asked: list[tuple[str, ...]]) -> np.ndarray:
    """bool [questions]: whether each (a, b, c, expected) is answered right."""
    unit = vectors.unit_vectors[:restrict_vocab]
    words = vectors.words
    right = np.zeros(len(asked), dtype=bool)
    for start in range(0, len(asked), ANALOGY_BATCH):
        batch = asked[start:start + ANALOGY_BATCH]
        rows = np.array([[ok[w] for w in quad[:3]] for quad in batch], dtype=np.int64)
        query = (unit[rows[:, 1]] + unit[rows[:, 2]] - unit[rows[:, 0]]) / 3.0
        norms = np.linalg.norm(query, axis=1, keepdims=True)
        query = query / np.where(norms == 0, 1, norms)
        scores = query @ unit.T
        scores[np.arange(len(batch))[:, None], rows] = -np.inf
        k = min(ANALOGY_TOPN, unit.shape[0])
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        for i, quad in enumerate(batch):
            best = top[i][np.argsort(-scores[i, top[i]], kind="stable")]
            predicted = None
            for j in best:
                if not np.isfinite(scores[i, j]):
                    continue
                predicted = words[j].upper() if case_insensitive else words[j]
                if predicted in ok and predicted not in quad[:3]:
                    break
            right[start + i] = predicted == quad[3]
    return right
