//! Early checks of the topology on hand-made graphs (theory.md 2.2-2.4, E1-E4).

use std::sync::Arc;

use memnet_graph::{Device, Edge, MemristorParams, Network, OmegaOperator, Topology};

fn net(names: &[&str], edges: &[(usize, usize)]) -> Network {
    let p = MemristorParams {
        ron: 100.0,
        roff: 16000.0,
        w0: 0.5,
        alpha: 0.0,
        beta: 1.0,
        polarity: 1.0,
    };
    Network {
        node_names: names.iter().map(|s| s.to_string()).collect(),
        edges: edges
            .iter()
            .enumerate()
            .map(|(k, &(t, h))| Edge {
                name: format!("xm{k}").into(),
                tail: t,
                head: h,
                device: Device::Memristor(p),
                source: None,
                loc: None,
            })
            .collect(),
        ..Network::default()
    }
}

#[test]
fn components_grounds_and_reduced_numbering() {
    // Two components: {a, 0, b} (contains ground "0", index 1) and {c, d};
    // isolated node e. Ground of the first is "0", of the second "c".
    let n = net(
        &["a", "0", "b", "c", "d", "e"],
        &[(0, 1), (1, 2), (2, 0), (3, 4), (4, 4), (3, 4)],
    );
    let t = Topology::new(&n);
    assert_eq!(t.n_components, 3);
    assert_eq!(t.ground, vec![1, 3, 5]);
    assert_eq!(t.component, vec![0, 0, 0, 1, 1, 2]);
    assert_eq!(
        t.reduced_index,
        vec![Some(0), None, Some(1), None, Some(2), None]
    );
    assert_eq!(t.reduced_nodes, vec![0, 2, 4]);
    // L = M - N + p = 6 - 6 + 3 = 3: the triangle, the self-loop, the parallel pair.
    assert_eq!(t.n_cycles(), 3);
    assert_eq!(t.chords.len(), 3);
    let a = t.cycle_basis();
    assert_eq!(a.n_cycles(), 3);
    // B A^T = 0 exactly.
    let b = t.incidence().to_dense();
    let prod = &b * a.to_dense().transpose();
    assert!(prod.col_iter().all(|c| c.iter().all(|&x| x == 0.0)));
    // Self-loop column of B is zero, and it is a cycle by itself.
    assert!(b.col(4).iter().all(|&x| x == 0.0));
    assert!(
        (0..3).any(|c| a.cycle(c).collect::<Vec<_>>() == vec![(4, 1.0)]),
        "self-loop cycle missing"
    );
}

/// theory.md E4: 3x3 grid, diag(Omega) = 7/24 or 5/12, Omega e_0 given.
#[test]
fn e4_grid_projector() {
    let edges = [
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
    let names: Vec<String> = (0..9).map(|i| format!("n{i}")).collect();
    let names: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    let t = Arc::new(Topology::new(&net(&names, &edges)));
    assert_eq!(t.n_cycles(), 4);
    let om = t.omega_a_dense().unwrap();
    let ob = t.omega_bt_dense().unwrap();
    for k in 0..12 {
        let want = if [3, 5, 7, 8].contains(&k) {
            5.0 / 12.0
        } else {
            7.0 / 24.0
        };
        assert!((om[(k, k)] - want).abs() < 1e-14, "diag {k}");
        for j in 0..12 {
            let id = if j == k { 1.0 } else { 0.0 };
            assert!((om[(k, j)] + ob[(k, j)] - id).abs() < 1e-13);
        }
    }
    let op = OmegaOperator::new(t.clone()).unwrap();
    let mut s = vec![0.0; 12];
    s[0] = 1.0;
    let os = op.apply_omega(&s);
    let want = [7., -7., 2., 5., 2., -5., -2., -1., 1., 1., -2., -1.].map(|x| x / 24.0);
    for k in 0..12 {
        assert!((os[k] - want[k]).abs() < 1e-13, "Omega S [{k}] = {}", os[k]);
    }
}

#[test]
fn degenerate_networks() {
    // No nodes at all.
    let t = Topology::new(&Network::default());
    assert_eq!((t.n_components, t.n_cycles(), t.n_reduced()), (0, 0, 0));
    assert_eq!(t.cycle_basis().n_cycles(), 0);
    assert_eq!(t.omega_a_dense().unwrap().nrows(), 0);
    // Only self-loops: B = 0, Omega = I, and the implicit operator agrees.
    let n = net(&["0", "a"], &[(0, 0), (1, 1), (1, 1)]);
    let t = Arc::new(Topology::new(&n));
    assert_eq!((t.n_components, t.n_cycles(), t.n_reduced()), (2, 3, 0));
    let op = OmegaOperator::new(t.clone()).unwrap();
    assert_eq!(op.apply_omega(&[1.0, -2.0, 3.0]), vec![1.0, -2.0, 3.0]);
    let om = t.omega_a_dense().unwrap();
    for i in 0..3 {
        for j in 0..3 {
            assert_eq!(om[(i, j)], if i == j { 1.0 } else { 0.0 });
        }
    }
    // A tree has no cycles: Omega = 0.
    let n = net(&["x", "y", "z"], &[(0, 1), (2, 1)]);
    let t = Arc::new(Topology::new(&n));
    assert_eq!(t.n_cycles(), 0);
    let op = OmegaOperator::new(t).unwrap();
    assert!(op.apply_omega(&[1.0, 2.0]).iter().all(|x| x.abs() < 1e-15));
}

#[test]
fn bad_endpoints_are_reported_by_try_new() {
    let mut n = net(&["a", "b"], &[(0, 1)]);
    n.edges[0].head = 7;
    assert!(matches!(
        Topology::try_new(&n),
        Err(memnet_graph::TopologyError::BadEndpoint {
            edge: 0,
            node: 7,
            ..
        })
    ));
}
