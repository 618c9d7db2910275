"""gensim 4's API over embedtrain: change one import line.

    from embedtrain.compat.gensim import Word2Vec, FastText, KeyedVectors, Doc2Vec, TaggedDocument
    model = Word2Vec(sentences, vector_size=100, window=5, min_count=5, workers=4, sg=1)
    model.wv.most_similar(positive=["king", "woman"], negative=["man"], topn=10)

The constructors take gensim's arguments with gensim's meanings and defaults (read from
gensim 4.4's ``models/word2vec.py``, ``models/fasttext.py`` and ``models/doc2vec.py``;
``Doc2Vec`` trains PV-DBOW only, so its ``dm`` defaults to 0) and train with gensim's
numerics (negatives per pair, the rate falling linearly over the whole run from
``alpha`` to ``min_alpha``, vectors starting in [-1/dim, 1/dim)). An argument gensim has
and embedtrain does not implement is refused in one line naming it when it is not
gensim's default, never ignored. Files are embedtrain's (no pickle): ``save`` writes a
model archive (``.etm`` format) or a vectors archive, ``load`` reads them and says in
one line that a gensim pickle cannot be read. The differences are listed in docs/gensim.md.
"""
from __future__ import annotations

from ..errors import EmbedtrainError
from .doc2vec import Doc2Vec, TaggedDocument
from .keyedvectors import KeyedVectors
from .word2vec import CallbackAny2Vec, FastText, Word2Vec

__all__ = ["Word2Vec", "FastText", "Doc2Vec", "TaggedDocument", "KeyedVectors", "CallbackAny2Vec", "datapath"]


def datapath(name: str) -> str:
    """The path of a benchmark file shipped with embedtrain (gensim.test.utils.datapath's
    ``questions-words.txt`` and ``wordsim353.tsv``)."""
    from ..datasets import DEFAULT_DATASETS, dataset_path

    if name not in DEFAULT_DATASETS:
        raise EmbedtrainError(f"{name} is not shipped with embedtrain (shipped: {', '.join(DEFAULT_DATASETS)})")
    return str(dataset_path(name))
