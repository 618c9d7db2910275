"""``embedtrain train``: options are built from the config dataclasses, so every
default and help text is written once, in config.py."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import click

from ..config import DistributedConfig, config_class, fields_with
from ..families import REGISTRY, model_names, setting_fields
from ..io.compression import strip_suffix
from ..models import MODEL_SUFFIX, VECTORS_SUFFIX
from .app import field_option, handle_errors, log, main, quiet, show_default, verbosity_options
from .item_options import READING, item_training
from .walk_options import graph_training



def _default_text(name: str) -> str:
    """'5' or '5; glove: 15' — the default of a setting for each model that has it."""
    per_model: dict[str, list[str]] = {}
    for model in model_names():
        for f in dataclasses.fields(config_class(model)):
            if f.name == name:
                value = "negative sampling" if name == "negative" and f.default is None else f.default
                if value is None and f.metadata.get("auto"):
                    value = f.metadata["auto"]   # resolved once the tokens are counted (GloVe)
                per_model.setdefault(show_default(value), []).append(model)
    if len(per_model) == 1 and len(next(iter(per_model.values()))) == len(model_names()):
        return next(iter(per_model))
    return "; ".join(f"{'/'.join(models)}: {value}" for value, models in per_model.items())


def config_options(func):
    """One click option per setting of any model, defaulting to None (= not given)."""
    for f in reversed(setting_fields()):
        func = field_option(f, f"{f.metadata['help']} [default: {_default_text(f.name)}]")(func)
    return func


def distributed_options(func):
    """--ray, --workers, --sync-every, --sync-protocol, from DistributedConfig."""
    for f in reversed(dataclasses.fields(DistributedConfig)):
        default = "" if f.default is None else f" [default: {show_default(f.default)}]"
        func = field_option(f, f"{f.metadata['help']}{default}")(func)
    return func


# `train --help` lists the options in sections: what a setting applies to is read from
# config.py (the models whose dataclass has the field), so a new field lands in the
# right section by itself.
IO_SECTION = "Input and output"
COMMON_SECTION = "Settings of every model"
RUN_SECTION = "Run options"
WALK_SECTION = "Graph walks (with --graph)"
ITEM_SECTION = "Items (with --items)"
_NON_SETTINGS = {"model": IO_SECTION, "prefix": IO_SECTION, "config_file": IO_SECTION,
                 "save_vocab": IO_SECTION, "read_vocab": IO_SECTION, "resume": IO_SECTION,
                 "continue_from": IO_SECTION,
                 "save_cooccur": "GloVe settings", "cooccur": "GloVe settings",
                 "checkpoint_every": "Run options", "threads": "Run options",
                 "graph": IO_SECTION, "items": ITEM_SECTION, "tune": ITEM_SECTION,
                 "tune_budget": ITEM_SECTION, **{name: ITEM_SECTION for name in READING},
                 **{name: WALK_SECTION for name in fields_with("walk")}}


def option_section(name: str) -> str:
    """The help section of the train option whose parameter is ``name``."""
    if name in _NON_SETTINGS:
        return _NON_SETTINGS[name]
    models = [m for m in model_names()
              if any(f.name == name for f in dataclasses.fields(config_class(m)))]
    if not models:
        return RUN_SECTION
    if len(models) == len(model_names()):
        return COMMON_SECTION
    families = [f for f in REGISTRY if any(m in f.models for m in models)]
    titles = [f.title for f in families]
    title = (", ".join(titles[:-1]) + " and " + titles[-1] if len(titles) > 1 else titles[0]) + " settings"
    if len(families) == 1 and len(families[0].models) > 1:
        title += f" ({', '.join(models)})"
    return title


class SectionedCommand(click.Command):
    """A command whose --help groups its options by :func:`option_section`."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                sections.setdefault(option_section(param.name or ""), []).append(record)
        first, last = [IO_SECTION, COMMON_SECTION], [RUN_SECTION]
        order = first + [t for t in sections if t not in first + last] + last
        for title in order:
            if title in sections:
                with formatter.section(title):
                    formatter.write_dl(sections[title])


def default_prefix(corpus: tuple[str, ...], model: str) -> str:
    """The first corpus file's name stem plus the model name, in the current directory."""
    first = corpus[0] if corpus else "-"
    if first == "-":
        stem = "stdin"
    else:
        name = strip_suffix(Path(first.rstrip("/")).name)
        stem = Path(name).stem if Path(name).suffix in (".txt", ".text", ".tok") else name
    return f"{stem or 'corpus'}-{model}"


def output_prefix(given: str | None, corpus: tuple[str, ...], model: str) -> str:
    """``-o``'s PREFIX; a directory (``-o runs/`` or an existing ``runs``) gets the default
    name inside it rather than hidden ``runs/.vec`` and ``runs/.etm``."""
    if not given:
        return default_prefix(corpus, model)
    if given.endswith(("/", os.sep)) or Path(given).is_dir():
        return str(Path(given) / default_prefix(corpus, model))
    return given


@main.command("train", cls=SectionedCommand,
              short_help="Train vectors on a corpus: writes PREFIX.vec and PREFIX.etm.")
@click.argument("corpus", nargs=-1, metavar="CORPUS...")
@click.option("-m", "--model", type=click.Choice(model_names()), default=None,
              help="Model to train. [default: skipgram]")
@click.option("-o", "--output", "prefix", default=None, metavar="PREFIX",
              help="Write PREFIX.vec and PREFIX.etm. [default: CORPUS stem + '-' + model]")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="TOML file of settings (keys are option names); options given here win.")
@config_options
@distributed_options
@click.option("--save-vocab", type=click.Path(dir_okay=False), default=None,
              help="Also write the vocabulary as 'word count' lines.")
@click.option("--read-vocab", type=click.Path(dir_okay=False), default=None,
              help="Use this 'word count' vocabulary instead of counting the corpus.")
@click.option("--save-cooccur", type=click.Path(), default=None,
              help="GloVe: keep the co-occurrence matrix in this file (with --ray: this directory, "
                   "one file per partition).")
@click.option("--cooccur", type=click.Path(), default=None,
              help="GloVe: train from a saved co-occurrence matrix, a file or a partitioned "
                   "directory (no corpus needed); with --continue, the continued model's matrix.")
@click.option("--resume", type=click.Path(dir_okay=False), default=None, metavar="PREFIX.ckpt|MODEL.etm",
              help="Continue an interrupted run from its checkpoint (same CORPUS and settings), or "
                   "train a finished skipgram/cbow model further on CORPUS (its vocabulary and "
                   "settings; --epochs, --lr, --threads, --seed, --sample, --window may change).")
@click.option("--continue", "continue_from", type=click.Path(dir_okay=False), default=None,
              metavar="MODEL.etm",
              help="Continue this model on CORPUS (new text; GloVe: with --cooccur, its saved "
                   "matrix; with --graph: walks over new edges): its vocabulary grows by CORPUS's "
                   "words that reach --min-count, its rows keep their values, and the settings not "
                   "given are the model's (its shape cannot change).")
@click.option("--tmp-dir", type=click.Path(file_okay=False), default=None,
              help="Directory for temporary files. [default: the system's]")
@verbosity_options
@handle_errors
@item_training(output_prefix)
@graph_training(output_prefix)
def train_command(corpus: tuple[str, ...], model: str | None, prefix: str | None,
                  config_file: str | None, save_vocab: str | None, read_vocab: str | None,
                  save_cooccur: str | None, cooccur: str | None, resume: str | None,
                  continue_from: str | None, tmp_dir: str | None, **settings) -> None:
    """Train word vectors on CORPUS (files, directories, or - for stdin; .gz/.bz2/.xz/.zst
    are read directly) and write PREFIX.vec (word2vec text) and PREFIX.etm (the model)."""
    from ..api import plan
    from ..io.atomic import check_writable
    from ..training import summary_line
    from ..io.checkpoint import CHECKPOINT_SUFFIX, remove_checkpoint

    # every setting and refusal is the library's (bad settings fail here, before any work)
    run = plan(list(corpus) or None, model, config_file=config_file, progress=not quiet(),
               tmp_dir=tmp_dir, read_vocab=read_vocab, save_vocab=save_vocab, resume=resume,
               init=continue_from, keep_checkpoint=True, save_cooccur=save_cooccur, cooccur=cooccur,
               **{k: v for k, v in settings.items() if v is not None})
    config = run.config
    prefix = output_prefix(prefix, corpus or (cooccur,), config.model)
    own = prefix + CHECKPOINT_SUFFIX   # this run's checkpoint: the only one it removes
    run = run.with_checkpoint(own if config.checkpoint_every else None)
    # with --ray, --save-cooccur is a directory (a partitioned matrix), checked when written
    outputs = [prefix + VECTORS_SUFFIX, prefix + MODEL_SUFFIX,
               save_cooccur if run.dist is None else None]
    for path in filter(None, outputs):
        check_writable(path)
    fitted = run.run()
    vec_path, model_path = fitted.save(prefix)
    # the run is complete and saved: its own checkpoint goes (the one it resumed from too,
    # when that is PREFIX.ckpt; a checkpoint resumed into another -o PREFIX is kept)
    remove_checkpoint(own)
    if not quiet():
        click.echo(f"{summary_line(fitted)}; wrote {vec_path} and {model_path}", err=True)
    log.debug("settings: %s", fitted.config.to_dict())
