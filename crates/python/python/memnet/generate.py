"""Generated networks of memnet's linear memristors, as ``memnet generate``
makes them.

Every generator takes the same device and drive keywords:

- ``sources``: DC series sources, ``[(edge, volts), ...]``;
  ``random_sources=count`` puts ``count`` of them on random edges, with
  values uniform in ``source_range=(lo, hi)``;
- ``drive``: the left side held at that voltage against the right one
  (ideal sources; grids, lattices and geometric graphs);
- ``w0`` (one initial state for all) or ``w0_range=(lo, hi)`` (uniform);
- ``ron``, ``roff``, ``alpha``, ``beta``: device parameters (memnet's
  defaults otherwise);
- ``seed``: every random choice (graph, states, sources);
- ``law`` (with ``law_params`` and ``law_options`` dicts): every memristor
  follows that device law instead (``memnet generate --law``; see
  :meth:`Network.with_law`).
"""

from __future__ import annotations

from typing import Any

from ._memnet import Network
from ._memnet import generate_network as _generate_linear

def _generate(kind: str, **kw: Any) -> Network:
    law = kw.pop("law", None)
    params = kw.pop("law_params", None)
    options = kw.pop("law_options", None)
    if law is None:
        if params or options:
            raise TypeError("law_params and law_options need law")
        return _generate_linear(kind, **kw)
    if "w0" in kw or "w0_range" in kw:
        raise TypeError(
            "w0 and w0_range set memnet's linear-law state; with law give the "
            "law's own initial state in law_params (e.g. x0=0.3)"
        )
    return _generate_linear(kind, **kw).with_law(law, params, options)


__all__ = [
    "complete",
    "erdos_renyi",
    "geometric",
    "grid",
    "random_connected",
    "random_regular",
    "triangular",
    "watts_strogatz",
]


def grid(rows: int, cols: int | None = None, *, diagonals: bool = False, **kw: Any) -> Network:
    """A ``rows`` x ``cols`` grid (``cols`` defaults to ``rows``): node
    ``n = cols*r + c``, edges row-major, each node's right edge then its down
    edge; ``diagonals`` adds both diagonals of each square."""
    return _generate("grid", rows=rows, cols=rows if cols is None else cols, diagonals=diagonals, **kw)


def triangular(rows: int, cols: int | None = None, **kw: Any) -> Network:
    """The grid plus each square's down-right diagonal."""
    return _generate("triangular", rows=rows, cols=rows if cols is None else cols, **kw)


def erdos_renyi(n: int, p: float, **kw: Any) -> Network:
    """G(n, p): each pair of nodes joined with probability p."""
    return _generate("erdos_renyi", n=n, p=p, **kw)


def random_regular(n: int, degree: int, **kw: Any) -> Network:
    """A uniformly random simple ``degree``-regular graph."""
    return _generate("random_regular", n=n, degree=degree, **kw)


def watts_strogatz(n: int, k: int, rewire: float, **kw: Any) -> Network:
    """A ring of n nodes, each joined to its k nearest neighbours, each edge
    rewired with probability ``rewire``."""
    return _generate("watts_strogatz", n=n, k=k, rewire=rewire, **kw)


def geometric(n: int, radius: float, **kw: Any) -> Network:
    """n points uniform in the unit square, joined when closer than
    ``radius`` (a nanowire-like random network)."""
    return _generate("geometric", n=n, radius=radius, **kw)


def complete(n: int, **kw: Any) -> Network:
    """The complete graph K_n."""
    return _generate("complete", n=n, **kw)


def random_connected(n: int, p_extra: float, **kw: Any) -> Network:
    """The theory's test graph: a ring plus each pair with probability
    ``p_extra``, random orientations."""
    return _generate("random_connected", n=n, p_extra=p_extra, **kw)
