"""A budgeted search for item settings on a validation split (``train --items ... --tune``).

Coordinate search, as Caselles-Dupre et al. (2018) tuned item2vec: start from the presets, try
each value of one setting with the others fixed, keep the best (by NDCG@k on the validation
targets), go on to the next setting. ``TUNE_GRID`` lists the settings in the order tried. The
search stops when ``budget`` trainings have run; the best settings seen so far win. Each
training sees only the ``tune`` part (the sequences without their last two items) and is scored
on the ``valid`` part (its targets are the second-to-last items), so the test targets are
never looked at.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Sequence

from ..config import DEFAULT_TUNE_BUDGET

log = logging.getLogger("embedtrain")

# Settings and values tried, in order (docs/items.md, "Presets": the measured table).
TUNE_GRID: dict[str, tuple[Any, ...]] = {
    "ns_exponent": (-0.5, 0.0, 0.5, 0.75, 1.0),
    "sample": (0.0, 1e-5, 1e-4, 1e-3),
    "window": (0, 3, 10),
    "epochs": (10, 20, 40),
}


def coordinate_search(score: Callable[[dict[str, Any]], float], base: dict[str, Any],
                      grid: dict[str, Sequence[Any]] | None = None, budget: int = DEFAULT_TUNE_BUDGET
                      ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(best settings, every trial with its score and seconds) of a coordinate search from
    ``base`` over ``grid`` (default ``TUNE_GRID``) with at most ``budget`` calls of ``score``."""
    grid = TUNE_GRID if grid is None else grid
    best = dict(base)
    trials: list[dict[str, Any]] = []
    seen: dict[tuple, float] = {}

    def run(settings: dict[str, Any]) -> float | None:
        key = tuple(sorted(settings.items()))
        if key in seen:
            return seen[key]
        if len(trials) >= budget:
            return None
        started = time.perf_counter()
        value = float(score(settings))
        trials.append({**settings, "score": value, "seconds": round(time.perf_counter() - started, 2)})
        log.info("tune %d/%d: %s -> %.4f", len(trials), budget,
                 ", ".join(f"{k}={settings[k]}" for k in grid if k in settings), value)
        seen[key] = value
        return value

    best_score = run(best)
    for name, values in grid.items():
        for value in values:
            trial = {**best, name: value}
            got = run(trial)
            if got is None:
                return best, trials
            if best_score is None or got > best_score:
                best, best_score = trial, got
    return best, trials


def tune_items(sequences: Sequence[Sequence[str]], train: Callable[..., Any], base: dict[str, Any], *,
               k: int = 10, history: int = 5, budget: int = DEFAULT_TUNE_BUDGET,
               grid: dict[str, Sequence[Any]] | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Tune ``base`` settings on a validation split of ``sequences``: ``train(tune_sequences,
    **settings)`` returns vectors, scored by NDCG@k on the validation targets."""
    from .evaluate import evaluate_items
    from .split import split_sequences

    parts = split_sequences(sequences, validation=True)
    popular = parts["tune"]

    def score(settings):
        vectors = train(parts["tune"], **settings)
        return evaluate_items(vectors, parts["valid"], k=k, history=history,
                              popular_from=popular)[f"ndcg@{k}"]

    return coordinate_search(score, base, grid, budget)
