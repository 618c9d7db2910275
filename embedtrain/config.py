"""Training settings: one frozen dataclass per model.

Every default lives here and only here. The CLI builds its options from these
fields (help text included), TOML recipes use the same names, and the docs' option
tables are generated from them (scripts/readme_options.py). What depends on the model
beyond its class (Ray's interval, graph presets) is its family's (embedtrain/families/).
"""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from .errors import ConfigError

# A line longer than this many tokens is cut into pieces of at most this length,
# so one-line corpora such as text8 train on every token (word2vec.c uses 1000,
# gensim's corpus_file mode silently truncates at 10000).
MAX_LINE_TOKENS = 10_000
# Item sessions (embedtrain/items): sessions shorter than this are dropped (--min-items); the
# settings tried by --tune (its budget of trainings). Here, not in items/, so that the train
# command builds its options without importing the items package.
DEFAULT_MIN_ITEMS = 2
DEFAULT_TUNE_BUDGET = 12

# Valid ranges, checked before anything is read (values outside them ran away or
# trained on NaN tables; see issue 10). Bounds are inclusive unless noted.
INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1
MAX_DIM = 10_000
MAX_WINDOW = 10_000
# --window 0 makes every word of a sentence the context of every other (item2vec's
# baskets): the work grows with the square of the sentence. Above this many contexts
# per word on average (about 170 times --window 5's six) a run says so before training.
WHOLE_LINE_WARN_CONTEXTS = 1_000
MAX_EPOCHS = 10_000          # jobs are listed per epoch: 10^8 epochs built a 2.6 GB list
MAX_THREADS = 1024
MAX_NEGATIVE = 1_000
MAX_NGRAM = 100
# floret's -hashCount range (1-4): one 128-bit MurmurHash3 gives four 32-bit keys (floret.py).
FLORET_MAX_HASH_COUNT = 4
# --hash-count with --floret: what floret's README and spaCy's floret projects use (the floret
# binary's own -hashCount default is 1).
FLORET_HASH_COUNT = 2
# Noise exponents outside [-1, 1] overflow or underflow counts ** exponent for large
# counts; [-1, 1] is the range studied by Caselles-Dupre et al. (2018).
NS_EXPONENT_RANGE = (-1.0, 1.0)
MAX_X_MAX = 1e12
MAX_ALPHA = 10.0
MAX_MEMORY_GB = 1e6
MAX_INIT_BOUND = 100.0
# node2vec's p and q lie in [1/MAX_WALK_BIAS, MAX_WALK_BIAS]: at the bounds one kind of
# step is 10^12 times likelier than another, so no run makes enough steps to tell a more
# extreme value from the bound, and every ratio the walk kernel forms stays far inside
# float64 (1e-300 made 1/q overflow what a weight times it can hold).
MAX_WALK_BIAS = 1e6
MAX_WALKS_PER_NODE = 1_000_000
MAX_WALK_LENGTH = INT32_MAX // 2   # one walk fills one int32-indexed batch
MAX_RAY_WORKERS = 100_000
MAX_LR_SCALE = 100.0   # --lr-scale (Ray workers' rate over --lr)
# A setting's roles (field metadata "roles"; :func:`fields_with` answers by them):
#   shape     fixes the shape of a model's weights: a resumed model cannot change it
#   run       how a run goes, not what it computes: a checkpoint may be resumed with another
#   counting  decides the counts (the vocabulary; GloVe's co-occurrences, which a saved
#             matrix records)
#   text      means something for text corpora only (not offered for graph walks)
#   walk      a random-walk setting (WalkConfig)
#   ray       how to train across machines (DistributedConfig)
ROLES = ("shape", "run", "counting", "text", "walk", "ray")


def _opt(default: Any, help: str, *, range: tuple[float, float | None, bool] | None = None,
         roles: tuple[str, ...] = (), **extra: Any) -> Any:
    """A dataclass field that carries its CLI help text, its valid ``range`` (low, high or
    None, low_is_exclusive; bounds inclusive otherwise) and its ``roles`` (ROLES)."""
    unknown = set(roles) - set(ROLES)
    if unknown:  # pragma: no cover - a typo in this file
        raise ValueError(f"unknown roles {unknown}")
    return field(default=default, metadata={"help": help, "range": range, "roles": tuple(roles),
                                            **extra})


def _like(cls: type, name: str, default: Any, help: str | None = None, **changes: Any) -> Any:
    """``cls``'s field ``name`` with another default (and help): an override keeps the
    range and roles written once, on the field it overrides."""
    meta = dict(cls.__dataclass_fields__[name].metadata)
    if help is not None:
        meta["help"] = help
    meta.update(changes)
    return field(default=default, metadata=meta)


def resolve_threads(threads: int) -> int:
    """``threads``, or for 0 the number of cores this process may run on."""
    if threads:
        return threads
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class CommonConfig:
    """Settings shared by every model."""

    dim: int = _opt(100, "Dimensionality of the vectors.", range=(1, MAX_DIM, False), roles=("shape",))
    window: int = _opt(5, "Context window: words on each side of the centre word "
                          "(skip-gram/CBOW: 0 means the whole line, for item2vec).",
                       range=(1, MAX_WINDOW, False))
    min_count: int = _opt(5, "Ignore words that occur fewer times than this.",
                          range=(0, INT64_MAX, False),   # 0: graphs, where every node gets a vector
                          roles=("shape", "counting"))
    max_vocab: int | None = _opt(None, "Keep only the N most frequent words (after --min-count).",
                                 range=(1, INT32_MAX, False), roles=("shape", "counting", "text"))
    epochs: int = _opt(5, "Passes over the corpus.", range=(1, MAX_EPOCHS, False))
    # no upper bound: too large a rate is reported as divergence
    lr: float = _opt(0.025, "Initial learning rate.", range=(0.0, None, True))
    threads: int = _opt(0, "Worker threads; 0 means every available core.",
                        range=(0, MAX_THREADS, False), roles=("run",))
    seed: int = _opt(1, "Random seed. With --threads 1 the vectors are bit-identical run to run.",
                     range=(0, INT64_MAX, False))
    lowercase: bool = _opt(False, "Lowercase the text before counting.", flag=True,
                           roles=("shape", "counting", "text"))
    max_line_tokens: int = _opt(MAX_LINE_TOKENS, "Cut lines longer than this many tokens into pieces.",
                                range=(1, INT32_MAX, False), roles=("counting", "text"))
    checkpoint_every: float | None = _opt(
        None, "Write PREFIX.ckpt every this many seconds of training; after a crash, "
              "--resume PREFIX.ckpt continues from it.", range=(0.0, None, True), roles=("run",))

    model = "common"

    def __post_init__(self) -> None:
        _check_types(self)
        _check_limits(self)

    @property
    def worker_threads(self) -> int:
        """``threads`` resolved: 0 means every core this process may run on."""
        return resolve_threads(self.threads)

    def to_dict(self) -> dict[str, Any]:
        """The resolved settings, with the model name, as plain JSON-able values."""
        return {"model": self.model, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class SkipGramConfig(CommonConfig):
    """word2vec skip-gram (Mikolov et al. 2013)."""

    # 0: the whole line is the window (item2vec's baskets)
    window: int = _like(CommonConfig, "window", 5, range=(0, MAX_WINDOW, False))
    negative: int | None = _opt(
        None, "Negative samples per positive example (default 5, or 0 with --hs).",
        range=(0, MAX_NEGATIVE, False)
    )
    hs: bool = _opt(False, "Hierarchical softmax over a Huffman tree.", flag=True, roles=("shape",))
    sample: float = _opt(1e-3, "Subsampling threshold for frequent words (0 disables).",
                         range=(0.0, 1.0, False))
    # Noise exponents outside [-1, 1] overflow or underflow counts ** exponent
    ns_exponent: float = _opt(0.75, "Exponent of the unigram noise distribution.",
                              range=(*NS_EXPONENT_RANGE, False))
    # gensim's min_alpha (embedtrain.compat.gensim passes it); a floor of the linear schedule
    min_lr: float | None = _opt(
        None, "Lowest learning rate: the linear schedule stops falling there [default: --lr x 1e-4, "
              "as word2vec.c; FastText: 0, as fastText].", range=(0.0, None, False))
    shuffle_lines: bool = _opt(
        False, "Shuffle the words of each line every epoch (baskets whose order means nothing).",
        flag=True)
    # Skip-gram's defaults follow gensim 4 where it scored higher than word2vec.c, and
    # share negatives across a window (faster, and higher on similarity sets;
    # docs/training.md): --init-bound 0.5 --epoch-decay 1 --no-shared-negatives give
    # word2vec.c's numerics.
    init_bound: float = _opt(1.0, "Input vectors start uniform in [-B/dim, B/dim) for this B "
                                  "(word2vec.c: 0.5; gensim 4: 1).", range=(0.0, MAX_INIT_BOUND, True))
    epoch_decay: float = _opt(
        0.5, "Learning-rate decay within each epoch, as a fraction of the linear schedule's: each "
             "epoch starts where word2vec.c's linear schedule stands and falls this fraction of "
             "an epoch's share (1: word2vec.c; 0.5: gensim's corpus_file mode with 2 workers).",
        range=(0.0, 1.0, True))
    shared_negatives: bool = _opt(
        True, "Skip-gram with negative sampling (word2vec and FastText): one set of negatives per "
              "centre word, shared by its whole window (pWord2Vec's HogBatch; --no-shared-negatives: "
              "a set per pair, as word2vec.c and fastText). Ignored with --hs and --arch cbow.",
        flag=True)

    replicas: bool = _opt(
        False, "With several threads, each trains a replica of the weights on its own jobs and "
               "the replicas are summed after every round: the same vectors run to run for a seed, "
               "and no rows shared while training (docs/training.md, \"Threads and reproducibility\"). "
               "Two threads at most (--threads 0: two); costs two more copies of the trained matrices.", flag=True)

    model = "skipgram"
    # --replicas: tokens a job (ending at the next sentence end), where Hogwild's are 50,000
    # (corpus/stream.py, JOB_TOKENS): a replica sees the others' updates only between rounds,
    # and at 50,000 skip-gram's WordSim-353 fell (docs/benchmarks.md, "Two threads that share
    # no rows").
    replica_job_tokens = 12_500

    def __post_init__(self) -> None:
        if self.negative is None:
            # --hs alone means hierarchical softmax instead of negative sampling;
            # word2vec.c and gensim would silently do both (pass --negative to ask for that).
            object.__setattr__(self, "negative", 0 if self.hs else 5)
        super().__post_init__()
        if not self.hs and self.negative == 0:
            raise ConfigError("--negative 0 needs --hs (otherwise there is nothing to train)")
        _check_min_lr(self)
        if self.replicas and self.threads > REPLICA_THREADS:
            raise ConfigError(
                f"--replicas trains {REPLICA_THREADS} threads, one replica each, not {self.threads}: "
                "more replicas' summed updates overshoot (4 scored next to nothing; docs/training.md); "
                f"use --threads {REPLICA_THREADS}, or leave --replicas out")
        if self.shared_negatives and self.model != "skipgram":
            raise ConfigError(f"--shared-negatives applies to --model skipgram, not {self.model}")


@dataclass(frozen=True)
class CBOWConfig(SkipGramConfig):
    """word2vec continuous bag of words, mean of the context vectors."""

    lr: float = _like(CommonConfig, "lr", 0.05)
    # CBOW keeps word2vec.c's numerics (measured ahead of gensim's CBOW already)
    shared_negatives: bool = _like(SkipGramConfig, "shared_negatives", False, "Skip-gram only.")
    init_bound: float = _like(SkipGramConfig, "init_bound", 0.5)
    epoch_decay: float = _like(SkipGramConfig, "epoch_decay", 1.0)

    model = "cbow"
    # CBOW scored the same with jobs of 6,250, 12,500 and 25,000 tokens, and trains 3 % faster
    # at 25,000 (docs/benchmarks.md, "Two threads that share no rows")
    replica_job_tokens = 25_000


# GloVe's --x-max and --epochs when not given, by the tokens of vocabulary words the
# counting sees (families/glove.py, sized_config): (fewer tokens than this, x_max, epochs),
# the first row that fits. GloVe's demo settings (x_max 10, 15 iterations, made for text8's
# 17 M tokens) suit corpora of millions to tens of millions of tokens; the paper's x_max 100
# is for billions, with a 25-epoch budget (measured: docs/benchmarks.md, "GloVe defaults").
GLOVE_SIZE_RULE = ((100_000_000, 10.0, 15), (None, 100.0, 25))
GLOVE_AUTO_TEXT = {   # the defaults' text in --help and docs/training.md's table
    name: "from the corpus size: " + ", ".join(
        f"{row[col]:g} below {row[0] // 1_000_000:,} M tokens" if row[0] else f"{row[col]:g} from there"
        for row in GLOVE_SIZE_RULE)
    for name, col in (("x_max", 1), ("epochs", 2))}


@dataclass(frozen=True)
class GloVeConfig(CommonConfig):
    """GloVe (Pennington, Socher and Manning 2014)."""

    window: int = _like(CommonConfig, "window", 15,
                        "Context window: words on each side of the centre word.", roles=("counting",))
    # None: chosen from the corpus size once the tokens are counted (families/glove.py,
    # sized_config; docs/glove.md, "Defaults by corpus size")
    epochs: int | None = _like(CommonConfig, "epochs", None,
                               "Passes over the co-occurrence entries.",
                               auto=GLOVE_AUTO_TEXT["epochs"])
    lr: float = _like(CommonConfig, "lr", 0.05, "Initial AdaGrad learning rate.")
    x_max: float | None = _opt(None, "Weighting cut-off x_max in f(x) = min(1, (x/x_max)^alpha).",
                               range=(0.0, MAX_X_MAX, True), auto=GLOVE_AUTO_TEXT["x_max"])
    alpha: float = _opt(0.75, "Weighting exponent alpha in f(x).", range=(0.0, MAX_ALPHA, True))
    distance_weighting: bool = _opt(
        True, "Weight a pair at distance d by 1/d (--no-distance-weighting adds 1).", flag=True,
        roles=("counting",))
    memory: float = _opt(4.0, "Memory cap in GB for the co-occurrence counting tables.",
                         range=(0.0, MAX_MEMORY_GB, True))
    vectors: str = _opt(
        "word+context", "Which vectors to write: the sum of word and context vectors, or word alone.",
        choices=("word+context", "word"),
    )

    model = "glove"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.vectors not in ("word+context", "word"):
            raise ConfigError(f"--vectors must be 'word+context' or 'word' (got {self.vectors!r})")


@dataclass(frozen=True)
class FastTextConfig(CommonConfig):
    """FastText (Bojanowski et al. 2017): word vector plus character n-gram vectors."""

    arch: str = _opt("skipgram", "FastText architecture.", choices=("skipgram", "cbow"), roles=("shape",))
    lr: float = _like(CommonConfig, "lr", 0.05)
    negative: int = _like(SkipGramConfig, "negative", 5, "Negative samples per positive example.")
    sample: float = _like(SkipGramConfig, "sample", 1e-4)
    # fastText draws negatives from unigram counts ** 0.5 (Dictionary::getCounts and
    # Model::initTableNegatives), not word2vec's 0.75.
    ns_exponent: float = _like(SkipGramConfig, "ns_exponent", 0.5)
    min_lr: float | None = _like(SkipGramConfig, "min_lr", None)
    minn: int = _opt(3, "Shortest character n-gram.", range=(0, MAX_NGRAM, False), roles=("shape",))
    maxn: int = _opt(6, "Longest character n-gram; 0 means no subwords.", range=(0, MAX_NGRAM, False),
                     roles=("shape",))
    # Largest --bucket: input rows are int32 in fastText (and bucket is an int32 in its .bin).
    bucket: int = _opt(2_000_000, "Rows of the hashed n-gram matrix (bucket x dim float32).",
                       range=(0, INT32_MAX, False), roles=("shape",))
    # --shared-negatives: one set of negatives per centre word (kernels/sgns.py,
    # SKIPGRAM_CENTRE_SHARED): about half the kernel time but far lower scores, so off
    # (docs/training.md, FastText)
    shared_negatives: bool = _like(SkipGramConfig, "shared_negatives", False, "Skip-gram only.")
    # floret (explosion/floret, spaCy's floret vectors; embedtrain/floret.py, docs/floret.md)
    floret: bool = _opt(False, "floret mode, as spaCy's floret vectors: words and character n-grams "
                               "share one table of --bucket rows, each hashed to --hash-count rows "
                               "(no word rows); export with 'export --format floret'.",
                        flag=True, roles=("shape",))
    hash_count: int | None = _opt(
        None, f"With --floret: rows each word and n-gram is hashed to (floret's -hashCount; "
              f"{FLORET_HASH_COUNT} when --floret is given).", range=(1, FLORET_MAX_HASH_COUNT, False),
        roles=("shape",))

    model = "fasttext"

    @property
    def subword_buckets(self) -> int:
        """Bucket rows actually used: none without subwords (as fastText's Args does)."""
        return self.bucket if self.maxn > 0 else 0

    def word_rows(self, vocab_size: int) -> int:
        """Input rows of the words' own: one per word, none with --floret (a word is its
        hashed rows alone, so the bucket rows come first)."""
        return 0 if self.floret else vocab_size

    def __post_init__(self) -> None:
        if self.floret and self.hash_count is None:
            object.__setattr__(self, "hash_count", FLORET_HASH_COUNT)
        super().__post_init__()
        if self.hash_count is not None and not self.floret:
            raise ConfigError("--hash-count applies with --floret only")
        if self.negative < 1:
            raise ConfigError(f"--negative must be at least 1 for fasttext (got {self.negative})")
        _check_min_lr(self)
        if self.arch not in ("skipgram", "cbow"):
            raise ConfigError(f"--arch must be 'skipgram' or 'cbow' (got {self.arch!r})")
        if self.maxn > 0:
            if self.minn < 1:
                raise ConfigError(f"--minn must be at least 1 (got {self.minn})")
            if self.minn > self.maxn:
                raise ConfigError(f"--minn ({self.minn}) must not exceed --maxn ({self.maxn})")
            if self.bucket == 0:
                raise ConfigError("--bucket 0 leaves no room for subwords; give --maxn 0 to turn them off")
        if self.floret and (self.maxn < 1 or self.minn < 2):
            # spaCy's floret mode counts the 1-grams '<' and '>' (floret does not) and with
            # maxn 0 hashes empty strings: its vectors would not be the ones trained
            raise ConfigError(f"--floret needs character n-grams of 2 or more characters (--minn 2 or "
                              f"more, --maxn at least --minn; got --minn {self.minn} --maxn {self.maxn}), "
                              "as spaCy reads floret tables")


def _check_min_lr(config: Any) -> None:
    if config.min_lr is not None and config.min_lr > config.lr:
        raise ConfigError(f"--min-lr ({config.min_lr:g}) must not exceed --lr ({config.lr:g})")


@dataclass(frozen=True)
class Doc2VecConfig(CommonConfig):
    """PV-DBOW (Le and Mikolov 2014; gensim's Doc2Vec with dm=0): each document's own
    vector predicts its words, with negative sampling; gensim's defaults."""

    epochs: int = _like(CommonConfig, "epochs", 10)
    negative: int = _like(SkipGramConfig, "negative", 5, "Negative samples per positive example.",
                          range=(1, MAX_NEGATIVE, False))
    sample: float = _like(SkipGramConfig, "sample", 1e-3)
    ns_exponent: float = _like(SkipGramConfig, "ns_exponent", 0.75)
    dbow_words: bool = _opt(
        False, "doc2vec: also train word vectors by skip-gram, interleaved with the document "
               "vectors (gensim's dbow_words=1; --window applies to it).", flag=True)
    doc_id: bool = _opt(
        False, "doc2vec: the first token of each line is its document's id, and lines with the "
               "same id form one document (default: each line is a document, named by its "
               "line number from 0).", flag=True, roles=("shape", "counting", "text"))

    model = "doc2vec"


@dataclass(frozen=True)
class WalkConfig:
    """Random walks over a graph: DeepWalk (Perozzi et al. 2014) and node2vec (Grover and
    Leskovec 2016). The walks are the corpus; the model's settings apply as for text."""

    directed: bool = _opt(False, "Edges point from the first node to the second (default: "
                                 "undirected).", flag=True, roles=("walk",))
    weighted: bool = _opt(False, "Read the third column as edge weights; walks step to a "
                                 "neighbour in proportion to its weight.", flag=True, roles=("walk",))
    p: float = _opt(1.0, "node2vec return parameter: stepping back to the previous node is "
                         "weighted 1/p.", range=(1 / MAX_WALK_BIAS, MAX_WALK_BIAS, False), roles=("walk",))
    q: float = _opt(1.0, "node2vec in-out parameter: stepping to a node not adjacent to the "
                         "previous one is weighted 1/q (p = q = 1: DeepWalk).",
                    range=(1 / MAX_WALK_BIAS, MAX_WALK_BIAS, False), roles=("walk",))
    walks_per_node: int = _opt(10, "Walks started from every node.", range=(1, MAX_WALKS_PER_NODE, False),
                               roles=("walk",))
    walk_length: int = _opt(80, "Nodes per walk (a directed walk stops early at a node with "
                                "no out-edges).", range=(1, MAX_WALK_LENGTH, False), roles=("walk",))

    def __post_init__(self) -> None:
        _check_types(self)
        _check_limits(self)

    @property
    def first_order(self) -> bool:
        """p = q = 1: each step depends on the current node alone (DeepWalk)."""
        return self.p == 1.0 and self.q == 1.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# --replicas (training/replicas.py): the rows of this many most frequent words are summed
# after every round of one job per thread, and all rows every REPLICA_FULL_EVERY rounds
# (docs/training.md, "Threads and reproducibility": the scores behind these numbers).
REPLICA_HOT_ROWS = 1024
REPLICA_FULL_EVERY = 16
# ... on at most this many threads (--threads 0 means this many): with 4 replicas the plain sum
# of their updates overshot (skip-gram's questions-words 0.000 on the text8 prefix), with 8 it
# diverged (docs/benchmarks.md, "Two threads that share no rows").
REPLICA_THREADS = 2
# ... and a job is the model's replica_job_tokens (SkipGramConfig, CBOWConfig).

# Hogwild threads (training/own_rows.py): the second thread keeps the output rows (and a word2vec
# model's input rows) of this many most frequent words as its own, merged into the shared rows after
# each of its jobs (docs/benchmarks.md, "Frequent rows of a thread's own" and "Input rows too"; 0:
# every row shared).
OWN_ROWS = 4096
# ... with exactly this many threads: with 3 or 4 (on two cores) the merged updates of the frequent
# rows, each computed against rows a job old, overshot, as --replicas' sums do: CBOW's
# questions-words 0.04-0.05 with 4 threads where plain Hogwild gives 0.08 (docs/benchmarks.md,
# "Input rows too"); more threads share every row.
OWN_ROWS_THREADS = 2


# Words each Ray worker trains between synchronisations (docs/ray.md gives the
# measurements behind it). The families declare their own (families/*.py).
SYNC_EVERY = 500_000
# ... FastText's: its n-gram rows, shared by thousands of words, go stale faster.
FASTTEXT_SYNC_EVERY = 250_000
# ... GloVe's, in entry visits: a sync sends whole changed rows of four matrices.
GLOVE_SYNC_EVERY = 500_000
# Skip-gram and CBOW: at most this many words per round over all the workers, so the
# default --sync-every shrinks as workers grow (never below MIN_SYNC_EVERY). A round's
# staleness is what the other workers trained in it: at 8 workers x 500,000 skip-gram's
# analogy score halved, at 8 x 125,000 it matched one machine (docs/ray.md, "Words per
# round"). Up to 2 workers the default is SYNC_EVERY as before.
ROUND_WORDS = 1_000_000
# ... CBOW's: half of it. With its input rows' masses counted as skip-gram's, CBOW met one
# machine at 2-32 workers with rounds of 500,000 words over all workers (32 x 15,625: -0.003
# analogy over 3 seeds) and fell behind with rounds of 1,000,000 (32 x 31,250: -0.056, seed 1;
# docs/ray.md, "CBOW at 8-32 workers").
CBOW_ROUND_WORDS = 500_000
# ... FastText's: with its output rows' masses taken against the mean of the centre word's
# rows and the rate capped (FASTTEXT_MAX_LR_SCALE), 32 x 12,500 scored -0.006 analogy of one
# machine over 3 seeds, 32 x 15,625 (CBOW's 500,000) -0.010 and 32 x 31,250 -0.123 (seed 1); at
# 2-16 workers 400,000 scored within 0.001 analogy of 500,000 or above it (docs/ray.md, "FastText
# at 32 workers"), and from 2 to 16 workers FastText scores above one machine.
FASTTEXT_ROUND_WORDS = 400_000
# ... GloVe's, in entry visits over all the workers: 500,000 a worker up to 2 workers, then
# GLOVE_ROUND_ENTRIES / --workers. At 32 workers (a 4.4 M-token prefix, "scaled") halving a
# worker's round from 157,000 to 78,500 visits raised analogy 0.050 -> 0.064 and WordSim-353
# 0.300 -> 0.327, and 32 x 39,250 (1.26 M a round, as 8 x 157,000) scored 0.083 / 0.366
# against one machine's 0.102 / 0.344 (docs/ray.md, "GloVe at 8-32 workers").
GLOVE_ROUND_ENTRIES = 1_250_000
MIN_SYNC_EVERY = 10_000
# how the workers' updates of a row are combined (distributed/sync.py) ...
COMBINE_PROTOCOLS = ("scaled", "adaptive", "sum", "mean")
# ... or, for GloVe, "strata": each worker trains one block of the co-occurrence matrix a
# step, no two blocks share a row, and nothing is combined (distributed/strata.py)
STRATA_PROTOCOL = "strata"
SYNC_PROTOCOLS = COMBINE_PROTOCOLS + (STRATA_PROTOCOL,)
SYNC_PROTOCOL = "scaled"
# GloVe on Ray: "strata" (distributed/strata.py). Each worker trains one block of the matrix a
# step, and nothing is combined, so N workers compute what one machine does with its visits in
# another order: on the 17.5 M-token enwiki corpus (15 epochs, seeds 1-3) 32 workers score
# -0.004 analogy and -0.001 WordSim-353 against one machine, where "scaled" with its shortest
# rounds scored -0.027 / +0.036 (docs/ray.md, "GloVe in strata"). "scaled" (each row's mass
# measured by the kernel as it trains) and the other combination rules stay available.
GLOVE_SYNC_PROTOCOL = STRATA_PROTOCOL
# GloVe's AdaGrad sums on Ray, the alternative: each of N workers adds its squared steps N
# times while it trains a round (its steps shrink as if it saw all N workers' squared
# steps, as one machine's do), and the sums are combined as the mean of the N workers'
# changes (every squared step counted once). Measured no better than summing each
# worker's own (32 workers, "scaled": 0.052 / 0.304 against 0.050 / 0.300), so off.
GLOVE_SHARED_ADAGRAD = False


# FastText's workers' rate over one machine's is at most this (the square root's value at 16
# workers): at 32 x 15,625 it scored 0.454 / 0.565 over seeds 1-3 against 0.443 / 0.578 at the
# square root's 5.66 and 0.430 / 0.543 at 2.83 (seeds 1-2; one machine: 0.465 / 0.435;
# docs/ray.md, "FastText at 32 workers").
FASTTEXT_MAX_LR_SCALE = 4.0


def ray_lr_scale(workers: int) -> float:
    """The workers' learning rate over one machine's (skip-gram, CBOW, FastText): the
    square root of the worker count. Combining the replicas every round takes close to
    the mean of the workers' moves for every row several workers train (sync.py), so
    each round is like one step of a batch ``workers`` times larger, and the square-root
    rule for larger batches (Krizhevsky 2014; Hoffer et al. 2017) gives the rate
    (docs/ray.md has the measurements)."""
    return float(workers) ** 0.5


# How updates travel between Ray workers: fixed point with a float32 step per row, "int8"
# (a quarter of float32's bytes at dim 100) or "int16" (half), or "float32" (exact);
# docs/ray.md has the measurements. GloVe always sends float32 (its AdaGrad sums).
SYNC_DTYPES = ("int16", "int8", "float32")
SYNC_DTYPE = "int8"
# Synchronise round r while round r+1 trains (docs/ray.md: the measurements).
SYNC_OVERLAP = False


@dataclass(frozen=True)
class DistributedConfig:
    """How to train across machines on Ray (embedtrain/distributed/); not a model setting.
    What is left None is resolved by the model's family (Family.ray_settings)."""

    ray: str | None = _opt(
        None, "Train on Ray: 'local' (start Ray here), 'auto' (the cluster 'ray start' joined) "
              "or ray://HOST:PORT. Corpus paths must be readable on every node.", roles=("ray",))
    workers: int = _opt(2, "With --ray: workers (Ray actors), each running --threads threads.",
                        range=(1, MAX_RAY_WORKERS, False), roles=("ray",))
    sync_every: int | None = _opt(
        None, f"With --ray: words each worker trains between synchronisations [default: "
              f"{SYNC_EVERY:,} (FastText: {FASTTEXT_SYNC_EVERY:,}), or {ROUND_WORDS:,} (CBOW: "
              f"{CBOW_ROUND_WORDS:,}; FastText: {FASTTEXT_ROUND_WORDS:,}) / --workers when smaller; GloVe, "
              f"with a --sync-protocol other than "
              f"{STRATA_PROTOCOL}: {GLOVE_SYNC_EVERY:,} entry visits, or {GLOVE_ROUND_ENTRIES:,} / --workers "
              f"when smaller].",
        range=(1, INT64_MAX, False), roles=("ray",))
    sync_protocol: str | None = _opt(
        None, f"With --ray: how the workers' updates of a row are combined, or (GloVe) "
              f"'{STRATA_PROTOCOL}': each worker trains its own block of the matrix and nothing is "
              f"combined (see docs/ray.md) [default: "
              f"{SYNC_PROTOCOL}{'' if GLOVE_SYNC_PROTOCOL == SYNC_PROTOCOL else '; GloVe: ' + GLOVE_SYNC_PROTOCOL}].",
        choices=SYNC_PROTOCOLS, roles=("ray",))
    lr_scale: float | None = _opt(
        None, "With --ray: the workers train at --lr times this [default: the square root of "
              f"--workers (FastText: at most {FASTTEXT_MAX_LR_SCALE:g}); GloVe: 1].", range=(0.0, MAX_LR_SCALE, True), roles=("ray",))
    sync_dtype: str | None = _opt(
        None, "With --ray: how the updates travel: int8 or int16 (fixed point, a float32 step per "
              f"row: a quarter or half the bytes) or float32 [default: {SYNC_DTYPE}; GloVe: float32].",
        choices=SYNC_DTYPES, roles=("ray",))
    sync_overlap: bool | None = _opt(
        None, "With --ray: combine each round's updates while the workers train the next (they "
              f"apply them one round late), hiding the synchronisation time [default: "
              f"{'on' if SYNC_OVERLAP else 'off'}]. Skip-gram, CBOW and FastText.", flag=True,
        roles=("ray",))

    def __post_init__(self) -> None:
        _check_types(self)  # type: ignore[arg-type]
        _check_limits(self)  # type: ignore[arg-type]
        if self.ray is not None and not self.ray.strip():
            raise ConfigError("--ray needs 'local', 'auto' or ray://HOST:PORT")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# Cross-lingual alignment (embedtrain/align.py, embedtrain/translation.py; docs/align.md).
# CSLS's neighbourhood: MUSE's csls_knn_10 and VecMap's --csls default (Conneau et al. 2018).
CSLS_NEIGHBOURS = 10
# Self-learning looks for new pairs among this many most frequent words of each space
# (VecMap's --vocabulary_cutoff in its semi-supervised and identical modes).
REFINE_VOCAB = 20_000
MAX_REFINE = 1_000
# Cosine blocks of retrieval: a block's float32 scores and the temporaries of selecting the
# best take at most this many bytes, so two 200,000-word vocabularies never need their
# 160 GB similarity matrix.
RETRIEVAL_BLOCK_BYTES = 1 << 27


@dataclass(frozen=True)
class AlignConfig:
    """Aligning two vector spaces (``embedtrain align``) and scoring word translation
    (``embedtrain eval-translation``): every default written once, here."""

    csls: bool = _opt(False, "Nearest neighbours by CSLS (cross-domain similarity local scaling, "
                             "MUSE) instead of cosine, so that fewer hub words answer every query "
                             "(align: the pairs --refine adds; eval-translation: the retrieval).",
                      flag=True)
    csls_k: int = _opt(CSLS_NEIGHBOURS, "Neighbours CSLS averages over.", range=(1, 1_000, False))
    refine: int = _opt(0, "align: self-learning iterations: add the mutual nearest neighbours of "
                          "the mapped spaces to the dictionary and solve again.",
                       range=(0, MAX_REFINE, False))
    refine_vocab: int = _opt(REFINE_VOCAB, "align --refine: look for new pairs among this many "
                                           "most frequent words of each space.",
                             range=(1, INT32_MAX, False))

    def __post_init__(self) -> None:
        _check_types(self)
        _check_limits(self)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# gensim's names of embedtrain's settings: a gensim user's guess is pointed to the right name.
GENSIM_NAMES = {
    "vector_size": "dim", "size": "dim", "alpha": "lr", "min_alpha": "min_lr", "iter": "epochs",
    "sg": "model='skipgram' (sg=1) or model='cbow' (sg=0)", "max_final_vocab": "max_vocab",
    "max_vocab_size": "max_vocab", "min_n": "minn", "max_n": "maxn",
}

# The model name of a run without --model.
DEFAULT_MODEL = "skipgram"


def model_settings() -> list[type[CommonConfig]]:
    """Every model's settings class: CommonConfig's subclasses that name a model, in the
    order they are defined (those of this file first). A model family (families/)
    declares which of them it trains; its class needs no list here."""
    out: list[type[CommonConfig]] = []

    def walk(cls: type) -> None:
        for sub in cls.__subclasses__():
            if sub not in out:
                out.append(sub)
            walk(sub)

    walk(CommonConfig)
    return sorted(out, key=lambda c: c.__module__ != __name__)


def config_class(model: str) -> type[CommonConfig]:
    """The settings class of ``model`` (its ``model`` attribute names it)."""
    for cls in model_settings():
        if cls.model == model:
            return cls
    names = ", ".join(c.model for c in model_settings() if c.__module__ == __name__)
    raise ConfigError(f"unknown model {model!r}; choose one of {names}")


def option_fields(model: str | None = None) -> list[dataclasses.Field]:
    """The settings ``model`` takes, or every setting of the models defined here (the
    CLI's options), each name once (the first model's field: its help text)."""
    classes = [config_class(model)] if model else [c for c in model_settings() if c.__module__ == __name__]
    seen: dict[str, dataclasses.Field] = {}
    for cls in classes:
        for f in fields(cls):
            seen.setdefault(f.name, f)
    return list(seen.values())


def fields_with(role: str, model: str | None = None) -> tuple[str, ...]:
    """Names of the settings that have ``role`` (ROLES): of ``model``'s settings, or of
    every model's, walk and Ray setting."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if model is not None:
        candidates = list(fields(config_class(model)))
    else:
        candidates = option_fields() + list(fields(WalkConfig)) + list(fields(DistributedConfig))
    return tuple(dict.fromkeys(f.name for f in candidates if role in f.metadata.get("roles", ())))


def make_config(model: str | None = None, config_file: str | os.PathLike | None = None,
                **overrides: Any) -> CommonConfig:
    """Build the settings for ``model``: defaults, then the TOML file, then ``overrides``.

    ``overrides`` whose value is None are ignored, so CLI options that were not
    given fall through to the file and then to the dataclass defaults.
    """
    from_file: dict[str, Any] = load_toml(config_file) if config_file else {}
    chosen = model or from_file.pop("model", None) or DEFAULT_MODEL
    from_file.pop("model", None)
    cls = config_class(chosen)
    valid = {f.name for f in fields(cls)}
    values = dict(from_file)
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(values) - valid)
    walk_settings = [k for k in unknown if k in fields_with("walk")]
    if walk_settings:
        names = ", ".join("--" + k.replace("_", "-") for k in walk_settings)
        raise ConfigError(f"{names} applies to --graph only (random walks: train --graph EDGES, "
                          "or embedtrain.train_graph)")
    gensim = [k for k in unknown if k in GENSIM_NAMES]
    if gensim:
        k = gensim[0]
        raise ConfigError(f"{k} is gensim's name for {GENSIM_NAMES[k]} (embedtrain.compat.gensim "
                          "takes gensim's names and meanings)")
    if unknown:
        names = ", ".join("--" + k.replace("_", "-") for k in unknown)
        raise ConfigError(f"{names} does not apply to --model {chosen}")
    return cls(**values)


# TOML recipes shipped inside the package (so they are in the wheel).
SHIPPED_CONFIGS = Path(__file__).resolve().parent / "configs"


def shipped_configs() -> list[str]:
    """Names of the recipes shipped with embedtrain (``--config text8-skipgram``)."""
    return sorted(p.stem for p in SHIPPED_CONFIGS.glob("*.toml"))


def resolve_config_file(path: str | os.PathLike) -> Path:
    """``path`` itself when it exists, else a shipped recipe of that name (with or without
    ``.toml``), else ``path`` (whose absence is then reported)."""
    p = Path(path)
    if p.exists() or p.parent != Path("."):
        return p
    for candidate in (SHIPPED_CONFIGS / p.name, SHIPPED_CONFIGS / f"{p.name}.toml"):
        if candidate.is_file():
            return candidate
    return p


def load_toml(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML recipe whose keys are option names (``min-count`` or ``min_count``, not
    both). ``path`` may name a shipped recipe (``text8-skipgram``)."""
    import tomllib   # here: most runs read no recipe

    p = resolve_config_file(path)
    try:
        with p.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        shipped = ", ".join(shipped_configs())
        raise ConfigError(f"config file {p} does not exist (recipes shipped with embedtrain: "
                          f"{shipped})") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {p}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {p} is not valid TOML: {exc}") from None
    known = {f.name for c in model_settings() for f in fields(c)} | set(fields_with("walk")) | {"model"}
    out: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name not in known:
            raise ConfigError(f"config file {p}: unknown key {key!r}")
        if name in out:
            raise ConfigError(f"config file {p}: {name!r} is given twice (as "
                              f"{spelled[name]!r} and {key!r})")
        spelled[name] = key
        if isinstance(value, dict):
            raise ConfigError(f"config file {p}: key {key!r} must be a value, not a table")
        out[name] = value
    return out


def _check_types(config: Any) -> None:
    hints = get_type_hints(type(config))
    for f in fields(config):
        value = getattr(config, f.name)
        expected = hints[f.name]
        option = "--" + f.name.replace("_", "-")
        if value is None:
            if "None" in str(expected):
                continue
            raise ConfigError(f"{option} needs a value")
        if expected is bool or expected == bool:
            ok = isinstance(value, bool)
        elif int in getattr(expected, "__args__", (expected,)):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif expected is float or float in getattr(expected, "__args__", ()):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if ok:
                object.__setattr__(config, f.name, float(value))
        elif expected is str:
            ok = isinstance(value, str)
        else:  # pragma: no cover - every field type is listed above
            ok = True
        if not ok:
            raise ConfigError(f"{option} must be {getattr(expected, '__name__', expected)}, got {value!r}")
        choices = f.metadata.get("choices")
        if choices and value not in choices:
            raise ConfigError(f"{option} must be one of {', '.join(choices)} (got {value!r})")


def _check_limits(config: Any) -> None:
    """Every setting inside the range its field declares (NaN and infinities never are)."""
    for f in fields(config):
        limits = f.metadata.get("range")
        value = getattr(config, f.name)
        if limits is None or value is None or isinstance(value, bool):
            continue
        low, high, exclusive = limits
        option = "--" + f.name.replace("_", "-")
        valid = _range_text(low, high, exclusive)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{option} must be a finite number (valid range: {valid}; got {value})")
        if value <= low if exclusive else value < low:
            need = "positive" if exclusive and low == 0 else \
                f"{'greater than' if exclusive else 'at least'} {_show_limit(low)}"
            raise ConfigError(f"{option} must be {need} (valid range: {valid}; got {value})")
        if high is not None and value > high:
            raise ConfigError(f"{option} must be at most {_show_limit(high)} (valid range: {valid}; "
                              f"got {value})")


def _show_limit(x: float) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:g}"


def _range_text(low: float, high: float | None, exclusive: bool) -> str:
    if high is None:
        return f"{'greater than' if exclusive else 'at least'} {_show_limit(low)}"
    if exclusive:
        return f"greater than {_show_limit(low)}, at most {_show_limit(high)}"
    return f"{_show_limit(low)} to {_show_limit(high)}"
