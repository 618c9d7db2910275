"""The one entry path of training: :func:`train` (and :func:`plan`, which the CLI uses
to name its outputs before any work starts).

Here, and only here, the settings are built (once: defaults, recipe file,
arguments), the model's family resolves what depends on the model (its Ray
defaults), every refusal is made before anything is read, and one machine or Ray
is picked. The CLI parses its options and calls :func:`plan` and
:meth:`Plan.run`; it refuses nothing the library does not, in the same words.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from .config import CommonConfig, DistributedConfig, fields_with, load_toml, make_config
from .errors import EmbedtrainError
from .families import REGISTRY, Family, family_of


@dataclass(frozen=True)
class Plan:
    """A checked training run, ready to :meth:`run`."""

    family: Family
    config: CommonConfig
    dist: DistributedConfig | None        # resolved by the family; None: one machine
    corpus: Any
    options: Any                          # training.prepare.RunOptions
    extra: dict[str, Any]                 # the family's run options (GloVe: cooccur, save_cooccur)
    keep_checkpoint: bool = False

    @property
    def checkpoint(self) -> str | None:
        return self.options.checkpoint

    def with_checkpoint(self, path: str | os.PathLike | None) -> "Plan":
        """This plan writing its checkpoints to ``path`` (the CLI's PREFIX.ckpt)."""
        return dataclasses.replace(self, options=dataclasses.replace(
            self.options, checkpoint=os.fspath(path) if path is not None else None))

    def run(self):
        """Train; returns the Model. The checkpoint goes when the run completes, unless
        ``keep_checkpoint`` (the CLI removes it after saving the model)."""
        from .io.atomic import check_writable
        from .io.checkpoint import remove_checkpoint

        if self.config.checkpoint_every and self.options.checkpoint is None:
            raise EmbedtrainError("checkpoint_every needs a file to write: give checkpoint=PATH")
        for path in (self.options.save_vocab, self.options.checkpoint):
            if path:
                check_writable(path)
        if self.dist is not None:
            from .distributed import train_on_ray

            fitted = train_on_ray(self.config, self.dist, _paths(self.corpus), self.options, **self.extra)
        else:
            fitted = self.family.train(self.config, self.corpus, self.options, **self.extra)
        if not self.keep_checkpoint:
            remove_checkpoint(self.options.checkpoint)
        return fitted


def plan(corpus: Any = None, model: str | None = None, *, config_file: str | None = None,
         progress: bool = True, tmp_dir: str | None = None, read_vocab: str | None = None,
         save_vocab: str | None = None, resume: Any = None, checkpoint: str | os.PathLike | None = None,
         keep_checkpoint: bool = False, callbacks: Sequence[object] | None = None,
         executor: Any = None, config: CommonConfig | None = None, init: Any = None,
         **settings: Any) -> Plan:
    """Build and check a run (see :func:`train` for the arguments); nothing is read or
    written yet. ``config``: settings built already (graphs/train.py builds them with
    its presets), used as they are instead of ``model`` and ``settings``."""
    from .training.callbacks import check_callbacks
    from .io.checkpoint import Checkpoint, is_checkpoint
    from .training.prepare import RunOptions

    dist = pop_distributed(settings)
    run_options = {k: settings.pop(k) for k in _all_run_options() if k in settings}
    base = ckpt = grown = None
    if isinstance(resume, (str, os.PathLike)) and is_checkpoint(resume):
        resume = Checkpoint.load(resume)
    if init is not None:
        if resume is not None:
            raise EmbedtrainError("give either --resume or --continue, not both")
        if config is not None:
            raise EmbedtrainError("give either config= or init=, not both")
        if read_vocab:
            raise EmbedtrainError("--read-vocab does not apply with --continue (the vocabulary is "
                                  "the model's, grown by the new text)")
        grown = continued_model(init)
        # the model's own --checkpoint-every (a setting of the run that made it) does not carry over
        config = dataclasses.replace(continued_config(grown, model, config_file, settings),
                                     checkpoint_every=settings.get("checkpoint_every"))
        if config.checkpoint_every and not family_of(config.model).continue_checkpoints:
            raise EmbedtrainError(f"--checkpoint-every does not work with --continue of a {config.model} "
                                  "model yet (an interrupted run could not be resumed): leave it out")
    elif isinstance(resume, Checkpoint):
        ckpt = resume
        config = checkpoint_config(ckpt, model, config_file, settings)
        checkpoint = checkpoint if checkpoint is not None else ckpt.path
    elif resume is not None:
        from .io.classifier import is_classifier_checkpoint
        from .models import Model

        if isinstance(resume, (str, os.PathLike)) and is_classifier_checkpoint(resume):
            raise EmbedtrainError(f"{resume} is the checkpoint of a classifier run, not of word "
                                  "vectors: resume it with 'embedtrain classify train --resume'")
        base = resume if isinstance(resume, Model) else Model.load(resume)
        config = resumed_config(base, model, config_file, settings)
    elif config is None:
        config = make_config(model, config_file, **settings)
    elif model is not None or config_file is not None or settings:
        raise EmbedtrainError("give either config= or the settings, not both")
    family = family_of(config.model)
    extra = {k: v for k, v in run_options.items() if v is not None}
    for name in extra:
        if name not in family.run_options:
            owners = _models_with_option(name)
            raise EmbedtrainError(f"--{name.replace('_', '-')} applies to --model {' or '.join(owners)} only")
    if corpus is None or (isinstance(corpus, (list, tuple)) and not corpus):
        corpus = None
        if not extra.get("cooccur") and grown is None:
            raise EmbedtrainError("no corpus given (usage: embedtrain train CORPUS... [options])")
    if grown is not None:
        family.check_continuing(grown, corpus, extra)
    check_tmp_dir(tmp_dir)
    if ckpt is not None and corpus is not None:
        check_resumed_corpus(ckpt, corpus)
    if ckpt is not None and dist.ray is None and "ray_workers" in ckpt.fingerprint:
        raise EmbedtrainError(f"checkpoint {ckpt.path} was written by a --ray run; resume it with "
                              f"--ray and --workers {ckpt.fingerprint['ray_workers']}")
    resolved = None
    if dist.ray is not None:
        if grown is not None and family.ray_counting:
            raise EmbedtrainError(f"--continue of a {config.model} model does not work with --ray yet "
                                  "(continue it on one machine)")
        if grown is not None and config.checkpoint_every:
            raise EmbedtrainError("--checkpoint-every does not work with --continue on --ray yet: "
                                  "leave it out")
        check_distributed(family, config, dist, corpus, resume=base, **extra)
        resolved = family.ray_settings(dist, config.model)
    options = RunOptions(progress=progress, tmp_dir=tmp_dir, read_vocab=read_vocab,
                         save_vocab=save_vocab, resume=base, init=grown,
                         checkpoint=os.fspath(checkpoint) if checkpoint is not None else None,
                         resume_checkpoint=ckpt, callbacks=tuple(check_callbacks(callbacks)),
                         executor=executor)
    return Plan(family, config, resolved, corpus, options, extra, keep_checkpoint)


def train(corpus: Any = None, model: str | None = None, *, config_file: str | None = None,
          progress: bool = True, tmp_dir: str | None = None, read_vocab: str | None = None,
          save_vocab: str | None = None, resume: Any = None, checkpoint: str | os.PathLike | None = None,
          keep_checkpoint: bool = False, callbacks: Sequence[object] | None = None,
          executor: Any = None, init: Any = None, **settings: Any):
    """Train ``model`` ("skipgram", "cbow", "glove", "fasttext", or any registered family's
    model) on ``corpus``.

    ``corpus``: a path, ``"-"`` for stdin, or a list of them (directories are read
    file by file; .gz/.bz2/.xz/.zst are decompressed); or any iterable of token lists
    (``[["the", "king"], ...]``, a generator, a class with ``__iter__``; iterated
    once); or a token source (embedtrain.corpus.source). ``settings`` are the option
    names of config.py (``dim=100, window=5, ...``); unset ones take the model's
    defaults, or the values in ``config_file`` (TOML). Returns the trained model;
    nothing is written unless ``save_vocab`` is given (call ``model.save``).

    ``ray``: "local", "auto" or "ray://HOST:PORT" trains across Ray workers
    (``workers``, ``sync_every``, ``sync_protocol``, ...; docs/ray.md).
    GloVe also takes ``cooccur`` (train from a saved co-occurrence matrix) and
    ``save_cooccur`` (keep the counted matrix).

    ``callbacks``: objects with any of the hooks of :class:`embedtrain.Callback`.
    ``checkpoint``: write the run's state there every ``checkpoint_every`` seconds
    (a setting); the file is removed when training completes, unless ``keep_checkpoint``.
    ``resume``: a checkpoint (``.ckpt``, from a run that was killed) to continue on the
    same corpus with the same settings; or a finished model (or its .etm file) of a
    resumable family (skip-gram/CBOW) to train further on ``corpus``: its vocabulary,
    weights and settings are the starting point, and ``settings`` may change the
    schedule (epochs, lr, threads, seed, sample, window) but not the shape.

    ``init``: a finished model (or its .etm file; skip-gram, CBOW, FastText, GloVe with
    ``cooccur=`` its saved co-occurrence matrix) to continue on new text: its vocabulary
    grows by the words of ``corpus`` that reach ``min_count`` on the merged counts, its
    rows keep their values, new rows start as a fresh run starts them, and the run
    follows its own learning-rate schedule from ``lr`` down (docs/training.md,
    "Continuing on new text"). Settings not given are the model's; its shape (dim, hs,
    minn/maxn/bucket, ...) cannot change. Node models: ``train_graph(edges, init=...)``.
    """
    return plan(corpus, model, config_file=config_file, progress=progress, tmp_dir=tmp_dir,
                read_vocab=read_vocab, save_vocab=save_vocab, resume=resume, checkpoint=checkpoint,
                keep_checkpoint=keep_checkpoint, callbacks=callbacks, executor=executor, init=init,
                **settings).run()


def check_tmp_dir(tmp_dir: str | None) -> None:
    if tmp_dir and not Path(tmp_dir).is_dir():
        raise EmbedtrainError(f"--tmp-dir {tmp_dir} is not a directory")


# --------------------------------------------------------------------------- resuming

def checkpoint_config(ckpt: Any, model: str | None, config_file: str | None,
                      settings: dict[str, Any]) -> CommonConfig:
    """The checkpoint's settings; those given again must be the same (but for threads)."""
    if model is not None and model != ckpt.config.model:
        raise EmbedtrainError(f"checkpoint {ckpt.path} is of a {ckpt.config.model} run, not --model {model}")
    saved = {k: v for k, v in ckpt.config.to_dict().items() if k != "model"}
    explicit = _explicit(config_file, settings)
    config = make_config(ckpt.config.model, None, **{**saved, **explicit})
    ckpt.check_settings(config)
    return config


def resumed_config(base: Any, model: str | None, config_file: str | None,
                   settings: dict[str, Any]) -> CommonConfig:
    """A finished model's settings, then the config file, then ``settings``; the shape
    (settings with the role "shape") cannot change."""
    if model is not None and model != base.kind:
        raise EmbedtrainError(f"cannot resume a {base.kind} model as --model {model}")
    if not family_of(base.kind).resumable:
        able = [m for f in REGISTRY if f.resumable for m in f.models]
        raise EmbedtrainError(f"resuming is supported for {' and '.join(able)} models, not {base.kind}")
    return _model_settings(base, config_file, settings, "resuming")


# Shape settings a continued run may set: --min-count decides which new words join (the
# old words all stay).
CONTINUE_MAY_CHANGE = ("min_count",)


def continued_config(base: Any, model: str | None, config_file: str | None,
                     settings: dict[str, Any]) -> CommonConfig:
    """As :func:`resumed_config`, for ``--continue`` (the vocabulary grows)."""
    if model is not None and model != base.kind:
        raise EmbedtrainError(f"--model {model} differs from the continued model's ({base.kind}): "
                              f"leave --model out, or give a {model} model")
    family = family_of(base.kind)
    if not family.continuable:
        able = [m for f in REGISTRY if f.continuable for m in f.models]
        raise EmbedtrainError(f"continuing is supported for {', '.join(able)} models, not {base.kind}")
    return _model_settings(base, config_file, settings, "continuing", CONTINUE_MAY_CHANGE)


def _model_settings(base: Any, config_file: str | None, settings: dict[str, Any], doing: str,
                    may_change: tuple[str, ...] = ()) -> CommonConfig:
    """``base``'s settings under those given; one line naming a shape setting that differs."""
    saved = {k: v for k, v in base.config.to_dict().items() if k != "model"}
    requested = make_config(base.kind, config_file, **settings).to_dict() if (config_file or settings) else {}
    explicit = _explicit(config_file, settings)
    for name in fields_with("shape", base.kind):
        if name in explicit and name not in may_change and explicit[name] != saved.get(name):
            raise EmbedtrainError(f"--{name.replace('_', '-')} cannot change when {doing} "
                                  f"(the model has {_shown(saved.get(name))}, this run asks for "
                                  f"{_shown(explicit[name])})")
    if "negative" in explicit and (requested["negative"] > 0) != (saved["negative"] > 0):
        raise EmbedtrainError(f"negative sampling cannot be switched on or off when {doing}")
    saved.update(explicit)
    return make_config(base.kind, None, **saved)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def continued_model(init: Any):
    """The model to continue: a Model, or the path of a model file (one line otherwise)."""
    from .models import Model, load_model_file

    if isinstance(init, Model):
        model = init
    elif not isinstance(init, (str, os.PathLike)):
        raise EmbedtrainError(f"--continue takes a model or a model file, not a {type(init).__name__}")
    else:
        model = load_model_file(init, "--continue needs a model trained by embedtrain (PREFIX.etm)")
    if getattr(model, "compression", None) is not None:  # embedtrain compress: no training weights
        raise EmbedtrainError("a compressed model cannot be trained further: continue from the "
                              "model it was compressed from")
    return model


def check_resumed_corpus(ckpt: Any, corpus: Any) -> None:
    """Refuse, before reading it, a corpus other than the one the checkpoint's run was
    started on (by the files' sizes and first megabytes, as recorded in the checkpoint)."""
    from .corpus.fingerprint import corpus_record, describe, same_text

    recorded = ckpt.stats.get("corpus")
    if not isinstance(recorded, dict):  # a checkpoint written before corpora were recorded
        return
    try:
        current = corpus_record(corpus)
    except EmbedtrainError:
        return  # a missing file is reported where it is read
    if not same_text(recorded, current):
        raise EmbedtrainError(f"checkpoint {ckpt.path} was written for another corpus (its run was "
                              f"started on {describe(recorded)}, not {describe(current)}): --resume "
                              "finishes that run on its own corpus; to train a finished model on new "
                              "text, use --continue MODEL.etm")


def _explicit(config_file: str | None, settings: dict[str, Any]) -> dict[str, Any]:
    """What the recipe file and the arguments set (not the defaults)."""
    explicit = dict(load_toml(config_file)) if config_file else {}
    explicit.pop("model", None)
    explicit.update({k: v for k, v in settings.items() if v is not None})
    return explicit


# --------------------------------------------------------------------------- Ray

def pop_distributed(settings: dict[str, Any]) -> DistributedConfig:
    """Take the --ray settings out of ``settings`` (the rest are model settings)."""
    given = {k: settings.pop(k) for k in fields_with("ray") if k in settings}
    given = {k: v for k, v in given.items() if v is not None}
    dist = DistributedConfig(**given)
    if dist.ray is None and given:
        names = ", ".join("--" + k.replace("_", "-") for k in given)
        threads = " (Ray actors; threads on this machine are threads=N)" if "workers" in given else ""
        raise EmbedtrainError(f"{names} applies only with --ray{threads}")
    return dist


def check_distributed(family: Family, config: CommonConfig, dist: DistributedConfig, corpus: Any = None,
                      *, resume: Any = None, cooccur: Any = None, save_cooccur: Any = None) -> None:
    """Refuse, in one line and before any work, what --ray cannot do."""
    if not family.ray:
        from .families import ray_models

        raise EmbedtrainError(f"--model {config.model} cannot train on Ray yet "
                              f"({', '.join(ray_models())} can)")
    family.check_ray(config, dist)
    if getattr(config, "replicas", False):
        raise EmbedtrainError("--replicas is for threads on one machine; Ray workers already "
                              "train replicas (their threads share theirs)")
    if resume is not None:
        raise EmbedtrainError("--resume of a finished model does not work with --ray yet")
    if cooccur:  # GloVe from a saved matrix: no corpus
        if corpus:
            raise EmbedtrainError("with --ray, --cooccur trains from the saved matrix alone: "
                                  "give no corpus")
        return
    _paths(corpus)


def _paths(corpus: Any) -> list[str]:
    """The corpus as paths every Ray worker can read (refused otherwise)."""
    if corpus is None:
        return []
    if isinstance(corpus, (str, os.PathLike)):
        corpus = [corpus]
    if not isinstance(corpus, (list, tuple)) or not corpus or \
            not all(isinstance(c, (str, os.PathLike)) for c in corpus):
        raise EmbedtrainError("--ray trains on corpus files (paths every worker can read), "
                              "not on Python token lists")
    return [os.fspath(c) for c in corpus]


def _all_run_options() -> list[str]:
    return list(dict.fromkeys(o for f in REGISTRY for o in f.run_options))


def _models_with_option(name: str) -> list[str]:
    return [m for f in REGISTRY if name in f.run_options for m in f.models]
