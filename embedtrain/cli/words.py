"""``embedtrain vectors MODEL``: print the vector of each word read from stdin, like
fastText's ``print-word-vectors``; a FastText model builds vectors for unseen words."""
from __future__ import annotations

import sys
from pathlib import Path

import click
import numpy as np

from .app import handle_errors, log, main, verbosity_options


def _load_vectors(path: str, mmap: bool = False):
    from ..errors import EmbedtrainError
    from ..models import Model, is_model_file

    p = Path(path)
    if not p.exists():
        raise EmbedtrainError(f"model file {p} does not exist")
    if p.is_dir():
        raise EmbedtrainError(f"{p} is a directory, not a model file")
    if is_model_file(p):
        return Model.load(p, mmap=mmap).vectors
    if mmap:
        raise EmbedtrainError(f"--mmap maps embedtrain model files (.etm) only; {p} is not one")
    try:  # any vectors file another tool wrote (known words only)
        from ..io.formats import load_vectors
    except ImportError:
        raise EmbedtrainError(f"{p} is not an embedtrain model file") from None
    return load_vectors(p)


def _words_from(lines):
    for line in lines:
        yield line.split()


@main.command("vectors", short_help="Print the vector of each word (any word, for FastText).")
@click.argument("model", metavar="MODEL")
@click.argument("words", nargs=-1)
@click.option("--mmap", is_flag=True, default=False,
              help="Memory-map the model's weights instead of reading them (docs/memory.md).")
@verbosity_options
@handle_errors
def vectors_command(model: str, words: tuple[str, ...], mmap: bool) -> None:
    """Print 'word v1 ... vdim' for each of WORDS, or for each word read from stdin
    (one per line or whitespace-separated), like fastText's print-word-vectors.

    MODEL is a model file (.etm) or any vectors file. A FastText model gives a vector
    for any word, seen in training or not, from its character n-grams. A word with no
    vector (not in the vocabulary of a model without subwords) is printed with zeros,
    as fastText does, and counted in a warning on stderr.
    """
    from ..io.text import TEXT_FLOAT_FORMAT

    vectors = _load_vectors(model, mmap)
    row_format = " ".join([TEXT_FLOAT_FORMAT] * vectors.dim)
    zeros = np.zeros(vectors.dim, dtype=np.float32)
    missing = 0
    interactive = sys.stdin.isatty()
    batches = [list(words)] if words else _words_from(sys.stdin)
    out = sys.stdout
    for batch in batches:
        lines = []
        for word in batch:
            vec = vectors[word] if word in vectors else vectors.vector_for_unknown(word)
            if vec is None:
                missing += 1
                vec = zeros
            lines.append(f"{word} {row_format % tuple(vec.tolist())}\n")
        out.write("".join(lines))
        if interactive:
            out.flush()
    out.flush()
    if missing:
        log.warning("embedtrain: warning: %d word%s had no vector (not in the vocabulary, and the "
                    "model has no subwords); printed zeros", missing, "" if missing == 1 else "s")
