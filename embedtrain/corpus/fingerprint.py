"""What a run records about its corpus before reading it: each file's path, size and a
digest of its first megabyte. Cheap (one megabyte a file), so ``--resume`` can refuse
another corpus before any work, and a model's lineage can say what it was trained on."""
from __future__ import annotations

import hashlib
import os
from typing import Any

from .source import IdSequences, TextFiles, TokenLists, as_source
from .text import STDIN, expand_sources

# Bytes of each file that go into its digest.
HEAD_BYTES = 1 << 20


def corpus_record(corpus: Any) -> dict[str, Any]:
    """``{"files": [{"path", "bytes", "head"}, ...]}`` for text files (stdin: path "-"
    alone), ``{"source": "token lists"}`` (or the source's class name) otherwise."""
    source = as_source(corpus)
    if isinstance(source, TextFiles):
        return {"files": [file_record(path) for path in expand_sources(source.paths)]}
    if isinstance(source, TokenLists):
        return {"source": "token lists"}
    if isinstance(source, IdSequences):
        return {"source": "id sequences (random walks)"}
    return {"source": type(source).__name__}


def file_record(path: str) -> dict[str, Any]:
    if path == STDIN:
        return {"path": STDIN}
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read(HEAD_BYTES))
    return {"path": os.path.abspath(path), "bytes": os.path.getsize(path), "head": h.hexdigest()[:16]}


def same_text(recorded: dict[str, Any], current: dict[str, Any]) -> bool:
    """Whether two records name the same files by content (sizes and first megabytes, in
    order; the paths may differ: a corpus moved elsewhere is the same corpus). Records
    without files (stdin, token lists) cannot be compared: True."""
    def content(record):
        files = record.get("files")
        if not isinstance(files, list) or any(f.get("path") == STDIN for f in files):
            return None
        return [(f.get("bytes"), f.get("head")) for f in files]

    a, b = content(recorded), content(current)
    return a is None or b is None or a == b


def describe(record: dict[str, Any]) -> str:
    """A short name for a record: the first file and how many more."""
    files = record.get("files")
    if not files:
        return str(record.get("source", "unknown"))
    first = files[0].get("path", "?")
    return first if len(files) == 1 else f"{first} and {len(files) - 1} more file{'s' if len(files) > 2 else ''}"
