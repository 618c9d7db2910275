"""GloVe's map-reduce counting (distributed/cooccur.py) and the partitioned matrix
(io/cooc.py), without Ray: the actors' own class (GloVeWorker) driven in this
process, worker after worker, exactly as the Ray driver drives the actors."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from embedtrain.config import make_config
from embedtrain.cooccur import count_cooccurrences
from embedtrain.io.cooc import (COUNTING_SETTINGS, CooccurrenceMatrix, load_partitioned, read_partition,
                                write_partitioned_meta)
from embedtrain.distributed.cooccur import bounds_from_partitions, partition_bounds
from embedtrain.distributed.glove import GloVeWorker
from embedtrain.errors import EmbedtrainError
from embedtrain.training.prepare import RunOptions, prepare_corpus

from conftest import SAMPLE_CORPUS
from inprocess import set_up_workers


def count_on_workers(paths, config, workers, directory):
    """The Ray driver's counting steps with plain GloVeWorker objects."""
    ws, vocab, tokens = set_up_workers(paths, config, workers, GloVeWorker, tmp_dir=str(directory))
    counted = [w.counted() for w in ws]
    bounds = partition_bounds(np.sum([c[0] for c in counted], axis=0), workers)
    map_dir, out_dir = directory / "map", directory / "matrix"
    map_dir.mkdir()
    out_dir.mkdir()
    for w in ws:
        w.write_map(bounds, str(map_dir))
    merged = [ws[p].merge(str(map_dir), p, str(out_dir), len(vocab)) for p in range(workers)]
    partitions = [{"file": m["file"], "rows": [int(bounds[p]), int(bounds[p + 1])], "entries": m["entries"]}
                  for p, m in enumerate(merged)]
    write_partitioned_meta(out_dir, vocab, {k: getattr(config, k) for k in COUNTING_SETTINGS},
                           sum(tokens), partitions)
    return out_dir, [c[1] for c in counted], merged


def one_machine(config):
    vocab, stream, _ = prepare_corpus([SAMPLE_CORPUS], config, RunOptions(progress=False))
    with stream:
        return count_cooccurrences(stream, vocab, config, progress=False)


def assert_same_matrix(ours: CooccurrenceMatrix, theirs: CooccurrenceMatrix) -> None:
    assert ours.vocab.words == theirs.vocab.words
    np.testing.assert_array_equal(ours.vocab.counts, theirs.vocab.counts)
    np.testing.assert_array_equal(ours.rows, theirs.rows)
    np.testing.assert_array_equal(ours.cols, theirs.cols)
    # the same sums, added in another order
    np.testing.assert_allclose(ours.values, theirs.values, rtol=1e-12, atol=0)
    assert ours.n_tokens == theirs.n_tokens
    assert ours.settings == theirs.settings


@pytest.mark.parametrize("workers", [2, 3])
def test_counting_on_workers_is_one_machines_matrix(workers, tmp_path):
    config = make_config("glove", window=6, min_count=3, threads=1)
    out_dir, stats, merged = count_on_workers([SAMPLE_CORPUS], config, workers, tmp_path)
    ours = CooccurrenceMatrix.load(out_dir)   # a directory: the partitioned matrix
    theirs = one_machine(config)
    theirs.settings = {k: getattr(config, k) for k in COUNTING_SETTINGS}
    assert_same_matrix(ours, theirs)
    # each partition holds only its row range, and together they hold everything once
    meta = json.loads((out_dir / "meta.json").read_text())
    assert [q["entries"] for q in meta["partitions"]] == [m["entries"] for m in merged]
    assert sum(q["entries"] for q in meta["partitions"]) == theirs.n_stored == meta["entries"]
    for q in meta["partitions"]:
        rows, _, _ = read_partition(out_dir, q, len(ours.vocab))
        assert len(rows) == q["entries"] and (len(rows) == 0 or
                                              (rows.min() >= q["rows"][0] and rows.max() < q["rows"][1]))
    # nothing left behind but the matrix
    assert sorted(os.listdir(out_dir)) == sorted(["meta.json", "vocab.txt"] + [q["file"] for q in meta["partitions"]])


def test_a_tiny_memory_spills_on_every_worker(tmp_path):
    config = make_config("glove", window=6, min_count=3, threads=1, memory=0.001)
    out_dir, stats, _ = count_on_workers([SAMPLE_CORPUS], config, 3, tmp_path)
    assert all(s["cooccur_spills"] > 0 for s in stats), stats
    theirs = one_machine(make_config("glove", window=6, min_count=3, threads=1))
    theirs.settings = {k: getattr(config, k) for k in COUNTING_SETTINGS}
    assert_same_matrix(CooccurrenceMatrix.load(out_dir), theirs)
    # the spill directories went away with the counting
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("embedtrain-cooccur-")]


def test_partitioned_matrix_round_trip_and_row_ranges(tmp_path):
    config = make_config("glove", window=4, min_count=3, threads=1)
    out_dir, _, _ = count_on_workers([SAMPLE_CORPUS], config, 2, tmp_path)
    whole = load_partitioned(out_dir)
    meta = json.loads((out_dir / "meta.json").read_text())
    v = len(whole.vocab)
    # any row range, read from the partitions, is that range of the whole matrix
    lo, hi = 3, v // 2
    pieces = [read_partition(out_dir, q, v, lo, hi) for q in meta["partitions"]]
    rows = np.concatenate([p[0] for p in pieces])
    values = np.concatenate([p[2] for p in pieces])
    keep = (whole.rows >= lo) & (whole.rows < hi)
    np.testing.assert_array_equal(rows, whole.rows[keep])
    np.testing.assert_array_equal(values, whole.values[keep])
    # a single file written from it reads back identical
    whole.save(tmp_path / "single.cooccur")
    again = CooccurrenceMatrix.load(tmp_path / "single.cooccur")
    np.testing.assert_array_equal(again.values, whole.values)
    # bounds for another number of workers cover every row once, in order
    for workers in (1, 3, 5):
        b = bounds_from_partitions(meta["partitions"], workers, v)
        assert b[0] == 0 and b[-1] == v and len(b) == workers + 1 and (np.diff(b) >= 0).all()


def test_damaged_partitioned_matrix_is_one_error(tmp_path):
    config = make_config("glove", window=4, min_count=3, threads=1)
    out_dir, _, _ = count_on_workers([SAMPLE_CORPUS], config, 2, tmp_path)
    part = out_dir / "part-00001.bin"
    part.write_bytes(part.read_bytes()[:-8])
    with pytest.raises(EmbedtrainError, match="damaged co-occurrence partition"):
        CooccurrenceMatrix.load(out_dir)
    (out_dir / "meta.json").unlink()
    with pytest.raises(EmbedtrainError, match="not a partitioned co-occurrence matrix"):
        CooccurrenceMatrix.load(out_dir)


def test_partition_bounds_balance_entries():
    per_row = np.array([50, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 40], dtype=np.int64)
    b = partition_bounds(per_row, 3)
    assert b[0] == 0 and b[-1] == len(per_row) and (np.diff(b) >= 0).all()
    shares = [per_row[b[i]:b[i + 1]].sum() for i in range(3)]
    assert sum(shares) == per_row.sum()
    # the heavy first row alone, the light middle, the heavy last row
    assert shares[0] == 50 and shares[2] >= 40
    even = partition_bounds(np.ones(100, dtype=np.int64), 4)
    np.testing.assert_array_equal(even, [0, 25, 50, 75, 100])
