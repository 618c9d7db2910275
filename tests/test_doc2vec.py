"""doc2vec (PV-DBOW): the kernels against plain-numpy references, deterministic
inference, the model file, the CLI, and similar documents closer than unrelated ones."""
from __future__ import annotations

import subprocess
import sys
import zlib

import numpy as np
import pytest

import embedtrain
from embedtrain.corpus import SENTENCE_END
from embedtrain.errors import EmbedtrainError
from embedtrain.kernels import common as c
from embedtrain.kernels import doc2vec as k
from embedtrain.models import Doc2VecModel
from embedtrain.vocab import Vocab

from reference_doc2vec import infer_document, train_document

COUNTS = np.array([40, 25, 12, 9, 5, 3, 2], dtype=np.int64)
WORDS = [f"w{i}" for i in range(len(COUNTS))]
SENTENCE = np.array([0, 3, 1, 0, 5, 2, 6, 4, 1, 0], dtype=np.int32)


def _tables(vocab, sample):
    noise = vocab.noise_sampler(0.75)
    sig, logsig = c.sigmoid_tables()
    return k.Doc2VecTables(vocab.keep_prob(sample), noise.prob, noise.alias, sig, logsig)


@pytest.mark.parametrize("train_words", [False, True])
@pytest.mark.parametrize("sample", [0.0, 0.05])
def test_kernel_step_matches_reference(train_words, sample):
    rng = np.random.default_rng(zlib.crc32(repr((train_words, sample)).encode()) % 1000)
    vocab = Vocab(WORDS, COUNTS)
    dim, negative, window, lr, state0 = 8, 3, 3, 0.4, 987654321
    docs = rng.uniform(-0.5, 0.5, (3, dim)).astype(np.float32)
    inp = rng.uniform(-0.5, 0.5, (len(vocab), dim)).astype(np.float32)
    out = rng.uniform(-0.5, 0.5, (len(vocab), dim)).astype(np.float32)
    tables = _tables(vocab, sample)

    ref = [a.astype(np.float64) for a in (docs, inp, out)]
    ref_state = train_document(SENTENCE, ref[0][2], ref[1], ref[2], tables.keep_prob, tables.noise_prob,
                               tables.noise_alias, window, negative, train_words, lr, state0)
    got = [a.copy() for a in (docs, inp, out)]
    state = np.array([state0], dtype=np.uint64)
    params = k.Doc2VecSettings(window, negative, train_words, lr, c.WORD2VEC_LR_FLOOR, c.WORD2VEC_LR_OFFSET,
                               0, 10**12)
    words, loss, examples = k.train_chunk(np.append(SENTENCE, np.int32(SENTENCE_END)),
                                          np.array([2], dtype=np.int32), k.Doc2VecWeights(*got), tables,
                                          params, state)
    assert words == len(SENTENCE) and examples > 0 and np.isfinite(loss) and loss > 0
    assert int(state[0]) == ref_state  # the same draws in the same order
    for name, before, after, expected in zip(("doc", "input", "output"), (docs, inp, out), got, ref):
        change, ref_change = after - before, expected - before
        if name == "input" and not train_words:
            assert not change.any()
            continue
        if name == "doc":
            assert not change[:2].any()  # only the line's own document moves
        assert np.abs(ref_change).max() > 1e-3
        np.testing.assert_allclose(change, ref_change, rtol=0, atol=5e-3 * np.abs(ref_change).max() + 1e-6,
                                   err_msg=name)


def test_inference_matches_reference():
    rng = np.random.default_rng(5)
    vocab = Vocab(WORDS, COUNTS)
    dim = 8
    out = rng.uniform(-0.5, 0.5, (len(vocab), dim)).astype(np.float32)
    frozen = out.copy()
    tables = _tables(vocab, 0.05)
    docs = [SENTENCE, SENTENCE[:4], np.zeros(0, dtype=np.int32)]
    ids = np.concatenate(docs).astype(np.int32)
    offsets = np.cumsum([0] + [len(d) for d in docs]).astype(np.int64)
    got = np.empty((len(docs), dim), dtype=np.float32)
    k.infer_documents(ids, offsets, out, tuple(tables), (4, 3, 0.3, c.WORD2VEC_LR_FLOOR), np.uint64(17), got)
    np.testing.assert_array_equal(out, frozen)  # the model is not changed
    for doc, vec in zip(docs, got):
        want = infer_document(doc, out.astype(np.float64), tables.keep_prob, tables.noise_prob,
                              tables.noise_alias, 4, 3, 0.3, c.WORD2VEC_LR_FLOOR, 17)
        np.testing.assert_allclose(vec, want, rtol=0, atol=5e-3 * np.abs(want).max())


# ----------------------------------------------------------------------- a trained model
TOPICS = {"war": "war army battle soldiers military troops attack fought enemy forces".split(),
          "music": "music album band song rock singer guitar records songs released".split(),
          "science": "theory physics mathematics energy equation scientific particles quantum".split()}


@pytest.fixture(scope="module")
def topic_docs():
    """Documents of a few words of one topic each, among common words."""
    rng = np.random.default_rng(2)
    filler = "the of and in a to is was".split()
    out = []
    for i in range(300):
        topic = list(TOPICS)[i % 3]
        words = list(rng.choice(TOPICS[topic], 5)) + list(rng.choice(filler, 3))
        rng.shuffle(words)
        out.append((topic, words))
    return out


@pytest.fixture(scope="module")
def d2v(topic_docs):
    return embedtrain.train([w for _, w in topic_docs], model="doc2vec", dim=24, epochs=60, min_count=1,
                            sample=0.0, threads=1, progress=False, seed=3)


def test_inference_is_deterministic(d2v, topic_docs):
    words = topic_docs[0][1]
    a = d2v.infer_vector(words, seed=5)
    assert np.array_equal(a, d2v.infer_vector(words, seed=5))
    assert np.array_equal(a, d2v.infer_vector(" ".join(words), seed=5))
    # in any batch, at any position
    batch = d2v.infer_vectors([topic_docs[1][1], words, words], seed=5)
    assert np.array_equal(batch[1], a) and np.array_equal(batch[2], a)
    assert not np.array_equal(a, d2v.infer_vector(words, seed=6))
    assert not np.array_equal(a, d2v.infer_vector(words, epochs=3, seed=5))


def _cos(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_similar_documents_are_closer(d2v, topic_docs):
    """Trained and inferred vectors: a document is closer to documents of its topic."""
    topics = np.array([t for t, _ in topic_docs])
    for vectors in (d2v.arrays["doc_vectors"], d2v.infer_vectors([w for _, w in topic_docs])):
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        sims = unit @ unit.T
        same = topics[:, None] == topics[None, :]
        np.fill_diagonal(same, False)
        other = topics[:, None] != topics[None, :]
        assert sims[same].mean() > sims[other].mean() + 0.2
    fresh = d2v.infer_vector("battle army soldiers war the".split())
    war = d2v.arrays["doc_vectors"][topics == "war"].mean(axis=0)
    music = d2v.arrays["doc_vectors"][topics == "music"].mean(axis=0)
    assert _cos(fresh, war) > _cos(fresh, music) + 0.2


def test_dbow_words_trains_the_word_vectors(topic_docs):
    docs = [w for _, w in topic_docs]
    plain = embedtrain.train(docs, model="doc2vec", dim=16, epochs=3, min_count=1, threads=1,
                             progress=False, seed=3)
    words = embedtrain.train(docs, model="doc2vec", dim=16, epochs=30, min_count=1, threads=1,
                             progress=False, seed=3, dbow_words=True)
    from embedtrain.families.word2vec import init_input_vectors

    start = init_input_vectors(len(plain.vocab), 16, 3, 1.0)
    np.testing.assert_array_equal(plain.arrays["input_vectors"], start)  # gensim: untouched
    assert not np.array_equal(words.arrays["input_vectors"], start)
    war = [w for w in TOPICS["war"] if w != "army"]
    assert min(words.similarity("army", w) for w in war) > max(words.similarity("army", w)
                                                               for w in TOPICS["music"])


def test_one_thread_is_reproducible(topic_docs):
    docs = [w for _, w in topic_docs]
    a, b = (embedtrain.train(docs, model="doc2vec", dim=8, epochs=2, min_count=1, threads=1, progress=False,
                             seed=9) for _ in range(2))
    assert np.array_equal(a.arrays["doc_vectors"], b.arrays["doc_vectors"])


def test_doc_ids_group_lines(tmp_path):
    path = tmp_path / "docs.txt"
    path.write_text("a the king rules\nb the queen sings\na the king fights\n\nc war\n")
    model = embedtrain.train(path, model="doc2vec", doc_id=True, dim=4, epochs=1, min_count=1, threads=1,
                             progress=False)
    assert model.doc_tags == ["a", "b", "c"]
    assert "a" not in model.vocab  # the ids are not words
    lines = embedtrain.train(path, model="doc2vec", dim=4, epochs=1, min_count=1, threads=1, progress=False)
    assert lines.doc_tags == ["0", "1", "2", "3", "4"]


def test_model_file_and_cli(d2v, topic_docs, tmp_path):
    vec, etm = d2v.save(tmp_path / "d2v")
    docs_vec = tmp_path / "d2v.docs.vec"
    loaded = embedtrain.load(etm)
    assert isinstance(loaded, Doc2VecModel) and loaded.doc_tags == d2v.doc_tags
    np.testing.assert_array_equal(loaded.arrays["doc_vectors"], d2v.arrays["doc_vectors"])
    from embedtrain.io.formats import load_vectors

    docvecs = load_vectors(docs_vec)
    assert docvecs.words == d2v.doc_tags
    np.testing.assert_allclose(docvecs.vectors, d2v.arrays["doc_vectors"], rtol=1e-5, atol=1e-6)
    text = "\n".join(" ".join(w) for _, w in topic_docs[:5]) + "\n"
    out = subprocess.run([sys.executable, "-m", "embedtrain", "doc-vectors", str(etm), "-", "--seed", "4"],
                         input=text, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    printed = np.array([[float(x) for x in line.split()] for line in out.stdout.splitlines()])
    np.testing.assert_allclose(printed, d2v.infer_vectors([w for _, w in topic_docs[:5]], seed=4),
                               rtol=1e-5, atol=1e-6)
    out = subprocess.run([sys.executable, "-m", "embedtrain", "doc-vectors", str(etm), "-", "--sif"],
                         input=text, capture_output=True, text=True)
    assert out.returncode == 1 and "--sif applies to word vectors" in out.stderr


def test_refusals(topic_docs, tmp_path):
    docs = [w for _, w in topic_docs]
    with pytest.raises(EmbedtrainError, match="does not apply|applies to"):
        embedtrain.train(docs, model="doc2vec", hs=True, progress=False)
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(EmbedtrainError, match="no document"):
        embedtrain.train(tmp_path / "empty.txt", model="doc2vec", progress=False)
    with pytest.raises(EmbedtrainError, match="min-count"):
        embedtrain.train([["a"], ["b"]], model="doc2vec", min_count=5, progress=False)
    with pytest.raises(EmbedtrainError, match="checkpoint"):
        embedtrain.train(docs, model="doc2vec", checkpoint_every=10, checkpoint=tmp_path / "x.ckpt",
                         progress=False)


def test_cli_train_writes_word_and_document_vectors(topic_docs, tmp_path):
    corpus = tmp_path / "docs.txt"
    corpus.write_text("".join(f"d{i % 50} {' '.join(w)}\n" for i, (_, w) in enumerate(topic_docs)))
    prefix = tmp_path / "run"
    out = subprocess.run([sys.executable, "-m", "embedtrain", "-q", "train", str(corpus), "--model", "doc2vec",
                          "--doc-id", "--dbow-words", "--min-count", "1", "--epochs", "2", "--dim", "8",
                          "--threads", "1", "-o", str(prefix)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    model = embedtrain.load(f"{prefix}.etm")
    assert model.doc_tags == [f"d{i}" for i in range(50)] and model.config.dbow_words
    from embedtrain.io.formats import load_vectors

    assert load_vectors(f"{prefix}.docs.vec").words == model.doc_tags
    assert load_vectors(f"{prefix}.vec").words == model.vocab.words
    out = subprocess.run([sys.executable, "-m", "embedtrain", "train", str(corpus), "--model", "doc2vec",
                          "--hs", "-o", str(tmp_path / "x")], capture_output=True, text=True)
    assert out.returncode != 0 and "Traceback" not in out.stderr
