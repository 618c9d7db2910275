"""What the gensim-compatible classes share: refusing gensim's arguments that embedtrain
does not implement (in one line, naming them), and telling a gensim pickle apart."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import EmbedtrainError

# gensim's constant: the number of words in a batch and its longest sentence.
MAX_WORDS_IN_BATCH = 10_000
# gensim's most_similar_cosmul keeps its quotient finite with this (embedtrain's own: 1e-3).
GENSIM_COSMUL_EPSILON = 1e-6
# A pickle starts with the PROTO opcode (protocol 2 and later: gensim's files).
PICKLE_PROTO = 0x80


def _refuse_unsupported(where: str, given: dict[str, Any], defaults: dict[str, Any]) -> None:
    """One line naming every argument given a value other than gensim's default."""
    bad = [name for name, value in given.items() if not _same(value, defaults[name])]
    if bad:
        raise EmbedtrainError(f"{where}: {', '.join(bad)} {'is' if len(bad) == 1 else 'are'} not supported "
                              "by embedtrain (leave at gensim's default; docs/gensim.md)")


def _same(value: Any, default: Any) -> bool:
    if default is None or callable(default):
        return value is default
    try:
        return bool(value == default)
    except Exception:
        return False


def _is_pickle(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(2)
    return len(head) == 2 and head[0] == PICKLE_PROTO and 2 <= head[1] <= 5


def _pickle_error(path: Path) -> EmbedtrainError:
    return EmbedtrainError(f"{path} is a gensim pickle, which embedtrain does not read (unpickling can "
                           "run code): in gensim, save the vectors with wv.save_word2vec_format(PATH, "
                           "binary=True) and load that with KeyedVectors.load_word2vec_format")


def _existing(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.is_file():
        raise EmbedtrainError(f"{p} does not exist" if not p.exists() else f"{p} is not a file")
    return p
