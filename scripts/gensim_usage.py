"""gensim's documented Word2Vec, FastText and KeyedVectors usage (gensim 4.4's module
docstrings and tutorials, written out here), run with gensim or with embedtrain's gensim
module: the code below the import block is the same for both. Prints one JSON line of
what it measured (tests/test_compat_gensim.py runs it both ways and compares).

    python scripts/gensim_usage.py --impl embedtrain [--corpus data/text8-sample.gz] [--workdir DIR]
"""
from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--impl", choices=("gensim", "embedtrain"), required=True)
parser.add_argument("--corpus", default=str(ROOT / "data" / "text8-sample.gz"))
parser.add_argument("--workdir", default=None)
args = parser.parse_args()

if args.impl == "gensim":
    from gensim.models import FastText, KeyedVectors, Word2Vec
    from gensim.test.utils import datapath
else:
    from embedtrain.compat.gensim import FastText, KeyedVectors, Word2Vec, datapath


class Sentences:
    """A re-iterable corpus: text8's one line cut into sentences of 1,000 tokens."""

    def __init__(self, path: str, limit: int | None = None):
        self.path, self.limit = path, limit

    def __iter__(self):
        with gzip.open(self.path, "rt", encoding="utf-8") as f:
            words = f.read().split()[: self.limit]
        for i in range(0, len(words), 1000):
            yield words[i:i + 1000]


work = Path(args.workdir or tempfile.mkdtemp())
started = time.perf_counter()
out: dict = {"impl": args.impl}
# ---------------------------------------------------------------- the same for both from here
sentences = Sentences(args.corpus)
model = Word2Vec(sentences=sentences, vector_size=50, window=5, min_count=5, workers=1, sg=1, epochs=3)
model.save(str(work / "word2vec.model"))
model = Word2Vec.load(str(work / "word2vec.model"))
model.train([["hello", "world"]], total_examples=1, epochs=1)   # unknown words: nothing to learn
vector = model.wv["king"]
sims = model.wv.most_similar("king", topn=10)
out["vocabulary"] = len(model.wv)
out["vector_shape"] = list(vector.shape)
out["neighbours"] = [w for w, _ in sims]

word_vectors = model.wv
word_vectors.save(str(work / "word2vec.wordvectors"))
wv = KeyedVectors.load(str(work / "word2vec.wordvectors"), mmap="r")
assert (wv["king"] == vector).all()
wv.save_word2vec_format(str(work / "vectors.bin"), binary=True)
wv_from_bin = KeyedVectors.load_word2vec_format(str(work / "vectors.bin"), binary=True)
out["reloaded_equal"] = bool((wv_from_bin["king"] == vector).all())

out["analogy_top"] = wv.most_similar(positive=["woman", "king"], negative=["man"], topn=5)
out["cosmul_top"] = wv.most_similar_cosmul(positive=["woman", "king"], negative=["man"], topn=5)
out["doesnt_match"] = wv.doesnt_match(["france", "germany", "italy", "music"])
out["similarity_woman_man"] = float(wv.similarity("woman", "man"))
out["n_similarity"] = float(wv.n_similarity(["sushi", "shop"], ["japanese", "restaurant"])) \
    if all(w in wv.key_to_index for w in ["sushi", "shop", "japanese", "restaurant"]) else None
out["wordsim353"] = float(wv.evaluate_word_pairs(datapath("wordsim353.tsv"))[1][0])
out["analogies"] = float(wv.evaluate_word_analogies(datapath("questions-words.txt"), restrict_vocab=10000)[0])

more = [["the", "zebra", "and", "the", "giraffe"]] * 10
model.build_vocab(more, update=True)
model.train(more, total_examples=model.corpus_count, epochs=model.epochs)
out["zebra_added"] = "zebra" in model.wv.key_to_index

ft = FastText(sentences=sentences, vector_size=50, window=5, min_count=5, workers=1, epochs=2, bucket=200000)
out["fasttext_oov_shape"] = list(ft.wv["kingdomz"].shape)
out["fasttext_oov_in"] = "kingdomz" in ft.wv
out["fasttext_wordsim353"] = float(ft.wv.evaluate_word_pairs(datapath("wordsim353.tsv"))[1][0])
# ---------------------------------------------------------------- to here
out["seconds"] = round(time.perf_counter() - started, 1)
out["analogy_top"] = [[w, round(s, 4)] for w, s in out["analogy_top"]]
out["cosmul_top"] = [[w, round(s, 4)] for w, s in out["cosmul_top"]]
print(json.dumps(out))
