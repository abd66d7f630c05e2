"""Ensembles and parameter sweeps on Dask.

Each task builds its own network (networks are not shipped between
processes), simulates it with the GIL released and sends back the run
summary and the arrays asked for. The same code runs without a client
(serially, in this process), on a ``dask.distributed.LocalCluster`` and on a
cluster from ``dask-jobqueue`` (for Slurm: ``SLURMCluster(cores=..., memory=...)``
then ``cluster.scale(jobs=...)`` and ``Client(cluster)``).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

import numpy as np

from ._memnet import Network

__all__ = ["SweepResult", "grid_points", "sweep"]

#: Summary fields copied into each row of the table.
SUMMARY_FIELDS = (
    "method",
    "memristors",
    "steps",
    "rejected_steps",
    "rhs_evals",
    "factorizations",
    "samples",
    "w_min",
    "w_max",
    "w_mean",
    "wall_time_s",
)


@dataclass
class SweepResult:
    """One row per run (its parameters, then its summary) and its arrays.

    ``table`` is a pandas DataFrame; ``arrays[k]`` holds the arrays kept for
    row k (``t``, ``w``, ``outputs``, as asked).
    """

    table: Any
    arrays: List[Dict[str, np.ndarray]] = field(default_factory=list)


def grid_points(grid: Union[Mapping[str, Iterable[Any]], Sequence[Mapping[str, Any]]]) -> List[Dict[str, Any]]:
    """The points of a parameter grid: every combination of a mapping's
    values (in the mapping's order), or a list of points as given."""
    if isinstance(grid, Mapping):
        keys = list(grid)
        return [dict(zip(keys, values)) for values in itertools.product(*(list(grid[k]) for k in keys))]
    return [dict(p) for p in grid]


def run_point(
    build: Callable[..., Network],
    point: Mapping[str, Any],
    simulate: Mapping[str, Any],
    keep: Sequence[str],
):
    """One task: build the network at ``point``, simulate it, and return the
    summary row and the kept arrays."""
    net = build(**point)
    if not isinstance(net, Network):
        raise TypeError(f"build returned {type(net).__name__}, not a memnet.Network")
    res = net.simulate(**dict(simulate))
    summary = json.loads(res.summary_json)
    row = dict(point)
    for name in SUMMARY_FIELDS:
        row[name] = summary.get(name)
    arrays = {name: np.asarray(getattr(res, name)) for name in keep}
    return row, arrays


def sweep(
    build: Callable[..., Network],
    grid: Union[Mapping[str, Iterable[Any]], Sequence[Mapping[str, Any]]],
    *,
    client=None,
    simulate: Optional[Mapping[str, Any]] = None,
    keep: Sequence[str] = ("w",),
) -> SweepResult:
    """Simulates ``build(**point)`` for every point of ``grid``.

    ``build`` makes a Network from keyword arguments (a module-level
    function, so that workers can unpickle it); ``grid`` is a mapping of
    parameter names to values (every combination is run: ``{"seed":
    range(64)}`` for an ensemble) or a list of points; ``simulate`` holds
    the keyword arguments of :meth:`Network.simulate`; ``keep`` names the
    result arrays sent back (``t``, ``w``, ``outputs``).

    Without a ``client`` the runs are serial, in this process: the same
    numbers as on a cluster. Rows come back in the order of the points.
    """
    import pandas as pd

    points = grid_points(grid)
    simulate = dict(simulate or {})
    keep = tuple(keep)
    if client is None:
        results = [run_point(build, p, simulate, keep) for p in points]
    else:
        futures = client.map(
            run_point,
            [build] * len(points),
            points,
            [simulate] * len(points),
            [keep] * len(points),
            pure=False,
        )
        results = client.gather(futures)
    table = pd.DataFrame([row for row, _ in results])
    return SweepResult(table=table, arrays=[arrays for _, arrays in results])
