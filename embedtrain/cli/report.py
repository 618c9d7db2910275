"""``embedtrain report``: one self-contained HTML page about a trained model."""
from __future__ import annotations

import click

from ..plot import DEFAULT_MAP_SEED, MAP_METHODS
from ..report import REPORT_MAP_METHOD, REPORT_MAP_WORDS, write_report
from .app import handle_errors, log, main, verbosity_options
from .plot import default_output

REPORT_OUTPUT_SUFFIX = "-report.html"


@main.command("report", short_help="Write a self-contained HTML report about a model.")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("-o", "--output", default=None, metavar="FILE",
              help=f"HTML page to write. [default: MODEL{REPORT_OUTPUT_SUFFIX}]")
@click.option("--eval", "evaluate", is_flag=True, default=False,
              help="Add the scores on the shipped similarity and analogy sets.")
@click.option("--words", "map_words", type=click.IntRange(min=3), default=REPORT_MAP_WORDS,
              show_default=True, help="Words on the word map.")
@click.option("--method", type=click.Choice(MAP_METHODS), default=REPORT_MAP_METHOD,
              show_default=True, help="Reduction to 2-D for the word map.")
@click.option("--seed", type=int, default=DEFAULT_MAP_SEED, show_default=True,
              help="Random seed of t-SNE and UMAP.")
@verbosity_options
@handle_errors
def report_command(model: str, output: str | None, evaluate: bool, map_words: int, method: str,
                   seed: int) -> None:
    """A self-contained HTML page about MODEL (.etm): settings, corpus and vocabulary
    statistics, loss per epoch, benchmark scores (--eval), nearest neighbours, word map.
    Needs the plot extra (matplotlib, scikit-learn)."""
    output = output or default_output(model, REPORT_OUTPUT_SUFFIX)
    write_report(model, output, evaluate=evaluate, map_words=map_words, method=method, seed=seed)
    log.info("wrote %s", output)
