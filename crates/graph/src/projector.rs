//! The implicit cycle-space projector Omega = Omega_A for networks of any
//! size (theory.md 3.3 item 4):
//!
//! ```text
//! Omega y = y - B_r^T (B_r B_r^T)^{-1} B_r y,
//! ```
//!
//! one solve with the unweighted reduced Laplacian B_r B_r^T, factored once
//! with faer's sparse Cholesky and reused for every product.

use faer::MatMut;
use faer::linalg::solvers::Solve;
use faer::sparse::linalg::solvers::{Llt, SymbolicLlt};
use faer::{Side, sparse::SparseColMatRef};

use crate::topology::{Topology, TopologyError};

/// Omega applied without forming it: holds the Cholesky factor of the
/// unweighted reduced Laplacian.
#[derive(Clone, Debug)]
pub struct OmegaOperator {
    topo: std::sync::Arc<Topology>,
    /// `None` when N - p = 0 (no cut space: Omega = I).
    llt: Option<Llt<usize, f64>>,
}

impl OmegaOperator {
    /// Factors B_r B_r^T once. Cost: one sparse symbolic + numeric Cholesky.
    pub fn new(topo: std::sync::Arc<Topology>) -> Result<OmegaOperator, TopologyError> {
        let llt = if topo.n_reduced() == 0 {
            None
        } else {
            let pattern = topo.laplacian_pattern();
            let ones = vec![1.0; topo.n_edges];
            let val = pattern.values(&ones);
            let mat = SparseColMatRef::new(pattern.symbolic.as_ref(), &val);
            let la = |e: &dyn std::fmt::Display| TopologyError::LinearAlgebra(e.to_string());
            let sym = SymbolicLlt::try_new(pattern.symbolic.as_ref(), Side::Upper)
                .map_err(|e| la(&format!("{e:?}")))?;
            Some(Llt::try_new_with_symbolic(sym, mat, Side::Upper).map_err(|e| la(&e))?)
        };
        Ok(OmegaOperator { topo, llt })
    }

    pub fn topology(&self) -> &Topology {
        &self.topo
    }

    /// Solves (B_r B_r^T) phi = rhs in place (rhs in the reduced numbering).
    pub fn solve_laplacian_in_place(&self, rhs: &mut [f64]) {
        if let Some(llt) = &self.llt {
            let n = rhs.len();
            llt.solve_in_place(MatMut::from_column_major_slice_mut(rhs, n, 1));
        }
    }

    /// Omega_{B^T} y = B_r^T (B_r B_r^T)^{-1} B_r y (theory.md 2.4).
    pub fn apply_omega_bt(&self, y: &[f64]) -> Vec<f64> {
        let mut phi = self.topo.reduced_incidence_mul(y);
        self.solve_laplacian_in_place(&mut phi);
        self.topo.reduced_incidence_t_mul(&phi)
    }

    /// Omega y = y - Omega_{B^T} y (theory.md 3.3 item 4). `y` has length M.
    pub fn apply_omega(&self, y: &[f64]) -> Vec<f64> {
        let cut = self.apply_omega_bt(y);
        y.iter().zip(cut).map(|(a, b)| a - b).collect()
    }
}
