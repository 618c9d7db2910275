"""The token table (corpus/tokens.py, kernels/tokens.py) against the plain-Python reader
(tests/reference_tokens.py), and text files read through it against token lists."""
import random
import sys

import numpy as np
import pytest

from embedtrain.corpus import stream as stream_mod
from embedtrain.corpus import tokens as tokens_mod
from embedtrain.corpus import text as text_mod
from embedtrain.corpus.text import ascii_separated, encode, tokenise_block
from embedtrain.kernels import tokens as tokens_kernel

from reference_tokens import read_blocks

# Every kind of byte the reader must tell apart: ASCII letters of both cases, Python's
# ASCII whitespace (the four information separators too), Unicode whitespace (NEL,
# no-break space, line separator, ideographic space), letters whose lowercase is not one
# character or is ASCII (dotted capital I, Kelvin sign), and CJK.
PIECES = ["a", "B", "z", "Q", "Ä", "é", "ß", "\u0130", "\u212a", "日", "\u2013", " ", "  ", "\t", "\n",
          "\n\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\u00a0", "\u1680", "\u2009",
          "\u2028", "\u3000"]


def random_block(rng: random.Random, ascii_only: bool) -> bytes:
    pieces = [p for p in PIECES if p.isascii()] if ascii_only else PIECES
    if not ascii_only and rng.random() < 0.4:  # UTF-8 without Unicode whitespace: read as it is
        pieces = [p for p in pieces if p.isascii() or not p.isspace()]
    data = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 300))).encode("utf-8")
    if not ascii_only and rng.random() < 0.3:
        cut = rng.randint(0, len(data))
        data = data[:cut] + rng.choice([b"\xff", b"\xc3", b"\xe6\x97", b"\x80\x80"]) + data[cut:]
    return data


def table_read(blocks, lowercase):
    table = tokens_mod.TokenTable()
    ids, lengths, opens = [], [], []
    for block in blocks:
        text = ascii_separated(block, lowercase)
        i, n = table.read(text)
        assert i.dtype == np.int32
        ids.append(i.tolist())
        lengths.append(n)
        opens.append(not text.endswith(b"\n"))
    return table.words(), ids, lengths, opens


@pytest.mark.parametrize("lowercase", [False, True])
@pytest.mark.parametrize("ascii_only", [True, False])
def test_table_reads_as_the_reference(lowercase, ascii_only):
    rng = random.Random(7 + lowercase + 2 * ascii_only)
    for _ in range(60):
        blocks = [random_block(rng, ascii_only) for _ in range(rng.randint(1, 4))]
        assert table_read(blocks, lowercase) == read_blocks(blocks, lowercase), blocks


def test_growing_from_a_tiny_table_keeps_every_id(monkeypatch):
    """Two slots and a 4-byte store to start: every new token past the first grows the
    table (refilling its slots) or the store, in the middle of a block, and reading resumes."""
    monkeypatch.setattr(tokens_mod, "FIRST_WORDS", 1)
    monkeypatch.setattr(tokens_mod, "FIRST_STORE_BYTES", 4)
    rng = np.random.default_rng(3)
    words = [f"w{i}x{'y' * int(k)}" for i, k in enumerate(rng.integers(0, 30, 3000))]
    blocks = []
    for _ in range(3):
        picks = rng.integers(0, len(words), 5000)
        blocks.append(("\n".join(" ".join(words[j] for j in picks[s:s + 50]) for s in range(0, 5000, 50))
                       + "\n").encode())
    got = table_read(blocks, False)
    want = read_blocks(blocks, False)
    assert got == want
    assert len(got[0]) > 2500  # many growths happened
    # the known tokens are read again as read-only text, as a block is: one compiled kernel
    assert len(tokens_kernel.read_tokens.signatures) == 1


def test_same_hash_bucket_tokens_stay_apart(monkeypatch):
    """Tokens that differ only in case, length or one byte, read into a table of two
    slots (every lookup probes past others), keep their own ids; lowercased they merge."""
    monkeypatch.setattr(tokens_mod, "FIRST_WORDS", 1)
    block = b"ab aB Ab AB abc ab\nba a b ab abc aBc\n"
    assert table_read([block], False) == read_blocks([block], False)
    words, ids, _, _ = table_read([block], True)
    assert words == ["ab", "abc", "ba", "a", "b"]
    assert ids == [[0, 0, 0, 0, 1, 0, 2, 3, 4, 0, 1, 1]]


def test_text_files_read_as_token_lists(tmp_path):
    """encode() of a file (the table) equals a RawBuilder fed the same tokens as strings
    (the dict): words, counts, the id stream and the counts of tokens and sentences."""
    rng = random.Random(11)
    data = b"".join(random_block(rng, ascii_only=rng.random() < 0.5) + b"\n" for _ in range(400))
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    for lowercase in (False, True):
        raw = encode([str(path)], lowercase=lowercase, max_line_tokens=7)
        builder = stream_mod.RawBuilder(7)
        builder.add(*tokenise_block(data, lowercase))
        want = builder.finish()
        assert raw.words == want.words
        assert np.array_equal(raw.counts, want.counts)
        assert (raw.n_entries, raw.n_tokens, raw.n_sentences) == (want.n_entries, want.n_tokens, want.n_sentences)
        assert np.array_equal(np.concatenate(list(raw.blocks())), np.concatenate(list(want.blocks())))
        raw.close()
        want.close()


def test_a_builder_takes_text_or_tokens_not_both():
    builder = stream_mod.RawBuilder()
    builder.add(["a"], [1])
    with pytest.raises(AssertionError):
        builder.add_text(b"a\n")
    builder.close()


def test_the_unicode_spaces_are_those_str_split_splits_on():
    """The characters beyond ASCII that send a block through Python's split are exactly the
    running Python's whitespace (a later Unicode database would fail here, not misread)."""
    spaces = "".join(c for c in map(chr, range(0x80, sys.maxunicode + 1)) if c.isspace())
    assert text_mod.UNICODE_SPACES == spaces
    for c in spaces:
        assert ascii_separated(f"a{c}b\n".encode(), False) == b"a b\n"
    assert ascii_separated("a\u2013b\n".encode(), False) == "a\u2013b\n".encode()  # kept as it is


def test_utf8_blocks_without_unicode_spaces_are_kept_as_they_are():
    block = "Grüße aus Köln\tÄRGER\n".encode()
    assert ascii_separated(block, False) is block
    assert ascii_separated(block, True) == "grüße aus köln\tärger\n".encode()
    broken = block[:2] + b"\xff" + block[2:]
    assert ascii_separated(broken, False) == "Gr\ufffdüße aus Köln ÄRGER\n".encode()
