"""Slow, plain-numpy references for the classifier's kernels (fastText's supervised
step, src/model.cc and src/loss.cc), one example at a time in float64, drawing random
numbers in the kernels' order so that one step can be compared."""
from __future__ import annotations

import heapq
import math

import numpy as np

from reference import RefRng


def ft_sigmoid(x: float) -> float:
    """fastText's Loss::sigmoid: the cell of a 512-cell table over [-8, 8], truncated."""
    if x < -8:
        return 0.0
    if x > 8:
        return 1.0
    i = int((x + 8) * 512 / 8 / 2)
    xi = i * 16 / 512 - 8
    return 1.0 / (1.0 + math.exp(-xi))


def _finish(wi, rows, grad):
    grad = grad / len(rows)            # fastText divides the gradient by the input size
    for r in rows:                     # a row listed twice gets the gradient twice
        wi[r] += grad


def _binary(wo, target, positive, lr, h, grad):
    score = ft_sigmoid(float(wo[target] @ h))
    alpha = lr * (float(positive) - score)
    grad += alpha * wo[target]
    wo[target] += alpha * h


def softmax_step(wi, wo, rows, target, lr):
    h = wi[rows].mean(axis=0)
    z = wo @ h
    p = np.exp(z - z.max())
    p /= p.sum()
    grad = np.zeros_like(h)
    for i in range(len(wo)):
        alpha = lr * ((i == target) - p[i])
        grad += alpha * wo[i]
        wo[i] += alpha * h
    _finish(wi, rows, grad)


def ova_step(wi, wo, rows, labels, lr):
    h = wi[rows].mean(axis=0)
    grad = np.zeros_like(h)
    for i in range(len(wo)):
        _binary(wo, i, i in labels, lr, h, grad)
    _finish(wi, rows, grad)


def hs_step(wi, wo, rows, path, code, lr):
    h = wi[rows].mean(axis=0)
    grad = np.zeros_like(h)
    for node, c in zip(path, code):
        _binary(wo, node, bool(c), lr, h, grad)
    _finish(wi, rows, grad)


def ns_step(wi, wo, rows, target, lr, negative, neg_table, state):
    """Returns the random state after the step."""
    rng = RefRng(state)
    h = wi[rows].mean(axis=0)
    grad = np.zeros_like(h)
    _binary(wo, target, True, lr, h, grad)
    for _ in range(negative):
        while True:
            neg = int(neg_table[rng.below(rng.bits(), len(neg_table))])
            if neg != target:
                break
        _binary(wo, neg, False, lr, h, grad)
    _finish(wi, rows, grad)
    return rng.state


def huffman_lengths(counts) -> list[int]:
    """Code length of each symbol of an optimal prefix code (textbook heapq Huffman)."""
    heap = [(c, i, [i]) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    depth = [0] * len(counts)
    tie = len(counts)
    while len(heap) > 1:
        c1, _, a = heapq.heappop(heap)
        c2, _, b = heapq.heappop(heap)
        for s in a + b:
            depth[s] += 1
        heapq.heappush(heap, (c1 + c2, tie, a + b))
        tie += 1
    return depth
