"""Token sources, read once into streams of int32 ids.

``text`` (files, directories, stdin, compression, tokenising), ``stream`` (raw and
vocabulary ids on disk, ``SENTENCE_END``, chunks), ``iterables`` (Python token lists),
``source`` (what :func:`embedtrain.train` accepts as a corpus).
"""
from .stream import JOB_TOKENS, SENTENCE_END, RawBuilder, RawCorpus, TokenStream
from .text import STDIN, encode, expand_sources

__all__ = ["JOB_TOKENS", "SENTENCE_END", "STDIN", "RawBuilder", "RawCorpus", "TokenStream",
           "encode", "expand_sources"]
