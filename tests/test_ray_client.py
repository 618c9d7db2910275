"""Training through Ray Client (``--ray ray://HOST:PORT``) on a cluster started as a user
starts one: ``ray start --head --ray-client-server-port PORT``, with Ray 2.60's token
authentication on and a token of its own; one cluster for the module
(ray_support.ray_start_cluster), stopped by pid afterwards."""
from __future__ import annotations

import glob
import os

import numpy as np
import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("grpc", reason='Ray Client (ray://) needs ray[client] (grpcio): pip install ".[ray]"')

import embedtrain  # noqa: E402
from embedtrain.models import Model  # noqa: E402

from ray_support import one_error_line, ray_start_cluster, run_train  # noqa: E402

pytestmark = pytest.mark.slow
SETTINGS = dict(model="skipgram", dim=20, epochs=2, seed=3, min_count=5)
OPTIONS = [f"--{k.replace('_', '-')}={v}" for k, v in SETTINGS.items()]


@pytest.fixture(scope="module")
def cluster():
    with ray_start_cluster(client=True) as started:
        yield started


def client_server_logs(cluster) -> str:
    """The Ray Client servers' logs of the test cluster (gone with its directory after the
    module): what a failed session left, for the failure message."""
    parts = []
    for path in sorted(glob.glob(os.path.join(cluster.temp_dir, "session_*", "logs", "ray_client_server*.err"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            parts.append(f"--- {os.path.basename(path)}\n" + f.read()[-3000:])
    return "\n".join(parts)


def test_trains_through_ray_client(cluster, small_corpus, tmp_path):
    out = run_train([small_corpus, "--ray", cluster.client_address, "--workers", "2", "--threads", "1",
                     *OPTIONS, "--save-vocab", tmp_path / "vocab.txt", "-o", tmp_path / "client"],
                    env=cluster.driver_env())
    assert out.returncode == 0, out.stderr + "\n" + client_server_logs(cluster)
    # the cluster joined is this module's (its GCS port), through its Ray Client server
    assert f":{cluster.gcs_port} (--ray {cluster.client_address}): 1 node, 2 CPUs" in out.stderr, out.stderr
    one = embedtrain.train(small_corpus, threads=1, progress=False, save_vocab=str(tmp_path / "one.txt"),
                           **SETTINGS)
    # exactly one machine's vocabulary (words, counts, order)
    assert (tmp_path / "vocab.txt").read_text() == (tmp_path / "one.txt").read_text()
    model = Model.load(tmp_path / "client.etm")
    assert model.vocab.words == one.vocab.words
    d = model.stats["distributed"]
    assert d["workers"] == 2 and d["nodes"] == 1
    assert d["words_counted"] == model.stats["vocab_tokens"] * 2 == one.stats["words_trained"]
    # the vectors file: a header, then one row of dim floats per vocabulary word, in order
    lines = (tmp_path / "client.vec").read_text().splitlines()
    assert lines[0] == f"{len(one.vocab)} 20" and len(lines) == len(one.vocab) + 1
    rows = [line.split(" ") for line in lines[1:]]
    assert [r[0] for r in rows] == one.vocab.words and {len(r) for r in rows} == {21}
    vectors = np.array([r[1:] for r in rows], dtype=np.float32)
    assert np.isfinite(vectors).all() and vectors.std() > 0
    np.testing.assert_allclose(vectors, model.word_matrix(), atol=1e-5)
    # the workers ran at this driver's priority (Ray starts them at niceness 15)
    assert d["driver_niceness"] == os.nice(0) and d["worker_niceness"] == [os.nice(0)] * 2


def test_refusals_of_ray_client_are_one_line(cluster, small_corpus, tmp_path):
    """Ray Client retries for 30 s and then says "ray client connection timeout" whether
    its token was refused or the port is not a Ray Client server; one ping says which."""
    args = [small_corpus, "--workers", "2", "--threads", "1", "-o", tmp_path / "x"]
    unsent = cluster.driver_env()
    del unsent["RAY_AUTH_MODE"]  # Ray sends a token to an explicit address only in token mode
    out = run_train([*args, "--ray", cluster.client_address], env=unsent)
    one_error_line(out, "requires token authentication", "set RAY_AUTH_MODE=token to send the token from RAY_AUTH_TOKEN")
    out = run_train([*args, "--ray", cluster.client_address], env=cluster.driver_env(RAY_AUTH_TOKEN="not-the-token"))
    one_error_line(out, "rejected the authentication token from RAY_AUTH_TOKEN")
    out = run_train([*args, "--ray", f"ray://127.0.0.1:{cluster.gcs_port}"], env=cluster.driver_env())
    one_error_line(out, "is not a Ray Client server", "--ray-client-server-port")
    assert not (tmp_path / "x.vec").exists()
