"""Bilingual dictionaries: ``source target`` pairs, one a line.

The files MUSE, VecMap and xling-eval ship: two words a line, separated by a tab or by
spaces. Empty lines and ``#`` lines are skipped; a first line naming the columns
(``source target``, ``src tgt``...) is a header; repeated pairs count once;
lines without exactly two words are skipped and counted in one warning. Whether the words
have vectors is not this module's business (the callers report it as coverage).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from ..errors import EmbedtrainError

log = logging.getLogger("embedtrain")

# Words a header line may name its two columns with (compared lowercased).
HEADER_WORDS = frozenset({"source", "target", "src", "tgt", "trg", "word", "translation",
                          "gold", "query", "answer"})


def _is_header(fields: list[str]) -> bool:
    return all(f.lower() in HEADER_WORDS for f in fields)


def _fields(line: str) -> list[str]:
    return line.split("\t") if "\t" in line else line.split()


def read_pairs(path: str | os.PathLike) -> list[tuple[str, str]]:
    """The distinct (source, target) pairs of a dictionary file, in file order."""
    p = Path(path)
    if not p.exists():
        raise EmbedtrainError(f"dictionary {p} does not exist")
    if p.is_dir():
        raise EmbedtrainError(f"{p} is a directory, not a dictionary file")
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EmbedtrainError(f"dictionary {p} is not UTF-8 text (byte offset {exc.start})") from None
    return parse_pairs(text.removeprefix("\ufeff").splitlines(), str(p))


def parse_pairs(lines, name: str = "dictionary") -> list[tuple[str, str]]:
    """Pairs from ``lines`` (see the module's docstring for what is skipped)."""
    seen: set[tuple[str, str]] = set()
    pairs: list[tuple[str, str]] = []
    bad: list[int] = []
    repeated = 0
    first = True
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = [f.strip() for f in _fields(line)]
        if first:
            first = False
            if _is_header(fields):
                continue
        if len(fields) != 2 or not all(fields):
            bad.append(number)
            continue
        pair = (fields[0], fields[1])
        if pair in seen:
            repeated += 1
            continue
        seen.add(pair)
        pairs.append(pair)
    if bad:
        log.warning("embedtrain: warning: %s: skipped %s line%s without exactly two words (first: "
                    "line %d)", name, f"{len(bad):,}", "" if len(bad) == 1 else "s", bad[0])
    if repeated:
        log.info("%s: %s repeated pair%s counted once", name, f"{repeated:,}",
                 "" if repeated == 1 else "s")
    return pairs
