"""Issue 10 (hardening), item by item, through the CLI where a user meets each fault:
damaged model files, full disks, outputs that appear together, signals, nonsense values,
NaN rows, format detection, permissions, zstd corpora and the small things."""
from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import embedtrain
from embedtrain.cli import main
from embedtrain.errors import EmbedtrainError
from embedtrain.extras import install_hint
from embedtrain.io import atomic
from embedtrain.io.formats import load_vectors
from embedtrain.models import Model

ROOT = Path(__file__).resolve().parent.parent
FAST = ["--dim", "8", "--epochs", "1", "--min-count", "3", "--threads", "1"]


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def one_line_error(result, *needles, code=1):
    assert result.exit_code == code, (result.exit_code, result.output)
    err = result.stderr.strip()
    assert err.startswith("embedtrain: error:") and "\n" not in err, err
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in err, err
    return err


def listing(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir())


@pytest.fixture(scope="module")
def tiny_models(small_corpus, tmp_path_factory):
    """A skip-gram, a FastText and a GloVe model file of the small corpus."""
    out = tmp_path_factory.mktemp("tiny")
    paths = {}
    for kind, extra in (("skipgram", []), ("fasttext", ["--bucket", "500"]), ("glove", [])):
        result = run("train", small_corpus, "--model", kind, *FAST, *extra, "-q", "-o", out / kind)
        assert result.exit_code == 0, result.output
        paths[kind] = out / f"{kind}.etm"
    result = run("train", small_corpus, "--model", "glove", *FAST, "-q", "-o", out / "g2",
                 "--save-cooccur", out / "m.cooc")
    assert result.exit_code == 0, result.output
    paths["cooc"] = out / "m.cooc"
    return paths


def rewrite_archive(src: Path, dst: Path, meta=None, members: dict | None = None,
                    drop: tuple = ()) -> Path:
    """A copy of an archive with meta.json and/or some members replaced."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = zin.read(info)
            if info.filename == "meta.json" and meta is not None:
                data = json.dumps(meta(json.loads(data))).encode() if callable(meta) else meta
            if members and info.filename in members:
                data = members[info.filename]
            zout.writestr(info.filename, data)
    return dst


def npy_bytes(array) -> bytes:
    import io
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


# ---------------------------------------------------------------------- 1 and 4: damaged files
def test_fasttext_etm_whose_settings_disagree_with_its_arrays_is_refused(tiny_models, tmp_path):
    """dim 999 in the settings, 8 in the arrays: `vectors` printed 1,000 values read past
    the array with exit 0."""
    bad = rewrite_archive(tiny_models["fasttext"], tmp_path / "bad.etm",
                          meta=lambda m: {**m, "config": {**m["config"], "dim": 999}})
    one_line_error(run("vectors", bad, "anarchism"), str(bad), "damaged model file", "input_vectors",
                   ", 999)")


def test_resume_from_damaged_model_is_refused_before_training(tiny_models, small_corpus, tmp_path):
    """output_vectors replaced by a 0 x dim array, or two extra vocabulary lines: these
    segfaulted (exit 139) or aborted in glibc (134)."""
    src = tiny_models["skipgram"]
    zero = rewrite_archive(src, tmp_path / "zero.etm",
                           members={"output_vectors.npy": npy_bytes(np.zeros((0, 8), np.float32))})
    with zipfile.ZipFile(src) as zf:
        vocab = zf.read("vocab.txt")
    longer = rewrite_archive(src, tmp_path / "longer.etm",
                             members={"vocab.txt": vocab + b"extra1 1\nextra2 1\n"})
    for bad in (zero, longer):
        result = run("train", small_corpus, "--resume", bad, "-q", "-o", tmp_path / "out")
        one_line_error(result, str(bad), "damaged model file", "shape")
    assert not list(tmp_path.glob("out*"))


@pytest.mark.parametrize("case,needle", [
    ("bytes deleted", "damaged"),
    ("truncated", "damaged"),
    ("meta a list", "meta.json holds a list"),
    ("no config", "no 'config'"),
    ("string format_version", "format_version '1'"),
    ("newer format_version", "upgrade embedtrain"),
    ("1-D array", "input_vectors has shape"),
    ("string array", "not float32"),
    ("object array", "not allowed"),
    ("rows differ", "shape"),
    ("NaN weights", "NaN or infinite"),
    ("unknown setting", "settings"),
    ("bad setting value", "settings"),
    ("header lies about shape", "holds"),
])
def test_damaged_model_files_give_one_line(tiny_models, tmp_path, case, needle):
    src = tiny_models["skipgram"]
    dst = tmp_path / "bad.etm"
    data = src.read_bytes()
    with zipfile.ZipFile(src) as zf:
        inputs = np.load(zf.open("input_vectors.npy"))
    if case == "bytes deleted":
        dst.write_bytes(data[:1000] + data[1400:])
    elif case == "truncated":
        dst.write_bytes(data[: len(data) // 2])
    elif case == "meta a list":
        rewrite_archive(src, dst, meta=b"[1, 2]")
    elif case == "no config":
        rewrite_archive(src, dst, meta=lambda m: {k: v for k, v in m.items() if k != "config"})
    elif case == "string format_version":
        rewrite_archive(src, dst, meta=lambda m: {**m, "format_version": "1"})
    elif case == "newer format_version":
        rewrite_archive(src, dst, meta=lambda m: {**m, "format_version": 99})
    elif case == "1-D array":
        rewrite_archive(src, dst, members={"input_vectors.npy": npy_bytes(inputs.ravel())})
    elif case == "string array":
        rewrite_archive(src, dst, members={"input_vectors.npy": npy_bytes(inputs.astype("U8"))})
    elif case == "object array":
        rewrite_archive(src, dst, members={"input_vectors.npy": npy_bytes(inputs.astype(object))})
    elif case == "rows differ":
        rewrite_archive(src, dst, members={"input_vectors.npy": npy_bytes(inputs[:-3])})
    elif case == "NaN weights":
        poisoned = inputs.copy()
        poisoned[5, 2] = np.nan
        rewrite_archive(src, dst, members={"input_vectors.npy": npy_bytes(poisoned)})
    elif case == "unknown setting":
        rewrite_archive(src, dst, meta=lambda m: {**m, "config": {**m["config"], "colour": 3}})
    elif case == "bad setting value":
        rewrite_archive(src, dst, meta=lambda m: {**m, "config": {**m["config"], "window": -2}})
    elif case == "header lies about shape":
        import io
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False,
                                                   "shape": (10**12, inputs.shape[1])})
        rewrite_archive(src, dst, members={"input_vectors.npy": buf.getvalue() + inputs.tobytes()})
    with pytest.raises(EmbedtrainError) as exc:
        Model.load(dst)
    assert str(dst) in str(exc.value) and "\n" not in str(exc.value)
    err = one_line_error(run("eval", dst), str(dst))
    assert needle in err, err


@pytest.mark.parametrize("case,needle", [
    ("meta a list", "meta.json holds a list"),
    ("string format_version", "format_version"),
    ("1-D vs 2-D", "not one-dimensional"),
    ("lengths differ", "different lengths"),
    ("string values", "unexpected array types"),
    ("bad settings", "settings"),
    ("bytes deleted", "damaged"),
])
def test_damaged_cooccurrence_files_give_one_line(tiny_models, tmp_path, case, needle):
    src = tiny_models["cooc"]
    dst = tmp_path / "bad.cooc"
    with zipfile.ZipFile(src) as zf:
        rows = np.load(zf.open("rows.npy"))
        values = np.load(zf.open("values.npy"))
    if case == "meta a list":
        rewrite_archive(src, dst, meta=b"[]")
    elif case == "string format_version":
        rewrite_archive(src, dst, meta=lambda m: {**m, "format_version": "one"})
    elif case == "1-D vs 2-D":
        rewrite_archive(src, dst, members={"rows.npy": npy_bytes(rows.reshape(-1, 1))})
    elif case == "lengths differ":
        rewrite_archive(src, dst, members={"values.npy": npy_bytes(values[:-1])})
    elif case == "string values":
        rewrite_archive(src, dst, members={"values.npy": npy_bytes(values.astype("U5"))})
    elif case == "bad settings":
        rewrite_archive(src, dst, meta=lambda m: {**m, "settings": {**m["settings"], "window": "x"}})
    elif case == "bytes deleted":
        data = src.read_bytes()
        dst.write_bytes(data[:500] + data[900:])
    one_line_error(run("train", "--cooccur", dst, "--model", "glove", *FAST, "-q", "-o",
                       tmp_path / "out"), str(dst), needle)
    assert not list(tmp_path.glob("out*"))


# ---------------------------------------------------------------------- 2: full disk
class _FullDisk:
    """A file object whose writes fail with ENOSPC after ``budget`` bytes."""

    def __init__(self, handle, budget: int):
        self._handle, self._left = handle, budget

    def write(self, data):
        size = len(data) if not isinstance(data, memoryview) else data.nbytes
        if size > self._left:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._left -= size
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()


def full_disk_for(monkeypatch, suffix: str, budget: int = 10):
    """Outputs whose name ends in ``suffix`` hit a full disk after ``budget`` bytes."""
    real = atomic._open_temp

    def fake(fd, mode, final, **kwargs):
        handle = real(fd, mode, final, **kwargs)
        return _FullDisk(handle, budget) if str(final).endswith(suffix) else handle

    monkeypatch.setattr(atomic, "_open_temp", fake)


@pytest.mark.parametrize("suffix,extra", [
    (".vec", []),
    (".etm", []),
    ("vocab.txt", ["--save-vocab", "{out}/vocab.txt"]),
    (".cooc", ["--model", "glove", "--save-cooccur", "{out}/m.cooc"]),
])
def test_full_disk_on_each_training_output(monkeypatch, small_corpus, tmp_path, suffix, extra):
    out = tmp_path / "out"
    out.mkdir()
    (out / "p.vec").write_text("old vec\n")
    (out / "p.etm").write_text("old etm\n")
    full_disk_for(monkeypatch, suffix)
    args = [a.format(out=out) for a in extra]
    err = one_line_error(run("train", small_corpus, *FAST, "-q", "-o", out / "p", *args),
                         "no space left on the device")
    assert suffix in err
    # nothing new, no temporary file, the old pair untouched
    assert listing(out) == ["p.etm", "p.vec"]
    assert (out / "p.vec").read_text() == "old vec\n" and (out / "p.etm").read_text() == "old etm\n"


@pytest.mark.parametrize("fmt,out_name,suffix", [
    ("word2vec-text", "x.txt", "x.txt"),
    ("word2vec-binary", "x.bin", "x.bin"),
    ("glove", "x.glove", "x.glove"),
    ("npy", "x", "x.npy"),          # the matrix fails after its word list was written
    ("npy", "x", "x.vocab.txt"),
    ("fasttext-bin", "x.bin", "x.bin"),
])
def test_full_disk_on_every_export_format(monkeypatch, tiny_models, tmp_path, fmt, out_name, suffix):
    out = tmp_path / "exp"
    out.mkdir()
    full_disk_for(monkeypatch, suffix, budget=100)
    one_line_error(run("export", tiny_models["fasttext"], "-o", out / out_name, "--format", fmt),
                   "no space left on the device", suffix)
    assert listing(out) == []  # npy: no x.vocab.txt without x.npy


def test_full_disk_for_the_corpus_token_file(monkeypatch, small_corpus, tmp_path):
    from embedtrain.corpus import stream

    real = stream.temporary_file
    monkeypatch.setattr(stream, "temporary_file", lambda prefix, d: _FullDisk(real(prefix, d), 1000))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    one_line_error(run("train", small_corpus, *FAST, "-q", "--tmp-dir", tmp, "-o", tmp_path / "p"),
                   "temporary token file", str(tmp), "no space left", "--tmp-dir")
    assert listing(tmp) == [] and listing(tmp_path) == ["tmp"]


def test_full_disk_for_glove_spill_files(monkeypatch, small_corpus, tmp_path):
    from embedtrain.io import cooc

    def full(handle, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cooc, "_write_bytes", full)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    one_line_error(run("train", small_corpus, "--model", "glove", *FAST, "--memory", "0.0001", "-q",
                       "--tmp-dir", tmp, "-o", tmp_path / "p"), "no space left")
    assert listing(tmp) == [] and listing(tmp_path) == ["tmp"]


def test_unwritable_directory_fails_before_training(monkeypatch, small_corpus, tmp_path):
    """An EACCES from the file system (what a read-only directory gives an unprivileged user)."""
    real = atomic.tempfile.mkstemp

    def denied(*args, dir=None, **kwargs):
        if Path(dir) == tmp_path / "ro":
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    (tmp_path / "ro").mkdir()
    monkeypatch.setattr(atomic.tempfile, "mkstemp", denied)
    one_line_error(run("train", small_corpus, *FAST, "-q", "-o", tmp_path / "ro" / "p"),
                   "not writable", "Permission denied")
    one_line_error(run("export", small_corpus, "-o", tmp_path / "ro" / "x", "--format", "npy"),
                   "not writable")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_directory(small_corpus, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        one_line_error(run("train", small_corpus, *FAST, "-q", "-o", ro / "p"), "not writable")
    finally:
        ro.chmod(0o755)


# ---------------------------------------------------------------------- 3: together or not at all
def test_vec_and_etm_are_renamed_together_and_runs_do_not_mix(monkeypatch, tmp_path):
    """Two saves to one prefix at once, each rename slowed down: without the directory
    lock the second run's .vec would land beside the first run's .etm."""
    words = [f"w{i}" for i in range(50)]
    models = [embedtrain.Model(embedtrain.config.SkipGramConfig(dim=d), embedtrain.Vocab(words, np.arange(50, 0, -1)),
                               {"input_vectors": np.random.default_rng(d).random((50, d), dtype=np.float32),
                                "output_vectors": np.zeros((50, d), np.float32),
                                "output_hs": np.zeros((0, d), np.float32)}) for d in (3, 5)]
    real_replace = os.replace

    def slow_replace(a, b):
        real_replace(a, b)
        if threading.current_thread().name == "first" and str(b).endswith(".vec"):
            time.sleep(0.5)  # the second run finishes meanwhile (its lock wait aside)

    monkeypatch.setattr(atomic.os, "replace", slow_replace)
    threads = [threading.Thread(target=m.save, args=(tmp_path / "p",), name=name)
               for m, name in zip(models, ("first", "second"))]
    threads[0].start()
    time.sleep(0.2)
    threads[1].start()
    for t in threads:
        t.join()
    vec_dim = int((tmp_path / "p.vec").read_text().split("\n", 1)[0].split()[1])
    assert Model.load(tmp_path / "p.etm").config.dim == vec_dim
    assert listing(tmp_path) == ["p.etm", "p.vec"]


# ---------------------------------------------------------------------- 5: signals, stale files
@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_stop_like_ctrl_c(tmp_path, sample_corpus, sig, code):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "embedtrain", "train", str(sample_corpus), "--model",
                             "glove", "--memory", "0.0001", "--tmp-dir", str(tmp), "--epochs", "500",
                             "--dim", "16", "--threads", "2", "-o", str(tmp_path / "x")],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    while not any(tmp.iterdir()):  # counting is spilling to --tmp-dir
        assert proc.poll() is None and time.monotonic() < deadline, "no spill directory appeared"
        time.sleep(0.02)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert f"interrupted by {signal.Signals(sig).name}" in err and "Traceback" not in err, err
    assert listing(tmp) == [] and listing(tmp_path) == ["tmp"], err


def test_stale_temporary_files_of_dead_runs_are_swept_live_ones_kept(small_corpus, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".p.vec.{dead.pid}.abcd1234.tmp"
    stale.write_text("left by kill -9")
    # a live run's file: its pid runs and it holds the lock
    live = tmp_path / f".p.vec.{os.getpid()}.live5678.tmp"
    live.write_text("being written")
    held = os.open(live, os.O_RDONLY)
    import fcntl
    fcntl.flock(held, fcntl.LOCK_EX)
    # a dead pid whose lock is still held (another PID namespace): kept
    shared = tmp_path / f".p.vec.{dead.pid}.shar9999.tmp"
    shared.write_text("other namespace")
    held2 = os.open(shared, os.O_RDONLY)
    fcntl.flock(held2, fcntl.LOCK_EX)
    spill = tmp_path / "tmp"
    spill.mkdir()
    stale_spill = spill / f"embedtrain-cooccur-{dead.pid}-zzzz"
    stale_spill.mkdir()
    (stale_spill / "lock").write_text("")
    (stale_spill / "run-000000.bin").write_bytes(b"x" * 32)
    try:
        result = run("train", small_corpus, "--model", "glove", *FAST, "--memory", "0.0001", "-q",
                     "--tmp-dir", spill, "-o", tmp_path / "p")
        assert result.exit_code == 0, result.output
    finally:
        os.close(held)
        os.close(held2)
    assert not stale.exists() and live.exists() and shared.exists()
    assert listing(spill) == []
    assert {"p.vec", "p.etm"} <= set(listing(tmp_path))


# ---------------------------------------------------------------------- 6: nonsense values
@pytest.mark.parametrize("args,needle", [
    (["--seed", "-1"], "--seed must be at least 0 (valid range: 0 to"),
    (["--ns-exponent", "nan"], "--ns-exponent must be a finite number (valid range: -1 to 1"),
    (["--ns-exponent", "1000"], "--ns-exponent must be at most 1"),
    (["--ns-exponent", "-50"], "--ns-exponent must be at least -1"),
    (["--sample", "nan"], "--sample must be a finite number"),
    (["--negative", "100000000"], "--negative must be at most 1,000"),
    (["--epochs", "100000000"], "--epochs must be at most 10,000"),
    (["--lr", "inf"], "--lr must be a finite number"),
    (["--model", "glove", "--x-max", "inf"], "--x-max must be a finite number"),
    (["--model", "glove", "--alpha", "nan"], "--alpha must be a finite number"),
    (["--threads", "100000"], "--threads must be at most"),
    (["--model", "fasttext", "--maxn", "100000"], "--maxn must be at most"),
])
def test_nonsense_values_refused_before_the_corpus_is_read(tmp_path, args, needle):
    # the corpus does not exist: a value error must come first
    one_line_error(run("train", tmp_path / "no-such-corpus.txt", *args, "-o", tmp_path / "p"),
                   needle)


def test_toml_with_both_spellings_of_a_key_is_an_error(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("min_count = 2\nmin-count = 3\n")
    one_line_error(run("train", tmp_path / "none.txt", "--config", f), "given twice")


# ---------------------------------------------------------------------- 7: NaN rows
def test_nan_rows_are_left_out_and_queries_never_return_their_words(tmp_path):
    vec = tmp_path / "v.vec"
    vec.write_text("5 3\nking 1 0 0\nqueen 0.9 0.1 0\nbad nan 1 1\nworse inf 0 0\nman 0 1 0\n")
    result = run("similar", vec, "king", "-n", "10")
    assert result.exit_code == 0, result.output
    assert "left out 2 vectors holding NaN or infinite values" in result.stderr
    answers = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    assert answers == ["queen", "man"]
    # repeated words: the query word never comes back through its second row
    dup = tmp_path / "d.vec"
    dup.write_text("3 2\nking 1 0\nqueen 0 1\nking 1 0.001\n")
    result = run("similar", dup, "king")
    assert result.exit_code == 0 and "repeated word" in result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()[1:]] == ["queen"]
    allbad = tmp_path / "n.vec"
    allbad.write_text("1 2\nx nan nan\n")
    one_line_error(run("similar", allbad, "x"), "no vector is usable")


# ---------------------------------------------------------------------- 8: detection
def test_detection_names_what_a_file_looks_like(tiny_models, tmp_path):
    import gzip

    etm = tiny_models["skipgram"].read_bytes()
    (tmp_path / "trunc.etm").write_bytes(etm[: len(etm) // 3])
    one_line_error(run("eval", tmp_path / "trunc.etm"), "damaged model file", "truncated")
    (tmp_path / "v.vec.gz").write_bytes(gzip.compress(b"1 2\na 1 2\n"))
    one_line_error(run("eval", tmp_path / "v.vec.gz"), "gzip-compressed")
    one_line_error(run("eval", tiny_models["cooc"]), "co-occurrence file, not vectors")
    (tmp_path / "zero.vec").write_text("5 0\na\nb\n")
    one_line_error(run("eval", tmp_path / "zero.vec"), "line 1", "dimension 0")
    (tmp_path / "junk.bin").write_bytes(b"\x00\x01binary junk \xff\xfe\n" * 10)
    one_line_error(run("eval", tmp_path / "junk.bin"), "does not look like a vectors file", "binary")
    (tmp_path / "bom.vec").write_bytes(b"\xef\xbb\xbf2 2\nab 1 0\ncd 0 1\n")
    assert load_vectors(tmp_path / "bom.vec").words == ["ab", "cd"]
    ft = tmp_path / "ft.bin"
    assert run("export", tiny_models["fasttext"], "-o", ft, "--format", "fasttext-bin").exit_code == 0
    data = ft.read_bytes()
    (tmp_path / "trunc.bin").write_bytes(data[: len(data) // 2])
    one_line_error(run("eval", tmp_path / "trunc.bin"), "damaged fastText .bin", "truncated")


# ---------------------------------------------------------------------- 9: umask, fsync
def test_outputs_honour_the_umask_and_are_fsynced(monkeypatch, small_corpus, tmp_path):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    old = os.umask(0o027)
    try:
        result = run("train", small_corpus, *FAST, "-q", "-o", tmp_path / "p")
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    for name in ("p.vec", "p.etm"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o640
    assert len(synced) >= 2  # each file before its rename (and the directory after)


# ---------------------------------------------------------------------- 12: zstd
def test_zstd_corpus_trains_like_the_plain_text(small_corpus, tmp_path, monkeypatch):
    zstandard = pytest.importorskip("zstandard")
    data = small_corpus.read_bytes()
    zst = tmp_path / "c.txt.zst"
    half = len(data) // 2
    cut = data.index(b"\n", half) + 1  # two frames, as `cat a.zst b.zst` gives
    zst.write_bytes(zstandard.ZstdCompressor().compress(data[:cut]) +
                    zstandard.ZstdCompressor().compress(data[cut:]))
    for path, prefix in ((small_corpus, "plain"), (zst, "zst")):
        result = run("train", path, *FAST, "-q", "-o", tmp_path / prefix, "--save-vocab",
                     tmp_path / f"{prefix}.vocab")
        assert result.exit_code == 0, result.output
    assert (tmp_path / "plain.vocab").read_text() == (tmp_path / "zst.vocab").read_text()
    (tmp_path / "t.zst").write_bytes(zst.read_bytes()[:-20])
    one_line_error(run("train", tmp_path / "t.zst", *FAST, "-o", tmp_path / "t"), "truncated zstd")
    monkeypatch.setitem(sys.modules, "zstandard", None)  # as if the extra were not installed
    one_line_error(run("train", zst, *FAST, "-o", tmp_path / "m"), "zstd-compressed",
                   install_hint("zstd"))
    (tmp_path / "c.zip").write_bytes(b"PK\x03\x04" + b"\0" * 40)
    one_line_error(run("train", tmp_path / "c.zip", *FAST, "-o", tmp_path / "m"), "zip archive",
                   "gzip, bzip2, xz and zstd")


# ---------------------------------------------------------------------- 13: small things
def test_bare_embedtrain_prints_help_and_exits_0():
    proc = subprocess.run([sys.executable, "-m", "embedtrain"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Commands:" in proc.stdout and proc.stderr == ""


def test_help_sections_and_whole_command_summaries():
    top = run("--help").stdout
    commands = top.split("Commands:")[1].strip().splitlines()
    from embedtrain.cli import main

    # one line per command, none cut mid-phrase
    assert len(commands) == len(main.list_commands(None)) and not any(line.rstrip().endswith("...") for line in commands), top
    text = run("train", "--help").stdout
    sections = [line for line in text.splitlines() if line and not line.startswith(" ") and line.endswith(":")]
    assert sections == ["Input and output:", "Settings of every model:", "word2vec, FastText and doc2vec settings:",
                        "word2vec settings (skipgram, cbow):", "word2vec and FastText settings:", "GloVe settings:",
                        "FastText settings:", "doc2vec settings:", "Items (with --items):",
                        "Graph walks (with --graph):", "Run options:"], sections
    glove = text.split("GloVe settings:")[1].split("FastText settings:")[0]
    assert "--x-max" in glove and "--cooccur" in glove and "--minn" not in glove


def test_progress_is_a_line_per_epoch_when_stderr_is_not_a_terminal(small_corpus, tmp_path):
    result = run("train", small_corpus, "--dim", "8", "--epochs", "3", "--min-count", "3", "-o",
                 tmp_path / "p")
    assert result.exit_code == 0, result.output
    assert "\r" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]


def test_output_directory_gets_the_default_name_inside(small_corpus, tmp_path):
    out = tmp_path / "runs"
    out.mkdir()
    for given in (f"{out}/", str(out)):
        result = run("train", small_corpus, *FAST, "-q", "-o", given)
        assert result.exit_code == 0, result.output
    assert listing(out) == ["small-skipgram.etm", "small-skipgram.vec"]


def test_recipes_ship_in_the_package_and_licence_is_declared():
    from embedtrain.config import SHIPPED_CONFIGS, shipped_configs
    from embedtrain.config import make_config

    assert SHIPPED_CONFIGS.parent == Path(embedtrain.__file__).parent
    assert "text8-skipgram" in shipped_configs()
    assert make_config(config_file="text8-glove").model == "glove"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'license = "MIT"' in pyproject and '"embedtrain" = ["configs/*.toml"]' in pyproject
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "WordSim-353" in licence and "Apache" in licence


def test_whole_line_window_on_long_lines_warns(tmp_path):
    """--window 0 (every word of a line is every other's context) costs the square of the
    line's length: long lines get one warning saying so; baskets do not."""
    rng = np.random.default_rng(2)
    words = [f"w{i}" for i in rng.integers(0, 40, 1500)]
    (tmp_path / "long.txt").write_text(" ".join(words) + "\n")
    (tmp_path / "baskets.txt").write_text(
        "".join(" ".join(words[i:i + 6]) + "\n" for i in range(0, 1500, 6)))
    warned = {}
    for name in ("long", "baskets"):
        result = run("train", tmp_path / f"{name}.txt", *FAST, "--window", "0", "--lr", "0.001",
                     "-o", tmp_path / name)
        assert result.exit_code == 0, result.output
        warned[name] = [line for line in result.stderr.splitlines() if "--window 0" in line]
    assert len(warned["long"]) == 1 and "1,500 contexts" in warned["long"][0], warned
    assert "longest sentence 1,500 words" in warned["long"][0]
    assert warned["baskets"] == []


@pytest.mark.parametrize("suffix", ["vectors.tsv", "metadata.tsv"])
def test_full_disk_on_a_projector_export(monkeypatch, tiny_models, tmp_path, suffix):
    """A new directory is not left behind empty; an existing one keeps its old pair (the
    two files are renamed into place together)."""
    full_disk_for(monkeypatch, suffix, budget=100)
    one_line_error(run("export", tiny_models["fasttext"], "-o", tmp_path / "new", "--format", "projector"),
                   "no space left on the device", suffix)
    assert listing(tmp_path) == []
    old = tmp_path / "old"
    old.mkdir()
    (old / "vectors.tsv").write_text("1\t2\n")
    (old / "metadata.tsv").write_text("a\n")
    one_line_error(run("export", tiny_models["fasttext"], "-o", old, "--format", "projector"),
                   "no space left on the device", suffix)
    assert listing(old) == ["metadata.tsv", "vectors.tsv"]
    assert (old / "vectors.tsv").read_text() == "1\t2\n" and (old / "metadata.tsv").read_text() == "a\n"


def test_full_disk_for_a_periodic_checkpoint_warns_and_trains_on(monkeypatch, small_corpus, tmp_path):
    """A checkpoint that cannot be written costs only the chance to resume from it: one
    warning per try, the run finishes, its outputs are whole and no .ckpt is left."""
    full_disk_for(monkeypatch, ".ckpt", budget=100)
    result = run("train", small_corpus, *FAST, "--epochs", "2", "--checkpoint-every", "1e-9",
                 "-o", tmp_path / "p")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "checkpoint not written" in line]
    assert warnings and all("no space left on the device" in w and "p.ckpt" in w for w in warnings)
    assert "Traceback" not in result.output
    assert listing(tmp_path) == ["p.etm", "p.vec"]
    assert Model.load(tmp_path / "p.etm").stats["history"][-1]["epoch"] == 2
