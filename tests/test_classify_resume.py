"""Checkpoints and --resume for the classifier (as tests/test_training_wing.py does for
word models): a seeded one-thread run killed with SIGKILL after a checkpoint and resumed
gives the same bytes as a run that never stopped; checkpoints of another kind, other
settings or other data are refused in one line; Ctrl-C leaves only the checkpoint."""
from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import embedtrain
from embedtrain.classify.model import Classifier, train
from embedtrain.cli.app import main
from embedtrain.errors import EmbedtrainError
from embedtrain.io.classifier import read_classifier_checkpoint

import killed_child

TOPICS = {"sport": "match goal team score player coach", "food": "recipe bake oven sugar flour",
          "tech": "computer code software chip network"}
FILLER = "the a of and is in it this".split()


def _corpus(n: int, seed: int) -> str:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        topic = rng.choice(sorted(TOPICS))
        labels = [topic] + ([rng.choice(sorted(TOPICS))] if rng.random() < 0.3 else [])
        words = rng.choices(TOPICS[topic].split(), k=3) + rng.choices(FILLER, k=4)
        out.append(" ".join(f"__label__{t}" for t in labels) + " " + " ".join(words))
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("resume")
    (d / "train.txt").write_text(_corpus(600, 1))
    (d / "other.txt").write_text(_corpus(600, 2))
    # pretrained vectors: two training words and one the training file lacks
    rng = np.random.default_rng(0)
    rows = {"recipe": rng.normal(size=8), "chip": rng.normal(size=8), "stadium": rng.normal(size=8)}
    (d / "pre.vec").write_text("3 8\n" + "".join(f"{w} {' '.join(f'{x:.6f}' for x in v)}\n"
                                                 for w, v in rows.items()))
    return d


# The child (tests/killed_child.py) trains in jobs of 300 tokens and kills itself at job KILL_AT.
CHILD = """
import json, sys
import embedtrain.classify.training as training
from embedtrain.classify.model import train
from killed_child import callbacks
training.JOB_TOKENS = 300
args = json.loads(sys.argv[1])
kill_at = args.pop("kill_at")
source = args.pop("source")
out = args.pop("out")
train(source, callbacks=callbacks(kill_at), **args).save(out)
"""

SETTINGS = {
    "softmax-bigrams": dict(word_ngrams=2, bucket=2000),
    "ns": dict(loss="ns"),
    "hs-pretrained": dict(loss="hs", dim=8, minn=2, maxn=3, bucket=1000),
}


def _child(args: dict) -> subprocess.CompletedProcess:
    return killed_child.run(CHILD, args)


@pytest.mark.parametrize("name", list(SETTINGS))
def test_killed_run_resumes_from_its_checkpoint_to_the_same_bytes(data, tmp_path, name):
    settings = dict(SETTINGS[name], epochs=3, lr=0.5, threads=1, seed=4)
    if name.endswith("pretrained"):
        settings["pretrained"] = str(data / "pre.vec")
    ckpt = str(tmp_path / "run.ckpt")
    common = dict(settings, source=str(data / "train.txt"), checkpoint=ckpt, checkpoint_every=1e-9)
    killed = _child(dict(common, kill_at=7, out=str(tmp_path / "never.etm")))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    *_, state, _ = read_classifier_checkpoint(ckpt)      # the last whole checkpoint survived
    assert state.units_done > 0 and not list(tmp_path.glob(".*tmp*"))
    resumed = _child(dict(common, kill_at=0, resume=ckpt, out=str(tmp_path / "done.etm")))
    assert resumed.returncode == 0, resumed.stderr
    assert not Path(ckpt).exists()                     # removed when the run completed
    after = Classifier.load(tmp_path / "done.etm")
    assert after.stats["resumed_from_checkpoint"]["units_done"] == state.units_done
    straight = train(data / "train.txt", **settings)
    assert len(after.stats["history"]) == len(straight.stats["history"])
    assert after.dictionary.words == straight.dictionary.words
    np.testing.assert_array_equal(after.input_vectors, straight.input_vectors)
    np.testing.assert_array_equal(after.output_vectors, straight.output_vectors)


def test_job_size_does_not_change_a_one_thread_run(data, monkeypatch):
    import embedtrain.classify.training as training

    first = train(data / "train.txt", epochs=2, threads=1, seed=2, word_ngrams=2, bucket=500)
    monkeypatch.setattr(training, "JOB_TOKENS", 150)
    second = train(data / "train.txt", epochs=2, threads=1, seed=2, word_ngrams=2, bucket=500)
    np.testing.assert_array_equal(first.input_vectors, second.input_vectors)
    np.testing.assert_array_equal(first.output_vectors, second.output_vectors)


@pytest.fixture(scope="module")
def classifier_checkpoint(data, tmp_path_factory):
    d = tmp_path_factory.mktemp("ckpt")
    ckpt = str(d / "c.ckpt")
    killed = _child(dict(source=str(data / "train.txt"), epochs=3, threads=1, checkpoint=ckpt,
                         checkpoint_every=1e-9, kill_at=4, out=str(d / "never.etm")))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    return Path(ckpt)


def test_checkpoint_for_other_settings_or_data_is_refused(data, classifier_checkpoint, tmp_path):
    ckpt = classifier_checkpoint
    with pytest.raises(EmbedtrainError, match="was written with --dim 10, this run has 12"):
        train(data / "train.txt", resume=ckpt, dim=12)
    with pytest.raises(EmbedtrainError, match="another training file"):
        train(data / "other.txt", resume=ckpt)
    with pytest.raises(EmbedtrainError, match="checkpoint=PATH"):
        train(data / "train.txt", checkpoint_every=5)
    assert ckpt.exists()                              # a refused resume leaves it alone
    out = CliRunner().invoke(main, ["classify", "train", str(data / "train.txt"), "-o",
                                    str(tmp_path / "m.etm"), "--resume", str(ckpt), "--epochs", "4"])
    assert out.exit_code == 1 and len(out.output.strip().splitlines()) == 1
    assert "--epochs 3, this run has 4" in out.output
    # the CLI resumes it (the settings are the checkpoint's) and keeps a checkpoint it
    # resumed from under another name, as `embedtrain train` does
    out = CliRunner().invoke(main, ["classify", "train", str(data / "train.txt"), "-o",
                                    str(tmp_path / "m.etm"), "--resume", str(ckpt), "-q"])
    assert out.exit_code == 0, out.output
    done = Classifier.load(tmp_path / "m.etm")
    assert done.config.epochs == 3 and "resumed_from_checkpoint" in done.stats
    assert ckpt.exists() and not (tmp_path / "m.ckpt").exists()


def test_a_checkpoint_of_another_kind_is_refused_in_one_line(data, classifier_checkpoint, small_corpus,
                                                             tmp_path):
    word_ckpt = tmp_path / "words.ckpt"
    embedtrain.train(small_corpus, dim=8, epochs=1, threads=1, progress=False, checkpoint=word_ckpt,
                     checkpoint_every=1e-9, keep_checkpoint=True)
    assert word_ckpt.exists()
    model = tmp_path / "clf.etm"
    train(data / "train.txt", epochs=1, threads=1).save(model)
    runner = CliRunner()
    for wrong, says in ((word_ckpt, "word-vector run"), (model, "finished classifier")):
        out = runner.invoke(main, ["classify", "train", str(data / "train.txt"), "-o",
                                   str(tmp_path / "m.etm"), "--resume", str(wrong)])
        assert out.exit_code == 1 and len(out.output.strip().splitlines()) == 1, out.output
        assert says in out.output
    # and the word-model command refuses the classifier's checkpoint
    out = runner.invoke(main, ["train", str(small_corpus), "-o", str(tmp_path / "w"),
                               "--resume", str(classifier_checkpoint)])
    assert out.exit_code == 1 and len(out.output.strip().splitlines()) == 1, out.output
    assert "classif" in out.output
    assert not (tmp_path / "m.etm").exists() and not (tmp_path / "w.etm").exists()


@pytest.mark.parametrize("checkpoints", [False, True])
def test_ctrl_c_leaves_nothing_but_the_checkpoint(data, tmp_path, checkpoints):
    """Ctrl-C: exit 130, one line, no model and no temporary file; with
    --checkpoint-every, the last whole checkpoint stays for --resume."""
    work = tmp_path / "out"
    work.mkdir()
    model = work / "m.etm"
    big = tmp_path / "big.txt"   # long enough to be interrupted: about 270 M tokens
    big.write_text(_corpus(3000, 3))
    args = [sys.executable, "-m", "embedtrain", "classify", "train", str(big), "-o",
            str(model), "--epochs", "10000", "--threads", "2", "--word-ngrams", "2"]
    if checkpoints:
        args += ["--checkpoint-every", "0.2"]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    ckpt = work / "m.ckpt"
    buf = ""
    while "epoch" not in buf:   # one line per epoch once training runs (stderr is a pipe)
        ch = proc.stderr.read(1)
        assert ch, "training did not start"
        buf += ch
    deadline = time.monotonic() + 60
    while checkpoints and not ckpt.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted" in err and "Traceback" not in err
    assert sorted(p.name for p in work.iterdir()) == (["m.ckpt"] if checkpoints else [])
    if checkpoints:
        *_, state, _ = read_classifier_checkpoint(ckpt)
        assert state.units_done > 0


def test_a_damaged_checkpoint_is_refused_in_one_line_before_training(data, classifier_checkpoint, tmp_path):
    from embedtrain.io.classifier import write_classifier_checkpoint

    config, dictionary, iv, ov, stats, state, fingerprint = read_classifier_checkpoint(classifier_checkpoint)
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes(classifier_checkpoint.read_bytes()[:-100])
    cases = {cut: "damaged"}
    for name, change, says in (("job", dict(job=999), "job 999"),
                               ("units", dict(units_done=state.units_done + 1), "tokens done"),
                               ("epoch", dict(epoch=7), "state.epoch 7")):
        bad = tmp_path / f"{name}.ckpt"
        moved = type(state).from_dict({**state.to_dict(), **change})
        write_classifier_checkpoint(bad, Classifier(config, dictionary, iv, ov, stats), moved, fingerprint)
        cases[bad] = says
    nan = tmp_path / "nan.ckpt"
    iv = iv.copy()
    iv[0, 0] = np.nan
    write_classifier_checkpoint(nan, Classifier(config, dictionary, iv, ov, stats), state, fingerprint)
    cases[nan] = "damaged"
    for path, says in cases.items():
        out = CliRunner().invoke(main, ["classify", "train", str(data / "train.txt"), "-o",
                                        str(tmp_path / "m.etm"), "--resume", str(path), "-q"])
        assert out.exit_code == 1 and len(out.output.strip().splitlines()) == 1, out.output
        assert says in out.output, out.output
    assert not (tmp_path / "m.etm").exists()
