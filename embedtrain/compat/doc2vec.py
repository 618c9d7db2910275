"""gensim's ``Doc2Vec`` and ``TaggedDocument`` trained by embedtrain's doc2vec (PV-DBOW,
families/doc2vec.py): gensim 4's arguments, meanings and defaults. gensim's default ``dm=1``
(PV-DM) is not implemented, so it is refused in one line: say ``dm=0`` (docs/gensim.md)."""
from __future__ import annotations

import inspect
import os
from collections import Counter, namedtuple
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..errors import EmbedtrainError
from .common import MAX_WORDS_IN_BATCH, TrainedModel, _same, one_corpus
from .keyedvectors import KeyedVectors
from .word2vec import _count_file, _GensimHooks

# How many leading document rows are gensim's plain-int tags 0..N-1 (kept in the model's
# stats, so that load gives back int keys).
INT_TAGS_STAT = "gensim_int_tags"
# gensim 4's min_alpha; embedtrain's doc2vec rate falls to lr x 1e-4 (word2vec.c's floor)
GENSIM_MIN_ALPHA = 0.0001


class TaggedDocument(namedtuple("TaggedDocument", "words tags")):
    """gensim's TaggedDocument: ``words`` (a list of tokens) and ``tags`` (a list holding
    one tag, an int or a string: embedtrain's documents have one name each)."""

    def __str__(self) -> str:
        return f"{type(self).__name__}<{self.words}, {self.tags}>"


# gensim's arguments embedtrain does not implement, at gensim's defaults (refused otherwise)
UNSUPPORTED_DEFAULTS: dict[str, Any] = dict(
    dm_mean=None, dm_concat=0, dm_tag_count=1, dv=None, dv_mapfile=None, trim_rule=None, shrink_windows=True,
    hs=0, cbow_mean=1, hashfxn=hash, null_word=0, sorted_vocab=1, batch_words=MAX_WORDS_IN_BATCH,
    min_alpha=GENSIM_MIN_ALPHA)


def _refuse(where: str, given: dict[str, Any], dm: Any = 0) -> None:
    """One line naming every unsupported argument given a value other than gensim's
    default (and dm=1, whose gensim default embedtrain cannot train)."""
    bad = [name for name, value in given.items() if not _same(value, UNSUPPORTED_DEFAULTS[name])]
    parts = []
    if dm:
        parts.append("dm=1 (PV-DM) is not supported by embedtrain, which trains PV-DBOW: pass dm=0")
    if bad:
        parts.append(f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} not supported by embedtrain "
                     "(leave at gensim's default)")
    if parts:
        raise EmbedtrainError(f"{where}: {'; '.join(parts)} (docs/gensim.md)")


class Doc2Vec(TrainedModel):
    """gensim's ``Doc2Vec`` with ``dm=0`` (PV-DBOW; ``dbow_words=1`` also trains the word
    vectors by skip-gram), trained by embedtrain. ``model.dv``: the documents' vectors by
    tag; ``model.wv``: the words'; ``infer_vector`` gives the same vector every call."""

    def __init__(self, documents: Iterable[Any] | None = None, corpus_file: str | None = None,
                 vector_size: int = 100, dm_mean: Any = None, dm: int = 1, dbow_words: int = 0,
                 dm_concat: int = 0, dm_tag_count: int = 1, dv: Any = None, dv_mapfile: Any = None,
                 comment: str | None = None, trim_rule: Any = None, callbacks: Sequence[Any] = (),
                 window: int = 5, epochs: int = 10, shrink_windows: bool = True, alpha: float = 0.025,
                 min_alpha: float = GENSIM_MIN_ALPHA, min_count: int = 5, max_vocab_size: int | None = None,
                 sample: float = 1e-3, seed: int = 1, workers: int = 3, hs: int = 0, negative: int = 5,
                 ns_exponent: float = 0.75, cbow_mean: int = 1, hashfxn: Any = hash, null_word: int = 0,
                 sorted_vocab: int = 1, batch_words: int = MAX_WORDS_IN_BATCH, compute_loss: bool = False,
                 max_final_vocab: int | None = None, **kwargs: Any):
        if kwargs:
            raise EmbedtrainError(f"Doc2Vec: {', '.join(kwargs)} {'is not an argument' if len(kwargs) == 1 else 'are not arguments'} "
                                  "of gensim's Doc2Vec")
        _refuse("Doc2Vec", {k: v for k, v in locals().items() if k in UNSUPPORTED_DEFAULTS}, dm)
        self.vector_size, self.dm, self.dbow_words, self.window = vector_size, 0, int(bool(dbow_words)), window
        self.epochs, self.alpha, self.min_alpha, self.min_count = epochs, alpha, min_alpha, min_count
        self.max_vocab_size, self.sample, self.seed, self.workers = max_vocab_size, sample, seed, workers
        self.hs, self.negative, self.ns_exponent = hs, negative, ns_exponent
        self.max_final_vocab, self.effective_min_count = max_final_vocab, min_count
        self._untrained(compute_loss, callbacks, comment)
        self._dv: DocKeyedVectors | None = None
        self._check_settings()
        if documents is not None or corpus_file is not None:
            self.build_vocab(corpus_iterable=documents, corpus_file=corpus_file)
            self.train(corpus_iterable=documents, corpus_file=corpus_file, total_examples=self.corpus_count,
                       epochs=self.epochs, callbacks=callbacks)

    # ------------------------------------------------------------------ settings
    def _settings(self) -> dict[str, Any]:
        return dict(model="doc2vec", dim=self.vector_size, window=self.window, min_count=self.effective_min_count,
                    max_vocab=self.max_vocab_size, sample=self.sample, seed=self.seed, threads=self.workers,
                    lr=self.alpha, negative=self.negative, ns_exponent=self.ns_exponent, epochs=self.epochs,
                    dbow_words=bool(self.dbow_words), doc_id=True)

    def _check_settings(self) -> None:
        from ..config import make_config

        settings = self._settings()
        make_config(settings.pop("model"), None, **settings)

    # ------------------------------------------------------------------ the vectors
    @property
    def wv(self) -> KeyedVectors:
        """The word vectors (trained with dbow_words=1; else their random start, as gensim's)."""
        self._trained()
        return self._wv

    @property
    def dv(self) -> "DocKeyedVectors":
        """The trained documents' vectors, by tag (gensim's int tags: keys 0..max)."""
        self._trained()
        return self._dv

    def __repr__(self) -> str:
        return (f"Doc2Vec<dbow{',w' + str(self.window) if self.dbow_words else ''},d{self.vector_size},"
                f"n{self.negative},mc{self.min_count},s{self.sample},t{self.workers}>")

    def infer_vector(self, doc_words: Sequence[str], alpha: float | None = None, min_alpha: float | None = None,
                     epochs: int | None = None) -> np.ndarray:
        """A vector for a new document (a list of tokens), trained against the frozen
        output weights: ``epochs`` passes (default the model's), the rate falling linearly
        from ``alpha`` (default the model's) and never below ``min_alpha``. The same words
        give the same vector on every call (gensim's differs each call)."""
        if isinstance(doc_words, str):
            raise EmbedtrainError("infer_vector: doc_words is a list of tokens, not a string")
        fitted = self._trained()
        lr = self.alpha if alpha is None else float(alpha)
        floor = self.min_alpha if min_alpha is None else float(min_alpha)
        if not 0 < lr or not 0 <= floor <= lr:
            raise EmbedtrainError(f"infer_vector: need 0 < alpha and 0 <= min_alpha <= alpha "
                                  f"(got {lr:g}, {floor:g})")
        return fitted.infer_vectors([list(doc_words)], epochs=epochs, lr=lr, min_lr=floor)[0]

    def similarity_unseen_docs(self, doc_words1: Sequence[str], doc_words2: Sequence[str], alpha: Any = None,
                               min_alpha: Any = None, epochs: int | None = None) -> float:
        """Cosine similarity of the two documents' inferred vectors."""
        a = self.infer_vector(doc_words1, alpha, min_alpha, epochs)
        b = self.infer_vector(doc_words2, alpha, min_alpha, epochs)
        return float(np.dot(a, b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-30))

    # ------------------------------------------------------------------ training
    def build_vocab(self, corpus_iterable: Iterable[Any] | None = None, corpus_file: str | os.PathLike | None = None,
                    update: bool = False, progress_per: int = 10000, keep_raw_vocab: bool = False,
                    trim_rule: Any = None, **kwargs: Any) -> None:
        """Read the documents (``corpus_count``, ``corpus_total_words``; their tags
        checked). The vocabulary is built by :meth:`train` from the corpus it is given."""
        bad = [k for k, v, d in (("keep_raw_vocab", keep_raw_vocab, False), ("trim_rule", trim_rule, None),
                                 ("progress_per", progress_per, 10000)) if not _same(v, d)] + list(kwargs)
        if update:
            bad.insert(0, "update=True (embedtrain's doc2vec does not continue training)")
        if bad:
            raise EmbedtrainError(f"build_vocab: {', '.join(bad)} not supported by embedtrain")
        corpus = _one_corpus(corpus_iterable, corpus_file)
        counts = None if self.max_final_vocab is None else Counter()
        self.corpus_count, self.corpus_total_words, _ = _scan(corpus, counts)
        if counts is not None:
            ranked = sorted(counts.values(), reverse=True)
            needed = ranked[self.max_final_vocab] + 1 if self.max_final_vocab < len(ranked) else 1
            self.effective_min_count = max(needed, self.min_count)

    def train(self, corpus_iterable: Iterable[Any] | None = None, corpus_file: str | os.PathLike | None = None,
              total_examples: int | None = None, total_words: int | None = None, epochs: int | None = None,
              start_alpha: float | None = None, end_alpha: float | None = None, word_count: int = 0,
              queue_factor: int = 2, report_delay: float = 1.0, callbacks: Sequence[Any] = (),
              **kwargs: Any) -> tuple[int, int]:
        """Train on the documents (once: embedtrain's doc2vec does not continue a trained
        model). Returns (words trained, words in the corpus x epochs)."""
        import embedtrain

        bad = [k for k, v, d in (("word_count", word_count, 0), ("queue_factor", queue_factor, 2),
                                 ("report_delay", report_delay, 1.0)) if not _same(v, d)] + list(kwargs)
        if end_alpha is not None and not _same(end_alpha, GENSIM_MIN_ALPHA):
            bad.append("end_alpha")
        if bad:
            raise EmbedtrainError(f"train: {', '.join(bad)} not supported by embedtrain (docs/gensim.md)")
        if self._model is not None:
            raise EmbedtrainError("train: this Doc2Vec model is trained already; embedtrain's doc2vec does "
                                  "not continue training (train a new model on all the documents)")
        corpus = _one_corpus(corpus_iterable, corpus_file)
        self.running_training_loss = 0.0
        self._epochs_done = 0
        given = list(callbacks) or list(self.callbacks)
        hooks = _GensimHooks(self, given)
        settings = self._settings()
        settings.update(epochs=epochs if epochs is not None else self.epochs,
                        lr=start_alpha if start_alpha is not None else self.alpha)
        if isinstance(corpus, Path):
            # gensim's corpus_file: one document a line, tagged by its line number (ints)
            settings["doc_id"] = False
            fitted = embedtrain.train(os.fspath(corpus), progress=False, callbacks=[hooks], **settings)
            int_tags = len(fitted.doc_tags)
        else:
            _, _, int_tags = _scan(corpus)
            fitted = embedtrain.train(_TaggedLines(corpus, int_tags), progress=False, callbacks=[hooks], **settings)
        fitted.stats[INT_TAGS_STAT] = int_tags
        self._set_model(fitted)
        self.train_count += 1
        for cb in given:
            if getattr(cb, "on_train_end", None) is not None:
                cb.on_train_end(self)
        words = int(sum(h.get("units", 0) for h in fitted.stats.get("history", []) if isinstance(h, dict)))
        return words, int(fitted.stats.get("corpus_tokens", 0)) * settings["epochs"]

    def _set_model(self, fitted: Any) -> None:
        self._model = fitted
        self._wv = KeyedVectors._of(fitted.vectors)
        self._dv = DocKeyedVectors(fitted.docvecs, int(fitted.stats.get(INT_TAGS_STAT, 0)))

    # ------------------------------------------------------------------ files
    @classmethod
    def load(cls, fname: str | os.PathLike, *args: Any, **kwargs: Any) -> "Doc2Vec":
        """Read a model :meth:`save` (or ``embedtrain train --model doc2vec``) wrote; a
        gensim pickle is refused in one line."""
        fitted = cls._load_model_file(fname, args, kwargs, "")
        if fitted.kind != "doc2vec":
            raise EmbedtrainError(f"a {fitted.kind} model is not a Doc2Vec model")
        c = fitted.config
        self = cls.__new__(cls)
        self.vector_size, self.dm, self.dbow_words, self.window = c.dim, 0, int(c.dbow_words), c.window
        self.epochs, self.alpha, self.min_alpha, self.min_count = c.epochs, c.lr, GENSIM_MIN_ALPHA, c.min_count
        self.max_vocab_size, self.sample, self.seed, self.workers = c.max_vocab, c.sample, c.seed, c.threads or 3
        self.hs, self.negative, self.ns_exponent = 0, c.negative, c.ns_exponent
        self.max_final_vocab, self.effective_min_count = None, c.min_count
        self.compute_loss, self.callbacks, self.comment = False, (), None
        self.running_training_loss, self.train_count, self._epochs_done = 0.0, 1, 0
        self.corpus_count = len(fitted.doc_tags)
        self.corpus_total_words = int(fitted.stats.get("corpus_tokens", 0))
        self._set_model(fitted)
        return self


# --------------------------------------------------------------------------- dv

# Arguments of Vectors' methods that hold document keys (converted from gensim's int tags)
_KEY_ARGS = frozenset({"word", "key", "a", "b", "c", "positive", "negative", "keys", "words", "word_or_vector",
                       "other_words", "w1", "w2", "ws1", "ws2", "word1", "word2", "wa", "wb", "exclude"})


class DocKeyedVectors(KeyedVectors):
    """``model.dv``: KeyedVectors over the documents' vectors whose keys are the tags as
    given (gensim's plain-int tags 0..N-1 name the first N rows; embedtrain's model
    stores every tag as a string)."""

    def __init__(self, vectors: Any, int_tags: int = 0):
        super().__init__(vectors.dim, vectors=vectors)
        self._n_int = int(int_tags)

    def _key(self, key: Any) -> Any:
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            return str(int(key))
        return key

    def _keys(self, value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return value
        if isinstance(value, (list, tuple)):
            if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], float):
                return (self._keys(value[0]), value[1])  # (key, weight)
            return type(value)(self._keys(v) for v in value)
        return self._key(value)

    def _out(self, value: Any) -> Any:
        if isinstance(value, str):
            i = self._kv.index.get(value)
            return int(value) if i is not None and i < self._n_int else value
        if isinstance(value, (list, tuple)):
            return type(value)(self._out(v) for v in value)
        return value

    def _wrap(self, method: Any) -> Any:
        try:
            signature = inspect.signature(method)
        except (TypeError, ValueError):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            for name in list(bound.arguments):
                if name in _KEY_ARGS:
                    bound.arguments[name] = self._keys(bound.arguments[name])
            return self._out(method(*bound.args, **bound.kwargs))

        return call

    def __getattr__(self, name: str) -> Any:
        value = super().__getattr__(name)
        return self._wrap(value) if callable(value) and not name.startswith("_") else value

    @property
    def index_to_key(self) -> list[Any]:
        return [int(w) if i < self._n_int else w for i, w in enumerate(self._kv.words)]

    @property
    def key_to_index(self) -> dict[Any, int]:
        """The string tags' rows (as gensim's: an int tag is its own row, not listed here)."""
        return {w: i for i, w in enumerate(self._kv.words) if i >= self._n_int}

    def __repr__(self) -> str:
        return f"KeyedVectors<vector_size={self._kv.dim}, {len(self._kv)} documents>"

    def __getitem__(self, key_or_keys: Any) -> np.ndarray:
        return self._kv[self._keys(key_or_keys)]

    def __contains__(self, key: Any) -> bool:
        return self._kv.has_index_for(self._key(key))

    def get_index(self, key: Any, default: int | None = None) -> int:
        return self._kv.get_index(self._key(key), default)

    def most_similar_cosmul(self, positive: Any = None, negative: Any = None, topn: int | None = 10,
                            restrict_vocab: int | None = None):
        return self._out(super().most_similar_cosmul(self._keys(positive), self._keys(negative), topn,
                                                     restrict_vocab))


# --------------------------------------------------------------------------- documents

def _one_corpus(corpus_iterable: Any, corpus_file: Any) -> Any:
    return one_corpus(corpus_iterable, corpus_file, "documents", "TaggedDocument",
                      "embedtrain reads it once to check the tags and once to train")


def _tag_of(number: int, document: Any) -> Any:
    """The one tag of a TaggedDocument (an int, or a string without whitespace)."""
    try:
        words, tags = document.words, document.tags
    except AttributeError:
        raise EmbedtrainError(f"document {number} is not a TaggedDocument (words, tags): "
                              f"{type(document).__name__}") from None
    if isinstance(words, str):
        raise EmbedtrainError(f"document {number}: words is a string; give a list of tokens")
    if isinstance(tags, (str, int, np.integer)) or len(tags) != 1:
        raise EmbedtrainError(f"document {number} has tags {tags!r}: embedtrain's documents take one tag "
                              "each, in a list ([7] or ['doc7']); documents sharing a tag train one vector")
    tag = tags[0]
    if isinstance(tag, (int, np.integer)) and not isinstance(tag, bool):
        if tag < 0:
            raise EmbedtrainError(f"document {number}: an int tag must be >= 0 (got {tag})")
        return int(tag)
    if not isinstance(tag, str) or not tag or tag != "".join(tag.split()):
        raise EmbedtrainError(f"document {number}: tag {tag!r} must be an int or a non-empty string "
                              "without whitespace")
    return tag


def _scan(corpus: Any, counts: Counter | None = None) -> tuple[int, int, int]:
    """(documents, words, how many int tags 0..N-1) of the corpus; its tags checked."""
    if isinstance(corpus, Path):
        lines, words = _count_file(corpus, counts)
        return lines, words, lines
    docs = words = 0
    top = -1
    digits: set[str] = set()
    for number, document in enumerate(corpus):
        tag = _tag_of(number, document)
        if isinstance(tag, int):
            top = max(top, tag)
        elif tag.isdigit():
            digits.add(tag)
        docs += 1
        words += len(document.words)
        if counts is not None:
            counts.update(document.words)
    clash = [t for t in digits if int(t) <= top]
    if clash:
        raise EmbedtrainError(f"tag {clash[0]!r} (a string) and {int(clash[0])} (an int) would name one "
                              "document in embedtrain: use ints or strings for them")
    return docs, words, top + 1


class _TaggedLines:
    """The documents as embedtrain's doc_id lines (the tag, then the words), after one
    empty line per int tag 0..N-1 in order: the model's first N rows are gensim's int
    tags, then the string tags in first-seen order (gensim's dv order). An int tag no
    document has keeps its random start, as in gensim."""

    def __init__(self, documents: Iterable[Any], int_tags: int):
        self.documents, self.int_tags = documents, int_tags

    def __iter__(self):
        for i in range(self.int_tags):
            yield [str(i)]
        for document in self.documents:
            yield [str(document.tags[0]), *document.words]
