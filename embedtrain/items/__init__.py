"""Items: recommender data into item vectors (item2vec) and their leave-one-out evaluation.

- ``interactions``: ``user item [rating] [timestamp]`` files (MovieLens, ratings.csv, event
  logs) into per-user sequences and sessions (``embedtrain sessions``);
- ``split``: leave-one-out train/test files and the manifest that lets ``eval-items`` refuse
  vectors that saw the held-out items;
- ``evaluate``: HitRate@k and NDCG@k beside the most-popular baseline (``eval-items``);
- ``train``: :func:`train_items` with the measured item presets (``train --items``).

Nothing here imports numba at module level; importing this package is cheap.
"""
from __future__ import annotations

from .evaluate import evaluate_items
from .interactions import build_sessions, read_interactions, read_sequences, sessions_from_file
from .split import split_sequences, write_split
from .train import plan_items, train_items

__all__ = ["evaluate_items", "build_sessions", "read_interactions", "read_sequences",
           "sessions_from_file", "split_sequences", "write_split", "plan_items", "train_items"]
