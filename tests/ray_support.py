"""What the Ray test modules share (import the fixture into a module to use it): one
local Ray (2 CPUs) per module, a cluster of several raylets on this machine, a
callback that breaks a run off, killing a worker's process, and the Ray processes a
run leaves behind."""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    import ray

    # address="local": a Ray of the module's own, even when `ray start` left a cluster on
    # this machine (ray.init() would join it, and refuse num_cpus)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))}})
    yield
    ray.shutdown()


# Ports of a local_cluster: node i listens on port_base + 10 i + 0..6 (the head's GCS at
# port_base) and runs its worker processes on worker_port_base + 10 i + 0..9.
NODE_PORTS = 10


@contextlib.contextmanager
def local_cluster(nodes: int, cpus: int = 1, port_base: int = 6600, worker_port_base: int = 10600,
                  temp_root: str | None = None, **node_args):
    """A Ray cluster of ``nodes`` raylets on this machine (ray.cluster_utils.Cluster: a head
    and ``nodes - 1`` more, each with its own raylet, object store and worker processes),
    ``cpus`` CPUs each (``node_args``: more of Ray's node settings, e.g.
    object_store_memory; Cluster's default store is 150 MiB a node). Yields the Cluster
    (its address: ``cluster.address``); every process of it is stopped on the way out,
    whatever happened (and, should this process die first, by Cluster's exit hooks).

    Every port it listens on is pinned (:data:`NODE_PORTS` a node from ``port_base`` and
    from ``worker_port_base``), and its sessions and address file are kept under
    ``temp_root`` (RAY_TMPDIR meanwhile): Ray writes the newest cluster's address to
    TEMP/ray/ray_current_cluster, which `ray.init(address="auto")` (and `--ray auto`) of
    every user of the machine would otherwise join. Token authentication is off
    (RAY_AUTH_MODE=disabled meanwhile, for the nodes and this process: a `ray.init` of a
    local Ray earlier in the process set it to token, and the nodes would inherit it); a
    driver joins by the explicit address. The workers run at the driver's niceness
    (RAY_worker_niceness=0, as `--ray local` does; Ray's 15 starved them on this shared
    machine)."""
    from ray.cluster_utils import Cluster

    def ports(i: int) -> dict:
        base, workers = port_base + NODE_PORTS * i, worker_port_base + NODE_PORTS * i
        return dict(num_cpus=cpus, node_manager_port=base + 1, object_manager_port=base + 2,
                    metrics_export_port=base + 3, metrics_agent_port=base + 4,
                    dashboard_agent_listen_port=base + 5, runtime_env_agent_port=base + 6,
                    min_worker_port=workers, max_worker_port=workers + NODE_PORTS - 1,
                    include_dashboard=False, **node_args)

    root = temp_root or os.path.join("/tmp", f"etn-{os.getpid()}")
    os.makedirs(root, exist_ok=True)
    settings = dict(RAY_TMPDIR=root, RAY_AUTH_MODE="disabled", RAY_worker_niceness="0")
    saved = {k: os.environ.get(k) for k in settings}
    os.environ.update(settings)
    cluster = None
    try:
        cluster = Cluster(initialize_head=True, head_node_args=dict(ports(0), gcs_server_port=port_base))
        for i in range(1, nodes):
            cluster.add_node(**ports(i))
        cluster.wait_for_nodes()
        yield cluster
    finally:
        if cluster is not None:
            _disconnect_from(cluster.address)
            cluster.shutdown()  # each node's processes, head last (not `ray stop`: every Ray here)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _disconnect_from(address: str) -> None:
    """ray.shutdown() if this process is still connected to the cluster at ``address`` (a
    run that failed half-way): Ray refuses to remove the node a driver is attached to."""
    import ray

    with contextlib.suppress(Exception):
        if ray.is_initialized() and ray.get_runtime_context().gcs_address == address:
            ray.shutdown()


def kill_process(pid: int, timeout: float = 5.0) -> None:
    """SIGKILL ``pid`` and wait until it is gone (or a zombie), so that the next call to
    its actor meets a dead process."""
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split()[2] == "Z":
                    return
        except OSError:
            return
        time.sleep(0.05)


class _Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def logged(fn, level: int = logging.WARNING):
    """(fn(), the lines the "embedtrain" logger gave at ``level`` and above meanwhile), through
    a handler of our own: the CLI's set_verbosity stops the logger propagating to caplog's,
    and an earlier -q run may have set its level to ERROR."""
    records = _Records()
    logger = logging.getLogger("embedtrain")
    logger.addHandler(records)
    prior = logger.level
    logger.setLevel(level)
    try:
        return fn(), records.lines
    finally:
        logger.removeHandler(records)
        logger.setLevel(prior)


class StopAfter:
    """A callback that breaks the run off after ``rounds`` rounds (a killed driver)."""

    def __init__(self, rounds: int):
        self.rounds = rounds
        self.seen = 0

    def on_progress(self, info):
        self.seen += 1
        if self.seen == self.rounds:
            raise KeyboardInterrupt


class KillAfter:
    """A callback that kills process ``pid`` (set it before the run reaches ``rounds``
    rounds, e.g. from on_start) after ``rounds`` rounds and waits until it is gone: the
    next round meets a dead worker, whatever the rounds' speed."""

    def __init__(self, rounds: int):
        self.rounds = rounds
        self.seen = 0
        self.pid: int | None = None
        self.killed: list[int] = []

    def on_progress(self, info):
        self.seen += 1
        if self.seen == self.rounds and self.pid is not None:
            kill_process(self.pid)
            self.killed.append(self.pid)


def ray_processes() -> set[int]:
    out = subprocess.run(["pgrep", "-f", "ray::|raylet|gcs_server"], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


def processes_left(before: set[int]) -> set[int]:
    """The Ray processes started since ``before`` still there after up to 20 s."""
    left = ray_processes() - before
    for _ in range(100):
        if not left:
            break
        time.sleep(0.2)
        left = ray_processes() - before
    return left


def signal_cli_run(args: list, marker: str, sig: int = signal.SIGINT, wait: float = 3.0) -> tuple[int, str]:
    """Start ``embedtrain train ARGS``, wait until its stderr shows ``marker`` (the
    workers are training) and ``wait`` seconds more, then send ``sig``; returns the
    exit code and the whole stderr."""
    proc = subprocess.Popen([sys.executable, "-m", "embedtrain", "train", *map(str, args)],
                            stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=os.environ.get("PYTHONPATH", str(ROOT))))
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if marker in line:
            break
    time.sleep(wait)
    proc.send_signal(sig)
    rest = proc.communicate(timeout=120)[1]
    return proc.returncode, "".join(lines) + rest


def alive_actors(timeout: float = 10.0) -> list:
    """The actors the connected Ray still lists as alive, after waiting up to ``timeout``
    seconds for killed ones to be marked dead (GCS's actor table; no dashboard needed)."""
    from ray._private.state import actors

    deadline = time.monotonic() + timeout
    while True:
        alive = [a for a in actors().values() if a.get("State") == "ALIVE"]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


def ray_settings(config, **given):
    """The --ray settings ``given``, resolved by ``config``'s family as embedtrain.train
    resolves them (the drivers take resolved settings)."""
    from embedtrain.config import DistributedConfig
    from embedtrain.families import family_of

    return family_of(config.model).ray_settings(DistributedConfig(**given))
