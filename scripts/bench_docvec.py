#!/usr/bin/env python
"""Document vectors: embedtrain doc2vec (PV-DBOW) against gensim Doc2Vec(dm=0), and mean
against SIF vectors of a skip-gram model, scored by eval-classify's logistic regression on
TREC (../shared/data/classify/trec.{train,test}.txt: 5,452 + 500 questions, 6 types).

doc2vec: both tools run IN-PROCESS in this script (each first warmed up on a few
documents, untimed: numba's compiled kernels are loaded from its cache, gensim's modules
imported). The documents are all 5,952 TREC questions (train and test, lowercased, labels
removed: training does not see a label). Protocol, the same for both tools: train on all
the documents, then INFER a vector for every train and test question (embedtrain:
model.infer_vectors; gensim: infer_vector per document with the model's epochs), fit
eval-classify's classifier (embedtrain.extrinsic.classification_scores: standardised
features, scikit-learn's LogisticRegression) on the train questions' vectors and score
the test questions'. The accuracy of the trained (not inferred) document vectors is
reported too. Timed: training plus inference, wall clock. Settings (both tools): dim 100,
negative 5, window 5, ns_exponent 0.75, lr 0.025 falling linearly, 2 threads, and per
configuration (--configs) the epochs, min_count, sample and dbow_words. Seeds run
interleaved (embedtrain, gensim, embedtrain, gensim, ...).

Mean vs SIF: skip-gram trained by `embedtrain train` on the text8 prefix (dim 100, 5
epochs, 2 threads, the default settings) per seed, then `embedtrain eval-classify MODEL
trec.train.txt trec.test.txt --lowercase [--sif]`.

Run under the shared lock (the machine is shared and noisy; medians over the seeds):

    flock /tmp/embedtrain-bench.lock python scripts/bench_docvec.py [--seeds 1,2,3]

writes scripts/bench_docvec.out.json.
"""
from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# ../shared/data beside the checkout (or beside a directory of worktrees)
SHARED = next((p for p in (ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data")
               if p.is_dir()), ROOT.parent / "shared" / "data")
TREC = SHARED / "classify"

import embedtrain  # noqa: E402
from embedtrain.extrinsic import classification_scores, read_labelled  # noqa: E402

COMMON = dict(dim=100, negative=5, window=5, threads=2)
CONFIGS = {
    "dbow": dict(epochs=40, min_count=1, sample=0.0, dbow_words=False),
    "dbow+words": dict(epochs=20, min_count=2, sample=0.0, dbow_words=True),
}


def ours(docs, seed, s):
    started = time.perf_counter()
    model = embedtrain.train(docs, model="doc2vec", dim=COMMON["dim"], negative=COMMON["negative"],
                             window=COMMON["window"], threads=COMMON["threads"], epochs=s["epochs"],
                             min_count=s["min_count"], sample=s["sample"], dbow_words=s["dbow_words"],
                             seed=seed, progress=False)
    trained = time.perf_counter() - started
    inferred = model.infer_vectors(docs)
    return time.perf_counter() - started, trained, inferred, model.arrays["doc_vectors"]


def gensim(docs, seed, s):
    from gensim.models.doc2vec import Doc2Vec, TaggedDocument

    started = time.perf_counter()
    model = Doc2Vec([TaggedDocument(d, [i]) for i, d in enumerate(docs)], dm=0,
                    vector_size=COMMON["dim"], negative=COMMON["negative"], window=COMMON["window"],
                    workers=COMMON["threads"], epochs=s["epochs"], min_count=s["min_count"],
                    sample=s["sample"], dbow_words=int(s["dbow_words"]), seed=seed)
    trained = time.perf_counter() - started
    inferred = np.array([model.infer_vector(d) for d in docs])
    learned = np.array([model.dv[i] for i in range(len(docs))])
    return time.perf_counter() - started, trained, inferred, learned


def accuracy(x, train, test):
    n = len(train.docs)
    return classification_scores(x[:n], train.labels, x[n:], test.labels)[0]


def median(values):
    return float(statistics.median(values))


def doc2vec_bench(seeds, configs):
    train = read_labelled(TREC / "trec.train.txt", lowercase=True)
    test = read_labelled(TREC / "trec.test.txt", lowercase=True)
    docs = train.docs + test.docs
    tools = {"embedtrain": ours, "gensim": gensim}
    for run in tools.values():  # warm-up, untimed
        run(docs[:50], 1, dict(epochs=1, min_count=1, sample=0.0, dbow_words=True))
    out = {}
    for name in configs:
        s = CONFIGS[name]
        runs = {tool: [] for tool in tools}
        for seed in seeds:
            for tool, run in tools.items():
                seconds, train_seconds, inferred, learned = run(docs, seed, s)
                row = {"seed": seed, "seconds": round(seconds, 3), "train_seconds": round(train_seconds, 3),
                       "accuracy_inferred": accuracy(inferred, train, test),
                       "accuracy_trained": accuracy(learned, train, test)}
                runs[tool].append(row)
                print(name, tool, row, flush=True)
        summary = {tool: {key: median([r[key] for r in rows]) for key in
                          ("seconds", "train_seconds", "accuracy_inferred", "accuracy_trained")}
                   for tool, rows in runs.items()}
        summary["time_ratio"] = summary["embedtrain"]["seconds"] / summary["gensim"]["seconds"]
        summary["train_time_ratio"] = summary["embedtrain"]["train_seconds"] / summary["gensim"]["train_seconds"]
        out[name] = {"settings": {**COMMON, **s}, "runs": runs, "medians": summary}
        print(name, json.dumps(summary), flush=True)
    return out


def sif_bench(seeds):
    out = {"runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            prefix = Path(tmp) / f"sg{seed}"
            subprocess.run([sys.executable, "-m", "embedtrain", "-q", "train", str(SHARED / "text8-prefix.gz"),
                            "--dim", "100", "--epochs", "5", "--threads", "2", "--seed", str(seed),
                            "-o", str(prefix)], check=True)
            row = {"seed": seed}
            for method, extra in (("mean", []), ("sif", ["--sif"])):
                proc = subprocess.run([sys.executable, "-m", "embedtrain", "-q", "eval-classify",
                                       f"{prefix}.etm", str(TREC / "trec.train.txt"), str(TREC / "trec.test.txt"),
                                       "--lowercase", "--json", *extra], check=True, capture_output=True,
                                      text=True)
                got = json.loads(proc.stdout)
                row[method] = {"accuracy": got["accuracy"], "macro_f1": got["macro_f1"]}
            out["runs"].append(row)
            print("sif", row, flush=True)
    out["medians"] = {m: {k: median([r[m][k] for r in out["runs"]]) for k in ("accuracy", "macro_f1")}
                      for m in ("mean", "sif")}
    print("sif", json.dumps(out["medians"]), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--no-sif", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "scripts" / "bench_docvec.out.json"))
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    seeds = [int(s) for s in args.seeds.split(",")]
    import gensim as gensim_module

    result = {"command": "flock /tmp/embedtrain-bench.lock python scripts/bench_docvec.py " + " ".join(sys.argv[1:]),
              "gensim": gensim_module.__version__, "seeds": seeds,
              "doc2vec": doc2vec_bench(seeds, args.configs.split(","))}
    if not args.no_sif:
        result["mean_vs_sif"] = sif_bench(seeds)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
