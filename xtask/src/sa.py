"""Simulated annealing (dwave-samplers) on one benchmark instance, for
`cargo xtask bench-optimize`. Reads the file itself (an independent reading
of the OR-Library and rudy conventions) and prints one JSON line:
best value in the file's sense, success probability per read, time per read.

    python sa.py FILE --instance K --best-known V --reads R --sweeps S --seed N
"""

import argparse
import json
import math
import time

import dimod
from dwave.samplers import SimulatedAnnealingSampler


def bqm_of(path, instance):
    tokens = open(path).read().split()
    if path.endswith(".rud"):
        n, m = int(tokens[0]), int(tokens[1])
        lin, quad = {i: 0.0 for i in range(n)}, {}
        for k in range(m):
            i, j, w = int(tokens[2 + 3 * k]) - 1, int(tokens[3 + 3 * k]) - 1, float(tokens[4 + 3 * k])
            # minimise -cut: h_i = -deg_i, J_ij = 2 w_ij
            lin[i] -= w
            lin[j] -= w
            quad[(i, j)] = quad.get((i, j), 0.0) + 2 * w
        return dimod.BinaryQuadraticModel(lin, quad, 0.0, dimod.BINARY), "cut"
    pos = 1
    for idx in range(1, int(tokens[0]) + 1):
        n, m = int(tokens[pos]), int(tokens[pos + 1])
        pos += 2
        entries = [(int(tokens[pos + 3 * k]) - 1, int(tokens[pos + 3 * k + 1]) - 1, float(tokens[pos + 3 * k + 2]))
                   for k in range(m)]
        pos += 3 * m
        if idx == instance:
            lin, quad = {i: 0.0 for i in range(n)}, {}
            for i, j, q in entries:
                # maximise x^T Q x: minimise -q_ii x_i - 2 q_ij x_i x_j
                if i == j:
                    lin[i] -= q
                else:
                    quad[(min(i, j), max(i, j))] = -2 * q
            return dimod.BinaryQuadraticModel(lin, quad, 0.0, dimod.BINARY), "max"
    raise SystemExit(f"{path}: no instance {instance}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("--instance", type=int, default=1)
    p.add_argument("--best-known", type=float, required=True)
    p.add_argument("--reads", type=int, default=100)
    p.add_argument("--sweeps", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1234)
    a = p.parse_args()
    bqm, sense = bqm_of(a.file, a.instance)
    sampler = SimulatedAnnealingSampler()
    start = time.perf_counter()
    result = sampler.sample(bqm, num_reads=a.reads, num_sweeps=a.sweeps, seed=a.seed)
    elapsed = time.perf_counter() - start
    values = [-e for e in result.record.energy]  # file sense: the maximum (or the cut)
    ref = a.best_known
    hits = sum(1 for v in values if v >= ref - 1e-9 * abs(ref))
    p_hit = hits / a.reads
    t_read = elapsed / a.reads
    if p_hit <= 0:
        tts = None
    elif p_hit >= 0.99:
        tts = t_read
    else:
        tts = t_read * math.log(0.01) / math.log(1 - p_hit)
    print(json.dumps({"best": max(values), "p": p_hit, "t_read_s": t_read, "tts99_s": tts}))


if __name__ == "__main__":
    main()
