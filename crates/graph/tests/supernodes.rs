//! Supernodes of ideal voltage sources (docs/engine.md): constraint trees,
//! offsets, the contracted topology, referenced components and loops, on
//! random networks with fixed seeds, checked against a plain union-find
//! written here, and the network handed to petgraph.

use memnet_graph::{
    Device, Edge, MemristorParams, Network, NodalTopology, PotentialConstraint, Topology,
    TopologyError,
};
use memnet_spice::Source;
use petgraph::unionfind::UnionFind;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn memristor() -> Device {
    Device::Memristor(MemristorParams {
        ron: 100.0,
        roff: 1000.0,
        w0: 0.5,
        alpha: 0.0,
        beta: 1.0,
        polarity: 1.0,
    })
}

/// A random multigraph on `n` nodes (node 0 named `0` when `grounded`)
/// with `m` edges and a random forest of `c` constraints.
fn random_network(rng: &mut ChaCha8Rng, n: usize, m: usize, c: usize, grounded: bool) -> Network {
    let mut names: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
    if grounded {
        names[0] = "0".into();
    }
    let edges = (0..m)
        .map(|k| Edge {
            name: format!("xm{k}").into(),
            tail: rng.random_range(0..n),
            head: rng.random_range(0..n),
            device: memristor(),
            source: None,
            loc: None,
        })
        .collect();
    // A forest: join random nodes not yet tied together.
    let mut tied = UnionFind::<usize>::new(n);
    let mut constraints = Vec::new();
    while constraints.len() < c {
        let (a, b) = (rng.random_range(0..n), rng.random_range(0..n));
        if tied.union(a, b) {
            constraints.push(PotentialConstraint {
                name: format!("v{}", constraints.len()),
                pos: a,
                neg: b,
                source: Source::dc(1.0),
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

/// `net` with one more constraint, across the ends of its first (a loop
/// of constraints), if it has one.
fn with_a_loop(net: &Network) -> Option<Network> {
    let k = net.constraints.first()?;
    let mut looped = net.clone();
    looped.constraints.push(PotentialConstraint {
        name: "vloop".into(),
        pos: k.neg,
        neg: k.pos,
        source: Source::dc(0.5),
        loc: None,
    });
    Some(looped)
}

#[test]
fn supernodes_offsets_and_contracted_topology_on_random_networks() {
    for seed in 0..24u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = rng.random_range(2..40);
        let m = rng.random_range(0..3 * n);
        let c = rng.random_range(0..n.min(12));
        let net = random_network(&mut rng, n, m, c, seed % 3 != 0);
        let t = Topology::new(&net);
        let sup = &t.supernodes;
        // A forest of c constraints on n nodes leaves n - c supernodes.
        assert_eq!(sup.count, n - c, "seed {seed}");
        assert_eq!(sup.links.len(), c);
        // Members of one supernode are exactly the nodes the constraints tie.
        let mut tied = UnionFind::<usize>::new(n);
        for k in &net.constraints {
            tied.union(k.pos, k.neg);
        }
        for a in 0..n {
            for b in 0..n {
                assert_eq!(
                    sup.of(a) == sup.of(b),
                    tied.equiv(a, b),
                    "seed {seed}: {a} {b}"
                );
            }
        }
        // Numbered in order of first member; each root is a member, node 0
        // when it is one (and named `0`), else the lowest member.
        let mut next = 0;
        for v in 0..n {
            if sup.of(v) == next {
                next += 1;
            }
            assert!(sup.of(v) < next);
        }
        for s in 0..sup.count {
            let members: Vec<usize> = (0..n).filter(|&v| sup.of(v) == s).collect();
            let want = if net.node_names[0] == "0" && members.contains(&0) {
                0
            } else {
                members[0]
            };
            assert_eq!(sup.root(s), want);
        }
        // Offsets reproduce every constraint value, and roots stay at 0.
        let values: Vec<f64> = (0..c).map(|_| rng.random_range(-5.0..5.0)).collect();
        let mut off = vec![0.0; n];
        sup.offsets(&values, &mut off);
        for (k, v) in net.constraints.iter().zip(&values) {
            assert!((off[k.pos] - off[k.neg] - v).abs() < 1e-12, "seed {seed}");
        }
        for s in 0..sup.count {
            assert_eq!(off[sup.root(s)], 0.0);
        }
        // The contracted topology: same edges between supernodes, its
        // components those of edges and constraints together.
        let q = t.contracted();
        assert_eq!(q.n_nodes, sup.count);
        assert_eq!(q.n_edges, m);
        for (k, e) in net.edges.iter().enumerate() {
            assert_eq!((q.tails[k], q.heads[k]), (sup.of(e.tail), sup.of(e.head)));
        }
        let mut joined = UnionFind::<usize>::new(n);
        for e in &net.edges {
            joined.union(e.tail, e.head);
        }
        for k in &net.constraints {
            joined.union(k.pos, k.neg);
        }
        for a in 0..n {
            for b in 0..n {
                assert_eq!(
                    q.component[sup.of(a)] == q.component[sup.of(b)],
                    joined.equiv(a, b)
                );
            }
        }
        // A component of the edges is referenced when constraints or edges
        // tie it to node 0.
        for v in 0..n {
            let want = net.node_names[0] == "0" && joined.equiv(v, 0);
            assert_eq!(t.component_referenced[t.component[v]], want, "seed {seed}");
        }
        // A constraint between two nodes of one supernode closes a loop and
        // is the one named.
        if let Some(looped) = with_a_loop(&net) {
            assert_eq!(
                Topology::try_new(&looped).unwrap_err(),
                TopologyError::VoltageSourceLoop { constraint: c }
            );
        }
    }
}

#[test]
fn without_constraints_the_contracted_topology_is_the_topology() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let net = random_network(&mut rng, 20, 50, 0, true);
    let t = Topology::new(&net);
    assert!(std::ptr::eq(t.contracted(), &t));
    assert_eq!(t.supernodes.count, 20);
    assert!((0..20).all(|v| t.supernodes.of(v) == v && t.supernodes.root(v) == v));
}

#[test]
fn bad_constraint_endpoints_are_errors() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut net = random_network(&mut rng, 5, 6, 1, true);
    net.constraints[0].neg = 9;
    assert_eq!(
        Topology::try_new(&net).unwrap_err(),
        TopologyError::BadConstraint {
            constraint: 0,
            node: 9,
            n_nodes: 5
        }
    );
}

/// `Network::to_petgraph`: node n is node n, edge k is edge k, and
/// petgraph's own algorithms agree with the topology.
#[test]
fn to_petgraph_keeps_indices_and_agrees_with_the_topology() {
    for seed in 0..8u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(100 + seed);
        let net = random_network(&mut rng, 30, 40, 0, true);
        let g = net.to_petgraph();
        assert_eq!(g.node_count(), 30);
        assert_eq!(g.edge_count(), 40);
        for (k, e) in net.edges.iter().enumerate() {
            let idx = petgraph::graph::EdgeIndex::new(k);
            let (a, b) = g.edge_endpoints(idx).unwrap();
            assert_eq!((a.index(), b.index()), (e.tail, e.head));
            assert_eq!(g[idx].name, e.name);
            assert_eq!(g[idx].edge, k);
        }
        for (v, name) in net.node_names.iter().enumerate() {
            assert_eq!(&g[petgraph::graph::NodeIndex::new(v)], name);
        }
        let t = Topology::new(&net);
        assert_eq!(petgraph::algo::connected_components(&g), t.n_components);
    }
}

/// `NodalTopology`, the part a nodal solve reads, is that of the full
/// topology: the same edges, supernodes and contracted graph, and the same
/// errors (a constraint loop, a bad endpoint).
#[test]
fn the_nodal_topology_is_the_topologys() {
    for seed in 0..24u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = rng.random_range(2..40);
        let m = rng.random_range(0..3 * n);
        let c = rng.random_range(0..n.min(12));
        let mut net = random_network(&mut rng, n, m, c, seed % 3 != 0);
        let t = Topology::new(&net);
        let nt = NodalTopology::try_new(&net).expect("topology");
        assert_eq!(matches!(nt, NodalTopology::Full(_)), c == 0, "seed {seed}");
        assert_eq!(nt.n_nodes(), t.n_nodes);
        assert_eq!((nt.tails(), nt.heads()), (&t.tails[..], &t.heads[..]));
        let (s, ns) = (&t.supernodes, nt.supernodes());
        assert_eq!(
            (ns.count, &ns.links, ns.n_constraints),
            (s.count, &s.links, s.n_constraints)
        );
        assert!((0..n).all(|v| ns.of(v) == s.of(v)), "seed {seed}");
        assert!((0..s.count).all(|k| ns.root(k) == s.root(k)), "seed {seed}");
        let (q, nq) = (t.contracted(), nt.contracted());
        assert_eq!((&nq.tails, &nq.heads), (&q.tails, &q.heads), "seed {seed}");
        assert_eq!(nq.reduced_index, q.reduced_index, "seed {seed}");
        assert_eq!(nq.component, q.component, "seed {seed}");
        assert_eq!(nq.ground, q.ground, "seed {seed}");
        if let Some(looped) = with_a_loop(&net) {
            assert_eq!(
                NodalTopology::try_new(&looped).unwrap_err(),
                Topology::try_new(&looped).unwrap_err()
            );
        }
        if m > 0 {
            net.edges[0].head = n + 3;
            assert_eq!(
                NodalTopology::try_new(&net).unwrap_err(),
                Topology::try_new(&net).unwrap_err()
            );
        }
    }
}
