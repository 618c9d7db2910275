"""Shared fixtures. Trained models are session-scoped: train once, test many times."""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SAMPLE_CORPUS = DATA / "text8-sample.gz"          # 201,084 tokens of text8, one line
QUALITY_CORPUS = DATA / "text8-1m.gz"           # 1,019,513 tokens of text8, one line
WORDSIM = ROOT / "embedtrain" / "datasets" / "wordsim353.tsv"
SHARED_DATA = ROOT.parent / "shared" / "data"     # present in CI; optional elsewhere


@pytest.fixture(scope="session")
def sample_corpus() -> Path:
    return SAMPLE_CORPUS


@pytest.fixture(scope="session")
def sample_text() -> str:
    with gzip.open(SAMPLE_CORPUS, "rt", encoding="utf-8") as f:
        return f.read()


@pytest.fixture(scope="session")
def skipgram_model(tmp_path_factory):
    """Skip-gram trained on the sample corpus (shared by every test that needs vectors)."""
    import embedtrain

    return embedtrain.train(SAMPLE_CORPUS, model="skipgram", dim=50, epochs=3, threads=2,
                            progress=False, seed=7)


@pytest.fixture(scope="session")
def skipgram_files(skipgram_model, tmp_path_factory) -> dict[str, Path]:
    """The sample skip-gram model saved: {'vec': PREFIX.vec, 'model': PREFIX.etm}."""
    prefix = tmp_path_factory.mktemp("skipgram") / "sample"
    vec, model = skipgram_model.save(prefix)
    return {"vec": vec, "model": model}
