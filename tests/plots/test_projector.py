"""embedtrain export --format projector: the two TSV files load back with numpy and line up
with the vocabulary."""
from __future__ import annotations

import numpy as np
import pytest

from .helpers import assert_one_line_error, run

from embedtrain.errors import EmbedtrainError
from embedtrain.io.projector import (PROJECTOR_DEFAULT_LIMIT, PROJECTOR_MAX_POINTS,
                                     projector_limit, write_projector)
from embedtrain.vectors import Vectors

# Values are written with 6 significant digits.
RTOL = 1e-5


def read_metadata(path):
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]


def test_projector_files_line_up_with_the_vocabulary(model_files, tiny_model, tmp_path):
    out = tmp_path / "projector"
    result = run("export", model_files["model"], "--format", "projector", "-o", out, "--limit", 50)
    assert result.exit_code == 0, result.output
    vectors = np.loadtxt(out / "vectors.tsv", delimiter="\t", dtype=np.float32)
    metadata = read_metadata(out / "metadata.tsv")
    assert metadata[0] == ["word", "count"]
    words = [row[0] for row in metadata[1:]]
    assert words == tiny_model.vocab.words[:50]
    assert [int(row[1]) for row in metadata[1:]] == tiny_model.vocab.counts[:50].tolist()
    assert vectors.shape == (50, tiny_model.config.dim)
    np.testing.assert_allclose(vectors, tiny_model.vectors.vectors[:50], rtol=RTOL, atol=1e-7)


def test_projector_default_limit_and_vectors_without_counts(model_files, tiny_model, tmp_path):
    out = tmp_path / "p"
    out.mkdir()  # an existing directory is fine
    result = run("export", model_files["vec"], "--format", "projector", "-o", out, "--normalize")
    assert result.exit_code == 0, result.output
    n = min(PROJECTOR_DEFAULT_LIMIT, len(tiny_model.vocab))
    vectors = np.loadtxt(out / "vectors.tsv", delimiter="\t", ndmin=2)
    # A .vec file has no counts: one column of words, no header.
    assert read_metadata(out / "metadata.tsv") == [[w] for w in tiny_model.vocab.words[:n]]
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-4)


def test_projector_limit_is_capped_at_what_the_projector_loads(tmp_path):
    assert projector_limit(None) == PROJECTOR_DEFAULT_LIMIT
    assert projector_limit(500) == 500
    assert projector_limit(10 * PROJECTOR_MAX_POINTS) == PROJECTOR_MAX_POINTS
    n = PROJECTOR_MAX_POINTS + 1
    too_many = Vectors([f"w{i}" for i in range(n)], np.zeros((n, 1), dtype=np.float32))
    with pytest.raises(EmbedtrainError, match="at most 100,000"):
        write_projector(tmp_path / "big", too_many)
    assert not (tmp_path / "big").exists()


def test_projector_export_of_more_words_than_the_cap(tmp_path):
    n = PROJECTOR_MAX_POINTS + 5
    source = tmp_path / "many.npy"
    np.save(source, np.arange(n, dtype=np.float32)[:, None])
    (tmp_path / "many.vocab.txt").write_text("".join(f"w{i}\n" for i in range(n)))
    result = run("export", source, "--format", "projector", "-o", tmp_path / "p", "--limit", n)
    assert result.exit_code == 0, result.output
    assert "at most 100,000" in result.stderr
    values = np.loadtxt(tmp_path / "p" / "vectors.tsv")
    np.testing.assert_array_equal(values, np.arange(PROJECTOR_MAX_POINTS))


def test_projector_bad_output_is_one_line(model_files, tmp_path):
    (tmp_path / "file").write_text("x")
    assert_one_line_error(run("export", model_files["vec"], "--format", "projector", "-o",
                              tmp_path / "file"), "not a directory")
    assert_one_line_error(run("export", model_files["vec"], "--format", "projector", "-o",
                              tmp_path / "no" / "dir"), "does not exist")
    with pytest.raises(EmbedtrainError, match="tab"):
        write_projector(tmp_path / "t", Vectors(["a\tb", "c"], np.zeros((2, 2))))
