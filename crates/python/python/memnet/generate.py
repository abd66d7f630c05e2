"""Generated networks, as ``memnet generate`` makes them."""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

from ._memnet import Network
from ._memnet import grid as _grid

__all__ = ["grid"]


def grid(
    rows: int,
    cols: Optional[int] = None,
    *,
    diagonals: bool = False,
    sources: Sequence[Tuple[int, float]] = (),
    drive: Optional[float] = None,
    seed: int = 0,
    w0: Optional[float] = None,
    w0_range: Optional[Tuple[float, float]] = None,
    ron: Optional[float] = None,
    roff: Optional[float] = None,
    alpha: Optional[float] = None,
    beta: Optional[float] = None,
) -> Network:
    """A ``rows`` x ``cols`` grid (``cols`` defaults to ``rows``) of
    memnet's linear memristors, as ``memnet generate grid`` makes it.

    Node ``n = cols*r + c``; edges in row-major order, each node's right edge
    then its down edge. ``sources`` puts a DC series source of S volts on
    edge k for each ``(k, S)``; ``drive`` holds the left column at that
    many volts against the right one (ideal sources). Initial states are
    ``w0`` or, with ``w0_range=(lo, hi)``, uniform from ``seed``.
    Parameters left out take memnet's defaults.
    """
    return _grid(
        rows,
        rows if cols is None else cols,
        diagonals=diagonals,
        sources=list(sources),
        drive=drive,
        seed=seed,
        w0_range=w0_range,
        ron=ron,
        roff=roff,
        w0=w0,
        alpha=alpha,
        beta=beta,
    )
