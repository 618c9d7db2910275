"""Shared by the plot, report and projector tests: a made-up training history (the runner
writes the real one; its shape is the contract) and CLI helpers."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

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


def run(*args) -> Result:
    from embedtrain.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_line_error(result, *fragments: str, code: int = 1) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("embedtrain: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
