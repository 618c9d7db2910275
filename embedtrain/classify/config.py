"""Settings of a text classifier (fastText's supervised mode): one frozen dataclass,
the one home of every default. The CLI's ``classify train`` options are built from
these fields (help text included).

The defaults are fastText's ``supervised`` command's (fastText 0.9.2, src/args.cc),
except ``dim``: 10, the hidden size of Joulin et al. (2017, "Bag of Tricks for
Efficient Text Classification", section 3), where fastText's command line keeps its
word-vector default of 100 (``--dim 100`` gives fastText's). As in fastText, ``bucket``
is not used (no n-gram rows are allocated) when there are neither word n-grams
(``word_ngrams`` 1) nor character n-grams (``maxn`` 0).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..config import (INT32_MAX, INT64_MAX, MAX_DIM, MAX_EPOCHS, MAX_NEGATIVE, MAX_NGRAM,
                      MAX_THREADS, _check_limits, _check_types, _opt, resolve_threads)
from ..errors import ConfigError

LOSSES = ("softmax", "ns", "hs", "ova")
MAX_WORD_NGRAMS = 100
# fastText's -lrUpdateRate: each thread adds its token count to the shared progress
# (which sets the learning rate) every this many tokens.
LR_UPDATE_RATE = 100


@dataclass(frozen=True)
class ClassifyConfig:
    """fastText-style supervised text classification (Joulin et al. 2017)."""

    dim: int = _opt(10, "Size of the hidden layer (the word and n-gram vectors).",
                    range=(1, MAX_DIM, False), roles=("shape",))
    epochs: int = _opt(5, "Passes over the training file.", range=(1, MAX_EPOCHS, False))
    lr: float = _opt(0.1, "Initial learning rate (decays linearly to 0, as in fastText).",
                     range=(0.0, None, True))
    word_ngrams: int = _opt(1, "Use word n-grams up to this length (hashed into --bucket rows).",
                            range=(1, MAX_WORD_NGRAMS, False), roles=("shape",))
    minn: int = _opt(0, "Minimum length of character n-grams (0 with --maxn 0: none).",
                     range=(0, MAX_NGRAM, False), roles=("shape",))
    maxn: int = _opt(0, "Maximum length of character n-grams (0: none).",
                     range=(0, MAX_NGRAM, False), roles=("shape",))
    loss: str = _opt("softmax", "Loss: softmax, ns (negative sampling), hs (hierarchical softmax "
                                "over a Huffman tree of the labels) or ova (one-vs-all, for "
                                "multi-label data).", choices=LOSSES, roles=("shape",))
    bucket: int = _opt(2_000_000, "Rows that word and character n-grams are hashed into (unused "
                                  "without n-grams, as in fastText).",
                       range=(1, INT32_MAX, False), roles=("shape",))
    negative: int = _opt(5, "Negative labels drawn per example (--loss ns).",
                         range=(1, MAX_NEGATIVE, False))
    min_count: int = _opt(1, "Ignore words that occur fewer times than this.",
                          range=(1, INT64_MAX, False), roles=("shape", "counting"))
    min_count_label: int = _opt(1, "Ignore labels that occur fewer times than this.",
                                range=(1, INT64_MAX, False), roles=("shape", "counting"))
    label_prefix: str = _opt("__label__", "Tokens that start with this are labels.",
                             roles=("shape", "counting"))
    pretrained: str | None = _opt(None, "Start the word rows from these vectors (any format "
                                        "embedtrain reads; their dimension must be --dim).")
    threads: int = _opt(0, "Worker threads; 0 means every available core.",
                        range=(0, MAX_THREADS, False), roles=("run",))
    seed: int = _opt(0, "Random seed. With --threads 1 a run is bit-identical run to run.",
                     range=(0, INT64_MAX, False))
    checkpoint_every: float | None = _opt(
        None, "Write MODEL.ckpt (MODEL without .etm) every this many seconds of training; after "
              "a crash, --resume MODEL.ckpt continues from it.", range=(0.0, None, True),
        roles=("run",))

    model = "classifier"

    def __post_init__(self) -> None:
        _check_types(self)
        _check_limits(self)
        if self.maxn and self.minn > self.maxn:
            raise ConfigError(f"--minn ({self.minn}) must not exceed --maxn ({self.maxn})")
        if self.maxn and self.minn < 1:
            raise ConfigError("--minn must be at least 1 when --maxn is set")
        if not self.label_prefix or any(c.isspace() for c in self.label_prefix):
            raise ConfigError("--label-prefix must be a non-empty string without spaces")

    @property
    def uses_buckets(self) -> bool:
        """fastText's args.cc: no n-gram rows without word or character n-grams."""
        return self.word_ngrams > 1 or self.maxn > 0

    @property
    def worker_threads(self) -> int:
        return resolve_threads(self.threads)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, **dataclasses.asdict(self)}


# fastText's quantize (src/fasttext.cc FastText::quantize, src/args.cc): the command line
# parses its own Args, so a retraining runs 5 epochs at lr 0.05 (Args' defaults), not the
# model's settings; the output matrix is always quantised with 2-dimensional subvectors.
QUANTIZE_OUTPUT_DSUB = 2


@dataclass(frozen=True)
class QuantizeConfig:
    """Settings of ``classify quantize`` (fastText's ``quantize``, its defaults)."""

    cutoff: int | None = _opt(None, "Keep only the N input rows (words and n-grams) with the largest "
                                    "norms, the end-of-line word first (fastText's -cutoff; none: "
                                    "keep every row).", range=(1, INT32_MAX, False))
    retrain: bool = _opt(False, "After --cutoff, train the kept rows and the output again on "
                                "--input (fastText's -retrain).", flag=True)
    qnorm: bool = _opt(False, "Quantise each row's norm apart (1 byte a row, 256 levels), its "
                              "direction by product quantisation (fastText's -qnorm).", flag=True)
    qout: bool = _opt(False, "Quantise the output matrix too, with 2-dimensional subvectors "
                             "(fastText's -qout; needs at least 256 output rows).", flag=True)
    dsub: int = _opt(2, "Values per subvector: each row is stored as ceil(dim / dsub) bytes; "
                        "the last subvector may be shorter (fastText's -dsub).",
                     range=(1, MAX_DIM, False))
    epochs: int = _opt(5, "Retraining passes over --input (fastText quantize's -epoch).",
                       range=(1, MAX_EPOCHS, False))
    lr: float = _opt(0.05, "Retraining learning rate (fastText quantize's -lr).",
                     range=(0.0, None, True))
    threads: int = _opt(0, "Retraining threads; 0 means every available core.",
                        range=(0, MAX_THREADS, False), roles=("run",))
    seed: int = _opt(1234, "Seed of the k-means samples and starting centroids (and of the "
                           "retraining).", range=(0, INT64_MAX, False))

    def __post_init__(self) -> None:
        _check_types(self)
        _check_limits(self)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _from_settings(cls: type, what: str, settings: dict[str, Any]):
    """``cls`` from keyword settings (None: the default); an unknown name is one ConfigError."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ConfigError(f"unknown {what} setting {unknown[0]!r} (known: {', '.join(sorted(known))})")
    return cls(**{k: v for k, v in settings.items() if v is not None})


def quantize_config(**settings: Any) -> QuantizeConfig:
    """A QuantizeConfig from keyword settings; an unknown name is one ConfigError."""
    return _from_settings(QuantizeConfig, "quantize", settings)


def classify_config(**settings: Any) -> ClassifyConfig:
    """A ClassifyConfig from keyword settings; an unknown name is one ConfigError."""
    return _from_settings(ClassifyConfig, "classifier", settings)
