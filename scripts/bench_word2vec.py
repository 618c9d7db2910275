#!/usr/bin/env python
"""embedtrain vs gensim word2vec, side by side in one run, on ../shared/data/text8-prefix.gz.

Both tools get the same corpus file (text8 prefix as lines of 1,000 tokens; gensim in
its fastest mode, corpus_file) and the same settings: dim 100, window 5, negative 5,
sample 1e-3, min-count 5, 5 epochs, 2 threads. Each run is a whole process timed by
/usr/bin/time (wall, peak RSS). Scores use gensim's own evaluators on the written
vectors. Run under the shared lock so no other benchmark disturbs it:

    flock /tmp/embedtrain-bench.lock python scripts/bench_word2vec.py [--seeds 1,2,3] [--memory]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import SHARED_DATA as SHARED
from benchlib import scores, timed, write_lines

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = dict(dim=100, window=5, negative=5, sample=1e-3, min_count=5, epochs=5, threads=2)
LR = {"skipgram": 0.025, "cbow": 0.05}  # each tool's own default for the model

GENSIM_SCRIPT = """
import sys, logging
from gensim.models import Word2Vec
corpus, out, sg, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
m = Word2Vec(corpus_file=corpus, vector_size={dim}, window={window}, negative={negative},
             sample={sample}, min_count={min_count}, epochs={epochs}, workers={threads}, sg=sg,
             seed=seed)  # gensim's own default alpha, 0.025
m.wv.save_word2vec_format(out)
print("words", m.corpus_total_words, file=sys.stderr)
""".format(**SETTINGS)


def embedtrain_cmd(corpus: Path, prefix: Path, model: str, seed: int) -> list[str]:
    s = SETTINGS
    return [sys.executable, "-m", "embedtrain", "-q", "train", str(corpus), "--model", model,
            "--dim", str(s["dim"]), "--window", str(s["window"]), "--negative", str(s["negative"]),
            "--sample", str(s["sample"]), "--min-count", str(s["min_count"]), "--epochs", str(s["epochs"]),
            "--threads", str(s["threads"]), "--lr", str(LR[model]), "--seed", str(seed), "-o", str(prefix)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="1,2,3", help="comma-separated seeds (scores are averaged)")
    ap.add_argument("--models", default="skipgram,cbow")
    ap.add_argument("--memory", action="store_true", help="also train on the corpus repeated 8 times")
    ap.add_argument("--corpus", default=str(SHARED / "text8-prefix.gz"))
    ap.add_argument("--no-speed", action="store_true", help="skip the timed runs (with --memory)")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench-w2v-"))
    try:
        corpus = work / "text8-lines.txt"
        n_tokens = write_lines(Path(args.corpus), corpus)
        print(f"corpus: {args.corpus} as lines of 1,000 tokens: {n_tokens:,} tokens")
        print("settings: " + ", ".join(f"{k} {v}" for k, v in SETTINGS.items()))

        # First-run numba compile time: a tiny training with an empty cache, then warm.
        tiny = work / "tiny.txt"
        tiny.write_text(" ".join(corpus.read_text()[:200_000].split()[:20000]) + "\n")
        env = dict(os.environ, NUMBA_CACHE_DIR=str(work / "numba-cold"))
        for label, e in (("cold", env), ("warm", env)):
            t, _, _ = timed([sys.executable, "-m", "embedtrain", "-q", "train", str(tiny), "--model",
                             "skipgram", "-o", str(work / "tiny")] + [], env=e)
            t2, _, _ = timed([sys.executable, "-m", "embedtrain", "-q", "train", str(tiny), "--model",
                              "cbow", "--hs", "-o", str(work / "tiny")], env=e)
            print(f"tiny corpus, {label} numba cache: skip-gram {t:.1f} s, CBOW+HS {t2:.1f} s")
        # warm the real cache used below
        subprocess.run(embedtrain_cmd(tiny, work / "tiny", "skipgram", 1), check=True)
        subprocess.run(embedtrain_cmd(tiny, work / "tiny", "cbow", 1), check=True)

        gensim_py = work / "gensim_w2v.py"
        gensim_py.write_text(GENSIM_SCRIPT)
        header = f"{'model':9} {'tool':10} {'seed':>4} {'wall s':>7} {'RSS MB':>7} {'words/s':>10} {'analogy':>8} {'WS353':>6}"
        print()
        print(header)
        print("-" * len(header))
        summary = {}
        for model in ([] if args.no_speed else args.models.split(",")):
            for seed in seeds:
                rows = {}
                for tool in ("embedtrain", "gensim"):
                    out = work / f"{tool}-{model}-{seed}"
                    if tool == "embedtrain":
                        cmd = embedtrain_cmd(corpus, out, model, seed)
                        vec = Path(str(out) + ".vec")
                    else:
                        vec = Path(str(out) + ".vec")
                        cmd = [sys.executable, str(gensim_py), str(corpus), str(vec),
                               "1" if model == "skipgram" else "0", str(seed)]
                    wall, rss, _ = timed(cmd)
                    analogy, ws = scores(vec)
                    words_per_s = n_tokens * SETTINGS["epochs"] / wall
                    rows[tool] = (wall, rss, analogy, ws)
                    summary.setdefault((model, tool), []).append(rows[tool])
                    print(f"{model:9} {tool:10} {seed:>4} {wall:7.1f} {rss:7.0f} {words_per_s:10,.0f} "
                          f"{analogy:8.3f} {ws:6.3f}", flush=True)
        print()
        print("averages over seeds " + ",".join(map(str, seeds)))
        for model in ([] if args.no_speed else args.models.split(",")):
            e = summary[(model, "embedtrain")]
            g = summary[(model, "gensim")]
            avg = lambda rows, i: sum(r[i] for r in rows) / len(rows)  # noqa: E731
            print(f"{model:9} wall embedtrain {avg(e, 0):.1f} s, gensim {avg(g, 0):.1f} s: "
                  f"time ratio embedtrain/gensim {avg(e, 0) / avg(g, 0):.2f} "
                  f"(speed-up {avg(g, 0) / avg(e, 0):.2f}x); peak RSS {avg(e, 1):.0f} vs {avg(g, 1):.0f} MB; "
                  f"analogy {avg(e, 2):.3f} vs {avg(g, 2):.3f}; WS353 {avg(e, 3):.3f} vs {avg(g, 3):.3f}")

        if args.memory:
            # The corpus repeated 8 times, with min-count scaled by 8 so that the vocabulary
            # (and so the weight matrices) stays the same: only the corpus length changes.
            print()
            big = work / "text8-x8.txt"
            n_big = write_lines(Path(args.corpus), big, repeat=8)
            for label, path, n, repeat in (("1x", corpus, n_tokens, 1), ("8x", big, n_big, 8)):
                cmd = embedtrain_cmd(path, work / f"mem-{label}", "cbow", 1)
                cmd[cmd.index("--epochs") + 1] = "1"
                cmd[cmd.index("--min-count") + 1] = str(SETTINGS["min_count"] * repeat)
                wall, rss, _ = timed(cmd)
                vocab = (work / f"mem-{label}.vec").read_text().split("\n", 1)[0].split()[0]
                print(f"memory: CBOW 1 epoch on the corpus {label} ({n:,} tokens, min-count "
                      f"{SETTINGS['min_count'] * repeat}, vocabulary {int(vocab):,}): peak RSS {rss:.0f} MB, "
                      f"wall {wall:.1f} s")
            _, rss_import, _ = timed([sys.executable, "-c", "import numba, numpy, click, tqdm"])
            floor = work / "floor.py"
            floor.write_text("import numba\n@numba.njit(cache=True)\ndef f(x):\n    return x + 1\nf(1)\nf(1)\n")
            timed([sys.executable, str(floor)])  # fill its cache
            _, rss_floor, _ = timed([sys.executable, str(floor)])
            print(f"memory: importing numba, numpy, click and tqdm alone: peak RSS {rss_import:.0f} MB; "
                  f"plus calling one cached numba function (LLVM loaded): {rss_floor:.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
