"""Every file embedtrain reads or writes, in one place.

``atomic`` (temporary name, then rename), ``archive`` (the zip container of model,
co-occurrence and checkpoint files), ``text`` (word2vec/GloVe text vectors),
``formats`` (every vectors format: detection, reading, writing), ``fasttext_bin``
(fastText's ``.bin``). Nothing here imports the training code.
"""
