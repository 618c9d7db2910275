"""One self-contained HTML page about a trained model.

Settings, corpus and vocabulary statistics, the loss per epoch, benchmark scores (when
asked for), nearest neighbours of sample words and a word map. Images are PNG data
URIs and the CSS is inline; the page has no scripts and fetches nothing (its
Content-Security-Policy forbids it), so it opens offline and can be mailed as one file.
The layout is one column that narrows to a phone's width; wide tables scroll inside
their own box.
"""
from __future__ import annotations

import base64
import html
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ._version import __version__
from .errors import EmbedtrainError
from .io.atomic import atomic_output, check_writable
from .plot import (DEFAULT_MAP_SEED, METHOD_NAMES, LossHistory, WordMap, figure_bytes,
                   loss_figure, loss_history, map_figure, map_title, require_matplotlib, word_map)

log = logging.getLogger("embedtrain")

REPORT_MAP_WORDS = 300
REPORT_MAP_METHOD = "pca"
SAMPLE_WORDS = 8
NEIGHBOURS = 8
TOP_WORDS = 20
# Sample words: these when the vocabulary has them among its PROBE_RANK most frequent
# words (they make neighbours easy to judge in English text), then words at evenly
# spaced ranks from SAMPLE_FIRST_RANK on (the very top is function words).
PROBE_WORDS = ("king", "france", "computer", "music", "water", "war", "red", "three")
PROBE_RANK = 10_000
SAMPLE_FIRST_RANK = 100
SAMPLE_LAST_RANK = 5_000

CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

CSS = """
:root { color-scheme: light; --fg: #1d1d1f; --muted: #5a5a5f; --rule: #dcdce0;
        --band: #f5f5f7; --accent: #0072b2; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff;
       font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 64rem; margin: 0 auto; padding: 1.25rem 1.25rem 3rem; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; overflow-wrap: anywhere; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; padding-bottom: .2rem;
     border-bottom: 1px solid var(--rule); }
p.meta, p.note, figcaption { color: var(--muted); font-size: .9rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: .6rem;
         margin: 1rem 0; }
.card { background: var(--band); border-radius: .5rem; padding: .6rem .8rem; }
.card b { display: block; font-size: 1.25rem; font-variant-numeric: tabular-nums; }
.card span { color: var(--muted); font-size: .85rem; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 22rem), 1fr));
           gap: 0 2rem; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: .92rem; margin: .4rem 0 1rem; }
th, td { text-align: left; padding: .3rem .7rem .3rem 0; border-bottom: 1px solid var(--rule);
         vertical-align: top; }
th { font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.words { min-width: 16rem; }
figure { margin: 1rem 0; }
img { display: block; max-width: 100%; height: auto; border: 1px solid var(--rule); }
code { font-size: .9em; background: var(--band); padding: 0 .25em; border-radius: .2em; }
@media (max-width: 40rem) {
  body { font-size: 15px; }
  main { padding: .8rem .8rem 2rem; }
  h1 { font-size: 1.3rem; }
  td.words { min-width: 12rem; }
}
"""


@dataclass
class ReportData:
    """Everything the page shows, computed before any HTML is written (tests read it)."""

    name: str
    model_kind: str
    settings: dict[str, Any]
    stats: dict[str, Any]
    vocab_size: int
    top_words: list[tuple[str, int]]
    history: LossHistory | None
    neighbours: dict[str, list[tuple[str, float]]]
    word_map: WordMap
    evaluation: list[dict[str, Any]] | None = None
    images: dict[str, bytes] = field(default_factory=dict)  # "loss", "map": PNG bytes


def sample_words(vectors, n: int = SAMPLE_WORDS) -> list[str]:
    """Words whose neighbours the page lists (see :data:`PROBE_WORDS`)."""
    order = (np.argsort(-vectors.counts, kind="stable") if vectors.counts is not None
             else np.arange(len(vectors)))
    ranked = [vectors.words[i] for i in order]
    rank = {w: r for r, w in enumerate(ranked[:PROBE_RANK])}
    chosen = [w for w in PROBE_WORDS if w in rank][:n]
    first, last = min(SAMPLE_FIRST_RANK, len(ranked) // 10), min(SAMPLE_LAST_RANK, len(ranked))
    for r in np.linspace(first, last - 1, num=2 * n).astype(int):
        if len(chosen) >= n:
            break
        if ranked[r] not in chosen:
            chosen.append(ranked[r])
    return chosen


def report_data(model, name: str, evaluate: bool = False, map_words: int = REPORT_MAP_WORDS,
                method: str = REPORT_MAP_METHOD, seed: int = DEFAULT_MAP_SEED) -> ReportData:
    """The numbers and pictures of the page for ``model`` (a loaded :class:`Model`)."""
    require_matplotlib()
    vectors = model.vectors
    try:
        history = loss_history(model, name)
    except EmbedtrainError:
        history = None
    words = sample_words(vectors)
    neighbours = {w: vectors.most_similar(w, topn=NEIGHBOURS) for w in words}
    counts = model.vocab.counts
    top = [(model.vocab.words[i], int(counts[i])) for i in range(min(TOP_WORDS, len(counts)))]
    wmap = word_map(vectors, n=map_words, method=method, seed=seed)
    data = ReportData(name, model.kind, model.config.to_dict(), dict(model.stats or {}),
                      len(model.vocab), top, history, neighbours, wmap)
    if evaluate:
        from .evaluate import evaluate as run_evaluation

        data.evaluation = [r.to_dict() for r in run_evaluation(vectors)]
    if history is not None:
        data.images["loss"] = figure_bytes(loss_figure([history]))
    data.images["map"] = figure_bytes(map_figure(wmap, map_title(wmap, name, chosen=False)))
    return data


def write_report(model_path: str | os.PathLike, output: str | os.PathLike, evaluate: bool = False,
                 map_words: int = REPORT_MAP_WORDS, method: str = REPORT_MAP_METHOD,
                 seed: int = DEFAULT_MAP_SEED) -> ReportData:
    """Write the report page of the model file ``model_path`` to ``output``."""
    from .models import load_model_file

    require_matplotlib()
    check_writable(output)
    p = Path(model_path)
    model = load_model_file(p, "the report needs the model's settings and statistics")
    data = report_data(model, p.name, evaluate, map_words, method, seed)
    with atomic_output(output, "w", encoding="utf-8", newline="\n") as out:
        out.write(render(data))
    return data


# ---------------------------------------------------------------------- HTML
def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "on", False: "off", None: "none"}[value]
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # nan
            return "n/a"
        if value == int(value) and abs(value) >= 1000:
            return f"{int(value):,}"
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[bool],
           classes: Sequence[str] | None = None) -> str:
    """A table in a box that scrolls sideways when the screen is narrower than it.
    ``rows`` hold HTML (escape text before); ``numeric`` columns are right-aligned."""
    attrs = []
    for i, is_number in enumerate(numeric):
        names = " ".join(n for n in ("num" if is_number else "", classes[i] if classes else "") if n)
        attrs.append(f' class="{names}"' if names else "")
    head = "".join(f"<th{attrs[i]}>{_e(h)}</th>" for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f"<td{attrs[i]}>{v}</td>" for i, v in enumerate(row)) + "</tr>"
                   for row in rows)
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{body}</tbody></table></div>')


def _image(png: bytes, alt: str, caption: str) -> str:
    width, height = png_size(png)
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" width="{width}" height="{height}" '
            f'alt="{_e(alt)}"><figcaption>{_e(caption)}</figcaption></figure>')


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def render(data: ReportData) -> str:
    """The whole page as one string."""
    sections = [_overview(data), _settings(data), _corpus(data), _lineage(data), _loss(data),
                _evaluation(data), _neighbours(data), _map(data)]
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
            f'<title>embedtrain report: {_e(data.name)}</title>\n<style>{CSS}</style>\n</head>\n'
            f'<body>\n<main>\n' + "\n".join(s for s in sections if s) +
            f'\n<p class="meta">Written by embedtrain {_e(__version__)}.</p>\n</main>\n</body>\n</html>\n')


def _overview(data: ReportData) -> str:
    s = data.stats
    cards = [("model", data.model_kind), ("dimensions", _num(data.settings.get("dim"))),
             ("vocabulary", f"{data.vocab_size:,} words")]
    if "words_trained" in s:
        cards.append(("words trained", _num(s["words_trained"])))
    if "train_seconds" in s:
        cards.append(("training time", f"{float(s['train_seconds']):,.1f} s"))
    if "words_per_second" in s:
        cards.append(("speed", f"{_num(float(s['words_per_second']))} words/s"))
    body = "".join(f'<div class="card"><span>{_e(k)}</span><b>{_e(v)}</b></div>' for k, v in cards)
    return (f'<header><h1>{_e(data.name)}</h1><p class="meta">embedtrain training report</p>'
            f'</header><div class="cards">{body}</div>')


def _settings(data: ReportData) -> str:
    rows = [(_e(k.replace("_", "-")), _e(_num(v))) for k, v in data.settings.items()]
    return '<section><h2 id="settings">Settings</h2>' + _table(("setting", "value"), rows,
                                                               (False, False)) + "</section>"


def _corpus(data: ReportData) -> str:
    s = data.stats
    rows: list[tuple[str, str]] = []
    for key, label in (("corpus_tokens", "tokens in the corpus"),
                       ("corpus_types", "distinct words in the corpus"),
                       ("vocab_tokens", "tokens of vocabulary words")):
        if key in s:
            rows.append((label, _num(s[key])))
    rows.append(("vocabulary words", _num(data.vocab_size)))
    if s.get("corpus_tokens") and "vocab_tokens" in s:
        rows.append(("corpus covered by the vocabulary",
                     f"{float(s['vocab_tokens']) / float(s['corpus_tokens']):.1%}"))
    shown = {"corpus_tokens", "corpus_types", "vocab_tokens"}
    for key, value in s.items():  # every other scalar statistic the training recorded
        if key not in shown and isinstance(value, (int, float)) and not isinstance(value, bool):
            rows.append((key.replace("_", " "), _num(value)))
    stats_table = _table(("statistic", "value"), [(_e(a), _e(b)) for a, b in rows], (False, True))
    top = _table(("rank", "word", "count"),
                 [(i + 1, _e(w), _num(c)) for i, (w, c) in enumerate(data.top_words)],
                 (True, False, True))
    return ('<section><h2 id="corpus">Corpus and vocabulary</h2><div class="columns">'
            f'<div>{stats_table}</div><div><p class="note">The {len(data.top_words)} most '
            f'frequent words</p>{top}</div></div></section>')


# The lineage table's header (tests find the table by it).
LINEAGE_HEADER = ("run", "how", "corpus", "tokens", "vocabulary after", "epochs", "words trained")


def _lineage(data: ReportData) -> str:
    """The corpora the model was trained on, oldest first (stats["lineage"]: a model
    continued with --continue has one row per run); nothing for a model without it."""
    from .corpus.fingerprint import describe

    lineage = data.stats.get("lineage")
    if not isinstance(lineage, list) or not lineage:
        return ""
    rows = []
    for number, entry in enumerate(e for e in lineage if isinstance(e, dict)):
        corpus = entry.get("corpus")
        name = describe(corpus) if isinstance(corpus, dict) else str(corpus)
        rows.append((number + 1, _e(entry.get("mode", "train")), _e(name), _num(entry.get("tokens")),
                     _num(entry.get("vocab_words")), _num(entry.get("epochs")),
                     _num(entry.get("words_trained"))))
    table = _table(LINEAGE_HEADER, rows, (True, False, False, True, True, True, True))
    return ('<section><h2 id="lineage">Lineage</h2><p class="note">The corpora this model was '
            'trained on, oldest first (train --continue adds a row).</p>' + table + '</section>')


def _loss(data: ReportData) -> str:
    h = data.history
    if h is None:
        return ('<section><h2 id="loss">Loss per epoch</h2><p class="note">This model has no '
                'training history (it was saved by an embedtrain that did not record the loss '
                'per epoch).</p></section>')
    rows = []
    for i, epoch in enumerate(h.epochs):
        rows.append((int(epoch), _num(float(h.loss[i])),
                     "n/a" if h.rate is None else _num(float(h.rate[i]))))
    rate = {"word": "words/s", "entry": "entries/s"}.get(h.unit, "per second")
    table = _table(("epoch", "loss", rate), rows, (True, True, True))
    return ('<section><h2 id="loss">Loss per epoch</h2>'
            + _image(data.images["loss"], "training loss per epoch",
                     "Mean loss per training example each epoch" if h.unit == "word" else
                     "Mean weighted cost per co-occurrence entry each epoch")
            + table + "</section>")


def _evaluation(data: ReportData) -> str:
    if data.evaluation is None:
        return ('<section><h2 id="eval">Benchmarks</h2><p class="note">Not evaluated: run '
                '<code>embedtrain report MODEL --eval</code> for the scores on the shipped '
                'similarity and analogy sets.</p></section>')
    rows = []
    for r in data.evaluation:
        if r["kind"] == "similarity":
            score, what, total = r["spearman"], "Spearman ρ", r["pairs"]
        else:
            score, what, total = r["accuracy"], f"accuracy ({r['method']})", r["questions"]
        rows.append((_e(r["dataset"]), _e(what), "n/a" if score is None else f"{score:.3f}",
                     f"{r['found']:,} of {total:,}"))
    return ('<section><h2 id="eval">Benchmarks</h2>'
            + _table(("dataset", "score", "value", "found"), rows, (False, False, True, True))
            + "</section>")


def _neighbours(data: ReportData) -> str:
    rows = []
    for word, near in data.neighbours.items():
        listed = ", ".join(f"{_e(w)}&nbsp;<small>{s:.2f}</small>" for w, s in near)
        rows.append((f"<b>{_e(word)}</b>", listed))
    return ('<section><h2 id="neighbours">Nearest neighbours</h2><p class="note">The '
            f'{NEIGHBOURS} words nearest by cosine similarity to sample words.</p>'
            + _table(("word", "neighbours (cosine)"), rows, (False, False), ("", "words"))
            + "</section>")


def _map(data: ReportData) -> str:
    m = data.word_map
    caption = (f"The {len(m.words):,} most frequent words, reduced to two dimensions by "
               f"{METHOD_NAMES[m.method]} of their unit vectors; labels that would overlap "
               f"are left out.")
    return ('<section><h2 id="map">Word map</h2>'
            + _image(data.images["map"], "map of the most frequent words", caption)
            + "</section>")
