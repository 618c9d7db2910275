"""``embedtrain plot loss`` and ``embedtrain plot map``: pictures of models and vectors."""
from __future__ import annotations

from pathlib import Path

import click

from ..io.formats import READ_FORMATS, load_vectors
from ..plot import (DEFAULT_MAP_SEED, DEFAULT_MAP_WORDS, MAP_METHODS, check_plot_output,
                    plot_loss, plot_map, read_labels, read_words_file, require_matplotlib)
from .app import handle_errors, log, main, verbosity_options

# Input suffixes left out of a default output name (text8.etm -> text8-loss.png).
INPUT_SUFFIXES = (".gz", ".etm", ".vec", ".txt", ".bin", ".npy")
LOSS_OUTPUT_SUFFIX = "-loss.png"
MAP_OUTPUT_SUFFIX = "-map.png"


def default_output(source: str, suffix: str) -> str:
    """``SOURCE`` without its directory and known suffixes, plus ``suffix`` (in the
    current directory)."""
    name = Path(source).name
    for ending in INPUT_SUFFIXES:
        if name.endswith(ending) and len(name) > len(ending):
            name = name[:-len(ending)]
    return name + suffix


def display_names(paths: list[str]) -> list[str]:
    """File names, or whole paths when two files share a name."""
    names = [Path(p).name for p in paths]
    return names if len(set(names)) == len(names) else list(paths)


@main.group("plot", short_help="Plot the loss per epoch, or a 2-D map of word vectors.")
def plot_group() -> None:
    """Draw the loss per epoch of models, or a 2-D map of word vectors (PNG, SVG or PDF by
    the output's suffix; needs the plot extra)."""


@plot_group.command("loss")
@click.argument("models", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", default=None, metavar="FILE",
              help=f"Image to write (.png, .svg, .pdf). [default: MODEL{LOSS_OUTPUT_SUFFIX}]")
@verbosity_options
@handle_errors
def loss_command(models: tuple[str, ...], output: str | None) -> None:
    """Loss and words/s per epoch of each model file (.etm), one line per model."""
    from ..models import load_model_file

    require_matplotlib()
    output = output or default_output(models[0], LOSS_OUTPUT_SUFFIX)
    check_plot_output(output)
    loaded = [load_model_file(path, "the training history is kept only in model files")
              for path in models]
    plot_loss(loaded, output, display_names(list(models)))
    log.info("wrote %s", output)


@plot_group.command("map")
@click.argument("vectors", type=click.Path(dir_okay=False))
@click.option("-o", "--output", default=None, metavar="FILE",
              help=f"Image to write (.png, .svg, .pdf). [default: VECTORS{MAP_OUTPUT_SUFFIX}]")
@click.option("--words", "n_words", type=click.IntRange(min=1), default=None,
              help=f"Map the N most frequent words. [default: {DEFAULT_MAP_WORDS}]")
@click.option("--words-file", type=click.Path(dir_okay=False), default=None,
              help="Map the words listed in this file (one per line) instead.")
@click.option("--method", type=click.Choice(MAP_METHODS), default=MAP_METHODS[0], show_default=True,
              help="Reduction to 2-D: PCA (numpy), t-SNE (scikit-learn) or UMAP (umap-learn).")
@click.option("--labels", "labels_file", type=click.Path(dir_okay=False), default=None,
              help="Colour points by class: 'node label' lines (whitespace, tab or comma).")
@click.option("--seed", type=int, default=DEFAULT_MAP_SEED, show_default=True,
              help="Random seed of t-SNE and UMAP.")
@click.option("--format", "format_", type=click.Choice(READ_FORMATS), default=None,
              help="Format of VECTORS. [default: detected from the content]")
@verbosity_options
@handle_errors
def map_command(vectors: str, output: str | None, n_words: int | None, words_file: str | None,
                method: str, labels_file: str | None, seed: int, format_: str | None) -> None:
    """A labelled 2-D map of the most frequent words of VECTORS (a model file or any vectors
    file), or of the words in --words-file."""
    if n_words is not None and words_file is not None:
        raise click.UsageError("give --words or --words-file, not both")
    require_matplotlib()
    output = output or default_output(vectors, MAP_OUTPUT_SUFFIX)
    check_plot_output(output)
    words = read_words_file(words_file) if words_file else None
    labels = read_labels(labels_file) if labels_file else None
    loaded = load_vectors(vectors, format_)
    wmap = plot_map(loaded, output, words=words, n=n_words or DEFAULT_MAP_WORDS, method=method,
                    seed=seed, labels=labels, name=Path(vectors).name)
    log.info("wrote %s (%s words)", output, f"{len(wmap.words):,}")
