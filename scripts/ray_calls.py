#!/usr/bin/env python
"""What Ray's calls and objects cost the driver, apart from the training: the driver's
CPU seconds per round of the synchronous protocol with N actors that do nothing.

    flock /tmp/embedtrain-bench.lock python scripts/ray_calls.py [--workers 4 16 32]

Two rounds, timed as the driver's CPU seconds (this process, all threads):

- ``protocol``: what executor.RayTraining.round issues: N calls returning N + 1
  objects each (the stats and one shard per reducer), a get of the N stats, N reducer
  calls taking N shard references each, a get of their results (the apply calls,
  N more with N references each, are not included: the ``plain`` round prices calls);
- ``plain``: N calls returning one object each, and a get.

The difference over the references passed (2 N^2) is the cost of one object reference;
``plain`` / N the cost of one call. ``--variants`` times two other ways of moving the
shards (the driver's CPU for the same round's train and reduce steps): each worker
``ray.put``s its N shards and returns their references, or keeps them and each reducer
pulls its shard from every worker through the actor handles passed with its call. Shards of ``--bytes`` each (below Ray's 100 KiB
inline limit they travel inside the messages).

``--path MS`` times instead what the driver puts on a round's path (wall seconds),
with workers whose train call sleeps MS milliseconds (compute that takes no CPU, so
that N actors on 2 cores do not queue for it), for the three steps a synchronous
round issues (train, reduce, apply), submitted two ways, alternating round by round:

- ``gathered``: the train calls, a get of the N stats, then the reducer and apply
  calls, and a get of the applies (what the executor does);
- ``ahead``: the train, reducer and apply calls at once, then the gets (tried in the
  executor on 2026-12-07 and not kept: docs/ray.md).

It prints the median round's wall time beyond MS (the path the driver and Ray add)
and the driver's CPU seconds per round, for each way.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[4, 16, 32])
    ap.add_argument("--bytes", type=int, nargs="+", default=[1000, 200_000])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--variants", action="store_true",
                    help="also the two alternatives: workers put their shards in the object store "
                         "(worker_put_s), reducers pull them through actor handles (pull_s)")
    ap.add_argument("--path", type=float, metavar="MS",
                    help="time the round's path instead, with train calls that sleep MS ms")
    a = ap.parse_args()
    os.environ.setdefault("RAY_worker_niceness", "0")
    import numpy as np
    import ray

    ray.init(address="local", num_cpus=2 * max(a.workers) + 2, include_dashboard=False,
             logging_level="WARNING", log_to_driver=False)

    @ray.remote(num_cpus=0)
    class Actor:
        def train(self, n: int, size: int, seconds: float = 0.0):
            time.sleep(seconds)   # --path: compute that takes no CPU
            x = np.zeros(size, np.uint8)
            return tuple([{"words": 1}] + [x] * (n - 1)) if n > 1 else {"words": 1}

        def take(self, *shards):
            return len(shards)

        def combine(self, *shards):
            return np.zeros(shards[0].size, np.uint8)

        # the variants (--variants): shards put into the object store by the worker, or
        # kept by it and pulled by the reducers through actor handles passed with the call
        def put_shards(self, n: int, size: int):
            x = np.zeros(size, np.uint8)
            return [ray.put(x) for _ in range(n)]

        def keep_shards(self, n: int, size: int):
            self.shards = [np.zeros(size, np.uint8) for _ in range(n)]
            return 1

        def shard(self, s: int):
            return self.shards[s]

        def pull(self, s: int, workers):
            return len(ray.get([w.shard.remote(s) for w in workers]))

    try:
        if a.path is not None:
            path_rounds(ray, Actor, a)
            return
        for n in a.workers:
            actors = [Actor.remote() for _ in range(n)]
            reducers = [Actor.remote() for _ in range(n)]
            ray.get([x.take.remote() for x in actors + reducers])
            for size in a.bytes:
                start = cpu()
                for _ in range(a.rounds):
                    out = [x.train.options(num_returns=n + 1).remote(n + 1, size) for x in actors]
                    ray.get([o[0] for o in out])
                    ray.get([reducers[s].take.remote(*[o[1 + s] for o in out]) for s in range(n)])
                protocol = (cpu() - start) / a.rounds
                start = cpu()
                for _ in range(a.rounds):
                    ray.get([x.train.remote(1, size) for x in actors])
                plain = (cpu() - start) / a.rounds
                extra = {}
                if a.variants:
                    start = cpu()
                    for _ in range(a.rounds):
                        lists = ray.get([x.put_shards.remote(n, size) for x in actors])
                        ray.get([reducers[s].take.remote(*[refs[s] for refs in lists]) for s in range(n)])
                        del lists
                    extra["worker_put_s"] = round((cpu() - start) / a.rounds, 4)
                    start = cpu()
                    for _ in range(a.rounds):
                        ray.get([x.keep_shards.remote(n, size) for x in actors])
                        ray.get([reducers[s].pull.remote(s, actors) for s in range(n)])
                    extra["pull_s"] = round((cpu() - start) / a.rounds, 4)
                per_call = plain / n
                per_ref = max(protocol - 2 * plain, 0.0) / (2 * n * n)
                print(json.dumps(dict(workers=n, shard_bytes=size, protocol_s=round(protocol, 4),
                                      plain_s=round(plain, 4), per_call_ms=round(per_call * 1e3, 3),
                                      per_reference_ms=round(per_ref * 1e3, 4), **extra)), flush=True)
            for x in actors + reducers:
                ray.kill(x)
    finally:
        ray.shutdown()


def path_rounds(ray, actor_class, a) -> None:
    """--path: a synchronous round's wall time beyond the workers' (sleeping) compute,
    its steps submitted after the stats are gathered or all at once."""
    seconds = a.path / 1e3
    for n in a.workers:
        actors = [actor_class.remote() for _ in range(n)]
        reducers = [actor_class.remote() for _ in range(n)]
        ray.get([x.take.remote() for x in actors + reducers])
        for size in a.bytes:
            walls: dict[str, list[float]] = {"gathered": [], "ahead": []}
            cpus: dict[str, list[float]] = {"gathered": [], "ahead": []}
            for r in range(2 * a.rounds + 2):
                way = "gathered" if r % 2 == 0 else "ahead"
                started, cpu_started = time.perf_counter(), cpu()
                out = [x.train.options(num_returns=n + 1).remote(n + 1, size, seconds) for x in actors]
                if way == "gathered":
                    ray.get([o[0] for o in out])
                combined = [reducers[s].combine.remote(*[o[1 + s] for o in out]) for s in range(n)]
                applies = [x.take.remote(*combined) for x in actors]
                if way == "ahead":
                    ray.get([o[0] for o in out])
                ray.get(applies)
                if r >= 2:  # the first round of each way warms up
                    walls[way].append(time.perf_counter() - started - seconds)
                    cpus[way].append(cpu() - cpu_started)
            row = {"workers": n, "shard_bytes": size, "compute_ms": a.path}
            for way in walls:
                row[f"{way}_path_ms"] = round(statistics.median(walls[way]) * 1e3, 1)
                row[f"{way}_driver_cpu_ms"] = round(statistics.median(cpus[way]) * 1e3, 1)
            print(json.dumps(row), flush=True)
        for x in actors + reducers:
            ray.kill(x)


if __name__ == "__main__":
    main()
