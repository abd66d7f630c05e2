//! Building a network and its topology at scale (theory.md 7: everything
//! O(M), millions of edges). The 1000 x 1000 grid has 1,998,000 edges.
//!
//! The end-to-end run including writing and parsing the netlist is the
//! example `big_grid` (run it under `/usr/bin/time -v` for peak memory).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use memnet_graph::{GenSpec, GraphKind, Network, Topology, generate};

fn grid(side: usize) -> Network {
    let mut spec = GenSpec::new(GraphKind::Grid {
        rows: side,
        cols: side,
        diagonals: false,
    });
    spec.sources = vec![(0, 1.0)];
    generate(&spec).expect("valid grid spec")
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("grid_1000x1000");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("generate", |b| b.iter(|| black_box(grid(1000))));
    let net = grid(1000);
    g.bench_function("topology_new", |b| {
        b.iter(|| black_box(Topology::new(black_box(&net))))
    });
    let circuit = net.to_circuit();
    g.bench_function("from_circuit", |b| {
        b.iter(|| black_box(Network::from_circuit(black_box(&circuit))))
    });
    g.bench_function("generate_and_topology", |b| {
        b.iter(|| {
            let n = grid(1000);
            black_box(Topology::new(&n))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
