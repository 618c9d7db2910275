"""Queries go through an attached neighbour index (neighbours.attach_index): most_similar,
analogy and the CLI's similar answer what the index finds, and exactly what an exact scan
finds when every cell is probed."""
from __future__ import annotations

import json
import shutil

import numpy as np
from click.testing import CliRunner

import embedtrain
from embedtrain.cli import main
from embedtrain.neighbours import build_index


def test_most_similar_and_analogy_go_through_the_attached_index(skipgram_model):
    vecs = skipgram_model.vectors
    index = build_index(vecs, probe=1)  # one cell: answers differ from the exact ones
    words = vecs.words[:300:10]
    exact = {w: vecs.most_similar(w, topn=10) for w in words}
    try:
        vecs.neighbour_index = index
        differ = 0
        for w in words:
            got = vecs.most_similar(w, topn=10)
            query = vecs.get_vector(w, norm=True)
            want = index.nearest(vecs, query, 10, [vecs.index[w]])
            assert [x for x, _ in got] == [x for x, _ in want]  # the query: rounding apart
            np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=0, atol=1e-6)
            differ += [x for x, _ in got] != [x for x, _ in exact[w]]
        assert differ  # the index answered, not an exact scan
        a, b, c = vecs.words[5], vecs.words[7], vecs.words[9]
        q = (vecs.get_vector(b, norm=True) - vecs.get_vector(a, norm=True) + vecs.get_vector(c, norm=True)) / 3
        want = index.nearest(vecs, q / np.linalg.norm(q), 5, sorted(vecs.index[x] for x in (a, b, c)))
        got = vecs.analogy(a, b, c, topn=5)
        assert [x for x, _ in got] == [x for x, _ in want]
        # every cell probed: the exact neighbours
        vecs.neighbour_index = build_index(vecs, probe=10**6)
        for w in words[:5]:
            assert [x for x, _ in vecs.most_similar(w, topn=10)] == [x for x, _ in exact[w]]
        # restrict_vocab (a benchmark's) still scans exactly
        assert vecs.most_similar(words[0], topn=5, restrict_vocab=1000) == \
            vecs.__class__.most_similar(vecs, words[0], topn=5, restrict_vocab=1000)
    finally:
        vecs.neighbour_index = None


def test_cli_similar_with_index_answers_from_the_index(skipgram_files, tmp_path):
    from embedtrain.neighbours import NeighbourIndex, index_path

    model = tmp_path / "m.etm"
    shutil.copy(skipgram_files["model"], model)
    run = lambda *a: CliRunner().invoke(main, [str(x) for x in a])  # noqa: E731
    assert run("similar", model, "king", "--index", "--json").exit_code == 0
    stored = NeighbourIndex.load(index_path(model))
    one_cell = NeighbourIndex(stored.centroids, stored.offsets, stored.rows, probe=1, source=stored.source)
    one_cell.save(index_path(model))
    vecs = embedtrain.load(model, mmap=True).vectors
    want = one_cell.nearest(vecs, vecs.get_vector("king", norm=True), 10, [vecs.index["king"]])
    result = run("similar", model, "king", "--index", "--mmap", "--json")
    assert result.exit_code == 0, result.output
    got = [n["word"] for n in json.loads(result.stdout)["results"][0]["neighbours"]]
    assert got == [w for w, _ in want]
    exact = run("similar", model, "king", "--exact", "--json")
    assert [n["word"] for n in json.loads(exact.stdout)["results"][0]["neighbours"]] == \
        [w for w, _ in embedtrain.load(model).most_similar("king")]
