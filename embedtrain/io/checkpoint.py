"""Checkpoints: a run's whole state, written every ``--checkpoint-every`` seconds so
that a run killed (even with ``kill -9``) resumes where the last one left it.

File (``PREFIX.ckpt``): the same zip container as model files (io/archive.py) with
``meta.json`` ``{"format": "embedtrain-checkpoint", "format_version": 1, "model",
"config", "state": {epoch, job, units done, rng states, history so far, ...},
"fingerprint": {...}, "stats", "arrays"}``, ``vocab.txt`` and one ``.npy`` per array:
the weights and any optimiser state (GloVe's AdaGrad sums and its visiting order).

A checkpoint is written atomically (temporary name, then rename), so a kill during
the write leaves the previous one intact. Resuming checks that the settings, the
vocabulary and the data (a digest of the id stream, or of the co-occurrence
entries) are the ones the checkpoint was written for, and refuses in one line
otherwise. With ``--threads 1`` and a seed, a resumed run gives the same bytes as
one that never stopped.
"""
from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..config import CommonConfig, config_class, fields_with
from ..errors import EmbedtrainError
from .archive import check_arrays, is_archive_of, read_archive, read_counts_member, write_archive
from ..vocab import Vocab
from ..training.runner import RunState

CHECKPOINT_FORMAT = "embedtrain-checkpoint"
CHECKPOINT_FORMAT_VERSION = 1
CHECKPOINT_SUFFIX = ".ckpt"
UNKEPT_MEMBER = "unkept.txt"   # as in a model file


@dataclass
class Checkpoint:
    path: Path
    config: CommonConfig
    vocab: Vocab
    arrays: dict[str, np.ndarray]
    state: RunState
    fingerprint: dict[str, Any]
    stats: dict[str, Any]

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Checkpoint":
        p = Path(path)
        meta, vocab, arrays = read_archive(p, CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, "checkpoint file")
        try:
            settings = dict(meta["config"])
            kind = settings.pop("model")
            config = config_class(kind)(**settings)
            state = RunState.from_dict(meta["state"])
            fingerprint = dict(meta["fingerprint"])
            stats = dict(meta.get("stats") or {})
        except (KeyError, TypeError, ValueError, AttributeError, EmbedtrainError) as exc:
            raise EmbedtrainError(f"{p}: damaged checkpoint file ({exc})") from None
        problem = check_state(state, config)
        if problem:
            raise EmbedtrainError(f"{p}: damaged checkpoint file ({problem})")
        if meta.get("unkept_words") is not None:
            vocab.unkept = read_counts_member(p, UNKEPT_MEMBER, "checkpoint file")
        return cls(p, config, vocab, arrays, state, fingerprint, stats)

    @property
    def continued(self) -> dict[str, Any] | None:
        """What a run continued with --continue records to be resumed (its vocabulary is
        the checkpoint's): {"lineage": the model's lineage before it, "prior_tokens"}."""
        value = self.stats.get("continued")
        return value if isinstance(value, dict) else None

    def damaged(self, problem: str) -> EmbedtrainError:
        return EmbedtrainError(f"{self.path}: damaged checkpoint file ({problem})")

    def check_arrays(self, expected: dict[str, tuple[list[tuple[int, ...]], Any]],
                     required: Any = None) -> None:
        """Refuse arrays that are not what the run's kernels expect (``expected``: name ->
        (the shapes allowed, dtype); ``required``: the names that must be there, default
        all), checked before any kernel sees them."""
        problem = check_arrays(expected, self.arrays, required)
        if problem:
            raise self.damaged(problem)

    def check_position(self, units_per_epoch: int, n_jobs: int) -> None:
        """Refuse a saved position outside the run (its jobs and words are known now)."""
        s = self.state
        if s.job > n_jobs:
            raise self.damaged(f"job {s.job} of an epoch of {n_jobs} jobs")
        if s.units_done > units_per_epoch * self.config.epochs:
            raise self.damaged(f"{s.units_done:,} units done of a run of "
                               f"{units_per_epoch * self.config.epochs:,}")

    def check_settings(self, config: CommonConfig) -> None:
        """Refuse to resume with settings other than the checkpoint's (but those with the
        role "run", which do not change what is computed with one thread)."""
        run = fields_with("run")
        mine = {k: v for k, v in self.config.to_dict().items() if k not in run}
        theirs = {k: v for k, v in config.to_dict().items() if k not in run}
        for name in sorted(set(mine) | set(theirs)):
            if mine.get(name) != theirs.get(name):
                option = "--model" if name == "model" else "--" + name.replace("_", "-")
                raise EmbedtrainError(
                    f"checkpoint {self.path} was written with {option} {mine.get(name)}, this run has "
                    f"{theirs.get(name)}: resume with the settings of the interrupted run")

    def check_data(self, vocab: Vocab, fingerprint: dict[str, Any]) -> None:
        """Refuse to resume on another corpus (or another co-occurrence matrix)."""
        self.check_vocab(vocab)
        if fingerprint != self.fingerprint:
            theirs = dict(self.fingerprint or {})
            if "chunks" in theirs and {**theirs, "chunks": fingerprint.get("chunks")} == fingerprint:
                raise EmbedtrainError(
                    f"checkpoint {self.path} cut this corpus into {theirs['chunks']:,} jobs an epoch, "
                    f"this embedtrain into {fingerprint['chunks']:,} (another version's jobs): resume "
                    "with the version that wrote it, or train again")
            raise EmbedtrainError(f"checkpoint {self.path} was written for another corpus (the "
                                  "text differs though the word counts match)")

    def check_vocab(self, vocab: Vocab) -> None:
        """Refuse to resume with another vocabulary (first: the arrays' shapes follow it)."""
        if vocab.words != self.vocab.words or not np.array_equal(vocab.counts, self.vocab.counts):
            raise EmbedtrainError(f"checkpoint {self.path} was written for another corpus (its "
                                  f"vocabulary of {len(self.vocab):,} words differs from this "
                                  f"corpus's {len(vocab):,})")


# uint64 rng states
UINT64_LIMIT = 1 << 64


def _whole(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def check_state(state: RunState, config: CommonConfig) -> str:
    """What is wrong with a checkpoint's saved position ("" if nothing): checked before
    any work, so a damaged file is refused rather than trained on."""
    for name in ("epoch", "job", "units_done", "epoch_examples", "epoch_units"):
        value = getattr(state, name)
        if not _whole(value) or value < 0:
            return f"state.{name} {value!r} is not a whole number >= 0"
    if state.epoch >= config.epochs:
        return f"state.epoch {state.epoch} is not an epoch of a {config.epochs}-epoch run"
    for name in ("epoch_loss", "epoch_seconds", "seconds"):
        value = getattr(state, name)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            return f"state.{name} {value!r} is not a finite number"
    if not isinstance(state.rng_states, list) or not state.rng_states or \
            not all(_whole(r) and 0 <= r < UINT64_LIMIT for r in state.rng_states):
        return "state.rng_states is not a list of 64-bit random states"
    if not isinstance(state.history, list) or len(state.history) != state.epoch or \
            not all(isinstance(h, dict) for h in state.history):
        return f"state.history does not hold the {state.epoch} finished epochs"
    return ""


def write_checkpoint(path: str | os.PathLike, config: CommonConfig, vocab: Vocab,
                     arrays: dict[str, np.ndarray], state: RunState, fingerprint: dict[str, Any],
                     stats: dict[str, Any]) -> Path:
    meta = {"format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_FORMAT_VERSION,
            "model": config.model, "embedtrain_version": __version__, "config": config.to_dict(),
            "state": state.to_dict(), "fingerprint": fingerprint, "stats": stats,
            "arrays": list(arrays)}
    texts = {}
    if vocab.unkept is not None:  # the model's unkept.txt (models.py), for a resumed run's model
        meta["unkept_words"] = len(vocab.unkept)
        texts[UNKEPT_MEMBER] = vocab.unkept.to_text()
    return write_archive(path, meta, vocab, arrays, texts)


def is_checkpoint(path: str | os.PathLike) -> bool:
    return is_archive_of(path, CHECKPOINT_FORMAT)


def digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:32]


def stream_fingerprint(stream) -> dict[str, Any]:
    """What identifies the training data of a token stream: sizes and a digest of the ids."""
    h = hashlib.sha256()
    for chunk in stream:
        h.update(chunk.tobytes())
    return {"tokens": int(stream.n_tokens), "entries": int(stream.n_entries),
            "chunks": int(stream.n_chunks), "ids": h.hexdigest()[:32]}


def remove_checkpoint(path: str | os.PathLike | None) -> None:
    if path is None:
        return
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise EmbedtrainError(f"cannot remove checkpoint {path}: {exc.strerror or exc}") from None
