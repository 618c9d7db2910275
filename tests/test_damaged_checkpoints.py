"""A damaged checkpoint is refused in one line before any kernel runs (issue 21, item 1):
arrays of the wrong shape, dtype or values, and saved positions out of range, for the
skip-gram family, FastText and GloVe. Every case resumes in a child process, so a crash
(a segfault, an abort) is a failed test rather than a lost run."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import embedtrain
from embedtrain.io.archive import read_archive, write_archive
from embedtrain.io.checkpoint import CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION

from conftest import StopAtEpoch, StopTraining

SETTINGS = {
    "skipgram": dict(model="skipgram", dim=8, epochs=3, threads=1, seed=3, min_count=2),
    "fasttext": dict(model="fasttext", dim=8, epochs=3, threads=1, seed=3, min_count=2, bucket=2000),
    "glove": dict(model="glove", dim=8, epochs=3, threads=1, seed=3, min_count=2, memory=0.05),
}


def make_checkpoint(corpus: Path, path: Path, settings: dict) -> None:
    with pytest.raises(StopTraining):
        embedtrain.train(str(corpus), checkpoint=path, checkpoint_every=1e-9, progress=False,
                         callbacks=[StopAtEpoch(1)], **settings)
    assert path.exists()


def damaged_variants(path: Path, model: str) -> dict[str, tuple[dict, dict]]:
    """name -> (meta, arrays) of a damaged copy of the checkpoint at ``path``."""
    meta, vocab, arrays = read_archive(path, CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, "checkpoint file")
    first = "word_vectors" if model == "glove" else "input_vectors"
    second = "word_bias" if model == "glove" else "output_vectors"
    cases: dict[str, tuple[dict, dict]] = {}

    def arrays_with(**changes):
        return {**arrays, **changes}

    def state_with(**changes):
        return {**meta, "state": {**meta["state"], **changes}}

    a = arrays[first]
    cases["5 rows"] = (meta, arrays_with(**{first: np.ascontiguousarray(a[:5])}))
    cases["0 rows"] = (meta, arrays_with(**{second: np.zeros((0,) + arrays[second].shape[1:], np.float32)}))
    cases["dim 7"] = (meta, arrays_with(**{first: np.ascontiguousarray(a[:, :7]) if a.ndim == 2 else a}))
    cases["float64"] = (meta, arrays_with(**{first: a.astype(np.float64)}))
    nan = a.copy()
    nan.flat[0] = np.nan
    cases["NaN"] = (meta, arrays_with(**{first: nan}))
    cases["extra array"] = (meta, arrays_with(surprise=np.zeros(3, np.float32)))
    cases["epoch 99"] = (state_with(epoch=99), arrays)
    cases["epoch -1"] = (state_with(epoch=-1), arrays)
    cases["job 10^12"] = (state_with(job=10**12), arrays)
    cases["job a string"] = (state_with(job="3"), arrays)
    cases["history a string"] = (state_with(history="oops"), arrays)
    cases["rng -1"] = (state_with(rng_states=["-1"]), arrays)
    cases["rng 2^70"] = (state_with(rng_states=[str(2 ** 70)]), arrays)
    cases["units_done negative"] = (state_with(units_done=-5), arrays)
    cases["units_done 10^15"] = (state_with(units_done=10 ** 15), arrays)
    if model == "glove":
        zero = arrays["word_gradsq"].copy()
        zero[0, 0] = 0.0
        cases["gradsq 0"] = (meta, arrays_with(word_gradsq=zero))
        cases["shuffle epoch 50"] = (meta, arrays_with(shuffle_epoch=np.array([50], np.int64)))
    return cases


CHILD = textwrap.dedent("""
    import json, sys
    import embedtrain
    from embedtrain.errors import EmbedtrainError
    corpus, settings, paths = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
    for path in paths:
        try:
            embedtrain.train(corpus, resume=path, checkpoint=path + ".out", progress=False, **settings)
            print(json.dumps([path, "trained"]), flush=True)
        except EmbedtrainError as exc:
            print(json.dumps([path, str(exc)]), flush=True)
""")


@pytest.mark.parametrize("model", list(SETTINGS))
def test_a_damaged_checkpoint_is_refused_in_one_line_before_training(tmp_path, small_corpus, model):
    settings = SETTINGS[model]
    good = tmp_path / "good.ckpt"
    make_checkpoint(small_corpus, good, settings)
    meta, vocab, _ = read_archive(good, CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, "checkpoint file")
    paths = {}
    for name, (m, arrays) in damaged_variants(good, model).items():
        p = tmp_path / (name.replace(" ", "_").replace("^", "") + ".ckpt")
        write_archive(p, {**m, "arrays": list(arrays)}, vocab, arrays)
        paths[str(p)] = name
    given = {k: v for k, v in settings.items() if k != "model"}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(small_corpus), json.dumps(given), *paths],
                          capture_output=True, text=True, timeout=600)
    results = dict(json.loads(line) for line in proc.stdout.splitlines() if line.startswith("["))
    assert proc.returncode == 0, (f"crashed (exit {proc.returncode}) after {len(results)} of {len(paths)} "
                                  f"cases; next: {[paths[p] for p in paths if p not in results][:1]}; "
                                  f"{proc.stderr[-1500:]}")
    wrong = {paths[p]: msg for p, msg in results.items()
             if "damaged checkpoint file" not in msg or "\n" in msg}
    assert not wrong, wrong
    assert len(results) == len(paths)
    # the undamaged checkpoint still resumes
    embedtrain.train(str(small_corpus), resume=good, progress=False, **given)
