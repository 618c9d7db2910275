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
