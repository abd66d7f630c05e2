//! A compiled subcircuit body against the native law of the same model
//! (issue 11 target: at most 3x per evaluation): Biolek's HP subcircuit
//! (the LTspice form of tests/bodies.rs) and memnet's HP law with Biolek's
//! window, (a) one device's current, di/dv and state rate, (a') the same
//! as the engine asks for them (conductance, then the rate from what the
//! conductance kept), (b) one right-hand side of a 10x10 grid of them.
//!
//! `cargo bench -p memnet-solver --bench bodies`

use criterion::{Criterion, criterion_group, criterion_main};
#[path = "common/bodies.rs"]
mod common;

use common::grid;
use memnet_solver::{DeviceLaw, Laws, MemoryRhs};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("bodies");
    group.sample_size(20);
    group.measurement_time(std::time::Duration::from_secs(3));
    for (name, body) in [("body", true), ("native", false)] {
        let net = grid(10, body);
        let (laws, _) = Laws::from_network(&net).expect("laws");
        let x = laws.initial_state(0);
        group.bench_function(format!("law_eval_{name}"), |b| {
            b.iter(|| {
                let (i, g) = laws.current_and_conductance(0, x, black_box(0.3)).unwrap();
                black_box(g);
                black_box(laws.state_rate(0, x, 0.3, i))
            })
        });
        // As the engine evaluates a law linear in v: the conductance
        // before the network solve, the rate after it, sharing a memo.
        let mut memo = vec![0.0; laws.memo_len(0)];
        group.bench_function(format!("law_eval_engine_{name}"), |b| {
            b.iter(|| {
                let g = laws.conductance_keep(0, x, 0.0, &mut memo).unwrap();
                let v = black_box(0.3);
                black_box(laws.state_rate_kept(0, x, v, g * v, &memo))
            })
        });
        let mut rhs = MemoryRhs::new(&net, net.tran_times(1.0)).expect("rhs");
        let w = rhs.initial_state();
        let mut dw = vec![0.0; w.len()];
        group.bench_function(format!("rhs_grid10_{name}"), |b| {
            b.iter(|| rhs.eval(0.0, black_box(&w), &mut dw).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
