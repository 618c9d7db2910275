"""The README's generated settings table matches config.py (defaults live in one place)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_settings_table_is_current():
    generated = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_options.py")],
                               capture_output=True, text=True, check=True).stdout.strip()
    assert generated in (ROOT / "README.md").read_text(), \
        "README settings table is stale: run python scripts/readme_options.py --write"


def test_readme_starts_with_the_two_setup_commands():
    text = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    install_and_test = 'pip install ".[test]" && python -m pytest -q'
    assert install_and_test in text and install_and_test in ci
    assert text.index("pip install . && embedtrain train data/") < text.index(install_and_test)
