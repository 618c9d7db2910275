"""Graph commands: ``walks`` (random walks as text), ``eval-nodes`` (node
classification) and ``eval-links`` (link prediction). ``train --graph`` is in
:mod:`embedtrain.cli.walk_options`."""
from __future__ import annotations

import json
import click

from ..config import CommonConfig
from ..errors import EmbedtrainError
from ..graphs.evaluate import REPEATS, TEST_FRACTION, TRAIN_FRACTIONS
from .app import handle_errors, json_option, main, quiet, verbosity_options
from .walk_options import graph_model_options, walk_options

_COMMON = CommonConfig.__dataclass_fields__


# --------------------------------------------------------------------------- walks

@main.command("walks", short_help="Random walks over a graph, as text (DeepWalk, node2vec).")
@click.argument("edges", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the walks here, one a line (node names separated by spaces); - for stdout.")
@walk_options
@click.option("--seed", type=int, default=None,
              help=f"Random seed (the walks do not depend on --threads). [default: {_COMMON['seed'].default}]")
@click.option("--threads", type=int, default=None,
              help=f"{_COMMON['threads'].metadata['help']} [default: {_COMMON['threads'].default}]")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="TOML file of settings (walk settings are read from it).")
@verbosity_options
@handle_errors
def walks_command(edges: str, output: str, config_file: str | None, seed: int | None,
                  threads: int | None, **walk) -> None:
    """Write random walks over the graph in EDGES (DeepWalk; node2vec with --p/--q) as text."""
    from ..graphs.read import read_edge_list
    from ..io.atomic import check_writable
    from ..graphs.train import graph_configs
    from ..graphs.walks import STDOUT, write_walks

    config, walk_config = graph_configs(None, config_file, seed=seed, threads=threads, **walk)
    if output != STDOUT:
        check_writable(output)
    g = read_edge_list(edges, directed=walk_config.directed, weighted=walk_config.weighted)
    count = write_walks(g, walk_config, output, config.seed, config.worker_threads)
    if not quiet():
        click.echo(f"{g}: wrote {count:,} walks to {'stdout' if output == STDOUT else output}", err=True)


# --------------------------------------------------------------------------- evaluation

def _fractions(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise EmbedtrainError(f"--train-fraction takes numbers separated by commas (got {text!r})") from None


@main.command("eval-nodes", short_help="Node classification with node vectors: micro- and macro-F1.")
@click.argument("vectors", type=click.Path(dir_okay=False))
@click.argument("labels", type=click.Path(dir_okay=False))
@click.option("--train-fraction", "fractions", default=None, metavar="F[,F...]",
              help="Fractions of the labelled nodes the classifier is trained on. "
                   f"[default: {','.join(map(str, TRAIN_FRACTIONS))}]")
@click.option("--repeats", type=int, default=None, help=f"Random splits per fraction. [default: {REPEATS}]")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the random splits.")
@click.option("--format", "format_", default=None, help="Format of VECTORS. [default: detected]")
@json_option
@verbosity_options
@handle_errors
def eval_nodes_command(vectors: str, labels: str, fractions: str | None, repeats: int | None,
                       seed: int, format_: str | None, as_json: bool) -> None:
    """Node classification: one-vs-rest logistic regression on the vectors of the nodes in
    LABELS ('node label' lines; several lines for several labels); micro- and macro-F1."""
    from ..graphs.evaluate import eval_nodes
    from ..io.formats import load_vectors

    report = eval_nodes(load_vectors(vectors, format_), labels,
                        train_fractions=_fractions(fractions) or TRAIN_FRACTIONS,
                        repeats=REPEATS if repeats is None else repeats, seed=seed)
    if as_json:
        click.echo(json.dumps(report, indent=1))
        return
    kind = "multi-label" if report["multi_label"] else "single-label"
    click.echo(f"nodes labelled {report['nodes_labelled']:,}, with a vector {report['nodes_found']:,}; "
               f"{report['labels']} labels ({kind}); {report['repeats']} random splits")
    click.echo(f"{'train fraction':>14}  {'micro-F1':>15}  {'macro-F1':>15}")
    for r in report["results"]:
        click.echo(f"{r['train_fraction']:>14g}  {r['micro_f1']:.4f} ± {r['micro_f1_std']:.4f}  "
                   f"{r['macro_f1']:.4f} ± {r['macro_f1_std']:.4f}")


@main.command("eval-links", short_help="Link prediction: hold out edges, train on the rest, ROC-AUC.")
@click.argument("edges", type=click.Path(dir_okay=False))
@click.option("--test-fraction", type=float, default=None,
              help=f"Fraction of the edges held out and scored. [default: {TEST_FRACTION}]")
@click.option("-m", "--model", type=click.Choice(["skipgram", "cbow"]), default=None,
              help="Model to train. [default: skipgram]")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="TOML file of settings (keys are option names); options given here win.")
@json_option
@graph_model_options
@walk_options
@verbosity_options
@handle_errors
def eval_links_command(edges: str, test_fraction: float | None, model: str | None,
                       config_file: str | None, as_json: bool, **settings) -> None:
    """Link prediction: hold out edges of EDGES (the rest stays connected), train node
    vectors on the rest, and score held-out edges against as many non-edges (ROC-AUC)."""
    from ..graphs.evaluate import eval_links

    report = eval_links(edges, TEST_FRACTION if test_fraction is None else test_fraction, model,
                        config_file=config_file, progress=not quiet() and not as_json, **settings)
    if as_json:
        click.echo(json.dumps(report, indent=1))
        return
    click.echo(f"{report['edges_held_out']:,} of {report['edges']:,} edges held out; ROC-AUC "
               f"Hadamard + logistic regression {report['auc_hadamard']:.4f}, cosine "
               f"{report['auc_cosine']:.4f}")
