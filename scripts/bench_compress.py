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

5. (--grid CORPUS) the issue's size/score grid on the models of another corpus (e.g.
   ../shared/data/corpora/enwiki2015-AA.text8style.txt.gz): a skip-gram and a FastText
   model trained once (dim 100, the defaults otherwise, 2 threads; or --grid-models DIR
   holding CORPUS_STEM-skipgram.etm / -fasttext.etm), compressed at every setting of
   --grid-methods x --grid-keep-words (x --grid-keep-ngrams for FastText), scored on a
   FIXED question set (see fixed_score): every row is scored on the questions and pairs
   the float32 model answers, an unanswerable question counting as wrong and an
   unanswerable pair as similarity 0 (gensim's dummy4unknown), so a pruned model gets no
   credit for dropping hard questions. Side by side: compress-fasttext's prune_ft_freq at
   --grid-peer settings on the same FastText model, scored the same way.
   --grid-seed S: the k-means seed (rows of other seeds are kept apart, the tables show
   the median and range over the seeds run).
   Size: the compressed .etm against the same archive holding the same model's rows
   (all words, all stored n-gram rows) as float32; also against the trained .etm
   (which holds the output weights too).

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


# ---------------------------------------------------------------------- the grid (--grid)
def fixed_questions(vectors) -> dict:
    """The question set of the float32 model: the analogy questions it answers (all four
    words among the 30,000 most frequent) and the WordSim-353 pairs it has vectors for."""
    from embedtrain.evaluate import _read_lines, evaluate_analogies, parse_similarity

    analogy = evaluate_analogies(vectors, DATA / "questions-words.txt")
    _, lines = _read_lines(DATA / "wordsim353.tsv")
    pairs = [(a.lower(), b.lower(), g) for a, b, g in parse_similarity(lines, "wordsim353")
             if vector_or_none(vectors, a.lower()) is not None and vector_or_none(vectors, b.lower()) is not None]
    return {"analogy_found": analogy.found, "pairs": pairs}


def vector_or_none(vectors, word: str):
    i = vectors.index.get(word)
    if i is not None:
        return np.asarray(vectors.vectors[i], dtype=np.float32)
    built = vectors.vector_for_unknown(word)
    return None if built is None else np.asarray(built, dtype=np.float32)


def fixed_score(vectors, questions: dict) -> dict:
    """Scores on the float32 model's question set: questions-words accuracy (3CosAdd, 30,000
    most frequent words, as embedtrain eval) = correct / the questions the float32 model
    answers (a question the pruned model cannot answer counts as wrong); WordSim-353
    Spearman over the pairs the float32 model has, a pair with a word the model has no
    vector for scored 0 (gensim's dummy4unknown)."""
    from embedtrain.evaluate import evaluate_analogies, spearman

    analogy = evaluate_analogies(vectors, DATA / "questions-words.txt")
    assert analogy.found <= questions["analogy_found"], "the compressed model answers more questions?"
    gold, model, missing = [], [], 0
    for a, b, g in questions["pairs"]:
        va, vb = vector_or_none(vectors, a), vector_or_none(vectors, b)
        if va is None or vb is None:
            cos, missing = 0.0, missing + 1
        else:
            cos = float(va @ vb / max(np.linalg.norm(va) * np.linalg.norm(vb), 1e-30))
        gold.append(g)
        model.append(cos)
    acc = analogy.correct / questions["analogy_found"]
    ws = spearman(gold, model)
    return {"analogy": round(acc, 4), "wordsim": round(ws, 4), "mean": round((acc + ws) / 2, 4),
            "analogy_answered": analogy.found, "pairs_missing": missing}


def grid_models(corpus: Path, model_dir: Path, kinds) -> dict[str, Path]:
    model_dir.mkdir(parents=True, exist_ok=True)
    stem = corpus.name.split(".")[0]
    out = {}
    for kind in kinds:
        prefix = model_dir / f"{stem}-{kind}"
        path = prefix.with_suffix(".etm")
        if not path.exists():
            t = time.perf_counter()
            model = embedtrain.train(corpus, model=kind, dim=100, threads=2, seed=1, progress=False)
            model.save(prefix)
            print(f"trained {kind} in {time.perf_counter() - t:.1f} s", flush=True)
        out[kind] = path
    return out


def parse_method(text: str) -> tuple[str, dict]:
    """'int8', 'pq50', 'pq25-opq', 'pq25-random-it50', 'pq10-qnorm' -> (method, options)."""
    head, *mods = text.split("-")
    if head == "int8":
        return "int8", {}
    extra: dict = {"pq_subvectors": int(head[2:])}
    for m in mods:
        if m in ("random", "opq"):
            extra["pq_rotation"] = m
        elif m == "qnorm":
            extra["qnorm"] = True
        elif m.startswith("it"):
            extra["pq_iterations"] = int(m[2:])
        else:
            raise SystemExit(f"unknown method modifier {m!r} in {text!r}")
    return "pq", extra


def peer_grid(ft_path: Path, settings: list[str], questions: dict, vocab_size: int, work: Path) -> list[dict]:
    """compress-fasttext's prune_ft_freq (words: the N most frequent; n-grams rehashed
    into M buckets; then PQ with qdim subvectors) on our FastText model: 'V:M:qdim'."""
    import compress_fasttext
    from gensim.models.fasttext import load_facebook_vectors

    bin_path = work / f"{ft_path.stem}.bin"
    if not bin_path.exists():
        subprocess.run([sys.executable, "-m", "embedtrain", "export", str(ft_path), "-f", "fasttext-bin",
                        "-o", str(bin_path)], check=True)
    kv = load_facebook_vectors(str(bin_path))
    rows = []
    for setting in settings:
        words, ngrams, qdim = (int(x) if x != "all" else vocab_size for x in setting.split(":"))
        np.random.seed(1)
        t = time.perf_counter()
        small = compress_fasttext.prune_ft_freq(kv, new_vocab_size=words, new_ngrams_size=ngrams,
                                                pq=True, qdim=qdim)
        seconds = time.perf_counter() - t
        for old in work.glob("cf-grid.model*"):
            old.unlink()
        small.save(str(work / "cf-grid.model"))
        size = sum(p.stat().st_size for p in work.glob("cf-grid.model*"))

        class Peer(Vectors):
            def vector_for_unknown(self, word):
                return np.asarray(small[word], dtype=np.float32)

        keys = list(small.index_to_key)
        vecs = Peer(keys, np.stack([small[w] for w in keys]).astype(np.float32))
        row = {"tool": "compress-fasttext", "method": f"prune_ft_freq pq qdim={qdim}",
               "keep_words": words, "keep_ngrams": ngrams, "bytes": size,
               "seconds": round(seconds, 1), **fixed_score(vecs, questions)}
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def grid(corpus: Path, model_dir: Path, kinds, methods, keep_words, keep_ngrams, peer,
         previous: dict | None, seed: int = 1) -> dict:
    models = grid_models(corpus, model_dir, kinds)
    report = {}
    for kind, path in models.items():
        full = embedtrain.load(path)
        questions = fixed_questions(full.vectors)
        base = fixed_score(full.vectors, questions)
        before = (previous or {}).get(kind, {})
        done = {(r["tool"], r["method"], r["keep_words"], r.get("keep_ngrams")): r
                for r in before.get("rows", [])}
        rows = []
        f32 = before.get("float32_bytes")
        target = model_dir / f"{kind}-grid.etm"
        for keep in keep_words:
            for ngrams in (keep_ngrams if kind == "fasttext" else [None]):
                for text in methods:
                    method, extra = parse_method(text)
                    text = text if seed == 1 else f"{text} seed={seed}"
                    key = ("embedtrain", text, keep, ngrams)
                    if key in done:
                        continue
                    t = time.perf_counter()
                    small = embedtrain.compress(path, target, method=method, seed=seed,
                                                keep_words=None if keep == "all" else int(keep),
                                                keep_ngrams=None if ngrams in (None, "all") else int(ngrams),
                                                **extra)
                    seconds = time.perf_counter() - t
                    size = target.stat().st_size
                    if f32 is None:
                        assert keep == "all" and ngrams in (None, "all"), "the first setting must keep everything"
                        f32 = float32_bytes(small, size)
                    loaded = embedtrain.load(target)
                    row = {"tool": "embedtrain", "method": text, "keep_words": keep, "keep_ngrams": ngrams,
                           "bytes": size, "seconds": round(seconds, 1), **fixed_score(loaded.vectors, questions)}
                    print(kind, json.dumps(row), flush=True)
                    rows.append(row)
        if kind == "fasttext" and peer:
            rows += peer_grid(path, peer, questions, len(full.vocab), model_dir)
        fresh = {(r["tool"], r["method"], r["keep_words"], r.get("keep_ngrams")) for r in rows}
        rows = [r for k, r in done.items() if k not in fresh] + rows
        for r in rows:
            r["size_ratio"] = round(f32 / r["bytes"], 1)
            r["size_ratio_trained_etm"] = round(path.stat().st_size / r["bytes"], 1)
            r["score_kept"] = round(r["mean"] / base["mean"], 4)
        report[kind] = {"corpus": str(corpus), "vocab": len(full.vocab),
                        "stored_ngram_rows": int(len(full.arrays.get("ngram_buckets", ()))),
                        "trained_etm_bytes": path.stat().st_size, "float32_bytes": f32,
                        "float32_score": base, "analogy_questions": questions["analogy_found"],
                        "wordsim_pairs": len(questions["pairs"]), "rows": rows}
    return report


def grid_markdown(report: dict) -> str:
    lines = []
    for kind, r in report.items():
        if not isinstance(r, dict) or "rows" not in r:
            continue
        base = r["float32_score"]
        lines += [f"**{kind}** ({r['vocab']:,} words" + (f", {r['stored_ngram_rows']:,} n-gram rows"
                  if r["stored_ngram_rows"] else "") + f"; float32 {r['float32_bytes'] / 1e6:.1f} MB, "
                  f"trained .etm {r['trained_etm_bytes'] / 1e6:.1f} MB; score {base['mean']:.4f} = mean of "
                  f"questions-words {base['analogy']:.4f} ({r['analogy_questions']:,} questions) and "
                  f"WordSim-353 {base['wordsim']:.4f} ({r['wordsim_pairs']} pairs))", "",
                  "| tool | method | words | n-grams | MB | float32 / size | questions-words | WordSim-353 | mean "
                  "| kept | k-means seeds |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]

        def count(x):
            return "-" if x is None else x if str(x) == "all" else f"{int(x):,}"
        groups: dict = {}
        for t in r["rows"]:  # seeds of one setting: medians, and the range of the share kept
            method = t["method"].split(" seed=")[0]
            groups.setdefault((t["tool"], method, str(t["keep_words"]), str(t.get("keep_ngrams"))), []).append(t)
        for (tool, method, _, _), ts in sorted(groups.items(), key=lambda kv: -kv[1][0]["bytes"]):
            t = ts[0]
            med = {k: statistics.median(x[k] for x in ts) for k in ("analogy", "wordsim", "mean", "score_kept", "bytes")}
            kept = f"{100 * med['score_kept']:.1f} %"
            if len(ts) > 1:
                kept += f" ({100 * min(x['score_kept'] for x in ts):.1f}-{100 * max(x['score_kept'] for x in ts):.1f})"
            seeds = "-" if tool != "embedtrain" or method == "int8" else \
                "1" if len(ts) == 1 else f"{len(ts)} (median)"
            lines.append(f"| {tool} | {method} | {count(t['keep_words'])} | {count(t.get('keep_ngrams'))} | "
                         f"{med['bytes'] / 1e6:.2f} | {round(r['float32_bytes'] / med['bytes'], 1)} | "
                         f"{med['analogy']:.4f} | {med['wordsim']:.4f} | {med['mean']:.4f} | {kept} | {seeds} |")
        lines.append("")
    return "\n".join(lines)


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
    parser.add_argument("--grid", type=Path, default=None, help="corpus of the size/score grid (part 5 only)")
    parser.add_argument("--grid-models", type=Path, default=Path("/tmp/embedtrain-bench-grid"),
                        help="where the grid's models are (trained there when missing)")
    parser.add_argument("--grid-kinds", default="skipgram,fasttext")
    parser.add_argument("--grid-methods", default="int8,pq50,pq25,pq10",
                        help="int8 | pqM[-random|-opq][-qnorm][-itN], comma-separated")
    parser.add_argument("--grid-keep-words", default="all,50000,30000")
    parser.add_argument("--grid-keep-ngrams", default="all,100000,20000")
    parser.add_argument("--grid-peer", default="all:100000:50,all:100000:25,30000:20000:25,30000:20000:10",
                        help="compress-fasttext settings words:ngrams:qdim ('' for none)")
    parser.add_argument("--grid-seed", type=int, default=1, help="k-means seed of the grid's PQ runs")
    parser.add_argument("--grid-key", default=None, help="JSON key of the grid's report [default: grid_STEM]")
    args = parser.parse_args()
    if args.markdown:
        report = json.loads(OUT.read_text())
        print(markdown(report))
        for key, value in report.items():
            if key.startswith("grid_"):
                print(f"### {key}\n\n{grid_markdown(value)}")
        return
    if args.grid is not None:
        key = args.grid_key or "grid_" + args.grid.name.split(".")[0]
        previous = json.loads(OUT.read_text()).get(key) if OUT.exists() else None
        split = lambda text: [x for x in text.split(",") if x]  # noqa: E731
        report = grid(args.grid, args.grid_models, split(args.grid_kinds), split(args.grid_methods),
                      split(args.grid_keep_words), split(args.grid_keep_ngrams), split(args.grid_peer),
                      previous, args.grid_seed)
        merged = dict(previous or {})
        for kind, r in report.items():
            merged[kind] = r
        save(key, merged, "flock /tmp/embedtrain-bench.lock python " + " ".join(sys.argv))
        print(grid_markdown(merged))
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
