#!/usr/bin/env python
"""Continuing on new text: embedtrain --continue against training from scratch and against
gensim's build_vocab(update=True) + train(), on the two halves of a corpus.

The corpus (../shared/data/corpora/enwiki2015-AA.text8style.txt.gz by default) is cut into
lines of at most 1,000 tokens and split by lines into halves A and B. For each tool:
train on A; continue that model on B; train on A+B from scratch. Same settings for both
tools (dim 100, window 5, negative 5, sample 1e-3, min-count 5, 5 epochs, 2 threads,
skip-gram; gensim in corpus_file mode). Each run is a whole process timed by
/usr/bin/time; scores by gensim's evaluators (benchlib.scores). Run under the shared lock:

    flock /tmp/embedtrain-bench.lock python scripts/bench_continue.py [--epochs 5] [--seed 1]
        [--corpus PATH] [--json OUT.json] [--no-gensim] [--continue-lr LR ...]
    (also a fresh run on B alone: what continuing on B should cost)
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
from pathlib import Path

from benchlib import SHARED_DATA, scores, timed

SETTINGS = dict(dim=100, window=5, negative=5, sample=1e-3, min_count=5, threads=2)
LINE_TOKENS = 1000

GENSIM_SCRIPT = """
import sys
from gensim.models import Word2Vec
mode, corpus, out, seed, epochs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
if mode == "train":
    m = Word2Vec(corpus_file=corpus, vector_size={dim}, window={window}, negative={negative},
                 sample={sample}, min_count={min_count}, epochs=epochs, workers={threads}, sg=1, seed=seed)
    m.save(out + ".model")
else:  # continue the model saved at sys.argv[6] on corpus
    m = Word2Vec.load(sys.argv[6])
    before = len(m.wv)
    m.build_vocab(corpus_file=corpus, update=True)
    m.train(corpus_file=corpus, total_examples=m.corpus_count, total_words=m.corpus_total_words,
            epochs=epochs)
    print("new words", len(m.wv) - before, file=sys.stderr)
m.wv.save_word2vec_format(out + ".vec")
""".format(**SETTINGS)


def split(corpus: Path, out: Path) -> dict[str, int]:
    """Write A.txt, B.txt and AB.txt (A then B) under ``out``; returns their token counts."""
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        lines = []
        for line in f:
            tokens = line.split()
            lines.extend(" ".join(tokens[i:i + LINE_TOKENS]) for i in range(0, len(tokens), LINE_TOKENS))
    half = len(lines) // 2
    parts = {"A": lines[:half], "B": lines[half:], "AB": lines}
    counts = {}
    for name, part in parts.items():
        (out / f"{name}.txt").write_text("\n".join(part) + "\n", encoding="utf-8")
        counts[name] = sum(len(l.split()) for l in part) if name != "AB" else counts["A"] + counts["B"]
    return counts


def embedtrain_cmd(corpus: Path, prefix: Path, seed: int, epochs: int, extra=()) -> list[str]:
    s = SETTINGS
    return [sys.executable, "-m", "embedtrain", "-q", "train", str(corpus), "--model", "skipgram",
            "--dim", str(s["dim"]), "--window", str(s["window"]), "--negative", str(s["negative"]),
            "--sample", str(s["sample"]), "--min-count", str(s["min_count"]), "--epochs", str(epochs),
            "--threads", str(s["threads"]), "--seed", str(seed), "-o", str(prefix), *extra]


def vocab_size(vec: Path) -> int:
    with open(vec, encoding="utf-8") as f:
        return int(f.readline().split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=SHARED_DATA / "corpora" / "enwiki2015-AA.text8style.txt.gz")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-gensim", action="store_true", help="embedtrain's runs only (more seeds)")
    parser.add_argument("--continue-lr", type=float, nargs="*", default=[],
                        help="also continue A on B at each of these --lr values (a lower rate moves old rows less)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        tokens = split(args.corpus, d)
        print(f"tokens: A {tokens['A']:,}, B {tokens['B']:,}", file=sys.stderr)
        gensim = d / "gensim_run.py"
        gensim.write_text(GENSIM_SCRIPT)

        def record(tool: str, run: str, cmd: list[str], vec: Path) -> None:
            wall, rss, _ = timed(cmd)
            analogy, ws = scores(vec)
            row = dict(tool=tool, run=run, seconds=round(wall, 1), rss_mb=round(rss), vocab=vocab_size(vec),
                       questions_words=round(analogy, 4), wordsim353=round(ws, 4))
            results.append(row)
            print(json.dumps(row), file=sys.stderr)

        e, s = args.epochs, args.seed
        record("embedtrain", "A", embedtrain_cmd(d / "A.txt", d / "et_A", s, e), d / "et_A.vec")
        record("embedtrain", "A, continued on B",
               embedtrain_cmd(d / "B.txt", d / "et_AB_cont", s, e, ["--continue", str(d / "et_A.etm")]),
               d / "et_AB_cont.vec")
        record("embedtrain", "A+B from scratch", embedtrain_cmd(d / "AB.txt", d / "et_AB", s, e), d / "et_AB.vec")
        for lr in args.continue_lr:
            prefix = d / f"et_AB_cont_lr{lr:g}".replace(".", "_")
            record("embedtrain", f"A, continued on B, --lr {lr}",
                   embedtrain_cmd(d / "B.txt", prefix, s, e, ["--continue", str(d / "et_A.etm"), "--lr", str(lr)]),
                   prefix.with_suffix(".vec"))
        # what continuing should cost: a fresh run on B alone
        record("embedtrain", "B from scratch", embedtrain_cmd(d / "B.txt", d / "et_B", s, e), d / "et_B.vec")
        if args.no_gensim:
            results_out(args, tokens, results)
            return
        py = [sys.executable, str(gensim)]
        record("gensim", "A", py + ["train", str(d / "A.txt"), str(d / "gs_A"), str(s), str(e)], d / "gs_A.vec")
        record("gensim", "A, continued on B",
               py + ["continue", str(d / "B.txt"), str(d / "gs_AB_cont"), str(s), str(e),
                     str(d / "gs_A.model")], d / "gs_AB_cont.vec")
        record("gensim", "A+B from scratch", py + ["train", str(d / "AB.txt"), str(d / "gs_AB"), str(s), str(e)],
               d / "gs_AB.vec")
    results_out(args, tokens, results)


def results_out(args, tokens: dict, results: list) -> None:
    out = {"corpus": str(args.corpus), "tokens": tokens, "settings": dict(SETTINGS, epochs=args.epochs,
           seed=args.seed, model="skipgram"), "results": results}
    text = json.dumps(out, indent=1)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
