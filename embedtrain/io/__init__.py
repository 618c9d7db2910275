"""Every file embedtrain reads or writes, in one place.

``atomic`` (temporary name, then rename), ``archive`` (the zip container of model,
co-occurrence and checkpoint files), ``text`` (word2vec/GloVe text vectors),
``formats`` (every vectors format: detection, reading, writing), ``fasttext_bin``
(fastText's ``.bin``), ``projector`` (the Embedding Projector's TSV files),
``dictionary`` (bilingual dictionaries: source-target pairs), ``checkpoint`` (a run's
state), ``cooc`` (GloVe's co-occurrence matrix, single file and partitioned) and
``compression`` (compressed inputs, told apart once). Only ``checkpoint`` knows of the
training code (the runner's state it records).
"""
