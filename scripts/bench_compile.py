#!/usr/bin/env python
"""First-run compile cost per model: `embedtrain train` on the sample corpus (one thread,
or ``--threads N``; one epoch) with an empty NUMBA_CACHE_DIR, against the same command with that cache warm.
The difference in CPU seconds (user + system of the child) is what numba spends compiling
the kernels the run uses; wall seconds are shown too, and the peak RSS of the cold and the
warm run (each child under /usr/bin/time -v): the compile's extra memory is their difference.
Writes scripts/bench_compile.out.json (or ``--out FILE``).

With ``--before DIR`` (a checkout of another revision, e.g. ``git worktree add /tmp/et-before
REV``) the same runs are made with that code too, interleaved run by run, and the ratio of
the medians is printed.

    flock /tmp/embedtrain-bench.lock python scripts/bench_compile.py --runs 3 [--before DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "text8-sample.gz"
MODELS = {"skipgram": [], "cbow": [], "fasttext": ["--bucket", "20000"], "glove": []}


def run(src: Path, model: str, cache: str, out: str, threads: int = 1) -> tuple[float, float, float]:
    """(CPU seconds, wall seconds, peak RSS MB) of one `embedtrain train` child process."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(src))
    proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "embedtrain", "train", str(CORPUS),
                           "--model", model, "--threads", str(threads), "--epochs", "1", "-q", "-o", out,
                           *MODELS[model]], env=env, cwd=src, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(proc.stderr[-3000:])
    err = proc.stderr
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", err).group(1)) for k in ("User", "System"))
    h, m, sec = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", err).groups()
    wall = float(h or 0) * 3600 + float(m) * 60 + float(sec)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1)) / 1024
    return cpu, wall, rss


def compile_cost(src: Path, model: str, threads: int = 1) -> tuple[float, float, float, float]:
    """(CPU s, wall s) of a cold run minus a warm one, in a fresh cache directory, and the
    peak RSS MB of the cold and of the warm run."""
    with tempfile.TemporaryDirectory(prefix="et-numba-") as cache, \
            tempfile.TemporaryDirectory(prefix="et-out-") as out:
        cold = run(src, model, cache, os.path.join(out, "m"), threads)
        warm = run(src, model, cache, os.path.join(out, "m"), threads)
    return cold[0] - warm[0], cold[1] - warm[1], cold[2], warm[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--before", type=Path, default=None, help="a checkout of another revision")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--threads", type=int, default=1, help="the runs' --threads (a first run with "
                    "several compiles what their workers call)")
    ap.add_argument("--out", type=Path, default=ROOT / "scripts" / "bench_compile.out.json")
    a = ap.parse_args()
    sources = {"now": ROOT} | ({"before": a.before.resolve()} if a.before else {})
    models = a.models.split(",")
    results: dict[tuple[str, str], list[tuple[float, float, float, float]]] = {}
    for r in range(a.runs):
        for model in models:
            for name, src in sources.items():
                results.setdefault((name, model), []).append(compile_cost(src, model, a.threads))
                cpu, _, cold, warm = results[(name, model)][-1]
                print(f"run {r + 1}: {name} {model}: {cpu:.2f} s CPU, peak {cold:.0f} MB cold, "
                      f"{warm:.0f} MB warm", file=sys.stderr)
    cols = ["compile CPU s", "compile wall s", "peak MB cold", "peak MB warm", "compile's extra MB"]
    print("| model | " + " | ".join(f"{n} {c}" for n in sources for c in cols)
          + (" | CPU now / before | extra MB now / before |" if a.before else " |"))
    print("|---|" + "---:|" * (len(cols) * len(sources) + (2 if a.before else 0)))
    summary = {}
    for model in models:
        cells, medians = [], {}
        for name in sources:
            runs = results[(name, model)]
            med = [statistics.median(x[i] for x in runs) for i in range(4)]
            extra = statistics.median(x[2] - x[3] for x in runs)
            medians[name] = (med[0], extra)
            cells += [f"{med[0]:.2f}", f"{med[1]:.2f}", f"{med[2]:.0f}", f"{med[3]:.0f}", f"{extra:.0f}"]
            summary[f"{name} {model}"] = {"runs": runs, "median_cpu_s": med[0], "median_wall_s": med[1],
                                          "median_peak_cold_mb": med[2], "median_peak_warm_mb": med[3],
                                          "median_extra_mb": extra}
        ratio = ([f"{medians['now'][0] / medians['before'][0]:.2f}",
                  f"{medians['now'][1] / medians['before'][1]:.2f}"] if a.before else [])
        print(f"| {model} | " + " | ".join(cells + ratio) + " |")
    a.out.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
