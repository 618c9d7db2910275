"""Node embeddings: random walks over a graph (DeepWalk, node2vec), trained with the
word2vec drivers as a corpus whose words are the nodes.

Settings are layered: the model's defaults, then its family's graph presets
(``Family.graph_presets``; word2vec's: dim 128, window 10, min-count 0, no
subsampling, 5 negatives, one epoch), then a TOML file, then the arguments given.
They are built once (:func:`plan_graph`), refused there in the CLI's words, and
trained through the one entry path (embedtrain/api.py).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Iterable

from ..config import CommonConfig, WalkConfig, fields_with, load_toml, make_config
from ..errors import EmbedtrainError
from ..families import DEFAULT_MODEL, family_of, graph_models
from ..models import Model
from .read import Graph, load_graph

log = logging.getLogger("embedtrain")

WALK_FIELDS = fields_with("walk")


def split_settings(settings: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(walk settings, model settings) from one dict of option values (None: not given)."""
    walk = {k: v for k, v in settings.items() if k in WALK_FIELDS and v is not None}
    model = {k: v for k, v in settings.items() if k not in WALK_FIELDS and v is not None}
    return walk, model


def graph_configs(model: str | None = None, config_file: str | None = None,
                  **settings: Any) -> tuple[CommonConfig, WalkConfig]:
    """The model's and the walks' settings for graph training (presets under the file
    and the arguments). A TOML file may hold walk settings too."""
    from_file = load_toml(config_file) if config_file else {}
    file_walk = {k: from_file.pop(k) for k in list(from_file) if k in WALK_FIELDS}
    walk_given, model_given = split_settings(settings)
    chosen = model or from_file.pop("model", None) or DEFAULT_MODEL
    from_file.pop("model", None)
    if chosen not in graph_models():
        raise EmbedtrainError(f"graphs train with --model {' or '.join(graph_models())}, not {chosen}")
    explicit = {**from_file, **model_given}
    presets = {k: v for k, v in family_of(chosen).graph_presets.items() if k not in explicit}
    if explicit.get("hs") and "negative" not in explicit:
        presets.pop("negative", None)  # DeepWalk's original: hierarchical softmax alone
    config = make_config(chosen, None, **{**presets, **explicit})
    walk = WalkConfig(**{**file_walk, **walk_given})
    if config.checkpoint_every:
        raise EmbedtrainError("--checkpoint-every does not apply to --graph (a graph run is "
                              "one pass over its walks)")
    return config, walk


@dataclass(frozen=True)
class GraphPlan:
    """A checked graph run, ready to :meth:`run`: the settings are built."""

    graph: Any
    config: CommonConfig
    walk: WalkConfig
    weighted: bool | None       # as given (arrays: weighted when weights are given)
    nodes: Any
    progress: bool
    tmp_dir: str | None
    save_vocab: str | None
    init: Model | None = None           # --continue: the model to continue on these walks
    given: dict[str, Any] | None = None  # with init: the model settings given (the rest: init's)

    def run(self) -> Model:
        import os

        started = time.perf_counter()
        g = load_graph(self.graph, directed=self.walk.directed, nodes=self.nodes,
                       weighted=self.weighted if isinstance(self.graph, tuple) else self.walk.weighted)
        log.info("graph: %s nodes, %s edges (read in %.1f s)", f"{g.n_nodes:,}", f"{g.n_edges:,}",
                 time.perf_counter() - started)
        fitted = train_on_walks(g, self.config, self.walk, progress=self.progress, tmp_dir=self.tmp_dir,
                                save_vocab=self.save_vocab, init=self.init, given=self.given)
        lineage = fitted.stats.get("lineage")
        if lineage and isinstance(self.graph, (str, os.PathLike)):  # name the edge list, not "walks"
            from ..corpus.fingerprint import file_record

            lineage[-1]["corpus"] = {"files": [file_record(os.fspath(self.graph))],
                                     "source": "random walks over the edge list"}
        return fitted


def plan_graph(graph: Any, model: str | None = None, *, weighted: bool | None = None,
               nodes: Iterable[Any] | None = None, config_file: str | None = None, progress: bool = True,
               tmp_dir: str | None = None, save_vocab: str | None = None, init: Any = None,
               **settings: Any) -> GraphPlan:
    """Build and check a graph run (see :func:`train_graph`); nothing is read yet."""
    from ..api import check_tmp_dir

    if init is not None:  # --continue: the model's settings under those given, no presets
        from ..api import continued_config, continued_model

        base = continued_model(init)
        if base.kind not in graph_models():
            raise EmbedtrainError(f"graphs train with --model {' or '.join(graph_models())}: a "
                                  f"{base.kind} model cannot continue on walks")
        walk_given, model_given = split_settings(dict(settings, weighted=weighted))
        config = continued_config(base, model, config_file, model_given)
        check_tmp_dir(tmp_dir)
        return GraphPlan(graph, config, WalkConfig(**walk_given), weighted, nodes, progress, tmp_dir,
                         save_vocab, base, model_given)
    config, walk = graph_configs(model, config_file, weighted=weighted, **settings)
    check_tmp_dir(tmp_dir)
    return GraphPlan(graph, config, walk, weighted, nodes, progress, tmp_dir, save_vocab)


def train_graph(graph: Any, model: str | None = None, *, directed: bool | None = None,
                weighted: bool | None = None, p: float | None = None, q: float | None = None,
                walks_per_node: int | None = None, walk_length: int | None = None,
                nodes: Iterable[Any] | None = None, config_file: str | None = None,
                progress: bool = True, tmp_dir: str | None = None,
                save_vocab: str | None = None, init: Any = None, **settings: Any) -> Model:
    """Node vectors from random walks over ``graph`` (DeepWalk; node2vec with p, q).

    ``graph``: an edge-list path (``a b`` or ``a b weight`` lines), a tuple
    ``(sources, targets)`` or ``(sources, targets, weights)`` of arrays (node ids of any
    type; names are ``str(id)``), a networkx graph (edge ``weight`` with ``weighted``), a
    scipy sparse adjacency matrix (``nodes``: its rows' names), a pandas or polars DataFrame
    with ``source``, ``target`` (and ``weight``) columns, or a
    :class:`~embedtrain.graphs.Graph`. ``nodes``: more nodes to give vectors to even
    without edges (they keep their random initial vectors).
    ``settings``: model settings as for :func:`embedtrain.train` (``dim``, ``window``,
    ``hs``, ``threads``, ``seed``, ...), with the graph presets as defaults.
    ``init``: a node model (or its .etm file) to continue on the walks over ``graph`` (new
    nodes and edges): its nodes keep their rows, new nodes join (docs/graphs.md).
    Returns the trained model; its words are the node names.
    """
    return plan_graph(graph, model, directed=directed, weighted=weighted, p=p, q=q,
                      walks_per_node=walks_per_node, walk_length=walk_length, nodes=nodes,
                      config_file=config_file, progress=progress, tmp_dir=tmp_dir,
                      save_vocab=save_vocab, init=init, **settings).run()


def train_on_walks(graph: Graph, config: CommonConfig, walk: WalkConfig, *, progress: bool = True,
                   tmp_dir: str | None = None, save_vocab: str | None = None, init: Model | None = None,
                   given: dict[str, Any] | None = None) -> Model:
    """Train ``config`` (built already) on the walks over an already loaded graph; with
    ``init``, continue that model (``given``: the settings given, as plan takes them)."""
    from ..api import plan
    from .walks import walk_source

    source = walk_source(graph, walk, config.seed, config.worker_threads)
    if init is not None:
        fitted = plan(source, init=init, progress=progress, tmp_dir=tmp_dir, save_vocab=save_vocab,
                      **(given or {})).run()
    else:
        fitted = plan(source, config=config, progress=progress, tmp_dir=tmp_dir,
                      save_vocab=save_vocab).run()
    fitted.stats.update(graph_nodes=graph.n_nodes, graph_edges=graph.n_edges, walks=walk.to_dict())
    return fitted
