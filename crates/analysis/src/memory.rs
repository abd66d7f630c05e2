//! Effective memory (theory.md 4.1): how many memory states are
//! independent, the N - p conserved charges (C1) and the reduced
//! L-dimensional dynamics (T12). Also the counts of the voltage-controlled
//! dual (3.6), where the roles of cycles and cuts swap.

use serde::Serialize;

use crate::dense;
use crate::dynamics::{Evaluator, Tolerance, Trajectory, integrate};
use crate::error::AnalysisError;
use crate::model::Model;
use crate::verdict::Verdict;
use memnet_graph::OmegaOperator;

/// Largest network (edges) for which dense M x M checks are run.
pub const DENSE_LIMIT: usize = 2000;

/// Counts of theory.md 2.1, 2.3 and 4.1 on the (constraint-contracted) graph.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemoryCounts {
    /// N: nodes after merging nodes tied by ideal voltage sources.
    pub nodes: usize,
    /// M: edges (memristors and fixed resistors).
    pub edges: usize,
    pub memristors: usize,
    pub resistors: usize,
    /// p: connected components.
    pub components: usize,
    /// L = M - N + p: independent loops.
    pub cycles: usize,
    /// N - p conserved charges B w (C1).
    pub conserved: usize,
    /// L dynamical memory directions Omega_A w.
    pub effective_memory: usize,
    /// Voltage-controlled dual (3.6): A w conserved, L laws ...
    pub dual_conserved: usize,
    /// ... and N - p dynamical directions.
    pub dual_effective_memory: usize,
}

/// theory.md 4.1: N, M, p, L and the split of the memory into conserved and
/// dynamical parts (and its swap for the dual model of 3.6).
pub fn memory_counts(model: &Model) -> MemoryCounts {
    MemoryCounts::of_graph(
        model.topo.n_nodes,
        model.n_edges(),
        model.topo.n_components,
        model.n_memristors(),
    )
}

impl MemoryCounts {
    /// The counts of a graph of `n` nodes (after merging supernodes), `m`
    /// edges of which `memristors` are memristors, and `p` components.
    pub fn of_graph(n: usize, m: usize, p: usize, memristors: usize) -> MemoryCounts {
        let l = m + p - n;
        MemoryCounts {
            nodes: n,
            edges: m,
            memristors,
            resistors: m - memristors,
            components: p,
            cycles: l,
            conserved: n - p,
            effective_memory: l,
            dual_conserved: l,
            dual_effective_memory: n - p,
        }
    }
}

/// Charge weights c_k = beta_k / ron_k relative to the first device: the
/// conserved quantity is B_r (c .* w), which is B_r w for uniform devices
/// (theory.md 4.1 generalised with 3.8).
fn charge_weights(model: &Model) -> Vec<f64> {
    let c0 = model.params(0);
    let c_ref = c0.beta / c0.ron;
    (0..model.n_memristors())
        .map(|s| {
            let p = model.params(s);
            p.beta / p.ron / c_ref
        })
        .collect()
}

/// The conserved charges q = B_r (c .* w) (one per non-ground node); for
/// uniform devices this is B_r w of theory.md (C1).
pub fn conserved_charges(model: &Model, proj: &OmegaOperator, w: &[f64]) -> Vec<f64> {
    let c = charge_weights(model);
    let mut y = vec![0.0; model.n_edges()];
    for (s, &k) in model.memristor_edges.iter().enumerate() {
        y[k] = c[s] * w[s];
    }
    proj.topology().reduced_incidence_mul(&y)
}

/// Number of quadrature intervals for time-dependent sources (Simpson).
const QUAD_INTERVALS: usize = 2000;

/// Composite Simpson weight (without h/3) of node i of 0..=n, n even.
fn simpson_weight(i: usize, n: usize) -> f64 {
    if i == 0 || i == n {
        1.0
    } else if i % 2 == 1 {
        4.0
    } else {
        2.0
    }
}

/// \int_0^t S'(s) ds per edge: exact for DC, composite Simpson otherwise.
pub fn source_integral(model: &Model, t: f64) -> Vec<f64> {
    if model
        .edges
        .iter()
        .all(|e| e.terms.iter().all(|x| x.waveform.is_constant()))
    {
        return model.sources_vec(0.0).iter().map(|s| s * t).collect();
    }
    let n = QUAD_INTERVALS;
    let h = t / n as f64;
    let mut acc = vec![0.0; model.n_edges()];
    let mut s = vec![0.0; model.n_edges()];
    for i in 0..=n {
        let wgt = simpson_weight(i, n);
        model.sources_at(i as f64 * h, &mut s);
        for (a, v) in acc.iter_mut().zip(&s) {
            *a += wgt * v * h / 3.0;
        }
    }
    acc
}

/// \int_0^t e^{alpha (t - s)} J_r(s) ds (reduced node vector).
fn injected_charge(model: &Model, t: f64, alpha: f64) -> Vec<f64> {
    let nn = model.topo.n_nodes;
    let mut j = vec![0.0; nn];
    let mut acc = vec![0.0; nn];
    if model.injections.iter().all(|i| i.waveform.is_constant()) {
        model.injections_at(0.0, &mut j);
        let f = if alpha == 0.0 {
            t
        } else {
            (alpha * t).exp_m1() / alpha
        };
        acc.iter_mut().zip(&j).for_each(|(a, v)| *a = f * v);
    } else {
        let n = QUAD_INTERVALS;
        let h = t / n as f64;
        for i in 0..=n {
            let wgt = simpson_weight(i, n);
            let s = i as f64 * h;
            model.injections_at(s, &mut j);
            let e = (alpha * (t - s)).exp();
            for (a, v) in acc.iter_mut().zip(&j) {
                *a += wgt * e * v * h / 3.0;
            }
        }
    }
    model.topo.reduced_nodes.iter().map(|&n| acc[n]).collect()
}

/// Why the charge law cannot be stated for this model, if it cannot.
pub fn charge_law_reason(model: &Model) -> Option<String> {
    if model.n_memristors() == 0 {
        return Some("the circuit has no memristors".into());
    }
    if let Some(e) = model
        .edges
        .iter()
        .find(|e| matches!(e.kind, crate::model::EdgeKind::Resistor { .. }))
    {
        return Some(format!(
            "fixed resistor {} carries charge that no memory variable records",
            crate::model::describe(&e.name, e.loc.as_ref())
        ));
    }
    let a0 = model.params(0).alpha;
    if let Some(s) = (0..model.n_memristors()).find(|&s| model.params(s).alpha != a0) {
        return Some(format!(
            "alpha is not uniform ({} has alpha = {}), so B w has no closed law",
            model.memristor_name(s),
            model.params(s).alpha
        ));
    }
    None
}

/// (C1) generalised (theory.md 4.1, 3.4, 3.8): with uniform alpha,
/// q(t) = e^{alpha t} q(0) - \int_0^t e^{alpha (t-s)} J_r(s) ds for
/// q = B_r (c .* w); checked at every sample of the trajectory.
/// Tolerance 1e-8 relative to the size of q (theory.md T3, accurate integrator).
pub fn check_charge_law(model: &Model, proj: &OmegaOperator, traj: &Trajectory) -> Verdict {
    if let Some(r) = charge_law_reason(model) {
        return Verdict::na(r);
    }
    if model.topo.n_reduced() == 0 {
        return Verdict::na("every component is a single node: there is no charge to conserve");
    }
    let p0 = model.params(0);
    let alpha = p0.alpha;
    // q is normalised by c_ref = beta_0/ron_0, so the injected charge is too.
    let inv_c_ref = p0.ron / p0.beta;
    let q0 = conserved_charges(model, proj, &traj.states[0]);
    let scale = 1.0 + dense::max_abs(&q0);
    let mut worst: f64 = 0.0;
    for (t, w) in traj.times.iter().zip(&traj.states).skip(1) {
        let q = conserved_charges(model, proj, w);
        let inj = injected_charge(model, *t, alpha);
        let e = (alpha * t).exp();
        for ((qi, q0i), ji) in q.iter().zip(&q0).zip(&inj) {
            worst = worst.max((qi - (e * q0i - inv_c_ref * ji)).abs());
        }
    }
    Verdict::from_residual(worst / scale, 1e-8)
}

/// Reduced L-dimensional dynamics (theory.md 4.1, T12): with Omega = Q Q^T,
/// w = e^{alpha t} Omega_{B^T} w(0) + Q z and
/// dz/dt = alpha z - (1/beta) Q^T (I + xi Omega W)^{-1} Omega S.
/// Integrates z and compares w with the full trajectory at every sample
/// (tolerance 1e-10 relative, T12).
pub fn check_reduced_dynamics(
    model: &Model,
    traj: &Trajectory,
    tol: Tolerance,
) -> Result<Verdict, AnalysisError> {
    let Some(u) = model.uniform() else {
        return Ok(Verdict::na(model.nonuniform_reason().unwrap_or_default()));
    };
    if let Some(r) = model.injection_reason() {
        return Ok(Verdict::na(r));
    }
    let m = model.n_edges();
    if m > DENSE_LIMIT {
        return Ok(Verdict::na(format!(
            "the dense basis Q needs an {m} x {m} eigendecomposition (limit {DENSE_LIMIT} edges)"
        )));
    }
    let obt = model.topo.omega_bt_dense()?;
    let omega = dense::omega_from_bt(obt.as_ref());
    let q = dense::range_basis(omega.as_ref())?;
    let l = q.ncols();
    let w0 = &traj.states[0];
    let slaved0 = dense::mat_vec(obt.as_ref(), w0);
    let z0: Vec<f64> = (0..l)
        .map(|j| (0..m).map(|i| q[(i, j)] * w0[i]).sum())
        .collect();
    let (t_last, _) = traj.last();
    let n_samples = traj.times.len() - 1;
    let lift = |t: f64, z: &[f64]| -> Vec<f64> {
        let e = (u.alpha * t).exp();
        (0..m)
            .map(|i| e * slaved0[i] + (0..l).map(|j| q[(i, j)] * z[j]).sum::<f64>())
            .collect()
    };
    if l == 0 || n_samples == 0 {
        // A forest: w(t) = e^{alpha t} w(0) exactly (theory.md 4.1).
        let mut worst: f64 = 0.0;
        for (t, w) in traj.times.iter().zip(&traj.states) {
            worst = worst.max(dense::max_abs_diff(w, &lift(*t, &[])));
        }
        return Ok(Verdict::from_residual(
            worst / (1.0 + dense::max_abs(w0)),
            1e-10,
        ));
    }
    let mut nodal = Evaluator::new(model)?;
    let red = integrate(
        |t, z, dz| {
            let w = lift(t, z);
            let i = nodal.currents(t, &w)?;
            // x = R_on i (theory.md 3.2).
            for (j, d) in dz.iter_mut().enumerate() {
                let qtx: f64 = (0..m).map(|k| q[(k, j)] * u.ron * i[k]).sum();
                *d = u.alpha * z[j] - qtx / u.beta;
            }
            Ok(())
        },
        &z0,
        t_last,
        n_samples,
        tol,
        false,
    )?;
    let mut worst: f64 = 0.0;
    for ((t, w), z) in traj.times.iter().zip(&traj.states).zip(&red.states) {
        worst = worst.max(dense::max_abs_diff(w, &lift(*t, z)));
    }
    Ok(Verdict::from_residual(
        worst / (1.0 + dense::max_abs(w0)),
        1e-10,
    ))
}

/// Right-hand side of the voltage-controlled dual (theory.md 3.6):
/// dw/dt = alpha w + (1/(beta_v G_on)) (I + eta Omega_{B^T} W)^{-1} Omega_{B^T} j.
pub fn dual_rhs(
    omega_bt: faer::MatRef<'_, f64>,
    w: &[f64],
    j: &[f64],
    eta: f64,
    alpha: f64,
    beta_v: f64,
    g_on: f64,
) -> Result<Vec<f64>, AnalysisError> {
    if j.len() != omega_bt.nrows() {
        return Err(AnalysisError::Invalid(format!(
            "current-source vector has {} entries, Omega_B^T is {} x {}",
            j.len(),
            omega_bt.nrows(),
            omega_bt.nrows()
        )));
    }
    let k = dense::memory_kernel(omega_bt, w, eta)?;
    let kj = dense::mat_vec(k.as_ref(), j);
    Ok(w.iter()
        .zip(&kj)
        .map(|(wi, v)| alpha * wi + v / (beta_v * g_on))
        .collect())
}
