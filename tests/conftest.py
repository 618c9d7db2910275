"""Shared fixtures. Trained models are session-scoped: train once, test many times."""
from __future__ import annotations

import gzip
import logging
import re
import signal
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SAMPLE_CORPUS = DATA / "text8-sample.gz"          # 201,084 tokens of text8, one line
QUALITY_CORPUS = DATA / "text8-1m.gz"           # 1,019,513 tokens of text8, one line
WORDSIM = ROOT / "embedtrain" / "datasets" / "wordsim353.tsv"
SHARED_DATA = ROOT.parent / "shared" / "data"     # present in CI; optional elsewhere


# A runner that starts the suite in the background (a non-interactive shell's `cmd &`)
# hands it SIGINT ignored, and every child inherits that: `embedtrain` then, rightly,
# ignores Ctrl-C as any program started that way does, and the tests that press
# Ctrl-C on a child would test nothing. Give the suite (and so its children) Python's
# own Ctrl-C, as an interactive shell would.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _fresh_embedtrain_logger():
    """The CLI, run in-process, points the "embedtrain" logger at its own stderr handler
    and stops propagation; put it back after every test, so that pytest's caplog sees
    the library's warnings whatever ran before."""
    from embedtrain.cli import app

    yield
    logger = logging.getLogger("embedtrain")
    logger.handlers[:] = []
    logger.setLevel(logging.NOTSET)
    logger.propagate = True
    app._Verbosity.level = 0


@pytest.fixture(scope="session")
def sample_corpus() -> Path:
    return SAMPLE_CORPUS


@pytest.fixture(scope="session")
def sample_text() -> str:
    with gzip.open(SAMPLE_CORPUS, "rt", encoding="utf-8") as f:
        return f.read()


@pytest.fixture(scope="session")
def skipgram_model(tmp_path_factory):
    """Skip-gram trained on the sample corpus (shared by every test that needs vectors); one
    thread, so its vectors and every score the tests compare are the same in every run."""
    import embedtrain

    return embedtrain.train(SAMPLE_CORPUS, model="skipgram", dim=50, epochs=3, threads=1,
                            progress=False, seed=7)


@pytest.fixture(scope="session")
def skipgram_files(skipgram_model, tmp_path_factory) -> dict[str, Path]:
    """The sample skip-gram model saved: {'vec': PREFIX.vec, 'model': PREFIX.etm}."""
    prefix = tmp_path_factory.mktemp("skipgram") / "sample"
    vec, model = skipgram_model.save(prefix)
    return {"vec": vec, "model": model}


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory, sample_text) -> Path:
    """The first 30,000 tokens of the sample, as lines of 100 tokens (fast CLI runs)."""
    p = tmp_path_factory.mktemp("corpus") / "small.txt"
    words = sample_text.split()[:30000]
    p.write_text("\n".join(" ".join(words[i:i + 100]) for i in range(0, len(words), 100)) + "\n")
    return p


def kernel_increfs(llvm: str, name: str) -> tuple[int, int]:
    """(calls of numba's NRT_incref in the compiled kernel ``name``, those past its first
    block) in a dispatcher's ``inspect_llvm()`` text: the kernel's own body, before numba's
    Python wrapper. A count past the first block is taken again at every window, line or
    draw; the first block's are once a call (its arguments). The first block is the one LLVM
    labels ``entry:``, or an unlabelled one before the first label."""
    body = llvm.split("define ptr @_ZN7cpython")[0]
    assert name in body
    function = body[re.search(r"^define .*" + re.escape(name), body, re.M).start():]
    blocks = re.split(r"\n(?=[A-Za-z0-9_.]+:)", function)   # [0]: the define line (+ an unlabelled block)
    past = blocks[2:] if blocks[0].rstrip().endswith("{") else blocks[1:]
    return (function.count("call void @NRT_incref"),
            sum(block.count("call void @NRT_incref") for block in past))


def spearman(x, y) -> float:
    """Spearman's rho (ties share their mean rank), independent of embedtrain.evaluate."""
    def ranks(a):
        a = np.asarray(a, dtype=np.float64)
        r = np.empty(len(a))
        r[np.argsort(a, kind="stable")] = np.arange(len(a))
        for value in np.unique(a):
            tie = a == value
            r[tie] = r[tie].mean()
        return r
    return float(np.corrcoef(ranks(x), ranks(y))[0, 1])


def wordsim_score(vectors) -> tuple[float, int]:
    """Spearman rho on WordSim-353 (lowercased) over the pairs both of whose words are
    in ``vectors``, and the number of those pairs."""
    pred, gold = [], []
    for line in WORDSIM.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        a, b, score = line.split("\t")
        a, b = a.lower(), b.lower()
        if a in vectors and b in vectors:
            pred.append(vectors.similarity(a, b))
            gold.append(float(score))
    return spearman(pred, gold), len(pred)


class StopTraining(Exception):
    """What :class:`StopAtEpoch` raises: a run broken off, as a crash would break it."""


class StopAtEpoch:
    """A training callback that raises :class:`StopTraining` at the end of epoch ``epoch``
    (1 = the first), after that epoch's checkpoint."""

    def __init__(self, epoch: int = 1):
        self.epoch = epoch

    def on_epoch_end(self, info):
        if info.epoch == self.epoch:
            raise StopTraining
