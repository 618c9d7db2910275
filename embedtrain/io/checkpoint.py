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
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..config import CommonConfig, config_class, fields_with
from ..errors import EmbedtrainError
from .archive import is_archive_of, read_archive, write_archive
from ..vocab import Vocab
from ..training.runner import RunState

CHECKPOINT_FORMAT = "embedtrain-checkpoint"
CHECKPOINT_FORMAT_VERSION = 1
CHECKPOINT_SUFFIX = ".ckpt"


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
        except (KeyError, TypeError, ValueError) as exc:
            raise EmbedtrainError(f"{p}: damaged checkpoint file ({exc})") from None
        return cls(p, config, vocab, arrays, state, fingerprint, dict(meta.get("stats") or {}))

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
        if vocab.words != self.vocab.words or not np.array_equal(vocab.counts, self.vocab.counts):
            raise EmbedtrainError(f"checkpoint {self.path} was written for another corpus (its "
                                  f"vocabulary of {len(self.vocab):,} words differs from this "
                                  f"corpus's {len(vocab):,})")
        if fingerprint != self.fingerprint:
            raise EmbedtrainError(f"checkpoint {self.path} was written for another corpus (the "
                                  "text differs though the word counts match)")


def write_checkpoint(path: str | os.PathLike, config: CommonConfig, vocab: Vocab,
                     arrays: dict[str, np.ndarray], state: RunState, fingerprint: dict[str, Any],
                     stats: dict[str, Any]) -> Path:
    meta = {"format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_FORMAT_VERSION,
            "model": config.model, "embedtrain_version": __version__, "config": config.to_dict(),
            "state": state.to_dict(), "fingerprint": fingerprint, "stats": stats,
            "arrays": list(arrays)}
    return write_archive(path, meta, vocab, arrays)


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
