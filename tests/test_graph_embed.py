"""Node embeddings end to end: training on walks, the graph commands, node classification
and link prediction (karate club from data/, Cora from ../shared/data when present)."""
import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import embedtrain
from embedtrain.cli import main
from embedtrain.config import load_toml
from embedtrain.extras import install_hint
from embedtrain.families.word2vec import GRAPH_PRESETS
from embedtrain.errors import EmbedtrainError
from embedtrain.graphs.evaluate import (eval_links, eval_nodes, f1_scores, read_labels, roc_auc,
                                       split_links, top_k_labels)
from embedtrain.graphs.read import read_edge_list
from embedtrain.models import Model
from embedtrain.graphs.train import graph_configs

from conftest import DATA, ROOT, SHARED_DATA

KARATE = ROOT / "graphs" / "karate.edgelist"
FACTIONS = ROOT / "graphs" / "karate.factions"
CORA = SHARED_DATA / "graphs" / "cora.edges"
CORA_LABELS = SHARED_DATA / "graphs" / "cora.node_labels"
needs_cora = pytest.mark.skipif(not CORA.exists(), reason="../shared/data/graphs/cora.edges absent")
# Smaller than the presets, so the Cora tests take seconds.
CORA_FAST = dict(dim=64, walks_per_node=5, walk_length=40, progress=False)
# Calibrated floors (seeds 1-5, this machine): karate 5-NN faction accuracy 0.97 every
# time; Cora micro-F1 at half the nodes 0.80 +- 0.01, link ROC-AUC 0.79 (cosine 0.77).
# Random vectors give about 0.5, 0.3 and 0.5.
KARATE_FLOOR = 0.85
CORA_MICRO_FLOOR = 0.75
CORA_MACRO_FLOOR = 0.72
LINK_AUC_FLOOR = 0.70


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def faction_accuracy(vectors, k=5):
    nodes, labels = read_labels(FACTIONS)
    faction = {n: ls[0] == "Mr.Hi" for n, ls in zip(nodes, labels)}
    unit = vectors.unit_vectors
    sim = unit @ unit.T
    np.fill_diagonal(sim, -np.inf)
    y = np.array([faction[w] for w in vectors.words])
    nearest = np.argsort(-sim, axis=1)[:, :k]
    return float(np.mean((y[nearest].mean(axis=1) > 0.5) == y))


# --------------------------------------------------------------------------- settings

def test_graph_presets_layer_under_the_file_and_the_arguments(tmp_path):
    config, walk = graph_configs()
    assert (config.dim, config.window, config.min_count, config.sample, config.negative,
            config.epochs, config.hs) == (128, 10, 0, 0.0, 5, 1, False)
    assert (walk.p, walk.q, walk.walks_per_node, walk.walk_length) == (1.0, 1.0, 10, 80)
    # gensim's numerics as PecanPy trains (per-pair negatives, the rate falling over the pass)
    assert (config.shared_negatives, config.epoch_decay) == (False, 1.0)
    config, _ = graph_configs(shared_negatives=True, epoch_decay=0.5)
    assert (config.shared_negatives, config.epoch_decay) == (True, 0.5)
    config, _ = graph_configs(hs=True)
    assert config.hs and config.negative == 0  # DeepWalk's original
    recipe = tmp_path / "r.toml"
    recipe.write_text("dim = 64\nq = 0.5\nwalk-length = 20\n")
    config, walk = graph_configs(None, str(recipe), dim=32, p=2.0)
    assert (config.dim, config.window, walk.p, walk.q, walk.walk_length) == (32, 10, 2.0, 0.5, 20)
    with pytest.raises(EmbedtrainError, match="skipgram or cbow"):
        graph_configs("glove")
    with pytest.raises(EmbedtrainError, match="--walk-length"):
        graph_configs(walk_length=0)


# --------------------------------------------------------------------------- training

def test_karate_factions_separate():
    model = embedtrain.train_graph(KARATE, dim=32, threads=1, seed=3, progress=False)
    assert len(model.vocab) == 34
    assert faction_accuracy(model.vectors) >= KARATE_FLOOR


def test_karate_node2vec_and_hs_and_cbow_also_separate():
    for settings in (dict(p=0.5, q=2.0), dict(hs=True), dict(model="cbow", lr=0.05)):
        model = embedtrain.train_graph(KARATE, dim=32, threads=1, seed=1, progress=False, **settings)
        assert faction_accuracy(model.vectors) >= KARATE_FLOOR, settings


def test_one_thread_is_bit_identical_and_arrays_equal_the_file():
    a = embedtrain.train_graph(KARATE, dim=16, threads=1, seed=9, progress=False, p=2.0, q=0.5)
    b = embedtrain.train_graph(KARATE, dim=16, threads=1, seed=9, progress=False, p=2.0, q=0.5)
    assert a.vocab.words == b.vocab.words
    assert a.stats["walks"]["p"] == 2.0
    np.testing.assert_array_equal(a.vectors.vectors, b.vectors.vectors)
    rows = [line.split() for line in KARATE.read_text().splitlines()]
    arrays = embedtrain.train_graph(([r[0] for r in rows], [r[1] for r in rows]), dim=16, threads=1,
                                    seed=9, progress=False, p=2.0, q=0.5)
    assert arrays.vocab.words == a.vocab.words
    np.testing.assert_array_equal(arrays.vectors.vectors, a.vectors.vectors)
    c = embedtrain.train_graph(KARATE, dim=16, threads=1, seed=10, progress=False, p=2.0, q=0.5)
    assert not np.array_equal(c.vectors.vectors, a.vectors.vectors)


def test_isolated_nodes_get_vectors():
    model = embedtrain.train_graph((np.array([1, 2]), np.array([2, 3])), nodes=[99], dim=8,
                                   walks_per_node=2, walk_length=5, progress=False, threads=1)
    assert sorted(model.vocab.words) == ["1", "2", "3", "99"]
    assert np.isfinite(model["99"]).all()


# --------------------------------------------------------------------------- evaluation pieces

def _reference_f1(truth, predicted):
    """Plain-numpy micro- and macro-F1 as scikit-learn defines them: macro over every
    label, 0 for a label with no true and no predicted node."""
    tp = (truth & predicted).sum(axis=0)
    fp = (~truth & predicted).sum(axis=0)
    fn = (truth & ~predicted).sum(axis=0)
    per_label = [2 * t / (2 * t + p + n) if 2 * t + p + n else 0.0 for t, p, n in zip(tp, fp, fn)]
    return 2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum()), float(np.mean(per_label))


def test_f1_top_k_and_auc_agree_with_references():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    truth = rng.random((200, 6)) < 0.3
    truth[np.arange(200), rng.integers(0, 6, 200)] = True
    truth[:, 5] = False  # a label no test node has (a split that missed it; issue 21)
    scores = rng.random((200, 6)) + truth * 0.4
    scores[:, 5] = -1.0  # ... and nobody predicts
    predicted = top_k_labels(scores, truth.sum(axis=1))
    assert (predicted.sum(axis=1) == truth.sum(axis=1)).all() and not predicted[:, 5].any()
    micro, macro = f1_scores(truth, predicted)
    want_micro, want_macro = _reference_f1(truth, predicted)
    assert micro == pytest.approx(want_micro) and macro == pytest.approx(want_macro)
    assert macro == pytest.approx(np.mean([_reference_f1(truth[:, [j]], predicted[:, [j]])[0]
                                           for j in range(5)]) * 5 / 6)  # the absent label counts 0
    labels = rng.random(300) < 0.4
    values = np.round(rng.random(300) + labels * 0.3, 2)  # with ties
    assert roc_auc(labels, values) == pytest.approx(metrics.roc_auc_score(labels, values))


def test_multi_label_nodes(tmp_path):
    """Several lines for a node: multi-label; each test node gets its k best labels."""
    pytest.importorskip("sklearn")
    model = embedtrain.train_graph(KARATE, dim=16, threads=1, seed=2, progress=False)
    nodes, labels = read_labels(FACTIONS)
    lines = [f"{n} {ls[0]}" for n, ls in zip(nodes, labels)] + [f"{n} even" for n in nodes if int(n) % 2 == 0]
    path = tmp_path / "labels.txt"
    path.write_text("\n".join(lines) + "\n99 Officer\n")
    report = eval_nodes(model.vectors, path, train_fractions=[0.5], repeats=3)
    assert report["multi_label"] and report["labels"] == 3
    assert (report["nodes_labelled"], report["nodes_found"]) == (35, 34)
    assert 0 < report["results"][0]["micro_f1"] <= 1


def test_labels_file_errors(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("1 a\n2\n")
    with pytest.raises(EmbedtrainError, match="line 2: expected 'node label'"):
        read_labels(bad)
    with pytest.raises(EmbedtrainError, match="does not exist"):
        read_labels(tmp_path / "none.txt")


def test_link_split_keeps_the_graph_connected():
    g = read_edge_list(KARATE)
    split = split_links(g, 0.5, seed=4)
    held = int(split.test_labels.sum())
    assert split.train_graph.n_edges + held == g.n_edges
    assert (split.train_graph.degrees() > 0).all()  # no node lost all its edges
    pos = split.test_pairs[split.test_labels]
    neg = split.test_pairs[~split.test_labels]
    assert g.has_edges(pos[:, 0], pos[:, 1]).all()
    assert not split.train_graph.has_edges(pos[:, 0], pos[:, 1]).any()
    assert not g.has_edges(neg[:, 0], neg[:, 1]).any() and not g.has_edges(neg[:, 1], neg[:, 0]).any()
    assert len(neg) == held and (neg[:, 0] != neg[:, 1]).all()


def test_missing_scikit_learn_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.linear_model", None)
    result = run("eval-nodes", KARATE, FACTIONS)
    assert result.exit_code == 1 and install_hint("graph") in result.output
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- Cora quality

@needs_cora
def test_cora_node_classification_above_floor():
    pytest.importorskip("sklearn")
    model = embedtrain.train_graph(CORA, seed=1, **CORA_FAST)
    report = eval_nodes(model.vectors, CORA_LABELS, train_fractions=[0.5], repeats=2)
    assert report["nodes_found"] == report["nodes_labelled"] == 2708
    result = report["results"][0]
    assert result["micro_f1"] >= CORA_MICRO_FLOOR and result["macro_f1"] >= CORA_MACRO_FLOOR


@needs_cora
def test_cora_link_prediction_above_floor():
    pytest.importorskip("sklearn")
    report = eval_links(CORA, 0.5, seed=1, **CORA_FAST)
    assert report["edges_held_out"] == round(0.5 * report["edges"])
    assert report["auc_hadamard"] >= LINK_AUC_FLOOR and report["auc_cosine"] >= LINK_AUC_FLOOR


# --------------------------------------------------------------------------- CLI

def test_cli_train_graph_walks_and_eval(tmp_path, caplog):
    pytest.importorskip("sklearn")
    prefix = tmp_path / "karate"
    result = run("train", "--graph", KARATE, "--dim", "24", "--threads", "1", "--q", "0.5", "-o", prefix)
    assert result.exit_code == 0, result.output
    model = Model.load(f"{prefix}.etm")
    assert (model.config.dim, model.config.window, model.config.min_count) == (24, 10, 0)
    assert model.stats["walks"]["q"] == 0.5 and len(model.vocab) == 34
    assert faction_accuracy(model.vectors) >= KARATE_FLOOR

    walks = tmp_path / "walks.txt"
    result = run("walks", KARATE, "-o", walks, "--walks-per-node", "3", "--walk-length", "7")
    assert result.exit_code == 0, result.output
    lines = walks.read_text().splitlines()
    assert len(lines) == 3 * 34 and all(len(l.split()) == 7 for l in lines)

    result = run("eval-nodes", f"{prefix}.vec", FACTIONS, "--train-fraction", "0.5,0.8", "--repeats", "3",
                 "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # stderr: a warning (7 test nodes at 0.8)
    assert "a split tests on as few as 7" in result.stderr
    assert [r["train_fraction"] for r in report["results"]] == [0.5, 0.8]
    assert report["results"][0]["micro_f1"] >= KARATE_FLOOR
    text = run("eval-nodes", f"{prefix}.etm", FACTIONS, "--repeats", "2").output
    assert "micro-F1" in text and "0.9" in text

    result = run("eval-links", KARATE, "--dim", "16", "--threads", "1", "--json", "-q")
    assert result.exit_code == 0, result.output
    assert 0 <= json.loads(result.output)["auc_cosine"] <= 1


@pytest.mark.parametrize("args,message", [
    (["train", "--p", "2", "x.txt"], "--p applies to --graph only"),
    (["train", "--graph", "missing.txt"], "does not exist"),
    (["train", "--graph", KARATE, "corpus.txt"], "either a corpus or --graph"),
    (["train", "--graph", KARATE, "--resume", "m.etm"], "--resume does not apply"),
    (["train", "--graph", KARATE, "--q", "-1"], "--q must be at least 1e-06"),
    (["train", "--graph", KARATE, "--checkpoint-every", "1"], "--checkpoint-every does not apply"),
    (["train", "--graph", KARATE, "--model", "fasttext"], "skipgram or cbow"),
    (["train", "--graph", KARATE, "-o", "/nonexistent/dir/x"], "does not exist"),
    (["walks", KARATE, "-o", "/nonexistent/dir/w.txt"], "does not exist"),
    (["eval-nodes", "none.vec", FACTIONS], "does not exist"),
    (["eval-nodes", "v.vec", FACTIONS, "--train-fraction", "half"], "--train-fraction"),
    (["eval-links", KARATE, "--test-fraction", "1.5"], "--test-fraction"),
])
def test_cli_bad_input_is_one_line(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "v.vec").write_text("1 2\n1 0.5 0.5\n")
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output


# --------------------------------------------------------------------------- recipes

GRAPH_RECIPES = ["deepwalk-skipgram", "deepwalk-hs-skipgram", "node2vec-skipgram"]


@pytest.mark.parametrize("name", GRAPH_RECIPES)
def test_graph_recipes_ship_and_load_by_name(name):
    config, walk = graph_configs(None, name)
    assert config.min_count == 0 and walk.walk_length > 1
    assert config.hs == ("hs" in name) and (walk.q != 1.0) == ("node2vec" in name)
    assert config.epoch_decay == GRAPH_PRESETS["epoch_decay"]


def test_deepwalk_recipe_writes_out_the_presets():
    from_file = load_toml("deepwalk-skipgram")
    for name, value in GRAPH_PRESETS.items():
        assert from_file[name] == value, name


def test_item2vec_recipe(tmp_path):
    """Whole lines as context, shuffled every epoch: items that share baskets come closest."""
    from embedtrain.config import make_config

    config = make_config(config_file="item2vec-skipgram")
    assert config.window == 0 and config.shuffle_lines
    rng = np.random.default_rng(0)
    groups = [[f"{g}{i}" for i in range(6)] for g in "abc"]
    lines = [" ".join(rng.choice(groups[rng.integers(3)], size=4, replace=False)) for _ in range(3000)]
    baskets = tmp_path / "baskets.txt"
    baskets.write_text("\n".join(lines) + "\n")
    # 18 items: subsampling (tuned for real catalogues) would drop nearly every occurrence
    model = embedtrain.train(baskets, config_file="item2vec-skipgram", dim=16, epochs=3, threads=1,
                             sample=0.0, progress=False)
    near = [w for w, _ in model.most_similar("a0", topn=5)]
    assert sum(w.startswith("a") for w in near) == 5


def test_readme_graph_table_is_current():
    import subprocess

    root = DATA.parent
    generated = subprocess.run([sys.executable, str(root / "scripts" / "readme_graph_options.py")],
                               capture_output=True, text=True, check=True,
                               env={**__import__("os").environ, "PYTHONPATH": str(root)}).stdout.strip()
    assert generated in (root / "docs" / "graphs.md").read_text(), \
        "docs/graphs.md graph table is stale: run python scripts/readme_graph_options.py --write"


@pytest.mark.parametrize("args,message", [(["--seed", "-1"], "--seed must be 0 to"),
                                          (["--repeats", "1000000000"], "--repeats must be 1 to"),
                                          (["--repeats", "0"], "--repeats must be 1 to")])
def test_eval_nodes_refuses_a_bad_seed_or_repeats_in_one_line(tmp_path, args, message):
    pytest.importorskip("sklearn", reason="eval-nodes needs scikit-learn (the graph extra)")
    vec = tmp_path / "v.vec"
    vec.write_text("4 2\na 1 0\nb 0 1\nc 1 1\nd 0 0\n")
    labels = tmp_path / "labels.txt"
    labels.write_text("a x\nb y\nc x\nd y\n")
    proc = subprocess.run([sys.executable, "-m", "embedtrain", "eval-nodes", str(vec), str(labels), *args],
                          capture_output=True, text=True)
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert proc.returncode == 1 and len(lines) == 1 and message in lines[0], proc.stderr


@pytest.mark.parametrize("labels,warning", [
    ("a x\nb x\nc x\nd x\n", "every labelled node has the same label"),
    ("a x\nb y\n", "only 2 labelled nodes: a split tests on as few as 1"),
    (None, None),  # 200 nodes and two labels (20 test nodes at --train-fraction 0.9): no warning
])
def test_eval_nodes_warns_when_scores_mean_nothing(tmp_path, labels, warning):
    """One class (F1 1.0 whatever the vectors) and tiny test sets (0 or 1) are said."""
    pytest.importorskip("sklearn", reason="eval-nodes needs scikit-learn (the graph extra)")
    rng = np.random.default_rng(1)
    names = [f"n{i}" for i in range(200)] if labels is None else ["a", "b", "c", "d"]
    vec = tmp_path / "v.vec"
    vec.write_text(f"{len(names)} 2\n" + "".join(f"{n} {rng.random():.3f} {rng.random():.3f}\n" for n in names))
    path = tmp_path / "labels.txt"
    path.write_text(labels if labels is not None else "".join(f"{n} {'xy'[i % 2]}\n" for i, n in enumerate(names)))
    result = run("eval-nodes", vec, path, "--repeats", "2")
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if "labelled node" in line]
    if warning is None:
        assert warned == [], result.stderr
    else:
        assert len(warned) == 1 and warning in warned[0], result.stderr


def test_link_cosine_is_centred_so_hubs_do_not_invert_it():
    """Vectors built as skip-gram makes them on graphs with hubs (issue 21): a common
    direction that dominates low-degree nodes. The raw cosine then ranks the sampled
    non-edges (mostly low-degree pairs) above the held-out edges (mostly hub pairs);
    score_links' cosine is of the mean-centred vectors (checked against plain numpy)."""
    pytest.importorskip("sklearn")
    from embedtrain.graphs.evaluate import score_links
    from embedtrain.graphs.read import from_edges
    from embedtrain.vectors import Vectors

    rng = np.random.default_rng(3)
    weight = np.arange(1, 401) ** -0.9
    a, b = rng.choice(400, 6000, p=weight / weight.sum()), rng.choice(400, 6000, p=weight / weight.sum())
    g = from_edges(a[a != b], b[a != b], nodes=range(400))
    split = split_links(g, 0.5, seed=2)
    degree = split.train_graph.degrees().astype(float)
    common = np.ones(16) / 4.0
    matrix = (8.0 / np.sqrt(degree + 1))[:, None] * common + rng.normal(size=(400, 16))
    vectors = Vectors(list(split.train_graph.nodes), matrix.astype(np.float32))
    pairs, labels = split.test_pairs, split.test_labels

    def cosine_auc(m):
        unit = m / np.linalg.norm(m, axis=1, keepdims=True)
        return roc_auc(labels, (unit[pairs[:, 0]] * unit[pairs[:, 1]]).sum(axis=1))

    raw = cosine_auc(matrix)
    centred = cosine_auc(matrix - matrix.mean(axis=0))
    scores = score_links(vectors, split)
    assert scores["auc_cosine"] == pytest.approx(centred, abs=1e-6)
    assert raw < 0.45 and centred > raw + 0.1, (raw, centred)
