"""Echo-state networks (reservoirpy) on the NARMA10 fixture, for
`cargo xtask bench-reservoir`, scored with the protocol of memnet's
readout (apps.md B.2): features [1, u, states], ridge with lambda on every
coefficient chosen on validation, refit on train + validation, test NRMSE
with the population variance. Prints one JSON line per reservoir size:
mean and std of the test NRMSE over reservoir seeds 0..9, the mean linear
memory capacity (Jaeger; delays 1..200, lambda per delay on validation, as
`memnet reservoir --capacity 200` computes it) and the time per run.

    python esn.py FIXTURE --sizes 50,100,200
"""

import argparse
import json
import time

import numpy as np
from reservoirpy.nodes import Reservoir

# apps.md B.5: spectral radius and input scaling chosen there per size.
SETTINGS = {50: (0.95, 0.05), 100: (0.8, 0.1), 200: (0.8, 0.1), 400: (0.8, 0.05)}
GRID = [1e-11, 1e-9, 1e-7, 1e-5, 1e-3]


def ridge(x, y, lam):
    p = x.shape[1]
    return np.linalg.solve(x.T @ x + lam * np.eye(p), x.T @ y)


def nrmse(y, yhat):
    return float(np.sqrt(np.mean((y - yhat) ** 2) / np.var(y)))


def score(x, y):
    tr, va, te = slice(200, 2200), slice(2200, 3200), slice(3200, 5200)
    best = min(GRID, key=lambda l: nrmse(y[va], x[va] @ ridge(x[tr], y[tr], l)))
    w = ridge(x[200:3200], y[200:3200], best)
    return nrmse(y[te], x[te] @ w)


def memory_capacity(x, u, k_max=200):
    tr, va, te = slice(200, 2200), slice(2200, 3200), slice(3200, 5200)
    ys = np.stack([np.concatenate([np.zeros(k), u[:-k]]) for k in range(1, k_max + 1)], axis=1)

    def col_nrmse(y, yhat):
        return np.sqrt(np.mean((y - yhat) ** 2, axis=0) / np.var(y, axis=0))

    errs = np.stack([col_nrmse(ys[va], x[va] @ ridge(x[tr], ys[tr], l)) for l in GRID])
    best = np.argmin(errs, axis=0)
    mc = 0.0
    for i, l in enumerate(GRID):
        cols = np.flatnonzero(best == i)
        if cols.size == 0:
            continue
        w = ridge(x[200:3200], ys[200:3200][:, cols], l)
        yhat = x[te] @ w
        for j, c in enumerate(cols):
            r = np.corrcoef(ys[te][:, c], yhat[:, j])[0, 1]
            mc += 0.0 if np.isnan(r) else r * r
    return float(mc)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("fixture")
    p.add_argument("--sizes", default="50,100,200")
    a = p.parse_args()
    data = np.loadtxt(a.fixture, delimiter=",", skiprows=1)
    u, y = data[:5200, 1], data[:5200, 2]
    for n in [int(s) for s in a.sizes.split(",")]:
        sr, isc = SETTINGS.get(n, (0.8, 0.1))
        scores, times, mcs = [], [], []
        for seed in range(10):
            res = Reservoir(n, sr=sr, input_scaling=isc, lr=1.0, rc_connectivity=min(1.0, 10 / n),
                            input_connectivity=1.0, bias=0.0, seed=seed)
            start = time.perf_counter()
            states = res.run(u.reshape(-1, 1))
            times.append(time.perf_counter() - start)
            x = np.hstack([np.ones((5200, 1)), u.reshape(-1, 1), states])
            scores.append(score(x, y))
            mcs.append(memory_capacity(x, u))
        print(json.dumps({"units": n, "features": n + 2, "nrmse_mean": float(np.mean(scores)),
                          "nrmse_std": float(np.std(scores)), "memory_capacity": float(np.mean(mcs)),
                          "time_s": float(np.mean(times))}))


if __name__ == "__main__":
    main()
