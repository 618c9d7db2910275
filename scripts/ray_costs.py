#!/usr/bin/env python
"""What a Ray round costs at N workers, counted where it is spent.

Trains on one Ray started in this process with ``num_cpus`` set high enough for N
one-thread workers (the machine has 2 cores: the N actors take turns, so wall times
mean little; CPU seconds per process do not depend on how many processes share the
cores, so they are what is reported). For every round it records:

- the driver's CPU seconds (this process, all threads: issuing 3N calls, the N + N^2
  objects of the train calls, gathering);
- each worker's CPU seconds and its kernels' seconds (from its round stats); the rest
  is its own part of the synchronisation (snapshot, update, shards, apply);
- each reducer's CPU seconds (combining N shards);
- the raylet's and GCS's CPU seconds (the object store and scheduling of this node);
- the bytes every worker sent and read.

    flock /tmp/embedtrain-bench.lock python scripts/ray_costs.py --model skipgram --workers 2 4 8 16 32

Prints one JSON line per N (medians over the rounds, per-round samples of the
workers' kernel seconds for the spread) and writes them to --out. The cost model and
the projection are made from this output by ``scripts/ray_model.py``.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "data" / "corpora" / "enwiki2015-AA.text8style.txt.gz"
TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """utime + stime of process ``pid`` in seconds (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def ray_daemons(gcs_port: str) -> dict[str, int]:
    """The pids of this Ray's raylet and GCS server (found by its GCS port)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        text = b" ".join(cmd).decode(errors="replace")
        if gcs_port not in text:
            continue
        name = os.path.basename(cmd[0].decode(errors="replace"))
        if name in ("raylet", "gcs_server"):
            found[name] = int(entry)
    return found


class Recorder:
    """Wraps RayTraining.round and ._account to record each round's costs."""

    def __init__(self, gcs_port: str):
        self.gcs_port = gcs_port
        self.rounds: list[dict] = []
        self.run = None
        self._stats = None

    def install(self):
        from embedtrain.distributed import executor

        rec = self
        original_round, original_account = executor.RayTraining.round, executor.RayTraining._account

        def round(self, epoch, index):
            if rec.run is not self:
                rec.run = self
                rec.pids = {"worker": self.worker_pids(), "reducer": self.reducer_pids()}
                rec.pids.update({k: [v] for k, v in ray_daemons(rec.gcs_port).items()})
            before = {k: [proc_cpu(p) for p in ps] for k, ps in rec.pids.items()}
            driver, wall, received = self_cpu(), time.perf_counter(), self.sync.bytes_received
            out = original_round(self, epoch, index)
            wall, driver = time.perf_counter() - wall, self_cpu() - driver
            after = {k: [proc_cpu(p) for p in ps] for k, ps in rec.pids.items()}
            cpu = {k: [a - b for a, b in zip(after[k], before[k])] for k in before}
            stats = rec._stats or {}
            rec.rounds.append({
                "wall": wall, "driver_cpu": driver, "cpu": cpu,
                "kernel": [s["kernel_cpu_seconds"] for _, s in sorted(stats.items())],
                "kernel_wall": [s["kernel_seconds"] for _, s in sorted(stats.items())],
                "words": [s["words"] for _, s in sorted(stats.items())],
                "bytes_sent": sum(s["bytes_sent"] for s in stats.values()),
                "bytes_received": self.sync.bytes_received - received,
            })
            return out

        def _account(self, stats, *args, **kwargs):
            rec._stats = dict(stats)
            return original_account(self, stats, *args, **kwargs)

        executor.RayTraining.round, executor.RayTraining._account = round, _account


def summarise(workers: int, rounds: list[dict], model) -> dict:
    """Means per round of each cost (the first round is dropped: warm-up). Means, not
    medians: /proc counts CPU in ticks of 10 ms, finer than a reducer's round."""
    use = rounds[1:] if len(rounds) > 2 else rounds
    med = statistics.median
    mean = statistics.mean

    def per_round(key):
        return mean(sum(r["cpu"].get(key, [0.0])) for r in use)

    worker_rest = mean(mean(c - k for c, k in zip(r["cpu"]["worker"], r["kernel"])) for r in use)
    dist = model.stats.get("distributed", {})
    return {
        "workers": workers,
        "rounds": len(rounds),
        "sync_every": dist.get("sync_every"),
        "sync_protocol": dist.get("sync_protocol"),
        "steps_submitted": dist.get("steps_submitted"),
        "words_per_worker_round": med(statistics.mean(r["words"]) for r in use),
        "wall_round": med(r["wall"] for r in use),
        "driver_cpu_round": mean(r["driver_cpu"] for r in use),
        "worker_cpu_round": mean(mean(r["cpu"]["worker"]) for r in use),
        "worker_kernel_cpu_round": mean(mean(r["kernel"]) for r in use),
        "worker_kernel_wall_round": mean(mean(r["kernel_wall"]) for r in use),
        "worker_sync_cpu_round": worker_rest,
        # none at one worker, nor for GloVe in strata (nothing is combined)
        "reducer_cpu_round": mean(mean(r["cpu"]["reducer"]) for r in use) if use[0]["cpu"]["reducer"] else 0.0,
        "raylet_cpu_round": per_round("raylet"),
        "gcs_cpu_round": per_round("gcs_server"),
        "bytes_sent_round": mean(r["bytes_sent"] for r in use),
        "bytes_received_round": mean(r["bytes_received"] for r in use),
        "kernel_samples": [r["kernel"] for r in use],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="skipgram")
    ap.add_argument("--workers", type=int, nargs="+", default=[2, 4, 8, 16, 32])
    ap.add_argument("--corpus", default=str(CORPUS))
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--set", action="append", default=[], metavar="K=V",
                    help="another training setting, e.g. --set bucket=200000 (JSON values)")
    ap.add_argument("--out", default=None, help="append the JSON lines here too")
    a = ap.parse_args()
    os.environ.setdefault("RAY_worker_niceness", "0")
    import ray

    import embedtrain

    extra = {k: json.loads(v) for k, v in (s.split("=", 1) for s in a.set)}
    ray.init(address="local", num_cpus=max(a.workers) + 2, include_dashboard=False,
             logging_level="WARNING", log_to_driver=False)
    port = ray.get_runtime_context().gcs_address.rsplit(":", 1)[1]
    rec = Recorder(port)
    rec.install()
    try:
        for n in a.workers:
            rec.rounds, rec.run = [], None
            model = embedtrain.train([a.corpus], model=a.model, ray="local", workers=n, threads=1,
                                     seed=1, progress=False, **{"epochs": a.epochs, **extra})
            line = dict(model=a.model, settings=extra, **summarise(n, rec.rounds, model))
            print(json.dumps({k: v for k, v in line.items() if k != "kernel_samples"}), flush=True)
            if a.out:
                with open(a.out, "a") as f:
                    f.write(json.dumps(line) + "\n")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
