//! theory.md T0 (graph algebra) on random multigraphs with several
//! components, parallel edges and self-loops; E4 and T16 on grids.
//!
//! Tolerances: the theory quotes residuals <= 1.4e-15 for these sizes
//! (M <= 60, entries O(1)); 1e-12 leaves three orders of margin for the
//! different factorisation order while still catching any wrong sign or
//! missing cycle (which gives O(1) errors).

use std::sync::Arc;

use faer::Mat;
use memnet_graph::{
    GenSpec, GraphKind, Network, OmegaOperator, Topology, generate, random_connected_graph,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Disjoint union of networks (node names made unique).
fn union(parts: &[Network]) -> Network {
    let mut out = Network::default();
    for (i, p) in parts.iter().enumerate() {
        let off = out.node_names.len();
        out.node_names
            .extend(p.node_names.iter().map(|s| format!("c{i}_{s}")));
        for e in &p.edges {
            let mut e = e.clone();
            e.tail += off;
            e.head += off;
            out.edges.push(e);
        }
    }
    out
}

/// A random multigraph: 1-3 T0 components, extra parallel edges and
/// self-loops, sometimes an isolated node, edges shuffled.
fn test_graph(seed: u64) -> Network {
    let mut rng = ChaCha8Rng::seed_from_u64(1000 + seed);
    let parts: Vec<Network> = (0..rng.random_range(1..=3))
        .map(|c| random_connected_graph(seed * 10 + c, rng.random_range(3..=8), 0.4))
        .collect();
    let mut net = union(&parts);
    if seed % 4 == 0 {
        net.node_names.push("iso".into());
    }
    let n = net.n_nodes();
    for _ in 0..rng.random_range(1..=4) {
        let mut e = net.edges[rng.random_range(0..net.n_edges())].clone();
        if rng.random_bool(0.5) {
            // a self-loop at a random node
            let v = rng.random_range(0..n);
            e.tail = v;
            e.head = v;
        } else if rng.random_bool(0.5) {
            // a reversed parallel edge
            std::mem::swap(&mut e.tail, &mut e.head);
        }
        e.name = format!("xp{}", net.n_edges()).into();
        net.edges.push(e);
    }
    // Shuffle edge order so tree/chord positions are mixed.
    for k in (1..net.edges.len()).rev() {
        let j = rng.random_range(0..=k);
        net.edges.swap(k, j);
    }
    net
}

fn max_abs_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    let mut m: f64 = 0.0;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            m = m.max((a[(i, j)] - b[(i, j)]).abs());
        }
    }
    m
}

fn projector(x: &Mat<f64>) -> Mat<f64> {
    use faer::linalg::solvers::Solve;
    let gram = x * x.transpose();
    let sol = gram.llt(faer::Side::Lower).unwrap().solve(x);
    x.transpose() * &sol
}

#[test]
fn t0_graph_algebra_on_random_multigraphs() {
    for seed in 0..24 {
        let net = test_graph(seed);
        let t = Arc::new(Topology::new(&net));
        let (m, l) = (t.n_edges, t.n_cycles());
        assert_eq!(l, m + t.n_components - t.n_nodes);
        let a = t.cycle_basis();
        assert_eq!(a.n_cycles(), l, "seed {seed}");
        let a_dense = a.to_dense();
        let b = t.incidence().to_dense();
        // B A^T = 0 exactly (integer arithmetic in floating point).
        let bat = &b * a_dense.transpose();
        assert!(
            bat.col_iter().all(|c| c.iter().all(|&x| x == 0.0)),
            "seed {seed}: B A^T != 0"
        );
        // The sparse forms agree with the dense one.
        assert_eq!(a.to_sparse().to_dense(), a_dense);
        assert_eq!(
            a.transpose_sparse().to_dense(),
            a_dense.transpose().to_owned()
        );

        let om = t.omega_a_dense().unwrap();
        let ob = t.omega_bt_dense().unwrap();
        let id = Mat::<f64>::identity(m, m);
        assert!(max_abs_diff(&(&om + &ob), &id) < 1e-12, "seed {seed}: sum");
        assert!(
            max_abs_diff(&(&om * &om), &om) < 1e-12,
            "seed {seed}: idempotent"
        );
        assert!(max_abs_diff(&(&ob * &ob), &ob) < 1e-12);
        assert!(max_abs_diff(&om.transpose().to_owned(), &om) < 1e-12);
        let trace: f64 = (0..m).map(|k| om[(k, k)]).sum();
        assert!(
            (trace - l as f64).abs() < 1e-12,
            "seed {seed}: trace {trace} vs L {l}"
        );
        let sv = om.singular_values().unwrap();
        let rank = sv.iter().filter(|&&s| s > 1e-8).count();
        assert_eq!(rank, l, "seed {seed}: rank");

        // Change of cycle basis: T = random + L*I is strictly diagonally
        // dominant, hence invertible.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        if l > 0 {
            let tmat = Mat::<f64>::from_fn(l, l, |i, j| {
                rng.random_range(-1.0..1.0) + if i == j { l as f64 } else { 0.0 }
            });
            let om_t = projector(&(&tmat * &a_dense));
            assert!(
                max_abs_diff(&om_t, &om) < 1e-12,
                "seed {seed}: basis change"
            );
        }

        // Implicit operator = dense projector.
        let op = OmegaOperator::new(t.clone()).unwrap();
        for _ in 0..3 {
            let y: Vec<f64> = (0..m).map(|_| rng.random_range(-1.0..1.0)).collect();
            let got = op.apply_omega(&y);
            for i in 0..m {
                let want: f64 = (0..m).map(|j| om[(i, j)] * y[j]).sum();
                assert!((got[i] - want).abs() < 1e-12, "seed {seed}: apply_omega");
            }
            // Omega y lies in the cycle space: B Omega y = 0.
            let bo: f64 = (0..t.n_nodes)
                .map(|r| (0..m).map(|k| b[(r, k)] * got[k]).sum::<f64>().abs())
                .fold(0.0, f64::max);
            assert!(bo < 1e-12);
        }
    }
}

#[test]
fn test_graphs_cover_the_awkward_cases() {
    // The generator above must really produce what T0 is meant to cover.
    let (mut multi_comp, mut loops, mut parallel) = (0, 0, 0);
    for seed in 0..24 {
        let net = test_graph(seed);
        let t = Topology::new(&net);
        multi_comp += (t.n_components > 1) as usize;
        loops += net.edges.iter().any(|e| e.tail == e.head) as usize;
        let mut pairs: Vec<(usize, usize)> = net
            .edges
            .iter()
            .map(|e| (e.tail.min(e.head), e.tail.max(e.head)))
            .collect();
        pairs.sort();
        parallel += pairs.windows(2).any(|w| w[0] == w[1]) as usize;
    }
    assert!(
        multi_comp >= 8 && loops >= 8 && parallel >= 8,
        "{multi_comp} {loops} {parallel}"
    );
}

fn grid(rows: usize, cols: usize) -> Network {
    generate(&GenSpec::new(GraphKind::Grid {
        rows,
        cols,
        diagonals: false,
    }))
    .unwrap()
}

/// theory.md T16 on the 8x8 grid: max |Omega_ij| by line-graph distance.
#[test]
fn t16_locality_on_8x8_grid() {
    let net = grid(8, 8);
    let t = Topology::new(&net);
    let m = t.n_edges;
    assert_eq!(m, 112);
    let om = t.omega_a_dense().unwrap();
    let want = [
        0.4909, 0.3022, 0.1978, 0.0736, 0.0429, 0.0323, 0.0217, 0.0165, 0.0114,
    ];
    let mut best = [0.0f64; 9];
    for i in 0..m {
        // BFS in the line graph from edge i.
        let mut dist = vec![usize::MAX; m];
        dist[i] = 0;
        let mut queue = std::collections::VecDeque::from([i]);
        while let Some(e) = queue.pop_front() {
            for node in [t.tails[e], t.heads[e]] {
                for f in t.edges_at(node) {
                    if dist[f] == usize::MAX {
                        dist[f] = dist[e] + 1;
                        queue.push_back(f);
                    }
                }
            }
        }
        for j in 0..m {
            if dist[j] <= 8 {
                best[dist[j]] = best[dist[j]].max(om[(i, j)].abs());
            }
        }
    }
    for d in 0..9 {
        assert!(
            (best[d] - want[d]).abs() < 1e-3,
            "d = {d}: {} vs {}",
            best[d],
            want[d]
        );
        if d > 0 {
            assert!(best[d] <= best[d - 1]);
        }
    }
}

#[test]
fn e4_edge_order_and_omega_s() {
    let net = grid(3, 3);
    let pairs: Vec<(usize, usize)> = net.edges.iter().map(|e| (e.tail, e.head)).collect();
    assert_eq!(
        pairs,
        vec![
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
            (7, 8)
        ]
    );
    let op = OmegaOperator::new(Arc::new(Topology::new(&net))).unwrap();
    let mut s = vec![0.0; 12];
    s[0] = 1.0;
    let got = op.apply_omega(&s);
    let want = [7., -7., 2., 5., 2., -5., -2., -1., 1., 1., -2., -1.].map(|x| x / 24.0);
    for k in 0..12 {
        assert!((got[k] - want[k]).abs() < 1e-14);
    }
}

#[test]
fn laplacian_pattern_matches_br_diag_g_brt() {
    let net = test_graph(5);
    let t = Topology::new(&net);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let g: Vec<f64> = (0..t.n_edges).map(|_| rng.random_range(0.1..2.0)).collect();
    let lap = t.laplacian_pattern().matrix(&g).to_dense();
    let br = t.reduced_incidence().to_dense();
    let gm = Mat::<f64>::from_fn(t.n_edges, t.n_edges, |i, j| if i == j { g[i] } else { 0.0 });
    let want = &br * &gm * br.transpose();
    assert!(max_abs_diff(&lap, &want) < 1e-14);
    // The implicit products agree with the explicit B_r.
    let y: Vec<f64> = (0..t.n_edges)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let by = t.reduced_incidence_mul(&y);
    for r in 0..t.n_reduced() {
        let w: f64 = (0..t.n_edges).map(|k| br[(r, k)] * y[k]).sum();
        assert!((by[r] - w).abs() < 1e-14);
    }
}
