"""Checksums of seeded one-thread training runs of every model (the numerics pin).

    python scripts/golden_checksums.py            # print this machine's checksums as JSON
    python scripts/golden_checksums.py --write    # record them in tests/golden_checksums.json

tests/test_golden.py recomputes them and compares with the entry for this CPU. A
change to a kernel, a driver or the runner that alters the bytes of any model fails
that test; change a numeric on purpose only with a note of its measured effect, then
record the new checksums with --write.

Kernels are compiled for the host CPU with fastmath reassociation, so vector width
(AVX2, AVX-512) changes the bytes; entries are kept per CPU.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_FILE = ROOT / "tests" / "golden_checksums.json"
RUNS = {
    "skipgram": dict(model="skipgram"),  # shared negatives, gensim's init and schedule (issue 14)
    "skipgram_per_pair": dict(model="skipgram", shared_negatives=False),
    # word2vec.c's numerics (the skip-gram default before issue 14): the old "skipgram" bytes
    "skipgram_w2v_c": dict(model="skipgram", init_bound=0.5, epoch_decay=1.0, shared_negatives=False),
    "cbow": dict(model="cbow"),
    "skipgram_hs": dict(model="skipgram", hs=True),
    "cbow_hs_ns": dict(model="cbow", hs=True, negative=3),
    "fasttext": dict(model="fasttext", bucket=20000),
    "fasttext_shared": dict(model="fasttext", bucket=20000, shared_negatives=True),
    "fasttext_cbow": dict(model="fasttext", arch="cbow", bucket=20000),
    # x_max 100 and window 15: the GloVe defaults these bytes were pinned with (issue 28 made
    # --x-max follow the corpus size; the numerics did not change)
    "glove": dict(model="glove", memory=0.05, x_max=100.0, window=15),
}
COMMON = dict(dim=16, epochs=2, threads=1, seed=3, min_count=3, progress=False)


def cpu_key() -> str:
    from llvmlite import binding

    features = binding.get_host_cpu_features().flatten()
    return f"{binding.get_host_cpu_name()}/{hashlib.sha1(features.encode()).hexdigest()[:12]}"


def corpus(directory: Path) -> Path:
    """The first 20,000 tokens of data/text8-sample.gz as lines of 100."""
    with gzip.open(ROOT / "data" / "text8-sample.gz", "rt", encoding="utf-8") as f:
        words = f.read().split()[:20000]
    path = directory / "golden.txt"
    path.write_text("\n".join(" ".join(words[i:i + 100]) for i in range(0, len(words), 100)) + "\n")
    return path


def checksum(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        h.update(name.encode())
        h.update(np.ascontiguousarray(arrays[name]).tobytes())
    return h.hexdigest()[:16]


def pinned_arrays(model) -> dict[str, np.ndarray]:
    """The arrays whose bytes are pinned. A FastText model stores only the n-gram rows
    training touched; its pin is the full input matrix (every bucket row, as before
    compact storage), so that storing fewer rows changed no checksum."""
    if model.kind == "fasttext":
        return {"input_vectors": model.full_input_matrix(), "output_vectors": model.output_vectors}
    return model.arrays


def checksums() -> dict[str, str]:
    import embedtrain

    with tempfile.TemporaryDirectory() as tmp:
        path = corpus(Path(tmp))
        return {name: checksum(pinned_arrays(embedtrain.train(str(path), **COMMON, **kw)))
                for name, kw in RUNS.items()}


def main() -> None:
    result = checksums()
    if "--write" in sys.argv:
        table = json.loads(GOLDEN_FILE.read_text()) if GOLDEN_FILE.exists() else {}
        table[cpu_key()] = result
        GOLDEN_FILE.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(json.dumps({cpu_key(): result}, indent=1))


if __name__ == "__main__":
    main()
