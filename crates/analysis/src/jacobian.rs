//! Jacobian of the memory equation and the reality of its spectrum
//! (theory.md 4.5): J(w) = alpha I + (xi/beta) K X, dense or column by
//! column through nodal solves (theory.md 7), theorems J1 and J2 as checks,
//! and the fixed-point spectrum formula.

use faer::linalg::solvers::{DenseSolveCore, Solve};
use faer::{Mat, MatRef, Side};
use serde::Serialize;

use crate::dense;
use crate::dynamics::Evaluator;
use crate::error::AnalysisError;
use crate::model::{EdgeKind, Model};
use crate::verdict::Verdict;

/// J(w) = alpha I + (xi/beta) K X with K = (I + xi Omega W)^{-1} Omega and
/// X = diag(K S) (theory.md 4.5), from the theory's own data. Works for any
/// signs of 1 + xi w as long as I + xi Omega W is invertible (example E5).
pub fn jacobian_from_omega(
    omega: MatRef<'_, f64>,
    w: &[f64],
    s: &[f64],
    xi: f64,
    alpha: f64,
    beta: f64,
) -> Result<Mat<f64>, AnalysisError> {
    let m = omega.nrows();
    if s.len() != m {
        return Err(AnalysisError::Invalid(format!(
            "source vector has {} entries, Omega is {m} x {m}",
            s.len()
        )));
    }
    let k = dense::memory_kernel(omega, w, xi)?;
    let x = dense::mat_vec(k.as_ref(), s);
    Ok(Mat::from_fn(m, m, |i, j| {
        f64::from(u8::from(i == j)) * alpha + xi / beta * k[(i, j)] * x[j]
    }))
}

/// Edge conductances G_k = 1/R_k at state w (any sign).
fn conductances(model: &Model, w: &[f64]) -> Vec<f64> {
    model
        .edges
        .iter()
        .map(|e| match e.kind {
            EdgeKind::Memristor { state, params } => {
                1.0 / (params.ron * (1.0 + params.xi * w[state]))
            }
            EdgeKind::Resistor { resistance } => 1.0 / resistance,
        })
        .collect()
}

/// Assembles J from the physical kernel Kphys (branch currents per unit
/// series source, symmetric) and the currents i:
/// J_mj = alpha_m delta_mj + (ron_m/beta_m) Kphys[k_m, k_j] ron_j xi_j i_{k_j}
/// (theory.md 4.5 with per-device parameters 3.8; for uniform devices this
/// is alpha I + (xi/beta) K X with K = ron Kphys, x = ron i).
fn assemble(model: &Model, kcol: impl Fn(usize, usize) -> f64, i: &[f64]) -> Mat<f64> {
    let nm = model.n_memristors();
    let scale_col: Vec<f64> = (0..nm)
        .map(|j| {
            let p = model.params(j);
            p.ron * p.xi * i[model.memristor_edges[j]]
        })
        .collect();
    Mat::from_fn(nm, nm, |m, j| {
        let p = model.params(m);
        let d = if m == j { p.alpha } else { 0.0 };
        d + p.ron / p.beta * kcol(model.memristor_edges[m], model.memristor_edges[j]) * scale_col[j]
    })
}

/// Dense Jacobian at (t, w), any network: Kphys = G - G B_r^T L^{-1} B_r G
/// with the dense weighted Laplacian L = B_r G B_r^T solved by LU, so states
/// with negative resistances are allowed as long as L is invertible.
pub fn jacobian_dense(model: &Model, t: f64, w: &[f64]) -> Result<Mat<f64>, AnalysisError> {
    let m = model.n_edges();
    let g = conductances(model, w);
    let b_r = model.topo.reduced_incidence().to_dense();
    let bg = Mat::from_fn(b_r.nrows(), m, |r, k| b_r[(r, k)] * g[k]);
    let kphys = if b_r.nrows() > 0 {
        let lap = &bg * b_r.transpose();
        // Cholesky when all conductances are positive (the usual case, and
        // much faster); LU with a residual check for mixed-sign states.
        let x = match lap.llt(Side::Lower) {
            Ok(llt) => llt.solve(&bg),
            Err(_) => {
                let x = lap.partial_piv_lu().solve(&bg);
                let resid = (&lap * &x - &bg).norm_max();
                if !resid.is_finite() || resid > 1e-8 * (1.0 + bg.norm_max() * x.norm_max()) {
                    return Err(AnalysisError::Numerical(format!(
                        "the weighted Laplacian is singular at this state (residual {resid:.3e})"
                    )));
                }
                x
            }
        };
        let corr = bg.transpose() * &x;
        Mat::from_fn(m, m, |a, b| {
            f64::from(u8::from(a == b)) * g[a] - corr[(a, b)]
        })
    } else {
        Mat::from_fn(m, m, |a, b| f64::from(u8::from(a == b)) * g[a])
    };
    // Currents i = Kphys S + (injection part): the injection part by one
    // more dense solve with the same Laplacian.
    let s = model.sources_vec(t);
    let mut i = dense::mat_vec(kphys.as_ref(), &s);
    if !model.injections.is_empty() && b_r.nrows() > 0 {
        let mut jn = vec![0.0; model.topo.n_nodes];
        model.injections_at(t, &mut jn);
        let mut jr = Mat::zeros(b_r.nrows(), 1);
        for (r, &n) in model.topo.reduced_nodes.iter().enumerate() {
            jr[(r, 0)] = jn[n];
        }
        let lap = &bg * b_r.transpose();
        let phi = lap.full_piv_lu().solve(&jr);
        let drop = b_r.transpose() * &phi;
        for k in 0..m {
            i[k] += g[k] * drop[(k, 0)];
        }
    }
    Ok(assemble(model, |a, b| kphys[(a, b)], &i))
}

/// The Jacobian column by column through nodal solves (theory.md 7): column
/// j needs Kphys e_{k_j}, one sparse solve with a unit source on edge k_j.
/// `sink(j, column)` receives each column; nothing M x M is stored, so this
/// scales to large networks. Needs positive conductances (Cholesky).
pub fn jacobian_columns(
    model: &Model,
    t: f64,
    w: &[f64],
    mut sink: impl FnMut(usize, &[f64]),
) -> Result<(), AnalysisError> {
    let mut nodal = Evaluator::new(model)?;
    let i = nodal.currents(t, w)?;
    let m = model.n_edges();
    let nm = model.n_memristors();
    let zero_j = vec![0.0; model.topo.n_nodes];
    let mut unit = vec![0.0; m];
    let mut kcol = vec![0.0; m];
    let mut col = vec![0.0; nm];
    for j in 0..nm {
        let kj = model.memristor_edges[j];
        unit[kj] = 1.0;
        nodal.currents_for(&unit, &zero_j, &mut kcol);
        unit[kj] = 0.0;
        let pj = model.params(j);
        let sc = pj.ron * pj.xi * i[kj];
        for (mi, c) in col.iter_mut().enumerate() {
            let p = model.params(mi);
            *c = p.ron / p.beta * kcol[model.memristor_edges[mi]] * sc;
        }
        col[j] += pj.alpha;
        sink(j, &col);
    }
    Ok(())
}

/// [`jacobian_columns`] assembled into a dense matrix.
pub fn jacobian_nodal(model: &Model, t: f64, w: &[f64]) -> Result<Mat<f64>, AnalysisError> {
    let nm = model.n_memristors();
    let mut jac = Mat::zeros(nm, nm);
    jacobian_columns(model, t, w, |j, col| {
        for (i, v) in col.iter().enumerate() {
            jac[(i, j)] = *v;
        }
    })?;
    Ok(jac)
}

/// Central differences of f at w with step h (theory.md T8 uses h = 1e-6).
pub fn finite_difference_jacobian(
    mut f: impl FnMut(&[f64], &mut [f64]) -> Result<(), AnalysisError>,
    w: &[f64],
    h: f64,
) -> Result<Mat<f64>, AnalysisError> {
    let n = w.len();
    let mut jac = Mat::zeros(n, n);
    let mut wp = w.to_vec();
    let mut fp = vec![0.0; n];
    let mut fm = vec![0.0; n];
    for j in 0..n {
        wp[j] = w[j] + h;
        f(&wp, &mut fp)?;
        wp[j] = w[j] - h;
        f(&wp, &mut fm)?;
        wp[j] = w[j];
        for i in 0..n {
            jac[(i, j)] = (fp[i] - fm[i]) / (2.0 * h);
        }
    }
    Ok(jac)
}

/// Eigenvalues (re, im), sorted by real part then imaginary part.
pub fn eigenvalues(j: MatRef<'_, f64>) -> Result<Vec<(f64, f64)>, AnalysisError> {
    if j.nrows() == 0 {
        return Ok(Vec::new());
    }
    let ev = j
        .eigenvalues()
        .map_err(|e| AnalysisError::Numerical(format!("eigenvalues of J: {e:?}")))?;
    let mut out: Vec<(f64, f64)> = ev.iter().map(|c| (c.re, c.im)).collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    Ok(out)
}

/// Largest |Im| of a spectrum.
pub fn max_imag(ev: &[(f64, f64)]) -> f64 {
    ev.iter().map(|e| e.1.abs()).fold(0.0, f64::max)
}

/// Result of a reality theorem at one state.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RealityCheck {
    /// Whether the theorem's hypothesis holds at this state.
    pub hypothesis: bool,
    /// What the hypothesis is and, if it fails, why.
    pub detail: String,
    /// Largest |Im| over the spectrum actually found.
    pub max_imag: f64,
    pub verdict: Verdict,
}

/// Whether a symmetric matrix is sign-definite, by its eigenvalues.
fn sign_definite(a: MatRef<'_, f64>) -> Result<bool, AnalysisError> {
    if a.nrows() == 0 {
        return Ok(true);
    }
    let ev = a
        .self_adjoint_eigenvalues(Side::Lower)
        .map_err(|e| AnalysisError::Numerical(format!("eigenvalues of A R A^T: {e:?}")))?;
    let scale = ev.iter().map(|x| x.abs()).fold(0.0, f64::max);
    let tiny = 1e-12 * scale;
    Ok(ev.iter().all(|&x| x > tiny) || ev.iter().all(|&x| x < -tiny))
}

/// Theorem J1 (theory.md 4.5): if the loop-resistance matrix A R A^T is
/// sign-definite, J(w) has a real spectrum. `spectrum` is that of J(w);
/// `resistances` R_k at w; `a` a cycle basis. Tolerance on |Im|:
/// 1e-8 (1 + max |lambda|), far above eigen-solver round-off (1e-15).
pub fn check_j1(
    a: MatRef<'_, f64>,
    resistances: &[f64],
    spectrum: &[(f64, f64)],
) -> Result<RealityCheck, AnalysisError> {
    let ara = Mat::from_fn(a.nrows(), a.nrows(), |p, q| {
        (0..a.ncols())
            .map(|k| a[(p, k)] * resistances[k] * a[(q, k)])
            .sum()
    });
    let definite = sign_definite(ara.as_ref())?;
    let mi = max_imag(spectrum);
    let scale = 1.0 + spectrum.iter().map(|e| e.0.hypot(e.1)).fold(0.0, f64::max);
    let n_neg = resistances.iter().filter(|&&r| r < 0.0).count();
    let n_pos = resistances.iter().filter(|&&r| r > 0.0).count();
    if definite {
        Ok(RealityCheck {
            hypothesis: true,
            detail: format!(
                "A R A^T is sign-definite ({n_pos} positive, {n_neg} negative resistances)"
            ),
            max_imag: mi,
            verdict: Verdict::from_residual(mi, 1e-8 * scale),
        })
    } else {
        let detail = format!(
            "A R A^T is indefinite ({n_pos} positive, {n_neg} negative resistances: a mixture \
             of passive and active devices); complex eigenvalues are possible, largest |Im| \
             found {mi:.6e}"
        );
        Ok(RealityCheck {
            hypothesis: false,
            detail: detail.clone(),
            max_imag: mi,
            verdict: Verdict::na(detail),
        })
    }
}

/// Theorem J1 on the theory's own data (uniform devices): R = I + xi W
/// (R_on = 1 cancels in sign-definiteness), cycle space from Omega.
pub fn check_j1_from_omega(
    omega: MatRef<'_, f64>,
    w: &[f64],
    xi: f64,
    spectrum: &[(f64, f64)],
) -> Result<RealityCheck, AnalysisError> {
    let q = dense::range_basis(omega)?;
    let r: Vec<f64> = w.iter().map(|x| 1.0 + xi * x).collect();
    check_j1(q.transpose(), &r, spectrum)
}

/// Fixed-point spectrum formula (theory.md 4.5): at a fixed point of the
/// uniform model J* = alpha (I + xi Omega W*)^{-1} (I + 2 xi Omega W*), with
/// eigenvalues alpha (1 + 2 xi lambda)/(1 + xi lambda), lambda in spec(Omega W*).
/// Returns (formula eigenvalues, max distance to eig of J*), both sorted.
/// Evaluates the identity at any w (the matrix J* there).
pub fn fixed_point_spectrum(
    omega: MatRef<'_, f64>,
    w: &[f64],
    xi: f64,
    alpha: f64,
) -> Result<(Vec<f64>, f64), AnalysisError> {
    let m = omega.nrows();
    let k = dense::memory_kernel(omega, w, xi)?;
    let jstar = Mat::from_fn(m, m, |i, j| {
        alpha * (f64::from(u8::from(i == j)) + xi * k[(i, j)] * w[j])
    });
    let ev = eigenvalues(jstar.as_ref())?;
    // spec(Omega W) = spec(W^{1/2} Omega W^{1/2}) when w >= 0; in general
    // the nonzero spectrum of Q^T W Q (real, theory.md 3.3).
    let q = dense::range_basis(omega)?;
    let l = q.ncols();
    let qwq = Mat::from_fn(l, l, |a, b| {
        (0..m).map(|i| q[(i, a)] * w[i] * q[(i, b)]).sum::<f64>()
    });
    let mut lambdas: Vec<f64> = if l > 0 {
        qwq.self_adjoint_eigenvalues(Side::Lower)
            .map_err(|e| AnalysisError::Numerical(format!("{e:?}")))?
    } else {
        Vec::new()
    };
    lambdas.resize(m, 0.0);
    let mut formula: Vec<f64> = lambdas
        .iter()
        .map(|&l| alpha * (1.0 + 2.0 * xi * l) / (1.0 + xi * l))
        .collect();
    formula.sort_by(f64::total_cmp);
    let worst = ev
        .iter()
        .zip(&formula)
        .map(|(e, f)| (e.0 - f).abs().max(e.1.abs()))
        .fold(0.0, f64::max);
    Ok((formula, worst))
}

/// J2 matrix (theory.md 4.5, heterogeneous devices at a fixed point):
/// J* = (I + Omega D)^{-1} (I + 2 Omega D) A_alpha, D = diag(xi_k w*_k).
pub fn j2_matrix(
    omega: MatRef<'_, f64>,
    w: &[f64],
    xi: &[f64],
    alpha: &[f64],
) -> Result<Mat<f64>, AnalysisError> {
    let m = omega.nrows();
    if w.len() != m || xi.len() != m || alpha.len() != m {
        return Err(AnalysisError::Invalid(format!(
            "w, xi and alpha need {m} entries each (got {}, {}, {})",
            w.len(),
            xi.len(),
            alpha.len()
        )));
    }
    let lhs = Mat::from_fn(m, m, |i, j| {
        f64::from(u8::from(i == j)) + omega[(i, j)] * xi[j] * w[j]
    });
    let rhs = Mat::from_fn(m, m, |i, j| {
        (f64::from(u8::from(i == j)) + 2.0 * omega[(i, j)] * xi[j] * w[j]) * alpha[j]
    });
    Ok(lhs.full_piv_lu().solve(&rhs))
}

/// Inverse helper for callers that need (I + xi Omega W)^{-1} itself.
pub fn inverse(a: MatRef<'_, f64>) -> Mat<f64> {
    a.full_piv_lu().inverse()
}

/// Newton's method for a fixed point f(w) = 0 from `w_start`, with the
/// dense Jacobian (small networks, DC sources). Returns the fixed point if
/// Newton converges (|f| <= 1e-12 scale) to a state inside [0, 1].
pub fn find_fixed_point(model: &Model, w_start: &[f64]) -> Option<Vec<f64>> {
    if w_start.is_empty() {
        return None;
    }
    let mut nodal = Evaluator::new(model).ok()?;
    let mut w = w_start.to_vec();
    let n = w.len();
    let mut f = vec![0.0; n];
    for _ in 0..40 {
        nodal.rhs(0.0, &w, &mut f).ok()?;
        let fmax = dense::max_abs(&f);
        let scale = (0..n)
            .map(|s| model.params(s).alpha.abs() + 1.0)
            .fold(0.0, f64::max);
        if fmax <= 1e-12 * scale {
            return w.iter().all(|x| (0.0..=1.0).contains(x)).then_some(w);
        }
        let jac = jacobian_dense(model, 0.0, &w).ok()?;
        let rhs = Mat::from_fn(n, 1, |i, _| -f[i]);
        let dw = jac.full_piv_lu().solve(&rhs);
        for i in 0..n {
            w[i] += dw[(i, 0)];
        }
        if !w.iter().all(|x| x.is_finite()) {
            return None;
        }
    }
    None
}
