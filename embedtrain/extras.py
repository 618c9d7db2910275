"""The optional extras (``pyproject.toml``'s ``[project.optional-dependencies]``) and the
one command that installs one, as every "needs X" error says it.

embedtrain is installed from its source directory, so ``pip install "embedtrain[plot]"``
would ask PyPI for a package that is not ours. The hint names the directory this
package was installed from: the checkout it runs in (an editable install, or
``PYTHONPATH``), else the ``file://`` source pip recorded (``direct_url.json``, PEP 610),
else the distribution's name.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlparse

EXTRAS = ("ray", "plot", "graph", "zstd", "test", "docs", "peers", "extrinsic")
PACKAGE_DIR = Path(__file__).resolve().parent


def _recorded() -> dict:
    """What pip recorded of where it installed embedtrain from (PEP 610), or {}."""
    try:
        from importlib.metadata import PackageNotFoundError, distribution

        text = distribution("embedtrain").read_text("direct_url.json")
        return json.loads(text or "null") or {}
    except (PackageNotFoundError, OSError, ValueError):
        return {}


def source_dir() -> tuple[Path | None, bool]:
    """(the source directory this package came from, whether pip installed it editable)."""
    url = _recorded()
    parsed = urlparse(url.get("url", ""))
    recorded = Path(unquote(parsed.path)) if parsed.scheme == "file" and "dir_info" in url else None
    editable = bool(url.get("dir_info", {}).get("editable")) if recorded else False
    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file():  # running in the checkout itself
        return checkout, editable and recorded is not None and recorded.resolve() == checkout
    return recorded, editable


def install_hint(extra: str) -> str:
    """The pip command that adds ``extra`` to this installation."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}")
    where, editable = source_dir()
    if where is None:
        return f'pip install "embedtrain[{extra}]"'
    return f'pip install {"-e " if editable else ""}"{where}[{extra}]"'
