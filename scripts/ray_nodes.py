#!/usr/bin/env python
"""Round times of Ray training on a real multi-raylet cluster on this one machine,
against one raylet (`--ray local`) with the same workers: the numbers a cost model of
a round is checked against.

For N in --nodes (2 3 4): a cluster of N raylets of 1 CPU each (a head and N-1 more,
each with its own raylet, object store and worker processes; tests/ray_support.py,
``local_cluster``, on ports 6650-6699 and 10650-10699), and skip-gram on
../shared/data/text8-prefix.gz with --workers N --threads 1 --epochs 1
--no-sync-overlap and each --sync-every (62,500 and 125,000), one `embedtrain train`
process per run joining the cluster by its address; then the same runs on
`--ray local` (one raylet with N CPUs). The machine has 2 cores: from 3 workers on it
is oversubscribed (N workers and N reducers time-slice 2 cores), so round times
measure contention as much as Ray; the objects between raylets still cross their
object stores (shared memory and loopback TCP), not one store.

Printed (and written to --out) as JSON, one object per run (each setting --repeats
times, runs of a cluster back to back): the mode, nodes (raylets), workers, sync_every,
rounds, the per-round records of stats.distributed.per_round (executor.py: round wall
s, slowest worker's kernel s, mean kernel s, sync s, driver calls, objects, bytes),
their medians, the wall time of the process, and the load average before and after
(the machine is shared); and a summary per setting: the medians over the rounds of
all its repeats (a run of one epoch has 5 to 17 rounds here).

    flock /tmp/embedtrain-bench.lock python scripts/ray_nodes.py --out scripts/ray_nodes.out.json
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from benchlib import timed  # noqa: E402
from ray_support import local_cluster  # noqa: E402

CORPUS = ROOT.parent / "shared" / "data" / "text8-prefix.gz"
PORT_BASE, WORKER_PORT_BASE = 6650, 10650      # tests/test_ray_nodes.py uses 6600 and 10600
OBJECT_STORE = 512 * 1024 * 1024               # a node (Cluster's default, 150 MiB, is tight)


def stats_of(etm: Path) -> dict:
    with zipfile.ZipFile(etm) as z:
        return json.loads(z.read("meta.json"))["stats"]


# GloVe (--model glove) trains in strata, its default: no --sync-every, steps of one block
GLOVE = ["--model", "glove", "--window", "10", "--x-max", "10"]


def train(ray: str, workers: int, sync_every: int, tmp: Path, seed: int, model: str = "skipgram",
          epochs: int | None = None) -> dict:
    """One `embedtrain train` process; its stats.distributed and its wall time."""
    prefix = tmp / f"run-{workers}-{sync_every}"
    if model == "glove":
        settings = [*GLOVE, "--epochs", str(epochs or 2)]
    else:
        settings = ["--model", "skipgram", "--sync-every", str(sync_every), "--epochs", "1", "--no-sync-overlap"]
    cmd = [sys.executable, "-m", "embedtrain", "train", str(CORPUS), *settings, "--ray", ray,
           "--workers", str(workers), "--threads", "1", "--seed", str(seed), "-o", str(prefix), "-q"]
    env = dict(os.environ, PYTHONPATH=os.environ.get("PYTHONPATH", str(ROOT)))
    wall, rss, _ = timed(cmd, env=env)
    s = stats_of(Path(str(prefix) + ".etm"))
    return {"process_wall_seconds": round(wall, 2), "driver_rss_mb": round(rss), "stats": s}


def record(mode: str, nodes: int, workers: int, sync_every: int, run: dict, load: tuple) -> dict:
    s = run["stats"]
    d = s["distributed"]
    per = d["per_round"]

    def med(name: str) -> float:
        return round(statistics.median(per[name]), 4)

    # what a worker trains a round: words (one epoch), or GloVe's entry visits (every epoch)
    units = d.get("entries_counted", s["vocab_tokens"]) / (workers * d["rounds"])
    return {"mode": mode, "nodes": nodes, "workers": workers, "sync_every": sync_every,
            "nodes_used": d["nodes"], "rounds": d["rounds"], "vocab_tokens": s["vocab_tokens"],
            "units_per_worker_round": units,
            "median_round_seconds": med("wall_seconds"),
            "median_round_seconds_after_first": round(statistics.median(per["wall_seconds"][1:]), 4)
            if d["rounds"] > 1 else None,
            "median_kernel_max_seconds": med("kernel_max_seconds"),
            "median_kernel_mean_seconds": med("kernel_mean_seconds"),
            "median_sync_seconds": med("sync_seconds"),
            "median_bytes_per_round": int(statistics.median(per["bytes"])),
            "driver_calls_per_round": sorted(set(per["driver_calls"])),
            "objects_per_round": sorted(set(per["objects"])),
            "per_round": per,
            "train_seconds": s["train_seconds"], "read_seconds": s.get("read_seconds"),
            "words_per_second": s["words_per_second"],
            "process_wall_seconds": run["process_wall_seconds"], "driver_rss_mb": run["driver_rss_mb"],
            "restarts": d["restarts"], "load_before": load[0], "load_after": load[1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, nargs="+", default=[2, 3, 4])
    ap.add_argument("--sync-every", type=int, nargs="+", default=[62_500, 125_000])
    ap.add_argument("--modes", nargs="+", default=["nodes", "local"], choices=["nodes", "local"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--model", default="skipgram", choices=["skipgram", "glove"],
                    help="glove: window 10, x-max 10, in strata (--sync-every does not apply)")
    ap.add_argument("--epochs", type=int, default=None, help="glove's epochs (default 2)")
    args = ap.parse_args()
    if args.model == "glove":
        args.sync_every = [0]
    if not CORPUS.exists():
        sys.exit(f"missing corpus {CORPUS}")
    results = []

    def run(mode: str, ray: str, n: int, tmp: Path) -> None:
        for every in args.sync_every:
            for repeat in range(args.repeats):
                before = os.getloadavg()[0]
                out = train(ray, n, every, tmp, args.seed, args.model, args.epochs)
                results.append(dict(record(mode, n if mode == "nodes" else 1, n, every, out,
                                           (before, os.getloadavg()[0])), repeat=repeat))
                line = {k: v for k, v in results[-1].items() if k != "per_round"}
                print(json.dumps(line), flush=True)

    with tempfile.TemporaryDirectory(prefix="etn-", dir="/tmp") as tmp:
        for n in args.nodes:
            if "nodes" in args.modes:
                started = time.perf_counter()
                with local_cluster(n, cpus=1, port_base=PORT_BASE, worker_port_base=WORKER_PORT_BASE,
                                   temp_root=os.path.join(tmp, "ray"), object_store_memory=OBJECT_STORE) as c:
                    print(f"# cluster of {n} raylets at {c.address} up in {time.perf_counter() - started:.1f} s",
                          file=sys.stderr, flush=True)
                    run("nodes", c.address, n, Path(tmp))
            if "local" in args.modes:
                run("local", "local", n, Path(tmp))
    meta = {"corpus": str(CORPUS.relative_to(ROOT.parent)), "cores": os.cpu_count(),
            "note": "2 cores: runs of 3 and 4 workers are oversubscribed (workers and reducers time-slice "
                    "2 cores); the machine is shared, see load_before/load_after",
            "command": "flock /tmp/embedtrain-bench.lock python scripts/ray_nodes.py " + " ".join(sys.argv[1:])}
    table = summary(results)
    for row in table:
        print(json.dumps(row), flush=True)
    if args.out:
        args.out.write_text(json.dumps({"meta": meta, "summary": table, "runs": results}, indent=1) + "\n")


def summary(results: list[dict]) -> list[dict]:
    """Per (mode, nodes, workers, sync_every): medians over the rounds of all its runs."""
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        groups.setdefault((r["mode"], r["nodes"], r["workers"], r["sync_every"]), []).append(r)
    rows = []
    for (mode, nodes, workers, every), runs in groups.items():
        def pooled(name: str, skip_first: bool = False) -> float:
            return round(statistics.median(v for r in runs for v in r["per_round"][name][int(skip_first):]), 4)

        rows.append({"mode": mode, "nodes": nodes, "workers": workers, "sync_every": every, "runs": len(runs),
                     "rounds": sum(r["rounds"] for r in runs),
                     "median_round_seconds": pooled("wall_seconds"),
                     "median_round_seconds_after_first": pooled("wall_seconds", True),
                     "median_kernel_max_seconds": pooled("kernel_max_seconds"),
                     "median_kernel_mean_seconds": pooled("kernel_mean_seconds"),
                     "median_sync_seconds": pooled("sync_seconds"),
                     "median_bytes_per_round": int(pooled("bytes")),
                     "median_train_seconds": statistics.median(r["train_seconds"] for r in runs)})
    return rows


if __name__ == "__main__":
    main()
