"""Training on a simulated two-node Ray cluster (ray.cluster_utils.Cluster), one
cluster for the module: each worker lands on its own node (1 CPU each), reads its
part there, and the vocabulary and quality match one machine."""
from __future__ import annotations

import os

import pytest

ray = pytest.importorskip("ray")
cluster_utils = pytest.importorskip("ray.cluster_utils")

import embedtrain  # noqa: E402
from embedtrain.corpus.text import encode  # noqa: E402
from embedtrain.vocab import Vocab  # noqa: E402

from conftest import QUALITY_CORPUS, ROOT, wordsim_score  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_nodes():
    cluster = cluster_utils.Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))}})
    cluster.wait_for_nodes()
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def test_two_nodes_train_like_one_machine(two_nodes, tmp_path):
    settings = dict(model="cbow", dim=50, epochs=3, seed=3, progress=False, min_count=5)
    vocab_file = tmp_path / "vocab.txt"
    model = embedtrain.train(QUALITY_CORPUS, ray="auto", workers=2, threads=1, sync_every=200_000,
                             save_vocab=str(vocab_file), **settings)
    assert model.stats["distributed"]["nodes"] == 2
    raw = encode([QUALITY_CORPUS])
    assert vocab_file.read_text() == Vocab.build(raw.words, raw.counts, 5).to_text()
    raw.close()
    one = embedtrain.train(QUALITY_CORPUS, threads=1, **settings)
    ours, _ = wordsim_score(model.vectors)
    theirs, _ = wordsim_score(one.vectors)
    assert ours >= theirs - 0.04, (ours, theirs)


def test_three_workers_do_not_fit_on_two_cpus():
    from embedtrain.errors import EmbedtrainError

    with pytest.raises(EmbedtrainError, match="needs 3 CPUs but the Ray cluster has 2"):
        embedtrain.train(QUALITY_CORPUS, ray="auto", workers=3, threads=1, progress=False)


def test_glove_counts_one_machines_matrix_on_two_nodes(two_nodes, tmp_path):
    from embedtrain.config import make_config
    from embedtrain.cooccur import count_cooccurrences
    from embedtrain.io.cooc import COUNTING_SETTINGS, CooccurrenceMatrix
    from embedtrain.training.prepare import RunOptions, prepare_corpus

    from conftest import SAMPLE_CORPUS

    settings = dict(window=5, min_count=3, dim=20, epochs=2, seed=2)
    model = embedtrain.train(SAMPLE_CORPUS, model="glove", ray="auto", workers=2, threads=1, progress=False,
                             save_cooccur=str(tmp_path / "matrix"), tmp_dir=str(tmp_path), **settings)
    d = model.stats["distributed"]
    assert d["nodes"] == 2
    ours = CooccurrenceMatrix.load(tmp_path / "matrix")
    config = make_config("glove", **settings)
    vocab, stream, _ = prepare_corpus([SAMPLE_CORPUS], config, RunOptions(progress=False))
    with stream:
        theirs = count_cooccurrences(stream, vocab, config, progress=False)
    assert ours.vocab.words == theirs.vocab.words
    assert (ours.rows == theirs.rows).all() and (ours.cols == theirs.cols).all()
    assert abs(ours.values - theirs.values).max() <= 1e-9 * theirs.values.max()
    assert ours.settings == {k: getattr(config, k) for k in COUNTING_SETTINGS}
    assert d["entries_counted"] == 2 * ours.n_stored * 2
