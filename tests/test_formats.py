"""Vector files: every format round-trips, is detected from its content, interoperates with
gensim, and malformed files give one-line errors naming the line or byte offset."""
from __future__ import annotations

import numpy as np
import pytest

from embedtrain.io import text as text_formats
from embedtrain.errors import EmbedtrainError
from embedtrain.io.formats import (detect_format, load_vectors, npy_paths, write_vectors,
                                write_word2vec_binary, write_word2vec_text)
from embedtrain.vectors import Vectors

# Text formats keep 6 significant digits ("%.6g").
TEXT_RTOL, TEXT_ATOL = 1e-5, 1e-7


@pytest.fixture(scope="module")
def small() -> Vectors:
    rng = np.random.default_rng(3)
    words = ["the", "über", "日本", "naïve", "x", "</s>"] + [f"w{i}" for i in range(34)]
    matrix = rng.standard_normal((len(words), 7)).astype(np.float32)
    matrix[3] *= 1e-4   # small magnitudes survive the text round trip relatively
    matrix[4] *= 1e3
    return Vectors(words, matrix)


def assert_same(a: Vectors, b: Vectors, exact: bool) -> None:
    assert a.words == b.words
    if exact:
        np.testing.assert_array_equal(a.vectors, b.vectors)
    else:
        np.testing.assert_allclose(a.vectors, b.vectors, rtol=TEXT_RTOL, atol=TEXT_ATOL)


def one_line_error(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------------- round trips
@pytest.mark.parametrize("fmt,detected,exact", [
    ("word2vec-text", "word2vec-text", False),
    ("glove", "glove", False),
    ("word2vec-binary", "word2vec-binary", True),
    ("npy", "npy", True),
])
def test_round_trip_and_detection(tmp_path, small, fmt, detected, exact):
    out = tmp_path / "out"
    written = write_vectors(out, small, fmt)
    assert all(p.exists() for p in written)
    first = written[0]
    assert detect_format(first) == detected
    assert_same(small, load_vectors(first), exact)
    assert_same(small, load_vectors(first, format=detected), exact)
    # No temporary files are left beside the output.
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_npy_writes_matrix_and_word_list(tmp_path, small):
    matrix_path, vocab_path = write_vectors(tmp_path / "emb.npy", small, "npy")
    assert (matrix_path, vocab_path) == npy_paths(tmp_path / "emb")
    assert np.load(matrix_path).dtype == np.float32
    assert vocab_path.read_text(encoding="utf-8").split("\n")[:-1] == small.words


def test_model_file_gives_the_models_vectors(skipgram_model, skipgram_files):
    assert detect_format(skipgram_files["model"]) == "model"
    vectors = load_vectors(skipgram_files["model"])
    assert_same(skipgram_model.vectors, vectors, exact=True)
    # The .vec beside it is word2vec text, equal to its printed precision.
    assert detect_format(skipgram_files["vec"]) == "word2vec-text"
    assert_same(skipgram_model.vectors, load_vectors(skipgram_files["vec"]), exact=False)


def test_text_read_in_many_blocks(tmp_path, small, monkeypatch):
    write_word2vec_text(tmp_path / "a.txt", small.words, small.vectors)
    write_word2vec_text(tmp_path / "b.txt", small.words, small.vectors, header=False)
    monkeypatch.setattr(text_formats, "READ_BLOCK_BYTES", 150)  # a few lines per block
    assert_same(small, load_vectors(tmp_path / "a.txt"), exact=False)
    assert_same(small, load_vectors(tmp_path / "b.txt"), exact=False)
    # A bad line in a later block is still named by its own line number.
    lines = (tmp_path / "b.txt").read_text(encoding="utf-8").splitlines()
    lines[30] = lines[30].rsplit(" ", 1)[0]
    (tmp_path / "c.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(EmbedtrainError, match=r"line 31: expected 7 values") as exc:
        load_vectors(tmp_path / "c.txt")
    one_line_error(exc)


def test_fasttext_vec_style_trailing_spaces_crlf_and_blank_lines(tmp_path):
    # fastText writes "word v1 ... vd \n"; Windows tools add "\r".
    body = "3 2\r\nthe 0.5 -1 \r\nof 2e-3 4 \r\n\r\nand 1 1 \r\n"
    path = tmp_path / "wiki.vec"
    path.write_bytes(body.encode())
    assert detect_format(path) == "word2vec-text"
    v = load_vectors(path)
    assert v.words == ["the", "of", "and"]
    np.testing.assert_allclose(v.vectors, [[0.5, -1], [2e-3, 4], [1, 1]])
    assert load_vectors(path, format="fasttext-vec").words == v.words


def test_one_dimensional_glove_with_number_words(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("1 5\n2 6\n3 7\n")
    assert detect_format(path) == "glove"
    v = load_vectors(path)
    assert v.words == ["1", "2", "3"] and v.vectors[:, 0].tolist() == [5, 6, 7]


def test_non_utf8_words_are_replaced(tmp_path):
    (tmp_path / "g.txt").write_bytes(b"caf\xe9 1 2\nok 3 4\n")
    assert load_vectors(tmp_path / "g.txt").words == ["caf\ufffd", "ok"]
    record = np.array([1, 2], "<f4").tobytes()
    (tmp_path / "b.bin").write_bytes(b"2 2\n\xff\xfex " + record + b"\nok " + record + b"\n")
    v = load_vectors(tmp_path / "b.bin")
    assert v.words == ["\ufffd\ufffdx", "ok"] and v.vectors.tolist() == [[1, 2], [1, 2]]


def test_binary_without_newlines_as_gensim_writes(tmp_path):
    rows = np.arange(6, dtype="<f4").reshape(3, 2)
    data = b"3 2\n" + b"".join(w + b" " + r.tobytes() for w, r in zip([b"a", b"bb", b"c"], rows))
    (tmp_path / "g.bin").write_bytes(data)
    v = load_vectors(tmp_path / "g.bin")
    assert v.words == ["a", "bb", "c"]
    np.testing.assert_array_equal(v.vectors, rows)


def test_forcing_the_format(tmp_path, small):
    path = tmp_path / "v.txt"
    write_word2vec_text(path, small.words, small.vectors)
    # Read as GloVe, the header "40 7" is a word with one value: the next line disagrees.
    with pytest.raises(EmbedtrainError, match=r"line 2: expected 1 values"):
        load_vectors(path, format="glove")
    with pytest.raises(EmbedtrainError, match="unknown vectors format"):
        load_vectors(path, format="bogus")


# ---------------------------------------------------------------------- malformed
@pytest.mark.parametrize("content,pattern", [
    ("2 3\na 1 2 3\nb 1 2\n", r"line 3: expected 3 values \(the header's dimension\), found 2"),
    ("2 3\na 1 2 3\nb 1 x 3\n", r"line 3: 'x' is not a number"),
    ("3 3\nalpha 1.5 2.5 3.5\nbeta 1.5 2.5 3.5\n", r"header says 3 words but the file has 2"),
    ("1 3\na 1 2 3\nb 1 2 3\n", r"line 3: the header says 1 words but the file has more"),
    ("2 4\na 1 2 3\nb 1 2 3\n", r"line 2: expected 4 values"),
    ("a 1 2 3\nb 1 2\n", r"line 2: expected 3 values \(the first line's count\), found 2"),
    ("a 1 2 3\nb 1 2 3.0.0\n", r"line 2: '3.0.0' is not a number"),
    ("lonely\n", r"line 1: a word with no values"),
    ("", r"is empty"),
    ("900000 300\na 1 2\n", r"header says 900,000 words of dimension 300"),
])
def test_malformed_text(tmp_path, content, pattern):
    path = tmp_path / "bad.vec"
    path.write_text(content)
    with pytest.raises(EmbedtrainError, match=pattern) as exc:
        load_vectors(path)
    assert str(path) in one_line_error(exc)


def test_truncated_binary_names_the_offset(tmp_path, small):
    path = tmp_path / "v.bin"
    write_word2vec_binary(path, small.words, small.vectors)
    data = path.read_bytes()
    path.write_bytes(data[:-20])
    with pytest.raises(EmbedtrainError, match=r"truncated binary file: word 40 of 40 at byte offset \d+") as exc:
        load_vectors(path)
    one_line_error(exc)
    path.write_bytes(data + b"extra bytes")
    with pytest.raises(EmbedtrainError, match=rf"byte offset {len(data)}: data after the 40 words"):
        load_vectors(path, format="word2vec-binary")
    path.write_bytes(data[:200])
    with pytest.raises(EmbedtrainError, match=r"ends at byte offset 200"):
        load_vectors(path, format="word2vec-binary")


def test_npy_problems(tmp_path, small):
    matrix_path, vocab_path = write_vectors(tmp_path / "e", small, "npy")
    vocab_path.write_text("a\nb\n")
    with pytest.raises(EmbedtrainError, match="lists 2 words but .* has 40 rows"):
        load_vectors(matrix_path)
    vocab_path.unlink()
    with pytest.raises(EmbedtrainError, match="word list .* does not exist"):
        load_vectors(matrix_path)
    np.save(matrix_path, np.zeros(3))
    with pytest.raises(EmbedtrainError, match="expected a 2-D float array"):
        load_vectors(matrix_path)


def test_missing_file_and_unwritable_words(tmp_path, small):
    with pytest.raises(EmbedtrainError, match="does not exist"):
        load_vectors(tmp_path / "nope.vec")
    with pytest.raises(EmbedtrainError, match="may not be empty or contain whitespace"):
        write_word2vec_text(tmp_path / "x.vec", ["a b"], np.zeros((1, 2)))
    with pytest.raises(EmbedtrainError, match="cannot write"):
        write_vectors(tmp_path / "no" / "dir.vec", small, "word2vec-text")
    assert not (tmp_path / "x.vec").exists()


# ---------------------------------------------------------------------- gensim interop
@pytest.mark.peers
@pytest.mark.parametrize("fmt,kwargs", [
    ("word2vec-text", {}),
    ("word2vec-binary", {"binary": True}),
    ("glove", {"no_header": True}),
])
def test_gensim_reads_our_files(tmp_path, small, fmt, kwargs):
    gensim_models = pytest.importorskip("gensim.models")
    path = tmp_path / f"v.{fmt}"
    write_vectors(path, small, fmt)
    kv = gensim_models.KeyedVectors.load_word2vec_format(str(path), **kwargs)
    assert list(kv.index_to_key) == small.words
    if fmt == "word2vec-binary":
        np.testing.assert_array_equal(kv.vectors, small.vectors)
    else:
        np.testing.assert_allclose(kv.vectors, small.vectors, rtol=TEXT_RTOL, atol=TEXT_ATOL)


@pytest.mark.peers
@pytest.mark.parametrize("binary", [False, True])
def test_we_read_gensims_files(tmp_path, small, binary):
    gensim_models = pytest.importorskip("gensim.models")
    kv = gensim_models.KeyedVectors(small.dim)
    kv.add_vectors(small.words, small.vectors)
    path = tmp_path / "g.out"
    kv.save_word2vec_format(str(path), binary=binary)
    assert detect_format(path) == ("word2vec-binary" if binary else "word2vec-text")
    assert_same(small, load_vectors(path), exact=binary)
