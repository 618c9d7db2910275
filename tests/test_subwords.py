"""Character n-grams and their hashes, bit for bit as fastText computes them."""
import numpy as np
import pytest

from embedtrain.subwords import (char_ngrams, fnv1a_32, ngram_buckets, ngram_hashes,
                                 subword_table)

# Full 32-bit hashes of each n-gram (minn 3, maxn 6), in fastText's order. Computed
# once with the fasttext package 0.9.3: get_subwords() with bucket 2,000,000 and with
# bucket 1,000,003 (a prime), the two remainders joined by the Chinese remainder
# theorem (2,000,000 x 1,000,003 > 2**32, so they fix the hash).
GOLDEN = {
    "where": [("<wh", 0x3e79c4e4), ("<whe", 0xdab05713), ("<wher", 0xa4998db3), ("<where", 0xf3ba47e2),
              ("whe", 0x34f43a4d), ("wher", 0x9b77b12d), ("where", 0x056c1458), ("where>", 0xef241c92),
              ("her", 0xf4b48d8c), ("here", 0x213b65cb), ("here>", 0x458180af), ("ere", 0x7b978ac9),
              ("ere>", 0x868fc2d5), ("re>", 0x7af4dc2a)],
    "café": [("<ca", 0x3f97db8b), ("<caf", 0x090f3617), ("<café", 0xbc65e60f), ("<café>", 0xc5695f23),
             ("caf", 0xf87445fd), ("café", 0x7572c049), ("café>", 0x5aa4fb55), ("afé", 0x47582a6a),
             ("afé>", 0xa3caa23c), ("fé>", 0xeab327e1)],
    "Москва": [("<Мо", 0xf72a1461), ("<Мос", 0x178fdf43), ("<Моск", 0x6356f429), ("<Москв", 0x6503d7eb),
               ("Мос", 0x0a6f3751), ("Моск", 0x4d0dde0b), ("Москв", 0xa4d81109), ("Москва", 0x471943b1),
               ("оск", 0x676026ff), ("оскв", 0xd891fd5d), ("осква", 0xb19023c5), ("осква>", 0x80e8a421),
               ("скв", 0x3da5ae5f), ("сква", 0x2af81157), ("сква>", 0x0d83684b), ("ква", 0x386be1b5),
               ("ква>", 0x5cd40dd1), ("ва>", 0x3f1c3673)],
    "中文字": [("<中文", 0xdae9db7f), ("<中文字", 0xa7f79b2a), ("<中文字>", 0x7ec9207c), ("中文字", 0x488248e0),
            ("中文字>", 0x0318b57a), ("文字>", 0x715240e5)],
}
# Words for the live cross-check: ASCII, accents, Cyrillic, CJK, emoji (4-byte UTF-8),
# words shorter than minn, and one that contains the boundary markers itself.
WORDS = ["where", "café", "naïve", "Ärger", "straße", "привет", "Москва", "中文字", "日本語", "東京",
         "a", "ab", "aaaaaa", "<x>", "😀ok", "ʼn", "z"]


def textbook_fnv1a(data: bytes) -> int:
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


# ----------------------------------------------------------------------------- n-grams

def test_boundary_markers_and_order():
    # the paper's example (section 3.2): the 3-grams of "where"
    assert char_ngrams("where", 3, 3) == ["<wh", "whe", "her", "ere", "re>"]
    # by start position, then by length; the whole "<word>" counts when short enough
    assert char_ngrams("ab", 3, 6) == ["<ab", "<ab>", "ab>"]


def test_single_characters_never_include_lone_markers():
    # fastText skips the 1-grams "<" and ">" but keeps the inner characters
    assert char_ngrams("ab", 1, 2) == ["<a", "a", "ab", "b", "b>"]
    assert char_ngrams("a", 1, 1) == ["a"]


def test_multibyte_characters_count_as_one():
    assert char_ngrams("café", 3, 3) == ["<ca", "caf", "afé", "fé>"]
    assert char_ngrams("中文字", 3, 6) == ["<中文", "<中文字", "<中文字>", "中文字", "中文字>", "文字>"]
    assert char_ngrams("😀ok", 3, 3) == ["<😀o", "😀ok", "ok>"]
    # the compiled enumeration (over UTF-8 bytes) agrees with the character one
    for word in WORDS:
        assert len(ngram_buckets(word, 3, 6, 1000)) == len(char_ngrams(word, 3, 6)), word


def test_words_shorter_than_minn():
    assert char_ngrams("a", 3, 6) == ["<a>"]
    assert char_ngrams("a", 4, 6) == []
    assert char_ngrams("", 3, 6) == []
    assert len(ngram_buckets("a", 4, 6, 100)) == 0


def test_repeated_ngrams_are_kept():
    grams = char_ngrams("aaaaaa", 3, 3)
    assert grams.count("aaa") == 4  # fastText pushes each occurrence


# ----------------------------------------------------------------------------- hashes

@pytest.mark.parametrize("word", list(GOLDEN))
def test_golden_hashes(word):
    grams = [g for g, _ in GOLDEN[word]]
    expected = [h for _, h in GOLDEN[word]]
    assert char_ngrams(word, 3, 6) == grams
    assert [fnv1a_32(g.encode("utf-8")) for g in grams] == expected
    assert ngram_hashes(word, 3, 6).tolist() == expected
    # the compiled hashing, as bucket indices
    assert ngram_buckets(word, 3, 6, 2_000_000).tolist() == [h % 2_000_000 for h in expected]


def test_signed_byte_quirk():
    # ASCII bytes hash as in textbook FNV-1a; bytes >= 0x80 do not (fastText sign-extends them)
    assert fnv1a_32(b"where") == textbook_fnv1a(b"where")
    assert fnv1a_32(b"a") == textbook_fnv1a(b"a") == 0xE40C292C
    for word in ("café", "Москва", "中文字"):
        data = word.encode("utf-8")
        assert fnv1a_32(data) != textbook_fnv1a(data)


def test_subword_table_layout():
    words = ["where", "café", "a", "中文字"]
    bucket = 1000
    table = subword_table(words, 3, 6, bucket)
    assert table.offsets.dtype == np.int64 and table.rows.dtype == np.int32
    assert len(table) == len(words)
    for i, word in enumerate(words):
        rows = table.of(i).tolist()
        assert rows[0] == i  # the word's own row first
        assert rows[1:] == [len(words) + h % bucket for h in ngram_hashes(word, 3, 6).tolist()]
    # no subwords: only the word rows
    plain = subword_table(words, 3, 0, bucket)
    assert plain.rows.tolist() == [0, 1, 2, 3]
    assert plain.offsets.tolist() == [0, 1, 2, 3, 4]


# ----------------------------------------------------------------------------- live check

@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("ft") / "tiny.txt"
    path.write_text(("hello world where café " * 10 + "\n") * 3, encoding="utf-8")
    return path


@pytest.mark.parametrize("minn,maxn,bucket", [(3, 6, 2_000_000), (1, 3, 1000), (2, 2, 97), (4, 8, 5000)])
def test_against_fasttext(tiny_corpus, minn, maxn, bucket):
    fasttext = pytest.importorskip("fasttext")
    # epoch=0: fastText builds its dictionary and trains nothing (only the n-grams are compared;
    # its training runs stop with "Encountered NaN" at random here)
    model = fasttext.train_unsupervised(str(tiny_corpus), dim=2, epoch=0, minCount=1, minn=minn,
                                        maxn=maxn, bucket=bucket, thread=1, verbose=0)
    nwords = len(model.words)
    known = set(model.words)
    for word in WORDS:
        grams, ids = model.get_subwords(word)
        grams, ids = list(grams), np.asarray(ids)
        if word in known:  # fastText lists the word itself first
            grams, ids = grams[1:], ids[1:]
        assert char_ngrams(word, minn, maxn) == grams, word
        assert ngram_buckets(word, minn, maxn, bucket).tolist() == (ids - nwords).tolist(), word
