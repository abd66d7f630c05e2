//! The memory equation evaluated in nodal form (theory.md 3.3 item 4 with
//! the generalisations 3.4 and 3.8) and a small adaptive integrator used to
//! produce the trajectories the checks are verified on.
//!
//! The analysis keeps its own evaluator rather than the solver crate's so
//! that it can evaluate the currents for *arbitrary* source vectors (the
//! Jacobian needs K e_k, theory.md 7) and transformed networks (symmetry
//! checks) with the same code.

use serde::Serialize;

use crate::error::AnalysisError;
use crate::laplacian::Laplacian;
use crate::model::{EdgeKind, Model};

/// Nodal evaluator of branch currents and dw/dt for a [`Model`].
pub struct Nodal<'m> {
    model: &'m Model,
    lap: Laplacian,
    ends: Vec<(Option<usize>, Option<usize>)>,
    g: Vec<f64>,
    s: Vec<f64>,
    jn: Vec<f64>,
    phi: Vec<f64>,
    i: Vec<f64>,
}

impl<'m> Nodal<'m> {
    pub fn new(model: &'m Model) -> Result<Self, AnalysisError> {
        let pairs: Vec<(usize, usize)> = model.edges.iter().map(|e| (e.tail, e.head)).collect();
        let lap = Laplacian::new(&model.topo, &pairs)?;
        let ends = (0..pairs.len()).map(|k| lap.ends(k)).collect();
        Ok(Nodal {
            model,
            lap,
            ends,
            g: vec![0.0; pairs.len()],
            s: vec![0.0; pairs.len()],
            jn: vec![0.0; model.topo.n_nodes],
            phi: Vec::new(),
            i: vec![0.0; pairs.len()],
        })
    }

    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// Conductances G_k = 1/(ron_k (1 + xi_k w_k)) (1/R for resistors) and
    /// the factorisation of B_r G B_r^T.
    pub fn factor_at(&mut self, w: &[f64]) -> Result<(), AnalysisError> {
        for (e, g) in self.model.edges.iter().zip(self.g.iter_mut()) {
            *g = match e.kind {
                EdgeKind::Memristor { state, params } => {
                    1.0 / (params.ron * (1.0 + params.xi * w[state]))
                }
                EdgeKind::Resistor { resistance } => 1.0 / resistance,
            };
        }
        self.lap.factor(&self.g)
    }

    /// Conductances of the last [`Nodal::factor_at`].
    pub fn conductances(&self) -> &[f64] {
        &self.g
    }

    /// Branch currents i = G (S + B^T phi) with B_r G B_r^T phi = J_r - B_r G S
    /// (theory.md 3.3 item 4, 3.4), for a given source vector `s` (all edges)
    /// and node injections `jn`, at the last factored state.
    pub fn currents_for(&mut self, s: &[f64], jn: &[f64], out: &mut [f64]) {
        let nr = self.lap.n_reduced();
        self.phi.clear();
        self.phi.resize(nr, 0.0);
        for (n, r) in self.model.topo.reduced.iter().enumerate() {
            if let Some(r) = r {
                self.phi[*r] = jn[n];
            }
        }
        for (k, &(a, b)) in self.ends.iter().enumerate() {
            if a == b {
                continue;
            }
            let gs = self.g[k] * s[k];
            if let Some(a) = a {
                self.phi[a] -= gs;
            }
            if let Some(b) = b {
                self.phi[b] += gs;
            }
        }
        self.lap.solve_in_place(&mut self.phi);
        for (k, &(a, b)) in self.ends.iter().enumerate() {
            let drop = if a == b {
                0.0
            } else {
                a.map_or(0.0, |a| self.phi[a]) - b.map_or(0.0, |b| self.phi[b])
            };
            out[k] = self.g[k] * (s[k] + drop);
        }
    }

    /// Currents of every edge at (t, w).
    pub fn currents(&mut self, t: f64, w: &[f64]) -> Result<Vec<f64>, AnalysisError> {
        self.factor_at(w)?;
        self.model.sources_at(t, &mut self.s);
        self.model.injections_at(t, &mut self.jn);
        let s = std::mem::take(&mut self.s);
        let jn = std::mem::take(&mut self.jn);
        let mut i = std::mem::take(&mut self.i);
        self.currents_for(&s, &jn, &mut i);
        let out = i.clone();
        self.s = s;
        self.jn = jn;
        self.i = i;
        Ok(out)
    }

    /// dw/dt = alpha_k w_k - (ron_k/beta_k) i_k (theory.md 1.2, 3.8; polarity
    /// is normalised to +1 by the model).
    pub fn rhs(&mut self, t: f64, w: &[f64], dw: &mut [f64]) -> Result<(), AnalysisError> {
        let i = self.currents(t, w)?;
        for (st, &k) in self.model.memristor_edges.iter().enumerate() {
            let p = self.model.params(st);
            dw[st] = p.alpha * w[st] - p.ron / p.beta * i[k];
        }
        Ok(())
    }
}

/// Error tolerances of the adaptive integrator.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Tolerance {
    pub rtol: f64,
    pub atol: f64,
}

impl Default for Tolerance {
    /// Tight enough for the 1e-8 checks of theory.md section 5.
    fn default() -> Self {
        Tolerance {
            rtol: 1e-11,
            atol: 1e-13,
        }
    }
}

/// Where a trajectory first left [0, 1].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BoundExit {
    /// End of the step on which some w_k left [0, 1].
    pub t: f64,
    pub state: usize,
    pub device: String,
}

/// Sampled solution. Only samples strictly before a bound exit are kept:
/// the theory's exact results hold only inside (0, 1) (theory.md 1.3).
#[derive(Clone, Debug, Serialize)]
pub struct Trajectory {
    pub times: Vec<f64>,
    pub states: Vec<Vec<f64>>,
    pub exit: Option<BoundExit>,
    pub steps: usize,
    pub rejected: usize,
    pub rhs_evals: usize,
}

impl Trajectory {
    pub fn last(&self) -> (f64, &[f64]) {
        let n = self.times.len() - 1;
        (self.times[n], &self.states[n])
    }
}

/// Dormand-Prince 5(4) with step clamping onto `n_samples + 1` equally spaced
/// sample times in [0, t_end]. `f` may fail (e.g. a non-positive resistance
/// in a trial stage); the step is then halved. If `unit_box` is set,
/// integration stops at the first step that leaves [0, 1].
pub fn integrate<F>(
    mut f: F,
    y0: &[f64],
    t_end: f64,
    n_samples: usize,
    tol: Tolerance,
    unit_box: bool,
) -> Result<Trajectory, AnalysisError>
where
    F: FnMut(f64, &[f64], &mut [f64]) -> Result<(), AnalysisError>,
{
    if !(t_end.is_finite() && t_end > 0.0) {
        return Err(AnalysisError::Invalid(format!(
            "end time must be positive and finite (got {t_end})"
        )));
    }
    let n_samples = n_samples.max(1);
    const C: [f64; 7] = [0.0, 0.2, 0.3, 0.8, 8.0 / 9.0, 1.0, 1.0];
    const A: [[f64; 6]; 7] = [
        [0.0; 6],
        [0.2, 0.0, 0.0, 0.0, 0.0, 0.0],
        [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
        [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
        [
            19372.0 / 6561.0,
            -25360.0 / 2187.0,
            64448.0 / 6561.0,
            -212.0 / 729.0,
            0.0,
            0.0,
        ],
        [
            9017.0 / 3168.0,
            -355.0 / 33.0,
            46732.0 / 5247.0,
            49.0 / 176.0,
            -5103.0 / 18656.0,
            0.0,
        ],
        [
            35.0 / 384.0,
            0.0,
            500.0 / 1113.0,
            125.0 / 192.0,
            -2187.0 / 6784.0,
            11.0 / 84.0,
        ],
    ];
    // 5th-order weights are A[6]; E = b5 - b4.
    const E: [f64; 7] = [
        71.0 / 57600.0,
        0.0,
        -71.0 / 16695.0,
        71.0 / 1920.0,
        -17253.0 / 339200.0,
        22.0 / 525.0,
        -1.0 / 40.0,
    ];
    let n = y0.len();
    let mut y = y0.to_vec();
    let mut t = 0.0;
    let mut k: Vec<Vec<f64>> = vec![vec![0.0; n]; 7];
    let mut ytmp = vec![0.0; n];
    let mut ynew = vec![0.0; n];
    let mut traj = Trajectory {
        times: vec![0.0],
        states: vec![y.clone()],
        exit: None,
        steps: 0,
        rejected: 0,
        rhs_evals: 0,
    };
    f(t, &y, &mut k[0])?;
    traj.rhs_evals += 1;
    let mut h = t_end / n_samples as f64 / 10.0;
    let mut next = 1usize;
    let min_h = t_end * 1e-14;
    while next <= n_samples {
        let t_sample = t_end * next as f64 / n_samples as f64;
        let mut hit = false;
        if t + h >= t_sample - 1e-14 * t_end {
            h = t_sample - t;
            hit = true;
        }
        // Stages 2..7.
        let mut stage_failed = false;
        for s in 1..7 {
            for i in 0..n {
                let mut acc = y[i];
                for (j, kj) in k.iter().enumerate().take(s) {
                    acc += h * A[s][j] * kj[i];
                }
                ytmp[i] = acc;
            }
            let (head, tail) = k.split_at_mut(s);
            let _ = head;
            traj.rhs_evals += 1;
            if f(t + C[s] * h, &ytmp, &mut tail[0]).is_err() {
                stage_failed = true;
                break;
            }
            if s == 6 {
                ynew.copy_from_slice(&ytmp);
            }
        }
        if stage_failed {
            traj.rejected += 1;
            h *= 0.25;
            if h < min_h {
                return Err(AnalysisError::Numerical(format!(
                    "the memory equation could not be evaluated near t = {t:.6e}"
                )));
            }
            continue;
        }
        let mut err = 0.0;
        for i in 0..n {
            let mut e = 0.0;
            for (j, kj) in k.iter().enumerate() {
                e += E[j] * kj[i];
            }
            let sc = tol.atol + tol.rtol * y[i].abs().max(ynew[i].abs());
            err += (h * e / sc).powi(2);
        }
        let err = if n > 0 { (err / n as f64).sqrt() } else { 0.0 };
        if !err.is_finite() || err > 1.0 {
            traj.rejected += 1;
            let fac = if err.is_finite() {
                (0.9 * err.powf(-0.2)).max(0.2)
            } else {
                0.25
            };
            h *= fac;
            if h < min_h {
                return Err(AnalysisError::Numerical(format!(
                    "step size underflow near t = {t:.6e}"
                )));
            }
            continue;
        }
        traj.steps += 1;
        let h_used = h;
        t = if hit { t_sample } else { t + h_used };
        std::mem::swap(&mut y, &mut ynew);
        // FSAL: the last stage is f(t + h, y_new).
        let last = k[6].clone();
        k[0].copy_from_slice(&last);
        let fac = if err > 0.0 {
            (0.9 * err.powf(-0.2)).clamp(0.2, 5.0)
        } else {
            5.0
        };
        h = h_used * fac;
        if unit_box && let Some(s) = y.iter().position(|&v| !(0.0..=1.0).contains(&v)) {
            traj.exit = Some(BoundExit {
                t,
                state: s,
                device: String::new(),
            });
            return Ok(traj);
        }
        if hit {
            traj.times.push(t);
            traj.states.push(y.clone());
            next += 1;
        }
    }
    Ok(traj)
}

/// Integrates the memory equation of `model` from w(0), stopping at the
/// first exit from [0, 1] (the device is named in [`BoundExit::device`]).
pub fn simulate(
    model: &Model,
    t_end: f64,
    n_samples: usize,
    tol: Tolerance,
) -> Result<Trajectory, AnalysisError> {
    let mut nodal = Nodal::new(model)?;
    let w0 = model.w0();
    let mut traj = integrate(
        |t, w, dw| nodal.rhs(t, w, dw),
        &w0,
        t_end,
        n_samples,
        tol,
        true,
    )?;
    if let Some(exit) = &mut traj.exit {
        exit.device = model.memristor_name(exit.state);
    }
    Ok(traj)
}
