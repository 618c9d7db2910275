"""`embedtrain train` from the command line: outputs, options, bad input, determinism."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

import embedtrain
from embedtrain.cli import main
from embedtrain.models import Model

FAST = ["--dim", "16", "--epochs", "1", "--min-count", "3"]


def run(*args, cwd=None):
    runner = CliRunner()
    if cwd:
        old = os.getcwd()
        os.chdir(cwd)
    try:
        result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
    finally:
        if cwd:
            os.chdir(old)
    return result


def read_vec(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    v, d = map(int, lines[0].split())
    words = [l.split(" ", 1)[0] for l in lines[1:]]
    vecs = np.array([l.split(" ")[1:] for l in lines[1:]], dtype=np.float32)
    assert vecs.shape == (v, d)
    return words, vecs


def test_version_and_help():
    assert embedtrain.__version__ in run("--version").output
    out = run("train", "--help").output
    for option in ("--model", "--dim", "--window", "--min-count", "--max-vocab", "--epochs",
                   "--negative", "--hs", "--sample", "--lr", "--threads", "--seed", "--config",
                   "--save-vocab", "--read-vocab", "--lowercase", "--output"):
        assert option in out


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_train_writes_vec_and_model(tmp_path, small_corpus, model):
    result = run("train", small_corpus, "--model", model, *FAST, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    words, vecs = read_vec(tmp_path / "out.vec")
    m = Model.load(tmp_path / "out.etm")
    assert m.kind == model and m.vocab.words == words
    # most frequent first, and the text file holds the model's vectors to printed precision
    assert (np.diff(m.vocab.counts) <= 0).all()
    np.testing.assert_allclose(vecs, m.vectors.vectors, rtol=1e-5, atol=1e-7)
    assert m.config.dim == 16 and m.config.epochs == 1
    assert m.arrays["output_vectors"].shape == (len(words), 16)
    assert "words/s" in result.stderr and "wrote" in result.stderr


def test_default_prefix_is_corpus_stem_and_model(tmp_path, small_corpus):
    result = run("train", small_corpus, *FAST, "--model", "cbow", "-q", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small-cbow.etm", "small-cbow.vec"]
    assert result.stderr == ""  # -q: nothing but errors


def test_hierarchical_softmax_alone(tmp_path, small_corpus):
    assert run("train", small_corpus, *FAST, "--hs", "-o", tmp_path / "hs").exit_code == 0
    m = Model.load(tmp_path / "hs.etm")
    assert m.config.negative == 0 and m.config.hs
    assert m.arrays["output_vectors"].shape[0] == 0
    assert np.abs(m.arrays["output_hs"]).sum() > 0


def test_threads_1_with_seed_is_bit_identical(tmp_path, small_corpus):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        assert run("train", small_corpus, *FAST, "--threads", "1", "--seed", seed,
                   "-o", tmp_path / name).exit_code == 0
    a, b, c = (Model.load(tmp_path / f"{n}.etm").arrays["input_vectors"] for n in "abc")
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert (tmp_path / "a.vec").read_bytes() == (tmp_path / "b.vec").read_bytes()


def test_config_file_and_command_line_override(tmp_path, small_corpus):
    cfg = tmp_path / "r.toml"
    cfg.write_text('model = "cbow"\ndim = 12\nmin-count = 3\nepochs = 1\nwindow = 3\n')
    assert run("train", small_corpus, "--config", cfg, "--dim", "8", "-o", tmp_path / "m").exit_code == 0
    m = Model.load(tmp_path / "m.etm")
    assert (m.kind, m.config.dim, m.config.window, m.config.min_count) == ("cbow", 8, 3, 3)


def test_save_and_read_vocab(tmp_path, small_corpus):
    assert run("train", small_corpus, *FAST, "--save-vocab", tmp_path / "v.txt", "-o", tmp_path / "a").exit_code == 0
    lines = (tmp_path / "v.txt").read_text().splitlines()
    m = Model.load(tmp_path / "a.etm")
    assert [l.split()[0] for l in lines] == m.vocab.words
    # reuse the first 50 words only: the model's vocabulary is exactly those
    (tmp_path / "v50.txt").write_text("\n".join(lines[:50]) + "\n")
    assert run("train", small_corpus, *FAST, "--read-vocab", tmp_path / "v50.txt", "-o", tmp_path / "b").exit_code == 0
    assert Model.load(tmp_path / "b.etm").vocab.words == m.vocab.words[:50]


def test_max_vocab_and_lowercase(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text("The the THE cat Cat dog a b c\n" * 20)
    assert run("train", p, "--lowercase", "--max-vocab", "3", "--min-count", "1", "--dim", "4",
               "-o", tmp_path / "m").exit_code == 0
    assert Model.load(tmp_path / "m.etm").vocab.words == ["the", "cat", "dog"]


BAD_INPUTS = [
    (["missing.txt"], "does not exist"),
    (["{empty}"], "empty"),
    (["{corpus}", "--min-count", "1000000"], "lower --min-count"),
    (["{corpus}", "-o", "/nonexistent-dir/x"], "does not exist"),
    (["{corpus}", "-o", "{ro}/x"], "not writable"),
    (["{corpus}", "-o", "/sys/x"], "not writable"),  # not writable even for root
    (["{corpus}", "--dim", "0"], "--dim"),
    (["{corpus}", "--window", "-1"], "--window"),
    (["{corpus}", "--negative", "-1"], "--negative"),
    (["{corpus}", "--epochs", "0"], "--epochs"),
    (["{corpus}", "--model", "nope"], "nope"),
    (["{corpus}", "--config", "{badtoml}"], "not valid TOML"),
    (["{corpus}", "--config", "{unknownkey}"], "unknown key"),
    (["{corpus}", "--x-max", "5"], "does not apply"),
    (["{corpus}", "--read-vocab", "{badvocab}"], "line 1"),
    ([], "no corpus"),
]


@pytest.mark.parametrize("args,message", BAD_INPUTS)
def test_bad_input_is_one_line_and_nonzero(tmp_path, small_corpus, args, message):
    (tmp_path / "empty.txt").write_text("  \n\n")
    (tmp_path / "bad.toml").write_text("dim = = 3\n")
    (tmp_path / "unknown.toml").write_text("dimension = 3\n")
    (tmp_path / "badvocab.txt").write_text("just-a-word\n")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    subs = {"{empty}": tmp_path / "empty.txt", "{corpus}": small_corpus, "{badtoml}": tmp_path / "bad.toml",
            "{unknownkey}": tmp_path / "unknown.toml", "{ro}": ro, "{badvocab}": tmp_path / "badvocab.txt"}
    argv = [str(a) for a in args]
    for key, value in subs.items():
        argv = [a.replace(key, str(value)) for a in argv]
    if os.geteuid() == 0 and "{ro}/x" in args:
        pytest.skip("root can write to a read-only directory")
    proc = subprocess.run([sys.executable, "-m", "embedtrain", "train", *argv],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert not list(tmp_path.glob("*.vec")) and not list(tmp_path.glob("*.etm"))


def test_binary_junk_trains_or_fails_cleanly(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(np.random.default_rng(1).integers(0, 256, 200_000, dtype=np.uint8)))
    proc = subprocess.run([sys.executable, "-m", "embedtrain", "train", str(junk), "--min-count", "2",
                           "--dim", "8", "-o", str(tmp_path / "j")], capture_output=True, text=True)
    assert "Traceback" not in proc.stderr
    assert "not valid UTF-8" in proc.stderr
    if proc.returncode == 0:
        assert Model.load(tmp_path / "j.etm").vocab.words
    else:
        assert len(proc.stderr.strip().splitlines()) <= 2


@pytest.mark.parametrize("threads", [["--threads", "2"], ["--threads", "2", "--replicas"]],
                         ids=["hogwild", "replicas"])
def test_ctrl_c_stops_quickly_and_writes_nothing(tmp_path, sample_corpus, threads):
    proc = subprocess.Popen([sys.executable, "-m", "embedtrain", "train", str(sample_corpus),
                             "--epochs", "200", *threads, "-o", str(tmp_path / "x")],
                            stderr=subprocess.PIPE, text=True)
    # wait until training has started (the progress bar shows an epoch)
    buf = ""
    while "epoch" not in buf:
        ch = proc.stderr.read(1)
        assert ch, "training did not start"
        buf += ch
    proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    _, err = proc.communicate(timeout=60)
    stopped_after = time.monotonic() - t0
    assert proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
    assert stopped_after < 30  # generous: the machine is shared; typically well under a second
    assert list(tmp_path.iterdir()) == []


def test_stdin_corpus(tmp_path, small_corpus):
    proc = subprocess.run([sys.executable, "-m", "embedtrain", "train", "-", *FAST, "-q"],
                          input=small_corpus.read_bytes(), capture_output=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "stdin-skipgram.vec").exists()


def test_resume_continues_training_the_saved_model(tmp_path, small_corpus):
    assert run("train", small_corpus, *FAST, "--model", "cbow", "-o", tmp_path / "a").exit_code == 0
    result = run("train", small_corpus, "--resume", tmp_path / "a.etm", "--epochs", "2", "--lr", "0.01",
                 "-o", tmp_path / "b")
    assert result.exit_code == 0, result.output
    a, b = Model.load(tmp_path / "a.etm"), Model.load(tmp_path / "b.etm")
    assert b.kind == "cbow" and b.vocab.words == a.vocab.words
    assert (b.config.dim, b.config.epochs, b.config.lr, b.config.min_count) == (16, 2, 0.01, 3)
    before, after = a.arrays["input_vectors"], b.arrays["input_vectors"]
    assert not np.array_equal(before, after)
    # it started from the saved weights: closer to them than a fresh model is
    fresh = embedtrain.train(small_corpus, model="cbow", dim=16, epochs=2, lr=0.01, min_count=3,
                             progress=False, seed=9)
    assert np.linalg.norm(after - before) < np.linalg.norm(fresh.arrays["input_vectors"] - before)
    assert b.stats["resumed_from_words"] == a.stats["words_trained"]


@pytest.mark.parametrize("args,message", [(["--dim", "32"], "cannot change"),
                                          (["--model", "skipgram"], "cannot resume a cbow"),
                                          (["--hs"], "cannot change")])
def test_resume_refuses_shape_changes(tmp_path, small_corpus, args, message):
    assert run("train", small_corpus, *FAST, "--model", "cbow", "-o", tmp_path / "a").exit_code == 0
    result = run("train", small_corpus, "--resume", tmp_path / "a.etm", *args, "-o", tmp_path / "b")
    assert result.exit_code == 1 and message in result.stderr
    assert not (tmp_path / "b.vec").exists()


def test_quiet_does_not_stick_to_later_commands(tmp_path, small_corpus):
    assert run("train", small_corpus, *FAST, "-q", "-o", tmp_path / "a").stderr == ""
    result = run("train", small_corpus, *FAST, "-o", tmp_path / "b")
    assert "wrote" in result.stderr


def test_model_file_with_a_malformed_vocabulary_is_refused(tmp_path, skipgram_files):
    import zipfile

    from embedtrain.errors import EmbedtrainError

    bad = tmp_path / "bad.etm"
    with zipfile.ZipFile(skipgram_files["model"]) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            dst.writestr(item, b"the 12 extra\n" + data if item == "vocab.txt" else data)
    with pytest.raises(EmbedtrainError, match=r"damaged model file .*vocab.txt, line 1"):
        Model.load(bad)


def _exit_now(tmp_path, body: str) -> subprocess.CompletedProcess:
    script = tmp_path / "exit_now.py"
    script.write_text("import atexit, sys, threading, time\nfrom embedtrain.cli.app import exit_now\n"
                      "class Teardown:\n    def __del__(self):\n        print('teardown')\n"
                      "kept = Teardown()\natexit.register(print, 'atexit ran')\nsys.stdout.write('buffered ')\n"
                      + body)
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path)


def test_exit_now_skips_teardown_only(tmp_path):
    """The command's process ends without the interpreter's teardown, after the exit
    functions and with its output flushed, with the status given."""
    proc = _exit_now(tmp_path, "exit_now(3)\n")
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.split() == ["buffered", "atexit", "ran"]   # no 'teardown'
    # a non-daemon thread still running: Python's own exit, which waits for it
    proc = _exit_now(tmp_path, "threading.Thread(target=lambda: (time.sleep(0.2), print('thread'))).start()\n"
                               "exit_now(0)\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["buffered", "thread", "atexit", "ran", "teardown"]


def test_command_process_exits_with_its_outputs(tmp_path, small_corpus):
    proc = subprocess.run([sys.executable, "-m", "embedtrain", "train", str(small_corpus), *FAST,
                           "-o", str(tmp_path / "m")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stderr
    vectors = embedtrain.load_vectors(tmp_path / "m.vec")
    assert len(vectors.words) == len(Model.load(tmp_path / "m.etm").vocab)


def test_train_path_imports_no_bar_and_no_items(tmp_path, small_corpus):
    """`embedtrain train` without a terminal (a bar) or --items imports neither tqdm nor the
    items package (their import was 30 ms of every run's start)."""
    code = ("import sys\nfrom embedtrain.cli import main\n"
            "try:\n    main.main(sys.argv[1:], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m == 'tqdm' or m.startswith('embedtrain.items')))")
    proc = subprocess.run([sys.executable, "-c", code, "train", str(small_corpus), *FAST,
                           "-o", str(tmp_path / "m")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "m.vec").exists()
    assert proc.stdout.strip() == "[]"


# `train` loads numpy with one OpenBLAS thread (cli/app.py, ONE_BLAS_THREAD); checked in fresh
# processes, since this one loaded numpy long ago. A process's threads are its /proc entries.
_THREADS_AFTER_COMMAND = """
import os, sys
from embedtrain.cli.app import main
main.get_command(None, sys.argv[1])
import numpy
print(len(os.listdir("/proc/self/task")), os.environ.get("OPENBLAS_NUM_THREADS", "unset"))
"""


def _threads_after(command: str, **env) -> tuple[int, str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    environment.update(env)
    proc = subprocess.run([sys.executable, "-c", _THREADS_AFTER_COMMAND, command], capture_output=True,
                          text=True, env=environment, check=True)
    threads, variable = proc.stdout.split()
    return int(threads), variable


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc (Linux)")
def test_train_loads_numpy_with_one_blas_thread():
    threads, variable = _threads_after("train")
    assert threads == 1
    assert variable == "unset"   # set only while numpy loads: Ray's processes get the default


@pytest.mark.skipif(not os.path.isdir("/proc/self/task") or (os.cpu_count() or 1) < 2,
                    reason="counts threads in /proc (Linux); OpenBLAS starts one thread a core")
def test_other_commands_and_a_users_setting_keep_their_blas_threads():
    assert _threads_after("eval")[0] > 1          # eval multiplies matrices
    threads, variable = _threads_after("train", OPENBLAS_NUM_THREADS="2")
    assert (threads, variable) == (2, "2")        # the user's setting is left as it is
