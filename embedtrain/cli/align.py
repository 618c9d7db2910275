"""``embedtrain align`` and ``embedtrain eval-translation``: map one vector space onto
another and score word translation. Options come from config.AlignConfig (defaults and
help written once there); each command calls one library function."""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable

import click

from ..config import AlignConfig
from ..io.formats import WRITE_FORMATS
from .app import field_option, handle_errors, json_option, log, main, quiet, verbosity_options

ALIGN_FIELDS = ("csls", "csls_k", "refine", "refine_vocab")
EVAL_FIELDS = ("csls", "csls_k")


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:,}" if isinstance(value, int) else str(value)


def align_options(names: tuple[str, ...]) -> Callable:
    """One option per AlignConfig field named, defaulting to None (= the field's default)."""
    fields = {f.name: f for f in dataclasses.fields(AlignConfig)}

    def decorate(func: Callable) -> Callable:
        for name in reversed(names):
            f = fields[name]
            func = field_option(f, f"{f.metadata['help']} [default: {_show(f.default)}]")(func)
        return func

    return decorate


def _given(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in settings.items() if v is not None}


@main.command("align", short_help="Map SRC's vectors onto TGT's space (orthogonal Procrustes).")
@click.argument("source", metavar="SRC", type=click.Path(dir_okay=False))
@click.argument("target", metavar="TGT", type=click.Path(dir_okay=False))
@click.option("-d", "--dictionary", type=click.Path(dir_okay=False), default=None, metavar="PAIRS",
              help="Seed dictionary: 'source target' pairs, one a line (tab or spaces).")
@click.option("--identical", is_flag=True, default=False,
              help="Use the words both spaces share as the dictionary (two runs of one language).")
@click.option("-o", "--output", required=True, metavar="OUT",
              help="Write SRC's vectors mapped into the shared space here.")
@click.option("--target-output", default=None, metavar="FILE",
              help="Also write TGT's vectors normalised as the shared space holds them.")
@click.option("-f", "--format", "format_", type=click.Choice(WRITE_FORMATS), default="word2vec-text",
              show_default=True, help="Format of the files written.")
@align_options(ALIGN_FIELDS)
@click.option("--json", "as_json", is_flag=True, default=False, help="Print a JSON summary on stdout.")
@verbosity_options
@handle_errors
def align_command(source: str, target: str, dictionary: str | None, identical: bool, output: str,
                  target_output: str | None, format_: str, as_json: bool, **settings) -> None:
    """Map the vectors of SRC onto the space of TGT with the orthogonal map learned on the
    dictionary's pairs (--dictionary) or on the words both share (--identical), after
    unit-length normalising and centring both; --refine N adds mutual nearest neighbours
    and solves again. SRC and TGT may be any vectors files embedtrain reads."""
    from ..alignment import align
    from ..io.atomic import check_writable
    from ..io.formats import npy_paths

    for path in filter(None, (output, target_output)):
        for p in (npy_paths(path) if format_ == "npy" else (path,)):
            check_writable(p)
    result = align(source, target, dictionary, identical=identical, **_given(settings))
    written = result.save(output, format_)
    if target_output:
        from ..io.formats import write_vectors

        written += write_vectors(target_output, result.target, format_)
    summary = result.to_dict()
    if as_json:
        click.echo(json.dumps({"source": source, "target": target, **summary,
                               "written": [str(p) for p in written]}, indent=1))
    elif not quiet():
        what = "shared words" if identical else "dictionary pairs"
        refined = f"; after refinement {len(result.pairs):,} pairs" if result.refined else ""
        click.echo(f"aligned on {result.seed_pairs:,} of {result.pairs_given:,} {what} "
                   f"(coverage {result.coverage:.1%}){refined}; wrote "
                   f"{', '.join(str(p) for p in written)}", err=True)
    log.debug("settings: %s", summary["settings"])


@main.command("eval-translation",
              short_help="Translation P@1, P@5, P@10 between two aligned spaces.")
@click.argument("source", metavar="SRC", type=click.Path(dir_okay=False))
@click.argument("target", metavar="TGT", type=click.Path(dir_okay=False))
@click.argument("pairs", metavar="[PAIRS]", required=False, type=click.Path(dir_okay=False))
@click.option("--identical", is_flag=True, default=False,
              help="No PAIRS: the share of shared words whose nearest neighbour across the "
                   "spaces is the word itself (run-to-run stability).")
@align_options(EVAL_FIELDS)
@json_option
@verbosity_options
@handle_errors
def eval_translation_command(source: str, target: str, pairs: str | None, identical: bool,
                             as_json: bool, **settings) -> None:
    """Translate the source words of PAIRS from SRC into TGT by nearest neighbour (or
    CSLS) and report P@1, P@5, P@10 (a hit when any gold target is among the k best) and
    coverage (the share of PAIRS' source words that could be scored)."""
    from ..translation import evaluate_translation

    result = evaluate_translation(source, target, pairs, identical=identical, **_given(settings))
    if as_json:
        click.echo(json.dumps({"source": source, "target": target, "test": pairs, **result.to_dict()},
                              indent=1))
        return
    if quiet():
        return
    what = "shared words" if identical else f"{pairs}"
    k = f", k={result.csls_k}" if result.csls_k else ""
    click.echo(f"{source} -> {target} ({result.retrieval}{k}), {what}:")
    click.echo("  " + "  ".join(f"P@{n} {p:.4f}" for n, p in result.precision.items()))
    click.echo(f"  coverage {result.coverage:.4f} ({result.evaluated:,} of {result.source_words:,} "
               f"source words; {result.pairs:,} pairs)")
