#!/usr/bin/env python
"""embedtrain FastText vs the fasttext package, side by side in one run.

Both train skip-gram on ../shared/data/text8-prefix.gz (decompressed once to a temp
file as lines of 1,000 tokens, which both tools read) with the same settings: dim
100, window (ws) 5, negative (neg) 5, 5 epochs, min-count 5, minn 3, maxn 6, bucket
2,000,000, t 1e-4, lr 0.05, 2 threads. Each tool runs as its own process under
/usr/bin/time -v (wall time and peak RSS of the whole process: start-up,
vocabulary, training, writing the model and the .vec). The fasttext package has no
command line here, so its process calls fasttext.train_unsupervised, then writes
the .bin (save_model) and the .vec (every word's get_word_vector), as fastText's
CLI does. Scores come from gensim's evaluators on each tool's .vec:
evaluate_word_analogies(questions-words.txt, restrict_vocab=30000,
case_insensitive=True) and evaluate_word_pairs(wordsim353.tsv, case_insensitive=True).

Run it under the shared lock so benchmarks never overlap:

    flock /tmp/embedtrain-bench.lock python scripts/bench_fasttext.py [--seeds 3] \
        [--variant "shared=--shared-negatives"]

Each --variant NAME=OPTIONS adds an embedtrain run per seed with those extra options,
so variants and the fasttext package are measured in the same run under the same load.
"""
from __future__ import annotations

import argparse
import logging
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import scores, timed, write_lines

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
CORPUS = DATA / "text8-prefix.gz"
ANALOGIES = DATA / "questions-words.txt"
WORDSIM = DATA / "wordsim353.tsv"
LINE_TOKENS = 1000

SETTINGS = dict(dim=100, window=5, negative=5, epochs=5, min_count=5, minn=3, maxn=6,
                bucket=2_000_000, sample=1e-4, lr=0.05, threads=2)

FASTTEXT_SCRIPT = """
import sys, numpy as np, fasttext
corpus, prefix, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = {settings!r}
m = fasttext.train_unsupervised(corpus, model="skipgram", dim=s["dim"], ws=s["window"],
        neg=s["negative"], epoch=s["epochs"], minCount=s["min_count"], minn=s["minn"],
        maxn=s["maxn"], bucket=s["bucket"], t=s["sample"], lr=s["lr"], thread=s["threads"],
        verbose=0)  # this binding takes no seed; with 2 threads every run differs anyway
m.save_model(prefix + ".bin")
words = m.words
with open(prefix + ".vec", "w", encoding="utf-8") as out:
    out.write(f"{{len(words)}} {{m.get_dimension()}}\\n")
    for w in words:
        out.write(w + " " + " ".join("%.5g" % x for x in m.get_word_vector(w).tolist()) + "\\n")
"""


def prepare_corpus(tmp: Path) -> Path:
    path = tmp / "text8-prefix-lines.txt"
    write_lines(CORPUS, path, per_line=LINE_TOKENS)
    return path


def measured(cmd: list[str], vec: Path) -> dict:
    wall, rss, _ = timed(cmd)
    analogy, wordsim = scores(vec)
    return {"wall": wall, "rss_mb": rss, "analogy": analogy, "wordsim": wordsim}


def run_embedtrain(corpus: Path, prefix: Path, seed: int, extra: list[str]) -> dict:
    s = SETTINGS
    cmd = [sys.executable, "-m", "embedtrain", "train", str(corpus), "--model", "fasttext",
           "--arch", "skipgram", "-o", str(prefix), "-q", "--seed", str(seed),
           "--max-line-tokens", str(LINE_TOKENS)]
    for key, value in s.items():
        cmd += ["--" + key.replace("_", "-"), str(value)]
    return measured(cmd + extra, prefix.with_suffix(".vec"))


def run_fasttext(corpus: Path, prefix: Path, seed: int) -> dict:
    script = FASTTEXT_SCRIPT.format(settings=SETTINGS)
    return measured([sys.executable, "-c", script, str(corpus), str(prefix), str(seed)],
                    prefix.with_suffix(".vec"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="runs of each tool (seeds 1..N)")
    parser.add_argument("--tmp-dir", default=None)
    parser.add_argument("--variant", action="append", default=[],
                        help="NAME=OPTIONS: also run embedtrain with these extra options")
    args = parser.parse_args()
    runners = {"embedtrain fasttext": lambda corpus, prefix, seed: run_embedtrain(corpus, prefix, seed, [])}
    for variant in args.variant:
        name, _, options = variant.partition("=")
        runners[f"embedtrain {name}"] = (
            lambda corpus, prefix, seed, extra=shlex.split(options): run_embedtrain(corpus, prefix, seed, extra))
    runners["fasttext (package)"] = run_fasttext
    width = max(22, max(map(len, runners)) + 2)
    logging.getLogger("gensim").setLevel(logging.WARNING)
    for path in (CORPUS, ANALOGIES, WORDSIM):
        if not path.exists():
            sys.exit(f"missing {path}")
    try:
        import fasttext  # noqa: F401
    except ImportError:
        sys.exit("the fasttext package is not installed (pip install fasttext)")

    with tempfile.TemporaryDirectory(dir=args.tmp_dir) as tmp_name:
        tmp = Path(tmp_name)
        corpus = prepare_corpus(tmp)
        # Compile (or load from cache) embedtrain's kernels outside the timed runs (at the runs' dim:
        # the training kernel is compiled for its rows' length),
        # as fastText's are compiled ahead of time.
        warm = tmp / "warm.txt"
        warm.write_text("a b c d e f g a b c\n" * 20)
        subprocess.run([sys.executable, "-m", "embedtrain", "train", str(warm), "--model", "fasttext",
                        "--min-count", "1", "--bucket", "1000", "--dim", str(SETTINGS["dim"]), "--epochs", "1", "-q",
                        "-o", str(tmp / "warm")], check=True)
        print(f"corpus: {CORPUS.name}, lines of {LINE_TOKENS} tokens; settings: "
              + ", ".join(f"{k} {v}" for k, v in SETTINGS.items()), flush=True)
        header = f"{'tool':<{width}}{'seed':>5}{'wall s':>9}{'peak RSS MB':>13}{'questions-words':>17}{'WordSim-353':>13}"
        print(header)
        print("-" * len(header), flush=True)
        rows = {tool: [] for tool in runners}
        for seed in range(1, args.seeds + 1):
            for number, (tool, runner) in enumerate(runners.items()):
                prefix = tmp / f"run{number}-{seed}"
                r = runner(corpus, prefix, seed)
                rows[tool].append(r)
                print(f"{tool:<{width}}{seed:>5}{r['wall']:>9.1f}{r['rss_mb']:>13.0f}{r['analogy']:>17.3f}"
                      f"{r['wordsim']:>13.3f}", flush=True)
                for ext in (".vec", ".etm", ".bin"):
                    prefix.with_suffix(ext).unlink(missing_ok=True)
        print("-" * len(header))
        means, medians = {}, {}
        for tool, results in rows.items():
            means[tool] = {k: sum(r[k] for r in results) / len(results)
                           for k in ("wall", "rss_mb", "analogy", "wordsim")}
            medians[tool] = statistics.median(r["wall"] for r in results)
            m = means[tool]
            print(f"{tool + ' mean':<{width + 5}}{m['wall']:>9.1f}{m['rss_mb']:>13.0f}{m['analogy']:>17.3f}"
                  f"{m['wordsim']:>13.3f}")
        theirs = means["fasttext (package)"]
        for tool in runners:
            if tool == "fasttext (package)":
                continue
            ours = means[tool]
            print(f"\n{tool}: time ratio to fasttext {ours['wall'] / theirs['wall']:.2f} (means), "
                  f"{medians[tool] / medians['fasttext (package)']:.2f} (medians); per seed "
                  + ", ".join(f"{a['wall'] / b['wall']:.2f}" for a, b in zip(rows[tool], rows["fasttext (package)"])))
            print(f"{tool}: score difference to fasttext: questions-words {ours['analogy'] - theirs['analogy']:+.3f}, "
                  f"WordSim-353 {ours['wordsim'] - theirs['wordsim']:+.3f}")


if __name__ == "__main__":
    main()
