"""FastText kernels: skip-gram and CBOW over subword representations, negative
sampling (Bojanowski et al. 2017; the training loop of fastText's FastText::skipgram,
FastText::cbow and Model::update, src/fasttext.cc and src/model.cc).

The input representation of word ``w`` is the mean of the input rows
``rows[offsets[w]:offsets[w+1]]`` (its own row, then its n-gram rows; see
embedtrain/subwords.py). As in fastText's unsupervised models, the gradient of that
mean is added in full to every row that formed it (Model::update scales it by
1/number of rows only for supervised models, ``normalizeGradient``); a row listed
twice is updated twice.

Skip-gram computes the centre word's representation once per position, not once
per (centre, context) pair as fastText does. After each pair the representation is
moved by that pair's gradient, which is exactly what recomputing it from the
updated rows would give (every row moved by the same vector), and the summed
gradient is written to the rows once at the end of the position. The arithmetic is
fastText's; the memory traffic on the ~20 rows of a word is paid once per position
instead of twice per context word.

Tokens, subsampling, sigmoid tables and the negative-sampling update are shared
with the word2vec kernels (kernels/word2vec.py). Where that differs from fastText:
sigmoid saturates at |x| >= 6 (fastText: 8), and a noise word equal to the target
is skipped (fastText draws again). Vectors are updated without locks (Hogwild).
"""
import numpy as np
from numba import njit

from .memory import CACHE_LINE_FLOATS, prefetch
from .options import HELPER_OPTIONS, KERNEL_OPTIONS
from .rng import next_state
from .word2vec import ns_update, sentence_end, shrunk_window, subsample


@njit(**HELPER_OPTIONS)
def linear_lr(lr_start, words_done, total_words):
    """fastText's schedule: lr * (1 - progress), down to zero at the end of training."""
    frac = 1.0 - words_done / max(total_words, 1)
    if frac < 0.0:
        frac = 0.0
    return np.float32(lr_start * frac)


@njit(**HELPER_OPTIONS)
def mean_of_rows(input_vectors, rows, r0, r1, out):
    """out = mean of input_vectors[rows[r0:r1]] (float32 [dim])."""
    dim = out.shape[0]
    out[:] = 0.0
    for r in range(r0, r1):
        row = rows[r]
        for k in range(dim):
            out[k] += input_vectors[row, k]
    scale = np.float32(1.0) / np.float32(r1 - r0)
    for k in range(dim):
        out[k] *= scale


@njit(**HELPER_OPTIONS)
def prefetch_rows(input_vectors, rows, r0, r1):
    """Start loading input_vectors[rows[r0:r1]] into the cache (a hint; no effect on results)."""
    dim = input_vectors.shape[1]
    for r in range(r0, r1):
        row = rows[r]
        for k in range(0, dim, CACHE_LINE_FLOATS):
            prefetch(input_vectors, (row, k))
        prefetch(input_vectors, (row, dim - 1))  # a row need not start on a cache line


@njit(**HELPER_OPTIONS)
def add_to_rows(input_vectors, rows, r0, r1, grad):
    """input_vectors[rows[r]] += grad for r in [r0, r1)."""
    dim = grad.shape[0]
    for r in range(r0, r1):
        row = rows[r]
        for k in range(dim):
            input_vectors[row, k] += grad[k]


@njit(**KERNEL_OPTIONS)
def skipgram(tokens, input_vectors, output_vectors, row_offsets, rows, keep_prob, noise_prob,
             noise_alias, window, negative, lr_start, words_done, total_words, rng_state,
             sigmoid_table, log_sigmoid_table):
    """FastText skip-gram on one chunk: the centre word's representation predicts
    each context word (FastText::skipgram).

    tokens           int32 [n]            vocabulary ids, SENTENCE_END (-1) between sentences
    input_vectors    float32 [R, dim]     word rows then n-gram rows; updated in place
    output_vectors   float32 [V, dim]     negative-sampling weights; updated in place
    row_offsets      int64 [V+1]          word w is formed by rows[row_offsets[w]:row_offsets[w+1]]
    rows             int32 [*]            row indices into input_vectors
    keep_prob        float32 [V]          subsampling keep-probabilities
    noise_prob       float32 [V]; noise_alias int32 [V]: alias table of the noise distribution
    window, negative int
    lr_start         float: rate at the start of training (decays linearly to zero)
    words_done       int: words before this chunk (all epochs); total_words: for all epochs
    rng_state        uint64 [1]           advanced in place
    sigmoid_table, log_sigmoid_table: float32 [SIGMOID_TABLE_SIZE + 1] (word2vec.sigmoid_tables)
    Returns (words seen, summed loss, number of examples).
    """
    dim = input_vectors.shape[1]
    state = rng_state[0]
    noise_words = np.empty(negative + 1, dtype=np.int64)  # ns_update scratch
    sentence = np.empty(tokens.shape[0], dtype=np.int32)
    hidden = np.zeros(dim, dtype=np.float32)
    pair_grad = np.zeros(dim, dtype=np.float32)
    total_grad = np.zeros(dim, dtype=np.float32)
    words_seen = 0
    loss = 0.0
    examples = 0
    start = 0
    n = tokens.shape[0]
    while start < n:
        end = sentence_end(tokens, start)
        lr = linear_lr(lr_start, words_done + words_seen, total_words)
        m, state = subsample(tokens, start, end, keep_prob, sentence, state)
        words_seen += end - start
        for i in range(m):
            lo, hi, state = shrunk_window(i, m, window, state)
            if hi - lo < 2:
                continue
            if i + 1 < m:
                # the next centre word's ~20 rows lie scattered over the n-gram matrix:
                # start loading them while this position trains
                following = sentence[i + 1]
                prefetch_rows(input_vectors, rows, row_offsets[following], row_offsets[following + 1])
            centre = sentence[i]
            r0 = row_offsets[centre]
            r1 = row_offsets[centre + 1]
            mean_of_rows(input_vectors, rows, r0, r1, hidden)
            total_grad[:] = 0.0
            for j in range(lo, hi):
                if j == i:
                    continue
                pair_grad[:] = 0.0
                part, state = ns_update(hidden, output_vectors, sentence[j], negative, lr,
                                        noise_prob, noise_alias, pair_grad, sigmoid_table,
                                        log_sigmoid_table, state, noise_words)
                loss += part
                # fastText would now add pair_grad to every row and recompute the mean:
                # the mean moves by exactly pair_grad.
                for k in range(dim):
                    hidden[k] += pair_grad[k]
                    total_grad[k] += pair_grad[k]
                examples += 1
            add_to_rows(input_vectors, rows, r0, r1, total_grad)
        start = end + 1
    rng_state[0] = state
    return words_seen, loss, examples


@njit(**KERNEL_OPTIONS)
def cbow(tokens, input_vectors, output_vectors, row_offsets, rows, keep_prob, noise_prob,
         noise_alias, window, negative, lr_start, words_done, total_words, rng_state,
         sigmoid_table, log_sigmoid_table):
    """FastText CBOW on one chunk: the mean of all rows of all context words (their
    word rows and n-gram rows, pooled as fastText's FastText::cbow does) predicts the
    centre word; the gradient is added to each of those rows.

    Arguments and return value as for :func:`skipgram`.
    """
    dim = input_vectors.shape[1]
    state = rng_state[0]
    noise_words = np.empty(negative + 1, dtype=np.int64)  # ns_update scratch
    sentence = np.empty(tokens.shape[0], dtype=np.int32)
    hidden = np.zeros(dim, dtype=np.float32)
    grad = np.zeros(dim, dtype=np.float32)
    words_seen = 0
    loss = 0.0
    examples = 0
    start = 0
    n = tokens.shape[0]
    while start < n:
        end = sentence_end(tokens, start)
        lr = linear_lr(lr_start, words_done + words_seen, total_words)
        m, state = subsample(tokens, start, end, keep_prob, sentence, state)
        words_seen += end - start
        for i in range(m):
            lo, hi, state = shrunk_window(i, m, window, state)
            if hi - lo < 2:
                continue
            hidden[:] = 0.0
            count = 0
            for j in range(lo, hi):
                if j == i:
                    continue
                w = sentence[j]
                for r in range(row_offsets[w], row_offsets[w + 1]):
                    row = rows[r]
                    for k in range(dim):
                        hidden[k] += input_vectors[row, k]
                count += row_offsets[w + 1] - row_offsets[w]
            scale = np.float32(1.0) / np.float32(count)
            for k in range(dim):
                hidden[k] *= scale
            grad[:] = 0.0
            part, state = ns_update(hidden, output_vectors, sentence[i], negative, lr, noise_prob,
                                    noise_alias, grad, sigmoid_table, log_sigmoid_table, state,
                                    noise_words)
            loss += part
            for j in range(lo, hi):
                if j != i:
                    w = sentence[j]
                    add_to_rows(input_vectors, rows, row_offsets[w], row_offsets[w + 1], grad)
            examples += 1
        start = end + 1
    rng_state[0] = state
    return words_seen, loss, examples


@njit(**KERNEL_OPTIONS)
def word_vectors(input_vectors, row_offsets, rows, out):
    """out[w] = mean of input_vectors[rows[row_offsets[w]:row_offsets[w+1]]]
    (zeros for a word with no rows): fastText's getWordVector for many words.

    input_vectors float32 [R, dim]; row_offsets int64 [n+1]; rows int32 [*];
    out float32 [n, dim], written.
    """
    for w in range(out.shape[0]):
        r0 = row_offsets[w]
        r1 = row_offsets[w + 1]
        if r1 > r0:
            mean_of_rows(input_vectors, rows, r0, r1, out[w])
        else:
            out[w] = 0.0


@njit(**KERNEL_OPTIONS)
def uniform_fill(matrix, first_row, last_row, low, high, seed):
    """matrix[first_row:last_row] = uniform floats in [low, high), from SplitMix64
    seeded with ``seed`` (uint64), so the values do not depend on the thread count.

    matrix float32 [R, dim], written in place.
    """
    dim = matrix.shape[1]
    state = np.uint64(seed)
    scale = np.float32((high - low) / (1 << 24))
    lowf = np.float32(low)
    mask = np.uint64(0xFFFFFF)
    for r in range(first_row, last_row):
        # two 24-bit uniforms from each 64-bit draw
        for k in range(0, dim - 1, 2):
            state, bits = next_state(state)
            matrix[r, k] = lowf + scale * np.float32(bits >> np.uint64(40))
            matrix[r, k + 1] = lowf + scale * np.float32((bits >> np.uint64(8)) & mask)
        if dim % 2:
            state, bits = next_state(state)
            matrix[r, dim - 1] = lowf + scale * np.float32(bits >> np.uint64(40))
