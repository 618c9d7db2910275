#!/usr/bin/env python
"""The least a synchronous round can cost a worker, and the efficiency that leaves at N
workers: an upper bound for any data-parallel protocol in which every worker holds a
replica and trains the next round on the combined weights.

Whatever carries the updates (reducers, a tree, a ring, peers; the driver on or off the
round's path), each worker must, every round:

- **own**: read the rows it changed and encode their deltas to send them (the
  `changed_rows` kernel, on the rows its measured update held; the snapshot it compares
  with is not counted: a kernel that logged its deltas would not need one);
- **apply**: add the combined deltas to its replica (the `add_rows` kernel, on the rows
  the measured combined update held; undoing its own rows first is not counted);
- **network**: receive the combined rows over its link (the larger of its measured bytes
  read and sent over a stated rate, both directions at once).

Two kinds of protocol are bounded:

- **all rows**: every worker receives every row any worker changed (the union), as with
  today's reducers, and as with a tree, a ring or an all-reduce;
- **pull**: a worker receives only the rows it trains next, as many as it changed (an
  idealised parameter server that knows each worker's next rows ahead: its words and its
  negative draws). Apply and network then cover its own rows only.

Not counted (each could in principle go to zero or off the path): the driver, the
reducers (other cores), the object store, the spread between workers, the masses and the
snapshot. So the bound is generous: compute / (compute + own + apply + network).

The row counts, the bytes and the compute are read from `scripts/ray_costs.py`'s
measurements (the files named in RUNS, the largest worker count in each); own and apply are timed
here, one thread, on matrices of the measured run's shape (vocabulary x dim, FastText's
input with its buckets), the rows spread evenly over them, int8 deltas (the default
`--sync-dtype`). Medians of `--repeats` runs, CPU seconds of this thread.

    flock /tmp/embedtrain-bench.lock python scripts/sync_floor.py [--json OUT]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import median_seconds  # noqa: E402
from embedtrain.distributed.sync import ROW_ID_BYTES  # noqa: E402
from embedtrain.kernels import sync as kernels  # noqa: E402

COSTS = ROOT / "scripts" / "ray_costs.out"
# model -> (costs file, rows of each matrix in the measured run: the enwiki2015-AA
# vocabulary at min-count 5, FastText's input with the run's 200,000 buckets)
RUNS = {
    "skip-gram": ("skipgram.jsonl", (69_103, 69_103)),
    "CBOW": ("cbow-default-rounds.jsonl", (69_103, 69_103)),
    "FastText": ("fasttext-400k-rounds.jsonl", (69_103 + 200_000, 69_103)),
}
DIM = 100
LINKS_GBIT = (10, 25, 100)


def row_bytes(dim: int) -> int:
    """An int8 row on the wire: id, weight, step and the values (RowUpdate.nbytes)."""
    return ROW_ID_BYTES + 4 + 4 + dim


def spread_rows(n: int, total: int) -> np.ndarray:
    return np.unique(np.linspace(0, total - 1, max(1, min(n, total))).astype(np.int32))


def split(n_rows: int, shapes: tuple[int, ...]) -> list[int]:
    """n_rows shared among the matrices in proportion to their rows."""
    total = sum(shapes)
    return [min(s, round(n_rows * s / total)) for s in shapes]


def timed(fn, repeats: int) -> float:
    return median_seconds(fn, repeats, time.thread_time)


def own_and_apply(shapes: tuple[int, ...], sent_rows: int, read_rows: int, repeats: int,
                  rng: np.random.Generator) -> tuple[float, float, float, float]:
    """Seconds of the own pass, of the apply of read_rows, of the apply of sent_rows, and
    of numpy's gather of the own rows minus their base (what reading them costs at least)."""
    levels = kernels.LEVELS["int8"]
    own = apply = apply_own = gather = 0.0
    for rows_m, n_sent, n_read in zip(shapes, split(sent_rows, shapes), split(read_rows, shapes)):
        m = rng.standard_normal((rows_m, DIM), dtype=np.float32)
        rows = spread_rows(n_sent, rows_m)
        base = m[rows] + np.float32(1e-3)  # every listed row changed
        weight = np.ones(len(rows), np.float32)
        out_rows, out_w = np.empty(len(rows), np.int32), np.empty(len(rows), np.float32)
        values, step = np.empty((len(rows), DIM), np.int8), np.empty(len(rows), np.float32)
        own += timed(lambda: kernels.changed_rows(m, rows, base, weight, 1, out_rows, values, step,
                                                  out_w, levels), repeats)
        read = spread_rows(n_read, rows_m)
        cvalues = rng.integers(-levels, levels + 1, (len(read), DIM)).astype(np.int8)
        cstep = np.full(len(read), 1e-9, np.float32)
        apply += timed(lambda: kernels.add_rows(m, read, cvalues, cstep, True, 1.0), repeats)
        apply_own += timed(lambda: kernels.add_rows(m, rows, values, step, True, 1.0), repeats)
        diff = np.empty((len(rows), DIM), np.float32)
        gather += timed(lambda: np.subtract(np.take(m, rows, axis=0), base, out=diff), repeats)
    return own, apply, apply_own, gather


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--json", help="write the rows here")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    out = []
    per_row = row_bytes(DIM)
    links = " / ".join(str(g) for g in LINKS_GBIT)
    print(f"| model | workers x words | rows changed / combined | compute ms | own ms (numpy's gather - base) "
          f"| apply ms (combined / own rows) "
          f"| network ms at {links} Gb/s (all rows) | bound, all rows, at {links} Gb/s / no network "
          f"| bound, pull, at {links} Gb/s / no network |")
    print("|---|---|---|---|---|---|---|---|---|")
    for model, (name, shapes) in RUNS.items():
        runs = [json.loads(line) for line in open(COSTS / name) if line.strip()]
        run = max(runs, key=lambda r: r["workers"])
        n = run["workers"]
        compute = run["worker_kernel_cpu_round"]
        sent, read = run["bytes_sent_round"] / n, run["bytes_received_round"] / n
        sent_rows, read_rows = int(sent / per_row), int(read / per_row)
        own, apply, apply_own, gather = own_and_apply(shapes, sent_rows, read_rows, args.repeats, rng)
        network = [max(sent, read) * 8 / (g * 1e9) for g in LINKS_GBIT] + [0.0]
        pulled = [sent * 8 / (g * 1e9) for g in LINKS_GBIT] + [0.0]
        bound = [compute / (compute + own + apply + t) for t in network]
        bound_pull = [compute / (compute + own + apply_own + t) for t in pulled]
        out.append(dict(model=model, workers=n, sync_every=run["sync_every"], compute=compute, own=own,
                        gather=gather, apply=apply, apply_own=apply_own, sent_rows=sent_rows, read_rows=read_rows,
                        links_gbit=list(LINKS_GBIT) + [None], network=network, bound=bound,
                        network_pull=pulled, bound_pull=bound_pull))
        print(f"| {model} | {n} x {run['sync_every']:,} | {sent_rows:,} / {read_rows:,} | {compute * 1e3:.0f} "
              f"| {own * 1e3:.1f} ({gather * 1e3:.1f}) | {apply * 1e3:.1f} / {apply_own * 1e3:.1f} | "
              + " / ".join(f"{t * 1e3:.1f}" for t in network[:-1]) + " | "
              + " / ".join(f"{b:.0%}" for b in bound) + " | "
              + " / ".join(f"{b:.0%}" for b in bound_pull) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
