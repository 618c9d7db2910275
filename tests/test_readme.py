"""The README is the front door: short, starting with the two set-up commands that CI runs;
the settings table in the docs is generated from config.py (defaults live in one place)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README_LIMIT = 15 * 1024


def test_settings_table_is_current():
    generated = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_options.py")],
                               capture_output=True, text=True, check=True).stdout.strip()
    assert generated in (ROOT / "docs" / "training.md").read_text(), \
        "docs/training.md settings table is stale: run python scripts/readme_options.py --write"


def test_readme_starts_with_the_two_setup_commands():
    text = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    install_and_test = 'pip install ".[test,docs]" && python -m pytest -q'
    assert install_and_test in text and install_and_test in ci
    first = text.index("pip install . && embedtrain train data/")
    assert first < text.index(install_and_test) < text.index("## Install")


def test_readme_is_short():
    size = len((ROOT / "README.md").read_bytes())
    assert size <= README_LIMIT, f"README.md is {size:,} bytes; keep it under {README_LIMIT:,} (move detail to docs/)"


def _tracked() -> set[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        import pytest

        pytest.skip("not a git checkout")
    return set(out.stdout.split())


def test_the_readme_uses_files_a_clone_has():
    """Every data/ or graphs/ path the README's examples name is in the repository (the
    graph example trained on a file only ../shared had; issue 21)."""
    import re

    named = set(re.findall(r"\b((?:data|graphs)/[\w.\-/]+)", (ROOT / "README.md").read_text()))
    tracked = _tracked()
    files = {n for n in named if not n.endswith("/")}
    assert files and "graphs/karate.edgelist" in files
    assert sorted(n for n in files if n not in tracked) == []


def test_training_on_data_reads_the_sample_corpora_alone():
    """`embedtrain train data/` reads every file under data/: text corpora only there (the
    graph fixtures used to sit in data/graphs and were trained on as text)."""
    from embedtrain.corpus.text import expand_sources

    sources = [Path(p).relative_to(ROOT).as_posix() for p in expand_sources([ROOT / "data"])]
    assert sources and all(p.startswith("data/text8-") and p.endswith(".gz") for p in sources), sources
