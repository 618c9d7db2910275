"""The two losses of the skip-gram family, for one (input vector, target word)
example: negative sampling and hierarchical softmax (Mikolov et al. 2013b; the
numerics of word2vec.c). Each updates the output rows it touches in place and adds
the gradient for the input vector into ``grad``.

A dot product that is NaN (the weights diverged) adds NaN to the loss and updates
nothing, so the runner can stop the run after the chunk instead of indexing the
sigmoid table with NaN.

Every helper takes the rows' length ``dim`` from its caller rather than from an array's
shape: the skip-gram family's kernels pass their compiled-in constant (kernels/sgns.py,
:func:`~embedtrain.kernels.sgns.kernel_key`), so LLVM knows each loop's trip count.
"""
import numpy as np
from numba import njit

from .common import MAX_EXP, SIGMOID_TABLE_SIZE, table_index
from .memory import CACHE_LINE_FLOATS, prefetch
from .options import HELPER_OPTIONS
from .rng import below, fraction, next_state


@njit(**HELPER_OPTIONS)
def ns_update(h, output_vectors, target, negative, lr, noise_prob, noise_alias,
              grad, sigmoid_table, log_sigmoid_table, state, words, dim):
    """Negative sampling for one (input vector h, target word) example.

    ``words`` (int64 [negative + 1]) is scratch space for the drawn noise words.
    Updates the output rows of the target and of ``negative`` noise words in
    place and adds the gradient for ``h`` into ``grad``. A noise word equal to the
    target is skipped (fastText draws again). ``dim``: the rows' length (see the module).
    Returns (loss, state).
    """
    vocab_size = noise_prob.shape[0]
    loss = 0.0
    # Draw the noise words first and prefetch their rows: they are scattered over
    # a matrix larger than the cache, so the misses overlap instead of queueing.
    words[0] = target
    for d in range(1, negative + 1):
        state, bits = next_state(state)
        word = below(bits, vocab_size)
        if fraction(bits) >= noise_prob[word]:
            word = noise_alias[word]
        words[d] = word
        for k in range(0, dim, CACHE_LINE_FLOATS):
            prefetch(output_vectors, (word, k))
    for d in range(negative + 1):
        word = words[d]
        if d == 0:
            label = np.float32(1.0)
        else:
            if word == target:
                continue
            label = np.float32(0.0)
        f = np.float32(0.0)
        for k in range(dim):
            f += h[k] * output_vectors[word, k]
        if f >= MAX_EXP:
            sig = np.float32(1.0)
            loss -= log_sigmoid_table[SIGMOID_TABLE_SIZE] if label > 0 else -MAX_EXP
        elif f <= -MAX_EXP:
            sig = np.float32(0.0)
            loss -= -MAX_EXP if label > 0 else log_sigmoid_table[SIGMOID_TABLE_SIZE]
        elif f == f:
            i = table_index(f)
            sig = sigmoid_table[i]
            loss -= log_sigmoid_table[i] if label > 0 else log_sigmoid_table[SIGMOID_TABLE_SIZE - i]
        else:  # NaN: diverged
            loss += np.nan
            continue
        g = (label - sig) * lr
        for k in range(dim):  # one pass: read the output row once
            o = output_vectors[word, k]
            grad[k] += g * o
            output_vectors[word, k] = o + g * h[k]
    return loss, state


@njit(**HELPER_OPTIONS)
def draw_noise(state, noise_prob, noise_alias):
    """One noise word from the alias table. Returns (state, word)."""
    state, bits = next_state(state)
    word = below(bits, noise_prob.shape[0])
    # read the alias whether or not it is taken: with the read inside the branch, numba
    # kept a reference to noise_alias (an atomic add and its release on the array's count,
    # shared by every thread) for each draw of the kernels that inline this
    alias = noise_alias[word]
    if fraction(bits) >= noise_prob[word]:
        word = alias
    return state, word


@njit(**HELPER_OPTIONS)
def logistic(f, label, sigmoid_table, log_sigmoid_table):
    """(sigmoid(f) as ns_update reads it, this example's loss) for a dot product f and
    a label 1 or 0; sigmoid is NaN when f is (the weights diverged)."""
    if f >= MAX_EXP:
        return np.float32(1.0), -(log_sigmoid_table[SIGMOID_TABLE_SIZE] if label > 0 else -MAX_EXP)
    if f <= -MAX_EXP:
        return np.float32(0.0), -(-MAX_EXP if label > 0 else log_sigmoid_table[SIGMOID_TABLE_SIZE])
    if f == f:
        i = table_index(f)
        return sigmoid_table[i], -(log_sigmoid_table[i] if label > 0
                                   else log_sigmoid_table[SIGMOID_TABLE_SIZE - i])
    return np.float32(np.nan), np.nan


@njit(**HELPER_OPTIONS)
def hs_update(h, output_hs, target, lr, hs_offsets, hs_codes, hs_points, grad,
              sigmoid_table, log_sigmoid_table, dim):
    """Hierarchical softmax for one example: walk the target's Huffman path.

    As in word2vec.c, nodes where |h . v| >= MAX_EXP are skipped. ``dim``: the rows'
    length. Returns the loss.
    """
    loss = 0.0
    for p in range(hs_offsets[target], hs_offsets[target + 1]):
        node = hs_points[p]
        f = np.float32(0.0)
        for k in range(dim):
            f += h[k] * output_hs[node, k]
        if f <= -MAX_EXP or f >= MAX_EXP:
            continue
        if f != f:  # NaN: diverged
            loss += np.nan
            continue
        i = table_index(f)
        label = np.float32(1 - hs_codes[p])
        g = (label - sigmoid_table[i]) * lr
        loss -= log_sigmoid_table[i] if label > 0 else log_sigmoid_table[SIGMOID_TABLE_SIZE - i]
        for k in range(dim):
            o = output_hs[node, k]
            grad[k] += g * o
            output_hs[node, k] = o + g * h[k]
    return loss


@njit(**HELPER_OPTIONS)
def six_coefficients(loss, f0, f1, f2, f3, f4, f5, words, target, lr, sigmoid_table, log_sigmoid_table,
                     coeff):
    """The gradient coefficients (label - sigmoid(f)) * lr of six scores into coeff[0:6]: the
    target's (words[0], label 1) and five noise words' (label 0; 0 for a noise word equal to the
    target, and for a NaN score). Returns ``loss`` plus their losses, added in that order."""
    coeff[0] = f0
    coeff[1] = f1
    coeff[2] = f2
    coeff[3] = f3
    coeff[4] = f4
    coeff[5] = f5
    for d in range(6):
        f = coeff[d]
        coeff[d] = 0.0
        label = np.float32(1.0)
        if d > 0:
            if words[d] == target:
                continue
            label = np.float32(0.0)
        sig, part = logistic(f, label, sigmoid_table, log_sigmoid_table)
        loss += part
        if sig == sig:  # else NaN: diverged, no update
            coeff[d] = (label - sig) * lr
    return loss


@njit(**HELPER_OPTIONS)
def ns_update6(h, output_vectors, lr, grad, sigmoid_table, log_sigmoid_table, words, coeff, dim):
    """:func:`ns_update` for word2vec's default of 5 noise words, drawn by the caller as
    ns_update draws them (the target in words[0], the noise words in words[1:6]): the six
    scores in one pass over h, the updates in one more. Every score is taken before any row
    moves (a noise word drawn twice is scored twice against its row as it was; both updates
    are added). ``coeff`` (float32 [6]) is scratch; ``dim``: the rows' length. Returns the loss."""
    target = words[0]
    o0 = output_vectors[words[0]]
    o1 = output_vectors[words[1]]
    o2 = output_vectors[words[2]]
    o3 = output_vectors[words[3]]
    o4 = output_vectors[words[4]]
    o5 = output_vectors[words[5]]
    f0 = np.float32(0.0)
    f1 = np.float32(0.0)
    f2 = np.float32(0.0)
    f3 = np.float32(0.0)
    f4 = np.float32(0.0)
    f5 = np.float32(0.0)
    for k in range(dim):
        hk = h[k]
        f0 += hk * o0[k]
        f1 += hk * o1[k]
        f2 += hk * o2[k]
        f3 += hk * o3[k]
        f4 += hk * o4[k]
        f5 += hk * o5[k]
    loss = six_coefficients(0.0, f0, f1, f2, f3, f4, f5, words, target, lr, sigmoid_table,
                            log_sigmoid_table, coeff)
    g0 = coeff[0]
    g1 = coeff[1]
    g2 = coeff[2]
    g3 = coeff[3]
    g4 = coeff[4]
    g5 = coeff[5]
    for k in range(dim):
        hk = h[k]
        grad[k] += g0 * o0[k] + g1 * o1[k] + g2 * o2[k] + g3 * o3[k] + g4 * o4[k] + g5 * o5[k]
        # one row after another: a noise word drawn twice takes both updates
        o0[k] += g0 * hk
        o1[k] += g1 * hk
        o2[k] += g2 * hk
        o3[k] += g3 * hk
        o4[k] += g4 * hk
        o5[k] += g5 * hk
    return loss
