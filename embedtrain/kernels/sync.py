"""Row kernels of the replicas' synchronisation (distributed/sync.py holds the
protocols and their plain-numpy reference lives in tests/reference_sync.py).

Every step of a round touches most of a FastText model's rows (words and n-grams),
so each is one pass over the rows in numba rather than numpy's fancy indexing,
which copies the rows two or three times (sorting, gathering, masking):

- :func:`subword_touched`: the rows of the words trained (a mark per row, no sort);
- :func:`take_rows` / :func:`put_rows`: a replica's snapshot of those rows, and back;
- :func:`changed_rows`: the rows that changed, their deltas encoded, grouped by
  shard (row id modulo the shard count) so that shards are slices of one buffer;
- :func:`union_rows`, :func:`accumulate_rows`, :func:`finish_rows`: one shard of
  every worker merged (their rows are ascending), the protocol's factor applied, the
  result encoded;
- :func:`add_rows`: a combined shard added to a replica (or its own update taken out).

Deltas travel either as float32 (``step`` empty) or in fixed point: int8 or int16
values and a float32 step per row (the row's largest magnitude / LEVELS), so a value
is off by at most half a step, 1/254 (int8) or 1/65534 (int16) of the row's largest
change.

No fastmath here: the sums over workers are done in worker order, as numpy does.
"""
import numpy as np
from numba import njit

from .options import ROW_OPTIONS

# Fixed point: a row's largest |delta| maps to +-levels (0: float32, no encoding)
LEVELS = {"float32": 0.0, "int16": 32767.0, "int8": 127.0}
PROTOCOL_IDS = {  # the protocol argument of accumulate_rows and finish_rows
    "scaled": 0, "adaptive": 1, "sum": 2, "mean": 3}


@njit(**ROW_OPTIONS)
def subword_touched(offsets, table_rows, counts, word_weight, n_rows):
    """Rows (int32, ascending) of every word w with counts[w] > 0, i.e. the rows
    table_rows[offsets[w]:offsets[w + 1]], and per row the sum of word_weight[w] over
    those words (summed in float64 in word order, returned as float32)."""
    acc = np.zeros(n_rows, np.float64)
    seen = np.zeros(n_rows, np.bool_)
    for w in range(counts.shape[0]):
        if counts[w] == 0:
            continue
        ww = np.float64(word_weight[w])
        for p in range(offsets[w], offsets[w + 1]):
            r = table_rows[p]
            seen[r] = True
            acc[r] += ww
    n = 0
    for r in range(n_rows):
        if seen[r]:
            n += 1
    rows = np.empty(n, np.int32)
    weight = np.empty(n, np.float32)
    i = 0
    for r in range(n_rows):
        if seen[r]:
            rows[i] = r
            weight[i] = acc[r]
            i += 1
    return rows, weight


@njit(**ROW_OPTIONS)
def take_rows(matrix, rows, out):
    """out[i] = matrix[rows[i]]."""
    dim = matrix.shape[1]
    for i in range(rows.shape[0]):
        r = rows[i]
        for k in range(dim):
            out[i, k] = matrix[r, k]


@njit(**ROW_OPTIONS)
def put_rows(matrix, rows, values):
    """matrix[rows[i]] = values[i]."""
    dim = matrix.shape[1]
    for i in range(rows.shape[0]):
        r = rows[i]
        for k in range(dim):
            matrix[r, k] = values[i, k]


@njit(**ROW_OPTIONS)
def _encode_row(delta, out_values, out_step, j, levels):
    """Write float32 ``delta`` [dim] as row j of the output: float32 (``levels`` 0), or
    fixed point, integers in [-levels, levels] and a step per row."""
    dim = delta.shape[0]
    if levels == 0:
        for k in range(dim):
            out_values[j, k] = delta[k]
        return
    big = np.float32(0.0)
    for k in range(dim):
        a = abs(delta[k])
        if a > big:
            big = a
    top = np.float32(levels)
    step = big / top
    out_step[j] = step
    if step == 0:
        for k in range(dim):
            out_values[j, k] = 0
        return
    inv = np.float32(1.0) / step
    for k in range(dim):
        q = np.rint(delta[k] * inv)
        if q > top:
            q = top
        elif q < -top:
            q = -top
        out_values[j, k] = q


@njit(**ROW_OPTIONS)
def _decode_row(values, step, i, fixed, out):
    """Row i of an encoded update as float32 into ``out`` [dim]."""
    dim = out.shape[0]
    if fixed:
        s = step[i]
        for k in range(dim):
            out[k] = np.float32(values[i, k]) * s
    else:
        for k in range(dim):
            out[k] = values[i, k]


@njit(**ROW_OPTIONS)
def changed_rows(matrix, rows, base, weight, shards, out_rows, out_values, out_step, out_weight, levels):
    """The rows of ``matrix`` listed in ``rows`` (ascending) that differ from their
    snapshot ``base`` (row i of base is matrix row rows[i]), written grouped by shard
    (row modulo ``shards``) and ascending within a shard: out_rows (int32),
    out_values (the delta matrix - base: float32, or int16 with out_step, fixed
    point with ``levels``, see _encode_row), out_weight (``weight`` of the row). Returns the shard bounds
    (int64 [shards + 1]); the rows written are out_*[:bounds[-1]]."""
    n, dim = rows.shape[0], matrix.shape[1]
    changed = np.zeros(n, np.bool_)
    bounds = np.zeros(shards + 1, np.int64)
    for i in range(n):
        r = rows[i]
        for k in range(dim):
            if matrix[r, k] != base[i, k]:
                changed[i] = True
                bounds[r % shards + 1] += 1
                break
    for s in range(shards):
        bounds[s + 1] += bounds[s]
    at = bounds[:-1].copy()
    delta = np.empty(dim, np.float32)
    for i in range(n):
        if changed[i]:
            r = rows[i]
            j = at[r % shards]
            at[r % shards] = j + 1
            out_rows[j] = r
            out_weight[j] = weight[i]
            for k in range(dim):
                delta[k] = matrix[r, k] - base[i, k]
            _encode_row(delta, out_values, out_step, j, levels)
    return bounds


@njit(**ROW_OPTIONS)
def add_rows(matrix, rows, values, step, fixed, sign):
    """matrix[rows[i]] += sign x the decoded row i (float32 values, or ``fixed``: int16
    values x step[i]); sign is 1 or -1 (x + (-d) is x - d exactly)."""
    dim = matrix.shape[1]
    sign = np.float32(sign)
    for i in range(rows.shape[0]):
        r = rows[i]
        if fixed:
            s = step[i] * sign
            for k in range(dim):
                matrix[r, k] += np.float32(values[i, k]) * s
        else:
            for k in range(dim):
                matrix[r, k] += values[i, k] * sign


@njit(**ROW_OPTIONS)
def union_rows(a, b):
    """The union of two ascending int32 row arrays, ascending."""
    out = np.empty(a.shape[0] + b.shape[0], np.int32)
    i = j = n = 0
    while i < a.shape[0] or j < b.shape[0]:
        if j == b.shape[0] or (i < a.shape[0] and a[i] < b[j]):
            out[n] = a[i]
            i += 1
        elif i == a.shape[0] or b[j] < a[i]:
            out[n] = b[j]
            j += 1
        else:
            out[n] = a[i]
            i += 1
            j += 1
        n += 1
    return out[:n].copy()


@njit(**ROW_OPTIONS)
def accumulate_rows(total, total_w, gained, squares, workers, positions, values, step, fixed, weight,
                    protocol):
    """Add one worker's update (rows at ``positions`` of the union) into the running
    per-row sums of :func:`finish_rows`: total (float32 [n, dim]: the deltas, for
    ``mean`` times their weight), total_w (float64: the weights), gained (float64:
    1 - exp(-w), for ``scaled``), squares (float64: |delta|^2) and workers (float64:
    how many workers moved the row, for ``adaptive``). Workers are added in order;
    ``fixed``: values are int16 with a step per row."""
    dim = total.shape[1]
    delta = np.empty(dim, np.float32)
    for i in range(positions.shape[0]):
        p = positions[i]
        _decode_row(values, step, i, fixed, delta)
        w = weight[i]
        if protocol == 3:
            w = max(w, np.float32(1e-12))
            for c in range(dim):
                total[p, c] += delta[c] * w
        else:
            for c in range(dim):
                total[p, c] += delta[c]
        total_w[p] += np.float64(w)
        if protocol == 0:
            gained[p] += -np.expm1(-np.float64(weight[i]))
        elif protocol == 1:
            q = 0.0
            for c in range(dim):
                q += np.float64(delta[c]) * np.float64(delta[c])
            squares[p] += q
            workers[p] += 1.0


@njit(**ROW_OPTIONS)
def finish_rows(total, total_w, gained, squares, workers, protocol, out_values, out_step, levels):
    """Each row's combined delta from the sums of :func:`accumulate_rows`, encoded into
    out_values (float32, or int16 with out_step): scaled (0) S (1 - exp(-W)) /
    sum(1 - exp(-w_i)); adaptive (1) S (1 - a (1 - 1/k)), a = the agreement of the k
    deltas, (|S|^2 / sum |d_i|^2 - 1) / (k - 1) clipped to [0, 1]; sum (2) S; mean
    (3) S / W (S the summed deltas, weighted for mean; W the summed weights).
    ``levels``: out_values is fixed point with out_step (see _encode_row)."""
    n, dim = total.shape
    for j in range(n):
        row = total[j]
        if protocol == 0:
            factor = np.float32(1.0)
            if gained[j] > 1e-12:
                factor = np.float32(-np.expm1(-total_w[j]) / gained[j])
            for c in range(dim):
                row[c] *= factor
        elif protocol == 1:
            s2 = 0.0
            for c in range(dim):
                s2 += np.float64(row[c]) * np.float64(row[c])
            a = 0.0
            if workers[j] > 1 and squares[j] > 0:
                a = min(max((s2 / squares[j] - 1.0) / (workers[j] - 1.0), 0.0), 1.0)
            factor = np.float32(1.0 - a * (1.0 - 1.0 / max(workers[j], 1.0)))
            for c in range(dim):
                row[c] *= factor
        elif protocol == 3:
            wf = np.float32(total_w[j])
            for c in range(dim):
                row[c] /= wf
        _encode_row(row, out_values, out_step, j, levels)


@njit(**ROW_OPTIONS)
def weighted_row_sum(matrix, weights):
    """sum_i weights[i] x matrix[i] in float64 (weights float64 [n] for rows 0..n-1),
    skipping rows of weight 0 (most of a round's vocabulary) and copying nothing."""
    dim = matrix.shape[1]
    out = np.zeros(dim, np.float64)
    for i in range(weights.shape[0]):
        w = weights[i]
        if w != 0.0:
            for k in range(dim):
                out[k] += w * np.float64(matrix[i, k])
    return out
