"""Continuing a finished model on new text (``train --continue MODEL.etm``,
``embedtrain.train(corpus, init=model)``): the grown vocabulary, the rows kept and the
rows started, the tables built from the merged counts, the lineage, and the refusals."""
from __future__ import annotations

import json
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import embedtrain
from embedtrain.cli import main
from embedtrain.errors import EmbedtrainError
from embedtrain.families import family_of
from embedtrain.subwords import ngram_buckets, subword_table
from embedtrain.training import sgns as sgns_training
from embedtrain.vocab import NoiseSampler, Vocab

from conftest import StopAtEpoch, StopTraining

GROUPS = {"animal": "cat dog horse cow sheep goat".split(),
          "tool": "hammer saw drill wrench chisel pliers".split(),
          "food": "bread cheese apple rice soup butter".split(),
          "colour": "red blue green yellow purple orange".split()}
# every run here: one thread, seeded
SETTINGS = dict(dim=16, epochs=3, threads=1, min_count=1, sample=0.0, progress=False, seed=2)


def sentences(groups, n, seed, new_word=None):
    """``n`` sentences of 8 words, each from one group; ``new_word`` (animal, a word A
    never has) replaces one word of about half the animal sentences."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        g = groups[rng.integers(len(groups))]
        words = [str(w) for w in rng.choice(GROUPS[g], 8)]
        if new_word and g == "animal" and rng.random() < 0.5:
            words[rng.integers(8)] = new_word
        out.append(words)
    return out


# A: all four groups. B: no colour word at all, and a new animal, "lion".
CORPUS_A = sentences(list(GROUPS), 2000, seed=0)
CORPUS_B = sentences(["animal", "tool", "food"], 2000, seed=1, new_word="lion")


def write(path, sents):
    path.write_text("".join(" ".join(s) + "\n" for s in sents))
    return path


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    d = tmp_path_factory.mktemp("continue")
    return write(d / "a.txt", CORPUS_A), write(d / "b.txt", CORPUS_B)


@pytest.fixture(scope="module", params=[dict(model="skipgram"), dict(model="cbow"),
                                        dict(model="skipgram", hs=True),
                                        dict(model="cbow", hs=True, negative=3)],
                ids=["skipgram", "cbow", "skipgram-hs", "cbow-hs-ns"])
def word2vec_pair(request):
    """(the model trained on A, that model continued on B)."""
    first = embedtrain.train(CORPUS_A, **SETTINGS, **request.param)
    return first, embedtrain.train(CORPUS_B, init=first, progress=False)


@pytest.fixture(scope="module")
def fasttext_pair():
    first = embedtrain.train(CORPUS_A, model="fasttext", bucket=5000, **SETTINGS)
    return first, embedtrain.train(CORPUS_B, init=first, progress=False)


# --------------------------------------------------------------------------- vocabulary

def test_merged_counts_equal_counting_both_corpora_at_once(word2vec_pair):
    first, continued = word2vec_pair
    both = Counter(w for s in CORPUS_A + CORPUS_B for w in s)
    assert dict(zip(continued.vocab.words, continued.vocab.counts.tolist())) == dict(both)
    fresh = embedtrain.train(CORPUS_A + CORPUS_B, **dict(SETTINGS, epochs=1))
    assert sorted(continued.vocab.words) == sorted(fresh.vocab.words)
    assert list(continued.vocab.counts) == sorted(continued.vocab.counts, reverse=True)
    assert "lion" in continued.vocab and "lion" not in first.vocab


def test_min_count_applies_to_the_merged_counts():
    old = Vocab(["a", "b", "c"], np.array([9, 5, 3]))
    # "c" (3) + 1 stays; "d" joins at 3; "e" (2) does not; "b" gets its new count too
    merged = old.merged(["e", "d", "b", "c"], np.array([2, 3, 4, 1]), min_count=3)
    assert dict(zip(merged.words, merged.counts.tolist())) == {"a": 9, "b": 9, "c": 4, "d": 3}
    assert merged.words == ["a", "b", "c", "d"]     # ties: old order first
    assert dict(zip(merged.unkept.words, merged.unkept.counts.tolist())) == {"e": 2}
    capped = old.merged(["d", "f"], np.array([4, 7]), min_count=3, max_vocab=4)
    assert set(capped.words) == {"a", "b", "c", "f"}  # room for one new word: the most frequent
    # words the old corpus had below --min-count: their old counts are added
    old.unkept = Vocab(["g", "h"], np.array([2, 1]))
    merged = old.merged(["g", "h"], np.array([1, 1]), min_count=3)
    assert "g" in merged and merged.counts[merged.index["g"]] == 3
    assert merged.unkept.words == ["h"] and merged.unkept.counts.tolist() == [2]


def test_words_below_min_count_in_both_halves_join_as_when_counting_both_at_once(tmp_path):
    """A word twice in A and twice in B, at --min-count 3: dropped from the first model,
    in the continued one (through the model file) with count 4, as in a run over A+B."""
    a = CORPUS_A[:500] + [["rareword", "cat"], ["rareword", "dog"], ["onlyonce", "cow"]]
    b = CORPUS_B[:500] + [["rareword", "saw"], ["rareword", "rice"]]
    settings = dict(SETTINGS, min_count=3)
    first = embedtrain.train(a, **settings)
    assert "rareword" not in first
    first.save(tmp_path / "a")
    continued = embedtrain.train(b, init=str(tmp_path / "a.etm"), progress=False)
    fresh = embedtrain.train(a + b, **dict(settings, epochs=1))
    assert dict(zip(continued.vocab.words, continued.vocab.counts.tolist())) == \
        dict(zip(fresh.vocab.words, fresh.vocab.counts.tolist()))
    assert continued.vocab.counts[continued.vocab.index["rareword"]] == 4
    assert dict(zip(continued.vocab.unkept.words, continued.vocab.unkept.counts.tolist())) == {"onlyonce": 1}


# --------------------------------------------------------------------------- rows

def test_input_rows_of_words_absent_from_the_new_text_are_kept_exactly(word2vec_pair):
    first, continued = word2vec_pair
    for word in GROUPS["colour"]:
        np.testing.assert_array_equal(continued[word], first[word])
    # the words the new text has did train
    assert not np.array_equal(continued["cat"], first["cat"])


def test_a_new_word_lands_near_the_group_whose_contexts_it_shares(word2vec_pair):
    _, continued = word2vec_pair
    neighbours = [w for w, _ in continued.most_similar("lion", topn=5)]
    assert sum(w in GROUPS["animal"] for w in neighbours) >= 4, neighbours


@pytest.mark.parametrize("settings", [dict(model="skipgram"), dict(model="cbow", hs=True, negative=3)])
def test_new_rows_start_as_a_fresh_run_over_the_merged_vocabulary_starts_them(settings):
    first = embedtrain.train(CORPUS_A, **SETTINGS, **settings)
    family = family_of(first.kind)
    new_text = Counter(w for s in CORPUS_B for w in s)
    grown = first.vocab.merged(list(new_text), np.array(list(new_text.values())), min_count=1)
    arrays = family.grown_arrays(first, first.config, grown, None)
    fresh = family.fresh_arrays(first.config, grown, None)
    new = grown.index["lion"]
    np.testing.assert_array_equal(arrays["input_vectors"][new], fresh["input_vectors"][new])
    for word in first.vocab.words:
        np.testing.assert_array_equal(arrays["input_vectors"][grown.index[word]], first[word])
        if first.config.negative:
            np.testing.assert_array_equal(arrays["output_vectors"][grown.index[word]],
                                          first.arrays["output_vectors"][first.vocab.index[word]])
    if first.config.hs:  # the tree changed ("lion" joined): inner rows start at zero
        assert not np.any(arrays["output_hs"])


def test_hierarchical_softmax_keeps_its_inner_rows_when_the_tree_is_unchanged():
    first = embedtrain.train(CORPUS_A, model="skipgram", hs=True, **SETTINGS)
    same = first.vocab.merged(first.vocab.words, first.vocab.counts, min_count=1)  # counts doubled
    arrays = family_of("skipgram").grown_arrays(first, first.config, same, None)
    np.testing.assert_array_equal(arrays["output_hs"], first.arrays["output_hs"])


# --------------------------------------------------------------------------- tables

@pytest.fixture
def captured_tables(monkeypatch):
    """The tables of every SgnsTask built while the fixture is active."""
    seen = []
    original = sgns_training.SgnsTask.__init__

    def capture(self, *args, **kwargs):
        original(self, *args, **kwargs)
        seen.append(self.tables)

    monkeypatch.setattr(sgns_training.SgnsTask, "__init__", capture)
    return seen


def test_noise_table_subsampling_and_tree_come_from_the_merged_counts(captured_tables):
    first = embedtrain.train(CORPUS_A, model="cbow", hs=True, negative=5,
                             **dict(SETTINGS, sample=1e-2))
    continued = embedtrain.train(CORPUS_B, init=first, progress=False)
    tables = captured_tables[-1]
    both = Counter(w for s in CORPUS_A + CORPUS_B for w in s)
    counts = np.array([both[w] for w in continued.vocab.words])
    noise = NoiseSampler.from_counts(counts, 0.75)
    np.testing.assert_array_equal(tables.noise_prob, noise.prob)
    np.testing.assert_array_equal(tables.noise_alias, noise.alias)
    t = 1e-2 * counts.sum()
    keep = np.minimum((np.sqrt(counts / t) + 1) * t / counts, 1.0).astype(np.float32)
    np.testing.assert_allclose(tables.keep_prob, keep, rtol=1e-6)
    tree = Vocab(continued.vocab.words, counts).huffman()
    np.testing.assert_array_equal(tables.hs_codes, tree.codes)
    np.testing.assert_array_equal(tables.hs_points, tree.points)


# --------------------------------------------------------------------------- FastText

def test_fasttext_keeps_rows_the_new_text_cannot_reach_and_grows_its_ngram_rows(fasttext_pair):
    first, continued = fasttext_pair
    assert set(first.ngram_buckets) <= set(continued.ngram_buckets)
    assert len(continued.ngram_buckets) > len(first.ngram_buckets)   # "lion"'s n-grams
    c = continued.config
    trained = sorted({w for s in CORPUS_B for w in s})
    table = subword_table(trained, c.minn, c.maxn, c.subword_buckets)
    reached = set((table.rows[table.rows >= len(trained)] - len(trained)).tolist())
    untouched = [b for b in first.ngram_buckets.tolist() if b not in reached]
    assert untouched
    np.testing.assert_array_equal(continued.ngrams.lookup(np.array(untouched)),
                                  first.ngrams.lookup(np.array(untouched)))
    for word in GROUPS["colour"]:   # their own rows: absent from the new text
        np.testing.assert_array_equal(continued.input_vectors[continued.vocab.index[word]],
                                      first.input_vectors[first.vocab.index[word]])


def test_fasttext_new_rows_start_as_a_fresh_run_and_unseen_words_use_the_same_formula(fasttext_pair):
    first, continued = fasttext_pair
    family = family_of("fasttext")
    vocab = continued.vocab
    layout = family.layout(continued.config, vocab)
    arrays = family.grown_arrays(first, continued.config, vocab, layout)
    fresh = family.fresh_arrays(continued.config, vocab, layout)
    v, buckets = len(vocab), layout[1]
    new_buckets = np.flatnonzero(~np.isin(buckets, first.ngram_buckets))
    assert len(new_buckets)
    np.testing.assert_array_equal(arrays["input_vectors"][v + new_buckets],
                                  fresh["input_vectors"][v + new_buckets])
    new = vocab.index["lion"]
    np.testing.assert_array_equal(arrays["input_vectors"][new], fresh["input_vectors"][new])
    # any word's vector: the mean of its n-gram rows, stored or computed
    c = continued.config
    rows = continued.ngrams.lookup(ngram_buckets("zebroid", c.minn, c.maxn, c.subword_buckets))
    np.testing.assert_allclose(continued["zebroid"], rows.mean(axis=0), rtol=1e-5, atol=1e-7)
    neighbours = [w for w, _ in continued.most_similar("lion", topn=5)]
    assert sum(w in GROUPS["animal"] for w in neighbours) >= 3, neighbours


# --------------------------------------------------------------------------- lineage

def test_the_model_records_its_lineage(corpora, tmp_path):
    a, b = corpora
    first = embedtrain.train(str(a), **SETTINGS)
    continued = embedtrain.train(str(b), init=first, progress=False, epochs=1)
    lineage = continued.stats["lineage"]
    assert [e["mode"] for e in lineage] == ["train", "continue"]
    assert [e["corpus"]["files"][0]["path"] for e in lineage] == [str(a), str(b)]
    assert [e["tokens"] for e in lineage] == [8 * len(CORPUS_A), 8 * len(CORPUS_B)]
    assert [e["vocab_words"] for e in lineage] == [len(first.vocab), len(continued.vocab)]
    assert [e["epochs"] for e in lineage] == [3, 1]
    continued.save(tmp_path / "c")
    with zipfile.ZipFile(tmp_path / "c.etm") as zf:
        assert json.loads(zf.read("meta.json"))["stats"]["lineage"] == lineage


def test_the_continued_run_follows_its_own_schedule(corpora):
    a, b = corpora
    first = embedtrain.train(str(a), **SETTINGS)
    continued = embedtrain.train(str(b), init=first, progress=False, epochs=2, lr=0.01)
    history = continued.stats["history"]
    assert len(history) == 2 and history[0]["lr"] > history[1]["lr"]
    assert history[0]["lr"] <= 0.01


# --------------------------------------------------------------------------- refusals

def cli(*args):
    return CliRunner().invoke(main, [str(x) for x in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def saved_models(corpora, tmp_path_factory):
    a, _ = corpora
    d = tmp_path_factory.mktemp("models")
    embedtrain.train(str(a), **SETTINGS).save(d / "sg")
    embedtrain.train(str(a), model="fasttext", bucket=5000, **SETTINGS).save(d / "ft")
    glove = {k: v for k, v in SETTINGS.items() if k != "sample"}   # GloVe does not subsample
    embedtrain.train(str(a), model="glove", save_cooccur=str(d / "gl.cooc"), **glove).save(d / "gl")
    embedtrain.train(CORPUS_A[:50], model="glove", save_cooccur=str(d / "other.cooc"),
                     **dict(glove, min_count=20))
    return d


def test_continue_through_the_cli_writes_the_grown_model(corpora, saved_models, tmp_path):
    _, b = corpora
    result = cli("train", b, "--continue", saved_models / "sg.etm", "--epochs", "1", "-q",
                 "-o", tmp_path / "c")
    assert result.exit_code == 0, result.output
    model = embedtrain.load(tmp_path / "c.etm")
    assert "lion" in model and model.config.dim == 16 and model.config.epochs == 1
    assert [e["mode"] for e in model.stats["lineage"]] == ["train", "continue"]


@pytest.mark.parametrize("model,args,message", [
    ("sg", ["--dim", "32"], "--dim cannot change when continuing (the model has 16, this run asks for 32)"),
    ("sg", ["--model", "cbow"], "--model cbow differs from the continued model's (skipgram)"),
    ("sg", ["--hs"], "--hs cannot change when continuing"),
    ("ft", ["--minn", "2"], "--minn cannot change when continuing"),
    ("ft", ["--maxn", "5"], "--maxn cannot change when continuing"),
    ("ft", ["--bucket", "100"], "--bucket cannot change when continuing"),
    ("gl", [], "continuing a GloVe model needs the co-occurrence matrix of its text: give --cooccur"),
    ("gl", ["--window", "3", "--cooccur", "{glcooc}"], "--window 3 differs from"),
    ("gl", ["--cooccur", "{othercooc}"], "is not the model's: its vocabulary of"),
    ("sg", ["--read-vocab", "v.txt"], "--read-vocab does not apply with --continue"),
])
def test_bad_continuations_are_one_line_and_exit_1(corpora, saved_models, tmp_path, model, args, message):
    _, b = corpora
    args = [a.format(glcooc=saved_models / "gl.cooc", othercooc=saved_models / "other.cooc")
            for a in args]
    result = cli("train", b, "--continue", saved_models / f"{model}.etm", *args, "-o", tmp_path / "c")
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "c.vec").exists()


def test_a_file_that_is_not_a_model_is_one_line(corpora, tmp_path):
    a, b = corpora
    result = cli("train", b, "--continue", a, "-o", tmp_path / "c")
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "is not an embedtrain model file" in result.stderr
    with pytest.raises(EmbedtrainError, match="is not an embedtrain model file"):
        embedtrain.train(str(b), init=str(a))
    result = cli("train", "--graph", a, "--continue", a, "-o", tmp_path / "g")
    assert result.exit_code == 1 and "is not an embedtrain model file" in result.stderr


def test_the_library_refuses_with_embedtrain_error(corpora, saved_models):
    _, b = corpora
    model = embedtrain.load(saved_models / "sg.etm")
    with pytest.raises(EmbedtrainError, match="--dim cannot change when continuing"):
        embedtrain.train(str(b), init=model, dim=8)
    with pytest.raises(EmbedtrainError, match="either --resume or --continue"):
        embedtrain.train(str(b), init=model, resume=model)
    with pytest.raises(EmbedtrainError, match="--continue of a glove model does not work with --ray yet"):
        embedtrain.train(str(b), init=str(saved_models / "gl.etm"), cooccur=str(saved_models / "gl.cooc"),
                         ray="local")
    with pytest.raises(EmbedtrainError, match="--checkpoint-every does not work with --continue on --ray"):
        embedtrain.train(str(b), init=model, ray="local", checkpoint_every=5)
    with pytest.raises(EmbedtrainError, match="--checkpoint-every does not work with --continue of a glove"):
        embedtrain.train(str(b), init=str(saved_models / "gl.etm"), cooccur=str(saved_models / "gl.cooc"),
                         checkpoint_every=5)
    with pytest.raises(EmbedtrainError, match="continuing a GloVe model needs the co-occurrence matrix"):
        embedtrain.train(str(b), init=str(saved_models / "gl.etm"))


# --------------------------------------------------------------------------- --resume

def test_resume_refuses_another_corpus_before_reading_it(corpora, tmp_path):
    a, b = corpora
    ckpt = tmp_path / "run.ckpt"
    settings = dict(SETTINGS, epochs=3, checkpoint_every=1e-9)
    embedtrain.train(str(a), checkpoint=ckpt, keep_checkpoint=True, **settings)
    assert ckpt.exists()
    result = cli("train", b, "--resume", ckpt, "-o", tmp_path / "r")
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1
    assert f"another corpus (its run was started on {a}, not {b})" in result.stderr
    assert "--continue" in result.stderr
    moved = tmp_path / "moved.txt"
    moved.write_bytes(a.read_bytes())   # the same text elsewhere is the same corpus
    resumed = embedtrain.train(str(moved), resume=str(ckpt), progress=False)
    assert resumed.stats["resumed_from_checkpoint"]


def test_fasttext_subsamples_by_the_tokens_of_every_corpus(captured_tables):
    first = embedtrain.train(CORPUS_A, model="fasttext", bucket=5000, **dict(SETTINGS, sample=1e-2))
    continued = embedtrain.train(CORPUS_B, init=first, progress=False)
    both = Counter(w for s in CORPUS_A + CORPUS_B for w in s)
    counts = np.array([both[w] for w in continued.vocab.words], dtype=np.float64)
    ratio = 1e-2 * 8 * (len(CORPUS_A) + len(CORPUS_B)) / counts   # fastText's sqrt(t/f) + t/f
    keep = np.minimum(np.sqrt(ratio) + ratio, 1.0).astype(np.float32)
    np.testing.assert_allclose(captured_tables[-1].keep_prob, keep, rtol=1e-6)


def test_report_shows_the_lineage(corpora, saved_models, tmp_path):
    pytest.importorskip("matplotlib")
    from html.parser import HTMLParser

    from embedtrain.report import LINEAGE_HEADER

    _, b = corpora
    assert cli("train", b, "--continue", saved_models / "sg.etm", "--epochs", "1", "-q",
               "-o", tmp_path / "c").exit_code == 0
    result = cli("report", tmp_path / "c.etm", "-o", tmp_path / "c.html", "--words", 20)
    assert result.exit_code == 0, result.output

    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows, self.cell = [], None

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag):
            if tag in ("td", "th"):
                self.rows[-1].append("".join(self.cell).strip())
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell.append(data)

    page = Cells()
    page.feed((tmp_path / "c.html").read_text(encoding="utf-8"))
    start = page.rows.index(list(LINEAGE_HEADER))
    rows = page.rows[start + 1:start + 3]
    model = embedtrain.load(tmp_path / "c.etm")
    assert [r[1] for r in rows] == ["train", "continue"]
    assert rows[0][2].endswith("a.txt") and rows[1][2] == str(b)
    assert [r[3] for r in rows] == [f"{8 * len(CORPUS_A):,}", f"{8 * len(CORPUS_B):,}"]
    assert rows[1][4] == str(len(model.vocab))


def test_training_further_with_resume_and_glove_record_their_lineage(corpora, saved_models):
    a, b = corpora
    first = embedtrain.load(saved_models / "sg.etm")
    further = embedtrain.train(str(b), resume=first, progress=False, epochs=1)
    assert [e["mode"] for e in further.stats["lineage"]] == ["train", "resume"]
    assert further.stats["lineage"][-1]["vocab_words"] == len(first.vocab)   # fixed vocabulary
    glove = embedtrain.load(saved_models / "gl.etm")
    assert [e["corpus"]["files"][0]["path"] for e in glove.stats["lineage"]] == [str(a)]


# --------------------------------------------------------------------------- GloVe

def test_glove_continues_from_its_saved_matrix_plus_the_new_counts(corpora, saved_models, tmp_path):
    from embedtrain.io.cooc import CooccurrenceMatrix

    a, b = corpora
    first = embedtrain.load(saved_models / "gl.etm")
    continued = embedtrain.train(str(b), init=first, cooccur=str(saved_models / "gl.cooc"),
                                 save_cooccur=str(tmp_path / "ab.cooc"), progress=False, epochs=2)
    glove = {k: v for k, v in SETTINGS.items() if k != "sample"}
    embedtrain.train([str(a), str(b)], model="glove", save_cooccur=str(tmp_path / "both.cooc"),
                     **dict(glove, epochs=1))
    merged, both = CooccurrenceMatrix.load(tmp_path / "ab.cooc"), CooccurrenceMatrix.load(tmp_path / "both.cooc")
    assert sorted(merged.vocab.words) == sorted(both.vocab.words) and "lion" in continued
    order = [both.vocab.index[w] for w in merged.vocab.words]
    np.testing.assert_allclose(merged.dense(), both.dense()[np.ix_(order, order)], rtol=1e-12)
    assert merged.n_tokens == both.n_tokens
    assert [e["mode"] for e in continued.stats["lineage"]] == ["train", "continue"]
    # the starting rows: old words' trained weights, new words' as a fresh run's
    family = family_of("glove")
    arrays = family.grown_arrays(first, continued.config, continued.vocab, None)
    for word in first.vocab.words[:10]:
        np.testing.assert_array_equal(arrays["word_vectors"][continued.vocab.index[word]],
                                      first.arrays["word_vectors"][first.vocab.index[word]])
    from embedtrain.families.glove import initial_arrays
    start = initial_arrays(len(continued.vocab), continued.config.dim, continued.config.seed)
    new = continued.vocab.index["lion"]
    np.testing.assert_array_equal(arrays["context_vectors"][new], start["context_vectors"][new])


# --------------------------------------------------------------------------- graphs

KARATE = Path(__file__).resolve().parent.parent / "graphs" / "karate.edgelist"


def test_node_vectors_continue_on_a_new_edge_list(tmp_path):
    edges = [tuple(line.split()) for line in KARATE.read_text().splitlines() if line.strip()]
    old = tmp_path / "old.edgelist"
    old.write_text("".join(f"{a} {b}\n" for a, b in edges))
    first = embedtrain.train_graph(str(old), dim=16, threads=1, seed=4, progress=False)
    # new edges: nodes 101 and 102 joined to node 1's neighbourhood; node 34's edges absent
    kept = [(a, b) for a, b in edges if "34" not in (a, b)]
    new = tmp_path / "new.edgelist"
    new.write_text("".join(f"{a} {b}\n" for a, b in kept + [("101", "1"), ("101", "2"), ("102", "101")]))
    continued = embedtrain.train_graph(str(new), init=first, progress=False)
    assert "101" in continued and "102" in continued and len(continued.vocab) == len(first.vocab) + 2
    np.testing.assert_array_equal(continued["34"], first["34"])   # in no walk: its row is kept
    assert not np.array_equal(continued["1"], first["1"])
    lineage = continued.stats["lineage"]
    assert [e["mode"] for e in lineage] == ["train", "continue"]
    assert lineage[-1]["corpus"]["files"][0]["path"] == str(new)
    result = cli("train", "--graph", new, "--continue", tmp_path / "nothere.etm", "-o", tmp_path / "g")
    assert result.exit_code == 1 and "does not exist" in result.stderr
    first.save(tmp_path / "first")
    result = cli("train", "--graph", new, "--continue", tmp_path / "first.etm", "--dim", "8",
                 "-q", "-o", tmp_path / "g")
    assert result.exit_code == 1 and "--dim cannot change when continuing" in result.stderr
    result = cli("train", "--graph", new, "--continue", tmp_path / "first.etm", "-q", "-o", tmp_path / "g")
    assert result.exit_code == 0 and "101" in embedtrain.load(tmp_path / "g.etm")


def test_fasttext_full_layout_model_grows_as_the_compact_one(fasttext_pair):
    """A model file of the full layout (every bucket row, written before compact storage)
    carries the same rows over as the compact model it was made from."""
    from embedtrain.models import FastTextModel

    first, continued = fasttext_pair
    full = FastTextModel(first.config, first.vocab, {"input_vectors": first.full_input_matrix(),
                                                     "output_vectors": first.output_vectors})
    family = family_of("fasttext")
    layout = family.layout(continued.config, continued.vocab)
    from_full = family.grown_arrays(full, continued.config, continued.vocab, layout)
    from_compact = family.grown_arrays(first, continued.config, continued.vocab, layout)
    for name in ("input_vectors", "output_vectors"):
        np.testing.assert_array_equal(from_full[name], from_compact[name])



# --------------------------------------------------------------------------- resuming a continued run

@pytest.mark.parametrize("settings", [dict(model="skipgram"), dict(model="fasttext", bucket=5000, sample=1e-2)],
                         ids=["skipgram", "fasttext"])
def test_an_interrupted_continued_run_resumes_to_the_same_bytes(corpora, tmp_path, settings):
    a, b = corpora
    first = embedtrain.train(str(a), **dict(SETTINGS, **settings))
    whole = embedtrain.train(str(b), init=first, progress=False)
    ckpt = tmp_path / "run.ckpt"

    with pytest.raises(StopTraining):  # a checkpoint after every job (checkpoint_every tiny)
        embedtrain.train(str(b), init=first, checkpoint=ckpt, checkpoint_every=1e-9,
                         callbacks=[StopAtEpoch(2)], progress=False)
    result = cli("train", b, "--resume", ckpt, "-q", "-o", tmp_path / "r")
    assert result.exit_code == 0, result.output
    resumed = embedtrain.load(tmp_path / "r.etm")
    assert resumed.vocab.words == whole.vocab.words and "lion" in resumed
    for name in ("input_vectors", "output_vectors"):
        np.testing.assert_array_equal(resumed.arrays[name], whole.arrays[name])
    assert resumed.stats["lineage"] == whole.stats["lineage"]
    assert [e["mode"] for e in resumed.stats["lineage"]] == ["train", "continue"]
    assert resumed.vocab.unkept.words == whole.vocab.unkept.words


def test_train_more_is_train_with_init(word2vec_pair):
    first, continued = word2vec_pair
    again = first.train_more(CORPUS_B, progress=False)
    assert again.vocab.words == continued.vocab.words
    for name, array in continued.arrays.items():
        assert np.array_equal(again.arrays[name], array), name
    assert again is not first and len(first.vocab) < len(again.vocab)  # the first model is unchanged
