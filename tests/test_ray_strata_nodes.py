"""GloVe in strata on a multi-raylet cluster that loses a node mid-run (a head and two
more nodes, each its own raylet, object store and worker processes:
ray_support.local_cluster, one cluster for the module). A lost node takes its worker
and every object in its store; the run goes back to the epoch's start, whose rows
the driver copied to its own node, and gives the undisturbed run's bytes."""
from __future__ import annotations

import numpy as np
import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.cluster_utils")

from embedtrain.config import make_config  # noqa: E402

from conftest import SAMPLE_CORPUS  # noqa: E402
from ray_support import local_cluster, logged, ray_settings  # noqa: E402

pytestmark = pytest.mark.slow
NODES = 3
CPUS_PER_NODE = 2   # a lost node's worker fits on the two left
WORKERS = 3
# ports 6700-6729 and 10700-10729 (test_ray_nodes.py 6600 and 10600, scripts/ray_nodes.py 6650 and 10650)
PORT_BASE, WORKER_PORT_BASE = 6700, 10700
SETTINGS = dict(model="glove", dim=20, window=8, x_max=10.0, epochs=6, seed=4, min_count=5, threads=1)
LOSE_AFTER = 4   # steps (3 an epoch): the second epoch's first


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with local_cluster(NODES, cpus=CPUS_PER_NODE, port_base=PORT_BASE, worker_port_base=WORKER_PORT_BASE,
                       temp_root=str(tmp_path_factory.mktemp("ray"))) as c:
        yield c


def train(cluster, tmp_dir, **given):
    from embedtrain.distributed import train_on_ray

    tmp_dir.mkdir()
    config = make_config(**SETTINGS)
    dist = ray_settings(config, ray=cluster.address, workers=WORKERS)
    return train_on_ray(config, dist, [str(SAMPLE_CORPUS)], progress=False, tmp_dir=str(tmp_dir), **given)


class LoseANode:
    """Once ``LOSE_AFTER`` steps are gathered (in the driver's thread, so no further
    epoch is submitted meanwhile): wait until the epoch's last rows are copied to the
    driver's node (so the epoch has ended on every worker: the loss falls in the next
    one), then remove the node of a worker that is not on the head."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.run = None
        self.seen = 0
        self.lost: dict = {}

    def on_start(self, run):
        self.run = run

    def on_progress(self, info):
        self.seen += 1
        if self.seen != LOSE_AFTER:
            return
        run, head = self.run, self.cluster.head_node.node_id
        assert run._here == head   # the driver's node, where the rows off it are copied
        ending = [r for refs in run._ending for r in refs.values()]
        ray.wait(ending, num_returns=len(ending), fetch_local=False)
        w = next(w for w, node in enumerate(run.nodes) if node != head)
        node = next(n for n in self.cluster.list_all_nodes() if n.node_id == run.nodes[w])
        self.cluster.remove_node(node)
        self.lost.update(worker=w, node=run.nodes[w])


def test_a_lost_node_in_strata_costs_the_epoch_and_not_the_bytes(cluster, tmp_path):
    undisturbed = train(cluster, tmp_path / "a")
    assert undisturbed.stats["distributed"]["nodes"] == NODES
    assert undisturbed.stats["distributed"]["sync_protocol"].startswith("strata")

    lose = LoseANode(cluster)
    model, lines = logged(lambda: train(cluster, tmp_path / "b", callbacks=[lose], on_start=lose.on_start))
    assert lose.lost, "no node was removed"
    log_text = "\n".join(lines)
    assert f"Ray worker {lose.lost['worker']} died" in log_text, log_text
    assert "every worker went back to step 1 of epoch 3" in log_text, log_text
    d = model.stats["distributed"]
    assert d["restarts"] >= 1 and d["nodes"] == NODES - 1   # the replacement is on a node left
    assert d["entries_counted"] == undisturbed.stats["distributed"]["entries_counted"]
    for name in undisturbed.arrays:
        np.testing.assert_array_equal(model.arrays[name], undisturbed.arrays[name], err_msg=name)
