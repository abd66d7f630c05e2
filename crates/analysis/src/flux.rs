//! The flux law (C2) and the strong-regime conservation law (theory.md 4.4).
//!
//! Both are stated in projector form (Omega y = 0 iff A y = 0), so they cost
//! one unweighted Laplacian solve per time and never need the cycle basis.

use crate::dense;
use crate::dynamics::Trajectory;
use crate::memory::source_integral;
use crate::model::{EdgeKind, Model, describe};
use crate::verdict::Verdict;
use memnet_graph::OmegaOperator;

/// Device flux Phi_k(w) = beta_k (w_k + xi_k w_k^2 / 2) on memristor edges
/// (integrated KVL: the flux of device k is -Phi_k + const, theory.md 4.4
/// with per-device parameters 3.8), zero on other edges.
pub fn device_flux(model: &Model, w: &[f64]) -> Vec<f64> {
    let mut phi = vec![0.0; model.n_edges()];
    for (s, &k) in model.memristor_edges.iter().enumerate() {
        let p = model.params(s);
        phi[k] = p.beta * (w[s] + 0.5 * p.xi * w[s] * w[s]);
    }
    phi
}

fn flux_reason(model: &Model) -> Option<String> {
    if model.n_memristors() == 0 {
        return Some("the circuit has no memristors".into());
    }
    model
        .edges
        .iter()
        .find(|e| matches!(e.kind, EdgeKind::Resistor { .. }))
        .map(|e| {
            format!(
                "fixed resistor {} has a voltage that is no function of a memory variable",
                describe(&e.name, e.loc.as_ref())
            )
        })
}

/// Residual of (C2) at time t for alpha = 0:
/// max |Omega [Phi(w(t)) - Phi(w(0)) + \int_0^t S]|, which is beta times the
/// theory's A(w + xi w^2/2)(t) - A(w + xi w^2/2)(0) + (1/beta) A \int S for
/// uniform devices.
pub fn flux_law_residual(
    model: &Model,
    proj: &OmegaOperator,
    w0: &[f64],
    wt: &[f64],
    t: f64,
) -> f64 {
    let f0 = device_flux(model, w0);
    let ft = device_flux(model, wt);
    let int_s = source_integral(model, t);
    let y: Vec<f64> = (0..model.n_edges())
        .map(|k| ft[k] - f0[k] + int_s[k])
        .collect();
    dense::max_abs(&proj.apply_omega(&y))
}

/// (C2) along a trajectory (theory.md 4.4, T4). For alpha = 0 it is checked
/// at every sample (tolerance 1e-8 relative to the flux scale, T4). For
/// alpha != 0 the differential form
/// d/dt Omega Phi = Omega[alpha_k beta_k (w + xi w^2)] - Omega S
/// is integrated over the samples by Simpson's rule and checked at the last
/// sample (tolerance 1e-7: the quadrature error of the sample grid).
pub fn check_flux_law(model: &Model, proj: &OmegaOperator, traj: &Trajectory) -> Verdict {
    if let Some(r) = flux_reason(model) {
        return Verdict::na(r);
    }
    let w0 = &traj.states[0];
    let (t_last, w_last) = traj.last();
    let int_s = source_integral(model, t_last);
    let scale = 1.0 + dense::max_abs(&device_flux(model, w0)) + dense::max_abs(&int_s);
    if model.alpha_zero() {
        let worst = traj
            .times
            .iter()
            .zip(&traj.states)
            .skip(1)
            .map(|(t, w)| flux_law_residual(model, proj, w0, w, *t))
            .fold(0.0, f64::max);
        return Verdict::from_residual(worst / scale, 1e-8);
    }
    let n = traj.times.len() - 1;
    if n < 2 {
        return Verdict::na("too few samples to integrate the alpha term");
    }
    // g_k(t) = alpha_k beta_k (w_k + xi_k w_k^2) on memristor edges.
    let g = |w: &[f64]| -> Vec<f64> {
        let mut out = vec![0.0; model.n_edges()];
        for (s, &k) in model.memristor_edges.iter().enumerate() {
            let p = model.params(s);
            out[k] = p.alpha * p.beta * (w[s] + p.xi * w[s] * w[s]);
        }
        out
    };
    let h = t_last / n as f64;
    let mut int_g = vec![0.0; model.n_edges()];
    let simpson = n % 2 == 0;
    for (i, w) in traj.states.iter().enumerate() {
        let wgt = if simpson {
            if i == 0 || i == n {
                h / 3.0
            } else if i % 2 == 1 {
                4.0 * h / 3.0
            } else {
                2.0 * h / 3.0
            }
        } else if i == 0 || i == n {
            h / 2.0
        } else {
            h
        };
        for (a, v) in int_g.iter_mut().zip(g(w)) {
            *a += wgt * v;
        }
    }
    let f0 = device_flux(model, w0);
    let ft = device_flux(model, w_last);
    let y: Vec<f64> = (0..model.n_edges())
        .map(|k| ft[k] - f0[k] - int_g[k] + int_s[k])
        .collect();
    Verdict::from_residual(dense::max_abs(&proj.apply_omega(&y)) / scale, 1e-7)
}

/// Absolute error of the strong-regime law at time t (theory.md 4.4, T10):
/// max |Omega(w^2)(t) - e^{2 alpha t} Omega(w^2)(0) + c(t) Omega S| with
/// c = (e^{2 alpha t} - 1)/(alpha xi beta), or 2t/(xi beta) at alpha = 0.
/// Needs uniform devices and DC sources (the caller checks).
pub fn strong_regime_error(
    proj: &OmegaOperator,
    s: &[f64],
    (alpha, xi, beta): (f64, f64, f64),
    w0: &[f64],
    wt: &[f64],
    t: f64,
) -> f64 {
    let sq = |w: &[f64]| proj.apply_omega(&w.iter().map(|x| x * x).collect::<Vec<_>>());
    let o0 = sq(w0);
    let ot = sq(wt);
    let os = proj.apply_omega(s);
    let e = (2.0 * alpha * t).exp();
    let c = if alpha == 0.0 {
        2.0 * t / (xi * beta)
    } else {
        (2.0 * alpha * t).exp_m1() / (alpha * xi * beta)
    };
    (0..ot.len())
        .map(|k| (ot[k] - e * o0[k] + c * os[k]).abs())
        .fold(0.0, f64::max)
}

/// The strong-regime law on the trajectory's last sample, as an
/// approximation: the error relative to the motion of Omega(w^2), against
/// the O(1/xi) the theory predicts. Reported for xi >= 10 only.
pub fn check_strong_regime(model: &Model, proj: &OmegaOperator, traj: &Trajectory) -> Verdict {
    let Some(u) = model.uniform() else {
        return Verdict::na(model.nonuniform_reason().unwrap_or_default());
    };
    if let Some(r) = model.time_dependent_reason() {
        return Verdict::na(r);
    }
    if let Some(r) = model.injection_reason() {
        return Verdict::na(r);
    }
    if u.xi < 10.0 {
        return Verdict::na(format!(
            "xi = {} is not in the strong regime (the law is O(1/xi); reported for xi >= 10)",
            u.xi
        ));
    }
    let (t, wt) = traj.last();
    if t == 0.0 {
        return Verdict::na("the trajectory has no interior samples");
    }
    let s = model.sources_vec(0.0);
    let w0 = &traj.states[0];
    let err = strong_regime_error(proj, &s, (u.alpha, u.xi, u.beta), w0, wt, t);
    let sq = |w: &[f64]| proj.apply_omega(&w.iter().map(|x| x * x).collect::<Vec<_>>());
    let motion = dense::max_abs_diff(&sq(wt), &sq(w0));
    Verdict::Approximate {
        error: if motion > 0.0 { err / motion } else { err },
        expected_order: 1.0 / u.xi,
    }
}

/// Integrability at alpha = 0 (theory.md 4.4, T5): w(t) without integrating
/// the ODE, by Newton's method on the M algebraic equations
///   B_r (c .* w)(t) = B_r (c .* w)(0)                   (C1, N - p rows)
///   A Phi(w(t)) = A Phi(w(0)) - A \int_0^t S            (C2, L rows)
/// with c_k = beta_k/ron_k and Phi of [`device_flux`]. Its Jacobian
/// [B_r C; A diag(beta (1 + xi w))] is nonsingular when all resistances are
/// positive. Dense (small networks), memristors only, no current sources.
pub fn integrated_kirchhoff_solution(
    model: &Model,
    w0: &[f64],
    t: f64,
) -> Result<Vec<f64>, crate::error::AnalysisError> {
    use crate::error::AnalysisError;
    use faer::Mat;
    use faer::linalg::solvers::Solve;
    if let Some(r) = flux_reason(model).or_else(|| model.injection_reason()) {
        return Err(AnalysisError::Invalid(r));
    }
    if !model.alpha_zero() {
        return Err(AnalysisError::Invalid(
            "the algebraic solution needs alpha = 0 for every device".into(),
        ));
    }
    let b_r = model.topo.reduced_incidence().to_dense();
    let a = model.topo.cycle_basis().to_dense();
    let m = model.n_edges();
    let (nr, l) = (b_r.nrows(), a.nrows());
    let c: Vec<f64> = (0..m)
        .map(|s| model.params(s).beta / model.params(s).ron)
        .collect();
    let cw = |w: &[f64]| -> Vec<f64> { w.iter().zip(&c).map(|(a, b)| a * b).collect() };
    let q0 = dense::mat_vec(b_r.as_ref(), &cw(w0));
    let int_s = source_integral(model, t);
    let f0 = device_flux(model, w0);
    let target: Vec<f64> = dense::mat_vec(a.as_ref(), &f0)
        .iter()
        .zip(dense::mat_vec(a.as_ref(), &int_s))
        .map(|(x, y)| x - y)
        .collect();
    let mut w = w0.to_vec();
    for _ in 0..50 {
        let q = dense::mat_vec(b_r.as_ref(), &cw(&w));
        let af = dense::mat_vec(a.as_ref(), &device_flux(model, &w));
        let resid: Vec<f64> = q
            .iter()
            .zip(&q0)
            .map(|(x, y)| x - y)
            .chain(af.iter().zip(&target).map(|(x, y)| x - y))
            .collect();
        let scale = 1.0 + dense::max_abs(&q0) + dense::max_abs(&target);
        if dense::max_abs(&resid) <= 1e-14 * scale {
            return Ok(w);
        }
        let jac = Mat::from_fn(nr + l, m, |r, k| {
            if r < nr {
                b_r[(r, k)] * c[k]
            } else {
                let p = model.params(k);
                a[(r - nr, k)] * p.beta * (1.0 + p.xi * w[k])
            }
        });
        let rhs = Mat::from_fn(nr + l, 1, |r, _| -resid[r]);
        let dw = jac.full_piv_lu().solve(&rhs);
        for (k, wk) in w.iter_mut().enumerate() {
            *wk += dw[(k, 0)];
        }
        if !w.iter().all(|x| x.is_finite()) {
            break;
        }
    }
    Err(AnalysisError::Numerical(
        "Newton on the integrated Kirchhoff laws did not converge".into(),
    ))
}
