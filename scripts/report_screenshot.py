"""Screenshot of a report page in headless Chromium (the picture in docs/pictures.md).

    python scripts/report_screenshot.py run/text8.etm docs/report.png [--eval] [--width 1100]

Writes the report (``embedtrain report``) to a temporary file, opens it in Chromium with the
test suite's DevTools client (tests/plots/browser.py), and saves the whole page as a PNG,
reduced to 256 colours when Pillow is installed so it stays small.
"""
from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "plots"))

from browser import Chromium  # noqa: E402

from embedtrain.report import write_report  # noqa: E402

PALETTE_COLOURS = 256


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("output")
    parser.add_argument("--eval", action="store_true", help="include the benchmark scores")
    parser.add_argument("--width", type=int, default=1100, help="viewport width in CSS pixels")
    parser.add_argument("--height", type=int, default=800, help="viewport height in CSS pixels")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        write_report(args.model, page, evaluate=args.eval)
        with Chromium() as browser:
            result = browser.open(page, args.width, args.height)
    if result.errors:
        sys.exit(f"the page reported errors: {result.errors}")
    png = result.screenshot
    try:
        from PIL import Image
    except ImportError:
        pass
    else:
        image = Image.open(io.BytesIO(png)).convert("RGB").quantize(PALETTE_COLOURS)
        buffer = io.BytesIO()
        image.save(buffer, format="png", optimize=True)
        png = buffer.getvalue()
    Path(args.output).write_bytes(png)
    print(f"wrote {args.output} ({len(png) / 1024:.0f} KB, page {result.page_height} px tall)")


if __name__ == "__main__":
    main()
