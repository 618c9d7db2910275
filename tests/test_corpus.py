"""Reading corpora: tokenising, sentence cuts, encodings, compression, sources."""
import bz2
import gzip
import logging
import lzma
import subprocess
import sys
import threading

import numpy as np
import pytest

from embedtrain.corpus import stream as stream_mod
from embedtrain.corpus import text as corpus_mod
from embedtrain.corpus import SENTENCE_END, encode
from embedtrain.errors import EmbedtrainError
from embedtrain.vocab import Vocab


def sentences_of(paths, min_count=1, **kw):
    """Decode a corpus back to lists of words, through the real pipeline."""
    raw = encode(paths if isinstance(paths, list) else [paths], **kw)
    vocab = Vocab.build(raw.words, raw.counts, min_count=min_count)
    with raw.to_stream(vocab.index) as stream:
        out = [[vocab.words[i] for i in s] for s in stream.sentences()]
        assert stream.n_tokens == sum(len(s) for s in out)
    raw.close()
    return out, raw


def write(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_lines_are_sentences_whitespace_separates_tokens(tmp_path):
    p = write(tmp_path, "c.txt", b"a b\tc\n\n  d   e \r\nf\n\n\n")
    sents, raw = sentences_of(p)
    assert sents == [["a", "b", "c"], ["d", "e"], ["f"]]
    assert raw.n_tokens == 6


def test_no_trailing_newline(tmp_path):
    sents, _ = sentences_of(write(tmp_path, "c.txt", b"x y\nz"))
    assert sents == [["x", "y"], ["z"]]


def test_long_line_cut_into_pieces(tmp_path):
    words = [f"w{i % 7}" for i in range(25)]
    sents, _ = sentences_of(write(tmp_path, "c.txt", (" ".join(words) + "\nlast line\n").encode()),
                            max_line_tokens=10)
    assert [len(s) for s in sents] == [10, 10, 5, 2]
    assert sum(sents[:3], []) == words


def test_one_line_corpus_across_read_blocks(tmp_path, monkeypatch):
    """A one-line corpus larger than a read block keeps every token, cut every N tokens."""
    monkeypatch.setattr(corpus_mod, "READ_BLOCK_BYTES", 64)
    words = [f"tok{i % 13}" for i in range(1000)]
    sents, raw = sentences_of(write(tmp_path, "c.txt", " ".join(words).encode()), max_line_tokens=300)
    assert raw.n_tokens == 1000
    assert [len(s) for s in sents] == [300, 300, 300, 100]
    assert sum(sents, []) == words


def test_lines_spanning_blocks_keep_their_boundaries(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_mod, "READ_BLOCK_BYTES", 16)
    lines = [" ".join(f"l{n}w{i}" for i in range(n % 5 + 1)) for n in range(40)]
    sents, _ = sentences_of(write(tmp_path, "c.txt", ("\n".join(lines) + "\n").encode()))
    assert sents == [line.split() for line in lines]


def test_non_ascii_and_cjk(tmp_path):
    text = "Über straße naïve\n中文 維基 百科\nпривет мир\u3000окно\n"
    sents, _ = sentences_of(write(tmp_path, "c.txt", text.encode("utf-8")))
    assert sents == [["Über", "straße", "naïve"], ["中文", "維基", "百科"], ["привет", "мир", "окно"]]


def test_lowercase(tmp_path):
    sents, _ = sentences_of(write(tmp_path, "c.txt", "The the THE Straße\n".encode()), lowercase=True)
    assert sents == [["the", "the", "the", "straße"]]


def test_invalid_utf8_replaced_and_counted(tmp_path, caplog):
    p = write(tmp_path, "c.txt", b"good \xff\xfe bad\xc3 word\n")
    logger = logging.getLogger("embedtrain.corpus")
    logger.addHandler(caplog.handler)  # the CLI may have stopped propagation to the root
    try:
        with caplog.at_level(logging.WARNING, logger="embedtrain.corpus"):
            sents, raw = sentences_of(p)
    finally:
        logger.removeHandler(caplog.handler)
    assert raw.invalid_bytes == 3
    assert sents == [["good", "\ufffd\ufffd", "bad\ufffd", "word"]]
    assert "3 bytes" in caplog.text


@pytest.mark.parametrize("opener,suffix", [(gzip.compress, ".gz"), (bz2.compress, ".bz2"),
                                            (lzma.compress, ".xz"), (gzip.compress, ".data")])
def test_compressed_inputs_detected_by_content(tmp_path, opener, suffix):
    sents, _ = sentences_of(write(tmp_path, "c" + suffix, opener(b"one two\nthree\n")))
    assert sents == [["one", "two"], ["three"]]


def test_truncated_gzip_is_a_clear_error(tmp_path):
    data = gzip.compress(b"one two three " * 1000)
    p = write(tmp_path, "c.gz", data[: len(data) // 2])
    with pytest.raises(EmbedtrainError, match="corrupt or truncated"):
        encode([p])


def _ahead_threads():
    return [t for t in threading.enumerate() if t.name == "embedtrain-read-ahead"]


@pytest.mark.parametrize("opener,suffix", [(lambda b: b, ".txt"), (gzip.compress, ".gz"),
                                            (bz2.compress, ".bz2"), (lzma.compress, ".xz")])
def test_reading_ahead_gives_the_same_blocks_and_corpus(tmp_path, monkeypatch, opener, suffix):
    """blocks_ahead hands over iter_blocks' blocks in their order, read on its helper
    thread, and encode(read_ahead=True) gives the same ids, words and counts."""
    monkeypatch.setattr(corpus_mod, "READ_BLOCK_BYTES", 64)
    rng = np.random.default_rng(3)
    lines = [" ".join(f"w{int(x)}" for x in rng.zipf(1.5, size=int(n) + 1) % 97)
             for n in rng.integers(0, 30, size=200)]
    p = write(tmp_path, "c" + suffix, opener(("\n".join(lines) + "\n").encode()))
    readers = []
    plain_iter = corpus_mod.iter_blocks

    def recording(path):
        readers.append(threading.current_thread().name)
        return plain_iter(path)

    monkeypatch.setattr(corpus_mod, "iter_blocks", recording)
    ahead = list(corpus_mod.blocks_ahead(str(p)))
    assert readers == ["embedtrain-read-ahead"]
    assert len(ahead) > 20 and ahead == list(plain_iter(str(p)))
    assert not _ahead_threads()
    plain, fetched = encode([p]), encode([p], read_ahead=True)
    try:
        assert fetched.words == plain.words and list(fetched.counts) == list(plain.counts)
        assert np.array_equal(np.concatenate(list(fetched.blocks(block_entries=1000))),
                              np.concatenate(list(plain.blocks(block_entries=1000))))
    finally:
        plain.close()
        fetched.close()


def test_reading_ahead_raises_the_readers_error_and_stops_its_thread(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_mod, "READ_BLOCK_BYTES", 256)
    data = gzip.compress(b"one two three " * 1000)
    p = write(tmp_path, "c.gz", data[: len(data) // 2])
    with pytest.raises(EmbedtrainError, match="corrupt or truncated"):
        encode([p], read_ahead=True)
    assert not _ahead_threads()
    with pytest.raises(EmbedtrainError, match="(?i)no such|not found|does not exist"):
        list(corpus_mod.blocks_ahead(str(tmp_path / "missing.txt")))
    assert not _ahead_threads()


def test_leaving_a_read_ahead_early_stops_its_thread_and_closes_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_mod, "READ_BLOCK_BYTES", 16)
    p = write(tmp_path, "c.txt", b"a b c d e f g h\n" * 500)
    opened = []
    plain_open = corpus_mod.open_source

    def recording(path):
        opened.append(plain_open(path))
        return opened[-1]

    monkeypatch.setattr(corpus_mod, "open_source", recording)
    blocks = corpus_mod.blocks_ahead(str(p))
    assert next(blocks)
    assert len(_ahead_threads()) == 1
    blocks.close()
    assert not _ahead_threads()
    assert len(opened) == 1 and opened[0].closed


def test_a_run_reads_ahead_only_with_several_threads(tmp_path, monkeypatch):
    """--threads 1 keeps to one thread while reading too."""
    import embedtrain
    from embedtrain.training import prepare

    p = write(tmp_path, "c.txt", b"a b c a b a\n" * 50)
    seen = []
    plain_source = prepare.as_source

    def recording(corpus, read_ahead=False):
        seen.append(read_ahead)
        return plain_source(corpus, read_ahead=read_ahead)

    monkeypatch.setattr(prepare, "as_source", recording)
    for threads in (1, 2):
        embedtrain.train(str(p), model="cbow", dim=8, epochs=1, min_count=1, threads=threads,
                         progress=False)
    assert seen == [False, True]


def test_directory_reads_every_file_sorted(tmp_path):
    d = tmp_path / "docs"
    (d / "sub").mkdir(parents=True)
    (d / "b.txt").write_text("bravo\n")
    (d / "a.txt").write_text("alpha\n")
    (d / "sub" / "c.txt.gz").write_bytes(gzip.compress(b"charlie"))
    (d / ".hidden").write_text("hidden\n")
    sents, _ = sentences_of(d)
    assert sents == [["alpha"], ["bravo"], ["charlie"]]


def test_several_sources_do_not_join_lines(tmp_path):
    a = write(tmp_path, "a.txt", b"x y")  # no final newline
    b = write(tmp_path, "b.txt", b"z\n")
    sents, _ = sentences_of([a, b])
    assert sents == [["x", "y"], ["z"]]


def test_missing_and_empty_sources(tmp_path):
    with pytest.raises(EmbedtrainError, match="does not exist"):
        encode([tmp_path / "nope.txt"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmbedtrainError, match="contains no files"):
        encode([tmp_path / "empty"])


def test_binary_junk_does_not_crash(tmp_path):
    junk = bytes(np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8))
    raw = encode([write(tmp_path, "junk.bin", junk)])
    assert raw.n_tokens > 0 and raw.invalid_bytes > 0
    raw.close()


def test_stdin(tmp_path):
    code = ("import sys; from embedtrain.corpus import encode; r = encode(['-']); "
            "print(r.n_tokens, sorted(r.words))")
    out = subprocess.run([sys.executable, "-c", code], input=gzip.compress(b"b a\na\n"),
                         capture_output=True, check=True).stdout.decode()
    assert out.split(maxsplit=1) == ["3", "['a', 'b']\n"]


def test_oov_tokens_removed_before_windows_and_chunks_end_at_sentences(tmp_path, monkeypatch):
    monkeypatch.setattr(stream_mod, "JOB_TOKENS", 5)
    text = "a rare b\n" * 10 + "a b c\n"
    raw = encode([write(tmp_path, "c.txt", text.encode())])
    vocab = Vocab.build(raw.words, raw.counts, min_count=2)
    assert "rare" in vocab.words and "c" not in vocab.words
    with raw.to_stream(vocab.index) as stream:
        assert stream.n_tokens == 10 * 3 + 3 - 1
        last = list(stream.sentences())[-1]
        assert [vocab.words[i] for i in last] == ["a", "b"]
        for i in range(stream.n_chunks):
            chunk = stream.chunk(i)
            assert chunk[-1] == SENTENCE_END
            assert stream.chunk_words[i + 1] - stream.chunk_words[i] == np.count_nonzero(chunk != SENTENCE_END)
        assert stream.n_chunks > 1


def test_an_epochs_last_jobs_are_shorter(tmp_path):
    """The last TAPER_JOBS jobs' worth of the stream is cut TAPER_PARTS times finer (threads end
    an epoch together); the jobs before keep their length, and every job ends a sentence."""
    job = 600
    text = "".join(f"a b c d{i % 7} e f g h i j\n" for i in range(1000))   # 10 words a line
    raw = encode([write(tmp_path, "c.txt", text.encode())])
    vocab = Vocab.build(raw.words, raw.counts, min_count=1)
    with raw.to_stream(vocab.index, job_tokens=job) as stream:
        sizes = np.diff(stream.chunk_starts)
        assert stream.chunk_starts[-1] == stream.n_entries == 11_000
        taper = stream_mod.TAPER_JOBS * job
        ends = stream.chunk_starts[1:]
        long_jobs, short_jobs = sizes[ends <= 11_000 - taper], sizes[ends > 11_000 - taper + 11]
        assert (long_jobs >= job).all() and (long_jobs < job + 11).all()
        short = job // stream_mod.TAPER_PARTS
        assert short <= job // 2 and len(short_jobs) >= 2 * stream_mod.TAPER_JOBS - 1
        assert (short_jobs[:-1] >= short).all() and (short_jobs < short + 11).all()
        for i in range(stream.n_chunks):
            assert stream.chunk(i)[-1] == SENTENCE_END
    raw.close()


def test_stream_measures_its_sentences_across_blocks(tmp_path, monkeypatch):
    """squared_lengths and longest, against the sentences themselves, with lines cut
    across read blocks and stream blocks and out-of-vocabulary words dropped."""
    monkeypatch.setattr(corpus_mod, "READ_BLOCK_BYTES", 32)
    rng = np.random.default_rng(4)
    lines = [" ".join(f"w{rng.integers(0, 30)}" for _ in range(rng.integers(1, 60))) for _ in range(80)]
    lines[7] = " ".join(["rare"] + lines[7].split())  # a word below min_count
    raw = encode([write(tmp_path, "c.txt", ("\n".join(lines) + "\n").encode())], max_line_tokens=40)
    vocab = Vocab.build(raw.words, raw.counts, min_count=2)
    writer_blocks = list(raw.blocks(block_entries=17))
    writer = stream_mod._StreamWriter(None)
    for block in writer_blocks:
        mapped = np.array([vocab.index.get(raw.words[i], -2) if i >= 0 else SENTENCE_END for i in block],
                          dtype=np.int32)
        writer.add(mapped[mapped != -2])
    with writer.finish() as stream:
        lengths = np.array([len(s) for s in stream.sentences()])
        assert stream.squared_lengths == int((lengths ** 2).sum())
        assert stream.longest == lengths.max() and lengths.max() <= 40
        assert stream.line_contexts == pytest.approx((lengths ** 2).sum() / lengths.sum())
    raw.close()
