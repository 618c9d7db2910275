"""Child processes that train with a checkpoint after every job and kill themselves (SIGKILL:
no clean-up possible) when job KILL_AT is reported done: what a crash mid-run leaves behind,
for the resume tests. A child's script reads its settings as JSON from argv[1] and passes
``callbacks(kill_at)`` to training."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import embedtrain


class KillAt(embedtrain.Callback):
    def __init__(self, kill_at: int):
        self.kill_at, self.jobs = kill_at, 0

    def on_progress(self, info):
        self.jobs += 1
        if self.jobs == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


def callbacks(kill_at: int):
    """[KillAt(kill_at)], or None when kill_at is 0 (the run goes to its end)."""
    return [KillAt(kill_at)] if kill_at else None


def run(script: str, args: dict) -> subprocess.CompletedProcess:
    """``python -c script json(args)``, with this directory importable in the child."""
    here = str(Path(__file__).resolve().parent)
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-c", script, json.dumps(args)], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=path))
