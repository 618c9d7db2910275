"""What numba does before it loads the first cached kernel of a process, made lighter
(issue 28: the peak memory of a run with the kernels already compiled).

Before loading any cached function numba "refreshes" its CPU target
(``numba.core.caching.Cache.load_overload``): it imports and registers every
implementation it has (typed dicts and lists, np.linalg, np.random, polynomials, ...),
and it initialises its runtime, which compiles the runtime's few atomic functions with
LLVM, paging in LLVM's optimiser and code generator. Measured in a skip-gram run's
process: 9 MB for the registries and 28 MB for that compile, of the 40 MB the first cached
load cost; with both changes below it costs 11 MB (docs/benchmarks.md, "Peak memory").

Two changes, each falling back to numba's own way on any error:

- loading one of *embedtrain's* cached kernels only initialises the runtime (what the
  kernel's machine code calls); the registries are installed when something is compiled
  (numba's compiler refreshes the target itself), and other functions' caches load as
  numba loads them;
- the runtime's atomic functions are compiled once and their object code is kept beside
  the kernels' (the same directory, keyed by numba's and llvmlite's versions and the
  CPU's name and features, as numba keys a cached kernel), then loaded as numba loads a
  cached kernel. The machine code is the same.
"""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from pathlib import Path

import llvmlite
import numba
from numba.core import caching
from numba.core.runtime import nrt, nrtdynmod

log = logging.getLogger("embedtrain")

_numba_load_overload = caching.Cache.load_overload
_numba_compile_nrt = nrtdynmod.compile_nrt_functions
# set by install(): embedtrain's cache locator class, and where the runtime's object code goes
_OURS: tuple[type, ...] = ()
_RUNTIME_DIRECTORY = None


def _is_ours(cache) -> bool:
    return isinstance(getattr(getattr(cache, "_impl", None), "locator", None), _OURS)


def load_overload(self, sig, target_context):
    """numba's Cache.load_overload, without the full target refresh for our kernels."""
    if not _is_ours(self):
        return _numba_load_overload(self, sig, target_context)
    try:
        nrt.rtsys.initialize(target_context)
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)
    except Exception:  # anything unexpected: numba's own way
        return _numba_load_overload(self, sig, target_context)


def _runtime_cache_file(codegen) -> Path | None:
    directory = _RUNTIME_DIRECTORY() if _RUNTIME_DIRECTORY is not None else None
    if directory is None:
        return None
    key = repr((numba.__version__, llvmlite.__version__, sys.version, codegen.magic_tuple()))
    return Path(directory) / f"numba-runtime-{hashlib.sha256(key.encode()).hexdigest()[:20]}.nbo"


def compile_nrt_functions(ctx):
    """numba's nrtdynmod.compile_nrt_functions, its object code kept on disk."""
    try:
        codegen = ctx.codegen()
        path = _runtime_cache_file(codegen)
        if path is None:
            return _numba_compile_nrt(ctx)
        try:
            with open(path, "rb") as f:
                return codegen.unserialize_library(pickle.load(f))
        except FileNotFoundError:
            pass
        except Exception:  # damaged, or another numba's: compile and write it again
            log.debug("embedtrain: recompiling numba's runtime functions (%s unreadable)", path)
        ir_module, library = nrtdynmod.create_nrt_module(ctx)
        library.enable_object_caching()
        library.add_ir_module(ir_module)
        library.finalize()
    except Exception:  # a numba whose internals differ: its own way
        return _numba_compile_nrt(ctx)
    try:
        data = pickle.dumps(library.serialize_using_object_code())
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except Exception:
        pass  # not kept: the next process compiles them again
    return library


def install(locator_class: type, runtime_directory) -> None:
    """Put both in place: ``locator_class`` marks our kernels' caches, and
    ``runtime_directory()`` gives the directory for the runtime's object code (None: do
    not keep it)."""
    global _OURS, _RUNTIME_DIRECTORY
    _OURS, _RUNTIME_DIRECTORY = (locator_class,), runtime_directory
    caching.Cache.load_overload = load_overload
    nrtdynmod.compile_nrt_functions = compile_nrt_functions
