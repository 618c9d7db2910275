"""embedtrain: train word embeddings (word2vec, GloVe, FastText) from raw text.

    >>> import embedtrain
    >>> model = embedtrain.train("corpus.txt", model="skipgram", dim=100)
    >>> model.most_similar("king", topn=10)
    >>> model.save("run/text8")          # run/text8.vec and run/text8.etm
"""
from ._version import __version__  # noqa: E402

from .errors import EmbedtrainError  # noqa: E402


def __getattr__(name):
    # Import the heavy parts (numba) only when they are used.
    if name == "train":
        from .training import train
        return train
    if name == "train_graph":
        from .training.graph import train_graph
        return train_graph
    if name == "load":
        from .models import Model
        return Model.load
    if name in ("Model", "Vocab", "Vectors"):
        module = {"Model": "models", "Vocab": "vocab", "Vectors": "vectors"}[name]
        import importlib
        return getattr(importlib.import_module(f"embedtrain.{module}"), name)
    raise AttributeError(f"module 'embedtrain' has no attribute {name!r}")


__all__ = ["train", "train_graph", "load", "Model", "Vocab", "Vectors", "EmbedtrainError", "__version__"]
