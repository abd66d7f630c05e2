//! The memory equation on a mapped problem, in the SPD solve form of
//! apps.md A.3 (docs/optimize.md, "Dynamics"): with r = sqrt(w) and R =
//! diag(r),
//!
//!   solve (I + xi R Omega R) z = r .* b,   x = b - xi Omega (r .* z),
//!   dw/dt = alpha w - x / beta,
//!
//! which equals (I + xi Omega W)^{-1} b without forming any inverse. The
//! SPD system is solved by conjugate gradients with Jacobi
//! preconditioning (its diagonal is 1 + xi c w_k), warm-started from the
//! previous solve: O(nnz) per iteration, nothing allocated per
//! evaluation.

use std::cell::Cell;
use std::rc::Rc;

use memnet_solver::{OdeSystem, SolveError};
use serde::Serialize;

use crate::mapping::Mapping;

/// What happens at the faces of the cube (apps.md A.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Boundary {
    /// A component at 0 (1) stays there while its rate points out
    /// (theory.md 1.3); the default. Descent of L is exact with
    /// components held at 0, not guaranteed at 1.
    Sticky,
    /// dw/dt = w (1 - w) f, as the published solver (no descent
    /// guarantee).
    Window,
    /// Clip to [0, 1] after each step, as the published reference codes.
    Clip,
}

/// A schedule of the dynamics' parameters (apps.md A.6(6)), linear in t
/// from `from` times the target at t = 0 to the target at `t_ramp` and
/// after; the final corners then carry the true energies.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Schedule {
    /// The mapped parameters throughout.
    None,
    /// alpha(t) from `from` alpha_m to alpha_m, Omega and b fixed: a
    /// homotopy from a separable problem to the target.
    Coupling { from: f64, t_ramp: f64 },
    /// b(t) = s(t) b with s from `from` to 1 (strong drive for `from` >> 1).
    Drive { from: f64, t_ramp: f64 },
}

impl Schedule {
    /// (alpha factor, drive factor) at t.
    pub fn factors(&self, t: f64) -> (f64, f64) {
        let lerp = |from: f64, t_ramp: f64| {
            if t >= t_ramp || t_ramp <= 0.0 {
                1.0
            } else {
                from + (1.0 - from) * (t / t_ramp)
            }
        };
        match *self {
            Schedule::None => (1.0, 1.0),
            Schedule::Coupling { from, t_ramp } => (lerp(from, t_ramp), 1.0),
            Schedule::Drive { from, t_ramp } => (1.0, lerp(from, t_ramp)),
        }
    }

    /// When the parameters reach their targets.
    pub fn t_done(&self) -> f64 {
        match *self {
            Schedule::None => 0.0,
            Schedule::Coupling { t_ramp, .. } | Schedule::Drive { t_ramp, .. } => t_ramp,
        }
    }
}

/// Conjugate-gradient settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CgSettings {
    /// Relative residual ||r|| <= tol ||rhs||.
    pub tol: f64,
    /// Iteration limit per solve.
    pub max_iter: usize,
}

impl Default for CgSettings {
    fn default() -> CgSettings {
        CgSettings {
            // Far below the integrator's rtol (1e-6), so that solve error
            // does not enter its error estimate.
            tol: 1e-10,
            max_iter: 10_000,
        }
    }
}

/// When a restart stops (apps.md A.6 step 3).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct StopRule {
    /// max_k w_k (1 - w_k) < eps.
    pub eps: f64,
    /// Every free component has |dw_k/dt| < eps_f.
    pub eps_f: f64,
    /// Time limit.
    pub t_max: f64,
}

impl Default for StopRule {
    fn default() -> StopRule {
        StopRule {
            eps: 1e-3,
            eps_f: 1e-6,
            t_max: 3000.0,
        }
    }
}

/// Why a restart ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stop {
    /// max w (1 - w) fell below eps: the state is at a corner.
    Corner,
    /// The free components stopped moving.
    Stationary,
    /// t reached t_max.
    TimeLimit,
}

/// The right-hand side with its CG workspace and diagnostics.
pub struct QuboDynamics<'m> {
    map: &'m Mapping,
    pub boundary: Boundary,
    pub schedule: Schedule,
    pub cg: CgSettings,
    pub stop_rule: StopRule,
    /// Set when the stop rule holds after an accepted step.
    stop: Rc<Cell<Option<Stop>>>,
    // CG workspace, n each; z is the warm start.
    r_sqrt: Vec<f64>,
    rhs: Vec<f64>,
    z: Vec<f64>,
    res: Vec<f64>,
    prec: Vec<f64>,
    p: Vec<f64>,
    ap: Vec<f64>,
    tmp: Vec<f64>,
    /// The rate of the latest evaluation (at the accepted state, by FSAL).
    last_f: Vec<f64>,
    lyap_scratch: Vec<f64>,
    last_l: Option<f64>,
    /// Right-hand sides, accepted steps and CG iterations so far.
    pub evaluations: u64,
    pub steps: u64,
    pub cg_iterations: u64,
    /// Accepted steps after the schedule ended along which L increased
    /// beyond round-off (apps.md A.4 diagnostic).
    pub l_increases: u64,
}

impl<'m> QuboDynamics<'m> {
    pub fn new(map: &'m Mapping, boundary: Boundary, schedule: Schedule) -> QuboDynamics<'m> {
        let n = map.n();
        QuboDynamics {
            map,
            boundary,
            schedule,
            cg: CgSettings::default(),
            stop_rule: StopRule::default(),
            stop: Rc::new(Cell::new(None)),
            r_sqrt: vec![0.0; n],
            rhs: vec![0.0; n],
            z: vec![0.0; n],
            res: vec![0.0; n],
            prec: vec![0.0; n],
            p: vec![0.0; n],
            ap: vec![0.0; n],
            tmp: vec![0.0; n],
            last_f: vec![0.0; n],
            lyap_scratch: vec![0.0; 2 * n],
            last_l: None,
            evaluations: 0,
            steps: 0,
            cg_iterations: 0,
            l_increases: 0,
        }
    }

    /// The flag an observer reads to end the integration.
    pub fn stop_flag(&self) -> Rc<Cell<Option<Stop>>> {
        self.stop.clone()
    }

    /// Forgets the warm start and diagnostics (a new restart).
    pub fn reset(&mut self) {
        self.z.fill(0.0);
        self.last_l = None;
        self.stop.set(None);
    }

    /// x = (I + xi Omega W)^{-1} (s b) by the SPD form, for w in [0, 1]
    /// (trial states outside are clamped: the rate there is the face's).
    pub fn solve_x(&mut self, t: f64, w: &[f64], s: f64, x: &mut [f64]) -> Result<(), SolveError> {
        let map = self.map;
        let xi = map.params.xi;
        for (k, &wk) in w.iter().enumerate() {
            let wk = wk.clamp(0.0, 1.0);
            self.r_sqrt[k] = wk.sqrt();
            self.rhs[k] = self.r_sqrt[k] * s * map.b[k];
            self.prec[k] = 1.0 / (1.0 + xi * map.c * wk);
        }
        self.cg_solve(t)?;
        // x = s b - xi Omega (r .* z)
        for ((t, r), z) in self.tmp.iter_mut().zip(&self.r_sqrt).zip(&self.z) {
            *t = r * z;
        }
        map.omega_times(&self.tmp, &mut self.ap);
        for ((xk, bk), ak) in x.iter_mut().zip(&map.b).zip(&self.ap) {
            *xk = s * bk - xi * ak;
        }
        Ok(())
    }

    /// out = (I + xi R Omega R) v.
    fn apply(map: &Mapping, r: &[f64], v: &[f64], tmp: &mut [f64], out: &mut [f64]) {
        let xi = map.params.xi;
        for k in 0..v.len() {
            tmp[k] = r[k] * v[k];
        }
        map.omega_times(tmp, out);
        for k in 0..v.len() {
            out[k] = v[k] + xi * r[k] * out[k];
        }
    }

    /// Preconditioned CG on (I + xi R Omega R) z = rhs from the current z.
    fn cg_solve(&mut self, t: f64) -> Result<(), SolveError> {
        let map = self.map;
        let n = map.n();
        let norm_b = dot(&self.rhs, &self.rhs).sqrt();
        if norm_b == 0.0 {
            self.z.fill(0.0);
            return Ok(());
        }
        Self::apply(map, &self.r_sqrt, &self.z, &mut self.tmp, &mut self.ap);
        for k in 0..n {
            self.res[k] = self.rhs[k] - self.ap[k];
        }
        let target = self.cg.tol * norm_b;
        if dot(&self.res, &self.res).sqrt() <= target {
            return Ok(());
        }
        for k in 0..n {
            self.p[k] = self.prec[k] * self.res[k];
        }
        let mut rz = (0..n)
            .map(|k| self.res[k] * self.prec[k] * self.res[k])
            .sum::<f64>();
        for _ in 0..self.cg.max_iter {
            self.cg_iterations += 1;
            Self::apply(map, &self.r_sqrt, &self.p, &mut self.tmp, &mut self.ap);
            let pap = dot(&self.p, &self.ap);
            if pap.is_nan() || pap <= 0.0 {
                return Err(SolveError::System(format!(
                    "conjugate gradients met non-positive curvature ({pap:e}) at t = {t}: \
                     Omega is not positive semidefinite; choose a larger diagonal \
                     (--diagonal gershgorin)"
                )));
            }
            let a = rz / pap;
            for k in 0..n {
                self.z[k] += a * self.p[k];
                self.res[k] -= a * self.ap[k];
            }
            if dot(&self.res, &self.res).sqrt() <= target {
                return Ok(());
            }
            let rz_new = (0..n)
                .map(|k| self.res[k] * self.prec[k] * self.res[k])
                .sum::<f64>();
            let beta = rz_new / rz;
            rz = rz_new;
            for k in 0..n {
                self.p[k] = self.prec[k] * self.res[k] + beta * self.p[k];
            }
        }
        Err(SolveError::System(format!(
            "conjugate gradients did not reach relative residual {} in {} iterations at t = {t}",
            self.cg.tol, self.cg.max_iter
        )))
    }

    /// The functional at w with the schedule's parameters at t.
    pub fn lyapunov(&mut self, t: f64, w: &[f64]) -> f64 {
        let (fa, fs) = self.schedule.factors(t);
        self.map
            .lyapunov(w, fa * self.map.params.alpha, fs, &mut self.lyap_scratch)
    }
}

impl OdeSystem for QuboDynamics<'_> {
    fn dim(&self) -> usize {
        self.map.n()
    }

    fn rhs(&mut self, t: f64, w: &[f64], dw: &mut [f64]) -> Result<(), SolveError> {
        self.evaluations += 1;
        let (fa, fs) = self.schedule.factors(t);
        let alpha = fa * self.map.params.alpha;
        let beta = self.map.params.beta;
        self.solve_x(t, w, fs, dw)?;
        for k in 0..w.len() {
            let wk = w[k].clamp(0.0, 1.0);
            let mut f = alpha * wk - dw[k] / beta;
            match self.boundary {
                Boundary::Sticky => {
                    if (wk <= 0.0 && f < 0.0) || (wk >= 1.0 && f > 0.0) {
                        f = 0.0;
                    }
                }
                Boundary::Window => f *= wk * (1.0 - wk),
                Boundary::Clip => {}
            }
            dw[k] = f;
        }
        self.last_f.copy_from_slice(dw);
        Ok(())
    }

    fn after_step(&mut self, _t_old: f64, _y_old: &[f64], t_new: f64, y: &mut [f64]) -> bool {
        self.steps += 1;
        let mut changed = false;
        for v in y.iter_mut() {
            let c = v.clamp(0.0, 1.0);
            if c != *v {
                *v = c;
                changed = true;
            }
        }
        if t_new >= self.schedule.t_done() {
            let l = self.lyapunov(t_new, y);
            if let Some(prev) = self.last_l
                && l > prev + 1e-12 * (1.0 + prev.abs())
            {
                self.l_increases += 1;
            }
            self.last_l = Some(l);
            let rule = self.stop_rule;
            let corner = y.iter().map(|w| w * (1.0 - w)).fold(0.0f64, f64::max) < rule.eps;
            // Free components: inside, or on a face with the rate inward.
            let still = !changed
                && y.iter().zip(&self.last_f).all(|(&w, &f)| {
                    let held = (w <= 0.0 && f <= 0.0) || (w >= 1.0 && f >= 0.0);
                    held || f.abs() < rule.eps_f
                });
            if corner {
                self.stop.set(Some(Stop::Corner));
            } else if still {
                self.stop.set(Some(Stop::Stationary));
            }
        }
        changed
    }

    fn project_sample(&self, y: &mut [f64]) {
        for v in y.iter_mut() {
            *v = v.clamp(0.0, 1.0);
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
