"""``embedtrain classify train|test|predict``: fastText's supervised mode. Options are
built from ClassifyConfig (embedtrain/classify/config.py), so every default is written once."""
from __future__ import annotations

import dataclasses
import json
import sys

import click

from ..classify.config import ClassifyConfig, QuantizeConfig
from ..errors import EmbedtrainError
from ..io.atomic import check_writable
from .app import (field_option, handle_errors, json_option, log, main, quiet, show_default,
                  verbosity_options)

PREDICT_BATCH_LINES = 10_000


def classify_options(func):
    for f in reversed(dataclasses.fields(ClassifyConfig)):
        func = field_option(f, f"{f.metadata['help']} [default: {show_default(f.default)}]")(func)
    return func


k_option = click.option("-k", "k", type=int, default=1, show_default=True,
                        help="Predict the k most probable labels.")
threshold_option = click.option("--threshold", type=float, default=0.0, show_default=True,
                                help="Only labels with at least this probability.")


@main.group("classify", short_help="Train and use fastText-style text classifiers.")
def classify_group() -> None:
    """Text classification as fastText's supervised mode: lines of `__label__X ... text`."""


@classify_group.command("train", short_help="Train a classifier on __label__-prefixed lines.")
@click.argument("train_file", metavar="TRAIN.txt", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, metavar="MODEL",
              help="Write the classifier here (an embedtrain .etm model file).")
@classify_options
@click.option("--autotune-validation", metavar="DEV.txt", type=click.Path(dir_okay=False),
              default=None, help="Search epochs, lr, dim, word n-grams, bucket and loss for the "
                                 "best P@1 on this file (fastText's -autotune-validation).")
@click.option("--autotune-duration", type=float, default=300.0, show_default=True, metavar="S",
              help="Seconds the autotune search may take.")
@click.option("--resume", type=click.Path(dir_okay=False), default=None, metavar="MODEL.ckpt",
              help="Continue an interrupted run from its checkpoint (same TRAIN.txt; the settings "
                   "not given are the checkpoint's, --threads and --checkpoint-every may change).")
@verbosity_options
@handle_errors
def train_command(train_file: str, output: str, autotune_validation: str | None,
                  autotune_duration: float, resume: str | None, **settings) -> None:
    """Train a classifier on TRAIN.txt (fastText's format) and save it to MODEL."""
    from ..classify.config import classify_config
    from ..io.checkpoint import remove_checkpoint
    given = {k: v for k, v in settings.items() if v is not None}
    config = classify_config(**given)
    check_writable(output)
    own = checkpoint_path(output)   # this run's checkpoint: the only one it removes
    if autotune_validation:
        if resume or config.checkpoint_every:
            raise EmbedtrainError("--autotune-validation does not take --checkpoint-every or --resume "
                                  "(each trial is short; rerun the search instead)")
        from ..classify.autotune import autotune
        clf = autotune(train_file, autotune_validation, autotune_duration, config)
        best = clf.stats["autotune"]
        click.echo(json.dumps({"best": best["best"], "validation_P@1": best["validation_p_at_1"],
                               "trials": best["trials"]}))
    else:
        from ..classify.model import train
        if resume:
            clf = train(train_file, checkpoint=own, resume=resume, keep_checkpoint=True,
                        progress=not quiet(), **given)
        else:
            clf = train(train_file, config, checkpoint=own if config.checkpoint_every else None,
                        keep_checkpoint=True, progress=not quiet())
    clf.save(output)
    # the run is complete and saved: its own checkpoint goes (a checkpoint resumed from
    # under another name is kept, as `embedtrain train` keeps it)
    remove_checkpoint(own)
    if not quiet():
        log.info("%r: %s examples per epoch in %.2f s; wrote %s", clf,
                 f"{clf.stats.get('examples_per_epoch', 0):,}", clf.stats.get("seconds", 0), output)


def checkpoint_path(output: str) -> str:
    """Where ``classify train -o MODEL`` writes its checkpoints: MODEL's name with .ckpt
    for .etm (``trec.etm`` -> ``trec.ckpt``), or .ckpt added."""
    from ..io.checkpoint import CHECKPOINT_SUFFIX
    from ..models import MODEL_SUFFIX
    stem = output[:-len(MODEL_SUFFIX)] if output.endswith(MODEL_SUFFIX) else output
    return stem + CHECKPOINT_SUFFIX


def _fmt(x: float) -> str:
    return "nan" if x != x else f"{x:.3g}"


@classify_group.command("test", short_help="Precision and recall at k on a labelled file.")
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("test_file", metavar="TEST.txt", type=click.Path(dir_okay=False))
@k_option
@threshold_option
@click.option("--per-label", is_flag=True, default=False, help="Also each label's precision, recall and F1.")
@json_option
@verbosity_options
@handle_errors
def test_command(model: str, test_file: str, k: int, threshold: float, per_label: bool,
                 as_json: bool) -> None:
    """fastText's test: N, P@k and R@k of MODEL (.etm, or fastText's supervised .bin) on TEST.txt."""
    from ..classify.model import Classifier
    result = Classifier.load(model).test(test_file, k, threshold)
    if as_json:
        out = result.to_dict()
        if not per_label:
            out.pop("per_label")
        click.echo(json.dumps(out))
        return
    click.echo(f"N\t{result.examples}")
    click.echo(f"P@{result.k}\t{_fmt(result.precision)}")
    click.echo(f"R@{result.k}\t{_fmt(result.recall)}")
    if per_label:
        click.echo("label\tprecision\trecall\tF1\tgold")
        for label, m in result.per_label.items():
            click.echo(f"{label}\t{_fmt(m['precision'])}\t{_fmt(m['recall'])}\t{_fmt(m['f1'])}\t{m['gold']}")


@classify_group.command("predict", short_help="The most probable labels of each line.")
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("text_file", metavar="[FILE|-]", default="-", type=click.Path(dir_okay=False, allow_dash=True))
@k_option
@threshold_option
@click.option("--probabilities", is_flag=True, default=False,
              help="Print each label's probability after it (fastText's predict-prob).")
@verbosity_options
@handle_errors
def predict_command(model: str, text_file: str, k: int, threshold: float, probabilities: bool) -> None:
    """One line of labels per input line of FILE (or standard input), best first."""
    from ..classify.data import read_lines, split_lines
    from ..classify.model import Classifier
    clf = Classifier.load(model)
    k = clf._check_k(k)
    clf._check_threshold(threshold)
    lines = split_lines(sys.stdin.buffer.read(), "standard input") if text_file == "-" \
        else read_lines(text_file, "input")
    out = sys.stdout
    for start in range(0, len(lines), PREDICT_BATCH_LINES):
        for preds in clf.predict_lines(lines[start:start + PREDICT_BATCH_LINES], k, threshold):
            if probabilities:
                out.write(" ".join(f"{lab} {p:.6g}" for lab, p in preds) + "\n")
            else:
                out.write(" ".join(lab for lab, _ in preds) + "\n")
    out.flush()


def quantize_options(func):
    for f in reversed(dataclasses.fields(QuantizeConfig)):
        func = field_option(f, f"{f.metadata['help']} [default: {show_default(f.default)}]")(func)
    return func


@classify_group.command("quantize", short_help="A small classifier (fastText's quantize, .ftz).")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, metavar="SMALL",
              help="Write the quantised classifier here: SMALL.ftz in fastText's format "
                   "(fasttext.load_model reads it), any other name as an embedtrain .etm.")
@click.option("--input", "training_data", metavar="TRAIN.txt", type=click.Path(dir_okay=False),
              default=None, help="The training data, for --retrain (fastText's -input).")
@quantize_options
@verbosity_options
@handle_errors
def quantize_command(model: str, output: str, training_data: str | None, **settings) -> None:
    """Quantise MODEL (.etm, or fastText's supervised .bin) as fastText's quantize does:
    keep the --cutoff rows of largest norm, optionally retrain them, and store each row
    as ceil(dim / dsub) bytes."""
    from pathlib import Path

    from ..classify.config import quantize_config
    from ..classify.quantization import quantize
    small = quantize(model, quantize_config(**settings), training_data, output)
    if not quiet():
        before, after = Path(model).stat().st_size, Path(output).stat().st_size
        log.info("%r: %s input rows; wrote %s: %s bytes (%s: %s bytes, %.0fx smaller)", small,
                 f"{small.input_vectors.shape[0]:,}", output, f"{after:,}", model, f"{before:,}",
                 before / max(after, 1))
