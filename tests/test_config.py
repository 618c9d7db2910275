"""Settings: defaults in one place, TOML recipes, precedence, validation."""
from pathlib import Path

import pytest

from embedtrain.config import (CBOWConfig, FastTextConfig, GloVeConfig, SkipGramConfig, load_toml,
                               make_config)
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
    from embedtrain.training.graph import graph_configs

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


def test_ray_sync_settings_left_unset_take_the_models_defaults_and_given_ones_stay():
    from embedtrain.config import (FASTTEXT_SYNC_EVERY, GLOVE_SYNC_EVERY, GLOVE_SYNC_PROTOCOL, SYNC_EVERY,
                                   SYNC_DTYPE, SYNC_DTYPES, SYNC_PROTOCOL, DistributedConfig)
    from embedtrain.distributed import pop_distributed

    unset = DistributedConfig(ray="local")
    assert unset.for_model("glove").sync_every == GLOVE_SYNC_EVERY
    assert unset.for_model("glove").sync_protocol == GLOVE_SYNC_PROTOCOL != SYNC_PROTOCOL
    assert unset.for_model("skipgram").sync_every == SYNC_EVERY
    assert unset.for_model("fasttext").sync_every == FASTTEXT_SYNC_EVERY
    assert unset.for_model("fasttext").sync_protocol == SYNC_PROTOCOL
    # a value given is kept even when it equals another model's default
    given = pop_distributed({"ray": "local", "sync_every": FASTTEXT_SYNC_EVERY, "sync_protocol": SYNC_PROTOCOL})
    assert given.for_model("glove").sync_every == FASTTEXT_SYNC_EVERY != GLOVE_SYNC_EVERY
    assert given.for_model("glove").sync_protocol == SYNC_PROTOCOL
    assert unset.for_model("glove").sync_overlap is False
    assert DistributedConfig(ray="local", sync_overlap=True).for_model("cbow").sync_overlap is True
    assert DistributedConfig(ray="local", sync_overlap=False).for_model("cbow").sync_overlap is False
    assert unset.for_model("glove").sync_dtype == "float32"
    assert unset.for_model("fasttext").sync_dtype == SYNC_DTYPE
    other = next(d for d in SYNC_DTYPES if d != SYNC_DTYPE)
    assert DistributedConfig(ray="local", sync_dtype=other).for_model("skipgram").sync_dtype == other


def test_sync_overlap_with_glove_is_refused_in_one_line():
    from embedtrain.config import DistributedConfig, make_config
    from embedtrain.distributed import check_distributed
    from embedtrain.errors import EmbedtrainError

    glove = make_config("glove")
    with pytest.raises(EmbedtrainError, match="--sync-overlap"):
        check_distributed(glove, DistributedConfig(ray="local", sync_overlap=True), ["corpus.txt"])
    with pytest.raises(EmbedtrainError, match="--sync-dtype int16"):
        check_distributed(glove, DistributedConfig(ray="local", sync_dtype="int16"), ["corpus.txt"])
    # not given, or off: fine (and skip-gram takes it)
    assert check_distributed(glove, DistributedConfig(ray="local"), ["corpus.txt"]) == ["corpus.txt"]
    assert check_distributed(make_config("skipgram"), DistributedConfig(ray="local", sync_overlap=True),
                             ["corpus.txt"]) == ["corpus.txt"]


def test_ray_workers_train_at_the_square_root_rule_unless_told():
    from embedtrain.config import DistributedConfig, make_config
    from embedtrain.distributed.executor import RayTraining
    from embedtrain.errors import ConfigError

    assert DistributedConfig(ray="local", workers=4).for_model("skipgram").lr_scale == 2.0
    assert DistributedConfig(ray="local", workers=4).for_model("glove").lr_scale == 1.0
    assert DistributedConfig(ray="local", workers=4, lr_scale=1.0).for_model("fasttext").lr_scale == 1.0
    config = make_config("skipgram", lr=0.03)
    run = RayTraining(config, DistributedConfig(ray="local", workers=4), ["corpus.txt"])
    assert run.worker_config.lr == pytest.approx(0.06) and run.config.lr == 0.03
    assert run.worker_config.window == config.window
    one = RayTraining(config, DistributedConfig(ray="local", workers=1), ["corpus.txt"])
    assert one.worker_config is config  # a lone worker is one machine, bit for bit
    with pytest.raises(ConfigError, match="--lr-scale"):
        DistributedConfig(ray="local", lr_scale=0.0)
