#!/usr/bin/env python
"""Quality of GloVe settings on a corpus: one run per setting, one at a time, scored by
benchlib.scores() (questions-words, WordSim-353). Quality only, so it runs WITHOUT the
benchmark lock (the times it prints are not benchmarks). Used to choose the corpus-size
rule of GloVe's automatic --x-max/--epochs (docs/benchmarks.md#glove-defaults):

    python scripts/glove_defaults_sweep.py CORPUS "window=10,x-max=10,epochs=15" "window=15,..." ...

An empty setting string ("") runs the defaults (no flags).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import scores


def main() -> None:
    corpus, settings = sys.argv[1], sys.argv[2:]
    work = Path(tempfile.mkdtemp(prefix="glove-sweep-"))
    for setting in settings:
        flags = []
        for pair in filter(None, setting.split(",")):
            key, value = pair.split("=")
            flags += [f"--{key}", value]
        prefix = work / "run"
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "embedtrain", "-q", "train", corpus, "--model", "glove",
                               *flags, "-o", str(prefix)], capture_output=True, text=True)
        if proc.returncode:
            sys.exit(proc.stderr)
        wall = time.perf_counter() - started
        analogy, ws = scores(Path(str(prefix) + ".vec"))
        print(json.dumps({"corpus": Path(corpus).name, "setting": setting or "defaults", "wall": round(wall, 1),
                          "analogy": round(analogy, 4), "wordsim": round(ws, 4)}), flush=True)


if __name__ == "__main__":
    main()
