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
show overhead and quality. The projection for a cluster (8/32/128 workers on a
10 Gb/s network) uses the measured one-thread compute rate and the measured bytes
per round; the arithmetic is printed and copied into docs/benchmarks.md.

GloVe (``--models glove``): window 10, x_max 10, 15 epochs, dim 100; one process
with 1 thread against ``--ray local`` with 1, 2 and 4 workers of 1 thread. Reported
besides: counting time (one process: counting and merging its tables; Ray: counting
the parts, writing the map files and merging the partitions), the bytes moved
while counting (map files written and read by the merges) and while training
(all syncs), and a projection (:func:`glove_projection`).

    flock /tmp/embedtrain-bench.lock python scripts/bench_ray.py [--seeds 3] [--sweep]
    flock /tmp/embedtrain-bench.lock python scripts/bench_ray.py --models glove --seeds 1
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import zipfile
from pathlib import Path

from benchlib import scores, timed

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "data" / "text8-prefix.gz"
NETWORK_BYTES_PER_S = 10e9 / 8      # 10 Gb/s
PROJECT_WORKERS = (8, 32, 128)

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


def run_one(model: str, extra: list[str], seed: int, tmp: Path, corpus: Path = CORPUS) -> dict:
    prefix = tmp / f"{model}-{seed}"
    cmd = [sys.executable, "-m", "embedtrain", "train", str(corpus), "--model", model, "--dim", "100",
           "--seed", str(seed), "-o", str(prefix), "-q", *MODELS[model], *extra]
    wall, rss, _ = timed(cmd, env=dict(os.environ))
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
    """Ray with one worker against one process with one thread, run after run (same
    seed, next to each other in time): training seconds and wall seconds."""
    one, ray1 = results["one process, 1 thread"], results["Ray, 1 worker"]
    train = [b["train"] / a["train"] for a, b in zip(one, ray1)]
    wall = [b["wall"] / a["wall"] for a, b in zip(one, ray1)]
    startup = [(b["wall"] - b["train"]) - (a["wall"] - a["train"]) for a, b in zip(one, ray1)]
    return [f"Ray with 1 worker / one process with 1 thread, per seed: training time "
            f"{', '.join(f'{x:.2f}' for x in train)} (median {statistics.median(train):.2f}); wall time "
            f"{', '.join(f'{x:.2f}' for x in wall)} (median {statistics.median(wall):.2f}); Ray start-up and "
            f"tokenising in workers add {statistics.median(startup):.1f} s of wall time outside training."]


def model_bytes(model: str, results: dict[str, list[dict]]) -> float:
    """Bytes of every row a round can change, as sent (row id, weight, the delta in the
    run's --sync-dtype): the most any worker can read back per round however many
    workers there are."""
    r = results["one process, 1 thread"][0]
    rows = 2 * r["vocab"] + r["ngram_rows"]          # input and output rows (+ used n-gram rows)
    dtype = next(rows[0]["dtype"] for name, rows in results.items() if name.startswith("Ray, 2 workers"))
    per_value = {"int8": 1, "int16": 2}.get(dtype, 4)
    return rows * (per_value * r["dim"] + (12 if dtype in ("int8", "int16") else 8))


def projection(model: str, results: dict[str, list[dict]]) -> list[str]:
    """Efficiency at N workers = compute / (compute + transfer + fixed) per round.

    compute: the words a worker trains per round at the measured one-worker rate.
    transfer: a worker sends its update U and reads about U of others' rows for the
    shard it combines, then reads the combined rows C: C is at most N x U and at most
    every row the model has (model_bytes). fixed: everything else a round of the
    2-worker run spent beyond the kernels (each actor on its own core, as on a
    cluster), measured: the synchronisation (reducers combining, workers applying) and
    the rest of the training call beyond the slowest worker's kernels (snapshot,
    finding the changed rows, the shards, Ray's call and its results; what the slower
    worker's kernels took longer than the other's is load imbalance between the two
    actors sharing 2 busy cores, not synchronisation); scaled by the bytes a worker
    handles at N workers (2U + C) against 2 workers. The 4-worker runs share 2 cores
    between 4 actors, so their times include waiting for a core and are not used.
    """
    one = results["Ray, 1 worker"]
    two = results["Ray, 2 workers"]
    rate = statistics.median(r["words"] / max(r["compute"], 1e-9) for r in one)
    per_round_bytes2 = med(two, "bytes")            # both workers, sent + received
    u = statistics.median(r["sent"] / 2 for r in two)   # one worker's update
    c2 = per_round_bytes2 / 2 - u                   # what one worker read back at 2 workers
    sync2 = med(two, "sync") / med(two, "rounds")
    own2 = statistics.median((r["compute"] - r["kernel_max"]) / max(r["rounds"], 1) for r in two)
    fixed2 = sync2 + own2
    sync_every = two[0]["sync_every"]
    # the words a worker trained per round (at most --sync-every: an epoch is cut into whole rounds)
    per_round = med(two, "words") / med(two, "rounds") / 2
    cap = model_bytes(model, results)
    lines = [f"{model}: one-worker rate {rate:,.0f} words/s; a round trains {per_round:,.0f} words per "
             f"worker (--sync-every {sync_every:,}); update U = {u / 1e6:.1f} MB per worker and round; "
             f"the whole model is {cap / 1e6:.1f} MB as rows; at 2 workers a round spent {fixed2:.3f} s "
             f"beyond the kernels ({sync2:.3f} s synchronising, {own2:.3f} s in the workers' own part) "
             f"with 2U + C = {(2 * u + c2) / 1e6:.1f} MB per worker (measured).",
             "", "| workers | compute s/round | U MB | C MB | transfer s | fixed s | efficiency |",
             "|---|---|---|---|---|---|---|"]
    for n in PROJECT_WORKERS:
        compute = per_round / rate
        c = min(n * u, cap)
        transfer = (2 * u + c) / NETWORK_BYTES_PER_S
        fixed = fixed2 * (2 * u + c) / max(2 * u + c2, 1.0)
        eff = compute / (compute + transfer + fixed)
        lines.append(f"| {n} | {compute:.2f} | {u / 1e6:.1f} | {c / 1e6:.1f} | {transfer:.3f} | {fixed:.3f} | {eff:.0%} |")
    return lines


def overlap_projection(model: str, results: dict[str, list[dict]], every: int) -> list[str]:
    """Efficiency at N workers with overlapped synchronisation at --sync-every EVERY:
    a round takes max(compute + w, transfer + fixed). compute, transfer and fixed as in
    :func:`projection`, from the synchronous 2-worker run at the same interval (the
    synchronisation, now off the workers' path, must still finish within a round); w
    is what stays on a worker's path: applying the combined rows one round late,
    taking its update, the Ray call, waiting for the slowest worker. w is measured in
    the 2-worker overlapped run (a round's wall time minus the kernels' time; it
    includes the reduce tasks competing for the same 2 cores) and scaled by the bytes
    a worker handles, as fixed is."""
    one = results["Ray, 1 worker"]
    two = results[f"Ray, 2 workers, --sync-every {every:,}"]
    over = results[f"Ray, 2 workers, overlapped, --sync-every {every:,}"]
    rate = statistics.median(r["words"] / max(r["compute"], 1e-9) for r in one)
    u = statistics.median(r["sent"] / 2 for r in two)
    c2 = med(two, "bytes") / 2 - u
    fixed2 = med(two, "sync") / med(two, "rounds")
    w2 = statistics.median((r["compute"] - r["kernel"]) / max(r["rounds"], 1) for r in over)
    inside2 = statistics.median(r["worker_sync"] / max(r["rounds"], 1) for r in over)
    kernel2 = statistics.median(r["kernel"] / max(r["rounds"], 1) for r in over)
    cap = model_bytes(model, results)
    lines = [f"{model}, overlapped, --sync-every {every:,}: U = {u / 1e6:.1f} MB per worker and round; "
             f"synchronous at 2 workers a round's synchronisation took {fixed2:.3f} s with 2U + C = "
             f"{(2 * u + c2) / 1e6:.1f} MB per worker; overlapped at 2 workers a round took "
             f"{kernel2 + w2:.3f} s, of which the kernels {kernel2:.3f} s and the rest w = {w2:.3f} s, "
             f"of which {inside2:.3f} s inside the worker's call (measured). Two projections: w as "
             "measured (2 workers, the reduce tasks and Ray's processes on 2 cores), and w = the "
             "worker's own part only (the reduce tasks on other cores).", "",
             "| workers | compute s/round | transfer + fixed s | w s (all / own) | round s | efficiency (all / own) |",
             "|---|---|---|---|---|---|"]
    for n in PROJECT_WORKERS:
        compute = every / rate
        c = min(n * u, cap)
        scale = (2 * u + c) / max(2 * u + c2, 1.0)
        hidden = (2 * u + c) / NETWORK_BYTES_PER_S + fixed2 * scale
        w_all, w_own = w2 * scale, inside2 * scale
        r_all, r_own = max(compute + w_all, hidden), max(compute + w_own, hidden)
        lines.append(f"| {n} | {compute:.3f} | {hidden:.3f} | {w_all:.3f} / {w_own:.3f} | "
                     f"{r_all:.3f} / {r_own:.3f} | {compute / r_all:.0%} / {compute / r_own:.0%} |")
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


def glove_projection(results: dict[str, list[dict]]) -> list[str]:
    """GloVe at N workers, per phase.

    Counting: the one-worker counting time T_c splits over N workers (each counts
    1/N of the corpus, then merges 1/N of the rows); the map files cross the network
    once: M bytes in all (measured at 4 workers: written plus read, so M/2 cross),
    each worker sending and receiving M/(2N). Training, per round: compute =
    sync_every entry visits at the measured one-worker rate; a worker sends its
    changed rows U (measured at 4 workers) and reads the combined rows C, at most
    N x U and at most every row of the four matrices and their AdaGrad sums (the
    measured union at 4 workers); fixed = measured per-round overhead at 4 workers.
    """
    one = results["Ray, 1 worker"]
    four = results["Ray, 4 workers"]
    t_count = med(one, "count")
    m = med(four, "count_bytes")
    rate = statistics.median(r["entries"] / max(r["compute"], 1e-9) for r in one)
    rounds4 = med(four, "rounds")
    u = med(four, "bytes") / 4 / 2
    cap = max(r["bytes"] for r in four) / 4
    fixed = med(four, "sync") / rounds4
    every = four[0]["sync_every"]
    lines = [f"glove: one-worker counting {t_count:.1f} s; map files at 4 workers {m / 1e6:.0f} MB (written + "
             f"read); one-worker training rate {rate:,.0f} entry visits/s; at 4 workers --sync-every {every:,}, "
             f"U = {u / 1e6:.1f} MB per worker per round, fixed {fixed:.2f} s per round (measured).", "",
             "| workers | counting s (compute + transfer) | counting speed-up | training compute s/round | "
             "C MB | transfer s/round | training efficiency |", "|---|---|---|---|---|---|---|"]
    for n in PROJECT_WORKERS:
        c_count = t_count / n + (m / 2 / n) / NETWORK_BYTES_PER_S * 2
        compute = every / rate
        c = min(n * u, cap)
        transfer = (u + c) / NETWORK_BYTES_PER_S
        eff = compute / (compute + transfer + fixed)
        lines.append(f"| {n} | {c_count:.2f} | {t_count / c_count:.1f}x | {compute:.2f} | {c / 1e6:.1f} | "
                     f"{transfer:.2f} | {eff:.0%} (speed-up {n * eff:.1f}x) |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--models", default="skipgram,fasttext")
    parser.add_argument("--runs", default="",
                        help="only the runs whose names contain one of these comma-separated strings "
                             "(e.g. 'one process,1 worker'; the projection then needs 1 and 4 workers)")
    parser.add_argument("--quick", action="store_true", help="the 2-thread process for seed 1 only")
    parser.add_argument("--extra", nargs="*", default=[], help="more train options for every run")
    parser.add_argument("--corpus", type=Path, default=CORPUS,
                        help="another corpus (e.g. a larger one, to time GloVe's counting)")
    parser.add_argument("--overlap", type=int, default=0, metavar="EVERY",
                        help="also 2 workers synchronous and 2 and 4 overlapped at --sync-every EVERY "
                             "(and the projection with overlap)")
    parser.add_argument("--sweep", action="store_true",
                        help="also 4 workers at several --sync-every (one seed) to choose the default")
    args = parser.parse_args()
    out: list[str] = [f"corpus {args.corpus.name}; {os.cpu_count()} cores; seeds 1..{args.seeds}", ""]
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        for model in args.models.split(","):
            plan = GLOVE_RUNS if model == "glove" else RUNS + (overlap_runs(args.overlap) if args.overlap else [])
            runs = [(name, extra) for name, extra in plan
                    if not args.runs or any(w in name for w in args.runs.split(",") if w)]
            results: dict[str, list[dict]] = {name: [] for name, _ in runs}
            # seeds outside, runs inside: every configuration sees the same load over time
            for seed in range(1, args.seeds + 1):
                for name, extra in runs:
                    if name == "one process, 2 threads" and seed > 1 and args.quick:
                        continue
                    r = run_one(model, extra + args.extra, seed, Path(tmp), args.corpus)
                    r["load"] = os.getloadavg()[0]
                    results[name].append(r)
                    print(f"{model} {name} seed {seed}: {r}", file=sys.stderr, flush=True)
            results = {name: rows for name, rows in results.items() if rows}
            complete = all(k in results for k in ("one process, 1 thread", "Ray, 1 worker", "Ray, 2 workers",
                                                  "Ray, 4 workers"))
            if model == "glove":
                out += [f"### {model}", ""] + glove_table(results) + [""] + \
                    (glove_projection(results) if complete else []) + [""]
            else:
                out += [f"### {model}", ""] + table(results) + [""]
                if complete:
                    out += overhead(results) + [""] + projection(model, results) + [""]
                if args.overlap and all(k in results for k in ("one process, 1 thread", "Ray, 1 worker")) and \
                        all(n in results for n, _ in overlap_runs(args.overlap)[:2]):
                    out += overlap_projection(model, results, args.overlap) + [""]
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
