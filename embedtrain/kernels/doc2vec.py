"""PV-DBOW (Le and Mikolov 2014, "Distributed representations of sentences and
documents", section 2.3; gensim's Doc2Vec with dm=0): a document's own input row
predicts each of its words, with negative sampling, as skip-gram's context row
predicts its centre word. Built from the skip-gram family's pieces (kernels/common.py:
the schedule, subsampling, the window; kernels/losses.py: the negative-sampling step).

As in gensim's ``train_document_dbow`` (doc2vec_inner.pyx), each position of a
document, after subsampling, first trains skip-gram pairs when ``train_words`` is on
(``--dbow-words``: each word of the reduced window predicts the centre word, word2vec.c's
pairing) and then the document row predicting the centre word.

Inference (:func:`infer_documents`) trains a new document row against the frozen output
weights; its random numbers come from ``seed`` and the document's word ids alone, so the
same text and seed give the same vector on every call, in any batch, at any position
(gensim draws from the model's shared generator: gensim issues #447 and #2847).
"""
from typing import NamedTuple

import numpy as np
from numba import njit

from .common import context_window, learning_rate, sentence_end, subsample
from .losses import draw_noise, logistic, ns_update
from .options import KERNEL_OPTIONS
from .rng import fraction, next_state


class Doc2VecWeights(NamedTuple):
    """What :func:`train_chunk` updates in place."""
    doc_vectors: np.ndarray
    input_vectors: np.ndarray
    output_vectors: np.ndarray


class Doc2VecTables(NamedTuple):
    """The tables drawn from the vocabulary (read only)."""
    keep_prob: np.ndarray
    noise_prob: np.ndarray
    noise_alias: np.ndarray
    sigmoid: np.ndarray
    log_sigmoid: np.ndarray


class Doc2VecSettings(NamedTuple):
    """The scalars of one call."""
    window: int
    negative: int
    train_words: bool
    lr: float
    lr_floor: float
    lr_offset: float
    words_done: float
    total_words: float


# FNV-1a (64-bit) over a document's word ids: its inference's random numbers.
FNV_OFFSET = np.uint64(14695981039346656037)
FNV_PRIME = np.uint64(1099511628211)


def train_chunk(tokens, sentence_docs, weights, tables, params, rng_state):
    """:func:`_train_chunk` on the named tuples' values."""
    return _train_chunk(tokens, sentence_docs, tuple(weights), tuple(tables), tuple(params), rng_state)


@njit(**KERNEL_OPTIONS)
def _train_chunk(tokens, sentence_docs, weights, tables, params, rng_state):
    """Train on one chunk of sentences.

    tokens        int32 [n]: vocabulary ids, SENTENCE_END (-1) after each sentence
    sentence_docs int32 [s]: the document (row of doc_vectors) of each sentence of the chunk
    weights       (doc_vectors float32 [D, dim], input_vectors float32 [V, dim] (word
                  vectors; trained only with train_words), output_vectors float32 [V, dim]):
                  all updated in place
    tables        (keep_prob float32 [V], noise_prob float32 [V], noise_alias int32 [V],
                  sigmoid float32 [T+1], log_sigmoid float32 [T+1])
    params        (window, negative, train_words, lr_start, lr_floor, lr_offset, words_done,
                  total_words): the rate at a sentence is common.learning_rate of the words
                  of all epochs before it
    rng_state     uint64 [1]: advanced in place
    Returns (words seen, summed loss, number of examples); the loss is NaN when the
    weights diverged.
    """
    window, negative, train_words, lr_start, lr_floor, lr_offset, words_done, total_words = params
    doc_vectors, input_vectors, output_vectors = weights
    keep_prob, noise_prob, noise_alias, sigmoid, log_sigmoid = tables
    dim = doc_vectors.shape[1]
    state = rng_state[0]
    n = tokens.shape[0]
    sentence = np.empty(n, dtype=np.int32)
    grad = np.zeros(dim, dtype=np.float32)
    noise_words = np.empty(negative + 1, dtype=np.int64)
    words_seen = 0
    loss = 0.0
    examples = 0
    start = 0
    s = 0
    while start < n:
        end = sentence_end(tokens, start)
        doc = sentence_docs[s]
        s += 1
        lr = learning_rate(lr_start, lr_floor, lr_offset, words_done + words_seen, total_words)
        m, state = subsample(tokens, start, end, keep_prob, sentence, state)
        words_seen += end - start
        for i in range(m):
            centre = sentence[i]
            if train_words:
                # skip-gram (word2vec.c's pairing): each context word's row predicts the centre
                lo, hi, state = context_window(i, m, window, state)
                for j in range(lo, hi):
                    if j == i:
                        continue
                    context = sentence[j]
                    grad[:] = 0.0
                    part, state = ns_update(input_vectors[context], output_vectors, centre, negative, lr,
                                            noise_prob, noise_alias, grad, sigmoid, log_sigmoid, state,
                                            noise_words, dim)
                    loss += part
                    for k in range(dim):
                        input_vectors[context, k] += grad[k]
                    examples += 1
            # the document's row predicts the centre word
            grad[:] = 0.0
            part, state = ns_update(doc_vectors[doc], output_vectors, centre, negative, lr, noise_prob,
                                    noise_alias, grad, sigmoid, log_sigmoid, state, noise_words, dim)
            loss += part
            for k in range(dim):
                doc_vectors[doc, k] += grad[k]
            examples += 1
        start = end + 1
    rng_state[0] = state
    return words_seen, loss, examples


@njit(**KERNEL_OPTIONS)
def document_state(seed, ids, start, end):
    """The rng state of one document's inference: FNV-1a of its word ids, mixed with the seed."""
    h = FNV_OFFSET
    for p in range(start, end):
        h ^= np.uint64(ids[p] & 0xFFFFFFFF)
        h *= FNV_PRIME
    h ^= np.uint64(seed)
    state, _ = next_state(h)  # one step: nearby hashes give unrelated streams
    return state


@njit(**KERNEL_OPTIONS)
def infer_documents(ids, offsets, output_vectors, tables, settings, seed, out):
    """Infer a vector for each document against the frozen output weights.

    ids      int32 [n]: every document's vocabulary ids (words outside it already dropped)
    offsets  int64 [docs + 1]: document d is ids[offsets[d]:offsets[d+1]]
    output_vectors float32 [V, dim]: read only
    tables   (keep_prob, noise_prob, noise_alias, sigmoid, log_sigmoid) as :func:`train_chunk`'s
    settings (epochs, negative, lr_start, lr_floor): the rate falls linearly from lr_start to
             lr_start * lr_floor over the document's epochs x words
    seed     int: with the document's ids, the only source of its random numbers
    out      float32 [docs, dim]: written; each row starts uniform in [-0.5/dim, 0.5/dim)
             (as gensim's pseudorandom_weak_vector, which seeds it with Python's per-process
             string hash)
    """
    keep_prob, noise_prob, noise_alias, sigmoid, log_sigmoid = tables
    epochs, negative, lr_start, lr_floor = settings
    dim = out.shape[1]
    grad = np.zeros(dim, dtype=np.float32)
    sentence = np.empty(max(1, ids.shape[0]), dtype=np.int32)
    for d in range(out.shape[0]):
        start = offsets[d]
        end = offsets[d + 1]
        state = document_state(seed, ids, start, end)
        h = out[d]
        for k in range(dim):
            state, bits = next_state(state)
            h[k] = (np.float32(fraction(bits)) - np.float32(0.5)) / np.float32(dim)
        words = end - start
        if words == 0:
            continue
        total = float(epochs * words)
        done = 0
        for _ in range(epochs):
            lr = learning_rate(lr_start, lr_floor, 0.0, float(done), total)
            m, state = subsample(ids, start, end, keep_prob, sentence, state)
            done += words
            for i in range(m):
                target = sentence[i]
                grad[:] = 0.0
                # negative sampling with the output rows frozen: only h learns
                for t in range(negative + 1):
                    if t == 0:
                        word = target
                        label = np.float32(1.0)
                    else:
                        state, word = draw_noise(state, noise_prob, noise_alias)
                        if word == target:
                            continue
                        label = np.float32(0.0)
                    f = np.float32(0.0)
                    for k in range(dim):
                        f += h[k] * output_vectors[word, k]
                    sig, _ = logistic(f, label, sigmoid, log_sigmoid)
                    if sig != sig:
                        continue
                    g = (label - sig) * lr
                    for k in range(dim):
                        grad[k] += g * output_vectors[word, k]
                for k in range(dim):
                    h[k] += grad[k]
