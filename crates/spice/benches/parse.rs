//! Importer throughput on a generated canonical grid netlist with ~2
//! million memristor instances (1001 x 1001 nodes, 2,002,000 edges, about
//! 145 MB of text). Reports bytes/s for parse only (text -> Deck) and for
//! the full import (text -> flat Circuit).
//! `cargo bench -p memnet-spice --bench parse`

use std::hint::black_box;

mod common;

use common::grid_netlist;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use memnet_spice::{ImportOptions, import_str, parse_str};

fn bench(c: &mut Criterion) {
    let text = grid_netlist(1001);
    let mut g = c.benchmark_group("spice_2M_memristors");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("parse", |b| {
        b.iter(|| black_box(parse_str(black_box(&text), "grid.cir").map(|d| d.body.stmts.len())))
    });
    g.bench_function("import", |b| {
        b.iter(|| {
            black_box(
                import_str(black_box(&text), "grid.cir", &ImportOptions::default())
                    .map(|c| c.elements.len()),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
