"""A Ray run whose cluster loses a node mid-run: a head and three more nodes on this
machine, each its own raylet, object store and worker processes
(ray_support.local_cluster, one cluster for the module). Each test removes a node that
holds a worker, taking the worker and every object in that node's store with it.

- With a combination rule (skip-gram) the executor's repair replaces the worker and
  redoes its slice of the round: every word is counted once.
- GloVe in strata goes back to the epoch's start, whose rows the driver copied to its
  own node, and gives the undisturbed run's bytes.
"""
from __future__ import annotations

import numpy as np
import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.cluster_utils")

from embedtrain.config import make_config  # noqa: E402

from conftest import SAMPLE_CORPUS  # noqa: E402
from ray_support import local_cluster, logged, ray_settings  # noqa: E402

pytestmark = pytest.mark.slow
NODES = 4           # each test loses one
CPUS_PER_NODE = 2   # a lost node's worker fits on the nodes left
WORKERS = 3
# ports 6700-6739 and 10700-10739 (test_ray_nodes.py 6600 and 10600, scripts/ray_nodes.py 6650 and 10650)
PORT_BASE, WORKER_PORT_BASE = 6700, 10700
SETTINGS = dict(model="glove", dim=20, window=8, x_max=10.0, epochs=6, seed=4, min_count=5, threads=1)
LOSE_AFTER = 4   # steps (3 an epoch): the second epoch's first
SKIPGRAM = dict(model="skipgram", dim=20, epochs=2, seed=6, threads=1, min_count=5)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with local_cluster(NODES, cpus=CPUS_PER_NODE, port_base=PORT_BASE, worker_port_base=WORKER_PORT_BASE,
                       temp_root=str(tmp_path_factory.mktemp("ray"))) as c:
        yield c


def remove_a_workers_node(cluster, run) -> int:
    """Remove the node of a worker of ``run`` that is not on the head; returns the worker."""
    head = cluster.head_node.node_id
    w = next(w for w, node in enumerate(run.nodes) if node != head)
    cluster.remove_node(next(n for n in cluster.list_all_nodes() if n.node_id == run.nodes[w]))
    return w


class LoseANodeAfter:
    """A callback that removes a worker's node (off the head) once ``rounds`` rounds are
    done, in the driver's thread."""

    def __init__(self, cluster, rounds: int):
        self.cluster, self.rounds = cluster, rounds
        self.run = None
        self.seen = 0
        self.lost: dict = {}

    def on_start(self, run):
        self.run = run

    def on_progress(self, info):
        self.seen += 1
        if self.seen == self.rounds:
            self.lost["worker"] = remove_a_workers_node(self.cluster, self.run)


def test_with_a_combination_rule_a_lost_node_costs_its_slice_of_a_round(cluster, small_corpus):
    from embedtrain.distributed import train_on_ray

    config = make_config(**SKIPGRAM)
    dist = ray_settings(config, ray=cluster.address, workers=WORKERS, sync_every=2_000)
    lose = LoseANodeAfter(cluster, rounds=3)   # of 10
    model, lines = logged(lambda: train_on_ray(config, dist, [str(small_corpus)], progress=False,
                                               callbacks=[lose], on_start=lose.on_start))
    w = lose.lost["worker"]
    assert any(line.startswith(f"Ray worker {w} died during round ") for line in lines), lines
    d = model.stats["distributed"]
    assert d["restarts"] >= 1 and 0 < d["words_redone"] < model.stats["vocab_tokens"]
    assert d["words_counted"] == model.stats["vocab_tokens"] * SKIPGRAM["epochs"]  # nothing lost, nothing twice
    assert np.isfinite(model.arrays["input_vectors"]).all()


def train(cluster, tmp_dir, **given):
    from embedtrain.distributed import train_on_ray

    tmp_dir.mkdir()
    config = make_config(**SETTINGS)
    dist = ray_settings(config, ray=cluster.address, workers=WORKERS)
    return train_on_ray(config, dist, [str(SAMPLE_CORPUS)], progress=False, tmp_dir=str(tmp_dir), **given)


class LoseANodeAtAnEpochsEnd(LoseANodeAfter):
    """After ``LOSE_AFTER`` steps: first wait until the epoch's last rows are copied to
    the driver's node (so the epoch has ended on every worker: the loss falls in the
    next one; the driver is in this callback, so no further epoch is submitted)."""

    def __init__(self, cluster):
        super().__init__(cluster, LOSE_AFTER)

    def on_progress(self, info):
        if self.seen + 1 == self.rounds:
            run = self.run
            assert run._here == self.cluster.head_node.node_id   # where the rows off it are copied
            ending = [r for refs in run._ending for r in refs.values()]
            ray.wait(ending, num_returns=len(ending), fetch_local=False)
        super().on_progress(info)


def test_a_lost_node_in_strata_costs_the_epoch_and_not_the_bytes(cluster, tmp_path):
    undisturbed = train(cluster, tmp_path / "a")
    assert undisturbed.stats["distributed"]["nodes"] == WORKERS
    assert undisturbed.stats["distributed"]["sync_protocol"].startswith("strata")

    lose = LoseANodeAtAnEpochsEnd(cluster)
    model, lines = logged(lambda: train(cluster, tmp_path / "b", callbacks=[lose], on_start=lose.on_start))
    assert lose.lost, "no node was removed"
    log_text = "\n".join(lines)
    assert f"Ray worker {lose.lost['worker']} died" in log_text, log_text
    assert "every worker went back to step 1 of epoch 3" in log_text, log_text
    d = model.stats["distributed"]
    assert d["restarts"] >= 1 and d["nodes"] == WORKERS - 1   # the replacement is on a node left
    assert d["entries_counted"] == undisturbed.stats["distributed"]["entries_counted"]
    for name in undisturbed.arrays:
        np.testing.assert_array_equal(model.arrays[name], undisturbed.arrays[name], err_msg=name)
