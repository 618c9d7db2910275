"""Compressed vectors, memory-mapped loading and the neighbour index, measured.

    nice python scripts/bench_compress.py --skip load,index,pynndescent      # sizes and scores
    flock /tmp/embedtrain-bench.lock python scripts/bench_compress.py --skip compress,pynndescent   # times

Sizes and scores are deterministic for a seed: that part runs outside the lock (niced;
its compression seconds are only indicative). Everything whose time is reported as a
result (loading, the index) runs under the shared lock.

1. Size against score: a FastText and a skip-gram model of the text8 prefix
   (../shared/data/text8-prefix.gz), each compressed with int8 and PQ at several sizes
   (--seeds k-means seeds, default 1; each run interleaved with the peer's), scored by embedtrain's evaluate on
   questions-words (accuracy, 30,000 most frequent words) and WordSim-353 (Spearman);
   the score is their mean. Side by side: compress-fasttext (PyPI) on the same FastText
   model, loaded through gensim from our fasttext-bin export.
   "float32 size": bytes of the same archive holding the same rows as float32 (vocabulary
   + word rows, + the stored n-gram rows for FastText); ratio = that / the file's size.
2. A generated 1 M x 300 skip-gram model file (input and output weights: 2.4 GB): open and
   read one row, then one exact query: time and peak
   RSS, with and without mmap, each in a fresh process (3 runs, median).
3. The neighbour index on that model (its rows drawn around 2,000 centres, so that it has
   neighbourhoods; uniformly random rows have none) and on the real skip-gram model:
   build time, query time against an exact scan, recall@10 against exact search.
4. (--skip compress,load,index) our index against pynndescent on the two text8-prefix
   models, same rows and queries.

Writes scripts/bench_compress.out.json. The machine is shared and noisy (2 cores, other
jobs): times are medians of few runs; sizes and scores are deterministic for a seed.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, SHARED_DATA, timed  # noqa: E402

os.environ.setdefault("PYTHONPATH", str(ROOT))
sys.path.insert(0, str(ROOT))

import embedtrain  # noqa: E402
from embedtrain.evaluate import evaluate  # noqa: E402
from embedtrain.vectors import Vectors  # noqa: E402

WORK = Path(os.environ.get("BENCH_DIR", "/tmp/embedtrain-bench-compress"))
# ../shared/data beside the checkout, else the machine's shared copy
DATA = SHARED_DATA if SHARED_DATA.is_dir() else Path("/work/shared/data")
CORPUS = DATA / "text8-prefix.gz"
OUT = ROOT / "scripts" / "bench_compress.out.json"


def score(vectors) -> dict:
    results = evaluate(vectors)
    analogy = next(r for r in results if r.dataset.startswith("questions"))
    sim = next(r for r in results if r.dataset.startswith("wordsim"))
    return {"analogy": round(analogy.accuracy, 4), "wordsim": round(sim.spearman, 4),
            "mean": round((analogy.accuracy + sim.spearman) / 2, 4)}


def float32_bytes(small, file_bytes: int) -> int:
    """The compressed file's size with its coded arrays replaced by float32 rows."""
    rows = len(small.vocab) + len(small.arrays.get("ngram_buckets", ()))
    coded = sum(a.nbytes for k, a in small.arrays.items() if k != "ngram_buckets")
    return file_bytes - coded + rows * small.config.dim * 4


def train_models(quick: bool) -> dict[str, Path]:
    WORK.mkdir(parents=True, exist_ok=True)
    out = {}
    for kind in ("fasttext", "skipgram"):
        path = WORK / f"{kind}.etm"
        if not path.exists():
            model = embedtrain.train(CORPUS, model=kind, dim=100, epochs=1 if quick else 3, threads=2,
                                     progress=False, seed=1, min_count=5)
            model.save(WORK / kind)
        out[kind] = path
    return out


SETTINGS = [("int8", {}), ("pq", {"pq_subvectors": 25}), ("pq", {"pq_subvectors": 10}),
            ("pq", {"pq_subvectors": 10, "qnorm": True}), ("pq", {"pq_subvectors": 5})]


def peer_compress(ft_path: Path, qdim: int, seed: int, vocab_size: int) -> tuple[int, dict, float]:
    """compress-fasttext's prune_ft_freq (PQ, its recommended path) on our model."""
    import compress_fasttext
    from gensim.models.fasttext import load_facebook_vectors

    bin_path = WORK / "fasttext.bin"
    if not bin_path.exists():
        subprocess.run([sys.executable, "-m", "embedtrain", "export", str(ft_path), "-f", "fasttext-bin",
                        "-o", str(bin_path)], check=True)
    kv = load_facebook_vectors(str(bin_path))
    np.random.seed(seed)
    t = time.perf_counter()
    small = compress_fasttext.prune_ft_freq(kv, new_vocab_size=vocab_size, new_ngrams_size=100_000,
                                            pq=True, qdim=qdim)
    seconds = time.perf_counter() - t
    target = WORK / f"cf-{qdim}-{seed}.model"
    small.save(str(target))
    size = sum(p.stat().st_size for p in WORK.glob(f"cf-{qdim}-{seed}.model*"))

    class Peer(Vectors):
        def vector_for_unknown(self, word):
            return np.asarray(small[word], dtype=np.float32)

    words = list(small.index_to_key)
    vecs = Peer(words, np.stack([small[w] for w in words]).astype(np.float32))
    return size, score(vecs), seconds


def compression(models: dict[str, Path], seeds: int, quick: bool) -> dict:
    report = {}
    settings = SETTINGS[:3] if quick else SETTINGS
    for kind, path in models.items():
        full = embedtrain.load(path)
        base = score(full.vectors)
        runs = []
        for method, extra in settings:
            label = method + "".join(f" {k}={v}" for k, v in extra.items())
            for seed in range(1, (seeds if method == "pq" else 1) + 1):
                target = WORK / f"{kind}-small.etm"
                t = time.perf_counter()
                embedtrain.compress(path, target, method=method, seed=seed, **extra)
                seconds = time.perf_counter() - t
                small = embedtrain.load(target)
                s = score(small.vectors)
                runs.append({"tool": "embedtrain", "setting": label, "seed": seed,
                             "bytes": target.stat().st_size, "float32_bytes": float32_bytes(small, target.stat().st_size),
                             "seconds": round(seconds, 2), **s})
                if kind == "fasttext" and method == "pq" and not extra.get("qnorm") \
                        and extra.get("pq_subvectors") in (25, 10) and not quick:
                    size, ps, psec = peer_compress(path, extra["pq_subvectors"], seed, len(full.vocab))
                    runs.append({"tool": "compress-fasttext", "setting": f"prune_ft_freq qdim="
                                 f"{extra['pq_subvectors']} ngrams=100000", "seed": seed, "bytes": size,
                                 "seconds": round(psec, 2), **ps})
                print(json.dumps(runs[-2:] if runs[-1]["tool"] != "embedtrain" else runs[-1]), flush=True)
        f32 = next(r["float32_bytes"] for r in runs if "float32_bytes" in r)
        summary = {}
        for r in runs:
            key = (r["tool"], r["setting"])
            summary.setdefault(key, []).append(r)
        table = []
        for (tool, setting), rs in summary.items():
            mean = statistics.median(r["mean"] for r in rs)
            size = statistics.median(r["bytes"] for r in rs)
            table.append({"tool": tool, "setting": setting, "bytes": int(size),
                          "size_ratio": round(f32 / size, 1), "mean_score": round(mean, 4),
                          "score_kept": round(mean / base["mean"], 4),
                          "analogy": statistics.median(r["analogy"] for r in rs),
                          "wordsim": statistics.median(r["wordsim"] for r in rs),
                          "compress_seconds": statistics.median(r["seconds"] for r in rs), "runs": len(rs)})
        report[kind] = {"model_file_bytes": path.stat().st_size, "float32_bytes": f32,
                        "vocab": len(full.vocab), "float32_score": base, "settings": table}
    return report


# ---------------------------------------------------------------------- 1 M x 300
BIG_ROWS, BIG_DIM, CENTRES = 1_000_000, 300, 2000


def big_model() -> Path:
    """A skip-gram model file of 1 M clustered random rows (written once)."""
    path = WORK / "big.etm"
    if path.exists():
        return path
    from embedtrain.config import config_class
    from embedtrain.models import Model
    from embedtrain.vocab import Vocab

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(CENTRES, BIG_DIM)).astype(np.float32)
    rows = np.empty((BIG_ROWS, BIG_DIM), dtype=np.float32)
    for s in range(0, BIG_ROWS, 100_000):
        which = rng.integers(0, CENTRES, size=100_000)
        rows[s:s + 100_000] = centres[which] + rng.normal(scale=0.8, size=(100_000, BIG_DIM))
    vocab = Vocab([f"w{i}" for i in range(BIG_ROWS)], np.arange(BIG_ROWS, 0, -1, dtype=np.int64))
    config = config_class("skipgram")(dim=BIG_DIM)
    # a trained skip-gram model holds its output (negative-sampling) weights too: 2.4 GB
    model = Model(config, vocab, {"input_vectors": rows, "output_vectors": np.zeros_like(rows),
                                  "output_hs": np.zeros((0, BIG_DIM), np.float32)})
    model.save_model(path)
    return path


LOAD_SNIPPET = """
import sys, time
t = time.perf_counter()
import embedtrain
m = embedtrain.load(sys.argv[1], mmap=sys.argv[2] == '1')
v = m['w123']
opened = time.perf_counter() - t
query = 0.0
if sys.argv[3] == '1':
    t2 = time.perf_counter()
    m.vectors.most_similar('w123', topn=10)
    query = time.perf_counter() - t2
print('RESULT', opened, query, file=sys.stderr)
"""


def loading(path: Path, runs: int) -> dict:
    """Open the model and read one row (peak RSS of that), then one exact query, in
    fresh processes; mmap and read interleaved."""
    out = {}
    for _ in range(runs):
        for mmap in (True, False):
            row = {}
            for query in ("0", "1"):
                wall, rss, stderr = timed([sys.executable, "-c", LOAD_SNIPPET, str(path),
                                           "1" if mmap else "0", query])
                opened, q = map(float, stderr.split("RESULT", 1)[1].split()[:2])
                if query == "0":
                    row.update(open_and_one_row_seconds=opened, open_peak_rss_mb=rss, process_seconds=wall)
                else:
                    row.update(first_exact_query_seconds=q, peak_rss_mb_after_query=rss)
            out.setdefault("mmap" if mmap else "read", []).append(row)
    return {k: {m: round(statistics.median(r[m] for r in rs), 4) for m in rs[0]} for k, rs in out.items()}


def index_numbers(vectors, queries: int, seed: int = 0) -> dict:
    from embedtrain.neighbours import build_index

    t = time.perf_counter()
    index = build_index(vectors)
    build = time.perf_counter() - t
    rng = np.random.default_rng(seed)
    ids = rng.choice(len(vectors), size=queries, replace=False)
    hits = 0
    t_exact = t_index = 0.0
    for i in ids:
        q = vectors.unit_vectors[int(i)]
        t = time.perf_counter()
        scores = vectors._cosines(q, None)
        scores[i] = -np.inf
        exact = set(np.argpartition(-scores, 10)[:10].tolist())
        t_exact += time.perf_counter() - t
        t = time.perf_counter()
        got = index.nearest(vectors, q, 10, [int(i)])
        t_index += time.perf_counter() - t
        hits += len(exact & {vectors.index[w] for w, _ in got})
    return {"rows": len(vectors), "lists": len(index.centroids), "probe": index.probe,
            "build_seconds": round(build, 2), "recall_at_10": round(hits / (10 * queries), 4),
            "exact_query_ms": round(1000 * t_exact / queries, 2),
            "index_query_ms": round(1000 * t_index / queries, 2)}


def save(key: str, value, command: str) -> None:
    """Merge one part into the output file (the parts run as separate processes)."""
    report = json.loads(OUT.read_text()) if OUT.exists() else {}
    report[key] = value
    report.setdefault("commands", {})[key] = command
    report["machine"] = f"{os.cpu_count()} cores, shared with other jobs: noisy"
    OUT.write_text(json.dumps(report, indent=1) + "\n")


def index_against_pynndescent(vectors, queries: int, seed: int = 0) -> dict:
    """Our index and pynndescent's NNDescent (cosine, its defaults) on the same rows and
    queries, interleaved: build time, query time, recall@10 against exact search."""
    from pynndescent import NNDescent

    from embedtrain.neighbours import build_index

    matrix = np.asarray(vectors.vectors[:], dtype=np.float32)
    unit = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-30)
    NNDescent(unit[:2000], metric="cosine", random_state=0).query(unit[:5], k=5)  # compile first
    rng = np.random.default_rng(seed)
    ids = rng.choice(len(unit), size=queries, replace=False)
    exact = []
    for i in ids:
        scores = unit @ unit[i]
        scores[i] = -np.inf
        exact.append(set(np.argpartition(-scores, 10)[:10].tolist()))
    out = {}
    t = time.perf_counter()
    ours = build_index(vectors)
    out["embedtrain_build_seconds"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    peer = NNDescent(unit, metric="cosine", random_state=0)
    peer.prepare()
    out["pynndescent_build_seconds"] = round(time.perf_counter() - t, 2)
    hits = {"embedtrain": 0, "pynndescent": 0}
    seconds = {"embedtrain": 0.0, "pynndescent": 0.0}
    for i, want in zip(ids, exact):
        t = time.perf_counter()
        got = {vectors.index[w] for w, _ in ours.nearest(vectors, unit[i], 10, [int(i)])}
        seconds["embedtrain"] += time.perf_counter() - t
        hits["embedtrain"] += len(got & want)
        t = time.perf_counter()
        found, _ = peer.query(unit[i:i + 1], k=11)
        seconds["pynndescent"] += time.perf_counter() - t
        hits["pynndescent"] += len(set(found[0].tolist()) - {int(i)} & want)
    for tool in hits:
        out[f"{tool}_query_ms"] = round(1000 * seconds[tool] / queries, 2)
        out[f"{tool}_recall_at_10"] = round(hits[tool] / (10 * queries), 4)
    out["rows"] = len(unit)
    return out


def markdown(report: dict) -> str:
    """The tables of docs/benchmarks.md, from the JSON."""
    lines = []
    for kind, r in report.get("compression", {}).items():
        base = r["float32_score"]
        lines += [f"**{kind}** ({r['vocab']:,} words; float32 rows {r['float32_bytes'] / 1e6:.1f} MB; "
                  f"score {base['mean']:.4f} = mean of questions-words {base['analogy']:.4f} and "
                  f"WordSim-353 {base['wordsim']:.4f})", "",
                  "| tool | setting | MB | float32 / size | questions-words | WordSim-353 | mean | kept | compress s |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for t in r["settings"]:
            lines.append(f"| {t['tool']} | {t['setting']} | {t['bytes'] / 1e6:.2f} | {t['size_ratio']} | "
                         f"{t['analogy']:.4f} | {t['wordsim']:.4f} | {t['mean_score']:.4f} | "
                         f"{100 * t['score_kept']:.1f} % | {t['compress_seconds']} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=1, help="k-means seeds per PQ setting")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip", default="", help="comma list of parts to skip: compress,load,index,pynndescent")
    parser.add_argument("--markdown", action="store_true", help="print the docs' tables from the JSON")
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(OUT.read_text())))
        return
    skip = set(filter(None, args.skip.split(",")))
    command = "python " + " ".join(sys.argv)
    models = train_models(args.quick)
    if "compress" not in skip:
        save("compression", compression(models, args.seeds, args.quick), "nice " + command)
    if "load" not in skip or "index" not in skip:
        big = big_model()
    if "load" not in skip:
        save("load_1m_x_300", {"file_bytes": big.stat().st_size, **loading(big, 1 if args.quick else 3)},
             "flock /tmp/embedtrain-bench.lock " + command)
    if "index" not in skip:
        sg = embedtrain.load(models["skipgram"]).vectors
        save("index", {"skipgram_text8_prefix": index_numbers(sg, 200),
                       "generated_1m_x_300_mmap": index_numbers(embedtrain.load(big, mmap=True).vectors,
                                                                20 if args.quick else 50)},
             "flock /tmp/embedtrain-bench.lock " + command)
    if "pynndescent" not in skip:
        sg = embedtrain.load(models["skipgram"]).vectors
        ft = embedtrain.load(models["fasttext"]).vectors
        save("index_against_pynndescent", {"skipgram_text8_prefix": index_against_pynndescent(sg, 200),
                                           "fasttext_text8_prefix": index_against_pynndescent(ft, 200)},
             "flock /tmp/embedtrain-bench.lock " + command)
    print(OUT.read_text())


if __name__ == "__main__":
    main()
