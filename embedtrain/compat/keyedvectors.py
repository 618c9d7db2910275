"""gensim's ``KeyedVectors`` over embedtrain's :class:`~embedtrain.vectors.Vectors`
(the queries are Vectors' own), with gensim's files: a vectors archive (no pickle) and
the word2vec formats."""
from __future__ import annotations

import os
from typing import Any, Iterable, Sequence

import numpy as np

from ..errors import EmbedtrainError
from .common import GENSIM_COSMUL_EPSILON, _existing, _is_pickle, _pickle_error, _refuse_unsupported


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


