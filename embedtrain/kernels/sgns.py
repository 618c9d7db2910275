"""The skip-gram family: word2vec skip-gram and CBOW and FastText, one kernel per
architecture.

As in fastText's own source (FastText::skipgram, FastText::cbow, Model::update), a
word's input is a list of rows of the input matrix: ``rows[offsets[w]:offsets[w+1]]``
(word2vec: the word's own row; FastText: its own row, then its n-gram rows; see
embedtrain/subwords.py), and its representation is the mean of those rows. The
gradient of that mean is added in full to every row that formed it (fastText's
unsupervised models; a row listed twice is updated twice). Around that:

- one sentence step (:func:`_next_sentence`): sentence ends, the learning-rate
  schedule, subsampling, optional shuffling;
- five loops over a sentence's positions (the context window, then the pairs), one
  kernel each (:data:`KERNELS`; :func:`train_chunk` picks it by ``arch``, so a run
  compiles only its own):
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
output rows stay in L1). tests/reference.py has the plain-numpy version.

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
from typing import NamedTuple

import numpy as np
from numba import njit

from .common import (context_window, learning_rate, sentence_end, shuffle_sentence,
                     subsample)
from .losses import draw_noise, hs_update, logistic, ns_update
from .options import HELPER_OPTIONS, KERNEL_OPTIONS
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
# module but this one reads them by position.

# arch: which context loop.
SKIPGRAM = 0          # word2vec.c's pairing: the context word's input predicts the centre
SKIPGRAM_CENTRE = 1   # fastText's pairing: the centre word's input predicts each context word
CBOW = 2
SKIPGRAM_SHARED = 3   # SKIPGRAM with one set of negatives per centre word (negative sampling only)
SKIPGRAM_CENTRE_SHARED = 4  # SKIPGRAM_CENTRE with one set of negatives per centre word (the same)


# One kernel per architecture (KERNELS), each a short loop over its sentences that numba
# compiles alone: a run compiles only the architecture it trains (docs/benchmarks.md,
# "First-run compile"). What they share is written once as helpers that numba inlines
# (inline="always"), so each kernel is as flat as one function: helpers numba calls rather
# than inlines cost 20-30% of the kernel time (they reference-count every array passed).


@njit(**HELPER_OPTIONS)
def _begin(tokens, weights, params, rng_state):
    """The scratch arrays of a chunk (sentence, hidden, grad, total_grad, noise_words,
    shared_grad, coeff), the rng state, and the counters (start, words seen, loss, examples)."""
    dim = weights.input_vectors.shape[1]
    negative = params.negative
    scratch = (np.empty(tokens.shape[0], dtype=np.int32), np.zeros(dim, dtype=np.float32),
               np.zeros(dim, dtype=np.float32), np.zeros(dim, dtype=np.float32),
               np.empty(negative + 1, dtype=np.int64), np.zeros((negative + 1, dim), dtype=np.float32),
               np.zeros(negative + 1, dtype=np.float32))
    return scratch, rng_state[0], 0, 0, 0.0, 0


@njit(**HELPER_OPTIONS)
def _next_sentence(tokens, start, seen, tables, params, sentence, state):
    """The sentence at ``start`` subsampled (and shuffled) into ``sentence``: returns (kept
    words, its learning rate, the next sentence's start, words seen, rng state)."""
    end = sentence_end(tokens, start)
    lr = learning_rate(params.lr, params.lr_floor, params.lr_offset, params.words_done + seen,
                       params.total_words)
    m, state = subsample(tokens, start, end, tables.keep_prob, sentence, state)
    if params.shuffle:
        state = shuffle_sentence(sentence, m, state)
    return m, lr, end + 1, seen + end - start, state


@njit(**HELPER_OPTIONS)
def _input_of(word, weights, rows, hidden):
    """(the first of ``word``'s input rows, their mean): the row itself, read in place, for
    word2vec; the mean of its rows, in ``hidden``, for FastText."""
    if rows.ids.shape[0] == 0:
        return word, weights.input_vectors[word]
    mean_of_rows(weights.input_vectors, rows.ids, rows.offsets[word], rows.offsets[word + 1], hidden)
    return rows.offsets[word], hidden


@njit(**HELPER_OPTIONS)
def _add_to_input(word, r0, weights, rows, grad):
    """Add ``grad`` to each of ``word``'s input rows (``r0``: from :func:`_input_of`)."""
    if rows.ids.shape[0] == 0:
        for k in range(grad.shape[0]):
            weights.input_vectors[word, k] += grad[k]
    else:
        add_to_rows(weights.input_vectors, rows.ids, r0, rows.offsets[word + 1], grad)


@njit(**HELPER_OPTIONS)
def _losses(h, target, weights, tables, params, lr, grad, noise_words, state, loss):
    """Hierarchical softmax and/or negative sampling for ``h`` predicting ``target``:
    ``grad`` (zeroed first) gets h's gradient. Returns (``loss`` plus this example's,
    rng state)."""
    grad[:] = 0.0
    if params.use_hs:
        loss += hs_update(h, weights.output_hs, target, lr, tables.hs_offsets, tables.hs_codes,
                          tables.hs_points, grad, tables.sigmoid, tables.log_sigmoid)
    if params.negative > 0:
        part, state = ns_update(h, weights.output_vectors, target, params.negative, lr, tables.noise_prob,
                                tables.noise_alias, grad, tables.sigmoid, tables.log_sigmoid, state,
                                noise_words)
        loss += part
    return loss, state


@njit(**HELPER_OPTIONS)
def _skipgram(sentence, m, lr, weights, rows, tables, params, scratch, state, loss, examples):
    """word2vec.c's pairing: each context word's input predicts the centre word."""
    hidden, grad, noise_words = scratch[1], scratch[2], scratch[4]
    for i in range(m):
        lo, hi, state = context_window(i, m, params.window, state)
        for j in range(lo, hi):
            if j != i:
                r0, h = _input_of(sentence[j], weights, rows, hidden)
                loss, state = _losses(h, sentence[i], weights, tables, params, lr, grad, noise_words, state, loss)
                _add_to_input(sentence[j], r0, weights, rows, grad)
                examples += 1
    return state, loss, examples


@njit(**HELPER_OPTIONS)
def _skipgram_shared(sentence, m, lr, weights, rows, tables, params, scratch, state, loss, examples):
    """word2vec's pairing with one set of noise words for the window; the output rows
    are updated at its end."""
    hidden, grad, noise_words, shared_grad, coeff = scratch[1], scratch[2], scratch[4], scratch[5], scratch[6]
    output_vectors, negative = weights.output_vectors, params.negative
    dim = output_vectors.shape[1]
    for i in range(m):
        lo, hi, state = context_window(i, m, params.window, state)
        if hi - lo < 2:
            continue
        centre = sentence[i]
        noise_words[0] = centre
        for d in range(1, negative + 1):
            state, word = draw_noise(state, tables.noise_prob, tables.noise_alias)
            noise_words[d] = word
            for k in range(0, dim, CACHE_LINE_FLOATS):
                prefetch(output_vectors, (word, k))
        shared_grad[:, :] = 0.0
        for j in range(lo, hi):
            if j == i:
                continue
            r0, h = _input_of(sentence[j], weights, rows, hidden)
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
                sig, part = logistic(f, label, tables.sigmoid, tables.log_sigmoid)
                loss += part
                if sig == sig:  # else NaN: diverged, no update
                    coeff[d] = (label - sig) * lr
            grad[:] = 0.0
            for d in range(negative + 1):
                g = coeff[d]
                word = noise_words[d]
                for k in range(dim):
                    grad[k] += g * output_vectors[word, k]
                    shared_grad[d, k] += g * h[k]
            _add_to_input(sentence[j], r0, weights, rows, grad)
            examples += 1
        for d in range(negative + 1):
            word = noise_words[d]
            for k in range(dim):
                output_vectors[word, k] += shared_grad[d, k]
    return state, loss, examples


@njit(**HELPER_OPTIONS)
def _centre_input(sentence, i, m, weights, rows, hidden, total_grad):
    """fastText's pairing: the centre's rows' mean, in ``hidden``; ``total_grad`` zeroed.
    Returns the centre's first row."""
    if i + 1 < m:
        # the next centre word's rows (~20 for FastText) lie scattered over the n-gram
        # matrix: start loading them while this position trains
        following = sentence[i + 1]
        prefetch_rows(weights.input_vectors, rows.ids, rows.offsets[following], rows.offsets[following + 1])
    centre = sentence[i]
    mean_of_rows(weights.input_vectors, rows.ids, rows.offsets[centre], rows.offsets[centre + 1], hidden)
    total_grad[:] = 0.0
    return rows.offsets[centre]


@njit(**HELPER_OPTIONS)
def _skipgram_centre(sentence, m, lr, weights, rows, tables, params, scratch, state, loss, examples):
    """fastText's pairing, per pair: the centre's mean predicts each context word."""
    hidden, grad, total_grad, noise_words = scratch[1], scratch[2], scratch[3], scratch[4]
    for i in range(m):
        lo, hi, state = context_window(i, m, params.window, state)
        if hi - lo < 2:
            continue
        r0 = _centre_input(sentence, i, m, weights, rows, hidden, total_grad)
        for j in range(lo, hi):
            if j == i:
                continue
            loss, state = _losses(hidden, sentence[j], weights, tables, params, lr, grad, noise_words, state,
                                  loss)
            # fastText would now add the gradient to every row and recompute the
            # mean: the mean moves by exactly the gradient.
            for k in range(hidden.shape[0]):
                hidden[k] += grad[k]
                total_grad[k] += grad[k]
            examples += 1
        add_to_rows(weights.input_vectors, rows.ids, r0, rows.offsets[sentence[i] + 1], total_grad)
    return state, loss, examples


@njit(**HELPER_OPTIONS)
def _skipgram_centre_shared(sentence, m, lr, weights, rows, tables, params, scratch, state, loss, examples):
    """fastText's pairing as one batch: the centre's mean and the noise words' rows stay
    as they were for the whole window."""
    hidden, total_grad, noise_words, coeff = scratch[1], scratch[3], scratch[4], scratch[6]
    output_vectors, negative = weights.output_vectors, params.negative
    dim = output_vectors.shape[1]
    for i in range(m):
        lo, hi, state = context_window(i, m, params.window, state)
        if hi - lo < 2:
            continue
        r0 = _centre_input(sentence, i, m, weights, rows, hidden, total_grad)
        for d in range(negative):
            state, word = draw_noise(state, tables.noise_prob, tables.noise_alias)
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
            sig, part = logistic(f, np.float32(0.0), tables.sigmoid, tables.log_sigmoid)
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
            sig, part = logistic(f, np.float32(1.0), tables.sigmoid, tables.log_sigmoid)
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
        add_to_rows(weights.input_vectors, rows.ids, r0, rows.offsets[sentence[i] + 1], total_grad)
    return state, loss, examples


@njit(**HELPER_OPTIONS)
def _cbow(sentence, m, lr, weights, rows, tables, params, scratch, state, loss, examples):
    """The mean of the rows of all context words (pooled, as fastText's FastText::cbow
    does) predicts the centre word; the gradient is added unscaled to each of those
    rows, as word2vec.c does (gensim divides it by the number of context words, which
    learns more slowly at the same rate)."""
    hidden, grad, noise_words = scratch[1], scratch[2], scratch[4]
    input_vectors, row_offsets, row_ids = weights.input_vectors, rows.offsets, rows.ids
    one_row = row_ids.shape[0] == 0
    dim = input_vectors.shape[1]
    for i in range(m):
        lo, hi, state = context_window(i, m, params.window, state)
        if hi - lo < 2:
            continue
        hidden[:] = 0.0
        count = 0
        for j in range(lo, hi):
            if j == i:
                continue
            w = sentence[j]
            if one_row:
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
        loss, state = _losses(hidden, sentence[i], weights, tables, params, lr, grad, noise_words, state, loss)
        for j in range(lo, hi):
            if j != i:
                _add_to_input(sentence[j], row_offsets[sentence[j]] if not one_row else 0, weights, rows, grad)
        examples += 1
    return state, loss, examples


# The kernels. Each is a loop over the chunk's sentences: subsampled (and shuffled), then
# trained by its architecture's loop over positions (the words of all epochs before a
# sentence set its learning rate, common.learning_rate).

@njit(**KERNEL_OPTIONS)
def skipgram_chunk(tokens, weights, rows, tables, params, rng_state):
    scratch, state, start, seen, loss, examples = _begin(tokens, weights, params, rng_state)
    while start < tokens.shape[0]:
        m, lr, start, seen, state = _next_sentence(tokens, start, seen, tables, params, scratch[0], state)
        state, loss, examples = _skipgram(scratch[0], m, lr, weights, rows, tables, params, scratch, state,
                                          loss, examples)
    rng_state[0] = state
    return seen, loss, examples


@njit(**KERNEL_OPTIONS)
def skipgram_shared_chunk(tokens, weights, rows, tables, params, rng_state):
    scratch, state, start, seen, loss, examples = _begin(tokens, weights, params, rng_state)
    while start < tokens.shape[0]:
        m, lr, start, seen, state = _next_sentence(tokens, start, seen, tables, params, scratch[0], state)
        state, loss, examples = _skipgram_shared(scratch[0], m, lr, weights, rows, tables, params, scratch,
                                                 state, loss, examples)
    rng_state[0] = state
    return seen, loss, examples


@njit(**KERNEL_OPTIONS)
def skipgram_centre_chunk(tokens, weights, rows, tables, params, rng_state):
    scratch, state, start, seen, loss, examples = _begin(tokens, weights, params, rng_state)
    while start < tokens.shape[0]:
        m, lr, start, seen, state = _next_sentence(tokens, start, seen, tables, params, scratch[0], state)
        state, loss, examples = _skipgram_centre(scratch[0], m, lr, weights, rows, tables, params, scratch,
                                                 state, loss, examples)
    rng_state[0] = state
    return seen, loss, examples


@njit(**KERNEL_OPTIONS)
def skipgram_centre_shared_chunk(tokens, weights, rows, tables, params, rng_state):
    scratch, state, start, seen, loss, examples = _begin(tokens, weights, params, rng_state)
    while start < tokens.shape[0]:
        m, lr, start, seen, state = _next_sentence(tokens, start, seen, tables, params, scratch[0], state)
        state, loss, examples = _skipgram_centre_shared(scratch[0], m, lr, weights, rows, tables, params,
                                                        scratch, state, loss, examples)
    rng_state[0] = state
    return seen, loss, examples


@njit(**KERNEL_OPTIONS)
def cbow_chunk(tokens, weights, rows, tables, params, rng_state):
    scratch, state, start, seen, loss, examples = _begin(tokens, weights, params, rng_state)
    while start < tokens.shape[0]:
        m, lr, start, seen, state = _next_sentence(tokens, start, seen, tables, params, scratch[0], state)
        state, loss, examples = _cbow(scratch[0], m, lr, weights, rows, tables, params, scratch, state,
                                      loss, examples)
    rng_state[0] = state
    return seen, loss, examples


KERNELS = {SKIPGRAM: skipgram_chunk, SKIPGRAM_SHARED: skipgram_shared_chunk,
           SKIPGRAM_CENTRE: skipgram_centre_chunk, SKIPGRAM_CENTRE_SHARED: skipgram_centre_shared_chunk,
           CBOW: cbow_chunk}


def train_chunk(tokens, weights, rows, tables, params, rng_state):
    """Train on one chunk of the token stream with the kernel of ``params.arch``.

    tokens   int32 [n]: vocabulary ids, SENTENCE_END (-1) between sentences
    weights  SgnsWeights (input_vectors float32 [R, dim], output_vectors float32 [V, dim]
             (negative sampling; [0, dim] when unused), output_hs float32 [V-1, dim]
             (hierarchical softmax; [0, dim] when unused)): all updated in place
    rows     SgnsRows (offsets int64 [V+1], ids int32 [*]): word w's input rows are
             ids[offsets[w]:offsets[w+1]]; both empty means one row per word, row w
             (word2vec), read without the lookups
    tables   SgnsTables (keep_prob float32 [V] (subsampling), noise_prob float32 [V] and
             noise_alias int32 [V] (alias table of the noise distribution),
             hs_offsets int64 [V+1], hs_codes uint8 [*], hs_points int32 [*] (Huffman
             paths), sigmoid float32 [T+1], log_sigmoid float32 [T+1] (common.sigmoid_tables))
    params   SgnsSettings (arch, window, negative, use_hs, shuffle, lr, lr_floor, lr_offset,
             words_done, total_words): ``arch`` SKIPGRAM, SKIPGRAM_SHARED,
             SKIPGRAM_CENTRE, SKIPGRAM_CENTRE_SHARED or CBOW;
             ``window`` 0 means whole sentences; ``shuffle`` shuffles each sentence
             after subsampling; the rate at a sentence is common.learning_rate of the
             words of all epochs before it (``words_done`` counts those before the chunk)
    rng_state uint64 [1]: advanced in place
    Returns (words seen, summed loss, number of examples); the loss is NaN when the
    weights diverged. (Plain tuples in these orders work too.)
    """
    params = SgnsSettings(*params)
    return KERNELS[params.arch](tokens, SgnsWeights(*weights), SgnsRows(*rows), SgnsTables(*tables), params,
                                rng_state)


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
            mean_of_rows(input_vectors, row_ids, r0, r1, out[w])
        else:
            out[w] = 0.0
