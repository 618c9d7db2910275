"""A trained model: settings, vocabulary, weight matrices; saved without pickle.

Model file (``PREFIX.etm``): a zip archive (stored, not compressed) that
``numpy.load`` also opens, with these members:

``meta.json``
    ``{"format": "embedtrain-model", "format_version": 1, "model": "skipgram",
    "embedtrain_version": "...", "config": {...resolved settings...},
    "arrays": ["input_vectors", ...], "stats": {...}}``
``vocab.txt``
    ``word count`` lines, UTF-8, most frequent first; line i is row i.
``NAME.npy``
    each weight matrix listed in ``arrays`` (``.npy`` format, no pickled objects).

word2vec models hold ``input_vectors`` [V, dim] (the word vectors),
``output_vectors`` [V, dim] (negative sampling; [0, dim] when unused) and
``output_hs`` [V-1, dim] (hierarchical softmax; [0, dim] when unused).
"""
from __future__ import annotations

import importlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .archive import read_arrays, read_vocab, write_archive
from .config import MODEL_CONFIGS, CommonConfig
from .errors import EmbedtrainError
from .vectors import Vectors
from .vocab import Vocab

MODEL_FORMAT = "embedtrain-model"
MODEL_FORMAT_VERSION = 1
MODEL_SUFFIX = ".etm"
VECTORS_SUFFIX = ".vec"

# Model kinds whose class lives in another module (imported when a file needs it).
_MODEL_CLASSES = {
    "glove": "embedtrain.glove:GloVeModel",
    "fasttext": "embedtrain.fasttext:FastTextModel",
}


class Model:
    """Trained weights with their vocabulary and settings.

    ``model["king"]``, ``model.most_similar("king")`` and the other queries go to
    :attr:`vectors`, the word vectors this model writes to ``PREFIX.vec``.
    """

    def __init__(self, config: CommonConfig, vocab: Vocab, arrays: dict[str, np.ndarray],
                 stats: dict[str, Any] | None = None):
        self.config = config
        self.vocab = vocab
        self.arrays = arrays
        self.stats = dict(stats or {})
        self._vectors: Vectors | None = None

    @property
    def kind(self) -> str:
        return self.config.model

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.kind}, {len(self.vocab)} words, dim {self.config.dim})"

    # ------------------------------------------------------------------ vectors
    def word_matrix(self) -> np.ndarray:
        """float32 [V, dim]: the vector of each vocabulary word."""
        return self.arrays["input_vectors"]

    @property
    def vectors(self) -> Vectors:
        if self._vectors is None:
            self._vectors = self.make_vectors()
        return self._vectors

    def make_vectors(self) -> Vectors:
        return Vectors(self.vocab.words, self.word_matrix(), self.vocab.counts)

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[word]

    def __contains__(self, word: str) -> bool:
        return word in self.vectors

    def most_similar(self, *args, **kwargs):
        return self.vectors.most_similar(*args, **kwargs)

    def similarity(self, a: str, b: str) -> float:
        return self.vectors.similarity(a, b)

    def analogy(self, a: str, b: str, c: str, topn: int = 10):
        return self.vectors.analogy(a, b, c, topn=topn)

    # ------------------------------------------------------------------ files
    def save(self, prefix: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``PREFIX.vec`` (word2vec text) and ``PREFIX.etm`` (the full model)."""
        from .formats import write_word2vec_text

        prefix = str(prefix)
        vec_path, model_path = Path(prefix + VECTORS_SUFFIX), Path(prefix + MODEL_SUFFIX)
        vectors = self.vectors
        write_word2vec_text(vec_path, vectors.words, vectors.vectors)
        self.save_model(model_path)
        return vec_path, model_path

    def save_model(self, path: str | os.PathLike) -> Path:
        meta = {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "model": self.kind,
            "embedtrain_version": __version__,
            "config": self.config.to_dict(),
            "arrays": list(self.arrays),
            "stats": self.stats,
        }
        return write_archive(path, meta, self.vocab, self.arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Model":
        """Load any embedtrain model file; returns the right Model subclass."""
        p = Path(path)
        try:
            zf = zipfile.ZipFile(p)
        except FileNotFoundError:
            raise EmbedtrainError(f"model file {p} does not exist") from None
        except (zipfile.BadZipFile, OSError) as exc:
            raise EmbedtrainError(f"{p} is not an embedtrain model file ({exc})") from None
        with zf:
            try:
                meta = json.loads(zf.read("meta.json"))
                if meta.get("format") != MODEL_FORMAT:
                    raise EmbedtrainError(f"{p} is not an embedtrain model file")
                if meta.get("format_version", 0) > MODEL_FORMAT_VERSION:
                    raise EmbedtrainError(
                        f"{p} has model format version {meta['format_version']}; this embedtrain "
                        f"reads up to {MODEL_FORMAT_VERSION}: upgrade embedtrain")
                vocab = read_vocab(zf, p)
                arrays = read_arrays(zf, meta["arrays"])
            except KeyError as exc:
                raise EmbedtrainError(f"{p}: model file is missing {exc}") from None
            except (ValueError, zipfile.BadZipFile, EOFError) as exc:
                raise EmbedtrainError(f"{p}: damaged model file ({exc})") from None
        settings = dict(meta["config"])
        kind = settings.pop("model", meta.get("model"))
        if kind not in MODEL_CONFIGS:
            raise EmbedtrainError(f"{p}: unknown model kind {kind!r}")
        config = MODEL_CONFIGS[kind](**settings)
        model_cls = model_class(kind)
        return model_cls(config, vocab, arrays, meta.get("stats"))


def model_class(kind: str) -> type[Model]:
    target = _MODEL_CLASSES.get(kind)
    if target is None:
        return Model
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def is_model_file(path: str | os.PathLike) -> bool:
    """True when ``path`` is an embedtrain model archive (checked by content)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return "meta.json" in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
