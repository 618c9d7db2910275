"""Settings: defaults in one place, TOML recipes, precedence, validation."""
from pathlib import Path

import pytest
from click.testing import CliRunner

import embedtrain
from embedtrain.cli import main
from embedtrain.config import CBOWConfig, FastTextConfig, GloVeConfig, SkipGramConfig, load_toml
from embedtrain.config import make_config
from embedtrain.errors import ConfigError

CONFIGS = sorted((Path(__file__).resolve().parent.parent / "embedtrain" / "configs").glob("*.toml"))


def test_model_defaults():
    assert SkipGramConfig().lr == 0.025 and CBOWConfig().lr == 0.05
    assert SkipGramConfig().negative == 5 and SkipGramConfig(hs=True).negative == 0
    assert SkipGramConfig(hs=True, negative=3).negative == 3
    assert GloVeConfig().window == 15 and FastTextConfig().sample == 1e-4


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_shipped_recipes_load(path):
    from embedtrain.config import WalkConfig
    from embedtrain.graphs.train import graph_configs

    if set(load_toml(path)) & set(WalkConfig.__dataclass_fields__):  # a graph recipe
        config, _ = graph_configs(None, path)
    else:
        config = make_config(config_file=path)
    assert config.model in path.name


def test_precedence_defaults_then_file_then_arguments(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('model = "cbow"\ndim = 33\nmin_count = 2\n')
    c = make_config(None, f, dim=44, window=None)
    assert (c.model, c.dim, c.min_count, c.window) == ("cbow", 44, 2, 5)
    assert make_config("skipgram", f).model == "skipgram"  # the argument wins over the file


@pytest.mark.parametrize("text,message", [
    ("dim = 'x'\n", "--dim must be int"),
    ("hs = 1\n", "--hs must be bool"),
    ("lr = -1.0\n", "--lr must be positive"),
    ("sample = -0.1\n", "--sample"),
    ("dim = {a = 1}\n", "must be a value"),
    ("colour = 3\n", "unknown key"),
    ("dim = \n", "not valid TOML"),
])
def test_bad_recipes(tmp_path, text, message):
    f = tmp_path / "c.toml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=message):
        make_config(None, f)


def test_settings_of_another_model_are_refused():
    with pytest.raises(ConfigError, match="--minn does not apply to --model skipgram"):
        make_config("skipgram", minn=2)
    with pytest.raises(ConfigError, match="--negative 0 needs --hs"):
        make_config("cbow", negative=0)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_toml(tmp_path / "none.toml")


def _resolved(dist, model):
    from embedtrain.families import family_of

    return family_of(model).ray_settings(dist, model)


def test_default_sync_interval_keeps_a_round_under_round_words():
    """Skip-gram: the default --sync-every shrinks with the workers so that a round holds
    at most ROUND_WORDS words (8 x 500,000 halved the analogy score; issue 22), CBOW_ROUND_WORDS (issue 22's CBOW sweep); up to 2 workers skip-gram's
    stays SYNC_EVERY; a value given is kept."""
    from embedtrain.config import (CBOW_ROUND_WORDS, FASTTEXT_ROUND_WORDS, FASTTEXT_SYNC_EVERY, MIN_SYNC_EVERY,
                                   ROUND_WORDS, SYNC_EVERY, DistributedConfig)

    for model, most, words in (("skipgram", SYNC_EVERY, ROUND_WORDS), ("cbow", SYNC_EVERY, CBOW_ROUND_WORDS),
                               ("fasttext", FASTTEXT_SYNC_EVERY, FASTTEXT_ROUND_WORDS)):
        for workers in (1, 2, 3, 4, 8, 32, 1000):
            every = _resolved(DistributedConfig(ray="local", workers=workers), model).sync_every
            assert every == min(most, max(MIN_SYNC_EVERY, words // workers))
            assert workers * every <= words or every == MIN_SYNC_EVERY or workers * most <= words
    assert _resolved(DistributedConfig(ray="local", workers=32), "cbow").sync_every == 15_625
    assert _resolved(DistributedConfig(ray="local", workers=2), "cbow").sync_every == 250_000
    assert _resolved(DistributedConfig(ray="local", workers=2), "fasttext").sync_every == 200_000 < FASTTEXT_SYNC_EVERY
    assert _resolved(DistributedConfig(ray="local", workers=4), "fasttext").sync_every == 100_000
    assert _resolved(DistributedConfig(ray="local", workers=32), "fasttext").sync_every == 12_500
    assert _resolved(DistributedConfig(ray="local", workers=2), "skipgram").sync_every == SYNC_EVERY
    assert _resolved(DistributedConfig(ray="local", workers=8, sync_every=400_000), "skipgram").sync_every == 400_000


def test_ray_sync_settings_left_unset_take_the_models_defaults_and_given_ones_stay():
    from embedtrain.api import pop_distributed
    from embedtrain.config import (FASTTEXT_ROUND_WORDS, FASTTEXT_SYNC_EVERY, GLOVE_SYNC_EVERY, GLOVE_SYNC_PROTOCOL, SYNC_EVERY,
                                   SYNC_DTYPE, SYNC_DTYPES, SYNC_PROTOCOL, DistributedConfig)

    unset = DistributedConfig(ray="local")
    assert _resolved(unset, "glove").sync_every == GLOVE_SYNC_EVERY
    assert _resolved(unset, "glove").sync_protocol == GLOVE_SYNC_PROTOCOL
    assert _resolved(unset, "skipgram").sync_every == SYNC_EVERY
    assert _resolved(unset, "fasttext").sync_every == min(FASTTEXT_SYNC_EVERY, FASTTEXT_ROUND_WORDS // 2)  # 2 workers
    assert _resolved(unset, "fasttext").sync_protocol == SYNC_PROTOCOL
    # a value given is kept even when it equals another model's default
    given = pop_distributed({"ray": "local", "sync_every": FASTTEXT_SYNC_EVERY, "sync_protocol": "sum"})
    assert _resolved(given, "glove").sync_every == FASTTEXT_SYNC_EVERY != GLOVE_SYNC_EVERY
    assert _resolved(given, "glove").sync_protocol == "sum" != GLOVE_SYNC_PROTOCOL
    assert _resolved(unset, "glove").sync_overlap is False
    assert _resolved(DistributedConfig(ray="local", sync_overlap=True), "cbow").sync_overlap is True
    assert _resolved(DistributedConfig(ray="local", sync_overlap=False), "cbow").sync_overlap is False
    assert _resolved(unset, "glove").sync_dtype == "float32"
    assert _resolved(unset, "fasttext").sync_dtype == SYNC_DTYPE
    other = next(d for d in SYNC_DTYPES if d != SYNC_DTYPE)
    assert _resolved(DistributedConfig(ray="local", sync_dtype=other), "skipgram").sync_dtype == other
    # resolving is idempotent: a resolved setting is a given one
    once = _resolved(unset, "fasttext")
    assert _resolved(once, "fasttext") == once


def test_sync_overlap_with_glove_is_refused_in_one_line_by_the_library_and_the_cli(small_corpus):
    from embedtrain.errors import EmbedtrainError

    for bad, match in (({"sync_overlap": True}, "--sync-overlap does not apply to GloVe"),
                       ({"sync_dtype": "int16"}, "--sync-dtype int16 does not apply")):
        with pytest.raises(EmbedtrainError, match=match):
            embedtrain.train(str(small_corpus), model="glove", ray="local", **bad)
        option = "--" + next(iter(bad)).replace("_", "-")
        extra = [option] if option == "--sync-overlap" else [option, "int16"]
        result = CliRunner().invoke(main, ["train", str(small_corpus), "--model", "glove", "--ray",
                                           "local", *extra])
        assert result.exit_code != 0 and match in result.output and "Traceback" not in result.output
    # not given, or off: fine (and skip-gram takes it), checked before Ray is started
    from embedtrain.api import plan
    assert plan(str(small_corpus), model="glove", ray="local").dist.sync_overlap is False
    assert plan(str(small_corpus), model="skipgram", ray="local", sync_overlap=True).dist.sync_overlap


def test_ray_workers_train_at_the_square_root_rule_unless_told():
    from embedtrain.config import DistributedConfig
    from embedtrain.config import make_config
    from embedtrain.distributed.executor import RayTraining
    from embedtrain.errors import ConfigError

    assert _resolved(DistributedConfig(ray="local", workers=4), "skipgram").lr_scale == 2.0
    assert _resolved(DistributedConfig(ray="local", workers=4), "glove").lr_scale == 1.0
    assert _resolved(DistributedConfig(ray="local", workers=4, lr_scale=1.0), "fasttext").lr_scale == 1.0
    # FastText's is capped at FASTTEXT_MAX_LR_SCALE (the square root's value at 16 workers)
    from embedtrain.config import FASTTEXT_MAX_LR_SCALE

    assert FASTTEXT_MAX_LR_SCALE == 4.0
    for workers, scale in ((4, 2.0), (16, 4.0), (32, 4.0), (100, 4.0)):
        assert _resolved(DistributedConfig(ray="local", workers=workers), "fasttext").lr_scale == scale
    assert _resolved(DistributedConfig(ray="local", workers=32), "skipgram").lr_scale == pytest.approx(32 ** 0.5)
    assert _resolved(DistributedConfig(ray="local", workers=32, lr_scale=6.0), "fasttext").lr_scale == 6.0
    config = make_config("skipgram", lr=0.03)
    run = RayTraining(config, _resolved(DistributedConfig(ray="local", workers=4), "skipgram"), ["corpus.txt"])
    assert run.worker_config.lr == pytest.approx(0.06) and run.config.lr == 0.03
    assert run.worker_config.window == config.window
    one = RayTraining(config, _resolved(DistributedConfig(ray="local", workers=1), "skipgram"), ["corpus.txt"])
    assert one.worker_config is config  # a lone worker is one machine, bit for bit
    with pytest.raises(ConfigError, match="--lr-scale"):
        DistributedConfig(ray="local", lr_scale=0.0)


def test_a_settings_role_and_range_live_in_its_field():
    from dataclasses import fields

    from embedtrain.config import DistributedConfig, WalkConfig, fields_with

    assert set(fields_with("shape")) == {"dim", "hs", "min_count", "max_vocab", "lowercase", "minn",
                                         "maxn", "bucket", "arch", "floret", "hash_count", "doc_id"}
    assert set(fields_with("shape", "skipgram")) == {"dim", "hs", "min_count", "max_vocab", "lowercase"}
    assert set(fields_with("run")) == {"threads", "checkpoint_every"}
    assert set(fields_with("counting", "glove")) == {"window", "distance_weighting", "min_count",
                                                     "max_vocab", "lowercase", "max_line_tokens"}
    assert "window" not in fields_with("counting", "skipgram")  # GloVe's window decides its counts
    assert set(fields_with("text")) == {"lowercase", "max_line_tokens", "max_vocab", "doc_id"}
    assert fields_with("walk") == tuple(f.name for f in fields(WalkConfig))
    assert fields_with("ray") == tuple(f.name for f in fields(DistributedConfig))
    with pytest.raises(ValueError, match="unknown role"):
        fields_with("shapes")
    # an override keeps the range written on the field it overrides
    for cls in (CBOWConfig, GloVeConfig, FastTextConfig):
        assert cls.__dataclass_fields__["lr"].metadata["range"] == \
            SkipGramConfig.__dataclass_fields__["lr"].metadata["range"]
        with pytest.raises(ConfigError, match="--lr must be positive"):
            cls(lr=0.0)
    with pytest.raises(ConfigError, match="--negative must be at most"):
        FastTextConfig(negative=10_000)


@pytest.mark.parametrize("model", ["glove", "fasttext", "skipgram", "cbow"])
def test_ray_runs_on_more_workers_than_measured_are_warned(model):
    from embedtrain.families import family_of

    family = family_of(model)
    most = family.ray_measured_workers
    assert most >= 8   # each family's quality was measured up to 8 workers at least
    assert family.ray_scale_warning(2) is None and family.ray_scale_warning(most) is None
    line = family.ray_scale_warning(most + 1)
    assert f"{most + 1} workers" in line and family.title in line and "\n" not in line


def test_glove_warns_sooner_with_a_combination_rule_than_in_strata():
    from embedtrain.families import family_of

    glove = family_of("glove")
    assert glove.ray_scale_warning(32) is None and glove.ray_scale_warning(32, "strata") is None
    assert "strata" in glove.ray_scale_warning(33)
    line = glove.ray_scale_warning(9, "scaled")
    assert "--sync-protocol scaled" in line and "9 workers" in line
    assert glove.ray_scale_warning(8, "scaled") is None


def test_a_ray_run_beyond_its_familys_measured_workers_logs_the_warning_once(caplog):
    # the driver says it as it is set up (RayTraining.__init__ connects to nothing)
    import logging

    from embedtrain.config import DistributedConfig
    from embedtrain.distributed.executor import RayTraining
    from embedtrain.distributed.glove import GloVeRayTraining
    from embedtrain.families import family_of

    for model, cls in (("fasttext", RayTraining), ("glove", GloVeRayTraining), ("skipgram", RayTraining)):
        most = family_of(model).ray_measured_workers
        for workers, expected in ((most, 0), (most + 1, 1)):
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="embedtrain"):
                dist = _resolved(DistributedConfig(ray="local", workers=workers), model)
                cls(make_config(model), dist, ["corpus.txt"])
            lines = [r.getMessage() for r in caplog.records if "check the vectors" in r.getMessage()]
            assert len(lines) == expected, (model, workers, lines)
