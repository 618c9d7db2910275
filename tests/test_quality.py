"""Quality on real text: a calibrated floor, never exact floats from a threaded run.

Floors were calibrated on data/text8-1m.gz (1.0 M tokens of text8) with dim 50,
3 epochs, 2 threads, seeds 1, 2, 3 and 7: WordSim-353 Spearman was 0.29-0.34 for
skip-gram and CBOW with negative sampling, 0.49 (skip-gram) and 0.37 (CBOW) with
hierarchical softmax; the floors leave room for seed noise. Skip-gram's issue-14
defaults (seeds 1 and 5): 0.355-0.377 with shared negatives, 0.329-0.346 per pair,
against 0.305-0.310 for word2vec.c's numerics.

The models are trained with one thread, so each run is the same bytes every time: with 2
threads (Hogwild) the neighbour check of skip-gram with hierarchical softmax failed about
once in six suite runs ("four" sixth nearest to "three"). Seed 5, one thread: WordSim-353
0.463 (HS), 0.368 (skip-gram NS), 0.299 (CBOW NS), and "four" among the first two.
"""
import pytest

import embedtrain
from conftest import QUALITY_CORPUS, wordsim_score


VARIANTS = {
    "skipgram-ns": dict(model="skipgram"),  # shared negatives (issue 14)
    "skipgram-ns-per-pair": dict(model="skipgram", shared_negatives=False),
    "skipgram-ns-word2vec-c": dict(model="skipgram", shared_negatives=False, init_bound=0.5,
                                   epoch_decay=1.0),
    "cbow-ns": dict(model="cbow"),
    "skipgram-hs": dict(model="skipgram", hs=True),
    "cbow-hs": dict(model="cbow", hs=True),
}
FLOORS = {"skipgram-ns": 0.28, "skipgram-ns-per-pair": 0.26, "skipgram-ns-word2vec-c": 0.22, "cbow-ns": 0.2, "skipgram-hs": 0.38, "cbow-hs": 0.28}


@pytest.fixture(scope="module", params=list(VARIANTS))
def trained(request):
    model = embedtrain.train(QUALITY_CORPUS, dim=50, epochs=3, threads=1, progress=False, seed=5,
                             **VARIANTS[request.param])
    return request.param, model


def test_wordsim_floor(trained):
    name, model = trained
    rho, found = wordsim_score(model.vectors)
    assert found > 250
    assert rho >= FLOORS[name], f"{name}: WordSim-353 Spearman {rho:.3f}"


def test_known_neighbours(trained):
    name, model = trained
    assert "four" in [w for w, _ in model.most_similar("three", topn=5)], name
    countries = {"spain", "italy", "germany", "portugal", "england", "netherlands", "russia"}
    assert countries & {w for w, _ in model.most_similar("france", topn=10)}, name


def test_untrained_vectors_fail_the_floor():
    """The floor can fail: random vectors of the same vocabulary score near zero."""
    model = embedtrain.train(QUALITY_CORPUS, dim=50, epochs=1, threads=1, progress=False,
                             lr=1e-7, max_vocab=30000)
    rho, _ = wordsim_score(model.vectors)
    assert rho < 0.15
