"""embedtrain report: one self-contained page whose tables hold the model's numbers and whose
images are embedded PNGs of the expected size."""
from __future__ import annotations

import base64
from html.parser import HTMLParser

import numpy as np
import pytest

from .helpers import HISTORY, assert_one_line_error, run
from .images import png_size

from embedtrain.evaluate import evaluate
from embedtrain.models import Model
from embedtrain.plot import LOSS_SIZE_INCHES, MAP_SIZE_INCHES, PLOT_DPI
from embedtrain.report import NEIGHBOURS, PROBE_WORDS, report_data, sample_words

pytest.importorskip("matplotlib")

REMOTE_ATTRIBUTES = ("src", "href", "srcset", "action", "poster", "data")


class Page(HTMLParser):
    """Tags, attributes, and each table as rows of cell texts."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).replace("\xa0", " ").strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def table(self, *header: str) -> list[list[str]]:
        for table in self.tables:
            if tuple(table[0]) == header:
                return table[1:]
        raise AssertionError(f"no table with header {header}")


@pytest.fixture(scope="module")
def page(report_files) -> Page:
    return Page(report_files["full"].read_text(encoding="utf-8"))


def test_report_is_self_contained(page, report_files):
    tags = {t for t, _ in page.tags}
    assert not tags & {"script", "link", "iframe", "object", "embed", "base"}
    for tag, attrs in page.tags:
        for name in REMOTE_ATTRIBUTES:
            value = attrs.get(name)
            assert value is None or value.startswith("data:image/png;base64,"), (tag, name)
        assert not any(k.startswith("on") for k in attrs), tag  # no inline handlers
    text = report_files["full"].read_text(encoding="utf-8")
    assert "url(" not in text and "@import" not in text  # CSS fetches nothing either
    meta = {a.get("http-equiv"): a.get("content") for t, a in page.tags if t == "meta"}
    assert "default-src 'none'" in meta["Content-Security-Policy"]


def test_report_images_are_pngs_of_the_plot_size(page):
    images = [a for t, a in page.tags if t == "img"]
    sizes = [png_size(base64.b64decode(a["src"].split(",", 1)[1])) for a in images]
    assert sizes == [(LOSS_SIZE_INCHES[0] * PLOT_DPI, LOSS_SIZE_INCHES[1] * PLOT_DPI),
                     (MAP_SIZE_INCHES[0] * PLOT_DPI, MAP_SIZE_INCHES[1] * PLOT_DPI)]
    assert [(int(a["width"]), int(a["height"])) for a in images] == sizes
    assert all(a.get("alt") for a in images)


def test_report_tables_hold_the_model_numbers(page, model_files):
    model = Model.load(model_files["model"])
    settings = dict(page.table("setting", "value"))
    assert settings["dim"] == str(model.config.dim) and settings["epochs"] == str(model.config.epochs)
    assert settings["model"] == "skipgram"
    loss = page.table("epoch", "loss", "words/s")
    assert [[int(r[0]), float(r[1]), float(r[2].replace(",", ""))] for r in loss] == \
        [[h["epoch"], h["loss"], h["words_per_second"]] for h in HISTORY]
    stats = dict(page.table("statistic", "value"))
    assert stats["vocabulary words"] == f"{len(model.vocab):,}"
    assert stats["tokens in the corpus"] == f"{model.stats['corpus_tokens']:,}"
    top = page.table("rank", "word", "count")
    assert [r[1] for r in top] == model.vocab.words[:len(top)]
    assert [int(r[2].replace(",", "")) for r in top] == model.vocab.counts[:len(top)].tolist()


def test_report_neighbours_are_the_nearest_words(page, model_files):
    vectors = Model.load(model_files["model"]).vectors
    rows = page.table("word", "neighbours (cosine)")
    assert [r[0] for r in rows] == sample_words(vectors)
    for word, listed in rows:
        expected = vectors.most_similar(word, topn=NEIGHBOURS)
        assert listed == ", ".join(f"{w} {s:.2f}" for w, s in expected)


def test_report_eval_scores_are_evaluate_results(page, model_files):
    results = {r.dataset: r for r in evaluate(Model.load(model_files["model"]).vectors)}
    rows = {r[0]: r for r in page.table("dataset", "score", "value", "found")}
    assert set(rows) == set(results)
    sim, analogy = results["wordsim353"], results["questions-words"]
    assert rows["wordsim353"][2] == f"{sim.spearman:.3f}"
    assert rows["wordsim353"][3] == f"{sim.found:,} of {sim.pairs:,}"
    assert rows["questions-words"][2] == f"{analogy.accuracy:.3f}"


def test_report_without_history_or_eval(report_files):
    page = Page(report_files["old"].read_text(encoding="utf-8"))
    text = report_files["old"].read_text(encoding="utf-8")
    assert "no training history" in text and "--eval" in text
    assert [t for t, _ in page.tags].count("img") == 1  # the map alone


def test_sample_words_prefer_probe_words_then_spread_ranks(tiny_model):
    words = sample_words(tiny_model.vectors, 8)
    rank = {w: i for i, w in enumerate(tiny_model.vocab.words)}
    probes = [w for w in PROBE_WORDS if w in rank]
    assert words[:len(probes)] == probes[:8] and len(words) == len(set(words)) == 8
    rest = [rank[w] for w in words[len(probes):]]
    assert rest == sorted(rest)  # in rank order, past the function words at the very top
    assert all(r >= min(100, len(rank) // 10) for r in rest)


def test_report_data_map_is_the_word_map(tiny_model):
    from embedtrain.plot import word_map

    data = report_data(tiny_model, "tiny", map_words=40)
    expected = word_map(tiny_model.vectors, n=40)
    assert data.word_map.words == expected.words
    np.testing.assert_allclose(data.word_map.points, expected.points)


def test_report_errors_are_one_line(model_files, tmp_path):
    assert_one_line_error(run("report", model_files["vec"], "-o", tmp_path / "r.html"),
                          "not an embedtrain model file")
    assert_one_line_error(run("report", tmp_path / "none.etm", "-o", tmp_path / "r.html"),
                          "does not exist")
    assert_one_line_error(run("report", model_files["model"], "-o", tmp_path / "no" / "r.html"),
                          "does not exist")
    assert not (tmp_path / "r.html").exists()
