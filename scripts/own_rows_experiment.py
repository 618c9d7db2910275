#!/usr/bin/env python
"""Hogwild threads that keep the most frequent words' rows as their own: a prototype measured
against this checkout (docs/benchmarks.md, "Frequent rows of a thread's own: a prototype").

The prototype (scripts/prototypes/own_rows.py) is copied into a ``git worktree`` of HEAD as
``embedtrain/training/own_rows.py``, and that worktree's ``training/prepare.py`` runs Hogwild
through it when ``EMBEDTRAIN_PROTO_OWN_ROWS`` is set. Then, for each ``--rows`` value:

- ``bench_threads.py --models cbow,skipgram --probe --tree own=WORKTREE`` (one and two threads,
  the build and the prototype in the same rounds), written to
  ``scripts/own_rows_threads_ROWS.out.json``;
- with ``--whole``, ``bench_word2vec.py --models cbow,skipgram --before WORKTREE --no-compile``
  (whole runs against gensim, with scores and peak memory; its "before" rows are the
  prototype), printed and written to ``scripts/own_rows_whole_ROWS.out.txt``.

The worktree is removed at the end. Run it under the shared lock:

    flock /tmp/embedtrain-bench.lock python scripts/own_rows_experiment.py [--rows 1024,4096]
        [--arrays output_vectors,input_vectors] [--rounds 3] [--whole] [--seeds 1,2,3]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOTYPE = ROOT / "scripts" / "prototypes" / "own_rows.py"
_PLAIN = """    elif executor is None:
        executor = ThreadExecutor(config.worker_threads)"""
_OWN = """    elif executor is None and config.worker_threads > 1 and os.environ.get("EMBEDTRAIN_PROTO_OWN_ROWS"):
        from .own_rows import OwnRowsExecutor

        executor = OwnRowsExecutor(config.worker_threads)
""" + _PLAIN


def make_worktree(where: Path) -> None:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(where), "HEAD"], check=True)
    shutil.copy(PROTOTYPE, where / "embedtrain" / "training" / "own_rows.py")
    prepare = where / "embedtrain" / "training" / "prepare.py"
    text = prepare.read_text()
    if text.count(_PLAIN) != 1:
        sys.exit("training/prepare.py no longer chooses the executor as this experiment expects; update _PLAIN")
    text = text.replace(_PLAIN, _OWN)
    if "\nimport os\n" not in text:
        future = "from __future__ import annotations\n"
        text = text.replace(future, future + "\nimport os\n", 1)
    prepare.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="1024", help="comma-separated: rows of a thread's own")
    ap.add_argument("--arrays", default="output_vectors",
                    help="comma-separated: the arrays whose rows are the threads' own")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--whole", action="store_true", help="also whole runs against gensim, with scores")
    ap.add_argument("--seeds", default="1,2,3")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="embedtrain-own-rows-"))
    tree = base / "own"
    try:
        make_worktree(tree)
        for rows in args.rows.split(","):
            env = dict(os.environ, EMBEDTRAIN_PROTO_OWN_ROWS=rows, EMBEDTRAIN_PROTO_OWN_ARRAYS=args.arrays)
            print(f"== {rows} rows of {args.arrays} a thread's own", flush=True)
            subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_threads.py"), "--models", "cbow,skipgram",
                            "--probe", "--rounds", str(args.rounds), "--epochs", str(args.epochs),
                            "--tree", f"own={tree}",
                            "--out", str(ROOT / "scripts" / f"own_rows_threads_{rows}.out.json")],
                           check=True, env=env)
            if args.whole:
                got = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_word2vec.py"),
                                      "--models", "cbow,skipgram", "--seeds", args.seeds, "--before", str(tree),
                                      "--no-compile"], check=True, env=env, capture_output=True, text=True)
                print(got.stdout, flush=True)
                (ROOT / "scripts" / f"own_rows_whole_{rows}.out.txt").write_text(got.stdout)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
