"""Progress reporting for training: a tqdm bar on a terminal, one line per epoch
otherwise (a log file or a pipe gets no ``\\r`` frames), and a closing summary."""
from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

from ..kernels.options import COMPILE_NOTICE

log = logging.getLogger("embedtrain")


def is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False



def plural(unit: str) -> str:
    """"words", "entries": what the runner counts, in messages."""
    return unit[:-1] + "ies" if unit.endswith("y") else unit + "s"

class _NoBar:
    """What a disabled tqdm bar does: nothing."""

    def set_description_str(self, *args, **kwargs) -> None:
        pass

    set_postfix_str = update = close = set_description_str


class TrainingProgress:
    """A bar over ``total`` units (words, or co-occurrence entries), updated from
    worker threads. Shows the epoch, rate, learning rate and running loss.

    When ``stream`` (stderr) is not a terminal, the bar is replaced by one line per
    finished epoch: its number, time, rate, learning rate and mean loss.
    """

    def __init__(self, total: int, epochs: int, unit: str = "word", enabled: bool = True,
                 stream: TextIO | None = None, initial: int = 0):
        self.total = total
        self.epochs = epochs
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()
        self._compiled_before = COMPILE_NOTICE.seconds
        self.done = initial
        self._loss = 0.0
        self._examples = 0
        self._last_refresh = 0.0
        self._epoch = 0
        interactive = enabled and is_terminal(self.stream)
        self.lines = enabled and not interactive
        # Per-epoch tallies for the line mode (jobs of two epochs may finish interleaved).
        self._epoch_size = total / max(epochs, 1)
        self._epoch_done = [0] * epochs
        self._epoch_loss = [0.0] * epochs
        self._epoch_examples = [0] * epochs
        self._next_line = 0
        if initial:  # resumed from a checkpoint: the epochs before it are done
            full = min(int(initial // self._epoch_size), epochs)
            self._epoch_done[:full] = [int(self._epoch_size)] * full
            if full < epochs:
                self._epoch_done[full] = initial - int(full * self._epoch_size)
            self._next_line = full
        self.bar = _NoBar()
        if interactive:  # tqdm imported for a bar only (25 ms of a quiet or logged run's start)
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=unit, unit_scale=True, dynamic_ncols=True,
                            file=self.stream, leave=False, initial=initial,
                            bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                                       "[{elapsed}<{remaining}, {rate_fmt}{postfix}]")

    def update(self, n: int, epoch: int, lr: float, loss: float = 0.0, examples: int = 0) -> None:
        self.done += n
        if self.lines:
            self._line_update(n, epoch, lr, loss, examples)
            return
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

    def _line_update(self, n: int, epoch: int, lr: float, loss: float, examples: int) -> None:
        if not 0 <= epoch < self.epochs:
            return
        self._epoch_done[epoch] += n
        self._epoch_loss[epoch] += loss
        self._epoch_examples[epoch] += examples
        while (self._next_line < self.epochs
               and self._epoch_done[self._next_line] >= self._epoch_size * (1 - 1e-9)):
            e = self._next_line
            elapsed = self.elapsed
            units = plural(self.unit)
            # a first run's compile is in the time so far, not in the rate (runner.run)
            compiled = COMPILE_NOTICE.seconds - self._compiled_before
            so_far = f"{elapsed:.1f} s so far" + (f", {compiled:.1f} s of it compiling" if compiled >= 0.05 else "")
            rate = self.done / max(elapsed - compiled, 1e-9)
            text = (f"epoch {e + 1}/{self.epochs}: {self._epoch_done[e]:,} {units}; "
                    f"{so_far} ({rate:,.0f} {units}/s), lr {lr:.5f}")
            if self._epoch_examples[e]:
                text += f", loss {self._epoch_loss[e] / self._epoch_examples[e]:.4f}"
            print(text, file=self.stream, flush=True)
            self._next_line += 1

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def close(self) -> None:
        self.bar.close()
