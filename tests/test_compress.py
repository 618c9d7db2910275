"""Compressed models (int8, product quantisation) and memory-mapped loading: kernels
against plain-numpy references, every reader on a compressed model, bad input."""
from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

import embedtrain
from embedtrain.cli import main
from embedtrain.errors import EmbedtrainError
from embedtrain.kernels import quantize
from embedtrain.ngram_rows import NgramRows
from embedtrain.quantization import CodedRows, encode_rows

import reference_quantize as ref

from conftest import SAMPLE_CORPUS


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_line_error(result, *fragments):
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("embedtrain: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def fasttext_file(tmp_path_factory):
    model = embedtrain.train(SAMPLE_CORPUS, model="fasttext", dim=20, epochs=1, threads=1,
                             progress=False, seed=5, bucket=20000)
    _, path = model.save(tmp_path_factory.mktemp("ft") / "ft")
    return path


@pytest.fixture(scope="module")
def compressed(skipgram_files, fasttext_file, tmp_path_factory):
    """{(kind, method): path of the compressed model}."""
    out = {}
    d = tmp_path_factory.mktemp("small")
    for kind, source in (("skipgram", skipgram_files["model"]), ("fasttext", fasttext_file)):
        for method, extra in (("int8", {}), ("pq", {"pq_subvectors": 10}),
                              ("pq-qnorm", {"pq_subvectors": 10, "qnorm": True}),
                              ("pq-opq", {"pq_subvectors": 10, "pq_rotation": "opq", "pq_iterations": 3})):
            if kind == "fasttext" and method in ("pq-qnorm", "pq-opq"):
                continue
            path = d / f"{kind}-{method}.etm"
            embedtrain.compress(source, path, method=method.split("-")[0], **extra)
            out[kind, method] = path
    return out


# ---------------------------------------------------------------------- kernels
def test_int8_encoding_and_decoding_match_numpy():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(300, 17)).astype(np.float32)
    m[5] = 0
    parts = encode_rows(m, "int8")
    values, steps = ref.int8_encode(m)
    np.testing.assert_array_equal(parts["values"], values)
    np.testing.assert_array_equal(parts["steps"], steps)
    decoded = CodedRows("int8", parts)[:]
    np.testing.assert_array_equal(decoded, ref.int8_decode(values, steps))
    # at most half a step off
    assert (np.abs(decoded - m) <= steps[:, None] * 0.5 + 1e-7).all()


def test_kmeans_centroids_are_the_means_of_their_points():
    rng = np.random.default_rng(1)
    points = rng.normal(size=(2000, 3)).astype(np.float32)
    centroids = np.empty((256, 3), dtype=np.float32)
    codes = quantize.kmeans(points, centroids, 8, 3)
    for c, mean in ref.cluster_means(points, codes, 256).items():
        np.testing.assert_allclose(centroids[c], mean, rtol=1e-5, atol=1e-6)
    assert len(set(codes.tolist())) > 200  # empty clusters were split


@pytest.mark.parametrize("qnorm", [False, True])
def test_pq_codes_and_decoding_match_numpy(qnorm):
    rng = np.random.default_rng(2)
    m = rng.normal(size=(600, 12)).astype(np.float32)
    parts = encode_rows(m, "pq", subvectors=4, qnorm=qnorm, niter=5)
    unit = m / np.linalg.norm(m, axis=1, keepdims=True) if qnorm else m
    np.testing.assert_array_equal(parts["codes"], ref.pq_encode(unit, parts["codebook"]))
    rows = CodedRows("pq", parts)
    expected = ref.pq_decode(parts["codes"], parts["codebook"], parts.get("norm_codes"),
                             parts.get("norm_codebook"))
    np.testing.assert_array_equal(rows[:], expected)
    np.testing.assert_array_equal(rows[np.array([7, 3, 599])], expected[[7, 3, 599]])
    np.testing.assert_array_equal(rows[-1], expected[-1])
    # scores and lengths without decoding equal those of the decoded rows
    q = rng.normal(size=12).astype(np.float32)
    np.testing.assert_allclose(rows.dots(q, 0, 600), expected @ q, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(rows.norms(), np.linalg.norm(expected, axis=1), rtol=1e-4)
    # PQ is an approximation: much closer than the rows are to each other
    assert np.linalg.norm(expected - m) < 0.7 * np.linalg.norm(m)


@pytest.mark.parametrize("rotation", ["random", "opq"])
def test_pq_with_a_rotation_codes_the_rotated_rows_and_decodes_back(rotation):
    """Rows whose variance sits in a few coordinates (one subvector): PQ codes row @ R for
    an orthogonal R, decodes as decoded @ R.T, and (spreading the variance over the
    subvectors) errs less than PQ of the raw rows."""
    rng = np.random.default_rng(3)
    scales = np.array([8.0, 6.0, 5.0] + [0.3] * 9, dtype=np.float32)
    m = (rng.normal(size=(1500, 12)) * scales).astype(np.float32)
    parts = encode_rows(m, "pq", subvectors=4, niter=8, rotation=rotation)
    r = parts["rotation"]
    np.testing.assert_allclose(r @ r.T, np.eye(12), atol=1e-5)
    np.testing.assert_array_equal(parts["codes"], ref.pq_encode(m @ r, parts["codebook"]))
    rows = CodedRows("pq", parts)
    expected = ref.pq_decode(parts["codes"], parts["codebook"]) @ r.T
    np.testing.assert_allclose(rows[:], expected, rtol=1e-5, atol=1e-5)
    q = rng.normal(size=12).astype(np.float32)
    np.testing.assert_allclose(rows.dots(q, 0, 1500), expected @ q, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(rows.norms(), np.linalg.norm(expected, axis=1), rtol=1e-4)
    plain = ref.pq_decode(*(lambda p: (p["codes"], p["codebook"]))(encode_rows(m, "pq", subvectors=4, niter=8)))
    assert np.linalg.norm(expected - m) < 0.9 * np.linalg.norm(plain - m)


def test_opq_errs_no_more_than_its_random_start():
    rng = np.random.default_rng(4)
    m = (rng.normal(size=(2000, 16)) @ rng.normal(size=(16, 16))).astype(np.float32)
    err = {}
    for rotation in ("random", "opq"):
        parts = encode_rows(m, "pq", subvectors=4, niter=10, rotation=rotation)
        err[rotation] = np.linalg.norm(CodedRows("pq", parts)[:] - m)
    assert err["opq"] <= err["random"] * 1.01, err


# ---------------------------------------------------------------------- models
@pytest.mark.parametrize("method", ["int8", "pq", "pq-qnorm", "pq-opq"])
def test_compressed_queries_equal_exact_search_over_the_decoded_rows(compressed, method):
    small = embedtrain.load(compressed["skipgram", method])
    assert isinstance(small, embedtrain.CompressedModel)
    vecs = small.vectors
    decoded = np.asarray(vecs.vectors)  # the numpy reference: every row decoded
    unit = decoded / np.linalg.norm(decoded, axis=1, keepdims=True)
    for word in ("king", "city", "two"):
        i = vecs.index[word]
        scores = unit @ unit[i]
        scores[i] = -np.inf
        expected = [vecs.words[j] for j in np.argsort(-scores, kind="stable")[:10]]
        answers = small.most_similar(word, topn=10)
        got = [w for w, _ in answers]
        # scores from the codes equal the decoded rows' (to float32 rounding: two words whose
        # scores differ by less may trade places, so the order is checked through the scores)
        np.testing.assert_allclose([s for _, s in answers], np.sort(scores)[::-1][:10], atol=1e-4)
        np.testing.assert_allclose([s for _, s in answers], [scores[vecs.index[w]] for w in got], atol=1e-4)
        assert len(set(got) & set(expected)) >= 9
    np.testing.assert_allclose(vecs["king"], decoded[vecs.index["king"]])


def test_compressed_scores_stay_close_to_the_original(skipgram_model, compressed):
    full = skipgram_model.vectors
    for method in ("int8", "pq"):
        small = embedtrain.load(compressed["skipgram", method]).vectors
        rng = np.random.default_rng(0)
        pairs = rng.integers(0, 2000, size=(300, 2))
        diffs = np.array([abs(full.similarity(full.words[a], full.words[b])
                              - small.similarity(full.words[a], full.words[b])) for a, b in pairs])
        assert diffs.mean() < (0.005 if method == "int8" else 0.05), diffs.mean()


@pytest.mark.parametrize("method", ["int8", "pq"])
def test_compressed_fasttext_unseen_words_are_the_mean_of_their_decoded_ngram_rows(
        fasttext_file, compressed, method):
    full = embedtrain.load(fasttext_file)
    small = embedtrain.load(compressed["fasttext", method])
    parts = {k[len("ngrams_"):]: v for k, v in small.arrays.items() if k.startswith("ngrams_")}
    if method == "int8":
        decoded = ref.int8_decode(parts["values"], parts["steps"])
    else:
        decoded = ref.pq_decode(parts["codes"], parts["codebook"])
    v = len(full.vocab)
    reference = NgramRows(np.vstack([np.zeros((v, full.config.dim), np.float32), decoded]), v,
                          full.bucket, full.ngram_buckets, full.config.seed)
    vecs = small.vectors
    for word in ("kingdomly", "zzxqy", "unthinkables"):
        assert word not in vecs
        expected = reference.lookup(vecs.ngram_buckets(word)).mean(axis=0)
        np.testing.assert_allclose(vecs[word], expected, rtol=1e-6, atol=1e-7)
        # and close to the uncompressed model's vector
        cos = expected @ full[word] / np.linalg.norm(expected) / np.linalg.norm(full[word])
        assert cos > (0.99 if method == "int8" else 0.8)
    words = ref.int8_decode(small.arrays["words_values"], small.arrays["words_steps"]) \
        if method == "int8" else ref.pq_decode(small.arrays["words_codes"], small.arrays["words_codebook"])
    np.testing.assert_allclose(vecs["king"], words[vecs.index["king"]])


def test_keep_words_keeps_the_most_frequent_and_unseen_words_still_get_vectors(fasttext_file, tmp_path):
    out = tmp_path / "kept.etm"
    small = embedtrain.compress(fasttext_file, out, keep_words=500)
    full = embedtrain.load(fasttext_file)
    assert small.vocab.words == full.vocab.words[:500]
    loaded = embedtrain.load(out)
    dropped = full.vocab.words[600]
    assert dropped not in loaded.vectors.index and loaded.vectors.has_vector(dropped)
    assert out.stat().st_size < fasttext_file.stat().st_size / 4


def _reference_kept_buckets(full, keep):
    """Plain Python: the ``keep`` buckets the vocabulary's words' n-grams use most (ties:
    the lower bucket), increasing."""
    from collections import Counter

    uses = Counter()
    for word in full.vocab.words:
        uses.update(full.vectors.ngram_buckets(word).tolist())
    ranked = sorted(uses, key=lambda b: (-uses[b], b))
    return np.array(sorted(ranked[:keep]), dtype=np.int32)


@pytest.mark.parametrize("method", ["int8", "pq"])
def test_keep_ngrams_keeps_the_most_used_rows_and_unseen_words_use_the_kept_ones(
        fasttext_file, tmp_path, method):
    from embedtrain.ngram_rows import initial_rows

    full = embedtrain.load(fasttext_file)
    extra = {"pq_subvectors": 10, "pq_iterations": 5} if method == "pq" else {}
    out = tmp_path / "pruned.etm"
    embedtrain.compress(fasttext_file, out, method=method, keep_words=300, keep_ngrams=1500, **extra)
    small = embedtrain.load(out)
    kept = _reference_kept_buckets(full, 1500)
    np.testing.assert_array_equal(small.arrays["ngram_buckets"], kept)
    assert small.compression["keep_ngrams"] == 1500
    v, dim = len(full.vocab), full.config.dim
    position = {b: i for i, b in enumerate(full.ngram_buckets.tolist())}
    stored = full.input_vectors[v + np.array([position[b] for b in kept.tolist()])]
    if method == "int8":  # the kept rows are the full model's rows of those buckets, coded
        values, steps = ref.int8_encode(stored)
        np.testing.assert_array_equal(small.arrays["ngrams_values"], values)
        decoded = ref.int8_decode(values, steps)
        words = ref.int8_decode(small.arrays["words_values"], small.arrays["words_steps"])
    else:
        np.testing.assert_array_equal(small.arrays["ngrams_codes"],
                                      ref.pq_encode(stored, small.arrays["ngrams_codebook"]))
        decoded = ref.pq_decode(small.arrays["ngrams_codes"], small.arrays["ngrams_codebook"])
        words = ref.pq_decode(small.arrays["words_codes"], small.arrays["words_codebook"])
    vecs = small.vectors
    # kept words: their decoded rows
    for word in full.vocab.words[:300:37]:
        np.testing.assert_allclose(vecs[word], words[vecs.index[word]])
    # dropped and unseen words: the mean of their kept decoded n-gram rows, a dropped
    # bucket read as its initial value
    kept_at = {b: i for i, b in enumerate(kept.tolist())}
    for word in (full.vocab.words[400], full.vocab.words[-1], "kingdomly", "zzxqy"):
        assert word not in vecs.index
        rows = [decoded[kept_at[b]] if b in kept_at else initial_rows(np.array([v + b]), dim, full.config.seed)[0]
                for b in full.vectors.ngram_buckets(word).tolist()]
        np.testing.assert_allclose(vecs[word], np.mean(rows, axis=0), rtol=1e-5, atol=1e-6)
    embedtrain.compress(fasttext_file, tmp_path / "all.etm", method=method, keep_words=300, **extra)
    assert out.stat().st_size < (tmp_path / "all.etm").stat().st_size


def test_keep_ngrams_above_the_stored_rows_keeps_them_all(fasttext_file, tmp_path):
    full = embedtrain.load(fasttext_file)
    small = embedtrain.compress(fasttext_file, tmp_path / "x.etm", keep_ngrams=10 ** 7)
    np.testing.assert_array_equal(small.arrays["ngram_buckets"], full.ngram_buckets)


def test_every_command_reads_a_compressed_model(compressed, tmp_path):
    path = compressed["fasttext", "pq"]
    small = embedtrain.load(path).vectors
    result = run("similar", path, "king", "-n", "3", "--json")
    assert result.exit_code == 0, result.output
    import json

    got = [n["word"] for n in json.loads(result.stdout)["results"][0]["neighbours"]]
    assert got == [w for w, _ in small.most_similar("king", topn=3)]
    assert run("analogy", path, "man", "king", "woman").exit_code == 0
    result = run("eval", path, "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["vocab_size"] == len(small)
    result = run("vectors", path, "king", "zzxqy")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    np.testing.assert_allclose([float(x) for x in lines[1].split()[1:]], small["zzxqy"], rtol=1e-4, atol=1e-5)
    out = tmp_path / "out.vec"
    assert run("export", path, "-f", "word2vec-text", "-o", out).exit_code == 0
    exported = embedtrain.Vectors  # read back with our reader
    from embedtrain.io.formats import load_vectors

    back = load_vectors(out)
    np.testing.assert_allclose(back.vectors, np.asarray(small.vectors), rtol=1e-5, atol=1e-6)
    assert exported is not None


# ---------------------------------------------------------------------- mmap
def test_mmap_load_returns_the_same_vectors(skipgram_files, fasttext_file):
    for path in (skipgram_files["model"], fasttext_file):
        read = embedtrain.load(path)
        mapped = embedtrain.load(path, mmap=True)
        assert mapped.mapped and not read.mapped
        for name, array in read.arrays.items():
            np.testing.assert_array_equal(mapped.arrays[name], array)
            if array.size:
                assert isinstance(mapped.arrays[name], np.memmap)
                assert mapped.arrays[name].ctypes.data % 64 == 0  # aligned members
        np.testing.assert_array_equal(mapped["king"], read["king"])
        assert [w for w, _ in mapped.most_similar("king")] == [w for w, _ in read.most_similar("king")]


# ---------------------------------------------------------------------- bad input
def test_bad_compression_settings_are_one_line_errors_and_write_nothing(skipgram_files, tmp_path):
    out = tmp_path / "x.etm"
    source = skipgram_files["model"]
    assert_one_line_error(run("compress", source, "-o", out, "--method", "pq", "--pq-subvectors", "7"),
                          "--pq-subvectors 7 does not divide the dimension 50")
    assert_one_line_error(run("compress", source, "-o", out, "--pq-subvectors", "5"), "--method pq only")
    assert_one_line_error(run("compress", source, "-o", out, "--keep-words", "0"), "--keep-words")
    assert_one_line_error(run("compress", source, "-o", out, "--keep-ngrams", "100"),
                          "--keep-ngrams applies to FastText models only")
    assert_one_line_error(run("compress", source, "-o", out, "--keep-ngrams", "0"), "--keep-ngrams must be")
    assert_one_line_error(run("compress", source, "-o", out, "--pq-rotation", "opq"), "--method pq only")
    assert_one_line_error(run("compress", source, "-o", out, "--method", "pq", "--pq-iterations", "0"),
                          "--pq-iterations must be")
    with pytest.raises(EmbedtrainError, match="unknown --pq-rotation"):
        embedtrain.compress(source, out, method="pq", pq_rotation="pca")
    assert_one_line_error(run("compress", source, "-o", tmp_path / "no" / "x.etm"), "does not exist")
    assert_one_line_error(run("compress", source, "-o", source), "another file")
    with pytest.raises(EmbedtrainError, match="does not divide"):
        embedtrain.compress(source, out, method="pq", pq_subvectors=3)
    assert not out.exists() and os.listdir(tmp_path) == []


def test_compressing_a_compressed_model_fails(compressed, tmp_path):
    assert_one_line_error(run("compress", compressed["skipgram", "int8"], "-o", tmp_path / "y.etm"),
                          "already compressed")


def _rewrite(source, target, change):
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info.filename, data)


def test_damaged_compressed_models_are_one_line_errors(compressed, tmp_path):
    import io

    source = compressed["skipgram", "pq"]
    cut = tmp_path / "cut.etm"
    cut.write_bytes(source.read_bytes()[:-5000])
    assert_one_line_error(run("similar", cut, "king"), "damaged model file")

    def wrong_codebook(name, data):  # a codebook of 5 subvectors for codes of 10
        if name == "words_codebook.npy":
            buf = io.BytesIO()
            np.save(buf, np.zeros((5, 256, 10), dtype=np.float32))
            return buf.getvalue()
        return data
    bad = tmp_path / "codebook.etm"
    _rewrite(source, bad, wrong_codebook)
    with pytest.raises(EmbedtrainError, match="damaged model file .*words_codes"):
        embedtrain.load(bad)
    assert_one_line_error(run("eval", bad), "damaged model file")

    def wrong_rotation(name, data):  # a rotation of another dimension
        if name == "words_rotation.npy":
            buf = io.BytesIO()
            np.save(buf, np.eye(10, dtype=np.float32))
            return buf.getvalue()
        return data
    bad = tmp_path / "rotation.etm"
    _rewrite(compressed["skipgram", "pq-opq"], bad, wrong_rotation)
    assert_one_line_error(run("similar", bad, "king"), "damaged model file", "words_rotation")

    def missing(name, data):
        return None if name == "words_steps.npy" else data
    gone = tmp_path / "missing.etm"
    _rewrite(compressed["skipgram", "int8"], gone, missing)
    assert_one_line_error(run("vectors", gone, "king"), "damaged model file", "words_steps")


def test_mmap_refuses_compressed_models_and_pipes(compressed, tmp_path):
    with pytest.raises(EmbedtrainError, match="compressed model"):
        embedtrain.load(compressed["skipgram", "int8"], mmap=True)
    fifo = tmp_path / "pipe.etm"
    os.mkfifo(fifo)
    with pytest.raises(EmbedtrainError, match="not a regular file"):
        embedtrain.load(fifo, mmap=True)
    with pytest.raises(EmbedtrainError, match="does not exist"):
        embedtrain.load(tmp_path / "nothing.etm", mmap=True)


def test_a_compressed_model_cannot_be_trained_further_nor_written_as_fasttext_bin(
        compressed, small_corpus, tmp_path):
    with pytest.raises(EmbedtrainError, match="cannot be trained further"):
        embedtrain.load(compressed["skipgram", "int8"]).train_more([["a", "b"]])
    assert_one_line_error(run("train", small_corpus, "--continue", compressed["skipgram", "int8"],
                              "-o", tmp_path / "c"), "cannot be trained further")
    assert_one_line_error(run("export", compressed["fasttext", "pq"], "-f", "fasttext-bin",
                              "-o", tmp_path / "x.bin"), "compressed model")
    assert os.listdir(tmp_path) == []


def test_floret_and_doc2vec_models_are_refused_in_one_line(tmp_path):
    """A floret model has no word rows and a doc2vec model's document vectors would be lost:
    compress refuses both (library and CLI) and writes nothing."""
    lines = [" ".join(f"w{(i * 7 + j) % 40}" for j in range(12)) for i in range(60)]
    floret = embedtrain.train([l.split() for l in lines], model="fasttext", floret=True, bucket=500,
                              dim=8, epochs=1, min_count=1, threads=1, progress=False)
    corpus = tmp_path / "docs.txt"
    corpus.write_text("\n".join(lines) + "\n")
    doc2vec = embedtrain.train(corpus, model="doc2vec", dim=8, epochs=1, min_count=1, threads=1,
                               progress=False)
    for model, fragment in ((floret, "floret models"), (doc2vec, "doc2vec models")):
        with pytest.raises(EmbedtrainError, match=fragment):
            model.compress("int8")
        source = model.save_model(tmp_path / f"{model.kind}-{fragment[:3]}.etm")
        assert_one_line_error(run("compress", source, "-o", tmp_path / "small.etm"), fragment)
    assert not (tmp_path / "small.etm").exists()


# ---------------------------------------------------------------------- neighbour index
def test_index_returns_the_exact_neighbours(skipgram_model):
    from embedtrain.neighbours import build_index

    vecs = skipgram_model.vectors
    index = build_index(vecs)
    unit = vecs.unit_vectors
    hits = total = 0
    for i in range(0, 2000, 40):
        scores = unit @ unit[i]
        scores[i] = -np.inf
        exact = set(np.argsort(-scores, kind="stable")[:10].tolist())
        every_cell = index.nearest(vecs, unit[i], 10, [i], probe=len(index.centroids))
        # all cells probed: the exact answer (compared by score: the index measures the
        # rows itself, so near-ties may come in another order)
        np.testing.assert_allclose([s for _, s in every_cell], np.sort(scores)[::-1][:10],
                                   rtol=0, atol=1e-5)
        got = {vecs.index[w] for w, _ in index.nearest(vecs, unit[i], 10, [i])}
        hits += len(got & exact)
        total += 10
    assert hits / total >= 0.9, hits / total  # recall@10 with the default probe


def test_cli_index_is_built_beside_the_model_and_used(skipgram_files, tmp_path):
    import json
    import shutil

    from embedtrain.neighbours import NeighbourIndex, index_path

    model = tmp_path / "m.etm"
    shutil.copy(skipgram_files["model"], model)
    exact = run("similar", model, "king", "--json")
    result = run("similar", model, "king", "--index", "--json")
    assert result.exit_code == 0, result.output
    assert index_path(model).exists()
    assert len(NeighbourIndex.load(index_path(model))) == len(embedtrain.load(model).vocab)
    got = [n["word"] for n in json.loads(result.stdout)["results"][0]["neighbours"]]
    want = [n["word"] for n in json.loads(exact.stdout)["results"][0]["neighbours"]]
    assert len(set(got) & set(want)) >= 8
    index_path(model).write_bytes(b"PK\x03\x04 not a zip")
    assert_one_line_error(run("similar", model, "king"), "damaged neighbour index")
    assert_one_line_error(run("similar", model, "king", "--index", "--exact"), "exclude each other")


def test_cli_compress_writes_what_the_library_writes(skipgram_files, tmp_path):
    result = run("compress", skipgram_files["model"], "-o", tmp_path / "cli.etm", "--keep-words", "800")
    assert result.exit_code == 0, result.output
    library = embedtrain.compress(skipgram_files["model"], tmp_path / "lib.etm", keep_words=800)
    cli = embedtrain.load(tmp_path / "cli.etm")
    assert cli.vocab.words == library.vocab.words and len(cli.vocab) == 800
    for name, array in library.arrays.items():
        np.testing.assert_array_equal(cli.arrays[name], array)


def test_cli_keep_ngrams_and_rotation_write_what_the_library_writes(fasttext_file, tmp_path):
    args = ["--method", "pq", "--pq-subvectors", "10", "--pq-rotation", "random", "--pq-iterations", "2",
            "--keep-words", "300", "--keep-ngrams", "800"]
    result = run("compress", fasttext_file, "-o", tmp_path / "cli.etm", *args)
    assert result.exit_code == 0, result.output
    library = embedtrain.compress(fasttext_file, tmp_path / "lib.etm", method="pq", pq_subvectors=10,
                                  pq_rotation="random", pq_iterations=2, keep_words=300, keep_ngrams=800)
    cli = embedtrain.load(tmp_path / "cli.etm")
    assert cli.compression == library.compression and len(cli.arrays["ngram_buckets"]) == 800
    for name, array in library.arrays.items():
        np.testing.assert_array_equal(cli.arrays[name], array)
    with zipfile.ZipFile(tmp_path / "cli.etm") as zf:  # the vocabulary deflated, the arrays stored
        assert zf.getinfo("vocab.txt").compress_type == zipfile.ZIP_DEFLATED
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist() if i.filename.endswith(".npy"))


def test_the_vocabulary_fast_path_reads_what_the_line_by_line_path_reads():
    """Opening a million-word model quickly (mmap) reads its vocabulary in array
    operations; anything not in to_text's exact form goes line by line (line numbers in
    errors). Both must agree wherever the fast path answers."""
    from embedtrain.vocab import Vocab, _parse_well_formed

    rng = np.random.default_rng(3)
    alphabet = list("ab é\u00a0\t\r\n12-")
    for _ in range(300):
        text = "".join(rng.choice(alphabet, size=rng.integers(1, 30)))
        fast = _parse_well_formed(Vocab, text)
        if fast is None:
            continue
        words, counts = [], []
        for line in text.split("\n"):
            if line:
                w, c = line.split(" ")
                words.append(w)
                counts.append(int(c))
        assert fast.words == words and fast.counts.tolist() == counts
    v = Vocab([f"w{i}" for i in range(1000)] + ["é"], np.arange(1001, 0, -1))
    parsed = _parse_well_formed(Vocab, v.to_text())
    assert parsed.words == v.words and (parsed.counts == v.counts).all()
    assert _parse_well_formed(Vocab, "a 1 2\n3\n") is None
    assert _parse_well_formed(Vocab, "a\nb 1 2\n") is None
