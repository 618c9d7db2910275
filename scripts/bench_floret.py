#!/usr/bin/env python
"""floret tables against full FastText: size and scores, embedtrain and the floret package.

All runs train skip-gram on ../shared/data/text8-prefix.gz (decompressed once to a temp
file as lines of 1,000 tokens) with bench_fasttext.py's settings: dim 100, window 5,
negative 5, 5 epochs, min-count 5, minn 3, maxn 6, t 1e-4, lr 0.05, 2 threads.

- ``fasttext``: embedtrain's full FastText (a row per word plus 2,000,000 n-gram buckets);
- ``floret BxH``: embedtrain ``--floret --bucket B --hash-count H`` (one table of B rows);
- ``floret package BxH thread T`` (``--floret-package``): the floret binary's
  ``train_unsupervised(mode="floret", hashCount=H, bucket=B, thread=T)``, its .vec from
  ``save_vectors``. fastText 0.9 (so floret) initialises only the first T/10 of its input
  matrix (DenseMatrix::uniform) and leaves the rest zero; in floret mode that first part is
  mostly the unused word rows, so at 2 threads nearly every table row starts at zero:
  ``--floret-package-threads 10`` fills it all (at the cost of 10 threads on 2 cores).

Per seed, the tools run interleaved, each as its own process under /usr/bin/time -v (wall
time and peak RSS of the whole process). Scores: ``embedtrain eval PREFIX.vec --json``
(questions-words 3CosAdd over the 30,000 most frequent words, WordSim-353 Spearman; case
ignored) on each tool's .vec, so every tool is scored on its vocabulary words the same
way. Sizes: the table that gives ANY word a vector (fastText's .bin input matrix:
(V + bucket) x dim float32; floret: bucket x dim float32, what spaCy loads) and the .etm.
Seeds 1..--seeds for fasttext and the first floret setting; the other floret settings
and the floret package run with seed 1 only (--all-seeds runs every setting on every seed).

    flock /tmp/embedtrain-bench.lock python scripts/bench_floret.py [--seeds 3] \
        [--floret 50000x2 --floret 100000x2 --floret 200000x2] [--floret-package] \
        [--json scripts/bench_floret.out.json]

The machine is shared and noisy: wall times are indicative; the scores are the point.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import timed, write_lines

ROOT = Path(__file__).resolve().parent.parent
# ../shared/data beside the checkout (or beside the directory of worktrees)
DATA = next((p / "shared" / "data" for p in ROOT.parents if (p / "shared" / "data").is_dir()),
            ROOT.parent / "shared" / "data")
CORPUS = DATA / "text8-prefix.gz"
LINE_TOKENS = 1000
FLOAT_BYTES = 4

SETTINGS = dict(dim=100, window=5, negative=5, epochs=5, min_count=5, minn=3, maxn=6,
                sample=1e-4, lr=0.05, threads=2)
FULL_BUCKET = 2_000_000

FLORET_SCRIPT = """
import sys, floret
corpus, prefix, bucket, hashes, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
s = {settings!r}
m = floret.train_unsupervised(corpus, model="skipgram", mode="floret", hashCount=hashes, bucket=bucket,
        dim=s["dim"], ws=s["window"], neg=s["negative"], epoch=s["epochs"], minCount=s["min_count"],
        minn=s["minn"], maxn=s["maxn"], t=s["sample"], lr=s["lr"], thread=threads, verbose=0)
m.save_vectors(prefix + ".vec")
"""


def evaluate(vec: Path) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-m", "embedtrain", "eval", str(vec), "--json", "-q"],
                         capture_output=True, text=True, check=True).stdout
    results = {r["dataset"]: r for r in json.loads(out)["results"]}
    return results["questions-words"]["accuracy"], results["wordsim353"]["spearman"]


def vocab_size(vec: Path) -> int:
    with open(vec, encoding="utf-8") as f:
        return int(f.readline().split()[0])


def run_embedtrain(corpus: Path, prefix: Path, seed: int, bucket: int, hashes: int | None,
                   extra: list[str] = ()) -> dict:
    cmd = [sys.executable, "-m", "embedtrain", "train", str(corpus), "--model", "fasttext",
           "--arch", "skipgram", "-o", str(prefix), "-q", "--seed", str(seed),
           "--max-line-tokens", str(LINE_TOKENS), "--bucket", str(bucket)]
    for key, value in SETTINGS.items():
        cmd += ["--" + key.replace("_", "-"), str(value)]
    if hashes:
        cmd += ["--floret", "--hash-count", str(hashes), *extra]
    wall, rss, _ = timed(cmd)
    vec = prefix.with_suffix(".vec")
    analogy, wordsim = evaluate(vec)
    v = vocab_size(vec)
    table_rows = bucket if hashes else v + bucket
    return {"wall": wall, "rss_mb": rss, "analogy": analogy, "wordsim": wordsim, "vocab": v,
            "table_mb": table_rows * SETTINGS["dim"] * FLOAT_BYTES / 1e6,
            "etm_mb": prefix.with_suffix(".etm").stat().st_size / 1e6}


def run_floret_package(corpus: Path, prefix: Path, seed: int, bucket: int, hashes: int, threads: int) -> dict:
    script = FLORET_SCRIPT.format(settings=SETTINGS)
    wall, rss, _ = timed([sys.executable, "-c", script, str(corpus), str(prefix), str(bucket), str(hashes),
                          str(threads)])
    vec = prefix.with_suffix(".vec")
    analogy, wordsim = evaluate(vec)
    return {"wall": wall, "rss_mb": rss, "analogy": analogy, "wordsim": wordsim, "vocab": vocab_size(vec),
            "table_mb": bucket * SETTINGS["dim"] * FLOAT_BYTES / 1e6, "etm_mb": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--floret", action="append", default=None, metavar="'BUCKETxHASHES [OPTIONS]'",
                        help="an embedtrain floret setting, with extra train options (repeatable) "
                             "[default: 50000x2]")
    parser.add_argument("--floret-package", action="store_true",
                        help="also the floret package at the first floret setting (seed 1)")
    parser.add_argument("--floret-package-threads", type=int, default=SETTINGS["threads"],
                        help="the floret package's threads (fastText 0.9 initialises only the first "
                             "threads/10 of its input matrix: 10 or more fill it all)")
    parser.add_argument("--all-seeds", action="store_true", help="every setting on every seed")
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument("--tmp-dir", default=None)
    args = parser.parse_args()
    florets = []
    for setting in args.floret or ["50000x2"]:
        size, *extra = setting.split()
        bucket, hashes = (int(x) for x in size.lower().split("x"))
        florets.append((bucket, hashes, extra))
    if not CORPUS.exists():
        sys.exit(f"missing {CORPUS}")

    runners = {"fasttext": (lambda c, p, s: run_embedtrain(c, p, s, FULL_BUCKET, None), True)}
    for i, (bucket, hashes, extra) in enumerate(florets):
        runners[" ".join([f"floret {bucket}x{hashes}", *extra])] = (
            lambda c, p, s, b=bucket, h=hashes, e=extra: run_embedtrain(c, p, s, b, h, e), i == 0)
    if args.floret_package:
        import floret  # noqa: F401  (fail before any run when it is missing)

        bucket, hashes, _ = florets[0]
        threads = args.floret_package_threads
        runners[f"floret package {bucket}x{hashes} thread {threads}"] = (
            lambda c, p, s, b=bucket, h=hashes, t=threads: run_floret_package(c, p, s, b, h, t), False)

    results: dict[str, list[dict]] = {name: [] for name in runners}
    with tempfile.TemporaryDirectory(dir=args.tmp_dir) as tmp_name:
        tmp = Path(tmp_name)
        corpus = tmp / "text8-prefix-lines.txt"
        write_lines(CORPUS, corpus, per_line=LINE_TOKENS)
        # compile (or load from cache) the kernels outside the timed runs, at the runs' dim (the
        # training kernel is compiled for its rows' length)
        warm = tmp / "warm.txt"
        warm.write_text("a b c d e f g a b c\n" * 20)
        for extra in ([], ["--floret"]):
            subprocess.run([sys.executable, "-m", "embedtrain", "train", str(warm), "--model", "fasttext",
                            "--min-count", "1", "--bucket", "1000", "--dim", str(SETTINGS["dim"]), "--epochs", "1", "-q",
                            "-o", str(tmp / "warm"), *extra], check=True)
        header = (f"{'tool':<34}{'seed':>5}{'wall s':>8}{'RSS MB':>8}{'table MB':>10}{'etm MB':>8}"
                  f"{'questions-words':>17}{'WordSim-353':>13}")
        print(f"corpus {CORPUS.name}; " + ", ".join(f"{k} {v}" for k, v in SETTINGS.items()))
        print(header + "\n" + "-" * len(header), flush=True)
        for seed in range(1, args.seeds + 1):
            for number, (name, (runner, every_seed)) in enumerate(runners.items()):
                if seed > 1 and not (every_seed or args.all_seeds):
                    continue
                prefix = tmp / f"run{number}-{seed}"
                r = runner(corpus, prefix, seed)
                r["seed"] = seed
                results[name].append(r)
                etm = "" if r["etm_mb"] is None else f"{r['etm_mb']:.0f}"
                print(f"{name:<34}{seed:>5}{r['wall']:>8.1f}{r['rss_mb']:>8.0f}{r['table_mb']:>10.0f}"
                      f"{etm:>8}{r['analogy']:>17.3f}{r['wordsim']:>13.3f}", flush=True)
                for ext in (".vec", ".etm", ".bin"):
                    prefix.with_suffix(ext).unlink(missing_ok=True)

    summary = {}
    base = results["fasttext"]
    for name, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in ("wall", "rss_mb", "analogy", "wordsim")}
        med.update(runs=len(runs), table_mb=runs[0]["table_mb"])
        med["analogy_vs_fasttext"] = med["analogy"] - statistics.median(r["analogy"] for r in base)
        med["wordsim_vs_fasttext"] = med["wordsim"] - statistics.median(r["wordsim"] for r in base)
        summary[name] = med
    print("\nmedians (difference from embedtrain's full FastText):")
    for name, m in summary.items():
        print(f"{name:<34} runs {m['runs']}  wall {m['wall']:.1f} s  table {m['table_mb']:.0f} MB  "
              f"questions-words {m['analogy']:.3f} ({m['analogy_vs_fasttext']:+.3f})  "
              f"WordSim-353 {m['wordsim']:.3f} ({m['wordsim_vs_fasttext']:+.3f})")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "command": "flock /tmp/embedtrain-bench.lock python scripts/bench_floret.py " + " ".join(sys.argv[1:]),
            "corpus": CORPUS.name, "settings": SETTINGS, "full_bucket": FULL_BUCKET,
            "runs": results, "medians": summary}, indent=1) + "\n")


if __name__ == "__main__":
    main()
