"""What the Ray test modules share (import the fixture into a module to use it): one
local Ray (2 CPUs) per module, a cluster started as a user starts one (`ray start`), a
cluster of several raylets on this machine, a callback that breaks a run off, killing a worker's process, and the Ray processes a
run leaves behind."""
from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

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
    every user of the machine would otherwise join. Token authentication is on
    when the machine has a token, off otherwise (RAY_AUTH_MODE meanwhile, for the nodes
    and this process: :func:`_auth_mode`); a driver joins by the explicit address. The workers run at the driver's niceness
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
    settings = dict(RAY_TMPDIR=root, RAY_AUTH_MODE=_auth_mode(), RAY_worker_niceness="0")
    saved = {k: os.environ.get(k) for k in settings}
    os.environ.update(settings)
    _refresh_ray_config()
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
        _refresh_ray_config()


def _auth_mode() -> str:
    """Token authentication when this machine has a token (~/.ray/auth_token, which a
    local ``ray.init`` creates, or RAY_AUTH_TOKEN), else none: the nodes and this driver
    must agree, and a node in token mode without a token aborts."""
    from ray._raylet import AuthenticationTokenLoader

    loader = AuthenticationTokenLoader.instance()
    loader.reset_cache()
    return "token" if loader.has_token(ignore_auth_mode=True) else "disabled"


def _refresh_ray_config() -> None:
    """Make this process's Ray read RAY_AUTH_MODE again: Ray caches its settings per process,
    and a driver still in token mode (from an earlier local Ray) rejects the calls of a
    cluster without authentication ("Missing authorization header"), so its actors are
    never created."""
    from ray._raylet import Config

    Config.initialize("")


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


def one_error_line(out, *needles):
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 1 and len(lines) == 1 and lines[0].startswith("embedtrain: error: "), out.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def blocked_import_env(tmp_path, module: str) -> dict:
    """PYTHONPATH under which ``import module`` fails (a stub raising ImportError first on the path)."""
    blocker = tmp_path / "block"
    blocker.mkdir(exist_ok=True)
    (blocker / f"{module}.py").write_text(f"raise ImportError('No module named {module}')\n")
    return {"PYTHONPATH": f"{blocker}{os.pathsep}{os.environ.get('PYTHONPATH', ROOT)}"}


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

    return family_of(config.model).ray_settings(DistributedConfig(**given), config.model)


# `ray start` clusters of the tests: every port they listen on comes from these ranges
# (the machine is shared; other ranges are other people's)
CLUSTER_PORTS = range(6500, 6600)
CLUSTER_WORKER_PORTS = range(10500, 10600)
WORKER_PORT_COUNT = 30
# set in a test cluster's environment, so its processes (and the workers and Ray Client
# servers they start, which inherit it) are found and stopped by pid: `ray stop` would stop
# every Ray on the machine
CLUSTER_MARK = "EMBEDTRAIN_TEST_CLUSTER"


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("", port))
        except OSError:
            return False
    return True


def _free_ports(candidates, n: int, contiguous: bool = False) -> list[int]:
    found: list[int] = []
    for port in candidates:
        if _free(port):
            found.append(port)
        elif contiguous:
            found = []
        if len(found) == n:
            return found
    pytest.skip(f"{n} free ports in {candidates} were not found for a test Ray cluster")


def run_train(args: list, env: dict, niceness: int = 0) -> subprocess.CompletedProcess:
    """``embedtrain train ARGS`` in a process of its own with environment ``env`` (and
    ``niceness`` added to this process's)."""
    return subprocess.run([sys.executable, "-m", "embedtrain", "train", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=600,
                          preexec_fn=(lambda: os.nice(niceness)) if niceness else None)


@dataclass
class StartedCluster:
    """A cluster `ray start --head` set up, with token authentication (Ray 2.60's default)
    and a token of its own."""

    gcs_address: str        # 127.0.0.1:PORT
    client_address: str     # ray://127.0.0.1:PORT (Ray Client), or "" without one
    env: dict               # what a driver needs to join it (token, PYTHONPATH)
    temp_dir: str

    @property
    def gcs_port(self) -> int:
        return int(self.gcs_address.rsplit(":", 1)[1])

    def driver_env(self, **extra: str) -> dict:
        """The environment of a driver process that joins this cluster (``extra`` on top;
        RAY_ADDRESS and RAY_worker_niceness are only those given)."""
        env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_worker_niceness")}
        env.update(self.env)
        env.update(extra)
        return env


def _marked(mark: str) -> list[int]:
    """The processes whose environment holds ``mark``."""
    needle = f"{CLUSTER_MARK}={mark}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue
    return found


def _stop_marked(mark: str, timeout: float = 20.0) -> list[int]:
    """SIGTERM to every process of the cluster, SIGKILL to those left after a few
    seconds (Ray's daemons start workers while they stop); returns those still there."""
    deadline = time.monotonic() + timeout
    sig = signal.SIGTERM
    term_until = time.monotonic() + 5.0
    while True:
        left = _marked(mark)
        if not left or time.monotonic() > deadline:
            return left
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        time.sleep(0.3)
        if time.monotonic() > term_until:
            sig = signal.SIGKILL


@contextlib.contextmanager
def ray_start_cluster(client: bool = False):
    """`ray start --head --num-cpus 2` in a temporary directory of its own, without
    RAY_worker_niceness (Ray's workers at niceness 15, as on a cluster someone else
    started), with token authentication on (a token of its own). ``client``: a Ray Client
    server is needed (skip without ray[client]; with it installed `ray start` runs one
    anyway). Stopped afterwards (also when a test failed) by pid, never `ray stop`."""
    if sys.platform != "linux":
        pytest.skip("the test cluster is found by /proc")
    mark = secrets.token_hex(8)
    token = secrets.token_hex(16)
    # short: Ray's socket paths under it must stay within 107 bytes
    temp_dir = tempfile.mkdtemp(prefix="et-rc-", dir="/tmp")
    (gcs, node_manager, object_manager, agent_listen, agent_grpc, runtime_env_agent, metrics,
     dashboard) = _free_ports(CLUSTER_PORTS, 8)
    worker_ports = _free_ports(CLUSTER_WORKER_PORTS, WORKER_PORT_COUNT + 1, contiguous=True)
    client_port, worker_ports = worker_ports[0], worker_ports[1:]
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token,
            "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))}
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_worker_niceness")}
    env.update(auth)
    env[CLUSTER_MARK] = mark
    command = [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--num-cpus", "2",
               "--port", str(gcs), "--node-manager-port", str(node_manager),
               "--object-manager-port", str(object_manager),
               "--dashboard-agent-listen-port", str(agent_listen),
               "--dashboard-agent-grpc-port", str(agent_grpc),
               "--runtime-env-agent-port", str(runtime_env_agent), "--metrics-export-port", str(metrics),
               "--include-dashboard", "false", "--dashboard-port", str(dashboard),
               "--min-worker-port", str(worker_ports[0]), "--max-worker-port", str(worker_ports[-1]),
               "--temp-dir", temp_dir, "--disable-usage-stats"]
    # with ray[client] installed `ray start` always runs a Ray Client server, by default
    # on 10001 (not ours): so it gets one of our ports whether asked for or not
    has_client = importlib.util.find_spec("grpc") is not None
    if client and not has_client:
        pytest.skip("Ray Client (ray://) needs ray[client] (grpcio): pip install \".[ray]\"")
    if has_client:
        command += ["--ray-client-server-port", str(client_port)]
    try:
        started = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
        if started.returncode != 0:
            pytest.fail(f"ray start failed:\n{started.stdout}\n{started.stderr}")
        yield StartedCluster(gcs_address=f"127.0.0.1:{gcs}",
                             client_address=f"ray://127.0.0.1:{client_port}" if has_client else "",
                             env=auth, temp_dir=temp_dir)
    finally:
        left = _stop_marked(mark)
        shutil.rmtree(temp_dir, ignore_errors=True)
        assert not left, f"processes of the test cluster left running: {left}"
