//! One right-hand-side evaluation on a 300x300 grid for three device laws,
//! side by side in one run (issue "device laws", performance): memnet's
//! linear law, HP with Biolek's window (linear in v: target at most 1.2x
//! the linear law) and Yakopcic's (non-linear in v, solved by Newton:
//! target at most iterations + 0.3 factorisations per evaluation; the
//! bench prints both counts). Each evaluation starts from the previous
//! one's voltages, as in a run.
//!
//! `cargo bench -p memnet-solver --bench laws`

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use memnet_solver::MemoryRhs;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("laws_300x300");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(6));
    let net = common::random_grid(300, 300, 10.0, 1.0, 1);
    let [linear, biolek, yakopcic] = common::law_variants(&net);
    for (name, net) in [
        ("linear", &linear),
        ("hp_biolek", &biolek),
        ("yakopcic", &yakopcic),
    ] {
        let mut rhs = MemoryRhs::new(net, net.tran_times(1.0)).unwrap();
        let w = rhs.initial_state();
        let mut dw = vec![0.0; w.len()];
        rhs.eval(0.0, &w, &mut dw).unwrap();
        let (f0, n0, e0) = (
            rhs.factorizations(),
            rhs.newton_iterations(),
            rhs.evaluations(),
        );
        group.bench_function(name, |b| {
            b.iter(|| rhs.eval(0.0, black_box(&w), &mut dw).unwrap())
        });
        let evals = (rhs.evaluations() - e0).max(1) as f64;
        println!(
            "{name}: {:.2} factorisations and {:.2} Newton iterations per evaluation",
            (rhs.factorizations() - f0) as f64 / evals,
            (rhs.newton_iterations() - n0) as f64 / evals
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
