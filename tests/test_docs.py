"""The documentation site builds with `mkdocs build --strict` (which also refuses a link to
a missing page or anchor inside docs/), and every link of README.md and docs/*.md that
points into this repository resolves: the file exists and the anchor names a heading."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


def _require_mkdocs():
    try:
        import material  # noqa: F401
        import mkdocs  # noqa: F401
    except ImportError:
        if os.environ.get("EMBEDTRAIN_REQUIRE_DOCS"):
            raise
        pytest.skip('mkdocs is not installed (pip install ".[docs]")')


def test_the_site_builds_strictly(tmp_path):
    _require_mkdocs()
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    assert proc.returncode == 0, proc.stdout + proc.stderr   # (-q would hide the warnings --strict counts)
    pages = {p.stem for p in DOCS.glob("*.md")}
    built = {p.parent.name if p.parent != tmp_path / "site" else "index"
             for p in (tmp_path / "site").rglob("index.html")}
    assert pages <= built | {"index"}, pages - built


def _slugify(text: str) -> str:
    from markdown.extensions.toc import slugify

    return slugify(text, "-")


def headings(page: Path) -> set[str]:
    """The anchors of a page's headings, as Python-Markdown's toc makes them."""
    slugs: set[str] = set()
    in_fence = False
    for line in page.read_text().splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        if in_fence:
            continue
        m = re.match(r"^#{1,6} (.+?)\s*#*$", line)
        if m:
            title = re.sub(r"`([^`]*)`", r"\1", m.group(1))
            title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)
            slug = _slugify(title)
            base, n = slug, 0
            while slug in slugs:   # repeated headings: -1, -2, ... as toc does
                n += 1
                slug = f"{base}_{n}"
            slugs.add(slug)
    return slugs


def links(page: Path) -> list[str]:
    out, in_fence = [], False
    for line in page.read_text().splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        if not in_fence:
            out += [a or b for a, b in LINK.findall(line)]
    return out


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_internal_link_and_anchor_resolves(page):
    pytest.importorskip("markdown", reason="the docs extra is not installed")
    broken = []
    for target in links(page):
        if re.match(r"^[a-z]+://|^mailto:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target} (no file {file.relative_to(ROOT) if ROOT in file.parents else file})")
            continue
        if anchor and file.suffix == ".md" and anchor not in headings(file):
            broken.append(f"{target} (no heading with anchor #{anchor} in {file.name})")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_checker_finds_a_broken_anchor(tmp_path):
    pytest.importorskip("markdown", reason="the docs extra is not installed")
    page = tmp_path / "a.md"
    page.write_text("# Title\n\n## Two words `code`\n\n[ok](#two-words-code) [bad](#nope)\n```\n[x](#in-fence)\n```\n")
    assert headings(page) == {"title", "two-words-code"}
    assert links(page) == ["#two-words-code", "#nope"]


def test_mkdocs_is_the_only_docs_tool_needed():
    assert shutil.which("mkdocs") or not os.environ.get("EMBEDTRAIN_REQUIRE_DOCS")
