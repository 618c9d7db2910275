#!/usr/bin/env python
"""Peak memory of a skip-gram run with numba's passing imports of SciPy and PyYAML
(a checkout from before issue 28, --before) and without them (this checkout),
interleaved, several runs each; each run is a whole process under /usr/bin/time -v.
Settings: text8-prefix, dim 100, window 5, negative 5, 5 epochs, 2 threads (the
word2vec benchmark's). Also the modules loaded after the imports of a run. Run under
the shared lock:

    git -C . archive 45cd899 | (mkdir -p /tmp/before && tar -x -C /tmp/before)
    flock /tmp/embedtrain-bench.lock python scripts/bench_peak_imports.py --before /tmp/before
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import SHARED_DATA, timed

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ["--dim", "100", "--window", "5", "--negative", "5", "--epochs", "5", "--threads", "2",
            "--min-count", "5"]
PROBE = ("import sys, embedtrain.kernels.sgns; "
         "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'yaml'}))")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help="a checkout of the code before the change")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--corpus", default=str(SHARED_DATA / "text8-prefix.gz"))
    args = ap.parse_args()
    args.corpus = str(Path(args.corpus).resolve())   # the runs start in each tree
    trees = {"before": Path(args.before).resolve(), "after": ROOT}
    work = Path(tempfile.mkdtemp(prefix="bench-peak-"))
    out: dict[str, dict] = {}
    for name, tree in trees.items():
        env = dict(os.environ, PYTHONPATH=str(tree))
        # cwd=tree: `python -c` and `python -m` put the working directory first on sys.path
        loaded = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                                check=True, cwd=tree).stdout.strip()
        # compile (or load) the kernels once, outside the measurements
        subprocess.run([sys.executable, "-m", "embedtrain", "-q", "train", args.corpus, *SETTINGS,
                        "--epochs", "1", "-o", str(work / name)], env=env, check=True, cwd=tree)
        out[name] = {"tree": str(tree), "scipy_yaml_loaded": loaded, "rss_mb": [], "wall_s": []}
    for run in range(args.runs):
        for name, tree in trees.items():
            env = dict(os.environ, PYTHONPATH=str(tree))
            wall, rss, _ = timed([sys.executable, "-m", "embedtrain", "-q", "train", args.corpus, *SETTINGS,
                                  "--seed", str(run + 1), "-o", str(work / name)], env=env, cwd=tree)
            out[name]["rss_mb"].append(round(rss, 1))
            out[name]["wall_s"].append(round(wall, 2))
            print(f"run {run + 1} {name:6}: peak RSS {rss:6.1f} MB, wall {wall:5.1f} s", flush=True)
    for name in trees:
        out[name]["median_rss_mb"] = statistics.median(out[name]["rss_mb"])
        print(f"{name:6}: median peak RSS {out[name]['median_rss_mb']:.1f} MB; scipy/yaml after importing "
              f"the kernels: {out[name]['scipy_yaml_loaded']}")
    saved = out["before"]["median_rss_mb"] - out["after"]["median_rss_mb"]
    print(f"saved: {saved:.1f} MB of peak RSS (the machine is shared: wall times are noisy)")
    (ROOT / "scripts" / "bench_peak_imports.out.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
