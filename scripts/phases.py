#!/usr/bin/env python
"""Run ``embedtrain ARGS...`` in this process and record where its time goes, phase by
phase (wall and CPU seconds), for the benchmark scripts (bench_word2vec.py --phases):

    python scripts/phases.py OUT.json train corpus.txt --model cbow ...

Nothing in the library is changed: the driver imports the CLI (timed as the imports),
wraps the functions that begin and end each phase, runs the command, and writes
``{"marks": {...}, "intervals": [[name, wall0, wall1, cpu0, cpu1], ...]}`` to OUT.json
(``time.time()`` and ``time.process_time()`` values). The caller adds the interpreter's
start-up (from launching the process to the driver's first line) and the exit (from the
driver's last line to the process's end); :func:`phase_table` turns both into phases.
"""
from __future__ import annotations

import time

_T0, _C0 = time.time(), time.process_time()   # the driver's first line

import functools  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

# (phase, "module:qualified name") in the order a train run meets them; a phase's time is
# its function's (nested phases are subtracted from the one around them)
WRAPPED = (
    ("settings", "embedtrain.api:plan"),
    ("read, tokenise, count", "embedtrain.corpus.source:TextFiles.encode"),
    ("vocabulary", "embedtrain.vocab:Vocab.build"),
    ("corpus to ids", "embedtrain.corpus.stream:RawCorpus.to_stream"),
    ("training", "embedtrain.training.runner:run"),
    ("kernel cache load", "numba.core.caching:Cache.load_overload"),
    # since 2026-12-07 the two files are written at once, on two threads (models.py)
    ("write .vec and .etm", "embedtrain.models:Model.save"),
)
PHASES = ("start-up (interpreter)", "imports", "settings", "read, tokenise, count", "vocabulary",
          "corpus to ids", "model set-up, other", "kernel cache load", "training",
          "write .vec and .etm", "exit")


def _wrap(intervals: list, phase: str, target: str) -> None:
    import importlib

    module_name, qualname = target.split(":")
    owner = importlib.import_module(module_name)
    *path, name = qualname.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = owner.__dict__[name]
    func = original.__func__ if isinstance(original, (classmethod, staticmethod)) else original

    @functools.wraps(func)
    def timed(*args, **kwargs):
        w0, c0 = time.time(), time.process_time()
        try:
            return func(*args, **kwargs)
        finally:
            intervals.append([phase, w0, time.time(), c0, time.process_time()])

    setattr(owner, name, type(original)(timed) if isinstance(original, (classmethod, staticmethod)) else timed)


def main() -> None:
    out, argv = sys.argv[1], sys.argv[2:]
    intervals: list = []
    marks = {"driver_start": [_T0, _C0]}
    import embedtrain.cli.app as app

    command = next(a for a in argv if not a.startswith("-"))
    app.main.get_command(None, command)   # as the CLI loads a command (train: numpy's one BLAS thread)
    marks["imported"] = [time.time(), time.process_time()]
    for phase, target in WRAPPED:
        _wrap(intervals, phase, target)
    code = 0
    try:
        app.main.main(argv, prog_name="embedtrain", standalone_mode=False)
    except SystemExit as exc:
        code = exc.code or 0
    marks["driver_end"] = [time.time(), time.process_time()]
    with open(out, "w") as f:
        json.dump({"marks": marks, "intervals": intervals}, f)
    # the process ends as the embedtrain command's does (app.run: exit_now, when it has it)
    getattr(app, "exit_now", sys.exit)(code)


def phase_table(record: dict, launched: float, ended: float, cpu_total: float) -> dict[str, tuple[float, float]]:
    """{phase: (wall s, CPU s)} from a driver's record, the wall time the caller launched the
    process and saw it end, and the process's total CPU (user + system, from wait4)."""
    marks = record["marks"]
    start, imported, end = marks["driver_start"], marks["imported"], marks["driver_end"]
    out = {p: [0.0, 0.0] for p in PHASES}
    out["start-up (interpreter)"] = [start[0] - launched, start[1]]
    out["imports"] = [imported[0] - start[0], imported[1] - start[1]]
    # top-level intervals, and nested ones subtracted from the one they lie in
    intervals = sorted(record["intervals"], key=lambda i: i[1])
    covered = [0.0, 0.0]
    for i, (phase, w0, w1, c0, c1) in enumerate(intervals):
        outer = [o for o in intervals if o is not intervals[i] and o[1] <= w0 and w1 <= o[2]]
        out[phase][0] += w1 - w0
        out[phase][1] += c1 - c0
        if outer:
            o = outer[-1]
            out[o[0]][0] -= w1 - w0
            out[o[0]][1] -= c1 - c0
        else:
            covered[0] += w1 - w0
            covered[1] += c1 - c0
    out["model set-up, other"] = [end[0] - imported[0] - covered[0], end[1] - imported[1] - covered[1]]
    out["exit"] = [ended - end[0], max(cpu_total - end[1], 0.0)]   # /usr/bin/time: 10 ms steps
    return {p: (round(w, 3), round(c, 3)) for p, (w, c) in out.items()}


if __name__ == "__main__":
    main()


def run_with_phases(args: list[str], env=None) -> tuple[float, float, dict[str, tuple[float, float]]]:
    """Run ``embedtrain ARGS`` through this driver in a new process under /usr/bin/time (as
    benchlib.timed runs every benchmark's process: a process forked from the benchmark's own,
    large after scoring, would report that size as its peak); returns (wall s, peak RSS MB,
    :func:`phase_table`). Exits with the command's stderr if it fails."""
    import os
    import re
    import tempfile

    from benchlib import timed

    with tempfile.TemporaryDirectory(prefix="phases-") as tmp:
        out = os.path.join(tmp, "phases.json")
        launched = time.time()
        _, rss, stderr = timed([sys.executable, __file__, out, *args], env=env)
        ended = time.time()
        with open(out) as f:
            record = json.load(f)
    cpu = sum(float(re.search(rf"{kind} time \(seconds\): ([\d.]+)", stderr).group(1))
              for kind in ("User", "System"))
    return ended - launched, rss, phase_table(record, launched, ended, cpu)
