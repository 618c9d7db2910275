"""numba compilation options, in one place for every kernel, and where compiled
kernels are cached.

``cache=True`` keeps compiled machine code on disk so only the first run pays the
compile time. fastmath is on without ``nnan``/``ninf`` so that a NaN or an
infinity can still be detected and reported instead of being optimised away.

The cache (:class:`KernelCacheLocator`):

- **Never stale.** numba stamps a cached function with a hash of its own source
  file only, so after an edit to a helper in another file that a kernel inlines
  (``kernels/losses.py`` into ``kernels/sgns.py``) it would serve the old machine
  code. Our stamp hashes every file a kernel can reach: the whole ``kernels``
  package, ``corpus/stream.py`` (``SENTENCE_END``) and the function's own file.
- **Works on read-only installs, and leaves no trace in an installed package.** The
  cache goes under ``NUMBA_CACHE_DIR`` when set, else beside the module
  (``__pycache__``) in a source checkout when that is writable, never inside
  ``site-packages``/``dist-packages`` (``pip uninstall`` removes only the files it
  installed: the caches stayed, and the ``embedtrain/`` directory they kept then
  shadowed the next install as an empty namespace package), else
  ``$XDG_CACHE_HOME/embedtrain`` (``~/.cache/embedtrain``), else a per-user
  directory in the system's temporary directory, only if it is this user's and
  nobody else may write to it (:func:`_private`). If none is usable (no home,
  read-only ``/tmp``), kernels compile without a cache, with one warning.
"""
from __future__ import annotations

import hashlib
import logging
import os
import stat
import tempfile
import threading
import time
from pathlib import Path

from numba.core import caching, config, event
from numba.core.compiler import CompilerBase, DefaultPassBuilder
from numba.core.untyped_passes import DeadBranchPrune, InlineClosureLikes, RewriteSemanticConstants

FASTMATH_FLAGS = {"nsz", "arcp", "contract", "afn", "reassoc"}

PACKAGE_DIR = Path(__file__).resolve().parent.parent
KERNELS_DIR = Path(__file__).resolve().parent
# Files outside kernels/ whose globals kernels freeze into their machine code.
KERNEL_DEPENDENCIES = (PACKAGE_DIR / "corpus" / "stream.py",)
CACHE_SUBDIR = "embedtrain"
# Directories where installers put packages: nothing is cached beside modules inside them.
INSTALL_DIR_NAMES = ("site-packages", "dist-packages")

log = logging.getLogger("embedtrain")


def _sources_digest() -> bytes:
    h = hashlib.sha256()
    for path in sorted(KERNELS_DIR.glob("*.py")) + list(KERNEL_DEPENDENCIES):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.digest()


_KERNEL_SOURCES = _sources_digest()


def _user_cache_root() -> Path | None:
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / CACHE_SUBDIR
    home = os.path.expanduser("~")
    return None if home in ("", "~") else Path(home) / ".cache" / CACHE_SUBDIR


def _temp_cache_root() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"{CACHE_SUBDIR}-numba-{uid}"


_WARNED: set[str] = set()


def _private(directory: Path) -> bool:
    """The shared temporary directory's cache root is used only when it is a real
    directory of ours that nobody else may write to: numba's cache index is a pickle,
    so another local user who could write there could run code as us (issue 21)."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = directory.lstat()
    except OSError:
        return False
    ok = stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o022
    if not ok and str(directory) not in _WARNED:
        _WARNED.add(str(directory))
        log.warning("embedtrain: not caching compiled kernels in %s: it is not a directory of this "
                    "user's that only this user may write to", directory)
    return ok


def _writable(directory: Path) -> bool:
    temp_root = _temp_cache_root()
    if (directory == temp_root or temp_root in directory.parents) and not _private(temp_root):
        return False
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=directory).close()
        return True
    except OSError:
        return False


def cache_directories(py_file: str) -> list[Path]:
    """Where the compiled code of a function in ``py_file`` may go, in order of preference."""
    sub = caching._CacheLocator.get_suitable_cache_subpath(py_file)
    installed = any(part in INSTALL_DIR_NAMES for part in Path(py_file).resolve().parts)
    out = [] if installed else [Path(py_file).parent / "__pycache__"]
    if config.CACHE_DIR:
        out.insert(0, Path(config.CACHE_DIR) / sub)  # the user asked for it: first
    user = _user_cache_root()
    if user is not None:
        out.append(user / "numba" / sub)
    out.append(_temp_cache_root() / sub)
    return out


class KernelCacheLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
    """numba cache locator for embedtrain's own files (see the module docstring)."""

    def __init__(self, py_func, py_file: str, path: Path):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = str(path)

    def get_cache_path(self) -> str:
        return self._cache_path

    def get_source_stamp(self):
        return hashlib.sha256(_KERNEL_SOURCES + super().get_source_stamp()).digest()

    @classmethod
    def from_function(cls, py_func, py_file):
        try:
            inside = Path(py_file).resolve().is_relative_to(PACKAGE_DIR)
        except OSError:
            return None
        if not inside:
            return None  # someone else's function: numba's own locators
        for path in cache_directories(py_file):
            if _writable(path):
                return cls(py_func, py_file, path)
        return None


def _install_locator() -> bool:
    """Put our locator first; returns False when no cache directory is writable."""
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl")  # renamed in numba 0.60
    classes = impl._locator_classes
    if KernelCacheLocator not in classes:
        classes.insert(0, KernelCacheLocator)
    return any(_writable(p) for p in cache_directories(__file__))


CACHE = _install_locator()
if not CACHE:
    log.warning("embedtrain: no writable directory for compiled kernels (tried %s); compiling "
                "without a cache, so every run pays the compile time",
                ", ".join(str(p) for p in cache_directories(__file__)))

class PruneFirstCompiler(CompilerBase):
    """numba's nopython pipeline with its dead-branch pruning (and the constant rewrites it
    reads) moved before the pass that inlines closures and array calls, which none of our
    kernels has: that pass then walks only the branches a kernel keeps. The skip-gram
    family's kernel holds five context loops and keeps one (kernels/sgns.py), and the pass
    spent 0.2 s of a first run on the other four (docs/benchmarks.md, "Issue 28, round 3").
    The passes and what each does are numba's; only their order differs, so the typed
    code is the same. With a numba whose pipeline lacks one of them, numba's order."""

    def define_pipelines(self):
        pm = DefaultPassBuilder.define_nopython_pipeline(self.state)
        early = (RewriteSemanticConstants, DeadBranchPrune)
        order = [p for p, _ in pm.passes]
        if all(p in order for p in early + (InlineClosureLikes,)):
            moved = [entry for entry in pm.passes if entry[0] in early]
            kept = [entry for entry in pm.passes if entry[0] not in early]
            at = [p for p, _ in kept].index(InlineClosureLikes)
            pm.passes = kept[:at] + moved + kept[at:]
            pm.finalize()
        return [pm]


# no_cfunc_wrapper: numba compiles, besides each function and its Python entry point, a C
# wrapper that only a first-class function value (a dispatcher passed into jitted code as
# an argument) would call; nothing here does, and leaving it out saves part of a first
# run's compile (docs/benchmarks.md, "Issue 28, round 2"). Calls between kernels go to
# the native functions, which are unchanged.
# pipeline_class: PruneFirstCompiler, above.
COMPILE_OPTIONS = dict(cache=CACHE, nogil=True, error_model="numpy", no_cfunc_wrapper=True,
                       pipeline_class=PruneFirstCompiler)

KERNEL_OPTIONS = dict(COMPILE_OPTIONS, fastmath=FASTMATH_FLAGS)

# The synchronisation's row kernels (kernels/sync.py, replicas.py): exact float semantics
# (no fastmath), so they give what numpy's operations in the same order give; and the
# integer kernel that reads text (kernels/tokens.py).
ROW_OPTIONS = dict(COMPILE_OPTIONS)

# Small helpers are inlined into the kernels that call them.
HELPER_OPTIONS = dict(KERNEL_OPTIONS, inline="always")


def runtime_cache_directory() -> Path | None:
    """Where kernels/warmstart.py keeps numba's compiled runtime functions: the first
    usable directory for this package's kernels."""
    for directory in cache_directories(__file__):
        if _writable(directory):
            return directory
    return None


class CompileNotice(event.Listener):
    """Adds up the seconds numba spends compiling embedtrain's functions (``seconds``: their
    outermost compilations, on any thread; numba compiles one function at a time, so that
    is wall time), which the training runner leaves out of the epochs' times and reports.
    While a training run is under way (:meth:`run_begins`) it also says, once a process at
    INFO, that the kernels are being compiled: a first run on a machine spends seconds there
    before training moves, and a user should know why and that it happens once
    (docs/benchmarks.md, "First-run compile"). Outside a run it says nothing, so a command
    that stops with a one-line error stays one line."""

    def __init__(self):
        self._local = threading.local()
        self._lock = threading.Lock()
        self._runs = 0
        self.told = False
        self.seconds = 0.0

    def run_begins(self) -> None:
        """A training run is under way (the runner; :meth:`run_ends` when it stops)."""
        with self._lock:
            self._runs += 1

    def run_ends(self) -> None:
        with self._lock:
            self._runs -= 1

    @staticmethod
    def _ours(ev) -> bool:
        dispatcher = ev.data.get("dispatcher")
        func = getattr(dispatcher, "py_func", None)
        return getattr(func, "__module__", "").startswith("embedtrain")

    def on_start(self, ev):
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            if not self._ours(ev):
                return
            self._local.started = time.perf_counter()
            with self._lock:
                first = self._runs > 0 and not self.told
                self.told = self.told or first
            if first:
                where = runtime_cache_directory() if CACHE else None
                log.info("compiling embedtrain's kernels for this CPU: a few seconds, once (%s)",
                         f"cached in {where}" if where else "no cache directory: every run compiles")
        self._local.depth = depth + 1

    def on_end(self, ev):
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            return   # not ours (see on_start)
        self._local.depth = depth - 1
        if depth == 1:
            with self._lock:
                self.seconds += time.perf_counter() - self._local.started


COMPILE_NOTICE = CompileNotice()
event.register("numba:compile", COMPILE_NOTICE)

if CACHE:
    # a lighter start for processes that load cached kernels (kernels/warmstart.py)
    from .warmstart import install as _install_warm_start

    _install_warm_start(KernelCacheLocator, runtime_cache_directory)
