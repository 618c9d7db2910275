"""Interaction files (``user item [rating] [timestamp]``) read into per-user item sequences.

What a recommender user holds, read without being told the flavour:

- MovieLens ``u.data`` (tab-separated ``user item rating timestamp``, no header),
  ``ratings.csv`` (``userId,movieId,rating,timestamp`` with a header, sometimes CRLF),
  ``ratings.dat`` (``::``-separated), and event logs (``user item time`` with a header
  naming the columns, or whitespace-separated); gzip, bzip2, xz and zstd files are read directly.
- The separator is the first line's: a tab, ``::``, a comma (CSV quoting honoured), else runs of
  spaces. A first line whose rating or time field is not a number (or that names known
  columns: ``user``, ``item``, ``rating``, ``timestamp``, ...) is a header.
- Columns: ``user_col``/``item_col``/``rating_col``/``time_col`` are 1-based numbers or header
  names. Unless given: the header's names decide (``user``/``userId``/``visitorid``...,
  ``item``/``movieId``/``product_id``..., ``rating``/``score``..., ``timestamp``/``time``/``date``...);
  without a header, columns 1 and 2 are user and item, a third is the rating and a fourth the
  time (u.data's order). An event log without ratings: give ``time_col=3``.
- Times are numbers (e.g. Unix seconds) or ISO 8601 date-times (``2019-10-01 00:00:00 UTC``).
- Each user's items are ordered by time, stably (equal times keep the file's order); without a
  time column the file's order is the order. ``session_gap`` (seconds) cuts a user's history
  where consecutive items are further apart; sessions shorter than ``min_items`` are dropped.
- Bad rows (too few fields, a rating or time that is not a number) are skipped and counted in one
  warning; when no usable row remains the error names the first bad line.
"""
from __future__ import annotations

import csv
import io
import logging
import math
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator

import numpy as np

from ..config import DEFAULT_MIN_ITEMS
from ..errors import EmbedtrainError

log = logging.getLogger("embedtrain")

# Header names recognised for each column (lowercased, with '_', '-' and ' ' removed).
COLUMN_NAMES = {
    "user": ("user", "userid", "users", "uid", "visitorid", "customer", "customerid", "session",
             "sessionid", "reviewerid", "buyer", "client", "clientid"),
    "item": ("item", "itemid", "items", "iid", "movie", "movieid", "product", "productid", "asin",
             "track", "trackid", "song", "songid", "book", "bookid", "isbn", "article", "articleid",
             "sku"),
    "rating": ("rating", "ratings", "score", "stars", "value", "bookrating", "overall"),
    "time": ("timestamp", "time", "ts", "date", "datetime", "eventtime", "unixtime", "unixreviewtime",
             "createdat"),
}
# A duration for session_gap: a number with an optional unit (seconds if none).
DURATION_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass
class Interactions:
    """Rows of an interaction file: codes into ``users``/``items``, with ratings and
    times (float64, or None when the file has no such column) and the file's line numbers."""

    users: list[str]
    items: list[str]
    user_ids: np.ndarray          # int64 [n]
    item_ids: np.ndarray          # int64 [n]
    ratings: np.ndarray | None    # float64 [n]
    times: np.ndarray | None      # float64 [n]
    lines: np.ndarray             # int64 [n], 1-based
    bad_rows: int = 0
    first_bad: str | None = None
    columns: dict[str, int] = field(default_factory=dict)  # 0-based column of each role


def parse_duration(text: str | float | int) -> float:
    """Seconds in ``30m``, ``2h``, ``1.5d``, ``90s``, ``1w`` or a plain number of seconds."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*", str(text))
        if not m or m.group(2).lower() not in ("", *DURATION_UNITS):
            raise EmbedtrainError(f"session gap {text!r} is not a duration (e.g. 30m, 2h, 1d, 90s)")
        value = float(m.group(1)) * DURATION_UNITS.get(m.group(2).lower(), 1)
    if not math.isfinite(value) or value <= 0:
        raise EmbedtrainError(f"session gap {text!r} must be a positive duration")
    return value


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name.strip().strip('"').lower())


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_time(text: str) -> float | None:
    """Seconds since the epoch of a number or an ISO 8601 date-time (UTC unless it says)."""
    value = _number(text)
    if value is not None:
        return value
    s = text.strip()
    if s.endswith(" UTC"):
        s = s[:-4]
    try:
        t = datetime.fromisoformat(s)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.timestamp()


def _splitter(first: str):
    """How to split a line, from the first line: tab, '::', comma (CSV) or whitespace."""
    if "\t" in first:
        return "tab", lambda s: s.split("\t")
    if "::" in first:
        return "::", lambda s: s.split("::")
    if "," in first:
        return "comma", None
    return "space", str.split


def _rows(path: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank line; CRLF and LF alike."""
    from ..corpus.text import STDIN, open_source

    if path != STDIN and not os.path.isfile(path):
        raise EmbedtrainError(f"interaction file {path} does not exist" if not os.path.exists(path)
                              else f"interaction file {path} is not a file")
    stream = io.TextIOWrapper(open_source(path), encoding="utf-8", errors="replace", newline="")
    try:
        lines = (s.rstrip("\r\n") for s in stream)
        numbered = ((i, s) for i, s in enumerate(lines, 1) if s.strip())
        first = next(numbered, None)
        if first is None:
            return
        kind, split = _splitter(first[1])

        if kind == "comma":
            # one csv reader over the lines (quoted commas); the line number rides alongside
            current = [first[0]]

            def source():
                yield first[1]
                for n, line in numbered:
                    current[0] = n
                    yield line

            for row in csv.reader(source()):
                yield current[0], row
        elif kind == "space":
            yield first[0], first[1].split()
            for n, line in numbered:
                yield n, line.split()
        else:
            yield first[0], split(first[1])
            for n, line in numbered:
                yield n, split(line)
    finally:
        stream.close()


def _resolve(spec: str | int | None, header: list[str] | None, role: str, width: int) -> int | None:
    """The 0-based column of ``spec`` (1-based number or header name), or None."""
    if spec is None or spec == "":
        return None
    text = str(spec).strip()
    if text.isdigit():
        index = int(text) - 1
        if index < 0 or index >= width:
            raise EmbedtrainError(f"--{role}-col {text}: the file has {width} column(s)")
        return index
    if header is None:
        raise EmbedtrainError(f"--{role}-col {text!r}: the file has no header; give a column number")
    keys = [_key(h) for h in header]
    if _key(text) not in keys:
        raise EmbedtrainError(f"--{role}-col {text!r}: no such column in the header "
                              f"({', '.join(header)})")
    return keys.index(_key(text))


def _looks_like_header(row: list[str]) -> bool:
    known = {n for names in COLUMN_NAMES.values() for n in names}
    if any(_key(f) in known for f in row):
        return True
    # a header has no number where a headless file's rating or time would be
    return len(row) >= 3 and all(_number(f) is None and parse_time(f) is None for f in row[2:])


def read_interactions(path: str | os.PathLike, *, user_col: str | int | None = None,
                      item_col: str | int | None = None, rating_col: str | int | None = None,
                      time_col: str | int | None = None) -> Interactions:
    """Read an interaction file (see the module docstring for the flavours and the checks)."""
    name = os.fspath(path)
    rows = _rows(name)
    first = next(rows, None)
    if first is None:
        raise EmbedtrainError(f"interaction file {name} is empty")
    header = first[1] if _looks_like_header(first[1]) else None
    width = len(first[1])
    given = {"user": user_col, "item": item_col, "rating": rating_col, "time": time_col}
    columns: dict[str, int | None] = {r: _resolve(s, header, r, width) for r, s in given.items()}
    if header is not None:
        keys = [_key(h) for h in header]
        for role, names in COLUMN_NAMES.items():
            if columns[role] is None and given[role] is None:
                found = next((i for i, k in enumerate(keys) if k in names), None)
                columns[role] = found if found not in columns.values() else None
    # positions for what neither the options nor the header named: user item rating time
    if columns["user"] is None and given["user"] is None:
        columns["user"] = 0 if 0 not in columns.values() else None
    if columns["item"] is None and given["item"] is None:
        columns["item"] = 1 if 1 not in columns.values() else None
    if header is None:
        free = [i for i in range(2, width) if i not in columns.values()]
        if columns["rating"] is None and rating_col is None and time_col is None and free:
            columns["rating"] = free.pop(0)
        if columns["time"] is None and time_col is None and free:
            columns["time"] = free.pop(0)
    for role in ("user", "item"):
        if columns[role] is None:
            raise EmbedtrainError(f"{name}: cannot tell which column holds the {role}s; "
                                  f"give --{role}-col")
    uc, ic, rc, tc = columns["user"], columns["item"], columns["rating"], columns["time"]
    need = max(c for c in columns.values() if c is not None) + 1
    body = rows if header is not None else _chain(first, rows)
    # Columns gathered as strings first, then converted at once (a bad value: row by row).
    users: list[str] = []
    items: list[str] = []
    ratings: list[str] = []
    times: list[str] = []
    numbers: list[int] = []
    bad = 0
    first_bad, first_bad_line = None, 0
    for n, f in body:
        if len(f) < need:
            bad += 1
            if first_bad is None:
                first_bad_line = n
                first_bad = f"line {n}: expected at least {need} fields, got {len(f)}: {' | '.join(f)[:80]!r}"
            continue
        users.append(f[uc].strip())
        items.append(f[ic].strip())
        if rc is not None:
            ratings.append(f[rc])
        if tc is not None:
            times.append(f[tc])
        numbers.append(n)
    lines = np.array(numbers, dtype=np.int64)
    ok = np.array([bool(u) and bool(i) for u, i in zip(users, items)], dtype=bool)
    reasons: dict[int, str] = {int(j): "empty user or item" for j in np.flatnonzero(~ok)}
    r_arr = _column(ratings, _number, "rating {!r} is not a number", ok, reasons) if rc is not None else None
    t_arr = _column(times, parse_time, "time {!r} is neither a number nor an ISO date-time", ok,
                    reasons) if tc is not None else None
    if reasons:
        j = min(reasons)
        if first_bad is None or lines[j] < first_bad_line:
            first_bad = f"line {lines[j]}: {reasons[j]}"
        bad += len(reasons)
    keep = np.flatnonzero(ok)
    kept = keep.tolist()
    user_index: dict[str, int] = {}
    item_index: dict[str, int] = {}
    u_out = [user_index.setdefault(users[j], len(user_index)) for j in kept]
    # an item name never holds whitespace in a sequence file
    i_out = [item_index.setdefault(x if not _SPACE.search(x) else "_".join(x.split()), len(item_index))
             for x in (items[j] for j in kept)]
    if not u_out:
        raise EmbedtrainError(f"{name}: no usable rows" + (f" ({first_bad})" if first_bad else ""))
    if bad:
        log.warning("%s: skipped %s bad row%s (first: %s)", name, f"{bad:,}", "" if bad == 1 else "s",
                    first_bad)
    return Interactions(list(user_index), list(item_index), np.array(u_out, dtype=np.int64),
                        np.array(i_out, dtype=np.int64),
                        r_arr[keep] if r_arr is not None else None,
                        t_arr[keep] if t_arr is not None else None,
                        lines[keep], bad, first_bad,
                        {k: v for k, v in columns.items() if v is not None})


_SPACE = re.compile(r"\s")


def _column(values: list[str], parse, problem: str, ok: np.ndarray, reasons: dict[int, str]) -> np.ndarray:
    """float64 of ``values``; one that ``parse`` cannot read marks its row bad in ``ok``."""
    try:
        out = np.array(values, dtype=np.float64)
        if np.isfinite(out).all():
            return out
    except ValueError:
        pass
    out = np.zeros(len(values))
    for j, text in enumerate(values):
        value = parse(text.strip())
        if value is None:
            if ok[j]:
                ok[j] = False
                reasons[j] = problem.format(text)
        else:
            out[j] = value
    return out


def _chain(first, rest):
    yield first
    yield from rest


def build_sessions(data: Interactions, *, min_rating: float | None = None,
                   session_gap: float | str | None = None,
                   min_items: int = DEFAULT_MIN_ITEMS) -> list[list[str]]:
    """Per-user item sequences in time order (stable for equal times), cut at gaps longer
    than ``session_gap`` seconds (or a duration such as ``"30m"``), ratings below
    ``min_rating`` dropped, sequences shorter than ``min_items`` dropped. Users appear
    in the order of their first row."""
    if min_items < 1:
        raise EmbedtrainError(f"min_items must be at least 1 (got {min_items})")
    keep = np.ones(len(data.user_ids), dtype=bool)
    if min_rating is not None:
        if data.ratings is None:
            raise EmbedtrainError("--min-rating needs a rating column (give --rating-col)")
        keep &= data.ratings >= min_rating
    gap = parse_duration(session_gap) if session_gap is not None else None
    if gap is not None and data.times is None:
        raise EmbedtrainError("--session-gap needs a time column (give --time-col)")
    rows = np.flatnonzero(keep)
    if not len(rows):
        raise EmbedtrainError(f"no interactions left (every rating is below {min_rating})")
    times = data.times[rows] if data.times is not None else np.zeros(len(rows))
    # one stable sort: by user (order of first row), then time, then file order
    order = np.lexsort((rows, times, data.user_ids[rows]))
    rows, times = rows[order], times[order]
    users = data.user_ids[rows]
    cut = np.flatnonzero(users[1:] != users[:-1]) + 1
    if gap is not None:
        cut = np.union1d(cut, np.flatnonzero(np.diff(times) > gap) + 1)
    names = [data.items[i] for i in data.item_ids[rows].tolist()]
    bounds = np.concatenate([[0], cut, [len(rows)]]).astype(np.int64)
    long_enough = np.flatnonzero(np.diff(bounds) >= min_items).tolist()
    starts, stops = bounds[:-1].tolist(), bounds[1:].tolist()
    return [names[starts[j]:stops[j]] for j in long_enough]


def read_sequences(path: str | os.PathLike, *, user_col: str | int | None = None) -> list[list[str]]:
    """A sequence file: one sequence of items per line, separated by spaces or tabs (the output
    of ``embedtrain sessions``). ``user_col``: a 1-based column holding a user id, dropped
    (e.g. ``1`` for files that start each line with the user)."""
    from ..corpus.text import STDIN, open_source

    name = os.fspath(path)
    if name != STDIN and not os.path.isfile(name):
        raise EmbedtrainError(f"sequence file {name} does not exist" if not os.path.exists(name)
                              else f"sequence file {name} is not a file")
    drop = None
    if user_col is not None:
        if not str(user_col).isdigit() or int(user_col) < 1:
            raise EmbedtrainError(f"--user-col {user_col!r}: give a column number for a sequence file")
        drop = int(user_col) - 1
    out = []
    with io.TextIOWrapper(open_source(name), encoding="utf-8", errors="replace") as stream:
        for line in stream:
            tokens = line.split()
            if drop is not None and len(tokens) > drop:
                del tokens[drop]
            if tokens:
                out.append(tokens)
    if not out:
        raise EmbedtrainError(f"sequence file {name} holds no sequences")
    return out


def write_sequences(sequences: list[list[str]], path: str | os.PathLike) -> None:
    """One sequence a line, items separated by single spaces, written atomically."""
    from ..io.atomic import atomic_output

    with atomic_output(path, "w", encoding="utf-8") as f:
        for seq in sequences:
            f.write(" ".join(seq))
            f.write("\n")


def sessions_from_file(path: str | os.PathLike, *, user_col: str | int | None = None,
                       item_col: str | int | None = None, rating_col: str | int | None = None,
                       time_col: str | int | None = None, min_rating: float | None = None,
                       session_gap: float | str | None = None, min_items: int = DEFAULT_MIN_ITEMS,
                       sequences: bool = False) -> list[list[str]]:
    """The sessions of an interaction file (``sequences=True``: the file is one sequence per
    line already; ``user_col`` then names a user-id column to drop, and the session options
    other than ``min_items`` do not apply)."""
    if sequences:
        for opt, value in (("--item-col", item_col), ("--rating-col", rating_col),
                           ("--time-col", time_col), ("--min-rating", min_rating),
                           ("--session-gap", session_gap)):
            if value is not None:
                raise EmbedtrainError(f"{opt} does not apply to a sequence file (--sequences)")
        if min_items < 1:
            raise EmbedtrainError(f"min_items must be at least 1 (got {min_items})")
        seqs = [s for s in read_sequences(path, user_col=user_col) if len(s) >= min_items]
    else:
        data = read_interactions(path, user_col=user_col, item_col=item_col, rating_col=rating_col,
                                 time_col=time_col)
        seqs = build_sessions(data, min_rating=min_rating, session_gap=session_gap,
                              min_items=min_items)
    if not seqs:
        raise EmbedtrainError(f"{os.fspath(path)}: no sequence of at least {min_items} items")
    return seqs
