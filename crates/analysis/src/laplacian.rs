//! Grounded (reduced) weighted Laplacian L_r = B_r diag(g) B_r^T and its
//! sparse Cholesky factor (theory.md 3.3 item 4), on the graph crate's
//! [`LaplacianPattern`]: the pattern and its symbolic factorisation are
//! built once per topology; each [`Laplacian::factor`] only refills values.
//!
//! The unweighted projectors Omega_A, Omega_{B^T} are
//! [`memnet_graph::OmegaOperator`].

use faer::Side;
use faer::linalg::solvers::Solve;
use faer::sparse::SparseColMatRef;
use faer::sparse::linalg::solvers::{Llt, SymbolicLlt};
use memnet_graph::{LaplacianPattern, Topology};

use crate::error::AnalysisError;

pub struct Laplacian {
    pattern: LaplacianPattern,
    /// `None` when N - p = 0 (nothing to solve).
    sym_llt: Option<SymbolicLlt<usize>>,
    values: Vec<f64>,
    llt: Option<Llt<usize, f64>>,
}

impl Laplacian {
    /// Pattern and symbolic Cholesky of B_r diag(g) B_r^T for `topo`.
    pub fn new(topo: &Topology) -> Result<Self, AnalysisError> {
        let pattern = topo.laplacian_pattern();
        let sym_llt = if topo.n_reduced() > 0 {
            Some(
                SymbolicLlt::try_new(pattern.symbolic.as_ref(), Side::Lower).map_err(|e| {
                    AnalysisError::Numerical(format!("symbolic Cholesky of the Laplacian: {e:?}"))
                })?,
            )
        } else {
            None
        };
        let values = vec![0.0; pattern.symbolic.row_idx().len()];
        Ok(Laplacian {
            pattern,
            sym_llt,
            values,
            llt: None,
        })
    }

    /// Factor B_r diag(g) B_r^T. Fails if it is not positive definite
    /// (some conductance not positive).
    pub fn factor(&mut self, g: &[f64]) -> Result<(), AnalysisError> {
        let Some(sym) = &self.sym_llt else {
            return Ok(());
        };
        self.pattern.fill_values(g, &mut self.values);
        let mat = SparseColMatRef::new(self.pattern.symbolic.as_ref(), &self.values);
        let llt = Llt::try_new_with_symbolic(sym.clone(), mat, Side::Lower).map_err(|_| {
            AnalysisError::Numerical(
                "the weighted Laplacian is not positive definite (a device has a \
                 non-positive resistance at this state)"
                    .into(),
            )
        })?;
        self.llt = Some(llt);
        Ok(())
    }

    /// Solves L_r phi = rhs in place (after [`Laplacian::factor`]).
    pub fn solve_in_place(&self, rhs: &mut [f64]) {
        if let Some(llt) = &self.llt {
            let col = faer::ColMut::from_slice_mut(rhs);
            llt.solve_in_place(col.as_mat_mut());
        }
    }
}
