//! Lyapunov functionals (theory.md 4.6): the exact L(w) for all xi and alpha
//! (b), E(w) = w^T Omega S at alpha = 0 (c), and the weak-regime F_1 (a);
//! evaluated along a trajectory with a monotonicity verdict (T6, T7).
//!
//! All need uniform devices and DC series sources (no current sources);
//! Omega enters only through products, so one Laplacian solve per
//! evaluation suffices ([`OmegaOperator`]).

use serde::Serialize;

use crate::dense;
use crate::dynamics::Trajectory;
use crate::model::{Model, Uniform};
use crate::verdict::Verdict;
use memnet_graph::OmegaOperator;

/// Theory data a functional needs: Omega S and the uniform parameters.
pub struct LyapunovData<'p> {
    pub proj: &'p OmegaOperator,
    pub omega_s: Vec<f64>,
    pub s: Vec<f64>,
    pub u: Uniform,
}

impl<'p> LyapunovData<'p> {
    pub fn new(proj: &'p OmegaOperator, s: Vec<f64>, u: Uniform) -> Self {
        let omega_s = proj.apply_omega(&s);
        LyapunovData {
            proj,
            omega_s,
            s,
            u,
        }
    }

    /// L(w) = -(alpha/3) sum w^3 - (alpha xi/4) (w^2)^T Omega (w^2)
    ///        + (1/(2 beta)) sum (Omega S)_k w_k^2      (theory.md 4.6 b).
    pub fn exact(&self, w: &[f64]) -> f64 {
        let Uniform {
            alpha, xi, beta, ..
        } = self.u;
        let w2: Vec<f64> = w.iter().map(|x| x * x).collect();
        let cubic: f64 = w.iter().map(|x| x * x * x).sum();
        let quartic: f64 = if alpha != 0.0 && xi != 0.0 {
            let ow2 = self.proj.apply_omega(&w2);
            w2.iter().zip(&ow2).map(|(a, b)| a * b).sum()
        } else {
            0.0
        };
        let quad: f64 = self.omega_s.iter().zip(&w2).map(|(a, b)| a * b).sum();
        -alpha / 3.0 * cubic - alpha * xi / 4.0 * quartic + quad / (2.0 * beta)
    }

    /// grad L = -alpha w^2 - alpha xi w .* Omega(w^2) + (1/beta) (Omega S) .* w.
    pub fn exact_gradient(&self, w: &[f64]) -> Vec<f64> {
        let Uniform {
            alpha, xi, beta, ..
        } = self.u;
        let w2: Vec<f64> = w.iter().map(|x| x * x).collect();
        let ow2 = self.proj.apply_omega(&w2);
        (0..w.len())
            .map(|k| -alpha * w2[k] - alpha * xi * w[k] * ow2[k] + self.omega_s[k] * w[k] / beta)
            .collect()
    }

    /// Pointwise identity (theory.md 4.6 b, T6):
    /// max |(W + xi W Omega W) f(w) + grad L(w)|.
    pub fn gradient_identity_residual(&self, w: &[f64], f: &[f64]) -> f64 {
        let wf: Vec<f64> = w.iter().zip(f).map(|(a, b)| a * b).collect();
        let owf = self.proj.apply_omega(&wf);
        let g = self.exact_gradient(w);
        (0..w.len())
            .map(|k| (w[k] * f[k] + self.u.xi * w[k] * owf[k] + g[k]).abs())
            .fold(0.0, f64::max)
    }

    /// E(w) = w^T Omega S (theory.md 4.6 c; a Lyapunov function at alpha = 0).
    pub fn energy(&self, w: &[f64]) -> f64 {
        w.iter().zip(&self.omega_s).map(|(a, b)| a * b).sum()
    }

    /// F_1(w) = (1/beta) [sum S_k w_k - (xi/2) sum (Omega S)_k w_k^2]
    /// (theory.md 4.6 a, weak regime, alpha = 0).
    pub fn weak(&self, w: &[f64]) -> f64 {
        let lin: f64 = self.s.iter().zip(w).map(|(a, b)| a * b).sum();
        let quad: f64 = self.omega_s.iter().zip(w).map(|(a, b)| a * b * b).sum();
        (lin - self.u.xi / 2.0 * quad) / self.u.beta
    }

    /// The weak flow -Omega grad F_1(w), grad F_1 = (S - xi (Omega S) .* w)/beta.
    pub fn weak_flow(&self, w: &[f64]) -> Vec<f64> {
        let g: Vec<f64> = (0..w.len())
            .map(|k| (self.s[k] - self.u.xi * self.omega_s[k] * w[k]) / self.u.beta)
            .collect();
        self.proj.apply_omega(&g).iter().map(|x| -x).collect()
    }
}

/// A functional sampled along a trajectory (plot data) with its verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FunctionalSeries {
    pub name: String,
    pub times: Vec<f64>,
    pub values: Vec<f64>,
    /// Non-increasing within tolerance (largest increase reported).
    pub monotone: Verdict,
}

/// Largest increase between consecutive samples, and the verdict with
/// tolerance 1e-12 (1 + max |value|): round-off in the sums, far below any
/// real increase.
pub fn monotonicity(values: &[f64]) -> Verdict {
    let worst = values
        .windows(2)
        .map(|p| (p[1] - p[0]).max(0.0))
        .fold(0.0, f64::max);
    let scale = 1.0 + dense::max_abs(values);
    Verdict::from_residual(worst, 1e-12 * scale)
}

/// Why no functional applies to this model, naming the first offender.
pub fn lyapunov_reason(model: &Model) -> Option<String> {
    if let Some(r) = model.nonuniform_reason() {
        return Some(r);
    }
    if let Some(r) = model.time_dependent_reason() {
        return Some(format!("{r}; the functionals need DC sources"));
    }
    model.injection_reason()
}

/// L, E and F_1 along the trajectory (theory.md 4.6, T6, T7).
pub fn lyapunov_series(
    model: &Model,
    proj: &OmegaOperator,
    traj: &Trajectory,
) -> Vec<FunctionalSeries> {
    let na = |name: &str, reason: String| FunctionalSeries {
        name: name.into(),
        times: Vec::new(),
        values: Vec::new(),
        monotone: Verdict::na(reason),
    };
    if let Some(r) = lyapunov_reason(model) {
        return vec![na("L", r.clone()), na("E", r.clone()), na("F1", r)];
    }
    let Some(u) = model.uniform() else {
        return Vec::new();
    };
    let data = LyapunovData::new(proj, model.sources_vec(0.0), u);
    let series = |name: &str, f: &dyn Fn(&[f64]) -> f64| {
        let values: Vec<f64> = traj.states.iter().map(|w| f(w)).collect();
        FunctionalSeries {
            name: name.into(),
            times: traj.times.clone(),
            monotone: monotonicity(&values),
            values,
        }
    };
    let mut out = vec![series("L", &|w| data.exact(w))];
    if u.alpha == 0.0 {
        out.push(series("E", &|w| data.energy(w)));
    } else {
        out.push(na("E", format!("E needs alpha = 0 (alpha = {})", u.alpha)));
    }
    if u.alpha != 0.0 {
        out.push(na(
            "F1",
            format!("F_1 needs alpha = 0 (alpha = {})", u.alpha),
        ));
    } else if u.xi.abs() > 0.1 {
        out.push(na(
            "F1",
            format!(
                "F_1 is first order in xi; xi = {} is not weak (|xi| <= 0.1)",
                u.xi
            ),
        ));
    } else {
        out.push(series("F1", &|w| data.weak(w)));
    }
    out
}
