"""Opening a 1 M x 300 model: memory-mapped (with the stored vocabulary offsets, and an
older file without them) against a read load. Each run is a fresh process:

    flock /tmp/embedtrain-bench.lock python scripts/bench_mmap.py [--old OLD.etm]

The model is scripts/bench_compress.py's generated skip-gram file (1,000,000 words
w0...w999999, input and output weights: 2.4 GB), written by this checkout under
$BENCH_DIR (default /tmp/embedtrain-bench-compress) when missing. ``--old``: the same
model written before vocab_offsets.npy existed (bench_compress.py's file from an older
checkout), opened by this checkout: its vocabulary is scanned.

Per process: the import of embedtrain.models (numba included: the same for any file);
opening (``embedtrain.load``); the first lookup of a word's row (``model["w123"]``,
which also makes the model's vectors object); RSS (VmRSS) before opening, after the
lookup, then after reading 1 %, 10 % and 100 % of the rows: the first ones (the most
frequent words), or nested random sets (read in file order); VmRSS, and its two parts:
RssAnon (the process's own memory) and RssFile (pages of the file mapped in: page cache,
shared and dropped by the kernel when memory is short; the kernel maps them in around
each row read, by tens of kilobytes or more, so random rows map far more than they
hold). 3 runs each, interleaved, medians; the files are in the page
cache (read once before), so this is the cost of mapping, not of the disk. The
machine is shared (2 cores, other jobs): noisy.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
OUT = ROOT / "scripts" / "bench_mmap.out.json"

CHILD = r"""
import json, sys, time
import numpy as np

def rss(kind="VmRSS"):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) / 1024 for l in f if l.startswith(kind))

t = time.perf_counter()
import embedtrain, embedtrain.models
out = {"import_s": time.perf_counter() - t, "rss_before_mb": rss()}
t = time.perf_counter()
m = embedtrain.load(sys.argv[1], mmap=sys.argv[2] == "1")
out["open_ms"] = 1000 * (time.perf_counter() - t)
t = time.perf_counter()
row = m["w123"]
out["first_lookup_ms"] = 1000 * (time.perf_counter() - t)
t = time.perf_counter()
m["w987654"]
out["second_lookup_ms"] = 1000 * (time.perf_counter() - t)
out["rss_after_lookup_mb"] = rss()
out["rss_file_after_lookup_mb"] = rss("RssFile")
rows = m.vectors.vectors
n = rows.shape[0]
# the most frequent words first (rows in the file's order), or rows drawn at random
order = np.arange(n) if sys.argv[3] == "first" else np.random.default_rng(0).permutation(n)
for share in (0.01, 0.1, 1.0):
    chosen = np.sort(order[:int(share * n)])
    for s in range(0, len(chosen), 65536):
        np.asarray(rows[chosen[s:s + 65536]]).sum()
    for kind in ("VmRSS", "RssAnon", "RssFile"):
        out[f"{kind}_after_{int(share * 100)}pct_rows_mb"] = rss(kind)
print("RESULT" + json.dumps(out))
"""


def run(path: Path, mmap: bool, rows: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), "1" if mmap else "0", rows],
                          capture_output=True, text=True, env=env)
    if proc.returncode:
        sys.exit(proc.stderr[-2000:])
    return json.loads(proc.stdout.split("RESULT", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--old", type=Path, help="the model written before vocab_offsets.npy existed")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import bench_compress

    path = bench_compress.big_model()
    cases = {"mmap, rows in order": (path, True, "first"), "mmap, random rows": (path, True, "random")}
    if args.old:
        cases["mmap, older file (vocabulary scanned)"] = (args.old, True, "first")
    cases["read"] = (path, False, "first")
    for p, _, _ in cases.values():  # into the page cache
        with open(p, "rb") as f:
            while f.read(1 << 24):
                pass
    results: dict[str, list] = {k: [] for k in cases}
    for _ in range(args.runs):
        for name, (p, mmap, rows) in cases.items():
            results[name].append(run(p, mmap, rows))
            print(name, json.dumps(results[name][-1]), flush=True)
    report = {"command": "flock /tmp/embedtrain-bench.lock python " + " ".join(sys.argv),
              "file_bytes": path.stat().st_size,
              "machine": f"{os.cpu_count()} cores, shared with other jobs: noisy",
              "medians": {k: {m: round(statistics.median(r[m] for r in rs), 2) for m in rs[0]}
                          for k, rs in results.items()},
              "runs": results}
    OUT.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report["medians"], indent=1))


if __name__ == "__main__":
    main()
