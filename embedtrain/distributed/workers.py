"""The Ray actor: one replica of the weights, trained on one part of the input; the
same actor for every model family.

A :class:`ReplicaWorker` lives in its own process on some node (Ray's
``ray.remote`` wraps it in executor.py; this module does not import Ray). Its
life: ``tokenise`` its part (pass 1, on its node), receive the vocabulary and
build its id stream and its family's replica over it (``fragment``, ``build``;
GloVe's worker counts instead, and loads its entries as its replica, glove.py),
then rounds of ``train`` (the jobs its replica makes of one interval of its part,
returning its row updates split into one shard per worker) and ``apply`` (the
combined shards). ``weights``/``load_weights`` copy a replica (the final model; a
replacement for a worker that died).

Workers and reducers start by taking the driver's niceness (:func:`set_niceness`): Ray
starts its worker processes at niceness 15, and on a cluster someone else started
(``--ray auto``, ``ray://``) this run cannot set ``RAY_worker_niceness`` for them.
"""
from __future__ import annotations

import collections
import os
import time
from typing import Any

import numpy as np

from ..config import CommonConfig
from ..errors import EmbedtrainError
from ..corpus.stream import JOB_TOKENS
from ..families import family_of
from ..kernels.rng import seed_states
from ..parallel import run_jobs
from ..vocab import Vocab
from .parts import PartCorpus, SentencePlan, tokenise_part
from .split import Part, describe_inputs
from .sync import RowUpdate, ReplicaTracker, average, combine, warm_up
from .replica import StreamReplica

# Per-worker seeds: worker k's kernel threads take states k*STRIDE.. of the seed's sequence.
SEED_STRIDE = 1024
# With several workers a round is whole jobs of the part's stream, so jobs are cut
# (at sentence ends) at about a quarter of --sync-every, not at JOB_TOKENS: otherwise
# an interval shorter than a job would train a whole job every other round.
MIN_JOB_TOKENS = 1000


def _threads() -> list[int]:
    """This process's thread ids (Linux), or [0]: the calling thread (elsewhere, the process)."""
    try:
        return [int(t) for t in os.listdir("/proc/self/task")]
    except (OSError, ValueError):
        return [0]


def niceness() -> int:
    """This process's niceness: the highest of its threads' (its lowest priority)."""
    values = []
    for tid in _threads():
        try:
            values.append(os.getpriority(os.PRIO_PROCESS, tid))
        except OSError:  # a thread that ended meanwhile
            continue
    return max(values) if values else os.getpriority(os.PRIO_PROCESS, 0)


def set_niceness(value: int | None) -> str | None:
    """Give this process the niceness ``value`` (the driver's; None: leave it as Ray made
    it). Returns None, or why the system refused: raising a priority (a lower niceness)
    needs root, CAP_SYS_NICE or an RLIMIT_NICE that allows it. Linux keeps a niceness per
    thread and setpriority(PRIO_PROCESS, 0, ...) changes the calling thread alone (man 2
    setpriority), so every thread is set; threads started later inherit it."""
    if value is None:
        return None
    for tid in _threads():
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) != value:
                os.setpriority(os.PRIO_PROCESS, tid, value)
        except PermissionError as exc:
            return exc.strerror or str(exc)
        except ProcessLookupError:  # a thread that ended meanwhile
            continue
    return None


def job_tokens(workers: int, sync_every: int) -> int:
    """Tokens per job of a worker's stream: the one-machine size for a lone worker
    (whose run is then the one-machine run, bit for bit)."""
    if workers == 1:
        return JOB_TOKENS
    return max(MIN_JOB_TOKENS, min(JOB_TOKENS, sync_every // 4))


class ReplicaWorker:
    def __init__(self, index: int, workers: int, config: CommonConfig, threads: int,
                 tmp_dir: str | None = None, dtype: str = "float32", niceness: int | None = None):
        self.refused = set_niceness(niceness)  # first: the set-up below runs at it too
        self.index = index
        self.workers = workers
        self.dtype = dtype            # how updates travel (sync.SYNC_DTYPES)
        self.config = config
        self.threads = threads
        self.tmp_dir = tmp_dir
        self.part: PartCorpus | None = None
        self.replica = None                 # replica.StreamReplica, or the family's own
        self.tracker: ReplicaTracker | None = None
        self.vocab: Vocab | None = None
        states = seed_states(config.seed, (index + 1) * SEED_STRIDE)
        self.rng_states = states[index * SEED_STRIDE: index * SEED_STRIDE + threads]
        self._own: collections.deque = collections.deque()  # own updates not yet combined back

    def pid(self) -> int:
        return os.getpid()

    def node(self) -> str:
        """The Ray node this replica runs on."""
        import ray

        return ray.get_runtime_context().get_node_id()

    def priority(self) -> tuple[int, str | None]:
        """(this process's niceness, why the driver's was refused or None)."""
        return niceness(), self.refused

    # ------------------------------------------------------------------ input
    def describe(self, paths: list[str]) -> tuple[str, Any]:
        """Expand and size the input where the workers run (the driver may not see it):
        ("ok", [InputFile]) or ("error", the message)."""
        try:
            return "ok", describe_inputs(paths)
        except EmbedtrainError as exc:
            return "error", str(exc)

    def tokenise(self, part: Part):
        """Pass 1 on this node; returns the :class:`~.parts.PartSummary`."""
        if self.part is not None:
            self.part.close()
        self.part = tokenise_part(part, lowercase=self.config.lowercase,
                                  max_line_tokens=self.config.max_line_tokens, tmp_dir=self.tmp_dir)
        return self.part.summary

    def fragment(self, vocab_words: list[str], vocab_counts: np.ndarray, n: int) -> np.ndarray:
        self._set_vocab(vocab_words, vocab_counts)
        return self.part.fragment(n)

    def _set_vocab(self, words: list[str], counts: np.ndarray) -> None:
        if self.vocab is None:
            self.vocab = Vocab(words, counts)
            self.part.set_vocab(self.vocab.index)

    def build(self, vocab_words: list[str], vocab_counts: np.ndarray, plan: SentencePlan,
              appended: list[np.ndarray], corpus_tokens: int, job_size: int | None = None) -> int:
        """The id stream of this part (in jobs of about ``job_size`` tokens, see
        :func:`job_tokens`) and the family's replica over it; returns its word count."""
        self._set_vocab(vocab_words, vocab_counts)
        stream = self.part.to_stream(plan, appended, self.tmp_dir, job_size)
        self.part.close()
        self.set_replica(StreamReplica(family_of(self.config.model), self.config, self.vocab, stream,
                                       corpus_tokens, self.threads))
        return int(stream.n_tokens)

    def set_replica(self, replica: Any) -> None:
        """Train ``replica`` from now on (and track it when there are other workers)."""
        self.replica = replica
        # a lone worker has nothing to synchronise with: no tracking, no updates
        self.tracker = (ReplicaTracker(replica.matrices, replica.rows, self.workers, self.dtype)
                        if self.workers > 1 else None)
        if self.tracker is not None:
            warm_up(self.dtype)

    def sentence_shape(self) -> tuple[int, int, int]:
        """(words, sum of squared sentence lengths, longest sentence) of this part's stream."""
        stream = self.replica.stream
        return int(stream.n_tokens), int(stream.squared_lengths), int(stream.longest)

    def fingerprint(self) -> str:
        """A digest of this replica's data (what a checkpoint checks it resumes on)."""
        return self.replica.fingerprint()

    # ------------------------------------------------------------------ training
    def train(self, epoch: int, index: int, rounds: int, *late: dict[str, RowUpdate],
              overlap: bool = False) -> tuple:
        """Train round ``index`` of ``rounds`` of ``epoch`` on this replica (the jobs its
        family makes of the round). Returns (stats, shard 0, ..., shard workers-1).

        ``overlap``: the synchronisation of this round runs while the next one trains,
        so this replica keeps its own update until the combined result comes back
        (``late``: the combined shards of the round before the previous one, applied
        before training, see :meth:`apply_late`).
        """
        started, cpu_started = time.perf_counter(), time.process_time()
        received = self.apply_late(*late)["bytes_received"] if late else 0
        replica = self.replica
        jobs = replica.round_jobs(epoch, index, rounds)
        if self.tracker is not None:
            counts = replica.round_counts(jobs)
            self.tracker.begin(counts, replica.masses(counts, epoch, jobs))
        results: list[Any] = []

        def work(worker: int, j: int):
            return replica.run_job(epoch, jobs[j], self.rng_states[worker])

        kernel_started, kernel_cpu = time.perf_counter(), time.process_time()
        run_jobs(range(len(jobs)), work, lambda j, r: results.append(r), self.threads)
        compute = time.perf_counter() - started
        kernel = time.perf_counter() - kernel_started
        kernel_cpu = time.process_time() - kernel_cpu
        update, shards = self._updates()
        if overlap:  # its own update, exact, to take out when the combination comes back
            self._own.append(update if self.dtype == "float32" else self.tracker.update("float32"))
        stats = {
            "worker": self.index,
            "words": int(sum(r[0] for r in results)),
            "loss": float(sum(r[1] for r in results)),
            "examples": int(sum(r[2] for r in results)),
            "compute_seconds": compute,
            "kernel_seconds": kernel,     # the kernels alone (compute also has the round's set-up)
            "prepare_seconds": time.perf_counter() - started - compute,
            # CPU seconds (this process, all threads): unlike the wall times above they do not
            # grow when other processes share the cores (scripts/ray_costs.py)
            "kernel_cpu_seconds": kernel_cpu,
            "cpu_seconds": time.process_time() - cpu_started,
            "bytes_sent": int(sum(u.nbytes for u in update.values())),
            "bytes_received": received,
            "rows_sent": {name: len(u) for name, u in update.items()},
        }
        return (stats, *shards)

    def _updates(self) -> tuple[dict[str, RowUpdate], list[dict[str, RowUpdate]]]:
        """This round's row updates (none for a lone worker) and the same as one dict
        per shard (slices)."""
        if self.tracker is None:
            return {}, [{}] * self.workers
        update = self.tracker.update()
        return update, self.tracker.shards_of(update)

    def apply_late(self, *combined: dict[str, RowUpdate]) -> dict:
        """The combined shards of this replica's oldest unapplied round (overlapped
        synchronisation), applied after it trained on: see ReplicaTracker.apply_late."""
        return self._apply(combined, lambda joined: self.tracker.apply_late(joined, self._own.popleft()))

    def settle(self, *shards: dict[str, RowUpdate]) -> dict:
        """Apply every outstanding combined round, oldest first (``workers`` shards per
        round, one after another): afterwards this replica holds the synchronised
        weights and nothing of its own is outstanding."""
        received = 0
        for r in range(0, len(shards), self.workers):
            received += self.apply_late(*shards[r: r + self.workers])["bytes_received"]
        self._own.clear()      # a round it trained but that was lost with a dead worker's shards
        if self.tracker is not None:
            self.tracker.discard()  # the next round starts from here
        return {"bytes_received": received}

    def apply(self, *combined: dict[str, RowUpdate]) -> dict:
        """Make this replica the combined model (shards from every reducer)."""
        return self._apply(combined, self.tracker.apply)

    def _apply(self, combined: tuple[dict[str, RowUpdate], ...], apply) -> dict:
        """The combined shards per matrix, handed to ``apply``."""
        started = time.perf_counter()
        names = self.tracker.matrices.keys()
        per_name = {name: [c[name] for c in combined if name in c] for name in names}
        apply(per_name)
        return {"bytes_received": int(sum(u.nbytes for us in per_name.values() for u in us)),
                "apply_seconds": time.perf_counter() - started}

    # ------------------------------------------------------------------ weights
    def weights(self) -> dict[str, np.ndarray]:
        return self.replica.arrays

    def load_weights(self, arrays: dict[str, np.ndarray]) -> None:
        for name, a in self.replica.arrays.items():
            a[...] = arrays[name]

    def close(self) -> None:
        if self.replica is not None:
            self.replica.close()


def reduce_shard(protocol: str, *updates: dict[str, RowUpdate],
                 summed: tuple[str, ...] = (), averaged: tuple[str, ...] = ()) -> dict[str, RowUpdate]:
    """One shard of the combined update from every worker's shard (a reducer's call):
    every array by ``protocol``, but those ``summed`` (their changes added up) and those
    ``averaged`` (their changes added up and divided by the number of workers, idle ones
    included: GloVe's AdaGrad sums, to which each of N workers added its squared steps N
    times, so the result holds every worker's squared steps once; sync.average)."""
    names = updates[0].keys()
    out = {}
    for name in names:
        if name in averaged:
            out[name] = average([u[name] for u in updates])
        else:
            out[name] = combine([u[name] for u in updates], "sum" if name in summed else protocol)
    return out


class Reducer:
    """A reducer actor (executor.py): combines one shard of every worker's update
    (:func:`reduce_shard`), in a process that stays up."""

    def __init__(self, summed: tuple[str, ...] = (), dtype: str = "float32", niceness: int | None = None,
                 averaged: tuple[str, ...] = ()):
        set_niceness(niceness)  # refused here if refused for the workers: they warn
        self._summed = tuple(summed)
        self._averaged = tuple(averaged)
        warm_up(dtype)  # while the workers read their parts

    def reduce(self, protocol: str, *updates: dict[str, RowUpdate]) -> dict[str, RowUpdate]:
        return reduce_shard(protocol, *updates, summed=self._summed, averaged=self._averaged)

    def pid(self) -> int:
        return os.getpid()
