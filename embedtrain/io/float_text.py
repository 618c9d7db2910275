"""Decimal text of float32 values, ``"%.6g" % value`` byte for byte, a matrix at a time.

Writing a ``.vec`` formatted every value with Python's ``%`` operator (about 0.17 us a
value: 0.37 s of a word2vec run's 22,541 x 100 values). Here numpy does it for a block of
rows at once, with the same result: Python rounds the value's exact binary expansion to 6
significant digits, halves to even; so does :func:`format_values`, in integers. A float32
value is ``M * 2**(e - 24)`` exactly (``M`` an integer below 2**24), so for a decimal
exponent ``X`` the 6 digits are ``M * 5**k * 2**k`` divided by ``2**(24 - e)`` with
``k = 5 - X``, rounded: ``M * 5**k`` fits in an int64 for ``k <= 16``, and the division
by a power of two is a shift whose remainder decides the rounding exactly. ``X`` comes from
``log10`` and is corrected where the digits fall outside [10**5, 10**6) (a value next to a
power of ten, or one that rounds up to it).

The characters are then laid out as ``%g`` does (fixed notation for exponents -4 to 5, else
``d.ddddde-XX``; trailing zeros and a bare point dropped) in a record of 16 bytes a value,
built as two little-endian uint64 words by shifts and masks: the first holds the sign and
either ``0.``, ``0.0``, ``0.00`` or ``0.000`` (exponents -1 to -4) or the digits with their
point inserted; the second the digits after such a prefix, or the exponent. Bytes a value
does not use are zero (anywhere in the record: the caller drops them), the last byte always.

Values outside 1e-11 <= |v| < 1e6, NaN and infinities are formatted by Python's ``%`` into
their records (``ok`` false for them).
"""
from __future__ import annotations

import numpy as np

DIGITS = 6
FLOAT_FORMAT = f"%.{DIGITS}g"  # what every value is written as (io/text.py)
_BIG = 10 ** DIGITS
_SMALL = 10 ** (DIGITS - 1)
_MAX_K = 16                    # 2**24 * 5**16 < 2**63
_POW5 = 5 ** np.arange(_MAX_K + 1, dtype=np.int64)
_POW10_FLOAT = 10.0 ** np.arange(_MAX_K + 1)   # exact in float64 up to 10**22
RECORD = 16                    # bytes a value: the longest is 12 ("-0.000123457")
_FIXED_LOW, _FIXED_HIGH = -4, DIGITS - 1      # decimal exponents written in fixed notation
_U8 = np.uint64(8)
# the low k bytes of a uint64, k = 0..7
_BYTE_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)], dtype=np.uint64)
# 0-999 as three ASCII digits, as the first three bytes of a little-endian uint64, and the
# same shifted to bytes 3-5 (the second group of a value's six digits)
_HIGH_GROUP = np.array([int.from_bytes(f"{i:03d}".encode(), "little") for i in range(1000)], dtype=np.uint64)
_LOW_GROUP = _HIGH_GROUP << np.uint64(24)
# significant digits of 0-999 as the high group (the low one zero) and as the low group
_SIGNIFICANT_HIGH = np.array([len(f"{i:03d}".rstrip("0")) for i in range(1000)], dtype=np.int64)
_SIGNIFICANT_LOW = _SIGNIFICANT_HIGH + 3
# what comes before the digits of exponents -1..-4 (index -x): "0.", "0.0", "0.00", "0.000"
_PREFIX = np.array([0] + [int.from_bytes(b"0." + b"0" * (k - 1), "little") for k in range(1, 5)],
                   dtype=np.uint64)
# "e-05", "e+07", ... for exponents -64..63 (index x + 64)
_EXPONENT = np.array([int.from_bytes(f"e{'-' if x < 0 else '+'}{abs(x):02d}".encode(), "little")
                      for x in range(-64, 64)], dtype=np.uint64)


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
    """``values`` float32 [n] as characters: uint8 [n, RECORD], each row ``"%.6g" % value``
    in ASCII with zero bytes where there is no character (anywhere in the row, and always
    its last byte: drop them); and bool [n], false for the values that Python formatted
    (see the module's docstring)."""
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
    blank = zero | ~ok   # laid out as a zero; the values not ok are formatted by Python below
    number[blank] = 0
    x[blank] = 0

    small = number.astype(np.int32)
    high = small // 1000
    low = small - high * 1000
    # digits shown: the significant ones (a zero value: its one "0"), and in fixed notation
    # every digit before the point; the point only before a digit shown
    significant = np.where(low == 0, np.take(_SIGNIFICANT_HIGH, high), np.take(_SIGNIFICANT_LOW, low))
    significant[zero] = 1
    fixed = (x >= _FIXED_LOW) & (x <= _FIXED_HIGH)
    prefixed = fixed & (x < 0)                     # 0.ddd, 0.0ddd, ...
    point_at = np.where(fixed, x + 1, 1)           # digits before the point
    shown = np.maximum(significant, point_at)
    np.clip(point_at, 1, DIGITS, out=point_at)     # (prefixed values do not use it)
    digits = np.take(_HIGH_GROUP, high)
    digits |= np.take(_LOW_GROUP, low)
    digits &= np.take(_BYTE_MASKS, shown)
    shift = point_at.astype(np.uint64) * _U8
    pointed = (digits & np.take(_BYTE_MASKS, point_at)) | (np.uint64(ord(".")) << shift) \
        | ((digits >> shift) << (shift + _U8))
    body = np.where(shown > point_at, pointed, digits)
    words = np.empty((n, 2), dtype="<u8")
    words[:, 0] = np.where(prefixed, np.take(_PREFIX, np.clip(-x, 0, len(_PREFIX) - 1)), body) << _U8
    words[:, 0] |= np.signbit(values).astype(np.uint64) * np.uint64(ord("-"))
    words[:, 1] = np.where(prefixed, digits,
                           np.where(fixed, np.uint64(0), np.take(_EXPONENT, np.clip(x, -64, 63) + 64)))
    chars = words.view(np.uint8).reshape(n, RECORD)
    for i in np.flatnonzero(~ok).tolist():          # NaN, infinities, |v| < 1e-11 or >= 1e6
        text = (FLOAT_FORMAT % float(values[i])).encode("ascii")
        chars[i] = 0
        chars[i, :len(text)] = np.frombuffer(text, dtype=np.uint8)
    return chars, ok

