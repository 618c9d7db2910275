"""Item vectors side by side: embedtrain's item presets against gensim Word2Vec with the settings
its own search chose (scripts/tune_items.py, the same validation split and scorer), on the
leave-one-out split of amazon-toys (train: every sequence without its last item; test: the
last item of each, scored by HitRate@10 and NDCG@10 with embedtrain.items.evaluate_items, the
same scorer for both). Seeds 1-3, the two tools interleaved (the order alternates by seed),
medians and ratios. Time is the wall time of the training call in this process (both tools get
the sequences as Python lists, 2 threads each, dim 100, min-count 1, 5 negatives); one
untimed 1-epoch run of each first (numba's compile or cache load, gensim's import).

    flock /tmp/embedtrain-bench.lock python scripts/bench_items.py [--gensim-cut] [--out OUT.json]

Writes scripts/bench_items.out.json. The machine is shared: times are noisy, scores are not.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from tune_items import DIM, THREADS, data_path  # noqa: E402

TUNED = ROOT / "scripts" / "tune_items.out.json"
SEEDS = (1, 2, 3)


def embedtrain_run(train, seed, settings):
    import embedtrain

    started = time.perf_counter()
    model = embedtrain.train(train, dim=DIM, min_count=1, negative=5, threads=THREADS, seed=seed,
                             progress=False, **settings)
    return time.perf_counter() - started, model.vectors


def gensim_run(train, seed, settings):
    from gensim.models import Word2Vec

    settings = dict(settings)
    cut = settings.pop("cut", None)
    started = time.perf_counter()
    if cut:  # the histories cut into pieces of `cut` items, as embedtrain's max_line_tokens does
        train = [seq[i:i + cut] for seq in train for i in range(0, len(seq), cut)]
    m = Word2Vec(train, vector_size=DIM, sg=1, hs=0, negative=5, min_count=1, workers=THREADS,
                 seed=seed, **settings)
    return time.perf_counter() - started, (m.wv.index_to_key, m.wv.vectors)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data")
    ap.add_argument("--out", default=str(ROOT / "scripts" / "bench_items.out.json"))
    ap.add_argument("--markdown", action="store_true", help="print the table of --out and stop")
    ap.add_argument("--gensim-cut", action="store_true",
                    help="give gensim the item presets' cut of long histories too (pieces of max_line_tokens)")
    args = ap.parse_args()
    if args.markdown:
        print(markdown(json.loads(Path(args.out).read_text())))
        return
    from embedtrain.families import family_of
    from embedtrain.items import evaluate_items, read_sequences, split_sequences

    sequences = read_sequences(data_path(args.data), user_col=1)
    parts = split_sequences(sequences)
    train, test = parts["train"], parts["test"]
    presets = dict(family_of("skipgram").item_presets)
    for fixed in ("min_count", "negative"):
        presets.pop(fixed, None)
    gensim_settings = json.loads(TUNED.read_text())["gensim"]["best"]
    if args.gensim_cut:
        gensim_settings = {**gensim_settings, "cut": presets["max_line_tokens"]}
    tools = {"embedtrain": (embedtrain_run, presets), "gensim": (gensim_run, gensim_settings)}
    for name, (run, settings) in tools.items():   # warm-up: compile/cache load, imports
        run(train[:2000], 1, {**settings, "epochs": 1})
    runs = []
    for i, seed in enumerate(SEEDS):
        order = list(tools) if i % 2 == 0 else list(tools)[::-1]
        for name in order:
            run, settings = tools[name]
            seconds, vectors = run(train, seed, settings)
            r = evaluate_items(vectors, test, k=10, history=5, popular_from=train)
            runs.append({"tool": name, "seed": seed, "seconds": round(seconds, 2),
                         "hit_rate@10": r["hit_rate@10"], "ndcg@10": r["ndcg@10"],
                         "popular_hit_rate@10": r["popular_hit_rate@10"],
                         "popular_ndcg@10": r["popular_ndcg@10"]})
            print(json.dumps(runs[-1]), flush=True)
    summary = {}
    for name in tools:
        mine = [r for r in runs if r["tool"] == name]
        summary[name] = {m: statistics.median(r[m] for r in mine)
                         for m in ("seconds", "hit_rate@10", "ndcg@10")}
    summary["ratio"] = {m: summary["embedtrain"][m] / summary["gensim"][m]
                        for m in ("seconds", "hit_rate@10", "ndcg@10")}
    summary["most_popular"] = {"hit_rate@10": runs[0]["popular_hit_rate@10"],
                               "ndcg@10": runs[0]["popular_ndcg@10"]}
    out = {"data": "amazon-toys.seq.txt (19,412 sequences), leave-one-out: train = without the last item",
           "settings": {"embedtrain": presets, "gensim": gensim_settings,
                        "both": {"dim": DIM, "min_count": 1, "negative": 5, "threads": THREADS}},
           "seeds": list(SEEDS), "runs": runs, "median": summary,
           "cpus": os.cpu_count(), "load": os.getloadavg()}
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


def markdown(out: dict) -> str:
    """The results as the table in docs/items.md and docs/benchmarks.md."""
    med = out["median"]
    rows = ["| tool | settings | wall s (median) | HitRate@10 | NDCG@10 | per seed: s, HitRate@10, NDCG@10 |",
            "|---|---|---:|---:|---:|---|"]
    for tool in ("embedtrain", "gensim"):
        settings = ", ".join(f"{k} {v}" for k, v in out["settings"][tool].items())
        seeds = "; ".join(f"{r['seconds']:.1f}, {r['hit_rate@10']:.4f}, {r['ndcg@10']:.4f}"
                          for r in out["runs"] if r["tool"] == tool)
        rows.append(f"| {tool} | {settings} | {med[tool]['seconds']:.1f} | {med[tool]['hit_rate@10']:.4f} "
                    f"| {med[tool]['ndcg@10']:.4f} | {seeds} |")
    pop = med["most_popular"]
    rows.append(f"| most popular | counts in the training file | - | {pop['hit_rate@10']:.4f} | "
                f"{pop['ndcg@10']:.4f} | |")
    r = med["ratio"]
    rows.append(f"| **embedtrain / gensim** | | **{r['seconds']:.2f}** | **{r['hit_rate@10']:.2f}** | "
                f"**{r['ndcg@10']:.2f}** | |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
