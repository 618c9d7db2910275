"""What a model family is: everything that differs by model, declared in one place.

The generic machinery (the training runner, checkpoints, graphs, Ray) never
branches on a model's name: it asks the model's :class:`Family`. A family
declares its settings (config classes, one per model name it trains), the kind of
finished model, what the runner counts (words or co-occurrence entries), its
defaults for Ray and for graphs, and how to train: on one machine
(:meth:`Family.train`) and, for families whose training is a stream of token
chunks (:class:`StreamFamily`), the pieces a Ray worker needs: fresh arrays, the
task, the rows a set of trained words can touch and their masses, and the
finished model.

Adding a family is one module in this package and one line in the registry
(``families/__init__.py``); docs/architecture.md walks through it.

Family modules import only the config and numpy at the top: the CLI builds its
options from the registry, so numba and the kernels are imported inside methods.
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

import numpy as np

from ..config import (COMBINE_PROTOCOLS, MIN_SYNC_EVERY, SYNC_DTYPE, SYNC_DTYPES, SYNC_EVERY, SYNC_OVERLAP, SYNC_PROTOCOL, CommonConfig,
                      DistributedConfig)
from ..errors import EmbedtrainError

if TYPE_CHECKING:  # pragma: no cover
    from ..models import Model
    from ..training.prepare import RunOptions
    from ..vocab import Vocab


class Family:
    """A model family: one or more model names that share a driver and a task.

    Class attributes are the declarations; subclasses override what differs.
    """

    name: ClassVar[str] = ""                 # the family: "word2vec"
    title: ClassVar[str] = ""                # as the docs and --help name it: "FastText"
    configs: ClassVar[Mapping[str, type[CommonConfig]]] = {}   # model name -> settings
    unit: ClassVar[str] = "word"             # what the runner counts: "word" or "entry"
    # Options of train() beyond the settings that only this family takes (GloVe: cooccur=...).
    run_options: ClassVar[tuple[str, ...]] = ()
    # A finished model of this family can be trained further (--resume MODEL.etm).
    resumable: ClassVar[bool] = False
    # ... and continued on new text, its vocabulary grown (--continue MODEL.etm:
    # check_continuing, grown_arrays); and a continued run's checkpoint resumed.
    continuable: ClassVar[bool] = False
    continue_checkpoints: ClassVar[bool] = False
    # Settings for graphs (DeepWalk/node2vec) under the file and the arguments; None: the
    # family does not train on graphs.
    graph_presets: ClassVar[Mapping[str, Any] | None] = None
    # Settings for item sequences (train --items: item2vec) under the file and the
    # arguments; None: the family does not train on items.
    item_presets: ClassVar[Mapping[str, Any] | None] = None
    # --ray: whether the family trains on Ray, and its defaults for what was not given.
    ray: ClassVar[bool] = False
    ray_sync_every: ClassVar[int] = SYNC_EVERY
    ray_round_words: ClassVar[int | None] = None  # the default shrinks to this / workers (config)
    ray_sync_protocol: ClassVar[str] = SYNC_PROTOCOL
    ray_sync_dtypes: ClassVar[tuple[str, ...]] = SYNC_DTYPES   # allowed; the default: SYNC_DTYPE
    ray_sync_protocols: ClassVar[tuple[str, ...]] = COMBINE_PROTOCOLS   # --sync-protocol allowed
    ray_dtype_reason: ClassVar[str] = ""     # why only some dtypes are allowed (the refusal says it)
    ray_overlap: ClassVar[bool] = True       # rounds may overlap (--sync-overlap)
    # A Ray run first counts co-occurrences on the workers (GloVe: distributed/glove.py);
    # otherwise it trains the family's task on each worker's part (distributed/executor.py).
    ray_counting: ClassVar[bool] = False
    # Arrays whose updates are summed, whatever --sync-protocol says (GloVe: AdaGrad sums).
    ray_summed: ClassVar[tuple[str, ...]] = ()
    # Arrays whose updates are averaged over all the workers, idle ones counted as zero
    # (GloVe's AdaGrad sums, which each worker adds to N times: sync.average).
    ray_averaged: ClassVar[tuple[str, ...]] = ()
    # The most workers the family's quality on Ray was measured near one machine at, and
    # what was measured beyond (docs/ray.md): a run on more workers logs one warning.
    ray_measured_workers: ClassVar[int | None] = None
    ray_beyond: ClassVar[str] = ""
    ray_section: ClassVar[str] = ""   # the section of docs/ray.md that says so

    # ------------------------------------------------------------------ settings
    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self.configs)

    def model_class(self, model: str) -> type["Model"]:
        """The class of this family's finished models: the Model subclass whose KINDS
        name it (models.py), as loading a file finds it."""
        from ..models import model_class

        return model_class(model)

    def ray_lr_scale(self, workers: int) -> float:
        """The workers' learning rate over one machine's when --lr-scale is not given."""
        from ..config import ray_lr_scale

        return ray_lr_scale(workers)

    def check_ray(self, config: CommonConfig, dist: DistributedConfig) -> None:
        """Refuse, in one line, the --ray settings this family cannot train with (a
        family that does not train on Ray is refused by the entry point, api.py)."""
        if dist.sync_protocol is not None and dist.sync_protocol not in self.ray_sync_protocols:
            raise EmbedtrainError(f"--sync-protocol {dist.sync_protocol} does not apply to {self.title} "
                                  f"(it takes {', '.join(self.ray_sync_protocols)})")
        if dist.sync_overlap and not self.ray_overlap:
            raise EmbedtrainError(f"--sync-overlap does not apply to {self.title}: its rounds are "
                                  "synchronous")
        if dist.sync_dtype is not None and dist.sync_dtype not in self.ray_sync_dtypes:
            raise EmbedtrainError(f"{self.title}'s updates travel as {' or '.join(self.ray_sync_dtypes)}"
                                  f"{self.ray_dtype_reason}: --sync-dtype {dist.sync_dtype} does not apply")

    def ray_measured(self, protocol: str | None = None) -> tuple[int | None, str, str]:
        """(the most workers this family's quality was measured near one machine at with
        --sync-protocol ``protocol`` (None: its default), what was measured, the section of
        docs/ray.md that says so)."""
        return self.ray_measured_workers, self.ray_beyond, self.ray_section

    def ray_scale_warning(self, workers: int, protocol: str | None = None) -> str | None:
        """One line for a Ray run on more workers than its quality was measured at."""
        most, beyond, section = self.ray_measured(protocol)
        if most is None or workers <= most:
            return None
        return (f"{self.title} on Ray was measured {beyond} (docs/ray.md, "
                f"\"{section}\"): check the vectors of a run on {workers} workers before using them")

    def round_words(self, model: str | None = None) -> int | None:
        """Words (GloVe: entry visits) a round holds at most over all the workers, for
        ``model`` (one of ``configs``), or None: no such bound."""
        return self.ray_round_words

    def default_sync_every(self, workers: int, model: str | None = None) -> int:
        """--sync-every when not given: the family's, or fewer words a worker when
        ``workers`` of them would train more than :meth:`round_words` a round."""
        round_words = self.round_words(model)
        if round_words is None:
            return self.ray_sync_every
        return min(self.ray_sync_every, max(MIN_SYNC_EVERY, round_words // max(workers, 1)))

    def ray_settings(self, dist: DistributedConfig, model: str | None = None) -> DistributedConfig:
        """``dist`` with what was not given set to this family's defaults for ``model``
        (resolved once per run, by the entry point)."""
        dtype = dist.sync_dtype or (SYNC_DTYPE if SYNC_DTYPE in self.ray_sync_dtypes
                                    else self.ray_sync_dtypes[0])
        overlap = (SYNC_OVERLAP if dist.sync_overlap is None else dist.sync_overlap) \
            if self.ray_overlap else False
        return dataclasses.replace(
            dist, sync_every=dist.sync_every or self.default_sync_every(dist.workers, model),
            sync_protocol=dist.sync_protocol or self.ray_sync_protocol, sync_dtype=dtype,
            sync_overlap=overlap,
            lr_scale=dist.lr_scale if dist.lr_scale is not None else self.ray_lr_scale(dist.workers))

    # ------------------------------------------------------------------ training
    def train(self, config: CommonConfig, corpus: Any, options: "RunOptions", **extra: Any) -> "Model":
        """Train on one machine (threads): read, build the task, run it, finish."""
        raise NotImplementedError

    def layout(self, config: CommonConfig, vocab: "Vocab") -> Any:
        """What the arrays' shape depends on beyond the vocabulary (FastText: the n-gram
        rows), computed once per run; None when nothing."""
        return None

    def lr_at(self, config: CommonConfig, units_done: float, units_per_epoch: int) -> float:
        """The learning rate after ``units_done`` units of a run (what a Ray run reports;
        each worker's task computes its own)."""
        raise NotImplementedError

    def finished_model(self, config: CommonConfig, vocab: "Vocab", arrays: dict[str, np.ndarray],
                       stats: dict[str, Any], layout: Any = None) -> "Model":
        """The trained model (of :meth:`model_class`) over the arrays it keeps."""
        return self.model_class(config.model)(config, vocab, arrays, stats)

    def trained_arrays(self, arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
        """The arrays checked for NaN after training (before the model is made)."""
        return (arrays["input_vectors"],)

    def checkpoint_shapes(self, config: CommonConfig, vocab: "Vocab",
                          layout: Any) -> dict[str, tuple[list[tuple[int, ...]], Any]]:
        """The arrays a checkpoint of this family may hold: name -> (the shapes allowed,
        dtype). Every array is checked against them before a kernel sees it."""
        raise NotImplementedError

    # The arrays a Ray replica holds (what a --ray checkpoint has and a resumed run needs).
    ray_arrays: ClassVar[tuple[str, ...]] = ("input_vectors", "output_vectors", "output_hs")

    def check_checkpoint(self, checkpoint: Any, config: CommonConfig, vocab: "Vocab", layout: Any,
                         required: Any = None) -> None:
        """Refuse a checkpoint of another vocabulary, or whose arrays are not this run's
        (shape, dtype, finiteness)."""
        checkpoint.check_vocab(vocab)
        checkpoint.check_arrays(self.checkpoint_shapes(config, vocab, layout), required)

    def resumed_arrays(self, checkpoint: Any, vocab: "Vocab", layout: Any) -> dict[str, np.ndarray]:
        """The arrays of an interrupted run's checkpoint, ready to train (checked)."""
        self.check_checkpoint(checkpoint, checkpoint.config, vocab, layout)
        return writable_copy(checkpoint.arrays)

    def check_continuing(self, model: "Model", corpus: Any, extra: Mapping[str, Any]) -> None:
        """Refuse, before any work, a --continue this family cannot do with these run
        options (GloVe: it needs the saved co-occurrence matrix)."""
        if not corpus:
            raise EmbedtrainError("--continue needs the new text: embedtrain train NEW... "
                                  "--continue MODEL.etm")

    def grown_arrays(self, model: "Model", config: CommonConfig, vocab: "Vocab",
                     layout: Any) -> dict[str, np.ndarray]:
        """A finished model's arrays over the grown vocabulary ``vocab`` (its words keep
        their rows; new rows start as :meth:`fresh_arrays` starts them): ``continuable``
        families (training/continuing.py)."""
        raise EmbedtrainError(f"continuing is not supported for {model.kind} models")


class StreamFamily(Family):
    """A family trained on the stream of token ids in chunks (word2vec, FastText): the
    one-machine driver is written once here, over the declarations below; a Ray worker
    uses the same declarations on its part of the input."""

    continue_checkpoints = True   # the driver below resumes a continued run (stats["continued"])

    # ------------------------------------------------------------------ declarations
    def check_before_reading(self, config: CommonConfig) -> None:
        """Refuse, before the corpus is read, settings that cannot fit."""

    def fresh_arrays(self, config: CommonConfig, vocab: "Vocab", layout: Any) -> dict[str, np.ndarray]:
        """The starting weights (a function of the seed only)."""
        raise NotImplementedError

    def checkpoint_shapes(self, config: CommonConfig, vocab: "Vocab",
                          layout: Any) -> dict[str, tuple[list[tuple[int, ...]], Any]]:
        """By default those of :meth:`fresh_arrays` (the built-in families declare them
        without allocating)."""
        return {name: ([a.shape], a.dtype) for name, a in self.fresh_arrays(config, vocab, layout).items()}

    def make_task(self, config: CommonConfig, vocab: "Vocab", arrays: dict[str, np.ndarray],
                  corpus_tokens: int, layout: Any, stream: Any = None) -> Any:
        """The runner's task over ``arrays`` (``stream=None``: a Ray worker's replica,
        which trains chunks it is handed with ``task.train_chunk``)."""
        raise NotImplementedError

    def lr_schedule(self, config: CommonConfig) -> tuple[float, float, float]:
        """(floor, offset, epoch decay) of the linear learning-rate schedule
        (kernels/common.py: schedule_fraction, decayed_units)."""
        raise NotImplementedError

    def lr_at(self, config: CommonConfig, units_done: float, units_per_epoch: int) -> float:
        """The rate after ``units_done`` words of a run of ``config.epochs`` epochs (what a
        Ray run reports; each worker's task computes its own)."""
        from ..kernels.common import scheduled_lr

        floor, offset, decay = self.lr_schedule(config)
        return scheduled_lr(config.lr, units_done, units_per_epoch, config.epochs, floor, offset, decay)

    def replica_rows(self, config: CommonConfig, layout: Any) -> dict[str, Any]:
        """For each array of a Ray replica, the rows a set of trained words can touch
        (distributed/sync.py's RowsFromWords; None: compare the whole matrix)."""
        raise NotImplementedError

    def row_masses(self, task: Any, vocab: "Vocab", counts: np.ndarray, lr: float) -> dict[str, np.ndarray]:
        """How much each row of each array moves in a round that trains ``counts``
        occurrences of each vocabulary word at rate ``lr`` (sync.update_masses)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ the driver
    def starting_arrays(self, config: CommonConfig, vocab: "Vocab", layout: Any,
                        options: "RunOptions") -> dict[str, np.ndarray]:
        if options.resume_checkpoint is not None:
            return self.resumed_arrays(options.resume_checkpoint, vocab, layout)
        if options.resume is not None:
            return self.continued_arrays(options.resume)
        if options.init is not None:
            return self.grown_arrays(options.init, config, vocab, layout)
        return self.fresh_arrays(config, vocab, layout)

    def continued_arrays(self, model: "Model") -> dict[str, np.ndarray]:
        """A finished model's arrays to train further (``resumable`` families)."""
        raise EmbedtrainError(f"resuming is not supported for {model.kind} models")

    def train(self, config: CommonConfig, corpus: Any, options: "RunOptions", **extra: Any) -> "Model":
        import logging

        from ..io.checkpoint import stream_fingerprint
        from ..training.continuing import lineage, lineage_so_far, prior_tokens
        from ..training.prepare import drive, prepare_corpus
        from ..training.runner import check_finite, summary_line

        self.check_before_reading(config)
        vocab, stream, stats = prepare_corpus(corpus, config, options)
        # a continued run (or one resumed from its checkpoint) subsamples by the tokens of
        # every corpus so far (FastText's keep-probability counts them; word2vec's counts the
        # merged vocabulary), and its model's lineage starts with the continued model's
        ckpt = options.resume_checkpoint
        if options.init is not None:
            stats["continued"] = {"lineage": lineage_so_far(options.init),
                                  "prior_tokens": prior_tokens(options.init)}
        elif ckpt is not None and ckpt.continued:
            stats["continued"] = ckpt.continued
        counted = stats["corpus_tokens"] + int(stats.get("continued", {}).get("prior_tokens", 0))
        with stream:
            layout = self.layout(config, vocab)
            arrays = self.starting_arrays(config, vocab, layout, options)
            task = self.make_task(config, vocab, arrays, counted, layout, stream)
            result = drive(task, config, options, vocab, stats, lambda: stream_fingerprint(stream))
        check_finite(config.model, *self.trained_arrays(arrays))
        if options.resume is not None:
            stats["resumed_from_words"] = int(options.resume.stats.get("words_trained", 0)) + \
                int(options.resume.stats.get("resumed_from_words", 0))
        total_words = task.total_words
        stats.update(words_trained=total_words, train_seconds=round(result.seconds, 3),
                     words_per_second=round(total_words / max(result.seconds, 1e-9)))
        continued = stats.pop("continued", None)
        if continued is not None:
            before, mode = continued["lineage"], "continue"
        else:
            before, mode = (lineage_so_far(options.resume) if options.resume is not None else None), "resume"
        stats["lineage"] = lineage(before, stats.pop("corpus", {}), dict(stats, vocab_words=len(vocab)),
                                   config.epochs, mode)
        model = self.finished_model(config, vocab, arrays, stats, layout)
        logging.getLogger("embedtrain").debug(summary_line(model))
        return model


def writable_copy(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Arrays read from a file, made writable (copied only where they are not)."""
    return {name: a if a.flags.writeable and a.flags.c_contiguous else np.array(a, order="C")
            for name, a in arrays.items()}
