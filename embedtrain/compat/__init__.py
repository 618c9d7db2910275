"""Other libraries' APIs over embedtrain: ``embedtrain.compat.gensim`` takes gensim 4's
``Word2Vec``, ``FastText``, ``Doc2Vec`` and ``KeyedVectors`` calls (docs/gensim.md)."""
