"""Shared pieces of the benchmark scripts: timing a whole process, scoring a .vec with
gensim's own evaluators, and writing text8 as lines of N tokens."""
from __future__ import annotations

import gzip
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


def timed(cmd: list[str], env=None) -> tuple[float, float, str]:
    """Run cmd under /usr/bin/time -v; returns (wall seconds, peak RSS MB, stderr).

    Exits the benchmark with the command's stderr if it fails."""
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    hours, minutes, seconds = (float(g) if g else 0.0 for g in wall.groups())
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1)) / 1024
    return hours * 3600 + minutes * 60 + seconds, rss, proc.stderr


def scores(vec_path: Path) -> tuple[float, float]:
    """(questions-words accuracy, WordSim-353 Spearman) by gensim's evaluators:
    restrict_vocab=30000 and case_insensitive=True, as in ../shared/BENCHMARKS.md."""
    import logging

    from gensim.models import KeyedVectors

    logging.disable(logging.WARNING)
    kv = KeyedVectors.load_word2vec_format(str(vec_path))
    analogy = kv.evaluate_word_analogies(str(SHARED_DATA / "questions-words.txt"), restrict_vocab=30000,
                                         case_insensitive=True)[0]
    ws = kv.evaluate_word_pairs(str(SHARED_DATA / "wordsim353.tsv"), case_insensitive=True)[1][0]
    return float(analogy), float(ws)


def write_lines(src: Path, dst: Path, repeat: int = 1, per_line: int = 1000) -> int:
    """The tokens of a (gzipped) corpus as lines of ``per_line`` tokens, ``repeat`` times;
    returns the number of tokens written."""
    with gzip.open(src, "rt", encoding="utf-8") as f:
        tokens = f.read().split()
    with open(dst, "w", encoding="utf-8") as out:
        for _ in range(repeat):
            for i in range(0, len(tokens), per_line):
                out.write(" ".join(tokens[i:i + per_line]) + "\n")
    return len(tokens) * repeat
