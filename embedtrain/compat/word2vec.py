"""gensim's ``Word2Vec`` and ``FastText`` (and ``CallbackAny2Vec``) trained by embedtrain:
gensim's arguments, meanings and defaults mapped onto embedtrain's settings."""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..errors import EmbedtrainError
from ..training.callbacks import Callback
from .common import MAX_WORDS_IN_BATCH, TrainedModel, _refuse_unsupported, one_corpus
from .keyedvectors import KeyedVectors


class CallbackAny2Vec:
    """gensim's callback base class: override any hook; each gets the model."""

    def on_epoch_begin(self, model: Any) -> None:
        pass

    def on_epoch_end(self, model: Any) -> None:
        pass

    def on_batch_begin(self, model: Any) -> None:
        pass

    def on_batch_end(self, model: Any) -> None:
        pass

    def on_train_begin(self, model: Any) -> None:
        pass

    def on_train_end(self, model: Any) -> None:
        pass


class _GensimHooks(Callback):
    """embedtrain's callback hooks calling gensim-style callbacks with the model, and
    keeping the model's running loss and epoch count."""

    def __init__(self, model: "Word2Vec", callbacks: Sequence[Any]):
        self.model, self.callbacks = model, list(callbacks)

    def _call(self, hook: str) -> None:
        for cb in self.callbacks:
            method = getattr(cb, hook, None)
            if method is not None:
                method(self.model)

    def on_train_begin(self, model_kind: str, epochs: int) -> None:
        self._call("on_train_begin")

    def on_epoch_begin(self, epoch: int) -> None:
        self._call("on_epoch_begin")

    def on_progress(self, info: Any) -> None:
        self._call("on_batch_begin")
        self._call("on_batch_end")

    def on_epoch_end(self, info: Any) -> None:
        if self.model.compute_loss:
            self.model.running_training_loss += float(info.loss) * int(info.units)
        self.model._epochs_done += 1
        self._call("on_epoch_end")

    def on_train_end(self, history: list[dict]) -> None:
        pass  # called by Word2Vec.train once the vectors are there


# --------------------------------------------------------------------------- Word2Vec

WORD2VEC_DEFAULTS: dict[str, Any] = dict(
    sentences=None, corpus_file=None, vector_size=100, alpha=0.025, window=5, min_count=5,
    max_vocab_size=None, sample=1e-3, seed=1, workers=3, min_alpha=0.0001, sg=0, hs=0, negative=5,
    ns_exponent=0.75, cbow_mean=1, hashfxn=hash, epochs=5, null_word=0, trim_rule=None, sorted_vocab=1,
    batch_words=MAX_WORDS_IN_BATCH, compute_loss=False, callbacks=(), comment=None, max_final_vocab=None,
    shrink_windows=True)
# Arguments embedtrain does not implement: refused unless at gensim's default.
UNSUPPORTED = ("hashfxn", "null_word", "trim_rule", "sorted_vocab", "batch_words", "shrink_windows")
TRAIN_DEFAULTS: dict[str, Any] = dict(word_count=0, queue_factor=2, report_delay=1.0)


class Word2Vec(TrainedModel):
    """gensim's ``Word2Vec`` (skip-gram with ``sg=1``, CBOW otherwise) trained by embedtrain."""

    _model_name = "word2vec"

    def __init__(self, sentences: Iterable[Sequence[str]] | None = None, corpus_file: str | None = None,
                 vector_size: int = 100, alpha: float = 0.025, window: int = 5, min_count: int = 5,
                 max_vocab_size: int | None = None, sample: float = 1e-3, seed: int = 1, workers: int = 3,
                 min_alpha: float = 0.0001, sg: int = 0, hs: int = 0, negative: int = 5,
                 ns_exponent: float = 0.75, cbow_mean: int = 1, hashfxn: Any = hash, epochs: int = 5,
                 null_word: int = 0, trim_rule: Any = None, sorted_vocab: int = 1,
                 batch_words: int = MAX_WORDS_IN_BATCH, compute_loss: bool = False,
                 callbacks: Sequence[Any] = (), comment: str | None = None, max_final_vocab: int | None = None,
                 shrink_windows: bool = True):
        _refuse_unsupported(type(self).__name__, {k: v for k, v in locals().items() if k in UNSUPPORTED},
                            WORD2VEC_DEFAULTS)
        if not sg and not cbow_mean:
            raise EmbedtrainError(f"{type(self).__name__}: cbow_mean=0 (the sum of the context vectors) is not "
                                  "supported by embedtrain (CBOW takes their mean)")
        self.vector_size, self.alpha, self.window, self.min_count = vector_size, alpha, window, min_count
        self.max_vocab_size, self.sample, self.seed, self.workers = max_vocab_size, sample, seed, workers
        self.min_alpha, self.sg, self.hs, self.negative = min_alpha, sg, hs, negative
        self.ns_exponent, self.cbow_mean, self.epochs = ns_exponent, cbow_mean, epochs
        self.max_final_vocab, self.effective_min_count = max_final_vocab, min_count
        self._untrained(compute_loss, callbacks, comment)
        self._grow = False
        self._check_settings()
        if sentences is not None or corpus_file is not None:
            self.build_vocab(corpus_iterable=sentences, corpus_file=corpus_file)
            self.train(corpus_iterable=sentences, corpus_file=corpus_file, total_examples=self.corpus_count,
                       total_words=self.corpus_total_words, epochs=self.epochs, start_alpha=self.alpha,
                       end_alpha=self.min_alpha, compute_loss=compute_loss, callbacks=callbacks)

    # ------------------------------------------------------------------ settings
    def _settings(self) -> dict[str, Any]:
        """embedtrain's settings for gensim's (gensim's numerics: a negative set per pair,
        the rate falling linearly over the whole run, vectors in [-1/dim, 1/dim))."""
        return dict(model="skipgram" if self.sg else "cbow", dim=self.vector_size, window=self.window,
                    min_count=self.effective_min_count, max_vocab=self.max_vocab_size, sample=self.sample,
                    seed=self.seed, threads=self.workers, lr=self.alpha, min_lr=self.min_alpha,
                    hs=bool(self.hs), negative=self.negative, ns_exponent=self.ns_exponent,
                    epochs=self.epochs, shared_negatives=False, epoch_decay=1.0, init_bound=1.0)

    def _check_settings(self) -> None:
        from ..config import make_config

        settings = self._settings()
        make_config(settings.pop("model"), None, **settings)

    # ------------------------------------------------------------------ the vectors
    @property
    def wv(self) -> KeyedVectors:
        if self._wv is None:
            raise EmbedtrainError("the vectors exist once training ends (embedtrain trains in its kernels: "
                                  "a callback gets the loss, not the vectors, during training)")
        return self._wv

    @property
    def syn1(self) -> np.ndarray:
        return self._trained().arrays["output_hs"]

    def __repr__(self) -> str:
        vocab = len(self._wv) if self._wv is not None else 0
        return f"{type(self).__name__}<vocab={vocab}, vector_size={self.vector_size}, alpha={self.alpha}>"

    # ------------------------------------------------------------------ training
    def build_vocab(self, corpus_iterable: Iterable[Sequence[str]] | None = None,
                    corpus_file: str | os.PathLike | None = None, update: bool = False,
                    progress_per: int = 10000, keep_raw_vocab: bool = False, trim_rule: Any = None,
                    **kwargs: Any) -> None:
        """Count the corpus (``corpus_count``, ``corpus_total_words``). The vocabulary is
        built by :meth:`train` from the corpus it is given (give it the same corpus, as
        gensim's documentation does); ``update=True`` makes the next train() continue
        this model on new text, new words joining."""
        _refuse_unsupported("build_vocab", {"keep_raw_vocab": keep_raw_vocab, "trim_rule": trim_rule,
                                            "progress_per": progress_per},
                            {"keep_raw_vocab": False, "trim_rule": None, "progress_per": 10000})
        if kwargs:
            raise EmbedtrainError(f"build_vocab: {', '.join(kwargs)} not supported by embedtrain")
        corpus = _one_corpus(corpus_iterable, corpus_file)
        if update and self._model is None:
            raise EmbedtrainError("build_vocab(update=True) needs a trained model: call build_vocab "
                                  "without update first")
        self._grow = bool(update)
        counts = None if (update or self.max_final_vocab is None) else Counter()
        self.corpus_count, self.corpus_total_words = _count(corpus, counts)
        if counts is not None:
            # gensim's rule: the min_count that leaves at most max_final_vocab words (or min_count)
            ranked = sorted(counts.values(), reverse=True)
            needed = ranked[self.max_final_vocab] + 1 if self.max_final_vocab < len(ranked) else 1
            self.effective_min_count = max(needed, self.min_count)

    def train(self, corpus_iterable: Iterable[Sequence[str]] | None = None,
              corpus_file: str | os.PathLike | None = None, total_examples: int | None = None,
              total_words: int | None = None, epochs: int | None = None, start_alpha: float | None = None,
              end_alpha: float | None = None, word_count: int = 0, queue_factor: int = 2,
              report_delay: float = 1.0, compute_loss: bool = False, callbacks: Sequence[Any] = (),
              **kwargs: Any) -> tuple[int, int]:
        """Train on the corpus: a fresh model the first time; then this model trained
        further (after build_vocab(update=True): continued on new text, new words
        joining; embedtrain.train(init=...)). ``total_examples``/``total_words`` are
        gensim's hints of the corpus size, which embedtrain counts itself. Returns
        (words trained, words in the corpus) as gensim's (effective, raw) words."""
        import embedtrain

        _refuse_unsupported("train", {"word_count": word_count, "queue_factor": queue_factor,
                                      "report_delay": report_delay}, TRAIN_DEFAULTS)
        if kwargs:
            raise EmbedtrainError(f"train: {', '.join(kwargs)} not supported by embedtrain")
        corpus = _one_corpus(corpus_iterable, corpus_file)
        self.compute_loss = bool(compute_loss)   # gensim: each train() says whether
        self.running_training_loss = 0.0
        self._epochs_done = 0
        given = list(callbacks) or list(self.callbacks)
        hooks = _GensimHooks(self, given)
        settings = self._settings()
        schedule = dict(epochs=epochs if epochs is not None else self.epochs,
                        lr=start_alpha if start_alpha is not None else self.alpha,
                        min_lr=end_alpha if end_alpha is not None else self.min_alpha,
                        threads=self.workers)
        if self._model is None:
            settings.update(schedule)
            fitted = embedtrain.train(_corpus_arg(corpus), progress=False, callbacks=[hooks], **settings)
        elif self._grow or self._model.kind == "fasttext":
            fitted = embedtrain.train(_corpus_arg(corpus), init=self._model, progress=False, callbacks=[hooks],
                                      min_count=self.min_count, **schedule)
        else:
            fitted = embedtrain.train(_corpus_arg(corpus), resume=self._model, progress=False,
                                      callbacks=[hooks], **schedule)
        self._grow = False
        self._set_model(fitted)
        self.train_count += 1
        for cb in given:
            if getattr(cb, "on_train_end", None) is not None:
                cb.on_train_end(self)
        words = int(sum(h.get("units", 0) for h in fitted.stats.get("history", []) if isinstance(h, dict)))
        return words, self.corpus_total_words * schedule["epochs"]

    def _set_model(self, fitted: Any) -> None:
        self._model = fitted
        self._wv = KeyedVectors._of(fitted.vectors)

    # ------------------------------------------------------------------ files
    @classmethod
    def load(cls, fname: str | os.PathLike, *args: Any, **kwargs: Any) -> "Word2Vec":
        """Read a model :meth:`save` (or ``embedtrain train``) wrote; a gensim pickle is
        refused in one line."""
        fitted = cls._load_model_file(fname, args, kwargs, " (vectors files: KeyedVectors.load_word2vec_format "
                                                           "or KeyedVectors.load)")
        return cls._from_model(fitted)

    @classmethod
    def _from_model(cls, fitted: Any) -> "Word2Vec":
        c = fitted.config
        wanted = "fasttext" if cls._model_name == "fasttext" else ("skipgram", "cbow")
        if (fitted.kind != wanted) if isinstance(wanted, str) else (fitted.kind not in wanted):
            raise EmbedtrainError(f"a {fitted.kind} model is not a {cls.__name__} model")
        self = cls.__new__(cls)
        sg = (c.arch == "skipgram") if fitted.kind == "fasttext" else (fitted.kind == "skipgram")
        self.vector_size, self.alpha, self.window, self.min_count = c.dim, c.lr, c.window, c.min_count
        self.max_vocab_size, self.sample, self.seed, self.workers = c.max_vocab, c.sample, c.seed, c.threads or 3
        self.min_alpha, self.sg, self.hs, self.negative = c.min_lr, int(sg), int(getattr(c, "hs", 0)), c.negative
        self.ns_exponent, self.cbow_mean, self.epochs = c.ns_exponent, 1, c.epochs
        self.max_final_vocab, self.effective_min_count = None, c.min_count
        if fitted.kind == "fasttext":
            self.min_n, self.max_n, self.bucket = c.minn, c.maxn, c.bucket
        self.compute_loss, self.callbacks, self.comment = False, (), None
        self.running_training_loss, self.train_count, self._epochs_done = 0.0, 1, 0
        self.corpus_count = self.corpus_total_words = 0
        self._grow = False
        self._set_model(fitted)
        return self


# --------------------------------------------------------------------------- FastText

FASTTEXT_DEFAULTS: dict[str, Any] = dict(WORD2VEC_DEFAULTS, word_ngrams=1, min_n=3, max_n=6, bucket=2_000_000)


class FastText(Word2Vec):
    """gensim's ``FastText`` trained by embedtrain's FastText (the same n-gram hashing as
    fastText and gensim); ``model.wv`` gives a vector for any word with an n-gram."""

    _model_name = "fasttext"

    def __init__(self, sentences: Iterable[Sequence[str]] | None = None, corpus_file: str | None = None,
                 sg: int = 0, hs: int = 0, vector_size: int = 100, alpha: float = 0.025, window: int = 5,
                 min_count: int = 5, max_vocab_size: int | None = None, word_ngrams: int = 1,
                 sample: float = 1e-3, seed: int = 1, workers: int = 3, min_alpha: float = 0.0001,
                 negative: int = 5, ns_exponent: float = 0.75, cbow_mean: int = 1, hashfxn: Any = hash,
                 epochs: int = 5, null_word: int = 0, min_n: int = 3, max_n: int = 6, sorted_vocab: int = 1,
                 bucket: int = 2_000_000, trim_rule: Any = None, batch_words: int = MAX_WORDS_IN_BATCH,
                 callbacks: Sequence[Any] = (), max_final_vocab: int | None = None, shrink_windows: bool = True,
                 compute_loss: bool = False):
        if hs:
            raise EmbedtrainError("FastText: hs=1 (hierarchical softmax) is not supported by embedtrain's "
                                  "FastText (negative sampling only)")
        if word_ngrams != 1:
            raise EmbedtrainError("FastText: word_ngrams is not supported by embedtrain (gensim, too, "
                                  "uses only 1)")
        self.min_n, self.max_n, self.bucket = min_n, max_n, bucket
        super().__init__(sentences=sentences, corpus_file=corpus_file, vector_size=vector_size, alpha=alpha,
                         window=window, min_count=min_count, max_vocab_size=max_vocab_size, sample=sample,
                         seed=seed, workers=workers, min_alpha=min_alpha, sg=sg, hs=hs, negative=negative,
                         ns_exponent=ns_exponent, cbow_mean=cbow_mean, hashfxn=hashfxn, epochs=epochs,
                         null_word=null_word, trim_rule=trim_rule, sorted_vocab=sorted_vocab,
                         batch_words=batch_words, compute_loss=compute_loss, callbacks=callbacks,
                         max_final_vocab=max_final_vocab, shrink_windows=shrink_windows)

    def _settings(self) -> dict[str, Any]:
        return dict(model="fasttext", arch="skipgram" if self.sg else "cbow", dim=self.vector_size,
                    window=self.window, min_count=self.effective_min_count, max_vocab=self.max_vocab_size,
                    sample=self.sample, seed=self.seed, threads=self.workers, lr=self.alpha,
                    min_lr=self.min_alpha, negative=self.negative, ns_exponent=self.ns_exponent,
                    epochs=self.epochs, minn=self.min_n, maxn=self.max_n, bucket=self.bucket)

    @property
    def syn1(self) -> np.ndarray:
        raise AttributeError("FastText trains with negative sampling only: no syn1")


# --------------------------------------------------------------------------- corpora

def _one_corpus(corpus_iterable: Any, corpus_file: Any) -> Any:
    return one_corpus(corpus_iterable, corpus_file, "sentences", "token lists",
                      "gensim reads it once per pass, embedtrain once to count and once to train")


def _corpus_arg(corpus: Any) -> Any:
    return os.fspath(corpus) if isinstance(corpus, Path) else corpus


def _count_file(path: Path, counts: Counter | None = None) -> tuple[int, int]:
    """(lines, whitespace tokens) of a text file; each token's count added to ``counts``
    when given (the Doc2Vec wrapper counts its files with this too)."""
    lines = words = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            tokens = line.split()
            lines += 1
            words += len(tokens)
            if counts is not None:
                counts.update(tokens)
    return lines, words


def _count(corpus: Any, counts: Counter | None = None) -> tuple[int, int]:
    """(sentences, words) of a corpus (a file: its lines and whitespace tokens); each
    word's count added to ``counts`` when given."""
    if isinstance(corpus, Path):
        return _count_file(corpus, counts)
    sentences = words = 0
    for sentence in corpus:
        sentences += 1
        words += len(sentence)
        if counts is not None:
            counts.update(sentence)
    return sentences, words
