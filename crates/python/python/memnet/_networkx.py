"""networkx conversion behind Network.from_networkx / Network.to_networkx."""

from __future__ import annotations

import math

import numpy as np

from ._memnet import Network

#: Edge attributes read as device parameters (the CSV edge list's columns).
PARAMETERS = ("ron", "roff", "w0", "alpha", "beta", "source", "polarity", "resistance")


def from_networkx(graph, ground=None, title=""):
    import networkx as nx  # noqa: F401  (a clear ImportError if it is missing)

    nodes = list(graph.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    if ground is not None and ground not in index:
        raise KeyError(f"ground node {ground!r} is not in the graph")
    if graph.is_multigraph():
        edges = list(graph.edges(keys=False, data=True))
    else:
        edges = list(graph.edges(data=True))
    tails = np.fromiter((index[u] for u, _, _ in edges), dtype=np.int64, count=len(edges))
    heads = np.fromiter((index[v] for _, v, _ in edges), dtype=np.int64, count=len(edges))
    columns = {}
    for name in PARAMETERS:
        if any(name in data for _, _, data in edges):
            columns[name] = np.array(
                [float(data.get(name, math.nan)) for _, _, data in edges], dtype=np.float64
            )
    return Network.from_edges(
        tails,
        heads,
        node_names=[str(n) for n in nodes],
        ground=None if ground is None else index[ground],
        title=title or str(graph.graph.get("name", "")),
        **columns,
    )


def to_networkx(net):
    import networkx as nx

    g = nx.MultiDiGraph(name=net.title)
    g.add_nodes_from(net.node_names)
    names = net.node_names
    params = dict(net.parameters())
    kinds = net.kinds
    edge_names = net.edge_names
    for k, (t, h) in enumerate(zip(net.tails.tolist(), net.heads.tolist())):
        data = {"name": edge_names[k], "kind": kinds[k]}
        for p, column in params.items():
            v = float(column[k])
            if p == "source":
                if v != 0.0:
                    data[p] = v
            elif not math.isnan(v):
                data[p] = v
        g.add_edge(names[t], names[h], key=edge_names[k], **data)
    return g
