"""memnet.sweep on a 2-worker LocalCluster equals the serial runs."""

import numpy as np
import pytest

import memnet
from memnet.dask import grid_points


def test_grid_points_is_every_combination_in_order():
    pts = grid_points({"a": [1, 2], "b": ["x", "y", "z"]})
    assert len(pts) == 6 and pts[0] == {"a": 1, "b": "x"} and pts[-1] == {"a": 2, "b": "z"}
    assert grid_points([{"a": 1}]) == [{"a": 1}]


def test_sweep_on_a_local_cluster_equals_serial_runs():
    distributed = pytest.importorskip("distributed")
    grid = {"rows": [4], "drive": [1.0], "w0_range": [(0.1, 0.9)], "seed": list(range(6))}
    sim = {"t_end": 0.5, "dt": 1e-3, "progress": False}
    serial = memnet.sweep(memnet.generate.grid, grid, simulate=sim, keep=("t", "w"))
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        parallel = memnet.sweep(memnet.generate.grid, grid, client=client, simulate=sim, keep=("t", "w"))
    assert list(serial.table["seed"]) == list(range(6))
    cols = ["seed", "steps", "rhs_evals", "w_min", "w_max", "w_mean"]
    assert serial.table[cols].equals(parallel.table[cols])
    for a, b in zip(serial.arrays, parallel.arrays):
        np.testing.assert_array_equal(a["w"], b["w"])
        np.testing.assert_array_equal(a["t"], b["t"])
    # Different seeds, different ensembles.
    assert not np.array_equal(serial.arrays[0]["w"], serial.arrays[1]["w"])
