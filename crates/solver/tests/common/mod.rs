//! Hand-built networks for the solver tests, benches and examples.
#![allow(dead_code)]

use memnet_graph::{Device, Edge, MemristorParams, Network, SeriesSource};
use memnet_spice::Source;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Uniform device with R_on = 1 (theory.md section 6 units) and xi.
pub fn dev(xi: f64, beta: f64, alpha: f64, w0: f64) -> MemristorParams {
    MemristorParams {
        ron: 1.0,
        roff: 1.0 + xi,
        w0,
        alpha,
        beta,
        polarity: 1.0,
    }
}

/// A DC series source of value `s` aligned with the edge.
pub fn dc(s: f64) -> Option<Box<SeriesSource>> {
    (s != 0.0).then(|| {
        Box::new(SeriesSource {
            name: String::new(),
            source: Source::dc(s),
            sign: 1.0,
            loc: None,
        })
    })
}

/// Node 0 is named `0` (the reference), the others `n<i>`.
pub fn node_names(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| if i == 0 { "0".into() } else { format!("n{i}") })
        .collect()
}

/// Memristor network on `n` nodes with the given edges, devices and DC
/// series sources.
pub fn network(n: usize, edges: &[(usize, usize)], devs: &[MemristorParams], s: &[f64]) -> Network {
    Network {
        title: "test".into(),
        node_names: node_names(n),
        edges: edges
            .iter()
            .enumerate()
            .map(|(k, &(t, h))| Edge {
                name: format!("xm{k}").into(),
                tail: t,
                head: h,
                device: Device::Memristor(devs[k]),
                source: dc(s[k]),
                loc: None,
            })
            .collect(),
        ..Default::default()
    }
}

/// rows x cols grid, nodes n = cols r + c, edges row-major with, for each
/// node, the right edge then the down edge (theory.md E4).
pub fn grid_edges(rows: usize, cols: usize) -> Vec<(usize, usize)> {
    let mut e = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            let n = r * cols + c;
            if c + 1 < cols {
                e.push((n, n + 1));
            }
            if r + 1 < rows {
                e.push((n, n + cols));
            }
        }
    }
    e
}

/// A grid of uniform devices with random w0 in [0.2, 0.8] and a random DC
/// source on every edge (seeded).
pub fn random_grid(rows: usize, cols: usize, xi: f64, beta: f64, seed: u64) -> Network {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let edges = grid_edges(rows, cols);
    let devs: Vec<_> = edges
        .iter()
        .map(|_| dev(xi, beta, 0.0, rng.random_range(0.2..0.8)))
        .collect();
    let s: Vec<f64> = edges.iter().map(|_| rng.random_range(-1.0..1.0)).collect();
    network(rows * cols, &edges, &devs, &s)
}

/// Random connected graph (theory.md T0): a ring through all nodes plus
/// each other pair with probability p, random orientations.
pub fn random_graph_edges(n: usize, p: f64, rng: &mut ChaCha8Rng) -> Vec<(usize, usize)> {
    let mut e = Vec::new();
    let mut push = |a: usize, b: usize, rng: &mut ChaCha8Rng| {
        if rng.random_bool(0.5) {
            e.push((a, b))
        } else {
            e.push((b, a))
        }
    };
    for i in 0..n {
        push(i, (i + 1) % n, rng);
    }
    for i in 0..n {
        for j in i + 2..n {
            if !(i == 0 && j == n - 1) && rng.random_bool(p) {
                push(i, j, rng);
            }
        }
    }
    e
}

/// Full incidence B (N x M) as rows of a dense Vec (theory.md 2.2).
pub fn incidence(net: &Network) -> Vec<Vec<f64>> {
    let mut b = vec![vec![0.0; net.n_edges()]; net.n_nodes()];
    for (k, e) in net.edges.iter().enumerate() {
        if e.tail != e.head {
            b[e.tail][k] += 1.0;
            b[e.head][k] -= 1.0;
        }
    }
    b
}

pub fn matvec(a: &[Vec<f64>], x: &[f64]) -> Vec<f64> {
    a.iter()
        .map(|r| r.iter().zip(x).map(|(p, q)| p * q).sum())
        .collect()
}

pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// The reduced weighted Laplacian (node 0 grounded), upper CSC, assembled
/// independently of the solver.
pub fn laplacian(net: &Network) -> (usize, Vec<usize>, Vec<usize>, Vec<f64>) {
    let n = net.n_nodes() - 1;
    let mut entries: Vec<(usize, usize, f64)> = Vec::new();
    for e in &net.edges {
        let Device::Memristor(p) = e.device else {
            continue;
        };
        let g = 1.0 / (p.ron * (1.0 + p.xi() * p.w0));
        let (a, b) = (e.tail.checked_sub(1), e.head.checked_sub(1));
        if let Some(a) = a {
            entries.push((a, a, g));
        }
        if let Some(b) = b {
            entries.push((b, b, g));
        }
        if let (Some(a), Some(b)) = (a, b) {
            entries.push((a.max(b), a.min(b), -g));
        }
    }
    entries.sort_by_key(|e| (e.0, e.1));
    let mut col_ptr = vec![0usize; n + 1];
    let mut row_idx = Vec::new();
    let mut val: Vec<f64> = Vec::new();
    let mut last = (usize::MAX, usize::MAX);
    for (c, r, v) in entries {
        if (c, r) == last {
            *val.last_mut().unwrap() += v;
        } else {
            row_idx.push(r);
            val.push(v);
            col_ptr[c + 1] += 1;
            last = (c, r);
        }
    }
    for j in 0..n {
        col_ptr[j + 1] += col_ptr[j];
    }
    (n, col_ptr, row_idx, val)
}

/// The Yakopcic parameter set of Xyce's regression netlist
/// (`memristorYakopcic.cir`), x0 = 0.11: the worked example E9.
pub const YAKOPCIC: &[(&str, f64)] = memnet_solver::device::yakopcic::XYCE_REGRESSION_SET;

/// A law specification from literals (law name, word options, numbers).
pub fn law_spec(
    law: &str,
    options: &[(&str, &str)],
    params: &[(&str, f64)],
) -> memnet_graph::LawSpec {
    memnet_graph::LawSpec {
        law: law.into(),
        options: options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        params: params.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        tables: Vec::new(),
        loc: None,
        body: None,
    }
}

/// The networks the device-law cost is measured on (`benches/laws.rs`,
/// `examples/measure.rs laws`): `net` with memnet's linear law, with HP and
/// Biolek's window (p = 2, linear in v) and with Yakopcic's law (Xyce's
/// regression set from x0 = 0.5, solved by Newton), in that order.
pub fn law_variants(net: &Network) -> [Network; 3] {
    let with = |spec| {
        let mut out = net.clone();
        out.give_law(spec);
        out
    };
    let yakopcic: Vec<(&str, f64)> = YAKOPCIC
        .iter()
        .map(|&(k, v)| (k, if k == "xo" { 0.5 } else { v }))
        .collect();
    [
        net.clone(),
        with(law_spec("hp", &[("window", "biolek")], &[("p", 2.0)])),
        with(law_spec("yakopcic", &[], &yakopcic)),
    ]
}
