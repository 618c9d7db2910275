"""Splitting the input among workers gives exactly one machine's vocabulary and
sentences (no Ray needed: the workers' two passes run here in turn)."""
from __future__ import annotations

import bz2
import gzip

import numpy as np
import pytest

from embedtrain.corpus.text import encode
from embedtrain.distributed.parts import merge_counts, plan_sentences, route_fragments, tokenise_part
from embedtrain.distributed.split import InputFile, Piece, describe_inputs, split_inputs
from embedtrain.vocab import Vocab


def one_machine(paths, min_count, max_line_tokens, lowercase=False):
    raw = encode(paths, lowercase=lowercase, max_line_tokens=max_line_tokens)
    vocab = Vocab.build(raw.words, raw.counts, min_count)
    stream = raw.to_stream(vocab.index)
    entries = np.concatenate(list(stream)) if stream.n_chunks else np.zeros(0, np.int32)
    return vocab, entries, raw.n_tokens


def on_workers(paths, workers, min_count, max_line_tokens, lowercase=False, files=None):
    files = files or describe_inputs([str(p) for p in paths])
    parts = split_inputs(files, workers)
    corpora = [tokenise_part(p, lowercase=lowercase, max_line_tokens=max_line_tokens) for p in parts]
    summaries = [c.summary for c in corpora]
    words, counts = merge_counts(summaries)
    vocab = Vocab.build(words, counts, min_count)
    plans = plan_sentences(summaries, max_line_tokens)
    for c in corpora:
        c.set_vocab(vocab.index)
    fragments = [c.fragment(p.fragment) for c, p in zip(corpora, plans)]
    appended = route_fragments(plans, fragments)
    streams = [c.to_stream(p, appended[k]) for k, (c, p) in enumerate(zip(corpora, plans))]
    entries = np.concatenate([np.concatenate(list(s)) for s in streams if s.n_chunks] or [np.zeros(0, np.int32)])
    return vocab, entries, sum(s.n_tokens for s in summaries), parts


def assert_same(paths, workers, min_count=1, max_line_tokens=10_000, **kw):
    vocab1, entries1, tokens1 = one_machine(paths, min_count, max_line_tokens, kw.get("lowercase", False))
    vocab2, entries2, tokens2, parts = on_workers(paths, workers, min_count, max_line_tokens, **kw)
    assert vocab2.to_text() == vocab1.to_text()
    assert tokens2 == tokens1
    assert len(entries2) == len(entries1)
    np.testing.assert_array_equal(entries2, entries1)
    return parts


@pytest.mark.parametrize("workers", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("max_line_tokens", [10_000, 997, 7])
def test_one_line_corpus_split_in_byte_ranges(tmp_path, sample_text, workers, max_line_tokens):
    path = tmp_path / "one-line.txt"
    path.write_text(" ".join(sample_text.split()[:40_000]))   # text8-like: no newline at all
    parts = assert_same([path], workers, min_count=3, max_line_tokens=max_line_tokens)
    assert len([p for p in parts if p.pieces]) == workers


@pytest.mark.parametrize("workers", [2, 3, 6])
def test_many_short_lines_and_blank_lines(tmp_path, sample_text, workers):
    words = sample_text.split()[:30_000]
    rng = np.random.default_rng(0)
    lines, i = [], 0
    while i < len(words):
        n = int(rng.integers(0, 40))
        lines.append("  ".join(words[i:i + n]) + (" \t" if n % 3 == 0 else ""))
        if n % 7 == 0:
            lines.append("")
        i += n
    path = tmp_path / "lines.txt"
    path.write_text("\r\n".join(lines))   # CRLF, no final newline
    assert_same([path], workers, min_count=2, max_line_tokens=11)


def test_several_files_compressed_and_not(tmp_path, sample_text):
    words = sample_text.split()[:60_000]
    paths = []
    for i in range(5):
        chunk = words[i * 12_000:(i + 1) * 12_000]
        text = "\n".join(" ".join(chunk[j:j + 500]) for j in range(0, len(chunk), 500))
        p = tmp_path / f"f{i}.txt"
        if i == 1:
            p = tmp_path / "f1.txt.gz"
            p.write_bytes(gzip.compress(text.encode()))
        elif i == 3:
            p = tmp_path / "f3.txt.bz2"
            p.write_bytes(bz2.compress((text + "\n").encode()))
        else:
            p.write_text(text)
        paths.append(p)
    for workers in (2, 3, 4, 7, 12):
        assert_same(paths, workers, min_count=2, max_line_tokens=300, lowercase=True)


def test_many_files_are_handed_out_whole(tmp_path):
    paths = []
    for i in range(40):
        p = tmp_path / f"{i:02d}.txt"
        p.write_text(("alpha beta gamma\n" * (50 + i)))
        paths.append(p)
    parts = assert_same(paths, 4)
    for part in parts:
        assert all(piece.start == 0 and piece.stop is None for piece in part.pieces)


def test_multibyte_text_and_invalid_bytes(tmp_path):
    text = ("héllo wörld 日本語 テキスト\xa0nbsp ünïcödé " * 3000).encode()
    text = text[:20_001] + b"\xff\xfe broken " + text[20_001:]
    path = tmp_path / "utf8.txt"
    path.write_bytes(text)
    for workers in (2, 3, 9):
        assert_same([path], workers, max_line_tokens=13)


def test_compressed_one_line_file_is_shared(tmp_path, sample_text):
    path = tmp_path / "text8.gz"
    path.write_bytes(gzip.compress(" ".join(sample_text.split()[:50_000]).encode()))
    parts = assert_same([path], 4, min_count=2)
    assert len([p for p in parts if p.pieces]) == 4


def test_giant_token_spans_a_whole_part(tmp_path):
    path = tmp_path / "giant.txt"
    path.write_bytes(b"a b c " + b"x" * 5000 + b" d e\nf g " + b"y" * 3000)
    files = [InputFile(str(path), path.stat().st_size)]
    for workers in (2, 5, 20):
        vocab1, entries1, _ = one_machine([path], 1, 3)
        vocab2, entries2, _, _ = on_workers([path], workers, 1, 3, files=files)
        assert vocab2.to_text() == vocab1.to_text()
        np.testing.assert_array_equal(entries2, entries1)


def test_split_sizes_are_balanced():
    files = [InputFile("big", 1000), InputFile("small", 10)]
    parts = split_inputs(files, 4)
    assert parts[0].pieces == (Piece("big", 0, 252),)
    assert parts[3].pieces == (Piece("big", 758, None), Piece("small", 0, None))


def test_job_size_follows_the_sync_interval(tmp_path, sample_text):
    """Several workers cut their streams into jobs of about a quarter of --sync-every
    (at sentence ends), so a round trains about --sync-every words; the entries are
    the same whatever the cut."""
    from embedtrain.corpus.stream import JOB_TOKENS
    from embedtrain.distributed.workers import MIN_JOB_TOKENS, job_tokens

    assert job_tokens(1, 8_000) == JOB_TOKENS          # a lone worker: the one-machine jobs
    assert job_tokens(4, 8_000) == 2_000
    assert job_tokens(4, 10**9) == JOB_TOKENS
    assert job_tokens(4, 10) == MIN_JOB_TOKENS
    path = tmp_path / "lines.txt"
    words = sample_text.split()[:30_000]
    path.write_text("\n".join(" ".join(words[i:i + 100]) for i in range(0, len(words), 100)))
    (part,) = split_inputs(describe_inputs([str(path)]), 1)
    corpus = tokenise_part(part, lowercase=False, max_line_tokens=10_000)
    plan = plan_sentences([corpus.summary], 10_000)[0]
    vocab = Vocab.build(*merge_counts([corpus.summary]), 1)
    corpus.set_vocab(vocab.index)
    big = corpus.to_stream(plan, job_tokens=JOB_TOKENS)
    small = corpus.to_stream(plan, job_tokens=2_000)
    np.testing.assert_array_equal(np.concatenate(list(small)), np.concatenate(list(big)))
    sizes = np.diff(small.chunk_starts)
    assert small.n_chunks > big.n_chunks
    assert (sizes[:-1] >= 2_000).all() and (sizes <= 2_000 + 101).all()   # cut at the next sentence end


@pytest.mark.parametrize("content_size", [True, False], ids=["frame-size", "no-frame-size"])
def test_zstd_one_line_file_is_shared_and_sized_by_its_text(tmp_path, sample_text, content_size):
    """A .zst corpus is read like the others on every worker (a part that starts inside
    it decompresses and skips forward to its start) and sized by its decompressed
    bytes: recorded in the frame, or estimated, never its compressed size."""
    zstandard = pytest.importorskip("zstandard", reason="the zstd extra is not installed")
    text = " ".join(sample_text.split()[:50_000]).encode()
    path = tmp_path / "text8.zst"
    path.write_bytes(zstandard.ZstdCompressor(write_content_size=content_size).compress(text))
    files = describe_inputs([str(path)])
    assert files[0].compression == "zstd"
    if content_size:
        assert files[0].size == len(text)
    else:
        assert files[0].size > 2 * path.stat().st_size
    parts = assert_same([path], 4, min_count=2)
    assert len([p for p in parts if p.pieces]) == 4


def test_compression_is_told_by_content_not_name(tmp_path):
    from embedtrain.io.compression import compression_of, strip_suffix

    assert compression_of(gzip.compress(b"x")) == "gzip" and compression_of(bz2.compress(b"x")) == "bzip2"
    assert compression_of(b"BZh is how this text starts") is None   # not a bzip2 header
    assert compression_of(b"plain text") is None
    assert strip_suffix("a.txt.zst") == "a.txt" and strip_suffix("a.gz") == "a" and strip_suffix("a") == "a"
