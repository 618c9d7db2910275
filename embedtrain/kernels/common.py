"""What every skip-gram-family kernel shares: the sigmoid tables, the learning-rate
schedule, and the pieces of the sentence loop (sentence ends, subsampling, the
context window, shuffling a basket).

Tokens are int32 vocabulary ids with ``SENTENCE_END`` (-1) between sentences.
"""
import numpy as np
from numba import njit

from ..corpus.stream import SENTENCE_END
from .options import HELPER_OPTIONS
from .rng import below, fraction, next_state

# The sigmoid is read from a table over [-MAX_EXP, MAX_EXP] (word2vec.c's EXP_TABLE);
# beyond it, gradients saturate as in word2vec.c.
MAX_EXP = 6.0
SIGMOID_TABLE_SIZE = 1000
# word2vec's schedule decays linearly to this fraction of the start (word2vec.c: 1e-4)
# and divides by total_words + 1; fastText's decays to zero and divides by total_words.
WORD2VEC_LR_FLOOR, WORD2VEC_LR_OFFSET = 1e-4, 1.0
FASTTEXT_LR_FLOOR, FASTTEXT_LR_OFFSET = 0.0, 0.0


def sigmoid_tables() -> tuple[np.ndarray, np.ndarray]:
    """float32 [SIGMOID_TABLE_SIZE + 1] tables of sigmoid(x) and log(sigmoid(x)) on a
    uniform grid over [-MAX_EXP, MAX_EXP]."""
    x = np.linspace(-MAX_EXP, MAX_EXP, SIGMOID_TABLE_SIZE + 1)
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32), (-np.logaddexp(0.0, -x)).astype(np.float32)


def schedule_fraction(words_done: int, total_words: int, floor: float, offset: float) -> float:
    """:func:`learning_rate`'s fraction of the starting rate, in plain Python (progress, history)."""
    return max(1.0 - words_done / (total_words + offset), floor)


def scheduled_lr(lr: float, units_done: float, units_per_epoch: int, epochs: int, floor: float,
                 offset: float, epoch_decay: float) -> float:
    """The rate the runner reports after ``units_done`` units of a run of ``epochs``
    epochs: ``lr`` times :func:`schedule_fraction` at the :func:`decayed_units` position.
    In plain Python."""
    units = decayed_units(units_done, units_per_epoch, epochs, epoch_decay)
    return lr * schedule_fraction(units, units_per_epoch * epochs, floor, offset)


def decayed_units(units_done: float, units_per_epoch: int, epochs: int, epoch_decay: float) -> float:
    """The position in the linear schedule of a run whose rate falls ``epoch_decay`` of an
    epoch's share within each epoch (each epoch starting where the linear schedule
    stands; 1: the linear schedule itself). In plain Python."""
    if epoch_decay == 1.0 or units_per_epoch <= 0:
        return units_done
    epoch, within = divmod(units_done, units_per_epoch)
    if epoch >= epochs:
        epoch, within = epochs - 1, units_per_epoch
    return epoch * units_per_epoch + epoch_decay * within


@njit(**HELPER_OPTIONS)
def table_index(f):
    """Grid index of f, which must lie strictly inside (-MAX_EXP, MAX_EXP)."""
    # np.int64, not int(): the same truncating cast without compiling numba's int()
    return np.int64((f + MAX_EXP) * (SIGMOID_TABLE_SIZE / (2.0 * MAX_EXP)) + 0.5)


@njit(**HELPER_OPTIONS)
def learning_rate(lr_start, floor, offset, words_done, total_words):
    """lr_start * max(1 - words_done / (total_words + offset), floor), as float32."""
    frac = 1.0 - words_done / (total_words + offset)
    if frac < floor:
        frac = floor
    return np.float32(lr_start * frac)


@njit(**HELPER_OPTIONS)
def sentence_end(tokens, start):
    end = start
    n = tokens.shape[0]
    while end < n and tokens[end] != SENTENCE_END:
        end += 1
    return end


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
def context_window(i, m, window, state):
    """Positions [lo, hi) around i in a sentence of m words. word2vec's random window
    reaches 1..window words to each side, uniformly; ``window`` 0 means the whole
    sentence (item2vec: every item of a basket is every other's context) and draws
    nothing. Returns (lo, hi, state)."""
    if window == 0:
        return 0, m, state
    state, bits = next_state(state)
    reach = window - below(bits, window)
    # not max()/min(): each compiles numba's generic implementation as a function of its own
    lo = i - reach
    if lo < 0:
        lo = 0
    hi = i + reach + 1
    if hi > m:
        hi = m
    return lo, hi, state


@njit(**HELPER_OPTIONS)
def shuffle_sentence(sentence, m, state):
    """Shuffle sentence[:m] in place (Fisher-Yates), for baskets whose order means
    nothing (``--shuffle-lines``). Returns the rng state."""
    for i in range(m - 1, 0, -1):
        state, bits = next_state(state)
        j = below(bits, i + 1)
        tmp = sentence[i]
        sentence[i] = sentence[j]
        sentence[j] = tmp
    return state
