"""Reading fastText's binary .bin (issue 10, item 11): files written by the fasttext
package itself and by gensim's save_facebook_model give the vectors those tools give,
for vocabulary words and for unseen words (from their n-grams); eval, similar, analogy
and vectors work on them; embedtrain's own fasttext-bin export reads back."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from embedtrain.cli import main
from embedtrain.io.formats import detect_format, load_vectors
from embedtrain.vectors import FastTextVectors

UNSEEN = ["anarchismic", "zzqx", "überfoo", "kingdomly"]


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


@pytest.fixture(scope="module")
def lines(sample_text):
    words = sample_text.split()[:20000]
    return [words[i:i + 100] for i in range(0, len(words), 100)]


@pytest.fixture(scope="module")
def fasttext_bin(lines, tmp_path_factory):
    fasttext = pytest.importorskip("fasttext")
    out = tmp_path_factory.mktemp("ftbin")
    corpus = out / "c.txt"
    corpus.write_text("\n".join(" ".join(line) for line in lines))
    path = out / "model.bin"
    # Trained in a fresh process: in a process that has run numba kernels, the fasttext
    # 0.9.3 build here stops with "Encountered NaN" (it trains fine on its own).
    # Its small-corpus runs often stop with "Encountered NaN" (a mean loss over zero
    # examples); a few attempts with other sizes get a model.
    script = ("import fasttext, sys\n"
              "for dim, mc in ((10, 3), (10, 3), (8, 2), (4, 1), (2, 1), (2, 1)):\n"
              "    try:\n"
              "        m = fasttext.train_unsupervised(sys.argv[1], model='skipgram', dim=dim, epoch=1,"
              " minCount=mc, bucket=5000, minn=3, maxn=5, thread=1, verbose=0)\n"
              "        break\n"
              "    except RuntimeError:\n"
              "        m = None\n"
              "if m is None:\n"
              "    sys.exit('Encountered NaN every time')\n"
              "m.save_model(sys.argv[2])\n")
    proc = subprocess.run([sys.executable, "-c", script, str(corpus), str(path)],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        pytest.skip(f"the fasttext package failed to train: {proc.stderr.strip()[-200:]}")
    model = fasttext.load_model(str(path))
    return path, model


@pytest.mark.peers
def test_fasttext_package_bin_gives_fasttexts_vectors(fasttext_bin):
    path, model = fasttext_bin
    assert detect_format(path) == "fasttext-bin"
    vectors = load_vectors(path)
    assert isinstance(vectors, FastTextVectors)
    assert vectors.words == model.words  # </s> included, in fastText's order
    for word in model.words[:300]:
        np.testing.assert_allclose(vectors[word], model.get_word_vector(word), rtol=1e-5, atol=1e-6)
    for word in UNSEEN:
        assert word not in vectors
        np.testing.assert_allclose(vectors[word], model.get_word_vector(word), rtol=1e-4, atol=1e-5)


@pytest.mark.peers
def test_gensim_saved_bin_gives_gensims_vectors(lines, tmp_path):
    ft = pytest.importorskip("gensim.models.fasttext")
    model = ft.FastText(vector_size=10, min_count=3, bucket=3000, epochs=1, workers=1, seed=3)
    model.build_vocab(lines)
    model.train(lines, total_examples=len(lines), epochs=1)
    path = tmp_path / "gensim.bin"
    ft.save_facebook_model(model, str(path))
    vectors = load_vectors(path)
    for word in model.wv.index_to_key[:300] + UNSEEN:
        np.testing.assert_allclose(vectors[word], model.wv[word], rtol=1e-4, atol=1e-5)


@pytest.mark.peers
def test_commands_work_on_a_fasttext_bin(fasttext_bin, tmp_path):
    path, model = fasttext_bin
    result = run("similar", path, "king", "zzqx", "-n", "3")
    assert result.exit_code == 0, result.output
    assert "king" not in [line.split()[0] for line in result.stdout.splitlines()[1:4]]
    result = run("analogy", path, "man", "king", "woman", "--json")
    assert result.exit_code == 0, result.output
    sim = tmp_path / "sim.tsv"
    sim.write_text("king\tqueen\t8\nman\twoman\t7\nzzqx\tking\t1\n")
    result = run("eval", path, sim, "--json")
    assert result.exit_code == 0, result.output
    assert '"found": 3' in result.stdout  # the unseen word is built from n-grams
    result = run("vectors", path, input="king\nzzqx\n")
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines()]
    assert [r[0] for r in rows] == ["king", "zzqx"]
    np.testing.assert_allclose(np.array(rows[1][1:], dtype=np.float32), model.get_word_vector("zzqx"),
                               rtol=1e-4, atol=1e-5)


def test_our_fasttext_bin_export_reads_back(small_corpus, tmp_path):
    prefix = tmp_path / "ft"
    result = run("train", small_corpus, "--model", "fasttext", "--dim", "8", "--epochs", "1",
                 "--min-count", "3", "--bucket", "300", "-q", "-o", prefix)
    assert result.exit_code == 0, result.output
    result = run("export", f"{prefix}.etm", "-o", tmp_path / "ft.bin", "--format", "fasttext-bin")
    assert result.exit_code == 0, result.output
    ours = load_vectors(f"{prefix}.etm")
    back = load_vectors(tmp_path / "ft.bin")
    assert back.words == ours.words
    np.testing.assert_allclose(back.vectors, ours.vectors, rtol=1e-5, atol=1e-6)
    for word in UNSEEN:
        np.testing.assert_allclose(back[word], ours[word], rtol=1e-5, atol=1e-6)


def test_quantised_and_unknown_versions_are_refused(small_corpus, tmp_path):
    import struct

    prefix = tmp_path / "ft"
    run("train", small_corpus, "--model", "fasttext", "--dim", "4", "--epochs", "1", "--min-count",
        "5", "--bucket", "50", "-q", "-o", prefix)
    run("export", f"{prefix}.etm", "-o", tmp_path / "ft.bin", "--format", "fasttext-bin")
    data = bytearray((tmp_path / "ft.bin").read_bytes())
    struct.pack_into("<i", data, 4, 13)
    (tmp_path / "v13.bin").write_bytes(bytes(data))
    result = run("eval", tmp_path / "v13.bin")
    assert result.exit_code == 1 and "format version 13" in result.stderr
