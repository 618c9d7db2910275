"""embedtrain plot loss / plot map: each image is written at its size, and the data behind it
(loss values, map points, label positions) is checked through the functions that compute it."""
from __future__ import annotations

import re
import sys
import types

import numpy as np
import pytest

from .helpers import HISTORY, OTHER_HISTORY, SHARED_DATA, assert_one_line_error, run
from .images import image_size, png_size

from embedtrain.errors import EmbedtrainError
from embedtrain.extras import install_hint
from embedtrain.models import Model
from embedtrain.plot import (LOSS_SIZE_INCHES, MAP_SIZE_INCHES, PLOT_DPI,
                             loss_history, map_points, pca_2d, place_labels, read_labels,
                             select_words, word_map)
from embedtrain.vectors import Vectors

pytest.importorskip("matplotlib")

MAP_PIXELS = (MAP_SIZE_INCHES[0] * PLOT_DPI, MAP_SIZE_INCHES[1] * PLOT_DPI)
LOSS_PIXELS = (LOSS_SIZE_INCHES[0] * PLOT_DPI, LOSS_SIZE_INCHES[1] * PLOT_DPI)
POINTS_PER_INCH = 72


def clustered_vectors(clusters: int = 4, per_cluster: int = 25, dim: int = 30, seed: int = 0):
    """Words ``c{k}_{i}`` around ``clusters`` random directions; counts decrease with index."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)) * 3
    rows = np.concatenate([c + rng.normal(scale=0.3, size=(per_cluster, dim)) for c in centres])
    words = [f"c{k}_{i}" for k in range(clusters) for i in range(per_cluster)]
    return Vectors(words, rows, np.arange(len(words), 0, -1)), np.repeat(np.arange(clusters), per_cluster)


# ---------------------------------------------------------------------- loss
def test_loss_history_reads_the_runner_history(model_files):
    h = loss_history(Model.load(model_files["model"]), "tiny")
    assert h.epochs.tolist() == [e["epoch"] for e in HISTORY]
    assert h.loss.tolist() == [e["loss"] for e in HISTORY]
    assert h.rate.tolist() == [e["words_per_second"] for e in HISTORY]
    assert h.unit == "word"


def test_loss_history_of_an_older_glove_model_uses_its_epoch_costs():
    glove = types.SimpleNamespace(kind="glove", stats={"epoch_costs": [0.12, 0.08, 0.07]})
    h = loss_history(glove)
    assert h.epochs.tolist() == [1, 2, 3] and h.loss.tolist() == [0.12, 0.08, 0.07]
    assert h.rate is None and h.unit == "entry"


@pytest.mark.parametrize("kind,unit", [("glove", "entry"), ("cbow", "word"), ("fasttext", "word")])
def test_a_history_without_units_counts_what_the_family_counts(kind, unit):
    history = [{k: v for k, v in e.items() if k != "unit"} for e in HISTORY]
    h = loss_history(types.SimpleNamespace(kind=kind, stats={"history": history}))
    assert h.unit == unit and h.loss.tolist() == [e["loss"] for e in HISTORY]


def test_loss_history_missing_is_one_clear_error(model_files):
    with pytest.raises(EmbedtrainError, match="has no training history"):
        loss_history(Model.load(model_files["old"]), "old.etm")


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_plot_loss_of_two_models(model_files, tmp_path, suffix):
    out = tmp_path / f"loss{suffix}"
    result = run("plot", "loss", model_files["model"], model_files["other"], "-o", out)
    assert result.exit_code == 0, result.output
    expected = LOSS_PIXELS if suffix == ".png" else (LOSS_SIZE_INCHES[0] * POINTS_PER_INCH,
                                                     LOSS_SIZE_INCHES[1] * POINTS_PER_INCH)
    assert image_size(out) == pytest.approx(expected)
    # The lines drawn are the histories the files hold.
    assert loss_history(Model.load(model_files["other"])).loss.tolist() == \
        [e["loss"] for e in OTHER_HISTORY]
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically


def test_plot_loss_figure_has_one_line_per_model(model_files):
    from embedtrain.plot import loss_figure

    histories = [loss_history(Model.load(model_files[k]), k) for k in ("model", "other")]
    loss_axes, rate_axes = loss_figure(histories).axes
    for ax, field in ((loss_axes, "loss"), (rate_axes, "words_per_second")):
        lines = ax.get_lines()
        assert [ln.get_label() for ln in lines] == ["model", "other"]
        for line, history in zip(lines, (HISTORY, OTHER_HISTORY)):
            assert line.get_ydata().tolist() == [e[field] for e in history]
    assert loss_axes.get_title() and loss_axes.get_ylabel() and rate_axes.get_xlabel() == "epoch"


def test_plot_loss_errors_are_one_line(model_files, tmp_path):
    assert_one_line_error(run("plot", "loss", model_files["old"], "-o", tmp_path / "l.png"),
                          "no training history")
    assert_one_line_error(run("plot", "loss", model_files["vec"], "-o", tmp_path / "l.png"),
                          "not an embedtrain model file")
    assert_one_line_error(run("plot", "loss", tmp_path / "missing.etm", "-o", tmp_path / "l.png"),
                          "does not exist")
    assert_one_line_error(run("plot", "loss", model_files["model"], "-o", tmp_path / "l.gif"),
                          ".png, .svg, .pdf")
    assert_one_line_error(run("plot", "loss", model_files["model"], "-o", tmp_path / "no" / "l.png"),
                          "does not exist")
    assert not (tmp_path / "l.png").exists()


def test_without_matplotlib_plot_and_report_say_what_to_install(model_files, tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    for args in (("plot", "loss", model_files["model"]), ("plot", "map", model_files["vec"]),
                 ("report", model_files["model"])):
        assert_one_line_error(run(*args, "-o", tmp_path / "x.png"), install_hint("plot"))


# ---------------------------------------------------------------------- map data
def test_pca_matches_the_covariance_eigenvectors():
    vectors, _ = clustered_vectors()
    words = vectors.words[:60]
    points = map_points(vectors, words, "pca")
    unit = vectors.vectors[:60] / np.linalg.norm(vectors.vectors[:60], axis=1, keepdims=True)
    centred = unit - unit.mean(axis=0)
    values, axes = np.linalg.eigh(centred.T @ centred)
    top = axes[:, np.argsort(values)[::-1][:2]]
    expected = centred @ top
    for k in range(2):  # an eigenvector's sign is arbitrary
        sign = np.sign(expected[:, k] @ points[:, k])
        np.testing.assert_allclose(points[:, k], sign * expected[:, k], atol=1e-5)
    _, share = pca_2d(unit)
    np.testing.assert_allclose(share, np.sort(values)[::-1][:2] / values.sum(), rtol=1e-6)


# UMAP is optional (not in the test extra); its first import compiles for about a minute.
@pytest.mark.parametrize("method", ["pca", "tsne", pytest.param("umap", marks=pytest.mark.slow)])
def test_map_keeps_clusters_apart(method):
    if method == "tsne":
        pytest.importorskip("sklearn")
    if method == "umap" and not hasattr(pytest.importorskip("umap"), "UMAP"):
        pytest.skip("umap-learn is not installed")
    vectors, cluster = clustered_vectors()
    points = map_points(vectors, vectors.words, method, seed=2)
    assert points.shape == (len(vectors), 2) and np.isfinite(points).all()
    distance = np.linalg.norm(points[:, None] - points[None], axis=2)
    np.fill_diagonal(distance, np.inf)
    nearest = distance.argmin(axis=1)
    assert np.mean(cluster[nearest] == cluster) > 0.95
    if method != "pca":  # seeded: the same map twice
        np.testing.assert_allclose(map_points(vectors, vectors.words, method, seed=2), points)


def test_a_missing_reducer_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "umap", types.ModuleType("umap"))  # an empty namespace
    vectors, _ = clustered_vectors()
    with pytest.raises(EmbedtrainError, match=re.escape(f"UMAP needs umap-learn: {install_hint('plot')}")):
        map_points(vectors, vectors.words, "umap")


def test_select_words_by_count_or_from_a_list():
    words = ["a", "b", "c", "d"]
    vectors = Vectors(words, np.eye(4), counts=np.array([5, 9, 1, 9]))
    assert select_words(vectors, 3) == ["b", "d", "a"]  # ties keep file order
    assert select_words(Vectors(words, np.eye(4)), 2) == ["a", "b"]  # no counts: file order
    assert select_words(vectors, words=["d", "zz", "a", "d"]) == ["d", "a"]
    with pytest.raises(EmbedtrainError, match="at least 3 words"):
        word_map(vectors, words=["a", "zz"])


def test_read_labels_accepts_tabs_spaces_and_commas(tmp_path):
    f = tmp_path / "labels.txt"
    f.write_text("# node label\n1\tcat\n2 dog\n3,cat\n\n1 fish\n")
    assert read_labels(f) == {"1": "cat", "2": "dog", "3": "cat"}  # first label of 1 kept
    f.write_text("1 cat\n2 dog extra\n")
    with pytest.raises(EmbedtrainError, match="line 2"):
        read_labels(f)


def test_read_labels_of_cora():
    path = SHARED_DATA / "graphs" / "cora.node_labels"
    if not path.exists():
        pytest.skip("../shared/data is not beside the repository")
    labels = read_labels(path)
    assert len(labels) == sum(1 for line in path.open() if line.strip())
    assert len(set(labels.values())) == 7


# ---------------------------------------------------------------------- labels
def boxes_of(placed, anchors, sizes, offset):
    from embedtrain.plot import LABEL_CORNERS

    out = []
    for i, corner in placed:
        dx, dy = LABEL_CORNERS[corner]
        (x, y), (w, h) = anchors[i], sizes[i]
        left = x + offset if dx > 0 else x - offset - w
        bottom = y + offset if dy > 0 else y - offset - h
        out.append((left, bottom, left + w, bottom + h))
    return np.array(out)


def test_placed_labels_never_overlap_and_stay_inside():
    rng = np.random.default_rng(4)
    anchors = rng.uniform(0, 400, size=(300, 2))
    sizes = np.column_stack([rng.uniform(15, 60, 300), np.full(300, 10.0)])
    bounds = (0, 0, 400, 400)
    placed = place_labels(anchors, sizes, bounds, offset=3)
    boxes = boxes_of(placed, anchors, sizes, 3)
    assert 20 < len(placed) < 300  # crowded: some are thinned out, many stay
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2:] <= 400).all()
    for a in range(len(boxes)):
        b = boxes[a + 1:]
        overlap = (b[:, 0] < boxes[a, 2]) & (boxes[a, 0] < b[:, 2]) & \
                  (b[:, 1] < boxes[a, 3]) & (boxes[a, 1] < b[:, 3])
        assert not overlap.any()


def test_labels_move_to_another_corner_before_being_dropped():
    anchors = np.array([[100.0, 100.0]] * 5)  # five words on one point
    sizes = np.array([[30.0, 10.0]] * 5)
    placed = place_labels(anchors, sizes, (0, 0, 200, 200), offset=2)
    assert placed == [(0, 0), (1, 1), (2, 2), (3, 3)]  # the fifth has no corner left
    # A label that would leave the plot on the right goes to the left of its point.
    assert place_labels(np.array([[195.0, 100.0]]), sizes[:1], (0, 0, 200, 200), 2) == [(0, 1)]


# ---------------------------------------------------------------------- plot map
def test_plot_map_cli(model_files, tiny_model, tmp_path):
    out = tmp_path / "map.png"
    result = run("plot", "map", model_files["vec"], "-o", out, "--words", 40)
    assert result.exit_code == 0, result.output
    assert png_size(out.read_bytes()) == MAP_PIXELS
    # The points drawn are the PCA of the 40 most frequent words' vectors.
    wmap = word_map(tiny_model.vectors, n=40)
    assert wmap.words == tiny_model.vocab.words[:40]
    np.testing.assert_allclose(wmap.points, map_points(tiny_model.vectors, wmap.words), atol=1e-6)


def test_plot_map_of_listed_words_coloured_by_labels(model_files, tiny_model, tmp_path):
    words = tiny_model.vocab.words[5:25]
    (tmp_path / "words.txt").write_text("\n".join(words + ["not-a-word"]) + "\n")
    (tmp_path / "labels.txt").write_text("".join(f"{w},{'odd' if i % 2 else 'even'}\n"
                                                 for i, w in enumerate(words[:16])))
    out = tmp_path / "map.svg"
    result = run("plot", "map", model_files["model"], "-o", out, "--words-file",
                 tmp_path / "words.txt", "--labels", tmp_path / "labels.txt")
    assert result.exit_code == 0, result.output
    assert image_size(out) == pytest.approx((MAP_SIZE_INCHES[0] * POINTS_PER_INCH,
                                             MAP_SIZE_INCHES[1] * POINTS_PER_INCH))
    wmap = word_map(tiny_model.vectors, words=words + ["not-a-word"],
                    labels=read_labels(tmp_path / "labels.txt"))
    assert wmap.words == words
    assert wmap.classes == ["odd" if i % 2 else "even" for i in range(16)] + [None] * 4


def test_map_figure_labels_words_and_colours_classes(tiny_model):
    from embedtrain.plot import OKABE_ITO, map_figure

    words = tiny_model.vocab.words[:30]
    labels = {w: ("x" if i < 20 else "y") for i, w in enumerate(words[:25])}
    wmap = word_map(tiny_model.vectors, words=words, labels=labels)
    ax = map_figure(wmap, "t").axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts and set(texts) <= set(words) and len(set(texts)) == len(texts)
    # One scatter per class, most common first, then the words without a label.
    colours = [tuple(c.get_facecolor()[0][:3]) for c in ax.collections]
    sizes = [len(c.get_offsets()) for c in ax.collections]
    assert sizes == [20, 5, 5]
    import matplotlib.colors
    assert colours[:2] == [matplotlib.colors.to_rgb(c) for c in OKABE_ITO[:2]]
    assert ax.get_xlabel().startswith("PC 1") and ax.get_title() == "t"


def test_plot_map_errors_are_one_line(model_files, tmp_path):
    out = tmp_path / "m.png"
    assert_one_line_error(run("plot", "map", tmp_path / "none.vec", "-o", out), "does not exist")
    assert_one_line_error(run("plot", "map", model_files["vec"], "-o", out, "--words", 5,
                              "--words-file", model_files["vec"]), "not both", code=2)
    assert_one_line_error(run("plot", "map", model_files["vec"], "-o", out, "--labels",
                              tmp_path / "none.txt"), "labels file")
    (tmp_path / "few.txt").write_text("the\n")
    assert_one_line_error(run("plot", "map", model_files["vec"], "-o", out, "--words-file",
                              tmp_path / "few.txt"), "at least 3 words")
    assert not out.exists()


def test_plot_map_default_output_is_named_after_the_input(model_files, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("plot", "map", model_files["vec"], "-q")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert png_size((tmp_path / "tiny-map.png").read_bytes()) == MAP_PIXELS
