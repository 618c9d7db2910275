"""The classifier's model file (``.etm``): an archive (io/archive.py) of kind
``embedtrain-classifier`` holding meta.json (settings, counts), vocab.txt (the words,
for reading), the exact word and label bytes, and the input and output matrices.
:func:`read_classifier` also reads fastText's own supervised ``.bin``
(io/fasttext_supervised.py)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import EmbedtrainError
from ..vocab import Vocab
from .archive import check_arrays, is_archive_of, read_archive, write_archive
from .fasttext_bin import FASTTEXT_MAGIC

CLASSIFIER_FORMAT = "embedtrain-classifier"
CLASSIFIER_FORMAT_VERSION = 1
# Version 2: a quantised classifier (classify/quantization.py): meta.json's "quantization"
# names each quantised matrix's dsub; the matrix is stored as NAME_codes, NAME_centroids
# (and NAME_norm_codes, NAME_norm_centroids with qnorm); a pruned model adds kept_buckets.
# Unquantised classifiers stay version 1, so older embedtrain versions still read them.
QUANTIZED_FORMAT_VERSION = 2
ARRAYS = ("input_vectors", "output_vectors", "word_bytes", "word_offsets", "word_counts",
          "label_bytes", "label_offsets", "label_counts")
MATRICES = ("input_vectors", "output_vectors")
QUANT_PARTS = ("codes", "centroids", "norm_codes", "norm_centroids")


def _pack(tokens: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(tokens) + 1, dtype=np.int64)
    if tokens:
        np.cumsum([len(t) for t in tokens], out=offsets[1:])
    return np.frombuffer(b"".join(tokens), dtype=np.uint8).copy(), offsets


def _unpack(data: np.ndarray, offsets: np.ndarray) -> list[bytes]:
    raw = data.tobytes()
    return [raw[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]


def _classifier_arrays(clf) -> tuple[dict, Vocab, dict[str, np.ndarray]]:
    """(meta fields, vocab.txt, arrays) of a classifier, for its model file or a checkpoint
    (a quantised classifier: format version 2's arrays and meta fields)."""
    d = clf.dictionary
    wb, wo = _pack(d.words)
    lb, lo = _pack(d.labels)
    meta = {"format": CLASSIFIER_FORMAT, "format_version": CLASSIFIER_FORMAT_VERSION,
            "kind": "classifier", "config": clf.config.to_dict(), "ntokens": int(d.ntokens),
            "bucket": int(clf.bucket), "stats": clf.stats, "arrays": list(ARRAYS)}
    shown = [w.decode("utf-8", "replace") for w in d.words]
    if len(set(shown)) != len(shown):  # vocab.txt is for reading only; the bytes are exact
        shown = [f"{w}#{i}" for i, w in enumerate(shown)]
    vocab = Vocab(shown, d.word_counts)
    arrays = {"input_vectors": clf.input_vectors, "output_vectors": clf.output_vectors,
              "word_bytes": wb, "word_offsets": wo, "word_counts": d.word_counts,
              "label_bytes": lb, "label_offsets": lo, "label_counts": d.label_counts}
    if clf.quantized:
        quant = {}
        for name in MATRICES:
            q = arrays.pop(name)
            if isinstance(q, np.ndarray):
                arrays[name] = q
                continue
            quant[name] = {"dsub": int(q.dsub), "qnorm": bool(q.qnorm)}
            for part in QUANT_PARTS:
                if getattr(q, part) is not None:
                    arrays[f"{name}_{part}"] = getattr(q, part)
        if clf.kept_buckets is not None:
            arrays["kept_buckets"] = np.ascontiguousarray(clf.kept_buckets, dtype=np.int64)
        meta.update(format_version=QUANTIZED_FORMAT_VERSION, quantization=quant,
                    pruned=clf.kept_buckets is not None, arrays=list(arrays))
    return meta, vocab, arrays


def write_classifier(clf, path: str | os.PathLike) -> Path:
    meta, vocab, arrays = _classifier_arrays(clf)
    return write_archive(path, meta, vocab, arrays)


def _quantized_matrix(meta: dict, arrays: dict, name: str, rows: int, dim: int):
    """The ``name`` matrix of a version-2 archive: float32, or a QuantMatrix; a problem
    is a string."""
    from ..classify.quantmatrix import QuantMatrix

    spec = (meta.get("quantization") or {}).get(name)
    if spec is None:
        m = arrays.get(name)
        if m is None or m.dtype != np.float32 or m.shape != (rows, dim):
            return f"{name} is missing or not float32 [{rows}, {dim}]"
        return m
    parts = {p: arrays.get(f"{name}_{p}") for p in QUANT_PARTS}
    if parts["codes"] is None or parts["centroids"] is None or bool(spec.get("qnorm")) != (
            parts["norm_codes"] is not None):
        return f"the parts of the quantised {name} are missing"
    q = QuantMatrix(parts["codes"], parts["centroids"], dim, int(spec["dsub"]),
                    parts["norm_codes"], parts["norm_centroids"])
    problem = q.check()
    if not problem and q.shape[0] != rows:
        problem = f"{q.shape[0]:,} rows, not {rows:,}"
    return f"the quantised {name}: {problem}" if problem else q


def is_classifier_file(path: str | os.PathLike) -> bool:
    return is_archive_of(path, CLASSIFIER_FORMAT)


def is_fasttext_supervised(path: str | os.PathLike) -> bool:
    from .fasttext_supervised import is_supervised_bin
    return is_supervised_bin(path)


def read_classifier(path: str | os.PathLike) -> tuple:
    """(config, dictionary, input_vectors, output_vectors, stats, extra) of an embedtrain
    ``.etm`` classifier or fastText's supervised ``.bin`` or ``.ftz``: what Classifier.load
    builds a Classifier from (``extra``: its keyword arguments, a pruned model's buckets)."""
    from ..models import MODEL_FORMAT

    p = Path(path)
    if p.is_file():
        with open(p, "rb") as f:
            head = f.read(4)
        if len(head) == 4 and int.from_bytes(head, "little", signed=True) == FASTTEXT_MAGIC:
            from .fasttext_supervised import read_supervised_bin
            return read_supervised_bin(p)
        if is_archive_of(p, MODEL_FORMAT):
            raise EmbedtrainError(f"{p} is a word-vector model, not a classifier (train one with "
                                  f"'embedtrain classify train')")
    meta, _vocab, arrays = read_archive(p, CLASSIFIER_FORMAT, QUANTIZED_FORMAT_VERSION,
                                        "classifier file", hint=" (nor a fastText supervised .bin)")
    if meta["format_version"] >= QUANTIZED_FORMAT_VERSION:
        return _read_quantized(p, meta, arrays)
    return (*_dense_parts(p, meta, arrays, "classifier file"), {})


def _dense_parts(p: Path, meta: dict, arrays: dict, what: str) -> tuple:
    """(config, dictionary, input_vectors, output_vectors, stats) of an archive holding
    float32 matrices (a version-1 classifier, or a checkpoint), every array checked."""
    if set(ARRAYS) - set(arrays):
        raise EmbedtrainError(f"{p}: damaged {what} (missing {sorted(set(ARRAYS) - set(arrays))[0]!r})")
    config, dictionary, bucket = _settings_and_dictionary(p, meta, arrays, what)
    nw, nl, dim = dictionary.nwords, dictionary.nlabels, config.dim
    problem = check_arrays({
        "input_vectors": ([(nw + bucket, dim)], np.float32),
        "output_vectors": ([(nl, dim)], np.float32)}, {k: arrays[k] for k in MATRICES})
    if problem:
        raise EmbedtrainError(f"{p}: damaged {what} ({problem})")
    return config, dictionary, arrays["input_vectors"], arrays["output_vectors"], meta.get("stats") or {}


def _settings_and_dictionary(p: Path, meta: dict, arrays: dict, what: str = "classifier file"):
    from ..classify.config import classify_config
    from ..classify.data import Dictionary

    try:
        settings = {k: v for k, v in meta["config"].items() if k != "model"}
        config = classify_config(**settings)
        nw, nl = len(arrays["word_counts"]), len(arrays["label_counts"])
        problem = check_arrays({
            "word_bytes": ([arrays["word_bytes"].shape], np.uint8),
            "word_offsets": ([(nw + 1,)], np.int64), "word_counts": ([(nw,)], np.int64),
            "label_bytes": ([arrays["label_bytes"].shape], np.uint8),
            "label_offsets": ([(nl + 1,)], np.int64), "label_counts": ([(nl,)], np.int64)},
            {k: arrays[k] for k in ARRAYS[2:]})
        if problem:
            raise ValueError(problem)
        words = _unpack(arrays["word_bytes"], arrays["word_offsets"])
        labels = _unpack(arrays["label_bytes"], arrays["label_offsets"])
        dictionary = Dictionary(words, arrays["word_counts"], labels, arrays["label_counts"],
                                int(meta["ntokens"]), config.label_prefix.encode("utf-8"))
        bucket = int(meta["bucket"])
    except (KeyError, TypeError, ValueError, IndexError, EmbedtrainError) as exc:
        raise EmbedtrainError(f"{p}: damaged {what} ({exc})") from None
    return config, dictionary, bucket


def _read_quantized(p: Path, meta: dict, arrays: dict) -> tuple:
    config, dictionary, bucket = _settings_and_dictionary(p, meta, arrays)
    nw, nl, dim = dictionary.nwords, dictionary.nlabels, config.dim
    kept = None
    if meta.get("pruned"):
        kept = arrays.get("kept_buckets")
        if kept is None or kept.dtype != np.int64 or kept.ndim != 1 or (len(kept) and (
                kept.min() < 0 or kept.max() >= bucket or len(np.unique(kept)) != len(kept))):
            raise EmbedtrainError(f"{p}: damaged classifier file (kept_buckets is missing or not "
                                  f"distinct buckets below {bucket:,})")
    rows = nw + (bucket if kept is None else len(kept))
    matrices = []
    for name, n in (("input_vectors", rows), ("output_vectors", nl)):
        try:
            m = _quantized_matrix(meta, arrays, name, n, dim)
        except (KeyError, TypeError, ValueError) as exc:
            m = f"the quantised {name}: {exc}"
        if isinstance(m, str):
            raise EmbedtrainError(f"{p}: damaged classifier file ({m})")
        matrices.append(m)
    extra = {"kept_buckets": kept, "bucket": bucket} if kept is not None else {}
    return (config, dictionary, matrices[0], matrices[1], meta.get("stats") or {}, extra)


# ---------------------------------------------------------------------- checkpoints
# A classifier's checkpoint (``MODEL.ckpt``, written every --checkpoint-every seconds): the
# classifier's archive under its own format name, with the runner's state (epoch, job,
# tokens done, random states, history; training/runner.py RunState) and a fingerprint of
# the training data in meta.json. Word models' checkpoints (io/checkpoint.py) are another
# format, so each command refuses the other's in one line.
CLASSIFIER_CHECKPOINT_FORMAT = "embedtrain-classifier-checkpoint"
CLASSIFIER_CHECKPOINT_FORMAT_VERSION = 1


def write_classifier_checkpoint(path: str | os.PathLike, clf, state, fingerprint: dict) -> Path:
    """Write ``clf`` (its weights as they are now) and the run's ``state`` atomically."""
    if clf.quantized:
        raise EmbedtrainError("a quantised classifier is not trained, so it has no checkpoint")
    meta, vocab, arrays = _classifier_arrays(clf)
    meta = {**meta, "format": CLASSIFIER_CHECKPOINT_FORMAT,
            "format_version": CLASSIFIER_CHECKPOINT_FORMAT_VERSION, "state": state.to_dict(),
            "fingerprint": fingerprint}
    return write_archive(path, meta, vocab, arrays)


def is_classifier_checkpoint(path: str | os.PathLike) -> bool:
    return is_archive_of(path, CLASSIFIER_CHECKPOINT_FORMAT)


def read_classifier_checkpoint(path: str | os.PathLike) -> tuple:
    """(config, dictionary, input_vectors, output_vectors, stats, state, fingerprint) of a
    classifier checkpoint; anything else (a word model's checkpoint, a model file) is one
    line saying what it is."""
    from ..training.runner import RunState
    from .checkpoint import CHECKPOINT_FORMAT

    p = Path(path)
    what = "classifier checkpoint"
    if is_archive_of(p, CHECKPOINT_FORMAT):
        raise EmbedtrainError(f"{p} is the checkpoint of a word-vector run (resume it with "
                              f"'embedtrain train --resume'), not of a classifier")
    if is_archive_of(p, CLASSIFIER_FORMAT) or is_fasttext_supervised(p):
        raise EmbedtrainError(f"{p} is a finished classifier, not a checkpoint: --resume "
                              f"continues an interrupted run from the MODEL.ckpt it wrote")
    meta, _vocab, arrays = read_archive(p, CLASSIFIER_CHECKPOINT_FORMAT,
                                        CLASSIFIER_CHECKPOINT_FORMAT_VERSION, what,
                                        array_names=ARRAYS)
    parts = _dense_parts(p, meta, arrays, what)
    try:
        state = RunState.from_dict(meta["state"])
        fingerprint = dict(meta["fingerprint"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise EmbedtrainError(f"{p}: damaged {what} ({exc})") from None
    return (*parts, state, fingerprint)
