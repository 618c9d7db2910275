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
ARRAYS = ("input_vectors", "output_vectors", "word_bytes", "word_offsets", "word_counts",
          "label_bytes", "label_offsets", "label_counts")


def _pack(tokens: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(tokens) + 1, dtype=np.int64)
    if tokens:
        np.cumsum([len(t) for t in tokens], out=offsets[1:])
    return np.frombuffer(b"".join(tokens), dtype=np.uint8).copy(), offsets


def _unpack(data: np.ndarray, offsets: np.ndarray) -> list[bytes]:
    raw = data.tobytes()
    return [raw[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]


def _classifier_arrays(clf) -> tuple[dict, Vocab, dict[str, np.ndarray]]:
    """(meta fields, vocab.txt, arrays) of a classifier, for its model file or a checkpoint."""
    d = clf.dictionary
    wb, wo = _pack(d.words)
    lb, lo = _pack(d.labels)
    meta = {"kind": "classifier", "config": clf.config.to_dict(), "ntokens": int(d.ntokens),
            "bucket": int(clf.bucket), "stats": clf.stats, "arrays": list(ARRAYS)}
    shown = [w.decode("utf-8", "replace") for w in d.words]
    if len(set(shown)) != len(shown):  # vocab.txt is for reading only; the bytes are exact
        shown = [f"{w}#{i}" for i, w in enumerate(shown)]
    vocab = Vocab(shown, d.word_counts)
    arrays = {"input_vectors": clf.input_vectors, "output_vectors": clf.output_vectors,
              "word_bytes": wb, "word_offsets": wo, "word_counts": d.word_counts,
              "label_bytes": lb, "label_offsets": lo, "label_counts": d.label_counts}
    return meta, vocab, arrays


def write_classifier(clf, path: str | os.PathLike) -> Path:
    meta, vocab, arrays = _classifier_arrays(clf)
    meta = {"format": CLASSIFIER_FORMAT, "format_version": CLASSIFIER_FORMAT_VERSION, **meta}
    return write_archive(path, meta, vocab, arrays)


def is_classifier_file(path: str | os.PathLike) -> bool:
    return is_archive_of(path, CLASSIFIER_FORMAT)


def is_fasttext_supervised(path: str | os.PathLike) -> bool:
    from .fasttext_supervised import is_supervised_bin
    return is_supervised_bin(path)


def read_classifier(path: str | os.PathLike) -> tuple:
    """(config, dictionary, input_vectors, output_vectors, stats) of an embedtrain ``.etm``
    classifier or fastText's supervised ``.bin``: what Classifier.load builds a Classifier from."""
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
    meta, _vocab, arrays = read_archive(p, CLASSIFIER_FORMAT, CLASSIFIER_FORMAT_VERSION,
                                        "classifier file", array_names=ARRAYS,
                                        hint=" (nor a fastText supervised .bin)")
    return _classifier_parts(p, meta, arrays, "classifier file")


def _classifier_parts(p: Path, meta: dict, arrays: dict[str, np.ndarray], what: str) -> tuple:
    """(config, dictionary, input_vectors, output_vectors, stats) from an archive's contents,
    every array checked against the dictionary and settings."""
    from ..classify.config import classify_config
    from ..classify.data import Dictionary

    try:
        settings = {k: v for k, v in meta["config"].items() if k != "model"}
        config = classify_config(**settings)
        words = _unpack(arrays["word_bytes"], arrays["word_offsets"])
        labels = _unpack(arrays["label_bytes"], arrays["label_offsets"])
        dictionary = Dictionary(words, arrays["word_counts"], labels, arrays["label_counts"],
                                int(meta["ntokens"]), config.label_prefix.encode("utf-8"))
        bucket = int(meta["bucket"])
    except (KeyError, TypeError, ValueError, EmbedtrainError) as exc:
        raise EmbedtrainError(f"{p}: damaged {what} ({exc})") from None
    nw, nl, dim = len(words), len(labels), config.dim
    problem = check_arrays({
        "input_vectors": ([(nw + bucket, dim)], np.float32),
        "output_vectors": ([(nl, dim)], np.float32),
        "word_bytes": ([arrays["word_bytes"].shape], np.uint8),
        "word_offsets": ([(nw + 1,)], np.int64), "word_counts": ([(nw,)], np.int64),
        "label_bytes": ([arrays["label_bytes"].shape], np.uint8),
        "label_offsets": ([(nl + 1,)], np.int64), "label_counts": ([(nl,)], np.int64)}, arrays)
    if problem:
        raise EmbedtrainError(f"{p}: damaged {what} ({problem})")
    return config, dictionary, arrays["input_vectors"], arrays["output_vectors"], meta.get("stats") or {}


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
    meta, vocab, arrays = _classifier_arrays(clf)
    meta = {"format": CLASSIFIER_CHECKPOINT_FORMAT, "format_version": CLASSIFIER_CHECKPOINT_FORMAT_VERSION,
            **meta, "state": state.to_dict(), "fingerprint": fingerprint}
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
    parts = _classifier_parts(p, meta, arrays, what)
    try:
        state = RunState.from_dict(meta["state"])
        fingerprint = dict(meta["fingerprint"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise EmbedtrainError(f"{p}: damaged {what} ({exc})") from None
    return (*parts, state, fingerprint)
