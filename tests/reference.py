"""Slow, plain-numpy reference implementations of the word2vec kernels.

They follow the published algorithm (and word2vec.c's numerics) directly, one
example at a time in float64, drawing random numbers in the same order as the
kernels so that one step can be compared exactly.
"""
from __future__ import annotations

import numpy as np

from embedtrain.kernels.rng import next_state_py

MAX_EXP = 6.0


class RefRng:
    def __init__(self, state: int):
        self.state = int(state)

    def bits(self) -> int:
        self.state, out = next_state_py(self.state)
        return out

    @staticmethod
    def below(bits: int, n: int) -> int:
        return ((bits >> 32) * n) >> 32

    @staticmethod
    def fraction(bits: int) -> float:
        return (bits & 0xFFFFFF) / float(1 << 24)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + np.exp(-x))


def _draw_noise(rng: RefRng, prob: np.ndarray, alias: np.ndarray) -> int:
    bits = rng.bits()
    word = rng.below(bits, len(prob))
    if rng.fraction(bits) >= prob[word]:
        word = int(alias[word])
    return word


def _ns(h, out, target, negative, lr, prob, alias, rng, scored_first=False):
    """Negative sampling for one example, each word scored against its row as the updates
    before it left it; with ``scored_first`` as CBOW's six-row loop does it (5 noise words,
    kernels/losses.ns_update6): every score against the rows as they were before any of
    them moves. Either way the updates go one word after another (a word drawn twice takes
    both)."""
    words = [target] + [_draw_noise(rng, prob, alias) for _ in range(negative)]
    before = out[words].copy()
    grad = np.zeros_like(h)
    for d, word in enumerate(words):
        if d > 0 and word == target:
            continue
        label = 1.0 if d == 0 else 0.0
        row = before[d] if scored_first else out[word]
        f = float(h @ row)
        sig = 1.0 if f >= MAX_EXP else 0.0 if f <= -MAX_EXP else sigmoid(f)
        g = (label - sig) * lr
        grad += g * row
        out[word] += g * h
    return grad


def _hs(h, out_hs, code, path, lr):
    grad = np.zeros_like(h)
    for bit, node in zip(code, path):
        f = float(h @ out_hs[node])
        if f <= -MAX_EXP or f >= MAX_EXP:
            continue
        g = (1.0 - bit - sigmoid(f)) * lr
        grad += g * out_hs[node]
        out_hs[node] += g * h
    return grad


def train_sentence(arch, sentence, inp, out, out_hs, keep_prob, noise_prob, noise_alias, tree,
                   window, negative, use_hs, lr, rng_state):
    """One sentence of skip-gram or CBOW, updating float64 copies in place.

    Returns the new rng state.
    """
    rng = RefRng(rng_state)
    kept = []
    for w in sentence:
        if keep_prob[w] < 1.0 and rng.fraction(rng.bits()) >= keep_prob[w]:
            continue
        kept.append(int(w))
    for i, centre in enumerate(kept):
        reach = window - rng.below(rng.bits(), window)
        context = [kept[j] for j in range(max(0, i - reach), min(len(kept), i + reach + 1)) if j != i]
        if arch == "skipgram_shared":
            # pWord2Vec's HogBatch: one set of noise words for the centre's whole window;
            # each context row is updated after its scores, the output rows at the end
            if not context:
                continue  # (the kernel skips such positions before drawing)
            targets = [(centre, 1.0)] + [(_draw_noise(rng, noise_prob, noise_alias), 0.0)
                                         for _ in range(negative)]
            targets = [t for d, t in enumerate(targets) if d == 0 or t[0] != centre]
            out_grad = [np.zeros(inp.shape[1]) for _ in targets]
            for c in context:
                h = inp[c].copy()
                grad = np.zeros_like(h)
                for (word, label), og in zip(targets, out_grad):
                    f = float(h @ out[word])
                    sig = 1.0 if f >= MAX_EXP else 0.0 if f <= -MAX_EXP else sigmoid(f)
                    g = (label - sig) * lr
                    grad += g * out[word]
                    og += g * h
                inp[c] += grad
            for (word, _), og in zip(targets, out_grad):
                out[word] += og
        elif arch == "skipgram":
            for c in context:
                h = inp[c].copy()
                grad = np.zeros_like(h)
                if use_hs:
                    grad += _hs(h, out_hs, tree.code(centre), tree.path(centre), lr)
                if negative:
                    grad += _ns(h, out, centre, negative, lr, noise_prob, noise_alias, rng)
                inp[c] += grad
        else:
            if not context:
                continue
            h = np.mean([inp[c] for c in context], axis=0)
            grad = np.zeros_like(h)
            if use_hs:
                grad += _hs(h, out_hs, tree.code(centre), tree.path(centre), lr)
            if negative:
                grad += _ns(h, out, centre, negative, lr, noise_prob, noise_alias, rng,
                            scored_first=negative == 5)
            for c in context:
                inp[c] += grad
    return rng.state
