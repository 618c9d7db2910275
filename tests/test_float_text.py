"""io/float_text.py: numpy's "%.6g" of float32 values, byte for byte Python's, and the
.vec writer that uses it writing the bytes it wrote before (Python's % on every value)."""
from __future__ import annotations

import numpy as np
import pytest

from embedtrain.io import text as text_formats
from embedtrain.io.float_text import _digits, format_values

# values at the edges: zeros, powers of ten and the values just below them, ties that
# round half to even, the ends of the range numpy formats, and what it leaves to Python
EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, 0.1, 1e-4, 9.999995e-5, 1e-5, 99999.95, 9.9999995, 0.99999997,
         0.00099999995, 123456.5, 999999.5, 100000.0, 120000.0, 1e6, 1e-11, 1e-12, 3.4e38, 1e-45,
         np.inf, -np.inf, np.nan, 0.25, 0.125, 1.5, 2.5, 1234.5, 0.015625, 1024.0]


def _python(values: np.ndarray) -> list[str]:
    return ["%.6g" % float(v) for v in values]


def _ours(values: np.ndarray) -> tuple[list[str], np.ndarray]:
    chars, ok = format_values(values)
    assert not chars[:, -1].any()     # the caller's separator goes there
    return [row[row != 0].tobytes().decode("ascii") for row in chars], ok


def _values() -> np.ndarray:
    rng = np.random.default_rng(28)
    normal = rng.normal(0, 0.3, 20000)
    scaled = rng.normal(0, 1, 4000) * 10.0 ** rng.integers(-13, 8, 4000)
    # random float32 bit patterns from 1e-11 to 1e6 and beyond: every exponent, many near-ties
    bits = rng.integers(0x2D000000, 0x49800000, 40000, dtype=np.uint32).view(np.float32)
    # float32 values with few significant bits: exact decimal ties (x.5 at the 6th digit)
    ties = (rng.integers(1, 1 << 12, 4000) / 2.0 ** rng.integers(0, 16, 4000))
    return np.concatenate([EDGES, normal, scaled, bits, -bits, ties]).astype(np.float32)


def test_digits_are_pythons():
    values = _values()
    ours, ok = _ours(values)
    want = _python(values)
    wrong = [(float(v), o, w) for v, o, w in zip(values, ours, want) if o != w]
    assert not wrong, wrong[:10]
    # most values are numpy's; Python formats NaN, infinities and |v| outside [1e-11, 1e6)
    # (and those that round to 1e+06) into their records
    a = np.abs(values.astype(np.float64))
    assert ok[(a >= 1e-11) & (a < 999999.5) | (a == 0)].all()
    assert not ok[~np.isfinite(a) | (a >= 1e6) | ((a > 0) & (a < 1e-12))].any()


def test_exact_digits_round_half_to_even():
    """The integer path (used where floating point could round a near-tie wrongly) gives
    Python's 6 digits for every value, ties included."""
    values = np.abs(_values())
    values = values[np.isfinite(values) & (values >= 1e-11) & (values < 999999.5)].astype(np.float64)
    x = np.array([int(("%.5e" % v).split("e")[1]) for v in values])
    number, ok = _digits(values, x)
    assert ok.all()
    assert number.tolist() == [int(("%.5e" % v).split("e")[0].replace(".", "")) for v in values]


def _old_writer(path, words, vectors):
    """write_word2vec_text before float_text.py (it wrote a float32 copy of any array)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    row_format = " ".join(["%.6g"] * vectors.shape[1])
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write(f"{vectors.shape[0]} {vectors.shape[1]}\n")
        for w, row in zip(words, vectors.tolist()):
            out.write(f"{w} {row_format % tuple(row)}\n")


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.float64])
def test_vec_bytes_unchanged(tmp_path, monkeypatch, dtype):
    """The .vec writer's bytes equal those of Python's % on every value, with rows numpy
    leaves to Python among the others, over several batches, for every dtype."""
    monkeypatch.setattr(text_formats, "WRITE_BATCH_ROWS", 7)
    rng = np.random.default_rng(3)
    vectors = rng.normal(0, 0.3, (40, 5)).astype(dtype)
    with np.errstate(over="ignore"):   # float16: 2e7 is infinite
        vectors[3, 1], vectors[10, 4], vectors[11, 0], vectors[12, 2] = 1e-13, 2e7, -0.0, 0.0
    words = [f"w{i}" if i % 3 else f"wörd{i}" for i in range(len(vectors))]
    text_formats.write_word2vec_text(tmp_path / "new.vec", words, vectors)
    _old_writer(tmp_path / "old.vec", words, vectors)
    assert (tmp_path / "new.vec").read_bytes() == (tmp_path / "old.vec").read_bytes()
