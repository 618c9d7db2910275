#!/usr/bin/env python
"""Writing text vectors (``embedtrain.io.text.write_word2vec_text``), this checkout against
another (``--before DIR``), interleaved run by run, each run a fresh process. Each process
writes the same matrix (normal values, sd 0.3, a fixed seed: what trained vectors look like)
once untimed, then ``--writes`` times timed; the run's figure is the median of those. Prints
the medians over the runs (wall and CPU seconds of one write) and the ratio now / before,
and checks that both trees wrote the same bytes.

    flock /tmp/embedtrain-bench.lock python scripts/bench_write_vec.py --before DIR [--runs 5]
        [--rows 22541] [--dim 100] [--batch-rows N]

``--batch-rows`` sets this checkout's ``WRITE_BATCH_ROWS`` (the rows formatted at a time).
Writes scripts/bench_write_vec.out.json (or ``--out FILE``).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT  # noqa: E402

CHILD = r"""
import json, sys, time, tracemalloc
import numpy as np
import embedtrain.io.text as text
out, rows, dim, writes, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
if batch:
    text.WRITE_BATCH_ROWS = batch
vectors = np.random.default_rng(28).normal(0, 0.3, (rows, dim)).astype(np.float32)
words = [f"w{i}" if i % 7 else f"wörd{i}" for i in range(rows)]
text.write_word2vec_text(out, words, vectors)
walls, cpus = [], []
for _ in range(writes):
    w0, c0 = time.perf_counter(), time.process_time()
    text.write_word2vec_text(out, words, vectors)
    walls.append(time.perf_counter() - w0)
    cpus.append(time.process_time() - c0)
tracemalloc.start()
text.write_word2vec_text(out, words, vectors)
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"wall": sorted(walls)[len(walls) // 2], "cpu": sorted(cpus)[len(cpus) // 2],
                  "traced_peak_mb": peak / 2 ** 20, "module": text.__file__}))
"""


def run(tree: Path, out: Path, args, batch: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree))
    proc = subprocess.run([sys.executable, "-c", CHILD, str(out), str(args.rows), str(args.dim),
                           str(args.writes), str(batch)], env=env, cwd=out.parent, capture_output=True, text=True,
                          check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if not Path(result.pop("module")).resolve().is_relative_to(tree.resolve()):
        sys.exit(f"{tree}: the child imported embedtrain from elsewhere")
    result["sha256"] = hashlib.sha256(out.read_bytes()).hexdigest()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--writes", type=int, default=5)
    ap.add_argument("--rows", type=int, default=22541)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--batch-rows", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "scripts" / "bench_write_vec.out.json")
    args = ap.parse_args()
    results: dict[str, list[dict]] = {"now": [], "before": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            results["now"].append(run(ROOT, Path(tmp) / "now.vec", args, args.batch_rows))
            results["before"].append(run(args.before.resolve(), Path(tmp) / "before.vec", args, 0))
    digests = {r["sha256"] for rs in results.values() for r in rs}
    if len(digests) != 1:
        sys.exit("the two trees wrote different bytes")
    summary = {}
    lines = [f"{args.rows:,} x {args.dim} float32 values, {args.runs} runs of {args.writes} writes each "
             f"(median a run); same bytes from both trees"]
    for name, rs in results.items():
        summary[name] = {k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu", "traced_peak_mb")}
        summary[name]["runs_wall"] = [round(r["wall"], 4) for r in rs]
        s = summary[name]
        lines.append(f"{name:7s} wall {s['wall']:.3f} s  CPU {s['cpu']:.3f} s  traced peak {s['traced_peak_mb']:.1f} MB"
                     f"  runs {s['runs_wall']}")
    lines.append(f"now / before: wall {summary['now']['wall'] / summary['before']['wall']:.2f}, "
                 f"CPU {summary['now']['cpu'] / summary['before']['cpu']:.2f}")
    print("\n".join(lines))
    args.out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, **summary}, indent=1) + "\n")


if __name__ == "__main__":
    main()
