"""Aligning two spaces (embedtrain.align, `embedtrain align`) and word translation
(`embedtrain eval-translation`): synthetic spaces related by a known orthogonal map,
plain-numpy references for Procrustes and CSLS written here, a tiny case checked by hand,
and every refusal through the library and the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import embedtrain
from embedtrain.alignment import normalize, procrustes
from embedtrain.cli import main
from embedtrain.config import AlignConfig
from embedtrain.errors import EmbedtrainError
from embedtrain.io.dictionary import parse_pairs, read_pairs
from embedtrain.io.formats import load_vectors, write_vectors
from embedtrain.retrieval import mean_top_similarity, mutual_nearest, top_keys
from embedtrain.vectors import Vectors


# ---------------------------------------------------------------------- references
def ref_normalize(m):
    """unit length, centre, unit length, in float64, row by row."""
    m = np.array(m, dtype=np.float64)
    m = np.stack([r / np.linalg.norm(r) for r in m])
    m = m - m.sum(axis=0) / len(m)
    return np.stack([r / np.linalg.norm(r) for r in m])


def ref_procrustes(x, z):
    """argmin over orthogonal W of ||x W - z||: W = U V^T, U S V^T = svd(x^T z)."""
    u, _, vt = np.linalg.svd(np.asarray(x, np.float64).T @ np.asarray(z, np.float64))
    return u @ vt


def ref_csls(x, z, k):
    """The full CSLS matrix, MUSE's definition: 2 cos(x, y) - r_T(x) - r_S(y)."""
    cos = np.asarray(x, np.float64) @ np.asarray(z, np.float64).T
    r_t = np.array([np.mean(sorted(row)[-k:]) for row in cos])
    r_s = np.array([np.mean(sorted(col)[-k:]) for col in cos.T])
    return 2 * cos - r_t[:, None] - r_s[None, :]


# ---------------------------------------------------------------------- synthetic spaces
def random_orthogonal(rng, d):
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def related_spaces(seed=0, n=400, d=20, noise=0.0, src_words=None, tgt_words=None):
    """(source, target, Q): source = (target + noise) Q^T, so Q maps source onto target."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, d))
    q = random_orthogonal(rng, d)
    x = (z + noise * rng.normal(size=(n, d))) @ q.T
    src_words = src_words or [f"s{i}" for i in range(n)]
    tgt_words = tgt_words or [f"t{i}" for i in range(n)]
    return Vectors(src_words, x), Vectors(tgt_words, z), q


def pairs_of(n, start=0):
    return [(f"s{i}", f"t{i}") for i in range(start, n)]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_line_error(result, *fragments):
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("embedtrain: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# ---------------------------------------------------------------------- numerics
def test_normalize_and_procrustes_equal_the_references():
    rng = np.random.default_rng(3)
    x, z = rng.normal(size=(50, 8)), rng.normal(size=(50, 8)) + 0.5
    np.testing.assert_allclose(normalize(x), ref_normalize(x), atol=1e-6)
    w = procrustes(normalize(x), normalize(z))
    np.testing.assert_allclose(w, ref_procrustes(ref_normalize(x), ref_normalize(z)), atol=1e-5)
    np.testing.assert_allclose(w @ w.T, np.eye(8), atol=1e-12)


def test_recovers_an_orthogonal_map_exactly():
    source, target, q = related_spaces(seed=1)
    for pairs in (pairs_of(400), pairs_of(60)):          # whole and partial dictionary
        result = embedtrain.align(source, target, pairs)
        np.testing.assert_allclose(result.W, q, atol=1e-5)
        np.testing.assert_allclose(result.source.vectors, normalize(target.vectors), atol=1e-5)
        np.testing.assert_allclose(result.target.vectors, normalize(target.vectors), atol=0)
        assert result.source.words == source.words and result.coverage == 1.0
    assert embedtrain.evaluate_translation(result.source, target, pairs_of(400, 60)).precision == \
        {1: 1.0, 5: 1.0, 10: 1.0}


def test_with_noise_the_map_is_procrustes_on_the_normalised_pairs():
    source, target, q = related_spaces(seed=2, noise=0.1)
    result = embedtrain.align(source, target, pairs_of(200))
    rows = np.arange(200)
    expected = ref_procrustes(ref_normalize(source.vectors)[rows], ref_normalize(target.vectors)[rows])
    np.testing.assert_allclose(result.W, expected, atol=1e-5)
    assert np.abs(result.W - q).max() < 0.05          # near the true map, not equal (noise)
    assert not np.allclose(result.W, q, atol=1e-3)
    scores = embedtrain.evaluate_translation(result.source, target, pairs_of(400, 200))
    assert scores.precision[1] == 1.0


def test_refinement_recovers_the_rest_from_a_partial_dictionary():
    source, target, q = related_spaces(seed=0, noise=0.1)
    seed = pairs_of(10)                                # fewer pairs than dimensions
    test = pairs_of(400, 10)
    plain = embedtrain.align(source, target, seed)
    refined = embedtrain.align(source, target, seed, refine=5, csls=True)
    before = embedtrain.evaluate_translation(plain.source, target, test).precision[1]
    after = embedtrain.evaluate_translation(refined.source, target, test).precision[1]
    assert before < 0.6 and after == 1.0
    assert refined.seed_pairs == 10 and len(refined.pairs) == 400 and refined.refined[-1] == 400
    assert sorted(refined.pairs) == sorted(pairs_of(400))
    full = embedtrain.align(source, target, pairs_of(400))
    np.testing.assert_allclose(refined.W, full.W, atol=1e-6)   # the same pairs: the same map
    assert np.abs(refined.W - q).max() < 0.05


def test_csls_and_top_keys_equal_the_reference_in_any_block_size():
    rng = np.random.default_rng(4)
    x = normalize(rng.normal(size=(30, 6)))
    z = normalize(rng.normal(size=(45, 6)))
    k = 10
    ref = ref_csls(x, z, k)
    for block_bytes in (4 * 45 * 7, 1 << 20):          # 7 rows a block, and one block
        r_t = mean_top_similarity(x, z, k, block_bytes)
        r_s = mean_top_similarity(z, x, k, block_bytes)
        idx, scores = top_keys(x, z, 10, block_bytes, key_penalty=r_s, query_penalty=r_t)
        np.testing.assert_array_equal(idx, np.argsort(-ref, axis=1, kind="stable")[:, :10])
        np.testing.assert_allclose(scores, np.sort(ref, axis=1)[:, ::-1][:, :10], atol=1e-5)
        cos_idx, cos_scores = top_keys(x, z, 5, block_bytes)
        cos = x.astype(np.float64) @ z.T.astype(np.float64)
        np.testing.assert_array_equal(cos_idx, np.argsort(-cos, axis=1, kind="stable")[:, :5])
        src, tgt = mutual_nearest(x, z, k, block_bytes)
        fwd, bwd = ref.argmax(axis=1), ref.argmax(axis=0)
        expected = [i for i in range(len(x)) if bwd[fwd[i]] == i]
        assert src.tolist() == expected and tgt.tolist() == fwd[expected].tolist()
    assert len(expected) > 3


# ---------------------------------------------------------------------- dictionaries
def test_dictionary_files_tabs_spaces_header_blank_lines_and_repeats(tmp_path):
    p = tmp_path / "pairs.tsv"
    p.write_text("source\ttarget\n\nthe\tdie\ncat  katze\n# a comment\nthe\tdie\nthe der\n"
                 "lonely\n\n   \ndog\thund\n", encoding="utf-8")
    assert read_pairs(p) == [("the", "die"), ("cat", "katze"), ("the", "der"), ("dog", "hund")]
    assert parse_pairs(["of von", "to zu"]) == [("of", "von"), ("to", "zu")]   # no header: kept
    bom = tmp_path / "bom.tsv"
    bom.write_bytes("\ufeffof\tvon\r\nto\tzu\r\n".encode("utf-8"))
    assert read_pairs(bom) == [("of", "von"), ("to", "zu")]


# ---------------------------------------------------------------------- eval-translation
@pytest.fixture()
def tiny(tmp_path):
    """Five source words equal to five target words (the basis vectors of R^5): after
    normalisation each is nearest to its own counterpart and the other four tie at
    cosine -1/4, ranked by index."""
    src = tmp_path / "src.vec"
    tgt = tmp_path / "tgt.vec"
    write_vectors(src, Vectors(list("abcde"), np.eye(5)), "word2vec-text")
    write_vectors(tgt, Vectors(list("ABCDE"), np.eye(5)), "glove")
    test = tmp_path / "test.tsv"
    # a -> A: hit at 1; b -> A: A is b's second answer (B, then A): hit at 5, not at 1;
    # c -> X or C: X has no vector, C is a hit at 1; d -> B or D: D is a hit at 1 (B is
    # d's third answer: only the second gold target hits); e -> Y: no gold target with a
    # vector, not scored; z: no source vector, not scored. Scored 4 of 6 source words.
    test.write_text("src tgt\na\tA\nb A\nc\tX\nc\tC\n\nd B\nd D\ne Y\nz\tA\na\tA\n",
                    encoding="utf-8")
    return src, tgt, test


def test_eval_translation_by_hand(tiny):
    src, tgt, test = tiny
    result = run("eval-translation", src, tgt, test, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["p@1"] == 0.75 and out["p@5"] == 1.0 and out["p@10"] == 1.0
    assert (out["evaluated"], out["source_words"], out["pairs"]) == (4, 6, 8)
    assert out["coverage"] == pytest.approx(4 / 6) and out["retrieval"] == "cosine"
    lib = embedtrain.evaluate_translation(src, tgt, test)
    assert lib.to_dict() == {k: v for k, v in out.items() if k not in ("source", "target", "test")}
    # CSLS: every r is the same here (by symmetry), so the ranking is cosine's
    csls = json.loads(run("eval-translation", src, tgt, test, "--json", "--csls").stdout)
    assert (csls["p@1"], csls["retrieval"], csls["csls_k"]) == (out["p@1"], "csls", 10)
    table = run("eval-translation", src, tgt, test)
    assert "P@1 0.7500  P@5 1.0000  P@10 1.0000" in table.stdout
    assert "coverage 0.6667 (4 of 6 source words" in table.stdout


def test_eval_translation_retrieves_by_the_reference_csls():
    """Gold = the reference CSLS's best target of each source word: P@1 is 1 by CSLS,
    and below 1 by cosine (hubs win some queries)."""
    rng = np.random.default_rng(7)
    x, z = rng.normal(size=(80, 5)), rng.normal(size=(90, 5))
    src = Vectors([f"s{i}" for i in range(80)], x)
    tgt = Vectors([f"t{i}" for i in range(90)], z)
    best = ref_csls(ref_normalize(x), ref_normalize(z), 10).argmax(axis=1)
    pairs = [(f"s{i}", f"t{j}") for i, j in enumerate(best)]
    csls = embedtrain.evaluate_translation(src, tgt, pairs, csls=True)
    cos = embedtrain.evaluate_translation(src, tgt, pairs)
    assert csls.precision[1] == 1.0 and cos.precision[1] < 0.9
    cos_best = (ref_normalize(x) @ ref_normalize(z).T).argmax(axis=1)
    assert cos.precision[1] == pytest.approx(np.mean(cos_best == best))


# ---------------------------------------------------------------------- the CLI
@pytest.fixture()
def files(tmp_path):
    source, target, q = related_spaces(seed=5, n=300, d=12, noise=0.05)
    src, tgt = tmp_path / "src.bin", tmp_path / "tgt.txt"
    write_vectors(src, source, "word2vec-binary")    # any format embedtrain reads
    write_vectors(tgt, target, "glove")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("".join(f"s{i}\tt{i}\n" for i in range(150)) + "missing\tt1\n", encoding="utf-8")
    test = tmp_path / "test.tsv"
    test.write_text("".join(f"s{i} t{i}\n" for i in range(150, 300)), encoding="utf-8")
    return {"src": src, "tgt": tgt, "pairs": pairs, "test": test, "dir": tmp_path, "q": q}


def test_align_command_writes_what_the_library_returns(files):
    out = files["dir"] / "aligned.vec"
    shared = files["dir"] / "target.vec"
    result = run("align", files["src"], files["tgt"], "-d", files["pairs"], "-o", out,
                 "--target-output", shared, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["pairs_given"], summary["seed_pairs"]) == (151, 150)
    assert summary["coverage"] == pytest.approx(150 / 151)
    lib = embedtrain.align(files["src"], files["tgt"], files["pairs"])
    written = load_vectors(out)
    assert written.words == lib.source.words
    np.testing.assert_allclose(written.vectors, lib.source.vectors, atol=1e-6)
    np.testing.assert_allclose(load_vectors(shared).vectors, lib.target.vectors, atol=1e-6)
    assert not [p for p in files["dir"].iterdir() if p.name.endswith(".tmp")]
    scores = json.loads(run("eval-translation", out, files["tgt"], files["test"], "--json").stdout)
    assert scores["p@1"] == 1.0 and scores["coverage"] == 1.0
    refined = run("align", files["src"], files["tgt"], "-d", files["pairs"], "-o", out, "--csls",
                  "--refine", 3, "--refine-vocab", 200, "--csls-k", 5, "--json")
    lib_refined = embedtrain.align(files["src"], files["tgt"], files["pairs"], csls=True, refine=3,
                                   refine_vocab=200, csls_k=5)
    assert json.loads(refined.stdout)["refined"] == lib_refined.refined != []
    assert json.loads(refined.stdout)["settings"] == lib_refined.config.to_dict()
    np.testing.assert_allclose(load_vectors(out).vectors, lib_refined.source.vectors, atol=1e-6)
    npy = run("align", files["src"], files["tgt"], "-d", files["pairs"], "-o", files["dir"] / "a.npy",
              "--format", "npy", "-q")
    assert npy.exit_code == 0 and npy.output == ""
    np.testing.assert_allclose(load_vectors(files["dir"] / "a.npy").vectors, lib.source.vectors)


def test_identical_two_runs_of_one_language(tmp_path):
    words = [f"w{i}" for i in range(300)]
    run1, run2, q = related_spaces(seed=6, n=300, d=16, noise=0.05, src_words=words,
                                   tgt_words=words[:250] + [f"only{i}" for i in range(50)])
    a, b = tmp_path / "run1.vec", tmp_path / "run2.vec"
    write_vectors(a, run1, "word2vec-text")
    write_vectors(b, run2, "word2vec-text")
    result = embedtrain.align(a, b, identical=True)
    assert result.pairs_given == 250 and result.seed_pairs == 250 and result.coverage == 1.0
    assert np.abs(result.W - q).max() < 0.05
    out = tmp_path / "run1-aligned.vec"
    assert run("align", a, b, "--identical", "-o", out, "-q").exit_code == 0
    stable = json.loads(run("eval-translation", out, b, "--identical", "--json").stdout)
    assert stable["mode"] == "identical" and stable["p@1"] == 1.0
    assert (stable["evaluated"], stable["source_words"]) == (250, 250)
    before = json.loads(run("eval-translation", a, b, "--identical", "--json").stdout)
    assert before["p@1"] < 0.2                       # unaligned runs: neighbours are not themselves


# ---------------------------------------------------------------------- refusals
def test_bad_input_is_one_line_from_the_cli_and_an_error_from_the_library(files, tmp_path):
    src, tgt, pairs = files["src"], files["tgt"], files["pairs"]
    other = tmp_path / "dim8.vec"
    write_vectors(other, Vectors(["t0", "t1"], np.ones((2, 8))), "word2vec-text")
    nothing = tmp_path / "nothing.tsv"
    nothing.write_text("source target\nfoo\tbar\n\nbaz qux\n", encoding="utf-8")
    empty = tmp_path / "empty.tsv"
    empty.write_text("", encoding="utf-8")
    out = tmp_path / "out.vec"
    cases = [
        (("align", src, other, "-d", pairs, "-o", out), "differ in dimension (source 12, target 8)",
         lambda: embedtrain.align(src, other, pairs)),
        (("align", src, tgt, "-d", nothing, "-o", out), "no pair of the dictionary has both words",
         lambda: embedtrain.align(src, tgt, nothing)),
        (("align", src, tgt, "-d", empty, "-o", out), "no pair of the dictionary",
         lambda: embedtrain.align(src, tgt, empty)),
        (("align", src, tgt, "-d", tmp_path / "absent.tsv", "-o", out), "does not exist",
         lambda: embedtrain.align(src, tgt, tmp_path / "absent.tsv")),
        (("align", src, tgt, "-o", out), "needs a dictionary",
         lambda: embedtrain.align(src, tgt)),
        (("align", src, tgt, "-d", pairs, "--identical", "-o", out), "not both",
         lambda: embedtrain.align(src, tgt, pairs, identical=True)),
        (("align", src, tgt, "-d", pairs, "-o", out, "--refine", "-1"), "--refine must be at least 0",
         lambda: embedtrain.align(src, tgt, pairs, refine=-1)),
        (("align", src, tgt, "-d", pairs, "-o", out, "--csls-k", "0"), "--csls-k must be at least 1",
         lambda: embedtrain.align(src, tgt, pairs, csls_k=0)),
        (("align", src, tgt, "-d", pairs, "-o", tmp_path / "no" / "dir.vec"), "",
         None),
        (("eval-translation", src, other, pairs), "differ in dimension",
         lambda: embedtrain.evaluate_translation(src, other, pairs)),
        (("eval-translation", src, tgt, nothing), "no test pair has both words",
         lambda: embedtrain.evaluate_translation(src, tgt, nothing)),
        (("eval-translation", src, tgt), "needs test pairs",
         lambda: embedtrain.evaluate_translation(src, tgt)),
        (("eval-translation", src, tgt, pairs, "--identical"), "not both",
         lambda: embedtrain.evaluate_translation(src, tgt, pairs, identical=True)),
        (("eval-translation", src, tgt, empty), "holds no pair",
         lambda: embedtrain.evaluate_translation(src, tgt, empty)),
    ]
    latin1 = tmp_path / "latin1.tsv"
    latin1.write_bytes("s1\tt1\nstra\xdfe\tt2\n".encode("latin-1"))
    cases.append((("align", src, tgt, "-d", latin1, "-o", out), "is not UTF-8 text (byte offset 10)",
                  lambda: embedtrain.align(src, tgt, latin1)))
    disjoint = tmp_path / "disjoint.vec"
    write_vectors(disjoint, Vectors(["x", "y"], np.ones((2, 12))), "word2vec-text")
    cases += [
        (("align", src, disjoint, "--identical", "-o", out), "share no word",
         lambda: embedtrain.align(src, disjoint, identical=True)),
        (("eval-translation", src, disjoint, "--identical"), "share no word",
         lambda: embedtrain.evaluate_translation(src, disjoint, identical=True)),
    ]
    for args, fragment, library in cases:
        assert_one_line_error(run(*args), fragment)
        if library is not None:
            with pytest.raises(EmbedtrainError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
                library()
    assert not out.exists()
    with pytest.raises(EmbedtrainError, match="two words"):
        embedtrain.align(src, tgt, [("s1", "t1", "x")])
    with pytest.raises(EmbedtrainError, match="unknown alignment setting 'refin'"):
        embedtrain.align(src, tgt, pairs, refin=5)


def test_defaults_live_in_config():
    defaults = AlignConfig()
    assert (defaults.csls, defaults.csls_k, defaults.refine) == (False, 10, 0)
    help_text = run("align", "--help").stdout
    assert f"[default: {defaults.csls_k}]" in help_text and "[default: 20,000]" in help_text


def test_docs_settings_table_is_current():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    generated = subprocess.run([sys.executable, str(root / "scripts" / "readme_align_options.py")],
                               capture_output=True, text=True, check=True,
                               env=dict(os.environ, PYTHONPATH=str(root))).stdout.strip()
    assert generated in (root / "docs" / "align.md").read_text(), \
        "docs/align.md settings table is stale: run python scripts/readme_align_options.py --write"


def test_small_blocks_give_the_same_scores():
    source, target, _ = related_spaces(seed=8, n=120, d=10, noise=1.0)
    result = embedtrain.align(source, target, pairs_of(60), block_bytes=4 * 120 * 3)
    test = pairs_of(120, 60)
    for csls in (False, True):
        one = embedtrain.evaluate_translation(result.source, target, test, csls=csls)
        blocks = embedtrain.evaluate_translation(result.source, target, test, csls=csls,
                                                 block_bytes=4 * 120 * 5)
        assert one == blocks and 0 < one.precision[1] < 1
