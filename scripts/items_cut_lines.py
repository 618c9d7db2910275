"""The cost and the score of cutting long histories (--max-line-tokens) at the item presets'
other settings, on amazon-toys' validation split (docs/items.md, "Presets"): one 2-thread run
each, seed 1, not under the benchmark lock (the seconds are only a rough guide).

    python scripts/items_cut_lines.py
"""
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from tune_items import data_path, train_embedtrain  # noqa: E402

from embedtrain.items import evaluate_items, read_sequences, split_sequences  # noqa: E402

s = read_sequences(data_path(None), user_col=1)
p = split_sequences(s, validation=True)
base = dict(window=0, shuffle_lines=True, ns_exponent=0.5, epochs=80)
for extra in (dict(sample=1e-4), dict(sample=1e-4, max_line_tokens=100), dict(sample=1e-4, max_line_tokens=50),
              dict(sample=1e-4, max_line_tokens=20), dict(sample=1e-3, max_line_tokens=20)):
    t = time.perf_counter()
    v = train_embedtrain(p["tune"], **base, **extra)
    sec = time.perf_counter() - t
    r = evaluate_items(v, p["valid"], popular_from=p["tune"])
    print(extra, round(sec, 1), round(r["ndcg@10"], 4), round(r["hit_rate@10"], 4), flush=True)
