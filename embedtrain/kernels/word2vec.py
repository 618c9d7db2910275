"""word2vec kernels: skip-gram and CBOW, each with negative sampling and/or
hierarchical softmax (Mikolov et al. 2013; the numerics of word2vec.c).

A kernel trains on one chunk of the token stream: int32 vocabulary ids with
``SENTENCE_END`` (-1) between sentences. Vectors are updated in place without
locks (Hogwild, Recht et al. 2011) so several threads may run kernels on
different chunks at once.
"""
import numpy as np
from numba import njit

from ..corpus.stream import SENTENCE_END
from .memory import CACHE_LINE_FLOATS, prefetch
from .options import HELPER_OPTIONS, KERNEL_OPTIONS
from .rng import below, fraction, next_state

# The sigmoid is read from a table over [-MAX_EXP, MAX_EXP] (word2vec.c's EXP_TABLE);
# beyond it, gradients saturate as in word2vec.c.
MAX_EXP = 6.0
SIGMOID_TABLE_SIZE = 1000
# The learning rate decays linearly to this fraction of its start (word2vec.c: 1e-4).
MIN_LR_FRACTION = 1e-4


def sigmoid_tables() -> tuple[np.ndarray, np.ndarray]:
    """float32 [SIGMOID_TABLE_SIZE + 1] tables of sigmoid(x) and log(sigmoid(x)) on a
    uniform grid over [-MAX_EXP, MAX_EXP]."""
    x = np.linspace(-MAX_EXP, MAX_EXP, SIGMOID_TABLE_SIZE + 1)
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32), (-np.logaddexp(0.0, -x)).astype(np.float32)


@njit(**HELPER_OPTIONS)
def table_index(f):
    """Grid index of f, which must lie strictly inside (-MAX_EXP, MAX_EXP)."""
    return int((f + MAX_EXP) * (SIGMOID_TABLE_SIZE / (2.0 * MAX_EXP)) + 0.5)


@njit(**HELPER_OPTIONS)
def learning_rate(lr_start, words_done, total_words):
    frac = 1.0 - words_done / (total_words + 1.0)
    if frac < MIN_LR_FRACTION:
        frac = MIN_LR_FRACTION
    return np.float32(lr_start * frac)


@njit(**HELPER_OPTIONS)
def subsample(tokens, start, end, keep_prob, sentence, state):
    """Copy tokens[start:end] into ``sentence``, dropping each occurrence of word w
    with probability 1 - keep_prob[w]. Returns (kept count, rng state)."""
    m = 0
    for p in range(start, end):
        w = tokens[p]
        kp = keep_prob[w]
        if kp < 1.0:
            state, bits = next_state(state)
            if fraction(bits) >= kp:
                continue
        sentence[m] = w
        m += 1
    return m, state


@njit(**HELPER_OPTIONS)
def shrunk_window(i, m, window, state):
    """word2vec's random window: positions [lo, hi) around i in a sentence of m words,
    reaching 1..window words to each side, uniformly. Returns (lo, hi, state)."""
    state, bits = next_state(state)
    reach = window - below(bits, window)
    return max(0, i - reach), min(m, i + reach + 1), state


@njit(**HELPER_OPTIONS)
def sentence_end(tokens, start):
    end = start
    n = tokens.shape[0]
    while end < n and tokens[end] != SENTENCE_END:
        end += 1
    return end


@njit(**HELPER_OPTIONS)
def ns_update(h, output_vectors, target, negative, lr, noise_prob, noise_alias,
              grad, sigmoid_table, log_sigmoid_table, state, words):
    """Negative sampling for one (input vector h, target word) example.

    ``words`` (int64 [negative + 1]) is scratch space for the drawn noise words.
    Updates the output rows of the target and of ``negative`` noise words in
    place and adds the gradient for ``h`` into ``grad``. Returns (loss, state).
    """
    dim = h.shape[0]
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
        else:
            i = table_index(f)
            sig = sigmoid_table[i]
            loss -= log_sigmoid_table[i] if label > 0 else log_sigmoid_table[SIGMOID_TABLE_SIZE - i]
        g = (label - sig) * lr
        for k in range(dim):  # one pass: read the output row once
            o = output_vectors[word, k]
            grad[k] += g * o
            output_vectors[word, k] = o + g * h[k]
    return loss, state


@njit(**HELPER_OPTIONS)
def hs_update(h, output_hs, target, lr, hs_offsets, hs_codes, hs_points, grad,
              sigmoid_table, log_sigmoid_table):
    """Hierarchical softmax for one example: walk the target's Huffman path.

    As in word2vec.c, nodes where |h . v| >= MAX_EXP are skipped. Returns the loss.
    """
    dim = h.shape[0]
    loss = 0.0
    for p in range(hs_offsets[target], hs_offsets[target + 1]):
        node = hs_points[p]
        f = np.float32(0.0)
        for k in range(dim):
            f += h[k] * output_hs[node, k]
        if f <= -MAX_EXP or f >= MAX_EXP:
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


@njit(**KERNEL_OPTIONS)
def skipgram(tokens, input_vectors, output_vectors, output_hs, keep_prob, noise_prob,
             noise_alias, hs_offsets, hs_codes, hs_points, window, negative, use_hs,
             lr_start, words_done, total_words, rng_state, sigmoid_table, log_sigmoid_table):
    """Skip-gram on one chunk. As in word2vec.c, each context word's input vector
    predicts the centre word (Mikolov et al. 2013a, section 3).

    tokens           int32 [n]          ids, SENTENCE_END between sentences
    input_vectors    float32 [V, dim]   updated in place
    output_vectors   float32 [V, dim]   negative-sampling weights, updated in place
    output_hs        float32 [V-1, dim] hierarchical-softmax weights, updated in place
    keep_prob        float32 [V]        subsampling keep-probabilities
    noise_prob       float32 [V]        alias table: probabilities
    noise_alias      int32 [V]          alias table: aliases
    hs_offsets       int64 [V+1]; hs_codes uint8 [*]; hs_points int32 [*]: Huffman paths
    window, negative int; use_hs bool
    lr_start         float: rate at the start of training
    words_done       int: words before this chunk (all epochs); total_words: for all epochs
    rng_state        uint64 [1]         advanced in place
    Returns (words seen, summed loss, number of loss terms' examples).
    """
    dim = input_vectors.shape[1]
    state = rng_state[0]
    sentence = np.empty(tokens.shape[0], dtype=np.int32)
    grad = np.zeros(dim, dtype=np.float32)
    noise_words = np.empty(negative + 1, dtype=np.int64)
    words_seen = 0
    loss = 0.0
    examples = 0
    start = 0
    n = tokens.shape[0]
    while start < n:
        end = sentence_end(tokens, start)
        lr = learning_rate(lr_start, words_done + words_seen, total_words)
        m, state = subsample(tokens, start, end, keep_prob, sentence, state)
        words_seen += end - start
        for i in range(m):
            lo, hi, state = shrunk_window(i, m, window, state)
            centre = sentence[i]
            for j in range(lo, hi):
                if j == i:
                    continue
                context = sentence[j]
                h = input_vectors[context]
                grad[:] = 0.0
                if use_hs:
                    loss += hs_update(h, output_hs, centre, lr, hs_offsets, hs_codes, hs_points,
                                      grad, sigmoid_table, log_sigmoid_table)
                if negative > 0:
                    part, state = ns_update(h, output_vectors, centre, negative, lr, noise_prob,
                                            noise_alias, grad, sigmoid_table, log_sigmoid_table, state,
                                            noise_words)
                    loss += part
                for k in range(dim):
                    input_vectors[context, k] += grad[k]
                examples += 1
        start = end + 1
    rng_state[0] = state
    return words_seen, loss, examples


@njit(**KERNEL_OPTIONS)
def cbow(tokens, input_vectors, output_vectors, output_hs, keep_prob, noise_prob,
         noise_alias, hs_offsets, hs_codes, hs_points, window, negative, use_hs,
         lr_start, words_done, total_words, rng_state, sigmoid_table, log_sigmoid_table):
    """CBOW on one chunk: the mean of the context input vectors predicts the centre word.

    Arguments and return value as for :func:`skipgram`. The gradient for the mean
    is added unscaled to every context vector, as word2vec.c does; gensim divides
    it by the number of context words, which learns more slowly at the same rate.
    """
    dim = input_vectors.shape[1]
    state = rng_state[0]
    sentence = np.empty(tokens.shape[0], dtype=np.int32)
    grad = np.zeros(dim, dtype=np.float32)
    mean = np.zeros(dim, dtype=np.float32)
    noise_words = np.empty(negative + 1, dtype=np.int64)
    words_seen = 0
    loss = 0.0
    examples = 0
    start = 0
    n = tokens.shape[0]
    while start < n:
        end = sentence_end(tokens, start)
        lr = learning_rate(lr_start, words_done + words_seen, total_words)
        m, state = subsample(tokens, start, end, keep_prob, sentence, state)
        words_seen += end - start
        for i in range(m):
            lo, hi, state = shrunk_window(i, m, window, state)
            centre = sentence[i]
            if hi - lo < 2:
                continue
            mean[:] = 0.0
            for j in range(lo, hi):
                if j != i:
                    context = sentence[j]
                    for k in range(dim):
                        mean[k] += input_vectors[context, k]
            scale = np.float32(1.0 / (hi - lo - 1))
            for k in range(dim):
                mean[k] *= scale
            grad[:] = 0.0
            if use_hs:
                loss += hs_update(mean, output_hs, centre, lr, hs_offsets, hs_codes, hs_points,
                                  grad, sigmoid_table, log_sigmoid_table)
            if negative > 0:
                part, state = ns_update(mean, output_vectors, centre, negative, lr, noise_prob,
                                        noise_alias, grad, sigmoid_table, log_sigmoid_table, state,
                                            noise_words)
                loss += part
            for j in range(lo, hi):
                if j != i:
                    context = sentence[j]
                    for k in range(dim):
                        input_vectors[context, k] += grad[k]
            examples += 1
        start = end + 1
    rng_state[0] = state
    return words_seen, loss, examples
