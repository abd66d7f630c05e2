//! What a run of the memory equation takes and gives, shared by the
//! time-stepping driver ([`crate::simulate`]) and the exact method: options,
//! sample sinks, the first bound hit, the charge-law monitor and the run
//! report. Depends on nothing but the right-hand side, so neither driver
//! depends on the other.

use memnet_graph::EdgeId;
use serde::Serialize;

use crate::SolveError;
use crate::memory::MemoryRhs;
use crate::nodal::Ordering;
use crate::ode::{ErrorNorm, Sampling, Stepper};

/// Integration method.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Explicit Euler, fixed step `dt` (the published reference codes).
    Euler,
    /// Classical RK4, fixed step `dt`.
    #[default]
    Rk4,
    /// Adaptive Dormand-Prince 5(4) with `rtol`, `atol`.
    Dopri5,
    /// Adaptive Rosenbrock-W ROS34PW2 with `rtol`, `atol`: for stiff laws
    /// (TEAM/VTEAM with Kvatinsky's window, MMSS with a short tau).
    Rosenbrock,
    /// Integrated Kirchhoff laws (alpha = 0 only): Newton at each sample
    /// time, no time stepping (docs/exact-method.md).
    Exact,
}

/// What happens at the ends of [0, 1] (theory.md 1.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bounds {
    /// Clip w to [0, 1] after each step (as the reference codes do).
    #[default]
    Clip,
    /// dw_k/dt = 0 when w_k <= 0 and f_k < 0 or w_k >= 1 and f_k > 0;
    /// the overshoot of the step that reaches a bound is clipped too.
    Sticky,
}

/// Options of [`simulate`]. Time starts at 0.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimOptions {
    pub t_end: f64,
    pub method: Method,
    /// Step of Euler/RK4; first step of Dopri5 if positive.
    pub dt: f64,
    pub rtol: f64,
    pub atol: f64,
    pub bounds: Bounds,
    /// Samples at 0, sample_dt, 2 sample_dt, ... and exactly t_end.
    /// `None`: only t = 0 and t_end.
    pub sample_dt: Option<f64>,
    /// Fill-reducing ordering of the nodal Cholesky factorisation.
    pub ordering: Ordering,
    /// Dopri5 ends its steps at the laws' switches (thresholds, window
    /// corners) and bound hits instead of stepping across them (see
    /// `OdeSystem::switches`; default off, see `SimOptions::default`); the
    /// other methods ignore it.
    pub locate_switches: bool,
    /// Reuse nodal factorisations across evaluations as preconditioners
    /// of conjugate gradients (`None`: one factorisation per evaluation).
    /// Laws linear in v only; the exact method solves its Newton steps
    /// this way too.
    pub factor_reuse: Option<crate::FactorReuse>,
    /// Largest step of the adaptive methods (a deck's `.tran` maximum
    /// step): stepping blindly, a long step can pass a threshold law's
    /// whole excursion between two stages that the error estimate does not
    /// weigh (Dopri5's second), so the step is as short as the deck asks.
    /// `None`: unbounded.
    pub max_step: Option<f64>,
    /// How the adaptive methods size their error estimate (RMS or the
    /// largest component).
    pub error_norm: ErrorNorm,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            t_end: 1.0,
            method: Method::Rk4,
            dt: 1e-3,
            rtol: 1e-8,
            atol: 1e-10,
            bounds: Bounds::Clip,
            sample_dt: None,
            ordering: Ordering::Auto,
            factor_reuse: None,
            // Off by default: measured (`measure switches`), locating costs
            // ~3 steps per crossing, which wins on a few devices and loses
            // by 100x on a 20x20 grid where hundreds of devices switch.
            locate_switches: false,
            max_step: None,
            error_norm: ErrorNorm::Rms,
        }
    }
}

impl SimOptions {
    pub(crate) fn sampling(&self) -> Sampling {
        match self.sample_dt {
            Some(dt) => Sampling::Uniform(dt),
            None => Sampling::Ends,
        }
    }

    pub(crate) fn stepper(&self) -> Result<Stepper, SolveError> {
        let h0 = (self.dt.is_finite() && self.dt > 0.0).then_some(self.dt);
        Ok(match self.method {
            Method::Euler => Stepper::Euler { dt: self.dt },
            Method::Rk4 => Stepper::Rk4 { dt: self.dt },
            Method::Dopri5 => Stepper::Dopri5 {
                rtol: self.rtol,
                atol: self.atol,
                h0,
                h_max: self.max_step,
                norm: self.error_norm,
            },
            Method::Rosenbrock => Stepper::Rosenbrock {
                rtol: self.rtol,
                atol: self.atol,
                h0,
                h_max: self.max_step,
                norm: self.error_norm,
            },
            Method::Exact => {
                return Err(SolveError::InvalidOption(
                    "the exact method does not time-step".into(),
                ));
            }
        })
    }
}

/// Receives samples as they are produced (time, w in state order).
pub trait SampleSink {
    fn sample(&mut self, t: f64, w: &[f64]) -> Result<(), std::io::Error>;
}

/// Collects samples in memory.
impl SampleSink for Vec<(f64, Vec<f64>)> {
    fn sample(&mut self, t: f64, w: &[f64]) -> Result<(), std::io::Error> {
        self.push((t, w.to_vec()));
        Ok(())
    }
}

/// Discards samples.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullSink;

impl SampleSink for NullSink {
    fn sample(&mut self, _t: f64, _w: &[f64]) -> Result<(), std::io::Error> {
        Ok(())
    }
}

/// The first time a device reached a bound of [0, 1]; the theory's
/// invariants hold only before it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BoundHit {
    /// Estimated by linear interpolation inside the step.
    pub t: f64,
    pub edge: EdgeId,
    pub name: String,
    /// 0.0 or 1.0.
    pub bound: f64,
}

/// What a run did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimReport {
    pub method: Method,
    /// Conjugate-gradient iterations and the solves that reused an older
    /// factorisation ([`SimOptions::factor_reuse`]; 0 without).
    pub cg_iterations: u64,
    pub reused_solves: u64,
    pub memristors: usize,
    /// Size of the reduced nodal system.
    pub unknowns: usize,
    /// Nonzeros of the Cholesky factor.
    pub factor_nnz: usize,
    /// The fill-reducing ordering factorised with (what
    /// [`Ordering::Auto`] chose).
    pub ordering: Ordering,
    /// Accepted steps (exact method: sample times solved).
    pub steps: u64,
    pub rejected_steps: u64,
    /// Switches (thresholds, window corners, bound hits) crossed in a
    /// located step, and the steps retried to end just before one
    /// (Dopri5 with `locate_switches`).
    pub switches_located: u64,
    pub switch_retries: u64,
    /// Right-hand-side evaluations (exact method: Newton iterations).
    pub rhs_evals: u64,
    /// Numeric sparse Cholesky factorisations.
    pub factorizations: u64,
    /// Newton iterations on the node potentials (laws whose current is not
    /// linear in v; 0 otherwise).
    pub newton_iterations: u64,
    pub samples: u64,
    pub wall_time_s: f64,
    /// Whether every device follows memnet's linear law (then the states
    /// are w; otherwise each law's own variable).
    pub linear_law: bool,
    pub w_min: f64,
    pub w_max: f64,
    pub w_mean: f64,
    pub first_bound_hit: Option<BoundHit>,
    /// max over samples of |B c(t) - e^{alpha t} B c(0)|, c_k =
    /// polarity_k beta_k w_k / ron_k (= beta/ron w for uniform devices);
    /// `None` when the law does not apply (see `charge_note`).
    pub charge_drift: Option<f64>,
    pub charge_note: Option<String>,
}

/// Tracks the generalised charge law at sample times (owns a copy of the
/// incidence data it needs, so it can run while the integrator borrows the
/// right-hand side).
pub(crate) struct ChargeMonitor {
    alpha: Option<f64>,
    /// The time of the state the law is measured from.
    t0: f64,
    pub note: Option<String>,
    /// Per state: (tail unknown, head unknown, polarity beta / ron).
    terms: Vec<(u32, u32, f64)>,
    c0: Vec<f64>,
    c: Vec<f64>,
    pub drift: f64,
}

impl ChargeMonitor {
    pub fn new(rhs: &MemoryRhs, w0: &[f64]) -> Self {
        Self::new_at(rhs, 0.0, w0)
    }

    /// The charge law measured from state `w0` at time `t0` (a resumed
    /// run: B w(t) = e^(alpha (t - t0)) B w(t0)).
    pub fn new_at(rhs: &MemoryRhs, t0: f64, w0: &[f64]) -> Self {
        let (alpha, note) = match rhs.charge_law() {
            Ok(a) => (Some(a), None),
            Err(why) => (None, Some(why.to_string())),
        };
        let mut m = ChargeMonitor {
            alpha,
            t0,
            note,
            terms: Vec::new(),
            c0: Vec::new(),
            c: Vec::new(),
            drift: 0.0,
        };
        if alpha.is_some() {
            m.terms = rhs.charge_terms();
            m.c0 = vec![0.0; rhs.n_unknowns()];
            m.c = vec![0.0; rhs.n_unknowns()];
            crate::memory::charge_into(&m.terms, w0, &mut m.c0);
        }
        m
    }

    pub fn observe(&mut self, t: f64, w: &[f64]) {
        let Some(a) = self.alpha else { return };
        crate::memory::charge_into(&self.terms, w, &mut self.c);
        let e = (a * (t - self.t0)).exp();
        for (c, c0) in self.c.iter().zip(&self.c0) {
            self.drift = self.drift.max((c - e * c0).abs());
        }
    }

    pub fn result(&self) -> Option<f64> {
        self.alpha.map(|_| self.drift)
    }
}

pub(crate) fn w_stats(w: &[f64]) -> (f64, f64, f64) {
    if w.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let min = w.iter().copied().fold(f64::INFINITY, f64::min);
    let max = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = w.iter().sum::<f64>() / w.len() as f64;
    (min, max, mean)
}
