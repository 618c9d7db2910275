"""Training on a real multi-process, multi-raylet Ray cluster on this machine: a head
and two more nodes, each its own raylet, object store and worker processes
(ray_support.local_cluster: ray.cluster_utils.Cluster), one cluster for the module.
The driver joins it by its explicit address, as `--ray HOST:PORT` does.

Each node has 2 CPUs, so 3 workers of 1 thread would fit on two nodes: they land on
three only because the workers' placement group spreads them (cluster.py, SPREAD)."""
from __future__ import annotations

import logging

import numpy as np
import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.cluster_utils")

import embedtrain  # noqa: E402
from embedtrain.config import make_config  # noqa: E402
from embedtrain.families import family_of  # noqa: E402

from ray_support import KillAfter, local_cluster, logged, ray_settings  # noqa: E402

pytestmark = pytest.mark.slow
NODES = 3
CPUS_PER_NODE = 2
WORKERS = 3
# ports 6600-6649 and 10600-10649 (scripts/ray_nodes.py uses 6650-6699 and 10650-10699)
PORT_BASE, WORKER_PORT_BASE = 6600, 10600
# small_corpus: 30,000 words; 3 workers x 2,000 words a round: 5 rounds an epoch
SETTINGS = dict(model="skipgram", dim=20, epochs=2, seed=6, threads=1, min_count=5)
SYNC_EVERY = 2_000


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with local_cluster(NODES, cpus=CPUS_PER_NODE, port_base=PORT_BASE, worker_port_base=WORKER_PORT_BASE,
                       temp_root=str(tmp_path_factory.mktemp("ray"))) as c:
        yield c


def initial_rows(model) -> np.ndarray:
    """The input vectors a run of the model's settings starts from (they depend on the seed)."""
    family = family_of(model.kind)
    return family.fresh_arrays(model.config, model.vocab, family.layout(model.config, model.vocab))["input_vectors"]


def test_three_workers_on_three_nodes_train_one_machines_vocabulary(cluster, small_corpus):
    assert not ray.is_initialized()  # the run connects itself, to this cluster's address
    model, lines = logged(lambda: embedtrain.train(
        str(small_corpus), ray=cluster.address, workers=WORKERS, sync_every=SYNC_EVERY, progress=False,
        **SETTINGS), level=logging.INFO)
    assert any(line.startswith(f"joined the Ray cluster at {cluster.address}: {NODES} nodes, "
                               f"{NODES * CPUS_PER_NODE} CPUs") for line in lines), lines
    assert not ray.is_initialized()  # and disconnected after it
    d = model.stats["distributed"]
    assert d["workers"] == WORKERS and d["nodes"] == WORKERS   # one worker a node
    assert d["restarts"] == 0
    assert d["words_counted"] == model.stats["vocab_tokens"] * SETTINGS["epochs"]
    one = embedtrain.train(str(small_corpus), progress=False, **dict(SETTINGS, epochs=1))
    assert model.vocab.words == one.vocab.words
    np.testing.assert_array_equal(model.vocab.counts, one.vocab.counts)
    vectors = model.arrays["input_vectors"]
    assert np.isfinite(vectors).all()
    # every word occurs in the corpus, so every row was trained and synchronised into worker 0
    assert not np.any(np.all(vectors == initial_rows(model), axis=1))
    # a round: 3 train calls (4 returns each), 3 reducer calls, 3 applies
    rounds = d["per_round"]
    assert len(rounds["wall_seconds"]) == d["rounds"] == 2 * d["rounds_per_epoch"]
    assert set(rounds["driver_calls"]) == {3 * WORKERS}
    assert set(rounds["objects"]) == {WORKERS * (WORKERS + 1) + 2 * WORKERS}
    assert all(b > 0 for b in rounds["bytes"])
    assert sum(rounds["bytes"]) // d["rounds"] == d["bytes_per_sync"]
    assert all(w >= k for w, k in zip(rounds["wall_seconds"], rounds["kernel_max_seconds"]))


def test_a_worker_killed_on_another_node_is_replaced_and_every_word_counted(cluster, small_corpus):
    from embedtrain.distributed import train_on_ray

    head = cluster.head_node.node_id
    kill = KillAfter(rounds=3)   # of 10: mid-run
    chosen = {}

    def pick_a_worker_off_the_head(run):
        w = next(w for w, node in enumerate(run.nodes) if node != head)
        chosen.update(worker=w, node=run.nodes[w])
        kill.pid = run.worker_pids()[w]

    config = make_config(**SETTINGS)
    dist = ray_settings(config, ray=cluster.address, workers=WORKERS, sync_every=SYNC_EVERY)
    model, lines = logged(lambda: train_on_ray(config, dist, [str(small_corpus)], progress=False,
                                               callbacks=[kill], on_start=pick_a_worker_off_the_head))
    assert kill.killed and chosen["node"] != head
    w = chosen["worker"]
    assert any(line.startswith(f"Ray worker {w} died during round ") for line in lines), lines
    assert any(line.startswith(f"Ray worker {w} restarted from the last synchronised weights")
               for line in lines), lines
    d = model.stats["distributed"]
    assert d["nodes"] == WORKERS and d["restarts"] == 1
    assert d["words_counted"] == model.stats["vocab_tokens"] * SETTINGS["epochs"]  # nothing lost, nothing twice
    assert 0 < d["words_redone"] < model.stats["vocab_tokens"]
    # the repair round's calls: the replacement's set-up (4), its train call, reduce, applies
    assert d["per_round"]["driver_calls"][kill.rounds] > 3 * WORKERS
    assert np.isfinite(model.arrays["input_vectors"]).all()
