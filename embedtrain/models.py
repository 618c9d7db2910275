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
``vocab_offsets.npy``
    int64 [2, V + 1]: where each line of ``vocab.txt`` starts, and where its space is
    (each row ending in the member's size); meta.json's ``vocab_offsets`` records the CRC-32 and
    size of the ``vocab.txt`` they describe. ``load(path, mmap=True)`` maps them instead
    of scanning the vocabulary (mapped_vocab.py); other readers ignore them, and a file
    without them (older, or another vocab.txt) opens as before.
``unkept.txt``
    (when meta.json has ``"unkept_words"``) ``word count`` lines: the words the corpus
    had that the vocabulary did not keep (below --min-count), so that ``--continue``
    merges counts exactly (Vocab.merged).

word2vec models hold ``input_vectors`` [V, dim] (the word vectors),
``output_vectors`` [V, dim] (negative sampling; [0, dim] when unused) and
``output_hs`` [V-1, dim] (hierarchical softmax; [0, dim] when unused).
"""
from __future__ import annotations

import contextvars
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .config import CommonConfig, FastTextConfig, config_class, model_settings
from .errors import EmbedtrainError
from .io.atomic import atomic_group
from .io.archive import (VECTORS_ARCHIVE, check_arrays as check_archive_arrays, is_archive_of,
                         read_archive,
                         read_counts_member, write_archive)
from .io.text import write_word2vec_text
from .ngram_rows import NgramRows, compact_table
from .subwords import SubwordTable, char_ngrams, subword_table
from .vectors import FastTextVectors, FloretVectors, LazyFastTextVectors, LazyVectors, Vectors
from .vocab import Vocab

MODEL_FORMAT = "embedtrain-model"
MODEL_FORMAT_VERSION = 1
# Compressed models (embedtrain compress) are version 2: older versions refuse them.
COMPRESSED_FORMAT_VERSION = 2
MODEL_SUFFIX = ".etm"
UNKEPT_MEMBER = "unkept.txt"
VECTORS_SUFFIX = ".vec"


class Model:
    """Trained weights with their vocabulary and settings.

    ``model["king"]``, ``model.most_similar("king")`` and the other queries go to
    :attr:`vectors`, the word vectors this model writes to ``PREFIX.vec``.
    """

    # The model kinds (config.model) a subclass is the class of (model_class).
    KINDS: tuple[str, ...] = ()

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
        if self.mapped:  # rows read from the file when a query touches them
            vocab = self.vocab  # a mapped vocabulary parses its counts when they are first read
            return LazyVectors(vocab.words, self.word_matrix(), lambda: vocab.counts, vocab.index)
        return Vectors(self.vocab.words, self.word_matrix(), self.vocab.counts)

    @property
    def mapped(self) -> bool:
        """True when the weights are memory-mapped from the file (load(path, mmap=True))."""
        return any(isinstance(a, np.memmap) for a in self.arrays.values())

    def compress(self, method: str = "int8", pq_subvectors: int | None = None,
                 keep_words: int | None = None, qnorm: bool = False,
                 seed: int | None = None, keep_ngrams: int | None = None,
                 pq_rotation: str | None = None, pq_iterations: int | None = None) -> "CompressedModel":
        """This model's vectors compressed (int8 or product quantisation): a
        :class:`CompressedModel` that answers the same queries (docs/memory.md)."""
        from .quantization import DEFAULT_PQ_ROTATION, DEFAULT_SEED, PQ_NITER, compressed_parts

        if getattr(self.config, "floret", False):
            raise EmbedtrainError("compress does not take floret models: their words and n-grams already "
                                  "share one hashed table (a smaller --bucket makes it smaller)")
        if isinstance(self, Doc2VecModel):
            raise EmbedtrainError("compress does not take doc2vec models (their document vectors would "
                                  "be lost); compress the word vectors' model instead")
        vocab, arrays, info = compressed_parts(
            self, method, pq_subvectors, keep_words, qnorm, DEFAULT_SEED if seed is None else seed,
            keep_ngrams, DEFAULT_PQ_ROTATION if pq_rotation is None else pq_rotation,
            PQ_NITER if pq_iterations is None else pq_iterations)
        return CompressedModel(self.config, vocab, arrays, self.stats, info)

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[word]

    def __contains__(self, word: str) -> bool:
        return word in self.vectors

    def most_similar(self, *args, **kwargs):
        return self.vectors.most_similar(*args, **kwargs)

    def most_similar_cosmul(self, *args, **kwargs):
        return self.vectors.most_similar_cosmul(*args, **kwargs)

    @property
    def wv(self) -> Vectors:
        """The word vectors under gensim's name (``model.wv.most_similar(...)``)."""
        return self.vectors

    def similarity(self, a: str, b: str) -> float:
        return self.vectors.similarity(a, b)

    def analogy(self, a: str, b: str, c: str, topn: int = 10):
        return self.vectors.analogy(a, b, c, topn=topn)

    def train_more(self, corpus: Any, **settings: Any) -> "Model":
        """This model continued on ``corpus`` (new words join): a new model, this one
        unchanged; the same as ``embedtrain.train(corpus, init=self, **settings)``
        (docs/training.md, "Continuing on new text")."""
        import embedtrain  # the package's facade: the training entry, imported when used

        return embedtrain.train(corpus, init=self, **settings)

    # ------------------------------------------------------------------ files
    def save(self, prefix: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``PREFIX.vec`` (word2vec text) and ``PREFIX.etm`` (the full model)."""
        prefix = str(prefix)
        vec_path, model_path = Path(prefix + VECTORS_SUFFIX), Path(prefix + MODEL_SUFFIX)
        vectors = self.vectors
        with atomic_group():  # both files appear together or neither does
            # the model file on another thread while this one writes the text (the archive's
            # large writes run without the GIL); in this group, through a copy of the context
            # (leaving the pool's block waits for the helper, also when the text fails)
            context = contextvars.copy_context()
            with ThreadPoolExecutor(1) as helper:
                model_file = helper.submit(context.run, self.save_model, model_path)
                write_word2vec_text(vec_path, vectors.words, vectors.vectors)
            model_file.result()
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
        texts = {}
        if self.vocab.unkept is not None:
            meta["unkept_words"] = len(self.vocab.unkept)
            texts[UNKEPT_MEMBER] = self.vocab.unkept.to_text()
        return write_archive(path, meta, self.vocab, self.arrays, texts, vocab_offsets=True)

    @classmethod
    def load(cls, path: str | os.PathLike, mmap: bool = False) -> "Model":
        """Load any embedtrain model file; returns the right Model subclass (a
        :class:`CompressedModel` for a file ``embedtrain compress`` wrote).

        Everything is checked before a kernel or a query sees it: the format version,
        the settings, each array's dtype and shape against the vocabulary and the
        settings, and that every weight is a finite number. A damaged file gives an
        EmbedtrainError naming the file and the problem.

        ``mmap=True`` maps the weight matrices read-only instead of reading them: they
        open in milliseconds whatever their size, memory grows with the rows queries
        touch, and the values are not scanned for NaN; the vocabulary stays in the file
        too (mapped_vocab.py: words decoded and looked up on demand, its CRC-32 not
        checked) (docs/memory.md).
        """
        p = Path(path)
        if p.is_file() and not is_model_file(p):
            with open(p, "rb") as f:
                head = f.read(2)
            if len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5:  # pickle's PROTO opcode
                raise EmbedtrainError(f"{p} is a Python pickle (gensim's save?), which embedtrain does not "
                                      "read (unpickling can run code): save word2vec binary vectors in "
                                      "gensim and read them with embedtrain.load_vectors")
            if head != b"PK" or is_archive_of(p, VECTORS_ARCHIVE):   # our archives are zip files
                raise EmbedtrainError(f"{p} is not an embedtrain model file (.etm); for a vectors file "
                                      "(.vec, .bin, GloVe, .npy, fastText .bin) use embedtrain.load_vectors")
        if mmap:
            check_mappable(p)
        meta, vocab, arrays = read_archive(p, MODEL_FORMAT, COMPRESSED_FORMAT_VERSION, "model file",
                                           mmap=mmap)
        damaged = f"{p}: damaged model file"
        compressed = meta.get("compression") is not None or meta.get("format_version") == COMPRESSED_FORMAT_VERSION
        if compressed and mmap:
            raise EmbedtrainError(f"cannot memory-map {p}: it is a compressed model, whose rows "
                                  f"are decoded on demand already (load it without mmap)")
        settings = meta.get("config")
        if not isinstance(settings, dict):
            raise EmbedtrainError(f"{damaged} (meta.json has no 'config' object of settings)")
        settings = dict(settings)
        kind = settings.pop("model", meta.get("model"))
        if not isinstance(kind, str) or kind not in [c.model for c in model_settings()]:
            raise EmbedtrainError(f"{p}: unknown model kind {kind!r}")
        try:
            config = config_class(kind)(**settings)
        except TypeError as exc:  # a key this kind of model does not have
            raise EmbedtrainError(f"{damaged} (settings: {exc})") from None
        except EmbedtrainError as exc:
            raise EmbedtrainError(f"{damaged} (settings: {exc})") from None
        if compressed:
            return CompressedModel.from_archive(p, meta, config, vocab, arrays)
        klass = model_class(kind)
        problem = klass.check_loaded_arrays(config, len(vocab), arrays)
        if problem:
            raise EmbedtrainError(f"{damaged} ({problem})")
        if meta.get("unkept_words") is not None:
            if getattr(vocab, "blob", None) is not None:  # mapped_vocab.MappedVocab: read when asked for
                vocab.unkept = lambda: read_counts_member(p, UNKEPT_MEMBER, "model file")
            else:
                vocab.unkept = read_counts_member(p, UNKEPT_MEMBER, "model file")
        stats = meta.get("stats")
        return klass.loaded(p, config, vocab, arrays, stats if isinstance(stats, dict) else {})

    @classmethod
    def loaded(cls, path: Path, config: CommonConfig, vocab: Vocab, arrays: dict[str, np.ndarray],
               stats: dict[str, Any]) -> "Model":
        """The model read from ``path`` (a subclass reads the members it adds)."""
        return cls(config, vocab, arrays, stats)

    @classmethod
    def check_loaded_arrays(cls, config: CommonConfig, vocab_size: int,
                            arrays: dict[str, np.ndarray]) -> str:
        """What is wrong with the arrays read from a file ("" if nothing)."""
        return check_arrays(cls.expected_shapes(config, vocab_size), arrays)

    @classmethod
    def expected_shapes(cls, config: CommonConfig, vocab_size: int) -> dict[str, tuple[int, ...]]:
        """The float32 arrays a model of this kind holds, and their shapes."""
        v, dim = vocab_size, config.dim
        return {"input_vectors": (v, dim),
                "output_vectors": (v if config.negative else 0, dim),
                "output_hs": (max(v - 1, 0) if config.hs else 0, dim)}


def check_arrays(expected: dict[str, tuple[int, ...]], arrays: dict[str, np.ndarray]) -> str:
    """What is wrong with ``arrays`` given the ``expected`` float32 shapes ("" if nothing)."""
    return check_archive_arrays({name: ([shape], np.float32) for name, shape in expected.items()}, arrays)


class FastTextModel(Model):
    """A trained FastText model: ``arrays`` holds ``input_vectors``, ``output_vectors``
    [V, dim] and, in the compact layout embedtrain trains and writes,
    ``ngram_buckets`` int32 [T]: ``input_vectors`` [V + T, dim] is then the word rows
    followed by the rows of those buckets, the only ones training touched; every other
    bucket row has its initial value, computed when a word needs it (ngram_rows.py).
    Without ``ngram_buckets`` (files written before compact storage)
    ``input_vectors`` is the full [V + bucket, dim] matrix.

    ``model["anyword"]`` works for words outside the vocabulary; PREFIX.vec holds the
    vocabulary words with the same vectors the model gives for them.
    """

    KINDS = ("fasttext",)

    config: FastTextConfig

    def __init__(self, config: FastTextConfig, vocab: Vocab, arrays: dict[str, np.ndarray],
                 stats: dict[str, Any] | None = None):
        super().__init__(config, vocab, arrays, stats)
        rows = arrays["input_vectors"].shape[0]
        buckets = arrays.get("ngram_buckets")
        expected = config.word_rows(len(vocab)) + (config.subword_buckets if buckets is None else len(buckets))
        if rows != expected:
            raise EmbedtrainError(f"FastText model has {rows:,} input rows; its vocabulary and "
                                  f"n-gram buckets call for {expected:,} (damaged model file?)")
        self._table: SubwordTable | None = None
        self._word_matrix: np.ndarray | None = None

    @classmethod
    def expected_shapes(cls, config: FastTextConfig, vocab_size: int,
                        stored_buckets: int | None = None) -> dict[str, tuple[int, ...]]:
        ngram_rows = config.subword_buckets if stored_buckets is None else stored_buckets
        return {"input_vectors": (config.word_rows(vocab_size) + ngram_rows, config.dim),
                "output_vectors": (vocab_size, config.dim)}

    @classmethod
    def check_loaded_arrays(cls, config: FastTextConfig, vocab_size: int,
                            arrays: dict[str, np.ndarray]) -> str:
        if "ngram_buckets" not in arrays:  # the full layout
            return check_arrays(cls.expected_shapes(config, vocab_size), arrays)
        arrays = dict(arrays)
        buckets = arrays.pop("ngram_buckets")
        if buckets.dtype != np.int32 or buckets.ndim != 1:
            return f"ngram_buckets holds {buckets.dtype} values of shape {buckets.shape}, not int32 [T]"
        if len(buckets) and (buckets[0] < 0 or buckets[-1] >= config.subword_buckets
                             or not (np.diff(buckets) > 0).all()):
            return f"ngram_buckets is not an increasing list of buckets below {config.subword_buckets:,}"
        return check_arrays(cls.expected_shapes(config, vocab_size, len(buckets)), arrays)

    @property
    def bucket(self) -> int:
        return self.config.subword_buckets

    @property
    def input_vectors(self) -> np.ndarray:
        """The stored input rows: [V + T, dim] (compact layout) or [V + bucket, dim]."""
        return self.arrays["input_vectors"]

    @property
    def output_vectors(self) -> np.ndarray:
        return self.arrays["output_vectors"]

    @property
    def ngram_buckets(self) -> np.ndarray | None:
        """int32 [T]: the buckets whose rows are stored (None: all of them)."""
        return self.arrays.get("ngram_buckets")

    @property
    def ngrams(self) -> NgramRows:
        """Every n-gram bucket row, stored or computed (see ngram_rows.py)."""
        return NgramRows(self.input_vectors, self.word_rows, self.bucket, self.ngram_buckets,
                         self.config.seed)

    @property
    def word_rows(self) -> int:
        """The words' own input rows, before the bucket rows: V, or none with --floret."""
        return self.config.word_rows(len(self.vocab))

    def input_rows(self, rows: np.ndarray) -> np.ndarray:
        """float32 [n, dim]: rows of the full [V + bucket, dim] input matrix (word
        rows below V, then bucket rows), stored or not."""
        rows = np.asarray(rows, dtype=np.int64)
        v = self.word_rows
        out = np.empty((len(rows), self.config.dim), dtype=np.float32)
        words = rows < v
        out[words] = self.input_vectors[rows[words]]
        out[~words] = self.ngrams.lookup(rows[~words] - v)
        return out

    def full_input_matrix(self) -> np.ndarray:
        """float32 [V + bucket, dim]: the whole input matrix fastText would hold (all
        bucket rows materialised: bucket x dim x 4 bytes)."""
        return self.ngrams.full_rows(0, self.word_rows + self.bucket)

    def subword_table(self) -> SubwordTable:
        """Each vocabulary word's rows of :attr:`input_vectors` (own row, then n-gram rows)."""
        if self._table is None:
            c = self.config
            if c.floret:
                from .floret import floret_table

                table = floret_table(self.vocab.words, c.minn, c.maxn, c.bucket, c.hash_count)
            else:
                table = subword_table(self.vocab.words, c.minn, c.maxn, self.bucket)
            if self.ngram_buckets is not None:
                table = compact_table(table, self.word_rows, self.ngram_buckets)
            self._table = table
        return self._table

    def word_matrix(self) -> np.ndarray:
        """float32 [V, dim]: each vocabulary word's vector, the mean of its rows."""
        if self._word_matrix is None:
            from .kernels.sgns import word_vectors

            table = self.subword_table()
            out = np.empty((len(self.vocab), self.config.dim), dtype=np.float32)
            word_vectors(self.input_vectors, table.offsets, table.rows, out)
            self._word_matrix = out
        return self._word_matrix

    def make_vectors(self) -> FastTextVectors:
        c = self.config
        if c.floret:
            return FloretVectors(self.vocab.words, self.word_matrix(), self.vocab.counts,
                                 self.ngrams, c.minn, c.maxn, self.bucket, c.hash_count)
        return FastTextVectors(self.vocab.words, self.word_matrix(), self.vocab.counts,
                               self.ngrams, c.minn, c.maxn, self.bucket)

    def subwords(self, word: str) -> list[str]:
        """The character n-grams that form ``word``'s vector (besides its own row when
        known; with --floret: ``<word>`` and its n-grams, each hashed to --hash-count rows)."""
        c = self.config
        if c.floret:
            from .floret import floret_strings

            return floret_strings(word, c.minn, c.maxn)
        return char_ngrams(word, c.minn, c.maxn) if self.bucket else []


class GloVeModel(Model):
    """GloVe weights: ``word_vectors`` and ``context_vectors`` float32 [V, dim],
    ``word_bias`` and ``context_bias`` float32 [V].

    The vectors written and queried are word + context vectors (glove.c's
    default, ``-model 2``), or the word vectors alone with ``vectors = "word"``.
    """

    KINDS = ("glove",)

    @classmethod
    def expected_shapes(cls, config, vocab_size: int) -> dict[str, tuple[int, ...]]:
        v, dim = vocab_size, config.dim
        return {"word_vectors": (v, dim), "context_vectors": (v, dim),
                "word_bias": (v,), "context_bias": (v,)}

    def word_matrix(self) -> np.ndarray:
        word = self.arrays["word_vectors"]
        if getattr(self.config, "vectors", "word+context") == "word":
            return word
        return word + self.arrays["context_vectors"]


DOC_TAGS_MEMBER = "doc_tags.txt"
DOC_VECTORS_SUFFIX = ".docs.vec"


class Doc2VecModel(Model):
    """A PV-DBOW model: ``input_vectors`` [V, dim] (the word vectors: trained with
    --dbow-words, else their random start, as gensim's), ``output_vectors`` [V, dim],
    ``doc_vectors`` [D, dim]; ``doc_tags`` names each document (the member
    ``doc_tags.txt`` of the .etm: ``tag words`` lines, in row order).

    ``model.docvecs`` are the trained documents' vectors; :meth:`infer_vector` gives a
    vector for any text, the same for the same text and seed every time.
    """

    KINDS = ("doc2vec",)

    def __init__(self, config, vocab: Vocab, arrays: dict[str, np.ndarray],
                 stats: dict[str, Any] | None = None, doc_tags: list[str] | None = None):
        super().__init__(config, vocab, arrays, stats)
        n = arrays["doc_vectors"].shape[0]
        self.doc_tags = list(doc_tags) if doc_tags is not None else [str(i) for i in range(n)]
        if len(self.doc_tags) != n:
            raise EmbedtrainError(f"doc2vec model has {n:,} document vectors but {len(self.doc_tags):,} "
                                  "document names (damaged model file?)")
        self._docvecs: Vectors | None = None

    @classmethod
    def expected_shapes(cls, config, vocab_size: int, n_docs: int = 0) -> dict[str, tuple[int, ...]]:
        return {"input_vectors": (vocab_size, config.dim), "output_vectors": (vocab_size, config.dim),
                "doc_vectors": (n_docs, config.dim)}

    @classmethod
    def check_loaded_arrays(cls, config, vocab_size: int, arrays: dict[str, np.ndarray]) -> str:
        docs = arrays.get("doc_vectors")
        if docs is None or docs.ndim != 2:
            return "no doc_vectors [documents, dim] array"
        return check_arrays(cls.expected_shapes(config, vocab_size, docs.shape[0]), arrays)

    @classmethod
    def loaded(cls, path, config, vocab, arrays, stats):
        tags = read_counts_member(path, DOC_TAGS_MEMBER, "model file")
        return cls(config, vocab, arrays, stats, doc_tags=tags.words)

    def save_model(self, path: str | os.PathLike) -> Path:
        tags = Vocab(self.doc_tags, np.zeros(len(self.doc_tags), dtype=np.int64))
        meta = {"format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION, "model": self.kind,
                "embedtrain_version": __version__, "config": self.config.to_dict(),
                "arrays": list(self.arrays), "stats": self.stats}
        return write_archive(path, meta, self.vocab, self.arrays, {DOC_TAGS_MEMBER: tags.to_text()})

    def save(self, prefix: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``PREFIX.vec`` (the word vectors), ``PREFIX.docs.vec`` (the document
        vectors, word2vec text with the documents' names) and ``PREFIX.etm``."""
        prefix = str(prefix)
        with atomic_group():
            write_word2vec_text(prefix + DOC_VECTORS_SUFFIX, self.doc_tags, self.arrays["doc_vectors"])
            return super().save(prefix)

    @property
    def docvecs(self) -> Vectors:
        """The trained documents' vectors, by name (line number, or --doc-id)."""
        if self._docvecs is None:
            self._docvecs = Vectors(self.doc_tags, self.arrays["doc_vectors"])
        return self._docvecs

    def infer_vector(self, words, epochs: int | None = None, seed: int | None = None) -> np.ndarray:
        """float32 [dim]: a vector for the document ``words`` (a list of tokens, or a
        string split on whitespace), trained against the frozen output weights."""
        if isinstance(words, str):
            words = words.split()
        return self.infer_vectors([words], epochs, seed)[0]

    def infer_vectors(self, documents, epochs: int | None = None, seed: int | None = None,
                      lr: float | None = None, min_lr: float | None = None) -> np.ndarray:
        """float32 [docs, dim]: :meth:`infer_vector` for each document (token lists); each
        document's vector depends only on its words, ``epochs`` and ``seed`` (default: the
        model's), not on the other documents. ``lr``: the starting rate (default the
        model's); ``min_lr``: the rate's floor (default ``lr`` x 1e-4)."""
        from .corpus.documents import encode_lines
        from .kernels.doc2vec import infer_documents
        from .training.doc2vec import vocab_tables
        from .kernels.common import WORD2VEC_LR_FLOOR

        epochs = self.config.epochs if epochs is None else int(epochs)
        seed = self.config.seed if seed is None else int(seed)
        if epochs < 1:
            raise EmbedtrainError(f"inference needs at least 1 epoch (got {epochs})")
        if seed < 0:
            raise EmbedtrainError(f"the seed must be a non-negative integer (got {seed})")
        docs = [d.split() if isinstance(d, str) else list(d) for d in documents]
        if self.config.lowercase:
            docs = [[w.lower() for w in d] for d in docs]
        ids, offsets = encode_lines(docs, self.vocab.index)
        out = np.empty((len(docs), self.config.dim), dtype=np.float32)
        lr = float(self.config.lr) if lr is None else float(lr)
        floor = WORD2VEC_LR_FLOOR if min_lr is None else float(min_lr) / lr
        settings = (epochs, self.config.negative, lr, floor)
        infer_documents(ids, offsets, self.arrays["output_vectors"], tuple(vocab_tables(self.config, self.vocab)),
                        settings, np.uint64(seed), out)
        return out


class CompressedModel(Model):
    """A model whose word vectors (and a FastText model's n-gram rows) are stored
    compressed, int8 or product-quantised (quantization.py, docs/memory.md). Queries decode
    rows on demand: ``vectors`` is a LazyVectors over the coded rows, never the float32
    matrix. It answers queries and exports; it cannot be trained further.

    ``compression``: what meta.json records (method, subvectors, qnorm, and
    source_vocab_size: the vocabulary size of the model it came from, whose untouched
    n-gram rows keep their initial values).
    """

    KINDS = ()  # never the class of a kind: Model.load picks it by the file's compression

    def __init__(self, config: CommonConfig, vocab: Vocab, arrays: dict[str, np.ndarray],
                 stats: dict[str, Any] | None, compression: dict[str, Any]):
        super().__init__(config, vocab, arrays, stats)
        self.compression = dict(compression)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.kind}, {self.compression['method']}, "
                f"{len(self.vocab)} words, dim {self.config.dim})")

    @classmethod
    def from_archive(cls, p: Path, meta: dict, config, vocab: Vocab,
                     arrays: dict[str, np.ndarray]) -> "CompressedModel":
        from .quantization import check_compressed_arrays

        info = meta.get("compression")
        damaged = f"{p}: damaged model file"
        if not isinstance(info, dict) or not isinstance(info.get("source_vocab_size"), int):
            raise EmbedtrainError(f"{damaged} (meta.json's 'compression' is not an object with "
                                  f"the method and source_vocab_size)")
        problem = check_compressed_arrays(info, config, len(vocab), arrays)
        if problem:
            raise EmbedtrainError(f"{damaged} ({problem})")
        stats = meta.get("stats")
        return cls(config, vocab, arrays, stats if isinstance(stats, dict) else {}, info)

    @property
    def nbytes(self) -> int:
        """Bytes of the stored arrays (codes, codebooks, steps)."""
        return sum(a.nbytes for a in self.arrays.values())

    def word_matrix(self):
        """The word rows as a quantization.CodedRows: float32 rows decoded when indexed."""
        from .quantization import WORDS, coded_rows

        return coded_rows(self.compression, self.arrays, WORDS)

    def make_vectors(self) -> Vectors:
        rows = self.word_matrix()
        if self.kind != "fasttext":
            return LazyVectors(self.vocab.words, rows, self.vocab.counts)
        from .quantization import NGRAMS, ShiftedRows, coded_rows

        c = self.config
        v = self.compression["source_vocab_size"]
        buckets = self.arrays["ngram_buckets"]
        stored = (ShiftedRows(coded_rows(self.compression, self.arrays, NGRAMS), v) if len(buckets)
                  else np.zeros((0, c.dim), dtype=np.float32))
        ngrams = NgramRows(stored, v, c.subword_buckets, buckets, c.seed)
        return LazyFastTextVectors(self.vocab.words, rows, self.vocab.counts, ngrams, c.minn, c.maxn,
                                   c.subword_buckets)

    def compress(self, *args, **kwargs):
        raise EmbedtrainError("this model is already compressed")

    def train_more(self, corpus: Any, **settings: Any) -> "Model":
        raise EmbedtrainError("a compressed model cannot be trained further: continue from the "
                              "model it was compressed from")

    def save_model(self, path: str | os.PathLike) -> Path:
        meta = {
            "format": MODEL_FORMAT,
            "format_version": COMPRESSED_FORMAT_VERSION,
            "model": self.kind,
            "embedtrain_version": __version__,
            "config": self.config.to_dict(),
            "compression": self.compression,
            "arrays": list(self.arrays),
            "stats": self.stats,
        }
        return write_archive(path, meta, self.vocab, self.arrays, deflate_vocab=True)


def check_mappable(p: Path) -> None:
    """Refuse, in one line, a path that cannot be memory-mapped."""
    if not p.exists():
        raise EmbedtrainError(f"model file {p} does not exist")
    if not p.is_file():
        raise EmbedtrainError(f"cannot memory-map {p}: not a regular file (a pipe, a device or "
                              f"a directory); load it without mmap")


def compress(source: str | os.PathLike, output: str | os.PathLike, method: str = "int8",
             pq_subvectors: int | None = None, keep_words: int | None = None, qnorm: bool = False,
             seed: int | None = None, keep_ngrams: int | None = None, pq_rotation: str | None = None,
             pq_iterations: int | None = None) -> CompressedModel:
    """Compress the model file ``source`` into the model file ``output`` (checked
    writable before any work, written atomically); returns the compressed model.
    See :meth:`Model.compress` and docs/memory.md."""
    from .quantization import DEFAULT_PQ_ROTATION, PQ_NITER, check_settings
    from .io.atomic import check_writable

    if Path(source).exists() and Path(output).exists() and Path(source).resolve() == Path(output).resolve():
        raise EmbedtrainError(f"the output {output} is the model being compressed; name another file")
    rotation = DEFAULT_PQ_ROTATION if pq_rotation is None else pq_rotation
    niter = PQ_NITER if pq_iterations is None else pq_iterations
    model = load_model_file(source, "compress reads a model file (a text classifier is "
                                    "quantised by 'embedtrain classify quantize')")
    check_settings(method, model.config.dim, pq_subvectors, keep_words, qnorm, keep_ngrams, model.kind,
                   rotation, niter)
    check_writable(output)
    small = model.compress(method, pq_subvectors, keep_words, qnorm, seed, keep_ngrams, rotation, niter)
    small.save_model(output)
    return small


def model_class(kind: str) -> type[Model]:
    """The class of a model kind: the subclass of Model whose KINDS name it, else Model."""
    def walk(cls: type[Model]):
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    return next((cls for cls in walk(Model) if kind in cls.KINDS), Model)


def load_model_file(path: str | os.PathLike, needed_for: str) -> Model:
    """Model.load, with an error that says why a model file (not vectors) is needed."""
    p = Path(path)
    if not p.is_file():
        raise EmbedtrainError(f"model file {p} does not exist" if not p.exists() else f"{p} is not a file")
    if not is_model_file(p):
        raise EmbedtrainError(f"{p} is not an embedtrain model file (.etm); {needed_for}")
    return Model.load(p)


def is_model_file(path: str | os.PathLike) -> bool:
    """True when ``path`` is an embedtrain model archive (checked by content)."""
    return is_archive_of(path, MODEL_FORMAT)
