"""The table of distinct tokens a text corpus is read into: each token's provisional id
(the order of first appearance) and its text, filled block by block by a numba kernel
(kernels/tokens.py) from text that corpus/text.py ``ascii_separated`` prepared. The ids,
line lengths and words are those that ``tokenise_block`` and a ``dict`` of first
appearances give (tests/test_tokens.py).
"""
from __future__ import annotations

import numpy as np

# Starting sizes of the table (doubled as it fills): distinct tokens, and their bytes.
FIRST_WORDS = 1 << 15
FIRST_STORE_BYTES = 1 << 18


class TokenTable:
    """Distinct tokens in order of first appearance, and the ids of the tokens read."""

    def __init__(self):
        from ..kernels import tokens as kernel

        self._kernel = kernel
        self.slots = np.full(2 * FIRST_WORDS, -1, dtype=np.int32)
        self.hashes = np.zeros(FIRST_WORDS, dtype=np.uint64)
        self.starts = np.zeros(FIRST_WORDS, dtype=np.int64)
        self.lengths = np.zeros(FIRST_WORDS, dtype=np.int32)
        self.store = np.zeros(FIRST_STORE_BYTES, dtype=np.uint8)
        self.state = np.zeros(kernel.STATE_SIZE, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.state[self._kernel.S_WORDS])

    def read(self, text: bytes) -> tuple[np.ndarray, list[int]]:
        """Text in which only ASCII whitespace separates tokens (corpus/text.py
        ``ascii_separated``) as token ids (int32) and the token count of each of its
        lines, the last one counted even when it does not end in a newline."""
        data = np.frombuffer(text, dtype=np.uint8)
        ids = np.empty(len(data) // 2 + 1, dtype=np.int32)
        line_tokens = np.empty(text.count(b"\n") + 1, dtype=np.int64)
        k = self._kernel
        self.state[[k.S_IDS, k.S_LINES, k.S_CURRENT, k.S_POS]] = 0
        while k.read_tokens(data, self.slots, self.hashes, self.starts, self.lengths,
                            self.store, self.state, ids, line_tokens) == k.GROW:
            self._grow(int(len(data) - self.state[k.S_POS]))
        return ids[: self.state[k.S_IDS]], line_tokens[: self.state[k.S_LINES]].tolist()

    def _grow(self, bytes_left: int) -> None:
        """Double what is full: the slots, the per-token arrays, the store. Larger slots are
        filled by reading the known tokens again, in id order, into an empty table (which
        gives each its id again): no second kernel to compile."""
        k = self._kernel
        n_words, used = int(self.state[k.S_WORDS]), int(self.state[k.S_STORE])
        if n_words + 1 > len(self.hashes):
            size = 2 * len(self.hashes)
            self.hashes = _grown(self.hashes, size)
            self.starts = _grown(self.starts, size)
            self.lengths = _grown(self.lengths, size)
        if used + bytes_left > len(self.store):
            self.store = _grown(self.store, max(2 * len(self.store), used + bytes_left))
        if 2 * (n_words + 1) > len(self.slots):
            self.slots = np.full(2 * len(self.slots), -1, dtype=np.int32)
            self._read_again(n_words, used)

    def _read_again(self, n_words: int, used: int) -> None:
        k = self._kernel
        known = np.full(used + n_words, ord(" "), dtype=np.uint8)  # each token, then a space
        ids = np.repeat(np.arange(n_words), self.lengths[:n_words])
        known[np.arange(used) + ids] = self.store[:used]
        known.flags.writeable = False  # read-only as a block of text is: the same compiled kernel
        saved = self.state.copy()
        self.state[:] = 0
        status = k.read_tokens(known, self.slots, self.hashes, self.starts, self.lengths, self.store,
                               self.state, np.empty(n_words + 1, np.int32), np.empty(1, np.int64))
        assert status == k.DONE and self.state[k.S_WORDS] == n_words and self.state[k.S_STORE] == used
        self.state[:] = saved

    def words(self) -> list[str]:
        """Every token's text, by id."""
        n = len(self)
        raw = self.store[: self.state[self._kernel.S_STORE]].tobytes()
        ends = np.cumsum(self.lengths[:n]).tolist()
        spans = zip([0, *ends[:-1]], ends)
        if raw.isascii():  # one decode, then slices of the string
            body = raw.decode("ascii")
            return [body[b:e] for b, e in spans]
        return [raw[b:e].decode("utf-8") for b, e in spans]


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=array.dtype)
    out[: len(array)] = array
    return out
