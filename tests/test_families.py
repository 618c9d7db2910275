"""The family seam: a model family defined here, in the test file alone, trains through
``embedtrain.train``, checkpoints and resumes, and runs on the Ray workers' code in
this process, without any other module knowing it. Also: the registry is the one list
of models, and every built-in family keeps its declarations consistent."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import embedtrain
from embedtrain.config import CommonConfig, _opt, make_config
from embedtrain.corpus.stream import SENTENCE_END
from embedtrain.errors import ConfigError, EmbedtrainError
from embedtrain.families import REGISTRY, StreamFamily, family_of, model_names, register, unregister

from conftest import StopAtEpoch, StopTraining

LR = 0.5


@dataclass(frozen=True)
class CountConfig(CommonConfig):
    """A toy model: each word's vector grows by ``lr x step`` every time the word is read."""

    step: float = _opt(1.0, "How far a word's vector moves per occurrence.", range=(0.0, 10.0, True))
    model = "count"


class CountTask:
    """The runner's task (training/runner.py): jobs are the stream's chunks; the kernel
    adds ``lr x step`` to the row of every word read (the schedule is constant)."""

    unit = "word"

    def __init__(self, config: CountConfig, arrays: dict[str, np.ndarray], stream: Any = None):
        self.kind, self.config, self.arrays, self.stream = config.model, config, arrays, stream
        self.epochs = config.epochs
        self.units_per_epoch = stream.n_tokens if stream is not None else 0
        self.n_jobs = stream.n_chunks if stream is not None else 0

    @property
    def total_words(self) -> int:
        return self.units_per_epoch * self.epochs

    def train_chunk(self, tokens, words_done, total_words, rng_state):
        ids = tokens[tokens != SENTENCE_END]
        np.add.at(self.arrays["input_vectors"], ids, np.float32(self.config.lr * self.config.step))
        rng_state[0] += np.uint64(1)  # the runner's per-worker state advances (checkpointed)
        return len(ids), float(len(ids)), len(ids)

    def begin_epoch(self, epoch):
        pass

    def run_job(self, epoch, job, rng_state):
        return self.train_chunk(self.stream.chunk(job), 0, self.total_words, rng_state)

    def lr_at(self, units_done):
        return self.config.lr

    def epoch_loss(self, loss_sum, examples):
        return loss_sum / max(examples, 1)

    def state_arrays(self):
        return dict(self.arrays)


class Count(StreamFamily):
    name = "count"
    title = "Count"
    configs = {"count": CountConfig}
    ray = True
    ray_overlap = False

    def fresh_arrays(self, config, vocab, layout):
        return {"input_vectors": np.zeros((len(vocab), config.dim), np.float32)}

    def make_task(self, config, vocab, arrays, corpus_tokens, layout, stream=None):
        return CountTask(config, arrays, stream)

    def lr_schedule(self, config):
        return 0.0, 0.0, 1.0

    def lr_at(self, config, units_done, units_per_epoch):
        return config.lr

    def replica_rows(self, config, layout):
        from embedtrain.distributed.sync import word_rows

        return {"input_vectors": word_rows}

    def row_masses(self, task, vocab, counts, lr):
        return {"input_vectors": counts.astype(np.float64)}


@pytest.fixture()
def count_family():
    family = register(Count())
    yield family
    unregister(family)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)]
    lines = [" ".join(rng.choice(words, size=rng.integers(5, 30))) for _ in range(400)]
    path = tmp_path_factory.mktemp("count") / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def expected_vectors(model, corpus, epochs: int, step: float = 1.0) -> np.ndarray:
    counts: dict[str, int] = {}
    for word in corpus.read_text().split():
        counts[word] = counts.get(word, 0) + 1
    return np.array([counts[w] * epochs * LR * step for w in model.vocab.words], np.float32)


def test_a_family_defined_in_a_test_file_trains_through_embedtrain_train(count_family, corpus):
    model = embedtrain.train(str(corpus), model="count", dim=3, epochs=2, lr=LR, min_count=1,
                             threads=1, progress=False, step=2.0)
    assert model.kind == "count" and len(model.vocab) == 40
    want = expected_vectors(model, corpus, epochs=2, step=2.0)
    np.testing.assert_allclose(model.arrays["input_vectors"][:, 0], want, rtol=1e-5)
    assert [h["epoch"] for h in model.stats["history"]] == [1, 2]
    # its settings are checked as every model's are, by the range on its field
    with pytest.raises(ConfigError, match="--step must be positive"):
        embedtrain.train(str(corpus), model="count", step=0.0, progress=False)
    with pytest.raises(ConfigError, match="--hs does not apply to --model count"):
        make_config("count", hs=True)


def test_the_family_checkpoints_and_resumes_to_the_same_bytes(count_family, corpus, tmp_path):
    settings = dict(model="count", dim=3, epochs=3, lr=LR, min_count=1, threads=1, progress=False)
    whole = embedtrain.train(str(corpus), **settings)
    ckpt = tmp_path / "run.ckpt"

    with pytest.raises(StopTraining):  # a checkpoint after every job (checkpoint_every tiny)
        embedtrain.train(str(corpus), checkpoint=ckpt, checkpoint_every=1e-9,
                         callbacks=[StopAtEpoch(2)], **settings)
    assert ckpt.exists()
    resumed = embedtrain.train(str(corpus), resume=ckpt, **settings)
    assert not ckpt.exists()   # removed once the run completed
    np.testing.assert_array_equal(resumed.arrays["input_vectors"], whole.arrays["input_vectors"])
    assert resumed.stats["resumed_from_checkpoint"]["epoch"] >= 2
    # a finished Count model is not resumable (the family does not declare it)
    with pytest.raises(EmbedtrainError, match="resuming is supported for skipgram and cbow models, not count"):
        embedtrain.train(str(corpus), resume=whole, **{k: v for k, v in settings.items() if k != "model"})


def test_the_family_trains_on_the_ray_workers_code_in_this_process(count_family, corpus):
    """Two Ray workers (distributed/workers.py, in this process as the driver sets them
    up) each train their part and are combined by 'sum' every round: the sum of every
    worker's additions is what one machine adds, so the replicas end equal to it."""
    import math

    from embedtrain.distributed.task import make_model
    from embedtrain.distributed.workers import ReplicaWorker, job_tokens, reduce_shard
    from inprocess import set_up_workers

    config = make_config("count", dim=2, epochs=2, lr=LR, min_count=1, threads=1)
    workers, sync_every = 2, 1500
    ws, vocab, tokens = set_up_workers([corpus], config, workers, ReplicaWorker,
                                       job_tokens(workers, sync_every))
    rounds = max(1, math.ceil(sum(tokens) / (workers * sync_every)))
    assert rounds > 1
    for epoch in range(config.epochs):
        for r in range(rounds):
            results = [wk.train(epoch, r, rounds) for wk in ws]
            combined = [reduce_shard("sum", *[res[1 + s] for res in results]) for s in range(workers)]
            for wk in ws:
                wk.apply(*combined)
    first, second = ws[0].weights()["input_vectors"], ws[1].weights()["input_vectors"]
    np.testing.assert_array_equal(first, second)
    model = make_model(config, vocab, {k: np.array(v) for k, v in ws[0].weights().items()}, {})
    np.testing.assert_allclose(model.arrays["input_vectors"][:, 0],
                               expected_vectors(model, corpus, epochs=2), rtol=1e-5)
    for wk in ws:
        wk.close()


def test_the_registry_is_the_one_list_of_models():
    assert model_names() == ["skipgram", "cbow", "glove", "fasttext", "doc2vec"]
    for family in REGISTRY:
        for model, cls in family.configs.items():
            assert cls.model == model and family_of(model) is family
    with pytest.raises(ConfigError, match="unknown model 'nope'"):
        family_of("nope")
    with pytest.raises(ValueError, match="already registered"):
        register(family_of("skipgram"))
    # what differs by model is declared, not branched on
    assert [f.unit for f in REGISTRY] == ["word", "entry", "word", "word"]
    assert [m for f in REGISTRY if f.resumable for m in f.models] == ["skipgram", "cbow"]
    assert [m for f in REGISTRY if f.graph_presets is not None for m in f.models] == ["skipgram", "cbow"]


def test_a_model_without_a_ray_family_is_refused_before_any_work(corpus):
    class NoRay(Count):
        ray = False

    family = register(NoRay())
    try:
        with pytest.raises(EmbedtrainError, match="--model count cannot train on Ray yet"):
            embedtrain.train(str(corpus), model="count", ray="local", progress=False)
    finally:
        unregister(family)
