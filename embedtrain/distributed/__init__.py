"""Training across machines on Ray (skip-gram, CBOW, FastText; GloVe in glove.py and
cooccur.py, map-reduce counting and a partitioned matrix): the input split
among workers (split.py, parts.py), replicas combined every interval (sync.py),
the Ray actors (workers.py), the cluster connection (cluster.py), the rounds
(executor.py) and the run as a runner Task whose jobs are rounds (task.py), so the
training wing's runner drives it. Ray is imported only by cluster.py, workers.py and executor.py,
and only when a run asks for it."""
from __future__ import annotations

import os
from dataclasses import fields
from typing import Any

from ..config import RAY_MODELS, CommonConfig, DistributedConfig
from ..errors import EmbedtrainError

DISTRIBUTED_SETTINGS = tuple(f.name for f in fields(DistributedConfig))


def pop_distributed(settings: dict[str, Any]) -> DistributedConfig:
    """Take the --ray settings out of ``settings`` (the rest are model settings)."""
    given = {k: settings.pop(k) for k in DISTRIBUTED_SETTINGS if k in settings}
    given = {k: v for k, v in given.items() if v is not None}
    dist = DistributedConfig(**given)
    if dist.ray is None and given:
        names = ", ".join("--" + k.replace("_", "-") for k in given)
        raise EmbedtrainError(f"{names} applies only with --ray")
    return dist


def check_distributed(config: CommonConfig, dist: DistributedConfig, corpus: Any = None, *,
                      resume: Any = None, cooccur: Any = None, save_cooccur: Any = None) -> list[str]:
    """Refuse, in one line and before any work, what --ray cannot do; returns the paths."""
    if config.model not in RAY_MODELS:
        raise EmbedtrainError(f"--model {config.model} cannot train on Ray yet "
                              f"({', '.join(RAY_MODELS)} can)")
    checks = [(resume, "--resume of a finished model")]
    if config.model == "glove" and dist.sync_overlap:
        raise EmbedtrainError("--sync-overlap does not apply to GloVe: its rounds are synchronous")
    if config.model == "glove" and dist.sync_dtype not in (None, "float32"):
        raise EmbedtrainError("GloVe's updates travel as float32 (its AdaGrad sums): "
                              f"--sync-dtype {dist.sync_dtype} does not apply")
    if config.model != "glove":
        checks += [(cooccur, "--cooccur"), (save_cooccur, "--save-cooccur")]
    for given, name in checks:
        if given:
            raise EmbedtrainError(f"{name} does not work with --ray yet")
    if cooccur and config.model == "glove":  # GloVe from a saved matrix: no corpus
        if corpus:
            raise EmbedtrainError("with --ray, --cooccur trains from the saved matrix alone: "
                                  "give no corpus")
        return []
    if isinstance(corpus, (str, os.PathLike)):
        corpus = [corpus]
    if not isinstance(corpus, (list, tuple)) or not corpus or \
            not all(isinstance(c, (str, os.PathLike)) for c in corpus):
        raise EmbedtrainError("--ray trains on corpus files (paths every worker can read), "
                              "not on Python token lists")
    return [os.fspath(c) for c in corpus]


def train_distributed(corpus: Any, config: CommonConfig, dist: DistributedConfig, options: Any,
                      cooccur: Any = None, save_cooccur: Any = None):
    """Train on Ray through the runner (see executor.py, and glove.py for GloVe);
    ``options``: the run's RunOptions."""
    paths = check_distributed(config, dist, corpus, cooccur=cooccur, save_cooccur=save_cooccur)
    if config.model == "glove":
        from .glove import train_glove_on_ray

        return train_glove_on_ray(config, dist, paths, options,
                                  cooccur=os.fspath(cooccur) if cooccur else None,
                                  save_cooccur=os.fspath(save_cooccur) if save_cooccur else None)
    from .executor import train_on_ray

    return train_on_ray(config, dist, paths, options)
