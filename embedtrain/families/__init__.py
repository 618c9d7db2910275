"""The model families and their registry: the one place that lists them.

Everything that differs by model in training, continuing, checkpoints and Ray is
declared by a family (base.py); that code asks :func:`family_of` and never branches on a
model's name. Adding a family is one module in this package and one line in ``REGISTRY``
below (or, from outside the package, :func:`register`). A few places outside training
still name FastText, because what they do exists only for its n-gram rows: compression
keeps and checks them (quantization.py, models.CompressedModel), the fasttext-bin and
floret exports need them (cli/export.py, io/floret.py), and the gensim-compatible classes
map them to gensim's FastText (compat/word2vec.py).
"""
from __future__ import annotations

import dataclasses

from ..config import DEFAULT_MODEL
from ..errors import ConfigError
from .base import Family, StreamFamily
from .doc2vec import DOC2VEC
from .fasttext import FASTTEXT
from .glove import GLOVE
from .word2vec import WORD2VEC

# The registry, in the order --help and the docs list the models.
REGISTRY: list[Family] = [WORD2VEC, GLOVE, FASTTEXT, DOC2VEC]


def register(family: Family) -> Family:
    """Add ``family`` to the registry (its model names must be new); returns it."""
    taken = sorted(set(family.models) & set(model_names()))
    if taken:
        raise ValueError(f"model name(s) {', '.join(taken)} already registered")
    misnamed = [m for m, cls in family.configs.items() if cls.model != m]
    if misnamed:
        raise ValueError(f"the settings class of {', '.join(misnamed)} names another model")
    REGISTRY.append(family)
    return family


def unregister(family: Family) -> None:
    REGISTRY.remove(family)


def model_names() -> list[str]:
    """Every model name, family by family."""
    return [m for f in REGISTRY for m in f.models]


def family_of(model: str) -> Family:
    for family in REGISTRY:
        if model in family.configs:
            return family
    raise ConfigError(f"unknown model {model!r}; choose one of {', '.join(model_names())}")


def setting_fields() -> list:
    """Every setting of every registered model, each name once (the first family's field:
    its help text): the CLI's options and the docs' option table."""
    seen: dict = {}
    for family in REGISTRY:
        for cls in family.configs.values():
            for f in dataclasses.fields(cls):
                seen.setdefault(f.name, f)
    return list(seen.values())


def ray_models() -> list[str]:
    return [m for f in REGISTRY if f.ray for m in f.models]


def graph_models() -> list[str]:
    return [m for f in REGISTRY if f.graph_presets is not None for m in f.models]


def item_models() -> list[str]:
    return [m for f in REGISTRY if f.item_presets is not None for m in f.models]


__all__ = ["Family", "StreamFamily", "REGISTRY", "DEFAULT_MODEL", "register", "unregister",
           "model_names", "family_of", "setting_fields", "ray_models", "graph_models",
           "item_models"]
