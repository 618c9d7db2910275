"""Hyper-parameter search as fastText's ``-autotune-validation`` (src/autotune.cc):
within a time budget, train on the training file with sampled settings, score each
model on the validation file, and keep the best.

Like fastText, the first trial uses the given settings and later ones are drawn
around the best so far, the perturbation shrinking as the budget is used up (with
some trials drawn from the whole range, so the search does not stick). fastText
scores by F1; we score by precision at 1 (accuracy for one label per line), the
number ``classify test`` reports. The search is seeded (``seed``), but how many
trials fit in the budget depends on the machine.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import random
import time
from typing import Any

from ..errors import ConfigError, EmbedtrainError
from .config import LOSSES, ClassifyConfig, classify_config
from .data import read_lines, tokenize
from .model import Classifier, _source_lines, train_tokens

log = logging.getLogger("embedtrain")

# The ranges searched (fastText's autotune.cc: epoch 1-100, lr 0.01-5, dim 1-1000,
# wordNgrams 1-5, bucket 10k-10M); ours keep dim and bucket smaller so that a trial
# fits a short budget.
EPOCHS = (1, 100)
LR = (0.01, 5.0)
DIMS = (10, 20, 50, 100, 200)
WORD_NGRAMS = (1, 5)
BUCKETS = (100_000, 200_000, 500_000, 1_000_000, 2_000_000)
EXPLORE = 0.25          # share of trials drawn from the whole range
SEARCHED = ("epochs", "lr", "dim", "word_ngrams", "bucket", "loss")


def _clip(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


def _around(rng: random.Random, best: dict[str, Any], scale: float) -> dict[str, Any]:
    """Settings near ``best``; ``scale`` from 1 (start) to 0 (end of the budget)."""
    out = dict(best)
    if rng.random() < 0.8:
        out["epochs"] = int(_clip(round(best["epochs"] * math.exp(rng.gauss(0, 0.7 * scale + 0.1))), *EPOCHS))
    if rng.random() < 0.8:
        out["lr"] = _clip(best["lr"] * math.exp(rng.gauss(0, 0.8 * scale + 0.1)), *LR)
    if rng.random() < 0.4:
        i = DIMS.index(best["dim"]) if best["dim"] in DIMS else 0
        out["dim"] = DIMS[int(_clip(i + rng.choice((-1, 1)), 0, len(DIMS) - 1))]
    if rng.random() < 0.4:
        out["word_ngrams"] = int(_clip(best["word_ngrams"] + rng.choice((-1, 1)), *WORD_NGRAMS))
    if rng.random() < 0.2:
        out["bucket"] = rng.choice(BUCKETS)
    if rng.random() < 0.1:
        out["loss"] = rng.choice(LOSSES)
    return out


def _anywhere(rng: random.Random) -> dict[str, Any]:
    return {"epochs": int(round(math.exp(rng.uniform(math.log(EPOCHS[0]), math.log(EPOCHS[1]))))),
            "lr": math.exp(rng.uniform(math.log(LR[0]), math.log(LR[1]))),
            "dim": rng.choice(DIMS), "word_ngrams": rng.randint(*WORD_NGRAMS),
            "bucket": rng.choice(BUCKETS), "loss": rng.choice(("softmax", "softmax", "hs", "ova"))}


def autotune(source: Any, validation: str, duration: float, config: ClassifyConfig | None = None,
             **settings: Any) -> Classifier:
    """The best classifier found in ``duration`` seconds, scored on ``validation``;
    ``clf.stats["autotune"]`` holds the best settings, their score and the trials run."""
    if not (isinstance(duration, (int, float)) and duration > 0 and math.isfinite(duration)):
        raise ConfigError(f"--autotune-duration must be a positive number of seconds (got {duration!r})")
    config = config or classify_config(**settings)
    started = time.perf_counter()
    raw, name = _source_lines(source)
    token_lines = [tokenize(line) for line in raw]
    dev = [tokenize(line) for line in read_lines(validation, "validation")]
    rng = random.Random(config.seed)
    base = {k: getattr(config, k) for k in SEARCHED}
    best: tuple[float, dict[str, Any], Classifier] | None = None
    trials = []
    last = 0.0
    while True:
        elapsed = time.perf_counter() - started
        if best is not None and elapsed + last > duration:
            break
        if best is None:
            params = base
        elif rng.random() < EXPLORE:
            params = _anywhere(rng)
        else:
            params = _around(rng, best[1], 1.0 - elapsed / duration)
        t0 = time.perf_counter()
        try:
            clf = train_tokens(token_lines, dataclasses.replace(config, **params), name)
            score = clf.test_lines(dev, 1, 0.0, str(validation)).precision
        except EmbedtrainError:
            if best is None:
                raise
            clf, score = None, float("nan")  # diverged: too large a rate
        last = time.perf_counter() - t0
        score = -1.0 if math.isnan(score) else score
        trials.append({**params, "score": round(score, 5), "seconds": round(last, 3)})
        log.info("autotune trial %d: P@1 %.4f  %s", len(trials), score,
                 " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()))
        if best is None or score > best[0]:
            best = (score, params, clf)
    score, params, clf = best
    clf.stats["autotune"] = {"best": params, "validation_p_at_1": score, "trials": len(trials),
                             "history": trials, "duration": duration}
    return clf
