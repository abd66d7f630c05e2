//! Measures the adjacency `topology.rs` traverses: a petgraph
//! `UnGraph` (what `Topology` uses) against hand-written CSR arrays built
//! by counting sort, each with the BFS spanning forest `Topology` needs
//! (component, discovering edge, depth of every node, in BFS order). Side
//! by side in one process on an R x R grid, best of 3 each.
//!
//! Run: `cargo run --release -p memnet-graph --example bfs_petgraph -- 1000`

use std::time::{Duration, Instant};

use memnet_graph::{GenSpec, GraphKind, Topology, generate};
use petgraph::graph::{NodeIndex, UnGraph};
use petgraph::visit::EdgeRef;

fn best<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut out = None;
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed());
        out = Some(r);
    }
    (best, out.expect("ran"))
}

/// BFS forest over any adjacency: `edges_at(u)` lists the edge ids at u.
/// Returns (components, tree edges).
fn forest<I: Iterator<Item = usize>>(
    n: usize,
    tails: &[usize],
    heads: &[usize],
    edges_at: impl Fn(usize) -> I,
) -> (usize, usize) {
    let mut component = vec![usize::MAX; n];
    let mut parent_edge = vec![usize::MAX; n];
    let mut depth = vec![0usize; n];
    let mut order = Vec::with_capacity(n);
    let mut components = 0;
    for root in 0..n {
        if component[root] != usize::MAX {
            continue;
        }
        component[root] = components;
        let mut next = order.len();
        order.push(root);
        while next < order.len() {
            let u = order[next];
            next += 1;
            for k in edges_at(u) {
                let v = tails[k] + heads[k] - u;
                if component[v] == usize::MAX {
                    component[v] = components;
                    parent_edge[v] = k;
                    depth[v] = depth[u] + 1;
                    order.push(v);
                }
            }
        }
        components += 1;
    }
    let tree = parent_edge.iter().filter(|&&k| k != usize::MAX).count();
    (components, tree)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let side: usize = std::env::args().nth(1).map_or(Ok(1000), |s| s.parse())?;
    let net = generate(&GenSpec::new(GraphKind::Grid {
        rows: side,
        cols: side,
        diagonals: false,
    }))?;
    let n = net.n_nodes();
    let tails: Vec<usize> = net.edges.iter().map(|e| e.tail).collect();
    let heads: Vec<usize> = net.edges.iter().map(|e| e.head).collect();

    let (t_pg, pg) = best(|| {
        let mut g = UnGraph::<(), (), u32>::with_capacity(n, tails.len());
        for _ in 0..n {
            g.add_node(());
        }
        for (&t, &h) in tails.iter().zip(&heads) {
            g.add_edge(NodeIndex::new(t), NodeIndex::new(h), ());
        }
        forest(n, &tails, &heads, |u| {
            g.edges(NodeIndex::new(u)).map(|e| e.id().index())
        })
    });
    let (t_csr, csr) = best(|| {
        let mut ptr = vec![0usize; n + 1];
        for (&t, &h) in tails.iter().zip(&heads) {
            ptr[t + 1] += 1;
            ptr[h + 1] += 1;
        }
        for i in 0..n {
            ptr[i + 1] += ptr[i];
        }
        let mut fill = ptr.clone();
        let mut adj = vec![0usize; ptr[n]];
        for (k, (&t, &h)) in tails.iter().zip(&heads).enumerate() {
            adj[fill[t]] = k;
            fill[t] += 1;
            adj[fill[h]] = k;
            fill[h] += 1;
        }
        forest(n, &tails, &heads, |u| {
            adj[ptr[u]..ptr[u + 1]].iter().copied()
        })
    });
    let (t_topo, topo) = best(|| Topology::new(&net));
    assert_eq!(pg, csr);
    assert_eq!(pg, (topo.n_components, n - topo.n_components));
    println!("{side}x{side} grid, N = {n}, M = {}", tails.len());
    println!("petgraph UnGraph + BFS forest: {:.3} s", t_pg.as_secs_f64());
    println!(
        "CSR arrays + BFS forest:       {:.3} s",
        t_csr.as_secs_f64()
    );
    println!(
        "ratio petgraph / CSR: {:.2}; Topology::new in all: {:.3} s",
        t_pg.as_secs_f64() / t_csr.as_secs_f64(),
        t_topo.as_secs_f64()
    );
    Ok(())
}
