"""``embedtrain doc-vectors`` (one vector per line of text, like fastText's
``print-sentence-vectors``) and ``embedtrain eval-classify`` (logistic regression on
document vectors: the extrinsic evaluation of word vectors)."""
from __future__ import annotations

import json
import sys

import click

from ..documents import SIF_A
from .app import handle_errors, json_option, log, main, verbosity_options

lowercase_option = click.option(
    "--lowercase/--no-lowercase", default=None,
    help="Lowercase the text. [default: as the model was trained; no for a vectors file]")
sif_a_option = click.option("--sif-a", "sif_a", type=float, default=None,
                            help=f"SIF's a in a / (a + p(w)). [default: {SIF_A:g}]")


@main.command("doc-vectors", short_help="Print one vector per line of text (mean, SIF or doc2vec).")
@click.argument("model", metavar="MODEL", type=click.Path(dir_okay=False))
@click.argument("file", metavar="[FILE|-]", default="-", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--sif", is_flag=True, default=False,
              help="SIF (Arora et al. 2017): frequency-weighted mean, common component removed.")
@sif_a_option
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="doc2vec inference: passes over each line. [default: the model's epochs]")
@click.option("--seed", type=int, default=None,
              help="doc2vec inference: the seed (same text and seed, same vector). [default: the model's]")
@lowercase_option
@json_option
@verbosity_options
@handle_errors
def doc_vectors_command(model: str, file: str, sif: bool, sif_a: float | None, epochs: int | None,
                        seed: int | None, lowercase: bool | None, as_json: bool) -> None:
    """Print one vector per line of FILE (default: stdin).

    MODEL is a model file (.etm) or any vectors file. For word vectors, a line's vector is
    the mean of its words' unit vectors (fastText's print-sentence-vectors; a FastText
    model gives unseen words a vector from their n-grams); with --sif, the SIF
    embedding, whose common component is computed over all the lines given. A doc2vec
    model infers each line's vector (the same text and seed give the same vector). A
    line without a word that has a vector is printed as zeros and counted in a warning.
    """
    from ..documents import DocumentEmbedder
    from ..extrinsic import read_lines
    from ..io.text import TEXT_FLOAT_FORMAT

    embedder = DocumentEmbedder.from_source(model, method="sif" if sif else "mean", a=sif_a,
                                            lowercase=lowercase)
    if embedder.doc2vec is None and (epochs is not None or seed is not None):
        raise click.UsageError("--epochs and --seed apply to a doc2vec model's inference")
    lines = read_lines(file)
    vectors = embedder.embed(lines, epochs=epochs, seed=seed)
    empty = int((embedder.known_words(lines) == 0).sum())
    if as_json:
        click.echo(json.dumps({"method": embedder.method, "dim": int(vectors.shape[1]),
                               "documents": len(lines), "without_known_words": empty,
                               "vectors": vectors.tolist()}))
    else:
        row = " ".join([TEXT_FLOAT_FORMAT] * vectors.shape[1]) + "\n"
        out = sys.stdout
        for vec in vectors:
            out.write(row % tuple(vec.tolist()))
        out.flush()
    if empty:
        log.warning("embedtrain: warning: %d line%s had no word with a vector; printed zeros",
                    empty, "" if empty == 1 else "s")


@main.command("eval-classify", short_help="Logistic regression on document vectors: accuracy, macro-F1.")
@click.argument("vectors", metavar="VECTORS", type=click.Path(dir_okay=False))
@click.argument("train", metavar="TRAIN.txt", type=click.Path(dir_okay=False, allow_dash=True))
@click.argument("test", metavar="TEST.txt", type=click.Path(dir_okay=False))
@click.option("--sif", is_flag=True, default=False, help="SIF document vectors in place of the mean.")
@sif_a_option
@lowercase_option
@click.option("--per-label", is_flag=True, default=False, help="Also each label's precision, recall, F1.")
@json_option
@verbosity_options
@handle_errors
def eval_classify_command(vectors: str, train: str, test: str, sif: bool, sif_a: float | None,
                          lowercase: bool | None, per_label: bool, as_json: bool) -> None:
    """Fit logistic regression (scikit-learn) on the document vectors of TRAIN.txt and
    report accuracy and macro-F1 on TEST.txt.

    VECTORS is any vectors file or a model file (.etm; a doc2vec model infers each
    document's vector). Lines are 'LABEL text' or fastText's '__label__X text' (told
    from the content).
    """
    from ..extrinsic import evaluate_classification

    result = evaluate_classification(vectors, train, test, method="sif" if sif else "mean", a=sif_a,
                                     lowercase=lowercase)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=1))
        return
    click.echo(f"method\t{result.method}\ntrain documents\t{result.train_documents}\n"
               f"test documents\t{result.test_documents}\naccuracy\t{result.accuracy:.4f}\n"
               f"macro-F1\t{result.macro_f1:.4f}")
    if per_label:
        click.echo("label\tprecision\trecall\tF1\tsupport")
        for label, s in result.per_label.items():
            click.echo(f"{label}\t{s['precision']:.4f}\t{s['recall']:.4f}\t{s['f1']:.4f}\t{s['support']}")
