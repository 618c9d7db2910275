"""What a first run compiles, and what a run holds in memory at its end (issue 28).

A run compiles one skip-gram-family kernel, specialised on its architecture, losses and
row layout (kernels/sgns.py), with one signature, the reader of its text
(kernels/tokens.py), the few table functions its model needs, none of numba's own implementations (array constructors, string formatting,
max/min/int) and no C wrappers, its branches pruned before numba walks it (kernels/options.py); model files are written without
copying the weights (io/archive.py write_npy gives numpy's bytes).
"""
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from embedtrain.config import OWN_ROWS
from embedtrain.io.archive import WRITE_SLICE_BYTES, write_npy
from embedtrain.kernels import sgns

ROOT = Path(__file__).resolve().parent.parent
DIM = 8   # the runs' vectors: the skip-gram family's kernel is compiled for their length

# Run in a fresh interpreter with an empty numba cache; prints what numba compiled.
LISTING = r"""
import json, sys
import embedtrain.kernels
from numba.core import event
compiled = []

dispatchers = []

class Listener(event.Listener):
    def on_start(self, ev):
        pass

    def on_end(self, ev):
        d = ev.data["dispatcher"]
        compiled.append(f"{d.py_func.__module__}.{d.py_func.__qualname__}")
        dispatchers.append(d)

event.register("numba:compile", Listener())
import logging, time
import embedtrain
from embedtrain.kernels import sgns
from embedtrain.kernels.options import COMPILE_NOTICE
said = []

class Said(logging.Handler):
    def emit(self, record):
        said.append(record.getMessage())

logging.getLogger("embedtrain").addHandler(Said(logging.INFO))
logging.getLogger("embedtrain").setLevel(logging.INFO)
settings = json.loads(sys.argv[2])
started = time.perf_counter()
model = embedtrain.train(sys.argv[1], epochs=1, min_count=1, progress=False, **settings)
wall = time.perf_counter() - started
# our functions compiled with numba's C wrapper (kernels/options.py compiles none)
cfunc = sorted({d.py_func.__qualname__ for d in dispatchers for cres in d.overloads.values()
                if d.py_func.__module__.startswith("embedtrain")
                and cres.fndesc.llvm_cfunc_wrapper_name in cres.library.get_llvm_str()})
# the order of the passes each kernel was compiled with
passes = {repr(k): [name.split("_", 1)[1] for name in cres.metadata["pipeline_times"]["nopython"]]
          for k, d in sgns._KERNELS.items() for cres in d.overloads.values()
          if cres.metadata}   # (none for a kernel loaded from the cache)
print(json.dumps({"compiled": compiled, "cfunc_wrappers": cfunc, "passes": passes,
                  "kernels": {repr(k): len(d.signatures) for k, d in sgns._KERNELS.items()},
                  "said": said, "compile_seconds": COMPILE_NOTICE.seconds, "wall": wall,
                  "epoch_seconds": sum(h["seconds"] for h in model.stats["history"])}))
"""


def first_run(tmp_path, distinct: int = 37, **settings) -> dict:
    """What a run compiles (``distinct`` words, 3,000 tokens or ten for each word), in a
    fresh interpreter with tmp_path's numba cache: empty on the first call."""
    corpus = tmp_path / "corpus.txt"
    words = [f"w{i % distinct}" for i in range(max(3000, 10 * distinct))]
    corpus.write_text("\n".join(" ".join(words[i:i + 50]) for i in range(0, len(words), 50)) + "\n")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"), PYTHONPATH=str(ROOT))
    settings = {"dim": DIM, **settings}
    out = subprocess.run([sys.executable, "-c", LISTING, str(corpus), json.dumps(settings)], env=env,
                         capture_output=True, text=True, check=True, cwd=tmp_path)
    return json.loads(out.stdout.strip().splitlines()[-1])


KERNEL = "embedtrain.kernels.sgns._make_kernel.<locals>._train_chunk"
TOKENS = "embedtrain.kernels.tokens.read_tokens"   # reading the text (its table never grows here)


def test_a_skipgram_run_compiles_one_kernel_for_its_own_loop_and_nothing_else(tmp_path):
    # more words than a thread keeps as its own (config.OWN_ROWS): the second thread trains
    # remapped chunks, which reach the kernel read-only as the stream's own do
    found = first_run(tmp_path, distinct=OWN_ROWS + 500, model="skipgram", threads=2)
    # nothing of numba's own either (max/min/int, slice assignment, array constructors); the
    # own rows' merge between jobs
    assert sorted(found["compiled"]) == sorted([KERNEL, "embedtrain.vocab._fill_alias", TOKENS,
                                                "embedtrain.kernels.replicas.merge_own_rows"])
    assert found["cfunc_wrappers"] == []
    # shared negatives, negative sampling only, one row per word; one signature for both threads
    key = sgns.kernel_key(sgns.SKIPGRAM_SHARED, False, 5, True, DIM)
    assert found["kernels"] == {repr(key): 1}
    # the first compile is said once, and the time it took is not the epoch's
    notices = [m for m in found["said"] if m.startswith("compiling embedtrain's kernels for this CPU")]
    assert len(notices) == 1 and "cached in" in notices[0]
    assert any(m.startswith("compiling the training kernels took") for m in found["said"])
    assert found["compile_seconds"] > 0.5
    assert found["epoch_seconds"] + found["compile_seconds"] <= found["wall"] + 0.05
    # a second run loads it all: nothing compiled, nothing said
    again = first_run(tmp_path, distinct=OWN_ROWS + 500, model="skipgram", threads=2)
    assert again["compiled"] == [] and again["compile_seconds"] == 0
    assert not [m for m in again["said"] if m.startswith("compiling")]
    # no array constructors (the caller makes the kernels' arrays) and no string formatting
    # (a slice copy compiles numba's shape-error message)
    assert not [n for n in found["compiled"] if "unicode" in n or "ol_np_" in n or "np_arange" in n]
    # the other loops are pruned before numba's closure inliner walks the kernel (it has no
    # closures): numba's own passes, in another order (kernels/options.py PruneFirstCompiler)
    order = found["passes"][repr(key)]
    assert order.index("dead_branch_prune") < order.index("inline_closure_likes") < order.index(
        "nopython_type_inference")
    assert order.index("rewrite_semantic_constants") < order.index("dead_branch_prune")


def test_a_fasttext_run_compiles_its_kernel_and_its_four_table_functions_and_nothing_else(tmp_path):
    found = first_run(tmp_path, model="fasttext", threads=1, bucket=2000)
    assert sorted(found["compiled"]) == sorted([
        KERNEL,
        "embedtrain.subwords._subword_rows",      # the n-gram rows (one signature, two calls)
        "embedtrain.kernels.rng.uniform_rows",    # the rows' starting values
        "embedtrain.vocab._fill_alias",           # the noise table
        "embedtrain.kernels.sgns.word_vectors",   # the vectors written at the end
        TOKENS,
    ])
    # fastText's pairing, negative sampling only, row lists
    assert found["kernels"] == {repr(sgns.kernel_key(sgns.SKIPGRAM_CENTRE, False, 5, False, DIM)): 1}
    assert found["cfunc_wrappers"] == []


def test_a_glove_run_compiles_no_string_formatting_and_no_array_constructors(tmp_path):
    found = first_run(tmp_path, model="glove", threads=1, memory=0.01)
    assert any(name.startswith("embedtrain.kernels.glove") for name in found["compiled"])
    assert not [n for n in found["compiled"] if "unicode" in n or "str_generic" in n]
    # the Python functions of kernels/glove.py make the loops' arrays
    assert not [n for n in found["compiled"] if n.startswith("numba.np.arrayobj")]
    assert found["cfunc_wrappers"] == []


def test_kernel_keys_leave_out_the_flags_a_loop_does_not_read():
    def key(arch, use_hs, negative, one_row, shuffle=False, dim=100):
        return sgns.kernel_key(arch, use_hs, negative, one_row, dim, shuffle)

    assert key(sgns.SKIPGRAM_SHARED, True, 4, True) == key(sgns.SKIPGRAM_SHARED, False, 3, True)
    assert key(sgns.SKIPGRAM_SHARED, True, 5, True) == key(sgns.SKIPGRAM_SHARED, False, 5, True)
    assert key(sgns.SKIPGRAM_CENTRE_SHARED, False, 5, False) == (sgns.SKIPGRAM_CENTRE_SHARED, False, True,
                                                                  False, False, False, 100)
    # fastText's pairing always reads the row lists
    assert key(sgns.SKIPGRAM_CENTRE, False, 5, True) == key(sgns.SKIPGRAM_CENTRE, False, 5, False)
    assert key(sgns.SKIPGRAM, True, 0, True) != key(sgns.SKIPGRAM, True, 5, True)
    assert key(sgns.CBOW, False, 5, True) != key(sgns.CBOW, False, 5, False)
    assert sgns.kernel_for(sgns.CBOW, False, 4, True, 8) is sgns.kernel_for(sgns.CBOW, False, 7, True, 8)
    # skip-gram with shared negatives has a loop of its own for word2vec's 5 noise words (with
    # one row per word); other counts, and FastText's rows, take the general loop
    assert key(sgns.SKIPGRAM_SHARED, False, 5, True)[4]
    assert not key(sgns.SKIPGRAM_SHARED, False, 4, True)[4]
    assert not key(sgns.SKIPGRAM_SHARED, False, 5, False)[4]
    assert not key(sgns.SKIPGRAM, False, 5, True)[4]
    # so has CBOW's negative sampling (one row per word, 5 noise words)
    assert key(sgns.CBOW, False, 5, True)[4] and not key(sgns.CBOW, False, 5, False)[4]
    # only item2vec's shuffled baskets compile the shuffle loop, into a kernel of their own
    assert not key(sgns.CBOW, False, 5, True)[5] and key(sgns.CBOW, False, 5, True, shuffle=True)[5]
    assert sgns.kernel_for(sgns.CBOW, False, 5, True, 8) is not sgns.kernel_for(sgns.CBOW, False, 5, True, 8,
                                                                                 True)
    # the rows' length is the kernel's constant: each length its own kernel
    assert key(sgns.CBOW, False, 5, True, dim=100)[6] == 100
    assert sgns.kernel_for(sgns.CBOW, False, 5, True, 8) is not sgns.kernel_for(sgns.CBOW, False, 5, True, 9)
    with pytest.raises(ValueError):
        key(9, False, 5, True)
    with pytest.raises(ValueError):
        key(sgns.CBOW, False, 5, True, dim=0)


@pytest.mark.parametrize("array", [
    np.random.default_rng(0).random((300, 100)).astype(np.float32),
    np.zeros((0, 16), dtype=np.float32),
    np.arange(10, dtype=np.int64),
    np.random.default_rng(1).random((50, 7)).T,           # not C-contiguous
    np.array(3.0),
    np.random.default_rng(2).integers(0, 255, 3 * WRITE_SLICE_BYTES + 3).astype(np.uint8),
    np.arange(4, dtype=">i4"),
])
def test_write_npy_writes_the_bytes_numpy_writes(array):
    ours, numpys = io.BytesIO(), io.BytesIO()
    write_npy(ours, array)
    np.lib.format.write_array(numpys, np.ascontiguousarray(array), allow_pickle=False)
    assert ours.getvalue() == numpys.getvalue()


# Loads one cached kernel; says whether numba compiled its runtime functions and whether
# it installed all its registries (kernels/warmstart.py).
WARM = r"""
import json, sys
import numpy as np
from embedtrain.vocab import _build_alias
from numba.core.runtime import nrtdynmod
made = []
create = nrtdynmod.create_nrt_module
nrtdynmod.create_nrt_module = lambda ctx: (made.append(1), create(ctx))[1]
prob, alias = _build_alias(np.array([0.25, 1.75, 1.0]))
print(json.dumps({"runtime_compiled": len(made), "registries": "numba.typed.typeddict" in sys.modules,
                  "scipy": "scipy" in sys.modules, "prob": prob.tolist(), "alias": alias.tolist()}))
"""


def test_a_warm_process_loads_the_runtime_and_no_registries(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"), PYTHONPATH=str(ROOT))

    def run():
        out = subprocess.run([sys.executable, "-c", WARM], env=env, capture_output=True, text=True,
                             check=True, cwd=tmp_path)
        return json.loads(out.stdout.strip().splitlines()[-1])

    cold, warm = run(), run()
    assert cold["runtime_compiled"] == 1 and cold["registries"]        # compiled: numba's way
    assert warm["runtime_compiled"] == 0 and not warm["registries"]    # loaded
    assert not cold["scipy"] and not warm["scipy"]  # numba's passing import (kernels/__init__.py)
    assert (warm["prob"], warm["alias"]) == (cold["prob"], cold["alias"])
    assert list((tmp_path / "numba-cache").rglob("numba-runtime-*.nbo"))
