"""Items (issue 27): interaction readers for each flavour, sessions, the leave-one-out metrics and
the most-popular baseline against plain-Python references, the split that never leaks a target,
the refusal of vectors that saw held-out items, and bad input. Small generated files only."""
from __future__ import annotations

import json
import logging
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from embedtrain.errors import EmbedtrainError
from embedtrain.items.evaluate import evaluate_items, popular_ranks, popularity, rank_items
from embedtrain.items.interactions import (build_sessions, parse_duration, read_interactions,
                                           read_sequences, sessions_from_file)
from embedtrain.items.split import split_sequences, write_split
from embedtrain.items.tune import coordinate_search


# ------------------------------------------------------------------ generated data
def _rows(n_users=12, per_user=7, seed=0):
    """(user, item, rating, time) rows in a shuffled file order, with equal times."""
    rng = random.Random(seed)
    rows = []
    for u in range(n_users):
        t = 1_000_000
        for _ in range(per_user):
            t += rng.choice([0, 5, 60, 4000])        # 0: equal times; 4000 s: a session gap
            rows.append((f"u{u}", f"i{rng.randint(0, 30)}", rng.randint(1, 5), t))
    rng.shuffle(rows)
    return rows


def _reference_sessions(rows, min_rating=None, gap=None, min_items=2):
    """Plain Python: per user (order of first row), stable sort by time, cut at gaps."""
    users: dict[str, list] = {}
    for pos, (u, i, r, t) in enumerate(rows):
        events = users.setdefault(u, [])      # users in the order of their first row
        if min_rating is None or r >= min_rating:
            events.append((t, pos, i))
    out = []
    for u, events in users.items():
        events.sort()
        cur, last = [], None
        for t, _, i in events:
            if gap is not None and last is not None and t - last > gap:
                out.append(cur)
                cur = []
            cur.append(i)
            last = t
        out.append(cur)
    return [s for s in out if len(s) >= min_items]


FLAVOURS = {
    "udata": lambda rows: "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in rows),
    "ratings_csv_crlf": lambda rows: "userId,movieId,rating,timestamp\r\n"
    + "".join(f"{u},{i},{r}.0,{t}\r\n" for u, i, r, t in rows),
    "csv_no_header": lambda rows: "".join(f"{u},{i},{r},{t}\n" for u, i, r, t in rows),
    "ratings_dat": lambda rows: "".join(f"{u}::{i}::{r}::{t}\n" for u, i, r, t in rows),
    "whitespace": lambda rows: "".join(f"{u}  {i} {r}   {t}\n" for u, i, r, t in rows),
}


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_each_flavour_gives_the_reference_sequences(tmp_path, flavour):
    rows = _rows()
    path = tmp_path / f"{flavour}.txt"
    path.write_bytes(FLAVOURS[flavour](rows).encode())
    data = read_interactions(path)
    assert data.bad_rows == 0 and data.ratings is not None and data.times is not None
    assert build_sessions(data) == _reference_sessions(rows)
    assert build_sessions(data, session_gap=3600, min_rating=3) == \
        _reference_sessions(rows, min_rating=3, gap=3600)


def test_event_log_with_header_and_iso_times(tmp_path):
    rows = _rows(seed=3)
    from datetime import datetime, timezone

    def iso(t):
        return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")

    path = tmp_path / "events.csv"
    path.write_text("event_time,product_id,user_id\n"
                    + "".join(f"{iso(t)},{i},{u}\n" for u, i, r, t in rows))
    data = read_interactions(path)
    assert data.ratings is None and data.columns == {"user": 2, "item": 1, "time": 0}
    assert build_sessions(data, session_gap="1h") == _reference_sessions(rows, gap=3600)


def test_headless_event_log_needs_time_col(tmp_path):
    rows = _rows(seed=4)
    path = tmp_path / "log.txt"
    path.write_text("".join(f"{u} {i} {t}\n" for u, i, r, t in rows))
    data = read_interactions(path, time_col=3)
    assert data.ratings is None
    assert build_sessions(data) == _reference_sessions(rows)
    # without --time-col the third column is a rating (u.data's order): no time to order by
    assert read_interactions(path).times is None


def test_equal_times_keep_the_file_order(tmp_path):
    path = tmp_path / "ties.tsv"
    path.write_text("a\tz\t5\t7\na\ty\t5\t7\na\tx\t5\t3\na\tw\t5\t7\n")
    assert sessions_from_file(path) == [["x", "z", "y", "w"]]


def test_session_gap_cuts_and_min_items(tmp_path):
    path = tmp_path / "gap.tsv"
    path.write_text("a\t1\t5\t0\na\t2\t5\t60\na\t3\t5\t2000\na\t4\t5\t2100\na\t5\t5\t9000\n")
    assert sessions_from_file(path, session_gap="30m") == [["1", "2"], ["3", "4"]]
    assert sessions_from_file(path, session_gap="30m", min_items=1) == [["1", "2"], ["3", "4"], ["5"]]
    assert sessions_from_file(path) == [["1", "2", "3", "4", "5"]]
    assert parse_duration("2h") == 7200 and parse_duration("1.5d") == 1.5 * 86400
    for bad in ("soon", "-5m", "0"):
        with pytest.raises(EmbedtrainError):
            parse_duration(bad)


def test_bad_rows_are_counted_in_one_warning(tmp_path, caplog):
    path = tmp_path / "some-bad.tsv"
    path.write_text("a\t1\t5\t10\nbroken\na\t2\tfive\t20\na\t3\t4\t30\n")
    with caplog.at_level(logging.WARNING, logger="embedtrain"):
        assert sessions_from_file(path) == [["1", "3"]]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "skipped 2 bad rows" in warnings[0] and "line 2" in warnings[0]


def test_nothing_usable_is_one_error_naming_the_line(tmp_path):
    path = tmp_path / "all-bad.tsv"
    path.write_text("a\t1\tx\t10\na\t2\ty\t20\n")
    with pytest.raises(EmbedtrainError, match=r"no usable rows.*line 1"):
        read_interactions(path)
    empty = tmp_path / "empty.tsv"
    empty.write_text("\n\n")
    with pytest.raises(EmbedtrainError, match="empty"):
        read_interactions(empty)
    with pytest.raises(EmbedtrainError, match="does not exist"):
        read_interactions(tmp_path / "missing.tsv")
    ok = tmp_path / "ok.tsv"
    ok.write_text("a\t1\n")
    with pytest.raises(EmbedtrainError, match="needs a rating column"):
        sessions_from_file(ok, min_rating=3)
    with pytest.raises(EmbedtrainError, match="needs a time column"):
        sessions_from_file(ok, session_gap="1h")
    with pytest.raises(EmbedtrainError, match="no such column"):
        read_interactions(FLAVOUR_FILE(tmp_path), user_col="visitor")


def FLAVOUR_FILE(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text(FLAVOURS["ratings_csv_crlf"](_rows(2, 3)))
    return p


def test_sequence_files_drop_a_user_column(tmp_path):
    path = tmp_path / "seq.txt"
    path.write_text("1 a b c\n2 d e\n3 f\n")
    assert read_sequences(path, user_col=1) == [["a", "b", "c"], ["d", "e"], ["f"]]
    assert sessions_from_file(path, sequences=True, user_col=1) == [["a", "b", "c"], ["d", "e"]]
    with pytest.raises(EmbedtrainError, match="does not apply"):
        sessions_from_file(path, sequences=True, session_gap="1h")


# ------------------------------------------------------------------ metrics
def _reference_ranks(words, matrix, sequences, history):
    """Plain Python: cosine with the mean unit vector of the history; candidates every word
    but those seen earlier; ties to the lower row; 0 for a miss that cannot rank."""
    unit = [[x / math.sqrt(sum(v * v for v in row)) for x in row] for row in matrix.tolist()]
    index = {w: i for i, w in enumerate(words)}
    out = []
    for seq in sequences:
        if len(seq) < 2:
            continue
        target, before = seq[-1], seq[:-1]
        hist = [index[w] for w in before[-history:] if w in index]
        seen = {index[w] for w in before if w in index}
        if target not in index or not hist or index[target] in seen:
            out.append(0)
            continue
        q = [sum(unit[h][d] for h in hist) / len(hist) for d in range(len(unit[0]))]
        score = {i: sum(a * b for a, b in zip(q, unit[i])) for i in range(len(words)) if i not in seen}
        t = index[target]
        out.append(1 + sum(1 for i, s in score.items() if s > score[t] or (s == score[t] and i < t)))
    return out


def _ref_metrics(ranks, k):
    n = len(ranks)
    hits = [r for r in ranks if 1 <= r <= k]
    return len(hits) / n, sum(1 / math.log2(1 + r) for r in hits) / n


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(5)
    words = [f"i{j}" for j in range(40)]
    matrix = rng.normal(size=(40, 6)).astype(np.float32)
    matrix[7] = matrix[3]            # a tie in score
    r = random.Random(2)
    pool = words + ["unknown1", "unknown2"]
    sequences = [[r.choice(pool) for _ in range(r.randint(1, 9))] for _ in range(300)]
    return words, matrix, sequences


@pytest.mark.parametrize("history", [1, 3, 5])
def test_ranks_and_metrics_match_the_plain_python_reference(toy, history):
    from embedtrain.vectors import unit_rows

    words, matrix, sequences = toy
    got = rank_items(unit_rows(matrix).astype(np.float32), words, [s for s in sequences if len(s) >= 2],
                     history=history)
    want = _reference_ranks(words, matrix.astype(np.float64), sequences, history)
    # float32 products may order two near-equal scores differently: allow a few, by one place
    assert len(got) == len(want) and np.mean(np.array(got) == np.array(want)) > 0.97
    assert np.max(np.abs(np.array(got) - np.array(want))) <= 1
    for k in (1, 5, 10):
        result = evaluate_items((words, matrix), sequences, k=k, history=history)
        hr, ndcg = _ref_metrics(want, k)
        assert result[f"hit_rate@{k}"] == pytest.approx(hr, abs=0.02)
        assert result[f"ndcg@{k}"] == pytest.approx(ndcg, abs=0.02)
        assert result["sequences"] == len(want)


def test_exact_metrics_on_a_hand_made_case():
    words = ["a", "b", "c", "d"]
    matrix = np.array([[1, 0], [0.9, 0.1], [0, 1], [-1, 0]], dtype=np.float32)
    # query "a": b ranks 1 ; "a" seen so not a candidate; "c" ranks 2, "d" 3
    result = evaluate_items((words, matrix), [["a", "b"], ["a", "c"], ["a", "d"], ["a", "a"]], k=2,
                            history=5)
    assert result["hit_rate@2"] == pytest.approx(2 / 4)
    assert result["ndcg@2"] == pytest.approx((1 + 1 / math.log2(3)) / 4)


def test_popular_baseline_matches_a_plain_python_reference(toy):
    _, _, sequences = toy
    cases = [s for s in sequences if len(s) >= 2]
    counts = popularity(cases, drop_last=True)
    order = sorted(counts, key=lambda w: -counts[w])    # stable: first occurrence breaks ties
    want = []
    for seq in cases:
        seen = set(seq[:-1])
        ranked = [w for w in order if w not in seen]
        want.append(ranked.index(seq[-1]) + 1 if seq[-1] in ranked else 0)
    assert popular_ranks(counts, cases).tolist() == want
    result = evaluate_items((["x"], np.ones((1, 2), np.float32)), sequences, k=5)
    assert result["popular_hit_rate@5"] == pytest.approx(_ref_metrics(want, 5)[0])
    assert result["popular_ndcg@5"] == pytest.approx(_ref_metrics(want, 5)[1])


# ------------------------------------------------------------------ split
def test_the_split_never_leaks_a_target(toy):
    _, _, sequences = toy
    parts = split_sequences(sequences, validation=True)
    tested = [s for s in sequences if len(s) >= 3]
    assert parts["test"] == tested and parts["valid"] == [s[:-1] for s in tested]
    assert parts["train"] == [s[:-1] if len(s) >= 3 else s for s in sequences]
    assert parts["tune"] == [s[:-2] if len(s) >= 3 else s for s in sequences]
    # every training part is the evaluated sequence cut before its target
    train_of = iter(t for s, t in zip(sequences, parts["train"]) if len(s) >= 3)
    for test, train in zip(parts["test"], train_of):
        assert train == test[:-1]
    tune_of = iter(t for s, t in zip(sequences, parts["tune"]) if len(s) >= 3)
    for valid, tune in zip(parts["valid"], tune_of):
        assert tune == valid[:-1]
    with pytest.raises(EmbedtrainError):
        split_sequences([["a"], ["b"]])


ROOT = Path(__file__).resolve().parent.parent


def _run(*args, check=True):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}    # this checkout's embedtrain, not an installed one
    proc = subprocess.run([sys.executable, "-m", "embedtrain", *map(str, args)], capture_output=True,
                          text=True, env=env)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def split_run(tmp_path_factory):
    """Interactions -> sessions --split -> a model trained on the train file and one on all."""
    d = tmp_path_factory.mktemp("items")
    rng = random.Random(7)
    lines = []
    for u in range(150):
        group, t = u % 3, 0
        for _ in range(6):
            t += rng.randint(1, 50)
            lines.append(f"user{u}\t{group * 15 + rng.randint(0, 14)}\t{rng.randint(1, 5)}\t{t}\n")
    lines.append("user999\t999\t5\t1\n")
    lines.append("user999\t998\t5\t2\n")   # item 998 occurs only as a target
    (d / "int.tsv").write_text("".join(lines))
    _run("sessions", d / "int.tsv", "-o", d / "s.txt", "--split")
    common = ["--epochs", "2", "--threads", "1", "--dim", "16", "-q"]
    _run("train", "--items", d / "s.train.txt", "--sequences", "-o", d / "good", *common)
    _run("train", "--items", d / "int.tsv", "-o", d / "leaky", *common)
    return d


def test_cli_split_and_eval_items(split_run):
    d = split_run
    train, test = read_sequences(d / "s.train.txt"), read_sequences(d / "s.test.txt")
    assert train == [s[:-1] for s in test]
    assert json.loads((d / "s.split.json").read_text())["pairs"] == {"test": "train"}
    result = json.loads(_run("eval-items", d / "good.vec", d / "s.test.txt", "--json").stdout)
    assert result["split_check"] == "lineage" and result["sequences"] == len(test)
    assert result["popular_from"].endswith("s.train.txt")
    from embedtrain.io.formats import load_vectors

    again = evaluate_items(load_vectors(d / "good.vec"), test, popular_from=train)
    assert again["hit_rate@10"] == pytest.approx(result["hit_rate@10"])
    assert again["popular_ndcg@10"] == pytest.approx(result["popular_ndcg@10"])


def test_eval_items_refuses_vectors_that_saw_held_out_items(split_run, tmp_path):
    d = split_run
    proc = _run("eval-items", d / "leaky.vec", d / "s.test.txt", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "held-out" in proc.stderr
    # vectors alone (no model file beside them): their vocabulary gives them away
    import shutil

    shutil.copy(d / "leaky.vec", tmp_path / "alone.vec")
    proc = _run("eval-items", tmp_path / "alone.vec", d / "s.test.txt", check=False)
    assert proc.returncode == 1 and "never occur in the split's training file" in proc.stderr
    shutil.copy(d / "good.vec", tmp_path / "good-alone.vec")
    proc = _run("eval-items", tmp_path / "good-alone.vec", d / "s.test.txt")
    assert "checked only" in proc.stderr


def test_train_items_with_presets_and_cli_refusals(split_run):
    from embedtrain.families import family_of
    from embedtrain.models import Model

    model = Model.load(split_run / "good.etm")
    presets = family_of("skipgram").item_presets
    for name, value in presets.items():
        if name != "epochs":
            assert getattr(model.config, name) == value, name
    assert model.config.epochs == 2
    for args, words in ((["train", "--min-rating", "3", "x.txt"], "--min-rating needs --items"),
                        (["train", "--items", split_run / "int.tsv", "--graph", "g"], "not both"),
                        (["train", "--items", split_run / "nope.tsv"], "does not exist"),
                        (["sessions", split_run / "int.tsv", "-o", split_run / "x.txt", "--session-gap",
                          "soon"], "not a duration"),
                        (["eval-items", split_run / "good.vec", split_run / "s.test.txt", "--k", "0"],
                         "at least 1")):
        proc = _run(*args, check=False)
        assert proc.returncode == 1 and words in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr


def test_write_split_is_atomic_and_refuses_an_unwritable_place(tmp_path):
    with pytest.raises(EmbedtrainError, match="does not exist"):
        write_split([["a", "b"]], tmp_path / "no" / "s")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ tuning
def test_coordinate_search_keeps_the_budget_and_finds_the_best():
    calls = []

    def score(s):
        calls.append(dict(s))
        return -(s["a"] - 2) ** 2 - (s["b"] - 1) ** 2

    best, trials = coordinate_search(score, {"a": 0, "b": 0}, {"a": (0, 1, 2, 3), "b": (0, 1, 2)}, budget=50)
    assert best == {"a": 2, "b": 1} and len(calls) == len(trials) == 6   # repeats not retrained
    _, trials = coordinate_search(score, {"a": 0, "b": 0}, {"a": (0, 1, 2, 3), "b": (0, 1, 2)}, budget=3)
    assert len(trials) == 3


def test_the_item2vec_recipe_is_the_item_presets():
    from embedtrain.config import make_config
    from embedtrain.families import family_of

    config = make_config(config_file="item2vec-skipgram")
    for name, value in family_of("skipgram").item_presets.items():
        assert getattr(config, name) == value, name


def test_tune_searches_within_its_budget_and_refuses_a_leaky_pairing(tmp_path):
    from embedtrain.items import plan_items

    rng = random.Random(11)
    sequences = [[f"{g}{rng.randint(0, 9)}" for _ in range(5)] for g in "abc" for _ in range(40)]
    paths = write_split(sequences, tmp_path / "s", validation=True)
    small = dict(sequences=True, dim=8, epochs=1, threads=1, progress=False)
    model = plan_items(paths["tune"], tune=paths["valid"], tune_budget=2, **small).run()
    tuning = model.stats["item_tuning"]
    assert len(tuning["trials"]) == 2 and tuning["trials"][0]["ns_exponent"] == 0.5
    best = max(tuning["trials"], key=lambda t: t["score"])
    assert all(model.config.__getattribute__(k) == best[k] for k in tuning["best"])
    # training on train.txt holds the validation targets: refused before any search
    with pytest.raises(EmbedtrainError, match="held-out"):
        plan_items(paths["train"], tune=paths["valid"], tune_budget=2, **small).run()
