"""Pictures of a model: the loss per epoch and a 2-D map of word vectors.

The data behind each picture comes from a function that needs numpy alone
(:func:`loss_history`, :func:`map_points`, :func:`word_map`, :func:`place_labels`), so
it can be tested without looking at pixels; drawing needs matplotlib (the optional
extra ``plot``), imported only here and only when a figure is drawn, with
the Agg canvas (no display, no pyplot state). t-SNE needs scikit-learn and UMAP
umap-learn, also imported only when asked for.
"""
from __future__ import annotations

import importlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .errors import EmbedtrainError
from .extras import install_hint
from .io.atomic import atomic_output, check_writable
from .vectors import Vectors

log = logging.getLogger("embedtrain")

# Map settings.
DEFAULT_MAP_WORDS = 500
MIN_MAP_WORDS = 3
MAP_METHODS = ("pca", "tsne", "umap")
METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
DEFAULT_MAP_SEED = 1
# t-SNE's usual perplexity (van der Maaten & Hinton 2008 suggest 5-50); it must stay below
# the number of points, so small maps use a third of it.
TSNE_PERPLEXITY = 30.0
UMAP_NEIGHBOURS = 15

# Figures: size in inches at PLOT_DPI, so a PNG is exactly size * dpi pixels.
PLOT_DPI = 100
MAP_SIZE_INCHES = (10.0, 8.0)
LOSS_SIZE_INCHES = (8.0, 6.0)
PLOT_SUFFIXES = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
LABEL_FONT_POINTS = 8
# Labels sit this far from their point, in one of four corners (see place_labels).
LABEL_OFFSET_POINTS = 3
# Space kept clear between two labels.
LABEL_GAP_POINTS = 2
# Okabe & Ito's colour-blind-safe palette (Okabe and Ito 2008, "Color Universal Design").
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000")
# With more classes than colours, markers tell the rounds of the palette apart.
CLASS_MARKERS = ("o", "s", "^", "D", "v", "P")
NO_CLASS_COLOUR = "#999999"
NO_CLASS = "(no label)"
LEGEND_ROWS = 10
POINT_COLOUR = OKABE_ITO[0]
LABEL_COLOUR = "#222222"

# Units of the training history (the runner's ``unit``): per-second axis and loss wording.
UNIT_RATE = {"word": "words/s", "entry": "co-occurrence entries/s"}
UNIT_LOSS = {"word": "mean loss per training example",
             "entry": "mean weighted cost per entry (GloVe)"}


def require_matplotlib():
    """The matplotlib module, or one line saying what to install."""
    try:
        import matplotlib
    except ImportError:
        raise EmbedtrainError(f"plots need matplotlib: {install_hint('plot')}") from None
    return matplotlib


# ---------------------------------------------------------------------- loss
@dataclass
class LossHistory:
    """Per-epoch training numbers of one model (``nan`` where an epoch lacks one)."""

    name: str
    kind: str
    epochs: np.ndarray           # int, 1-based
    loss: np.ndarray             # float64
    rate: np.ndarray | None      # units (words or entries) per second; None when unknown
    unit: str                    # "word" or "entry"


def loss_history(model, name: str | None = None) -> LossHistory:
    """The per-epoch loss and speed of a trained model.

    Read from ``model.stats["history"]`` (one dict per epoch, written by the training
    runner); a GloVe model saved before that has only ``stats["epoch_costs"]`` (cost,
    no speed). Any other model without a history is an error, in one line.
    """
    name = name or model.kind
    stats = model.stats or {}
    history = stats.get("history")
    if history:
        if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
            raise EmbedtrainError(f"{name}: damaged training history in the model file")
        epochs = np.array([int(h.get("epoch", i + 1)) for i, h in enumerate(history)])
        loss = np.array([_number(h.get("loss")) for h in history])
        rate = np.array([_number(h.get("words_per_second")) for h in history])
        units = {h.get("unit") for h in history} - {None}
        if len(units) == 1:
            unit = units.pop()
        else:  # a history from before epochs named their unit: what the family counts
            from .families import family_of

            unit = family_of(model.kind).unit
        return LossHistory(name, model.kind, epochs, loss,
                           None if np.isnan(rate).all() else rate, unit)
    costs = stats.get("epoch_costs")
    if costs:
        loss = np.array([_number(c) for c in costs])
        return LossHistory(name, model.kind, np.arange(1, len(loss) + 1), loss, None, "entry")
    raise EmbedtrainError(f"{name} has no training history (it was saved by an embedtrain that "
                          f"did not record the loss per epoch)")


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def loss_figure(histories: Sequence[LossHistory]):
    """Loss per epoch (top) and speed per epoch (bottom, when known), one line per model."""
    require_matplotlib()
    from matplotlib.figure import Figure
    from matplotlib.ticker import EngFormatter, MaxNLocator

    with_rate = [h for h in histories if h.rate is not None]
    fig = Figure(figsize=LOSS_SIZE_INCHES, dpi=PLOT_DPI, layout="constrained")
    axes = fig.subplots(2 if with_rate else 1, 1, sharex=True, squeeze=False)[:, 0]
    units = {h.unit for h in histories}
    for i, h in enumerate(histories):
        style = _series_style(i)
        axes[0].plot(h.epochs, h.loss, label=h.name, **style)
        if h.rate is not None:
            axes[1].plot(h.epochs, h.rate, label=h.name, **style)
    axes[0].set_title("Training loss per epoch" + ("" if len(histories) > 1
                                                    else f": {histories[0].name}"))
    axes[0].set_ylabel(_unit_text(units, UNIT_LOSS, "loss (per example; GloVe: per entry)"))
    if with_rate:
        axes[1].set_title("Training speed per epoch")
        axes[1].set_ylabel(_unit_text({h.unit for h in with_rate}, UNIT_RATE,
                                      "words/s (GloVe: entries/s)"))
        axes[1].yaxis.set_major_formatter(EngFormatter(sep=""))
        axes[1].set_ylim(bottom=0)
    axes[-1].set_xlabel("epoch")
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes:
        ax.grid(True, color="#dddddd", linewidth=0.8)
        if len(histories) > 1:
            ax.legend(frameon=False)
    return fig


def _series_style(i: int) -> dict[str, Any]:
    # Colour and marker both change, so lines stay apart in grey print too.
    return {"color": OKABE_ITO[i % len(OKABE_ITO)],
            "marker": CLASS_MARKERS[i % len(CLASS_MARKERS)], "linewidth": 1.8, "markersize": 5}


def _unit_text(units: set[str], table: dict[str, str], mixed: str) -> str:
    return table.get(units.pop(), mixed) if len(units) == 1 else mixed


def plot_loss(models: Sequence, output: str | os.PathLike, names: Sequence[str] | None = None) -> Path:
    """Draw the loss (and speed) per epoch of ``models`` to ``output`` (.png, .svg, .pdf)."""
    fmt = check_plot_output(output)
    names = list(names) if names is not None else [m.kind for m in models]
    histories = [loss_history(m, n) for m, n in zip(models, names)]
    return save_figure(loss_figure(histories), output, fmt)


# ---------------------------------------------------------------------- map data
@dataclass
class WordMap:
    """Words placed in 2-D: ``points[i]`` is ``words[i]``; ``classes[i]`` is its label
    class (None without one) when labels were given."""

    words: list[str]
    points: np.ndarray           # float64 [n, 2]
    method: str
    axis_labels: tuple[str, str]
    classes: list[str | None] | None = None


def select_words(vectors: Vectors, n: int = DEFAULT_MAP_WORDS,
                 words: Sequence[str] | None = None) -> list[str]:
    """The ``n`` most frequent words (the first ``n`` when the vectors carry no counts), or
    those of ``words`` that have a vector (in their order, each once)."""
    if words is None:
        if n < 1:
            raise EmbedtrainError(f"the number of words to map must be at least 1 (got {n})")
        if vectors.counts is None:
            return list(vectors.words[:n])
        order = np.argsort(-vectors.counts, kind="stable")[:n]
        return [vectors.words[i] for i in order]
    chosen = list(dict.fromkeys(w for w in words if w))
    kept = [w for w in chosen if vectors.has_vector(w)]
    missing = [w for w in chosen if w not in set(kept)]
    if missing:
        shown = ", ".join(repr(w) for w in missing[:5]) + (", ..." if len(missing) > 5 else "")
        log.warning("%d of the %d words have no vector and are left out: %s",
                    len(missing), len(chosen), shown)
    return kept


def read_words_file(path: str | os.PathLike) -> list[str]:
    """One word per line (surrounding whitespace and blank lines ignored)."""
    lines = _read_text_lines(path, "words file")
    return [line.strip() for line in lines if line.strip()]


_LABEL_SEPARATORS = re.compile(r"[\s,]+")


def read_labels(path: str | os.PathLike) -> dict[str, str]:
    """``node label`` lines (separated by whitespace, a tab or a comma; ``#`` starts a
    comment line) as {word: class}. A node listed again keeps its first label."""
    labels: dict[str, str] = {}
    for number, line in enumerate(_read_text_lines(path, "labels file"), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        fields = _LABEL_SEPARATORS.split(text)
        if len(fields) != 2:
            raise EmbedtrainError(f"{path}, line {number}: expected 'node label', found "
                                  f"{text[:40]!r}")
        labels.setdefault(fields[0], fields[1])
    if not labels:
        raise EmbedtrainError(f"{path}: no 'node label' lines")
    return labels


def _read_text_lines(path: str | os.PathLike, what: str) -> list[str]:
    p = Path(path)
    if not p.is_file():
        raise EmbedtrainError(f"{what} {p} does not exist" if not p.exists()
                              else f"{what} {p} is not a file")
    try:
        return p.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise EmbedtrainError(f"cannot read {what} {p}: {exc.strerror or exc}") from None


def map_points(vectors: Vectors, words: Sequence[str], method: str = "pca",
               seed: int = DEFAULT_MAP_SEED) -> np.ndarray:
    """float64 [len(words), 2]: the words' unit vectors (cosine geometry) reduced to 2-D."""
    return _reduce(_unit_rows(vectors, words), method, seed)[0]


def word_map(vectors: Vectors, words: Sequence[str] | None = None, n: int = DEFAULT_MAP_WORDS,
             method: str = "pca", seed: int = DEFAULT_MAP_SEED,
             labels: dict[str, str] | None = None) -> WordMap:
    """The map of the ``n`` most frequent words (or of ``words``), with label classes."""
    chosen = select_words(vectors, n, words)
    points, axis_labels = _reduce(_unit_rows(vectors, chosen), method, seed)
    classes = None if labels is None else [labels.get(w) for w in chosen]
    if classes is not None and not any(c is not None for c in classes):
        log.warning("none of the %d mapped words has a label in the labels file", len(chosen))
    return WordMap(chosen, points, method, axis_labels, classes)


def _unit_rows(vectors: Vectors, words: Sequence[str]) -> np.ndarray:
    if len(words) < MIN_MAP_WORDS:
        raise EmbedtrainError(f"a map needs at least {MIN_MAP_WORDS} words with vectors "
                              f"(got {len(words)})")
    matrix = np.stack([vectors.get_vector(w) for w in words]).astype(np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def _reduce(matrix: np.ndarray, method: str, seed: int) -> tuple[np.ndarray, tuple[str, str]]:
    if method == "pca":
        points, share = pca_2d(matrix)
        return points, (f"PC 1 ({share[0]:.0%} of variance)", f"PC 2 ({share[1]:.0%} of variance)")
    name = METHOD_NAMES.get(method)
    if name is None:
        raise EmbedtrainError(f"unknown map method {method!r} (choose from {', '.join(MAP_METHODS)})")
    n = matrix.shape[0]
    if method == "tsne":
        manifold = _optional("sklearn.manifold", "t-SNE needs scikit-learn", "TSNE")
        perplexity = min(TSNE_PERPLEXITY, max(1.0, (n - 1) / 3))
        points = manifold.TSNE(n_components=2, perplexity=perplexity, init="pca",
                               random_state=seed).fit_transform(matrix)
    else:
        umap = _optional("umap", "UMAP needs umap-learn", "UMAP")
        # A seed makes UMAP single-threaded (it says so in a warning; n_jobs=1 is that choice).
        points = umap.UMAP(n_components=2, n_neighbors=min(UMAP_NEIGHBOURS, n - 1),
                           random_state=seed, n_jobs=1).fit_transform(matrix)
    return np.asarray(points, dtype=np.float64), (f"{name} 1", f"{name} 2")


def _optional(module: str, what: str, needed: str):
    """``module`` if it has ``needed`` (a leftover directory can import as an empty
    namespace package), else one line saying what to install."""
    try:
        found = importlib.import_module(module)
    except ImportError:
        found = None
    if not hasattr(found, needed):
        raise EmbedtrainError(f"{what}: {install_hint('plot')}")
    return found


def pca_2d(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Projection of the centred rows on their first two principal axes, and the share of
    the variance each axis explains. Each axis's sign is fixed (its largest loading
    positive), so a map does not flip between runs."""
    centred = matrix - matrix.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    axes = axes[:2].copy()
    if axes.shape[0] < 2:  # one-dimensional vectors: the second axis is flat
        axes = np.vstack([axes, np.zeros_like(axes)])
    flip = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    axes *= np.where(flip == 0, 1.0, flip)[:, None]
    variance = singular ** 2
    total = variance.sum()
    share = np.zeros(2)
    share[:min(2, len(variance))] = variance[:2] / total if total > 0 else 0.0
    return centred @ axes.T, share


# ---------------------------------------------------------------------- label placement
# Corners a label may take around its point: (x direction, y direction).
LABEL_CORNERS = ((1, 1), (-1, 1), (1, -1), (-1, -1))


def place_labels(anchors: np.ndarray, sizes: np.ndarray, bounds: Sequence[float],
                 offset: float) -> list[tuple[int, int]]:
    """Which labels to draw, and where, so that no two overlap.

    ``anchors`` [n, 2] are the points and ``sizes`` [n, 2] the labels' widths and heights,
    in one unit (display pixels); ``bounds`` is (x0, y0, x1, y1), the area labels must stay
    inside. Labels are tried in order (put the most important first), each in the
    corners of :data:`LABEL_CORNERS` in turn, ``offset`` away from its point; a label that
    fits nowhere is left out. Returns (index, corner number) pairs.
    """
    x0, y0, x1, y1 = bounds
    taken = np.empty((0, 4))
    placed: list[tuple[int, int]] = []
    for i, ((ax, ay), (w, h)) in enumerate(zip(np.asarray(anchors, float), np.asarray(sizes, float))):
        for corner, (dx, dy) in enumerate(LABEL_CORNERS):
            left = ax + offset if dx > 0 else ax - offset - w
            bottom = ay + offset if dy > 0 else ay - offset - h
            box = np.array([left, bottom, left + w, bottom + h])
            if box[0] < x0 or box[1] < y0 or box[2] > x1 or box[3] > y1:
                continue
            if len(taken) and np.any((taken[:, 0] < box[2]) & (box[0] < taken[:, 2]) &
                                     (taken[:, 1] < box[3]) & (box[1] < taken[:, 3])):
                continue
            taken = np.vstack([taken, box])
            placed.append((i, corner))
            break
    return placed


# ---------------------------------------------------------------------- map drawing
def map_figure(wmap: WordMap, title: str):
    """Points coloured by class (when there are classes), with the labels that fit."""
    require_matplotlib()
    from matplotlib.figure import Figure

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=MAP_SIZE_INCHES, dpi=PLOT_DPI)
    FigureCanvasAgg(fig)  # its renderer measures the labels
    # Fixed margins (no layout engine), so label positions measured below stay true.
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.07, top=0.94)
    ax = fig.add_subplot()
    points = wmap.points
    if wmap.classes is None:
        ax.scatter(points[:, 0], points[:, 1], s=14, color=POINT_COLOUR, alpha=0.75,
                   linewidths=0)
    else:
        _scatter_classes(ax, points, wmap.classes)
    _set_limits(ax, points)
    ax.set_title(title)
    ax.set_xlabel(wmap.axis_labels[0])
    ax.set_ylabel(wmap.axis_labels[1])
    ax.grid(True, color="#eeeeee", linewidth=0.8)
    ax.set_axisbelow(True)
    _draw_labels(fig, ax, wmap)
    return fig


def _scatter_classes(ax, points: np.ndarray, classes: Sequence[str | None]) -> None:
    names = [c for c in classes if c is not None]
    # Most common class first, so it gets the first colour.
    order = sorted(set(names), key=lambda c: (-names.count(c), c))
    for i, name in enumerate(order):
        rows = [j for j, c in enumerate(classes) if c == name]
        ax.scatter(points[rows, 0], points[rows, 1], s=16, linewidths=0, alpha=0.85,
                   color=OKABE_ITO[i % len(OKABE_ITO)],
                   marker=CLASS_MARKERS[(i // len(OKABE_ITO)) % len(CLASS_MARKERS)],
                   label=f"{name} ({len(rows)})")
    rows = [j for j, c in enumerate(classes) if c is None]
    if rows:
        ax.scatter(points[rows, 0], points[rows, 1], s=10, linewidths=0, alpha=0.6,
                   color=NO_CLASS_COLOUR, label=f"{NO_CLASS} ({len(rows)})")
    ax.legend(loc="best", frameon=True, framealpha=0.85, fontsize=9, title="class",
              ncols=1 + len(order) // LEGEND_ROWS)


def _set_limits(ax, points: np.ndarray) -> None:
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.where(high - low > 0, high - low, 1.0)
    # Room beyond the outermost points for their labels.
    ax.set_xlim(low[0] - 0.04 * span[0], high[0] + 0.04 * span[0])
    ax.set_ylim(low[1] - 0.04 * span[1], high[1] + 0.04 * span[1])


def _draw_labels(fig, ax, wmap: WordMap) -> None:
    from matplotlib.font_manager import FontProperties

    renderer = fig.canvas.get_renderer()
    font = FontProperties(size=LABEL_FONT_POINTS)
    sizes = np.array([renderer.get_text_width_height_descent(w, font, ismath=False)[:2]
                      for w in wmap.words])
    anchors = ax.transData.transform(wmap.points)
    offset = LABEL_OFFSET_POINTS * fig.dpi / 72.0
    gap = LABEL_GAP_POINTS * fig.dpi / 72.0
    placed = place_labels(anchors, sizes + gap, ax.bbox.extents, offset)
    for i, corner in placed:
        dx, dy = LABEL_CORNERS[corner]
        ax.annotate(wmap.words[i], xy=wmap.points[i], fontproperties=font, color=LABEL_COLOUR,
                    xytext=(dx * LABEL_OFFSET_POINTS, dy * LABEL_OFFSET_POINTS),
                    textcoords="offset points", ha="left" if dx > 0 else "right",
                    va="bottom" if dy > 0 else "top", annotation_clip=False)
    log.debug("labelled %d of %d words (the others would overlap)", len(placed), len(wmap.words))


def map_title(wmap: WordMap, name: str, chosen: bool) -> str:
    what = "the given words" if chosen else "the most frequent words"
    return f"{name}: {len(wmap.words):,} of {what}, {METHOD_NAMES[wmap.method]}"


def plot_map(vectors: Vectors, output: str | os.PathLike, words: Sequence[str] | None = None,
             n: int = DEFAULT_MAP_WORDS, method: str = "pca", seed: int = DEFAULT_MAP_SEED,
             labels: dict[str, str] | None = None, name: str = "vectors") -> WordMap:
    """Draw the word map of ``vectors`` to ``output`` (.png, .svg, .pdf); returns its data."""
    fmt = check_plot_output(output)
    require_matplotlib()
    wmap = word_map(vectors, words, n, method, seed, labels)
    save_figure(map_figure(wmap, map_title(wmap, name, words is not None)), output, fmt)
    return wmap


# ---------------------------------------------------------------------- files
def check_plot_output(path: str | os.PathLike) -> str:
    """The image format ``path``'s suffix asks for; fails now if it cannot be written."""
    fmt = PLOT_SUFFIXES.get(Path(path).suffix.lower())
    if fmt is None:
        raise EmbedtrainError(f"cannot tell the image format of {path}: end the name with "
                              f"{', '.join(PLOT_SUFFIXES)}")
    check_writable(path)
    return fmt


def save_figure(fig, path: str | os.PathLike, fmt: str = "png") -> Path:
    """Write ``fig`` atomically (temporary name, then rename)."""
    with atomic_output(path, "wb") as out:
        fig.savefig(out, format=fmt, dpi=PLOT_DPI, metadata=_quiet_metadata(fmt))
    return Path(path)


def figure_bytes(fig, fmt: str = "png") -> bytes:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=PLOT_DPI, metadata=_quiet_metadata(fmt))
    return buffer.getvalue()


def _quiet_metadata(fmt: str) -> dict[str, Any]:
    # No creation dates in the files, so the same data gives the same bytes.
    return {"svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(fmt, {})
