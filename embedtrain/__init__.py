"""embedtrain: train word embeddings (word2vec, GloVe, FastText) from raw text.

    >>> import embedtrain
    >>> model = embedtrain.train("corpus.txt", model="skipgram", dim=100)
    >>> model.most_similar("king", topn=10)
    >>> model.save("run/text8")          # run/text8.vec and run/text8.etm
    >>> embedtrain.load_vectors("run/text8.vec")   # any vectors file (.vec, .bin, GloVe, .npy)
    >>> embedtrain.compress("run/text8.etm", "run/small.etm", method="pq")  # docs/memory.md
    >>> embedtrain.train([["the", "king"], ["a", "queen"]], min_count=1)   # token lists
    >>> embedtrain.align("en.vec", "de.vec", "en-de.tsv").source  # English mapped onto German
"""
from ._version import __version__
from .errors import EmbedtrainError


def __getattr__(name):
    # Import the heavy parts (numba) only when they are used.
    if name == "train":
        from .api import train
        return train
    if name == "train_graph":
        from .graphs import train_graph
        return train_graph
    if name in ("train_items", "evaluate_items"):
        from . import items
        return getattr(items, name)
    if name in ("load", "Model"):
        from .models import Model
        return Model.load if name == "load" else Model
    if name in ("compress", "CompressedModel"):
        from . import models
        return getattr(models, name)
    if name == "Vocab":
        from .vocab import Vocab
        return Vocab
    if name == "load_vectors":
        from .io.formats import load_vectors
        return load_vectors
    if name == "walks":
        from .graphs.walks import walks
        return walks
    if name == "Vectors":
        from .vectors import Vectors
        return Vectors
    if name in ("align", "Alignment"):
        from . import alignment
        return getattr(alignment, name)
    if name in ("evaluate_translation", "TranslationResult"):
        from . import translation
        return getattr(translation, name)
    if name == "document_vectors":
        from .documents import document_vectors
        return document_vectors
    if name == "evaluate_classification":
        from .extrinsic import evaluate_classification
        return evaluate_classification
    if name in ("Callback", "EpochInfo", "ProgressInfo"):
        from .training import callbacks
        return getattr(callbacks, name)
    raise AttributeError(f"module 'embedtrain' has no attribute {name!r}")


__all__ = ["train", "train_graph", "train_items", "evaluate_items", "load", "load_vectors", "walks", "Model",
           "compress", "CompressedModel", "Vocab", "Vectors", "Callback", "EpochInfo", "ProgressInfo", "align",
           "Alignment", "evaluate_translation", "TranslationResult", "document_vectors", "evaluate_classification",
           "EmbedtrainError", "__version__"]
