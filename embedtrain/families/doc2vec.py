"""The doc2vec family: PV-DBOW (Le and Mikolov 2014; gensim's Doc2Vec with dm=0), each
line (or each --doc-id group of lines) a document with its own input row, trained on the
skip-gram family's pieces (kernels/doc2vec.py). Documents are read into memory
(corpus/documents.py)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..config import Doc2VecConfig
from ..errors import EmbedtrainError
from .base import Family


# gensim 4 starts word and document rows uniform in [-1/dim, 1/dim); with word2vec.c's
# [-0.5/dim, 0.5/dim) the documents of a short run shared more of one direction (cosine
# 0.99 between unrelated documents after 20 epochs on tests/test_doc2vec.py's topics).
INIT_BOUND = 1.0


class Doc2Vec(Family):
    name = "doc2vec"
    title = "doc2vec"
    configs = {"doc2vec": Doc2VecConfig}

    def lr_at(self, config, units_done, units_per_epoch):
        from ..kernels.common import WORD2VEC_LR_FLOOR, WORD2VEC_LR_OFFSET, scheduled_lr

        return scheduled_lr(config.lr, units_done, units_per_epoch, config.epochs, WORD2VEC_LR_FLOOR,
                            WORD2VEC_LR_OFFSET, 1.0)

    def checkpoint_shapes(self, config, vocab, layout):
        raise EmbedtrainError("doc2vec does not write checkpoints yet")

    def fresh_arrays(self, config: Doc2VecConfig, vocab_size: int, n_docs: int) -> dict[str, np.ndarray]:
        """Word and document rows uniform in [-1/dim, 1/dim) (gensim 4's prep_vectors; the
        document rows from seed + 1), zero output rows."""
        from .word2vec import init_input_vectors

        return {"input_vectors": init_input_vectors(vocab_size, config.dim, config.seed, INIT_BOUND),
                "output_vectors": np.zeros((vocab_size, config.dim), dtype=np.float32),
                "doc_vectors": init_input_vectors(n_docs, config.dim, config.seed + 1, INIT_BOUND)}

    def train(self, config: Doc2VecConfig, corpus: Any, options, **extra: Any):
        import collections
        import logging
        import time

        from ..corpus.documents import encode_lines, read_documents, with_line_ends
        from ..training.doc2vec import Doc2VecTask
        from ..training.prepare import drive
        from ..training.runner import check_finite, summary_line
        from ..vocab import Vocab

        for given, what in ((options.resume is not None or options.resume_checkpoint is not None, "--resume"),
                            (options.init is not None, "--continue"), (options.read_vocab, "--read-vocab"),
                            (config.checkpoint_every, "--checkpoint-every")):
            if given:
                raise EmbedtrainError(f"{what} does not work with --model doc2vec yet")
        log = logging.getLogger("embedtrain")
        started = time.perf_counter()
        docs = read_documents(corpus, config.doc_id, config.lowercase)
        counts = collections.Counter()
        for line in docs.lines:
            counts.update(line)
        if not counts:
            raise EmbedtrainError("the corpus is empty: no tokens were found")
        words = list(counts)  # first-seen order breaks ties in count
        vocab = Vocab.build(words, np.array([counts[w] for w in words], dtype=np.int64),
                            config.min_count, config.max_vocab)
        ids, offsets = encode_lines(docs.lines, vocab.index)
        if len(ids) == 0:
            raise EmbedtrainError("no word of the vocabulary occurs in the corpus")
        if options.save_vocab:
            vocab.save(options.save_vocab)
        tokens, line_starts = with_line_ends(ids, offsets)
        stats: dict[str, Any] = {"corpus_tokens": int(sum(counts.values())), "corpus_types": len(counts),
                                 "vocab_tokens": int(len(ids)), "documents": len(docs.tags),
                                 "read_seconds": round(time.perf_counter() - started, 3)}
        log.info("read %s documents, %s tokens (%s distinct); vocabulary: %s words covering %s tokens",
                 f"{len(docs.tags):,}", f"{stats['corpus_tokens']:,}", f"{len(counts):,}",
                 f"{len(vocab):,}", f"{len(ids):,}")
        arrays = self.fresh_arrays(config, len(vocab), len(docs.tags))
        task = Doc2VecTask(config, vocab, arrays, tokens, line_starts, docs.line_docs)
        fingerprint = {"tokens": int(len(ids)), "documents": len(docs.tags)}
        result = drive(task, config, options, vocab, stats, lambda: fingerprint)
        check_finite(config.model, arrays["doc_vectors"], arrays["input_vectors"])
        stats.update(words_trained=task.total_words, train_seconds=round(result.seconds, 3),
                     words_per_second=round(task.total_words / max(result.seconds, 1e-9)))
        from ..models import Doc2VecModel

        model = Doc2VecModel(config, vocab, arrays, stats, doc_tags=docs.tags)
        log.debug(summary_line(model))
        return model


DOC2VEC = Doc2Vec()
