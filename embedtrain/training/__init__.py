"""Training: :func:`train` is the library entry point; the CLI's ``train`` command is
a thin layer over it.

Layout: ``prepare`` (token source -> vocabulary + id stream), ``runner`` (the epoch
loop, schedule, progress, checks), ``executor`` (worker threads), ``progress``, and
one driver per model (``word2vec``, ``fasttext``, ``glove``), each
``(config, corpus, options) -> Model``.
"""
from __future__ import annotations

import os
from typing import Any, Callable

from ..config import CommonConfig, load_toml, make_config
from ..errors import EmbedtrainError
from ..models import Model
from .fasttext import train_fasttext
from .glove import train_glove
from .prepare import Corpus, RunOptions
from .runner import summary_line
from .word2vec import train_word2vec

# Each model's driver.
TRAINERS: dict[str, Callable[[Any, Any, RunOptions], Model]] = {
    "skipgram": train_word2vec,
    "cbow": train_word2vec,
    "glove": train_glove,
    "fasttext": train_fasttext,
}


def train(corpus: Corpus | None, model: str | None = None, *, config_file: str | None = None,
          progress: bool = True, tmp_dir: str | None = None, read_vocab: str | None = None,
          save_vocab: str | None = None, save_cooccur: str | None = None,
          cooccur: str | None = None, resume: str | os.PathLike | Model | None = None,
          **settings: Any) -> Model:
    """Train ``model`` ("skipgram", "cbow", "glove", "fasttext") on ``corpus``.

    ``corpus``: a path, ``"-"`` for stdin, or a list of them (directories are read
    file by file; .gz/.bz2/.xz are decompressed). ``settings`` are the option
    names of config.py (``dim=100, window=5, ...``); unset ones take the model's
    defaults, or the values in ``config_file`` (TOML). Returns the trained model;
    nothing is written unless ``save_vocab`` is given (call ``model.save``).

    ``ray``: "local", "auto" or "ray://HOST:PORT" trains skipgram/cbow/fasttext across Ray
    workers (``workers``, ``sync_every``, ``sync_protocol``; see embedtrain/distributed/).

    ``resume``: a model (or its .etm file) to train further on ``corpus``: its
    vocabulary, weights and settings are the starting point; ``settings`` may
    change the schedule (epochs, lr, threads, seed, sample, window) but not the shape.
    """
    from ..distributed import check_distributed, pop_distributed, train_distributed

    dist = pop_distributed(settings)  # ray=, workers=, sync_every=, sync_protocol=
    base = None
    if resume is not None:
        base = resume if isinstance(resume, Model) else Model.load(resume)
        config = resumed_config(base, model, config_file, settings)
    else:
        config = make_config(model, config_file, **settings)
    if dist.ray is not None:
        check_distributed(config, dist, corpus, resume=resume, cooccur=cooccur, save_cooccur=save_cooccur)
        return train_distributed(corpus, config, dist, progress=progress, tmp_dir=tmp_dir,
                                 read_vocab=read_vocab, save_vocab=save_vocab)
    options = RunOptions(progress=progress, tmp_dir=tmp_dir, read_vocab=read_vocab,
                         save_vocab=save_vocab, save_cooccur=save_cooccur, cooccur=cooccur,
                         resume=base)
    return TRAINERS[config.model](config, corpus, options)


# Settings that fix the shape of a model's weights: a resumed run cannot change them.
SHAPE_SETTINGS = ("dim", "hs", "min_count", "max_vocab", "lowercase", "minn", "maxn", "bucket", "arch")


def resumed_config(base: Model, model: str | None, config_file: str | None,
                   settings: dict[str, Any]) -> CommonConfig:
    """The saved model's settings, then the config file, then ``settings``."""
    if model is not None and model != base.kind:
        raise EmbedtrainError(f"cannot resume a {base.kind} model as --model {model}")
    if base.kind not in ("skipgram", "cbow"):
        raise EmbedtrainError(f"resuming is supported for skipgram and cbow models, not {base.kind}")
    saved = {k: v for k, v in base.config.to_dict().items() if k != "model"}
    requested = make_config(base.kind, config_file, **settings).to_dict() if (config_file or settings) else {}
    explicit = dict(load_toml(config_file)) if config_file else {}
    explicit.update({k: v for k, v in settings.items() if v is not None})
    explicit.pop("model", None)
    for name in SHAPE_SETTINGS:
        if name in explicit and explicit[name] != saved.get(name):
            raise EmbedtrainError(f"--{name.replace('_', '-')} cannot change when resuming "
                                  f"(the model has {saved.get(name)})")
    if "negative" in explicit and (requested["negative"] > 0) != (saved["negative"] > 0):
        raise EmbedtrainError("negative sampling cannot be switched on or off when resuming")
    saved.update(explicit)
    return make_config(base.kind, None, **saved)


__all__ = ["train", "resumed_config", "summary_line", "RunOptions", "TRAINERS"]
