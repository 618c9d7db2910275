"""GloVe kernels (Pennington, Socher and Manning 2014): co-occurrence counting into
hash tables, merging sorted partial tables, shuffling, and the AdaGrad training
step over the non-zero entries.

Co-occurrence keys: the matrix is symmetric (a symmetric window), so only the
upper triangle is counted and stored, under the int64 key ``row * V + col`` with
``row <= col``. Sorting keys therefore sorts entries by (row, col). A hash table
is a pair of arrays, ``keys`` int64 [S] (``EMPTY_KEY`` in free slots, S a power of
two, linear probing) and ``values`` float64 [S]; counts are summed in float64 as
in Stanford GloVe's cooccur.c (its ``real`` is double).
"""
import numpy as np
from numba import njit

from ..corpus.stream import SENTENCE_END
from .memory import CACHE_LINE_FLOATS, prefetch
from .options import HELPER_OPTIONS, KERNEL_OPTIONS
from .rng import below, next_state

EMPTY_KEY = -1
# Fibonacci hashing: multiply by 2^64 / golden ratio and keep the high bits.
HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
# Stanford glove.c (since v1.2) clips each component of a vector gradient to this.
GRAD_CLIP = 100.0
# Shuffling: entries are first scattered into buckets of about this many, each of
# which is then shuffled while it sits in the cache.
SHUFFLE_BUCKET_ENTRIES = 1 << 15
# Growing a table: entries re-inserted in batches of this many, slots prefetched.
REHASH_BATCH = 16
# Sorting a table's entries: radix-sort digits of this many bits; its entries are
# counted this many slots at a time.
RADIX_BITS = 10
COUNT_SLICE = 1 << 20
# Training touches four random rows per entry (word and context vectors and
# their AdaGrad sums), which miss the cache; the rows of the entry this many
# places ahead are prefetched, and that entry's own data further ahead still.
PREFETCH_ROWS_AHEAD = 2
PREFETCH_ENTRY_AHEAD = 12
# --------------------------------------------------------------------------- hash tables

@njit(**HELPER_OPTIONS)
def _hash_shift(slots):
    bits = 0
    while (1 << bits) < slots:
        bits += 1
    return np.uint64(64 - bits)


@njit(**HELPER_OPTIONS)
def _slot(key, shift):
    return np.int64((np.uint64(key) * HASH_MULTIPLIER) >> shift)


@njit(**HELPER_OPTIONS)
def _add(keys, values, key, amount, mask, shift):
    """Add ``amount`` to ``key``'s value; returns 1 if the key was new, else 0."""
    slot = _slot(key, shift)
    while True:
        k = keys[slot]
        if k == key:
            values[slot] += amount
            return 0
        if k == EMPTY_KEY:
            keys[slot] = key
            values[slot] = amount
            return 1
        slot = (slot + 1) & mask


def count_pairs(tokens, start, window, distance_weighting, vocab_size, keys, values, fill, max_fill):
    """Count co-occurrences in ``tokens[start:]`` into a hash table.

    tokens      int32 [n]   vocabulary ids, SENTENCE_END (-1) between sentences;
                            ``tokens[0]`` starts a sentence
    start       int         first centre position (may be mid-sentence: resuming)
    window      int         words on each side; a pair at distance d adds 1/d,
                            or 1 when ``distance_weighting`` is False
    keys        int64 [S]   hash table keys, updated in place
    values      float64 [S] hash table values, updated in place
    fill        int         occupied slots on entry; ``max_fill``: stop before exceeding it

    As in cooccur.c, each centre word pairs with the ``window`` words before it
    in its sentence, and the pair counts for both (centre, context) and
    (context, centre): here one upper-triangle cell, which on the diagonal
    (a word near itself) therefore receives twice the weight. Windows never
    cross a sentence end.

    Returns (position to resume from, occupied slots). The position is ``n`` when
    the chunk is done, else the first centre not counted because the table could
    have overflowed (each centre adds at most ``window`` keys).
    """
    return _count_pairs(tokens, start, window, distance_weighting, vocab_size, keys, values, fill,
                        max_fill, np.empty(window, dtype=np.int64), np.empty(window, dtype=np.float64))


# The compiled loops below take their arrays from the Python function that calls them:
# an allocation inside a kernel compiles numba's array constructors on a first run
# (0.4 s of GloVe's first compile; docs/benchmarks.md, "First-run compile").

@njit(**KERNEL_OPTIONS)
def _count_pairs(tokens, start, window, distance_weighting, vocab_size, keys, values, fill, max_fill,
                 pending_keys, pending_amounts):
    """:func:`count_pairs`' loop; pending_keys int64 [window] and pending_amounts
    float64 [window] are scratch."""
    n = tokens.shape[0]
    mask = keys.shape[0] - 1
    shift = _hash_shift(keys.shape[0])
    sentence_start = start
    while sentence_start > 0 and tokens[sentence_start - 1] != SENTENCE_END:
        sentence_start -= 1
    for i in range(start, n):
        centre = tokens[i]
        if centre == SENTENCE_END:
            sentence_start = i + 1
            continue
        if fill + window > max_fill:
            return i, fill
        # The keys of a centre's pairs first, their slots prefetched, then the
        # updates: the table is far larger than the cache, so the misses overlap.
        pending = 0
        first = i - window
        if first < sentence_start:  # not max(): it compiles numba's max as a function of its own
            first = sentence_start
        for k in range(i - 1, first - 1, -1):
            context = tokens[k]
            amount = 1.0 / (i - k) if distance_weighting else 1.0
            if context < centre:
                key = np.int64(context) * vocab_size + centre
            elif context > centre:
                key = np.int64(centre) * vocab_size + context
            else:
                key = np.int64(centre) * vocab_size + centre
                amount *= 2.0
            pending_keys[pending] = key
            pending_amounts[pending] = amount
            slot = _slot(key, shift)
            prefetch(keys, slot)
            prefetch(values, slot)
            pending += 1
        for q in range(pending):
            fill += _add(keys, values, pending_keys[q], pending_amounts[q], mask, shift)
    return n, fill


def rehash(old_keys, old_values, keys, values):
    """Insert every entry of the old table into the (larger, empty) new one.

    old_keys int64 [S0], old_values float64 [S0]: read only.
    keys int64 [S], values float64 [S]: filled in place. Returns the entry count.
    """
    return _rehash(old_keys, old_values, keys, values, np.empty(REHASH_BATCH, dtype=np.int64))


@njit(**KERNEL_OPTIONS)
def _rehash(old_keys, old_values, keys, values, batch):
    """:func:`rehash`'s loop; batch int64 [REHASH_BATCH] is scratch."""
    mask = keys.shape[0] - 1
    shift = _hash_shift(keys.shape[0])
    fill = 0
    pending = 0
    for s in range(old_keys.shape[0] + 1):
        if s < old_keys.shape[0] and old_keys[s] != EMPTY_KEY:
            batch[pending] = s
            slot = _slot(old_keys[s], shift)
            prefetch(keys, slot)
            prefetch(values, slot)
            pending += 1
        if pending == REHASH_BATCH or (s == old_keys.shape[0] and pending):
            for q in range(pending):
                fill += _add(keys, values, old_keys[batch[q]], old_values[batch[q]], mask, shift)
            pending = 0
    return fill


def sorted_entries(keys, values):
    """The table's entries sorted by key: new arrays (keys int64 [m], values float64 [m]).

    keys int64 [S], values float64 [S]: the table, used as scratch space and left
    in no useful state (clear or drop it afterwards). An LSD radix sort of
    RADIX_BITS-bit digits that moves keys and values together, ping-ponging
    between the table's front and the output, so the only new memory is the
    output itself.
    """
    m = 0
    for s in range(0, keys.shape[0], COUNT_SLICE):  # slice by slice: no table-sized mask
        m += int(np.count_nonzero(keys[s:s + COUNT_SLICE] != EMPTY_KEY))
    out_keys = np.empty(m, dtype=np.int64)
    out_values = np.empty(m, dtype=np.float64)
    _sort_entries(keys, values, out_keys, out_values, np.empty((1 << RADIX_BITS) + 1, dtype=np.int64))
    return out_keys, out_values


@njit(**KERNEL_OPTIONS)
def _sort_entries(keys, values, out_keys, out_values, starts):
    """:func:`sorted_entries`' sort into out_keys int64 [m] and out_values float64 [m]
    (m: the table's entries); starts int64 [2^RADIX_BITS + 1] is scratch."""
    m = 0
    top = np.int64(0)
    for s in range(keys.shape[0]):  # compact the entries to the front
        k = keys[s]
        if k != EMPTY_KEY:
            keys[m] = k
            values[m] = values[s]
            m += 1
            if k > top:
                top = k
    passes = 0
    while passes == 0 or (RADIX_BITS * passes < 63 and (top >> (RADIX_BITS * passes)) > 0):
        passes += 1
    src_k, src_v, dst_k, dst_v = keys, values, out_keys, out_values
    if passes % 2 == 0:  # an even number of passes would end in the table
        # element by element: a slice assignment compiles numba's shape-mismatch error
        # message, and with it its string formatting (2-3 s of a first run's compile)
        for i in range(m):
            out_keys[i] = keys[i]
            out_values[i] = values[i]
        src_k, src_v, dst_k, dst_v = out_keys, out_values, keys, values
    buckets = 1 << RADIX_BITS
    for p in range(passes):
        shift = RADIX_BITS * p
        for b in range(buckets + 1):
            starts[b] = 0
        for i in range(m):
            starts[((src_k[i] >> shift) & (buckets - 1)) + 1] += 1
        for b in range(buckets):
            starts[b + 1] += starts[b]
        for i in range(m):
            b = (src_k[i] >> shift) & (buckets - 1)
            dst_k[starts[b]] = src_k[i]
            dst_v[starts[b]] = src_v[i]
            starts[b] += 1
        src_k, src_v, dst_k, dst_v = dst_k, dst_v, src_k, src_v


@njit(**KERNEL_OPTIONS)
def merge_sum(keys_a, values_a, keys_b, values_b):
    """Merge two runs sorted by key (each key at most once per run), summing the
    values of a key found in both. Inputs are read only; returns new arrays
    (keys int64 [m], values float64 [m]), m = number of distinct keys."""
    na = keys_a.shape[0]
    nb = keys_b.shape[0]
    i = 0
    j = 0
    m = 0
    while i < na and j < nb:  # first pass: the size of the result
        ka = keys_a[i]
        kb = keys_b[j]
        i += ka <= kb
        j += kb <= ka
        m += 1
    m += (na - i) + (nb - j)
    out_keys = np.empty(m, dtype=np.int64)
    out_values = np.empty(m, dtype=np.float64)
    i = 0
    j = 0
    m = 0
    while i < na and j < nb:
        ka = keys_a[i]
        kb = keys_b[j]
        if ka < kb:
            out_keys[m] = ka
            out_values[m] = values_a[i]
            i += 1
        elif kb < ka:
            out_keys[m] = kb
            out_values[m] = values_b[j]
            j += 1
        else:
            out_keys[m] = ka
            out_values[m] = values_a[i] + values_b[j]
            i += 1
            j += 1
        m += 1
    while i < na:
        out_keys[m] = keys_a[i]
        out_values[m] = values_a[i]
        i += 1
        m += 1
    while j < nb:
        out_keys[m] = keys_b[j]
        out_values[m] = values_b[j]
        j += 1
        m += 1
    return out_keys, out_values


def split_keys(keys, vocab_size):
    """(rows int32 [m], cols int32 [m]) of keys int64 [m] = row * vocab_size + col."""
    rows = np.empty(keys.shape[0], dtype=np.int32)
    cols = np.empty(keys.shape[0], dtype=np.int32)
    _split_keys(keys, vocab_size, rows, cols)
    return rows, cols


@njit(**KERNEL_OPTIONS)
def _split_keys(keys, vocab_size, rows, cols):
    """:func:`split_keys`' loop, into rows and cols."""
    for i in range(keys.shape[0]):
        rows[i] = keys[i] // vocab_size
        cols[i] = keys[i] - np.int64(rows[i]) * vocab_size


# --------------------------------------------------------------------------- training

def shuffle(order, rng_state):
    """Fill ``order`` (int32 or int64 [n], overwritten) with a uniformly random
    permutation of 0..n-1; ``rng_state`` uint64 [1] is advanced in place.

    Two passes (Rao 1961, Sandelius 1962): every index goes to a uniformly drawn
    bucket, then each bucket is Fisher-Yates shuffled while it sits in the cache.
    A plain Fisher-Yates over tens of millions of entries is several times
    slower, as almost every swap misses the cache.
    """
    buckets = max(1, order.shape[0] // SHUFFLE_BUCKET_ENTRIES)
    _shuffle(order, rng_state, np.zeros(buckets + 1, dtype=np.int64), np.empty(buckets, dtype=np.int64))


@njit(**KERNEL_OPTIONS)
def _shuffle(order, rng_state, starts, fill):
    """:func:`shuffle`'s loops over len(starts) - 1 buckets; starts int64 [buckets + 1]
    (zeros) and fill int64 [buckets] are scratch."""
    n = order.shape[0]
    buckets = starts.shape[0] - 1
    state = rng_state[0]
    first_state = state
    for i in range(n):
        state, bits = next_state(state)
        starts[below(bits, buckets) + 1] += 1
    for b in range(buckets):
        starts[b + 1] += starts[b]
    for b in range(buckets):
        fill[b] = starts[b]
    state = first_state  # draw the same buckets again, now placing each index
    for i in range(n):
        state, bits = next_state(state)
        b = below(bits, buckets)
        order[fill[b]] = i
        fill[b] += 1
    for b in range(buckets):
        lo = starts[b]
        for i in range(starts[b + 1] - 1, lo, -1):
            state, bits = next_state(state)
            j = lo + below(bits, i - lo + 1)
            t = order[i]
            order[i] = order[j]
            order[j] = t
    rng_state[0] = state


def glove_targets(values, x_max, alpha):
    """float64 [m] counts -> (log_x float32 [m], weight float32 [m]) with the
    weighting function f(x) = min(1, (x / x_max) ** alpha) (paper, eq. 9)."""
    log_x = np.empty(values.shape[0], dtype=np.float32)
    weight = np.empty(values.shape[0], dtype=np.float32)
    _glove_targets(values, x_max, alpha, log_x, weight)
    return log_x, weight


@njit(**KERNEL_OPTIONS)
def _glove_targets(values, x_max, alpha, log_x, weight):
    """:func:`glove_targets`' loop, into log_x and weight."""
    for i in range(values.shape[0]):
        x = values[i]
        log_x[i] = np.log(x)
        weight[i] = 1.0 if x >= x_max else (x / x_max) ** alpha


@njit(**KERNEL_OPTIONS)
def train_entries(order, start, end, entries, weights, gradsq, lr, grad_clip, share=1.0, mass=None):
    """One AdaGrad step on each entry ``order[start:end]`` (Pennington et al. 2014,
    eq. 8, with the numerics of Stanford glove.c). Safe to run on several threads
    at once over different ranges (Hogwild, Recht et al. 2011).

    order          int32/int64 [2m] entry ids to visit; an id e < m is stored entry
                                    e as (row, col); e >= m is stored entry e - m
                                    mirrored, as (col, row), so a symmetric matrix
                                    needs only its upper triangle in memory; the
                                    mirror of a diagonal entry is skipped (the
                                    full matrix holds it once)
    entries        (rows int32 [m], cols int32 [m]: the stored entries; log_x
                   float32 [m]: log of each count; weight float32 [m]: f(x), see
                   glove_targets)
    weights        (word_vectors, context_vectors float32 [V, dim]; word_bias,
                   context_bias float32 [V]): updated in place
    gradsq         (word_gradsq, context_gradsq float32 [V, dim]; word_bias_gradsq,
                   context_bias_gradsq float32 [V]): AdaGrad sums of squared steps
                   (start at 1), updated in place
    lr             float            AdaGrad learning rate (eta)
    grad_clip      float            each vector-gradient component is clipped to
                                    [-grad_clip, grad_clip], as in glove.c
    share          float            each squared step is added to gradsq ``share``
                                    times (default 1: glove.c). A Ray worker, one of
                                    N training a round at once, counts its squared
                                    steps N times, standing for the N workers' steps
                                    that its AdaGrad sums do not see until the round
                                    is combined (distributed/glove.py)
    mass           None, or (word, context, word bias, context bias: float32
                   [V] each), to which each visit adds how far its step contracts
                   its rows towards where the entry pulls them: eta f(x)
                   sum_k c_k^2 / sqrt(gradsq_w,k) for the word row (the curvature of
                   the entry's term along the row, f(x) c c^T, times AdaGrad's
                   per-coordinate rate), likewise for the context row, and f(x) /
                   sqrt(gradsq_b) for each bias. A Ray worker's row masses for the
                   ``scaled`` combination (distributed/sync.py); None: nothing is
                   added (one machine)

    Returns (summed weighted cost, entries trained). The cost is glove.c's: the
    sum of 0.5 * f(x) * (w.c + b_w + b_c - log x)^2, each term taken before its
    entry's update; NaN or infinite when training diverges.
    """
    rows, cols, log_x, weight = entries
    word_vectors, context_vectors, word_bias, context_bias = weights
    word_gradsq, context_gradsq, word_bias_gradsq, context_bias_gradsq = gradsq
    m = rows.shape[0]
    dim = word_vectors.shape[1]
    eta = np.float32(lr)
    clip = np.float32(grad_clip)
    times = np.float32(share)
    cost = 0.0
    trained = 0
    for p in range(start, end):
        ahead = p + PREFETCH_ENTRY_AHEAD
        if ahead < end:
            e = order[ahead]
            e = e if e < m else e - m
            prefetch(rows, e)
            prefetch(cols, e)
            prefetch(log_x, e)
            prefetch(weight, e)
        ahead = p + PREFETCH_ROWS_AHEAD
        if ahead < end:
            e = order[ahead]
            if e < m:
                r = rows[e]
                c = cols[e]
            else:
                r = cols[e - m]
                c = rows[e - m]
            for k in range(0, dim, CACHE_LINE_FLOATS):
                prefetch(word_vectors, (r, k))
                prefetch(context_vectors, (c, k))
                prefetch(word_gradsq, (r, k))
                prefetch(context_gradsq, (c, k))
        e = order[p]
        if e < m:
            r = rows[e]
            c = cols[e]
        else:
            e -= m
            r = cols[e]
            c = rows[e]
            if r == c:
                continue
        w = word_vectors[r]
        v = context_vectors[c]
        wg = word_gradsq[r]
        vg = context_gradsq[c]
        dot = np.float32(0.0)
        for k in range(dim):
            dot += w[k] * v[k]
        diff = dot + word_bias[r] + context_bias[c] - log_x[e]
        fdiff = weight[e] * diff
        cost += 0.5 * np.float64(fdiff) * np.float64(diff)
        trained += 1
        if mass is not None:
            fw = weight[e] * eta
            mw = np.float32(0.0)
            mv = np.float32(0.0)
            for k in range(dim):
                mw += v[k] * v[k] / np.sqrt(wg[k])
                mv += w[k] * w[k] / np.sqrt(vg[k])
            mass[0][r] += fw * mw
            mass[1][c] += fw * mv
            mass[2][r] += weight[e] / np.sqrt(word_bias_gradsq[r])
            mass[3][c] += weight[e] / np.sqrt(context_bias_gradsq[c])
        for k in range(dim):
            gw = min(max(fdiff * v[k], -clip), clip) * eta
            gv = min(max(fdiff * w[k], -clip), clip) * eta
            w[k] -= gw / np.sqrt(wg[k])
            v[k] -= gv / np.sqrt(vg[k])
            wg[k] += times * (gw * gw)
            vg[k] += times * (gv * gv)
        # The bias step is fdiff / sqrt(gradsq) without eta, as glove.c does since
        # v1.2: the maintainers found adding eta made the vectors worse
        # (stanfordnlp/GloVe pull request 209), so we keep the reference numerics.
        word_bias[r] -= fdiff / np.sqrt(word_bias_gradsq[r])
        context_bias[c] -= fdiff / np.sqrt(context_bias_gradsq[c])
        word_bias_gradsq[r] += times * (fdiff * fdiff)
        context_bias_gradsq[c] += times * (fdiff * fdiff)
    return cost, trained
