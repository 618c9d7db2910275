"""Training on Ray (embedtrain/distributed/): one local Ray (2 CPUs) for the module.

Quality floors are calibrated against a one-machine run with the same settings
(WordSim-353 on text8-1m, dim 50, 3 epochs: 0.30-0.32 over seeds; 2 Ray workers
with the "adaptive" sync, the default before "scaled": 0.30-0.31; "mean": 0.26)."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

ray = pytest.importorskip("ray")

import embedtrain  # noqa: E402
from embedtrain.corpus.text import encode  # noqa: E402
from embedtrain.errors import EmbedtrainError  # noqa: E402
from embedtrain.extras import install_hint  # noqa: E402
from embedtrain.models import Model  # noqa: E402
from embedtrain.vocab import Vocab  # noqa: E402

from conftest import QUALITY_CORPUS, ROOT, SAMPLE_CORPUS, wordsim_score  # noqa: E402
from ray_support import (StopAfter, alive_actors, blocked_import_env, kill_process, local_ray,  # noqa: E402,F401
                         logged, one_error_line, processes_left, ray_processes, ray_settings,
                         signal_cli_run)

pytestmark = pytest.mark.slow
SETTINGS = dict(model="skipgram", dim=50, epochs=3, seed=1, progress=False)
# Two workers may score a little below one machine (they train on one-interval-stale
# replicas); seeds alone move WordSim-353 by ~0.02 at this size.
NOISE = 0.04


@pytest.fixture(scope="module")
def one_machine():
    return embedtrain.train(QUALITY_CORPUS, threads=2, **SETTINGS)


def test_two_workers_match_one_machine(one_machine, tmp_path):
    vocab_file = tmp_path / "vocab.txt"
    model = embedtrain.train(QUALITY_CORPUS, ray="local", workers=2, threads=1, sync_every=200_000,
                             save_vocab=str(vocab_file), **SETTINGS)
    # exactly the vocabulary one machine builds (same words, counts, order)
    raw = encode([QUALITY_CORPUS])
    expected = Vocab.build(raw.words, raw.counts, 5)
    raw.close()
    assert vocab_file.read_text() == expected.to_text()
    assert model.vocab.words == one_machine.vocab.words
    # every word of every epoch trained once
    d = model.stats["distributed"]
    assert d["words_counted"] == model.stats["vocab_tokens"] * 3 == one_machine.stats["words_trained"]
    assert d["workers"] == 2 and d["sync_protocol"] == "scaled" and d["sync_every"] == 200_000
    assert d["bytes_per_sync"] > 0 and d["rounds"] == 3 * d["rounds_per_epoch"]
    ours, _ = wordsim_score(model.vectors)
    theirs, _ = wordsim_score(one_machine.vectors)
    assert ours >= theirs - NOISE, (ours, theirs)
    # the same outputs as one machine, recording how it was trained
    vec, etm = model.save(tmp_path / "ray")
    loaded = Model.load(etm)
    assert loaded.stats["distributed"]["workers"] == 2
    np.testing.assert_array_equal(loaded.word_matrix(), model.word_matrix())
    assert vec.read_text().split("\n", 1)[0] == f"{len(model.vocab)} 50"
    # on a Ray that outlives the run (this module's), its workers and reducers are gone
    assert not alive_actors(), alive_actors(0)


@pytest.mark.parametrize("overlap", [False, True], ids=["synchronous", "overlapped"])
def test_a_killed_worker_is_replaced_and_no_words_are_lost(one_machine, overlap):
    killed = []

    def kill_during_training(run):
        pids = run.worker_pids()

        def kill():
            while run.sync.rounds < 2:
                time.sleep(0.05)
            os.kill(pids[1], signal.SIGKILL)
            killed.append(pids[1])

        threading.Thread(target=kill, daemon=True).start()

    from embedtrain.config import make_config
    from embedtrain.distributed import train_on_ray

    config = make_config("skipgram", dim=50, epochs=3, seed=1, threads=1)
    model, lines = logged(lambda: train_on_ray(
        config, ray_settings(config, ray="local", workers=2, sync_every=100_000, sync_overlap=overlap),
        [str(QUALITY_CORPUS)], progress=False, on_start=kill_during_training))
    log_text = "\n".join(lines)
    assert killed
    d = model.stats["distributed"]
    assert d["restarts"] == 1 and d["sync_overlap"] is overlap
    assert d["words_counted"] == model.stats["vocab_tokens"] * 3   # nothing lost, nothing twice
    assert "restarted from the last synchronised weights" in log_text or \
        "died while synchronising" in log_text, log_text
    ours, _ = wordsim_score(model.vectors)
    theirs, _ = wordsim_score(one_machine.vectors)
    assert ours >= theirs - NOISE, (ours, theirs)


@pytest.mark.parametrize("phase", ["tokenise", "fragment", "build"])
def test_a_worker_killed_during_set_up_is_replaced(phase):
    """Set-up survives a lost worker as rounds do (issue 21: a worker killed while
    tokenising ended the run with a 66-line traceback): the replacement redoes the
    step for its part, and the model is the one an undisturbed run makes."""
    from embedtrain.config import make_config
    from embedtrain.distributed import train_on_ray

    config = make_config("skipgram", dim=20, epochs=1, seed=4, threads=1)
    dist = ray_settings(config, ray="local", workers=2, sync_every=40_000)
    killed = []

    def kill_at(run, name):
        if name == phase and not killed:
            pid = run.conn.ray.get(run.actors[1].pid.remote())
            kill_process(pid)  # and wait until it is gone, so the step meets a dead actor
            killed.append(pid)

    model, lines = logged(lambda: train_on_ray(config, dist, [str(SAMPLE_CORPUS)], progress=False,
                                               on_phase=kill_at))
    assert killed
    assert any(line.startswith("Ray worker 1 died while") for line in lines), lines
    assert model.stats["distributed"]["restarts"] == 1
    assert model.stats["distributed"]["words_counted"] == model.stats["vocab_tokens"]
    calm = train_on_ray(config, dist, [str(SAMPLE_CORPUS)], progress=False)
    assert model.vocab.words == calm.vocab.words
    np.testing.assert_array_equal(model.arrays["input_vectors"], calm.arrays["input_vectors"])


def test_a_killed_reducer_is_restarted_and_the_run_finishes(one_machine):
    """A reducer is a stateless actor: Ray restarts it and retries the call it missed."""
    from embedtrain.config import make_config
    from embedtrain.distributed import train_on_ray

    killed = []

    def kill_a_reducer(run):
        pid = run.reducer_pids()[0]

        def kill():
            while run.sync.rounds < 2:
                time.sleep(0.05)
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

        threading.Thread(target=kill, daemon=True).start()

    config = make_config("skipgram", dim=50, epochs=3, seed=1, threads=1)
    model = train_on_ray(config, ray_settings(config, ray="local", workers=2, sync_every=100_000),
                         [str(QUALITY_CORPUS)], progress=False, on_start=kill_a_reducer)
    assert killed
    d = model.stats["distributed"]
    assert d["restarts"] == 0                                       # no worker was replaced
    assert d["words_counted"] == model.stats["vocab_tokens"] * 3   # every round combined and applied
    ours, _ = wordsim_score(model.vectors)
    theirs, _ = wordsim_score(one_machine.vectors)
    assert ours >= theirs - NOISE, (ours, theirs)


def test_fasttext_through_the_cli(tmp_path):
    from click.testing import CliRunner

    from embedtrain.cli import main

    prefix = tmp_path / "ft"
    result = CliRunner().invoke(main, ["train", str(SAMPLE_CORPUS), "--model", "fasttext", "--dim", "30",
                                       "--bucket", "50000", "--epochs", "2", "--threads", "1",
                                       "--ray", "local", "--workers", "2", "--sync-every", "40000",
                                       "-o", str(prefix), "-q"])
    assert result.exit_code == 0, result.output
    model = Model.load(str(prefix) + ".etm")
    assert model.kind == "fasttext"
    assert model.stats["distributed"]["workers"] == 2
    lineage = model.stats["lineage"]   # a Ray run records its corpus as one machine's does
    assert len(lineage) == 1 and lineage[0]["corpus"]["files"][0]["path"] == str(SAMPLE_CORPUS)
    # the compact layout of one machine (word rows, then the n-gram rows the vocabulary
    # uses); every one of them was trained on some worker and reached the saved replica
    # (worker 0's): none is left at its initial value
    from embedtrain.families.fasttext import initial_stored_rows, training_table

    vectors = model.arrays["input_vectors"]
    table, buckets = training_table(model.config, model.vocab)
    np.testing.assert_array_equal(model.arrays["ngram_buckets"], buckets)
    assert vectors.shape == (len(model.vocab) + len(buckets), 30)
    init = initial_stored_rows(len(model.vocab), buckets, 30, model.config.seed)
    rows = np.unique(table.rows)
    assert len(rows) == len(vectors)
    unchanged = np.all(vectors[rows] == init[rows], axis=1)
    assert unchanged.sum() == 0
    # and an unseen word gets a vector near words that share its n-grams: a misspelling
    # finds its word (this 2-epoch, dim-30 model is weak: "nationalities", asked before,
    # had "national" at rank 7 of 10 until FastText's output masses changed, not after)
    assert "internationl" not in model.vocab
    top = [w for w, _ in model.most_similar("internationl", topn=10)]
    assert "international" in top[:3], top


@pytest.mark.parametrize("model", ["skipgram", "fasttext"])
def test_continue_on_ray_grows_the_vocabulary_and_keeps_untouched_rows(tmp_path, model):
    """--continue with --ray: the vocabulary one machine's continued run builds, and the
    input rows of words the new text lacks exactly as they were (no worker touches them)."""
    import gzip

    with gzip.open(SAMPLE_CORPUS, "rt", encoding="utf-8") as f:
        words = f.read().split()
    half = len(words) // 2
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    for path, part in ((a, words[:half]), (b, words[half:])):
        path.write_text("\n".join(" ".join(part[i:i + 100]) for i in range(0, len(part), 100)) + "\n")
    settings = dict(model=model, dim=20, epochs=1, threads=1, seed=2, progress=False, min_count=3)
    if model == "fasttext":
        settings["bucket"] = 20000
    first = embedtrain.train(str(a), **settings)
    on_one = embedtrain.train(str(b), init=first, progress=False)
    on_ray = embedtrain.train(str(b), init=first, progress=False, ray="local", workers=2,
                              sync_every=20_000)
    assert on_ray.vocab.words == on_one.vocab.words and len(on_ray.vocab) > len(first.vocab)
    in_b = set(words[half:])
    absent = [w for w in first.vocab.words if w not in in_b]
    assert absent
    rows = on_ray.arrays["input_vectors"]
    for w in absent:
        np.testing.assert_array_equal(rows[on_ray.vocab.index[w]],
                                      first.arrays["input_vectors"][first.vocab.index[w]])
    assert [e["mode"] for e in on_ray.stats["lineage"]] == ["train", "continue"]
    assert on_ray.stats["distributed"]["workers"] == 2


def test_more_workers_than_the_cluster_has_is_refused():
    with pytest.raises(EmbedtrainError, match="needs 64 CPUs"):
        embedtrain.train(SAMPLE_CORPUS, ray="local", workers=64, threads=1, progress=False)


def test_a_relative_corpus_path_is_the_drivers(tmp_path, monkeypatch):
    """The workers run in the directory their Ray started in (for a cluster from `ray start`,
    not the driver's); a relative corpus path is the driver's, so it is made absolute."""
    import shutil

    shutil.copy(SAMPLE_CORPUS, tmp_path / "corpus.gz")
    monkeypatch.chdir(tmp_path)  # the module's Ray (and its workers) started elsewhere
    model = embedtrain.train("corpus.gz", ray="local", workers=1, threads=1, dim=8, epochs=1, progress=False)
    assert model.stats["vocab_tokens"] > 0


def test_token_lists_are_refused_before_any_work():
    # (GloVe trains on Ray: tests/test_ray_glove.py)
    with pytest.raises(EmbedtrainError, match="corpus files"):
        embedtrain.train([["a", "b"]], ray="local", progress=False)


def run_cli(*args, env_extra=None, **kw):
    env = dict(os.environ, PYTHONPATH=os.environ.get("PYTHONPATH", str(ROOT)))
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "embedtrain", "train", *map(str, args)],
                          capture_output=True, text=True, env=env, **kw)


def test_missing_ray_is_one_line(tmp_path):
    env = blocked_import_env(tmp_path, "ray")
    out = run_cli(SAMPLE_CORPUS, "--ray", "local", "-o", tmp_path / "x", env_extra=env)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f'embedtrain: error: --ray needs Ray, which is not installed: {install_hint("ray")}']


def test_ray_client_without_grpc_is_one_line_naming_the_extra(tmp_path):
    """ray:// needs Ray's client extra (grpcio), which the ray extra installs; without it
    Ray failed deep inside ray.init ("No module named 'grpc'")."""
    env = blocked_import_env(tmp_path, "grpc")
    out = run_cli(SAMPLE_CORPUS, "--ray", "ray://127.0.0.1:9", "-o", tmp_path / "x", env_extra=env)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "embedtrain: error: --ray ray://127.0.0.1:9: Ray Client (ray://) needs ray[client] (grpcio), "
        f'which is not installed: {install_hint("ray")}']


def test_a_ray_client_server_that_fails_our_session_is_one_line(monkeypatch):
    """What Ray Client raises when its server cannot start a session (a server started by
    hand with `python -m ray.util.client.server`, given a runtime_env: docs/ray.md): the
    server's traceback; the line keeps its cause."""
    from embedtrain.distributed import cluster

    monkeypatch.setattr(cluster, "_cluster_address", lambda address: None)
    monkeypatch.setattr(cluster, "_check_client", lambda address: None)
    failure = ConnectionAbortedError(
        "Initialization failure from server:\nTraceback (most recent call last):\n  File \"proxier.py\", "
        "line 267, in _create_runtime_env\n    len(self._runtime_env_agent_address) > 0\n"
        "TypeError: object of type 'NoneType' has no len()\n")
    with pytest.raises(EmbedtrainError) as caught:
        cluster._join(_FakeRay("", failure), "ray://127.0.0.1:10001")
    assert str(caught.value) == (
        "--ray ray://127.0.0.1:10001: the Ray Client server could not start a session for this process "
        "(TypeError: object of type 'NoneType' has no len()); its log is ray_client_server*.err in the "
        "head node's session logs")


def test_unreachable_address_is_one_line(tmp_path):
    out = run_cli(SAMPLE_CORPUS, "--ray", "ray://127.0.0.1:9", "-o", tmp_path / "x")
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the Ray cluster" in lines[0], out.stderr
    assert not (tmp_path / "x.vec").exists()


def test_local_refuses_far_more_cpus_than_the_machine_has(tmp_path):
    from embedtrain.distributed.cluster import MAX_LOCAL_OVERSUBSCRIPTION, check_local

    cores = os.cpu_count()
    workers = MAX_LOCAL_OVERSUBSCRIPTION * cores + 1
    out = run_cli(SAMPLE_CORPUS, "--ray", "local", "--workers", workers, "--threads", 1, "-o", tmp_path / "x")
    one_error_line(out, f"asks for {workers} CPUs on a machine with {cores}")
    check_local(MAX_LOCAL_OVERSUBSCRIPTION * cores, 1)  # the bound itself is allowed
    with pytest.raises(EmbedtrainError, match="asks for"):
        check_local(2, 2 * cores + 1)


def test_local_refuses_a_temporary_directory_too_long_for_rays_sockets(tmp_path):
    """Ray failed inside with 'AF_UNIX path length' and left ray/session_* behind."""
    deep = tmp_path / ("d" * 60)
    deep.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "RAY_TMPDIR"}
    env.update(TMPDIR=str(deep), PYTHONPATH=os.environ.get("PYTHONPATH", str(ROOT)))
    out = subprocess.run([sys.executable, "-m", "embedtrain", "train", str(SAMPLE_CORPUS), "--ray", "local",
                          "-o", str(tmp_path / "x")], capture_output=True, text=True, env=env)
    one_error_line(out, "over the system's limit of 107", "RAY_TMPDIR")
    assert list(deep.iterdir()) == []


def test_an_address_that_never_answers_is_one_line_within_seconds(tmp_path):
    """A local listener that accepts and never replies (Ray used to wait on it for 50 s
    and more, printing its C++ retry lines)."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    accepted = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        out = run_cli(SAMPLE_CORPUS, "--ray", f"127.0.0.1:{port}", "-o", tmp_path / "x")
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        server.close()
    one_error_line(out, f"127.0.0.1:{port} accepts connections but did not answer within 5 s")
    assert accepted and elapsed < 20, elapsed  # 5 s of waiting, plus Python and Ray's import


class _FlakyClientRay:
    """Ray Client whose session server dies at start the first ``failures`` times."""

    def __init__(self, failures: int, cause: str):
        self.failures, self.cause, self.inits, self.shutdowns = failures, cause, 0, 0

    def init(self, **kwargs):
        self.inits += 1
        if self.inits <= self.failures:
            raise ConnectionAbortedError("Initialization failure from server:\nTraceback (most recent call "
                                         f"last):\n  File \"proxier.py\", line 773\n{self.cause}\n")

    def shutdown(self):
        self.shutdowns += 1


@pytest.mark.parametrize("cause", [
    "RuntimeError: Starting Ray client server failed. See ray_client_server_23000.err for detailed logs.",
    "psutil.ZombieProcess: PID still exists but it's a zombie (pid=4242)"])
def test_a_session_server_that_dies_at_start_is_tried_again(monkeypatch, caplog, cause):
    """Ray Client's proxy starts one server process per session on the first free port
    from 23000; two sessions starting at once can race for it and one server dies. The
    join tries again (the next port), up to CLIENT_SESSION_ATTEMPTS times, then says why."""
    from embedtrain.distributed import cluster

    monkeypatch.setattr(cluster, "_cluster_address", lambda address: None)
    monkeypatch.setattr(cluster, "_check_client", lambda address: None)
    flaky = _FlakyClientRay(cluster.CLIENT_SESSION_ATTEMPTS - 1, cause)
    with caplog.at_level(logging.WARNING, logger="embedtrain"):
        cluster._join(flaky, "ray://127.0.0.1:10001")
    assert flaky.inits == cluster.CLIENT_SESSION_ATTEMPTS and flaky.shutdowns == flaky.failures
    retries = [r.getMessage() for r in caplog.records if "trying again" in r.getMessage()]
    assert len(retries) == flaky.failures
    always = _FlakyClientRay(10, cause)
    with pytest.raises(EmbedtrainError, match="could not start a session for this process"):
        cluster._join(always, "ray://127.0.0.1:10001")
    assert always.inits == cluster.CLIENT_SESSION_ATTEMPTS
    # a cluster address (not Ray Client) and a failure that is not the server dying: once
    for address, ray in (("127.0.0.1:6379", _FlakyClientRay(10, cause)),
                         ("ray://127.0.0.1:10001", _FlakyClientRay(10, "TypeError: no len()"))):
        with pytest.raises(EmbedtrainError):
            cluster._join(ray, address)
        assert ray.inits == 1


class _FakeRay:
    """What ray.init does against a cluster with token authentication and no token: C++
    retry lines on file descriptor 2, then a ConnectionError."""

    def __init__(self, stderr_text: str, error: Exception | None):
        self.stderr_text, self.error, self.waits = stderr_text, error, []

    def init(self, **kwargs):
        self.waits.append(os.environ.get("RAY_gcs_server_port_wait_time_s"))
        os.write(2, self.stderr_text.encode())
        if self.error is not None:
            raise self.error

    def shutdown(self):
        pass


def test_token_authentication_failure_is_one_line_that_says_so(capfd, monkeypatch, tmp_path):
    from embedtrain.distributed import cluster

    monkeypatch.setattr(cluster, "_cluster_address", lambda address: None)
    monkeypatch.delenv("RAY_gcs_server_port_wait_time_s", raising=False)
    noisy = ("[gcs_client.cc:210] Failed to get cluster ID from GCS server: Unauthenticated: RPC error: "
             "InvalidAuthToken: Authentication token is missing or incorrect\n") * 5
    for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ray/auth_token
    fake = _FakeRay(noisy, ConnectionError("Failed to connect to Ray cluster at 10.0.0.1:6379"))
    with pytest.raises(EmbedtrainError, match="requires token authentication and no token was found") as caught:
        cluster._join(fake, "auto")
    assert "RAY_AUTH_MODE=token and RAY_AUTH_TOKEN" in str(caught.value) and "\n" not in str(caught.value)
    # a token Ray does not send by itself (an explicit address), and one it sent and was refused
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("abc\n")
    with pytest.raises(EmbedtrainError, match="set RAY_AUTH_MODE=token to send the token from ~/.ray/auth_token"):
        cluster._join(_FakeRay(noisy, ConnectionError("x")), "127.0.0.1:6379")
    with pytest.raises(EmbedtrainError, match="rejected the authentication token from ~/.ray/auth_token"):
        cluster._join(_FakeRay(noisy, ConnectionError("x")), "auto")
    assert "InvalidAuthToken" not in capfd.readouterr().err  # Ray's lines stay off the terminal
    assert fake.waits == [str(int(cluster.CONNECT_TIMEOUT))]  # Ray retries for 5 s, not 20
    assert "RAY_gcs_server_port_wait_time_s" not in os.environ
    other = _FakeRay("retrying\n", ConnectionError("Failed to connect to Ray cluster at 10.0.0.1:6379"))
    with pytest.raises(EmbedtrainError, match=r"cannot connect to Ray \(Failed to connect"):
        cluster._join(other, "auto")
    cluster._join(_FakeRay("", None), "auto")  # a cluster that takes us: no error


def test_ctrl_c_stops_every_worker(tmp_path):
    before = ray_processes()
    code, err = signal_cli_run([QUALITY_CORPUS, "--ray", "local", "--workers", "2", "--threads", "1",
                                "--epochs", "50", "--sync-every", "100000", "-o", tmp_path / "x"],
                               "rounds per epoch", signal.SIGINT, wait=3)
    assert code == 130, err
    assert err.startswith("started a local Ray at "), err  # the first line names the cluster
    assert "interrupted" in err
    assert "Traceback" not in err
    assert not (tmp_path / "x.vec").exists()
    # the run's actors and its local Ray are gone (allow them a moment to exit)
    left = processes_left(before)
    assert not left, subprocess.run(["ps", "-o", "pid,args", "-p", ",".join(map(str, left))],
                                    capture_output=True, text=True).stdout


def test_checkpoint_and_resume_on_ray(tmp_path):
    from embedtrain.io.checkpoint import Checkpoint

    ckpt = tmp_path / "run.ckpt"
    settings = dict(model="skipgram", dim=20, epochs=2, seed=3, threads=1, progress=False,
                    ray="local", workers=2, sync_every=20_000, checkpoint=ckpt, checkpoint_every=1e-9)
    from embedtrain.errors import TrainingInterrupted

    with pytest.raises(TrainingInterrupted, match="every Ray worker"):
        embedtrain.train(SAMPLE_CORPUS, callbacks=[StopAfter(3)], **settings)
    saved = Checkpoint.load(ckpt)  # written after each round: the second round's survived
    assert saved.state.job == 2 and saved.state.units_done > 0
    assert saved.fingerprint["ray_workers"] == 2
    plain = {k: v for k, v in settings.items() if k not in ("ray", "workers", "sync_every")}
    with pytest.raises(EmbedtrainError, match="written by a --ray run; resume it with --ray and --workers 2"):
        embedtrain.train(SAMPLE_CORPUS, resume=ckpt, **plain)
    with pytest.raises(EmbedtrainError, match="written with --workers 2 --sync-every 20000"):
        embedtrain.train(SAMPLE_CORPUS, resume=ckpt, **dict(settings, workers=1))
    seen = []

    class Epochs:
        def on_epoch_end(self, info):
            seen.append(info.epoch)

    model = embedtrain.train(SAMPLE_CORPUS, resume=ckpt, callbacks=[Epochs()], **settings)
    assert model.stats["resumed_from_checkpoint"]["units_done"] == saved.state.units_done
    assert seen == [1, 2] and len(model.stats["history"]) == 2
    # the rounds before the checkpoint and after it add up to every word of both epochs once
    d = model.stats["distributed"]
    assert saved.state.units_done + d["words_counted"] == model.stats["vocab_tokens"] * 2
    assert not ckpt.exists()  # removed once the run completed
    assert np.isfinite(model.word_matrix()).all()


def test_a_damaged_ray_checkpoint_is_refused_in_one_line(tmp_path):
    """The one-machine checks (tests/test_damaged_checkpoints.py) hold for a --ray run's
    checkpoint: refused on the driver before any weights reach a worker."""
    from embedtrain.io.archive import read_archive, write_archive
    from embedtrain.io.checkpoint import CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION
    from embedtrain.errors import TrainingInterrupted
    from test_damaged_checkpoints import damaged_variants

    ckpt = tmp_path / "run.ckpt"
    settings = dict(model="skipgram", dim=20, epochs=2, seed=3, threads=1, progress=False,
                    ray="local", workers=2, sync_every=20_000, checkpoint_every=1e-9)
    with pytest.raises(TrainingInterrupted):
        embedtrain.train(SAMPLE_CORPUS, callbacks=[StopAfter(3)], checkpoint=ckpt, **settings)
    _, vocab, _ = read_archive(ckpt, CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, "checkpoint file")
    variants = damaged_variants(ckpt, "skipgram")
    for name in ("5 rows", "0 rows", "dim 7", "NaN", "epoch 99", "job 10^12", "rng 2^70"):
        meta, arrays = variants[name]
        damaged = tmp_path / "damaged.ckpt"
        write_archive(damaged, {**meta, "arrays": list(arrays)}, vocab, arrays)
        with pytest.raises(EmbedtrainError, match="damaged checkpoint file") as caught:
            embedtrain.train(SAMPLE_CORPUS, resume=damaged, checkpoint=tmp_path / "out.ckpt", **settings)
        assert "\n" not in str(caught.value), name
    embedtrain.train(SAMPLE_CORPUS, resume=ckpt, **settings)  # the undamaged one resumes


def test_whole_line_window_on_long_lines_warns_on_ray_too(tmp_path):
    rng = np.random.default_rng(5)
    corpus = tmp_path / "long.txt"
    corpus.write_text("".join(" ".join(f"w{i}" for i in rng.integers(0, 50, 1500)) + "\n" for _ in range(4)))
    _, lines = logged(lambda: embedtrain.train(str(corpus), ray="local", workers=2, threads=1, window=0,
                                               dim=8, epochs=1, lr=0.001, sync_every=2000, progress=False))
    warned = [line for line in lines if line.startswith("--window 0")]
    assert len(warned) == 1 and "1,500 contexts" in warned[0], lines


def test_one_worker_syncs_nothing_and_trains_as_one_process():
    settings = dict(model="skipgram", dim=20, epochs=1, seed=5, threads=1, progress=False)
    model = embedtrain.train(SAMPLE_CORPUS, ray="local", workers=1, sync_every=30_000, **settings)
    d = model.stats["distributed"]
    assert d["bytes_per_sync"] == 0 and d["rounds"] > 1
    # one worker on the whole file, one thread: the same chunks, positions and random
    # states as the one-process run, so the same weights
    one = embedtrain.train(SAMPLE_CORPUS, **settings)
    np.testing.assert_array_equal(model.arrays["input_vectors"], one.arrays["input_vectors"])


def test_divergence_stops_a_ray_run_in_one_line():
    from embedtrain.training.runner import TrainingDiverged

    with pytest.raises(TrainingDiverged, match="diverged in epoch 1"):
        embedtrain.train(SAMPLE_CORPUS, ray="local", workers=2, threads=1, dim=20, epochs=1,
                         lr=1e30, progress=False, sync_every=50_000)


def test_local_actors_run_at_the_drivers_priority():
    """Ray starts workers at niceness 15; `--ray local` asks for 0 (the actors are the job)."""
    code = ("import os, ray\n"
            "from embedtrain.distributed.cluster import connect\n"
            "c = connect('local', 1, 1)\n"
            "print('nice', ray.get(ray.remote(num_cpus=0)(lambda: os.nice(0)).remote()), os.nice(0))\n"
            "c.close()\n")
    env = {k: v for k, v in os.environ.items() if k != "RAY_worker_niceness"}
    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("nice ")]
    assert line, out.stderr
    _, worker, driver = line[0].split()
    assert int(worker) == int(driver)
