"""The lines of a ``.vec`` file's numbers: float32 values as ``"%.6g" % value`` byte for
byte, a block of rows at a time (io/text.py writes the words before them).

Python rounds a value's exact binary expansion to 6 significant digits, halves to even; so
does :func:`format_block`, in integers. A float32 value is ``M * 2**(e - 24)`` exactly
(``M`` an integer below 2**24), so for a decimal exponent ``x`` the 6 digits are
``M * 5**k * 2**k`` divided by ``2**(24 - e)`` with ``k = 5 - x``, rounded: for
1e-11 <= |v| < 1e6, ``k`` is 0..16, ``M * 5**k`` fits in an int64, and the division by a
power of two is a shift whose remainder decides the rounding exactly. ``x`` comes from
``log10`` and is corrected where the digits fall outside [10**5, 10**6) (a value next to a
power of ten, or one that rounds up to it). The digits are then laid out as ``%g`` does:
fixed notation for exponents -4 to 5, else ``d.ddddde-XX``; trailing zeros and a bare point
dropped; ``-`` before a negative value, ``-0`` included.

A block with a value outside that range (or NaN, an infinity) is left to the caller, which
formats it with Python's ``%``. tests/reference_float_text.py is the same arithmetic in numpy
(the writer's before this kernel), and tests/test_float_text.py checks both against Python.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .options import ROW_OPTIONS

DIGITS = 6
FLOAT_FORMAT = f"%.{DIGITS}g"  # what every value is written as (io/text.py)
LOWEST, HIGHEST = 1e-11, 999999.5  # the kernel formats 0 and LOWEST <= |v| < HIGHEST
MAX_CHARS = 13                 # the longest value and its separator: "-0.000123457 "
_POW5 = 5 ** np.arange(DIGITS - 1 + 12, dtype=np.int64)   # k = 0..16
_POW10_LOW = 13                # _POW10[x + _POW10_LOW] is 10.0**x, x = -13..7
_POW10 = 10.0 ** np.arange(-_POW10_LOW, 8)
_ZERO, _POINT, _MINUS, _SPACE, _NEWLINE = ord("0"), ord("."), ord("-"), ord(" "), ord("\n")


@njit(**ROW_OPTIONS)
def _six_digits(mantissa, e, x, pow5):
    """The float32 value ``mantissa * 2**(e - 24)`` times 10**(5 - x), rounded half to
    even, exactly (``x`` such that 5 - x is 0..16)."""
    k = 5 - x
    shift = 24 - e - k                 # 4..44 for values in [1e-11, 1e6)
    scaled = mantissa * pow5[k]
    q = scaled >> shift
    rest = scaled - (q << shift)
    half = np.int64(1) << (shift - 1)
    if rest > half or (rest == half and (q & 1) == 1):
        q += 1
    return q


@njit(**ROW_OPTIONS)
def format_block(block, bits, out, line_ends, pow5, pow10):
    """The text of ``block`` float32 [rows, dim] into ``out`` uint8 [>= rows * (dim *
    MAX_CHARS)]: each row's values ``"%.6g"``, a space between them, a newline after the
    last; ``line_ends`` int64 [rows] gets where each row's text ends. ``bits`` uint32
    [rows, dim]: the values' bits (sign, exponent, mantissa); ``pow5`` :data:`_POW5`,
    ``pow10`` :data:`_POW10`. Returns the bytes written,
    or -1 when a value is outside what this formats (module docstring), leaving ``out`` in
    an undefined state."""
    rows, dim = block.shape
    digits = np.empty(DIGITS, dtype=np.uint8)
    at = 0
    for r in range(rows):
        for c in range(dim):
            v = np.float64(block[r, c])
            b = np.int64(bits[r, c])
            if b >> 31:
                out[at] = _MINUS
                at += 1
            a = abs(v)
            if a == 0.0:
                out[at] = _ZERO
                at += 1
            else:
                if not (a >= LOWEST and a < HIGHEST):   # NaN too
                    return -1
                # a normal float32 (a >= 1e-11): a = mantissa * 2**(e - 24), 2**(e-1) <= a < 2**e
                mantissa = (b & 0x7FFFFF) | 0x800000
                e = ((b >> 23) & 0xFF) - 126
                # floor(log10(a)): floor((e - 1) log10(2)), or one more from a power of ten
                x = ((e - 1) * 78913) >> 18
                if a >= pow10[x + 1 + _POW10_LOW]:
                    x += 1
                if x < -11:
                    x = -11
                q = _six_digits(mantissa, e, x, pow5)
                if q >= 1000000:          # x one low, or rounded up to the next power of ten
                    x += 1
                    if x > DIGITS - 1:
                        return -1
                    q = _six_digits(mantissa, e, x, pow5)
                elif q < 100000 and x > -11:   # x one high
                    x -= 1
                    q = _six_digits(mantissa, e, x, pow5)
                if q < 100000 or q >= 1000000:
                    return -1
                significant = DIGITS
                for i in range(DIGITS - 1, -1, -1):
                    digits[i] = _ZERO + q % 10
                    q //= 10
                while digits[significant - 1] == _ZERO:
                    significant -= 1
                if -4 <= x < 0:           # 0.ddd, 0.0ddd, ...
                    out[at] = _ZERO
                    out[at + 1] = _POINT
                    at += 2
                    for _ in range(-x - 1):
                        out[at] = _ZERO
                        at += 1
                    for i in range(significant):
                        out[at] = digits[i]
                        at += 1
                else:
                    point_at = x + 1 if 0 <= x <= DIGITS - 1 else 1   # digits before the point
                    shown = max(significant, point_at)
                    for i in range(shown):
                        if i == point_at:
                            out[at] = _POINT
                            at += 1
                        out[at] = digits[i]
                        at += 1
                    if x < -4 or x > DIGITS - 1:
                        out[at] = ord("e")
                        out[at + 1] = _MINUS if x < 0 else ord("+")
                        ax = abs(x)
                        out[at + 2] = _ZERO + ax // 10
                        out[at + 3] = _ZERO + ax % 10
                        at += 4
            out[at] = _SPACE if c < dim - 1 else _NEWLINE
            at += 1
        line_ends[r] = at
    return at


def block_text(block: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``block`` float32 [rows, dim] as text (:func:`format_block`): uint8 [n] and where each
    row's line ends; None when a value needs Python's ``%``."""
    block = np.ascontiguousarray(block, dtype=np.float32)
    rows, dim = block.shape
    out = np.empty(rows * dim * MAX_CHARS, dtype=np.uint8)
    line_ends = np.empty(rows, dtype=np.int64)
    n = format_block(block, block.view(np.uint32), out, line_ends, _POW5, _POW10)
    return None if n < 0 else (out[:n], line_ends)
