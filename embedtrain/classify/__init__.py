"""Text classification as fastText's supervised mode (Joulin et al. 2017), on fastText's
file format (``__label__X ... text``), with its defaults and numerics.

    >>> import embedtrain.classify
    >>> clf = embedtrain.classify.train("train.txt", word_ngrams=2)
    >>> clf.predict("some text", k=3)
    >>> clf.test("test.txt", k=1)
    >>> clf.save("model.etm"); embedtrain.classify.load("model.etm")  # or fastText's .bin/.ftz
    >>> embedtrain.classify.quantize(clf, cutoff=100_000, qnorm=True, output="model.ftz")
"""


def __getattr__(name):
    # numba is imported only when a classifier is trained or loaded. A function named like
    # its module (autotune) is kept here once imported: importing the module binds the
    # module to that name in this package, which would shadow the function afterwards.
    value = _lookup(name)
    if name == "autotune":
        globals()[name] = value
    return value


def _lookup(name):
    if name in ("train", "Classifier", "TestResult"):
        from . import model
        return getattr(model, name)
    if name == "load":
        from .model import Classifier
        return Classifier.load
    if name == "quantize":
        from .quantization import quantize
        return quantize
    if name == "autotune":
        from .autotune import autotune
        return autotune
    if name in ("ClassifyConfig", "QuantizeConfig"):
        from . import config
        return getattr(config, name)
    raise AttributeError(f"module 'embedtrain.classify' has no attribute {name!r}")


__all__ = ["train", "load", "quantize", "autotune", "Classifier", "ClassifyConfig", "QuantizeConfig",
           "TestResult"]
