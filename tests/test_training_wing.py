"""The training wing: token sources, callbacks and history, the NaN stop,
checkpoints and resuming after kill -9, and the kernel cache."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import embedtrain
from embedtrain.errors import EmbedtrainError
from embedtrain.models import Model
from embedtrain.io.checkpoint import Checkpoint
from embedtrain.training.runner import TrainingDiverged

import killed_child
from conftest import StopAtEpoch, StopTraining

ROOT = Path(__file__).resolve().parent.parent
FAST = dict(dim=12, epochs=2, threads=1, seed=5, min_count=2, progress=False)


@pytest.fixture(scope="module")
def lines(small_corpus) -> list[list[str]]:
    return [line.split() for line in small_corpus.read_text().splitlines()]


# ----------------------------------------------------------------------------- token sources

@pytest.mark.parametrize("model", ["skipgram", "fasttext"])
def test_iterable_gives_the_same_vectors_as_the_file(small_corpus, lines, model):
    extra = {"bucket": 5000} if model == "fasttext" else {}
    from_file = embedtrain.train(small_corpus, model=model, **FAST, **extra)
    from_list = embedtrain.train(lines, model=model, **FAST, **extra)

    def generator():
        yield from (list(l) for l in lines)

    from_generator = embedtrain.train(generator(), model=model, **FAST, **extra)
    assert from_list.vocab.words == from_file.vocab.words
    for name, array in from_file.arrays.items():
        np.testing.assert_array_equal(from_list.arrays[name], array)
        np.testing.assert_array_equal(from_generator.arrays[name], array)


def test_reiterable_class_and_long_sentences_are_cut_like_lines(small_corpus, lines):
    class Sentences:
        def __iter__(self):
            return iter(lines)

    one_line = [w for line in lines for w in line]  # cut at max_line_tokens like a file's line
    a = embedtrain.train(Sentences(), **FAST, max_line_tokens=100)
    b = embedtrain.train([one_line], **FAST, max_line_tokens=100)
    np.testing.assert_array_equal(a.arrays["input_vectors"], b.arrays["input_vectors"])


@pytest.mark.parametrize("corpus,message", [
    (["the king", "a queen"], "does not exist"),          # strings are paths
    ((s for s in ["the king"]), "is a string, not a list of tokens"),
    ([["a", 3]], "is not a string"),
    ([], "no corpus"),
    (42, "cannot train on a int"),
])
def test_bad_iterables_are_one_line_errors(corpus, message):
    with pytest.raises(EmbedtrainError, match=message):
        embedtrain.train(corpus, **FAST)


# ----------------------------------------------------------------------------- callbacks, history

class Recorder(embedtrain.Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self, kind, epochs):
        self.calls.append(("begin", kind, epochs))

    def on_epoch_begin(self, epoch):
        self.calls.append(("epoch_begin", epoch))

    def on_progress(self, info):
        self.calls.append(("progress", info))

    def on_epoch_end(self, info):
        self.calls.append(("epoch_end", info))

    def on_train_end(self, history):
        self.calls.append(("end", len(history)))


@pytest.mark.parametrize("model", ["skipgram", "glove"])
def test_callbacks_fire_with_the_right_counts(small_corpus, model, monkeypatch):
    from embedtrain.corpus import stream

    monkeypatch.setattr(stream, "JOB_TOKENS", 5000)  # several jobs per epoch
    rec = Recorder()
    fitted = embedtrain.train(small_corpus, model=model, callbacks=[rec], **dict(FAST, epochs=3))
    kinds = [c[0] for c in rec.calls]
    assert kinds[0] == "begin" and kinds[-1] == "end" and rec.calls[-1][1] == 3
    assert kinds.count("epoch_begin") == kinds.count("epoch_end") == 3
    ends = [c[1] for c in rec.calls if c[0] == "epoch_end"]
    assert [e.epoch for e in ends] == [1, 2, 3]
    progress = [c[1] for c in rec.calls if c[0] == "progress"]
    assert len(progress) > 3  # several jobs per epoch
    done = [p.units_done for p in progress]
    assert done == sorted(done) and done[-1] == progress[-1].units_total
    assert sum(e.units for e in ends) == progress[-1].units_total
    # the history saved in the model is what the callbacks saw
    history = fitted.stats["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert [h["loss"] for h in history] == pytest.approx([e.loss for e in ends])
    assert all(h["loss"] > 0 and h["words_per_second"] > 0 for h in history)
    if model == "skipgram":
        assert history[-1]["loss"] < history[0]["loss"]  # it learns
        assert history[-1]["lr"] < history[0]["lr"]     # and the rate decays


def test_history_is_saved_in_the_model_file(small_corpus, tmp_path):
    fitted = embedtrain.train(small_corpus, **FAST)
    _, etm = fitted.save(tmp_path / "m")
    assert Model.load(etm).stats["history"] == json.loads(json.dumps(fitted.stats["history"]))


def test_a_callback_without_hooks_is_refused(small_corpus):
    with pytest.raises(EmbedtrainError, match="none of the hooks"):
        embedtrain.train(small_corpus, callbacks=[object()], **FAST)


# ----------------------------------------------------------------------------- NaN stop

@pytest.mark.parametrize("model,lr", [("skipgram", 1e30), ("cbow", 1e30), ("glove", 1e30)])
def test_nan_stops_the_run_within_one_job(small_corpus, model, lr, monkeypatch):
    from embedtrain.corpus import stream

    monkeypatch.setattr(stream, "JOB_TOKENS", 2000)
    rec = Recorder()
    with pytest.raises(TrainingDiverged, match="diverged in epoch 1 .* try a lower --lr"):
        embedtrain.train(small_corpus, model=model, lr=lr, callbacks=[rec], **dict(FAST, epochs=5))
    # it stopped at once: no epoch finished, at most a few jobs reported
    assert not [c for c in rec.calls if c[0] == "epoch_end"]


def test_cli_nan_stop_is_one_line_and_writes_nothing(small_corpus, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "embedtrain", "train", str(small_corpus), "--lr", "1e30",
                           "--dim", "12", "--threads", "1", "-o", str(tmp_path / "x"), "-q"],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "diverged" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- checkpoints

# The child (tests/killed_child.py) trains in small jobs and kills itself at job KILL_AT.
CHILD = textwrap.dedent("""
    import json, sys
    import embedtrain
    from embedtrain.corpus import stream
    from killed_child import callbacks
    stream.JOB_TOKENS = 3000
    import embedtrain.families.glove as g
    g.JOB_ENTRIES = 4096
    args = json.loads(sys.argv[1])
    kill_at = args.pop("kill_at")
    corpus = args.pop("corpus")
    resume = args.pop("resume", None)
    m = embedtrain.train(corpus, resume=resume, callbacks=callbacks(kill_at), **args)
    m.save(args["checkpoint"][:-5] + "-done")
""")

MODELS = {
    "skipgram": dict(model="skipgram"),
    "cbow": dict(model="cbow", hs=True),
    "fasttext": dict(model="fasttext", bucket=5000),
    "glove": dict(model="glove", memory=0.05),
}


def _child(args: dict) -> subprocess.CompletedProcess:
    return killed_child.run(CHILD, args)


@pytest.mark.parametrize("model", list(MODELS))
def test_killed_run_resumes_from_its_checkpoint_exactly(small_corpus, tmp_path, model):
    settings = dict(FAST, epochs=3, checkpoint_every=1e-9, **MODELS[model])
    settings.pop("progress")
    ckpt = str(tmp_path / "run.ckpt")
    killed = _child(dict(settings, corpus=str(small_corpus), checkpoint=ckpt, kill_at=7))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    saved = Checkpoint.load(ckpt)  # the last complete checkpoint survived the kill
    assert saved.state.units_done > 0 and saved.config.model == MODELS[model]["model"]
    assert not list(tmp_path.glob(".*.tmp"))  # or list(...) of temporaries: none left half-written

    resumed = _child(dict(settings, corpus=str(small_corpus), checkpoint=ckpt, kill_at=0, resume=ckpt))
    assert resumed.returncode == 0, resumed.stderr
    assert not Path(ckpt).exists()  # removed when the run completed
    after = Model.load(tmp_path / "run-done.etm")
    assert after.stats["resumed_from_checkpoint"]["units_done"] == saved.state.units_done
    assert len(after.stats["history"]) == 3

    straight = embedtrain.train(small_corpus, **dict(FAST, epochs=3, **MODELS[model]))
    assert set(after.arrays) == set(straight.arrays)
    for name, array in straight.arrays.items():
        np.testing.assert_array_equal(after.arrays[name], array, err_msg=name)


def test_fasttext_checkpoint_in_the_full_layout_resumes(small_corpus, tmp_path):
    """A FastText checkpoint written before compact storage (every bucket row, no
    ngram_buckets) resumes to the same bytes as an uninterrupted run."""
    from embedtrain.ngram_rows import NgramRows
    from embedtrain.io.checkpoint import write_checkpoint

    settings = dict(FAST, epochs=3, checkpoint_every=1e-9, **MODELS["fasttext"])
    settings.pop("progress")
    ckpt = str(tmp_path / "run.ckpt")
    killed = _child(dict(settings, corpus=str(small_corpus), checkpoint=ckpt, kill_at=7))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    saved = Checkpoint.load(ckpt)
    arrays = dict(saved.arrays)
    v, bucket = len(saved.vocab), saved.config.subword_buckets
    rows = NgramRows(arrays["input_vectors"], v, bucket, arrays.pop("ngram_buckets"), saved.config.seed)
    arrays["input_vectors"] = rows.full_rows(0, v + bucket)
    write_checkpoint(ckpt, saved.config, saved.vocab, arrays, saved.state, saved.fingerprint, saved.stats)
    assert "ngram_buckets" not in Checkpoint.load(ckpt).arrays
    resumed = _child(dict(settings, corpus=str(small_corpus), checkpoint=ckpt, kill_at=0, resume=ckpt))
    assert resumed.returncode == 0, resumed.stderr
    after = Model.load(tmp_path / "run-done.etm")
    straight = embedtrain.train(small_corpus, **dict(FAST, epochs=3, **MODELS["fasttext"]))
    for name, array in straight.arrays.items():
        np.testing.assert_array_equal(after.arrays[name], array, err_msg=name)


def test_checkpoint_for_other_settings_or_corpus_is_refused(small_corpus, tmp_path, lines):
    ckpt = str(tmp_path / "run.ckpt")
    killed = _child(dict(FAST, progress=False, epochs=3, checkpoint_every=1e-9, corpus=str(small_corpus),
                         checkpoint=ckpt, kill_at=3))
    assert killed.returncode == -signal.SIGKILL
    same = dict(FAST, epochs=3)
    with pytest.raises(EmbedtrainError, match="was written with --dim 12, this run has 20"):
        embedtrain.train(small_corpus, resume=ckpt, **dict(same, dim=20))
    with pytest.raises(EmbedtrainError, match="not --model cbow"):
        embedtrain.train(small_corpus, resume=ckpt, model="cbow", **same)
    with pytest.raises(EmbedtrainError, match="another corpus"):
        embedtrain.train(lines[: len(lines) // 2], resume=ckpt, **same)
    other = tmp_path / "other.txt"  # same words and counts, another order: another corpus
    other.write_text("\n".join(reversed(small_corpus.read_text().splitlines())) + "\n")
    with pytest.raises(EmbedtrainError, match="another corpus"):
        embedtrain.train(other, resume=ckpt, **same)
    assert Path(ckpt).exists()  # a refused resume leaves the checkpoint alone


def test_checkpoint_of_other_jobs_is_refused_by_name(small_corpus, tmp_path):
    """A checkpoint whose run cut the same corpus into other jobs (another version's job sizes)
    is refused, saying so: its position is a job index."""
    from embedtrain.io.checkpoint import write_checkpoint

    ckpt = str(tmp_path / "run.ckpt")
    killed = _child(dict(FAST, progress=False, epochs=3, checkpoint_every=1e-9, corpus=str(small_corpus),
                         checkpoint=ckpt, kill_at=3))
    assert killed.returncode == -signal.SIGKILL
    saved = Checkpoint.load(ckpt)
    other = dict(saved.fingerprint, chunks=saved.fingerprint["chunks"] + 1)
    write_checkpoint(ckpt, saved.config, saved.vocab, dict(saved.arrays), saved.state, other, saved.stats)
    with pytest.raises(EmbedtrainError, match=r"into \d+ jobs an epoch, this embedtrain into \d+"):
        embedtrain.train(small_corpus, resume=ckpt, **dict(FAST, epochs=3))


def test_cli_checkpoint_kill9_and_resume(tmp_path):
    """The user's path: --checkpoint-every, kill -9 from outside, --resume PREFIX.ckpt."""
    corpus = ROOT / "data" / "text8-1m.gz"
    # 6 epochs: about 2 s of training on a 2026 core, so the kill 0.4 s after the first checkpoint
    # falls well inside the run (with 2 epochs a run had ended by then)
    common = ["--dim", "40", "--epochs", "6", "--threads", "1", "--seed", "3", "--max-line-tokens",
              "1000", "-q"]
    prefix = tmp_path / "run"
    child = subprocess.Popen([sys.executable, "-m", "embedtrain", "train", str(corpus), *common,
                              "--checkpoint-every", "0.3", "-o", str(prefix)])
    ckpt = Path(str(prefix) + ".ckpt")
    deadline = time.monotonic() + 120
    while not ckpt.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if child.poll() is not None:
        pytest.skip("training finished before its first checkpoint (machine too fast for this test)")
    time.sleep(0.4)
    if child.poll() is not None:
        pytest.skip("training finished within 0.4 s of its first checkpoint (machine too fast)")
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert ckpt.exists() and not Path(str(prefix) + ".etm").exists()
    done = subprocess.run([sys.executable, "-m", "embedtrain", "train", str(corpus), *common,
                           "--checkpoint-every", "0.3", "-o", str(prefix), "--resume", str(ckpt)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not ckpt.exists()
    resumed = Model.load(str(prefix) + ".etm")
    assert "resumed_from_checkpoint" in resumed.stats
    straight = subprocess.run([sys.executable, "-m", "embedtrain", "train", str(corpus), *common,
                               "-o", str(tmp_path / "straight")], capture_output=True, text=True)
    assert straight.returncode == 0, straight.stderr
    np.testing.assert_array_equal(resumed.arrays["input_vectors"],
                                  Model.load(tmp_path / "straight.etm").arrays["input_vectors"])


def test_checkpoint_every_needs_a_path_in_the_library(small_corpus):
    with pytest.raises(EmbedtrainError, match="checkpoint=PATH"):
        embedtrain.train(small_corpus, checkpoint_every=10, **FAST)


# ----------------------------------------------------------------------------- kernel cache, no-JIT

def _copy_package(tmp_path: Path) -> Path:
    dest = tmp_path / "pkg"
    shutil.copytree(ROOT / "embedtrain", dest / "embedtrain",
                    ignore=shutil.ignore_patterns("__pycache__", "datasets"))
    return dest


PROBE = ("import numpy as np; from embedtrain.kernels.sgns import word_vectors; "
         "inp = np.arange(12, dtype=np.float32).reshape(4, 3); out = np.empty((1, 3), np.float32); "
         "word_vectors(inp, np.array([0, 2]), np.array([1, 3], np.int32), out); print(out[0].tolist())")


def test_cache_is_not_stale_after_an_inlined_helper_in_another_file_changes(tmp_path):
    pkg = _copy_package(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(pkg))
    env.pop("NUMBA_CACHE_DIR", None)

    def probe() -> list[float]:
        out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                             cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    assert probe() == [6.0, 7.0, 8.0]           # mean of rows 1 and 3, compiled and cached
    cached = list((pkg / "embedtrain" / "kernels" / "__pycache__").glob("sgns.word_vectors*"))
    assert cached, "the kernel was not cached beside its module"
    rows = pkg / "embedtrain" / "kernels" / "rows.py"  # the helper word_vectors inlines
    rows.write_text(rows.read_text().replace("scale = np.float32(1.0) / np.float32(r1 - r0)",
                                             "scale = np.float32(2.0) / np.float32(r1 - r0)"))
    assert probe() == [12.0, 14.0, 16.0]         # recompiled, not served from the stale cache


def test_read_only_install_falls_back_to_a_writable_cache(tmp_path):
    """A package whose __pycache__ cannot be written (read-only site-packages; here a
    plain file stands where the directory would go, which stops root too) caches its
    kernels under $XDG_CACHE_HOME/embedtrain instead of failing."""
    pkg = _copy_package(tmp_path)
    for d, _, _ in os.walk(pkg / "embedtrain"):
        (Path(d) / "__pycache__").write_text("not a directory")
    cache_home = tmp_path / "xdg"
    env = dict(os.environ, PYTHONPATH=str(pkg), XDG_CACHE_HOME=str(cache_home), PYTHONDONTWRITEBYTECODE="1")
    env.pop("NUMBA_CACHE_DIR", None)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                         cwd=tmp_path)  # not the repository: "" on sys.path would import it
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [6.0, 7.0, 8.0]
    assert list((cache_home / "embedtrain" / "numba").rglob("sgns.word_vectors*.nbi")), \
        "the kernel was not cached under $XDG_CACHE_HOME/embedtrain"


def test_an_installed_package_keeps_its_kernel_caches_outside_site_packages(tmp_path):
    """pip uninstall removes only what it installed: caches beside the modules stayed (4-31
    files) and kept an embedtrain/ directory that shadowed the next install (issue 21)."""
    site = tmp_path / "venv" / "lib" / "python3" / "site-packages"
    shutil.copytree(ROOT / "embedtrain", site / "embedtrain",
                    ignore=shutil.ignore_patterns("__pycache__", "datasets"))
    cache_home = tmp_path / "xdg"
    env = dict(os.environ, PYTHONPATH=str(site), XDG_CACHE_HOME=str(cache_home), PYTHONDONTWRITEBYTECODE="1")
    env.pop("NUMBA_CACHE_DIR", None)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [6.0, 7.0, 8.0]
    assert not [p for p in site.rglob("*") if p.suffix in (".nbi", ".nbc")]
    assert list((cache_home / "embedtrain" / "numba").rglob("sgns.word_vectors*.nbi"))


def test_no_writable_cache_directory_means_no_cache(tmp_path, monkeypatch):
    from embedtrain.kernels import options

    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(options, "cache_directories", lambda py_file: [blocker / "a", blocker / "b"])
    assert options._install_locator() is False  # KERNEL_OPTIONS then compile with cache=False
    monkeypatch.setattr(options, "cache_directories", lambda py_file: [blocker / "a", tmp_path / "ok"])
    assert options._install_locator() is True


def test_kernels_run_without_jit_against_the_reference():
    """NUMBA_DISABLE_JIT=1: the word2vec kernel runs as plain Python (prefetch is a
    no-op there) and still matches the numpy reference."""
    code = ("import pytest, sys; sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', "
            "'tests/test_kernels.py::test_kernel_step_matches_reference', '-k', 'skipgram and 3-False and 0.05']))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, NUMBA_DISABLE_JIT="1"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed" in out.stdout


def test_cli_resume_into_another_prefix_keeps_the_checkpoint_it_resumed(small_corpus, tmp_path):
    """Only a run's own checkpoint (PREFIX.ckpt) is removed when it completes (issue 21)."""
    ckpt = tmp_path / "keep.ckpt"

    with pytest.raises(StopTraining):
        embedtrain.train(str(small_corpus), checkpoint=ckpt, checkpoint_every=1e-9,
                         callbacks=[StopAtEpoch(1)], **dict(FAST, epochs=2))
    common = ["--dim", "12", "--epochs", "2", "--threads", "1", "--seed", "5", "--min-count", "2", "-q"]
    other = subprocess.run([sys.executable, "-m", "embedtrain", "train", str(small_corpus), *common,
                            "--resume", str(ckpt), "-o", str(tmp_path / "other")], capture_output=True, text=True)
    assert other.returncode == 0, other.stderr
    assert ckpt.exists() and (tmp_path / "other.etm").exists()
    same = subprocess.run([sys.executable, "-m", "embedtrain", "train", str(small_corpus), *common,
                           "--resume", str(ckpt), "-o", str(tmp_path / "keep")], capture_output=True, text=True)
    assert same.returncode == 0, same.stderr
    assert not ckpt.exists() and (tmp_path / "keep.etm").exists()


def test_messages_count_entries_not_entrys():
    from types import SimpleNamespace

    from embedtrain.training.runner import _raise_diverged

    with pytest.raises(TrainingDiverged, match="after 5 entries "):
        _raise_diverged(SimpleNamespace(kind="glove", unit="entry"), 0, 5)
    with pytest.raises(TrainingDiverged, match="after 7 words "):
        _raise_diverged(SimpleNamespace(kind="skipgram", unit="word"), 0, 7)


def test_the_shared_temporary_cache_directory_is_used_only_when_private(tmp_path, monkeypatch):
    """The last fallback for compiled kernels is a directory in the shared temporary
    directory: numba's cache index is a pickle, so it is used only when it is a real
    directory of this user's that nobody else may write to (issue 21, item 2)."""
    from embedtrain.kernels import options

    monkeypatch.setattr(options.tempfile, "gettempdir", lambda: str(tmp_path))
    root = options._temp_cache_root()
    inside = root / "numba" / "kernels"
    assert options._writable(inside)                 # made by us: private
    assert root.stat().st_mode & 0o777 == 0o700
    root.chmod(0o777)                                # another user could plant a pickle
    assert not options._writable(inside)
    root.chmod(0o700)
    assert options._writable(inside)
    if os.geteuid() == 0:                            # as another user's directory
        os.chown(root, 54321, 54321)
        assert not options._writable(inside)
        os.chown(root, 0, 0)
    shutil.rmtree(root)
    root.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir()
    assert not options._writable(inside)             # a link planted in its place
