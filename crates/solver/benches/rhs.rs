//! One right-hand-side evaluation (sources, conductances, in-place
//! assembly, numeric Cholesky refactorisation, solve, currents, dw/dt)
//! against faer's bare numeric refactorisation + solve of the same
//! grounded Laplacian. Target: ratio <= 1.15.
//!
//! `cargo bench -p memnet-solver --bench rhs`

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::sparse::linalg::cholesky::{
    CholeskySymbolicParams, LltRef, SymmetricOrdering, factorize_symbolic_cholesky,
};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par, Side};
use memnet_solver::MemoryRhs;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("rhs");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(4));
    for rows in [100usize, 300] {
        let net = common::random_grid(rows, rows, 10.0, 1.0, 1);
        let mut rhs = MemoryRhs::new(&net, net.tran_times(1.0)).unwrap();
        let w = rhs.initial_state();
        let mut dw = vec![0.0; w.len()];
        group.bench_function(format!("memory_rhs_{rows}x{rows}"), |b| {
            b.iter(|| rhs.eval(0.0, black_box(&w), &mut dw).unwrap())
        });

        let (n, col_ptr, row_idx, val) = common::laplacian(&net);
        let sym = SymbolicSparseColMatRef::new_checked(n, n, &col_ptr, None, &row_idx);
        let symbolic = factorize_symbolic_cholesky(
            sym,
            Side::Upper,
            SymmetricOrdering::Amd,
            CholeskySymbolicParams::default(),
        )
        .unwrap();
        let mut mem = MemBuffer::new(StackReq::any_of(&[
            symbolic.factorize_numeric_llt_scratch::<f64>(Par::Seq, Default::default()),
            symbolic.solve_in_place_scratch::<f64>(1, Par::Seq),
        ]));
        let mut l = vec![0.0; symbolic.len_val()];
        let mut x = vec![1.0; n];
        group.bench_function(format!("faer_refactor_solve_{rows}x{rows}"), |b| {
            b.iter(|| {
                let a = SparseColMatRef::new(sym, &val);
                symbolic
                    .factorize_numeric_llt(
                        &mut l,
                        a,
                        Side::Upper,
                        Default::default(),
                        Par::Seq,
                        MemStack::new(&mut mem),
                        Default::default(),
                    )
                    .unwrap();
                let llt = LltRef::<'_, usize, f64>::new(&symbolic, &l);
                llt.solve_in_place_with_conj(
                    Conj::No,
                    MatMut::from_column_major_slice_mut(&mut x, n, 1),
                    Par::Seq,
                    MemStack::new(&mut mem),
                );
                black_box(&x);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
