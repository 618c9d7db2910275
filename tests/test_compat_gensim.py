"""embedtrain.compat.gensim against gensim itself: every KeyedVectors method on the SAME
vectors (ours loaded into gensim's KeyedVectors), files both ways, and the Word2Vec /
FastText front: gensim's arguments, refusals, callbacks, loss, continuing, save/load."""
from __future__ import annotations

import numpy as np
import pytest

import embedtrain
from embedtrain.compat.gensim import FastText, KeyedVectors, Word2Vec, CallbackAny2Vec, datapath
from embedtrain.errors import EmbedtrainError

gensim = pytest.importorskip("gensim")
from gensim.models import KeyedVectors as GensimKV  # noqa: E402

pytestmark = pytest.mark.peers
QUERIES = ["king", "three", "france", "war", "music"]


@pytest.fixture(scope="module")
def pair(skipgram_model):
    """(our KeyedVectors, gensim's KeyedVectors) holding the same words and float32 rows."""
    ours = KeyedVectors._of(skipgram_model.vectors)
    theirs = GensimKV(ours.vector_size)
    theirs.add_vectors(list(ours.index_to_key), ours.vectors.copy())
    return ours, theirs


def same_answers(a, b, tol=1e-5):
    """The same (word, score) lists; two words whose scores differ by less than float32's
    rounding of two ways of computing them may trade places."""
    np.testing.assert_allclose([s for _, s in a], [s for _, s in b], rtol=0, atol=tol)
    scores = dict(b)
    for (wa, sa), (wb, _) in zip(a, b):
        if wa != wb:
            assert abs(scores.get(wa, b[-1][1]) - sa) < tol, (wa, wb)


def test_attributes_and_lookup(pair):
    ours, theirs = pair
    assert ours.index_to_key == theirs.index_to_key
    assert ours.key_to_index == theirs.key_to_index
    assert ours.vector_size == theirs.vector_size and len(ours) == len(theirs)
    ours.fill_norms()
    theirs.fill_norms()
    np.testing.assert_allclose(ours.norms, theirs.norms, rtol=1e-6)
    for w in QUERIES:
        np.testing.assert_array_equal(ours[w], theirs[w])
        np.testing.assert_allclose(ours.get_vector(w, norm=True), theirs.get_vector(w, norm=True), atol=1e-6)
        assert ours.get_index(w) == theirs.get_index(w)
    np.testing.assert_array_equal(ours[QUERIES], theirs[QUERIES])
    assert ("king" in ours) and ("notawordatall" not in ours)
    # the same names on embedtrain's own Vectors and Model
    model_vectors = ours._kv
    assert model_vectors.index_to_key is model_vectors.words and model_vectors.vector_size == 50


@pytest.mark.parametrize("kwargs", [
    dict(positive=["king"]),
    dict(positive="war", topn=5),
    dict(positive=["king", "woman"], negative=["man"], topn=10),
    dict(positive=[("king", 2.0), "woman"], negative=[("man", -0.5)]),
    dict(positive=["three"], restrict_vocab=500),
    dict(positive=["three"], clip_start=100, clip_end=900),
    dict(negative=["france"], positive=["paris", "germany"], topn=3),
])
def test_most_similar(pair, kwargs):
    ours, theirs = pair
    same_answers(ours.most_similar(**kwargs), theirs.most_similar(**kwargs))


def test_most_similar_with_vectors_and_all_scores(pair):
    ours, theirs = pair
    vec = ours["king"] * 3.0 + ours["queen"]
    same_answers(ours.most_similar(positive=[vec, "man"]), theirs.most_similar(positive=[vec, "man"]))
    same_answers(ours.similar_by_vector(vec, topn=7), theirs.similar_by_vector(vec, topn=7))
    same_answers(ours.similar_by_word("music", topn=4), theirs.similar_by_word("music", topn=4))
    same_answers(ours.similar_by_key("music", topn=4), theirs.similar_by_key("music", topn=4))
    np.testing.assert_allclose(ours.most_similar("king", topn=None), theirs.most_similar("king", topn=None),
                               atol=1e-5)
    assert ours.most_similar("king", topn=0) == theirs.most_similar("king", topn=0) == []


@pytest.mark.parametrize("kwargs", [
    dict(positive=["king", "woman"], negative=["man"]),
    dict(positive=["three"], topn=5),
    dict(positive="paris", negative="france"),
])
def test_most_similar_cosmul(pair, kwargs):
    ours, theirs = pair
    same_answers(ours.most_similar_cosmul(**kwargs), theirs.most_similar_cosmul(**kwargs))


def test_other_queries(pair):
    ours, theirs = pair
    words = ["king", "queen", "prince", "three"]
    assert ours.doesnt_match(words) == theirs.doesnt_match(words)
    got, want = ours.rank_by_centrality(words), theirs.rank_by_centrality(words)
    assert [w for _, w in got] == [w for _, w in want]
    np.testing.assert_allclose([s for s, _ in got], [s for s, _ in want], atol=1e-6)
    assert ours.n_similarity(["king", "queen"], ["man", "woman"]) == pytest.approx(
        theirs.n_similarity(["king", "queen"], ["man", "woman"]), abs=1e-6)
    for a, b in [("king", "queen"), ("three", "four"), ("war", "music")]:
        assert ours.similarity(a, b) == pytest.approx(theirs.similarity(a, b), abs=1e-6)
        assert ours.distance(a, b) == pytest.approx(theirs.distance(a, b), abs=1e-6)
        assert ours.rank(a, b) == theirs.rank(a, b)
        assert ours.closer_than(a, b) == theirs.closer_than(a, b)
    np.testing.assert_allclose(ours.distances("king"), theirs.distances("king"), atol=1e-6)
    np.testing.assert_allclose(ours.distances("king", ["queen", "war"]),
                               theirs.distances("king", ["queen", "war"]), atol=1e-6)
    np.testing.assert_allclose(ours.distances(ours["war"]), theirs.distances(theirs["war"]), atol=1e-6)
    np.testing.assert_allclose(KeyedVectors.cosine_similarities(ours["king"], ours.vectors[:20]),
                               GensimKV.cosine_similarities(theirs["king"], theirs.vectors[:20]), atol=1e-6)
    for flags in [dict(), dict(pre_normalize=False), dict(post_normalize=True),
                  dict(weights=[1.0, -2.0, 0.5])]:
        keys = ["king", "queen", np.ones(50, np.float32)]
        np.testing.assert_allclose(ours.get_mean_vector(keys, **flags), theirs.get_mean_vector(keys, **flags),
                                   atol=1e-6)
    assert np.allclose(ours.get_mean_vector(["king", "nosuchword"]), theirs.get_mean_vector(["king", "nosuchword"]))


def test_more_queries(pair, skipgram_model):
    ours, theirs = pair
    for attr, count in zip(theirs.index_to_key[:5], skipgram_model.vocab.counts[:5]):
        theirs.set_vecattr(attr, "count", int(count))
    for w in ("king", "war"):
        assert ours.most_similar_to_given(w, ["queen", "music", "three"]) == \
            theirs.most_similar_to_given(w, ["queen", "music", "three"])
        assert ours.relative_cosine_similarity(w, "queen", topn=5) == pytest.approx(
            theirs.relative_cosine_similarity(w, "queen", topn=5), abs=1e-6)
    assert ours.get_vecattr(theirs.index_to_key[3], "count") == theirs.get_vecattr(theirs.index_to_key[3], "count")
    keys = ["war", "king", "nosuchword", "war"]
    got, want = ours.vectors_for_all(keys), theirs.vectors_for_all(keys)
    assert got.index_to_key == want.index_to_key == ["war", "king"]
    np.testing.assert_array_equal(got.vectors, want.vectors)


def test_evaluate_word_pairs(pair):
    ours, theirs = pair
    path = datapath("wordsim353.tsv")
    for flags in [dict(), dict(dummy4unknown=True), dict(case_insensitive=False, restrict_vocab=3000)]:
        got, want = ours.evaluate_word_pairs(path, **flags), theirs.evaluate_word_pairs(path, **flags)
        for g, w in zip(got[:2], want[:2]):
            # float32 cosines rounded differently: agreement to 1e-6, not bit for bit
            assert g[0] == pytest.approx(w[0], abs=1e-6) and g.pvalue == pytest.approx(w.pvalue, rel=1e-4)
        assert got[2] == pytest.approx(want[2])
    r, p = ours.evaluate_word_pairs(path)[1]
    assert r == pytest.approx(ours.evaluate_word_pairs(path)[1].correlation)


def test_evaluate_word_analogies(pair):
    ours, theirs = pair
    path = datapath("questions-words.txt")
    for flags in [dict(restrict_vocab=1500), dict(restrict_vocab=1000, dummy4unknown=True)]:
        score, sections = ours.evaluate_word_analogies(path, **flags)
        want_score, want_sections = theirs.evaluate_word_analogies(path, **flags)
        assert score == pytest.approx(want_score)
        assert sections == want_sections
        # enough questions answered for the comparison to mean something (few are right on
        # 200,000 tokens: 2 to 8 of about 230, run to run)
        assert sections[-1]["section"] == "Total accuracy"
        assert len(sections[-1]["correct"]) + len(sections[-1]["incorrect"]) > 200


def test_word2vec_format_both_ways(pair, tmp_path):
    ours, theirs = pair
    ours.save_word2vec_format(tmp_path / "a.txt")
    ours.save_word2vec_format(tmp_path / "a.bin", binary=True)
    ours.save_word2vec_format(tmp_path / "a.glove", write_header=False)
    for name, flags in [("a.txt", {}), ("a.bin", dict(binary=True)), ("a.glove", dict(no_header=True))]:
        back = GensimKV.load_word2vec_format(tmp_path / name, **flags)
        assert back.index_to_key == ours.index_to_key
        np.testing.assert_allclose(back.vectors, ours.vectors, rtol=1e-5, atol=1e-6)
    theirs.save_word2vec_format(str(tmp_path / "g.bin"), binary=True)   # no newline after a vector
    theirs.save_word2vec_format(str(tmp_path / "g.txt"))
    for name, binary in [("g.bin", True), ("g.txt", False)]:
        for limit in (None, 100):
            got = KeyedVectors.load_word2vec_format(tmp_path / name, binary=binary, limit=limit)
            want = GensimKV.load_word2vec_format(str(tmp_path / name), binary=binary, limit=limit)
            assert got.index_to_key == want.index_to_key
            np.testing.assert_allclose(got.vectors, want.vectors, rtol=1e-5, atol=1e-6)
    with pytest.raises(EmbedtrainError, match="prefix"):
        ours.save_word2vec_format(tmp_path / "x.txt", prefix="x_")


def test_save_load_and_pickles(pair, tmp_path, skipgram_files):
    ours, theirs = pair
    ours.save(tmp_path / "v.kv")
    back = KeyedVectors.load(tmp_path / "v.kv", mmap="r")
    assert back.index_to_key == ours.index_to_key and np.array_equal(back.vectors, ours.vectors)
    assert embedtrain.load_vectors(tmp_path / "v.kv").words == ours.index_to_key
    theirs.save(str(tmp_path / "g.kv"))
    with pytest.raises(EmbedtrainError, match="gensim pickle") as err:
        KeyedVectors.load(tmp_path / "g.kv")
    assert "\n" not in str(err.value)
    with pytest.raises(EmbedtrainError, match="Python pickle"):
        embedtrain.load(tmp_path / "g.kv")
    with pytest.raises(EmbedtrainError, match="load_vectors"):
        embedtrain.load(skipgram_files["vec"])
    with pytest.raises(EmbedtrainError, match="load_vectors"):
        embedtrain.load(tmp_path / "v.kv")
    assert embedtrain.load_vectors(skipgram_files["vec"]).words == ours.index_to_key


# --------------------------------------------------------------------------- Word2Vec

@pytest.fixture(scope="module")
def sentences(sample_text):
    words = sample_text.split()[:60000]
    return [words[i:i + 40] for i in range(0, len(words), 40)]


class Recorder(CallbackAny2Vec):
    def __init__(self):
        self.calls, self.losses = [], []

    def on_train_begin(self, model):
        self.calls.append("train_begin")

    def on_epoch_begin(self, model):
        self.calls.append("epoch_begin")

    def on_epoch_end(self, model):
        self.calls.append("epoch_end")
        self.losses.append(model.get_latest_training_loss())

    def on_train_end(self, model):
        self.calls.append("train_end")
        assert len(model.wv) > 100


@pytest.fixture(scope="module")
def w2v(sentences):
    rec = Recorder()
    model = Word2Vec(sentences, vector_size=24, window=3, min_count=3, workers=1, sg=1, epochs=2,
                     alpha=0.03, min_alpha=0.001, seed=5, compute_loss=True, callbacks=[rec])
    return model, rec


def test_word2vec_settings_are_gensims(w2v):
    model, _ = w2v
    c = model.model.config
    assert (c.model, c.dim, c.window, c.min_count, c.threads, c.epochs, c.lr, c.min_lr, c.seed) == \
        ("skipgram", 24, 3, 3, 1, 2, 0.03, 0.001, 5)
    assert (c.negative, c.hs, c.sample, c.ns_exponent) == (5, False, 1e-3, 0.75)
    # gensim's numerics: negatives per pair, one linear schedule, vectors in [-1/dim, 1/dim)
    assert (c.shared_negatives, c.epoch_decay, c.init_bound) == (False, 1.0, 1.0)
    assert model.corpus_count == 1500 and model.corpus_total_words == 60000
    assert model.wv.vectors.shape == (len(model.wv), 24) and model.syn1neg.shape == model.wv.vectors.shape
    cbow = Word2Vec(vector_size=8, hs=1, negative=0)
    assert cbow._settings()["model"] == "cbow" and cbow._settings()["hs"] is True


def test_callbacks_and_loss(w2v, sentences):
    model, rec = w2v
    assert rec.calls == ["train_begin", "epoch_begin", "epoch_end", "epoch_begin", "epoch_end", "train_end"]
    assert 0 < rec.losses[0] < rec.losses[1] == model.get_latest_training_loss()
    quiet = Word2Vec(sentences[:200], vector_size=8, min_count=1, workers=1, epochs=1)
    assert quiet.get_latest_training_loss() == 0.0


def test_same_vectors_as_embedtrain_train(w2v, sentences, tmp_path):
    model, _ = w2v
    direct = embedtrain.train(sentences, model="skipgram", dim=24, window=3, min_count=3, threads=1, epochs=2,
                              lr=0.03, min_lr=0.001, seed=5, shared_negatives=False, epoch_decay=1.0,
                              init_bound=1.0, progress=False)
    assert np.array_equal(direct.vectors.vectors, model.wv.vectors)
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in sentences) + "\n")
    from_file = Word2Vec(corpus_file=str(path), vector_size=24, window=3, min_count=3, workers=1, sg=1,
                         epochs=2, alpha=0.03, min_alpha=0.001, seed=5)
    assert np.array_equal(from_file.wv.vectors, model.wv.vectors)
    assert from_file.corpus_count == 1500


def test_continue_and_train_more(w2v, sentences, tmp_path):
    model, _ = w2v
    model.save(tmp_path / "w.model")
    again = Word2Vec.load(tmp_path / "w.model")
    assert np.array_equal(again.wv.vectors, model.wv.vectors)
    new = [["zebra", "giraffe", "king"]] * 5 + sentences[:100]
    again.build_vocab(new, update=True)
    again.train(new, total_examples=len(new), epochs=2)
    assert "zebra" in again.wv.key_to_index and len(again.wv) > len(model.wv)
    expected = embedtrain.train(new, init=model.model, epochs=2, lr=0.03, min_lr=0.001, threads=1,
                                min_count=3, progress=False)
    assert np.array_equal(expected.vectors.vectors, again.wv.vectors)
    # train() without update: the same vocabulary trained further (embedtrain's resume)
    more = Word2Vec.load(tmp_path / "w.model")
    more.train(sentences[:100], total_examples=100, epochs=1)
    assert more.wv.index_to_key == model.wv.index_to_key
    assert not np.array_equal(more.wv.vectors, model.wv.vectors)


def test_build_vocab_then_train_is_the_constructor(sentences):
    """gensim's three steps (empty model, build_vocab, train) train what the constructor does."""
    settings = dict(vector_size=12, min_count=3, workers=1, epochs=1, seed=2)
    at_once = Word2Vec(sentences[:300], **settings)
    steps = Word2Vec(**settings)
    steps.build_vocab(sentences[:300])
    assert (steps.corpus_count, steps.corpus_total_words) == (300, 12000)
    steps.train(sentences[:300], total_examples=steps.corpus_count, epochs=steps.epochs)
    assert np.array_equal(at_once.wv.vectors, steps.wv.vectors)


def test_max_final_vocab_as_gensim(sentences):
    """gensim picks the min_count that leaves at most max_final_vocab words: the same vocabulary."""
    for cap, min_count in ((500, 2), (50_000, 3), (40, 30)):
        ours = Word2Vec(sentences[:300], vector_size=8, min_count=min_count, max_final_vocab=cap, workers=1,
                        epochs=1)
        theirs = gensim.models.Word2Vec(sentences[:300], vector_size=8, min_count=min_count,
                                        max_final_vocab=cap, workers=1, epochs=1)
        assert ours.effective_min_count == theirs.effective_min_count
        assert sorted(ours.wv.index_to_key) == sorted(theirs.wv.index_to_key)


def test_fasttext_continues(sentences):
    ft = FastText(sentences[:300], vector_size=12, min_count=3, workers=1, epochs=1, bucket=3000)
    new = [["zzebra", "the", "of"]] * 5
    ft.build_vocab(new, update=True)
    ft.train(new, total_examples=len(new), epochs=1)
    assert "zzebra" in ft.wv.key_to_index and ft.model.kind == "fasttext"


@pytest.mark.parametrize("argument, value", [
    ("hashfxn", lambda w: 0), ("null_word", 1), ("trim_rule", lambda *a: 1), ("sorted_vocab", 0),
    ("batch_words", 100), ("shrink_windows", False)])
def test_unsupported_arguments_refused(argument, value):
    with pytest.raises(EmbedtrainError, match=argument) as err:
        Word2Vec(**{argument: value})
    assert "\n" not in str(err.value)


def test_refusals(sentences):
    with pytest.raises(EmbedtrainError, match="cbow_mean"):
        Word2Vec(cbow_mean=0)
    with pytest.raises(EmbedtrainError, match="re-iterable"):
        Word2Vec(iter(sentences))
    with pytest.raises(EmbedtrainError, match="hs=1"):
        FastText(hs=1)
    model = Word2Vec(vector_size=8)
    with pytest.raises(EmbedtrainError, match="queue_factor"):
        model.train(sentences, total_examples=1, epochs=1, queue_factor=4)
    with pytest.raises(EmbedtrainError, match="once training ends"):
        model.wv
    with pytest.raises(EmbedtrainError, match="vector_size is gensim's name for dim"):
        embedtrain.train(sentences, vector_size=10)
    with pytest.raises(EmbedtrainError, match="threads=N"):
        embedtrain.train(sentences, workers=3)


def test_fasttext_front(sentences, tmp_path):
    ft = FastText(sentences[:400], vector_size=16, min_count=2, workers=1, epochs=1, bucket=5000,
                  min_n=3, max_n=5, sg=1)
    c = ft.model.config
    assert (c.model, c.arch, c.minn, c.maxn, c.bucket, c.lr, c.ns_exponent) == \
        ("fasttext", "skipgram", 3, 5, 5000, 0.025, 0.75)
    assert "qqqzzz" in ft.wv and "qqqzzz" not in ft.wv.key_to_index
    np.testing.assert_allclose(ft.wv["qqqzzz"], ft.model["qqqzzz"])
    ft.save(tmp_path / "ft.model")
    back = FastText.load(tmp_path / "ft.model")
    np.testing.assert_array_equal(back.wv["qqqzzz"], ft.wv["qqqzzz"])
    with pytest.raises(EmbedtrainError, match="not a Word2Vec"):
        Word2Vec.load(tmp_path / "ft.model")


def test_model_has_wv_and_cosmul(skipgram_model):
    assert skipgram_model.wv is skipgram_model.vectors
    assert skipgram_model.most_similar_cosmul(positive=["king", "woman"], negative=["man"], topn=3) == \
        skipgram_model.vectors.most_similar_cosmul(positive=["king", "woman"], negative=["man"], topn=3)


def test_pvalues_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    from embedtrain.gensim_eval import pearson, spearman

    rng = np.random.default_rng(3)
    for n in (3, 10, 353):
        x = rng.normal(size=n)
        y = x * 0.3 + rng.normal(size=n)
        y[: n // 3] = np.round(y[: n // 3])   # ties
        for ours, theirs in ((pearson(x, y), stats.pearsonr(x, y)), (spearman(x, y), stats.spearmanr(x, y))):
            assert ours[0] == pytest.approx(theirs[0], abs=1e-12)
            assert ours[1] == pytest.approx(theirs[1], rel=1e-9, abs=1e-300)


@pytest.mark.slow
def test_gensim_usage_script_runs_both_ways(tmp_path):
    """scripts/gensim_usage.py (gensim's documented usage) runs with gensim and with
    embedtrain.compat.gensim, the code the same but for the import block; the results
    agree within the noise between seeds of a model of 200,000 tokens.

    Both train with one worker, so both runs are reproducible: with two workers gensim's
    WordSim-353 on this corpus moved from 0.09 to 0.20 between runs (a CI run failed on it)."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "scripts" / "gensim_usage.py"
    env = dict(os.environ, PYTHONPATH=str(script.parent.parent))
    results = {}
    for impl in ("embedtrain", "gensim"):
        (tmp_path / impl).mkdir()
        done = subprocess.run([sys.executable, str(script), "--impl", impl, "--workdir", str(tmp_path / impl)],
                              capture_output=True, text=True, env=env, check=True)
        results[impl] = json.loads(done.stdout.strip().splitlines()[-1])
    ours, theirs = results["embedtrain"], results["gensim"]
    for key in ("vocabulary", "vector_shape", "reloaded_equal", "zebra_added", "fasttext_oov_shape",
                "fasttext_oov_in"):
        assert ours[key] == theirs[key], key
    # doesnt_match of two independently trained models of 200,000 tokens is a coin toss between
    # 'music' and a country (it differed between runs); it is compared with gensim's on the same
    # vectors in test_other_queries. Here it must name one of the four words.
    assert ours["doesnt_match"] in ("france", "germany", "italy", "music")
    assert ours["reloaded_equal"] and ours["zebra_added"] and ours["fasttext_oov_in"]
    for key, noise in (("wordsim353", 0.1), ("fasttext_wordsim353", 0.1), ("analogies", 0.02),
                       ("similarity_woman_man", 0.15)):
        assert abs(ours[key] - theirs[key]) < noise, (key, ours[key], theirs[key])


def test_min_lr_is_the_schedules_floor(sentences):
    """--min-lr (gensim's min_alpha): the rate stops falling there; unset, word2vec.c's floor."""
    ends = {}

    class Last(embedtrain.Callback):
        def on_epoch_end(self, info):
            ends[key] = info.lr

    for key, extra in (("floor", dict(min_lr=0.01)), ("default", {})):
        embedtrain.train(sentences[:200], model="cbow", dim=8, min_count=2, threads=1, epochs=1, lr=0.04,
                         progress=False, callbacks=[Last()], **extra)
    assert ends["floor"] == pytest.approx(0.01)
    assert ends["default"] < 0.04 * 1e-3   # near zero: lr / (words + 1), or the floor lr x 1e-4
    with pytest.raises(EmbedtrainError, match="must not exceed --lr"):
        embedtrain.train(sentences[:10], lr=0.01, min_lr=0.02)
