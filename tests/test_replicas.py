"""Threads that train replicas (--replicas, embedtrain/training/replicas.py): the kernel
against numpy, the same bytes whatever runs the replicas, and the refusals."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

import embedtrain
from embedtrain.errors import EmbedtrainError
from embedtrain.kernels.replicas import copy_rows, sum_replicas
from embedtrain.training.replicas import ReplicaExecutor

import reference_sync as ref

# a corpus of several jobs (50,000 tokens each) makes several rounds of two jobs
SETTINGS = dict(model="skipgram", dim=16, epochs=2, min_count=3, seed=3, progress=False)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, sample_text):
    words = sample_text.split()[:260_000]
    path = tmp_path_factory.mktemp("replicas") / "corpus.txt"
    path.write_text("\n".join(" ".join(words[i:i + 1000]) for i in range(0, len(words), 1000)) + "\n")
    return path


def digest(model) -> str:
    h = hashlib.sha256()
    for name in sorted(model.arrays):
        h.update(np.ascontiguousarray(model.arrays[name]).tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("replicas", [2, 3])
def test_sum_replicas_matches_numpy(replicas):
    rng = np.random.default_rng(replicas)
    base = rng.standard_normal((40, 7)).astype(np.float32)
    first = base + rng.standard_normal((40, 7)).astype(np.float32) * 0.1
    others = base + rng.standard_normal((replicas - 1, 40, 7)).astype(np.float32) * 0.1
    first[30:] = base[30:]       # rows only the others changed, and rows nobody changed
    others[:, 20:25] = base[20:25]
    before = [a.copy() for a in (base, first, others)]
    want = before[0].copy()
    ref.sum_replicas(want, first, others, 5, 35)
    sum_replicas(base, first, others, 5, 35)
    assert np.array_equal(base, want)
    assert np.array_equal(base[:5], before[0][:5]) and np.array_equal(base[35:], before[0][35:])
    assert np.array_equal(first, before[1]) and np.array_equal(others, before[2])   # read only
    # a row one replica alone moved keeps that replica's move
    assert np.array_equal(base[32], others[0, 32] if replicas == 2 else base[32])
    assert np.array_equal(base[22], first[22])


def test_copy_rows():
    source, target = np.arange(24, dtype=np.float32).reshape(6, 4), np.zeros((6, 4), np.float32)
    copy_rows(source, target, 1, 4)
    assert np.array_equal(target[1:4], source[1:4]) and not target[[0, 4, 5]].any()


@pytest.fixture(scope="module")
def two_threads(corpus):
    executor = ReplicaExecutor(2)
    model = embedtrain.train(corpus, threads=2, executor=executor, **SETTINGS)
    return model, executor


def test_replicas_give_the_same_bytes_on_one_thread_or_two(corpus, two_threads):
    model, executor = two_threads
    assert executor.rounds >= 4     # several rounds: the test would see a round's order
    sequential = embedtrain.train(corpus, threads=2, executor=ReplicaExecutor(2, threads=1), **SETTINGS)
    assert digest(sequential) == digest(model)


def test_replicas_option_gives_the_same_bytes_run_to_run(corpus):
    """--replicas (shorter jobs than an executor given to train: the config's replica_job_tokens)."""
    a = embedtrain.train(corpus, threads=2, replicas=True, **SETTINGS)
    b = embedtrain.train(corpus, threads=2, replicas=True, **SETTINGS)
    assert digest(a) == digest(b)
    assert a.stats["replicas"] == 2
    assert a.config.replicas


def test_replicas_end_equal_to_the_model(two_threads):
    model, executor = two_threads
    for name, others in executor._others.items():
        assert np.array_equal(others[0], model.arrays[name]), name
        assert np.array_equal(executor._base[name], model.arrays[name]), name


def test_hot_rows_are_summed_every_round_and_the_rest_at_the_end(corpus):
    """With the full sum only at the end, the rows past the hot ones are summed once: a
    different model from summing every row every round, and the same bytes run to run."""
    rare = dict(hot_rows=50, full_every=10_000)
    a = embedtrain.train(corpus, threads=2, executor=ReplicaExecutor(2, **rare), **SETTINGS)
    b = embedtrain.train(corpus, threads=2, executor=ReplicaExecutor(2, hot_rows=10**9, full_every=1),
                         **SETTINGS)
    c = embedtrain.train(corpus, threads=2, executor=ReplicaExecutor(2, threads=1, **rare), **SETTINGS)
    assert digest(a) == digest(c)
    assert digest(a) != digest(b)


def test_one_thread_with_replicas_is_one_thread(corpus):
    a = embedtrain.train(corpus, threads=1, replicas=True, **{**SETTINGS, "epochs": 1})
    b = embedtrain.train(corpus, threads=1, **{**SETTINGS, "epochs": 1})
    assert digest(a) == digest(b)
    assert a.stats["replicas"] == 1


def test_replicas_with_ray_are_refused(corpus):
    with pytest.raises(EmbedtrainError, match="--replicas is for threads on one machine"):
        embedtrain.train(corpus, replicas=True, ray="local", **SETTINGS)


def test_fasttext_and_glove_have_no_replicas(corpus):
    for model in ("fasttext", "glove"):
        with pytest.raises(EmbedtrainError, match="replicas"):
            embedtrain.train(corpus, **{**SETTINGS, "model": model}, replicas=True)


@pytest.mark.parametrize("model,floor", [("skipgram", 0.28), ("cbow", 0.2)])
def test_replicas_reach_the_quality_floor(model, floor):
    """text8-1m, dim 50, 3 epochs, seed 5 (test_quality.py's floors for one thread): two
    replicas measured 0.394 (skip-gram; one thread 0.368) and 0.307 (CBOW; 0.299). The same
    bytes every run, so the floor is not at the mercy of the threads' timing."""
    from conftest import QUALITY_CORPUS, wordsim_score

    trained = embedtrain.train(QUALITY_CORPUS, model=model, dim=50, epochs=3, threads=2, replicas=True,
                               progress=False, seed=5)
    rho, found = wordsim_score(trained.vectors)
    assert found > 250
    assert rho >= floor, f"{model} with replicas: WordSim-353 Spearman {rho:.3f}"


def test_a_run_with_replicas_resumes_from_its_checkpoint_exactly(corpus, tmp_path):
    """Broken off after epoch 1 and resumed: the same bytes as the run that went on, when
    both wrote checkpoints at the same jobs (every round: a checkpoint sums every row)."""
    from conftest import StopAtEpoch, StopTraining

    settings = dict(SETTINGS, threads=2, replicas=True, checkpoint_every=1e-9)
    straight = embedtrain.train(corpus, checkpoint=str(tmp_path / "straight.ckpt"), **settings)
    ckpt = str(tmp_path / "run.ckpt")
    with pytest.raises(StopTraining):
        embedtrain.train(corpus, checkpoint=ckpt, callbacks=[StopAtEpoch(1)], **settings)
    with pytest.raises(EmbedtrainError, match="--replicas"):
        embedtrain.train(corpus, resume=ckpt, **{**settings, "replicas": False})
    resumed = embedtrain.train(corpus, checkpoint=ckpt, resume=ckpt, **settings)
    assert resumed.stats["resumed_from_checkpoint"]["units_done"] > 0
    assert digest(resumed) == digest(straight)


def test_more_than_two_replicas_are_refused(corpus):
    """Four replicas' summed updates overshot (docs/benchmarks.md): refused in one line, and
    --threads 0 means two."""
    from embedtrain.config import resolve_threads

    with pytest.raises(EmbedtrainError, match="--replicas trains 2 threads"):
        embedtrain.train(corpus, threads=4, replicas=True, **SETTINGS)
    model = embedtrain.train(corpus, threads=0, replicas=True, **{**SETTINGS, "epochs": 1})
    assert model.stats["threads"] == model.stats["replicas"] == min(2, resolve_threads(0))


def test_cli_refuses_four_replicas_in_one_line(corpus, tmp_path):
    from click.testing import CliRunner

    from embedtrain.cli import main

    result = CliRunner().invoke(main, ["train", str(corpus), "--replicas", "--threads", "4",
                                       "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "--replicas trains 2 threads" in result.output
    assert not list(tmp_path.iterdir())


def test_a_noted_stop_signal_stops_the_replicas():
    """The CLI's SIGTERM handler notes the signal (embedtrain.interrupts): the replicas stop
    at the end of the round, as Hogwild's threads stop after their job."""
    import signal
    import time

    from embedtrain import interrupts
    from embedtrain.errors import TrainingInterrupted

    done = []

    def work(_replica, job):
        if job == 5:
            interrupts.note(signal.SIGTERM)
        time.sleep(0.001)   # the rest would take minutes
        return (1, 0.0, 1)

    with pytest.raises(TrainingInterrupted):
        ReplicaExecutor(2).run(list(range(100_000)), work, lambda job, r: done.append(job), lambda: False)
    assert 5 in done and len(done) < 100
    assert interrupts.pending() is None


def test_hot_rows_are_the_first_words_and_the_trees_last_nodes():
    from embedtrain.training.replicas import _hot_range

    assert _hot_range(10, 4, "first") == (0, 4)
    assert _hot_range(10, 4, "last") == (6, 10)
    assert _hot_range(3, 4, "last") == (0, 3)
    assert _hot_range(10, 4, None) == (0, 0)


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_replicas_with_hierarchical_softmax_give_the_same_bytes_on_one_thread_or_two(corpus, model):
    settings = dict(SETTINGS, model=model, hs=True, epochs=1)
    two = embedtrain.train(corpus, threads=2, executor=ReplicaExecutor(2, hot_rows=64), **settings)
    one = embedtrain.train(corpus, threads=2, executor=ReplicaExecutor(2, hot_rows=64, threads=1), **settings)
    assert digest(one) == digest(two)
    assert two.arrays["output_hs"].any() and not two.arrays["output_vectors"].size
