#!/usr/bin/env python
"""Scores of two threads with --replicas against one thread and two Hogwild threads: skip-gram
and CBOW at their defaults (dim 100, 5 epochs) on ../shared/data/text8-prefix.gz, questions-words
and WordSim-353 by gensim's evaluators (benchlib.scores), seeds 1-3; and WordSim-353 on the
repository's data/text8-1m.gz at tests/test_quality.py's settings (dim 50, 3 epochs, seed 5).
``--job-tokens N`` trains the replicas on jobs of N tokens (the model's replica_job_tokens otherwise),
``--full-every N`` sums all rows every N rounds (config.REPLICA_FULL_EVERY); ``--threads N``
runs the modes named two threads on N. Quality only: the
timings mean nothing here (bench_threads.py --replicas measures speed).

    python scripts/replica_quality.py [--seeds 1,2,3] [--models skipgram,cbow,skipgram-hs,cbow-hs] [--job-tokens N]
        [--full-every N] [--out scripts/replica_quality.out.jsonl]

A model named with ``-hs`` trains with hierarchical softmax. Prints and appends one JSON line per run.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

from benchlib import ROOT, SHARED_DATA, scores

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import embedtrain  # noqa: E402
from embedtrain import config as defaults  # noqa: E402
from embedtrain.training import replicas  # noqa: E402

MODES = {"one thread": dict(threads=1), "two threads": dict(threads=2),
         "two replicas": dict(threads=2, replicas=True)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--models", default="skipgram,cbow")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--job-tokens", type=int, default=None,
                    help="tokens per replica job (default: the model config's replica_job_tokens)")
    ap.add_argument("--full-every", type=int, default=defaults.REPLICA_FULL_EVERY)
    ap.add_argument("--threads", type=int, default=2, help="threads of the two-thread modes")
    ap.add_argument("--out", type=Path, default=ROOT / "scripts" / "replica_quality.out.jsonl")
    a = ap.parse_args()
    if a.job_tokens is not None:   # the settings under test, for this process only
        for model in ("skipgram", "cbow"):
            defaults.config_class(model).replica_job_tokens = a.job_tokens
    replicas.ReplicaExecutor.__init__.__defaults__ = (defaults.REPLICA_HOT_ROWS, a.full_every, None)
    from conftest import QUALITY_CORPUS, wordsim_score

    corpus = tempfile.NamedTemporaryFile(suffix=".txt", delete=False).name
    import gzip
    with gzip.open(SHARED_DATA / "text8-prefix.gz", "rb") as src, open(corpus, "wb") as dst:
        dst.write(src.read())
    def settings(model: str) -> dict:
        return {"job_tokens": defaults.config_class(model.removesuffix("-hs")).replica_job_tokens,
                "full_every": a.full_every}
    for model in a.models.split(","):
        for mode in a.modes.split(","):
            runs = [("text8-prefix", seed, {}) for seed in map(int, a.seeds.split(","))]
            runs.append(("text8-1m", 5, dict(dim=50, epochs=3)))
            for name, seed, extra in runs:
                given = dict(MODES[mode], **({"threads": a.threads} if mode != "one thread" else {}))
                base_model, hs = model.removesuffix("-hs"), model.endswith("-hs")   # e.g. skipgram-hs
                trained = embedtrain.train(corpus if name == "text8-prefix" else QUALITY_CORPUS, model=base_model,
                                           seed=seed, progress=False, **given, **extra, **({"hs": True} if hs else {}))
                digest = hashlib.sha256(trained.arrays["input_vectors"].tobytes()).hexdigest()[:12]
                line = dict(corpus=name, model=model, mode=mode, threads=given["threads"], seed=seed, sha=digest,
                            **extra)
                if mode == "two replicas":
                    line.update(settings(model))
                if name == "text8-prefix":
                    with tempfile.TemporaryDirectory() as tmp:
                        vec, _ = trained.save(Path(tmp) / "v")
                        analogy, ws = scores(vec)
                    line.update(analogy=round(analogy, 4), wordsim=round(ws, 4))
                else:
                    line.update(wordsim=round(wordsim_score(trained.vectors)[0], 4))
                print(json.dumps(line), flush=True)
                with open(a.out, "a", encoding="utf-8") as f:
                    f.write(json.dumps(line) + "\n")
    Path(corpus).unlink()


if __name__ == "__main__":
    main()
