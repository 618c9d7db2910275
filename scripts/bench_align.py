#!/usr/bin/env python
"""Benchmark: `embedtrain align` against VecMap on the same English and German vectors.

1. Trains English and German skip-gram vectors with this checkout's embedtrain on the
   Multi30k training captions (../shared/data/crosslingual/multi30k.train.{en,de}.tok.gz;
   --dim 100 --min-count 3, one thread and a fixed seed: the same vectors every run).
2. Splits the 5k English-German dictionary (xling-en-de.train5k.tsv) by source word,
   seeded, into training pairs and test pairs: --test-share of the source words that
   have a vector and a gold target with one are the test; every other pair trains.
3. Maps English onto German, each run interleaved, every process timed whole
   (/usr/bin/time -v):
     embedtrain align -d TRAIN                       (Procrustes after unit/centre/unit)
     embedtrain align -d TRAIN --csls --refine 5     (plus self-learning)
     VecMap map_embeddings.py --supervised TRAIN     (its recommended supervised recipe:
                                                      whitening, re-weighting, de-whitening)
     VecMap --supervised TRAIN --orthogonal          (its orthogonal map: our recipe)
     VecMap --semi_supervised TRAIN                  (its self-learning; only with
                                                      --semi-supervised: minutes a run)
4. Scores every mapping on the test pairs with embedtrain eval-translation (P@1, P@5,
   cosine and CSLS) and with VecMap's eval_translation.py (P@1, nn and csls).

VecMap is not part of embedtrain: get its files into a directory outside the repository
(map_embeddings.py, eval_translation.py, embeddings.py, cupy_utils.py from
github.com/artetxem/vecmap) and pass it as --vecmap. Run under the shared lock:

    flock /tmp/embedtrain-bench.lock python scripts/bench_align.py --vecmap /tmp/vecmap
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, SHARED_DATA, timed  # noqa: E402

CROSS = SHARED_DATA / "crosslingual"
CORPORA = {"en": CROSS / "multi30k.train.en.tok.gz", "de": CROSS / "multi30k.train.de.tok.gz"}
DICTIONARY = CROSS / "xling-en-de.train5k.tsv"
ENV = dict(os.environ, PYTHONPATH=str(ROOT))
EMBEDTRAIN = [sys.executable, "-m", "embedtrain"]


def train_vectors(work: Path, args) -> dict[str, Path]:
    out = {}
    for lang, corpus in CORPORA.items():
        prefix = work / lang
        vec = Path(str(prefix) + ".vec")
        if not vec.exists():
            subprocess.run([*EMBEDTRAIN, "-q", "train", str(corpus), "--dim", str(args.dim),
                            "--min-count", str(args.min_count), "--epochs", str(args.epochs),
                            "--threads", "1", "--seed", str(args.seed), "-o", str(prefix)],
                           check=True, env=ENV)
        out[lang] = vec
    return out


def vocabulary(vec: Path) -> set[str]:
    with open(vec, encoding="utf-8") as f:
        next(f)
        return {line.split(" ", 1)[0] for line in f}


def split_dictionary(work: Path, vec: dict[str, Path], test_share: float, seed: int
                     ) -> tuple[Path, Path, dict]:
    """Training and test pairs, split by source word (a word's pairs stay together). The
    test words are drawn from the covered source words (a vector, and a gold target with
    one): on Multi30k's small vocabularies most of the 5k dictionary has no vector, and a
    test of uncovered words measures nothing. Every other pair is a training pair."""
    pairs = [ln.split("\t") for ln in DICTIONARY.read_text(encoding="utf-8").splitlines() if ln.strip()]
    en, de = vocabulary(vec["en"]), vocabulary(vec["de"])
    sources = sorted({s for s, _ in pairs})
    covered = sorted({s for s, t in pairs if s in en and t in de})
    random.Random(seed).shuffle(covered)
    test_words = set(covered[:round(len(covered) * test_share)])
    train, test = work / "train.tsv", work / "test.tsv"
    train.write_text("".join(f"{s}\t{t}\n" for s, t in pairs if s not in test_words), encoding="utf-8")
    test.write_text("".join(f"{s}\t{t}\n" for s, t in pairs if s in test_words), encoding="utf-8")
    return train, test, {"dictionary_source_words": len(sources), "covered_source_words": len(covered),
                         "test_source_words": len(test_words)}


def ours_eval(src: Path, tgt: Path, test: Path, csls: bool) -> dict:
    cmd = [*EMBEDTRAIN, "eval-translation", str(src), str(tgt), str(test), "--json"]
    out = subprocess.run(cmd + (["--csls"] if csls else []), capture_output=True, text=True,
                         env=ENV, check=True)
    return json.loads(out.stdout)


def vecmap_eval(vecmap: Path, src: Path, tgt: Path, test: Path, csls: bool) -> dict:
    cmd = [sys.executable, str(vecmap / "eval_translation.py"), str(src), str(tgt), "-d", str(test),
           "--retrieval", "csls" if csls else "nn"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=vecmap).stdout
    m = re.search(r"Coverage:\s*([\d.]+)%\s+Accuracy:\s*([\d.]+)%", out)
    return {"coverage": float(m.group(1)) / 100, "p@1": float(m.group(2)) / 100}


def scale(args) -> None:
    """Memory at scale: two random N-word spaces (npy, so reading is not what is timed),
    N test pairs' worth of queries, eval-translation timed whole with cosine and CSLS."""
    import numpy as np

    from embedtrain.io.formats import write_vectors
    from embedtrain.vectors import Vectors

    rng = np.random.default_rng(args.seed)
    words = [f"w{i}" for i in range(args.scale)]
    paths = []
    for name in ("src", "tgt"):
        path = args.work / f"scale-{name}.npy"
        write_vectors(path, Vectors(words, rng.normal(size=(args.scale, args.dim)).astype(np.float32)),
                      "npy")
        paths.append(path)
    test = args.work / "scale-test.tsv"
    test.write_text("".join(f"w{i}\tw{i}\n" for i in range(0, args.scale, args.scale // 5000)))
    out = {"words": args.scale, "dim": args.dim}
    for csls in (False, True):
        wall, peak, _ = timed([*EMBEDTRAIN, "eval-translation", *map(str, paths), str(test), "--json"]
                              + (["--csls"] if csls else []), env=ENV)
        out["csls" if csls else "cosine"] = {"seconds": wall, "peak_rss_mb": peak}
    print(json.dumps(out, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vecmap", type=Path, default=Path("/tmp/vecmap"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_align"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--min-count", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--test-share", type=float, default=0.5)
    parser.add_argument("--refine", type=int, default=5)
    parser.add_argument("--semi-supervised", action="store_true",
                        help="also VecMap's self-learning mode (slow: minutes per run)")
    parser.add_argument("--scale", type=int, default=0,
                        help="instead: time eval-translation on two random spaces of N words")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.scale:
        return scale(args)
    vec = train_vectors(args.work, args)
    train, test, split = split_dictionary(args.work, vec, args.test_share, args.seed)
    w = args.work
    vm = [sys.executable, str(args.vecmap / "map_embeddings.py")]
    methods = {
        "embedtrain align": ([*EMBEDTRAIN, "align", vec["en"], vec["de"], "-d", train, "-o",
                              w / "et.en.vec", "--target-output", w / "et.de.vec"],
                             w / "et.en.vec", w / "et.de.vec", ENV),
        f"embedtrain align --csls --refine {args.refine}": (
            [*EMBEDTRAIN, "align", vec["en"], vec["de"], "-d", train, "-o", w / "etr.en.vec",
             "--target-output", w / "etr.de.vec", "--csls", "--refine", str(args.refine)],
            w / "etr.en.vec", w / "etr.de.vec", ENV),
        "VecMap --supervised": ([*vm, "--supervised", train, vec["en"], vec["de"], w / "vm.en.vec",
                                 w / "vm.de.vec"], w / "vm.en.vec", w / "vm.de.vec", None),
        "VecMap --supervised --orthogonal": (
            [*vm, "--supervised", train, "--orthogonal", vec["en"], vec["de"], w / "vmo.en.vec",
             w / "vmo.de.vec"], w / "vmo.en.vec", w / "vmo.de.vec", None),
    }
    if args.semi_supervised:   # minutes per run (hundreds of stochastic iterations): optional
        methods["VecMap --semi_supervised"] = (
            [*vm, "--semi_supervised", train, vec["en"], vec["de"], w / "vms.en.vec",
             w / "vms.de.vec"], w / "vms.en.vec", w / "vms.de.vec", None)
    times: dict[str, list[float]] = {name: [] for name in methods}
    rss: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(args.runs):            # interleaved: each run times every method once
        for name, (cmd, *_rest, env) in methods.items():
            wall, peak, _ = timed([str(c) for c in cmd], env=env)
            times[name].append(wall)
            rss[name].append(peak)
    results = {"settings": vars(args) | {"vecmap": str(args.vecmap), "work": str(args.work)},
               "vectors": {lang: sum(1 for _ in open(p, encoding="utf-8")) - 1 for lang, p in vec.items()},
               **split, "train_pairs": sum(1 for _ in open(train)), "test_pairs": sum(1 for _ in open(test)),
               "methods": {}}
    for name, (_cmd, src_out, tgt_out, _env) in methods.items():
        row = {"seconds": times[name], "median_seconds": statistics.median(times[name]),
               "median_rss_mb": statistics.median(rss[name])}
        for csls in (False, True):
            key = "csls" if csls else "cosine"
            row[f"embedtrain_eval_{key}"] = ours_eval(src_out, tgt_out, test, csls)
            row[f"vecmap_eval_{key}"] = vecmap_eval(args.vecmap, src_out, tgt_out, test, csls)
        results["methods"][name] = row
    base = results["methods"]["embedtrain align"]["median_seconds"]
    for name, row in results["methods"].items():
        row["time_over_embedtrain_align"] = row["median_seconds"] / base
    (w / "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))
    print("\n| method | median s | P@1 cos | P@5 cos | P@1 CSLS | P@5 CSLS | VecMap eval P@1 nn / csls | coverage |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, row in results["methods"].items():
        c, s = row["embedtrain_eval_cosine"], row["embedtrain_eval_csls"]
        vc, vs = row["vecmap_eval_cosine"], row["vecmap_eval_csls"]
        print(f"| {name} | {row['median_seconds']:.2f} | {c['p@1']:.4f} | {c['p@5']:.4f} | "
              f"{s['p@1']:.4f} | {s['p@5']:.4f} | {vc['p@1']:.4f} / {vs['p@1']:.4f} | {c['coverage']:.4f} |")


if __name__ == "__main__":
    main()
