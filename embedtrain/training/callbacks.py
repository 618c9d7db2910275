"""Callbacks: code of yours that the runner calls while it trains.

Subclass :class:`Callback` and override what you need (gensim's
``CallbackAny2Vec`` has the same shape), then ``embedtrain.train(...,
callbacks=[MyCallback()])``::

    class PrintLoss(embedtrain.Callback):
        def on_epoch_end(self, info):
            print(info.epoch, info.loss, info.words_per_second)

Every hook gets an :class:`EpochInfo` or :class:`ProgressInfo`; ``on_progress`` is
called after every job (a chunk of about 50,000 words, or GloVe's 131,072 entries).
A callback that raises stops the run; nothing is written.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class ProgressInfo:
    epoch: int           # 1-based
    units_done: int      # words (GloVe: co-occurrence entries) of all epochs so far
    units_total: int     # for the whole run
    lr: float            # learning rate at this point of the schedule
    loss: float          # mean loss per example over the job just finished
    unit: str            # "word" or "entry"


@dataclass(frozen=True)
class EpochInfo:
    epoch: int           # 1-based
    epochs: int
    loss: float          # mean loss per example (GloVe: mean weighted cost per entry)
    units: int           # words (entries) trained in this epoch
    seconds: float
    lr: float            # learning rate at the end of the epoch
    unit: str

    @property
    def words_per_second(self) -> float:
        return self.units / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        return {"epoch": self.epoch, "loss": self.loss, "words_per_second": round(self.words_per_second, 1),
                "seconds": round(self.seconds, 3), "lr": self.lr, "units": self.units, "unit": self.unit}


class Callback:
    """Override any of these; the default does nothing."""

    def on_train_begin(self, model_kind: str, epochs: int) -> None:
        pass

    def on_epoch_begin(self, epoch: int) -> None:
        pass

    def on_progress(self, info: ProgressInfo) -> None:
        pass

    def on_epoch_end(self, info: EpochInfo) -> None:
        pass

    def on_train_end(self, history: list[dict]) -> None:
        pass


def check_callbacks(callbacks: Sequence[object] | None) -> list[Callback]:
    """The callbacks as a list; anything that has none of the hooks is refused."""
    from ..errors import EmbedtrainError

    out = list(callbacks or ())
    hooks = ("on_train_begin", "on_epoch_begin", "on_progress", "on_epoch_end", "on_train_end")
    for cb in out:
        if not any(callable(getattr(cb, h, None)) for h in hooks):
            raise EmbedtrainError(f"callback {cb!r} has none of the hooks {', '.join(hooks)} "
                                  "(subclass embedtrain.Callback)")
    return out


def call(callbacks: Sequence[object], hook: str, *args) -> None:
    for cb in callbacks:
        method = getattr(cb, hook, None)
        if method is not None:
            method(*args)
