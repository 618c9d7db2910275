"""Training across machines on Ray, generic over a model family: the input split
among workers (split.py, parts.py), replicas combined every interval (sync.py),
the Ray actors (workers.py), the cluster connection (cluster.py), the rounds
(executor.py) and the run as a runner Task whose jobs are rounds (task.py), so the
training wing's runner drives it. What differs by model is asked of the model's
family (embedtrain/families/); GloVe's counting phase (map-reduce counting and a
partitioned matrix) is in glove.py and cooccur.py. The entry point, and the
refusals before any work, are in embedtrain/api.py.

Ray is imported only by cluster.py, workers.py and executor.py, and only when a run
asks for it."""
from __future__ import annotations

import os
from typing import Any


def train_on_ray(family: Any, config: Any, dist: Any, paths: list[str], options: Any, *,
                 cooccur: Any = None, save_cooccur: Any = None):
    """Train ``config`` across Ray workers (``dist`` resolved by the family); the family
    says whether the run counts co-occurrences first (glove.py) or trains its task on
    every worker's part of the input (executor.py)."""
    if family.ray_counting:
        from .glove import train_glove_on_ray

        return train_glove_on_ray(config, dist, paths, options,
                                  cooccur=os.fspath(cooccur) if cooccur else None,
                                  save_cooccur=os.fspath(save_cooccur) if save_cooccur else None)
    from .executor import train_on_ray as train_task_on_ray

    return train_task_on_ray(config, dist, paths, options)
