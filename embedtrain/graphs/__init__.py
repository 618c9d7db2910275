"""Graphs: node vectors from random walks (DeepWalk, node2vec) and their evaluation.

- ``read``: edge lists and graph objects (arrays, networkx graphs, scipy sparse matrices,
  pandas/polars DataFrames) into a :class:`Graph` (CSR adjacency, node names);
- ``walks``: the walks as a token source (the numba walk kernels are in
  kernels/walks.py), and ``embedtrain walks`` (written as text);
- ``train``: :func:`train_graph`, the graph presets of the model's family under the
  recipe file and the arguments, through the one entry path (api.py);
- ``evaluate``: node classification and link prediction (``eval-nodes``, ``eval-links``).

Nothing here imports numba at module level; importing this package is cheap.
"""
from __future__ import annotations

from .read import Graph, from_edges, load_graph, read_edge_list
from .train import GraphPlan, graph_configs, plan_graph, train_graph, train_on_walks

__all__ = ["Graph", "from_edges", "load_graph", "read_edge_list", "GraphPlan", "graph_configs",
           "plan_graph", "train_graph", "train_on_walks"]
