"""The report page in a real browser: headless Chromium loads it offline at a laptop's and a
phone's width; no console or security errors, every image decodes, the page fits the phone's
width, and the screenshot shows content.

Chromium comes from Debian's ``chromium`` package (.ci/run installs it when missing). Without
it the test is skipped, unless EMBEDTRAIN_REQUIRE_BROWSER is set (as .ci/run does), where a
missing browser is a failure.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

from .browser import Chromium, find_chromium
from .images import png_pixels, png_size

from embedtrain.plot import MAP_SIZE_INCHES, PLOT_DPI

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844, "mobile": True, "scale": 2.0}
WHITE = 0.98  # a pixel brighter than this in every channel counts as background


@pytest.fixture(scope="module")
def browser():
    if find_chromium() is None:
        if os.environ.get("EMBEDTRAIN_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run does)")
    with Chromium() as chromium:
        yield chromium


def content_share(png: bytes) -> float:
    """Share of the screenshot's pixels that are not background."""
    pixels = png_pixels(png)[..., :3]
    return float(np.mean((pixels < WHITE).any(axis=2)))


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_report_renders_cleanly(browser, report_files, viewport):
    result = browser.open(report_files["full"], **viewport)
    assert result.errors == []
    assert len(result.images) == 2
    for src, complete, width, height in result.images:
        assert src.startswith("data:image/png;base64,") and complete and width > 0 and height > 0
    map_width, map_height = result.images[-1][2:]
    assert (map_width, map_height) == (MAP_SIZE_INCHES[0] * PLOT_DPI, MAP_SIZE_INCHES[1] * PLOT_DPI)
    # Nothing wider than the screen (wide tables scroll inside their own box).
    assert result.viewport_width == viewport["width"]
    assert result.scroll_width <= result.client_width <= result.viewport_width
    width, height = png_size(result.screenshot)
    assert width == result.client_width * viewport.get("scale", 1.0)
    assert height >= viewport["height"] * viewport.get("scale", 1.0)
    assert content_share(result.screenshot) > 0.05  # not a blank page


def test_the_checks_catch_a_broken_page(browser, tmp_path):
    """The same checks on a page with a broken image, a remote image and a script fail."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
                    'content="default-src \'none\'; img-src data:"></head><body>'
                    '<img src="data:image/png;base64,AAAA"><img src="https://example.com/x.png">'
                    '<script>console.error("boom")</script></body></html>')
    result = browser.open(page, **LAPTOP)
    assert any("example.com" in e for e in result.errors)
    assert any("script" in e for e in result.errors)
    assert [w for _, _, w, _ in result.images] == [0, 0]
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    assert content_share(browser.open(blank, **LAPTOP).screenshot) == 0.0
