#!/usr/bin/env python
"""Training on Ray against one process, on ../shared/data/text8-prefix.gz.

Runs, each as its own `embedtrain train` process under /usr/bin/time -v:
one process with 2 threads (and with 1 thread, the like-for-like baseline of one
worker), and `--ray local` with 1, 2 and 4 workers of 1 thread each; for skip-gram
and FastText (dim 100, the defaults otherwise; FastText bucket 2,000,000), over
--seeds seeds. Reported: wall time of the process (Ray start-up included),
training time and words/s (from the model's stats), bytes moved per
synchronisation (all workers: updates sent plus combined shards read), seconds
spent synchronising, questions-words and WordSim-353 (gensim's evaluators, as in
the other benchmarks).

These machines have 2 cores, so more workers cannot be faster here; the numbers
show overhead and quality. What a round costs at 8-128 workers is measured per
process by scripts/ray_costs.py and projected by scripts/ray_model.py (the projection
this script printed borrowed the 2-worker round for every worker count; removed).

GloVe (``--models glove``): window 10, x_max 10, 15 epochs, dim 100; one process
with 1 thread against ``--ray local`` with 1, 2 and 4 workers of 1 thread. Reported
besides: counting time (one process: counting and merging its tables; Ray: counting
the parts, writing the map files and merging the partitions), the bytes moved
while counting (map files written and read by the merges) and while training
(all syncs).

    flock /tmp/embedtrain-bench.lock python scripts/bench_ray.py [--seeds 3] [--sweep]
    flock /tmp/embedtrain-bench.lock python scripts/bench_ray.py --models glove --seeds 1
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import statistics
import sys
import tempfile
import zipfile
from pathlib import Path

from benchlib import scores, timed

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "data" / "text8-prefix.gz"

MODELS = {"skipgram": [], "fasttext": ["--bucket", "2000000"],
          "glove": ["--window", "10", "--x-max", "10", "--epochs", "15"]}
RUNS = [("one process, 2 threads", ["--threads", "2"]),
        ("one process, 1 thread", ["--threads", "1"]),
        ("Ray, 1 worker", ["--ray", "local", "--workers", "1", "--threads", "1"]),
        ("Ray, 2 workers", ["--ray", "local", "--workers", "2", "--threads", "1", "--no-sync-overlap"]),
        ("Ray, 4 workers", ["--ray", "local", "--workers", "4", "--threads", "1", "--no-sync-overlap"])]


def overlap_runs(every: int) -> list[tuple[str, list[str]]]:
    """--overlap: 2 workers synchronous and 2 and 4 overlapped (round r combined while r+1
    trains), all at --sync-every EVERY (overlap makes replicas one round staler, so it is
    compared at a shorter interval; the synchronous run gives its sync time and bytes)."""
    ray = ["--ray", "local", "--threads", "1", "--sync-every", str(every)]
    return [(f"Ray, 2 workers, --sync-every {every:,}", [*ray, "--workers", "2", "--no-sync-overlap"]),
            (f"Ray, 2 workers, overlapped, --sync-every {every:,}", [*ray, "--workers", "2", "--sync-overlap"]),
            (f"Ray, 4 workers, overlapped, --sync-every {every:,}", [*ray, "--workers", "4", "--sync-overlap"])]


GLOVE_RUNS = [(name, [x for x in extra if x != "--no-sync-overlap"]) for name, extra in RUNS
              if name != "one process, 2 threads"]


def stats_of(etm: Path) -> dict:
    with zipfile.ZipFile(etm) as z:
        return json.loads(z.read("meta.json"))["stats"]


RUNNING_RAY = "Ray, 1 worker, a running Ray (--ray auto)"
RUNNING_PORT = 6489


@contextlib.contextmanager
def running_ray(tmp: Path):
    """A Ray started once with `ray start` (what --ray auto joins), for the runs that
    reuse it; its processes are ended by pid at the end (`ray stop` would end every Ray
    on the machine). Yields the environment that makes a run join it."""
    temp = tmp / "ray-running"
    env = dict(os.environ, RAY_worker_niceness="0")
    subprocess.run(["ray", "start", "--head", "--port", str(RUNNING_PORT), "--num-cpus", "2",
                    "--include-dashboard", "false", "--temp-dir", str(temp), "--disable-usage-stats"],
                   check=True, capture_output=True, env=env)
    try:
        yield dict(os.environ, RAY_ADDRESS=f"127.0.0.1:{RUNNING_PORT}", RAY_AUTH_MODE="token")
    finally:
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if str(temp).encode() in cmdline or f":{RUNNING_PORT}".encode() in cmdline:
                    with contextlib.suppress(OSError):
                        os.kill(int(pid), signal.SIGTERM)


def run_one(model: str, extra: list[str], seed: int, tmp: Path, corpus: Path = CORPUS, env=None) -> dict:
    prefix = tmp / f"{model}-{seed}"
    cmd = [sys.executable, "-m", "embedtrain", "train", str(corpus), "--model", model, "--dim", "100",
           "--seed", str(seed), "-o", str(prefix), "-q", *MODELS[model], *extra]
    wall, rss, _ = timed(cmd, env=env or dict(os.environ))
    s = stats_of(Path(str(prefix) + ".etm"))
    analogy, ws = scores(Path(str(prefix) + ".vec"))
    d = s.get("distributed", {})
    with open(str(prefix) + ".vec", encoding="utf-8") as f:
        vocab, dim = (int(x) for x in f.readline().split())
    return {"wall": wall, "rss": rss, "train": s["train_seconds"], "wps": s["words_per_second"],
            "analogy": analogy, "ws": ws, "bytes": d.get("bytes_per_sync", 0),
            "sync": d.get("sync_seconds", 0.0), "compute": d.get("compute_seconds", 0.0),
            "kernel": d.get("kernel_seconds", 0.0), "kernel_max": d.get("kernel_max_seconds", 0.0),
            "overlap": d.get("sync_overlap", False),
            "worker_sync": d.get("worker_sync_seconds", 0.0),
            "rounds": d.get("rounds", 0), "words": s["words_trained"], "workers": d.get("workers", 0),
            "sync_every": d.get("sync_every", 0), "sent": d.get("bytes_sent_per_sync", 0),
            "dtype": d.get("sync_dtype", "float32"),
            "vocab": vocab, "dim": dim, "ngram_rows": s.get("ngram_rows_stored", 0),
            # GloVe: counting, and entry visits (the unit of its --sync-every)
            "count": s.get("count_seconds", 0.0) + s.get("map_seconds", 0.0) + s.get("merge_seconds", 0.0),
            "counter": d.get("counter_seconds", s.get("count_seconds", 0.0) + s.get("merge_seconds", 0.0)),
            "fit": s.get("fit_seconds", 0.0), "entries": d.get("entries_counted", 0),
            "count_bytes": d.get("count_bytes_moved", 0), "nnz": s.get("nonzero_entries", 0)}


def med(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def spread(rows: list[dict], key: str) -> str:
    """Mean ± spread over the seeds (the scores' columns)."""
    values = [r[key] for r in rows]
    return f"{statistics.mean(values):.3f} ± {statistics.pstdev(values):.3f}"


def table(results: dict[str, list[dict]]) -> list[str]:
    lines = ["| run | wall s | train s | words/s | MB per sync | sync s | analogy | WS-353 | load |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, rows in results.items():
        if not rows:
            continue
        lines.append(f"| {name} | {med(rows, 'wall'):.1f} | {med(rows, 'train'):.1f} | {med(rows, 'wps'):,.0f} | "
                     f"{med(rows, 'bytes') / 1e6:.1f} | {med(rows, 'sync'):.2f} | "
                     f"{spread(rows, 'analogy')} | {spread(rows, 'ws')} | "
                     f"{statistics.median(r.get('load', 0) for r in rows):.1f} |")
    return lines


def overhead(results: dict[str, list[dict]]) -> list[str]:
    """Ray with one worker (a Ray of its own, and one started before if measured)
    against one process with one thread, run after run (same seed, next to each other
    in time): training seconds and wall seconds."""
    lines = []
    one = results["one process, 1 thread"]
    for name in ("Ray, 1 worker", RUNNING_RAY):
        ray1 = results.get(name)
        if not ray1:
            continue
        train = [b["train"] / a["train"] for a, b in zip(one, ray1)]
        wall = [b["wall"] / a["wall"] for a, b in zip(one, ray1)]
        startup = [(b["wall"] - b["train"]) - (a["wall"] - a["train"]) for a, b in zip(one, ray1)]
        lines.append(f"{name} / one process with 1 thread, per seed: training time "
                     f"{', '.join(f'{x:.2f}' for x in train)} (median {statistics.median(train):.2f}); wall time "
                     f"{', '.join(f'{x:.2f}' for x in wall)} (median {statistics.median(wall):.2f}); outside "
                     f"training it adds {statistics.median(startup):.1f} s of wall time (median).")
    return lines


def glove_table(results: dict[str, list[dict]]) -> list[str]:
    lines = ["| run | wall s | counting s | counter alone s | training s | MB moved counting | "
             "MB moved training | analogy | WS-353 |", "|---|---|---|---|---|---|---|---|---|"]
    for name, rows in results.items():
        lines.append(f"| {name} | {med(rows, 'wall'):.1f} | {med(rows, 'count'):.1f} | {med(rows, 'counter'):.1f} | "
                     f"{med(rows, 'fit'):.1f} | "
                     f"{med(rows, 'count_bytes') / 1e6:.0f} | {med(rows, 'bytes') * med(rows, 'rounds') / 1e6:.0f} | "
                     f"{spread(rows, 'analogy')} | {spread(rows, 'ws')} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--models", default="skipgram,fasttext")
    parser.add_argument("--runs", default="",
                        help="only the runs whose names contain one of these comma-separated strings "
                             "(e.g. 'one process,1 worker')")
    parser.add_argument("--quick", action="store_true", help="the 2-thread process for seed 1 only")
    parser.add_argument("--extra", nargs="*", default=[], help="more train options for every run")
    parser.add_argument("--corpus", type=Path, default=CORPUS,
                        help="another corpus (e.g. a larger one, to time GloVe's counting)")
    parser.add_argument("--overlap", type=int, default=0, metavar="EVERY",
                        help="also 2 workers synchronous and 2 and 4 overlapped at --sync-every EVERY "
                             "")
    parser.add_argument("--running-ray", action="store_true",
                        help=f"also '{RUNNING_RAY}': one worker on a Ray started once with `ray start` "
                             "(Ray's start-up paid once, not per run)")
    parser.add_argument("--sweep", action="store_true",
                        help="also 4 workers at several --sync-every (one seed) to choose the default")
    args = parser.parse_args()
    out: list[str] = [f"corpus {args.corpus.name}; {os.cpu_count()} cores; seeds 1..{args.seeds}", ""]
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp, contextlib.ExitStack() as stack:
        joined = stack.enter_context(running_ray(Path(tmp))) if args.running_ray else None
        for model in args.models.split(","):
            plan = GLOVE_RUNS if model == "glove" else RUNS + (overlap_runs(args.overlap) if args.overlap else [])
            if joined:
                plan = plan + [(RUNNING_RAY, ["--ray", "auto", "--workers", "1", "--threads", "1"])]
            runs = [(name, extra) for name, extra in plan
                    if not args.runs or any(w in name for w in args.runs.split(",") if w)]
            results: dict[str, list[dict]] = {name: [] for name, _ in runs}
            # seeds outside, runs inside: every configuration sees the same load over time
            for seed in range(1, args.seeds + 1):
                for name, extra in runs:
                    if name == "one process, 2 threads" and seed > 1 and args.quick:
                        continue
                    r = run_one(model, extra + args.extra, seed, Path(tmp), args.corpus,
                                env=joined if name == RUNNING_RAY else None)
                    r["load"] = os.getloadavg()[0]
                    results[name].append(r)
                    print(f"{model} {name} seed {seed}: {r}", file=sys.stderr, flush=True)
            results = {name: rows for name, rows in results.items() if rows}
            complete = all(k in results for k in ("one process, 1 thread", "Ray, 1 worker"))
            if model == "glove":
                out += [f"### {model}", ""] + glove_table(results) + [""]
            else:
                out += [f"### {model}", ""] + table(results) + [""]
                if complete:
                    out += overhead(results) + [""]
            if args.sweep:
                sweep = {}
                for every in (50_000, 125_000, 250_000, 1_000_000):
                    extra = ["--ray", "local", "--workers", "4", "--threads", "1", "--sync-every", str(every)]
                    sweep[f"4 workers, --sync-every {every:,}"] = [
                        run_one(model, extra, seed, Path(tmp)) for seed in range(1, args.seeds + 1)]
                    print(f"{model} sweep {every}: {sweep[f'4 workers, --sync-every {every:,}']}",
                          file=sys.stderr, flush=True)
                out += table(sweep) + [""]
            print("\n".join(out), flush=True)
    print("\n".join(out))


if __name__ == "__main__":
    main()
