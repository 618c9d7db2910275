"""Fixtures of the plot, report and projector tests: one tiny model, trained once, saved with
the made-up training history of helpers.py."""
from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import HISTORY, OTHER_HISTORY, run


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
