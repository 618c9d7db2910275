#!/usr/bin/env python
"""Compare synchronisation protocols without Ray: the Ray workers' own code
(distributed/workers.py: split, tokenise, replicas, train, reduce, apply) run
in this process one worker after another, then scored like the benchmarks.
Quality only (the timings mean nothing: the workers take turns).

    python scripts/sync_experiment.py CORPUS MODEL WORKERS SYNC_EVERY PROTOCOL SEED [DIM] [--set k=v ...]

Prints one JSON line: settings, questions-words and WordSim-353 (gensim's evaluators).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

from benchlib import replicas, scores

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from embedtrain.config import SYNC_DTYPE, SYNC_DTYPES  # noqa: E402
from embedtrain.config import make_config  # noqa: E402
from embedtrain.distributed.task import make_model  # noqa: E402
from embedtrain.families import family_of  # noqa: E402
from embedtrain.distributed.workers import reduce_shard  # noqa: E402


def glove_replicas(corpus: str, config, workers: int, sync_every: int, shared: bool = True, strata: bool = False):
    """GloVe's Ray workers (distributed/glove.py) in this process: the co-occurrences are
    counted once on one machine (cached beside the corpus name in the temporary
    directory, keyed by the counting settings) and every worker keeps its row range of
    them, as ``--ray ... --cooccur FILE`` does. Returns (workers, vocabulary, rounds)."""
    import hashlib
    import math
    import os

    import embedtrain
    from embedtrain.distributed.glove import GloVeWorker
    from embedtrain.families.glove import sized_config
    from embedtrain.io.cooc import CooccurrenceMatrix

    key = hashlib.sha1(repr((os.path.abspath(corpus), config.window, config.min_count, config.max_vocab,
                             config.distance_weighting)).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"sync-experiment-{key}.cooc"
    if not path.exists():
        embedtrain.train([corpus], model="glove", epochs=1, progress=False, save_cooccur=str(path),
                         **{k: getattr(config, k) for k in ("window", "min_count", "max_vocab",
                                                            "distance_weighting")})
    saved = CooccurrenceMatrix.load(path)
    vocab = saved.vocab
    config = sized_config(config, saved.n_tokens)  # x-max (and epochs) left to the corpus size
    del saved
    ws = [GloVeWorker(w, workers, config, 1) for w in range(workers)]
    for wk in ws:
        wk.shared_adagrad = shared
    if strata:
        loaded = [wk.load_strata(("file", str(path)), vocab.words, vocab.counts) for wk in ws]
        return ws, vocab, workers
    loaded = [wk.load(("file", str(path)), vocab.words, vocab.counts) for wk in ws]
    return ws, vocab, max(1, math.ceil(max(x["ids"] for x in loaded) / sync_every))


def glove_strata(corpus: str, config, workers: int):
    """GloVe's Ray workers in strata (distributed/strata.py) in this process: each step
    every worker trains its block, taking the context rows the previous holder sent."""
    from embedtrain.distributed import strata

    ws, vocab, steps = glove_replicas(corpus, config, workers, 0, False, strata=True)
    config = ws[0].config  # sized
    contexts = {}
    for epoch in range(config.epochs):
        shifts = strata.block_sequence(config.seed, epoch, workers)
        for step in range(steps):
            for w, wk in enumerate(ws):
                group = strata.context_group(w, shifts[step], workers)
                _, contexts[group] = wk.train_step(epoch, step, contexts.get(group))
    words = {w: strata.word_rows(wk.replica) for w, wk in enumerate(ws)}
    arrays = strata.assemble(ws[0].weights(), words, contexts, workers)
    return make_model(config, vocab, arrays, {})


def simulate(corpus: str, config, workers: int, sync_every: int, protocol: str, overlap: bool = False,
             dtype: str = "float32", glove_shared: bool | None = None):
    family = family_of(config.model)
    summed, averaged = family.ray_summed, family.ray_averaged
    if config.model == "glove" and protocol == "strata":
        return glove_strata(corpus, config, workers)
    if config.model == "glove":
        if glove_shared is None:
            glove_shared = bool(averaged)
        ws, vocab, rounds = glove_replicas(corpus, config, workers, sync_every, glove_shared)
        config = ws[0].config  # sized
        # the AdaGrad sums: averaged when each worker adds its squared steps N times, else summed
        from embedtrain.families.glove import GRADSQ_NAMES

        summed, averaged = ((), GRADSQ_NAMES) if glove_shared else (GRADSQ_NAMES, ())
    else:
        ws, vocab, rounds = replicas(corpus, config, workers, sync_every, dtype)
    queue = []  # overlap: combined shards of the rounds not yet applied
    for epoch in range(config.epochs):
        for index in range(rounds):
            late = queue.pop(0) if len(queue) == 2 else []
            results = [wk.train(epoch, index, rounds, *late, overlap=overlap) for wk in ws]
            if workers > 1:
                combined = [reduce_shard(protocol, *[r[1 + s] for r in results], summed=summed,
                                         averaged=averaged)
                            for s in range(workers)]
                if overlap:
                    queue.append(combined)
                else:
                    for wk in ws:
                        wk.apply(*combined)
    for wk in ws:
        wk.settle(*queue)
    return make_model(config, vocab, ws[0].weights(), {})


def ngram_variants(mass: str | None, scale: float) -> None:
    """Screening variants for FastText's n-gram rows (issue 22), patched into this process
    only, the library unchanged: ``mass`` multiplies each n-gram row's mass (the sum of its
    words' masses; "capX": capped at X) before ``scaled`` combines it; ``scale`` multiplies the
    combined delta of every n-gram row as the replicas apply it."""
    import numpy as np

    from embedtrain.distributed import sync

    vocab_size = {}
    subword_rows = sync.subword_rows

    def patched_subword_rows(offsets, table_rows):
        rows_of = subword_rows(offsets, table_rows)

        def patched(word_counts, word_weight):
            rows, weight = rows_of(word_counts, word_weight)
            vocab_size["v"] = len(word_counts)  # word rows first, then n-gram rows
            if mass is not None:
                ngram, weight = rows >= len(word_counts), weight.copy()
                weight[ngram] = (np.minimum(weight[ngram], float(mass[3:])) if mass.startswith("cap")
                                 else weight[ngram] * float(mass))
            return rows, weight
        return patched

    sync.subword_rows = patched_subword_rows
    if scale == 1.0:
        return

    apply = sync.ReplicaTracker.apply

    def scaled_apply(self, combined):
        def scaled(u):  # the same update, its n-gram rows' deltas x scale
            ngram = u.rows >= vocab_size["v"]
            if u.fixed:
                step = u.step.copy()
                step[ngram] *= np.float32(scale)
                return sync.RowUpdate(u.rows, u.values, u.weight, step)
            values = u.values.copy()
            values[ngram] *= np.float32(scale)
            return sync.RowUpdate(u.rows, values, u.weight, u.step)
        apply(self, {name: [scaled(u) for u in us] if name == "input_vectors" else us
                     for name, us in combined.items()})

    sync.ReplicaTracker.apply = scaled_apply


def cbow_mass_variants(inputs: str, outputs: str) -> None:
    """CBOW's row masses as they were before (issue 22): ``inputs`` "1" counts an input row's
    updates once an occurrence (c4f0ff4 until the CBOW sweep), "f" about window + 1 times
    (the product's); ``outputs`` "one-row" trains the output rows against one context row's
    squared norm (before c4f0ff4), "mean" against the mean of the context's (the product's)."""
    import numpy as np

    from embedtrain.distributed import sync

    original = sync.update_masses

    def patched(arrays, trained, lr, *, window, cbow, **kwargs):
        out = original(arrays, trained, lr, window=window, cbow=cbow, **kwargs)
        trained = trained.astype(np.float64)
        centres = trained.sum()
        if not cbow or centres <= 0:
            return out
        f = window + 1.0
        if outputs == "one-row":
            inp = arrays["input_vectors"]
            v = len(trained)
            one_row = float(trained @ np.einsum("ij,ij->i", inp[:v], inp[:v]).astype(np.float64) / centres)
            mean_row = (trained @ inp[:v].astype(np.float64)) / centres
            centre_sq = float(mean_row @ mean_row)
            mean_sq = centre_sq + max(one_row - centre_sq, 0.0) / f
            for name in ("output_vectors", "output_hs"):
                if name in out and mean_sq > 0:
                    out[name] = out[name] * (one_row / mean_sq)
        if inputs == "1":
            out["input_vectors"] = out["input_vectors"] / f
        return out

    sync.update_masses = patched


def fasttext_output_masses(outputs: str) -> None:
    """FastText's output rows' masses: against the word rows' squared norm (``word-rows``,
    the product's until issue 22's FastText sweep) or against the mean of each word's
    rows estimated on all the words (``mean-rows``, as this script's runs before the
    product took it) instead of the sync.MEAN_ROW_SAMPLE most frequent (``sample``)."""
    from embedtrain.distributed import sync

    original = sync.mean_row_ratio
    if outputs == "word-rows":
        sync.mean_row_ratio = lambda inp, input_rows, trained, word_sq, sample=0: 1.0
    elif outputs == "mean-rows":
        sync.mean_row_ratio = lambda inp, input_rows, trained, word_sq, sample=0: original(
            inp, input_rows, trained, word_sq, sample=len(trained))


def score_model(model) -> tuple[float, float]:
    """(questions-words, WordSim-353) of a trained model's word vectors, by gensim's
    evaluators (benchlib.scores) on a text file of them."""
    matrix = model.word_matrix()
    with tempfile.TemporaryDirectory() as tmp:
        vec = Path(tmp) / "v.vec"
        with open(vec, "w", encoding="utf-8") as f:
            f.write(f"{len(model.vocab)} {matrix.shape[1]}\n")
            for word, row in zip(model.vocab.words, matrix):
                f.write(word + " " + " ".join(f"{x:.5f}" for x in row) + "\n")
        return scores(vec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("model")
    ap.add_argument("workers", type=int)
    ap.add_argument("sync_every", type=int)
    ap.add_argument("protocol")
    ap.add_argument("seed", type=int)
    ap.add_argument("dim", type=int, nargs="?", default=100)
    ap.add_argument("--lr-scale", type=float, default=None,
                    help="the workers' rate over --lr, as on Ray (default: the family's ray_lr_scale, "
                         "the square root of the workers, FastText's at most config.FASTTEXT_MAX_LR_SCALE; "
                         "1: the runs before it existed)")
    ap.add_argument("--overlap", action="store_true",
                    help="synchronise round r while round r+1 trains (workers apply it one round late)")
    ap.add_argument("--dtype", default=SYNC_DTYPE, choices=SYNC_DTYPES,
                    help="how updates travel, as --sync-dtype on Ray (default: %(default)s)")
    ap.add_argument("--glove-adagrad", choices=("shared", "own"), default=None,
                    help="GloVe: each worker adds its squared steps N times and the AdaGrad sums are "
                         "averaged (shared), or adds them once and they are summed (own, before); "
                         "default: the product's (config.GLOVE_SHARED_ADAGRAD)")
    ap.add_argument("--ngram-mass", default=None, metavar="F|capX",
                    help="FastText screening: each n-gram row's mass x F, or capped at X (issue 22)")
    ap.add_argument("--ngram-scale", type=float, default=1.0,
                    help="FastText screening: each n-gram row's combined delta x this (issue 22)")
    ap.add_argument("--cbow-inputs", choices=("f", "1"), default="f",
                    help="CBOW: an input row's updates an occurrence in its mass: about window + 1 "
                         "(the product's) or 1 (c4f0ff4 until issue 22's CBOW sweep)")
    ap.add_argument("--cbow-outputs", choices=("mean", "one-row"), default="mean",
                    help="CBOW: output rows' masses against the mean of the context (the product's) "
                         "or one context row (before c4f0ff4)")
    ap.add_argument("--fasttext-outputs", choices=("sample", "mean-rows", "word-rows"), default="sample",
                    help="FastText: output rows' masses against the squared norm of the mean of each "
                         "word's rows estimated on the most frequent words (the product's), on all "
                         "words, or against the word rows' (until issue 22's FastText sweep)")
    ap.add_argument("--set", action="append", default=[], metavar="K=V",
                    help="another setting, e.g. --set lr=0.05 --set maxn=0 (JSON values)")
    a = ap.parse_args()
    extra = {k: json.loads(v) for k, v in (s.split("=", 1) for s in a.set)}
    config = make_config(a.model, dim=a.dim, seed=a.seed, threads=1, epochs=extra.pop("epochs", 3), **extra)
    scale = family_of(a.model).ray_lr_scale(a.workers) if a.lr_scale is None else a.lr_scale
    if a.workers > 1 and scale != 1.0:  # what RayTraining.worker_config does
        config = dataclasses.replace(config, lr=config.lr * scale)
    if a.ngram_mass is not None or a.ngram_scale != 1.0:
        ngram_variants(a.ngram_mass, a.ngram_scale)
    if a.model == "fasttext" and a.fasttext_outputs != "sample":
        fasttext_output_masses(a.fasttext_outputs)
    if a.model == "cbow" and (a.cbow_inputs, a.cbow_outputs) != ("f", "mean"):
        cbow_mass_variants(a.cbow_inputs, a.cbow_outputs)
    shared = None if a.glove_adagrad is None else a.glove_adagrad == "shared"
    model = simulate(a.corpus, config, a.workers, a.sync_every, a.protocol, a.overlap, a.dtype, shared)
    analogy, ws = score_model(model)
    print(json.dumps(dict(model=a.model, workers=a.workers, sync_every=a.sync_every, protocol=a.protocol, overlap=a.overlap,
                          dtype="float32" if a.model == "glove" else a.dtype,
                          lr_scale=scale if a.workers > 1 else 1.0,
                          seed=a.seed, dim=a.dim, settings=extra,
                          **({"ngram_mass": a.ngram_mass, "ngram_scale": a.ngram_scale}
                             if a.ngram_mass is not None or a.ngram_scale != 1.0 else {}),
                          **({"glove_adagrad": a.glove_adagrad or "default"} if a.model == "glove" else {}),
                          **({"cbow_inputs": a.cbow_inputs, "cbow_outputs": a.cbow_outputs} if a.model == "cbow" else {}),
                          **({"fasttext_outputs": a.fasttext_outputs} if a.model == "fasttext" else {}),
                          analogy=round(analogy, 4),
                          wordsim=round(ws, 4))), flush=True)


if __name__ == "__main__":
    main()
