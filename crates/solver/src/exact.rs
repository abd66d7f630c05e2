//! The exact method for alpha = 0 (theory.md 4.4, (C1) and (C2);
//! derivation in docs/exact-method.md).
//!
//! In charge-flux variables the integrated circuit is a nonlinear resistive
//! network. With q_k = \int_0^t i_k and node fluxes psi_n = \int_0^t phi_n:
//!
//!   u_k(w_k(t)) = u_k(w_k(0)) - (polarity_k / beta_k) (Sigma_k + psi_t - psi_h),
//!   u_k(w) = w + xi_k w^2 / 2,                     Sigma_k = \int_0^t S'_k,
//!   q_k = polarity_k beta_k / ron_k (w_k(0) - w_k(t))       (memristors),
//!   q_k = (Sigma_k + psi_t - psi_h) / R_k                    (resistors),
//!   B_q q + B_q Q = 0      (integrated KCL, Q = \int j of current sources).
//!
//! Newton on psi: dq_k/dpsi_t = 1 / (ron_k (1 + xi_k w_k)) = G_k, so the
//! Jacobian is the same weighted Laplacian as the nodal right-hand side, and
//! each sample time costs a few sparse Cholesky solves, independent of the
//! dynamics between samples.

use std::ops::ControlFlow;

use std::time::Instant;

use crate::SolveError;
use crate::error::Element;
use crate::memory::MemoryRhs;
use crate::nodal::NONE;
use crate::run::{BoundHit, ChargeMonitor, SampleSink, SimOptions, SimReport};
use crate::waveform::integral;

/// Newton stops when the update is below this times (1 + |psi|).
const NEWTON_RTOL: f64 = 1e-14;
const NEWTON_MAX_ITER: usize = 60;
/// Largest forcing term of an inexact Newton step (CG on a reused factor,
/// relative residual). Each step's term is min(this, |F_k| / |F_1|): it
/// shrinks with the residual, which keeps Newton's convergence quadratic
/// (Dembo, Eisenstat and Steihaug, SIAM J. Numer. Anal. 19 (1982), 400,
/// theorem 3.3), and the last steps, at |F| near zero, are solved to
/// [`crate::FactorReuse::rtol`] as before. Early steps then take one or
/// two CG iterations instead of three or four (docs/engine.md, "Fewer
/// factorisations").
const FORCING_MAX: f64 = 1e-3;

/// Solves the integrated Kirchhoff laws of one network at given times.
#[derive(Debug)]
pub struct ExactSolver<'a> {
    rhs: &'a mut MemoryRhs,
    u0: Vec<f64>,
    sigma: Vec<f64>,
    inj_q: Vec<f64>,
    cons_int: Vec<f64>,
    offsets: Vec<f64>,
    psi: Vec<f64>,
    psi_prev: Vec<f64>,
    t_prev: f64,
    resid: Vec<f64>,
    delta: Vec<f64>,
    q: Vec<f64>,
    /// Memory state at the last solved time.
    pub w: Vec<f64>,
    /// Newton iterations so far.
    pub iterations: u64,
    /// The device whose state had no real root in the last failed trial.
    last_bad: Option<usize>,
}

impl<'a> ExactSolver<'a> {
    /// Refuses networks with alpha != 0 (the flux law (C2) is then not an
    /// algebraic equation).
    pub fn new(rhs: &'a mut MemoryRhs) -> Result<Self, SolveError> {
        if !rhs.law.is_all_linear() {
            return Err(SolveError::ExactUnsupported(
                "the integrated laws are derived for memnet's linear law; this network has \
                 devices of other laws (use dopri5)"
                    .into(),
            ));
        }
        let law = &rhs.law.linear;
        if let Some(s) = law.alpha.iter().position(|&a| a != 0.0) {
            let k = rhs.state_edge[s];
            return Err(SolveError::ExactUnsupported(format!(
                "{}: alpha = {} != 0; the integrated laws hold only for alpha = 0 (use dopri5)",
                Element::new(&rhs.names[k], rhs.locs[k].as_ref()),
                law.alpha[s]
            )));
        }
        let n_u = rhs.nodal.n_unknowns();
        let m = rhs.names.len();
        let u0 = (0..rhs.n_memristors())
            .map(|s| law.w0[s] + 0.5 * law.xi[s] * law.w0[s] * law.w0[s])
            .collect();
        let w = law.w0.clone();
        Ok(ExactSolver {
            u0,
            sigma: vec![0.0; m],
            inj_q: vec![0.0; rhs.inj.len()],
            cons_int: vec![0.0; rhs.cons.len()],
            offsets: vec![
                0.0;
                if rhs.nodal.links().is_empty() {
                    0
                } else {
                    rhs.nodal.n_nodes()
                }
            ],
            psi: vec![0.0; n_u],
            psi_prev: vec![0.0; n_u],
            t_prev: 0.0,
            resid: vec![0.0; n_u],
            delta: vec![0.0; n_u],
            q: vec![0.0; m],
            w,
            iterations: 0,
            last_bad: None,
            rhs,
        })
    }

    /// Integrated sources Sigma_k(t) = \int_0^t S'_k, Q_j(t), constraint
    /// flux offsets.
    fn integrate_sources(&mut self, t: f64) -> Result<(), SolveError> {
        let r = &*self.rhs;
        let times = r.times;
        // Constant sources first; the time-dependent ones overwrite their
        // edges (their entry of s is only the last value read).
        for (sigma, s) in self.sigma.iter_mut().zip(&r.s) {
            *sigma = s * t;
        }
        for (k, sign, wf) in &r.s_dyn {
            self.sigma[*k as usize] = sign * integral(wf, t, times);
        }
        let check = |v: f64, el: &Element| {
            if v.is_finite() {
                Ok(v)
            } else {
                Err(SolveError::NonFiniteSource {
                    element: el.clone(),
                    t,
                })
            }
        };
        for (j, wf) in r.inj.iter().enumerate() {
            self.inj_q[j] = check(integral(wf, t, times), &r.inj_names[j])?;
        }
        for (c, wf) in r.cons.iter().enumerate() {
            self.cons_int[c] = check(integral(wf, t, times), &r.cons_names[c])?;
        }
        for l in r.nodal.links() {
            self.offsets[l.node] = self.offsets[l.parent] + l.sign * self.cons_int[l.constraint];
        }
        if !self.offsets.is_empty() {
            for k in 0..self.sigma.len() {
                let (t, h) = r.nodal.edge_nodes(k);
                self.sigma[k] += self.offsets[t] - self.offsets[h];
            }
        }
        for (k, s) in self.sigma.iter().enumerate() {
            if !s.is_finite() {
                return Err(SolveError::NonFiniteSource {
                    element: Element::new(&r.names[k], r.locs[k].as_ref()),
                    t,
                });
            }
        }
        Ok(())
    }

    /// Charges q, conductances G (into rhs.g) and the KCL residual at psi.
    /// Returns false if some device has no real state for this psi
    /// (1 + 2 xi c < 0: past the end of its resistance range).
    fn evaluate(&mut self, psi: &[f64]) -> bool {
        let r = &mut *self.rhs;
        let (nod, law) = (&mut r.nodal, &r.law.linear);
        for k in 0..self.q.len() {
            let (a, b) = nod.edge_unknowns(k);
            let drive = self.sigma[k] + if a != NONE { psi[a as usize] } else { 0.0 }
                - if b != NONE { psi[b as usize] } else { 0.0 };
            let st = r.edge_state[k];
            if st == NONE {
                self.q[k] = r.g_fixed[k] * drive;
                continue;
            }
            let s = st as usize;
            let (xi, ron, beta, pol) = (law.xi[s], law.ron[s], law.beta[s], law.polarity[s]);
            // u(w) = c, c = u0 - pol drive / beta; 1 + xi w = sqrt(1 + 2 xi c).
            let c = self.u0[s] - pol * drive / beta;
            let disc = 1.0 + 2.0 * xi * c;
            if disc.is_nan() || disc <= 0.0 || disc.is_infinite() {
                self.last_bad = Some(s);
                return false;
            }
            let root = disc.sqrt();
            let w = 2.0 * c / (1.0 + root);
            self.w[s] = w;
            nod.conductances_mut()[k] = 1.0 / (ron * root);
            self.q[k] = pol * beta / ron * (law.w0[s] - w);
        }
        self.resid.fill(0.0);
        for k in 0..self.q.len() {
            let (a, b) = nod.edge_unknowns(k);
            if a != NONE {
                self.resid[a as usize] += self.q[k];
            }
            if b != NONE {
                self.resid[b as usize] -= self.q[k];
            }
        }
        for (&qj, &(from, to)) in self.inj_q.iter().zip(&r.inj_ends) {
            if let Some(a) = nod.node_unknown(from) {
                self.resid[a] += qj;
            }
            if let Some(b) = nod.node_unknown(to) {
                self.resid[b] -= qj;
            }
        }
        true
    }

    fn norm(v: &[f64]) -> f64 {
        v.iter().map(|x| x * x).sum::<f64>().sqrt()
    }

    /// Solve for w(t) (into `self.w`). Times should be visited in
    /// increasing order: each solve starts from the previous one. If Newton
    /// cannot start or stalls (the extrapolated guess lies outside some
    /// device's range), the interval is bisected: a continuation in time
    /// along the solution path, which exists while the trajectory is inside
    /// (0, 1).
    pub fn solve(&mut self, t: f64) -> Result<&[f64], SolveError> {
        let mut targets = vec![t];
        let mut bisections = 0;
        while let Some(&tt) = targets.last() {
            match self.newton(tt) {
                Ok(()) => {
                    targets.pop();
                    self.check_range(tt)?;
                }
                Err(SolveError::ExactFailed { .. })
                    if bisections < 60 && tt - self.t_prev > 1e-9 * tt.abs().max(1e-300) =>
                {
                    bisections += 1;
                    targets.push(0.5 * (self.t_prev + tt));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(&self.w)
    }

    fn check_range(&self, t: f64) -> Result<(), SolveError> {
        if let Some(s) = self.w.iter().position(|&x| !(0.0..=1.0).contains(&x)) {
            let k = self.rhs.state_edge[s];
            return Err(SolveError::ExactFailed {
                t,
                reason: format!(
                    "{} leaves [0, 1] (w = {}); the integrated laws assume an interior trajectory (use dopri5 with bounds)",
                    Element::new(&self.rhs.names[k], self.rhs.locs[k].as_ref()),
                    self.w[s]
                ),
            });
        }
        Ok(())
    }

    /// Newton from the previous solution; on success psi_prev, t_prev and
    /// w hold the solution at t.
    fn newton(&mut self, t: f64) -> Result<(), SolveError> {
        self.integrate_sources(t)?;
        // Initial guess: linear extrapolation in time of psi (psi is
        // \int phi, so it is O(t) for DC sources).
        let n_u = self.psi.len();
        let scale = if self.t_prev > 0.0 {
            t / self.t_prev
        } else {
            1.0
        };
        let mut psi: Vec<f64> = self.psi_prev.iter().map(|p| p * scale).collect();
        let mut trial = vec![0.0; n_u];
        if !self.evaluate(&psi) {
            psi.copy_from_slice(&self.psi_prev);
            if !self.evaluate(&psi) {
                return Err(self.leaves_range(t));
            }
        }
        let mut converged = n_u == 0;
        let mut iter = 0;
        let mut f_first = 0.0;
        let mut prev_step: Option<f64> = None;
        while !converged {
            if iter >= NEWTON_MAX_ITER {
                return Err(SolveError::ExactFailed {
                    t,
                    reason: format!("Newton did not converge in {NEWTON_MAX_ITER} iterations"),
                });
            }
            iter += 1;
            self.iterations += 1;
            let f0 = Self::norm(&self.resid);
            if iter == 1 {
                f_first = f0;
            }
            let forcing = if f_first > 0.0 {
                (f0 / f_first).min(FORCING_MAX)
            } else {
                0.0
            };
            // Newton step: L(G) delta = -F.
            for i in 0..n_u {
                self.delta[i] = -self.resid[i];
            }
            if let Err(node) = self.rhs.nodal.factor() {
                return Err(self
                    .rhs
                    .singular(node, t, crate::memory::UNFACTORED_LAPLACIAN));
            }
            self.rhs
                .nodal
                .solve_unknowns_in_place_within(&mut self.delta, forcing);
            let dmax = self.delta.iter().fold(0.0f64, |a, d| a.max(d.abs()));
            let pmax = psi.iter().fold(0.0f64, |a, d| a.max(d.abs()));
            let small = |step: f64| step * dmax <= NEWTON_RTOL * (1.0 + pmax);
            // Damped update: halve until every device has a real state and
            // the residual decreases (F is the gradient of a convex
            // co-content, so the Newton direction is a descent direction).
            let mut lambda = 1.0;
            loop {
                for i in 0..n_u {
                    trial[i] = psi[i] + lambda * self.delta[i];
                }
                if self.evaluate(&trial)
                    && (Self::norm(&self.resid) <= f0 * (1.0 - 1e-4 * lambda) || small(lambda))
                {
                    break;
                }
                lambda *= 0.5;
                if lambda < 1e-12 {
                    return Err(self.leaves_range(t));
                }
            }
            std::mem::swap(&mut psi, &mut trial);
            // Also converged when the contraction of the last two full
            // steps says what remains is below the tolerance: with rate
            // r = |d_k| / |d_k-1| <= 0.1, the steps still to come sum to
            // at most |d_k| r / (1 - r) (less, as Newton's rate improves).
            // Saves the last iteration, which otherwise only finds a
            // step at round-off (a solve and two evaluations).
            let remaining = match prev_step {
                Some(prev) if lambda == 1.0 && dmax <= 0.1 * prev => {
                    let r = dmax / prev;
                    dmax * r / (1.0 - r)
                }
                _ => f64::INFINITY,
            };
            prev_step = (lambda == 1.0).then_some(dmax);
            converged = small(lambda) || remaining <= NEWTON_RTOL * (1.0 + pmax);
        }
        // Newton's last evaluate() left w and the residual at psi.
        self.psi_prev.copy_from_slice(&psi);
        self.psi = psi;
        self.t_prev = t;
        Ok(())
    }

    fn leaves_range(&self, t: f64) -> SolveError {
        let who = match self.last_bad {
            Some(s) => {
                let k = self.rhs.state_edge[s];
                format!(
                    "{}",
                    Element::new(&self.rhs.names[k], self.rhs.locs[k].as_ref())
                )
            }
            None => "a device".to_string(),
        };
        SolveError::ExactFailed {
            t,
            reason: format!(
                "no state with positive resistances satisfies the integrated laws: {who} \
                 would leave [0, 1] after t = {} (use dopri5 with bounds)",
                self.t_prev
            ),
        }
    }
}

/// [`crate::simulate`] with [`crate::Method::Exact`].
pub(crate) fn simulate_exact(
    rhs: &mut MemoryRhs,
    opts: &SimOptions,
    outputs: Option<(&memnet_graph::Network, &crate::Probes)>,
    sink: &mut dyn SampleSink,
    progress: &mut dyn FnMut(f64) -> ControlFlow<()>,
    start: Instant,
    after: Option<f64>,
) -> Result<SimReport, SolveError> {
    let w0 = rhs.initial_state();
    let mut monitor = ChargeMonitor::new(rhs, &w0);
    let first_hit = w0
        .iter()
        .position(|&x| x <= 0.0 || x >= 1.0)
        .map(|s| BoundHit {
            t: 0.0,
            edge: rhs.state_edge[s],
            name: rhs.memristor_name(s).to_string(),
            bound: if w0[s] <= 0.0 { 0.0 } else { 1.0 },
        });
    let (memristors, unknowns, factor_nnz, ordering) = (
        rhs.n_memristors(),
        rhs.n_unknowns(),
        rhs.sparsity().1,
        rhs.ordering_used(),
    );
    let f_before = rhs.factorizations();
    // Newton's matrices are weighted Laplacians with positive
    // conductances: a reused factor preconditions CG on them as well.
    rhs.set_factor_reuse(opts.factor_reuse);
    let mut solver = ExactSolver::new(rhs)?;
    let dt = match opts.sample_dt {
        Some(dt) if dt.is_finite() && dt > 0.0 => dt,
        Some(dt) => {
            return Err(SolveError::InvalidOption(format!(
                "sample interval {dt} must be positive"
            )));
        }
        None => opts.t_end.max(f64::MIN_POSITIVE),
    };
    let mut samples = 0u64;
    // A resumed run starts after the samples written already (at or
    // before `after`); each sample is solved from t = 0 anyway.
    let mut k = after.map_or(0, |t0| (t0 / dt + 1e-9).floor() as u64 + 1);
    let mut w_last = w0.clone();
    // Outputs other than the states: a nodal solve at each sampled state
    // (the linear law's w is its own variable).
    let mut scratch = crate::ProbeScratch::default();
    loop {
        let mut t = k as f64 * dt;
        if t >= opts.t_end - 1e-9 * dt {
            t = opts.t_end;
        }
        // (Only t_end, written already, can fall at or before `after`.)
        if after.is_some_and(|a| t <= a) {
            break;
        }
        let w = if k == 0 { &w0[..] } else { solver.solve(t)? };
        monitor.observe(t, w);
        w_last.copy_from_slice(w);
        match outputs {
            Some((net, probes)) => {
                solver
                    .rhs
                    .probe(net, probes, t, &w_last, &w_last, &mut scratch)?;
                sink.sample(t, &scratch.values)?;
            }
            None => sink.sample(t, &w_last)?,
        }
        samples += 1;
        if progress(t).is_break() {
            return Err(SolveError::Interrupted { t });
        }
        if t >= opts.t_end {
            break;
        }
        k += 1;
    }
    let iterations = solver.iterations;
    let (cg_iterations, reused_solves) = rhs.reuse_counts();
    let n = w_last.len().max(1) as f64;
    Ok(SimReport {
        method: opts.method,
        cg_iterations,
        reused_solves,
        memristors,
        unknowns,
        factor_nnz,
        ordering,
        steps: samples.saturating_sub(1),
        rejected_steps: 0,
        switches_located: 0,
        switch_retries: 0,
        rhs_evals: iterations,
        factorizations: rhs.factorizations() - f_before,
        newton_iterations: 0,
        samples,
        wall_time_s: start.elapsed().as_secs_f64(),
        linear_law: rhs.laws().is_all_linear(),
        w_min: w_last.iter().copied().fold(f64::INFINITY, f64::min),
        w_max: w_last.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        w_mean: w_last.iter().sum::<f64>() / n,
        first_bound_hit: first_hit,
        charge_drift: monitor.result(),
        charge_note: monitor.note.clone(),
    })
}
