"""Ray workers' code run in this process: the steps the Ray driver takes to set up its
workers (split, tokenise, merge the vocabulary, route the fragments, build), with
plain worker objects instead of actors. For tests of the workers and the families."""
from __future__ import annotations

from embedtrain.distributed.parts import merge_counts, plan_sentences, route_fragments
from embedtrain.distributed.split import describe_inputs, split_inputs
from embedtrain.vocab import Vocab


def set_up_workers(paths, config, workers: int, worker_class, job_size: int = 0, **worker_args):
    """(the workers, the vocabulary, the tokens each built) of a run on ``paths``: each
    worker builds its stream and replica, or (GloVe's worker) counts its part."""
    parts = split_inputs(describe_inputs([str(p) for p in paths]), workers)
    ws = [worker_class(w, workers, config, 1, **worker_args) for w in range(workers)]
    summaries = [w.tokenise(p) for w, p in zip(ws, parts)]
    words, counts = merge_counts(summaries)
    vocab = Vocab.build(words, counts, config.min_count, config.max_vocab)
    plans = plan_sentences(summaries, config.max_line_tokens)
    fragments = [w.fragment(vocab.words, vocab.counts, p.fragment) for w, p in zip(ws, plans)]
    appended = route_fragments(plans, fragments)
    corpus_tokens = int(sum(s.n_tokens for s in summaries))
    if hasattr(worker_class, "count"):
        tokens = [w.count(vocab.words, vocab.counts, p, a) for w, p, a in zip(ws, plans, appended)]
    else:
        tokens = [w.build(vocab.words, vocab.counts, p, a, corpus_tokens, job_size)
                  for w, p, a in zip(ws, plans, appended)]
    return ws, vocab, tokens
