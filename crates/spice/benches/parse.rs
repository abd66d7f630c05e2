//! Importer throughput on a generated canonical grid netlist with ~2
//! million memristor instances (1001 x 1001 nodes, 2,002,000 edges, about
//! 145 MB of text). Reports bytes/s for parse only (text -> Deck) and for
//! the full import (text -> flat Circuit).
//! `cargo bench -p memnet-spice --bench parse`

use std::fmt::Write;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use memnet_spice::{ImportOptions, import_str, parse_str};

/// An n x n grid: node (r, c) is `n<r*n+c>` (node 0 is ground), edges to
/// the right and down, each a canonical memristor; one DC source.
fn grid_netlist(n: usize) -> String {
    let mut s = String::with_capacity(n * n * 150);
    s.push_str("generated canonical grid\n.param ron=1 roff=11\nV0 m0 0 DC 1\n");
    let node = |k: usize| {
        if k == 0 {
            "0".to_string()
        } else {
            format!("n{k}")
        }
    };
    let mut e = 0usize;
    for r in 0..n {
        for c in 0..n {
            let u = r * n + c;
            for v in [(c + 1 < n).then(|| u + 1), (r + 1 < n).then(|| u + n)]
                .into_iter()
                .flatten()
            {
                let tail = if e == 0 { "m0".to_string() } else { node(u) };
                let w0 = format!("{:.3}", 0.05 + 0.9 * ((e * 7919) % 1000) as f64 / 1000.0);
                let _ = writeln!(
                    s,
                    "XM{e} {tail} {} memristor ron=1 roff=11 w0={w0} alpha=0 beta=10",
                    node(v)
                );
                e += 1;
            }
        }
    }
    s.push_str(".tran 0.01 1\n.end\n");
    s
}

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
