//! A small generic ODE layer: explicit Euler, classical RK4 and the
//! Dormand-Prince 5(4) pair with dense output (Hairer, Norsett, Wanner,
//! "Solving ODEs I", sec. II.4/II.6, code DOPRI5). Used by the memory
//! equation (theory.md 3.2) and available to other crates with their own
//! right-hand side.
//!
//! Work vectors are allocated once per [`integrate`] call; a step allocates
//! nothing.

use crate::SolveError;

/// dy/dt = f(t, y).
pub trait OdeSystem {
    /// Length of the state vector.
    fn dim(&self) -> usize;

    /// Evaluate f(t, y) into `dy`.
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), SolveError>;

    /// Called after every accepted step with the state before and after it.
    /// May project `y_new` (e.g. clip to bounds); return `true` if it
    /// changed `y_new`, so that cached derivatives are recomputed.
    fn after_step(&mut self, _t_old: f64, _y_old: &[f64], _t_new: f64, _y_new: &mut [f64]) -> bool {
        false
    }

    /// The first time after `t` where f is not smooth in t (source
    /// corners); steps are shortened to land on it. Default: none.
    fn next_breakpoint(&self, _t: f64) -> Option<f64> {
        None
    }

    /// Apply the same projection as [`OdeSystem::after_step`] to a sample
    /// obtained by dense-output interpolation (does not record anything).
    fn project_sample(&self, _y: &mut [f64]) {}

    /// Number of switching functions (see [`OdeSystem::switches`]); 0: f
    /// is smooth and no switch is located.
    fn switch_count(&self) -> usize {
        0
    }

    /// The switching functions g_j at the point (t, `y`) of the latest
    /// [`OdeSystem::rhs`] call: f is smooth while no g_j changes sign
    /// (thresholds, dead bands, window kinks, bounds). Each is scaled to a
    /// natural unit of its quantity: |g| below [`SWITCH_DEAD`] is
    /// round-off. The adaptive method ends a step just before a sign change
    /// and crosses it in a step of [`SWITCH_WIDTH`] relative length, so
    /// that no step straddles a kink.
    fn switches(&self, _y: &[f64], _g: &mut [f64]) {}

    /// Called with every sample just before the `on_sample` observer (a
    /// system that writes outputs of its own, e.g. node voltages from a
    /// solve at the sampled state, does it here).
    fn observe_sample(&mut self, _t: f64, _y: &[f64]) -> Result<(), SolveError> {
        Ok(())
    }

    /// An approximation of the diagonal of the Jacobian df_i/dy_i at the
    /// point (t, `y`) of the latest [`OdeSystem::rhs`] call, for the
    /// Rosenbrock-W method ([`Stepper::Rosenbrock`]), whose order does not
    /// depend on it (only its stability does). Default: zero, which makes
    /// that method explicit.
    fn diagonal_jacobian(&mut self, _t: f64, _y: &[f64], d: &mut [f64]) -> Result<(), SolveError> {
        d.fill(0.0);
        Ok(())
    }
}

/// How an adaptive method sizes its error estimate, each component
/// weighted by 1 / (atol + rtol |y_i|).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorNorm {
    /// The root mean square (Hairer's DOPRI5): a step passes when the
    /// components' errors are within tolerance on average.
    #[default]
    Rms,
    /// The largest component: every state within tolerance. Over many
    /// devices the RMS lets a few switching devices carry errors of
    /// sqrt(n) times the tolerance (docs/engine.md, "Switches").
    Max,
}

/// Time-stepping method.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Stepper {
    /// Explicit Euler, fixed step (what the reference codes use).
    Euler { dt: f64 },
    /// Classical fourth-order Runge-Kutta, fixed step.
    Rk4 { dt: f64 },
    /// Adaptive Dormand-Prince 5(4) with error per component
    /// |e_i| / (atol + rtol max(|y_i|, |y_new_i|)) in the norm `norm`.
    /// `h0`: first step (None: Hairer's initial-step heuristic);
    /// `h_max`: largest step (None: unbounded).
    Dopri5 {
        rtol: f64,
        atol: f64,
        h0: Option<f64>,
        h_max: Option<f64>,
        norm: ErrorNorm,
    },
    /// Adaptive Rosenbrock-W method ROS34PW2 (Rang & Angermann, BIT
    /// 45:761, 2005): four linearly implicit stages, order 3 for any
    /// approximation W of the Jacobian (a W-method), L-stable and stiffly
    /// accurate with the exact one, an embedded order-2 solution for the
    /// error estimate. W is the diagonal of
    /// [`OdeSystem::diagonal_jacobian`] (its stiff, negative part), so a
    /// stage costs one evaluation and a diagonal solve. For stiff laws
    /// (docs/engine.md, "Stiff laws"). Same error norm as Dopri5.
    Rosenbrock {
        rtol: f64,
        atol: f64,
        h0: Option<f64>,
        h_max: Option<f64>,
        norm: ErrorNorm,
    },
}

impl Stepper {
    fn validate(&self) -> Result<(), SolveError> {
        let bad = |s: String| Err(SolveError::InvalidOption(s));
        match *self {
            Stepper::Euler { dt } | Stepper::Rk4 { dt } => {
                if !(dt.is_finite() && dt > 0.0) {
                    return bad(format!("time step dt = {dt} must be positive and finite"));
                }
            }
            Stepper::Dopri5 {
                rtol,
                atol,
                h0,
                h_max,
                ..
            }
            | Stepper::Rosenbrock {
                rtol,
                atol,
                h0,
                h_max,
                ..
            } => {
                if !(rtol.is_finite() && rtol >= 0.0 && atol.is_finite() && atol >= 0.0)
                    || rtol + atol <= 0.0
                {
                    return bad(format!(
                        "tolerances rtol = {rtol}, atol = {atol} must be finite, non-negative and not both zero"
                    ));
                }
                for (name, v) in [("initial step", h0), ("maximum step", h_max)] {
                    if let Some(h) = v
                        && !(h.is_finite() && h > 0.0)
                    {
                        return bad(format!("{name} {h} must be positive and finite"));
                    }
                }
            }
        }
        Ok(())
    }
}

/// When to report the state.
#[derive(Clone, Debug, PartialEq)]
pub enum Sampling {
    /// t0, t0 + dt, t0 + 2 dt, ... and always exactly t_end last.
    Uniform(f64),
    /// These times (non-decreasing, inside [t0, t_end]).
    Times(Vec<f64>),
    /// Only t0 and t_end.
    Ends,
}

/// A sample or step observer: `(t, y)`; an error stops the integration.
pub type ObserveFn<'a> = dyn FnMut(f64, &[f64]) -> Result<(), SolveError> + 'a;

/// Work counters of one integration.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct IntegrationStats {
    /// Accepted steps.
    pub steps: u64,
    /// Rejected (adaptive) steps.
    pub rejected_steps: u64,
    /// Right-hand-side evaluations.
    pub rhs_evals: u64,
    /// Switches crossed in a located step (see [`OdeSystem::switches`]).
    pub switches_located: u64,
    /// Steps retried to end just before a switch (not counted in
    /// `rejected_steps`).
    pub switch_retries: u64,
}

/// Length of the step that crosses a located switch, relative to the step
/// in which the switch was first seen. The kink then perturbs the local
/// error by about this fraction of the step's derivative jump, far below
/// any tolerance; smaller only costs more steps near the switch (their
/// length grows back at once, see [`dopri5`]).
pub const SWITCH_WIDTH: f64 = 1e-9;
/// Retries allowed to end a step before a switch; a switch whose function
/// is too curved to be approached in these many secant steps is crossed by
/// the step that saw it (the error control still applies).
const SWITCH_MAX_RETRIES: u32 = 8;

/// A switch being approached by [`dopri5`].
#[derive(Clone, Copy, Debug)]
struct Approach {
    /// Length of the step that crosses it.
    width: f64,
    /// The step to resume with once past it.
    resume: f64,
    /// A time by which a trial step saw it crossed.
    t_after: f64,
    /// Retries of the present step.
    tries: u32,
}

/// A switching function this close to 0 (they are scaled to their natural
/// unit, see [`OdeSystem::switches`]) is on its switch: round-off, e.g. the
/// current of a device that carries none by symmetry, does not count as a
/// crossing (locating it would be locating noise).
pub const SWITCH_DEAD: f64 = 1e-10;

/// The earliest sign change from `g_old` to `g_new` as a fraction of the
/// step (linear interpolation), or `None`. A function that starts on its
/// switch (within [`SWITCH_DEAD`]) has no crossing.
fn first_crossing(g_old: &[f64], g_new: &[f64]) -> Option<f64> {
    let mut first: Option<f64> = None;
    for (&a, &b) in g_old.iter().zip(g_new) {
        let crossed =
            (a < -SWITCH_DEAD && b >= -SWITCH_DEAD) || (a > SWITCH_DEAD && b <= SWITCH_DEAD);
        if crossed {
            let theta = (a / (a - b)).clamp(0.0, 1.0);
            if first.is_none_or(|f| theta < f) {
                first = Some(theta);
            }
        }
    }
    first
}

/// The ordered list of sample times, generated lazily (a uniform grid of a
/// long run is never materialised).
struct SampleTimes<'a> {
    t0: f64,
    t_end: f64,
    kind: &'a Sampling,
    k: usize,
    done: bool,
}

impl SampleTimes<'_> {
    fn next_time(&mut self) -> Option<f64> {
        if self.done {
            return None;
        }
        let t = match self.kind {
            Sampling::Ends => match self.k {
                0 => self.t0,
                _ => self.t_end,
            },
            Sampling::Uniform(dt) => {
                // Index times from t0 to avoid accumulating rounding; drop a
                // grid point that is indistinguishable from t_end.
                let t = self.t0 + self.k as f64 * dt;
                if t >= self.t_end - 1e-9 * dt {
                    self.t_end
                } else {
                    t
                }
            }
            Sampling::Times(ts) => match ts.get(self.k) {
                Some(&t) => t,
                None => {
                    self.done = true;
                    return None;
                }
            },
        };
        self.k += 1;
        if !matches!(self.kind, Sampling::Times(_)) && t >= self.t_end {
            self.done = true;
        }
        Some(t)
    }
}

impl SampleTimes<'_> {
    /// Emits the samples at the start time `t` (and any others equal to
    /// it) with the initial state; returns the first later sample time.
    fn emit_at_start<S: OdeSystem + ?Sized>(
        &mut self,
        sys: &mut S,
        t: f64,
        y: &[f64],
        on_sample: &mut ObserveFn<'_>,
    ) -> Result<Option<f64>, SolveError> {
        let mut next = self.next_time();
        while let Some(ts) = next {
            if ts > t {
                break;
            }
            sys.observe_sample(ts, y)?;
            on_sample(ts, y)?;
            next = self.next_time();
        }
        Ok(next)
    }
}

fn validate_span(t0: f64, t_end: f64, sampling: &Sampling) -> Result<(), SolveError> {
    if !(t0.is_finite() && t_end.is_finite() && t_end >= t0) {
        return Err(SolveError::InvalidOption(format!(
            "time span [{t0}, {t_end}] must be finite and non-decreasing"
        )));
    }
    match sampling {
        Sampling::Uniform(dt) if !(dt.is_finite() && *dt > 0.0) => Err(SolveError::InvalidOption(
            format!("sample interval {dt} must be positive and finite"),
        )),
        Sampling::Times(ts) => {
            let mut prev = t0;
            for &t in ts {
                if !(t.is_finite() && t >= prev && t <= t_end) {
                    return Err(SolveError::InvalidOption(format!(
                        "sample time {t} is not inside [{t0}, {t_end}] in non-decreasing order"
                    )));
                }
                prev = t;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Integrate `sys` from `t0` to `t_end`, starting from (and updating) `y`.
///
/// `on_sample(t, y)` receives the state at every sample time. Steps land
/// only on breakpoints ([`OdeSystem::next_breakpoint`]) and `t_end`;
/// samples in between are interpolated (Euler: linearly; RK4: cubic
/// Hermite; Dopri5: its 4th-order dense output), projected with
/// [`OdeSystem::project_sample`]; `on_step(t, y)` is called
/// after every accepted step (progress, checks). Either may stop the run by
/// returning an error.
#[allow(clippy::too_many_arguments)]
pub fn integrate<S: OdeSystem + ?Sized>(
    sys: &mut S,
    y: &mut [f64],
    t0: f64,
    t_end: f64,
    stepper: &Stepper,
    sampling: &Sampling,
    on_sample: &mut ObserveFn<'_>,
    on_step: &mut ObserveFn<'_>,
) -> Result<IntegrationStats, SolveError> {
    stepper.validate()?;
    validate_span(t0, t_end, sampling)?;
    let n = sys.dim();
    if y.len() != n {
        return Err(SolveError::DimensionMismatch {
            got: y.len(),
            want: n,
        });
    }
    let mut samples = SampleTimes {
        t0,
        t_end,
        kind: sampling,
        k: 0,
        done: false,
    };
    match *stepper {
        Stepper::Euler { dt } => fixed_step(
            sys,
            y,
            t0,
            t_end,
            dt,
            false,
            &mut samples,
            on_sample,
            on_step,
        ),
        Stepper::Rk4 { dt } => fixed_step(
            sys,
            y,
            t0,
            t_end,
            dt,
            true,
            &mut samples,
            on_sample,
            on_step,
        ),
        Stepper::Dopri5 {
            rtol,
            atol,
            h0,
            h_max,
            norm,
        } => dopri5(
            sys,
            y,
            t0,
            t_end,
            Tol { rtol, atol, norm },
            h0,
            h_max,
            &mut samples,
            on_sample,
            on_step,
        ),
        Stepper::Rosenbrock {
            rtol,
            atol,
            h0,
            h_max,
            norm,
        } => rosenbrock(
            sys,
            y,
            t0,
            t_end,
            Tol { rtol, atol, norm },
            h0,
            h_max,
            &mut samples,
            on_sample,
            on_step,
        ),
    }
}

/// Fixed steps of length `dt` that land only on source breakpoints and
/// `t_end`; samples in between come from each method's interpolant:
/// linear for Euler (its own order), cubic Hermite from the step's end
/// states and derivatives for RK4 (error O(dt^4), the order of the
/// method's global error). The derivative at a step's end is the next
/// step's first stage, so interpolation costs one evaluation in all (at
/// the last step), not one per step.
#[allow(clippy::too_many_arguments)]
fn fixed_step<S: OdeSystem + ?Sized>(
    sys: &mut S,
    y: &mut [f64],
    t0: f64,
    t_end: f64,
    dt: f64,
    rk4: bool,
    samples: &mut SampleTimes<'_>,
    on_sample: &mut ObserveFn<'_>,
    on_step: &mut ObserveFn<'_>,
) -> Result<IntegrationStats, SolveError> {
    let n = y.len();
    let mut stats = IntegrationStats::default();
    let mut k1 = vec![0.0; n];
    let (mut k2, mut k3, mut k4, mut tmp) = if rk4 {
        (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n])
    } else {
        (Vec::new(), Vec::new(), Vec::new(), Vec::new())
    };
    let mut y_old = vec![0.0; n];
    let mut f_old = if rk4 { vec![0.0; n] } else { Vec::new() };
    let mut sample = vec![0.0; n];
    let mut t = t0;
    let mut next_sample = samples.emit_at_start(sys, t, y, on_sample)?;
    // Whether k1 already holds f(t, y) (the end derivative of the last step).
    let mut k1_fresh = false;
    while t < t_end {
        // Land on the next source corner or t_end; a remainder within 1e-9
        // dt of a full step is taken as one (slightly longer) step.
        let target = match sys.next_breakpoint(t) {
            Some(bp) if bp > t && bp < t_end => bp,
            _ => t_end,
        };
        let h = if t + dt * (1.0 + 1e-9) >= target {
            target - t
        } else {
            dt
        };
        let t_new = if h == target - t { target } else { t + h };
        y_old.copy_from_slice(y);
        if !k1_fresh {
            sys.rhs(t, y, &mut k1)?;
            stats.rhs_evals += 1;
        }
        if rk4 {
            for i in 0..n {
                tmp[i] = y[i] + 0.5 * h * k1[i];
            }
            sys.rhs(t + 0.5 * h, &tmp, &mut k2)?;
            for i in 0..n {
                tmp[i] = y[i] + 0.5 * h * k2[i];
            }
            sys.rhs(t + 0.5 * h, &tmp, &mut k3)?;
            for i in 0..n {
                tmp[i] = y[i] + h * k3[i];
            }
            sys.rhs(t_new, &tmp, &mut k4)?;
            stats.rhs_evals += 3;
            for i in 0..n {
                y[i] += h / 6.0 * (k1[i] + 2.0 * (k2[i] + k3[i]) + k4[i]);
            }
            f_old.copy_from_slice(&k1);
        } else {
            for i in 0..n {
                y[i] += h * k1[i];
            }
        }
        sys.after_step(t, &y_old, t_new, y);
        let t_old = t;
        t = t_new;
        stats.steps += 1;
        k1_fresh = false;
        // Samples inside the step (t_old, t_new] (a sample at t_new is the
        // step's end state itself).
        let interior = matches!(next_sample, Some(ts) if ts < t_new);
        if interior && rk4 {
            // Hermite needs f at the end; it is the next step's k1.
            sys.rhs(t, y, &mut k1)?;
            stats.rhs_evals += 1;
            k1_fresh = true;
        }
        emit_samples(
            sys,
            samples,
            &mut next_sample,
            t_new,
            y,
            &mut sample,
            on_sample,
            |ts, out| {
                let theta = (ts - t_old) / h;
                if rk4 {
                    hermite(theta, h, &y_old, &f_old, y, &k1, out);
                } else {
                    for i in 0..n {
                        out[i] = y_old[i] + theta * (y[i] - y_old[i]);
                    }
                }
            },
        )?;
        on_step(t, y)?;
    }
    Ok(stats)
}

#[derive(Clone, Copy)]
struct Tol {
    rtol: f64,
    atol: f64,
    norm: ErrorNorm,
}

// Dormand-Prince 5(4) tableau (Hairer's DOPRI5).
const C2: f64 = 1.0 / 5.0;
const C3: f64 = 3.0 / 10.0;
const C4: f64 = 4.0 / 5.0;
const C5: f64 = 8.0 / 9.0;
const A21: f64 = 1.0 / 5.0;
const A31: f64 = 3.0 / 40.0;
const A32: f64 = 9.0 / 40.0;
const A41: f64 = 44.0 / 45.0;
const A42: f64 = -56.0 / 15.0;
const A43: f64 = 32.0 / 9.0;
const A51: f64 = 19372.0 / 6561.0;
const A52: f64 = -25360.0 / 2187.0;
const A53: f64 = 64448.0 / 6561.0;
const A54: f64 = -212.0 / 729.0;
const A61: f64 = 9017.0 / 3168.0;
const A62: f64 = -355.0 / 33.0;
const A63: f64 = 46732.0 / 5247.0;
const A64: f64 = 49.0 / 176.0;
const A65: f64 = -5103.0 / 18656.0;
const A71: f64 = 35.0 / 384.0;
const A73: f64 = 500.0 / 1113.0;
const A74: f64 = 125.0 / 192.0;
const A75: f64 = -2187.0 / 6784.0;
const A76: f64 = 11.0 / 84.0;
const E1: f64 = 71.0 / 57600.0;
const E3: f64 = -71.0 / 16695.0;
const E4: f64 = 71.0 / 1920.0;
const E5: f64 = -17253.0 / 339200.0;
const E6: f64 = 22.0 / 525.0;
const E7: f64 = -1.0 / 40.0;
// Dense output (Hairer's CONTD5 coefficients).
const D1: f64 = -12715105075.0 / 11282082432.0;
const D3: f64 = 87487479700.0 / 32700410799.0;
const D4: f64 = -10690763975.0 / 1880347072.0;
const D5: f64 = 701980252875.0 / 199316789632.0;
const D6: f64 = -1453857185.0 / 822651844.0;
const D7: f64 = 69997945.0 / 29380423.0;

/// The end of an adaptive step of length `h` from `t`: `t_end` when the
/// step reaches it or falls short by under 1%, else the next source corner
/// when the step would pass it (the error estimate cannot see a kink),
/// else t + h; `h` is shortened to match. A step at or below `h_min` that
/// is not the last is an underflow, naming `component` (the worst of the
/// last rejected step) when known.
fn plan_step<S: OdeSystem + ?Sized>(
    sys: &S,
    t: f64,
    t_end: f64,
    h: &mut f64,
    h_min: f64,
    component: Option<usize>,
) -> Result<f64, SolveError> {
    let mut last = false;
    if t + 1.01 * *h >= t_end {
        *h = t_end - t;
        last = true;
    }
    let mut t_land = if last { t_end } else { f64::NAN };
    if let Some(bp) = sys.next_breakpoint(t)
        && bp < t + *h * 1.01
        && bp < t_end
    {
        *h = bp - t;
        t_land = bp;
        last = false;
    }
    if (h.is_nan() || *h <= h_min) && !last {
        return Err(SolveError::StepSizeUnderflow {
            t,
            h: *h,
            component,
        });
    }
    Ok(if t_land.is_nan() { t + *h } else { t_land })
}

/// Emits every sample time up to `t`, the end of a step: the end state `y`
/// itself at `t`, before it the step's interpolant `interp(ts, out)` at
/// the sample time ts, projected as the system projects states.
#[allow(clippy::too_many_arguments)]
fn emit_samples<S: OdeSystem + ?Sized>(
    sys: &mut S,
    samples: &mut SampleTimes<'_>,
    next_sample: &mut Option<f64>,
    t: f64,
    y: &[f64],
    sample: &mut [f64],
    on_sample: &mut ObserveFn<'_>,
    mut interp: impl FnMut(f64, &mut [f64]),
) -> Result<(), SolveError> {
    while let Some(ts) = *next_sample {
        if ts > t {
            break;
        }
        if ts >= t {
            sys.observe_sample(ts, y)?;
            on_sample(ts, y)?;
        } else {
            interp(ts, sample);
            sys.project_sample(sample);
            sys.observe_sample(ts, sample)?;
            on_sample(ts, sample)?;
        }
        *next_sample = samples.next_time();
    }
    Ok(())
}

/// The cubic Hermite interpolant at `theta` in [0, 1] of a step of length
/// `h` from (`y0`, slope `f0`) to (`y1`, slope `f1`), into `out`.
fn hermite(theta: f64, h: f64, y0: &[f64], f0: &[f64], y1: &[f64], f1: &[f64], out: &mut [f64]) {
    let t2 = theta * theta;
    let t3 = t2 * theta;
    let h00 = 2.0 * t3 - 3.0 * t2 + 1.0;
    let h10 = t3 - 2.0 * t2 + theta;
    let h01 = -2.0 * t3 + 3.0 * t2;
    let h11 = t3 - t2;
    for i in 0..out.len() {
        out[i] = h00 * y0[i] + h10 * h * f0[i] + h01 * y1[i] + h11 * h * f1[i];
    }
}

/// Hairer's HINIT (Solving ODEs I, sec. II.4) for a method of order
/// `order`: one evaluation of f, into `f1`, at an explicit Euler step from
/// (t, y) with derivative `f0`.
#[allow(clippy::too_many_arguments)]
fn initial_step<S: OdeSystem + ?Sized>(
    sys: &mut S,
    t: f64,
    y: &[f64],
    f0: &[f64],
    f1: &mut [f64],
    ytmp: &mut [f64],
    scale: &mut [f64],
    tol: Tol,
    h_max: f64,
    order: i32,
) -> Result<f64, SolveError> {
    scale.copy_from_slice(y);
    let d0 = error_norm(y, scale, tol);
    let d1 = error_norm(f0, scale, tol);
    let mut h = if d0 < 1e-10 || d1 < 1e-10 {
        1e-6
    } else {
        0.01 * d0 / d1
    };
    h = h.min(h_max);
    for i in 0..y.len() {
        ytmp[i] = y[i] + h * f0[i];
    }
    sys.rhs(t + h, ytmp, f1)?;
    for i in 0..y.len() {
        f1[i] = (f1[i] - f0[i]) / h;
    }
    let d2 = error_norm(f1, scale, tol);
    let dm = d1.max(d2);
    let h1 = if dm <= 1e-15 {
        (h * 1e-3).max(1e-6)
    } else {
        (0.01 / dm).powf(1.0 / order as f64)
    };
    Ok((100.0 * h).min(h1))
}

/// The component with the largest weighted error |e_i| / (atol + rtol
/// scale_i), a non-finite one first: where a step that cannot meet the
/// tolerance fails.
fn worst_component(e: &[f64], scale: &[f64], tol: Tol) -> Option<usize> {
    let mut worst: Option<(usize, f64)> = None;
    for (i, (&ei, &si)) in e.iter().zip(scale).enumerate() {
        let q = if ei.is_finite() {
            weighted(ei, si, tol).abs()
        } else {
            f64::INFINITY
        };
        if worst.is_none_or(|(_, w)| q > w) {
            worst = Some((i, q));
        }
    }
    worst.map(|(i, _)| i)
}

/// The size of the error estimate `v` against the tolerance (scale `y`):
/// each component weighted by 1 / (atol + rtol |y_i|), then their RMS or
/// largest value ([`ErrorNorm`]).
fn error_norm(v: &[f64], y: &[f64], tol: Tol) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let q = v.iter().zip(y).map(|(&vi, &yi)| weighted(vi, yi, tol));
    match tol.norm {
        ErrorNorm::Max => q.map(f64::abs).fold(0.0, f64::max),
        ErrorNorm::Rms => (q.map(|q| q * q).sum::<f64>() / v.len() as f64).sqrt(),
    }
}

/// An error `e` of a component of scale `y` in units of its tolerance.
#[inline]
fn weighted(e: f64, y: f64, tol: Tol) -> f64 {
    e / (tol.atol + tol.rtol * y.abs())
}

#[allow(clippy::too_many_arguments)]
fn dopri5<S: OdeSystem + ?Sized>(
    sys: &mut S,
    y: &mut [f64],
    t0: f64,
    t_end: f64,
    tol: Tol,
    h0: Option<f64>,
    h_max: Option<f64>,
    samples: &mut SampleTimes<'_>,
    on_sample: &mut ObserveFn<'_>,
    on_step: &mut ObserveFn<'_>,
) -> Result<IntegrationStats, SolveError> {
    let n = y.len();
    let mut stats = IntegrationStats::default();
    let mut k: [Vec<f64>; 7] = std::array::from_fn(|_| vec![0.0; n]);
    let mut ytmp = vec![0.0; n];
    let mut y_new = vec![0.0; n];
    let mut err = vec![0.0; n];
    let mut scale = vec![0.0; n];
    let mut sample = vec![0.0; n];
    // rcont[0..5] of CONTD5.
    let mut rc: [Vec<f64>; 5] = std::array::from_fn(|_| vec![0.0; n]);
    let h_max = h_max.unwrap_or(f64::INFINITY).min((t_end - t0).max(0.0));
    let n_switch = sys.switch_count();
    let mut g_old = vec![0.0; n_switch];
    let mut g_new = vec![0.0; n_switch];
    // The switches at the last stage seen before a sign change, and at the
    // stage being tested.
    let mut g_prev = vec![0.0; n_switch];
    let mut g_cur = vec![0.0; n_switch];
    let mut approach: Option<Approach> = None;

    let mut t = t0;
    let mut next_sample = samples.emit_at_start(sys, t, y, on_sample)?;
    if t_end <= t0 {
        return Ok(stats);
    }

    sys.rhs(t, y, &mut k[0])?;
    stats.rhs_evals += 1;
    if n_switch > 0 {
        sys.switches(y, &mut g_old);
    }
    let mut h = match h0 {
        Some(h) => h,
        None => {
            let [k1, k2, ..] = &mut k;
            stats.rhs_evals += 1;
            initial_step(sys, t, y, k1, k2, &mut ytmp, &mut scale, tol, h_max, 5)?
        }
    };
    h = h.min(h_max);
    let mut last_rejected = false;

    while t < t_end {
        let h_min = 1e-14 * t.abs().max(t_end.abs()).max(1e-300);
        let t_new = plan_step(sys, t, t_end, &mut h, h_min, None)?;
        let [k1, k2, k3, k4, k5, k6, k7] = &mut k;
        // A trial stage may leave a law's domain (a resistance through
        // zero, a Newton solve that fails) where the accepted solution never
        // goes: that rejects the step, as a non-finite error estimate does.
        // The first sign change of a switch, as a fraction of the step: the
        // switches are tested at each stage. A stage before the change
        // depends only on earlier stages, all before it too, so the secant
        // between the last stage before and the first after is not polluted
        // by the kink (the end of a step across it is).
        let mut cross: Option<f64> = None;
        let mut c_prev = 0.0;
        if n_switch > 0 {
            g_prev.copy_from_slice(&g_old);
        }
        let staged = (|| -> Result<(), SolveError> {
            let mut watch = |sys: &mut S, c: f64, ys: &[f64]| {
                if n_switch == 0 || cross.is_some() {
                    return;
                }
                sys.switches(ys, &mut g_cur);
                match first_crossing(&g_prev, &g_cur) {
                    Some(th) => cross = Some(c_prev + (c - c_prev) * th),
                    None => {
                        std::mem::swap(&mut g_prev, &mut g_cur);
                        c_prev = c;
                    }
                }
            };
            for i in 0..n {
                ytmp[i] = y[i] + h * A21 * k1[i];
            }
            sys.rhs(t + C2 * h, &ytmp, k2)?;
            watch(sys, C2, &ytmp);
            for i in 0..n {
                ytmp[i] = y[i] + h * (A31 * k1[i] + A32 * k2[i]);
            }
            sys.rhs(t + C3 * h, &ytmp, k3)?;
            watch(sys, C3, &ytmp);
            for i in 0..n {
                ytmp[i] = y[i] + h * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i]);
            }
            sys.rhs(t + C4 * h, &ytmp, k4)?;
            watch(sys, C4, &ytmp);
            for i in 0..n {
                ytmp[i] = y[i] + h * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]);
            }
            sys.rhs(t + C5 * h, &ytmp, k5)?;
            watch(sys, C5, &ytmp);
            for i in 0..n {
                ytmp[i] = y[i]
                    + h * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i]);
            }
            sys.rhs(t_new, &ytmp, k6)?;
            watch(sys, 1.0, &ytmp);
            for i in 0..n {
                y_new[i] = y[i]
                    + h * (A71 * k1[i] + A73 * k3[i] + A74 * k4[i] + A75 * k5[i] + A76 * k6[i]);
            }
            sys.rhs(t_new, &y_new, k7)?;
            if n_switch > 0 {
                // At the step's end, for the step test and the next step.
                sys.switches(&y_new, &mut g_new);
                if cross.is_none() {
                    cross = first_crossing(&g_prev, &g_new).map(|th| c_prev + (1.0 - c_prev) * th);
                }
            }
            Ok(())
        })();
        if let Err(fault) = staged {
            if !fault.is_trial_fault() {
                return Err(fault);
            }
            stats.rejected_steps += 1;
            h *= 0.1;
            last_rejected = true;
            if h <= h_min {
                // Steps this short still fail: the fault is real.
                return Err(fault);
            }
            continue;
        }
        stats.rhs_evals += 6;
        for i in 0..n {
            err[i] =
                h * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]);
            scale[i] = y[i].abs().max(y_new[i].abs());
        }
        let e = error_norm(&err, &scale, tol);
        // A switch inside the step: end the step just before it, then cross
        // it in a step of the crossing width.
        if let Some(theta) = cross.filter(|_| e.is_finite()) {
            let mut ap = approach.unwrap_or(Approach {
                width: (SWITCH_WIDTH * h).max(4.0 * h_min),
                resume: h,
                t_after: t_new,
                tries: 0,
            });
            ap.t_after = ap.t_after.min(t_new);
            if h > ap.width && ap.tries < SWITCH_MAX_RETRIES {
                let before = theta * h - 0.5 * ap.width;
                let mut h_try = if before > 0.5 * ap.width {
                    before
                } else {
                    ap.width
                };
                if e > 1.0 {
                    h_try = h_try.min(h * (0.9 * e.powf(-0.2)).clamp(0.2, 1.0));
                }
                ap.tries += 1;
                approach = Some(ap);
                stats.switch_retries += 1;
                h = h_try.max(ap.width);
                last_rejected = true;
                continue;
            }
            // Counted only when crossed in a short step (not by one whose
            // retries ran out).
            if e <= 1.0 && h <= ap.width {
                stats.switches_located += 1;
            }
            approach = Some(ap);
        }
        if !e.is_finite() {
            // A stage left the model's domain or overflowed: shrink hard.
            stats.rejected_steps += 1;
            h *= 0.1;
            last_rejected = true;
            if h <= h_min {
                return Err(SolveError::StepSizeUnderflow {
                    t,
                    h,
                    component: worst_component(&err, &scale, tol),
                });
            }
            continue;
        }
        let fac = (0.9 * e.powf(-0.2)).clamp(0.2, 10.0);
        if e > 1.0 {
            stats.rejected_steps += 1;
            h *= fac.min(1.0);
            last_rejected = true;
            if h <= h_min {
                return Err(SolveError::StepSizeUnderflow {
                    t,
                    h,
                    component: worst_component(&err, &scale, tol),
                });
            }
            continue;
        }
        // Accepted: dense-output coefficients before y is overwritten.
        for i in 0..n {
            let ydiff = y_new[i] - y[i];
            let bspl = h * k1[i] - ydiff;
            rc[0][i] = y[i];
            rc[1][i] = ydiff;
            rc[2][i] = bspl;
            rc[3][i] = ydiff - h * k7[i] - bspl;
            rc[4][i] =
                h * (D1 * k1[i] + D3 * k3[i] + D4 * k4[i] + D5 * k5[i] + D6 * k6[i] + D7 * k7[i]);
        }
        let t_old = t;
        // y_old for the projection hook is rc[0].
        let changed = sys.after_step(t_old, &rc[0], t_new, &mut y_new);
        y.copy_from_slice(&y_new);
        t = t_new;
        stats.steps += 1;
        if changed {
            sys.rhs(t, y, k1)?;
            stats.rhs_evals += 1;
            if n_switch > 0 {
                sys.switches(y, &mut g_old);
            }
        } else {
            // FSAL: the last stage is f(t_new, y_new).
            std::mem::swap(k1, k7);
            // ... and the switches there were evaluated for the step test.
            std::mem::swap(&mut g_old, &mut g_new);
        }
        emit_samples(
            sys,
            samples,
            &mut next_sample,
            t,
            y,
            &mut sample,
            on_sample,
            |ts, out| {
                let theta = (ts - t_old) / h;
                let theta1 = 1.0 - theta;
                for i in 0..n {
                    out[i] = rc[0][i]
                        + theta
                            * (rc[1][i]
                                + theta1 * (rc[2][i] + theta * (rc[3][i] + theta1 * rc[4][i])));
                }
            },
        )?;
        on_step(t, y)?;
        let mut h_next = h * fac;
        if last_rejected {
            h_next = h_next.min(h);
        }
        // Past a switch (this step crossed it): resume with the step that
        // first saw it; the error control shortens it if the new regime
        // needs that. Before it: the next step ends just after the time by
        // which a trial step saw the switch crossed, so it sees it again
        // (from stages closer to it) or finds it gone.
        if let Some(ap) = approach {
            approach = if h <= ap.width {
                h_next = ap.resume;
                None
            } else if t < ap.t_after {
                h_next = h_next.min(ap.t_after - t + 0.5 * ap.width);
                Some(Approach { tries: 0, ..ap })
            } else {
                None
            };
        }
        last_rejected = false;
        h = h_next.min(h_max);
    }
    Ok(stats)
}

/// ROS34PW2 (Rang & Angermann, BIT 45:761, 2005, Table 4.1 in Hairer's
/// form): gamma, a_ij, gamma_ij, b_i and the embedded bh_i. Its stage
/// times are the row sums of a, its time coefficients d_i = gamma +
/// sum_j gamma_ij.
const RW_GAMMA: f64 = 4.358_665_215_084_59e-1;
const RW_A: [[f64; 3]; 4] = [
    [0.0, 0.0, 0.0],
    [8.717_330_430_169_18e-1, 0.0, 0.0],
    [8.445_706_001_536_942e-1, -1.129_906_423_639_798e-1, 0.0],
    [0.0, 0.0, 1.0],
];
const RW_G: [[f64; 3]; 4] = [
    [0.0, 0.0, 0.0],
    [-8.717_330_430_169_18e-1, 0.0, 0.0],
    [-9.033_805_701_304_408e-1, 5.418_067_238_809_533e-2, 0.0],
    [
        2.421_238_070_609_535e-1,
        -1.223_250_583_904_515,
        5.452_602_553_351_021e-1,
    ],
];
const RW_B: [f64; 4] = [
    2.421_238_070_609_535e-1,
    -1.223_250_583_904_515,
    1.545_260_255_335_102,
    4.358_665_215_084_59e-1,
];
const RW_BH: [f64; 4] = [
    3.781_090_314_581_937e-1,
    -9.604_229_221_242_318e-2,
    0.5,
    2.179_332_607_542_295e-1,
];

/// ROS34PW2's W at (t, `y`), the point of the latest rhs call (where f is
/// `f0`): the non-positive part of the diagonal Jacobian into `jd`, df/dt
/// into `ft`; returns the evaluations spent.
fn linearise<S: OdeSystem + ?Sized>(
    sys: &mut S,
    t: f64,
    y: &[f64],
    f0: &[f64],
    jd: &mut [f64],
    ft: &mut [f64],
    h: f64,
) -> Result<u64, SolveError> {
    sys.diagonal_jacobian(t, y, jd)?;
    jd.iter_mut().for_each(|j| *j = j.min(0.0));
    time_derivative(sys, t, y, f0, ft, h)
}

/// df/dt at fixed state, by a difference over 1e-7 of the step `h` (one
/// evaluation, backwards when a source corner is that close ahead), into
/// `ft`; returns the evaluations spent.
fn time_derivative<S: OdeSystem + ?Sized>(
    sys: &mut S,
    t: f64,
    y: &[f64],
    f0: &[f64],
    ft: &mut [f64],
    h: f64,
) -> Result<u64, SolveError> {
    let mut dt = 1e-7 * h.abs().max(1e-300);
    if sys.next_breakpoint(t).is_some_and(|bp| bp <= t + dt) {
        dt = -dt;
    }
    let dt = (t + dt) - t;
    if dt == 0.0 {
        ft.fill(0.0);
        return Ok(0);
    }
    match sys.rhs(t + dt, y, ft) {
        Ok(()) => {
            for (d, &f) in ft.iter_mut().zip(f0) {
                *d = (*d - f) / dt;
            }
        }
        // Where f cannot be evaluated just beside (t, y), W leaves the time
        // column out (still a W-method, see [`Stepper::Rosenbrock`]).
        Err(e) if e.is_trial_fault() => ft.fill(0.0),
        Err(e) => return Err(e),
    }
    Ok(1)
}

/// [`Stepper::Rosenbrock`]: the Rosenbrock-W method ROS34PW2, made
/// autonomous with time as a state whose W column is df/dt (a device driven
/// by a source otherwise lags its slow manifold by O(h), and the error
/// estimate forces tiny steps). Stage i (k_i of the order of h):
///
///   (I - gamma h W) k_i = h f(t + c_i h, y + sum_j a_ij k_j)
///                         + h W sum_j gamma_ij k_j + h^2 d_i df/dt,
///
/// y_new = y + sum b_i k_i, error estimate sum (b_i - bh_i) k_i (order 2,
/// so steps scale with e^{-1/3}). W is the non-positive part of the
/// diagonal Jacobian: I - gamma h W is a positive diagonal (a positive
/// entry, a growing mode, is not stiff), and a W-method keeps its order
/// for any W. Three new evaluations per step, plus f at the accepted point
/// (the next step's first stage, and with the step's start the cubic
/// Hermite interpolant of the samples) and one for df/dt. Steps land on
/// breakpoints and t_end as in [`dopri5`].
#[allow(clippy::too_many_arguments)]
fn rosenbrock<S: OdeSystem + ?Sized>(
    sys: &mut S,
    y: &mut [f64],
    t0: f64,
    t_end: f64,
    tol: Tol,
    h0: Option<f64>,
    h_max: Option<f64>,
    samples: &mut SampleTimes<'_>,
    on_sample: &mut ObserveFn<'_>,
    on_step: &mut ObserveFn<'_>,
) -> Result<IntegrationStats, SolveError> {
    let n = y.len();
    let mut stats = IntegrationStats::default();
    let mut f0 = vec![0.0; n];
    let mut k: [Vec<f64>; 4] = std::array::from_fn(|_| vec![0.0; n]);
    let mut fs = vec![0.0; n];
    let mut jd = vec![0.0; n];
    let mut ft = vec![0.0; n];
    let mut ytmp = vec![0.0; n];
    let mut y_old = vec![0.0; n];
    let mut f_old = vec![0.0; n];
    let mut err = vec![0.0; n];
    let mut scale = vec![0.0; n];
    let mut sample = vec![0.0; n];
    let h_max = h_max.unwrap_or(f64::INFINITY).min((t_end - t0).max(0.0));
    let c: [f64; 4] = std::array::from_fn(|i| RW_A[i].iter().sum());
    let d: [f64; 4] = std::array::from_fn(|i| RW_GAMMA + RW_G[i].iter().sum::<f64>());

    let mut t = t0;
    let mut next_sample = samples.emit_at_start(sys, t, y, on_sample)?;
    if t_end <= t0 {
        return Ok(stats);
    }
    sys.rhs(t, y, &mut f0)?;
    stats.rhs_evals += 1;
    let mut h = match h0 {
        Some(h) => h,
        None => {
            let h = initial_step(
                sys, t, y, &f0, &mut fs, &mut ytmp, &mut scale, tol, h_max, 3,
            )?;
            // The Jacobian is taken at the point of the latest rhs call.
            sys.rhs(t, y, &mut f0)?;
            stats.rhs_evals += 2;
            h
        }
    };
    stats.rhs_evals += linearise(sys, t, y, &f0, &mut jd, &mut ft, h)?;
    h = h.min(h_max);
    let mut last_rejected = false;
    let mut worst: Option<usize> = None;

    'steps: while t < t_end {
        let h_min = 1e-14 * t.abs().max(t_end.abs()).max(1e-300);
        let t_new = plan_step(sys, t, t_end, &mut h, h_min, worst)?;
        let gh = RW_GAMMA * h;
        for i in 0..4 {
            let (done, rest) = k.split_at_mut(i);
            let ki = &mut rest[0];
            if i == 0 {
                fs.copy_from_slice(&f0);
            } else {
                for m in 0..n {
                    ytmp[m] = y[m] + (0..i).map(|j| RW_A[i][j] * done[j][m]).sum::<f64>();
                }
                let ts = if i == 3 { t_new } else { t + c[i] * h };
                if let Err(fault) = sys.rhs(ts, &ytmp, &mut fs) {
                    // A trial stage outside a law's domain rejects the step.
                    if !fault.is_trial_fault() {
                        return Err(fault);
                    }
                    stats.rejected_steps += 1;
                    h *= 0.1;
                    last_rejected = true;
                    if h <= h_min {
                        return Err(fault);
                    }
                    continue 'steps;
                }
                stats.rhs_evals += 1;
            }
            for m in 0..n {
                let coupled: f64 = (0..i).map(|j| RW_G[i][j] * done[j][m]).sum();
                ki[m] =
                    (h * fs[m] + h * jd[m] * coupled + h * h * d[i] * ft[m]) / (1.0 - gh * jd[m]);
            }
        }
        for m in 0..n {
            let mut yn = y[m];
            let mut e = 0.0;
            for i in 0..4 {
                yn += RW_B[i] * k[i][m];
                e += (RW_B[i] - RW_BH[i]) * k[i][m];
            }
            ytmp[m] = yn;
            err[m] = e;
            scale[m] = y[m].abs().max(yn.abs());
        }
        let e = error_norm(&err, &scale, tol);
        if e.is_nan() || e > 1.0 {
            stats.rejected_steps += 1;
            h *= if e.is_finite() {
                (0.9 * e.powf(-1.0 / 3.0)).clamp(0.2, 1.0)
            } else {
                0.1
            };
            last_rejected = true;
            worst = worst_component(&err, &scale, tol);
            if h <= h_min {
                return Err(SolveError::StepSizeUnderflow {
                    t,
                    h,
                    component: worst,
                });
            }
            continue;
        }
        // Accepted.
        y_old.copy_from_slice(y);
        std::mem::swap(&mut f_old, &mut f0);
        y.copy_from_slice(&ytmp);
        sys.after_step(t, &y_old, t_new, y);
        let t_old = t;
        t = t_new;
        stats.steps += 1;
        sys.rhs(t, y, &mut f0)?;
        stats.rhs_evals += 1;
        stats.rhs_evals += linearise(sys, t, y, &f0, &mut jd, &mut ft, h)?;
        emit_samples(
            sys,
            samples,
            &mut next_sample,
            t,
            y,
            &mut sample,
            on_sample,
            |ts, out| hermite((ts - t_old) / h, h, &y_old, &f_old, y, &f0, out),
        )?;
        on_step(t, y)?;
        let fac = if e > 0.0 {
            (0.9 * e.powf(-1.0 / 3.0)).clamp(0.2, 5.0)
        } else {
            5.0
        };
        let mut h_next = h * fac;
        if last_rejected {
            h_next = h_next.min(h);
        }
        last_rejected = false;
        h = h_next.min(h_max);
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// y' = lambda y, exact e^{lambda t}.
    struct Exp(f64);
    impl OdeSystem for Exp {
        fn dim(&self) -> usize {
            1
        }
        fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), SolveError> {
            dy[0] = self.0 * y[0];
            Ok(())
        }
    }

    fn run(st: Stepper, sampling: Sampling) -> (Vec<(f64, f64)>, IntegrationStats) {
        let mut y = [1.0];
        let mut out = Vec::new();
        let stats = integrate(
            &mut Exp(-1.3),
            &mut y,
            0.0,
            2.0,
            &st,
            &sampling,
            &mut |t, y| {
                out.push((t, y[0]));
                Ok(())
            },
            &mut |_, _| Ok(()),
        )
        .unwrap();
        (out, stats)
    }

    #[test]
    fn fixed_steps_ignore_samples_and_converge_with_their_order() {
        let (out, stats) = run(Stepper::Euler { dt: 0.1 }, Sampling::Uniform(0.25));
        let times: Vec<f64> = out.iter().map(|p| p.0).collect();
        assert_eq!(times, vec![0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]);
        // Steps of 0.1 from 0 to 2, whatever the samples: 20.
        assert_eq!(stats.steps, 20);
        assert_eq!(stats.rhs_evals, 20);
        // Error ratio for halving dt: ~2 (Euler), ~16 (RK4).
        let err = |st| {
            let (o, _) = run(st, Sampling::Ends);
            (o[1].1 - (-2.6f64).exp()).abs()
        };
        let r_e = err(Stepper::Euler { dt: 0.02 }) / err(Stepper::Euler { dt: 0.01 });
        assert!((r_e - 2.0).abs() < 0.05, "{r_e}");
        let r_4 = err(Stepper::Rk4 { dt: 0.02 }) / err(Stepper::Rk4 { dt: 0.01 });
        assert!((r_4 - 16.0).abs() < 0.5, "{r_4}");
    }

    /// Samples between steps, against runs that land on every sample
    /// (integrated to that sample time: full steps, then one short step):
    /// Euler's linear interpolant is that short step exactly; RK4's cubic
    /// Hermite is fourth order, so the difference falls ~16x when dt
    /// halves. Samples every 0.0125 lie inside steps of 0.05 and 0.025.
    #[test]
    fn fixed_step_samples_interpolate_with_the_methods_order() {
        let landed = |st: Stepper, ts: f64| {
            let mut y = [1.0];
            integrate(
                &mut Exp(-1.3),
                &mut y,
                0.0,
                ts,
                &st,
                &Sampling::Ends,
                &mut |_, _| Ok(()),
                &mut |_, _| Ok(()),
            )
            .unwrap();
            y[0]
        };
        let diff = |st: Stepper, dt: f64| {
            let (interp, stats) = run(st, Sampling::Uniform(0.0125));
            assert_eq!(interp.len(), 161);
            assert_eq!(stats.steps, (2.0f64 / dt).round() as u64);
            interp
                .iter()
                .map(|&(ts, yi)| (yi - landed(st, ts)).abs())
                .fold(0.0, f64::max)
        };
        // Euler's short step from the step start is its linear interpolant:
        // equal to rounding.
        let d_e = diff(Stepper::Euler { dt: 0.05 }, 0.05);
        assert!(d_e < 1e-15, "Euler interpolation differs by {d_e}");
        // (Pre-asymptotic ratios at dt 0.4, 0.2, 0.1: 20, 11, 14.)
        let r_4 = diff(Stepper::Rk4 { dt: 0.05 }, 0.05) / diff(Stepper::Rk4 { dt: 0.025 }, 0.025);
        assert!((13.0..19.0).contains(&r_4), "RK4 Hermite ratio {r_4}");
    }

    #[test]
    fn dopri5_meets_tolerance_and_dense_output_is_accurate() {
        let st = Stepper::Dopri5 {
            rtol: 1e-10,
            atol: 1e-12,
            h0: None,
            h_max: None,
            norm: ErrorNorm::Rms,
        };
        let (out, stats) = run(st, Sampling::Uniform(0.01));
        assert_eq!(out.len(), 201);
        assert_eq!(out.last().unwrap().0, 2.0);
        // Dense output between steps: 4th order, well inside 1e-8 here.
        let worst = out
            .iter()
            .map(|&(t, y)| (y - (-1.3 * t).exp()).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-9, "{worst}");
        // Far fewer steps than samples: dense output does not clamp steps.
        assert!(stats.steps < 100, "{stats:?}");
    }

    #[test]
    fn bad_options_are_errors() {
        let mut y = [1.0];
        let r = integrate(
            &mut Exp(1.0),
            &mut y,
            0.0,
            1.0,
            &Stepper::Rk4 { dt: 0.0 },
            &Sampling::Ends,
            &mut |_, _| Ok(()),
            &mut |_, _| Ok(()),
        );
        assert!(matches!(r, Err(SolveError::InvalidOption(_))));
        let r = integrate(
            &mut Exp(1.0),
            &mut y,
            0.0,
            1.0,
            &Stepper::Rk4 { dt: 0.1 },
            &Sampling::Times(vec![0.5, 0.2]),
            &mut |_, _| Ok(()),
            &mut |_, _| Ok(()),
        );
        assert!(matches!(r, Err(SolveError::InvalidOption(_))));
    }

    /// y' = 1 below y = 1, y' = 3 above it (the rate jumps at a switch of
    /// the state): y(2) = 4 exactly. Stepping across the jump leaves an
    /// error of the order of the tolerance and costs rejected steps;
    /// locating it ends a step just before the switch and crosses it in a
    /// step of relative length SWITCH_WIDTH, so the error falls to round-off
    /// level at the same tolerance.
    struct Kink {
        locate: bool,
    }
    impl OdeSystem for Kink {
        fn dim(&self) -> usize {
            1
        }
        fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), SolveError> {
            dy[0] = if y[0] < 1.0 { 1.0 } else { 3.0 };
            Ok(())
        }
        fn switch_count(&self) -> usize {
            usize::from(self.locate)
        }
        fn switches(&self, y: &[f64], g: &mut [f64]) {
            g[0] = y[0] - 1.0;
        }
    }

    /// One moving state among 99 at rest: y0 = sin(10 t). The RMS norm
    /// divides its error by sqrt(100) = 10, the max norm does not, so at
    /// the same tolerance the max norm's error is several times smaller.
    struct OneOfMany;
    impl OdeSystem for OneOfMany {
        fn dim(&self) -> usize {
            100
        }
        fn rhs(&mut self, t: f64, _y: &[f64], dy: &mut [f64]) -> Result<(), SolveError> {
            dy.fill(0.0);
            dy[0] = 10.0 * (10.0 * t).cos();
            Ok(())
        }
    }

    #[test]
    fn the_max_norm_keeps_every_component_within_tolerance() {
        let err = |norm: ErrorNorm| {
            let mut y = [1.0; 100];
            y[0] = 0.0;
            let st = Stepper::Dopri5 {
                rtol: 0.0,
                atol: 1e-6,
                h0: None,
                h_max: None,
                norm,
            };
            let mut worst = 0.0f64;
            integrate(
                &mut OneOfMany,
                &mut y,
                0.0,
                3.0,
                &st,
                &Sampling::Ends,
                &mut |_, _| Ok(()),
                &mut |t, y| {
                    worst = worst.max((y[0] - (10.0 * t).sin()).abs());
                    Ok(())
                },
            )
            .unwrap();
            worst
        };
        let (rms, max) = (err(ErrorNorm::Rms), err(ErrorNorm::Max));
        assert!(max < 1e-5, "max norm: {max:e}");
        assert!(rms > 3.0 * max, "rms {rms:e} vs max {max:e}");
    }

    /// A rate that jumps by 1e20 at y = 1: no step short of round-off
    /// meets atol across it, so the step underflows, naming the component
    /// with the largest error estimate (the run names its device).
    struct Cliff;
    impl OdeSystem for Cliff {
        fn dim(&self) -> usize {
            2
        }
        fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), SolveError> {
            dy[0] = 1.0;
            dy[1] = if y[1] < 1.0 { 1.0 } else { 1e20 };
            Ok(())
        }
    }

    #[test]
    fn a_step_underflow_names_the_worst_component() {
        for st in [
            Stepper::Dopri5 {
                rtol: 1e-8,
                atol: 1e-10,
                h0: None,
                h_max: None,
                norm: ErrorNorm::Rms,
            },
            Stepper::Rosenbrock {
                rtol: 1e-8,
                atol: 1e-10,
                h0: None,
                h_max: None,
                norm: ErrorNorm::Rms,
            },
        ] {
            let mut y = [0.0, 0.0];
            let r = integrate(
                &mut Cliff,
                &mut y,
                0.0,
                2.0,
                &st,
                &Sampling::Ends,
                &mut |_, _| Ok(()),
                &mut |_, _| Ok(()),
            );
            match r {
                Err(SolveError::StepSizeUnderflow { t, component, .. }) => {
                    assert_eq!(component, Some(1), "{st:?}");
                    assert!((t - 1.0).abs() < 1e-6, "{st:?}: t = {t}");
                }
                other => panic!("{st:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn dopri5_locates_a_switch_instead_of_stepping_across_it() {
        let run = |locate: bool| {
            let mut y = [0.0];
            let st = Stepper::Dopri5 {
                rtol: 1e-6,
                atol: 1e-6,
                h0: Some(0.3),
                h_max: None,
                norm: ErrorNorm::Rms,
            };
            let stats = integrate(
                &mut Kink { locate },
                &mut y,
                0.0,
                2.0,
                &st,
                &Sampling::Ends,
                &mut |_, _| Ok(()),
                &mut |_, _| Ok(()),
            )
            .unwrap();
            ((y[0] - 4.0).abs(), stats)
        };
        let (located, s_loc) = run(true);
        let (blind, s_blind) = run(false);
        assert_eq!(s_blind.switches_located, 0);
        assert_eq!(s_loc.switches_located, 1, "{s_loc:?}");
        // The crossing step is 1e-9 of the 0.3 step that saw the switch:
        // its error is a few times rate jump x length = 2 x 3e-10 (seen:
        // 9.6e-10), against 1.4e-5 stepping blindly (above the tolerance).
        assert!(located < 3e-9, "located: error {located:e} ({s_loc:?})");
        assert!(
            blind > 100.0 * located,
            "blind {blind:e} vs located {located:e}"
        );
        assert!(
            s_loc.rejected_steps < s_blind.rejected_steps,
            "{s_loc:?} vs {s_blind:?}"
        );
    }

    /// y' = lambda y with a chosen diagonal "Jacobian" for ROS34PW2.
    struct ExpW {
        lambda: f64,
        w: f64,
    }
    impl OdeSystem for ExpW {
        fn dim(&self) -> usize {
            1
        }
        fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), SolveError> {
            dy[0] = self.lambda * y[0];
            Ok(())
        }
        fn diagonal_jacobian(
            &mut self,
            _t: f64,
            _y: &[f64],
            d: &mut [f64],
        ) -> Result<(), SolveError> {
            d[0] = self.w;
            Ok(())
        }
    }

    /// ROS34PW2 is third order whatever W is (a W-method): with the exact
    /// Jacobian, a wrong one and none, the error at t = 2 falls ~8x when
    /// the step halves. Tolerances this loose accept every step, so the
    /// steps are h_max.
    #[test]
    fn rosenbrock_is_third_order_for_any_jacobian() {
        for w in [-1.3, -10.0, 0.0] {
            let err = |dt: f64| {
                let mut y = [1.0];
                let st = Stepper::Rosenbrock {
                    rtol: 1e6,
                    atol: 1e6,
                    h0: Some(dt),
                    h_max: Some(dt),
                    norm: ErrorNorm::Rms,
                };
                let stats = integrate(
                    &mut ExpW { lambda: -1.3, w },
                    &mut y,
                    0.0,
                    2.0,
                    &st,
                    &Sampling::Ends,
                    &mut |_, _| Ok(()),
                    &mut |_, _| Ok(()),
                )
                .unwrap();
                assert_eq!(stats.steps, (2.0 / dt).round() as u64);
                (y[0] - (-2.6f64).exp()).abs()
            };
            let r = err(0.005) / err(0.0025);
            assert!((7.5..8.5).contains(&r), "W = {w}: ratio {r}");
        }
    }

    /// y' = -lambda (y - cos t) - sin t, y(0) = 1: the solution is cos t,
    /// and lambda = 1e4 makes it stiff. Dopri5's steps are held to its
    /// stability limit (~3.3 / lambda) whatever the tolerance; ROS34PW2 with the
    /// exact diagonal takes the steps its accuracy needs. Both meet the
    /// tolerance; samples between ROS34PW2's steps (cubic Hermite) too.
    struct Stiff;
    impl OdeSystem for Stiff {
        fn dim(&self) -> usize {
            1
        }
        fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), SolveError> {
            dy[0] = -1e4 * (y[0] - t.cos()) - t.sin();
            Ok(())
        }
        fn diagonal_jacobian(
            &mut self,
            _t: f64,
            _y: &[f64],
            d: &mut [f64],
        ) -> Result<(), SolveError> {
            d[0] = -1e4;
            Ok(())
        }
    }

    #[test]
    fn rosenbrock_steps_through_a_stiff_problem() {
        let run = |st: Stepper| {
            let mut y = [1.0];
            let mut worst = 0.0f64;
            let stats = integrate(
                &mut Stiff,
                &mut y,
                0.0,
                2.0,
                &st,
                &Sampling::Uniform(0.01),
                &mut |t, y| {
                    worst = worst.max((y[0] - t.cos()).abs());
                    Ok(())
                },
                &mut |_, _| Ok(()),
            )
            .unwrap();
            (worst, stats)
        };
        let tol = |rosen: bool| {
            let (rtol, atol, h0, h_max) = (1e-6, 1e-8, None, None);
            if rosen {
                Stepper::Rosenbrock {
                    rtol,
                    atol,
                    h0,
                    h_max,
                    norm: ErrorNorm::Rms,
                }
            } else {
                Stepper::Dopri5 {
                    rtol,
                    atol,
                    h0,
                    h_max,
                    norm: ErrorNorm::Rms,
                }
            }
        };
        let (e_r, s_r) = run(tol(true));
        let (e_d, s_d) = run(tol(false));
        assert!(e_r < 1e-5 && e_d < 1e-5, "errors {e_r:e} {e_d:e}");
        assert!(s_d.steps > 5000, "dopri5 {s_d:?}");
        assert!(
            s_r.rhs_evals * 10 < s_d.rhs_evals,
            "rosenbrock {s_r:?} vs dopri5 {s_d:?}"
        );
    }
}
