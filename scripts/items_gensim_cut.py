"""gensim given the 50-item cut of embedtrain's item presets (histories cut into pieces of 50),
its tuned settings otherwise: CPU and wall seconds of one training (seed 1, 2 threads) and its
scores on amazon-toys' leave-one-out test. Unlocked, one run (docs/items.md, "Against gensim").

    nice -n 19 python scripts/items_gensim_cut.py
"""
import sys, json, time
sys.path.insert(0, 'scripts'); sys.path.insert(0, '.')
from tune_items import data_path
from gensim.models import Word2Vec
from embedtrain.items import read_sequences, split_sequences, evaluate_items
s = read_sequences(data_path(None), user_col=1)
p = split_sequences(s)
tr = p['train']
cut = [seq[i:i + 50] for seq in tr for i in range(0, len(seq), 50)]
g = json.load(open('scripts/tune_items.out.json'))['gensim']['best']
c, w = time.process_time(), time.perf_counter()
m = Word2Vec(cut, vector_size=100, sg=1, negative=5, min_count=1, workers=2, seed=1, **g)
print('gensim cut50 cpu', round(time.process_time() - c, 1), 'wall', round(time.perf_counter() - w, 1), flush=True)
r = evaluate_items((m.wv.index_to_key, m.wv.vectors), p['test'], popular_from=tr)
print(r['hit_rate@10'], r['ndcg@10'])
