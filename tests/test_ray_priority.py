"""The workers' priority on a cluster this run did not start (``--ray auto``): ``ray start``
without RAY_worker_niceness, as someone else would start it, runs Ray's worker processes
at niceness 15; the actors take the driver's niceness themselves
(embedtrain/distributed/workers.set_niceness), and where a node refuses, the driver says
so once. One cluster for the module (ray_support.ray_start_cluster)."""
from __future__ import annotations

import errno
import os

import pytest

ray = pytest.importorskip("ray")

from embedtrain.config import make_config  # noqa: E402
from embedtrain.models import Model  # noqa: E402

from ray_support import logged, ray_settings, ray_start_cluster, run_train  # noqa: E402

pytestmark = pytest.mark.slow
OPTIONS = ["--dim=20", "--epochs=1", "--seed=2"]
# the driver runs this much nicer than the tests, so that "the driver's niceness" is not
# merely 0 (the workers, at 15, are raised to it: root may)
DRIVER_NICER = 2


@pytest.fixture(scope="module")
def cluster():
    with ray_start_cluster() as started:
        yield started


def _auto_run(cluster, corpus, prefix, **env):
    out = run_train([corpus, "--ray", "auto", "--workers", "2", "--threads", "1", *OPTIONS, "-o", prefix],
                    env=cluster.driver_env(RAY_ADDRESS=cluster.gcs_address, **env), niceness=DRIVER_NICER)
    assert out.returncode == 0, out.stderr
    assert f":{cluster.gcs_port} (--ray auto): 1 node, 2 CPUs" in out.stderr, out.stderr  # this module's
    return out, Model.load(f"{prefix}.etm").stats["distributed"]


def test_auto_workers_run_at_the_drivers_niceness(cluster, small_corpus, tmp_path):
    driver = min(os.nice(0) + DRIVER_NICER, 19)
    out, d = _auto_run(cluster, small_corpus, tmp_path / "auto")
    assert d["driver_niceness"] == driver
    assert d["worker_niceness"] == [driver, driver]   # every thread of both workers
    assert "niceness" not in out.stderr
    # RAY_worker_niceness in the driver's environment leaves the workers as Ray started
    # them: not at the driver's niceness on this cluster (else the check above proved nothing)
    out, d = _auto_run(cluster, small_corpus, tmp_path / "kept", RAY_worker_niceness="0")
    assert d["driver_niceness"] == driver and d["worker_niceness"][0] != driver, d
    assert "niceness" not in out.stderr


class _InProcess:
    """An actor's handle whose ``method.remote(...)`` calls the object here."""

    def __init__(self, obj):
        self.obj = obj

    def __getattr__(self, name):
        return type("Method", (), {"remote": staticmethod(getattr(self.obj, name))})


def test_a_refused_priority_is_one_warning(monkeypatch):
    """Everything here runs as root, so the refusal (no root, CAP_SYS_NICE or
    RLIMIT_NICE on the node) is simulated: setpriority raises as Linux does."""
    from types import SimpleNamespace

    from embedtrain.distributed import workers
    from embedtrain.distributed.executor import RayTraining

    asked = []

    def refuse(which, who, value):
        asked.append(value)
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(workers.os, "setpriority", refuse)
    monkeypatch.setattr(workers.os, "getpriority", lambda which, who: 15)  # Ray's workers
    monkeypatch.setattr(workers.ReplicaWorker, "node", lambda self: "node-1")
    monkeypatch.delenv("RAY_worker_niceness", raising=False)
    config = make_config("skipgram", dim=10, threads=1)
    run = RayTraining(config, ray_settings(config, ray="auto", workers=2), ["corpus.txt"])
    assert run.niceness == os.nice(0) == run.driver_niceness
    run.conn = SimpleNamespace(ray=SimpleNamespace(get=lambda refs: refs))
    run.actors = [_InProcess(workers.ReplicaWorker(w, 2, config, 1, niceness=run.niceness)) for w in range(2)]
    assert asked == [os.nice(0), os.nice(0)]  # each worker tried once, at its start
    _, lines = logged(run._locate)
    assert run.worker_niceness == [15, 15] and run.nodes == ["node-1", "node-1"]
    assert len(lines) == 1, lines  # one warning for both workers
    assert lines[0].startswith(f"2 of 2 Ray workers run at niceness 15, below this process's priority "
                               f"(niceness {os.nice(0)})"), lines[0]
    for needle in ("Permission denied", "CAP_SYS_NICE", "`RAY_worker_niceness=0 ray start ...`"):
        assert needle in lines[0], lines[0]
