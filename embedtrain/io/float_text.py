"""Decimal text of float32 values, ``"%.6g" % value`` byte for byte, a matrix at a time.

Writing a ``.vec`` formatted every value with Python's ``%`` operator (about 0.17 us a
value: 0.37 s of a word2vec run's 22,541 x 100 values). Here numpy does it for a block of
rows at once, with the same result: Python rounds the value's exact binary expansion to 6
significant digits, halves to even; so does :func:`format_rows`, in integers. A float32
value is ``M * 2**(e - 24)`` exactly (``M`` an integer below 2**24), so for a decimal
exponent ``X`` the 6 digits are ``M * 5**k * 2**k`` divided by ``2**(24 - e)`` with
``k = 5 - X``, rounded: ``M * 5**k`` fits in an int64 for ``k <= 16``, and the division
by a power of two is a shift whose remainder decides the rounding exactly. ``X`` comes from
``log10`` and is corrected where the digits fall outside [10**5, 10**6) (a value next to a
power of ten, or one that rounds up to it). The characters are then laid out as ``%g`` does
(fixed notation for exponents -4 to 5, else ``d.ddddde+XX``; trailing zeros and a bare
point dropped): each value's characters, the ones it does not show blanked to zero bytes,
are picked by the template of its exponent's layout, and the caller drops the zero bytes.

Values outside 1e-11 <= |v| < 1e6, NaN and infinities are left to Python (``ok`` false):
the caller formats those rows the old way.
"""
from __future__ import annotations

import numpy as np

DIGITS = 6                     # "%.6g"
_BIG = 10 ** DIGITS
_SMALL = 10 ** (DIGITS - 1)
_MAX_K = 16                    # 2**24 * 5**16 < 2**63
_POW5 = 5 ** np.arange(_MAX_K + 1, dtype=np.int64)
_POW10_FLOAT = 10.0 ** np.arange(_MAX_K + 1)   # exact in float64 up to 10**22
# A value's characters before layout, uint8 [16]: its digits as two groups of three, each
# followed by a zero byte (so that each group is one uint32 from _THREE_DIGITS), then these.
_DIGIT_COLUMNS = (0, 1, 2, 4, 5, 6)
_DOT, _ZERO, _E, _ESIGN, _ETENS, _EUNITS, _MINUS, _NOTHING = range(8, 16)
_SOURCES = 16
WIDTH = 12                     # the longest: "-0.000123457", "-1.23457e-05"
_FIXED = range(-4, DIGITS)     # decimal exponents written in fixed notation
_EXPONENTIAL = len(_FIXED)     # the layout of the others


def _layouts() -> np.ndarray:
    """[layout, WIDTH] the source columns of each character (_NOTHING: none); digits and
    points a value does not show are zero bytes in its sources."""
    table = np.full((len(_FIXED) + 1, WIDTH), _NOTHING, dtype=np.intp)
    d = _DIGIT_COLUMNS
    for layout in range(len(_FIXED) + 1):
        if layout == _EXPONENTIAL:                                   # d.ddddde+XX
            cols = [d[0], _DOT, *d[1:], _E, _ESIGN, _ETENS, _EUNITS]
        elif _FIXED[layout] >= 0:                                    # ddd.ddd
            x = _FIXED[layout]
            cols = [*d[:x + 1], _DOT, *d[x + 1:]]
        else:                                                        # 0.000ddd
            cols = [_ZERO, _DOT] + [_ZERO] * (-_FIXED[layout] - 1) + list(d)
        table[layout, :len(cols) + 1] = [_MINUS, *cols]
    return table


_LAYOUT_COLUMNS = _layouts()
# 0-999 as three ASCII digits and a zero byte, one little-endian uint32 each
_THREE_DIGITS = np.frombuffer(b"".join(f"{i:03d}".encode() + b"\0" for i in range(1000)), dtype="<u4")
# how many zeros each of 0-999 ends in, as three digits (0: all three)
_TRAILING_ZEROS = np.array([3 - len(f"{i:03d}".rstrip("0")) for i in range(1000)], dtype=np.int64)


def _digits(value: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``value`` (float32 values, positive, as float64) times 10**(5 - x), rounded half to
    even, in integers; and whether it could be computed exactly."""
    fraction, e = np.frexp(value)
    mantissa = (fraction * (1 << 24)).astype(np.int64)   # value = mantissa * 2**(e - 24)
    e = e.astype(np.int64)
    k = (DIGITS - 1) - x
    ok = (k >= 0) & (k <= _MAX_K)
    k = np.clip(k, 0, _MAX_K)
    shift = 24 - e - k
    ok &= (shift >= 1) & (shift <= 62)
    shift = np.clip(shift, 1, 62)
    scaled = mantissa * _POW5[k]
    q = scaled >> shift
    rest = scaled - (q << shift)
    half = np.left_shift(1, shift - 1, dtype=np.int64)
    return q + ((rest > half) | ((rest == half) & (q & 1 == 1))), ok


def _digits_fast(value: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_digits`, in floating point where that is exact: ``value * 10**k`` (float64,
    10**k exact for k <= 22) is off by at most half a unit in its last place, 2**-53 of
    itself (below 1.2e-10 for results below 10**6), so rounding it to an integer gives the
    exact result unless it lies that close to a half; those few go through :func:`_digits`."""
    k = np.clip((DIGITS - 1) - x, 0, _MAX_K)
    scaled = np.minimum(value * _POW10_FLOAT[k], 2.0 * _BIG)   # outside the range: not ok
    number = np.rint(scaled)
    near_half = np.abs(np.abs(scaled - number) - 0.5) < 1e-9
    number = number.astype(np.int64)
    ok = (x <= DIGITS - 1) & (x >= DIGITS - 1 - _MAX_K)
    if near_half.any():
        which = np.flatnonzero(near_half)
        number[which], ok[which] = _digits(value[which], x[which])
    return number, ok


def format_values(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` float32 [n] as characters: uint8 [n, WIDTH], each row ``"%.6g" % value``
    in ASCII with zero bytes where there is no character (anywhere in the row: drop them);
    and bool [n], false where the row is not filled (a value left to Python, see the
    module's docstring)."""
    values = np.asarray(values, dtype=np.float32).reshape(-1)
    n = len(values)
    a = np.abs(values.astype(np.float64))
    ok = np.isfinite(a)
    zero = a == 0
    safe = np.where(ok & ~zero, a, 1.0) if not ok.all() or zero.any() else a
    x = np.floor(np.log10(safe)).astype(np.int64)
    number, exact = _digits_fast(safe, x)
    ok &= exact
    for _ in range(2):   # log10 was one off, or the rounding reached the next power of ten
        wrong = np.flatnonzero(ok & ~zero & ((number >= _BIG) | (number < _SMALL)))
        if not len(wrong):
            break
        x[wrong] += np.where(number[wrong] >= _BIG, 1, -1)
        number[wrong], exact = _digits(safe[wrong], x[wrong])
        ok[wrong] &= exact
    else:
        ok &= zero | ((number >= _SMALL) & (number < _BIG))
    ok &= x < 100    # two exponent digits (float32 values >= 1e-11 have them)
    blank = zero | ~ok   # laid out as a zero; rows with a value not ok are the caller's
    number[blank] = 0
    x[blank] = 0

    sources = np.zeros((n, _SOURCES), dtype=np.uint8)
    small = number.astype(np.int32)
    high = small // 1000
    low = small - high * 1000
    groups = sources.view("<u4")
    groups[:, 0] = np.take(_THREE_DIGITS, high)
    groups[:, 1] = np.take(_THREE_DIGITS, low)
    fixed = (x >= _FIXED[0]) & (x <= _FIXED[-1])
    # digits shown: the significant ones (a zero value: its one "0"), and in fixed
    # notation every digit before the point; the point only before a digit shown
    significant = np.where(low == 0, 3 - np.take(_TRAILING_ZEROS, high), DIGITS - np.take(_TRAILING_ZEROS, low))
    significant[zero] = 1
    before_point = np.where(fixed, np.maximum(x + 1, 0), 1)
    shown = np.maximum(significant, before_point)
    for i, column in enumerate(_DIGIT_COLUMNS[1:], start=1):
        sources[:, column] *= i < shown
    sources[:, _DOT] = np.where((shown > before_point) | (fixed & (x < 0)), ord("."), 0)
    sources[:, _ZERO], sources[:, _E] = ord("0"), ord("e")
    sources[:, _MINUS] = np.where(np.signbit(values), ord("-"), 0)
    sources[:, _ESIGN] = np.where(x < 0, ord("-"), ord("+"))
    exponent = np.abs(x).astype(np.int32)
    sources[:, _ETENS] = exponent // 10 + ord("0")
    sources[:, _EUNITS] = exponent % 10 + ord("0")
    layout = np.where(fixed, x - _FIXED[0], _EXPONENTIAL)
    chars = np.empty((n, WIDTH), dtype=np.uint8)
    for which in np.flatnonzero(np.bincount(layout, minlength=len(_LAYOUT_COLUMNS))):
        rows = np.flatnonzero(layout == which)
        chars[rows] = sources[rows][:, _LAYOUT_COLUMNS[which]]
    return chars, ok

