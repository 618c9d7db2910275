"""embedtrain.compat.gensim's Doc2Vec and TaggedDocument against gensim's Doc2Vec(dm=0)
on the same small synthetic corpus: the same vocabulary, the same dv keys and shape,
deterministic inference, similar documents closer, save/load, and the refusals."""
from __future__ import annotations

import numpy as np
import pytest

from embedtrain.compat.gensim import Doc2Vec as _Doc2Vec
from embedtrain.compat.gensim import KeyedVectors, TaggedDocument
from embedtrain.errors import EmbedtrainError

gensim = pytest.importorskip("gensim")
from gensim.models.doc2vec import Doc2Vec as GensimDoc2Vec  # noqa: E402
from gensim.models.doc2vec import TaggedDocument as GensimTagged  # noqa: E402

pytestmark = pytest.mark.peers
TOPICS = 4


def Doc2Vec(*args, **kwargs):
    """Ours with dm=0 (PV-DBOW), as every gensim call below says dm=0: gensim's default dm=1
    (PV-DM) is refused (test_gensims_default_dm_is_refused)."""
    kwargs.setdefault("dm", 0)
    return _Doc2Vec(*args, **kwargs)


def test_gensims_default_dm_is_refused(int_docs):
    with pytest.raises(EmbedtrainError, match="dm=1 .PV-DM. is not supported") as err:
        _Doc2Vec(int_docs, vector_size=8, min_count=2, workers=1)
    assert "\n" not in str(err.value)


SETTINGS = dict(vector_size=24, min_count=2, epochs=40, workers=1, seed=3)


def _corpus(tags):
    """200 documents, document d about topic d % 4 (12 of its 30 words) plus 4 common
    words; ``tags(d)`` gives document d's tag."""
    rng = np.random.default_rng(0)
    topics = [[f"t{k}w{i}" for i in range(30)] for k in range(TOPICS)]
    common = [f"c{i}" for i in range(20)] + ["rare"]
    docs = []
    for d in range(200):
        words = [str(w) for w in rng.choice(topics[d % TOPICS], 12)] + [str(w) for w in rng.choice(common[:-1], 4)]
        if d == 7:
            words.append("rare")  # once: below min_count
        docs.append(TaggedDocument(words, [tags(d)]))
    return docs


@pytest.fixture(scope="module")
def int_docs():
    return _corpus(lambda d: d)


@pytest.fixture(scope="module")
def pair(int_docs):
    ours = Doc2Vec(int_docs, **SETTINGS)
    theirs = GensimDoc2Vec([GensimTagged(d.words, d.tags) for d in int_docs], dm=0, **SETTINGS)
    return ours, theirs


def test_tagged_document_is_gensims_namedtuple():
    doc = TaggedDocument(["a", "b"], [3])
    assert doc.words == ["a", "b"] and doc.tags == [3] and tuple(doc) == tuple(GensimTagged(["a", "b"], [3]))
    assert str(doc) == str(GensimTagged(["a", "b"], [3]))


def test_same_vocabulary_and_dv_keys_as_gensim(pair):
    ours, theirs = pair
    assert sorted(ours.wv.index_to_key) == sorted(theirs.wv.index_to_key)
    assert "rare" not in ours.wv and ours.wv.vector_size == theirs.wv.vector_size
    assert ours.dv.index_to_key == theirs.dv.index_to_key == list(range(200))
    assert ours.dv.key_to_index == theirs.dv.key_to_index  # gensim lists no int tag here
    assert ours.dv.vectors.shape == theirs.dv.vectors.shape and ours.dv.vector_size == 24
    assert len(ours.dv) == len(theirs.dv) and (5 in ours.dv) == (5 in theirs.dv)
    assert ours.dv.get_index(5) == theirs.dv.get_index(5) == 5
    assert ours.dv[[3, 4]].shape == theirs.dv[[3, 4]].shape
    assert ours.corpus_count == theirs.corpus_count and ours.corpus_total_words == theirs.corpus_total_words
    np.testing.assert_array_equal(ours.dv[9], ours.model.docvecs["9"])


def test_string_tags_gaps_and_shared_tags_as_gensim():
    docs = _corpus(lambda d: f"doc{d % 50}")  # four documents share each tag
    docs += [TaggedDocument(["t0w1", "t0w2"], [12])]  # an int tag: rows 0..12 come first
    ours = Doc2Vec(docs, vector_size=8, min_count=2, epochs=2, workers=1)
    theirs = GensimDoc2Vec([GensimTagged(d.words, d.tags) for d in docs], dm=0, vector_size=8, min_count=2,
                           epochs=2, workers=1)
    assert ours.dv.index_to_key == theirs.dv.index_to_key
    assert ours.dv.key_to_index == theirs.dv.key_to_index
    assert ours.dv.vectors.shape == theirs.dv.vectors.shape == (13 + 50, 8)
    top = ours.dv.most_similar("doc3", topn=70)
    assert {k for k, _ in top} == set(ours.dv.index_to_key) - {"doc3"}
    assert all(isinstance(k, int) for k, _ in top if not str(k).startswith("doc"))


def test_similar_documents_closer(pair):
    ours, theirs = pair
    for model in (ours, theirs):  # the same test passes for both
        hits = 0
        for d in range(0, 200, 10):
            top = [k for k, _ in model.dv.most_similar(d, topn=5)]
            hits += sum(k % TOPICS == d % TOPICS for k in top)
        assert hits >= 0.8 * 5 * 20, type(model)
    sims = ours.dv.most_similar(positive=[ours.infer_vector(_corpus(lambda d: d)[8].words)], topn=10)
    assert sum(k % TOPICS == 0 for k, _ in sims) >= 8


def test_infer_vector_deterministic_gensims_is_not(pair, int_docs):
    ours, theirs = pair
    words = int_docs[5].words
    a, b = ours.infer_vector(words), ours.infer_vector(words)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and a.shape == (24,)
    assert not np.array_equal(theirs.infer_vector(words), theirs.infer_vector(words))
    # its own document is among the inferred vector's nearest trained ones, as in gensim
    for model in (ours, theirs):
        near = [k for k, _ in model.dv.most_similar([model.infer_vector(words, epochs=40)], topn=20)]
        assert 5 in near, type(model)
    # alpha, min_alpha, epochs are passed on (a reference run of embedtrain's own inference)
    c = ours.infer_vector(words, alpha=0.05, min_alpha=0.01, epochs=3)
    np.testing.assert_array_equal(c, ours.model.infer_vectors([words], epochs=3, lr=0.05, min_lr=0.01)[0])
    assert not np.array_equal(c, a)
    with pytest.raises(EmbedtrainError, match="list of tokens"):
        ours.infer_vector("a string")


def test_build_vocab_then_train_is_the_constructor(int_docs):
    a = Doc2Vec(int_docs, vector_size=8, min_count=2, epochs=3, workers=1)
    b = Doc2Vec(vector_size=8, min_count=2, epochs=3, workers=1)
    with pytest.raises(EmbedtrainError, match="not trained yet"):
        b.dv
    b.build_vocab(int_docs)
    assert b.corpus_count == 200
    b.train(int_docs, total_examples=b.corpus_count, epochs=b.epochs)
    np.testing.assert_array_equal(a.dv.vectors, b.dv.vectors)
    with pytest.raises(EmbedtrainError, match="does not continue"):
        b.train(int_docs, total_examples=b.corpus_count, epochs=b.epochs)


def test_corpus_file_tags_lines_as_gensim(tmp_path, int_docs):
    path = tmp_path / "docs.txt"
    path.write_text("".join(" ".join(d.words) + "\n" for d in int_docs[:60]))
    ours = Doc2Vec(corpus_file=str(path), vector_size=8, min_count=2, epochs=2, workers=1)
    theirs = GensimDoc2Vec(corpus_file=str(path), dm=0, vector_size=8, min_count=2, epochs=2, workers=1)
    assert ours.dv.index_to_key == theirs.dv.index_to_key == list(range(60))
    assert sorted(ours.wv.index_to_key) == sorted(theirs.wv.index_to_key)


def test_save_load_keeps_int_tags_and_refuses_pickle(pair, tmp_path):
    ours, theirs = pair
    ours.save(tmp_path / "m.etm")
    back = _Doc2Vec.load(tmp_path / "m.etm")
    assert back.dv.index_to_key == ours.dv.index_to_key and back.vector_size == 24
    np.testing.assert_array_equal(back.dv.vectors, ours.dv.vectors)
    np.testing.assert_array_equal(back.infer_vector(["t1w3", "t1w4"]), ours.infer_vector(["t1w3", "t1w4"]))
    assert back.dv.most_similar(4, topn=3) == ours.dv.most_similar(4, topn=3)
    theirs.save(str(tmp_path / "g.model"))
    with pytest.raises(EmbedtrainError, match="gensim pickle"):
        _Doc2Vec.load(tmp_path / "g.model")
    assert isinstance(ours.dv, KeyedVectors) and isinstance(ours.wv, KeyedVectors)


@pytest.mark.parametrize("kwargs, message", [
    (dict(dm=1), "dm=1 .PV-DM. is not supported"),
    (dict(dm=1, dm_concat=1, hs=1), "dm=1 .*dm_concat, hs are not supported"),
    (dict(dm_mean=1), "dm_mean is not supported"),
    (dict(min_alpha=0.001), "min_alpha is not supported"),
    (dict(shrink_windows=False, trim_rule=len), "trim_rule, shrink_windows are not supported"),
    (dict(vectorsize=10), "vectorsize is not an argument"),
    (dict(negative=0), "negative"),
])
def test_unsupported_arguments_refused_in_one_line(kwargs, message):
    with pytest.raises(EmbedtrainError, match=message) as err:
        Doc2Vec(**kwargs)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("docs, message", [
    ([TaggedDocument(["a", "b"], [1, "x"])], "one tag each"),
    ([TaggedDocument(["a", "b"], "doc")], "one tag each"),
    ([TaggedDocument(["a", "b"], ["two words"])], "without whitespace"),
    ([TaggedDocument(["a", "b"], [-1])], ">= 0"),
    ([["a", "b"]], "not a TaggedDocument"),
    ([TaggedDocument("a b", [0])], "words is a string"),
    ([TaggedDocument(["a"], [3]), TaggedDocument(["b"], ["2"])], "would name one document"),
    ((TaggedDocument(["a"], [0]) for _ in range(2)), "re-iterable"),
])
def test_bad_documents_refused_in_one_line(docs, message):
    with pytest.raises(EmbedtrainError, match=message) as err:
        Doc2Vec(docs, min_count=1, workers=1)
    assert "\n" not in str(err.value)


def test_train_and_build_vocab_refusals(int_docs):
    model = Doc2Vec(vector_size=8, min_count=2, workers=1)
    with pytest.raises(EmbedtrainError, match="update=True"):
        model.build_vocab(int_docs, update=True)
    with pytest.raises(EmbedtrainError, match="end_alpha"):
        model.train(int_docs, total_examples=200, epochs=2, end_alpha=0.01)
    with pytest.raises(EmbedtrainError, match="either corpus_iterable"):
        model.train(total_examples=200, epochs=2)


def test_callbacks_and_loss(int_docs):
    from embedtrain.compat.gensim import CallbackAny2Vec

    class Count(CallbackAny2Vec):
        def __init__(self):
            self.epochs, self.ended, self.losses = 0, 0, []

        def on_epoch_end(self, model):
            self.epochs += 1
            self.losses.append(model.get_latest_training_loss())

        def on_train_end(self, model):
            self.ended += 1

    seen = Count()
    model = Doc2Vec(int_docs, vector_size=8, min_count=2, epochs=3, workers=1, compute_loss=True,
                    callbacks=[seen])
    assert seen.epochs == 3 and seen.ended == 1
    assert 0 < seen.losses[0] < seen.losses[-1] == model.get_latest_training_loss()


def test_dv_methods_take_and_give_gensims_keys():
    """dv's queries with int and string tags give what gensim's KeyedVectors gives on the
    same vectors (int tags in, int tags out)."""
    from gensim.models import KeyedVectors as GensimKV

    docs = _corpus(lambda d: d if d < 100 else f"s{d}")
    ours = Doc2Vec(docs, vector_size=16, min_count=2, epochs=5, workers=1).dv
    theirs = GensimKV(16)
    theirs.add_vectors(ours.index_to_key, ours.vectors.copy())

    def same(a, b):
        assert [k for k, _ in a] == [k for k, _ in b]
        np.testing.assert_allclose([s for _, s in a], [s for _, s in b], atol=1e-5)

    same(ours.most_similar(3, topn=8), theirs.most_similar(3, topn=8))
    same(ours.most_similar(positive=[3, "s150"], negative=[7], topn=8),
         theirs.most_similar(positive=[3, "s150"], negative=[7], topn=8))
    # (gensim's most_similar_cosmul fails on int keys; compared on string keys, int keys checked against numpy)
    same(ours.most_similar_cosmul(positive=["s120", "s150"], topn=5),
         theirs.most_similar_cosmul(positive=["s120", "s150"], topn=5))
    cosmul = ours.most_similar_cosmul(positive=[3], topn=3)
    unit = ours.vectors / np.linalg.norm(ours.vectors, axis=1, keepdims=True)
    scores = (1 + unit @ unit[3]) / 2
    scores[3] = -np.inf
    assert [k for k, _ in cosmul] == [ours.index_to_key[i] for i in np.argsort(-scores)[:3]]
    same(ours.similar_by_key("s120", topn=5), theirs.similar_by_key("s120", topn=5))
    same(ours.similar_by_vector(ours[9], topn=5), theirs.similar_by_vector(theirs[9], topn=5))
    assert ours.similarity(3, "s150") == pytest.approx(theirs.similarity(3, "s150"), abs=1e-6)
    assert ours.distance(3, 8) == pytest.approx(theirs.distance(3, 8), abs=1e-6)
    assert ours.n_similarity([1, 2], ["s101", 4]) == pytest.approx(theirs.n_similarity([1, 2], ["s101", 4]), abs=1e-5)
    assert ours.doesnt_match([0, 4, 8, 1]) == theirs.doesnt_match([0, 4, 8, 1])
    assert ours.rank(0, 4) == theirs.rank(0, 4)
    assert ours.closer_than(0, 4) == theirs.closer_than(0, 4)
    assert isinstance(ours.most_similar(0, topn=1)[0][0], int)
