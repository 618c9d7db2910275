"""The numerics pin: seeded one-thread runs of every model give the bytes recorded
in golden_checksums.json (first recorded at the commit before the training wing was
rebuilt, so the rebuild changed no numeric). See scripts/golden_checksums.py."""
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("golden", ROOT / "scripts" / "golden_checksums.py")
golden = importlib.util.module_from_spec(spec)
spec.loader.exec_module(golden)


def test_seeded_one_thread_runs_are_byte_identical_to_the_recorded_ones():
    table = json.loads(golden.GOLDEN_FILE.read_text())
    key = golden.cpu_key()
    if key not in table:
        pytest.skip(f"no checksums recorded for CPU {key}: record them at a trusted commit with "
                    "python scripts/golden_checksums.py --write")
    expected = table[key]
    assert set(expected) == set(golden.RUNS)
    assert golden.checksums() == expected
