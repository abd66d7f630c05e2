//! The one nodal evaluator, `NodalSolver` (docs/engine.md), on random
//! networks with fixed seeds: parallel edges, self-loops, several
//! components, ideal voltage sources (supernodes), node injections and
//! arbitrary source vectors. Checked by the circuit laws themselves:
//! Ohm's law on every edge, the constraint voltages, KCL on every
//! supernode that is not a ground, and superposition across solves with
//! one factorisation.

use memnet_graph::{Device, Edge, MemristorParams, Network, PotentialConstraint, Topology};
use memnet_solver::{NodalSolver, NodalSources, Ordering};
use memnet_spice::Source;
use petgraph::unionfind::UnionFind;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_network(rng: &mut ChaCha8Rng, n: usize, m: usize, c: usize) -> Network {
    let p = MemristorParams {
        ron: 1.0,
        roff: 10.0,
        w0: 0.5,
        alpha: 0.0,
        beta: 1.0,
        polarity: 1.0,
    };
    let mut names: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
    names[rng.random_range(0..n)] = "0".into();
    let edges = (0..m)
        .map(|k| Edge {
            name: format!("xm{k}").into(),
            tail: rng.random_range(0..n),
            head: rng.random_range(0..n),
            device: Device::Memristor(p),
            source: None,
            loc: None,
        })
        .collect();
    let mut tied = UnionFind::<usize>::new(n);
    let mut constraints = Vec::new();
    while constraints.len() < c {
        let (a, b) = (rng.random_range(0..n), rng.random_range(0..n));
        if tied.union(a, b) {
            constraints.push(PotentialConstraint {
                name: format!("v{}", constraints.len()),
                pos: a,
                neg: b,
                source: Source::dc(0.0),
                loc: None,
            });
        }
    }
    Network {
        node_names: names,
        edges,
        constraints,
        ..Network::default()
    }
}

fn uniform(rng: &mut ChaCha8Rng, len: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..len).map(|_| rng.random_range(lo..hi)).collect()
}

/// Relative tolerance of the law checks: the system is solved by a
/// Cholesky factorisation of a matrix whose conductances span 1e-1..1e1
/// on graphs of <= 60 nodes, so residuals are a few ulps of the largest
/// current times the condition number (< 1e6 here).
const TOL: f64 = 1e-9;

#[test]
fn currents_obey_ohm_kvl_constraints_and_kcl_for_any_sources() {
    for seed in 0..30u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = rng.random_range(2..60);
        let m = rng.random_range(1..3 * n);
        let c = rng.random_range(0..n.min(8));
        let net = random_network(&mut rng, n, m, c);
        let topo = Topology::new(&net);
        let ordering = if seed % 2 == 0 {
            Ordering::Amd
        } else {
            Ordering::NestedDissection
        };
        let mut nodal = NodalSolver::new(&topo, ordering).unwrap();
        let g = uniform(&mut rng, m, 0.1, 10.0);
        nodal.conductances_mut().copy_from_slice(&g);
        nodal.factor().unwrap();
        let series = uniform(&mut rng, m, -2.0, 2.0);
        let injection = uniform(&mut rng, n, -1.0, 1.0);
        let values = uniform(&mut rng, c, -3.0, 3.0);
        let src = NodalSources {
            series: &series,
            injection: &injection,
            constraints: &values,
        };
        let mut i = vec![0.0; m];
        nodal.solve(&src, &mut i);
        let mut phi = vec![0.0; n];
        nodal.node_potentials(&mut phi);
        let scale = i.iter().fold(1.0f64, |a, x| a.max(x.abs()));
        // Ohm / KVL per edge.
        for (k, e) in net.edges.iter().enumerate() {
            let want = g[k] * (series[k] + phi[e.tail] - phi[e.head]);
            assert!((i[k] - want).abs() <= TOL * scale, "seed {seed} edge {k}");
        }
        // Constraint voltages.
        for (k, v) in net.constraints.iter().zip(&values) {
            assert!(
                (phi[k.pos] - phi[k.neg] - v).abs() <= TOL * 10.0,
                "seed {seed}"
            );
        }
        // Grounds at 0, and KCL on every supernode that is not a ground.
        let sup = &topo.supernodes;
        let q = topo.contracted();
        for s in 0..sup.count {
            if q.is_ground(s) {
                assert_eq!(phi[sup.root(s)], 0.0);
                continue;
            }
            let mut net_out = 0.0;
            for (k, e) in net.edges.iter().enumerate() {
                if sup.of(e.tail) == s {
                    net_out += i[k];
                }
                if sup.of(e.head) == s {
                    net_out -= i[k];
                }
            }
            let injected: f64 = (0..n)
                .filter(|&v| sup.of(v) == s)
                .map(|v| injection[v])
                .sum();
            assert!(
                (net_out - injected).abs() <= TOL * scale * m as f64,
                "seed {seed} supernode {s}: {net_out} vs {injected}"
            );
        }
        // Superposition: with one factorisation, solving for the sum of two
        // source sets gives the sum of the currents.
        let s2 = uniform(&mut rng, m, -1.0, 1.0);
        let j2 = uniform(&mut rng, n, -1.0, 1.0);
        let v2 = uniform(&mut rng, c, -1.0, 1.0);
        let mut i2 = vec![0.0; m];
        nodal.solve(
            &NodalSources {
                series: &s2,
                injection: &j2,
                constraints: &v2,
            },
            &mut i2,
        );
        let add = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x + y).collect::<Vec<_>>();
        let (s12, j12, v12) = (add(&series, &s2), add(&injection, &j2), add(&values, &v2));
        let mut i12 = vec![0.0; m];
        nodal.solve(
            &NodalSources {
                series: &s12,
                injection: &j12,
                constraints: &v12,
            },
            &mut i12,
        );
        for k in 0..m {
            assert!((i12[k] - i[k] - i2[k]).abs() <= TOL * scale, "seed {seed}");
        }
        // Empty source vectors mean zero sources: no current at all.
        nodal.solve(
            &NodalSources {
                constraints: &vec![0.0; c],
                ..Default::default()
            },
            &mut i2,
        );
        assert!(i2.iter().all(|&x| x == 0.0), "seed {seed}");
        // (A network with no unknowns needs no factorisation.)
        assert_eq!(nodal.factorizations(), u64::from(nodal.n_unknowns() > 0));
    }
}

/// A non-positive conductance makes the Laplacian indefinite: `factor`
/// names a node of the offending part instead of producing garbage.
#[test]
fn indefinite_conductances_are_reported() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let net = random_network(&mut rng, 10, 30, 0);
    let topo = Topology::new(&net);
    let mut nodal = NodalSolver::new(&topo, Ordering::Amd).unwrap();
    nodal.conductances_mut().fill(-1.0);
    let node = nodal.factor().unwrap_err();
    assert!(node < 10);
}
