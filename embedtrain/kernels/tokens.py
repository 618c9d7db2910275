"""Reading a block of text into token ids (corpus/tokens.py): one kernel.

The text is bytes in which only ASCII whitespace separates tokens: every byte of a
token is either ASCII and not whitespace, or part of a UTF-8 character (>= 0x80).
``\\n`` ends a line; the other separators are Python's ASCII whitespace (``str.split()``):
``\\t \\v \\f \\r``, the four information separators 0x1c-0x1f, and space. A token gets the
id of its first appearance, counting from 0, in the order tokens are met, so the ids
are those a ``dict`` gives in ``defaultdict(itertools.count().__next__)``: the plain
Python reference in ``tests/reference_tokens.py``.

The table of distinct tokens is held in arrays the caller owns and grows:
``slots`` (a power of two of open-addressing slots, -1 when empty, else a token id),
and per token id its 64-bit FNV-1a ``hashes``, ``starts`` and ``lengths`` in ``store``
(the tokens' bytes). ``state`` carries what a call resumes from: see the ``S_*``
indices.
"""
import numpy as np
from numba import njit

from .options import HELPER_OPTIONS, ROW_OPTIONS

# state[...]: tokens known, bytes of store used, ids written, lines ended, tokens in the
# current line, and the position in the text to go on from
S_WORDS, S_STORE, S_IDS, S_LINES, S_CURRENT, S_POS = range(6)
STATE_SIZE = 6

FNV_OFFSET = np.uint64(14695981039346656037)
FNV_PRIME = np.uint64(1099511628211)

DONE, GROW = 0, 1


@njit(**HELPER_OPTIONS)
def _is_separator(b):
    return b == 32 or 9 <= b <= 13 or 28 <= b <= 31


@njit(**ROW_OPTIONS)
def read_tokens(text, slots, hashes, starts, lengths, store, state, ids, line_tokens):
    """Read ``text`` (uint8) from ``state[S_POS]``: each token's id into ``ids``, each
    ended line's token count into ``line_tokens``, new tokens into the table.

    Returns DONE at the end of the text (a last line that does not end in ``\\n`` is
    counted in ``line_tokens`` as open) or GROW, before a new token, when the table or
    ``store`` is full (half the slots taken): the caller grows them and calls again (it
    fills larger slots by reading the known tokens again into an empty table). ``ids``
    must hold every token of the text and ``line_tokens`` its lines.
    """
    n = text.shape[0]
    mask = np.uint64(slots.shape[0] - 1)
    i = state[S_POS]
    n_ids = state[S_IDS]
    n_lines = state[S_LINES]
    current = state[S_CURRENT]
    while i < n:
        b = np.int64(text[i])
        if b == 10:
            line_tokens[n_lines] = current
            n_lines += 1
            current = 0
            i += 1
            continue
        if _is_separator(b):
            i += 1
            continue
        h = FNV_OFFSET
        j = i
        while j < n:
            c = np.int64(text[j])
            if _is_separator(c):
                break
            h = (h ^ np.uint64(c)) * FNV_PRIME
            j += 1
        size = j - i
        slot = np.int64(h & mask)
        word = -1
        while True:
            w = slots[slot]
            if w < 0:
                break
            if hashes[w] == h and lengths[w] == size:
                start = starts[w]
                same = True
                for k in range(size):
                    if store[start + k] != text[i + k]:
                        same = False
                        break
                if same:
                    word = w
                    break
            slot = np.int64((np.uint64(slot) + np.uint64(1)) & mask)
        if word < 0:
            n_words = state[S_WORDS]
            used = state[S_STORE]
            if (2 * (n_words + 1) > slots.shape[0] or n_words + 1 > hashes.shape[0]
                    or used + size > store.shape[0]):
                state[S_POS] = i
                state[S_IDS] = n_ids
                state[S_LINES] = n_lines
                state[S_CURRENT] = current
                return GROW
            for k in range(size):
                store[used + k] = text[i + k]
            word = n_words
            slots[slot] = word
            hashes[word] = h
            starts[word] = used
            lengths[word] = size
            state[S_WORDS] = n_words + 1
            state[S_STORE] = used + size
        ids[n_ids] = word
        n_ids += 1
        current += 1
        i = j
    if n == 0 or text[n - 1] != 10:
        line_tokens[n_lines] = current
        n_lines += 1
    state[S_POS] = n
    state[S_IDS] = n_ids
    state[S_LINES] = n_lines
    state[S_CURRENT] = 0
    return DONE
