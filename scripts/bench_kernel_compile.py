#!/usr/bin/env python
"""The training kernel's compile alone, this checkout against another (``--before DIR``):
each run is ``scripts/compile_listing.py MODEL`` of its tree in a fresh process with an empty
NUMBA_CACHE_DIR, which prints the CPU seconds of each function numba compiled (the
compiling thread's, nested compilations included). The kernel's line and the whole run's
CPU seconds are kept; the trees alternate run by run; medians and the ratio now / before.
Less noisy than bench_compile.py's cold-minus-warm difference of two processes, which also
holds the reading kernel's compile, numba's set-up and the run itself.

    flock /tmp/embedtrain-bench.lock python scripts/bench_kernel_compile.py --before DIR [--runs 5]
        [--models skipgram,cbow,fasttext]

Writes scripts/bench_kernel_compile.out.json (or ``--out FILE``).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, write_bytecode  # noqa: E402

KERNEL = "_make_kernel.<locals>._train_chunk"


def listing(tree: Path, model: str) -> tuple[float, float]:
    """(the kernel's compile CPU s, the run's CPU s) of one cold run in ``tree``."""
    with tempfile.TemporaryDirectory(prefix="et-numba-") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(tree))
        proc = subprocess.run([sys.executable, str(tree / "scripts" / "compile_listing.py"), model],
                              env=env, cwd=tree, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(proc.stderr[-3000:])
    kernel = [float(line.split()[0]) for line in proc.stdout.splitlines() if KERNEL in line]
    run = re.search(r"\(([\d.]+) s CPU\)", proc.stdout)
    if len(kernel) != 1 or run is None:
        sys.exit(f"{tree}: unexpected listing:\n{proc.stdout}")
    return kernel[0], float(run.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=Path, required=True, help="a checkout of the code to compare with")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--models", default="skipgram,cbow,fasttext")
    ap.add_argument("--out", type=Path, default=ROOT / "scripts" / "bench_kernel_compile.out.json")
    args = ap.parse_args()
    trees = {"now": ROOT, "before": args.before.resolve()}
    for tree in trees.values():
        write_bytecode(tree)   # as an installed package has it (the cold run's CPU seconds)
    models = args.models.split(",")
    found: dict[str, dict[str, list[tuple[float, float]]]] = {m: {t: [] for t in trees} for m in models}
    for i in range(args.runs):
        for model in models:
            for label, tree in trees.items():
                found[model][label].append(listing(tree, model))
                kernel, run = found[model][label][-1]
                print(f"run {i + 1} {model} {label}: kernel {kernel:.2f} s, run {run:.2f} s CPU", flush=True)
    print("| model | kernel compile CPU s now | before | now / before | cold run CPU s now | before |")
    print("|---|---:|---:|---:|---:|---:|")
    summary = {}
    for model in models:
        med = {label: [statistics.median(r[j] for r in runs) for j in (0, 1)]
               for label, runs in found[model].items()}
        ratio = med["now"][0] / med["before"][0]
        print(f"| {model} | {med['now'][0]:.2f} | {med['before'][0]:.2f} | {ratio:.2f} | "
              f"{med['now'][1]:.2f} | {med['before'][1]:.2f} |")
        summary[model] = {"runs": found[model], "medians": med, "kernel_ratio": round(ratio, 3)}
    args.out.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
