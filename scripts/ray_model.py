#!/usr/bin/env python
"""A Ray round's time at N workers, from what scripts/ray_costs.py measured, and the
efficiency it projects at 8, 32 and 128 workers.

One worker per node, one thread each; a synchronous round is the sum of its steps,
each taken by the process that is on the round's path:

    round(N) = compute(N) x spread(N)     the slowest worker's kernels
             + worker(N)                  a worker's own synchronisation (masses, snapshot,
                                          changed rows, shards, applying the combined rows)
             + reducer(N)                 combining one shard of N workers
             + driver(N)                  the driver: 3N calls, N + N^2 objects, gathering
             + raylet(N) / N              the object store's work, spread over N nodes
             + bytes(N) / N / bandwidth   a node's share of the bytes, over the network: the
                                          larger of the bytes sent and read (a link is full
                                          duplex; --half-duplex: their sum)

A run that submits its steps ahead (GloVe in strata: an epoch's steps at its first
round, each taking its context rows as the reference the step before returns) has
the driver off that path: the driver issues and gathers while the workers train, and
a step takes the longer of the two:

    round(N) = max(driver(N), everything else above)

All terms but bytes are CPU seconds measured per process (not wall time: on 2 cores N
actors take turns, but a process's CPU seconds do not depend on that); ``spread(N)``
is the expected slowest of N draws of a worker's kernel time over the round's mean,
drawn from the measured rounds. Compute at a worker count not measured is the
family's default words per round there (``Family.default_sync_every``) at the nearest
measured count's rate. Between measured worker counts the other terms are interpolated
in log-log; beyond them (128) extrapolated from the last two (a power law: the raylet's
work grows about as N^1.4, the driver's about as N). Efficiency = compute(N) /
round(N): the fraction of one-thread speed each worker keeps.

    python scripts/ray_model.py COSTS.jsonl [--bandwidth-gbit 10] [--at 8 32 128]
    python scripts/ray_model.py COSTS.jsonl --check NODES.json   # against a multi-raylet run
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from embedtrain.families import family_of  # noqa: E402

TERMS = ("driver_cpu_round", "worker_sync_cpu_round", "reducer_cpu_round", "raylet_cpu_round",
         "bytes_sent_round", "bytes_received_round")


def load(path: str) -> dict[int, dict]:
    rows = [json.loads(line) for line in open(path) if line.strip()]
    return {r["workers"]: r for r in rows}


def at(points: dict[int, float], n: int) -> float:
    """``points`` (workers -> value) at ``n``: log-log interpolation, or extrapolation from
    the two nearest measured counts."""
    xs = sorted(k for k, v in points.items() if v > 0)
    if not xs:
        return 0.0
    if n in points:
        return points[n]
    if len(xs) == 1:
        return points[xs[0]]
    lo = max([x for x in xs if x < n] or xs[:1])
    hi = min([x for x in xs if x > n] or xs[-1:])
    if lo == hi:  # outside: the two nearest
        lo, hi = (xs[0], xs[1]) if n < xs[0] else (xs[-2], xs[-1])
    slope = math.log(points[hi] / points[lo]) / math.log(hi / lo)
    return points[lo] * (n / lo) ** slope


def spread(samples: list[list[float]], n: int, draws: int = 2000, seed: int = 1) -> float:
    """E[max of n draws] / mean, the draws being a worker's kernel time over its round's
    mean, pooled over all measured rounds and worker counts."""
    ratios = [k / statistics.mean(r) for r in samples for k in r if statistics.mean(r) > 0]
    if not ratios:
        return 1.0
    rng = random.Random(seed)
    return statistics.mean(max(rng.choice(ratios) for _ in range(n)) for _ in range(draws))


def project(costs: dict[int, dict], n: int, bandwidth: float, compute: float | None = None,
            half_duplex: bool = False, default_rounds: bool = False) -> dict:
    """The terms of round(n) in seconds. ``compute``: the round's kernel seconds (default:
    the measured round's at a measured count, else the family's default words per round at
    n at the nearest measured rate; ``default_rounds``: the latter at measured counts too,
    for rounds whose default changed since they were measured)."""
    pooled = [s for c in costs.values() for s in c.get("kernel_samples", [])]
    if compute is None and n in costs and not default_rounds:
        compute = costs[n]["worker_kernel_cpu_round"]
    if compute is None:  # the default words per round at n, at the nearest measured rate
        near = min(costs, key=lambda w: abs(math.log(w / n)))
        rate = costs[near]["worker_kernel_cpu_round"] / costs[near]["words_per_worker_round"]
        if str(costs[near].get("sync_protocol", "")).startswith("strata"):
            # GloVe in strata: a step is one block, 1 / n^2 of an epoch's entry visits
            compute = rate * costs[near]["words_per_worker_round"] * near ** 2 / n ** 2
        else:
            compute = rate * family_of(costs[near]["model"]).default_sync_every(n, costs[near]["model"])
    kernel = compute
    t = {name: at({w: c[name] for w, c in costs.items()}, n) for name in TERMS}
    parts = {
        "compute": kernel,
        "spread": kernel * (spread(pooled, n) - 1.0),
        "worker": t["worker_sync_cpu_round"],
        "reducer": t["reducer_cpu_round"] if n > 1 else 0.0,
        "driver": t["driver_cpu_round"],
        "raylet": t["raylet_cpu_round"] / n,
        "network": ((t["bytes_sent_round"] + t["bytes_received_round"]) if half_duplex else
                    max(t["bytes_sent_round"], t["bytes_received_round"])) / n / bandwidth,
    }
    ahead = any(c.get("steps_submitted") for c in costs.values())
    parts["round"] = max(parts["driver"], sum(v for k, v in parts.items() if k != "driver")) if ahead \
        else sum(parts.values())
    parts["efficiency"] = parts["compute"] / parts["round"]
    return parts


RATES = {"gbit": 1e9 / 8, "mbit": 1e6 / 8}
TEXT8_PREFIX_TOKENS = 2_046_942  # the vocabulary's tokens in ../shared/data/text8-prefix.gz (min-count 5)


def _settings(path: str):
    """(summary, words per worker and round, link bytes/s or None) for each setting of
    scripts/ray_nodes.py's JSON or scripts/ray_netns.sh's JSON lines."""
    text = open(path).read()
    if path.endswith(".jsonl"):
        for line in text.splitlines():
            if line.strip():
                r = json.loads(line)
                unit = next((u for u in RATES if r["rate"].endswith(u)), None)
                link = float(r["rate"][:-len(unit)]) * RATES[unit] if unit else None
                yield r, TEXT8_PREFIX_TOKENS / (r["workers"] * r["rounds"]), link
        return
    d = json.loads(text)
    for m in d["summary"]:
        runs = [r for r in d["runs"] if (r["mode"], r["workers"], r["sync_every"]) == (m["mode"], m["workers"], m["sync_every"])]
        yield m, statistics.median(r.get("units_per_worker_round", r["vocab_tokens"] / (r["workers"] * r["rounds"]))
                                   for r in runs), None


def check(costs: dict[int, dict], nodes_path: str, bandwidth: float, cores: int,
          half_duplex: bool = False) -> list[dict]:
    """The model's round time against the rounds measured on a multi-raylet cluster
    (scripts/ray_nodes.py): for each setting, the path above with the run's own words per
    worker and round at the measured kernel rate, and, because the check runs N nodes on
    ``cores`` cores, never less than all the processes' CPU seconds of a round over the
    cores (N workers' kernels and own part, N reducers, the driver, the raylets)."""
    rows = []
    for m, words, link in _settings(nodes_path):
        n = m["workers"]
        near = min(costs, key=lambda w: abs(math.log(w / n)))
        rate = costs[near]["worker_kernel_cpu_round"] / costs[near]["words_per_worker_round"]
        p = project(costs, n, link or bandwidth, compute=rate * words, half_duplex=half_duplex)
        cpu = (n * (p["compute"] + p["worker"] + p["reducer"]) + p["driver"] + p["raylet"] * n)
        predicted = max(p["round"], cpu / cores)
        measured = m.get("median_round_seconds_after_first") or m["median_round_seconds"]
        rows.append(dict(mode=m["mode"], rate=m.get("rate", "-"), nodes=m["nodes"], workers=n,
                         sync_every=m["sync_every"],
                         words=round(words), path=round(p["round"], 4), cpu_over_cores=round(cpu / cores, 4),
                         predicted=round(predicted, 4), measured=measured,
                         error=round(predicted / measured - 1, 3)))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("costs", nargs="+", help="ray_costs.py output (one file per model)")
    ap.add_argument("--bandwidth-gbit", type=float, default=10.0)
    ap.add_argument("--at", type=int, nargs="+", default=[8, 32, 128])
    ap.add_argument("--markdown", action="store_true", help="print the docs' table")
    ap.add_argument("--check", metavar="NODES.json", help="compare with scripts/ray_nodes.py's rounds")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1,
                    help="cores the --check cluster shared (default: this machine's)")
    ap.add_argument("--half-duplex", action="store_true", help="sent and read bytes share the link")
    ap.add_argument("--default-rounds", action="store_true",
                    help="compute at today's default words per round, at the measured rate, also where "
                         "the rounds were measured at another --sync-every (the other terms as measured)")
    a = ap.parse_args()
    bandwidth = a.bandwidth_gbit * 1e9 / 8
    if a.check:
        for row in check(load(a.costs[0]), a.check, bandwidth, a.cores, a.half_duplex):
            if a.markdown:
                every = f"{row['sync_every']:,}" if row["sync_every"] else "strata"
                print(f"| {row['mode']} | {row['rate']} | {row['workers']} | {every} | "
                      f"{row['path'] * 1000:.0f} | "
                      f"{row['cpu_over_cores'] * 1000:.0f} | {row['predicted'] * 1000:.0f} | "
                      f"{row['measured'] * 1000:.0f} | {row['error']:+.0%} |")
            else:
                print(json.dumps(row))
        return
    for path in a.costs:
        costs = load(path)
        model = next(iter(costs.values()))["model"]
        for n in a.at:
            p = project(costs, n, bandwidth, half_duplex=a.half_duplex, default_rounds=a.default_rounds)
            if a.markdown:
                ms = {k: f"{v * 1000:.0f}" for k, v in p.items() if k != "efficiency"}
                shown = n if n in costs else f"{n} (extrapolated)"
                print(f"| {model} | {shown} | {ms['compute']} | {ms['spread']} | {ms['worker']} | {ms['reducer']} | "
                      f"{ms['driver']} | {ms['raylet']} | {ms['network']} | {ms['round']} | "
                      f"{p['efficiency']:.0%} |")
            else:
                print(json.dumps(dict(model=model, workers=n, measured=n in costs,
                                      **{k: round(v, 4) for k, v in p.items()})))


if __name__ == "__main__":
    main()
