"""A mapped model's vocabulary (mapped_vocab.py: words left in the file, looked up and
decoded on demand) against the eager one (Vocab.parse, a dict): the same words, rows and
counts on the files we write, on vocabularies the fast path hands back to the eager
parser, and one-line errors on damaged ones."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

import embedtrain
from embedtrain.cli import main
from embedtrain.config import config_class
from embedtrain.errors import EmbedtrainError
from embedtrain.mapped_vocab import DICT_AFTER_LOOKUPS, MappedVocab, map_vocab
from embedtrain.models import Model
from embedtrain.vocab import Vocab

WORDS = ["the", "é", "naïve", "日本", "w1", "a-b", "x" * 40, "Ünïcode", "0", "ß"]


def small_model(path, words, dim=6, seed=0):
    """A skip-gram model file holding random rows for ``words`` (counts descending)."""
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(len(words), dim)).astype(np.float32)
    vocab = Vocab(words, np.arange(len(words), 0, -1, dtype=np.int64) * 7)
    config = config_class("skipgram")(dim=dim)
    Model(config, vocab, {"input_vectors": rows, "output_vectors": np.zeros_like(rows),
                          "output_hs": np.zeros((0, dim), np.float32)}).save_model(path)
    return path


def with_vocab(src, dst, text: bytes):
    """A copy of the model file ``src`` whose vocab.txt holds ``text``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, text if info.filename == "vocab.txt" else zin.read(info))
    return dst


def eager(text: str):
    """What the eager parser makes of ``text``: a Vocab, or the error's message."""
    try:
        return Vocab.parse(text, "x")
    except EmbedtrainError as exc:
        return str(exc)


def assert_same_vocab(mapped, read):
    assert len(mapped) == len(read)
    assert list(mapped.words) == read.words
    assert [mapped.words[i] for i in range(len(read))] == read.words  # decoded one by one
    assert mapped.words[-1] == read.words[-1] and mapped.words[1:3] == read.words[1:3]
    np.testing.assert_array_equal(mapped.counts, read.counts)
    for w, i in read.index.items():
        assert mapped.index.get(w) == i and w in mapped.index
    for w in ("", "nope", "th", "the ", "\ud800", "é"[:0] + "e"):
        assert (w in mapped.index) == (w in read.index)


def test_mapped_vocabulary_equals_the_eager_one_on_random_texts():
    """Random texts (words, spaces, digits, tabs, CR, Unicode spaces, bytes that are not
    UTF-8): wherever the mapped path answers, it answers as the eager parser does;
    where the eager parser refuses, the mapped path hands the text back (None) or
    refuses too."""
    rng = np.random.default_rng(11)
    letters = list("abé日-1") + ["\udcff"]
    odd = list(" \t\r\n\u00a0\u2028x")  # what may break a line's form

    def part(chars, size):
        out = "".join(rng.choice(chars, size=rng.integers(*size)))
        return out + (rng.choice(odd) if rng.random() < 0.03 else "")

    answered = 0
    for _ in range(600):
        text = "".join(part(letters, (0 if rng.random() < 0.02 else 1, 3)) + " " + part(list("0123456789"), (1, 4))
                       + "\n" for _ in range(rng.integers(1, 8)))
        data = text.encode("utf-8", errors="surrogateescape")  # \udcff: the byte 0xff
        decoded = data.decode("utf-8", errors="replace")
        want = eager(decoded)
        try:
            got = map_vocab(np.frombuffer(data, dtype=np.uint8), "x")
            if got is not None:
                list(got.words), got.counts, got.index.as_dict()
        except EmbedtrainError:
            assert isinstance(want, str), (text, want)
            continue
        if got is None:
            continue
        answered += 1
        assert isinstance(want, Vocab), (text, want)
        assert_same_vocab(got, want)
    assert answered > 30  # the test saw the mapped path answer


def test_mmap_load_gives_the_words_rows_counts_and_neighbours_of_a_read_load(tmp_path):
    path = small_model(tmp_path / "m.etm", WORDS)
    read, mapped = embedtrain.load(path), embedtrain.load(path, mmap=True)
    assert isinstance(mapped.vocab, MappedVocab) and not isinstance(read.vocab, MappedVocab)
    assert_same_vocab(mapped.vocab, read.vocab)
    for w in WORDS:
        np.testing.assert_array_equal(mapped[w], read[w])
        got, want = mapped.most_similar(w, topn=4), read.most_similar(w, topn=4)
        assert [x for x, _ in got] == [x for x, _ in want]
        # a mapped model scores rows in blocks, dividing by their lengths after the product
        np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(mapped.vectors.counts, read.vectors.counts)
    assert mapped.vectors.words == read.vectors.words
    assert mapped.vectors.get_vecattr("日本", "count") == read.vectors.get_vecattr("日本", "count")
    with pytest.raises(KeyError):
        mapped["nope"]
    mapped.save_model(tmp_path / "again.etm")  # a mapped model saved: the same file's content
    again = embedtrain.load(tmp_path / "again.etm")
    assert again.vocab.words == read.vocab.words and (again.vocab.counts == read.vocab.counts).all()


def test_the_words_not_kept_are_read_when_asked_for(tmp_path):
    """A model's unkept.txt (the words below --min-count, for --continue): a mapped load
    reads it when first asked for, with the same words and counts as a read load."""
    from embedtrain.vocab import WordCounts

    rng = np.random.default_rng(0)
    rows = rng.normal(size=(3, 4)).astype(np.float32)
    vocab = Vocab(["a", "b", "c"], np.array([9, 8, 7]))
    vocab.unkept = WordCounts(["x", "日本"], np.array([2, 1]))
    Model(config_class("skipgram")(dim=4), vocab, {"input_vectors": rows, "output_vectors": rows,
                                                   "output_hs": np.zeros((0, 4), np.float32)}
          ).save_model(tmp_path / "m.etm")
    read, mapped = embedtrain.load(tmp_path / "m.etm"), embedtrain.load(tmp_path / "m.etm", mmap=True)
    assert callable(mapped.vocab._unkept)  # not read at open
    assert mapped.vocab.unkept.words == read.vocab.unkept.words == ["x", "日本"]
    np.testing.assert_array_equal(mapped.vocab.unkept.counts, read.vocab.unkept.counts)


def test_mapped_lookups_switch_to_a_dict_and_agree(tmp_path):
    words = [f"w{i}" for i in range(DICT_AFTER_LOOKUPS + 50)]
    path = small_model(tmp_path / "m.etm", words)
    mapped, read = embedtrain.load(path, mmap=True).vocab, embedtrain.load(path).vocab
    got = [mapped.index.get(w) for w in words] + [mapped.index.get("zz")]
    assert got == [read.index[w] for w in words] + [None]
    assert mapped.index._dict is not None  # the later lookups went through the dict


@pytest.mark.parametrize("text", [b"the 5\r\nof 3\r\n", b" the 5\nof 3\n", b"the 5\nof\t3\n",
                                  b"the 5\nof 1000000000000000000\n",
                                  "th\u00e9\u00a0x 5\nof 3\n".encode(), b"th\xffe 5\nof 3\n"])
def test_vocabularies_not_in_our_form_are_read_eagerly_with_mmap(tmp_path, text):
    """Older or foreign files whose vocab.txt is not exactly in the form we write (CR LF,
    a leading space, a tab, a 19-digit count, a Unicode space, a byte that is not UTF-8)
    still load with mmap, as a read load reads them."""
    src = small_model(tmp_path / "m.etm", ["a", "b"])
    path = with_vocab(src, tmp_path / "odd.etm", text)
    want = eager(text.decode("utf-8", errors="replace"))
    if isinstance(want, str):
        with pytest.raises(EmbedtrainError):
            embedtrain.load(path)
        with pytest.raises(EmbedtrainError):
            embedtrain.load(path, mmap=True)
        return
    read, mapped = embedtrain.load(path), embedtrain.load(path, mmap=True)
    assert not isinstance(mapped.vocab, MappedVocab)
    assert mapped.vocab.words == read.vocab.words == want.words
    np.testing.assert_array_equal(mapped["b" if "b" in read else read.vocab.words[1]],
                                  read["b" if "b" in read else read.vocab.words[1]])


@pytest.mark.parametrize("text, fragment, when", [
    (b"the 12 extra\nof 3\n", "vocab.txt, line 1", "open"),
    (b"the 12\nof 3\nand 1\n", "the vocabulary and settings call for", "open"),
    (b"the 12\nof 3x\n", "line 2: count '3x' is not a whole number", "counts"),
    (b"the 12\nthe 3\n", "lists a word twice", "all words"),
    (b"", "lists no words", "open"),
])
def test_a_damaged_vocabulary_is_a_one_line_error(tmp_path, text, fragment, when):
    """Damage the mapped path sees at open is refused there; a bad count when the counts
    are first read; a word listed twice when every word is (the dict, a benchmark): each
    one EmbedtrainError naming the file. The CLI prints it in one line."""
    src = small_model(tmp_path / "m.etm", ["the", "of"])
    path = with_vocab(src, tmp_path / "bad.etm", text)
    with pytest.raises(EmbedtrainError, match="damaged model file"):
        embedtrain.load(path)  # a read load refuses every one at open
    if when == "open":
        with pytest.raises(EmbedtrainError, match=fragment) as err:
            embedtrain.load(path, mmap=True)
        assert str(path) in str(err.value) and "\n" not in str(err.value)
        result = CliRunner().invoke(main, ["vectors", str(path), "the", "--mmap"])
        assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        return
    model = embedtrain.load(path, mmap=True)
    np.testing.assert_array_equal(model["the"], embedtrain.load(src)["the"])
    with pytest.raises(EmbedtrainError, match=fragment) as err:
        if when == "counts":
            model.vectors.counts
        else:
            model.vocab.index.as_dict()
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_stored_offsets_are_mapped_and_describe_the_scanned_lines(tmp_path):
    """A model file stores vocab.txt's line offsets (vocab_offsets.npy); a mapped load maps
    them instead of scanning: the same offsets the scan finds. An older file without
    them, or one whose vocab.txt was rewritten since (CRC-32 differs), is scanned."""
    from embedtrain.mapped_vocab import line_offsets

    path = small_model(tmp_path / "m.etm", WORDS)
    with zipfile.ZipFile(path) as zf:
        assert "vocab_offsets.npy" not in __import__("json").loads(zf.read("meta.json"))["arrays"]
        stored = np.load(zf.open("vocab_offsets.npy"))
        scanned = line_offsets(np.frombuffer(zf.read("vocab.txt"), dtype=np.uint8))
    np.testing.assert_array_equal(stored, scanned)
    mapped = embedtrain.load(path, mmap=True).vocab
    assert isinstance(mapped.starts.base, np.memmap) or isinstance(mapped.starts, np.memmap)
    older = tmp_path / "older.etm"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(older, "w") as zout:
        for info in zin.infolist():
            if info.filename != "vocab_offsets.npy":
                zout.writestr(info.filename, zin.read(info))
    rewritten = with_vocab(path, tmp_path / "rewritten.etm", "".join(f"{w} 1\n" for w in WORDS[::-1]).encode())
    for p, words in ((older, WORDS), (rewritten, WORDS[::-1])):
        vocab = embedtrain.load(p, mmap=True).vocab
        assert isinstance(vocab, MappedVocab) and not isinstance(vocab.starts.base, np.memmap)
        assert list(vocab.words) == words and vocab.index[words[2]] == 2


def test_damaged_stored_offsets_are_one_line_errors(tmp_path):
    """Offsets that do not fit vocab.txt: refused at open when their ends are wrong, when
    a word they point to is read otherwise (each word's bounds are checked then)."""
    path = small_model(tmp_path / "m.etm", WORDS)
    with zipfile.ZipFile(path) as zf:
        offsets = np.load(zf.open("vocab_offsets.npy"))
    for name, change in (("end", lambda o: o.__setitem__((0, -1), 5)),
                         ("middle", lambda o: o.__setitem__((0, 2), o[0, 2] + 1))):
        bad = offsets.copy()
        change(bad)
        target = tmp_path / f"{name}.etm"
        with zipfile.ZipFile(path) as zin, zipfile.ZipFile(target, "w") as zout:
            for info in zin.infolist():
                data = zin.read(info)
                if info.filename == "vocab_offsets.npy":
                    import io
                    buf = io.BytesIO()
                    np.save(buf, bad)
                    data = buf.getvalue()
                zout.writestr(info.filename, data)
        embedtrain.load(target)  # a read load does not use them
        with pytest.raises(EmbedtrainError, match="damaged model file .*vocab_offsets") as err:
            model = embedtrain.load(target, mmap=True)
            model.vocab.words[2]
        assert str(target) in str(err.value) and "\n" not in str(err.value)


def test_random_damage_to_a_mapped_vocabulary_is_a_one_line_error_or_nothing(tmp_path):
    """Bytes flipped in vocab.txt or vocab_offsets.npy (CRC-32 not checked by a mapped
    load): opening, reading every word, looking words up and reading the counts either
    work or raise one-line EmbedtrainErrors, never anything else."""
    path = small_model(tmp_path / "m.etm", WORDS)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        regions = []
        for name in ("vocab.txt", "vocab_offsets.npy"):
            info = zf.getinfo(name)
            regions.append((info.header_offset + 30 + len(name) + len(info.extra), info.file_size))
    rng = np.random.default_rng(5)
    for case in range(150):
        start, size = regions[case % 2]
        damaged = bytearray(data)
        for at in rng.integers(start, start + size, size=rng.integers(1, 4)):
            damaged[at] ^= 1 << int(rng.integers(0, 8))
        target = tmp_path / "case.etm"
        target.write_bytes(bytes(damaged))
        try:
            model = embedtrain.load(target, mmap=True)
            words = [model.vocab.words[i] for i in range(len(model.vocab))]
            for w in words[:3] + ["the", "日本"]:
                model.vocab.index.get(w)
            model.vocab.counts
            model.most_similar(words[0], topn=2)
        except EmbedtrainError as exc:
            assert "\n" not in str(exc) and str(target) in str(exc), exc
        except KeyError:  # a flipped word: most_similar of a word the vocabulary no longer has
            pass
