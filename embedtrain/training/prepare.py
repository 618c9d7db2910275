"""From a token source to what every driver trains on: the vocabulary and the
stream of ids (read once), and the options of a run that are not model settings."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from ..config import CommonConfig
from ..corpus import TokenStream
from ..corpus.source import as_source
from ..errors import EmbedtrainError
from ..models import Model
from ..vocab import Vocab

log = logging.getLogger("embedtrain")

# A path, a list of paths, an iterable of token lists, or a TokenSource (corpus/source.py).
Corpus = Any


@dataclass(frozen=True)
class RunOptions:
    """How to run, as opposed to what to train (see config.py for that)."""

    progress: bool = True
    tmp_dir: str | None = None
    read_vocab: str | None = None
    save_vocab: str | None = None
    save_cooccur: str | None = None   # GloVe
    cooccur: str | None = None        # GloVe
    resume: Model | None = None       # continue training this model (its vocabulary and weights)


def prepare_corpus(corpus: Corpus | None, config: CommonConfig,
                   options: RunOptions) -> tuple[Vocab, TokenStream, dict[str, Any]]:
    """Read the corpus once: the vocabulary and the training stream of ids.

    Returns (vocab, stream, stats); the caller closes the stream.
    """
    source = as_source(corpus)
    started = time.perf_counter()
    raw = source.encode(lowercase=config.lowercase, max_line_tokens=config.max_line_tokens,
                        tmp_dir=options.tmp_dir)
    try:
        if raw.n_tokens == 0:
            raise EmbedtrainError("the corpus is empty: no tokens were found")
        if options.resume is not None:
            vocab = options.resume.vocab  # fixed: rows must keep their words
        elif options.read_vocab:
            vocab = Vocab.load(options.read_vocab).restricted(config.min_count, config.max_vocab)
        else:
            vocab = Vocab.build(raw.words, raw.counts, config.min_count, config.max_vocab)
        stream = raw.to_stream(vocab.index, options.tmp_dir)
    finally:
        raw.close()
    if stream.n_tokens == 0:
        stream.close()
        raise EmbedtrainError("no word of the vocabulary occurs in the corpus")
    if options.save_vocab:
        vocab.save(options.save_vocab)
    stats = {"corpus_tokens": raw.n_tokens, "corpus_types": len(raw.words),
             "vocab_tokens": stream.n_tokens, "read_seconds": round(time.perf_counter() - started, 3)}
    log.info("read %s tokens (%s distinct); vocabulary: %s words covering %s tokens (%.1f s)",
             f"{raw.n_tokens:,}", f"{len(raw.words):,}", f"{len(vocab):,}", f"{stream.n_tokens:,}",
             stats["read_seconds"])
    return vocab, stream, stats
