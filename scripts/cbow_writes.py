#!/usr/bin/env python
"""Which of CBOW's writes cost its second thread (docs/benchmarks.md, "Which rows CBOW's two
threads fight over"): this checkout against copies of it that leave some writes out.

Each copy is a ``git worktree`` of HEAD with one change to the kernels, so its vectors are
wrong; only its training rate means something. The copies:

- ``noinput``: CBOW adds no gradient to its context words' input rows;
- ``nooutput``: no output row moves (the centre word's nor the five noise words');
- ``skip1024``, ``skip8192``: the output rows of the 1,024 (8,192) most frequent words do not
  move, the others do, one row after another (so one thread is slower than the fused loop of
  the build; compare their two threads with the build's).

Then ``bench_threads.py --models cbow --probe`` runs the build and every copy in the same
rounds, and the copies are removed. Run it under the shared lock:

    flock /tmp/embedtrain-bench.lock python scripts/cbow_writes.py [--rounds 3] [--epochs 2]
        [--out scripts/cbow_writes.out.json]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CBOW_INPUT = """                            if ONE_ROW:
                                for k in range(dim):
                                    input_vectors[w, k] += grad[k]
                            else:"""
_SIX_OUTPUT = """        o0[k] += g0 * hk
        o1[k] += g1 * hk
        o2[k] += g2 * hk
        o3[k] += g3 * hk
        o4[k] += g4 * hk
        o5[k] += g5 * hk
    return loss, state"""


def _skip_hot(rows: int) -> str:
    return f"""    for d in range(6):
        w = words[d]
        if w >= {rows}:
            g = coeff[d]
            for k in range(dim):
                output_vectors[w, k] += g * h[k]
    return loss, state"""


# name: [(file, text in it, what it becomes)]
CHANGES = {
    "noinput": [("embedtrain/kernels/sgns.py", _CBOW_INPUT,
                 "                            if ONE_ROW:\n                                pass\n"
                 "                            else:")],
    "nooutput": [("embedtrain/kernels/losses.py", _SIX_OUTPUT, "    return loss, state")],
    "skip1024": [("embedtrain/kernels/losses.py", _SIX_OUTPUT, _skip_hot(1024))],
    "skip8192": [("embedtrain/kernels/losses.py", _SIX_OUTPUT, _skip_hot(8192))],
}


def make_copy(where: Path, changes: list[tuple[str, str, str]]) -> None:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(where), "HEAD"], check=True)
    for name, old, new in changes:
        path = where / name
        text = path.read_text()
        if text.count(old) != 1:
            sys.exit(f"{name} no longer has the code this experiment changes; update CHANGES")
        path.write_text(text.replace(old, new))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "scripts" / "cbow_writes.out.json")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="embedtrain-cbow-writes-"))
    copies = {name: base / name for name in CHANGES}
    try:
        for name, where in copies.items():
            make_copy(where, CHANGES[name])
        trees = [arg for name, where in copies.items() for arg in ("--tree", f"{name}={where}")]
        subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_threads.py"), "--models", "cbow",
                        "--probe", "--rounds", str(args.rounds), "--epochs", str(args.epochs),
                        "--out", str(args.out), *trees], check=True)
    finally:
        for where in copies.values():
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(where)],
                           stderr=subprocess.DEVNULL)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
