"""Kernels of the text classifier (fastText's supervised mode; Joulin et al. 2017):
a line's hidden vector is the mean of its input rows (words, word n-grams, character
n-grams), and one loss over the labels updates the output rows and sends a gradient
back to every input row (Hogwild: threads update the shared matrices unlocked).

The numerics are fastText 0.9.2's (src/model.cc, src/loss.cc), so that a model
exported to its ``.bin`` gives the same probabilities and a fastText ``.bin`` gives
ours: the gradient for the input rows is divided by their number (Model::update with
``normalizeGradient``); the binary losses (ns, hs, ova) read the sigmoid from
fastText's table (512 cells over [-8, 8], index truncated: Loss::sigmoid), not
word2vec's; softmax subtracts the maximum before exponentiating; prediction scores
are ``log(p + 1e-5)`` (fastText's std_log) and hierarchical-softmax prediction walks
the tree depth first with the exact sigmoid, pruning paths below ``log(threshold + 1e-5)``.
Where we differ: random numbers (the label drawn from a multi-label line, the negative
labels) come from SplitMix64 (kernels/rng.py), not fastText's minstd_rand.

Loss codes: LOSS_SOFTMAX 0, LOSS_NS 1, LOSS_HS 2, LOSS_OVA 3.
"""
import numpy as np
from numba import njit

from .options import HELPER_OPTIONS, KERNEL_OPTIONS
from .rng import below, next_state

LOSS_SOFTMAX, LOSS_NS, LOSS_HS, LOSS_OVA = 0, 1, 2, 3
LOSS_CODES = {"softmax": LOSS_SOFTMAX, "ns": LOSS_NS, "hs": LOSS_HS, "ova": LOSS_OVA}
FT_SIGMOID_TABLE_SIZE = 512    # loss.cc SIGMOID_TABLE_SIZE
FT_MAX_SIGMOID = 8             # loss.cc MAX_SIGMOID
LOG_EPSILON = 1e-5             # loss.cc std_log: log(x + 1e-5)
LR_UPDATE_RATE = 100           # args.cc lrUpdateRate: tokens between updates of the shared progress


def fasttext_sigmoid_table() -> np.ndarray:
    """float32 [513]: fastText's t_sigmoid_ (x computed in float32, the sigmoid in double)."""
    i = np.arange(FT_SIGMOID_TABLE_SIZE + 1)
    x = (np.float32(1) * (i * 2 * FT_MAX_SIGMOID).astype(np.float32)
         / np.float32(FT_SIGMOID_TABLE_SIZE) - np.float32(FT_MAX_SIGMOID)).astype(np.float32)
    return (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(np.float32)


@njit(**HELPER_OPTIONS)
def ft_sigmoid(x, table):
    """fastText's Loss::sigmoid of a float32 x (NaN: NaN).

    The table is read before the branches, at x clamped into [-8, 8] (NaN: -8), which is
    x itself wherever its value is returned: read inside a branch, the table kept numba a
    reference count on it for every call, an atomic add and release on a cache line every
    thread writes (docs/benchmarks.md, "A count on the noise table, every draw")."""
    xc = x if x >= -FT_MAX_SIGMOID else np.float32(-FT_MAX_SIGMOID)
    if xc > FT_MAX_SIGMOID:
        xc = np.float32(FT_MAX_SIGMOID)
    i = np.int64((xc + np.float32(FT_MAX_SIGMOID)) * np.float32(FT_SIGMOID_TABLE_SIZE)
                 / np.float32(FT_MAX_SIGMOID) / np.float32(2.0))
    value = table[i]
    if x < -FT_MAX_SIGMOID:
        return np.float32(0.0)
    if x > FT_MAX_SIGMOID:
        return np.float32(1.0)
    if x != x:
        return np.float32(np.nan)
    return value


@njit(**HELPER_OPTIONS)
def hidden_of(input_vectors, rows, r0, r1, hidden):
    """hidden = mean of input_vectors[rows[r0:r1]] (fastText's Model::computeHidden)."""
    dim = hidden.shape[0]
    for k in range(dim):
        hidden[k] = 0.0
    for r in range(r0, r1):
        row = rows[r]
        for k in range(dim):
            hidden[k] += input_vectors[row, k]
    scale = np.float32(1.0 / (r1 - r0))
    for k in range(dim):
        hidden[k] *= scale


@njit(**HELPER_OPTIONS)
def dot_row(matrix, i, vec):
    d = np.float32(0.0)
    for k in range(vec.shape[0]):
        d += matrix[i, k] * vec[k]
    return d


@njit(**HELPER_OPTIONS)
def binary_logistic(output_vectors, target, positive, lr, hidden, grad, table):
    """fastText's BinaryLogisticLoss::binaryLogistic with backprop. Returns the loss."""
    f = dot_row(output_vectors, target, hidden)
    score = ft_sigmoid(f, table)
    label = np.float32(1.0) if positive else np.float32(0.0)
    alpha = lr * (label - score)
    # f NaN (the weights diverged): no update, and the loss is NaN. One way out, with the
    # loop run zero times, not an early return: numba then counts no reference to the arrays
    dim = hidden.shape[0] if f == f else 0
    for k in range(dim):
        o = output_vectors[target, k]
        grad[k] += alpha * o
        output_vectors[target, k] = o + alpha * hidden[k]
    p = score if positive else np.float32(1.0) - score
    return -np.log(p + LOG_EPSILON) if f == f else np.nan


@njit(**HELPER_OPTIONS)
def softmax_output(output_vectors, hidden, output):
    """output = softmax(output_vectors @ hidden) (fastText's SoftmaxLoss::computeOutput)."""
    n = output.shape[0]
    for i in range(n):
        output[i] = dot_row(output_vectors, i, hidden)
    mx = output[0]
    for i in range(n):
        if output[i] > mx:
            mx = output[i]
    z = np.float32(0.0)
    for i in range(n):
        output[i] = np.float32(np.exp(output[i] - mx))
        z += output[i]
    for i in range(n):
        output[i] /= z


@njit(**HELPER_OPTIONS)
def softmax_step(output_vectors, target, lr, hidden, grad, output):
    """fastText's SoftmaxLoss::forward with backprop. Returns the loss."""
    softmax_output(output_vectors, hidden, output)
    dim = hidden.shape[0]
    for i in range(output.shape[0]):
        label = np.float32(1.0) if i == target else np.float32(0.0)
        alpha = lr * (label - output[i])
        for k in range(dim):
            o = output_vectors[i, k]
            grad[k] += alpha * o
            output_vectors[i, k] = o + alpha * hidden[k]
    return -np.log(output[target] + LOG_EPSILON)


@njit(**HELPER_OPTIONS)
def ns_step(output_vectors, target, lr, hidden, grad, table, negative, neg_table, state):
    """fastText's NegativeSamplingLoss::forward: the target, then ``negative`` labels drawn
    from ``neg_table`` (labels in proportion to count ** 0.5), redrawn while equal to the
    target. Returns (loss, state)."""
    loss = binary_logistic(output_vectors, target, True, lr, hidden, grad, table)
    # one label: no other to draw (a loop run zero times, not an early return; see above)
    for _ in range(negative if output_vectors.shape[0] >= 2 else 0):
        while True:
            state, bits = next_state(state)
            neg = neg_table[below(bits, neg_table.shape[0])]
            if neg != target:
                break
        loss += binary_logistic(output_vectors, neg, False, lr, hidden, grad, table)
    return loss, state


@njit(**HELPER_OPTIONS)
def hs_step(output_vectors, target, lr, hidden, grad, table, hs_offsets, hs_points, hs_codes):
    """fastText's HierarchicalSoftmaxLoss::forward: one binary step per node on the
    target's path to the root (output row = node - nlabels)."""
    loss = 0.0
    for p in range(hs_offsets[target], hs_offsets[target + 1]):
        loss += binary_logistic(output_vectors, hs_points[p], hs_codes[p] != 0, lr, hidden, grad,
                                table)
    return loss


@njit(**KERNEL_OPTIONS)
def train_lines(loss_kind, input_vectors, output_vectors, offsets, rows, label_offsets, labels,
                tokens, first, last, lr_start, total_tokens, progress, state_in, table, negative,
                neg_table, hs_offsets, hs_points, hs_codes):
    """Train on lines [first, last) once (fastText's FastText::supervised per line).

    input_vectors   float32 [nwords + buckets, dim]  modified (Hogwild)
    output_vectors  float32 [nlabels, dim]           modified (Hogwild)
    offsets, rows   int64 [n+1], int32: each line's input rows
    label_offsets, labels  int64 [n+1], int32: each line's labels
    tokens          int64 [n]: tokens each line counts towards the schedule
    progress        int64 [1]: tokens done by every thread, shared, updated unlocked
                    every LR_UPDATE_RATE tokens; the rate is lr_start * (1 - progress / total_tokens)
    state_in        uint64 [1]: this thread's random state, advanced
    table           float32 [513]: fasttext_sigmoid_table()
    neg_table       int32 [*]: labels by count ** 0.5 (ns); hs_*: each label's path (hs)
    Returns (summed loss, examples trained).
    """
    dim = input_vectors.shape[1]
    nlabels = output_vectors.shape[0]
    hidden = np.empty(dim, dtype=np.float32)
    grad = np.empty(dim, dtype=np.float32)
    output = np.empty(nlabels, dtype=np.float32)
    state = state_in[0]
    local = 0
    loss = 0.0
    examples = 0
    for line in range(first, last):
        frac = 1.0 - progress[0] / total_tokens
        lr = np.float32(lr_start * frac)
        local += tokens[line]
        r0 = offsets[line]
        r1 = offsets[line + 1]
        l0 = label_offsets[line]
        l1 = label_offsets[line + 1]
        if r1 > r0 and l1 > l0:
            hidden_of(input_vectors, rows, r0, r1, hidden)
            for k in range(dim):
                grad[k] = 0.0
            if loss_kind == LOSS_OVA:
                for i in range(nlabels):
                    positive = False
                    for q in range(l0, l1):
                        if labels[q] == i:
                            positive = True
                    loss += binary_logistic(output_vectors, i, positive, lr, hidden, grad, table)
            else:
                pick = l0
                if l1 - l0 > 1:
                    state, bits = next_state(state)
                    pick = l0 + below(bits, l1 - l0)
                target = labels[pick]
                if loss_kind == LOSS_SOFTMAX:
                    loss += softmax_step(output_vectors, target, lr, hidden, grad, output)
                elif loss_kind == LOSS_NS:
                    step, state = ns_step(output_vectors, target, lr, hidden, grad, table, negative,
                                          neg_table, state)
                    loss += step
                else:
                    loss += hs_step(output_vectors, target, lr, hidden, grad, table, hs_offsets,
                                    hs_points, hs_codes)
            examples += 1
            scale = np.float32(1.0 / (r1 - r0))
            for k in range(dim):
                grad[k] *= scale
            for r in range(r0, r1):
                row = rows[r]
                for k in range(dim):
                    input_vectors[row, k] += grad[k]
        if local > LR_UPDATE_RATE:
            progress[0] += local
            local = 0
    progress[0] += local
    state_in[0] = state
    return loss, examples


@njit(**HELPER_OPTIONS)
def std_log(x):
    return np.float32(np.log(np.float64(x) + LOG_EPSILON))


# fastText keeps the k best predictions in a std::vector heap (std::push_heap, pop_heap
# and sort_heap with comparePairs: a.score > b.score); labels of equal probability (common
# with the sigmoid table of ns and ova) come out in the order libstdc++'s heap leaves them.
# These are libstdc++'s algorithms (bits/stl_heap.h), so ties are ordered as fastText orders them.
@njit(**HELPER_OPTIONS)
def _sift_up(scores, labels, hole, top, score, label):
    parent = (hole - 1) // 2
    while hole > top and scores[parent] > score:
        scores[hole] = scores[parent]
        labels[hole] = labels[parent]
        hole = parent
        parent = (hole - 1) // 2
    scores[hole] = score
    labels[hole] = label


@njit(**HELPER_OPTIONS)
def _pop_to(scores, labels, last):
    """std::pop_heap on [0, last + 1): the first element moves to ``last``."""
    score = scores[last]
    label = labels[last]
    scores[last] = scores[0]
    labels[last] = labels[0]
    length = last
    hole = 0
    child = 0
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if scores[child] > scores[child - 1]:
            child -= 1
        scores[hole] = scores[child]
        labels[hole] = labels[child]
        hole = child
    if (length & 1) == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        scores[hole] = scores[child - 1]
        labels[hole] = labels[child - 1]
        hole = child - 1
    _sift_up(scores, labels, hole, 0, score, label)


@njit(**HELPER_OPTIONS)
def heap_offer(score, label, k, scores, labels, size):
    """fastText's push into a heap of at most k (scores/labels hold k + 1). Returns the size."""
    scores[size] = score
    labels[size] = label
    _sift_up(scores, labels, size, 0, score, label)
    size += 1
    if size > k:
        _pop_to(scores, labels, size - 1)
        size -= 1
    return size


@njit(**HELPER_OPTIONS)
def heap_sort(scores, labels, size):
    """std::sort_heap: best first."""
    last = size
    while last > 1:
        last -= 1
        _pop_to(scores, labels, last)


@njit(**KERNEL_OPTIONS)
def predict_lines(loss_kind, input_vectors, output_vectors, offsets, rows, k, threshold, table,
                  tree_left, tree_right, out_labels, out_probs, out_count):
    """The k most probable labels of each line, at least ``threshold`` (fastText's
    Model::predict and Loss::predict / HierarchicalSoftmaxLoss::dfs).

    out_labels int32 [n, k], out_probs float32 [n, k] (exp(log(p + 1e-5)), as fastText
    reports), out_count int32 [n]: all written. A line without input rows gets none.
    tree_left, tree_right int32 [2 * nlabels - 1]: the Huffman tree (hs only).
    """
    n = offsets.shape[0] - 1
    dim = input_vectors.shape[1]
    nlabels = output_vectors.shape[0]
    hidden = np.empty(dim, dtype=np.float32)
    output = np.empty(nlabels, dtype=np.float32)
    scores = np.empty(k + 1, dtype=np.float32)
    heap_labels = np.empty(k + 1, dtype=np.int32)
    stack_nodes = np.empty(2 * nlabels + 2, dtype=np.int64)
    stack_scores = np.empty(2 * nlabels + 2, dtype=np.float32)
    log_threshold = std_log(threshold)
    for line in range(n):
        r0 = offsets[line]
        r1 = offsets[line + 1]
        count = 0
        if r1 > r0:
            hidden_of(input_vectors, rows, r0, r1, hidden)
            if loss_kind == LOSS_HS:
                top = 0
                stack_nodes[0] = 2 * nlabels - 2
                stack_scores[0] = np.float32(0.0)
                top = 1
                while top > 0:
                    top -= 1
                    node = stack_nodes[top]
                    score = stack_scores[top]
                    if score < log_threshold:
                        continue
                    if count == k and score < scores[0]:
                        continue
                    if tree_left[node] == -1 and tree_right[node] == -1:
                        count = heap_offer(score, node, k, scores, heap_labels, count)
                        continue
                    f = dot_row(output_vectors, node - nlabels, hidden)
                    # real f = 1. / (1 + std::exp(-f)): exp and the sum in float, the division in double
                    e = np.float32(np.exp(-np.float64(f)))
                    f = np.float32(1.0 / np.float64(np.float32(np.float32(1.0) + e)))
                    # right first on the stack, so the left subtree is visited first
                    stack_nodes[top] = tree_right[node]
                    stack_scores[top] = score + std_log(f)
                    stack_nodes[top + 1] = tree_left[node]
                    stack_scores[top + 1] = score + std_log(np.float32(1.0 - np.float64(f)))
                    top += 2
            else:
                if loss_kind == LOSS_SOFTMAX:
                    softmax_output(output_vectors, hidden, output)
                else:
                    for i in range(nlabels):
                        output[i] = ft_sigmoid(dot_row(output_vectors, i, hidden), table)
                for i in range(nlabels):
                    if output[i] < threshold:
                        continue
                    score = std_log(output[i])
                    if count == k and score < scores[0]:
                        continue
                    count = heap_offer(score, i, k, scores, heap_labels, count)
        heap_sort(scores, heap_labels, count)
        for j in range(count):
            out_labels[line, j] = heap_labels[j]
            out_probs[line, j] = np.float32(np.exp(scores[j]))
        out_count[line] = count
