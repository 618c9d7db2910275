"""Training on one machine, generic over a model family: ``prepare`` (token source
-> vocabulary + id stream), ``runner`` (the epoch loop, schedule, progress, checks,
checkpoints), ``executor`` (worker threads), ``progress``, ``callbacks``, and
``sgns`` (the skip-gram family's task, which word2vec and FastText share).

What differs by model lives in embedtrain/families/; the entry point that builds
the settings and picks one machine or Ray is embedtrain/api.py (``embedtrain.train``).
"""
from __future__ import annotations

from .callbacks import Callback, EpochInfo, ProgressInfo
from .executor import Executor, ThreadExecutor
from .prepare import RunOptions, drive, prepare_corpus
from .runner import TrainingDiverged, check_finite, summary_line

# What the rest of embedtrain (families/, distributed/) uses of the training wing.
__all__ = ["summary_line", "RunOptions", "drive", "prepare_corpus", "check_finite", "TrainingDiverged",
           "Callback", "EpochInfo", "ProgressInfo", "Executor", "ThreadExecutor"]
