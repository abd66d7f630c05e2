"""memnet from Python against the CLI, and a Dask sweep against serial runs.

Two measurements, each a ratio taken side by side in one run (this
machine is shared: absolute times drift, ratios much less):

1. ``simulate`` on a 300x300 grid from Python against ``memnet simulate``
   on the same grid file, comparing the solver times both report
   (``wall_time_s``: integration and sampling, not process start-up or
   file reading). Target: Python within 5% of the CLI. The runs alternate,
   and the median of each side is taken.
2. A 64-run sweep (an ensemble of random initial states on a 60x60 grid)
   on a 2-worker LocalCluster against the same runs serially. Target: at
   least 1.7x faster.

    python crates/python/bench/bench.py [--cli target/release/memnet] [--repeats 7] [--steps 20]
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import memnet

ROOT = pathlib.Path(__file__).resolve().parents[3]


def python_vs_cli(cli, repeats, rows, steps):
    with tempfile.TemporaryDirectory() as tmp:
        deck = pathlib.Path(tmp) / "grid.cir"
        subprocess.run(
            [cli, "generate", "grid", "--rows", str(rows), "--cols", str(rows), "--drive", "sides",
             "--voltage", "1", "--w0", "uniform:0.2,0.8", "--seed", "1", "-o", str(deck)],
            check=True, capture_output=True,
        )
        loaded = memnet.load(deck)
        t_end = steps * 1e-3
        args = dict(t_end=t_end, dt=1e-3, sample_dt=t_end / 10, progress=False)
        py, cl = [], []
        for _ in range(repeats):
            r = loaded.simulate(**args)
            py.append(memnet.summary(r)["wall_time_s"])
            out = subprocess.run(
                [cli, "simulate", str(deck), "--t-end", repr(t_end), "--dt", "1e-3", "--sample-dt",
                 repr(t_end / 10), "--json"],
                check=True, capture_output=True, text=True,
            )
            cl.append(json.loads(out.stdout)["wall_time_s"])
        same = abs(memnet.summary(r)["w_mean"] - json.loads(out.stdout)["w_mean"]) <= 1e-12
    return statistics.median(py), statistics.median(cl), same, loaded.n_devices


def sweep_ratio(runs, rows):
    import distributed

    grid = {"rows": [rows], "drive": [1.0], "w0_range": [(0.2, 0.8)], "seed": list(range(runs))}
    sim = {"t_end": 0.5, "dt": 1e-3, "sample_dt": 0.05, "progress": False}
    start = time.perf_counter()
    serial = memnet.sweep(memnet.generate.grid, grid, simulate=sim, keep=())
    t_serial = time.perf_counter() - start
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        # Workers start and import memnet before the clock starts.
        client.run(lambda: __import__("memnet"))
        start = time.perf_counter()
        parallel = memnet.sweep(memnet.generate.grid, grid, client=client, simulate=sim, keep=())
        t_parallel = time.perf_counter() - start
    same = serial.table["w_mean"].equals(parallel.table["w_mean"])
    return t_serial, t_parallel, same


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cli", default=os.environ.get("MEMNET_CLI", str(ROOT / "target/release/memnet")))
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--rows", type=int, default=300)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--skip-sweep", action="store_true")
    p.add_argument("--runs", type=int, default=64)
    p.add_argument("--sweep-rows", type=int, default=60)
    a = p.parse_args()
    t_py, t_cli, same, n = python_vs_cli(a.cli, a.repeats, a.rows, a.steps)
    print(
        f"simulate, {a.rows}x{a.rows} grid ({n} devices), RK4 {a.steps} steps, solver time, median of "
        f"{a.repeats}: Python {t_py:.3f} s, CLI {t_cli:.3f} s, ratio {t_py / t_cli:.3f} "
        f"(target <= 1.05); same w_mean: {same}"
    )
    if a.skip_sweep:
        return 0
    t_s, t_p, same = sweep_ratio(a.runs, a.sweep_rows)
    print(
        f"sweep, {a.runs} runs of a {a.sweep_rows}x{a.sweep_rows} grid: serial {t_s:.2f} s, "
        f"2 workers {t_p:.2f} s, speed-up {t_s / t_p:.2f}x (target >= 1.7); same results: {same}"
    )


if __name__ == "__main__":
    sys.exit(main())
