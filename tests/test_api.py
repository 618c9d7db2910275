"""One entry path: the library refuses what the CLI refuses, in the same words, before
any work; the settings are built once; Ray's model-dependent defaults resolved once."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

import embedtrain
from embedtrain.api import plan
from embedtrain.cli import main
from embedtrain.errors import EmbedtrainError

# (CLI arguments after the corpus, the library's keyword arguments, the message both give)
REFUSALS = [
    (["--cooccur", "m.cooc"], {"cooccur": "m.cooc"}, "--cooccur applies to --model glove only"),
    (["--save-cooccur", "m.cooc"], {"save_cooccur": "m.cooc"}, "--save-cooccur applies to --model glove only"),
    (["--tmp-dir", "nowhere"], {"tmp_dir": "nowhere"}, "--tmp-dir nowhere is not a directory"),
    (["--workers", "3"], {"workers": 3}, "--workers applies only with --ray"),
    (["--model", "glove", "--ray", "local", "--sync-overlap"],
     {"model": "glove", "ray": "local", "sync_overlap": True}, "--sync-overlap does not apply to GloVe"),
    (["--model", "glove", "--ray", "local", "--sync-every", "100000"],
     {"model": "glove", "ray": "local", "sync_every": 100_000}, "--sync-every does not apply to GloVe in strata"),
    (["--ray", "local", "--sync-protocol", "strata"],
     {"ray": "local", "sync_protocol": "strata"}, "--sync-protocol strata does not apply to word2vec"),
    (["--dim", "0"], {"dim": 0}, "--dim must be at least 1"),
    (["--model", "glove", "--window", "0"], {"model": "glove", "window": 0}, "--window must be at least 1"),
    (["--model", "fasttext", "--hs"], {"model": "fasttext", "hs": True}, "--hs does not apply to --model fasttext"),
    (["--p", "2"], {"p": 2.0}, "--p applies to --graph only"),
]


@pytest.mark.parametrize("cli,kwargs,message", REFUSALS, ids=[r[2][:30] for r in REFUSALS])
def test_the_library_refuses_what_the_cli_refuses_in_the_same_words(small_corpus, tmp_path, monkeypatch,
                                                                    cli, kwargs, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(EmbedtrainError) as caught:
        embedtrain.train(str(small_corpus), progress=False, **kwargs)
    assert message in str(caught.value)
    result = CliRunner().invoke(main, ["train", str(small_corpus), *cli])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert message in result.output, result.output
    assert not list(tmp_path.iterdir())   # refused before anything was written


def test_no_corpus_is_refused_by_both(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(EmbedtrainError, match="no corpus given"):
        embedtrain.train(None)
    result = CliRunner().invoke(main, ["train"])
    assert result.exit_code != 0 and "no corpus given" in result.output


def test_a_plan_builds_the_settings_once_and_resolves_ray_defaults_by_family(small_corpus):
    run = plan(str(small_corpus), model="fasttext", dim=8, ray="local", workers=4)
    assert run.config.dim == 8 and run.family.name == "fasttext"
    assert run.dist.sync_every == run.family.default_sync_every(4, "fasttext") == 100_000
    assert run.dist.lr_scale == 2.0
    assert plan(str(small_corpus), model="glove", ray="local").dist.sync_dtype == "float32"
    assert plan(str(small_corpus)).dist is None   # one machine


@pytest.mark.parametrize("cli,kwargs,message", [
    (["--checkpoint-every", "5"], {"checkpoint_every": 5.0}, "--checkpoint-every does not apply to --graph"),
    (["--tmp-dir", "nowhere"], {"tmp_dir": "nowhere"}, "--tmp-dir nowhere is not a directory"),
    (["--model", "glove"], {"model": "glove"}, "graphs train with --model skipgram or cbow, not glove"),
], ids=["checkpoint", "tmp-dir", "model"])
def test_train_graph_refuses_what_train_graph_in_the_cli_refuses(tmp_path, monkeypatch, cli, kwargs, message):
    monkeypatch.chdir(tmp_path)
    edges = tmp_path / "g.txt"
    edges.write_text("a b\nb c\nc a\n")
    with pytest.raises(EmbedtrainError) as caught:
        embedtrain.train_graph(str(edges), progress=False, **kwargs)
    assert message in str(caught.value)
    result = CliRunner().invoke(main, ["train", "--graph", str(edges), *cli])
    assert result.exit_code != 0 and message in result.output, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.txt"]
