"""Plain-numpy references of the doc2vec kernels (PV-DBOW training and inference),
drawing random numbers in the kernels' order, in float64."""
from __future__ import annotations

import numpy as np

from embedtrain.kernels.rng import next_state_py
from reference import MAX_EXP, RefRng, _draw_noise, _ns, sigmoid

MASK_64 = (1 << 64) - 1


def _subsample(words, keep_prob, rng):
    kept = []
    for w in words:
        if keep_prob[w] < 1.0 and rng.fraction(rng.bits()) >= keep_prob[w]:
            continue
        kept.append(int(w))
    return kept


def train_document(sentence, doc_row, inp, out, keep_prob, noise_prob, noise_alias, window, negative,
                   train_words, lr, rng_state):
    """One line of document ``doc_row`` (float64 arrays updated in place): per position,
    skip-gram pairs (train_words), then the document row predicting the centre word.
    Returns the new rng state."""
    rng = RefRng(rng_state)
    kept = _subsample(sentence, keep_prob, rng)
    for i, centre in enumerate(kept):
        if train_words:
            reach = window - rng.below(rng.bits(), window)
            for j in range(max(0, i - reach), min(len(kept), i + reach + 1)):
                if j != i:
                    c = kept[j]
                    inp[c] += _ns(inp[c].copy(), out, centre, negative, lr, noise_prob, noise_alias, rng)
        doc_row += _ns(doc_row.copy(), out, centre, negative, lr, noise_prob, noise_alias, rng)
    return rng.state


def document_state(seed: int, ids) -> int:
    h = 14695981039346656037
    for i in ids:
        h ^= int(i) & 0xFFFFFFFF
        h = (h * 1099511628211) & MASK_64
    h ^= seed
    return next_state_py(h)[0]


def infer_document(ids, out, keep_prob, noise_prob, noise_alias, epochs, negative, lr_start, lr_floor,
                   seed) -> np.ndarray:
    """One document's inferred vector: a seeded start, then epochs of the document row
    predicting each (subsampled) word against frozen output rows."""
    dim = out.shape[1]
    rng = RefRng(document_state(seed, ids))
    h = np.array([(rng.fraction(rng.bits()) - 0.5) / dim for _ in range(dim)])
    total = epochs * len(ids)
    if total == 0:
        return h  # no word: the start
    for epoch in range(epochs):
        lr = lr_start * max(1.0 - epoch * len(ids) / total, lr_floor)
        for target in _subsample(ids, keep_prob, rng):
            grad = np.zeros(dim)
            for d in range(negative + 1):
                if d == 0:
                    word, label = target, 1.0
                else:
                    word = _draw_noise(rng, noise_prob, noise_alias)
                    if word == target:
                        continue
                    label = 0.0
                f = float(h @ out[word])
                sig = 1.0 if f >= MAX_EXP else 0.0 if f <= -MAX_EXP else sigmoid(f)
                grad += (label - sig) * lr * out[word]
            h += grad
    return h
