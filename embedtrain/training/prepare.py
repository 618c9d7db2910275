"""From a token source to what every driver trains on: the vocabulary and the
stream of ids (read once), and the options of a run that are not model settings."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ..config import OWN_ROWS, OWN_ROWS_THREADS, REPLICA_THREADS, WHOLE_LINE_WARN_CONTEXTS, CommonConfig
from ..corpus import TokenStream
from ..corpus.source import as_source
from ..corpus.stream import line_contexts
from ..errors import EmbedtrainError
from ..models import Model
from .executor import Executor
from ..vocab import Vocab

if TYPE_CHECKING:  # pragma: no cover
    from ..io.checkpoint import Checkpoint

log = logging.getLogger("embedtrain")

# A path, a list of paths, an iterable of token lists, or a TokenSource (corpus/source.py).
Corpus = Any


@dataclass(frozen=True)
class RunOptions:
    """How to run, as opposed to what to train (config.py): options every model takes."""

    progress: bool = True
    tmp_dir: str | None = None
    read_vocab: str | None = None
    save_vocab: str | None = None
    resume: Model | None = None                 # train this finished model further (its vocabulary)
    init: Model | None = None                   # continue this model on new text (vocabulary grown)
    checkpoint: str | None = None               # write checkpoints here (config.checkpoint_every)
    resume_checkpoint: "Checkpoint | None" = None  # continue this interrupted run
    callbacks: tuple = ()
    executor: Executor | None = None            # default: threads (config.threads)


def prepare_corpus(corpus: Corpus | None, config: CommonConfig,
                   options: RunOptions) -> tuple[Vocab, TokenStream, dict[str, Any]]:
    """Read the corpus once: the vocabulary and the training stream of ids.

    Returns (vocab, stream, stats); the caller closes the stream.
    """
    from ..corpus.fingerprint import corpus_record

    record = corpus_record(corpus)
    source = as_source(corpus, read_ahead=config.worker_threads > 1)  # a block ahead, beside the tokeniser
    started = time.perf_counter()
    raw = source.encode(lowercase=config.lowercase, max_line_tokens=config.max_line_tokens,
                        tmp_dir=options.tmp_dir)
    try:
        if raw.n_tokens == 0:
            raise EmbedtrainError("the corpus is empty: no tokens were found")
        if options.resume is not None:
            vocab = options.resume.vocab  # fixed: rows must keep their words
        elif options.resume_checkpoint is not None and options.resume_checkpoint.continued:
            vocab = options.resume_checkpoint.vocab  # a continued run's grown vocabulary
        elif options.init is not None:   # grown: the old words and the new text's
            vocab = options.init.vocab.merged(raw.words, raw.counts, config.min_count, config.max_vocab)
            log.info("continuing %s: %s words, %s of them new", options.init.kind, f"{len(vocab):,}",
                     f"{len(vocab) - len(options.init.vocab):,}")
        elif options.read_vocab:
            vocab = Vocab.load(options.read_vocab).restricted(config.min_count, config.max_vocab)
        else:
            vocab = Vocab.build(raw.words, raw.counts, config.min_count, config.max_vocab)
        stream = raw.to_stream(vocab.index, options.tmp_dir, job_tokens(config, options))
    finally:
        raw.close()
    if stream.n_tokens == 0:
        stream.close()
        raise EmbedtrainError("no word of the vocabulary occurs in the corpus")

    if options.save_vocab:
        vocab.save(options.save_vocab)
    stats = {"corpus_tokens": raw.n_tokens, "corpus_types": len(raw.words),
             "vocab_tokens": stream.n_tokens, "read_seconds": round(time.perf_counter() - started, 3),
             "corpus": record}
    log.info("read %s tokens (%s distinct); vocabulary: %s words covering %s tokens (%.1f s)",
             f"{raw.n_tokens:,}", f"{len(raw.words):,}", f"{len(vocab):,}", f"{stream.n_tokens:,}",
             stats["read_seconds"])
    warn_whole_lines(getattr(config, "window", None), stream.n_tokens, stream.squared_lengths, stream.longest)
    return vocab, stream, stats


def warn_whole_lines(window: int | None, n_tokens: int, squared_lengths: int, longest: int) -> None:
    """With ``--window 0`` on long sentences, one warning that says what it costs (from the
    stream's sentence lengths; a Ray run sums its parts')."""
    contexts = line_contexts(n_tokens, squared_lengths)
    if window != 0 or contexts <= WHOLE_LINE_WARN_CONTEXTS:
        return
    log.warning("--window 0 makes every word of a sentence the context of every other, and the "
                "sentences here give each word %s contexts on average (longest sentence %s words; "
                "--window 5 gives about 6): training time grows with the square of the length. "
                "--window 0 is meant for short baskets (item2vec); give a --window, or cut lines "
                "shorter with --max-line-tokens", f"{contexts:,.0f}", f"{longest:,}")


def replicas(config: CommonConfig, options: RunOptions) -> bool:
    """Whether this run's threads train replicas (--replicas, training/replicas.py)."""
    return bool(getattr(config, "replicas", False)) and options.executor is None


def job_tokens(config: CommonConfig, options: RunOptions) -> int | None:
    """Tokens per job: shorter with replicas (a replica sees the others' updates only
    between jobs; also with one thread, so that a checkpoint resumes on any number of
    threads; the model's ``replica_job_tokens``), else the stream's own (None: JOB_TOKENS)."""
    return config.replica_job_tokens if replicas(config, options) else None


def drive(task, config: CommonConfig, options: RunOptions, vocab: Vocab, stats: dict[str, Any],
          fingerprint: Callable[[], dict[str, Any]]):
    """Run ``task`` through the runner with this run's executor, callbacks and
    checkpoints (resuming from ``options.resume_checkpoint`` when given, after checking
    it belongs to this data: ``fingerprint()``, what identifies the data, is taken only
    for a checkpoint written or resumed). Returns the runner's result; ``stats`` gain the
    history."""
    from ..io.checkpoint import write_checkpoint
    from .progress import plural
    from .runner import RunState, run
    from .executor import ThreadExecutor

    start = None
    ckpt = options.resume_checkpoint
    if ckpt is not None:
        ckpt.check_data(vocab, fingerprint())
        ckpt.check_position(task.units_per_epoch, task.n_jobs)
        start = RunState.from_dict(ckpt.state.to_dict())  # the runner advances its own copy
        stats["resumed_from_checkpoint"] = {"epoch": start.epoch + 1, "job": start.job,
                                            "units_done": start.units_done}
        log.info("resuming from %s: epoch %d, %s %s done", ckpt.path, start.epoch + 1,
                 f"{start.units_done:,}", plural(task.unit))
    writer: Callable[[RunState], None] | None = None
    if options.checkpoint and config.checkpoint_every:
        path = options.checkpoint
        data = fingerprint()

        def write(state: RunState) -> None:
            write_checkpoint(path, config, vocab, task.state_arrays(), state, data, stats)

        writer = write

    executor = options.executor
    if replicas(config, options):
        from .replicas import ReplicaExecutor

        executor = ReplicaExecutor(min(config.worker_threads, REPLICA_THREADS))
    elif executor is None and 1 < config.worker_threads <= OWN_ROWS_THREADS and OWN_ROWS:
        from .own_rows import OwnRowsExecutor

        executor = OwnRowsExecutor(config.worker_threads, OWN_ROWS)
    elif executor is None:
        executor = ThreadExecutor(config.worker_threads)
    return_free_memory()
    result = run(task, executor, seed=config.seed, progress=options.progress,
                        callbacks=options.callbacks, checkpoint=writer,
                        checkpoint_every=config.checkpoint_every, start=start)
    stats["history"] = result.history
    stats["threads"] = executor.workers
    if replicas(config, options):
        stats["replicas"] = executor.workers
    elif getattr(executor, "own_rows", 0):
        stats["own_rows"] = executor.own_rows
    return result


def return_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``; elsewhere
    nothing): reading and counting the corpus frees memory that the allocator would otherwise
    keep resident through the whole of training (5 MB of a CBOW run on the text8 prefix,
    docs/benchmarks.md, "Input rows too")."""
    import ctypes

    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return
    trim.argtypes, trim.restype = (ctypes.c_size_t,), ctypes.c_int
    trim(0)
