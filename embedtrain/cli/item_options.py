"""``embedtrain train --items INTERACTIONS``: the options of the interaction reader (shared with
``embedtrain sessions``) and the branch of the ``train`` command that trains item vectors with
the item presets (embedtrain/items/train.py).

Kept apart from :mod:`embedtrain.cli.items` (the item commands) because cli/train.py imports it.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import click

from ..config import DEFAULT_MIN_ITEMS, DEFAULT_TUNE_BUDGET
from ..errors import EmbedtrainError
from .app import quiet

READING = ("sequences", "user_col", "item_col", "rating_col", "time_col", "min_rating",
           "session_gap", "min_items")


def reading_options(func):
    """The interaction reader's and the sessions' options (shared with ``train --items``)."""
    options = [
        click.option("--sequences", is_flag=True, default=False,
                     help="The file is one sequence of items a line already (--user-col: a column "
                          "of user ids to drop)."),
        click.option("--user-col", default=None, metavar="N|NAME",
                     help="Column of the user ids (1-based number or header name). [default: the "
                          "header's user column, else 1]"),
        click.option("--item-col", default=None, metavar="N|NAME",
                     help="Column of the item ids. [default: the header's item column, else 2]"),
        click.option("--rating-col", default=None, metavar="N|NAME",
                     help="Column of the ratings. [default: the header's, else 3 without a header]"),
        click.option("--time-col", default=None, metavar="N|NAME",
                     help="Column of the times (numbers or ISO 8601). [default: the header's, else 4 "
                          "without a header]"),
        click.option("--min-rating", type=float, default=None, metavar="R",
                     help="Drop interactions rated below R."),
        click.option("--session-gap", default=None, metavar="DURATION",
                     help="Cut a user's history into sessions where items are further apart than "
                          "this (30m, 2h, 1d, or seconds). [default: one sequence per user]"),
        click.option("--min-items", type=click.IntRange(min=1), default=None,
                     help=f"Drop sessions with fewer items. [default: {DEFAULT_MIN_ITEMS}]"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def reading_settings(sequences, user_col, item_col, rating_col, time_col, min_rating, session_gap,
                     min_items) -> dict:
    return dict(sequences=bool(sequences), user_col=user_col, item_col=item_col,
                rating_col=rating_col, time_col=time_col, min_rating=min_rating,
                session_gap=session_gap,
                min_items=DEFAULT_MIN_ITEMS if min_items is None else min_items)


def item_training(output_prefix: Callable[[str | None, tuple[str, ...], str], str]):
    """Add ``--items INTERACTIONS``, the reader's options and ``--tune VALIDATION`` to the
    ``train`` command: with ``--items`` the file's sessions are the corpus and the item presets
    the defaults; without it nothing changes (the reader's options are refused)."""

    def decorate(func: Callable) -> Callable:
        @reading_options
        @click.option("--items", "items", type=click.Path(dir_okay=False), default=None,
                      metavar="INTERACTIONS",
                      help="Train item vectors (item2vec) on the sessions of this interaction file "
                           "('user item [rating] [time]'; --sequences: one sequence a line), with "
                           "the item presets (docs/items.md) as defaults.")
        @click.option("--tune", "tune", type=click.Path(dir_okay=False), default=None,
                      metavar="VALIDATION",
                      help="With --items: first search the item settings (a budgeted coordinate "
                           "search) scoring NDCG@10 on VALIDATION's last items, then train with "
                           "the best.")
        @click.option("--tune-budget", type=click.IntRange(min=1), default=None,
                      help=f"With --tune: at most this many trainings. [default: {DEFAULT_TUNE_BUDGET}]")
        @functools.wraps(func)
        def wrapper(*args, items: str | None, tune: str | None, tune_budget: int | None, **kwargs):
            reading = {name: kwargs.pop(name) for name in READING}
            if items is None:
                given = [f"--{k.replace('_', '-')}" for k, v in reading.items() if v]
                if tune is not None:
                    given.append("--tune")
                if given:
                    raise EmbedtrainError(f"{', '.join(given)} need{'s' if len(given) == 1 else ''} --items")
                return func(*args, **kwargs)
            return train_items_command(items, reading, tune, tune_budget, output_prefix, **kwargs)

        return wrapper

    return decorate


def train_items_command(items: str, reading: dict[str, Any], tune: str | None, tune_budget: int | None,
                        output_prefix: Callable[[str | None, tuple[str, ...], str], str], *,
                        corpus: tuple[str, ...], model: str | None, prefix: str | None,
                        config_file: str | None, save_vocab: str | None, read_vocab: str | None,
                        save_cooccur: str | None, cooccur: str | None, resume: str | None,
                        tmp_dir: str | None, continue_from: str | None = None, graph: str | None = None,
                        **settings) -> None:
    """``embedtrain train --items INTERACTIONS``: write PREFIX.vec and PREFIX.etm of item vectors."""
    from ..io.atomic import check_writable
    from ..items.train import plan_items
    from ..models import MODEL_SUFFIX, VECTORS_SUFFIX
    from ..training import summary_line

    if corpus:
        raise EmbedtrainError("give either a corpus or --items, not both")
    if graph is not None:
        raise EmbedtrainError("give either --graph or --items, not both")
    for name, value in (("--read-vocab", read_vocab), ("--save-cooccur", save_cooccur),
                        ("--cooccur", cooccur), ("--resume", resume), ("--continue", continue_from)):
        if value:
            raise EmbedtrainError(f"{name} does not apply to --items")
    walk = [k for k, v in settings.items() if v is not None and k in _walk_fields()]
    if walk:
        raise EmbedtrainError(f"--{walk[0].replace('_', '-')} applies to --graph, not --items")
    settings = {k: v for k, v in settings.items() if v is not None and k not in _walk_fields()}
    run = plan_items(items, model, config_file=config_file, progress=not quiet(), tmp_dir=tmp_dir,
                     save_vocab=save_vocab, tune=tune, tune_budget=tune_budget,
                     **{k: v for k, v in reading.items() if v is not None}, **settings)
    prefix = output_prefix(prefix, (items,), run.config.model)
    for path in filter(None, [prefix + VECTORS_SUFFIX, prefix + MODEL_SUFFIX, save_vocab]):
        check_writable(path)
    fitted = run.run()
    vec_path, model_path = fitted.save(prefix)
    if not quiet():
        tuned = fitted.stats.get("item_tuning")
        if tuned:
            best = ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in tuned["best"].items())
            click.echo(f"tuned on {tune} ({len(tuned['trials'])} trainings): {best}", err=True)
        click.echo(f"{summary_line(fitted)}; wrote {vec_path} and {model_path}", err=True)


def _walk_fields() -> tuple[str, ...]:
    from ..config import fields_with

    return tuple(fields_with("walk"))
