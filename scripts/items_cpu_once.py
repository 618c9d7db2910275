"""A preliminary cost comparison that needs no benchmark lock: CPU seconds (time.process_time(),
all threads) and wall seconds of one training of each tool, seed 1, embedtrain's item presets
against gensim's tuned settings, on amazon-toys' leave-one-out training file. CPU time is far
less sensitive to other load than wall time, but this is one run, not the benchmark
(scripts/bench_items.py). Run from the repository root:

    nice -n 19 python scripts/items_cpu_once.py
"""
import sys, json, time
sys.path.insert(0, 'scripts'); sys.path.insert(0, '.')
from tune_items import data_path
import embedtrain
from gensim.models import Word2Vec
from embedtrain.items import read_sequences, split_sequences
from embedtrain.families import family_of
s = read_sequences(data_path(None), user_col=1)
tr = split_sequences(s)['train']
pre = dict(family_of('skipgram').item_presets)
g = json.load(open('scripts/tune_items.out.json'))['gensim']['best']
embedtrain.train(tr[:500], **{**pre, 'epochs': 1}, threads=2, progress=False)
for name in ('embedtrain', 'gensim'):
    c, w = time.process_time(), time.perf_counter()
    if name == 'embedtrain':
        embedtrain.train(tr, dim=100, threads=2, seed=1, progress=False, **pre)
    else:
        Word2Vec(tr, vector_size=100, sg=1, negative=5, min_count=1, workers=2, seed=1, **g)
    print(name, 'cpu', round(time.process_time() - c, 1), 'wall', round(time.perf_counter() - w, 1), flush=True)
