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
