#!/usr/bin/env python
"""embedtrain vs gensim word2vec, side by side in one run, on ../shared/data/text8-prefix.gz.

Both tools get the same corpus file (text8 prefix as lines of 1,000 tokens; gensim in
its fastest mode, corpus_file) and the same settings: dim 100, window 5, negative 5,
sample 1e-3, min-count 5, 5 epochs, 2 threads. Each run is a whole process timed by
/usr/bin/time (wall, peak RSS). Scores use gensim's own evaluators on the written
vectors. Run under the shared lock so no other benchmark disturbs it:

    flock /tmp/embedtrain-bench.lock python scripts/bench_word2vec.py [--seeds 1,2,3,4,5] [--memory]
        [--variant "w2v-c=--init-bound 0.5 --epoch-decay 1"] [--variant "shared=--shared-negatives"]
        [--phases] [--before DIR] [--no-compile] [--epochs N] [--no-scores] [--threads N]

--phases runs each embedtrain process through scripts/phases.py and prints where its time
goes, phase by phase (wall and CPU seconds, medians over the seeds), also written to
scripts/bench_word2vec_phases.out.json. --before DIR also runs a checkout of another revision
(its default settings) in the same rounds, as "before".

Each --variant NAME=OPTIONS adds an embedtrain run per seed with those extra options (the
default settings run as "embedtrain"). Averages are means over the seeds with the sample
standard deviation as the spread.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import statistics
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import SHARED_DATA as SHARED
from benchlib import scores, timed, write_bytecode, write_lines
from phases import PHASES, run_with_phases

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = dict(dim=100, window=5, negative=5, sample=1e-3, min_count=5, epochs=5, threads=2)
LR = {"skipgram": 0.025, "cbow": 0.05}  # each tool's own default for the model

GENSIM_TEMPLATE = """
import sys, logging
from gensim.models import Word2Vec
corpus, out, sg, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
m = Word2Vec(corpus_file=corpus, vector_size={dim}, window={window}, negative={negative},
             sample={sample}, min_count={min_count}, epochs={epochs}, workers={threads}, sg=sg,
             seed=seed)  # gensim's own default alpha, 0.025
m.wv.save_word2vec_format(out)
print("words", m.corpus_total_words, file=sys.stderr)
"""
GENSIM_SCRIPT = GENSIM_TEMPLATE.format(**SETTINGS)   # at the benchmark's settings (bench_memory.py)


def embedtrain_cmd(corpus: Path, prefix: Path, model: str, seed: int, extra: list[str] = ()) -> list[str]:
    s = SETTINGS
    return [sys.executable, "-m", "embedtrain", "-q", "train", str(corpus), "--model", model,
            "--dim", str(s["dim"]), "--window", str(s["window"]), "--negative", str(s["negative"]),
            "--sample", str(s["sample"]), "--min-count", str(s["min_count"]), "--epochs", str(s["epochs"]),
            "--threads", str(s["threads"]), "--lr", str(LR[model]), "--seed", str(seed), "-o", str(prefix),
            *extra]


def mean_spread(values: list[float]) -> str:
    """mean +- sample standard deviation"""
    if len(values) < 2 or any(math.isnan(v) for v in values):   # one seed, or --no-scores
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} +- {statistics.stdev(values):.3f}"


def print_phases(phase_runs: dict[tuple[str, str], list[dict]], summary: dict) -> None:
    """Where each embedtrain run's time went: median wall and CPU seconds of each phase."""
    print()
    print("where the time goes: median over the seeds, wall s / CPU s")
    keys = list(phase_runs)
    print(f"{'phase':28} " + " ".join(f"{m + ' ' + t:>20}" for m, t in keys))
    table = {}
    for phase in (*PHASES, "whole run"):
        cells = []
        for key in keys:
            runs = phase_runs[key]
            if phase == "whole run":
                wall = statistics.median(r[0] for r in summary[key])
                cpu = statistics.median(sum(v[1] for v in run.values()) for run in runs)
            else:
                wall = statistics.median(run[phase][0] for run in runs)
                cpu = statistics.median(run[phase][1] for run in runs)
            table.setdefault(f"{key[0]} {key[1]}", {})[phase] = [round(wall, 3), round(cpu, 3)]
            cells.append(f"{wall:9.3f} / {cpu:8.3f}")
        print(f"{phase:28} " + " ".join(f"{c:>20}" for c in cells))
    out = {"phases_median": table,
           "runs": {f"{m} {t}": [{"wall_s": r[0], "rss_mb": r[1]} for r in summary[(m, t)]]
                    for (m, t) in summary}}
    (ROOT / "scripts" / "bench_word2vec_phases.out.json").write_text(json.dumps(out, indent=1) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="1,2,3", help="comma-separated seeds (scores are averaged)")
    ap.add_argument("--models", default="skipgram,cbow")
    ap.add_argument("--memory", action="store_true", help="also train on the corpus repeated 8 times")
    ap.add_argument("--corpus", default=str(SHARED / "text8-prefix.gz"))
    ap.add_argument("--no-speed", action="store_true", help="skip the timed runs (with --memory)")
    ap.add_argument("--variant", action="append", default=[],
                    help="NAME=OPTIONS: also run embedtrain with these extra options")
    ap.add_argument("--no-gensim", action="store_true", help="embedtrain runs only")
    ap.add_argument("--phases", action="store_true", help="time each embedtrain run phase by phase")
    ap.add_argument("--before", type=Path, default=None, help="also run this checkout (as 'before')")
    ap.add_argument("--no-compile", action="store_true", help="skip the cold-cache compile timing")
    ap.add_argument("--epochs", type=int, default=SETTINGS["epochs"],
                    help="epochs of every run (1: short runs for the fixed costs' phases)")
    ap.add_argument("--no-scores", action="store_true", help="time only (scores shown as nan)")
    ap.add_argument("--threads", type=int, default=SETTINGS["threads"],
                    help="threads of every run (1: each seed's run is reproducible, for a quality check)")
    args = ap.parse_args()
    SETTINGS["epochs"] = args.epochs
    SETTINGS["threads"] = args.threads
    variants = {"embedtrain": []}
    trees = {"embedtrain": ROOT}
    if args.before:
        variants["before"] = []
        trees["before"] = args.before.resolve()
    for v in args.variant:
        name, _, options = v.partition("=")
        variants[name] = shlex.split(options)
    tools = list(variants) + ([] if args.no_gensim else ["gensim"])
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
        for label, e in () if args.no_compile else (("cold", env), ("warm", env)):
            t, _, _ = timed([sys.executable, "-m", "embedtrain", "-q", "train", str(tiny), "--model",
                             "skipgram", "-o", str(work / "tiny")] + [], env=e)
            t2, _, _ = timed([sys.executable, "-m", "embedtrain", "-q", "train", str(tiny), "--model",
                              "cbow", "--hs", "-o", str(work / "tiny")], env=e)
            print(f"tiny corpus, {label} numba cache: skip-gram {t:.1f} s, CBOW+HS {t2:.1f} s")
        # warm the real cache used below (one epoch of the corpus itself: the tiny one is one
        # job, under the threads' own rows, so the second thread's kernels and the merges were
        # compiled in the first timed run after a kernel source changed); bytecode as an
        # installed package has it
        for tree in trees.values():
            write_bytecode(tree)
            for model in ("skipgram", "cbow"):
                subprocess.run(embedtrain_cmd(corpus, work / "warm", model, 1, ["--epochs", "1"]), check=True,
                               env=dict(os.environ, PYTHONPATH=str(tree)), cwd=tree)

        gensim_py = work / "gensim_w2v.py"
        gensim_py.write_text(GENSIM_TEMPLATE.format(**SETTINGS))
        header = f"{'model':9} {'tool':14} {'seed':>4} {'wall s':>7} {'RSS MB':>7} {'words/s':>10} {'analogy':>8} {'WS353':>6}"
        print()
        print(header)
        print("-" * len(header))
        summary = {}
        phase_runs: dict[tuple[str, str], list[dict]] = {}
        for model in ([] if args.no_speed else args.models.split(",")):
            for n, seed in enumerate(seeds):
                rows = {}
                # embedtrain's trees take turns to go first (the first of a pair of the same run
                # ran 1.5-2.5 % slower in bench_threads.py's rounds of 2026-12-07); gensim goes last
                ours = [t for t in tools if t != "gensim"]
                for tool in (ours if n % 2 == 0 else ours[::-1]) + [t for t in tools if t == "gensim"]:
                    out = work / f"{tool}-{model}-{seed}"
                    vec = Path(str(out) + ".vec")
                    tree = trees.get(tool, ROOT)
                    env, cwd = dict(os.environ, PYTHONPATH=str(tree)), tree
                    if tool != "gensim":
                        cmd = embedtrain_cmd(corpus, out, model, seed, variants[tool])
                    else:
                        env, cwd = None, work
                        cmd = [sys.executable, str(gensim_py), str(corpus), str(vec),
                               "1" if model == "skipgram" else "0", str(seed)]
                    if args.phases and tool != "gensim":
                        wall, rss, table = run_with_phases(cmd[3:], env=env)
                        phase_runs.setdefault((model, tool), []).append(table)
                    else:
                        wall, rss, _ = timed(cmd, env=env, cwd=cwd)
                    analogy, ws = (float("nan"),) * 2 if args.no_scores else scores(vec)
                    words_per_s = n_tokens * SETTINGS["epochs"] / wall
                    rows[tool] = (wall, rss, analogy, ws)
                    summary.setdefault((model, tool), []).append(rows[tool])
                    print(f"{model:9} {tool:14} {seed:>4} {wall:7.1f} {rss:7.0f} {words_per_s:10,.0f} "
                          f"{analogy:8.3f} {ws:6.3f}", flush=True)
        print()
        print("over seeds " + ",".join(map(str, seeds)) + ": mean +- standard deviation")
        for model in ([] if args.no_speed else args.models.split(",")):
            for tool in tools:
                rows = summary[(model, tool)]
                col = lambda i: [r[i] for r in rows]  # noqa: E731
                line = (f"{model:9} {tool:14} wall {mean_spread(col(0))} s, peak RSS {statistics.mean(col(1)):.0f} MB, "
                        f"analogy {mean_spread(col(2))}, WS353 {mean_spread(col(3))}")
                if "gensim" in tools and tool != "gensim":
                    g = summary[(model, "gensim")]
                    ratio = statistics.mean(col(0)) / statistics.mean([r[0] for r in g])
                    per_seed = [r[0] / q[0] for r, q in zip(rows, g)]
                    median_ratio = statistics.median(col(0)) / statistics.median([r[0] for r in g])
                    line += (f"; time ratio /gensim {ratio:.2f} (medians {median_ratio:.2f}; per seed, "
                             f"side by side: median {statistics.median(per_seed):.2f})")
                print(line)
        if phase_runs:
            print_phases(phase_runs, summary)

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
