"""Connecting to Ray and reserving the workers' CPUs, before any work starts.

``--ray local`` starts Ray on this machine (and stops it afterwards); ``auto``
joins the cluster that ``ray start`` set up on this machine; ``ray://HOST:PORT``
goes through Ray Client. A process that has already called ``ray.init`` (a
notebook, the tests) keeps its connection whatever ``--ray`` says.

Every failure here is one line: Ray not installed, an address that does not
answer within :data:`CONNECT_TIMEOUT` seconds, or a cluster that cannot place
``workers`` actors of ``threads`` CPUs each (checked with a placement group that
must be ready within :data:`PLACEMENT_TIMEOUT` seconds).
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
from dataclasses import dataclass, field
from typing import Any

from ..errors import EmbedtrainError
from ..extras import install_hint

log = logging.getLogger("embedtrain")

CONNECT_TIMEOUT = 5.0
PLACEMENT_TIMEOUT = 15.0


def import_ray():
    """Ray, or a one-line error that says how to install it."""
    try:
        import ray
    except ImportError:
        raise EmbedtrainError(f"--ray needs Ray, which is not installed: {install_hint('ray')}") from None
    return ray


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


def _check_reachable(address: str) -> None:
    """A TCP connection to HOST:PORT within CONNECT_TIMEOUT, else one line."""
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise EmbedtrainError(f"--ray {address}: expected 'local', 'auto' or ray://HOST:PORT")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise EmbedtrainError(f"--ray {address}: cannot reach the Ray cluster "
                              f"({exc.strerror or exc})") from None


def connect(address: str, workers: int, threads: int) -> Connection:
    """Connect (or start Ray) and reserve ``workers`` bundles of ``threads`` CPUs."""
    ray = import_ray()
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
            cpus = max(workers * threads, os.cpu_count() or 1)
            # Ray starts worker processes at niceness 15 (so that its own daemons win the
            # CPU); on a machine shared with other jobs that starves our actors (docs/ray.md
            # has the measurement). The actors
            # are the job here, so they run at the driver's priority unless the user says.
            os.environ.setdefault("RAY_worker_niceness", "0")
            # address="local": always a new Ray of our own; without it Ray joins a cluster
            # this machine started earlier (`ray start`, another run), which is 'auto'
            ray.init(address="local", num_cpus=cpus, runtime_env=env, **common)
        else:
            if address != "auto":
                _check_reachable(address)
            try:
                ray.init(address=address, runtime_env=env, **common)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise EmbedtrainError(f"--ray {address}: cannot connect to Ray ({first})") from None
        started = True
        for sig, handler in handlers.items():
            with contextlib.suppress(ValueError, OSError, TypeError):  # not the main thread
                if handler is not None:
                    signal.signal(sig, handler)
    try:
        pg = _reserve(ray, workers, threads)
    except BaseException:
        if started:
            ray.shutdown()
        raise
    return Connection(ray=ray, placement_group=pg, started=started, address=address)


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
