"""Fixtures of the plot, report and projector tests: one tiny model, trained once, saved with a
made-up training history (the runner writes the real one; its shape is the contract)."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"     # present in CI; optional elsewhere

# One dict per epoch, as the training runner stores it in model.stats["history"].
HISTORY = [
    {"epoch": 1, "loss": 2.31, "words_per_second": 812345.0, "seconds": 2.6, "lr": 0.0201,
     "units": 2139748, "unit": "word"},
    {"epoch": 2, "loss": 1.87, "words_per_second": 901234.0, "seconds": 2.4, "lr": 0.0134,
     "units": 2139748, "unit": "word"},
    {"epoch": 3, "loss": 1.72, "words_per_second": 877000.0, "seconds": 2.5, "lr": 0.0067,
     "units": 2139748, "unit": "word"},
]
OTHER_HISTORY = [dict(h, loss=h["loss"] + 0.5, words_per_second=h["words_per_second"] / 2)
                 for h in HISTORY]


def run(*args) -> "click.testing.Result":
    from embedtrain.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_line_error(result, *fragments: str, code: int = 1) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("embedtrain: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="session")
def tiny_model(small_corpus):
    import embedtrain

    model = embedtrain.train(small_corpus, dim=10, epochs=2, threads=1, min_count=2,
                             progress=False, seed=3)
    model.stats["history"] = [dict(h) for h in HISTORY]
    return model


@pytest.fixture(scope="session")
def model_files(tiny_model, tmp_path_factory) -> dict[str, Path]:
    """{'model': with HISTORY, 'other': same weights with OTHER_HISTORY, 'old': no history,
    'vec': word2vec text}."""
    from embedtrain.models import Model

    d = tmp_path_factory.mktemp("plots")
    vec, model = tiny_model.save(d / "tiny")
    other = Model.load(model)
    other.stats["history"] = [dict(h) for h in OTHER_HISTORY]
    old = Model.load(model)
    del old.stats["history"]
    return {"model": model, "vec": vec, "other": other.save_model(d / "other.etm"),
            "old": old.save_model(d / "old.etm")}


@pytest.fixture(scope="session")
def report_files(model_files, tmp_path_factory) -> dict[str, Path]:
    """The report page of the tiny model, with --eval ('full'), and of the model without a
    history ('old'), written by the CLI."""
    d = tmp_path_factory.mktemp("report")
    pages = {"full": d / "tiny.html", "old": d / "old.html"}
    for args in ((model_files["model"], "-o", pages["full"], "--eval", "--words", 60),
                 (model_files["old"], "-o", pages["old"], "--words", 60)):
        result = run("report", *args)
        assert result.exit_code == 0, result.output
    return pages
