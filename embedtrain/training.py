"""Training drivers: the loop around the kernels (epochs, learning rate, threads, progress).

:func:`train` is the library entry point; the CLI's ``train`` command is a thin
layer over it. Each model has a trainer ``(config, corpus, options) -> Model``;
the word2vec one is here, GloVe's and FastText's live beside their kernels.
"""
from __future__ import annotations

import importlib
import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from .config import CommonConfig, SkipGramConfig, load_toml, make_config
from .corpus import TokenStream, encode
from .errors import EmbedtrainError
from .model import Model
from .parallel import run_jobs
from .progress import TrainingProgress
from .vocab import HuffmanTree, Vocab

log = logging.getLogger("embedtrain")

Corpus = str | os.PathLike | Iterable[str | os.PathLike]

# Where each model's trainer lives ("module:function"); imported on first use.
TRAINERS = {
    "skipgram": "embedtrain.training:train_word2vec",
    "cbow": "embedtrain.training:train_word2vec",
    "glove": "embedtrain.glove:train_glove",
    "fasttext": "embedtrain.fasttext:train_fasttext",
}


@dataclass(frozen=True)
class RunOptions:
    """How to run, as opposed to what to train (see config.py for that)."""

    progress: bool = True
    tmp_dir: str | None = None
    read_vocab: str | None = None
    save_vocab: str | None = None
    save_cooccur: str | None = None   # GloVe
    cooccur: str | None = None        # GloVe
    resume: Model | None = None       # continue training this model (its vocabulary and weights)


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

    ``resume``: a model (or its .etm file) to train further on ``corpus``: its
    vocabulary, weights and settings are the starting point; ``settings`` may
    change the schedule (epochs, lr, threads, seed, sample, window) but not the shape.
    """
    base = None
    if resume is not None:
        base = resume if isinstance(resume, Model) else Model.load(resume)
        config = resumed_config(base, model, config_file, settings)
    else:
        config = make_config(model, config_file, **settings)
    options = RunOptions(progress=progress, tmp_dir=tmp_dir, read_vocab=read_vocab,
                         save_vocab=save_vocab, save_cooccur=save_cooccur, cooccur=cooccur,
                         resume=base)
    module, name = TRAINERS[config.model].split(":")
    trainer: Callable[[CommonConfig, Any, RunOptions], Model] = getattr(importlib.import_module(module), name)
    return trainer(config, corpus, options)


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


def prepare_corpus(corpus: Corpus | None, config: CommonConfig,
                   options: RunOptions) -> tuple[Vocab, TokenStream, dict[str, Any]]:
    """Read the corpus once: the vocabulary and the training stream of ids.

    Returns (vocab, stream, stats); the caller closes the stream.
    """
    if corpus is None:
        raise EmbedtrainError("no corpus given")
    paths = [corpus] if isinstance(corpus, (str, os.PathLike)) else list(corpus)
    started = time.perf_counter()
    raw = encode(paths, lowercase=config.lowercase, max_line_tokens=config.max_line_tokens,
                 tmp_dir=options.tmp_dir)
    try:
        if raw.n_tokens == 0:
            raise EmbedtrainError("the corpus is empty: no tokens were found")
        if options.resume is not None:
            vocab = options.resume.vocab  # fixed: rows must keep their words
        elif options.read_vocab:
            vocab = Vocab.load(options.read_vocab).restricted(config.min_count, config.max_vocab)
        else:
            vocab = Vocab.build(raw.words, raw.counts, config.min_count, config.max_vocab)
        stream = raw.to_stream(vocab.index, options.tmp_dir)
    finally:
        raw.close()
    if stream.n_tokens == 0:
        stream.close()
        raise EmbedtrainError("no word of the vocabulary occurs in the corpus")
    if options.save_vocab:
        vocab.save(options.save_vocab)
    stats = {"corpus_tokens": raw.n_tokens, "corpus_types": len(raw.words),
             "vocab_tokens": stream.n_tokens, "read_seconds": round(time.perf_counter() - started, 3)}
    log.info("read %s tokens (%s distinct); vocabulary: %s words covering %s tokens (%.1f s)",
             f"{raw.n_tokens:,}", f"{len(raw.words):,}", f"{len(vocab):,}", f"{stream.n_tokens:,}",
             stats["read_seconds"])
    return vocab, stream, stats


def summary_line(model: Model) -> str:
    s = model.stats
    return (f"{model.kind}: vocabulary {len(model.vocab):,} words, {s.get('words_trained', 0):,} words "
            f"trained in {s.get('train_seconds', 0):.1f} s ({s.get('words_per_second', 0):,.0f} words/s)")


def init_input_vectors(vocab_size: int, dim: int, seed: int) -> np.ndarray:
    """Uniform in [-0.5/dim, 0.5/dim), as word2vec.c initialises syn0."""
    rng = np.random.default_rng(seed)
    return ((rng.random((vocab_size, dim), dtype=np.float32) - np.float32(0.5)) / np.float32(dim))


def run_epochs(stream: TokenStream, config: CommonConfig, options: RunOptions,
               call_kernel: Callable[[np.ndarray, int, int, np.ndarray], tuple],
               min_lr_fraction: float = 0.0) -> float:
    """Every chunk of every epoch through ``call_kernel`` on worker threads, with progress.

    ``call_kernel(tokens, words_done, total_words, rng_state)`` trains on one chunk
    and returns (words seen, summed loss, examples); ``words_done`` counts the words
    of all epochs before the chunk, for the learning-rate schedule, so the schedule
    does not depend on which thread finishes first. Returns the seconds taken.
    """
    from .kernels.rng import seed_states

    threads = config.worker_threads
    states = seed_states(config.seed, threads)
    total_words = stream.n_tokens * config.epochs
    jobs = [(epoch, c) for epoch in range(config.epochs) for c in range(stream.n_chunks)]
    progress = TrainingProgress(total_words, config.epochs, enabled=options.progress)

    def words_before(job: tuple[int, int]) -> int:
        epoch, c = job
        return epoch * stream.n_tokens + int(stream.chunk_words[c])

    def work(worker: int, job: tuple[int, int]):
        return call_kernel(stream.chunk(job[1]), words_before(job), total_words, states[worker])

    def done(job: tuple[int, int], result) -> None:
        words, loss, examples = result
        lr = config.lr * max(1.0 - words_before(job) / (total_words + 1.0), min_lr_fraction)
        progress.update(int(words), job[0], lr, float(loss), int(examples))

    try:
        run_jobs(jobs, work, done, threads)
    finally:
        progress.close()
    return progress.elapsed


def check_finite(name: str, *arrays: np.ndarray) -> None:
    for a in arrays:
        if a.size and not np.isfinite(a).all():
            raise EmbedtrainError(f"{name} training diverged (NaN or infinite weights); try a lower --lr")


# --------------------------------------------------------------------------- word2vec

def train_word2vec(config: SkipGramConfig, corpus: Corpus, options: RunOptions) -> Model:
    """Skip-gram or CBOW with negative sampling and/or hierarchical softmax."""
    from .kernels import word2vec as kernels

    vocab, stream, stats = prepare_corpus(corpus, config, options)
    with stream:
        v, dim = len(vocab), config.dim
        if options.resume is not None:
            saved = options.resume.arrays
            input_vectors = saved["input_vectors"].astype(np.float32, copy=True)
            output_vectors = saved["output_vectors"].astype(np.float32, copy=True)
            output_hs = saved["output_hs"].astype(np.float32, copy=True)
        else:
            input_vectors = init_input_vectors(v, dim, config.seed)
            output_vectors = np.zeros((v if config.negative else 0, dim), dtype=np.float32)
            output_hs = np.zeros((max(v - 1, 0) if config.hs else 0, dim), dtype=np.float32)
        keep_prob = vocab.keep_prob(config.sample)
        noise = vocab.noise_sampler(config.ns_exponent)
        tree = vocab.huffman() if config.hs else HuffmanTree.empty(v)
        sigmoid, log_sigmoid = kernels.sigmoid_tables()
        kernel = kernels.skipgram if config.model == "skipgram" else kernels.cbow

        def call_kernel(tokens, words_done, total_words, rng_state):
            return kernel(tokens, input_vectors, output_vectors, output_hs, keep_prob,
                          noise.prob, noise.alias, tree.offsets, tree.codes, tree.points,
                          config.window, config.negative, config.hs, config.lr, words_done,
                          total_words, rng_state, sigmoid, log_sigmoid)

        seconds = run_epochs(stream, config, options, call_kernel, kernels.MIN_LR_FRACTION)
        total_words = stream.n_tokens * config.epochs
        threads = config.worker_threads
    check_finite(config.model, input_vectors)
    if options.resume is not None:
        stats["resumed_from_words"] = int(options.resume.stats.get("words_trained", 0)) + \
            int(options.resume.stats.get("resumed_from_words", 0))
    stats.update(words_trained=total_words, train_seconds=round(seconds, 3),
                 words_per_second=round(total_words / max(seconds, 1e-9)), threads=threads)
    model = Model(config, vocab, {"input_vectors": input_vectors, "output_vectors": output_vectors,
                                  "output_hs": output_hs}, stats)
    log.debug(summary_line(model))
    return model
