//! The linearised regime (theory.md 4.3): the exact closed form at xi = 0
//! and the first-order-in-xi closed form with M_1 = alpha I + (xi/beta)
//! Omega diag(Omega S) (T11).

use faer::{Mat, MatRef};

use crate::dense;
use crate::dynamics::Trajectory;
use crate::error::AnalysisError;
use crate::memory::DENSE_LIMIT;
use crate::model::Model;
use crate::verdict::Verdict;
use memnet_graph::OmegaOperator;

/// Matrix exponential by scaling and squaring with a degree-24 Taylor
/// polynomial (the scaled norm is <= 1/2, so the truncation is below 1e-30
/// relative; small matrices only).
pub fn expm(a: MatRef<'_, f64>) -> Mat<f64> {
    let n = a.nrows();
    let norm: f64 = (0..n)
        .map(|i| (0..n).map(|j| a[(i, j)].abs()).sum::<f64>())
        .fold(0.0, f64::max);
    let mut s = 0i32;
    while norm / 2f64.powi(s) > 0.5 && s < 60 {
        s += 1;
    }
    let scale = 2f64.powi(-s);
    let a_s = Mat::from_fn(n, n, |i, j| a[(i, j)] * scale);
    let mut result = Mat::<f64>::identity(n, n);
    let mut term = Mat::<f64>::identity(n, n);
    for k in 1..=24 {
        term = &term * &a_s * (1.0 / k as f64);
        result += &term;
    }
    for _ in 0..s {
        result = &result * &result;
    }
    result
}

/// xi = 0 (theory.md 4.3): w(t) = e^{alpha t} w(0) - (e^{alpha t} - 1)/(alpha beta) Omega S,
/// or w(0) - t Omega S / beta at alpha = 0.
pub fn linear_closed_form(omega_s: &[f64], w0: &[f64], alpha: f64, beta: f64, t: f64) -> Vec<f64> {
    let e = (alpha * t).exp();
    let c = if alpha == 0.0 {
        t / beta
    } else {
        (alpha * t).exp_m1() / (alpha * beta)
    };
    w0.iter()
        .zip(omega_s)
        .map(|(w, os)| e * w - c * os)
        .collect()
}

/// First order in xi (theory.md 4.3): w(t) = e^{M_1 t} w(0) - (\int_0^t e^{M_1 s} ds) Omega S / beta,
/// M_1 = alpha I + (xi/beta) Omega diag(Omega S). The integral comes from
/// the exponential of the augmented matrix [[M_1, b], [0, 0]] t, which also
/// covers singular M_1 (always singular at alpha = 0).
pub fn first_order_closed_form(
    omega: MatRef<'_, f64>,
    s: &[f64],
    w0: &[f64],
    (alpha, xi, beta): (f64, f64, f64),
    t: f64,
) -> Result<Vec<f64>, AnalysisError> {
    let m = omega.nrows();
    if s.len() != m || w0.len() != m {
        return Err(AnalysisError::Invalid(format!(
            "S and w(0) need {m} entries (got {} and {})",
            s.len(),
            w0.len()
        )));
    }
    let os = dense::mat_vec(omega, s);
    let mut aug = Mat::<f64>::zeros(m + 1, m + 1);
    for i in 0..m {
        for j in 0..m {
            let d = if i == j { alpha } else { 0.0 };
            aug[(i, j)] = (d + xi / beta * omega[(i, j)] * os[j]) * t;
        }
        aug[(i, m)] = os[i] / beta * t;
    }
    let e = expm(aug.as_ref());
    Ok((0..m)
        .map(|i| (0..m).map(|j| e[(i, j)] * w0[j]).sum::<f64>() - e[(i, m)])
        .collect())
}

/// Compares the closed forms with the trajectory's last sample: exact at
/// xi = 0 (tolerance 1e-10, T11), an O(xi^2) approximation for |xi| <= 0.1.
pub fn check_linear_regime(model: &Model, proj: &OmegaOperator, traj: &Trajectory) -> Verdict {
    let Some(u) = model.uniform() else {
        return Verdict::na(model.nonuniform_reason().unwrap_or_default());
    };
    if let Some(r) = model.time_dependent_reason() {
        return Verdict::na(format!("{r}; the closed forms need DC sources"));
    }
    if let Some(r) = model.injection_reason() {
        return Verdict::na(r);
    }
    let (t, wt) = traj.last();
    let w0 = &traj.states[0];
    let s = model.sources_vec(0.0);
    if u.xi == 0.0 {
        let os = proj.apply_omega(&s);
        let wc = linear_closed_form(&os, w0, u.alpha, u.beta, t);
        return Verdict::from_residual(dense::max_abs_diff(&wc, wt), 1e-10);
    }
    if u.xi.abs() > 0.1 {
        return Verdict::na(format!(
            "xi = {} is not small (first-order closed form reported for |xi| <= 0.1)",
            u.xi
        ));
    }
    let m = model.n_edges();
    if m > DENSE_LIMIT {
        return Verdict::na(format!(
            "e^{{M_1 t}} is dense {m} x {m} (limit {DENSE_LIMIT} edges)"
        ));
    }
    let obt = match model.topo.omega_bt_dense() {
        Ok(obt) => obt,
        Err(e) => return Verdict::na(e.to_string()),
    };
    let omega = dense::omega_from_bt(obt.as_ref());
    let wc = match first_order_closed_form(omega.as_ref(), &s, w0, (u.alpha, u.xi, u.beta), t) {
        Ok(wc) => wc,
        Err(e) => return Verdict::na(e.to_string()),
    };
    Verdict::Approximate {
        error: dense::max_abs_diff(&wc, wt),
        expected_order: u.xi * u.xi,
    }
}
