"""Leave-one-out splits that keep the held-out items out of training, and the check that
vectors were trained on the right side of one.

``write_split(sequences, PREFIX)`` writes

- ``PREFIX.train.txt``: every sequence without its last item (sequences too short to test whole);
- ``PREFIX.test.txt``: the tested sequences whole (the last item is the target);
- with ``validation``: ``PREFIX.tune.txt`` (without the last two items) and ``PREFIX.valid.txt``
  (without the last item: its last item, the second-to-last of the sequence, is the target), for
  choosing settings without looking at the test targets;
- ``PREFIX.split.json``, the manifest: each file's size, full sha256 and the digest of its
  first megabyte (what a model's lineage records of its corpus), and which training file belongs
  to which evaluation file (``train`` -> ``test``, ``tune`` -> ``valid``).

``eval-items`` finds the manifest beside an evaluation file (``PREFIX.test.txt`` ->
``PREFIX.split.json``) and then refuses vectors that saw the held-out items:

1. When the vectors' model is known (an ``.etm`` given, or ``PREFIX.etm`` beside ``PREFIX.vec``)
   its lineage names the files it was trained on: each must be the evaluation file's training
   file (same size and first megabyte). Anything else (the whole data, the test file, the
   train file when evaluating on ``valid``) is refused.
2. Otherwise (vectors from another tool) the vocabulary is checked: an item with a vector that
   never occurs in the training file came from other data, so the vectors are refused. This
   catches vectors trained on the test file or on the unsplit data whenever some item occurs
   only as a target (usual on real data), but cannot prove the contrary: then a warning says
   that the check was partial.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Sequence

from ..errors import EmbedtrainError

log = logging.getLogger("embedtrain")

SPLIT_FORMAT = "embedtrain-item-split"
SPLIT_VERSION = 1
MANIFEST_SUFFIX = ".split.json"
# evaluation file -> its training file, as suffixes of PREFIX
PAIRS = {".test.txt": ".train.txt", ".valid.txt": ".tune.txt"}


def split_sequences(sequences: Sequence[Sequence[str]], *, validation: bool = False
                    ) -> dict[str, list[list[str]]]:
    """Leave-one-out parts: ``train`` and ``test`` (and ``tune``, ``valid`` with
    ``validation``). A sequence is tested when it has at least 2 items (3 with validation);
    shorter ones go whole into the training parts. No training part holds a target."""
    need = 3 if validation else 2
    parts: dict[str, list[list[str]]] = {"train": [], "test": []}
    if validation:
        parts.update(tune=[], valid=[])
    for seq in sequences:
        seq = list(seq)
        if len(seq) < need:
            parts["train"].append(seq)
            if validation:
                parts["tune"].append(seq)
            continue
        parts["train"].append(seq[:-1])
        parts["test"].append(seq)
        if validation:
            parts["tune"].append(seq[:-2])
            parts["valid"].append(seq[:-1])
    if not parts["test"]:
        raise EmbedtrainError(f"no sequence of at least {need} items to hold one out of")
    return parts


def _record(path: Path) -> dict[str, Any]:
    from ..corpus.fingerprint import HEAD_BYTES

    full = hashlib.sha256()
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
        full.update(head)
        for block in iter(lambda: f.read(1 << 20), b""):
            full.update(block)
    return {"file": path.name, "bytes": path.stat().st_size,
            "head": hashlib.sha256(head).hexdigest()[:16], "sha256": full.hexdigest()}


def split_paths(prefix: str | os.PathLike, validation: bool = False) -> dict[str, Path]:
    base = os.fspath(prefix)
    names = ["train", "test"] + (["tune", "valid"] if validation else [])
    return {n: Path(base + f".{n}.txt") for n in names}


def write_split(sequences: Sequence[Sequence[str]], prefix: str | os.PathLike, *,
                validation: bool = False) -> dict[str, Path]:
    """Write the split files and the manifest (see the module docstring); returns the paths."""
    from ..io.atomic import atomic_group, atomic_output, check_writable
    from .interactions import write_sequences

    paths = split_paths(prefix, validation)
    manifest_path = Path(os.fspath(prefix) + MANIFEST_SUFFIX)
    for p in [*paths.values(), manifest_path]:
        check_writable(p)
    parts = split_sequences(sequences, validation=validation)
    with atomic_group():
        for name, path in paths.items():
            write_sequences(parts[name], path)
    records = {name: _record(path) for name, path in paths.items()}
    manifest = {"format": SPLIT_FORMAT, "version": SPLIT_VERSION, "files": records,
                "pairs": {"test": "train", **({"valid": "tune"} if validation else {})},
                "tested_sequences": len(parts["test"])}
    with atomic_output(manifest_path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    return {**paths, "manifest": manifest_path}


def find_manifest(evaluated: str | os.PathLike) -> tuple[dict[str, Any], Path, str] | None:
    """(manifest, its directory, the evaluation part's name) when ``evaluated`` is a split's
    evaluation file with its manifest beside it; None otherwise."""
    name = os.fspath(evaluated)
    for suffix in PAIRS:
        if name.endswith(suffix):
            manifest_path = Path(name[: -len(suffix)] + MANIFEST_SUFFIX)
            if not manifest_path.is_file():
                return None
            try:
                manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise EmbedtrainError(f"split manifest {manifest_path} is unreadable: {exc}") from None
            if not isinstance(manifest, dict) or manifest.get("format") != SPLIT_FORMAT:
                raise EmbedtrainError(f"{manifest_path} is not an embedtrain item split manifest")
            part = suffix.split(".")[1]
            return manifest, manifest_path.parent, part
    return None


def check_split(evaluated: str | os.PathLike, words: Sequence[str], lineage: list[Any] | None
                ) -> tuple[str | None, str]:
    """Refuse vectors that saw held-out items of the split ``evaluated`` belongs to (see the
    module docstring). Returns (the training file's path or None when no split, how it was
    checked: "lineage", "vocabulary", "none")."""
    found = find_manifest(evaluated)
    if found is None:
        return None, "none"
    manifest, directory, part = found
    files = manifest.get("files", {})
    train_part = manifest.get("pairs", {}).get(part)
    if part not in files or train_part not in files:
        raise EmbedtrainError(f"split manifest in {directory} does not describe {part} and its training file")
    if _record(Path(evaluated))["sha256"] != files[part]["sha256"]:
        raise EmbedtrainError(f"{evaluated} changed since the split was written (its sha256 is not the "
                              "manifest's): split again")
    train = files[train_part]
    train_path = directory / train["file"]
    trained_on = [f for e in (lineage or []) if isinstance(e, dict)
                  for f in (e.get("corpus") or {}).get("files", []) or []]
    if trained_on:
        for f in trained_on:
            if (f.get("bytes"), f.get("head")) != (train["bytes"], train["head"]):
                raise EmbedtrainError(
                    f"the vectors were trained on {f.get('path')}, not on the split's training file "
                    f"{train_path}: they may have seen the held-out items of {evaluated}")
        return str(train_path), "lineage"
    if not train_path.is_file():
        raise EmbedtrainError(f"the split's training file {train_path} is missing")
    from .interactions import read_sequences

    known = {w for seq in read_sequences(train_path) for w in seq}
    outside = [w for w in words if w not in known]
    if outside:
        raise EmbedtrainError(
            f"{len(outside):,} items with vectors (e.g. {outside[0]!r}) never occur in the split's "
            f"training file {train_path}: the vectors were trained on other data and may have seen "
            f"the held-out items of {evaluated}")
    log.warning("the vectors carry no record of their training files: checked only that every "
                "item with a vector occurs in %s", train_path)
    return str(train_path), "vocabulary"


def write_split_from_file(path: str | os.PathLike, output: str | os.PathLike, *, split: bool = False,
                          validation: bool = False, **reading: Any) -> list[tuple[Path, int]]:
    """``embedtrain sessions``: the sessions of an interaction file written to ``output``, or
    (``split``) the leave-one-out split of them to ``output``'s stem + ``.train.txt``, ...
    Returns (path, sequences) of each file written."""
    from ..io.atomic import check_writable
    from .interactions import sessions_from_file, write_sequences

    if validation and not split:
        raise EmbedtrainError("--validation needs --split")
    out = os.fspath(output)
    if not split:
        check_writable(out)
        sequences = sessions_from_file(path, **reading)
        write_sequences(sequences, out)
        return [(Path(out), len(sequences))]
    prefix = out[: -len(".txt")] if out.endswith(".txt") else out
    for p in [*split_paths(prefix, validation).values(), Path(prefix + MANIFEST_SUFFIX)]:
        check_writable(p)
    sequences = sessions_from_file(path, **reading)
    paths = write_split(sequences, prefix, validation=validation)
    counts = {name: sum(1 for _ in open(p, encoding="utf-8")) for name, p in paths.items()
              if name != "manifest"}
    return [(paths[name], counts[name]) for name in counts]
