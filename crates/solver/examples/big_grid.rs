//! A 1000 x 1000 memristor grid (about 2M memristors): build, symbolic
//! analysis, then two RK4 steps (8 right-hand-side evaluations).
//!
//! `cargo run --release -p memnet-solver --example solver_big_grid [-- ROWS [amd|nd]]`
//! Measure peak memory with `/usr/bin/time -v`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use memnet_solver::{MemoryRhs, Ordering, Sampling, Stepper, integrate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1000);
    let ordering = match args.next().as_deref() {
        Some("nd") => Ordering::NestedDissection,
        _ => Ordering::Amd,
    };
    let t0 = Instant::now();
    let net = common::random_grid(rows, rows, 10.0, 1.0, 1);
    let t_net = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let mut rhs = MemoryRhs::with_ordering(&net, net.tran_times(1.0), ordering)?;
    let t_setup = t1.elapsed().as_secs_f64();
    let (a_nnz, l_nnz) = rhs.sparsity();
    println!(
        "grid {rows}x{rows}: {} memristors, {} unknowns, {ordering:?}, {} factor, nnz(L_upper) = {a_nnz}, nnz(factor) = {l_nnz}",
        rhs.n_memristors(),
        rhs.n_unknowns(),
        rhs.factor_kind()
    );
    println!("build network {t_net:.2} s, MemoryRhs::new (pattern + symbolic) {t_setup:.2} s");
    let mut w = rhs.initial_state();
    let dt = 1e-3;
    let t2 = Instant::now();
    let stats = integrate(
        &mut rhs,
        &mut w,
        0.0,
        2.0 * dt,
        &Stepper::Rk4 { dt },
        &Sampling::Ends,
        &mut |_, _| Ok(()),
        &mut |_, _| Ok(()),
    )?;
    let t_steps = t2.elapsed().as_secs_f64();
    println!(
        "2 RK4 steps: {t_steps:.2} s ({} evaluations, {:.3} s each, {:.3} s per step)",
        stats.rhs_evals,
        t_steps / stats.rhs_evals as f64,
        t_steps / stats.steps as f64
    );
    println!("total {:.2} s", t0.elapsed().as_secs_f64());
    // Sanity: the state moved and stayed finite.
    let moved = w
        .iter()
        .zip(rhs.initial_state())
        .filter(|(a, b)| *a != b)
        .count();
    println!(
        "dim {}, components changed {moved}, all finite {}",
        rhs.dim(),
        w.iter().all(|x| x.is_finite())
    );
    Ok(())
}
