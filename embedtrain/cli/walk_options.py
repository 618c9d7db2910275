"""``embedtrain train --graph EDGES``: the walk options (built from
:class:`~embedtrain.config.WalkConfig`, so their defaults and help live in config.py)
and the branch of the ``train`` command that trains on walks instead of text.

Kept apart from :mod:`embedtrain.cli.graph` (the graph commands) because cli/train.py
imports it.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import click

from ..config import WalkConfig, fields_with
from ..config import option_fields
from ..errors import EmbedtrainError
from ..families import DEFAULT_MODEL, family_of
from .app import field_option, quiet

WALK_FIELDS = fields_with("walk")
GRAPH_PRESETS = family_of(DEFAULT_MODEL).graph_presets
PRESETS_TEXT = ", ".join((f"--{'' if v else 'no-'}{k.replace('_', '-')}" if isinstance(v, bool)
                          else f"{k.replace('_', '-')} {v:g}") for k, v in GRAPH_PRESETS.items())
def walk_options(func: Callable) -> Callable:
    """One click option per walk setting, defaulting to None (= not given)."""
    for f in reversed(list(WalkConfig.__dataclass_fields__.values())):
        default = f.default if not isinstance(f.default, bool) else ("on" if f.default else "off")
        func = field_option(f, f"{f.metadata['help']} [default: {default}]")(func)
    return func


def graph_model_options(func: Callable) -> Callable:
    """The skip-gram/CBOW settings as options, with the graph presets as their defaults."""
    for f in reversed(option_fields(DEFAULT_MODEL)):
        if "text" in f.metadata["roles"]:  # text-corpus settings mean nothing for walks
            continue
        default = GRAPH_PRESETS.get(f.name, f.default)
        shown = {True: "on", False: "off", None: "5, or 0 with --hs"}.get(default, default) \
            if not isinstance(default, (int, float)) or isinstance(default, bool) else default
        func = field_option(f, f"{f.metadata['help']} [default: {shown}]")(func)
    return func


def graph_training(output_prefix: Callable[[str | None, tuple[str, ...], str], str]):
    """Add ``--graph EDGES`` and the walk options to the ``train`` command: with
    ``--graph`` the walks over the graph are the corpus; without it nothing changes.
    ``output_prefix(given, inputs, model)`` names the outputs as the train command does."""

    def decorate(func: Callable) -> Callable:
        @walk_options
        @click.option("--graph", "graph", type=click.Path(dir_okay=False), default=None,
                      metavar="EDGES", help="Train node vectors on random walks over this edge list "
                      "('a b' or 'a b weight' lines) instead of a text corpus; unless given, "
                      f"{PRESETS_TEXT}.")
        @functools.wraps(func)
        def wrapper(*args, graph: str | None, **kwargs):
            walk = {name: kwargs.pop(name) for name in WALK_FIELDS}
            if graph is None:  # walk settings given without --graph: the library refuses them
                return func(*args, **kwargs, **{k: v for k, v in walk.items() if v is not None})
            return train_graph_command(graph, walk, output_prefix, **kwargs)

        return wrapper

    return decorate


def train_graph_command(graph: str, walk: dict[str, Any],
                        output_prefix: Callable[[str | None, tuple[str, ...], str], str], *,
                        corpus: tuple[str, ...],
                        model: str | None, prefix: str | None, config_file: str | None,
                        save_vocab: str | None, read_vocab: str | None, save_cooccur: str | None,
                        cooccur: str | None, resume: str | None, tmp_dir: str | None,
                        continue_from: str | None = None, **settings) -> None:
    """``embedtrain train --graph EDGES``: write PREFIX.vec and PREFIX.etm of node vectors."""
    from ..graphs.train import plan_graph
    from ..io.atomic import check_writable
    from ..models import MODEL_SUFFIX, VECTORS_SUFFIX
    from ..training import summary_line

    if corpus:
        raise EmbedtrainError("give either a corpus or --graph, not both")
    for name, value in (("--read-vocab", read_vocab), ("--save-cooccur", save_cooccur),
                        ("--cooccur", cooccur), ("--resume", resume)):
        if value:
            raise EmbedtrainError(f"{name} does not apply to --graph")
    # every setting and refusal is the library's (bad settings fail here, before any work)
    run = plan_graph(graph, model, config_file=config_file, progress=not quiet(), tmp_dir=tmp_dir,
                     save_vocab=save_vocab, init=continue_from, **walk, **settings)
    prefix = output_prefix(prefix, (graph,), run.config.model)
    for path in filter(None, [prefix + VECTORS_SUFFIX, prefix + MODEL_SUFFIX, save_vocab]):
        check_writable(path)
    fitted = run.run()
    vec_path, model_path = fitted.save(prefix)
    if not quiet():
        click.echo(f"{summary_line(fitted)}; wrote {vec_path} and {model_path}", err=True)
