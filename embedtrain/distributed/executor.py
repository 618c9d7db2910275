"""The driver of a Ray run: sets the workers up, runs synchronous rounds, survives
a worker's death, and hands back the trained weights.

A *round* is one interval of ``--sync-every`` words per worker, the same fraction
of every part, followed by a synchronisation:

1. every worker trains its slice and returns its row updates as ``workers``
   shards (objects in its node's object store, owned by this driver, so they
   outlive the worker process);
2. one reducer per shard (an actor beside worker s) combines that shard of every
   worker's update (sync.py);
3. every worker reads all combined shards and applies them.

The driver only passes object references; the corpus, the updates and the weights
never travel through it (except the final weights, to be saved, and fragments of
at most ``--max-line-tokens`` ids where a sentence crosses a part boundary).

A worker that dies during a round is replaced: the new actor tokenises the same
part again, copies the weights from a surviving worker after the round's sync
(the last synchronised weights), and then trains the lost slice alone in a repair
round. Nothing is skipped; the log says how many words were redone. A worker that
dies while the run is set up (tokenising, handing over sentence fragments, building
its stream) is replaced too, and the new actor does that step again for its part
(:data:`MAX_SETUP_RESTARTS` times at most per worker).
"""
from __future__ import annotations

import collections
import contextlib
import logging
import math
import os
import time
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, Sequence

import numpy as np

from ..config import CommonConfig, DistributedConfig
from ..errors import EmbedtrainError, TrainingInterrupted
from ..families import family_of
from ..training.continuing import prior_tokens
from ..vocab import Vocab
from .cluster import Connection, connect
from .parts import merge_counts, plan_sentences, route_fragments
from .split import split_inputs

log = logging.getLogger("embedtrain")

# Replacements of one worker during set-up before the run gives up (a part whose
# tokenising kills every process it runs in would otherwise loop for ever).
MAX_SETUP_RESTARTS = 3
# What the one warning says when a node refuses the workers the driver's priority
# (docs/ray.md, "The workers' priority").
PRIORITY_FIX = "start the cluster with `RAY_worker_niceness=0 ray start ...` on every node"


def priority_warning(driver: int, reports: Sequence[tuple[int, str | None]]) -> str | None:
    """The warning for workers that could not take the driver's niceness ``driver``
    (``reports``: each worker's (niceness, refusal or None)), or None when none was refused."""
    refused = [(n, why) for n, why in reports if why]
    if not refused:
        return None
    values = ", ".join(str(n) for n in sorted({n for n, _ in refused}))
    return (f"{len(refused)} of {len(reports)} Ray workers run at niceness {values}, below this "
            f"process's priority (niceness {driver}): their node refused to raise it ({refused[0][1]}; "
            f"that needs root, CAP_SYS_NICE or RLIMIT_NICE); to run them at the driver's priority, "
            f"{PRIORITY_FIX}")


def _death_errors(ray) -> tuple[type, ...]:
    """The exceptions by which Ray reports a worker process or its objects gone (which
    one depends on when the process died)."""
    names = ("RayActorError", "ActorDiedError", "ActorUnavailableError", "WorkerCrashedError",
             "ObjectLostError", "OwnerDiedError", "NodeDiedError")
    return tuple(getattr(ray.exceptions, n) for n in names if hasattr(ray.exceptions, n))


@dataclass
class SyncStats:
    rounds: int = 0
    bytes_sent: int = 0          # row updates, all workers
    bytes_received: int = 0      # combined shards, all workers
    sync_seconds: float = 0.0    # wall time from the last worker's end of training to all applied
    compute_seconds: float = 0.0  # wall time of the training part of the rounds
    kernel_seconds: float = 0.0   # the kernels alone, mean over the workers, summed over rounds
    kernel_max_seconds: float = 0.0  # the slowest worker's kernels, summed over rounds
    worker_sync_seconds: float = 0.0  # the rest of a worker's train call (apply late, masses,
    #                                   snapshot, update, shards), mean over the workers, summed
    restarts: int = 0
    words_redone: int = 0
    worker_words: dict[int, int] = field(default_factory=dict)
    words_counted: int = 0       # words of every chunk trained into the final weights
    driver_calls: int = 0        # remote calls the driver submitted in rounds (train, reduce,
    #                              apply, settle, a replacement's set-up)
    objects: int = 0             # the object references those calls returned
    per_round: list = field(default_factory=list)  # a RoundRecord per round

    def counters(self) -> tuple:
        """The cumulative counters a RoundRecord is the difference of."""
        return (self.kernel_max_seconds, self.kernel_seconds, self.sync_seconds, self.driver_calls,
                self.objects, self.bytes_sent + self.bytes_received)


class RoundRecord(NamedTuple):
    """One round as the driver saw it (what a cost model of a round is checked against)."""

    wall_seconds: float          # the driver's round call: training, sync, any repair
    kernel_max_seconds: float    # the slowest worker's kernels
    kernel_mean_seconds: float   # the kernels, mean over the workers
    sync_seconds: float          # the last worker's end of training to all applied (0 overlapped)
    driver_calls: int
    objects: int
    bytes: int                   # updates sent plus combined shards read, all workers


class RayTraining:
    """One distributed run: ``start()``, then ``round(epoch, index)`` for every round,
    then ``weights()``; ``close()`` always (it kills every actor)."""

    def __init__(self, config: CommonConfig, dist: DistributedConfig, paths: Sequence[str],
                 tmp_dir: str | None = None, read_vocab: str | None = None,
                 on_phase: Any = None, init: Any = None):
        """``dist``: resolved by the model's family (Family.ray_settings); ``on_phase(run,
        name)`` is called before each step of the set-up ("tokenise", "fragment", "build";
        GloVe's "count", "map", "merge", "load"): tests kill workers from it."""
        self.config = config
        self.dist = dist
        # absolute: the workers read them, and a cluster started elsewhere (ray start) runs
        # them in another working directory (a relative path was not found there)
        self.paths = [str(p) if str(p) == "-" else os.path.abspath(p) for p in paths]
        self.tmp_dir = tmp_dir
        self.read_vocab = read_vocab
        self.init = init   # --continue: the model whose vocabulary the new text's counts grow
        self.workers = dist.workers
        self.threads = config.threads or 1  # with --ray, 0 (all cores) means one thread per worker
        self.conn: Connection | None = None
        self.actors: list[Any] = []
        self.reducers: list[Any] = []
        self.sync = SyncStats()
        self.vocab: Vocab | None = None
        self.stats: dict[str, Any] = {}
        # overlapped synchronisation: round r is combined while round r+1 trains; the
        # combined shards of the rounds not yet applied by the workers, oldest first
        self.overlap = bool(dist.sync_overlap) and self.workers > 1
        self._late: collections.deque = collections.deque()
        self.on_phase = on_phase
        # The actors take this process's niceness (Ray starts its workers at 15, and a
        # cluster someone else started is not ours to configure), unless the user set
        # RAY_worker_niceness: then they keep what Ray gives them
        self.driver_niceness = os.nice(0)
        self.niceness = None if "RAY_worker_niceness" in os.environ else self.driver_niceness
        self.worker_niceness: list[int] = []
        self.uses_reducers = True   # GloVe in strata combines nothing
        warning = family_of(config.model).ray_scale_warning(self.workers, dist.sync_protocol)
        if warning:
            log.warning("%s", warning)

    def _phase(self, name: str) -> None:
        if self.on_phase is not None:
            self.on_phase(self, name)

    # ------------------------------------------------------------------ setup
    def start(self) -> Vocab:
        """Read the input on the workers, then build every part's stream and replica."""
        self._read()
        started = time.perf_counter()
        self.part_words = self._build_all()
        self.vocab_tokens = int(sum(self.part_words))
        if self.vocab_tokens == 0:
            raise EmbedtrainError("no word of the vocabulary occurs in the corpus")
        if getattr(self.config, "window", None) == 0:
            from ..training.prepare import warn_whole_lines

            shapes = self.conn.ray.get([a.sentence_shape.remote() for a in self.actors])
            warn_whole_lines(0, sum(s[0] for s in shapes), sum(s[1] for s in shapes), max(s[2] for s in shapes))
        # rounds per epoch: every worker trains about sync_every words per round
        self.rounds = max(1, math.ceil(self.vocab_tokens / (self.workers * self.dist.sync_every)))
        self.units_per_epoch = self.vocab_tokens
        read = self.stats.pop("read_seconds")
        self.stats.update(vocab_tokens=self.vocab_tokens,
                          read_seconds=round(read + time.perf_counter() - started, 3))
        nodes = self._locate()
        log.info("read %s tokens (%s distinct) on %d Ray workers (%d nodes); vocabulary: %s words "
                 "covering %s tokens; %d rounds per epoch (%.1f s)", f"{self.corpus_tokens:,}",
                 f"{self.corpus_types:,}", self.workers, len(set(nodes)), f"{len(self.vocab):,}",
                 f"{self.vocab_tokens:,}", self.rounds, self.stats["read_seconds"])
        log.debug("words per worker: %s", ", ".join(f"{n:,}" for n in self.part_words))
        return self.vocab

    def _locate(self) -> list[str]:
        """Every worker's node (self.nodes) and niceness (self.worker_niceness), with one
        warning when a node refused the driver's niceness."""
        ray = self.conn.ray
        self.nodes = ray.get([a.node.remote() for a in self.actors])
        reports = ray.get([a.priority.remote() for a in self.actors])
        self.worker_niceness = [n for n, _ in reports]
        warning = priority_warning(self.driver_niceness, reports)
        if warning:
            log.warning("%s", warning)
        return self.nodes

    def _read(self) -> None:
        """Split the input, tokenise every part on its worker, build the vocabulary from
        the merged counts and hand the sentences that cross parts to their workers: what
        every model family's run starts with."""
        self.conn = connect(self.dist.ray, self.workers, self.threads)
        ray = self.conn.ray
        started = time.perf_counter()
        # the actors start (a process each, importing numpy, numba and this package) while
        # worker 0 sizes the input: one process start less than a separate task's
        self._start_actors()
        status, files = self._retry(0, "reading the input's sizes",
                                    lambda: self.actors[0].describe.remote(self.paths), lambda: None,
                                    MAX_SETUP_RESTARTS + 1)
        if status == "error":
            raise EmbedtrainError(files)
        self.parts = split_inputs(files, self.workers)
        self._phase("tokenise")
        summaries = self._each("tokenising", lambda w: self.actors[w].tokenise.remote(self.parts[w]))
        self.summaries = summaries
        words, counts = merge_counts(summaries)
        corpus_tokens = int(sum(s.n_tokens for s in summaries))
        if corpus_tokens == 0:
            raise EmbedtrainError("the corpus is empty: no tokens were found")
        if self.init is not None:
            vocab = self.init.vocab.merged(words, counts, self.config.min_count, self.config.max_vocab)
        elif self.read_vocab:
            vocab = Vocab.load(self.read_vocab).restricted(self.config.min_count, self.config.max_vocab)
        else:
            vocab = Vocab.build(words, counts, self.config.min_count, self.config.max_vocab)
        self.vocab = vocab
        self.corpus_tokens = corpus_tokens
        # what FastText's subsampling counts: every corpus so far when continuing
        self.counted_tokens = corpus_tokens + (prior_tokens(self.init) if self.init is not None else 0)
        self.corpus_types = len(words)
        self.plans = plan_sentences(summaries, self.config.max_line_tokens)
        self._vocab_refs = (ray.put(vocab.words), ray.put(vocab.counts))
        self._phase("fragment")
        fragments = self._each("handing over sentence fragments",  # at most --max-line-tokens ids each
                               lambda w: self.actors[w].fragment.remote(*self._vocab_refs, self.plans[w].fragment))
        self.appended = route_fragments(self.plans, fragments)
        self.stats = {"corpus_tokens": corpus_tokens, "corpus_types": len(words),
                      "read_seconds": round(time.perf_counter() - started, 3)}

    def epoch_loss(self, loss_sum: float, examples: int) -> float:
        """An epoch's loss as the one-machine task reports it: per example."""
        return loss_sum / examples if examples else 0.0

    REDONE = "words"  # what a restarted worker redid (the warning says)

    def trained_stats(self, result: Any, task: Any, started: float, fitting: float) -> dict[str, Any]:
        """What the model's stats record of the training, as one machine's do."""
        total = task.total_words
        return {"words_trained": total, "train_seconds": round(result.seconds, 3),
                "words_per_second": round(total / max(result.seconds, 1e-9))}

    def worker_class(self) -> type:
        """The actor class (GloVe's adds its counting phase)."""
        from .workers import ReplicaWorker

        return ReplicaWorker

    def _start_actors(self) -> None:
        """The workers, and with several workers one reducer actor per shard beside
        worker s. Reducers are actors, not tasks: Ray ends a task's idle worker process
        after about a second when the workers hold the node's CPUs, and starting one
        again (a Python process importing numpy and this package) cost most of a round's
        synchronisation (docs/ray.md, "Reducers"). A reducer is stateless, so Ray
        restarts it and retries its call if it dies."""
        from .workers import Reducer

        ray = self.conn.ray
        self._actor_class = ray.remote(self.worker_class())
        self.actors = [self._new_actor(w) for w in range(self.workers)]
        reducer = ray.remote(Reducer)
        family = family_of(self.config.model)
        self.reducers = [reducer.options(num_cpus=0, scheduling_strategy=self.conn.strategy(s),
                                         max_restarts=-1, max_task_retries=-1).remote(
                             family.ray_summed, self.dist.sync_dtype, self.niceness, family.ray_averaged)
                         for s in range(self.workers)] if self.workers > 1 and self.uses_reducers else []

    def _build_all(self) -> list[int]:
        self._phase("build")
        return self._each("building its stream", self._build)

    def _each(self, step: str, call) -> list:
        """``call(w)`` (a Ray call on worker w) for every worker, and the results in worker
        order. A worker that died is replaced, the new actor tokenises its part again (a
        replacement starts empty) and ``call`` is repeated (:meth:`_retry`)."""
        refs = {w: call(w) for w in range(self.workers)}
        recover = (lambda w: None) if step == "tokenising" else self._tokenised
        return [self._retry(w, step, lambda w=w: refs.pop(w) if w in refs else call(w),
                            lambda w=w: recover(w), MAX_SETUP_RESTARTS + 1)
                for w in range(self.workers)]

    def _retry(self, w: int, what: str, call, recover, attempts: int) -> Any:
        """``call()`` (a remote call on worker ``w``, got); on the worker's death a new
        actor, ``recover()`` (bringing it to the step's start) and again, ``attempts``
        times in all."""
        ray = self.conn.ray
        for attempt in range(attempts):
            try:
                return ray.get(call())
            except _death_errors(ray) as exc:
                if attempt == attempts - 1:
                    raise EmbedtrainError(f"Ray worker {w} died {attempts} times while {what}; "
                                          "giving up") from None
                log.warning("Ray worker %d died while %s (%s); replacing it", w, what, type(exc).__name__)
                self._kill(w)
                self.actors[w] = self._new_actor(w)
                self.sync.restarts += 1
                recover()

    def _tokenised(self, w: int) -> None:
        self.conn.ray.get(self.actors[w].tokenise.remote(self.parts[w]))

    def _new_actor(self, w: int):
        return self._actor_class.options(
            num_cpus=self.threads, scheduling_strategy=self.conn.strategy(w), max_restarts=0,
            name=None).remote(w, self.workers, self.worker_config, self.threads, self.tmp_dir,
                              self.dist.sync_dtype, self.niceness)

    @property
    def worker_config(self) -> CommonConfig:
        """The settings the workers train with: the learning rate times --lr-scale
        (config.ray_lr_scale) when there are several workers."""
        if self.workers == 1 or self.dist.lr_scale == 1.0 or not hasattr(self.config, "lr"):
            return self.config
        return replace(self.config, lr=self.config.lr * self.dist.lr_scale)

    def _build(self, w: int):
        from .workers import job_tokens

        return self.actors[w].build.remote(*self._vocab_refs, self.plans[w], self.appended[w],
                                           self.counted_tokens, job_tokens(self.workers, self.dist.sync_every))

    # ------------------------------------------------------------------ rounds
    def round(self, epoch: int, index: int) -> tuple[int, float, int]:
        """Train round ``index`` of epoch ``epoch`` on every worker and synchronise.
        Returns (words, summed loss, examples) over all workers; the round's
        :class:`RoundRecord` goes to ``self.sync.per_round``."""
        before = self.sync.counters()
        started = time.perf_counter()
        totals = (self._overlapped_round if self.overlap else self._synchronous_round)(epoch, index)
        wall = time.perf_counter() - started
        self.sync.per_round.append(RoundRecord(wall, *(b - a for a, b in zip(before, self.sync.counters()))))
        return totals

    def can_checkpoint(self, job: int) -> bool:
        """Whether the weights before round ``job`` of an epoch can be saved (between
        every two rounds: a round ends with every worker's update applied)."""
        return True

    def _submitted(self, calls: int, objects_each: int = 1) -> None:
        """Count ``calls`` remote calls of ``objects_each`` returns each (SyncStats)."""
        self.sync.driver_calls += calls
        self.sync.objects += calls * objects_each

    def _synchronous_round(self, epoch: int, index: int) -> tuple[int, float, int]:
        started = time.perf_counter()
        results = self._train(list(range(self.workers)), epoch, index)
        stats, dead, alive = self._gather(results, epoch, index)
        trained = time.perf_counter()
        # one worker: its replica is the model, there is nothing to combine
        applied = self._sync({w: results[w] for w in alive}, alive, dead) if self.workers > 1 else {}
        done = time.perf_counter()
        self.sync.sync_seconds += done - trained
        for a in applied.values():
            self.sync.bytes_received += a["bytes_received"]
        self._account(stats, trained - started, epoch, index, f"sync {done - trained:.2f} s")
        return self._totals(stats, dead, epoch, index)

    def _overlapped_round(self, epoch: int, index: int) -> tuple[int, float, int]:
        """A round whose synchronisation overlaps the next round's training: every
        worker first applies the combination of the round before the previous one
        (ready by then: it was combined while the previous round trained), trains,
        and hands its shards to this round's reducers, which run while the
        workers go on. A worker trains without the others' last round (one round
        staler than synchronous rounds); the driver waits only for the training."""
        started = time.perf_counter()
        late = self._late.popleft() if len(self._late) == 2 else []
        results = {w: self.actors[w].train.options(num_returns=self.workers + 1).remote(
            epoch, index, self.rounds, *late, overlap=True) for w in range(self.workers)}
        self._submitted(self.workers, self.workers + 1)
        stats, dead, alive = self._gather(results, epoch, index)
        self._late.append(self._combine({w: results[w] for w in alive}))
        for s in stats.values():  # the late combination applied at the start of the call
            self.sync.bytes_received += s.get("bytes_received", 0)
        self._account(stats, time.perf_counter() - started, epoch, index, "overlapped")
        if dead:
            # the survivors catch up (every outstanding combination, this round's of the
            # survivors included), then each lost slice is redone as a synchronous round
            self.settle(skip=dead)
        return self._totals(stats, dead, epoch, index)

    def _gather(self, results: dict[int, list], epoch: int, index: int) -> tuple[dict, list, list]:
        """The stats of every worker's train call; returns (stats, dead, alive)."""
        ray = self.conn.ray
        stats, dead = {}, []
        for w, refs in results.items():
            try:
                stats[w] = ray.get(refs[0])
            except _death_errors(ray) as exc:
                dead.append(w)
                log.warning("Ray worker %d died during round %d of epoch %d (%s)", w, index + 1,
                            epoch + 1, type(exc).__name__)
        alive = [w for w in results if w not in dead]
        if not alive:
            raise EmbedtrainError("every Ray worker died; giving up")
        return stats, dead, alive

    def _account(self, stats: dict[int, dict], compute: float, epoch: int, index: int, sync_note: str) -> None:
        """A round's compute time, words and bytes sent into SyncStats (and the -v log)."""
        per_worker = max(len(stats), 1)
        self.sync.compute_seconds += compute
        self.sync.rounds += 1
        self.sync.kernel_seconds += sum(s.get("kernel_seconds", 0.0) for s in stats.values()) / per_worker
        self.sync.kernel_max_seconds += max((s.get("kernel_seconds", 0.0) for s in stats.values()), default=0.0)
        self.sync.worker_sync_seconds += sum(
            s["compute_seconds"] + s["prepare_seconds"] - s.get("kernel_seconds", s["compute_seconds"])
            for s in stats.values()) / per_worker
        for w, s in stats.items():
            self.sync.bytes_sent += s["bytes_sent"]
            self.sync.worker_words[w] = self.sync.worker_words.get(w, 0) + s["words"]
        if log.isEnabledFor(logging.DEBUG):
            log.debug("round %d/%d of epoch %d: %s; %s, %.1f MB sent", index + 1, self.rounds,
                      epoch + 1, ", ".join(f"worker {w} {s['words'] / max(s['compute_seconds'], 1e-9):,.0f} "
                                           f"words/s" for w, s in sorted(stats.items())),
                      sync_note, sum(s["bytes_sent"] for s in stats.values()) / 1e6)

    def _totals(self, stats: dict[int, dict], dead: list[int], epoch: int, index: int) -> tuple[int, float, int]:
        """(words, loss, examples) of the round over all workers, after redoing the
        slices of the ``dead`` ones."""
        words = sum(s["words"] for s in stats.values())
        loss = sum(s["loss"] for s in stats.values())
        examples = sum(s["examples"] for s in stats.values())
        for w in dead:
            redo = self._replace(w, epoch, index)
            words += redo[0]
            loss += redo[1]
            examples += redo[2]
        self.sync.words_counted += words
        return words, loss, examples

    def _combine(self, results: dict[int, list]) -> list:
        """One reducer call per shard over the workers' shards in ``results`` (refs)."""
        self._submitted(self.workers)
        return [self.reducers[s].reduce.remote(self.dist.sync_protocol, *[results[w][1 + s] for w in results])
                for s in range(self.workers)]

    def settle(self, skip: Sequence[int] = ()) -> None:
        """Overlapped rounds: make every worker (but ``skip``) apply the combinations it
        has not applied yet, so that all replicas hold the synchronised weights."""
        if not self._late:
            return
        ray = self.conn.ray
        started = time.perf_counter()
        flat = [ref for shards in self._late for ref in shards]
        self._late.clear()
        done = ray.get([self.actors[w].settle.remote(*flat) for w in range(self.workers) if w not in skip])
        self._submitted(len(done))
        self.sync.bytes_received += sum(d["bytes_received"] for d in done)
        self.sync.sync_seconds += time.perf_counter() - started

    def _train(self, which: list[int], epoch: int, index: int) -> dict[int, list]:
        self._submitted(len(which), self.workers + 1)
        return {w: self.actors[w].train.options(num_returns=self.workers + 1).remote(
            epoch, index, self.rounds) for w in which}

    def _sync(self, results: dict[int, list], alive: list[int], skip: Sequence[int] = ()) -> dict[int, dict]:
        """Combine the shards of ``results`` and apply them on every live worker."""
        ray = self.conn.ray
        shard_refs = self._combine(results)
        targets = [w for w in range(self.workers) if w not in skip]
        applied, failed = {}, []
        refs = {w: self.actors[w].apply.remote(*shard_refs) for w in targets}
        self._submitted(len(refs))
        for w, ref in refs.items():
            try:
                applied[w] = ray.get(ref)
            except _death_errors(ray):
                failed.append(w)
        for w in failed:  # its update was combined already: only its replica is lost
            log.warning("Ray worker %d died while synchronising; replacing it", w)
            self._respawn(w)
        return applied

    def _respawn(self, w: int) -> None:
        """A new actor for part ``w`` with the last synchronised weights."""
        ray = self.conn.ray
        self._kill(w)
        donor = next(i for i in range(self.workers) if i != w)
        actor = self._new_actor(w)
        self.actors[w] = actor
        ray.get(actor.tokenise.remote(self.parts[w]))
        ray.get(self._build(w))
        ray.get(actor.load_weights.remote(self.actors[donor].weights.remote()))
        self._submitted(4)  # tokenise, build, weights, load_weights
        self.sync.restarts += 1

    def _kill(self, w: int) -> None:
        self._kill_actor(self.actors[w])

    def _kill_actor(self, actor) -> None:
        try:
            self.conn.ray.kill(actor, no_restart=True)
        except Exception:  # noqa: BLE001 - already gone
            pass

    def _replace(self, w: int, epoch: int, index: int) -> tuple[int, float, int]:
        """Replace dead worker ``w`` and train its lost slice of this round alone."""
        if self.workers == 1:
            raise EmbedtrainError("the only Ray worker died; nothing synchronised to restart from")
        self._respawn(w)
        results = self._train([w], epoch, index)
        stats = self.conn.ray.get(results[w][0])
        self._sync(results, [w])
        self.sync.words_redone += stats["words"]
        self.sync.bytes_sent += stats["bytes_sent"]
        log.warning("Ray worker %d restarted from the last synchronised weights; redid %s words of "
                    "its part (round %d of epoch %d)", w, f"{stats['words']:,}", index + 1, epoch + 1)
        return stats["words"], stats["loss"], stats["examples"]

    # ------------------------------------------------------------------ results
    def weights(self) -> dict[str, np.ndarray]:
        self.settle()
        arrays = self.conn.ray.get(self.actors[0].weights.remote())
        return {k: np.array(v, copy=True) for k, v in arrays.items()}

    def load_weights(self, arrays: dict[str, np.ndarray]) -> None:
        ref = self.conn.ray.put(arrays)
        self.conn.ray.get([a.load_weights.remote(ref) for a in self.actors])

    def fingerprint(self) -> dict[str, Any]:
        """What a checkpoint of this run records of its data and its split."""
        import hashlib

        digests = self.conn.ray.get([a.fingerprint.remote() for a in self.actors])
        return {"tokens": int(self.vocab_tokens), "ray_workers": self.workers,
                "sync_every": self.dist.sync_every,
                "ids": hashlib.sha256("".join(digests).encode()).hexdigest()[:32]}

    def worker_pids(self) -> list[int]:
        return self.conn.ray.get([a.pid.remote() for a in self.actors])

    def reducer_pids(self) -> list[int]:
        return self.conn.ray.get([r.pid.remote() for r in self.reducers])

    def describe(self) -> dict[str, Any]:
        """What the model records about the run."""
        s = self.sync
        return {"workers": self.workers, "threads_per_worker": self.threads,
                "sync_every": self.dist.sync_every, "sync_protocol": self.dist.sync_protocol,
                "sync_dtype": self.dist.sync_dtype,
                "sync_overlap": self.overlap,
                "lr_scale": self.dist.lr_scale if self.workers > 1 else 1.0,
                "worker_lr": self.worker_config.lr,
                "rounds_per_epoch": self.rounds, "rounds": s.rounds,
                "bytes_per_sync": int((s.bytes_sent + s.bytes_received) / max(s.rounds, 1)),
                "bytes_sent_per_sync": int(s.bytes_sent / max(s.rounds, 1)),
                "sync_seconds": round(s.sync_seconds, 3), "compute_seconds": round(s.compute_seconds, 3),
                "kernel_seconds": round(s.kernel_seconds, 3), "kernel_max_seconds": round(s.kernel_max_seconds, 3),
                "worker_sync_seconds": round(s.worker_sync_seconds, 3),
                "restarts": s.restarts, "words_redone": s.words_redone,
                "words_counted": s.words_counted, "nodes": len(set(self.nodes)),
                "driver_niceness": self.driver_niceness, "worker_niceness": self.worker_niceness,
                "per_round": per_round_columns(s.per_round)}

    def close(self) -> None:
        if self.conn is None:
            return
        for actor in self.actors + self.reducers:
            self._kill_actor(actor)
        self.actors, self.reducers = [], []
        self.conn.close()
        self.conn = None


def per_round_columns(records: Sequence[RoundRecord]) -> dict[str, list]:
    """The rounds' records as one list per field (seconds to 0.1 ms), as the model's stats
    keep them."""
    columns = {name: [r[i] for r in records] for i, name in enumerate(RoundRecord._fields)}
    return {name: [round(v, 4) for v in values] if name.endswith("seconds") else values
            for name, values in columns.items()}


@contextlib.contextmanager
def stopping_workers(run: RayTraining):
    """Around a Ray run on the driver: Ctrl-C, or the runner's stop, ends in one
    TrainingInterrupted that says every worker stopped; the actors go either way."""
    try:
        yield
    except KeyboardInterrupt:
        raise TrainingInterrupted("interrupted: training stopped on every Ray worker, nothing written") from None
    except TrainingInterrupted as exc:
        raise TrainingInterrupted(f"{exc} (every Ray worker stopped)") from None
    finally:
        run.close()


def check_ray_checkpoint(ckpt, dist: DistributedConfig) -> None:
    """A checkpoint resumes with --ray only if a --ray run of the same shape wrote it."""
    saved = ckpt.fingerprint.get("ray_workers")
    if saved is None:
        raise EmbedtrainError(f"checkpoint {ckpt.path} was written by a run without --ray; "
                              "resume it without --ray")
    if saved != dist.workers or ckpt.fingerprint.get("sync_every") != dist.sync_every:
        raise EmbedtrainError(f"checkpoint {ckpt.path} was written with --workers {saved} "
                              f"--sync-every {ckpt.fingerprint.get('sync_every')}; resume with the same")
