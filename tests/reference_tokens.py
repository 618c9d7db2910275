"""Plain-Python reference for the token table (embedtrain/kernels/tokens.py through
embedtrain/corpus/tokens.py): blocks of UTF-8 text read as ``str.split()`` reads them,
each token numbered by its first appearance with a dict."""
from __future__ import annotations


def read_blocks(blocks: list[bytes], lowercase: bool) -> tuple[list[str], list[list[int]], list[list[int]], list[bool]]:
    """(words by id, each block's ids, each block's line token counts, each block's
    "last line left open") for ``blocks`` read one after another."""
    index: dict[str, int] = {}
    all_ids, all_lengths, all_open = [], [], []
    for block in blocks:
        text = block.decode("utf-8", errors="replace")
        if lowercase:
            text = text.lower()
        lines = text.split("\n")
        ends_open = not text.endswith("\n")
        if not ends_open:
            lines.pop()
        ids, lengths = [], []
        for line in lines:
            tokens = line.split()
            lengths.append(len(tokens))
            for token in tokens:
                ids.append(index.setdefault(token, len(index)))
        all_ids.append(ids)
        all_lengths.append(lengths)
        all_open.append(ends_open)
    return list(index), all_ids, all_lengths, all_open
