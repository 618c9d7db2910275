"""GloVe training: one kernel step against a plain-numpy gradient, the shuffle,
training on real text (falling cost, a quality floor), the model and its outputs,
and bad input through the CLI."""
import numpy as np
import pytest
from click.testing import CliRunner

import embedtrain
from embedtrain.cli import main
from embedtrain.io.cooc import CooccurrenceMatrix
from embedtrain.errors import EmbedtrainError
from embedtrain.models import GloVeModel
from embedtrain.kernels import glove as kernels
from embedtrain.models import Model
from embedtrain.training import summary_line


# --------------------------------------------------------------------------- reference

def reference_steps(entries, W, C, bw, bc, gW, gC, gbw, gbc, lr, clip, share=1.0, mass=None):
    """The GloVe objective's AdaGrad steps as in glove.c, one entry at a time, in
    float64: J = sum f(x) (w.c + b_w + b_c - log x)^2 / 2. ``share``: each squared step
    is added to the AdaGrad sums this many times (a Ray worker's, one of ``share``);
    ``mass``: four [V] arrays to which each step adds its rows' contraction (the
    curvature of the entry's term along the row times AdaGrad's rate, before the step)."""
    cost = 0.0
    for r, c, log_x, f in entries:
        if mass is not None:
            mass[0][r] += lr * f * np.sum(C[c] ** 2 / np.sqrt(gW[r]))
            mass[1][c] += lr * f * np.sum(W[r] ** 2 / np.sqrt(gC[c]))
            mass[2][r] += f / np.sqrt(gbw[r])
            mass[3][c] += f / np.sqrt(gbc[c])
        diff = W[r] @ C[c] + bw[r] + bc[c] - log_x
        fdiff = f * diff
        cost += 0.5 * fdiff * diff
        grad_w = np.clip(fdiff * C[c], -clip, clip) * lr   # dJ/dw, clipped, times eta
        grad_c = np.clip(fdiff * W[r], -clip, clip) * lr
        W[r] -= grad_w / np.sqrt(gW[r])
        C[c] -= grad_c / np.sqrt(gC[c])
        gW[r] += share * grad_w ** 2
        gC[c] += share * grad_c ** 2
        bw[r] -= fdiff / np.sqrt(gbw[r])   # dJ/db = fdiff; glove.c takes no eta here
        bc[c] -= fdiff / np.sqrt(gbc[c])
        gbw[r] += share * fdiff ** 2
        gbc[c] += share * fdiff ** 2
    return cost


def _problem(seed, vocab_size=6, dim=8, scale=0.5):
    rng = np.random.default_rng(seed)
    rows = np.array([0, 1, 2, 3, 2], dtype=np.int32)
    cols = np.array([1, 1, 4, 5, 5], dtype=np.int32)   # entry 1 is on the diagonal
    x = np.array([3.0, 1.5, 0.5, 120.0, 7.25])
    log_x, weight = kernels.glove_targets(x, 10.0, 0.75)
    params = [rng.uniform(-scale, scale, (vocab_size, dim)).astype(np.float32) for _ in range(2)]
    params += [rng.uniform(-scale, scale, vocab_size).astype(np.float32) for _ in range(2)]
    params += [rng.uniform(1.0, 2.0, (vocab_size, dim)).astype(np.float32) for _ in range(2)]
    params += [rng.uniform(1.0, 2.0, vocab_size).astype(np.float32) for _ in range(2)]
    return rows, cols, x, log_x, weight, params


def test_glove_targets():
    x = np.array([0.2, 1.0, 9.9, 10.0, 500.0])
    log_x, weight = kernels.glove_targets(x, 10.0, 0.75)
    assert log_x.dtype == weight.dtype == np.float32
    np.testing.assert_allclose(log_x, np.log(x), rtol=1e-6)
    np.testing.assert_allclose(weight, np.minimum(1.0, (x / 10.0) ** 0.75), rtol=1e-6)


@pytest.mark.parametrize("clip, share", [(kernels.GRAD_CLIP, None), (0.05, None),  # 0.05 clips most
                                         (kernels.GRAD_CLIP, 8.0)])  # a Ray worker's, one of 8
def test_training_step_matches_numpy_gradient(clip, share):
    """share: a Ray worker's step, one of 8 (its squared steps counted 8 times, and its
    rows' masses added up for the scaled combination)."""
    rows, cols, x, log_x, weight, params = _problem(1)
    # stored entries 0..4 as themselves, then mirrored (ids 5..9); id 6 mirrors the
    # diagonal entry 1 and is skipped, as the full matrix holds it once
    order = np.array([3, 7, 0, 6, 1, 9, 4, 5, 2, 8], dtype=np.int32)
    expected = [p.astype(np.float64) for p in params]
    visits = []
    for e in order:
        if e < 5:
            visits.append((rows[e], cols[e], float(log_x[e]), float(weight[e])))
        elif rows[e - 5] != cols[e - 5]:
            visits.append((cols[e - 5], rows[e - 5], float(log_x[e - 5]), float(weight[e - 5])))
    mass = tuple(np.zeros(len(params[0]), np.float32) for _ in range(4)) if share else None
    expected_mass = [np.zeros(len(params[0])) for _ in range(4)] if share else None
    expected_cost = reference_steps(visits, *expected, lr=0.05, clip=clip, share=share or 1.0, mass=expected_mass)
    cost, trained = kernels.train_entries(order, 0, len(order), (rows, cols, log_x, weight), tuple(params[:4]),
                                          tuple(params[4:]), 0.05, clip, *([share, mass] if share else []))
    if share:
        for got, want in zip(mass, expected_mass):
            assert want.max() > 0
            np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-7)
    assert trained == 9
    assert cost == pytest.approx(expected_cost, rel=1e-5)
    for got, want in zip(params, expected):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)


def test_training_range_only_touches_its_entries():
    rows, cols, x, log_x, weight, params = _problem(2)
    order = np.arange(10, dtype=np.int32)
    before = [p.copy() for p in params]
    kernels.train_entries(order, 0, 1, (rows, cols, log_x, weight), tuple(params[:4]), tuple(params[4:]),
                          0.05, kernels.GRAD_CLIP)
    W, C = params[0], params[1]
    assert not np.array_equal(W[0], before[0][0]) and not np.array_equal(C[1], before[1][1])
    np.testing.assert_array_equal(W[1:], before[0][1:])
    np.testing.assert_array_equal(np.delete(C, 1, axis=0), np.delete(before[1], 1, axis=0))


def test_shuffle_is_a_fresh_uniform_permutation():
    state = np.array([12345], dtype=np.uint64)
    big = np.empty(3 * kernels.SHUFFLE_BUCKET_ENTRIES + 17, dtype=np.int32)  # several buckets
    kernels.shuffle(big, state)
    first = big.copy()
    np.testing.assert_array_equal(np.sort(first), np.arange(len(big)))
    kernels.shuffle(big, state)
    assert not np.array_equal(big, first)  # a fresh order each epoch
    # small n: every value lands in every position about equally often
    small = np.empty(5, dtype=np.int64)
    counts = np.zeros((5, 5))
    for _ in range(5000):
        kernels.shuffle(small, state)
        counts[np.arange(5), small] += 1
    assert counts.min() > 850 and counts.max() < 1150   # expected 1000 each


# --------------------------------------------------------------------------- training on text

NUMBERS = "one two three four five six seven eight nine zero".split()
MONTHS = "january february march april may june july august september october november december".split()


def group_score(model, group):
    """Mean share of a word's 10 nearest neighbours that belong to its group."""
    words = [w for w in group if w in model]
    shares = [sum(n in words for n, _ in model.most_similar(w, topn=10)) / min(10, len(words) - 1)
              for w in words]
    return float(np.mean(shares))


@pytest.fixture(scope="module")
def glove_model(sample_corpus):
    return embedtrain.train(sample_corpus, model="glove", dim=50, window=10, x_max=10, epochs=10,
                            threads=1, seed=7, progress=False)


def test_cost_falls_every_epoch(glove_model):
    costs = glove_model.stats["epoch_costs"]
    assert len(costs) == 10
    assert all(b < a for a, b in zip(costs, costs[1:])), costs
    assert costs[-1] < 0.6 * costs[0]


def test_quality_floor_on_sample_corpus(glove_model):
    # Calibrated on seeds 1-3: numbers 0.61-0.67, months 0.90-0.92; by chance
    # (4,554 words) both would be about 0.002.
    assert group_score(glove_model, NUMBERS) >= 0.45
    assert group_score(glove_model, MONTHS) >= 0.7


def test_stats_and_summary(glove_model):
    s = glove_model.stats
    for key in ("words_trained", "train_seconds", "words_per_second", "read_seconds", "count_seconds",
                "merge_seconds", "fit_seconds", "nonzero_entries", "epoch_costs"):
        assert key in s
    assert s["words_trained"] == s["vocab_tokens"] > 150_000
    assert s["nonzero_entries"] > 500_000
    assert summary_line(glove_model).startswith("glove: vocabulary ")


def test_written_vectors_are_word_plus_context(glove_model, tmp_path):
    arrays = glove_model.arrays
    assert isinstance(glove_model, GloVeModel)
    assert set(arrays) == {"word_vectors", "context_vectors", "word_bias", "context_bias"}
    np.testing.assert_array_equal(glove_model.word_matrix(), arrays["word_vectors"] + arrays["context_vectors"])
    vec, etm = glove_model.save(tmp_path / "g")
    lines = vec.read_text().splitlines()
    assert lines[0] == f"{len(glove_model.vocab)} 50"
    first = np.array(lines[1].split()[1:], dtype=np.float32)
    np.testing.assert_allclose(first, glove_model.word_matrix()[0], rtol=1e-5, atol=1e-7)
    back = Model.load(etm)
    assert isinstance(back, GloVeModel) and back.config == glove_model.config
    np.testing.assert_array_equal(back.word_matrix(), glove_model.word_matrix())
    # --vectors word: the word vectors alone
    import dataclasses
    words_only = GloVeModel(dataclasses.replace(glove_model.config, vectors="word"), glove_model.vocab, arrays)
    np.testing.assert_array_equal(words_only.word_matrix(), arrays["word_vectors"])


# --------------------------------------------------------------------------- CLI

FAST = ["--model", "glove", "--dim", "16", "--epochs", "3", "--min-count", "3", "--threads", "1",
        "--window", "5"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def saved_cooccur(small_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("saved")
    result = run("train", small_corpus, *FAST, "-o", out / "direct", "--save-cooccur", out / "m.cooc",
                 "--save-vocab", out / "vocab.txt")
    assert result.exit_code == 0, result.output
    return out


def test_cli_trains_and_reuses_a_saved_matrix(saved_cooccur, tmp_path):
    direct = Model.load(saved_cooccur / "direct.etm")
    assert direct.kind == "glove" and direct.config.window == 5
    matrix = CooccurrenceMatrix.load(saved_cooccur / "m.cooc")
    assert matrix.vocab.words == direct.vocab.words and matrix.settings["window"] == 5
    # no corpus: the vocabulary and counts come from the file, the counting
    # settings too (window 5, not glove's default 15); one thread, same seed:
    # the same vectors as counting afresh
    result = run("train", "--cooccur", saved_cooccur / "m.cooc", "--model", "glove", "--dim", "16",
                 "--epochs", "3", "--threads", "1", "-o", tmp_path / "again", "--save-vocab", tmp_path / "v.txt")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "v.txt").read_text() == (saved_cooccur / "vocab.txt").read_text()
    again = Model.load(tmp_path / "again.etm")
    assert again.config.window == 5 and again.vocab.words == direct.vocab.words
    np.testing.assert_array_equal(again.word_matrix(), direct.word_matrix())
    assert again.stats["nonzero_entries"] == direct.stats["nonzero_entries"] == matrix.nnz


def one_line_error(result, *needles):
    """Exit status 1 and one line on stderr (runs given -q, so progress and info
    lines, which a failure after reading the corpus would follow, are off)."""
    assert result.exit_code == 1, result.output
    err = result.stderr.strip()
    assert err.startswith("embedtrain: error:") and "\n" not in err, err
    for needle in needles:
        assert needle in err, err


def test_cli_bad_inputs_give_one_line(small_corpus, saved_cooccur, tmp_path):
    prefix = tmp_path / "out"
    junk = tmp_path / "junk.cooc"
    junk.write_text("not a matrix\n")
    other_vocab = tmp_path / "other-vocab.txt"
    other_vocab.write_text("the 100\nof 50\nzebra 10\n")
    other_corpus = tmp_path / "other.txt"
    other_corpus.write_text("a b c a b c a b c\n" * 5)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n")
    cases = [
        (["--memory", "0.000001"], ["--memory 1e-06 GB is too small"]),
        (["--lr", "1e30"], ["diverged", "lower --lr"]),
        (["--x-max", "0"], ["--x-max must be positive"]),
        (["--alpha", "0"], ["--alpha must be positive"]),
        (["--memory", "0"], ["--memory must be positive"]),
    ]
    for extra, needles in cases:
        one_line_error(run("train", small_corpus, *FAST, *extra, "-q", "-o", prefix), *needles)
    matrix = saved_cooccur / "m.cooc"
    one_line_error(run("train", "--cooccur", junk, *FAST, "-q", "-o", prefix),
                   "is not an embedtrain co-occurrence file")
    one_line_error(run("train", "--cooccur", tmp_path / "missing.cooc", *FAST, "-q", "-o", prefix),
                   "does not exist")
    one_line_error(run("train", "--cooccur", saved_cooccur / "direct.etm", *FAST, "-q", "-o", prefix),
                   "is not an embedtrain co-occurrence file")
    one_line_error(run("train", "--cooccur", matrix, "--read-vocab", other_vocab, *FAST, "-q", "-o", prefix),
                   "does not match", "--read-vocab")
    one_line_error(run("train", other_corpus, "--cooccur", matrix, *FAST, "-q", "-o", prefix),
                   "does not match", "the corpus")
    one_line_error(run("train", empty, *FAST, "-q", "-o", prefix), "empty")
    single = tmp_path / "single.txt"
    single.write_text("a\nb\n" * 10)
    one_line_error(run("train", single, *FAST, "-q", "-o", prefix, "--save-cooccur", tmp_path / "s.cooc"),
                   "no co-occurrences")
    assert not (tmp_path / "s.cooc").exists()
    # errors found before any work print nothing else, even without -q
    one_line_error(run("train", small_corpus, *FAST, "--memory", "1e-7", "-o", prefix), "too small")
    one_line_error(run("train", "--cooccur", junk, *FAST, "-o", prefix), "not an embedtrain")
    assert not list(tmp_path.glob("out*"))  # nothing written


def test_library_needs_a_corpus_or_a_matrix():
    with pytest.raises(EmbedtrainError, match="no corpus given"):
        embedtrain.train(None, model="glove", progress=False)


def test_ctrl_c_leaves_no_outputs_and_no_temporary_files(tmp_path, sample_corpus):
    import signal
    import subprocess
    import sys

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    # a tiny --memory: counting writes many partial tables to --tmp-dir
    proc = subprocess.Popen([sys.executable, "-m", "embedtrain", "train", str(sample_corpus), "--model", "glove",
                             "--memory", "0.0001", "--tmp-dir", str(tmp), "--epochs", "500", "--dim", "16",
                             "--threads", "2", "-o", str(tmp_path / "x")], stderr=subprocess.PIPE, text=True)
    import time

    deadline = time.monotonic() + 120
    while not any(tmp.iterdir()):  # counting has written its first partial table
        assert proc.poll() is None and time.monotonic() < deadline, "counting did not spill"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err, err
    assert list(tmp.iterdir()) == [], err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"], err


# --------------------------------------------------------------------------- defaults by corpus size

def test_corpus_defaults_follow_the_size_rule():
    from embedtrain.config import GLOVE_SIZE_RULE
    from embedtrain.families.glove import corpus_defaults

    # GloVe's demo settings for corpora like text8 (millions of tokens), the paper's for billions
    assert corpus_defaults(2_139_748) == {"x_max": 10.0, "epochs": 15}
    assert corpus_defaults(17_500_000) == {"x_max": 10.0, "epochs": 15}
    assert corpus_defaults(6_000_000_000) == {"x_max": 100.0, "epochs": 25}
    limit = GLOVE_SIZE_RULE[0][0]
    assert corpus_defaults(limit - 1) != corpus_defaults(limit)
    # larger corpora never get a smaller x_max or fewer epochs
    sizes = [10 ** k for k in range(3, 12)]
    chosen = [corpus_defaults(n) for n in sizes]
    assert all(a["x_max"] <= b["x_max"] and a["epochs"] <= b["epochs"] for a, b in zip(chosen, chosen[1:]))


@pytest.fixture(scope="module")
def sized_runs(small_corpus, tmp_path_factory):
    """Two runs on small_corpus: no --x-max/--epochs (chosen from the size), and --x-max 50
    given (--epochs chosen); each run's log lines."""
    import logging

    out = tmp_path_factory.mktemp("sized")
    logger = logging.getLogger("embedtrain")
    runs = {}
    for name, given in (("auto", {}), ("x_max_given", {"x_max": 50.0})):
        records: list[str] = []
        handler = logging.Handler()
        handler.emit = lambda record, records=records: records.append(record.getMessage())
        logger.addHandler(handler)
        level = logger.level
        logger.setLevel(logging.INFO)
        try:
            model = embedtrain.train(str(small_corpus), model="glove", dim=8, min_count=3, window=5,
                                     threads=1, progress=False, **given)
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
        model.save(out / name)
        runs[name] = (model, records, out / f"{name}.etm")
    return runs


def test_unset_x_max_and_epochs_are_chosen_from_the_corpus_size_and_said(sized_runs, small_corpus):
    model, records, path = sized_runs["auto"]
    assert (model.config.x_max, model.config.epochs) == (10.0, 15)
    assert len(model.stats["epoch_costs"]) == 15
    said = [r for r in records if r.startswith("GloVe: ")]
    assert said == [f"GloVe: {model.stats['words_trained'] / 1e6:.1f} M tokens: x-max 10, 15 epochs "
                    "(give --x-max/--epochs to override)"]
    # the model file records the values chosen, not "auto"
    saved = Model.load(path)
    assert (saved.config.x_max, saved.config.epochs) == (10.0, 15)


def test_given_settings_win_over_the_size_rule(sized_runs):
    model, records, _ = sized_runs["x_max_given"]
    assert (model.config.x_max, model.config.epochs) == (50.0, 15)
    assert [r for r in records if r.startswith("GloVe: ")] == [
        f"GloVe: {model.stats['words_trained'] / 1e6:.1f} M tokens: 15 epochs (give --epochs to override)"]
    # both given: nothing chosen, nothing said
    from embedtrain.families.glove import sized_config
    from embedtrain.config import GloVeConfig

    config = GloVeConfig(x_max=3.0, epochs=2)
    assert sized_config(config, 10 ** 10) is config


def test_a_resumed_checkpoint_keeps_the_chosen_values(small_corpus, tmp_path):
    """A checkpoint records the resolved x_max and epochs; resuming it with no settings
    finishes the same run (same bytes as the uninterrupted one, one thread)."""
    from conftest import StopAtEpoch, StopTraining

    settings = dict(model="glove", dim=8, min_count=3, window=5, threads=1, progress=False, seed=4)
    whole = embedtrain.train(str(small_corpus), **settings)
    ckpt = tmp_path / "run.ckpt"
    with pytest.raises(StopTraining):
        embedtrain.train(str(small_corpus), checkpoint=ckpt, checkpoint_every=1e-9,
                         callbacks=[StopAtEpoch(2)], **settings)
    from embedtrain.io.checkpoint import Checkpoint

    assert (Checkpoint.load(ckpt).config.x_max, Checkpoint.load(ckpt).config.epochs) == (10.0, 15)
    resumed = embedtrain.train(str(small_corpus), resume=str(ckpt), progress=False)
    assert (resumed.config.x_max, resumed.config.epochs) == (10.0, 15)
    np.testing.assert_array_equal(resumed.word_matrix(), whole.word_matrix())
