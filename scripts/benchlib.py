"""Shared pieces of the benchmark scripts: timing a whole process or a call in this one,
scoring a .vec with gensim's own evaluators, writing text8 as lines of N tokens, and the Ray workers' set-up
in one process."""
from __future__ import annotations

import gzip
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


_WITH_BYTECODE: set[Path] = set()


def write_bytecode(tree: Path) -> None:
    """Compile ``tree``'s embedtrain package to bytecode (``__pycache__``, ignored by git),
    as ``pip install`` does for every package it installs. Without it a checkout run with
    ``PYTHONDONTWRITEBYTECODE`` set (as on these machines) compiles embedtrain's sources
    in every process, about 0.07 s of a run, while numpy, numba and the peers load theirs.
    :func:`timed` does it once for every checkout a timed command runs."""
    tree = Path(tree).resolve()
    if tree not in _WITH_BYTECODE:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "embedtrain")], check=True)
        _WITH_BYTECODE.add(tree)


def _checkouts(env, cwd) -> list[Path]:
    """The embedtrain checkouts a command may import: this one, PYTHONPATH's, the working directory."""
    paths = [ROOT, *(Path(p) for p in (env or os.environ).get("PYTHONPATH", "").split(os.pathsep) if p)]
    if cwd:
        paths.append(Path(cwd))
    return [p for p in paths if (p / "embedtrain" / "__init__.py").is_file()]


def timed(cmd: list[str], env=None, cwd=None) -> tuple[float, float, str]:
    """Run cmd under /usr/bin/time -v (in ``cwd`` when given: ``python -m embedtrain``
    imports the package in the working directory before PYTHONPATH's); returns (wall
    seconds, peak RSS MB, stderr).

    Exits the benchmark with the command's stderr if it fails. The checkouts it may import
    get their bytecode first (:func:`write_bytecode`), as an installed package has it."""
    for tree in _checkouts(env, cwd):
        write_bytecode(tree)
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env, cwd=cwd)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    hours, minutes, seconds = (float(g) if g else 0.0 for g in wall.groups())
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1)) / 1024
    return hours * 3600 + minutes * 60 + seconds, rss, proc.stderr


def median_seconds(fn, repeats: int = 7, clock=time.perf_counter) -> float:
    """The median of ``repeats`` timings of ``fn()`` by ``clock`` (wall seconds by default;
    ``time.thread_time`` for this thread's CPU seconds), after one untimed call (compiled
    or loaded, the pages touched)."""
    fn()
    times = []
    for _ in range(repeats):
        started = clock()
        fn()
        times.append(clock() - started)
    return statistics.median(times)


def scores(vec_path: Path) -> tuple[float, float]:
    """(questions-words accuracy, WordSim-353 Spearman) by gensim's evaluators:
    restrict_vocab=30000 and case_insensitive=True, as in ../shared/BENCHMARKS.md."""
    import logging

    from gensim.models import KeyedVectors

    logging.disable(logging.WARNING)
    kv = KeyedVectors.load_word2vec_format(str(vec_path))
    analogy = kv.evaluate_word_analogies(str(SHARED_DATA / "questions-words.txt"), restrict_vocab=30000,
                                         case_insensitive=True)[0]
    ws = kv.evaluate_word_pairs(str(SHARED_DATA / "wordsim353.tsv"), case_insensitive=True)[1][0]
    return float(analogy), float(ws)


def write_lines(src: Path, dst: Path, repeat: int = 1, per_line: int = 1000) -> int:
    """The tokens of a (gzipped) corpus as lines of ``per_line`` tokens, ``repeat`` times;
    returns the number of tokens written."""
    with gzip.open(src, "rt", encoding="utf-8") as f:
        tokens = f.read().split()
    with open(dst, "w", encoding="utf-8") as out:
        for _ in range(repeat):
            for i in range(0, len(tokens), per_line):
                out.write(" ".join(tokens[i:i + per_line]) + "\n")
    return len(tokens) * repeat


def replicas(corpus: str, config, workers: int, sync_every: int, dtype: str | None = None):
    """The Ray workers (distributed/workers.py) of a run on ``corpus``, set up in this
    process as the driver does it: split, tokenise, merge the vocabulary, route the
    fragments, build. Returns (workers, vocabulary, rounds per epoch). ``dtype`` (their
    --sync-dtype) is passed only when given, so that older checkouts work too. Imports
    embedtrain from wherever the caller's path finds it."""
    import math

    from embedtrain.distributed.parts import merge_counts, plan_sentences, route_fragments
    from embedtrain.distributed.split import describe_inputs, split_inputs
    from embedtrain.distributed.workers import ReplicaWorker, job_tokens
    from embedtrain.vocab import Vocab

    parts = split_inputs(describe_inputs([corpus]), workers)
    extra = {"dtype": dtype} if dtype else {}
    ws = [ReplicaWorker(w, workers, config, 1, **extra) for w in range(workers)]
    summaries = [wk.tokenise(p) for wk, p in zip(ws, parts)]
    words, counts = merge_counts(summaries)
    vocab = Vocab.build(words, counts, config.min_count, config.max_vocab)
    corpus_tokens = int(sum(s.n_tokens for s in summaries))
    plans = plan_sentences(summaries, config.max_line_tokens)
    fragments = [wk.fragment(vocab.words, vocab.counts, p.fragment) for wk, p in zip(ws, plans)]
    appended = route_fragments(plans, fragments)
    n = sum(wk.build(vocab.words, vocab.counts, plans[w], appended[w], corpus_tokens,
                     job_tokens(workers, sync_every))
            for w, wk in enumerate(ws))
    return ws, vocab, max(1, math.ceil(n / (workers * sync_every)))


# TREC, the classifiers' benchmark (bench_classify.py, bench_ftz.py): the two settings compared,
# their flags in embedtrain's and fastText's command lines, and the hidden size both use
# (embedtrain's default, the paper's; fastText's CLI defaults to 100).
TREC_SETTINGS = {
    "defaults": {},
    "wordngrams2-epochs25-lr0.5": {"word_ngrams": 2, "epochs": 25, "lr": 0.5},
}
TREC_DIM = 10
_CLASSIFY_FLAGS = {"word_ngrams": "--word-ngrams", "epochs": "--epochs", "lr": "--lr"}
_FASTTEXT_FLAGS = {"word_ngrams": "-wordNgrams", "epochs": "-epoch", "lr": "-lr"}


def trec_files(data: Path, tmp: Path) -> tuple[Path, Path]:
    """TREC's train and test files ("LABEL text" lines) in fastText's format, written in tmp."""
    paths = []
    for part in ("train", "test"):
        dst = tmp / f"trec.{part}"
        lines = (data / f"trec.{part}.txt").read_bytes().splitlines()
        dst.write_bytes(b"".join(b"__label__" + line + b"\n" for line in lines))
        paths.append(dst)
    return paths[0], paths[1]


def classify_train_cmd(train: Path, out: Path, threads: int, seed: int, params: dict) -> list[str]:
    """``python -m embedtrain classify train`` at TREC_DIM and the setting ``params``."""
    cmd = [sys.executable, "-m", "embedtrain", "classify", "train", str(train), "-o", str(out),
           "--threads", str(threads), "--seed", str(seed), "--dim", str(TREC_DIM), "-q"]
    return cmd + [a for k, v in params.items() for a in (_CLASSIFY_FLAGS[k], str(v))]


def fasttext_supervised_cmd(cli: str, train: Path, out: Path, threads: int, seed: int,
                            params: dict) -> list[str]:
    """fastText's ``supervised`` (its CLI at ``cli``) at TREC_DIM and the setting ``params``."""
    cmd = [cli, "supervised", "-input", str(train), "-output", str(out), "-thread", str(threads),
           "-seed", str(seed), "-dim", str(TREC_DIM), "-verbose", "0"]
    return cmd + [a for k, v in params.items() for a in (_FASTTEXT_FLAGS[k], str(v))]
