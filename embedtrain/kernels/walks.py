"""Random-walk kernels over a graph in CSR form: DeepWalk (first order) and node2vec
(second order, return parameter p and in-out parameter q).

The graph: ``indptr`` int64 [n + 1] and ``indices`` int32 [m]; node ``v``'s out-neighbours
are ``indices[indptr[v]:indptr[v + 1]]``, sorted ascending (an undirected graph stores each
edge in both directions). A weighted graph adds a per-node alias table over each row
(``alias_prob`` float32 [m], ``alias_index`` int32 [m], positions within the row), built
by :func:`neighbour_alias_tables`; an unweighted graph passes empty arrays and steps
uniformly. Memory stays O(edges): no per-edge (second-order) tables.

node2vec without per-edge tables: a step from ``cur`` (coming from ``prev``) proposes a
neighbour ``x`` from the first-order distribution (uniform or by weight) and accepts it
with probability ``alpha(x) / max_alpha``, where ``alpha`` is 1/p if ``x == prev``, 1 if
``prev -> x`` is an edge, and 1/q otherwise. This is rejection sampling as in KnightKing
(Yang et al., SOSP 2019); the accepted ``x`` has exactly node2vec's probability
``w(cur, x) * alpha(x) / sum``. A draw below ``min_alpha / max_alpha`` is accepted without
looking at ``prev``'s neighbours; otherwise one binary search in ``prev``'s sorted row
decides. For directed graphs "adjacent to prev" means an edge prev -> x (as in PecanPy;
the original node2vec code looks for x -> prev).

Rejection is bounded: when a step's acceptance is low (an extreme p or q at a node whose
neighbours are mostly of the disfavoured kind: q = 1e-6 at a leaf accepts one proposal in
a million), after ``MAX_PROPOSALS`` rejected proposals the step is drawn exactly from
``w(cur, x) * alpha(x)`` over ``cur``'s row (O(degree) binary searches, the cost of one
PecanPy-style exact step). A step that gives up on rejection is still drawn from the
target distribution, so the walks' distribution is unchanged; the draws (and bytes) of
steps accepted within the bound are the same as without it.

Stopping: the kernel looks at ``stop[0]`` before every walk and returns early when it is
set (by another thread: a signal is handled in the main thread, which sets it), so a
batch never holds up Ctrl-C for longer than one walk.

Random numbers: every walk has its own SplitMix64 state, derived from the run's seed and
the walk's global number, so the walks are the same whatever the number of threads or
the size of the batches.
"""
import numpy as np
from numba import njit

from ..corpus.stream import SENTENCE_END
from .options import HELPER_OPTIONS, KERNEL_OPTIONS
from .rng import GOLDEN_GAMMA, below, fraction, next_state

# Proposals rejected at one step before it is drawn exactly. A step's acceptance is at
# least min(1, 1/p, 1/q) / max(1, 1/p, 1/q): 1/16 for the usual grid (p, q in 1/4..4),
# where 1,024 rejections in a row happen once in 10^28 steps, so those walks keep the
# draws (and bytes) they had before the bound; at q = 1e-6 a step at a leaf stops
# proposing after 1,024 instead of a million on average.
MAX_PROPOSALS = 1024


@njit(**KERNEL_OPTIONS)
def neighbour_alias_tables(indptr, weights):
    """Vose alias tables over each node's out-edges, for weighted first-order steps.

    indptr   int64 [n + 1]   row starts
    weights  float32 [m]     edge weights (positive)

    Returns ``prob`` float32 [m] and ``alias`` int32 [m]: to step from ``v`` with
    degree ``d``, draw ``k`` uniform in [0, d) and a uniform ``u``; take row position
    ``k`` if ``u < prob[indptr[v] + k]``, else ``alias[indptr[v] + k]``. Nothing is
    modified in place.
    """
    n = indptr.shape[0] - 1
    m = weights.shape[0]
    prob = np.ones(m, dtype=np.float32)
    alias = np.zeros(m, dtype=np.int32)
    work = np.empty(m, dtype=np.float64)
    small = np.empty(m, dtype=np.int64)
    large = np.empty(m, dtype=np.int64)
    for v in range(n):
        lo = indptr[v]
        d = indptr[v + 1] - lo
        if d == 0:
            continue
        total = 0.0
        for k in range(d):
            total += weights[lo + k]
        ns = 0
        nl = 0
        for k in range(d):
            alias[lo + k] = k
            work[lo + k] = weights[lo + k] * d / total
            if work[lo + k] < 1.0:
                small[lo + ns] = k
                ns += 1
            else:
                large[lo + nl] = k
                nl += 1
        while ns > 0 and nl > 0:
            ns -= 1
            s = small[lo + ns]
            nl -= 1
            g = large[lo + nl]
            prob[lo + s] = work[lo + s]
            alias[lo + s] = g
            work[lo + g] = (work[lo + g] + work[lo + s]) - 1.0
            if work[lo + g] < 1.0:
                small[lo + ns] = g
                ns += 1
            else:
                large[lo + nl] = g
                nl += 1
        # what is left is 1 up to rounding: prob stays 1
    return prob, alias


@njit(**HELPER_OPTIONS)
def _walk_state(seed_base, walk):
    """The starting state of walk number ``walk`` (SplitMix64's ``walk``-th output)."""
    _, bits = next_state(seed_base + np.uint64(walk) * GOLDEN_GAMMA)
    return bits


@njit(**HELPER_OPTIONS)
def _pick(bits, lo, degree, alias_prob, alias_index):
    """A row position in [0, degree): uniform, or by weight when alias tables are given."""
    k = below(bits, degree)
    if alias_prob.shape[0] > 0 and fraction(bits) >= alias_prob[lo + k]:
        k = alias_index[lo + k]
    return k


@njit(**HELPER_OPTIONS)
def _has_edge(indptr, indices, a, b):
    """Whether a -> b is an edge: binary search in a's sorted row."""
    lo = indptr[a]
    hi = indptr[a + 1]
    while lo < hi:
        mid = (lo + hi) >> 1
        if indices[mid] < b:
            lo = mid + 1
        else:
            hi = mid
    return lo < indptr[a + 1] and indices[lo] == b


@njit(**HELPER_OPTIONS)
def _alpha(indptr, indices, prev, x, alpha_p, alpha_1, alpha_q):
    """node2vec's bias of a step to ``x`` when the walk came from ``prev``."""
    if x == prev:
        return alpha_p
    if _has_edge(indptr, indices, prev, x):
        return alpha_1
    return alpha_q


@njit(**HELPER_OPTIONS)
def _step_mass(indptr, indices, weights, lo, k, prev, alpha_p, alpha_1, alpha_q):
    """``w(cur, x) * alpha(x)`` for row position ``k`` (weight 1 when unweighted)."""
    w = weights[lo + k] if weights.shape[0] > 0 else 1.0
    return w * _alpha(indptr, indices, prev, indices[lo + k], alpha_p, alpha_1, alpha_q)


@njit(**HELPER_OPTIONS)
def _exact_step(bits, indptr, indices, weights, lo, degree, prev, alpha_p, alpha_1, alpha_q):
    """A row position drawn exactly from ``w(cur, x) * alpha(x)`` (inverse CDF)."""
    total = 0.0
    for k in range(degree):
        total += _step_mass(indptr, indices, weights, lo, k, prev, alpha_p, alpha_1, alpha_q)
    target = fraction(bits) * total
    acc = 0.0
    for k in range(degree):
        acc += _step_mass(indptr, indices, weights, lo, k, prev, alpha_p, alpha_1, alpha_q)
        if target < acc:
            return k
    # fraction * total rounded up to total: the last position (every weight is positive)
    return degree - 1


@njit(**KERNEL_OPTIONS)
def random_walks(indptr, indices, weights, alias_prob, alias_index, starts, walk_length,
                 first_walk, seed_base, inv_p, inv_q, stop, out):
    """One walk from each node of ``starts``, written to ``out``.

    indptr       int64 [n + 1]    CSR row starts
    indices      int32 [m]        CSR columns, sorted within each row
    weights      float32 [m] or [0]   edge weights (weighted), or empty (uniform); read
                                  only by a step drawn exactly (see the module text)
    alias_prob   float32 [m] or [0]   per-node alias tables (weighted), or empty (uniform)
    alias_index  int32 [m] or [0]
    starts       int32 [w]        start node of each walk
    walk_length  int              nodes per walk, at most (a walk stops at a node with no
                                  out-edges)
    first_walk   int              global number of the first walk (selects its rng stream)
    seed_base    uint64           the run's seed state
    inv_p, inv_q float64          1/p and 1/q; both 1 gives first-order walks
    stop         int8 [1]         read before every walk: nonzero returns at once
    out          int32 [w * (walk_length + 1)]   modified: the walks, ``SENTENCE_END``
                                  after each

    Returns the number of entries written to ``out`` (whole walks only).
    """
    second_order = inv_p != 1.0 or inv_q != 1.0
    max_alpha = max(inv_p, 1.0, inv_q)
    accept_at_once = min(inv_p, 1.0, inv_q) / max_alpha
    alpha_p = inv_p / max_alpha
    alpha_1 = 1.0 / max_alpha
    alpha_q = inv_q / max_alpha
    pos = 0
    for w in range(starts.shape[0]):
        if stop[0] != 0:
            break
        state = _walk_state(seed_base, first_walk + w)
        cur = starts[w]
        out[pos] = cur
        pos += 1
        prev = -1
        for _ in range(walk_length - 1):
            lo = indptr[cur]
            degree = indptr[cur + 1] - lo
            if degree == 0:
                break
            state, bits = next_state(state)
            nxt = indices[lo + _pick(bits, lo, degree, alias_prob, alias_index)]
            if second_order and prev >= 0:
                proposals = 1
                while True:
                    state, bits = next_state(state)
                    r = fraction(bits)
                    if r < accept_at_once:
                        break
                    if r < _alpha(indptr, indices, prev, nxt, alpha_p, alpha_1, alpha_q):
                        break
                    state, bits = next_state(state)
                    if proposals == MAX_PROPOSALS:
                        nxt = indices[lo + _exact_step(bits, indptr, indices, weights, lo, degree, prev,
                                                       alpha_p, alpha_1, alpha_q)]
                        break
                    nxt = indices[lo + _pick(bits, lo, degree, alias_prob, alias_index)]
                    proposals += 1
            prev = cur
            cur = nxt
            out[pos] = cur
            pos += 1
        out[pos] = SENTENCE_END
        pos += 1
    return pos


@njit(**KERNEL_OPTIONS)
def spanning_forest(n_nodes, sources, targets, order):
    """Edges of a spanning forest, taken greedily in ``order`` (Kruskal with union-find).

    n_nodes  int              nodes 0..n-1
    sources, targets  int32 [e]   the edges (undirected for this purpose)
    order    int64 [e]        the order in which edges are offered (e.g. a permutation)

    Returns a bool [e] mask of the edges in the forest: removing any edges outside it
    leaves every connected component connected. Nothing is modified in place.
    """
    parent = np.arange(n_nodes).astype(np.int64)
    in_forest = np.zeros(sources.shape[0], dtype=np.bool_)
    for i in range(order.shape[0]):
        e = order[i]
        a = np.int64(sources[e])
        b = np.int64(targets[e])
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a != b:
            parent[a] = b
            in_forest[e] = True
    return in_forest
