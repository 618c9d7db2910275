"""Standard evaluation sets shipped inside the package (``embedtrain eval`` uses them when
no dataset is given).

``questions-words.txt``
    Google word analogies (Mikolov et al. 2013): 19,544 questions in 14 sections,
    as shipped with word2vec and gensim (Apache-2.0).
``wordsim353.tsv``
    WordSim-353 combined set (Finkelstein et al. 2002): 353 ``word1<TAB>word2<TAB>score`` pairs.

They are package data (see ``[tool.setuptools.package-data]`` in pyproject.toml), so they
are present after a plain ``pip install .``, not only in a source checkout.
"""
from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

QUESTIONS_WORDS = "questions-words.txt"
WORDSIM353 = "wordsim353.tsv"
DEFAULT_DATASETS = (QUESTIONS_WORDS, WORDSIM353)


def dataset_path(name: str) -> Traversable:
    """A shipped dataset by file name (a real file path in any normal installation)."""
    return files(__name__).joinpath(name)


def default_datasets() -> list[Traversable]:
    return [dataset_path(name) for name in DEFAULT_DATASETS]
