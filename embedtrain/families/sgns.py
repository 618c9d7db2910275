"""What the skip-gram-family models (word2vec and FastText) share beyond the task
(training/sgns.py): the masses of a Ray round's row updates."""
from __future__ import annotations

import numpy as np


def sgns_row_masses(task, vocab, counts: np.ndarray, lr: float) -> dict[str, np.ndarray]:
    """distributed/sync.update_masses for a round that trains ``counts`` occurrences of
    each word (subsampling applied here) at rate ``lr``; its output terms see the mean of
    each word's input rows (``task.rows``: FastText's word and n-gram rows, or none for
    word2vec's one row per word)."""
    from ..distributed.sync import update_masses
    from ..kernels import sgns as kernels

    noise_prob = getattr(task, "noise_prob", None)
    if noise_prob is None:  # once per replica
        noise_prob = task.noise_prob = vocab.noise_sampler(task.config.ns_exponent).probabilities()
    tables = task.tables
    return update_masses(task.arrays, counts * tables.keep_prob, lr, window=task.config.window,
                         negative=task.config.negative if task.arrays["output_vectors"].size else 0,
                         noise_prob=noise_prob, cbow=task.settings.arch == kernels.CBOW,
                         hs_offsets=tables.hs_offsets, hs_points=tables.hs_points,
                         input_rows=(task.rows.offsets, task.rows.ids))
