"""The skip-gram family: word2vec skip-gram and CBOW and FastText, one kernel source.

As in fastText's own source (FastText::skipgram, FastText::cbow, Model::update), a
word's input is a list of rows of the input matrix: ``rows[offsets[w]:offsets[w+1]]``
(word2vec: the word's own row; FastText: its own row, then its n-gram rows; see
embedtrain/subwords.py), and its representation is the mean of those rows. The
gradient of that mean is added in full to every row that formed it (fastText's
unsupervised models; a row listed twice is updated twice). Around that:

- one sentence loop (:func:`train_chunk`): sentence ends, the learning-rate
  schedule, subsampling, optional shuffling, the context window;
- five context loops, chosen by ``arch`` (each run compiles only its own: see
  :func:`kernel_for`):
  ``SKIPGRAM`` (word2vec.c: each context word's rows predict the centre word),
  ``SKIPGRAM_SHARED`` (the same pairs, with one set of negatives per centre word
  shared by its whole window: pWord2Vec's HogBatch, Ji et al. 2016),
  ``SKIPGRAM_CENTRE`` (fastText: the centre word's rows predict each context word),
  ``SKIPGRAM_CENTRE_SHARED`` (the same pairs, with one set of negatives per centre word),
  ``CBOW`` (the mean of all rows of all context words predicts the centre word);
- two losses (kernels/losses.py): negative sampling and hierarchical softmax,
  either or both.

``SKIPGRAM_SHARED`` (negative sampling only) draws ``negative`` noise words once per
centre word. Each context word in turn scores its rows' mean against the centre and
those noise words, and its input rows are updated at once; the output rows (the
centre's and the noise words') stay as they were for the whole window and take the
summed gradient at its end. So a window touches c input rows and negative + 1 output
rows instead of c x (negative + 2), and its products are small matrix products (the
output rows stay in L1). tests/reference.py has the plain-numpy version. With word2vec's
default of 5 noise words and one row per word, the context words are taken two at a time:
the two rows' twelve scores against the six output rows in one pass (twelve sums side by
side, which the CPU overlaps, each output value loaded once for both), then both rows'
gradients and the six shared gradients in one more pass (each shared gradient row read and
written once for both). Two context words with the same row, and a window's last odd one,
go one at a time, so every row is scored as it stands after the updates before it: the same
products and updates as the general loop, its sums taken in another order (issue 28; the
measurements: docs/benchmarks.md, "Skip-gram's six scores in one pass"). It is a kernel of
its own (the fifth flag of :func:`kernel_key`).

``SKIPGRAM_CENTRE_SHARED`` (negative sampling only) is the same batch for fastText's
pairing, whose input is one vector for the whole window: the centre's mean h. It
draws ``negative`` noise words once per centre word, and h stays as it was for the
whole window (the batch), so a noise word scores the same against h for every pair:
its score is computed once and its gradient counts once for each pair that uses it
(a pair skips a noise word equal to its target, as in the per-pair loop). Each
context word's output row is scored and updated in turn, the noise words' rows take
their gradient at the end of the window and the centre's rows the window's summed
gradient. So a window computes c + negative dot products and row updates instead
of c x (negative + 1), and touches c + negative output rows instead of
c x (negative + 1). tests/reference_fasttext.py has the plain-numpy version.
It is about half of ``SKIPGRAM_CENTRE``'s kernel time but scores far lower: unlike
word2vec's pairing, where each context row still meets ``negative`` noise words per
window, here the one input (the centre's rows) meets ``negative`` instead of
c x negative; drawing more noise words brings back the quality and the cost together.
So FastText keeps ``SKIPGRAM_CENTRE`` as its default (the measurements:
docs/benchmarks.md, FastText).

``SKIPGRAM_CENTRE`` computes the centre's representation once per position, not
once per pair as fastText does: after each pair it moves the representation by
that pair's gradient, which is exactly what recomputing it from the updated rows
would give (every row moved by the same vector), and writes the summed gradient to
the rows once at the end of the position. Where the FastText numerics differ from
fastText: sigmoid saturates at |x| >= 6 (fastText: 8), and a noise word equal to
the target is skipped (fastText draws again).

Vectors are updated in place without locks (Hogwild, Recht et al. 2011), so
several threads may run kernels on different chunks at once.
"""
import threading
from typing import NamedTuple

import numpy as np
from numba import njit

from .common import (MAX_EXP, SIGMOID_TABLE_SIZE, context_window, learning_rate, sentence_end,
                     shuffle_sentence, subsample, table_index)
from .losses import draw_noise, hs_update, logistic, ns_update, ns_update6
from .options import KERNEL_OPTIONS
from .memory import CACHE_LINE_FLOATS, prefetch
from .rows import add_to_rows, mean_of_rows, prefetch_rows


class SgnsWeights(NamedTuple):
    """What :func:`train_chunk` updates in place (see its docstring for shapes)."""
    input_vectors: np.ndarray
    output_vectors: np.ndarray
    output_hs: np.ndarray


class SgnsRows(NamedTuple):
    """Each word's input rows: ``ids[offsets[w]:offsets[w+1]]`` (both empty: row w alone)."""
    offsets: np.ndarray
    ids: np.ndarray


class SgnsTables(NamedTuple):
    """The tables drawn from the vocabulary (read only)."""
    keep_prob: np.ndarray
    noise_prob: np.ndarray
    noise_alias: np.ndarray
    hs_offsets: np.ndarray
    hs_codes: np.ndarray
    hs_points: np.ndarray
    sigmoid: np.ndarray
    log_sigmoid: np.ndarray


class SgnsSettings(NamedTuple):
    """The scalars of one call: the architecture, the window and losses, the schedule."""
    arch: int
    window: int
    negative: int
    use_hs: bool
    shuffle: bool
    lr: float
    lr_floor: float
    lr_offset: float
    words_done: float
    total_words: float


# The kernel's arguments travel as these named tuples (training/sgns.py builds them); no
# module but this one reads them by position. train_chunk hands them to the kernel as
# plain tuples, so the compiled kernel is the same as before them. (One hand-written kernel
# per architecture, calling shared helpers, was tried and kept the bytes but ran 25-86%
# slower for word2vec: docs/benchmarks.md, "Kernel shape". The specialisation below keeps
# this one source and compiles the loop a run uses.)

# arch: which context loop.
SKIPGRAM = 0          # word2vec.c's pairing: the context word's input predicts the centre
SKIPGRAM_CENTRE = 1   # fastText's pairing: the centre word's input predicts each context word
CBOW = 2
SKIPGRAM_SHARED = 3   # SKIPGRAM with one set of negatives per centre word (negative sampling only)
SKIPGRAM_CENTRE_SHARED = 4  # SKIPGRAM_CENTRE with one set of negatives per centre word (the same)


# The context loops are written out here, each calling the two losses itself,
# rather than in helper functions: measured on text8 (thread CPU time, alternating with
# the former per-model kernels), context loops in helpers cost 20-30% and even a small
# helper calling both losses 10-14% (numba reference-counts the arrays it passes and
# inlines less), while this flat form runs within 0-5% of them.
#
# One source, one compiled kernel per (arch, hierarchical softmax, negative sampling,
# one row per word, six output rows, shuffled sentences, the rows' length) that a run uses
# (issue 28): _make_kernel closes over the seven as constants, so numba's dead-branch
# pruning drops the other context loops, losses and row lookups before it inlines the
# helpers, types and compiles. A skip-gram run compiles one loop with one loss instead of
# all five loops with both losses and both row layouts (with the kernel's arrays made by
# the caller, a fifth of the compile time and under a third of the compile's extra memory);
# every kernel is the same code on the same values in the same order as the one kernel
# before, so the bytes were the same (docs/benchmarks.md, "First-run compile"). The rows'
# length as a constant changed the order in which LLVM sums a row's products, and with it
# the bytes (kernel_key; tests/test_golden.py pins the new ones).
_KERNELS: dict[tuple[int, bool, bool, bool, bool, bool, int], object] = {}
_KERNELS_LOCK = threading.Lock()  # worker threads ask at once: make each kernel once
_SHARED_ARCHS = (SKIPGRAM_SHARED, SKIPGRAM_CENTRE_SHARED)  # negative sampling only
_CENTRE_ARCHS = (SKIPGRAM_CENTRE, SKIPGRAM_CENTRE_SHARED)  # always through the row lists
ARCHS = (SKIPGRAM, SKIPGRAM_CENTRE, CBOW, SKIPGRAM_SHARED, SKIPGRAM_CENTRE_SHARED)
# SKIPGRAM_SHARED with one row per word and this many output rows a window (the centre and
# word2vec's default of 5 noise words) has a loop of its own, written for six rows
SIX_ROWS = 6


def kernel_key(arch: int, use_hs: bool, negative: int, one_row: bool, dim: int,
               shuffle: bool = False) -> tuple[int, bool, bool, bool, bool, bool, int]:
    """Which compiled kernel runs these settings: (arch, hierarchical softmax, negative
    sampling, one row per word, SKIPGRAM_SHARED's and CBOW's loop for exactly 5 noise words,
    sentences shuffled, the rows' length). A flag a loop does not read is left out of its key
    (False), so such settings share one kernel. Only item2vec's ``--shuffle-lines`` shuffles:
    the other runs' kernel has no shuffle loop (less for numba to inline, type and lower:
    0.03-0.20 s of a first run's compile, docs/benchmarks.md "Shuffling, a kernel flag").

    The rows' length ``dim`` is a constant of the compiled kernel, so LLVM knows the trip
    count of every loop over a row: at dim 100 it writes a dot product as six 16-float vector
    operations and the last 4 floats apart, instead of a loop with an epilogue and a remainder
    (one thread: CBOW trained the text8 prefix in 0.88 of the time, FastText and skip-gram per
    pair text8-1m in 0.90 and 0.80; docs/benchmarks.md, "The rows' length, a kernel constant").
    A new ``--dim`` compiles its own kernel once (and caches it)."""
    arch = int(arch)
    if arch not in ARCHS:
        raise ValueError(f"unknown skip-gram-family architecture {arch!r}")
    hs, ns = (False, True) if arch in _SHARED_ARCHS else (bool(use_hs), int(negative) > 0)
    one_row = bool(one_row) and arch not in _CENTRE_ARCHS
    six = arch in (SKIPGRAM_SHARED, CBOW) and one_row and int(negative) == SIX_ROWS - 1
    dim = int(dim)
    if dim < 1:
        raise ValueError(f"rows of length {dim}: a kernel needs at least 1")
    return arch, hs, ns, one_row, six, bool(shuffle), dim


def kernel_for(arch: int, use_hs: bool, negative: int, one_row: bool, dim: int, shuffle: bool = False):
    """The compiled kernel (a numba dispatcher) for these settings, made on first use."""
    key = kernel_key(arch, use_hs, negative, one_row, dim, shuffle)
    kernel = _KERNELS.get(key)
    if kernel is None:
        with _KERNELS_LOCK:
            kernel = _KERNELS.get(key)
            if kernel is None:
                kernel = _KERNELS[key] = _make_kernel(*key)
    return kernel


def train_chunk(tokens, weights, rows, tables, params, rng_state):
    """Train on one chunk of the token stream (the kernel :func:`kernel_for` picks for
    ``params`` and ``rows``, on the tuples' values; the named tuples or plain tuples in
    the same order).
    """
    params, rows, weights = tuple(params), tuple(rows), tuple(weights)
    if tokens.flags.writeable:
        # the kernel only reads the tokens: a read-only view gives every caller's chunk one
        # numba type, so a run compiles one signature (a chunk of the stream's file is
        # read-only, a thread's remapped chunk is not: with two threads both were compiled)
        tokens = tokens.view()
        tokens.flags.writeable = False
    dim = weights[0].shape[1]
    if any(w.ndim != 2 or w.shape[1] != dim for w in weights):
        # the kernel reads rows of its compiled-in length without bounds checks
        raise ValueError(f"the weights' rows differ in length: {[w.shape for w in weights]}")
    kernel = kernel_for(params[0], params[3], params[2], rows[1].shape[0] == 0, dim, params[4])
    scratch = scratch_arrays(tokens.shape[0], dim, params[2])
    return kernel(tokens, weights, rows, tuple(tables), params, rng_state, scratch)


def scratch_arrays(n: int, dim: int, negative: int) -> tuple[np.ndarray, ...]:
    """The kernel's working arrays for a chunk of n tokens: (sentence int32 [n], hidden,
    grad and total_grad float32 [dim], noise_words int64 [2 (negative + 1)] (a position's and,
    in the six-row loops, the next position's), shared_grad
    float32 [negative + 1, dim], coeff float32 [2 (negative + 1)]), as the kernel made them
    itself before issue 28 (the same zeros)."""
    return (np.empty(n, dtype=np.int32), np.zeros(dim, dtype=np.float32),
            np.zeros(dim, dtype=np.float32), np.zeros(dim, dtype=np.float32),
            np.empty(2 * (negative + 1), dtype=np.int64), np.zeros((negative + 1, dim), dtype=np.float32),
            np.zeros(2 * (negative + 1), dtype=np.float32))


def _make_kernel(ARCH, USE_HS, USE_NS, ONE_ROW, SIX, SHUFFLE, DIM):
    @njit(**KERNEL_OPTIONS)
    def _train_chunk(tokens, weights, rows, tables, params, rng_state, scratch):
        """Train on one chunk of the token stream.

        tokens   int32 [n]: vocabulary ids, SENTENCE_END (-1) between sentences
        weights  (input_vectors float32 [R, dim], output_vectors float32 [V, dim] (negative
                 sampling; [0, dim] when unused), output_hs float32 [V-1, dim] (hierarchical
                 softmax; [0, dim] when unused)): all updated in place
        rows     (row_offsets int64 [V+1], row_ids int32 [*]): word w's input rows are
                 row_ids[row_offsets[w]:row_offsets[w+1]]; both empty means one row per
                 word, row w (word2vec), read without the lookups
        tables   (keep_prob float32 [V] (subsampling), noise_prob float32 [V] and
                 noise_alias int32 [V] (alias table of the noise distribution),
                 hs_offsets int64 [V+1], hs_codes uint8 [*], hs_points int32 [*] (Huffman
                 paths), sigmoid float32 [T+1], log_sigmoid float32 [T+1] (common.sigmoid_tables))
        params   (arch, window, negative, use_hs, shuffle, lr_start, lr_floor, lr_offset,
                 words_done, total_words): ``arch`` SKIPGRAM, SKIPGRAM_SHARED,
                 SKIPGRAM_CENTRE, SKIPGRAM_CENTRE_SHARED or CBOW;
                 ``window`` 0 means whole sentences; ``shuffle`` shuffles each sentence
                 after subsampling; the rate at a sentence is common.learning_rate of the
                 words of all epochs before it (``words_done`` counts those before the chunk)
        rng_state uint64 [1]: advanced in place
        scratch  (:func:`scratch_arrays`): overwritten; made by the caller, so that the kernel
                 allocates nothing (each allocation compiles numba's array constructors)
        Returns (words seen, summed loss, number of examples); the loss is NaN when the
        weights diverged.
        """
        _arch, window, negative, _use_hs, shuffle, lr_start, lr_floor, lr_offset, words_done, total_words = params
        input_vectors, output_vectors, output_hs = weights
        row_offsets, row_ids = rows
        keep_prob, noise_prob, noise_alias, hs_offsets, hs_codes, hs_points, sigmoid, log_sigmoid = tables
        dim = DIM   # the kernel's constant, every array's row length (train_chunk checks)
        state = rng_state[0]
        n = tokens.shape[0]
        sentence, hidden, grad, total_grad, noise_words, shared_grad, coeff = scratch
        words_seen = 0
        loss = 0.0
        examples = 0
        start = 0
        while start < n:
            end = sentence_end(tokens, start)
            lr = learning_rate(lr_start, lr_floor, lr_offset, words_done + words_seen, total_words)
            m, state = subsample(tokens, start, end, keep_prob, sentence, state)
            words_seen += end - start
            if SHUFFLE and shuffle:   # (pruned from the kernels of runs that do not shuffle)
                state = shuffle_sentence(sentence, m, state)
            ahead = False
            next_lo = 0
            next_hi = 0
            for i in range(m):
                if SIX and ahead:
                    # this position's window and noise words, drawn at the one before (below)
                    ahead = False
                    lo = next_lo
                    hi = next_hi
                    if hi - lo < 2:
                        continue
                    for d in range(1, SIX_ROWS):
                        noise_words[d] = noise_words[SIX_ROWS + d]
                else:
                    lo, hi, state = context_window(i, m, window, state)
                    if hi - lo < 2:
                        continue
                    if SIX:
                        for d in range(1, SIX_ROWS):
                            state, word = draw_noise(state, noise_prob, noise_alias)
                            noise_words[d] = word
                            for k in range(0, dim, CACHE_LINE_FLOATS):
                                prefetch(output_vectors, (word, k))
                centre = sentence[i]
                if SIX and i + 1 < m:
                    # the six-row loops (5 noise words): draw the next position's window and noise
                    # words now, the draws that come next in the same order (the same bytes), and
                    # start loading their output rows, the next centre word's and the farthest
                    # input row its window can take in while this position trains (written out: a
                    # helper handed the matrices costs numba reference counts)
                    next_lo, next_hi, state = context_window(i + 1, m, window, state)
                    ahead = True
                    if next_hi - next_lo >= 2:
                        for d in range(1, SIX_ROWS):
                            state, word = draw_noise(state, noise_prob, noise_alias)
                            noise_words[SIX_ROWS + d] = word
                            for k in range(0, dim, CACHE_LINE_FLOATS):
                                prefetch(output_vectors, (word, k))
                    following = sentence[i + 1]
                    for k in range(0, dim, CACHE_LINE_FLOATS):
                        prefetch(output_vectors, (following, k))
                    if i + 1 + window < m:
                        entering = sentence[i + 1 + window]
                        for k in range(0, dim, CACHE_LINE_FLOATS):
                            prefetch(input_vectors, (entering, k))
                if ARCH == SKIPGRAM:
                    # word2vec.c: each context word's input predicts the centre word
                    for j in range(lo, hi):
                        if j == i:
                            continue
                        context = sentence[j]
                        if ONE_ROW:
                            r0 = context
                            h = input_vectors[context]  # read in place
                        else:
                            r0 = row_offsets[context]
                            r1 = row_offsets[context + 1]
                            mean_of_rows(input_vectors, row_ids, r0, r1, hidden, dim)
                            h = hidden
                        for k in range(dim):
                            grad[k] = 0.0
                        if USE_HS:
                            loss += hs_update(h, output_hs, centre, lr, hs_offsets, hs_codes, hs_points,
                                              grad, sigmoid, log_sigmoid, dim)
                        if USE_NS:
                            part, state = ns_update(h, output_vectors, centre, negative, lr, noise_prob,
                                                    noise_alias, grad, sigmoid, log_sigmoid, state, noise_words,
                                                    dim)
                            loss += part
                        if ONE_ROW:
                            for k in range(dim):
                                input_vectors[context, k] += grad[k]
                        else:
                            add_to_rows(input_vectors, row_ids, r0, r1, grad, dim)
                        examples += 1
                elif ARCH == SKIPGRAM_SHARED:
                    # one set of noise words for the window; output rows updated at its end
                    noise_words[0] = centre
                    if not SIX:   # (the six-row loop's are drawn above)
                        for d in range(1, negative + 1):
                            state, word = draw_noise(state, noise_prob, noise_alias)
                            noise_words[d] = word
                            for k in range(0, dim, CACHE_LINE_FLOATS):
                                prefetch(output_vectors, (word, k))
                    for d in range(negative + 1):
                        for k in range(dim):
                            shared_grad[d, k] = 0.0
                    if SIX:
                        # word2vec's default (module docstring): context words two at a time,
                        # both rows' six scores in one pass, their updates in one more
                        # rows by index, not as row views: numba counts a reference (an atomic
                        # add) for every view it makes, twelve a window and two a pair here
                        w0 = noise_words[0]
                        w1 = noise_words[1]
                        w2 = noise_words[2]
                        w3 = noise_words[3]
                        w4 = noise_words[4]
                        w5 = noise_words[5]
                        j = lo
                        while j < hi:
                            if j == i:
                                j += 1
                                continue
                            a = sentence[j]
                            jb = j + 1
                            if jb == i:
                                jb += 1
                            # two rows: neither's update changes the other's scores; the last
                            # one, or one whose next has the same row, goes alone, beside itself
                            # taking no gradient (one loop for both cases; its row is written
                            # last)
                            pair = jb < hi and sentence[jb] != a
                            b = sentence[jb] if pair else a
                            fa0 = np.float32(0.0)
                            fa1 = np.float32(0.0)
                            fa2 = np.float32(0.0)
                            fa3 = np.float32(0.0)
                            fa4 = np.float32(0.0)
                            fa5 = np.float32(0.0)
                            fb0 = np.float32(0.0)
                            fb1 = np.float32(0.0)
                            fb2 = np.float32(0.0)
                            fb3 = np.float32(0.0)
                            fb4 = np.float32(0.0)
                            fb5 = np.float32(0.0)
                            for k in range(dim):
                                xak = input_vectors[a, k]
                                xbk = input_vectors[b, k]
                                v = output_vectors[w0, k]
                                fa0 += xak * v
                                fb0 += xbk * v
                                v = output_vectors[w1, k]
                                fa1 += xak * v
                                fb1 += xbk * v
                                v = output_vectors[w2, k]
                                fa2 += xak * v
                                fb2 += xbk * v
                                v = output_vectors[w3, k]
                                fa3 += xak * v
                                fb3 += xbk * v
                                v = output_vectors[w4, k]
                                fa4 += xak * v
                                fb4 += xbk * v
                                v = output_vectors[w5, k]
                                fa5 += xak * v
                                fb5 += xbk * v
                            # the twelve coefficients (label - sigmoid) * lr, a's six then b's, with
                            # their losses, as losses.six_coefficients gives them; written out here,
                            # since numba counts a reference for each array a helper is handed
                            coeff[0] = fa0
                            coeff[1] = fa1
                            coeff[2] = fa2
                            coeff[3] = fa3
                            coeff[4] = fa4
                            coeff[5] = fa5
                            coeff[6] = fb0
                            coeff[7] = fb1
                            coeff[8] = fb2
                            coeff[9] = fb3
                            coeff[10] = fb4
                            coeff[11] = fb5
                            for e in range(2 * SIX_ROWS if pair else SIX_ROWS):
                                d = e % SIX_ROWS
                                f = coeff[e]
                                coeff[e] = 0.0
                                label = np.float32(1.0)
                                if d > 0:
                                    if noise_words[d] == centre:
                                        continue
                                    label = np.float32(0.0)
                                if f >= MAX_EXP:
                                    sig = np.float32(1.0)
                                    loss -= log_sigmoid[SIGMOID_TABLE_SIZE] if label > 0 else -MAX_EXP
                                elif f <= -MAX_EXP:
                                    sig = np.float32(0.0)
                                    loss -= -MAX_EXP if label > 0 else log_sigmoid[SIGMOID_TABLE_SIZE]
                                elif f == f:
                                    t = table_index(f)
                                    sig = sigmoid[t]
                                    loss -= log_sigmoid[t] if label > 0 else log_sigmoid[SIGMOID_TABLE_SIZE - t]
                                else:  # NaN: diverged, no update
                                    loss += np.nan
                                    continue
                                coeff[e] = (label - sig) * lr
                            ga0 = coeff[0]
                            ga1 = coeff[1]
                            ga2 = coeff[2]
                            ga3 = coeff[3]
                            ga4 = coeff[4]
                            ga5 = coeff[5]
                            gb0 = gb1 = gb2 = gb3 = gb4 = gb5 = np.float32(0.0)
                            if pair:
                                gb0 = coeff[6]
                                gb1 = coeff[7]
                                gb2 = coeff[8]
                                gb3 = coeff[9]
                                gb4 = coeff[10]
                                gb5 = coeff[11]
                                examples += 2
                                j = jb + 1
                            else:
                                examples += 1
                                j += 1
                            for k in range(dim):
                                xak = input_vectors[a, k]
                                xbk = input_vectors[b, k]
                                v0 = output_vectors[w0, k]
                                v1 = output_vectors[w1, k]
                                v2 = output_vectors[w2, k]
                                v3 = output_vectors[w3, k]
                                v4 = output_vectors[w4, k]
                                v5 = output_vectors[w5, k]
                                gka = ga0 * v0 + ga1 * v1 + ga2 * v2 + ga3 * v3 + ga4 * v4 + ga5 * v5
                                gkb = gb0 * v0 + gb1 * v1 + gb2 * v2 + gb3 * v3 + gb4 * v4 + gb5 * v5
                                shared_grad[0, k] = (shared_grad[0, k] + ga0 * xak) + gb0 * xbk
                                shared_grad[1, k] = (shared_grad[1, k] + ga1 * xak) + gb1 * xbk
                                shared_grad[2, k] = (shared_grad[2, k] + ga2 * xak) + gb2 * xbk
                                shared_grad[3, k] = (shared_grad[3, k] + ga3 * xak) + gb3 * xbk
                                shared_grad[4, k] = (shared_grad[4, k] + ga4 * xak) + gb4 * xbk
                                shared_grad[5, k] = (shared_grad[5, k] + ga5 * xak) + gb5 * xbk
                                input_vectors[b, k] = xbk + gkb
                                input_vectors[a, k] = xak + gka
                    else:
                        for j in range(lo, hi):
                            if j == i:
                                continue
                            context = sentence[j]
                            if ONE_ROW:
                                r0 = context
                                h = input_vectors[context]
                            else:
                                r0 = row_offsets[context]
                                r1 = row_offsets[context + 1]
                                mean_of_rows(input_vectors, row_ids, r0, r1, hidden, dim)
                                h = hidden
                            # scores against the window's output rows (they stay in L1), then
                            # one pass for both gradients: a (negative + 1) x dim product
                            for d in range(negative + 1):
                                word = noise_words[d]
                                coeff[d] = 0.0
                                label = np.float32(1.0)
                                if d > 0:
                                    if word == centre:
                                        continue
                                    label = np.float32(0.0)
                                f = np.float32(0.0)
                                for k in range(dim):
                                    f += h[k] * output_vectors[word, k]
                                sig, part = logistic(f, label, sigmoid, log_sigmoid)
                                loss += part
                                if sig == sig:  # else NaN: diverged, no update
                                    coeff[d] = (label - sig) * lr
                            for k in range(dim):
                                grad[k] = 0.0
                            for d in range(negative + 1):
                                g = coeff[d]
                                word = noise_words[d]
                                for k in range(dim):
                                    grad[k] += g * output_vectors[word, k]
                                    shared_grad[d, k] += g * h[k]
                            if ONE_ROW:
                                for k in range(dim):
                                    input_vectors[context, k] += grad[k]
                            else:
                                add_to_rows(input_vectors, row_ids, r0, r1, grad, dim)
                            examples += 1
                    for d in range(negative + 1):
                        word = noise_words[d]
                        for k in range(dim):
                            output_vectors[word, k] += shared_grad[d, k]
                elif ARCH == SKIPGRAM_CENTRE or ARCH == SKIPGRAM_CENTRE_SHARED:
                    # fastText: the centre word's input predicts each context word
                    if i + 1 < m:
                        # the next centre word's rows (~20 for FastText) lie scattered over the
                        # n-gram matrix: start loading them while this position trains
                        following = sentence[i + 1]
                        prefetch_rows(input_vectors, row_ids, row_offsets[following],
                                      row_offsets[following + 1], dim)
                    r0 = row_offsets[centre]
                    r1 = row_offsets[centre + 1]
                    mean_of_rows(input_vectors, row_ids, r0, r1, hidden, dim)
                    for k in range(dim):
                        total_grad[k] = 0.0
                    if ARCH == SKIPGRAM_CENTRE:
                        for j in range(lo, hi):
                            if j == i:
                                continue
                            for k in range(dim):
                                grad[k] = 0.0
                            if USE_HS:
                                loss += hs_update(hidden, output_hs, sentence[j], lr, hs_offsets, hs_codes,
                                                  hs_points, grad, sigmoid, log_sigmoid, dim)
                            if USE_NS:
                                part, state = ns_update(hidden, output_vectors, sentence[j], negative, lr,
                                                        noise_prob, noise_alias, grad, sigmoid, log_sigmoid,
                                                        state, noise_words, dim)
                                loss += part
                            # fastText would now add the gradient to every row and recompute the
                            # mean: the mean moves by exactly the gradient.
                            for k in range(dim):
                                hidden[k] += grad[k]
                                total_grad[k] += grad[k]
                            examples += 1
                    else:
                        # one batch: h (the centre's mean) and the noise words' rows stay as
                        # they were for the whole window
                        for d in range(negative):
                            state, word = draw_noise(state, noise_prob, noise_alias)
                            noise_words[d] = word
                            for k in range(0, dim, CACHE_LINE_FLOATS):
                                prefetch(output_vectors, (word, k))
                        for d in range(negative):
                            # one score per noise word, counted for each pair whose target it is not
                            word = noise_words[d]
                            coeff[d] = 0.0
                            uses = 0
                            for j in range(lo, hi):
                                if j != i and sentence[j] != word:
                                    uses += 1
                            if uses == 0:
                                continue
                            f = np.float32(0.0)
                            for k in range(dim):
                                f += hidden[k] * output_vectors[word, k]
                            sig, part = logistic(f, np.float32(0.0), sigmoid, log_sigmoid)
                            loss += uses * part
                            if sig == sig:  # else NaN: diverged, no update
                                g = -sig * lr * np.float32(uses)
                                coeff[d] = g
                                for k in range(dim):
                                    total_grad[k] += g * output_vectors[word, k]
                        for j in range(lo, hi):
                            if j == i:
                                continue
                            target = sentence[j]
                            f = np.float32(0.0)
                            for k in range(dim):
                                f += hidden[k] * output_vectors[target, k]
                            sig, part = logistic(f, np.float32(1.0), sigmoid, log_sigmoid)
                            loss += part
                            if sig == sig:
                                g = (np.float32(1.0) - sig) * lr
                                for k in range(dim):
                                    o = output_vectors[target, k]
                                    total_grad[k] += g * o
                                    output_vectors[target, k] = o + g * hidden[k]
                            examples += 1
                        for d in range(negative):
                            g = coeff[d]
                            word = noise_words[d]
                            for k in range(dim):
                                output_vectors[word, k] += g * hidden[k]
                    add_to_rows(input_vectors, row_ids, r0, r1, total_grad, dim)
                else:
                    # CBOW: the mean of the rows of all context words (pooled, as fastText's
                    # FastText::cbow does) predicts the centre word; the gradient is added
                    # unscaled to each of those rows, as word2vec.c does (gensim divides it by
                    # the number of context words, which learns more slowly at the same rate)
                    for k in range(dim):
                        hidden[k] = 0.0
                    count = 0
                    for j in range(lo, hi):
                        if j == i:
                            continue
                        w = sentence[j]
                        if ONE_ROW:
                            for k in range(dim):
                                hidden[k] += input_vectors[w, k]
                            count += 1
                            continue
                        for r in range(row_offsets[w], row_offsets[w + 1]):
                            row = row_ids[r]
                            for k in range(dim):
                                hidden[k] += input_vectors[row, k]
                        count += row_offsets[w + 1] - row_offsets[w]
                    scale = np.float32(1.0) / np.float32(count)
                    for k in range(dim):
                        hidden[k] *= scale
                    for k in range(dim):
                        grad[k] = 0.0
                    if USE_HS:
                        loss += hs_update(hidden, output_hs, centre, lr, hs_offsets, hs_codes, hs_points,
                                          grad, sigmoid, log_sigmoid, dim)
                    if USE_NS and SIX:
                        noise_words[0] = centre
                        loss += ns_update6(hidden, output_vectors, lr, grad, sigmoid, log_sigmoid, noise_words,
                                           coeff, dim)
                    elif USE_NS:
                        part, state = ns_update(hidden, output_vectors, centre, negative, lr, noise_prob,
                                                noise_alias, grad, sigmoid, log_sigmoid, state, noise_words,
                                                dim)
                        loss += part
                    for j in range(lo, hi):
                        if j != i:
                            w = sentence[j]
                            if ONE_ROW:
                                for k in range(dim):
                                    input_vectors[w, k] += grad[k]
                            else:
                                add_to_rows(input_vectors, row_ids, row_offsets[w], row_offsets[w + 1],
                                            grad, dim)
                    examples += 1
            start = end + 1
        rng_state[0] = state
        return words_seen, loss, examples

    return _train_chunk


@njit(**KERNEL_OPTIONS)
def word_vectors(input_vectors, row_offsets, row_ids, out):
    """out[w] = mean of input_vectors[row_ids[row_offsets[w]:row_offsets[w+1]]]
    (zeros for a word with no rows): fastText's getWordVector for many words.

    input_vectors float32 [R, dim]; row_offsets int64 [n+1]; row_ids int32 [*];
    out float32 [n, dim], written.
    """
    for w in range(out.shape[0]):
        r0 = row_offsets[w]
        r1 = row_offsets[w + 1]
        if r1 > r0:
            mean_of_rows(input_vectors, row_ids, r0, r1, out[w], out.shape[1])
        else:
            out[w] = 0.0
