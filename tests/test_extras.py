"""The install command every "needs an extra" error prints (embedtrain/extras.py)."""
import tomllib

import pytest

from conftest import ROOT
from embedtrain import extras


def test_the_extras_are_pyprojects():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(extras.EXTRAS) == set(declared)


def test_the_ray_extra_installs_ray_client():
    """--ray ray://HOST:PORT (Ray Client) needs Ray's client extra (grpcio); the test
    extra installs the same Ray, so the Ray Client tests run."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    rays = [[r for r in declared[name] if r.split("[")[0].split(">")[0] == "ray"] for name in ("ray", "test")]
    assert rays[0] == rays[1] == ["ray[client]>=2.9"]


def test_from_a_checkout_the_hint_names_the_checkout():
    hint = extras.install_hint("plot")
    assert hint.endswith(f'"{ROOT}[plot]"') and hint.startswith("pip install ")
    assert "embedtrain[" not in hint


@pytest.mark.parametrize("recorded,expected", [
    ({"url": "file:///src/my%20clone", "dir_info": {}}, 'pip install "/src/my clone[ray]"'),
    ({"url": "file:///src/clone", "dir_info": {"editable": True}}, 'pip install -e "/src/clone[ray]"'),
    ({"url": "https://example.invalid/embedtrain.whl", "archive_info": {}}, 'pip install "embedtrain[ray]"'),
    ({}, 'pip install "embedtrain[ray]"'),
])
def test_an_installed_copy_names_where_pip_got_it(monkeypatch, tmp_path, recorded, expected):
    monkeypatch.setattr(extras, "PACKAGE_DIR", tmp_path / "site-packages" / "embedtrain")
    monkeypatch.setattr(extras, "_recorded", lambda: recorded)
    assert extras.install_hint("ray") == expected


def test_an_unknown_extra_is_a_bug():
    with pytest.raises(ValueError):
        extras.install_hint("plots")


# --------------------------------------------------------------------------- numba's passing imports

def _python(code: str, cwd) -> list[str]:
    """Run ``code`` in a fresh interpreter with this checkout first on the path; its
    printed lines."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                         check=True)
    return out.stdout.split()


LOADED = "import sys; print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'yaml'}) or ['none'])"


def test_numba_loads_without_scipy_and_yaml_and_they_import_afterwards(tmp_path):
    """numba imports SciPy and PyYAML only in passing (kernels/__init__.py): a run loads
    neither, and a user's own imports of them, and numba's np.dot, work afterwards."""
    pytest.importorskip("scipy")
    pytest.importorskip("yaml")
    code = ("import embedtrain\n"
            "m = embedtrain.train([['a', 'b', 'c']] * 50, min_count=1, dim=4, epochs=1, progress=False)\n"
            + LOADED + "\n"
            "import numba, numpy as np\n"
            "f = numba.njit(lambda a, b: np.dot(a, b))\n"
            "print(f(np.arange(3.0), np.arange(3.0)))\n"
            "import yaml, scipy.sparse\n"
            "print(yaml.safe_load('a: 1')['a'], scipy.sparse.eye(2).nnz)\n" + LOADED)
    assert _python(code, tmp_path) == ["['none']", "5.0", "1", "2", "['scipy',", "'yaml']"]


def test_a_numba_config_file_is_still_read_with_yaml(tmp_path):
    pytest.importorskip("yaml")
    (tmp_path / ".numba_config.yaml").write_text("boundscheck: 1\n")
    code = "import embedtrain.kernels, numba\nprint(numba.config.BOUNDSCHECK)\n" + LOADED
    assert _python(code, tmp_path)[0] == "1"
