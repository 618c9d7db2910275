"""Continuing a finished model on new text (``train --continue MODEL.etm``).

The vocabulary grows (Vocab.merged: old words plus the new text's words that reach
--min-count, counts summed); each family carries the model's rows over to it
(Family.grown_arrays) with the helpers here: a word keeps its trained rows under its
new id, a new row starts as a fresh run over the merged vocabulary starts it. The
noise table, subsampling and the Huffman tree are built from the merged counts like
any run's. docs/training.md, "Continuing on new text", says what each model keeps.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import EmbedtrainError
from ..vocab import Vocab


def old_positions(old: Vocab, new: Vocab) -> np.ndarray:
    """int64 [V_old]: each word of ``old`` by its id in ``new`` (which holds them all)."""
    try:
        return np.fromiter((new.index[w] for w in old.words), dtype=np.int64, count=len(old))
    except KeyError as exc:  # pragma: no cover - Vocab.merged keeps every old word
        raise EmbedtrainError(f"the grown vocabulary lost the word {exc.args[0]!r}") from None


def same_huffman_tree(old: Vocab, new: Vocab) -> bool:
    """Whether the Huffman tree over ``new``'s counts is the one over ``old``'s: the same
    words in the same order with the same codes and inner nodes."""
    if old.words != new.words:
        return False
    a, b = old.huffman(), new.huffman()
    return (np.array_equal(a.offsets, b.offsets) and np.array_equal(a.codes, b.codes)
            and np.array_equal(a.points, b.points))


def prior_tokens(model: Any) -> int:
    """Corpus tokens the model has been trained on so far (every corpus of its lineage)."""
    lineage = model.stats.get("lineage")
    if isinstance(lineage, list) and lineage:
        return int(sum(int(e.get("tokens") or 0) for e in lineage if isinstance(e, dict)))
    return int(model.stats.get("corpus_tokens") or 0)


def lineage_so_far(model: Any) -> list[dict[str, Any]]:
    """The lineage ``model`` records (one entry for a model written before lineage was)."""
    known = model.stats.get("lineage")
    if isinstance(known, list) and known:
        return [dict(e) for e in known if isinstance(e, dict)]
    return [{"corpus": "(not recorded)", "tokens": int(model.stats.get("corpus_tokens") or 0),
             "vocab_words": len(model.vocab), "words_trained": int(model.stats.get("words_trained") or 0)}]


def lineage(before: list[dict[str, Any]] | None, record: dict[str, Any], stats: dict[str, Any],
            epochs: int, mode: str = "continue") -> list[dict[str, Any]]:
    """The model's lineage after this run: the corpora it was trained on, oldest first
    (``before``: the lineage of the model trained further, or None for a fresh run;
    ``mode``: how, "continue" or "resume"), each with its tokens, the vocabulary size after
    it, the epochs and the words trained."""
    entry = {"corpus": record, "tokens": int(stats.get("corpus_tokens", 0)),
             "vocab_words": int(stats.get("vocab_words", 0)), "epochs": int(epochs),
             "words_trained": int(stats.get("words_trained", 0)),
             "mode": mode if before is not None else "train"}
    return list(before or []) + [entry]
