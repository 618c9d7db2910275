"""Connecting to Ray and reserving the workers' CPUs, before any work starts.

``--ray local`` starts Ray on this machine (and stops it afterwards); ``auto``
joins the cluster that ``ray start`` set up on this machine; ``ray://HOST:PORT``
goes through Ray Client (the Ray Client server that ``ray start
--ray-client-server-port`` runs on the head node; it needs grpcio, Ray's
``client`` extra, which the ``ray`` extra installs). A process that has already
called ``ray.init`` (a notebook, the tests) keeps its connection whatever ``--ray``
says.

Every failure here is one line: Ray not installed, or for ``ray://`` its client
extra; ``--ray local`` asked for far
more CPUs than the machine has (:data:`MAX_LOCAL_OVERSUBSCRIPTION`) or under a
temporary directory too long for Ray's sockets (:data:`UNIX_PATH_MAX`); an address
that does not answer as a Ray cluster within :data:`CONNECT_TIMEOUT` seconds (a TCP
connection, then a gRPC handshake: something that accepts and never answers is not
waited for; for ``ray://`` one call to the Ray Client server, which also finds a port
that is not one, and a token refused at once rather than after Ray Client's 30 s of
retries); a cluster that requires token authentication this process has no token
for; a Ray Client server that cannot start a session for us; or a cluster that cannot place ``workers`` actors of ``threads`` CPUs each
(checked with a placement group that must be ready within :data:`PLACEMENT_TIMEOUT`
seconds). While Ray connects, its C++ retry lines are kept off the terminal and read
for the cause.
"""
from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import EmbedtrainError
from ..extras import install_hint

log = logging.getLogger("embedtrain")

CONNECT_TIMEOUT = 5.0
PLACEMENT_TIMEOUT = 15.0
# Ray Client starts a server process per session on the first free port from 23000 up;
# it checks the port and then binds it, so two sessions starting at once on a busy head
# node can pick the same port and one server dies at start ("Starting Ray client server
# failed", or psutil's ZombieProcess when the proxy looks at the dead process). The next
# try gets the next port: try this many times in all.
CLIENT_SESSION_ATTEMPTS = 3
CLIENT_SESSION_TRANSIENT = ("Starting Ray client server failed", "ZombieProcess", "NoSuchProcess")
# --ray local starts Ray with at least workers x threads CPUs; more than this many per
# core is a typo, not a plan (64 workers on 2 cores ran 266 s with 120 processes).
MAX_LOCAL_OVERSUBSCRIPTION = 4
# Linux's limit on a Unix socket's path (sun_path, 108 bytes with the final NUL). Ray
# puts its sockets at TEMP/ray/session_<date>_<time>_<usec>_<pid>/sockets/plasma_store;
# a longer TEMP failed inside Ray ("AF_UNIX path length") and left the session behind.
UNIX_PATH_MAX = 107
RAY_SOCKET_TAIL = len("/ray/session_2026-12-05_12-37-29_604205_") + 7 + len("/sockets/plasma_store")
# The HTTP/2 client preface and an empty SETTINGS frame: a gRPC server (Ray's GCS, the
# Ray Client server) answers with a SETTINGS frame (type 4) at once.
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
HTTP2_SETTINGS = 4


def import_ray():
    """Ray, or a one-line error that says how to install it."""
    try:
        import ray
    except ImportError:
        raise EmbedtrainError(f"--ray needs Ray, which is not installed: {install_hint('ray')}") from None
    return ray


def require_client(address: str) -> None:
    """``ray://``: Ray Client's transport (grpcio, Ray's ``client`` extra), or one line
    naming our ``ray`` extra, which installs it (without it ray.init failed deep inside
    Ray with "No module named 'grpc'")."""
    try:
        importlib.import_module("grpc")
    except ImportError:
        raise EmbedtrainError(f"--ray {address}: Ray Client (ray://) needs ray[client] (grpcio), which is "
                              f"not installed: {install_hint('ray')}") from None


@dataclass
class Connection:
    """A Ray connection with the workers' CPUs reserved (a placement group)."""

    ray: Any
    placement_group: Any
    started: bool                       # we called ray.init (so we call ray.shutdown)
    address: str
    extra: dict = field(default_factory=dict)

    def strategy(self, bundle: int):
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        return PlacementGroupSchedulingStrategy(placement_group=self.placement_group,
                                                placement_group_bundle_index=bundle)

    def close(self) -> None:
        from ray.util import remove_placement_group

        try:
            remove_placement_group(self.placement_group)
        except Exception:  # noqa: BLE001 - the connection may already be gone
            pass
        if self.started:
            self.ray.shutdown()


def _host_port(address: str) -> tuple[str, int]:
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise EmbedtrainError(f"--ray {address}: expected 'local', 'auto' or ray://HOST:PORT")
    return host.strip("[]"), int(port)


def _check_reachable(address: str, shown: str | None = None) -> None:
    """A TCP connection to HOST:PORT and a gRPC server's answer to the HTTP/2 preface,
    both within CONNECT_TIMEOUT in all, else one line."""
    shown = shown or address
    host, port = _host_port(address)
    deadline = time.monotonic() + CONNECT_TIMEOUT
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT) as conn:
            conn.sendall(HTTP2_PREFACE)
            head = b""
            while len(head) < 9:
                conn.settimeout(max(deadline - time.monotonic(), 0.01))
                part = conn.recv(9 - len(head))
                if not part:
                    break
                head += part
    except socket.timeout:
        head = None
    except OSError as exc:
        raise EmbedtrainError(f"--ray {shown}: cannot reach the Ray cluster "
                              f"({exc.strerror or exc})") from None
    if head is None or len(head) < 9 or head[3] != HTTP2_SETTINGS:
        what = "did not answer" if not head else "answered, but not as a Ray (gRPC) server"
        raise EmbedtrainError(f"--ray {shown}: {host}:{port} accepts connections but {what} within "
                              f"{CONNECT_TIMEOUT:g} s; is it a Ray cluster's address (ray start prints it)?")


def ray_temp_root() -> str:
    """Where Ray will put its sessions, by Ray's own rule: RAY_TMPDIR when set (even
    empty), else TMPDIR when set, else /tmp."""
    if "RAY_TMPDIR" in os.environ:
        return os.environ["RAY_TMPDIR"]
    return os.environ["TMPDIR"] if "TMPDIR" in os.environ else "/tmp"


def check_local(workers: int, threads: int) -> None:
    """``--ray local``: refuse, before Ray starts, what would only fail or crawl inside it."""
    cores = os.cpu_count() or 1
    need = workers * threads
    if need > MAX_LOCAL_OVERSUBSCRIPTION * cores:
        raise EmbedtrainError(
            f"--ray local: --workers {workers} x --threads {threads} asks for {need} CPUs on a machine "
            f"with {cores}; --ray local runs at most {MAX_LOCAL_OVERSUBSCRIPTION * cores} ({MAX_LOCAL_OVERSUBSCRIPTION} a core: more only "
            f"time-slice the same cores); use fewer workers, or a cluster (--ray auto or ray://HOST:PORT)")
    root = ray_temp_root().rstrip("/") or "/"
    longest = len(root) + RAY_SOCKET_TAIL
    if longest > UNIX_PATH_MAX:
        raise EmbedtrainError(
            f"--ray local: Ray's socket paths under the temporary directory {root} would be {longest} "
            f"characters, over the system's limit of {UNIX_PATH_MAX}; set RAY_TMPDIR to a shorter "
            f"directory (e.g. RAY_TMPDIR=/tmp)")


def _cluster_address(address: str) -> str | None:
    """The address to check before Ray connects: the one given, or for ``auto`` the one
    RAY_ADDRESS or ``ray start`` left (None when there is none: Ray then says so itself)."""
    if address != "auto":
        return address
    env = os.environ.get("RAY_ADDRESS")
    if env and env not in ("auto", "local"):
        return env
    try:
        from ray._private.utils import read_ray_address  # not public API: best effort

        return read_ray_address() or None
    except Exception:  # noqa: BLE001 - a Ray without it: ray.init finds the cluster itself
        return None


@contextlib.contextmanager
def _quiet_stderr():
    """Send file descriptor 2 (where Ray's C++ core writes its retry lines) to a temporary
    file while Ray connects; yields a function that returns what was written."""
    with tempfile.TemporaryFile() as sink:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)

        def captured() -> str:
            sink.flush()
            sink.seek(0)
            return sink.read().decode("utf-8", "replace")
        try:
            yield captured
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


AUTH_MARKERS = ("InvalidAuthToken", "Unauthenticated", "AuthenticationError")
AUTH_HINT = ("RAY_AUTH_TOKEN to the cluster's token (`ray get-auth-token` on its head node prints it; "
             "or RAY_AUTH_TOKEN_PATH to a file holding it)")


def _auth_token_source() -> str | None:
    """Where Ray would read a token from (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH, ~/.ray/auth_token), if any."""
    if os.environ.get("RAY_AUTH_TOKEN", "").strip():
        return "RAY_AUTH_TOKEN"
    for name, path in (("RAY_AUTH_TOKEN_PATH", os.environ.get("RAY_AUTH_TOKEN_PATH")),
                       ("~/.ray/auth_token", os.path.expanduser("~/.ray/auth_token"))):
        with contextlib.suppress(OSError):
            if path and open(path, encoding="utf-8").read().strip():
                return name
    return None


def _auth_advice(address: str) -> str:
    """Why a cluster with token authentication refused us, and what to set. Ray sends its
    token only with RAY_AUTH_MODE=token, or by itself for ``auto`` (RAY_ADDRESS unset)
    when the mode is unset and a token exists."""
    mode = os.environ.get("RAY_AUTH_MODE", "").strip().lower()
    source = _auth_token_source()
    sent = source is not None and (mode == "token" or (
        not mode and address == "auto" and not os.environ.get("RAY_ADDRESS")))
    if sent:
        return f"the Ray cluster rejected the authentication token from {source}; set {AUTH_HINT}"
    if source is not None:
        return (f"the Ray cluster requires token authentication; set RAY_AUTH_MODE=token to send the "
                f"token from {source} (if it is not the cluster's, set {AUTH_HINT})")
    return (f"the Ray cluster requires token authentication and no token was found; set "
            f"RAY_AUTH_MODE=token and {AUTH_HINT}")


CLIENT_HINT = "Ray Client listens on the port `ray start --ray-client-server-port` gives, 10001 by default"


def _check_client(address: str) -> None:
    """``ray://``: one ping of the Ray Client server within CONNECT_TIMEOUT. Ray Client
    itself retries for about 30 s and then says only "ray client connection timeout",
    whether the token was refused or the port is the cluster's GCS, not Ray Client."""
    try:  # not public API: without it, ray.init finds out itself (slowly)
        import grpc
        from ray._private.grpc_utils import init_grpc_channel
        from ray.core.generated import ray_client_pb2, ray_client_pb2_grpc
    except Exception:  # noqa: BLE001
        return
    host, port = _host_port(address)
    # the channel Ray Client opens (with Ray's token interceptor when token mode is on)
    channel = init_grpc_channel(f"{host}:{port}", options=[], asynchronous=False)
    try:
        ping = ray_client_pb2.ClusterInfoRequest(type=ray_client_pb2.ClusterInfoType.PING)
        ray_client_pb2_grpc.RayletDriverStub(channel).ClusterInfo(ping, timeout=CONNECT_TIMEOUT)
    except grpc.RpcError as exc:
        code = exc.code() if callable(getattr(exc, "code", None)) else None
        if code == grpc.StatusCode.UNAUTHENTICATED:
            raise EmbedtrainError(f"--ray {address}: {_auth_advice(address)}") from None
        if code == grpc.StatusCode.UNIMPLEMENTED:
            raise EmbedtrainError(f"--ray {address}: {host}:{port} answers gRPC but is not a Ray Client "
                                  f"server (a cluster's GCS port?); {CLIENT_HINT}") from None
        log.debug("ray: Ray Client ping: %s", exc)  # anything else: ray.init says what
    finally:
        channel.close()


def _failure_line(address: str, failure: BaseException) -> str:
    """The one line for a ray.init that failed for a reason not found in Ray's output."""
    text = str(failure).strip()
    if "Initialization failure from server" in text:
        # Ray Client's server failed to start our session; the message holds its
        # traceback, whose last line is the cause (a Ray Client server started by hand,
        # `python -m ray.util.client.server`, lacks the runtime-env agent's address that
        # `ray start` gives it, and fails on our runtime_env: docs/ray.md)
        cause = [ln.strip() for ln in text.splitlines() if ln.strip()][-1]
        return (f"--ray {address}: the Ray Client server could not start a session for this process "
                f"({cause}); its log is ray_client_server*.err in the head node's session logs")
    first = text.splitlines()[0] if text else type(failure).__name__
    return f"--ray {address}: cannot connect to Ray ({first})"


def _init_once(ray, address: str, kwargs: dict) -> tuple[BaseException | None, str]:
    """One ray.init: (its exception or None, what Ray wrote to stderr and the exception said)."""
    with _quiet_stderr() as captured:
        try:
            ray.init(address=address, **kwargs)
        except Exception as exc:  # noqa: BLE001 - ConnectionError, RuntimeError, AuthenticationError...
            return exc, f"{captured()} {exc} {type(exc).__name__}"
        return None, captured()


def _join(ray, address: str, **kwargs) -> None:
    """ray.init for an existing cluster: at most ~CONNECT_TIMEOUT of Ray's connection
    retries, its C++ lines kept off the terminal, and the cause in one line."""
    target = _cluster_address(address)
    if target is not None:
        _check_reachable(target, shown=address if address == target else f"{address} ({target})")
    if address.startswith("ray://"):
        _check_client(address)
    # Ray retries the cluster's GCS once a second, 20 times by default
    prior = os.environ.get("RAY_gcs_server_port_wait_time_s")
    if prior is None:
        os.environ["RAY_gcs_server_port_wait_time_s"] = str(int(CONNECT_TIMEOUT))
    try:
        for attempt in range(1, CLIENT_SESSION_ATTEMPTS + 1):
            failure, text = _init_once(ray, address, kwargs)
            transient = address.startswith("ray://") and any(m in text for m in CLIENT_SESSION_TRANSIENT)
            if failure is None or not transient or attempt == CLIENT_SESSION_ATTEMPTS:
                break
            with contextlib.suppress(Exception):
                ray.shutdown()
            log.warning("--ray %s: the Ray Client server's process for this session died at start (two "
                        "sessions starting at once can race for its port); trying again (%d of %d)",
                        address, attempt + 1, CLIENT_SESSION_ATTEMPTS)
    finally:
        if prior is None:
            os.environ.pop("RAY_gcs_server_port_wait_time_s", None)
    for line in text.splitlines():  # what Ray said (-v shows it)
        if line.strip():
            log.debug("ray: %s", line)
    if failure is None:
        return
    with contextlib.suppress(Exception):
        ray.shutdown()
    if any(marker in text for marker in AUTH_MARKERS):
        raise EmbedtrainError(f"--ray {address}: {_auth_advice(address)}") from None
    raise EmbedtrainError(_failure_line(address, failure)) from None


def connect(address: str, workers: int, threads: int) -> Connection:
    """Connect (or start Ray) and reserve ``workers`` bundles of ``threads`` CPUs."""
    ray = import_ray()
    if address.startswith("ray://"):
        require_client(address)
    started = False
    # ray.init installs its own SIGTERM handler (it exits at once, skipping our clean-up):
    # keep whatever handler the process had (the CLI's turns SIGTERM into Ctrl-C, exit 143)
    handlers = {}
    for name in ("SIGTERM", "SIGHUP"):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            sig = getattr(signal, name)
            handlers[sig] = signal.getsignal(sig)
    if not ray.is_initialized():
        # The workers must import this embedtrain (an editable or PYTHONPATH checkout too).
        env = {"env_vars": {"PYTHONPATH": os.environ["PYTHONPATH"]}} if os.environ.get("PYTHONPATH") else None
        common = dict(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
        if address == "local":
            check_local(workers, threads)
            cpus = max(workers * threads, os.cpu_count() or 1)
            # Ray starts worker processes at niceness 15 (so that its own daemons win the
            # CPU); on a machine shared with other jobs that starves our actors (docs/ray.md
            # has the measurement). The actors are the job here, so they run at the
            # driver's priority unless the user says (RAY_worker_niceness: Ray reads it
            # when it starts, so it is set for ray.init alone and a later run in this
            # process still sees what the user set, executor.RayTraining.niceness)
            niceness = os.environ.get("RAY_worker_niceness")
            os.environ.setdefault("RAY_worker_niceness", "0")
            try:
                # address="local": always a new Ray of our own; without it Ray joins a
                # cluster this machine started earlier (`ray start`, another run): 'auto'
                ray.init(address="local", num_cpus=cpus, runtime_env=env, **common)
            finally:
                if niceness is None:
                    os.environ.pop("RAY_worker_niceness", None)
        else:
            _join(ray, address, runtime_env=env, **common)
        started = True
        for sig, handler in handlers.items():
            with contextlib.suppress(ValueError, OSError, TypeError):  # not the main thread
                if handler is not None:
                    signal.signal(sig, handler)
    try:
        log.info("%s", describe_cluster(ray, address, started))
        pg = _reserve(ray, workers, threads)
    except BaseException:
        if started:
            ray.shutdown()
        raise
    return Connection(ray=ray, placement_group=pg, started=started, address=address)


def describe_cluster(ray, address: str, started: bool) -> str:
    """The first line of a Ray run: which cluster, where, and what it has."""
    try:
        where = ray.get_runtime_context().gcs_address
    except Exception:  # noqa: BLE001 - Ray Client connections have no GCS address here
        where = address
    nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
    cpus = ray.cluster_resources().get("CPU", 0)
    how = ("started a local Ray" if address == "local" and started else
           "joined the Ray cluster" if started else "using the Ray this process is connected to")
    via = f" (--ray {address})" if address not in ("local", where) else ""
    return f"{how} at {where}{via}: {nodes} node{'s' if nodes != 1 else ''}, {cpus:g} CPUs"


def _reserve(ray, workers: int, threads: int):
    from ray.util import placement_group, remove_placement_group

    total = ray.cluster_resources().get("CPU", 0)
    free = ray.available_resources().get("CPU", 0)
    need = workers * threads
    if need > total:
        raise EmbedtrainError(f"--workers {workers} x --threads {threads} needs {need} CPUs but the "
                              f"Ray cluster has {total:g}")
    pg = placement_group([{"CPU": threads}] * workers, strategy="SPREAD")
    try:
        ray.get(pg.ready(), timeout=PLACEMENT_TIMEOUT)
    except Exception:  # noqa: BLE001 - GetTimeoutError and friends
        remove_placement_group(pg)
        raise EmbedtrainError(f"the Ray cluster cannot place {workers} workers of {threads} CPUs "
                              f"each within {PLACEMENT_TIMEOUT:g} s ({free:g} of {total:g} CPUs free)") from None
    return pg
