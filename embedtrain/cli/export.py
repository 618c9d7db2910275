"""``embedtrain export``: write vectors in the formats other tools read."""
from __future__ import annotations

import click
import numpy as np

from ..io.atomic import check_writable
from ..errors import EmbedtrainError
from ..io.formats import READ_FORMATS, WRITE_FORMATS, load_vectors, npy_paths, write_vectors
from ..io.projector import (PROJECTOR_DEFAULT_LIMIT, PROJECTOR_MAX_POINTS,
                            check_projector_output, projector_limit, write_projector)
from ..vectors import Vectors
from .app import handle_errors, log, main, verbosity_options

FASTTEXT_BIN = "fasttext-bin"
FLORET = "floret"
PROJECTOR = "projector"
EXPORT_FORMATS = WRITE_FORMATS + (FASTTEXT_BIN, FLORET, PROJECTOR)


@main.command("export", short_help="Write vectors in the formats other tools read.")
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, metavar="OUT",
              help="Output file (npy: OUT.npy and OUT.vocab.txt; projector: a directory).")
@click.option("-f", "--format", "format_", type=click.Choice(EXPORT_FORMATS), required=True,
              help="word2vec-text, word2vec-binary, glove (text, no header), npy, fasttext-bin "
                   "(a FastText model, or a classifier .etm: fastText's supervised .bin), floret (the "
                   "table of a --floret model, for 'spacy init vectors --mode floret'), or projector "
                   "(vectors.tsv and metadata.tsv "
                   "for the TensorFlow Embedding Projector).")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Keep only the N most frequent words (projector: default "
                   f"{PROJECTOR_DEFAULT_LIMIT:,}, at most {PROJECTOR_MAX_POINTS:,}).")
@click.option("--normalize", is_flag=True, default=False, help="Write unit-length vectors.")
@click.option("--source-format", type=click.Choice(READ_FORMATS), default=None,
              help="Format of SOURCE. [default: detected from the content]")
@verbosity_options
@handle_errors
def export_command(source: str, output: str, format_: str, limit: int | None, normalize: bool,
                   source_format: str | None) -> None:
    """Write the vectors of SOURCE (a model file or any vectors file) to OUT in FORMAT."""
    if format_ == FASTTEXT_BIN:
        export_fasttext_bin(source, output, limit, normalize)
    elif format_ == FLORET:
        export_floret(source, output, limit, normalize)
    elif format_ == PROJECTOR:
        export_projector(source, output, limit, normalize, source_format)
    else:
        targets = npy_paths(output) if format_ == "npy" else (output,)
        for target in targets:
            check_writable(target)
        vectors = load_vectors(source, source_format)
        vectors = export_view(vectors, limit, normalize)
        written = write_vectors(output, vectors, format_)
        log.info("wrote %s words, dim %d: %s", f"{len(vectors):,}", vectors.dim,
                     ", ".join(str(p) for p in written))


def export_view(vectors: Vectors, limit: int | None, normalize: bool) -> Vectors:
    """The N most frequent words (the first N when the source has no counts: vector files
    list words most frequent first), optionally scaled to unit length."""
    words, matrix, counts = vectors.words, vectors.vectors, vectors.counts
    if limit is not None and limit < len(words):
        if counts is None:
            keep = slice(0, limit)
            words, matrix = words[keep], matrix[keep]
        else:
            order = np.argsort(-counts, kind="stable")[:limit]
            words = [words[i] for i in order]
            matrix, counts = matrix[order], counts[order]
    if normalize:
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix = matrix / np.where(norms == 0, 1.0, norms)
    if matrix is vectors.vectors:
        return vectors
    return Vectors(words, matrix, None if counts is None else counts[:len(words)])


def export_fasttext_bin(source: str, output: str, limit: int | None, normalize: bool) -> None:
    """fastText's .bin needs the whole model (n-gram buckets, output matrix, settings)."""
    from ..models import Model, is_model_file

    if limit is not None or normalize:
        raise EmbedtrainError("--limit and --normalize do not apply to fasttext-bin, which "
                              "writes the whole model")
    from ..io.classifier import is_classifier_file
    if is_classifier_file(source):  # a text classifier: fastText's supervised .bin
        from ..classify.model import Classifier
        from ..io.fasttext_supervised import write_supervised_bin
        if limit is not None or normalize:
            raise EmbedtrainError("--limit and --normalize do not apply to fasttext-bin")
        check_writable(output)
        write_supervised_bin(Classifier.load(source), output)
        log.info("wrote %s", output)
        return
    if not is_model_file(source):
        raise EmbedtrainError(f"fasttext-bin needs an embedtrain FastText model file (.etm); "
                              f"{source} is not a model file")
    model = Model.load(source)
    if getattr(model, "compression", None) is not None:
        raise EmbedtrainError(f"fasttext-bin needs the full model; {source} is a compressed model "
                              f"(export the model it was compressed from)")
    if model.kind != "fasttext":
        raise EmbedtrainError(f"fasttext-bin needs a FastText model; {source} is a {model.kind} model")
    try:
        from ..io.fasttext_bin import write_fasttext_bin
    except ImportError:
        raise EmbedtrainError("this embedtrain cannot write fasttext-bin yet "
                              "(embedtrain.io.fasttext_bin is missing)") from None
    check_writable(output)
    write_fasttext_bin(model, output)
    log.info("wrote %s", output)


def export_floret(source: str, output: str, limit: int | None, normalize: bool) -> None:
    """spaCy's floret table needs the whole model (its hashed rows and settings)."""
    from ..io.floret import write_floret
    from ..models import load_model_file

    if limit is not None or normalize:
        raise EmbedtrainError("--limit and --normalize do not apply to floret, which writes the "
                              "whole hashed table")
    model = load_model_file(source, "floret needs a FastText model trained with --floret")
    check_writable(output)
    write_floret(model, output)
    log.info("wrote %s (%s rows, dim %d): spacy init vectors LANG %s DIR --mode floret", output,
             f"{model.config.bucket:,}", model.config.dim, output)


def export_projector(source: str, output: str, limit: int | None, normalize: bool,
                     source_format: str | None) -> None:
    """The Embedding Projector's two TSV files in the directory OUT."""
    check_projector_output(output)
    capped = projector_limit(limit)
    vectors = load_vectors(source, source_format)
    if limit is not None and capped < min(limit, len(vectors)):
        log.info("the Embedding Projector loads at most %s points: writing the %s most frequent "
                 "words", f"{capped:,}", f"{capped:,}")
    vectors = export_view(vectors, capped, normalize)
    written = write_projector(output, vectors)
    log.info("wrote %s words, dim %d: %s (load them at https://projector.tensorflow.org)",
             f"{len(vectors):,}", vectors.dim, ", ".join(str(p) for p in written))
