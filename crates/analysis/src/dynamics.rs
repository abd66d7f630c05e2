//! The memory equation of a [`Model`] evaluated through the solver's one
//! nodal evaluator ([`memnet_solver::NodalSolver`], theory.md 3.3 item 4
//! with the generalisations 3.4 and 3.8) and its device seam
//! ([`memnet_solver::LinearLaw`]), and [`integrate`], the solver crate's
//! Dormand-Prince 5(4) set up to produce the trajectories the checks are
//! verified on (samples on step ends, stop at the first exit from [0, 1]).
//!
//! [`Evaluator`] takes *arbitrary* source vectors and injections: the
//! Jacobian needs K e_k (theory.md 7), the symmetry checks transformed
//! networks.

use std::cell::Cell;

use memnet_solver::{
    DeviceLaw, LinearLaw, NodalSolver, NodalSources, OdeSystem, Ordering, Sampling, SolveError,
    Stepper,
};
use serde::Serialize;

use crate::error::AnalysisError;
use crate::model::{EdgeKind, Model};

/// Branch currents and dw/dt of a [`Model`]: conductances from the linear
/// law, one factorisation per state, any number of solves per
/// factorisation.
pub struct Evaluator<'m> {
    model: &'m Model,
    nodal: NodalSolver,
    law: LinearLaw,
    s: Vec<f64>,
    jn: Vec<f64>,
    i: Vec<f64>,
}

impl<'m> Evaluator<'m> {
    pub fn new(model: &'m Model) -> Result<Self, AnalysisError> {
        let nodal = NodalSolver::new(&model.topo, Ordering::Amd)
            .map_err(|e| AnalysisError::Numerical(e.to_string()))?;
        // The model has normalised every polarity to +1 (theory.md 3.5).
        let mut law = LinearLaw::default();
        for st in 0..model.n_memristors() {
            let p = model.params(st);
            law.ron.push(p.ron);
            law.xi.push(p.xi);
            law.alpha.push(p.alpha);
            law.beta.push(p.beta);
            law.polarity.push(1.0);
            law.w0.push(p.w0);
        }
        let m = model.n_edges();
        Ok(Evaluator {
            model,
            nodal,
            law,
            s: vec![0.0; m],
            jn: vec![0.0; model.topo.n_nodes],
            i: vec![0.0; m],
        })
    }

    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// Conductances G_k = 1/(ron_k (1 + xi_k w_k)) (1/R for resistors) and
    /// the factorisation of B_r G B_r^T.
    pub fn factor_at(&mut self, w: &[f64]) -> Result<(), AnalysisError> {
        let g = self.nodal.conductances_mut();
        for (e, g) in self.model.edges.iter().zip(g.iter_mut()) {
            *g = match e.kind {
                EdgeKind::Memristor { state, .. } => {
                    self.law.conductance(state, w[state], 0.0).map_err(|_| {
                        AnalysisError::Numerical(format!(
                            "{} has a non-positive resistance at w = {}",
                            e.name, w[state]
                        ))
                    })?
                }
                EdgeKind::Resistor { resistance } => 1.0 / resistance,
            };
        }
        self.nodal.factor().map_err(|_| {
            AnalysisError::Numerical(
                "the weighted Laplacian is not positive definite (a device has a \
                 non-positive resistance at this state)"
                    .into(),
            )
        })
    }

    /// Conductances of the last [`Evaluator::factor_at`].
    pub fn conductances(&self) -> &[f64] {
        self.nodal.conductances()
    }

    /// Branch currents i = G (S + B^T phi) with B_r G B_r^T phi = J_r - B_r G S
    /// (theory.md 3.3 item 4, 3.4), for a given source vector `s` (all edges)
    /// and node injections `jn`, at the last factored state.
    pub fn currents_for(&mut self, s: &[f64], jn: &[f64], out: &mut [f64]) {
        let sources = NodalSources {
            series: s,
            injection: jn,
            constraints: &[],
        };
        self.nodal.solve(&sources, out);
    }

    /// Currents of every edge at (t, w).
    pub fn currents(&mut self, t: f64, w: &[f64]) -> Result<Vec<f64>, AnalysisError> {
        self.factor_at(w)?;
        self.model.sources_at(t, &mut self.s);
        self.model.injections_at(t, &mut self.jn);
        let sources = NodalSources {
            series: &self.s,
            injection: &self.jn,
            constraints: &[],
        };
        self.nodal.solve(&sources, &mut self.i);
        Ok(self.i.clone())
    }

    /// dw/dt = alpha_k w_k - (ron_k/beta_k) i_k (theory.md 1.2, 3.8; polarity
    /// is normalised to +1 by the model).
    pub fn rhs(&mut self, t: f64, w: &[f64], dw: &mut [f64]) -> Result<(), AnalysisError> {
        let i = self.currents(t, w)?;
        let g = self.nodal.conductances();
        for (st, &k) in self.model.memristor_edges.iter().enumerate() {
            dw[st] = self.law.state_rate(st, w[st], i[k] / g[k], i[k]);
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

/// An analysis right-hand side as a [`memnet_solver::OdeSystem`], so the
/// trajectories come from the solver's Dormand-Prince 5(4)
/// ([`memnet_solver::integrate`]) rather than a private integrator.
struct AnalysisOde<'c, F> {
    f: F,
    dim: usize,
    /// Evaluations of `f` so far.
    calls: usize,
    /// Accepted steps so far (counted in `after_step`).
    steps: usize,
    /// The last failure of `f` in a trial stage.
    failure: Option<AnalysisError>,
    /// Sample times t_k = t_end k / n; every one is a breakpoint, so steps
    /// end exactly on them and samples are step ends, not interpolations.
    sample_times: Vec<f64>,
    /// Whether to stop at the first exit from [0, 1].
    unit_box: bool,
    /// Set on the first accepted step whose end leaves [0, 1]: (t, state).
    exit: &'c Cell<Option<(f64, usize)>>,
}

impl<F> OdeSystem for AnalysisOde<'_, F>
where
    F: FnMut(f64, &[f64], &mut [f64]) -> Result<(), AnalysisError>,
{
    fn dim(&self) -> usize {
        self.dim
    }

    /// A failure at (t0, y0) ends the run with that error. A failure in a
    /// later (trial) stage -- e.g. a non-positive resistance after an
    /// overshooting stage -- is reported to the solver as a non-finite
    /// derivative: its step control then rejects the step and shrinks h
    /// (ode.rs: "a stage left the model's domain"), which is the step
    /// halving this integrator needs.
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), SolveError> {
        self.calls += 1;
        match (self.f)(t, y, dy) {
            Ok(()) => Ok(()),
            Err(e) if self.calls > 1 && self.dim > 0 => {
                self.failure = Some(e);
                dy.fill(f64::NAN);
                Ok(())
            }
            Err(e) => {
                let msg = e.to_string();
                self.failure = Some(e);
                Err(SolveError::InvalidOption(msg))
            }
        }
    }

    /// Records the first exit from [0, 1] (theory.md 1.3: the exact results
    /// hold only inside); the observers then stop the run.
    fn after_step(&mut self, _t_old: f64, _y_old: &[f64], t_new: f64, y_new: &mut [f64]) -> bool {
        self.steps += 1;
        if self.unit_box
            && self.exit.get().is_none()
            && let Some(s) = y_new.iter().position(|v| !(0.0..=1.0).contains(v))
        {
            self.exit.set(Some((t_new, s)));
        }
        false
    }

    fn next_breakpoint(&self, t: f64) -> Option<f64> {
        let k = self.sample_times.partition_point(|&s| s <= t);
        self.sample_times.get(k).copied()
    }
}

/// Integrates dy/dt = f(t, y) from y(0) = `y0` on [0, t_end] with the
/// solver's adaptive Dormand-Prince 5(4) ([`Stepper::Dopri5`]), sampling at
/// `n_samples + 1` equally spaced times (steps land on them). `f` may fail
/// in a trial stage (e.g. a non-positive resistance); the step is then
/// shrunk. If `unit_box` is set, integration stops at the first step that
/// leaves [0, 1] and samples from that step on are dropped.
pub fn integrate<F>(
    f: F,
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
    let mut times: Vec<f64> = (0..n_samples)
        .map(|k| t_end * k as f64 / n_samples as f64)
        .collect();
    times.push(t_end);
    let exit = Cell::new(None);
    let mut sys = AnalysisOde {
        f,
        dim: y0.len(),
        calls: 0,
        steps: 0,
        failure: None,
        sample_times: times[1..].to_vec(),
        unit_box,
        exit: &exit,
    };
    let stepper = Stepper::Dopri5 {
        rtol: tol.rtol,
        atol: tol.atol,
        h0: Some(t_end / n_samples as f64 / 10.0),
        h_max: None,
        norm: memnet_solver::ode::ErrorNorm::Rms,
    };
    // Sentinel error of the observers: a bound exit, not a failure.
    let stop = || SolveError::InvalidOption("left [0, 1]".into());
    let mut sampled: Vec<(f64, Vec<f64>)> = Vec::with_capacity(n_samples + 1);
    let mut y = y0.to_vec();
    let result = memnet_solver::integrate(
        &mut sys,
        &mut y,
        0.0,
        t_end,
        &stepper,
        &Sampling::Times(times),
        &mut |t, y| {
            if exit.get().is_some() {
                return Err(stop());
            }
            sampled.push((t, y.to_vec()));
            Ok(())
        },
        &mut |_, _| match exit.get() {
            Some(_) => Err(stop()),
            None => Ok(()),
        },
    );
    let rejected = match (&result, exit.get()) {
        (Ok(stats), _) => stats.rejected_steps as usize,
        // Stopped by an observer, the solver's counters are not returned:
        // with h0 given, every attempted step costs 6 evaluations after
        // the first (FSAL), so attempts = (calls - 1) / 6.
        (Err(_), Some(_)) => (sys.calls.saturating_sub(1) / 6).saturating_sub(sys.steps),
        (Err(e), None) => {
            return Err(match (sys.failure.take(), e) {
                (Some(_), SolveError::StepSizeUnderflow { t, .. }) => AnalysisError::Numerical(
                    format!("the memory equation could not be evaluated near t = {t:.6e}"),
                ),
                (Some(f), SolveError::InvalidOption(_)) => f,
                (_, SolveError::StepSizeUnderflow { t, .. }) => {
                    AnalysisError::Numerical(format!("step size underflow near t = {t:.6e}"))
                }
                (_, e) => AnalysisError::Numerical(e.to_string()),
            });
        }
    };
    let (times, states) = sampled.into_iter().unzip();
    Ok(Trajectory {
        times,
        states,
        exit: exit.get().map(|(t, state)| BoundExit {
            t,
            state,
            device: String::new(),
        }),
        steps: sys.steps,
        rejected,
        rhs_evals: sys.calls,
    })
}

/// Integrates the memory equation of `model` from w(0), stopping at the
/// first exit from [0, 1] (the device is named in [`BoundExit::device`]).
pub fn simulate(
    model: &Model,
    t_end: f64,
    n_samples: usize,
    tol: Tolerance,
) -> Result<Trajectory, AnalysisError> {
    let mut nodal = Evaluator::new(model)?;
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
