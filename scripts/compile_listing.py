#!/usr/bin/env python
"""What a first run compiles: every numba compilation of one `embedtrain.train` call on
data/text8-sample.gz (one thread, one epoch), with its seconds (CPU seconds of the compiling
thread, nested compilations included, so they hold on a busy machine too), from numba's
"numba:compile" events. Give an empty cache to see a first run:

    NUMBA_CACHE_DIR=$(mktemp -d) python scripts/compile_listing.py skipgram [--all]

Without --all only embedtrain's own functions are listed (numba's overloads compiled
inside them are part of their time).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    model = sys.argv[1] if len(sys.argv) > 1 else "skipgram"
    import embedtrain.kernels  # noqa: F401  (numba, as a run loads it)
    from numba.core import event

    found: list[tuple[float, str, str]] = []

    class Listener(event.Listener):
        def __init__(self):
            self.started: dict[int, float] = {}

        def on_start(self, ev):
            self.started[id(ev.data["dispatcher"])] = time.thread_time()

        def on_end(self, ev):
            d = ev.data["dispatcher"]
            name = f"{d.py_func.__module__}.{d.py_func.__qualname__}"
            found.append((time.thread_time() - self.started.pop(id(d), time.thread_time()), name,
                          str(ev.data.get("args"))[:70]))

    event.register("numba:compile", Listener())
    import embedtrain

    extra = {"bucket": 20000} if model == "fasttext" else {}
    started, cpu = time.perf_counter(), time.process_time()
    embedtrain.train(str(ROOT / "data" / "text8-sample.gz"), model=model, threads=1, epochs=1,
                     progress=False, **extra)
    print(f"{model}: the run took {time.perf_counter() - started:.2f} s ({time.process_time() - cpu:.2f} s CPU)")
    for seconds, name, args in sorted(found, reverse=True):
        if "--all" in sys.argv or name.startswith("embedtrain"):
            print(f"{seconds:7.2f} s  {name}  {args}")


if __name__ == "__main__":
    main()
