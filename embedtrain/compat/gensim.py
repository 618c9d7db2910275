"""gensim 4's API over embedtrain: change one import line.

    from embedtrain.compat.gensim import Word2Vec, FastText, KeyedVectors
    model = Word2Vec(sentences, vector_size=100, window=5, min_count=5, workers=4, sg=1)
    model.wv.most_similar(positive=["king", "woman"], negative=["man"], topn=10)

The constructors take gensim's arguments with gensim's meanings and defaults (read from
gensim 4.4's ``models/word2vec.py`` and ``models/fasttext.py``) and train with gensim's
numerics (negatives per pair, the rate falling linearly over the whole run from
``alpha`` to ``min_alpha``, vectors starting in [-1/dim, 1/dim)). An argument gensim has
and embedtrain does not implement is refused in one line naming it when it is not
gensim's default, never ignored. Files are embedtrain's (no pickle): ``save`` writes a
model archive (``.etm`` format) or a vectors archive, ``load`` reads them and says in
one line that a gensim pickle cannot be read. The differences are listed in docs/gensim.md.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..errors import EmbedtrainError
from ..training.callbacks import Callback

# gensim's constant: the number of words in a batch and its longest sentence.
MAX_WORDS_IN_BATCH = 10_000
# gensim's most_similar_cosmul keeps its quotient finite with this (embedtrain's own: 1e-3).
GENSIM_COSMUL_EPSILON = 1e-6
# A pickle starts with the PROTO opcode (protocol 2 and later: gensim's files).
PICKLE_PROTO = 0x80


def _refuse_unsupported(where: str, given: dict[str, Any], defaults: dict[str, Any]) -> None:
    """One line naming every argument given a value other than gensim's default."""
    bad = [name for name, value in given.items() if not _same(value, defaults[name])]
    if bad:
        raise EmbedtrainError(f"{where}: {', '.join(bad)} {'is' if len(bad) == 1 else 'are'} not supported "
                              "by embedtrain (leave at gensim's default; docs/gensim.md)")


def _same(value: Any, default: Any) -> bool:
    if default is None or callable(default):
        return value is default
    try:
        return bool(value == default)
    except Exception:
        return False


def _is_pickle(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(2)
    return len(head) == 2 and head[0] == PICKLE_PROTO and 2 <= head[1] <= 5


def _pickle_error(path: Path) -> EmbedtrainError:
    return EmbedtrainError(f"{path} is a gensim pickle, which embedtrain does not read (unpickling can "
                           "run code): in gensim, save the vectors with wv.save_word2vec_format(PATH, "
                           "binary=True) and load that with KeyedVectors.load_word2vec_format")


def _existing(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.is_file():
        raise EmbedtrainError(f"{p} does not exist" if not p.exists() else f"{p} is not a file")
    return p


# --------------------------------------------------------------------------- KeyedVectors

class KeyedVectors:
    """gensim's ``KeyedVectors`` over embedtrain's :class:`~embedtrain.vectors.Vectors`:
    every query is Vectors' own (one implementation); this class adds gensim's
    constructor, files and the few places where gensim's numbers differ from embedtrain's
    (``most_similar_cosmul``'s epsilon)."""

    def __init__(self, vector_size: int, count: int = 0, dtype: Any = np.float32,
                 mapfile_path: str | None = None, *, vectors: Any = None):
        from ..vectors import Vectors

        _refuse_unsupported("KeyedVectors", {"mapfile_path": mapfile_path, "dtype": np.dtype(dtype)},
                            {"mapfile_path": None, "dtype": np.dtype(np.float32)})
        if vectors is None:
            if count:
                raise EmbedtrainError("KeyedVectors(count=N): embedtrain holds no unnamed rows; "
                                      "add them with add_vectors(keys, weights)")
            vectors = Vectors([], np.zeros((0, int(vector_size)), np.float32))
        self._kv = vectors

    @classmethod
    def _of(cls, vectors: Any) -> "KeyedVectors":
        return cls(vectors.dim, vectors=vectors)

    def __getattr__(self, name: str) -> Any:
        if name == "_kv":
            raise AttributeError(name)
        return getattr(self._kv, name)

    def __repr__(self) -> str:
        return f"KeyedVectors<vector_size={self._kv.dim}, {len(self._kv)} keys>"

    def __len__(self) -> int:
        return len(self._kv)

    def __getitem__(self, key_or_keys: Any) -> np.ndarray:
        return self._kv[key_or_keys]

    def __contains__(self, key: str) -> bool:
        # FastText's vectors hold any word with an n-gram (as gensim's FastTextKeyedVectors)
        return self._kv.has_vector(key)

    def __setitem__(self, keys: Any, weights: Any) -> None:
        if isinstance(keys, str):
            keys, weights = [keys], np.asarray(weights).reshape(1, -1)
        self.add_vectors(keys, weights, replace=True)

    @property
    def vectors(self) -> np.ndarray:
        return self._kv.vectors

    @staticmethod
    def cosine_similarities(vector_1: np.ndarray, vectors_all: np.ndarray) -> np.ndarray:
        from ..vectors import Vectors

        return Vectors.cosine_similarities(vector_1, vectors_all)

    def most_similar_cosmul(self, positive: Any = None, negative: Any = None, topn: int | None = 10,
                            restrict_vocab: int | None = None):
        return self._kv.most_similar_cosmul(positive, negative, topn, restrict_vocab,
                                            epsilon=GENSIM_COSMUL_EPSILON)

    def vectors_for_all(self, keys: Iterable[str], allow_inference: bool = True,
                        copy_vecattrs: bool = False) -> "KeyedVectors":
        _refuse_unsupported("vectors_for_all", {"copy_vecattrs": copy_vecattrs}, {"copy_vecattrs": False})
        return KeyedVectors._of(self._kv.vectors_for_all(keys, allow_inference))

    def add_vector(self, key: str, vector: np.ndarray) -> int:
        self.add_vectors([key], np.asarray(vector).reshape(1, -1))
        return self._kv.index[key]

    def add_vectors(self, keys: Sequence[str], weights: Any, extras: Any = None, replace: bool = False) -> None:
        """Add rows (new keys at the end; a known key's row replaced only with ``replace``)."""
        from ..vectors import Vectors

        if extras is not None:
            raise EmbedtrainError("add_vectors: extras is not supported by embedtrain")
        weights = np.asarray(weights, np.float32).reshape(len(keys), -1)
        if weights.shape[1] != self._kv.dim:
            raise EmbedtrainError(f"add_vectors: vectors of size {weights.shape[1]}, not {self._kv.dim}")
        words, matrix = list(self._kv.words), self._kv.vectors.copy()
        new_words, new_rows = [], []
        for key, row in zip(keys, weights):
            i = self._kv.index.get(key)
            if i is None:
                new_words.append(key)
                new_rows.append(row)
            elif replace:
                matrix[i] = row
        if new_rows:
            matrix = np.vstack([matrix, np.array(new_rows, np.float32)])
        self._kv = Vectors(words + new_words, matrix)

    # ------------------------------------------------------------------ files
    def save(self, fname: str | os.PathLike, *args: Any, **kwargs: Any) -> None:
        """Write the vectors to ``fname`` as an archive (no pickle); :meth:`load` reads it."""
        from ..io.archive import VECTORS_ARCHIVE, VECTORS_ARCHIVE_VERSION, write_archive
        from ..vocab import Vocab
        from .._version import __version__

        if args or kwargs:
            raise EmbedtrainError(f"KeyedVectors.save: {', '.join(list(kwargs) or ['more arguments'])} "
                                  "not supported by embedtrain (save(fname) writes one archive)")
        counts = self._kv.counts if self._kv.counts is not None else np.zeros(len(self._kv), np.int64)
        meta = {"format": VECTORS_ARCHIVE, "format_version": VECTORS_ARCHIVE_VERSION,
                "embedtrain_version": __version__, "arrays": ["vectors"]}
        write_archive(fname, meta, Vocab(list(self._kv.words), counts), {"vectors": self._kv.vectors})

    @classmethod
    def load(cls, fname: str | os.PathLike, mmap: str | None = None) -> "KeyedVectors":
        """Read what :meth:`save` wrote, a model file's vectors, or any vectors file
        (``mmap``: accepted as None or 'r'; the vectors are read into memory)."""
        _refuse_unsupported("KeyedVectors.load", {"mmap": mmap if mmap != "r" else None}, {"mmap": None})
        return cls._of(load_any(fname))

    def save_word2vec_format(self, fname: str | os.PathLike, fvocab: str | os.PathLike | None = None,
                             binary: bool = False, total_vec: int | None = None, write_header: bool = True,
                             prefix: str = "", append: bool = False, sort_attr: str = "count") -> None:
        """word2vec text (binary with ``binary``; GloVe's headerless text without
        ``write_header``); ``fvocab``: ``word count`` lines beside it."""
        from ..io.atomic import atomic_output
        from ..io.formats import write_word2vec_binary
        from ..io.text import write_word2vec_text

        _refuse_unsupported("save_word2vec_format",
                            {"total_vec": total_vec, "prefix": prefix, "append": append, "sort_attr": sort_attr},
                            {"total_vec": None, "prefix": "", "append": False, "sort_attr": "count"})
        if binary and not write_header:
            raise EmbedtrainError("save_word2vec_format: binary=True needs write_header=True")
        kv = self._kv
        if binary:
            # gensim writes no newline after a binary vector; word2vec.c and embedtrain do (both read either)
            write_word2vec_binary(fname, kv.words, kv.vectors)
        else:
            write_word2vec_text(fname, kv.words, kv.vectors, header=write_header)
        if fvocab is not None:
            if kv.counts is None:
                raise EmbedtrainError("save_word2vec_format: these vectors carry no counts for fvocab")
            with atomic_output(fvocab, "w", encoding="utf-8", newline="\n") as out:
                out.write("".join(f"{w} {int(c)}\n" for w, c in zip(kv.words, kv.counts)))

    @classmethod
    def load_word2vec_format(cls, fname: str | os.PathLike, fvocab: str | os.PathLike | None = None,
                             binary: bool = False, encoding: str = "utf8", unicode_errors: str = "strict",
                             limit: int | None = None, datatype: Any = np.float32,
                             no_header: bool = False) -> "KeyedVectors":
        """word2vec text or binary (GloVe's headerless text with ``no_header``); ``limit``:
        the first N vectors; ``fvocab``: the counts (``word count`` lines)."""
        from ..io.formats import load_vectors
        from ..vectors import Vectors

        _refuse_unsupported("load_word2vec_format",
                            {"encoding": encoding.lower().replace("-", ""), "unicode_errors": unicode_errors,
                             "datatype": np.dtype(datatype)},
                            {"encoding": "utf8", "unicode_errors": "strict", "datatype": np.dtype(np.float32)})
        p = _existing(fname)
        fmt = "word2vec-binary" if binary else ("glove" if no_header else "word2vec-text")
        kv = load_vectors(p, fmt)
        counts = None
        if fvocab is not None:
            found = {}
            with open(fvocab, encoding="utf-8") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 2:
                        found[parts[0]] = int(parts[1])
            counts = np.array([found.get(w, 0) for w in kv.words], np.int64)
        if limit is not None:
            kv = Vectors(kv.words[:limit], kv.vectors[:limit], None if counts is None else counts[:limit])
        elif counts is not None:
            kv = Vectors(kv.words, kv.vectors, counts)
        return cls._of(kv)


def load_any(fname: str | os.PathLike):
    """Vectors from a vectors archive, a model file or any vectors file; a pickle is
    refused in one line."""
    from ..io.formats import load_vectors

    p = _existing(fname)
    if _is_pickle(p):
        raise _pickle_error(p)
    return load_vectors(p)


# --------------------------------------------------------------------------- callbacks

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
UNSUPPORTED = ("hashfxn", "null_word", "trim_rule", "sorted_vocab", "batch_words", "max_final_vocab",
               "shrink_windows")
TRAIN_DEFAULTS: dict[str, Any] = dict(word_count=0, queue_factor=2, report_delay=1.0)


class Word2Vec:
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
        self.compute_loss, self.callbacks, self.comment = compute_loss, tuple(callbacks), comment
        self.running_training_loss = 0.0
        self.corpus_count = self.corpus_total_words = 0
        self.train_count = 0
        self._model: Any = None
        self._wv: KeyedVectors | None = None
        self._grow = False
        self._epochs_done = 0
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
                    min_count=self.min_count, max_vocab=self.max_vocab_size, sample=self.sample,
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
    def syn1neg(self) -> np.ndarray:
        return self._trained().arrays["output_vectors"]

    @property
    def syn1(self) -> np.ndarray:
        return self._trained().arrays["output_hs"]

    @property
    def model(self):
        """The embedtrain model (embedtrain's own queries, save, report)."""
        return self._trained()

    def _trained(self):
        if self._model is None:
            raise EmbedtrainError(f"the {type(self).__name__} model is not trained yet")
        return self._model

    def get_latest_training_loss(self) -> float:
        """The loss summed over the epochs of the last train() so far: each epoch's mean
        loss per example times its words (gensim sums every example's loss: the numbers
        differ in scale, fall alike); 0 without ``compute_loss``."""
        return self.running_training_loss

    def __repr__(self) -> str:
        vocab = len(self._wv) if self._wv is not None else 0
        return f"{type(self).__name__}<vocab={vocab}, vector_size={self.vector_size}, alpha={self.alpha}>"

    def __str__(self) -> str:
        return repr(self)

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
        self.corpus_count, self.corpus_total_words = _count(corpus)

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
    def save(self, fname: str | os.PathLike, *args: Any, **kwargs: Any) -> None:
        """Write the model to ``fname`` (embedtrain's model archive, .etm format; no pickle)."""
        if args or kwargs:
            raise EmbedtrainError(f"{type(self).__name__}.save: only save(fname) is supported by embedtrain")
        self._trained().save_model(fname)

    @classmethod
    def load(cls, fname: str | os.PathLike, *args: Any, **kwargs: Any) -> "Word2Vec":
        """Read a model :meth:`save` (or ``embedtrain train``) wrote; a gensim pickle is
        refused in one line."""
        from ..models import Model, is_model_file

        mmap = kwargs.pop("mmap", None)
        if args or kwargs or mmap not in (None, "r"):
            raise EmbedtrainError(f"{cls.__name__}.load: only load(fname) is supported by embedtrain")
        p = _existing(fname)
        if _is_pickle(p):
            raise _pickle_error(p)
        if not is_model_file(p):
            raise EmbedtrainError(f"{p} is not an embedtrain model file (vectors files: "
                                  "KeyedVectors.load_word2vec_format or KeyedVectors.load)")
        fitted = Model.load(p)
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
                    window=self.window, min_count=self.min_count, max_vocab=self.max_vocab_size,
                    sample=self.sample, seed=self.seed, threads=self.workers, lr=self.alpha,
                    min_lr=self.min_alpha, negative=self.negative, ns_exponent=self.ns_exponent,
                    epochs=self.epochs, minn=self.min_n, maxn=self.max_n, bucket=self.bucket)

    @property
    def syn1(self) -> np.ndarray:
        raise AttributeError("FastText trains with negative sampling only: no syn1")


# --------------------------------------------------------------------------- corpora

def _one_corpus(corpus_iterable: Any, corpus_file: Any) -> Any:
    if (corpus_iterable is None) == (corpus_file is None):
        raise EmbedtrainError("give either corpus_iterable (sentences) or corpus_file, and not both")
    if corpus_file is not None:
        return _existing(corpus_file)
    if isinstance(corpus_iterable, (str, bytes, os.PathLike)):
        raise EmbedtrainError("sentences is an iterable of token lists; a file goes in corpus_file")
    if iter(corpus_iterable) is corpus_iterable:
        raise EmbedtrainError("sentences must be re-iterable (a list, or a class with __iter__), not a "
                              "generator: gensim reads it once per pass, embedtrain once to count and once "
                              "to train")
    return corpus_iterable


def _corpus_arg(corpus: Any) -> Any:
    return os.fspath(corpus) if isinstance(corpus, Path) else corpus


def _count(corpus: Any) -> tuple[int, int]:
    """(sentences, words) of a corpus (a file: its lines and whitespace tokens)."""
    if isinstance(corpus, Path):
        lines = words = 0
        with open(corpus, "rb") as f:
            for line in f:
                lines += 1
                words += len(line.split())
        return lines, words
    sentences = words = 0
    for sentence in corpus:
        sentences += 1
        words += len(sentence)
    return sentences, words


def datapath(name: str) -> str:
    """The path of a benchmark file shipped with embedtrain (gensim.test.utils.datapath's
    ``questions-words.txt`` and ``wordsim353.tsv``)."""
    from ..datasets import DEFAULT_DATASETS, dataset_path

    if name not in DEFAULT_DATASETS:
        raise EmbedtrainError(f"{name} is not shipped with embedtrain (shipped: {', '.join(DEFAULT_DATASETS)})")
    return str(dataset_path(name))
