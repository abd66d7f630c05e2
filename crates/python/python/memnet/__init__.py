"""memnet for Python: memristive circuit networks that speak SPICE.

The same engine as the ``memnet`` command line, as a native module:

>>> import memnet
>>> net = memnet.load("fixtures/spice/e4_grid.cir")
>>> res = net.simulate(1.0)
>>> res.w.shape            # samples x devices, float64
(101, 12)

Netlists (ngspice, Xyce, LTspice, PSpice, HSPICE) and graph files (.csv,
.mtx) are read by :func:`load`; networks are also built from arrays
(:meth:`Network.from_edges`), from networkx graphs
(:meth:`Network.from_networkx`) and by the generators of
:mod:`memnet.generate`. :func:`sweep` maps simulations over parameters or
seeds on a Dask cluster.
"""

from __future__ import annotations

import json
from typing import Iterable, Mapping, Optional, Sequence, Union

from . import generate
from ._memnet import MemnetError, Network, SimResult, memory_capacity, score_readout
from ._memnet import load as _load

__all__ = [
    "MemnetError", "Network", "SimResult", "generate", "load", "memory_capacity", "score_readout",
    "sweep", "summary",
]

ParamMap = Union[str, Mapping[str, str]]


def _param_text(p: ParamMap) -> str:
    if isinstance(p, str):
        return p
    return ",".join(f"{ours}={theirs}" for ours, theirs in p.items())


def load(
    path,
    memristor_subckt: Union[None, str, Sequence[str]] = None,
    params: Union[None, ParamMap, Sequence[ParamMap]] = None,
) -> Network:
    """Reads a netlist or a graph file (.csv edge list, .mtx) into a Network.

    ``memristor_subckt`` names user subcircuits to treat as memnet's own
    memristor (``memnet simulate --memristor-subckt``), ``params`` maps
    memnet's parameter names onto each one's (``"ron=RMIN,roff=RMAX"`` or
    ``{"ron": "RMIN"}``; a list for several subcircuits, in order).

    A netlist the importer refuses raises :class:`MemnetError` with the
    CLI's message, ``FILE:LINE:COL: error: ...``.
    """
    subckts = [memristor_subckt] if isinstance(memristor_subckt, str) else list(memristor_subckt or [])
    if params is None:
        maps = []
    elif isinstance(params, (str, Mapping)):
        maps = [_param_text(params)]
    else:
        maps = [_param_text(p) for p in params]
    return _load(str(path), subckts, maps)


def summary(result: SimResult) -> dict:
    """The run summary of ``result`` as ``memnet simulate --json`` prints it."""
    return json.loads(result.summary_json)


def _sweep(*args, **kwargs):
    from .dask import sweep as _dask_sweep

    return _dask_sweep(*args, **kwargs)


def sweep(*args, **kwargs):
    """Maps simulations over a parameter grid or seeds on a Dask client.

    See :func:`memnet.dask.sweep`.
    """
    return _sweep(*args, **kwargs)
