//! Dense linear algebra of the theory for small networks: the projectors
//! Omega_A and Omega_{B^T} (theory.md 2.4), the memory kernel
//! K(w) = (I + xi Omega W)^{-1} Omega (3.2-3.3) and small helpers.
//!
//! B, B_r, the cycle basis A and the dense Omega_{B^T} of the model's graph
//! come from [`memnet_graph::Topology`] (`reduced_incidence()`,
//! `cycle_basis()`, `omega_bt_dense()`); what is here works on any matrix
//! (a transformed basis T A, a reordered Omega) or has no graph counterpart.

use faer::linalg::solvers::{DenseSolveCore, Solve};
use faer::{Mat, MatRef, Side};

use crate::error::AnalysisError;

/// Omega_A = I - Omega_{B^T} (theory.md 2.4; Caravelli's own construction).
pub fn omega_from_bt(omega_bt: MatRef<'_, f64>) -> Mat<f64> {
    let m = omega_bt.nrows();
    Mat::from_fn(m, m, |i, j| f64::from(u8::from(i == j)) - omega_bt[(i, j)])
}

/// Omega_A = A^T (A A^T)^{-1} A from any cycle basis (theory.md 2.4).
pub fn omega_from_cycles(a: MatRef<'_, f64>) -> Result<Mat<f64>, AnalysisError> {
    let m = a.ncols();
    if a.nrows() == 0 {
        return Ok(Mat::zeros(m, m));
    }
    let gram = a * a.transpose();
    let llt = gram
        .llt(Side::Lower)
        .map_err(|_| AnalysisError::Numerical("cycle rows are linearly dependent".into()))?;
    let x = llt.solve(a);
    Ok(a.transpose() * &x)
}

/// K(w) = (I + xi Omega W)^{-1} Omega (theory.md 3.2), by an LU solve so it
/// also works for states with negative resistances (E5). Fails if
/// I + xi Omega W is numerically singular.
pub fn memory_kernel(
    omega: MatRef<'_, f64>,
    w: &[f64],
    xi: f64,
) -> Result<Mat<f64>, AnalysisError> {
    let m = omega.nrows();
    if w.len() != m {
        return Err(AnalysisError::Invalid(format!(
            "state has {} entries, Omega is {m} x {m}",
            w.len()
        )));
    }
    let lhs = Mat::from_fn(m, m, |i, j| {
        f64::from(u8::from(i == j)) + xi * omega[(i, j)] * w[j]
    });
    let lu = lhs.full_piv_lu();
    let k = lu.solve(omega);
    // A singular I + xi Omega W shows up as non-finite or inconsistent output.
    let resid = (&lhs * &k - omega).norm_max();
    if !resid.is_finite() || resid > 1e-8 * (1.0 + omega.norm_max() * k.norm_max()) {
        return Err(AnalysisError::Numerical(format!(
            "I + xi Omega W is singular at this state (residual {resid:.3e})"
        )));
    }
    Ok(k)
}

/// Orthonormal basis Q (M x L) of range(Omega), Omega = Q Q^T
/// (theory.md 4.1), from the eigenvectors with eigenvalue 1.
pub fn range_basis(omega: MatRef<'_, f64>) -> Result<Mat<f64>, AnalysisError> {
    let m = omega.nrows();
    let evd = omega
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| AnalysisError::Numerical(format!("eigendecomposition of Omega: {e:?}")))?;
    let s = evd.S();
    let u = evd.U();
    let cols: Vec<usize> = (0..m).filter(|&i| s[i] > 0.5).collect();
    Ok(Mat::from_fn(m, cols.len(), |i, j| u[(i, cols[j])]))
}

/// Inverse of a small square matrix (used for M_1^{-1} in theory.md 4.3).
pub fn inverse(a: MatRef<'_, f64>) -> Mat<f64> {
    a.full_piv_lu().inverse()
}

/// y = M x for a dense matrix and a slice.
pub fn mat_vec(m: MatRef<'_, f64>, x: &[f64]) -> Vec<f64> {
    (0..m.nrows())
        .map(|i| (0..m.ncols()).map(|j| m[(i, j)] * x[j]).sum())
        .collect()
}

/// max_i |a_i - b_i|.
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

pub fn max_abs(a: &[f64]) -> f64 {
    a.iter().map(|x| x.abs()).fold(0.0, f64::max)
}
