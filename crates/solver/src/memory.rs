//! The memory equation's right-hand side by the nodal form (theory.md 3.3
//! item 4), in physical units with per-device parameters (3.8), polarity
//! (3.5), current sources (3.4), fixed resistors, time-dependent sources and
//! ideal voltage sources eliminated as potential constraints:
//!
//!   G_k   = 1 / (ron_k (1 + xi_k w_k))     (memristor)   or 1/R (resistor)
//!   B_q G B_q^T Phi = -B_q (G S') - B_q j
//!   i     = G (S' + B_q^T Phi)
//!   dw_k/dt = alpha_k w_k - polarity_k ron_k i_k / beta_k.
//!
//! With uniform ron this is theory.md 3.3 item 4 scaled by 1/ron (phi is
//! the same, x = ron i), hence (ME).

use memnet_graph::{Device, EdgeId, Network};
use memnet_spice::{Loc, TranTimes, Waveform};

use crate::SolveError;
use crate::error::Element;
use crate::nodal::{NONE, NodalSystem, Ordering};
use crate::ode::OdeSystem;

/// Edge ids of the memristors, in edge order: entry s is the edge whose
/// memory variable is state component s.
pub fn memristor_edges(net: &Network) -> Vec<EdgeId> {
    net.edges
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e.device, Device::Memristor(_)))
        .map(|(k, _)| k)
        .collect()
}

/// Names of the memristors in state order (CSV/NPY column names).
pub fn memristor_names(net: &Network) -> Vec<String> {
    memristor_edges(net)
        .into_iter()
        .map(|k| net.edges[k].name.clone())
        .collect()
}

/// Evaluates dw/dt (and the currents) of a network; reusable, allocation
/// free per evaluation. Build once per topology.
pub struct MemoryRhs {
    pub(crate) nodal: NodalSystem,
    pub(crate) state_edge: Vec<EdgeId>,
    /// Edge -> state index, NONE for resistors.
    pub(crate) edge_state: Vec<u32>,
    pub(crate) ron: Vec<f64>,
    pub(crate) xi: Vec<f64>,
    pub(crate) alpha: Vec<f64>,
    pub(crate) beta: Vec<f64>,
    pub(crate) polarity: Vec<f64>,
    pub(crate) w0: Vec<f64>,
    /// Per edge: conductance of a resistor (unused for memristors).
    pub(crate) g_fixed: Vec<f64>,
    /// Per edge: constant part of S_k (time-dependent entries overwritten).
    pub(crate) s: Vec<f64>,
    pub(crate) s_dyn: Vec<(u32, f64, Waveform)>,
    pub(crate) inj: Vec<Waveform>,
    pub(crate) cons: Vec<Waveform>,
    pub(crate) cons_val: Vec<f64>,
    pub(crate) inj_val: Vec<f64>,
    /// Node potential offsets from constraint trees (empty if none).
    pub(crate) offsets: Vec<f64>,
    pub(crate) times: TranTimes,
    pub(crate) g: Vec<f64>,
    pub(crate) phi: Vec<f64>,
    pub(crate) current: Vec<f64>,
    pub(crate) sticky: bool,
    pub(crate) clamp_resistance: bool,
    pub(crate) names: Vec<String>,
    pub(crate) locs: Vec<Option<Loc>>,
    pub(crate) node_names: Vec<String>,
    pub(crate) inj_names: Vec<Element>,
    pub(crate) cons_names: Vec<Element>,
    pub(crate) evals: u64,
    pub(crate) last_t: f64,
}

impl std::fmt::Debug for MemoryRhs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryRhs")
            .field("memristors", &self.state_edge.len())
            .field("edges", &self.names.len())
            .field("unknowns", &self.nodal.n_unknowns)
            .finish()
    }
}

fn invalid(name: &str, loc: Option<&Loc>, reason: String) -> SolveError {
    SolveError::InvalidDevice {
        element: Element::new(name, loc),
        reason,
    }
}

impl MemoryRhs {
    /// Build for `net` with AMD ordering. `times` fills ngspice's waveform
    /// defaults (use [`Network::tran_times`]).
    pub fn new(net: &Network, times: TranTimes) -> Result<Self, SolveError> {
        Self::with_ordering(net, times, Ordering::default())
    }

    /// Build with a chosen fill-reducing ordering.
    pub fn with_ordering(
        net: &Network,
        times: TranTimes,
        ordering: Ordering,
    ) -> Result<Self, SolveError> {
        let m = net.n_edges();
        let mut state_edge = Vec::new();
        let mut edge_state = vec![NONE; m];
        let (mut ron, mut xi, mut alpha, mut beta, mut polarity, mut w0) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        let mut g_fixed = vec![0.0; m];
        let mut s = vec![0.0; m];
        let mut s_dyn = Vec::new();
        for (k, e) in net.edges.iter().enumerate() {
            let bad = |r: String| invalid(&e.name, e.loc.as_ref(), r);
            match e.device {
                Device::Memristor(p) => {
                    if !(p.ron.is_finite() && p.ron > 0.0) {
                        return Err(bad(format!("ron = {} must be positive and finite", p.ron)));
                    }
                    if !(p.roff.is_finite() && p.roff > 0.0) {
                        return Err(bad(format!(
                            "roff = {} must be positive and finite (xi = {} must be > -1)",
                            p.roff,
                            p.xi()
                        )));
                    }
                    if !(p.w0.is_finite() && (0.0..=1.0).contains(&p.w0)) {
                        return Err(bad(format!("w0 = {} must lie in [0, 1]", p.w0)));
                    }
                    if !p.alpha.is_finite() {
                        return Err(bad(format!("alpha = {} must be finite", p.alpha)));
                    }
                    if !(p.beta.is_finite() && p.beta != 0.0) {
                        return Err(bad(format!(
                            "beta = {} must be finite and non-zero",
                            p.beta
                        )));
                    }
                    if p.polarity != 1.0 && p.polarity != -1.0 {
                        return Err(bad(format!("polarity = {} must be +1 or -1", p.polarity)));
                    }
                    edge_state[k] = state_edge.len() as u32;
                    state_edge.push(k);
                    ron.push(p.ron);
                    xi.push(p.xi());
                    alpha.push(p.alpha);
                    beta.push(p.beta);
                    polarity.push(p.polarity);
                    w0.push(p.w0);
                }
                Device::Resistor { resistance } => {
                    if !(resistance.is_finite() && resistance > 0.0) {
                        return Err(bad(format!(
                            "resistance {resistance} must be positive and finite"
                        )));
                    }
                    g_fixed[k] = 1.0 / resistance;
                }
            }
            if let Some(src) = &e.source {
                if src.sign != 1.0 && src.sign != -1.0 {
                    return Err(invalid(
                        &src.name,
                        src.loc.as_ref(),
                        format!("source sign {} must be +1 or -1", src.sign),
                    ));
                }
                match src.source.waveform {
                    Waveform::Dc(v) => {
                        if !v.is_finite() {
                            return Err(invalid(
                                &src.name,
                                src.loc.as_ref(),
                                format!("value {v} is not finite"),
                            ));
                        }
                        s[k] = src.sign * v;
                    }
                    ref w => s_dyn.push((k as u32, src.sign, w.clone())),
                }
            }
        }
        let nodal = NodalSystem::new(net, ordering)?;
        let has_links = !nodal.links.is_empty();
        let n_u = nodal.n_unknowns;
        Ok(MemoryRhs {
            state_edge,
            edge_state,
            ron,
            xi,
            alpha,
            beta,
            polarity,
            w0,
            g_fixed,
            s,
            s_dyn,
            inj: net
                .injections
                .iter()
                .map(|j| j.source.waveform.clone())
                .collect(),
            cons: net
                .constraints
                .iter()
                .map(|c| c.source.waveform.clone())
                .collect(),
            cons_val: vec![0.0; net.constraints.len()],
            inj_val: vec![0.0; net.injections.len()],
            offsets: if has_links {
                vec![0.0; net.n_nodes()]
            } else {
                Vec::new()
            },
            times,
            g: vec![0.0; m],
            phi: vec![0.0; n_u],
            current: vec![0.0; m],
            sticky: false,
            clamp_resistance: false,
            names: net.edges.iter().map(|e| e.name.clone()).collect(),
            locs: net.edges.iter().map(|e| e.loc.clone()).collect(),
            node_names: net.node_names.clone(),
            inj_names: net
                .injections
                .iter()
                .map(|j| Element::new(&j.name, j.loc.as_ref()))
                .collect(),
            cons_names: net
                .constraints
                .iter()
                .map(|c| Element::new(&c.name, c.loc.as_ref()))
                .collect(),
            nodal,
            evals: 0,
            last_t: f64::NAN,
        })
    }

    /// Number of memristors (state dimension).
    pub fn n_memristors(&self) -> usize {
        self.state_edge.len()
    }

    /// Edge id of each state component.
    pub fn state_edges(&self) -> &[EdgeId] {
        &self.state_edge
    }

    /// w(0) from the devices' `w0`.
    pub fn initial_state(&self) -> Vec<f64> {
        self.w0.clone()
    }

    /// Name of the edge behind state component `s`.
    pub fn memristor_name(&self, s: usize) -> &str {
        &self.names[self.state_edge[s]]
    }

    /// Apply the sticky boundary rule (theory.md 1.3) inside the
    /// right-hand side: dw_k/dt = 0 when w_k <= 0 and it would decrease,
    /// or w_k >= 1 and it would increase.
    pub fn set_sticky(&mut self, sticky: bool) {
        self.sticky = sticky;
    }

    /// Evaluate R(w) at w clamped to [0, 1], the model's domain. Inside
    /// (0, 1) nothing changes; it keeps the intermediate stages of a step
    /// that crosses a bound physical (with xi > 0 a stage at w < -1/xi
    /// would otherwise have negative resistance). [`crate::simulate`] sets
    /// it for both bound rules.
    pub fn set_clamp_resistance(&mut self, clamp: bool) {
        self.clamp_resistance = clamp;
    }

    /// Numeric factorisations done so far.
    pub fn factorizations(&self) -> u64 {
        self.nodal.factorizations
    }

    /// Right-hand-side evaluations done so far.
    pub fn evaluations(&self) -> u64 {
        self.evals
    }

    /// Unknown potentials of the reduced system (size of the Laplacian).
    pub fn n_unknowns(&self) -> usize {
        self.nodal.n_unknowns
    }

    /// Nonzeros in the upper triangle of the Laplacian and in its Cholesky
    /// factor (fill-in).
    pub fn sparsity(&self) -> (usize, usize) {
        (self.nodal.matrix_nnz(), self.nodal.factor_nnz())
    }

    /// Which sparse Cholesky variant faer chose: `simplicial`,
    /// `supernodal` (or `none` without unknowns).
    pub fn factor_kind(&self) -> &'static str {
        self.nodal.factor_kind()
    }

    /// Whether all memristors share one alpha (then B w(t) = e^{alpha t}
    /// B w(0) in the generalised charge form), and which.
    pub fn uniform_alpha(&self) -> Option<f64> {
        let a = *self.alpha.first()?;
        self.alpha.iter().all(|&x| x == a).then_some(a)
    }

    /// The first corner of any time-dependent source after `t` (PULSE
    /// corners, PWL points, SIN delays), see [`crate::waveform::next_breakpoint`].
    pub fn source_breakpoint(&self, t: f64) -> Option<f64> {
        let next = |wf: &Waveform| crate::waveform::next_breakpoint(wf, t, self.times);
        self.s_dyn
            .iter()
            .filter_map(|d| next(&d.2))
            .chain(self.inj.iter().filter_map(next))
            .chain(self.cons.iter().filter_map(next))
            .reduce(f64::min)
    }

    /// Series source values S(t) per edge into `self.s`, constraint offsets
    /// and injections.
    fn sources_at(&mut self, t: f64) -> Result<(), SolveError> {
        for (k, sign, wf) in &self.s_dyn {
            let v = sign * wf.value(t, self.times);
            if !v.is_finite() {
                let k = *k as usize;
                return Err(SolveError::NonFiniteSource {
                    element: Element::new(&self.names[k], self.locs[k].as_ref()),
                    t,
                });
            }
            self.s[*k as usize] = v;
        }
        for (j, wf) in self.inj.iter().enumerate() {
            let v = wf.value(t, self.times);
            if !v.is_finite() {
                return Err(SolveError::NonFiniteSource {
                    element: self.inj_names[j].clone(),
                    t,
                });
            }
            self.inj_val[j] = v;
        }
        for (c, wf) in self.cons.iter().enumerate() {
            let v = wf.value(t, self.times);
            if !v.is_finite() {
                return Err(SolveError::NonFiniteSource {
                    element: self.cons_names[c].clone(),
                    t,
                });
            }
            self.cons_val[c] = v;
        }
        for l in &self.nodal.links {
            self.offsets[l.node as usize] =
                self.offsets[l.parent as usize] + l.sign * self.cons_val[l.constraint as usize];
        }
        Ok(())
    }

    /// Effective source across edge k: S_k plus the constraint offsets.
    #[inline]
    fn s_eff(&self, k: usize) -> f64 {
        if self.offsets.is_empty() {
            self.s[k]
        } else {
            self.s[k] + self.offsets[self.nodal.tail[k] as usize]
                - self.offsets[self.nodal.head[k] as usize]
        }
    }

    /// Solve the circuit at time t with memory state w: fills the branch
    /// currents (see [`MemoryRhs::currents`]) and potentials.
    pub fn solve_currents(&mut self, t: f64, w: &[f64]) -> Result<(), SolveError> {
        if w.len() != self.state_edge.len() {
            return Err(SolveError::DimensionMismatch {
                got: w.len(),
                want: self.state_edge.len(),
            });
        }
        self.evals += 1;
        self.last_t = t;
        self.sources_at(t)?;
        // One pass over the edges: conductances (theory.md 3.8 with
        // per-device ron), right-hand side -B_q (G S') and the Laplacian
        // values written in place through precomputed positions.
        self.phi.fill(0.0);
        self.nodal.values.fill(0.0);
        let nod = &mut self.nodal;
        let (phi, values) = (&mut self.phi, &mut nod.values);
        let has_offsets = !self.offsets.is_empty();
        let (lo, hi) = if self.clamp_resistance {
            (0.0, 1.0)
        } else {
            (f64::NEG_INFINITY, f64::INFINITY)
        };
        for k in 0..self.g.len() {
            let st = self.edge_state[k];
            let gk = if st == NONE {
                self.g_fixed[k]
            } else {
                let s = st as usize;
                let r = self.ron[s] * (1.0 + self.xi[s] * w[s].clamp(lo, hi));
                if r.is_nan() || r <= 0.0 || r.is_infinite() {
                    return Err(SolveError::NonPhysicalState {
                        element: Element::new(&self.names[k], self.locs[k].as_ref()),
                        t,
                        w: w[s],
                        resistance: r,
                    });
                }
                1.0 / r
            };
            self.g[k] = gk;
            let mut s_eff = self.s[k];
            if has_offsets {
                s_eff += self.offsets[nod.tail[k] as usize] - self.offsets[nod.head[k] as usize];
            }
            let gs = gk * s_eff;
            let (a, b) = (nod.tail_u[k], nod.head_u[k]);
            if a != NONE {
                phi[a as usize] -= gs;
                values[nod.pos_tt[k] as usize] += gk;
            }
            if b != NONE {
                phi[b as usize] += gs;
                values[nod.pos_hh[k] as usize] += gk;
                if a != NONE {
                    values[nod.pos_th[k] as usize] -= gk;
                }
            }
        }
        for (j, &v) in self.inj_val.iter().enumerate() {
            let (a, b) = (self.nodal.inj_from_u[j], self.nodal.inj_to_u[j]);
            if a != NONE {
                self.phi[a as usize] -= v;
            }
            if b != NONE {
                self.phi[b as usize] += v;
            }
        }
        if let Err(node) = self.nodal.factor() {
            return Err(SolveError::Singular {
                node: self.node_names.get(node).cloned().unwrap_or_default(),
                t,
                reason: "the weighted Laplacian is not positive definite".into(),
            });
        }
        self.nodal.solve_in_place(&mut self.phi);
        // i = G (S' + B_q^T Phi).
        for k in 0..self.g.len() {
            let (a, b) = (self.nodal.tail_u[k], self.nodal.head_u[k]);
            let pa = if a != NONE { self.phi[a as usize] } else { 0.0 };
            let pb = if b != NONE { self.phi[b as usize] } else { 0.0 };
            self.current[k] = self.g[k] * (self.s_eff(k) + pa - pb);
        }
        Ok(())
    }

    /// dw/dt at (t, w) into `dw` (theory.md (ME), generalised as above).
    pub fn eval(&mut self, t: f64, w: &[f64], dw: &mut [f64]) -> Result<(), SolveError> {
        self.solve_currents(t, w)?;
        if dw.len() != w.len() {
            return Err(SolveError::DimensionMismatch {
                got: dw.len(),
                want: w.len(),
            });
        }
        for (s, d) in dw.iter_mut().enumerate() {
            let i = self.current[self.state_edge[s]];
            let f = self.alpha[s] * w[s] - self.polarity[s] * self.ron[s] * i / self.beta[s];
            *d = if self.sticky && ((w[s] <= 0.0 && f < 0.0) || (w[s] >= 1.0 && f > 0.0)) {
                0.0
            } else {
                f
            };
        }
        Ok(())
    }

    /// x = R_on i per memristor (volts) at (t, w): theory.md 3.2,
    /// x = (I + xi Omega W)^{-1} Omega S for uniform parameters.
    pub fn memristor_x(&mut self, t: f64, w: &[f64], x: &mut [f64]) -> Result<(), SolveError> {
        self.solve_currents(t, w)?;
        for (s, xs) in x.iter_mut().enumerate().take(self.state_edge.len()) {
            *xs = self.ron[s] * self.current[self.state_edge[s]];
        }
        Ok(())
    }

    /// Branch currents i_k (amperes, tail -> head through the device) of
    /// every edge from the last solve.
    pub fn currents(&self) -> &[f64] {
        &self.current
    }

    /// Node potentials (volts) from the last solve; reference nodes at 0.
    pub fn node_potentials(&self, out: &mut [f64]) {
        for (v, o) in out.iter_mut().enumerate().take(self.nodal.n_nodes) {
            let u = self.nodal.node_unknown[v];
            let base = if u != NONE { self.phi[u as usize] } else { 0.0 };
            *o = base + self.offsets.get(v).copied().unwrap_or(0.0);
        }
    }

    /// Whether the charge law (theory.md 4.1 (C1)) in its generalised form
    /// holds for this network: B_q c(t) = e^{alpha t} B_q c(0) with
    /// c_k = polarity_k beta_k w_k / ron_k. Needs uniform alpha, no current
    /// sources and no resistor touching an unknown potential. Returns the
    /// reason when it does not hold.
    pub fn charge_law(&self) -> Result<f64, &'static str> {
        if !self.inj.is_empty() {
            return Err("current sources inject charge: the charge law does not hold");
        }
        let Some(a) = self.uniform_alpha() else {
            return Err("alpha differs between devices: no single exponential charge law");
        };
        let resistor_in_matrix = (0..self.names.len()).any(|k| {
            self.edge_state[k] == NONE
                && (self.nodal.tail_u[k] != NONE || self.nodal.head_u[k] != NONE)
        });
        if resistor_in_matrix {
            return Err(
                "resistor charges are not memory variables: the charge law in w does not hold",
            );
        }
        Ok(a)
    }

    /// B_q c (one entry per unknown supernode) with c_k = polarity_k beta_k
    /// w_k / ron_k: the generalised conserved charge.
    pub fn charge(&self, w: &[f64], out: &mut [f64]) {
        charge_into(&self.charge_terms(), w, out);
    }

    /// Per state: (tail unknown, head unknown, polarity beta / ron).
    pub(crate) fn charge_terms(&self) -> Vec<(u32, u32, f64)> {
        self.state_edge
            .iter()
            .enumerate()
            .map(|(s, &k)| {
                (
                    self.nodal.tail_u[k],
                    self.nodal.head_u[k],
                    self.polarity[s] * self.beta[s] / self.ron[s],
                )
            })
            .collect()
    }
}

/// out = B_q c(w), see [`MemoryRhs::charge`].
pub(crate) fn charge_into(terms: &[(u32, u32, f64)], w: &[f64], out: &mut [f64]) {
    out.iter_mut().for_each(|o| *o = 0.0);
    for (&(a, b, f), &ws) in terms.iter().zip(w) {
        let c = f * ws;
        if a != NONE {
            out[a as usize] += c;
        }
        if b != NONE {
            out[b as usize] -= c;
        }
    }
}

impl OdeSystem for MemoryRhs {
    fn dim(&self) -> usize {
        self.state_edge.len()
    }

    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), SolveError> {
        self.eval(t, y, dy)
    }

    fn next_breakpoint(&self, t: f64) -> Option<f64> {
        self.source_breakpoint(t)
    }
}
