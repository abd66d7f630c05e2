//! The nodal matrix when it is not positive definite: faer's sparse LU with
//! partial pivoting, built from the same upper-triangular pattern the
//! Cholesky factor uses.
//!
//! The grounded weighted Laplacian B G B^T is positive definite while every
//! conductance is positive. Newton's matrix replaces a device's conductance
//! by its slope di/dv (docs/engine.md, "Newton"), and a compiled body can
//! have a negative slope (a negative resistor, a region of negative
//! differential resistance): the matrix is then symmetric but indefinite,
//! and Cholesky stops at a non-positive pivot. SPICE factors its matrix by
//! LU whatever its sign; memnet keeps Cholesky (half the work, no pivoting)
//! and falls back to this LU only for the factorisations where Cholesky
//! fails. The LU's symbolic analysis (COLAMD) runs once, the first time it
//! is needed; its numeric factor and scratch are kept after that (faer's
//! simplicial LU then allocates nothing more; its supernodal LU, chosen for
//! larger matrices, allocates inside each numeric factorisation).

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::sparse::SymbolicSparseColMat;
use faer::sparse::linalg::LuError;
use faer::sparse::linalg::lu::{LuRef, NumericLu, SymbolicLu, factorize_symbolic_lu};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par};

use crate::SolveError;

/// Sparse LU of the symmetric matrix whose upper triangle is given.
pub(crate) struct IndefiniteLu {
    /// Both triangles of the pattern, rows sorted within each column.
    full: SymbolicSparseColMat<usize>,
    /// For every entry of `full`, its slot in the upper triangle's values.
    from_upper: Vec<usize>,
    values: Vec<f64>,
    symbolic: SymbolicLu<usize>,
    numeric: NumericLu<usize, f64>,
    mem: MemBuffer,
}

impl IndefiniteLu {
    /// The full pattern of the symmetric matrix with upper triangle
    /// `upper`, and its symbolic LU.
    pub(crate) fn new(upper: SymbolicSparseColMatRef<'_, usize>) -> Result<Self, SolveError> {
        let n = upper.ncols();
        let (col_ptr, row_idx) = (upper.col_ptr(), upper.row_idx());
        // Column j holds its own upper rows (<= j) and, below them, the
        // columns c > j whose upper part has row j.
        let mut count = vec![0usize; n];
        for c in 0..n {
            for &r in &row_idx[col_ptr[c]..col_ptr[c + 1]] {
                count[c] += 1;
                if r != c {
                    count[r] += 1;
                }
            }
        }
        let mut full_ptr = vec![0usize; n + 1];
        for j in 0..n {
            full_ptr[j + 1] = full_ptr[j] + count[j];
        }
        let nnz = full_ptr[n];
        let mut full_row = vec![0usize; nnz];
        let mut from_upper = vec![0usize; nnz];
        // One pass in increasing column c: column c is still empty when
        // its upper rows (<= c) go in, and the mirror (c, r) of each lands
        // in column r < c after r's own, in increasing c. So every column's
        // rows stay sorted.
        let mut next = full_ptr[..n].to_vec();
        let mut put = |col: usize, row: usize, slot: usize| {
            full_row[next[col]] = row;
            from_upper[next[col]] = slot;
            next[col] += 1;
        };
        for c in 0..n {
            let range = col_ptr[c]..col_ptr[c + 1];
            for (slot, &r) in range.clone().zip(&row_idx[range]) {
                put(c, r, slot);
                if r != c {
                    put(r, c, slot);
                }
            }
        }
        let full = SymbolicSparseColMat::new_checked(n, n, full_ptr, None, full_row);
        let symbolic = factorize_symbolic_lu(full.as_ref(), Default::default())
            .map_err(|_| SolveError::OutOfMemory)?;
        let req = StackReq::any_of(&[
            symbolic.factorize_numeric_lu_scratch::<f64>(Par::Seq, Default::default()),
            symbolic.solve_in_place_scratch::<f64>(1, Par::Seq),
        ]);
        let mem = MemBuffer::try_new(req).map_err(|_| SolveError::OutOfMemory)?;
        Ok(IndefiniteLu {
            values: vec![0.0; nnz],
            full,
            from_upper,
            symbolic,
            numeric: NumericLu::new(),
            mem,
        })
    }

    /// Factors the matrix with upper-triangle values `upper` (in the
    /// pattern's order); on a singular matrix, the elimination step
    /// (an unknown in the pattern's numbering, approximately) where no
    /// pivot was found.
    pub(crate) fn factor(&mut self, upper: &[f64]) -> Result<(), usize> {
        for (v, &s) in self.values.iter_mut().zip(&self.from_upper) {
            *v = upper[s];
        }
        let a = SparseColMatRef::new(self.full.as_ref(), &self.values);
        let stack = MemStack::new(&mut self.mem);
        match self.symbolic.factorize_numeric_lu(
            &mut self.numeric,
            a,
            Par::Seq,
            stack,
            Default::default(),
        ) {
            Ok(_) => {}
            Err(LuError::SymbolicSingular { index }) => {
                return Err(self.symbolic.col_perm().arrays().0
                    [index.min(self.full.ncols().saturating_sub(1))]);
            }
            Err(LuError::Generic(_)) => return Err(0),
        }
        // faer reports a column with no pivot at all; a pivot that is zero
        // in value shows up as a non-finite solution, which the callers
        // check (the nodal solve's potentials, Newton's voltages).
        Ok(())
    }

    /// Solves A x = b in place with the last factor (the caller solves only
    /// after a successful [`IndefiniteLu::factor`]: `NodalSolver`'s
    /// `lu_active`).
    pub(crate) fn solve(&mut self, b: &mut [f64]) {
        // `numeric` is the output of `factorize_numeric_lu` on `full`'s
        // structure, as `new_unchecked` asks.
        let lu = LuRef::<'_, usize, f64>::new_unchecked(&self.symbolic, &self.numeric);
        let n = b.len();
        let rhs = MatMut::from_column_major_slice_mut(b, n, 1);
        let stack = MemStack::new(&mut self.mem);
        lu.solve_in_place_with_conj(Conj::No, rhs, Par::Seq, stack);
    }
}
