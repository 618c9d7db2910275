"""numba kernels: pure functions over numpy arrays, updated in place.

No Python objects, dicts or module-level arrays reach a kernel; every table is
an argument. Each kernel has a plain-numpy reference in ``tests/reference.py``.

Importing this package imports numba (:func:`import_numba`) without SciPy and PyYAML.
"""
from __future__ import annotations

import os
import sys

# numba's own modules that import these in passing at import time, and why:
#   numba (numba/__init__.py, _ensure_critical_deps): "import scipy", only to refuse a
#     SciPy older than 1.0 (numba 0.61-0.68); numba's SciPy-backed features (np.linalg,
#     scipy.special) import it again when a kernel uses them, and none of ours does;
#   numba.core.config: "import yaml", only to read a .numba_config.yaml file in the
#     working directory (so PyYAML is left alone when that file exists);
#   numba.np.linalg (ensure_blas, called by numba.np.arraymath as it loads, to set
#     _HAVE_BLAS): "import scipy.linalg.cython_blas", so that np.dot on vectors may use
#     BLAS. No kernel of ours calls np.dot; _HAVE_BLAS is set afterwards to whether SciPy
#     is installed, so that a user's own jitted np.dot types as before (it imports SciPy
#     then, through ensure_blas, as numba always does for matrix products).
# Together they added 15-18 MB to the peak memory of every run (issue 28;
# docs/benchmarks.md, "Peak memory").
PASSING_IMPORTS = {"scipy": ("numba", "numba.np.linalg"), "yaml": ("numba.core.config",)}
NUMBA_CONFIG_FILE = ".numba_config.yaml"


class _SkipPassingImports:
    """A meta-path finder, present only while numba is imported, that answers "not
    installed" to the imports of PASSING_IMPORTS when numba's named module makes them
    (both catch the ImportError). Nothing else is refused: a thread importing SciPy
    meanwhile gets it, and sys.modules is never touched, so SciPy, PyYAML and Ray
    import as usual afterwards."""

    def __init__(self, names: dict[str, tuple[str, ...]]):
        self.names = names

    def find_spec(self, name, path=None, target=None):
        importers = self.names.get(name)
        if importers is None:
            return None
        frame = sys._getframe(1)
        while frame is not None and frame.f_globals.get("__name__", "").startswith(("importlib", __name__)):
            frame = frame.f_back   # the import machinery's own frames
        if frame is not None and frame.f_globals.get("__name__") in importers:
            raise ModuleNotFoundError(f"No module named {name!r} (not needed by embedtrain's numba)",
                                      name=name)
        return None


def import_numba() -> None:
    """Import numba, skipping its passing imports of SciPy and PyYAML (PASSING_IMPORTS)
    when they are not loaded already; nothing to do once numba is loaded."""
    if "numba" in sys.modules:
        return
    names = {k: v for k, v in PASSING_IMPORTS.items() if k not in sys.modules}
    if os.path.isfile(NUMBA_CONFIG_FILE):  # numba reads it with PyYAML
        names.pop("yaml", None)
    finder = _SkipPassingImports(names)
    sys.meta_path.insert(0, finder)
    try:
        import numba  # noqa: F401
        # numba loads this module itself before the first compilation or cache load;
        # loaded here, its BLAS check does not load SciPy
        import numba.np.arraymath as arraymath
    finally:
        sys.meta_path.remove(finder)
    if "scipy" in names:
        import importlib.util

        arraymath._HAVE_BLAS = importlib.util.find_spec("scipy") is not None


import_numba()
