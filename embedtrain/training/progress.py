"""Progress reporting for training: a tqdm bar on stderr, and a closing summary."""
from __future__ import annotations

import logging
import sys
import time

from tqdm import tqdm

log = logging.getLogger("embedtrain")


class TrainingProgress:
    """A bar over ``total`` units (words, or co-occurrence entries), updated from
    worker threads. Shows the epoch, rate, learning rate and running loss."""

    def __init__(self, total: int, epochs: int, unit: str = "word", enabled: bool = True,
                 initial: int = 0):
        self.total = total
        self.epochs = epochs
        self.start = time.perf_counter()
        self.done = initial
        self._loss = 0.0
        self._examples = 0
        self._last_refresh = 0.0
        self._epoch = 0
        self.bar = tqdm(total=total, unit=unit, unit_scale=True, dynamic_ncols=True,
                        file=sys.stderr, disable=not enabled, leave=False, initial=initial,
                        bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                                   "[{elapsed}<{remaining}, {rate_fmt}{postfix}]")

    def update(self, n: int, epoch: int, lr: float, loss: float = 0.0, examples: int = 0) -> None:
        self.done += n
        self._loss += loss
        self._examples += examples
        now = time.perf_counter()
        if epoch + 1 != self._epoch:  # tqdm redraws on its own clock: keep the epoch current
            self._epoch = epoch + 1
            self.bar.set_description_str(f"epoch {epoch + 1}/{self.epochs}", refresh=False)
        if now - self._last_refresh > 0.25 or self.done >= self.total:
            self._last_refresh = now
            postfix = f"lr={lr:.5f}"
            if self._examples:
                postfix += f", loss={self._loss / self._examples:.4f}"
                self._loss = 0.0
                self._examples = 0
            self.bar.set_postfix_str(postfix, refresh=False)
        self.bar.update(n)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def close(self) -> None:
        self.bar.close()
