"""GloVe on Ray (embedtrain/distributed/glove.py): map-reduce counting gives one
machine's matrix, the partitioned matrix is kept and read back with or without
Ray, training matches one machine's quality, and killed workers lose nothing.
One local Ray (2 CPUs) for the module, as in test_ray.py."""
from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

ray = pytest.importorskip("ray")

import embedtrain  # noqa: E402
from embedtrain.config import make_config  # noqa: E402
from embedtrain.cooccur import count_cooccurrences  # noqa: E402
from embedtrain.io.cooc import COUNTING_SETTINGS, CooccurrenceMatrix  # noqa: E402
from embedtrain.errors import EmbedtrainError  # noqa: E402
from embedtrain.models import Model  # noqa: E402
from embedtrain.training.prepare import RunOptions, prepare_corpus  # noqa: E402

from conftest import QUALITY_CORPUS, SAMPLE_CORPUS, wordsim_score  # noqa: E402
from ray_support import (StopAfter, local_ray, logged, processes_left, ray_processes, ray_settings,  # noqa: E402,F401
                         signal_cli_run)

pytestmark = pytest.mark.slow
GLOVE = dict(model="glove", dim=30, window=8, x_max=10.0, epochs=5, seed=1, min_count=5, progress=False)
# WordSim-353 of GloVe at this size moves by ~0.03 with the seed alone
NOISE = 0.04


def one_machine_matrix(corpus, **settings) -> CooccurrenceMatrix:
    config = make_config("glove", **{k: v for k, v in settings.items() if k not in ("model", "progress")})
    vocab, stream, _ = prepare_corpus([corpus], config, RunOptions(progress=False))
    with stream:
        matrix = count_cooccurrences(stream, vocab, config, progress=False)
    matrix.settings = {k: getattr(config, k) for k in COUNTING_SETTINGS}
    return matrix


def assert_same_matrix(ours: CooccurrenceMatrix, theirs: CooccurrenceMatrix) -> None:
    assert ours.vocab.words == theirs.vocab.words
    np.testing.assert_array_equal(ours.rows, theirs.rows)
    np.testing.assert_array_equal(ours.cols, theirs.cols)
    np.testing.assert_allclose(ours.values, theirs.values, rtol=1e-12, atol=0)  # summation order only
    assert ours.n_tokens == theirs.n_tokens and ours.settings == theirs.settings


@pytest.fixture(scope="module")
def ray_run(tmp_path_factory):
    """Two Ray workers on text8-1m, keeping the partitioned matrix."""
    d = tmp_path_factory.mktemp("glove-ray")
    model = embedtrain.train(QUALITY_CORPUS, ray="local", workers=2, threads=1, tmp_dir=str(d),
                             save_cooccur=str(d / "matrix"), **GLOVE)
    return model, d / "matrix", d


def test_two_workers_count_one_machines_matrix_and_train_as_well(ray_run, tmp_path):
    model, matrix_dir, staging_parent = ray_run
    matrix = CooccurrenceMatrix.load(matrix_dir)
    assert_same_matrix(matrix, one_machine_matrix(QUALITY_CORPUS, **GLOVE))
    # the staging directory went away; only the kept matrix is left
    assert sorted(p.name for p in staging_parent.iterdir()) == ["matrix"]
    d = model.stats["distributed"]
    assert d["workers"] == 2 and d["sync_protocol"].startswith("strata")  # the default
    assert len(d["partition_entries"]) == 2 and sum(d["partition_entries"]) == matrix.n_stored
    # every entry (and its mirror) visited once per epoch, over all workers
    assert d["entries_counted"] == 2 * matrix.n_stored * GLOVE["epochs"]
    assert model.stats["nonzero_entries"] == matrix.nnz
    one = embedtrain.train(QUALITY_CORPUS, threads=1, **GLOVE)
    ours, _ = wordsim_score(model.vectors)
    theirs, _ = wordsim_score(one.vectors)
    assert ours >= theirs - NOISE, (ours, theirs)
    # the same outputs as one machine, recording how it was trained
    vec, etm = model.save(tmp_path / "ray")
    loaded = Model.load(etm)
    assert loaded.kind == "glove" and loaded.stats["distributed"]["workers"] == 2
    np.testing.assert_array_equal(loaded.word_matrix(), model.word_matrix())
    assert vec.read_text().split("\n", 1)[0] == f"{len(model.vocab)} 30"


def test_saved_matrices_train_with_and_without_ray(ray_run, tmp_path):
    _, matrix_dir, _ = ray_run
    settings = dict(GLOVE, epochs=2)
    # the partitioned matrix, on one machine: the same matrix as counted there
    plain = embedtrain.train(None, cooccur=str(matrix_dir), threads=1, **settings)
    assert plain.stats["nonzero_entries"] == CooccurrenceMatrix.load(matrix_dir).nnz
    # ... and on Ray with another number of workers than it has partitions
    again = embedtrain.train(None, cooccur=str(matrix_dir), ray="local", workers=1, threads=1, **settings)
    n = CooccurrenceMatrix.load(matrix_dir).n_stored
    assert again.stats["distributed"]["entries_counted"] == 2 * n * 2
    # a one-machine matrix file, trained on two Ray workers
    single = tmp_path / "single.cooccur"
    embedtrain.train(SAMPLE_CORPUS, threads=1, save_cooccur=str(single), **dict(settings, epochs=1))
    saved = CooccurrenceMatrix.load(single)
    model = embedtrain.train(None, cooccur=str(single), ray="local", workers=2, threads=1, **settings)
    d = model.stats["distributed"]
    assert d["entries_counted"] == 2 * saved.n_stored * 2
    assert model.vocab.words == saved.vocab.words
    assert model.stats["nonzero_entries"] == saved.nnz
    with pytest.raises(EmbedtrainError, match="give no corpus"):
        embedtrain.train(SAMPLE_CORPUS, cooccur=str(single), ray="local", workers=2, **settings)


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def killer(rounds: int, killed: list):
    """An ``on_start`` that kills worker 1's process once ``rounds`` rounds (or steps) are
    done, noting its pid in ``killed``."""
    def kill_during_training(run):
        pids = run.worker_pids()

        def kill():
            while run.sync.rounds < rounds:
                time.sleep(0.01)
            _kill(pids[1])
            killed.append(pids[1])

        threading.Thread(target=kill, daemon=True).start()

    return kill_during_training


def test_workers_killed_while_counting_and_merging_lose_no_entry(tmp_path):
    from embedtrain.distributed import train_on_ray as train_glove_on_ray

    killed = []

    def on_phase(run, phase):
        if phase in ("count", "merge"):
            w = 1 if phase == "count" else 0
            pid = run.worker_pids()[w]
            _kill(pid)
            killed.append((phase, pid))

    settings = {k: v for k, v in GLOVE.items() if k not in ("model", "progress")}
    config = make_config("glove", **dict(settings, epochs=1, threads=1, memory=0.002))
    out = tmp_path / "matrix"
    model, lines = logged(lambda: train_glove_on_ray(
        config, ray_settings(config, ray="local", workers=2), [str(SAMPLE_CORPUS)], progress=False,
        tmp_dir=str(tmp_path), save_cooccur=str(out), on_phase=on_phase))
    log_text = "\n".join(lines)
    assert [k[0] for k in killed] == ["count", "merge"]
    assert "died while counting its part" in log_text and "died while merging its partition" in log_text
    d = model.stats["distributed"]
    assert d["restarts"] == 2
    assert d["cooccur_spills"] > 0     # the tiny --memory spilled (on every worker, see below)
    assert all(s > 0 for s in model.stats["worker_spills"])
    assert_same_matrix(CooccurrenceMatrix.load(out), one_machine_matrix(SAMPLE_CORPUS, **dict(settings, memory=0.002)))


def test_a_worker_killed_while_training_is_replaced_and_no_entry_is_lost(tmp_path):
    from embedtrain.distributed import train_on_ray as train_glove_on_ray

    killed = []
    kill_during_training = killer(2, killed)

    settings = {k: v for k, v in GLOVE.items() if k not in ("model", "progress")}
    config = make_config("glove", **dict(settings, epochs=3, threads=1))
    model, lines = logged(lambda: train_glove_on_ray(
        config, ray_settings(config, ray="local", workers=2, sync_every=60_000, sync_protocol="scaled"),
        [str(SAMPLE_CORPUS)],
        progress=False, tmp_dir=str(tmp_path), on_start=kill_during_training))
    log_text = "\n".join(lines)
    assert killed
    d = model.stats["distributed"]
    assert d["restarts"] == 1 and d["rounds_per_epoch"] > 2
    assert "restarted from the last synchronised weights" in log_text or \
        "died while synchronising" in log_text, log_text
    n = sum(d["partition_entries"])
    assert d["entries_counted"] == 2 * n * 3     # nothing lost, nothing twice
    assert np.isfinite(model.word_matrix()).all()
    costs = model.stats["epoch_costs"]
    assert costs[-1] < costs[0], costs
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("embedtrain-")]


STRATA = dict(GLOVE, dim=20, epochs=3, threads=1, ray="local", workers=2)


def train_strata(tmp_dir, on_start=None):
    from embedtrain.distributed import train_on_ray

    settings = {k: v for k, v in STRATA.items() if k not in ("model", "progress", "ray", "workers")}
    config = make_config("glove", **settings)
    return train_on_ray(config, ray_settings(config, ray="local", workers=2), [str(SAMPLE_CORPUS)],
                        progress=False, tmp_dir=str(tmp_dir), on_start=on_start)


def assert_same_arrays(model, other):
    assert sorted(model.arrays) == sorted(other.arrays)
    for name in model.arrays:
        np.testing.assert_array_equal(model.arrays[name], other.arrays[name], err_msg=name)


@pytest.fixture(scope="module")
def strata_run(tmp_path_factory):
    """Two Ray workers in strata (the default), undisturbed: what a disturbed run must give."""
    return train_strata(tmp_path_factory.mktemp("strata"))


def test_in_strata_a_killed_worker_sends_all_back_to_the_epochs_start_and_the_bytes_stay(strata_run, tmp_path):
    killed = []
    kill_during_training = killer(3, killed)

    model, lines = logged(lambda: train_strata(tmp_path, kill_during_training))
    assert killed
    d = model.stats["distributed"]
    assert d["restarts"] == 1 and d["rounds_per_epoch"] == 2, d
    assert "every worker went back to step 1 of epoch" in "\n".join(lines)
    n = sum(d["partition_entries"])
    assert d["entries_counted"] == 2 * n * 3 == strata_run.stats["distributed"]["entries_counted"]
    # every worker went back to the epoch's start (its word rows after the epoch before, the
    # context rows then) and trained the epoch's steps again: the undisturbed run's bytes
    assert_same_arrays(model, strata_run)


def test_in_strata_a_resumed_run_gives_the_unbroken_runs_bytes(strata_run, tmp_path):
    from embedtrain.errors import TrainingInterrupted
    from embedtrain.io.checkpoint import Checkpoint

    ckpt = tmp_path / "run.ckpt"
    settings = dict(STRATA, checkpoint=ckpt, checkpoint_every=1e-9, tmp_dir=str(tmp_path))
    with pytest.raises(TrainingInterrupted, match="every Ray worker"):
        embedtrain.train(SAMPLE_CORPUS, callbacks=[StopAfter(3)], **settings)
    saved = Checkpoint.load(ckpt)
    assert 0 < saved.state.units_done < strata_run.stats["distributed"]["entries_counted"]
    assert saved.state.job == 0    # in strata a checkpoint is written between epochs only
    model = embedtrain.train(SAMPLE_CORPUS, resume=ckpt, **settings)
    assert model.stats["resumed_from_checkpoint"]["units_done"] == saved.state.units_done
    assert model.stats["distributed"]["sync_protocol"].startswith("strata")
    assert_same_arrays(model, strata_run)


def test_glove_on_ray_through_the_cli(tmp_path):
    from click.testing import CliRunner

    from embedtrain.cli import main

    out = tmp_path / "m"
    args = ["train", str(SAMPLE_CORPUS), "--model", "glove", "--dim", "20", "--epochs", "2", "--threads", "1",
            "--window", "5", "--ray", "local", "--workers", "2", "--save-cooccur", str(out),
            "-o", str(tmp_path / "g"), "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    model = Model.load(str(tmp_path / "g.etm"))
    assert model.kind == "glove" and model.stats["distributed"]["workers"] == 2
    # no --x-max: the driver chose it from the corpus size before the workers loaded (issue 28)
    assert (model.config.x_max, model.config.epochs) == (10.0, 2)
    assert (out / "meta.json").is_file() and (out / "part-00001.bin").is_file()
    # the directory is read back by a run without Ray; a second --save-cooccur replaces it
    result = CliRunner().invoke(main, ["train", "--model", "glove", "--cooccur", str(out), "--dim", "20",
                                       "--epochs", "1", "--threads", "1", "-o", str(tmp_path / "h"), "-q"])
    assert result.exit_code == 0, result.output
    assert Model.load(str(tmp_path / "h.etm")).vocab.words == model.vocab.words
    # a directory that is not a matrix is not overwritten: one line
    other = tmp_path / "other"
    other.mkdir()
    result = CliRunner().invoke(main, args[:-5] + ["--save-cooccur", str(other), "-o", str(tmp_path / "x"), "-q"])
    assert result.exit_code == 1 and "not a partitioned co-occurrence matrix" in result.output
    assert not (tmp_path / "x.vec").exists()


def test_glove_checkpoint_and_resume_on_ray(tmp_path):
    from embedtrain.errors import TrainingInterrupted
    from embedtrain.io.checkpoint import Checkpoint

    ckpt = tmp_path / "run.ckpt"
    settings = dict(GLOVE, dim=20, epochs=2, threads=1, ray="local", workers=2, sync_every=100_000,
                    sync_protocol="scaled", checkpoint=ckpt, checkpoint_every=1e-9, tmp_dir=str(tmp_path))
    with pytest.raises(TrainingInterrupted, match="every Ray worker"):
        embedtrain.train(SAMPLE_CORPUS, callbacks=[StopAfter(3)], **settings)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("embedtrain-glove-ray-")]
    saved = Checkpoint.load(ckpt)
    assert saved.state.job == 2 and saved.state.units_done > 0 and saved.fingerprint["ray_workers"] == 2
    assert "context_gradsq" in saved.arrays       # AdaGrad's sums resume too
    model = embedtrain.train(SAMPLE_CORPUS, resume=ckpt, **settings)
    d = model.stats["distributed"]
    # the rounds before the checkpoint and after it visit every entry of both epochs once
    assert saved.state.units_done + d["entries_counted"] == 2 * sum(d["partition_entries"]) * 2
    assert model.stats["resumed_from_checkpoint"]["units_done"] == saved.state.units_done
    assert np.isfinite(model.word_matrix()).all()


def test_sigterm_stops_every_worker_and_removes_the_staging_directory(tmp_path):
    before = ray_processes()
    code, err = signal_cli_run([QUALITY_CORPUS, "--model", "glove", "--ray", "local", "--workers", "2",
                                "--threads", "1", "--epochs", "200",
                                "--tmp-dir", tmp_path, "-o", tmp_path / "x"],
                               "GloVe on 2 Ray workers", signal.SIGTERM, wait=2)
    assert code == 143 and "Traceback" not in err, err  # 128 + SIGTERM
    assert not (tmp_path / "x.vec").exists() and not (tmp_path / "x.etm").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("embedtrain-")], list(tmp_path.iterdir())
    assert not processes_left(before)


def test_one_worker_counts_one_machines_matrix_without_a_merge(tmp_path):
    settings = dict(GLOVE, epochs=1, dim=10)
    model = embedtrain.train(SAMPLE_CORPUS, ray="local", workers=1, threads=1, tmp_dir=str(tmp_path),
                             save_cooccur=str(tmp_path / "matrix"), **settings)
    d = model.stats["distributed"]
    assert d["sync_protocol"] == "strata (one worker: nothing to exchange)"
    # its one map file became the partition: written once, never read back by a merge
    assert d["count_bytes_moved"] == 16 * sum(d["partition_entries"])
    assert sorted(os.listdir(tmp_path / "matrix")) == ["meta.json", "part-00000.bin", "vocab.txt"]
    assert_same_matrix(CooccurrenceMatrix.load(tmp_path / "matrix"), one_machine_matrix(SAMPLE_CORPUS, **settings))


@pytest.mark.parametrize("deaths", [2, 10])
def test_a_worker_that_keeps_dying_while_going_back_is_given_up_on_in_one_line(deaths):
    """Going back to an epoch's start replaces a worker that dies doing it, as often as the
    set-up's steps do and no more (it recursed without end before)."""
    from types import SimpleNamespace

    from embedtrain.distributed.executor import MAX_SETUP_RESTARTS
    from embedtrain.distributed.glove import GloVeRayTraining

    class Died(Exception):
        pass

    class Lost(Exception):
        pass

    calls, respawned = [], []

    def restore(word, loaded):
        def result():
            calls.append((word, loaded))
            if len(calls) <= deaths:
                raise Died()
            return None
        return result

    training = GloVeRayTraining.__new__(GloVeRayTraining)
    training.conn = SimpleNamespace(ray=SimpleNamespace(
        get=lambda ref: ref(), exceptions=SimpleNamespace(RayActorError=Died, ObjectLostError=Lost)))
    training.actors = {3: SimpleNamespace(restore=SimpleNamespace(remote=restore))}
    training._loaded = "loaded"
    training._submitted = lambda n: None
    training._respawn = respawned.append
    if deaths <= MAX_SETUP_RESTARTS:
        training._restore(3, "rows")
        assert len(calls) == deaths + 1 and respawned == [3] * deaths
    else:
        with pytest.raises(EmbedtrainError, match=f"Ray worker 3 died {MAX_SETUP_RESTARTS + 1} times "
                                                  "while going back to the epoch's start; giving up"):
            training._restore(3, "rows")
        assert len(calls) == MAX_SETUP_RESTARTS + 1 and respawned == [3] * MAX_SETUP_RESTARTS
    assert set(calls) == {("rows", "loaded")}
