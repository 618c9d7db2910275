"""What the Ray test modules share (import the fixture into a module to use it): one
local Ray (2 CPUs) per module, a callback that breaks a run off, and the Ray
processes a run leaves behind."""
from __future__ import annotations

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


class _Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def logged(fn):
    """(fn(), the lines the "embedtrain" logger gave at WARNING and above meanwhile), through
    a handler of our own: the CLI's set_verbosity stops the logger propagating to caplog's,
    and an earlier -q run may have set its level to ERROR."""
    records = _Records()
    logger = logging.getLogger("embedtrain")
    logger.addHandler(records)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        return fn(), records.lines
    finally:
        logger.removeHandler(records)
        logger.setLevel(level)


class StopAfter:
    """A callback that breaks the run off after ``rounds`` rounds (a killed driver)."""

    def __init__(self, rounds: int):
        self.rounds = rounds
        self.seen = 0

    def on_progress(self, info):
        self.seen += 1
        if self.seen == self.rounds:
            raise KeyboardInterrupt


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
