"""Text classification as fastText's supervised mode (Joulin et al. 2017), on fastText's
file format (``__label__X ... text``), with its defaults and numerics.

    >>> import embedtrain.classify
    >>> clf = embedtrain.classify.train("train.txt", word_ngrams=2)
    >>> clf.predict("some text", k=3)
    >>> clf.test("test.txt", k=1)
    >>> clf.save("model.etm"); embedtrain.classify.load("model.etm")  # or fastText's .bin
"""


def __getattr__(name):
    # numba is imported only when a classifier is trained or loaded
    if name in ("train", "Classifier", "TestResult"):
        from . import model
        return getattr(model, name)
    if name == "load":
        from .model import Classifier
        return Classifier.load
    if name == "autotune":
        from .autotune import autotune
        return autotune
    if name in ("ClassifyConfig",):
        from .config import ClassifyConfig
        return ClassifyConfig
    raise AttributeError(f"module 'embedtrain.classify' has no attribute {name!r}")


__all__ = ["train", "load", "autotune", "Classifier", "ClassifyConfig", "TestResult"]
