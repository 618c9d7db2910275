"""Benchmark: loading a large vectors file and the full Google analogy run, embedtrain vs gensim.

Builds 70,000 x 300 random float32 vectors whose words are the 70,000 most frequent words of
../shared/data/text8-prefix.gz (so the Google questions find their words as they would with
real vectors), writes them in word2vec text and binary format in a temporary directory, then
times each tool's whole process with /usr/bin/time -v (wall, peak RSS), one after the other:

  load text     read the word2vec text file
  load binary   read the word2vec binary file
  analogy       read the binary file, then all 19,544 questions-words.txt questions with
                restrict_vocab 30,000, case-insensitive (gensim: evaluate_word_analogies)

Each child also reports the time of the step itself (without interpreter start-up and
imports) and its result, so the two tools' answers can be compared.

Run under the shared lock:  flock /tmp/embedtrain-bench.lock python scripts/bench_eval.py
"""
from __future__ import annotations

import argparse
import collections
import gzip
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
TEXT8 = SHARED / "text8-prefix.gz"
QUESTIONS = ROOT / "embedtrain" / "datasets" / "questions-words.txt"
RESTRICT_VOCAB = 30_000

CHILD = {
    ("embedtrain", "load text"): """
from embedtrain.io.formats import load_vectors
t = time.perf_counter(); v = load_vectors(TEXT)
result = {"seconds": time.perf_counter() - t, "words": len(v), "checksum": float(v.vectors.sum())}
""",
    ("gensim", "load text"): """
from gensim.models import KeyedVectors
t = time.perf_counter(); kv = KeyedVectors.load_word2vec_format(TEXT)
result = {"seconds": time.perf_counter() - t, "words": len(kv), "checksum": float(kv.vectors.sum())}
""",
    ("embedtrain", "load binary"): """
from embedtrain.io.formats import load_vectors
t = time.perf_counter(); v = load_vectors(BINARY)
result = {"seconds": time.perf_counter() - t, "words": len(v), "checksum": float(v.vectors.sum())}
""",
    ("gensim", "load binary"): """
from gensim.models import KeyedVectors
t = time.perf_counter(); kv = KeyedVectors.load_word2vec_format(BINARY, binary=True)
result = {"seconds": time.perf_counter() - t, "words": len(kv), "checksum": float(kv.vectors.sum())}
""",
    ("embedtrain", "analogy"): """
from embedtrain.io.formats import load_vectors
from embedtrain.evaluate import evaluate_analogies
v = load_vectors(BINARY)
t = time.perf_counter()
r = evaluate_analogies(v, QUESTIONS, restrict_vocab=RESTRICT)
result = {"seconds": time.perf_counter() - t, "accuracy": r.accuracy, "found": r.found,
          "correct": r.correct}
""",
    ("gensim", "analogy"): """
import logging
from gensim.models import KeyedVectors
logging.disable(logging.INFO)
kv = KeyedVectors.load_word2vec_format(BINARY, binary=True)
t = time.perf_counter()
score, sections = kv.evaluate_word_analogies(QUESTIONS, restrict_vocab=RESTRICT, case_insensitive=True)
total = sections[-1]
result = {"seconds": time.perf_counter() - t, "accuracy": score,
          "found": len(total["correct"]) + len(total["incorrect"]), "correct": len(total["correct"])}
""",
}


def make_vectors(directory: Path, n_words: int, dim: int, seed: int) -> tuple[Path, Path]:
    from embedtrain.io.formats import write_word2vec_binary, write_word2vec_text

    with gzip.open(TEXT8, "rt", encoding="ascii") as f:
        counts = collections.Counter(f.read().split())
    words = [w for w, _ in counts.most_common(n_words)]
    vectors = np.random.default_rng(seed).standard_normal((len(words), dim)).astype(np.float32)
    text, binary = directory / "big.vec", directory / "big.bin"
    write_word2vec_text(text, words, vectors)
    write_word2vec_binary(binary, words, vectors)
    return text, binary


def run_child(code: str, text: Path, binary: Path) -> dict:
    prelude = (f"import json, time\nTEXT = {str(text)!r}\nBINARY = {str(binary)!r}\n"
               f"QUESTIONS = {str(QUESTIONS)!r}\nRESTRICT = {RESTRICT_VOCAB}\n")
    script = prelude + code + "\nprint('RESULT ' + json.dumps(result))\n"
    proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-c", script],
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"child failed:\n{proc.stdout}\n{proc.stderr}")
    result = json.loads(re.search(r"^RESULT (.*)$", proc.stdout, re.M).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    hours, minutes, seconds = (float(x) if x else 0.0 for x in wall.groups())
    result["wall"] = hours * 3600 + minutes * 60 + seconds
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    result["rss_mb"] = int(rss.group(1)) / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=70_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not TEXT8.exists():
        raise SystemExit(f"needs {TEXT8}")
    with tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp:
        t = time.perf_counter()
        text, binary = make_vectors(Path(tmp), args.words, args.dim, args.seed)
        print(f"vectors: {args.words:,} x {args.dim} random, words from text8-prefix; "
              f"text {text.stat().st_size / 1e6:.0f} MB, binary {binary.stat().st_size / 1e6:.0f} MB "
              f"(made in {time.perf_counter() - t:.1f} s)")
        print(f"analogy: {QUESTIONS.name}, restrict_vocab {RESTRICT_VOCAB:,}, case-insensitive, 3CosAdd\n")
        print(f"{'task':<12} {'tool':<11} {'wall s':>7} {'step s':>7} {'peak MB':>8}  result")
        for task in ("load text", "load binary", "analogy"):
            rows = {}
            for tool in ("embedtrain", "gensim"):
                r = run_child(CHILD[(tool, task)], text, binary)
                rows[tool] = r
                shown = {k: v for k, v in r.items() if k not in ("wall", "rss_mb", "seconds")}
                print(f"{task:<12} {tool:<11} {r['wall']:7.2f} {r['seconds']:7.2f} {r['rss_mb']:8.0f}  "
                      f"{json.dumps(shown)}", flush=True)
            e, g = rows["embedtrain"], rows["gensim"]
            print(f"{task:<12} {'ratio':<11} {g['wall'] / e['wall']:6.1f}x {g['seconds'] / e['seconds']:6.1f}x"
                  f"           (gensim / embedtrain: >1 means embedtrain is faster)\n", flush=True)


if __name__ == "__main__":
    main()
