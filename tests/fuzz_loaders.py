"""The body of tests/test_fuzz.py, run in a child process under a memory limit.

    python tests/fuzz_loaders.py WORKDIR SEED CASES_PER_KIND MEMORY_LIMIT_BYTES

WORKDIR holds the intact files (small.vec, small.w2v.bin, small.etm, small.cooc,
small.ft.bin, small.ckpt with the corpus it was written on, corpus.txt) and the
evaluation sets (sim.tsv, analogy.txt). A checkpoint is resumed (``train --resume``). Each mutation (bit flips,
truncation, inserted or deleted bytes, header edits) goes through the library loader
and through the command a user would run (``embedtrain eval``, or ``train --cooccur``
for a co-occurrence file), in this process. Every case must load or give exactly one
line ``embedtrain: error: ...`` with exit status 1; any other exception, a traceback, a
second line or an exit status other than 0/1 is reported. A crash or a hang fails the
parent test (it sees the last case written to WORKDIR/current.txt).
"""
from __future__ import annotations

import contextlib
import io
import json
import random
import resource
import struct
import sys
import zipfile
from pathlib import Path


def limit_memory(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


# ---------------------------------------------------------------------- mutations
def bit_flips(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def insert(data: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data) + 1)
    junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    return data[:i] + junk + data[i:]


def delete(data: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data))
    return data[:i] + data[i + rng.randint(1, 256):]


BIG = [0, 1, -1, 2**31 - 1, -(2**31), 2**40, 10**12, 3, 999]
BIG_INT32 = [x for x in BIG if -(2**31) <= x < 2**31]


def header_edit(kind: str, data: bytes, rng: random.Random) -> bytes:
    """Change what the header says (counts, sizes, versions), keeping the rest."""
    if kind in ("vec", "w2v.bin"):
        first, sep, rest = data.partition(b"\n")
        n, d = first.split()
        choice = rng.randrange(4)
        if choice == 0:
            n = str(rng.choice(BIG)).encode()
        elif choice == 1:
            d = str(rng.choice(BIG)).encode()
        elif choice == 2:
            n, d = d, n
        else:
            return b"\xef\xbb\xbf" + data  # a byte-order mark
        return n + b" " + d + sep + rest
    if kind in ("etm", "cooc", "ckpt"):
        return edit_archive(data, rng)
    if kind == "ft.bin":
        out = bytearray(data)
        # int32 fields: magic, version, 12 args; then dict size/nwords/nlabels
        offset = rng.choice([0, 4, 8, 12, 40, 44, 48, 64, 68, 72])
        struct.pack_into("<i", out, offset, rng.choice(BIG_INT32))
        return bytes(out)
    raise ValueError(kind)


def edit_archive(data: bytes, rng: random.Random) -> bytes:
    """Rewrite meta.json with one field changed, or one .npy member's header."""
    src = zipfile.ZipFile(io.BytesIO(data))
    meta = json.loads(src.read("meta.json"))
    members = {i.filename: src.read(i) for i in src.infolist()}
    choice = rng.randrange(6)
    if choice == 0:
        meta["format_version"] = rng.choice([0, 2, "1", None, 1.5, True])
    elif choice == 1:
        key = rng.choice(sorted(meta))
        meta[key] = rng.choice([None, [], {}, "x", -1, 10**15])
    elif choice == 2 and isinstance(meta.get("config"), dict):
        key = rng.choice(sorted(meta["config"]))
        meta["config"][key] = rng.choice([None, -5, 0, 10**9, "x", 1e300, float("nan")])
    elif choice == 3 and isinstance(meta.get("settings"), dict):
        key = rng.choice(sorted(meta["settings"]))
        meta["settings"][key] = rng.choice([None, -5, 0, 10**9, "x"])
    elif choice == 3 and isinstance(meta.get("state"), dict):  # a checkpoint's saved position
        key = rng.choice(sorted(meta["state"]))
        meta["state"][key] = rng.choice([None, -5, 0, 10**12, "x", [], ["-1"], 1e300])
    elif choice == 4:
        name = rng.choice([n for n in members if n.endswith(".npy")])
        raw = members[name]
        header_end = raw.index(b"\n") + 1
        header = raw[:header_end].decode("latin1")
        shape_at = header.index("'shape': (")
        edited = header[:shape_at] + "'shape': (" + str(rng.choice([10**12, 0, 7])) + ", " + \
            header[header.index("(", shape_at) + 1:]
        members[name] = edited.encode("latin1") + raw[header_end:]
    else:
        members["vocab.txt"] = members["vocab.txt"] + b"extra 1\n"
    members["meta.json"] = json.dumps(meta).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
    return out.getvalue()


MUTATIONS = (bit_flips, truncate, insert, delete)


# ---------------------------------------------------------------------- checking
def run_cli(main, args: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    out = io.StringIO()
    code = 0
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            main.main(args, prog_name="embedtrain")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, err.getvalue()


def check_case(kind: str, path: Path, work: Path, main) -> str:
    """'' when the case behaved, else what went wrong."""
    from embedtrain.io.cooc import CooccurrenceMatrix
    from embedtrain.errors import EmbedtrainError
    from embedtrain.io.formats import load_vectors

    try:
        if kind == "cooc":
            CooccurrenceMatrix.load(path)
        elif kind == "ckpt":
            import embedtrain

            embedtrain.train(str(work / "corpus.txt"), resume=path, checkpoint=work / "resumed.ckpt",
                             progress=False, threads=1)
        else:
            vectors = load_vectors(path)
            if len(vectors):
                vectors.most_similar(vectors.words[0], topn=3)
    except EmbedtrainError as exc:
        if "\n" in str(exc):
            return f"library error of several lines: {exc!r}"
    except Exception as exc:  # noqa: BLE001 - any other exception is the bug we look for
        return f"library raised {type(exc).__name__}: {exc}"
    if kind == "cooc":
        args = ["train", "--cooccur", str(path), "--model", "glove", "--epochs", "1", "--dim", "4",
                "--threads", "1", "-q", "-o", str(work / "out")]
    elif kind == "ckpt":
        args = ["train", str(work / "corpus.txt"), "--resume", str(path), "--threads", "1", "-q",
                "-o", str(work / "out")]
    else:
        args = ["eval", str(path), str(work / "sim.tsv"), str(work / "analogy.txt"), "-q"]
    code, err = run_cli(main, args)
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if not line.startswith("embedtrain: warning:")]
    if code not in (0, 1):
        return f"exit status {code}: {err[-500:]}"
    if "Traceback" in err:
        return f"traceback: {err[-800:]}"
    if code == 1 and (len(errors) != 1 or not errors[0].startswith("embedtrain: error:")):
        return f"not one error line: {err[-500:]}"
    return ""


def main_() -> int:
    work, seed, per_kind, limit = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    limit_memory(limit)
    from embedtrain.cli import main

    rng = random.Random(seed)
    originals = {kind: (work / f"small.{kind}").read_bytes()
                 for kind in ("vec", "w2v.bin", "etm", "cooc", "ft.bin", "ckpt")}
    failures, total = [], 0
    for kind, data in originals.items():
        for i in range(per_kind):
            mutation = MUTATIONS[i % len(MUTATIONS)] if i % 5 else None
            name = mutation.__name__ if mutation else "header_edit"
            (work / "current.txt").write_text(f"{kind} #{i} {name} (mutating)\n")
            mutated = mutation(data, rng) if mutation else header_edit(kind, data, rng)
            path = work / f"case.{kind}"
            path.write_bytes(mutated)
            (work / "current.txt").write_text(f"{kind} #{i} {name}\n")
            problem = check_case(kind, path, work, main)
            total += 1
            if problem:
                failures.append(f"{kind} #{i} ({name}): {problem}")
    print(json.dumps({"cases": total, "failures": failures}))
    return 0


if __name__ == "__main__":
    sys.exit(main_())
