"""Word translation retrieval (bilingual lexicon induction): precision at 1, 5 and 10.

For each test source word, the target words nearest to its vector (by cosine, or by CSLS)
are retrieved from the whole target vocabulary; a source word counts as translated at k
when any of its gold targets is among the k best (MUSE's and VecMap's rule for words with
several translations). Source words are scored when they have a vector and at least one
gold target has one; ``coverage`` is the share of the test's distinct source words scored.

Before retrieval both spaces are normalised as :func:`embedtrain.alignment.normalize`
does (unit length, centred, unit length): an aligned source written by ``align`` is then
scored against the target file as it is, since align mapped onto the normalised target.

With ``identical`` the test pairs are (w, w) for every word both spaces hold: the share
of them whose nearest neighbour across the spaces is the word itself (how stable two runs
are once aligned).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .alignment import (PairsLike, VectorsLike, align_config, as_pairs, as_vectors, check_same_dim,
                        normalize, shared_pairs)
from .config import RETRIEVAL_BLOCK_BYTES, AlignConfig
from .errors import EmbedtrainError
from .retrieval import mean_top_similarity, top_keys

PRECISION_AT = (1, 5, 10)


@dataclass(frozen=True)
class TranslationResult:
    """P@k over the ``evaluated`` source words; ``coverage`` = evaluated / ``source_words``
    (the test's distinct source words); ``pairs``: distinct test pairs."""

    mode: str                    # "dictionary" or "identical"
    retrieval: str               # "cosine" or "csls"
    precision: dict[int, float]
    evaluated: int
    source_words: int
    pairs: int
    csls_k: int | None = None

    @property
    def coverage(self) -> float:
        return self.evaluated / self.source_words if self.source_words else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = {"mode": self.mode, "retrieval": self.retrieval,
               **{f"p@{k}": v for k, v in self.precision.items()},
               "coverage": self.coverage, "evaluated": self.evaluated,
               "source_words": self.source_words, "pairs": self.pairs}
        if self.csls_k is not None:
            out["csls_k"] = self.csls_k
        return out


def gold_rows(source, target, pairs: list[tuple[str, str]]) -> tuple[list[int], list[set[int]], int]:
    """(source rows scored, their gold target rows, distinct source words of the test)."""
    gold: dict[str, set[int]] = {}
    for s, t in pairs:
        targets = gold.setdefault(s, set())
        if s in source.index and t in target.index:
            targets.add(target.index[t])
    scored = [(source.index[s], g) for s, g in gold.items() if g and s in source.index]
    return [r for r, _ in scored], [g for _, g in scored], len(gold)


def evaluate_translation(source: VectorsLike, target: VectorsLike, pairs: PairsLike | None = None,
                         *, identical: bool = False, config: AlignConfig | None = None,
                         block_bytes: int = RETRIEVAL_BLOCK_BYTES, **settings: Any
                         ) -> TranslationResult:
    """P@1, P@5, P@10 and coverage of translating ``pairs``' source words into ``target``
    (see the module's docstring); ``settings``: AlignConfig's ``csls`` and ``csls_k``."""
    config = align_config(config, settings)
    source, target = as_vectors(source), as_vectors(target)
    if identical and pairs is not None:
        raise EmbedtrainError("give test pairs or --identical (the words both spaces share), not both")
    if not identical and pairs is None:
        raise EmbedtrainError("evaluation needs test pairs (PAIRS) or the words both spaces "
                              "share (--identical)")
    check_same_dim(source, target)
    test = shared_pairs(source, target) if identical else as_pairs(pairs)
    if not test:
        raise EmbedtrainError("the two vocabularies share no word" if identical
                              else "the test dictionary holds no pair")
    rows, gold, n_sources = gold_rows(source, target, test)
    if not rows:
        raise EmbedtrainError(f"no test pair has both words in the vectors ({len(test):,} pairs, "
                              f"{n_sources:,} source words): nothing to evaluate")
    x, z = normalize(source.vectors), normalize(target.vectors)
    queries = x[np.asarray(rows, dtype=np.int64)]
    key_penalty = query_penalty = None
    if config.csls:
        # r_S of every target over every source, r_T of the queries (MUSE)
        key_penalty = mean_top_similarity(z, x, config.csls_k, block_bytes)
        query_penalty = mean_top_similarity(queries, z, config.csls_k, block_bytes)
    top, _ = top_keys(queries, z, max(PRECISION_AT), block_bytes, key_penalty, query_penalty)
    first_hit = np.full(len(rows), np.inf)
    for i, (found, answers) in enumerate(zip(top, gold)):
        for rank, t in enumerate(found.tolist()):
            if t in answers:
                first_hit[i] = rank
                break
    precision = {k: float(np.mean(first_hit < k)) for k in PRECISION_AT}
    return TranslationResult("identical" if identical else "dictionary",
                             "csls" if config.csls else "cosine", precision, len(rows), n_sources,
                             len(test), config.csls_k if config.csls else None)
