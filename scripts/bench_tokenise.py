#!/usr/bin/env python
"""Reading a corpus into provisional ids (``embedtrain.corpus.encode``: read, decompress,
tokenise, count, write the id file), this checkout against another (``--before DIR``),
interleaved run by run, each run a fresh process with the numba cache warm (one run of
each tree first, untimed). Wall and CPU seconds of the ``encode`` call alone (imports
excluded, numba's too: a training run imports it whoever reads the text); medians and the
ratio now / before (peak memory: bench_word2vec.py). Both trees must
give the same words, counts and ids (their digest is compared).

    flock /tmp/embedtrain-bench.lock python scripts/bench_tokenise.py --before DIR [--runs 5]
        [--corpus text8-prefix] [--corpus text8-prefix-gz] [--corpus enwiki] [--corpus multi30k-de]
        [--lowercase] [--read-ahead]

``--read-ahead`` has this checkout read each next block on a helper thread
(``encode(read_ahead=True)``, what a run with several threads does); with ``--before .`` that
compares the same code with and without it.

Corpora: text8-prefix (../shared/data/text8-prefix.gz as lines of 1,000 tokens, 2.1 M
tokens, plain text as bench_word2vec.py gives it), enwiki
(../shared/data/corpora/enwiki2015-AA.text8style.txt.gz, 17.5 M tokens, gzip-compressed,
read as it is), text8-prefix-gz (../shared/data/text8-prefix.gz as it is: one gzip-compressed
line, cut every 10,000 tokens as any run cuts it), multi30k-de (../shared/data/crosslingual/multi30k.train.de.tok.gz, German, five times over
as lines of 12 tokens, plain text: no block is ASCII, so Python splits each before the kernel
reads it). Writes
scripts/bench_tokenise.out.json (or ``--out FILE``).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, SHARED_DATA, write_lines  # noqa: E402

CHILD = r"""
import hashlib, json, sys, time
import embedtrain.kernels  # numba: every training run imports it, whoever reads the text
from embedtrain.corpus import encode
path, lowercase, ahead = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1"
w0, c0 = time.perf_counter(), time.process_time()
raw = encode([path], lowercase=lowercase, **({"read_ahead": True} if ahead else {}))
wall, cpu = time.perf_counter() - w0, time.process_time() - c0
h = hashlib.sha256("\n".join(raw.words).encode())
h.update(raw.counts.tobytes())
for block in raw.blocks():
    h.update(block.tobytes())
print(json.dumps({"wall": wall, "cpu": cpu, "tokens": raw.n_tokens, "words": len(raw.words),
                  "digest": h.hexdigest()[:12]}))
"""


def run(tree: Path, path: Path, lowercase: bool, ahead: bool = False) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree))
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), "1" if lowercase else "0", "1" if ahead else "0"],
                          env=env, cwd=tree, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(proc.stderr[-3000:])
    return json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=Path, required=True, help="a checkout of the code to compare with")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--corpus", action="append", choices=["text8-prefix", "text8-prefix-gz", "enwiki",
                                                          "multi30k-de"])
    ap.add_argument("--lowercase", action="store_true")
    ap.add_argument("--read-ahead", action="store_true", help="this checkout reads a block ahead")
    ap.add_argument("--out", type=Path, default=ROOT / "scripts" / "bench_tokenise.out.json")
    args = ap.parse_args()
    corpora = args.corpus or ["text8-prefix"]
    trees = {"now": ROOT, "before": args.before.resolve()}
    report = {"runs": args.runs, "lowercase": args.lowercase, "read_ahead": args.read_ahead, "corpora": {}}
    with tempfile.TemporaryDirectory(prefix="bench-tokenise-") as tmp:
        for name in corpora:
            if name == "text8-prefix":
                path = Path(tmp) / "text8-prefix.txt"
                write_lines(SHARED_DATA / "text8-prefix.gz", path)
            elif name == "text8-prefix-gz":
                path = SHARED_DATA / "text8-prefix.gz"
            elif name == "enwiki":
                path = SHARED_DATA / "corpora" / "enwiki2015-AA.text8style.txt.gz"
            else:
                path = Path(tmp) / "multi30k-de.txt"
                write_lines(SHARED_DATA / "crosslingual" / "multi30k.train.de.tok.gz", path, repeat=5, per_line=12)
            ahead = {"now": args.read_ahead, "before": False}
            for label, tree in trees.items():
                run(tree, path, args.lowercase, ahead[label])  # warm the numba cache and the page cache
            results: dict[str, list[dict]] = {t: [] for t in trees}
            for i in range(args.runs):
                for label, tree in trees.items():
                    r = run(tree, path, args.lowercase, ahead[label])
                    results[label].append(r)
                    print(f"{name} run {i + 1} {label}: {r['wall']:.3f} s wall, {r['cpu']:.3f} s CPU, "
                          f"{r['tokens']:,} tokens, digest {r['digest']}", flush=True)
            digests = {r["digest"] for rs in results.values() for r in rs}
            if len(digests) != 1:
                sys.exit(f"{name}: the trees read different ids: {sorted(digests)}")
            row = {label: {k: round(statistics.median(r[k] for r in rs), 3) for k in ("wall", "cpu")}
                   for label, rs in results.items()}
            row["ratio_wall"] = round(row["now"]["wall"] / row["before"]["wall"], 3)
            row["tokens"] = results["now"][0]["tokens"]
            report["corpora"][name] = row
            print(f"{name}: median wall {row['now']['wall']:.3f} s now, {row['before']['wall']:.3f} s before "
                  f"(x{row['ratio_wall']:.2f}); CPU {row['now']['cpu']:.3f} / {row['before']['cpu']:.3f} s", flush=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
