"""What the gensim-compatible classes share: refusing gensim's arguments that embedtrain
does not implement (in one line, naming them), and telling a gensim pickle apart."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import EmbedtrainError

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


def one_corpus(corpus_iterable: Any, corpus_file: Any, items: str, kind: str, passes: str) -> Any:
    """The corpus of a build_vocab or train call: ``corpus_file`` (a path that exists) or a
    re-iterable ``corpus_iterable`` of ``kind``, called ``items`` in messages; ``passes``
    says why a generator will not do."""
    if (corpus_iterable is None) == (corpus_file is None):
        raise EmbedtrainError(f"give either corpus_iterable ({items}) or corpus_file, and not both")
    if corpus_file is not None:
        return _existing(corpus_file)
    if isinstance(corpus_iterable, (str, bytes, os.PathLike)):
        raise EmbedtrainError(f"{items} is an iterable of {kind}; a file goes in corpus_file")
    if iter(corpus_iterable) is corpus_iterable:
        raise EmbedtrainError(f"{items} must be re-iterable (a list, or a class with __iter__), not a "
                              f"generator: {passes}")
    return corpus_iterable


class TrainedModel:
    """What the gensim model classes here share: the embedtrain model behind them once
    trained (``model``), gensim's names for its arrays, the loss, and the model file."""

    _model: Any = None
    running_training_loss = 0.0

    def _untrained(self, compute_loss: bool, callbacks: Any, comment: str | None) -> None:
        """The state of a model built by its constructor: nothing counted or trained yet."""
        self.compute_loss, self.callbacks, self.comment = compute_loss, tuple(callbacks), comment
        self.running_training_loss = 0.0
        self.corpus_count = self.corpus_total_words = 0
        self.train_count = 0
        self._model = None
        self._wv = None
        self._epochs_done = 0

    @property
    def syn1neg(self) -> Any:
        return self._trained().arrays["output_vectors"]

    @property
    def model(self) -> Any:
        """The embedtrain model (embedtrain's own queries, save, report)."""
        return self._trained()

    def _trained(self) -> Any:
        if self._model is None:
            raise EmbedtrainError(f"the {type(self).__name__} model is not trained yet")
        return self._model

    def get_latest_training_loss(self) -> float:
        """The loss summed over the epochs of the last train() so far: each epoch's mean
        loss per example times its words (gensim sums every example's loss: the numbers
        differ in scale, fall alike); 0 without ``compute_loss``."""
        return self.running_training_loss

    def __str__(self) -> str:
        return repr(self)

    def save(self, fname: str | os.PathLike, *args: Any, **kwargs: Any) -> None:
        """Write the model to ``fname`` (embedtrain's model archive, .etm format; no pickle)."""
        if args or kwargs:
            raise EmbedtrainError(f"{type(self).__name__}.save: only save(fname) is supported by embedtrain")
        self._trained().save_model(fname)

    @classmethod
    def _load_model_file(cls, fname: str | os.PathLike, args: tuple, kwargs: dict, not_a_model: str) -> Any:
        """The embedtrain model in the file ``fname`` (gensim's load arguments refused, a
        pickle refused in one line, ``not_a_model`` appended when it is no model file)."""
        from ..models import Model, is_model_file

        mmap = kwargs.pop("mmap", None)
        if args or kwargs or mmap not in (None, "r"):
            raise EmbedtrainError(f"{cls.__name__}.load: only load(fname) is supported by embedtrain")
        p = _existing(fname)
        if _is_pickle(p):
            raise _pickle_error(p)
        if not is_model_file(p):
            raise EmbedtrainError(f"{p} is not an embedtrain model file{not_a_model}")
        return Model.load(p)

