"""Training across machines on Ray, generic over a model family: the input split
among workers (split.py, parts.py), replicas combined every interval (sync.py),
the Ray actors (workers.py), the cluster connection (cluster.py), the rounds
(executor.py) and the run as a runner Task whose jobs are rounds (task.py), so the
training wing's runner drives it. What differs by model is asked of the model's
family (embedtrain/families/); GloVe's counting phase (map-reduce counting and a
partitioned matrix) is in glove.py and cooccur.py. The entry point, and the
refusals before any work, are in embedtrain/api.py.

Ray is imported only by cluster.py, workers.py and executor.py, and only when a run
asks for it."""
from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any, Sequence

log = logging.getLogger("embedtrain")


def train_on_ray(config: Any, dist: Any, paths: Sequence[str], options: Any = None, *,
                 cooccur: str | None = None, save_cooccur: str | None = None, on_start=None,
                 on_phase=None, **option_fields: Any):
    """Train ``config``'s model on Ray through the runner; returns the Model (the same kind
    as one machine's). ``dist``: the --ray settings resolved by the model's family
    (``Family.ray_settings``; embedtrain.train does it). ``options`` (or its fields as
    keywords): progress, tmp_dir, read_vocab, save_vocab, checkpoint, resume_checkpoint,
    callbacks, init (--continue: the model whose vocabulary grows and whose rows the
    workers start from).

    The same round loop (executor.py) and workers (workers.py) serve every family; a
    family that counts first (GloVe: ``cooccur``, ``save_cooccur``) runs its counting
    phase before it (glove.py). ``on_phase(run, name)`` is called before each step of
    the set-up ("tokenise", "fragment", "build"; GloVe's "count", "map", "merge" and
    "load"); ``on_start(run)`` once the workers are ready
    (tests kill workers from them)."""
    from ..families import family_of
    from ..training import RunOptions, ThreadExecutor, check_finite, drive
    from .executor import RayTraining, check_ray_checkpoint, stopping_workers
    from .task import RayTask

    family = family_of(config.model)
    options = options if options is not None else RunOptions(**option_fields)
    # the rounds run one after another on this thread; the workers are the parallelism
    options = dataclasses.replace(options, executor=ThreadExecutor(1))
    ckpt = options.resume_checkpoint
    if ckpt is not None:
        check_ray_checkpoint(ckpt, dist)
    started = time.perf_counter()
    if family.ray_counting:
        from .glove import GloVeRayTraining

        run = GloVeRayTraining(config, dist, paths, tmp_dir=options.tmp_dir, read_vocab=options.read_vocab,
                               cooccur=cooccur, save_cooccur=save_cooccur, on_phase=on_phase)
    else:
        run = RayTraining(config, dist, paths, tmp_dir=options.tmp_dir, read_vocab=options.read_vocab,
                          on_phase=on_phase, init=options.init)
    with stopping_workers(run):
        vocab = run.start()
        config = run.config  # GloVe with --cooccur: the counting settings of the matrix
        if options.save_vocab:
            vocab.save(options.save_vocab)
        layout = family.layout(config, vocab)
        if ckpt is not None:
            family.check_checkpoint(ckpt, config, vocab, layout, required=family.ray_arrays)
            run.load_weights(ckpt.arrays)
        elif options.init is not None:  # --continue: the model's rows over the grown vocabulary
            run.load_weights(family.grown_arrays(options.init, config, vocab, layout))
        if on_start is not None:
            on_start(run)
        task = RayTask(run, run.worker_config)  # the rate shown is the workers' rate
        stats = dict(run.stats)
        fitting = time.perf_counter()
        result = drive(task, config, options, vocab, stats, run.fingerprint)
        arrays = run.weights()
    stats.update(run.trained_stats(result, task, started, fitting))
    stats.update(threads=run.threads, distributed=run.describe())
    if run.sync.words_redone:
        log.warning("%d Ray worker restart(s); %s %s redone", run.sync.restarts,
                    f"{run.sync.words_redone:,}", run.REDONE)
    check_finite(config.model, *family.trained_arrays(arrays))
    from ..corpus.fingerprint import corpus_record
    from ..training.continuing import lineage, lineage_so_far

    record = corpus_record(list(paths)) if paths else {"source": f"co-occurrence matrix {cooccur}"}
    before = lineage_so_far(options.init) if options.init is not None else None
    stats["lineage"] = lineage(before, record, dict(stats, vocab_words=len(vocab)), config.epochs)
    return family.finished_model(config, vocab, arrays, stats, layout)
