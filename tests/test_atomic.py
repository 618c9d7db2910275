"""Outputs appear complete or not at all."""
import os

import numpy as np
import pytest

from embedtrain.io.atomic import atomic_output, check_writable
from embedtrain.errors import EmbedtrainError
from embedtrain.io.text import write_word2vec_text


def test_error_midway_leaves_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.vec"
    target.write_text("old contents\n")
    with pytest.raises(RuntimeError):
        with atomic_output(target, "w") as f:
            f.write("half of a new file")
            raise RuntimeError("disk on fire")
    assert target.read_text() == "old contents\n"
    assert os.listdir(tmp_path) == ["out.vec"]


def test_interrupt_midway_leaves_nothing(tmp_path):
    target = tmp_path / "new.vec"
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(target, "wb") as f:
            f.write(b"x" * 1000)
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []


def test_vectors_writer_failing_on_a_row_leaves_nothing(tmp_path):
    class Exploding(list):
        def __getitem__(self, item):
            if isinstance(item, slice) and item.start and item.start > 0:
                raise MemoryError("simulated")
            return list.__getitem__(self, item)

    words = Exploding(f"w{i}" for i in range(3000))
    with pytest.raises(MemoryError):
        write_word2vec_text(tmp_path / "v.vec", words, np.zeros((3000, 4), np.float32))
    assert os.listdir(tmp_path) == []


def test_success_renames_into_place_with_normal_permissions(tmp_path):
    with atomic_output(tmp_path / "a.txt", "w") as f:
        f.write("done\n")
    assert (tmp_path / "a.txt").read_text() == "done\n"
    assert oct((tmp_path / "a.txt").stat().st_mode & 0o777) == "0o644"


def test_check_writable(tmp_path):
    check_writable(tmp_path / "fine.vec")
    with pytest.raises(EmbedtrainError, match="does not exist"):
        check_writable(tmp_path / "missing" / "x.vec")
    with pytest.raises(EmbedtrainError, match="is a directory"):
        check_writable(tmp_path)
    assert os.listdir(tmp_path) == []  # the probe file is gone


@pytest.fixture(scope="module")
def tiny_model(small_corpus):
    import embedtrain

    return embedtrain.train(str(small_corpus), model="cbow", dim=8, epochs=1, threads=1, min_count=1,
                            seed=1, progress=False)


@pytest.mark.parametrize("failing", ["write_word2vec_text", "write_archive"])
def test_model_files_written_together_or_not_at_all(tmp_path, monkeypatch, tiny_model, failing):
    """Model.save writes the .etm on a helper thread while it writes the .vec: either failing
    leaves neither file, nor a temporary one."""
    from embedtrain import models

    def fail(*args, **kwargs):
        raise EmbedtrainError(f"{failing} failed")

    monkeypatch.setattr(models, failing, fail)
    with pytest.raises(EmbedtrainError, match=failing):
        tiny_model.save(tmp_path / "run")
    assert os.listdir(tmp_path) == []


def test_model_files_both_appear(tmp_path, tiny_model):
    from embedtrain.models import Model

    vec, etm = tiny_model.save(tmp_path / "run")
    assert sorted(os.listdir(tmp_path)) == ["run.etm", "run.vec"]
    loaded = Model.load(etm)
    assert np.array_equal(loaded.arrays["input_vectors"], tiny_model.arrays["input_vectors"])
    assert vec.read_text().splitlines()[0] == f"{len(tiny_model.vocab)} 8"
