"""The label tables of the binary losses: fastText's Huffman tree over label counts
(HierarchicalSoftmaxLoss::buildTree) and its negative-sampling table
(NegativeSamplingLoss: labels in proportion to count ** 0.5)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEGATIVE_TABLE_SIZE = 1_000_000   # fastText uses 10**7 cells; the proportions need far fewer
UNUSED_COUNT = 10**15             # buildTree's count of a node not yet built


@dataclass(frozen=True)
class HuffmanTree:
    """``2n - 1`` nodes: leaves 0..n-1 (labels), inner nodes n..2n-2 (root last).
    Label i's path: inner nodes ``points[offsets[i]:offsets[i+1]]`` (as output rows:
    node - n) with ``codes`` (1: the right child), from the label up to the root."""

    left: np.ndarray      # int32 [2n-1], -1 for a leaf
    right: np.ndarray     # int32 [2n-1]
    offsets: np.ndarray   # int64 [n+1]
    points: np.ndarray    # int32
    codes: np.ndarray     # int8


def huffman_tree(counts: np.ndarray) -> HuffmanTree:
    """fastText's buildTree; ``counts`` must be sorted by descending count (a Dictionary's)."""
    n = len(counts)
    size = max(2 * n - 1, 1)
    parent = [-1] * size
    left = [-1] * size
    right = [-1] * size
    count = [UNUSED_COUNT] * size
    binary = [0] * size
    for i in range(n):
        count[i] = int(counts[i])
    leaf, node = n - 1, n
    for i in range(n, 2 * n - 1):
        mini = [0, 0]
        for j in range(2):
            if leaf >= 0 and count[leaf] < count[node]:
                mini[j] = leaf
                leaf -= 1
            else:
                mini[j] = node
                node += 1
        left[i], right[i] = mini
        count[i] = count[mini[0]] + count[mini[1]]
        parent[mini[0]] = parent[mini[1]] = i
        binary[mini[1]] = 1
    offsets = [0]
    points: list[int] = []
    codes: list[int] = []
    for i in range(n):
        j = i
        while parent[j] != -1:
            points.append(parent[j] - n)
            codes.append(binary[j])
            j = parent[j]
        offsets.append(len(points))
    return HuffmanTree(np.array(left, dtype=np.int32), np.array(right, dtype=np.int32),
                       np.array(offsets, dtype=np.int64), np.array(points, dtype=np.int32),
                       np.array(codes, dtype=np.int8))


def negative_table(counts: np.ndarray) -> np.ndarray:
    """int32: label i in proportion to counts[i] ** 0.5 (fastText's negatives_, unshuffled:
    our draws index it uniformly)."""
    if len(counts) == 0:
        return np.zeros(1, dtype=np.int32)
    weights = np.sqrt(counts.astype(np.float64))
    cells = np.ceil(weights * NEGATIVE_TABLE_SIZE / weights.sum()).astype(np.int64)
    return np.repeat(np.arange(len(counts), dtype=np.int32), np.maximum(cells, 1))
