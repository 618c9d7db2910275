"""How the item presets were chosen: a coordinate search (embedtrain/items/tune.py) on the
validation split of amazon-toys, for embedtrain and, with the same split and scorer, for gensim
(the gensim settings the benchmark uses). Writes scripts/tune_items.out.json.

    python scripts/tune_items.py --tool embedtrain --tool gensim

Scores are NDCG@10 (and HitRate@10) on the validation targets (each sequence's second-to-last
item), training on the sequences without their last two items; the test targets are never used.
One seed per trial (the benchmark repeats the chosen settings over 3 seeds on the test split).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA_CANDIDATES = [ROOT.parent / "shared" / "data" / "items" / "amazon-toys.seq.txt",
                   Path("/work/shared/data/items/amazon-toys.seq.txt")]

# The search space of each tool (embedtrain's TUNE_GRID plus shuffling; gensim has no
# whole-line window: window 600 covers the longest sequence, 550 items).
EMBEDTRAIN_BASE = {"window": 0, "shuffle_lines": True, "ns_exponent": 0.75, "sample": 1e-4,
                   "epochs": 10}
EMBEDTRAIN_GRID = {"ns_exponent": (-0.5, 0.0, 0.5, 0.75, 1.0), "sample": (0.0, 1e-5, 1e-4, 1e-3),
                   "window": (0, 3, 10), "shuffle_lines": (True, False), "epochs": (10, 20, 40)}
GENSIM_BASE = {"window": 5, "ns_exponent": 0.75, "sample": 1e-3, "epochs": 5}   # gensim's defaults
GENSIM_GRID = {"ns_exponent": (-0.5, 0.0, 0.5, 0.75, 1.0), "sample": (0.0, 1e-5, 1e-4, 1e-3),
               "window": (3, 5, 10, 600), "epochs": (5, 10, 20, 40)}
# A second pass from the first pass's best (--second-pass): more epochs, and the settings that
# interact with them re-tried.
SECOND_GRID = {"epochs": (40, 80), "ns_exponent": (0.5, 0.75, 1.0), "sample": (0.0, 1e-4, 1e-3),
               "lr": (0.025, 0.05)}
DIM = 100
THREADS = 2


def data_path(given: str | None) -> Path:
    if given:
        return Path(given)
    for p in DATA_CANDIDATES:
        if p.exists():
            return p
    sys.exit("amazon-toys.seq.txt not found: give --data")


def train_embedtrain(sequences, seed=1, **settings):
    import embedtrain

    return embedtrain.train(sequences, dim=DIM, min_count=1, negative=5, threads=THREADS, seed=seed,
                            progress=False, **settings).vectors


def train_gensim(sequences, seed=1, **settings):
    from gensim.models import Word2Vec

    m = Word2Vec(sequences, vector_size=DIM, sg=1, hs=0, negative=5, min_count=1, workers=THREADS,
                 seed=seed, **settings)
    return (m.wv.index_to_key, m.wv.vectors)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data")
    ap.add_argument("--tool", action="append", choices=("embedtrain", "gensim"))
    ap.add_argument("--budget", type=int, default=20)
    ap.add_argument("--second-pass", action="store_true",
                    help="embedtrain only: SECOND_GRID from the best of --first (a tune_items.out.json)")
    ap.add_argument("--first", default=str(ROOT / "scripts" / "tune_items.out.json"))
    ap.add_argument("--out", default=str(ROOT / "scripts" / "tune_items.out.json"))
    args = ap.parse_args()
    import logging

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from embedtrain.items.interactions import read_sequences
    from embedtrain.items.tune import tune_items

    sequences = read_sequences(data_path(args.data), user_col=1)
    out = json.loads(Path(args.out).read_text()) if os.path.exists(args.out) else {}
    for tool in args.tool or ["embedtrain", "gensim"]:
        train, base, grid = {"embedtrain": (train_embedtrain, EMBEDTRAIN_BASE, EMBEDTRAIN_GRID),
                             "gensim": (train_gensim, GENSIM_BASE, GENSIM_GRID)}[tool]
        if args.second_pass:
            base = json.loads(Path(args.first).read_text())[tool]["best"]
            grid = SECOND_GRID
        best, trials = tune_items(sequences, train, base, budget=args.budget, grid=grid)
        out[tool] = {"base": base, "grid": {k: list(v) for k, v in grid.items()}, "best": best,
                     "trials": trials, "budget": args.budget}
        print(tool, "best", best, max(t["score"] for t in trials), flush=True)
        Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()


def table(path: str | Path, tool: str) -> str:
    """The trials of one tool as a markdown table (docs/items.md)."""
    d = json.loads(Path(path).read_text())[tool]
    keys = list(dict.fromkeys(k for t in d["trials"] for k in t if k not in ("score", "seconds")))
    rows = ["| " + " | ".join(keys) + " | NDCG@10 (validation) |", "|" + "---|" * len(keys) + "---:|"]
    for t in d["trials"]:
        rows.append("| " + " | ".join(str(t.get(k, "")) for k in keys) + f" | {t['score']:.4f} |")
    return "\n".join(rows)
