//! Test networks: theory.md examples E3, E4, E5 and the T0 random graphs.
//! (Written here rather than taken from memnet-graph's generators so the
//! analysis tests pin the exact edge orders theory.md specifies.)
#![allow(dead_code)]

use memnet_graph::{Device, Edge, MemristorParams, Network, SeriesSource};
use memnet_spice::Source;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Uniform device parameters with R_on = 1 (theory.md section 6 units).
#[derive(Clone, Copy, Debug)]
pub struct Params {
    pub xi: f64,
    pub alpha: f64,
    pub beta: f64,
}

pub fn network(
    n_nodes: usize,
    edges: &[(usize, usize)],
    w0: &[f64],
    s: &[f64],
    p: Params,
) -> Network {
    Network {
        title: "test".into(),
        node_names: (0..n_nodes).map(|i| format!("n{i}")).collect(),
        edges: edges
            .iter()
            .enumerate()
            .map(|(k, &(t, h))| Edge {
                name: format!("xm{k}").into(),
                tail: t,
                head: h,
                device: Device::Memristor(MemristorParams {
                    ron: 1.0,
                    roff: 1.0 + p.xi,
                    w0: w0[k],
                    alpha: p.alpha,
                    beta: p.beta,
                    polarity: 1.0,
                }),
                source: (s[k] != 0.0).then(|| {
                    Box::new(SeriesSource {
                        name: format!("v{k}"),
                        source: Source::dc(s[k]),
                        sign: 1.0,
                        loc: None,
                    })
                }),
                loc: None,
            })
            .collect(),
        injections: Vec::new(),
        constraints: Vec::new(),
        tran: None,
        laws: Vec::new(),
        folded_nodes: Vec::new(),
        open_pins: Vec::new(),
    }
}

/// E3: triangle with one reversed edge.
pub fn e3() -> Network {
    network(
        3,
        &[(0, 1), (1, 2), (0, 2)],
        &[0.5, 0.4, 0.3],
        &[0.3, 0.2, 0.1],
        Params {
            xi: 2.0,
            alpha: 0.0,
            beta: 1.0,
        },
    )
}

pub const E4_EDGES: [(usize, usize); 12] = [
    (0, 1),
    (0, 3),
    (1, 2),
    (1, 4),
    (2, 5),
    (3, 4),
    (3, 6),
    (4, 5),
    (4, 7),
    (5, 8),
    (6, 7),
    (7, 8),
];

/// E4: 3x3 grid, S = e_0, w0_k = 0.2 + 0.05 k, xi = 10, beta = 10.
pub fn e4(alpha: f64) -> Network {
    let w0: Vec<f64> = (0..12).map(|k| 0.2 + 0.05 * k as f64).collect();
    let mut s = vec![0.0; 12];
    s[0] = 1.0;
    network(
        9,
        &E4_EDGES,
        &w0,
        &s,
        Params {
            xi: 10.0,
            alpha,
            beta: 10.0,
        },
    )
}

pub const E5_EDGES: [(usize, usize); 6] = [(0, 1), (1, 2), (2, 0), (0, 3), (3, 1), (3, 2)];
pub const E5_W: [f64; 6] = [0.1, 0.7, 0.7, 0.1, 0.5, 0.8];
pub const E5_S: [f64; 6] = [0.1, -2.2, 0.3, 0.5, -1.8, 0.9];

/// E5: K4 with alpha = 0, beta = 1 and the given xi.
pub fn e5(xi: f64) -> Network {
    network(
        4,
        &E5_EDGES,
        &E5_W,
        &E5_S,
        Params {
            xi,
            alpha: 0.0,
            beta: 1.0,
        },
    )
}

/// theory.md T0: a ring of n nodes plus each other pair with probability
/// p_extra, random orientations. Returns the edge list.
pub fn random_edges(rng: &mut ChaCha8Rng, n: usize, p_extra: f64) -> Vec<(usize, usize)> {
    let mut edges = Vec::new();
    for i in 0..n {
        let j = (i + 1) % n;
        edges.push(if rng.random_bool(0.5) { (i, j) } else { (j, i) });
    }
    for i in 0..n {
        for j in (i + 2)..n {
            if (i == 0 && j == n - 1) || !rng.random_bool(p_extra) {
                continue;
            }
            edges.push(if rng.random_bool(0.5) { (i, j) } else { (j, i) });
        }
    }
    edges
}

/// A random test network with `components` disjoint T0 graphs of 8 nodes
/// (p = 0.4), w0 in [0.3, 0.7], S in [-amp, amp].
pub fn random_network(seed: u64, components: usize, p: Params, amp: f64) -> Network {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut edges = Vec::new();
    for c in 0..components {
        for (t, h) in random_edges(&mut rng, 8, 0.4) {
            edges.push((t + 8 * c, h + 8 * c));
        }
    }
    let w0: Vec<f64> = edges.iter().map(|_| rng.random_range(0.3..0.7)).collect();
    let s: Vec<f64> = edges.iter().map(|_| rng.random_range(-amp..amp)).collect();
    network(8 * components, &edges, &w0, &s, p)
}

/// Random state in [lo, hi]^m.
pub fn random_state(rng: &mut ChaCha8Rng, m: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..m).map(|_| rng.random_range(lo..hi)).collect()
}

pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}
