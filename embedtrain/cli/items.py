"""``embedtrain sessions`` and ``embedtrain eval-items``: recommender data into item sequences,
and item vectors scored by leave-one-out HitRate@k and NDCG@k (embedtrain/items/)."""
from __future__ import annotations

import json

import click

from ..items.evaluate import DEFAULT_HISTORY, DEFAULT_K
from .app import handle_errors, json_option, main, quiet, verbosity_options
from .item_options import reading_options, reading_settings


@main.command("sessions", short_help="Ratings or event logs into item sequences, one a line.")
@click.argument("interactions", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, metavar="OUT",
              help="Write the sequences here, one a line (with --split: OUT's stem + .train.txt, "
                   ".test.txt and .split.json).")
@reading_options
@click.option("--split", is_flag=True, default=False,
              help="Hold out each sequence's last item: write OUT.train.txt (without it), "
                   "OUT.test.txt (whole) and the manifest eval-items checks vectors against.")
@click.option("--validation", is_flag=True, default=False,
              help="With --split: also OUT.tune.txt (without the last two items) and "
                   "OUT.valid.txt (without the last), for choosing settings.")
@verbosity_options
@handle_errors
def sessions_command(interactions: str, output: str, split: bool, validation: bool, **reading) -> None:
    """Read INTERACTIONS (MovieLens u.data, ratings.csv, event logs: TSV, CSV with or without a
    header, whitespace; compressed too), order each user's items by time and write one
    sequence (or session) a line."""
    from ..items.split import write_split_from_file

    written = write_split_from_file(interactions, output, split=split, validation=validation,
                                    **reading_settings(**reading))
    if not quiet():
        counts = ", ".join(f"{path} ({n:,} sequences)" for path, n in written)
        click.echo(f"wrote {counts}", err=True)


@main.command("eval-items", short_help="Leave-one-out HitRate@k and NDCG@k of item vectors.")
@click.argument("vectors", type=click.Path(dir_okay=False))
@click.argument("sequences", type=click.Path(dir_okay=False))
@click.option("--k", "k", type=int, default=DEFAULT_K, show_default=True,
              help="Cut-off of HitRate@k and NDCG@k.")
@click.option("--history", type=int, default=DEFAULT_HISTORY, show_default=True,
              help="The query is the mean of the (unit) vectors of this many items before the target.")
@click.option("--popular-from", type=click.Path(dir_okay=False), default=None,
              help="Count the most-popular baseline's items here. [default: a split's training "
                   "file, else SEQUENCES without their last items]")
@click.option("--user-col", default=None, metavar="N",
              help="A column of SEQUENCES holding user ids, dropped (1-based).")
@json_option
@verbosity_options
@handle_errors
def eval_items_command(vectors: str, sequences: str, k: int, history: int, popular_from: str | None,
                       user_col: str | None, as_json: bool) -> None:
    """Score VECTORS on SEQUENCES (one a line; the last item of each is the target; the query is
    the mean of the previous --history items' vectors; items seen earlier are not candidates),
    beside recommending the most popular items. A split's test file (sessions --split) refuses
    vectors that saw its held-out items."""
    from ..items.evaluate import eval_items

    result = eval_items(vectors, sequences, k=k, history=history, popular_from=popular_from,
                        user_col=user_col)
    if as_json:
        click.echo(json.dumps(result, indent=1))
        return
    kk = result["k"]
    click.echo(f"{result['sequences']:,} sequences (targets without a vector: {result['unknown_targets']:,}; "
               f"no history item with a vector: {result['empty_queries']:,}), history {result['history']}")
    click.echo(f"{'':<14}{'HitRate@' + str(kk):>12}{'NDCG@' + str(kk):>12}")
    click.echo(f"{'vectors':<14}{result[f'hit_rate@{kk}']:>12.4f}{result[f'ndcg@{kk}']:>12.4f}")
    click.echo(f"{'most popular':<14}{result[f'popular_hit_rate@{kk}']:>12.4f}"
               f"{result[f'popular_ndcg@{kk}']:>12.4f}")
