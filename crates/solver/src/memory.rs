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

use memnet_graph::{Device, EdgeId, Network, NodalTopology, NodeId, TopologyError};
use memnet_spice::{Loc, TranTimes, Waveform};

use crate::SolveError;
use crate::device::{Ctx, DeviceFault, DeviceLaw, Keep, Laws};
use crate::error::{Element, invalid};
use crate::nodal::{NONE, NodalSolver, NodalSources, Ordering};
use crate::ode::OdeSystem;

/// Edge ids of the memristors, in edge order: entry s is the edge whose
/// memory variable is state component s.
pub fn memristor_edges(net: &Network) -> Vec<EdgeId> {
    net.edges
        .iter()
        .enumerate()
        .filter(|(_, e)| e.device.is_memristor())
        .map(|(k, _)| k)
        .collect()
}

/// Names of the memristors in state order (CSV/NPY column names).
pub fn memristor_names(net: &Network) -> Vec<String> {
    memristor_edges(net)
        .into_iter()
        .map(|k| net.edges[k].name.to_string())
        .collect()
}

/// The topology the solver works on, with its failures as located errors.
pub(crate) fn network_topology(net: &Network) -> Result<NodalTopology, SolveError> {
    match NodalTopology::try_new(net) {
        Ok(t) => Ok(t),
        Err(TopologyError::VoltageSourceLoop { constraint }) => {
            let c = &net.constraints[constraint];
            Err(SolveError::VoltageSourceLoop {
                element: Element::new(&c.name, c.loc.as_ref()),
            })
        }
        Err(e) => Err(SolveError::InvalidOption(e.to_string())),
    }
}

/// Evaluates dw/dt (and the currents) of a network; reusable, allocation
/// free per evaluation. Build once per topology.
pub struct MemoryRhs {
    pub(crate) nodal: NodalSolver,
    /// The laws of the memristors (state component s is device s).
    pub(crate) law: Laws,
    pub(crate) state_edge: Vec<EdgeId>,
    /// Where each device's extra states sit after the devices' own (the
    /// state vector is [x_0 .. x_{m-1}, extras]; `extra_at[d]..extra_at[d
    /// + 1]`); empty when no device has any.
    pub(crate) extra_at: Vec<u32>,
    /// Each non-linear body's last solution (`warm_at[d]..warm_at[d + 1]`,
    /// [`Laws::warm_len`]), where its next Newton starts; empty when no
    /// device keeps one.
    warm: Vec<f64>,
    warm_at: Vec<usize>,
    /// Edge -> state index, NONE for resistors.
    pub(crate) edge_state: Vec<u32>,
    /// Per edge: conductance of a resistor (unused for memristors).
    pub(crate) g_fixed: Vec<f64>,
    /// Per edge: constant part of S_k (time-dependent entries overwritten).
    pub(crate) s: Vec<f64>,
    pub(crate) s_dyn: Vec<(u32, f64, Waveform)>,
    pub(crate) inj: Vec<Waveform>,
    /// (from, to) node of each current source.
    pub(crate) inj_ends: Vec<(NodeId, NodeId)>,
    pub(crate) inj_val: Vec<f64>,
    /// Current injected into each node (empty without current sources).
    pub(crate) inj_node: Vec<f64>,
    pub(crate) cons: Vec<Waveform>,
    pub(crate) cons_val: Vec<f64>,
    /// The PWL segment each time-dependent source was last read in
    /// (`Waveform::value_near`), `s_dyn`, then `inj`, then `cons`: a
    /// reservoir drives thousands of sources with 10^4-point tables.
    pub(crate) source_cursor: Vec<usize>,
    /// (t, the first source corner after t), see `source_breakpoint`.
    pub(crate) breakpoint_memo: std::cell::Cell<Option<(f64, Option<f64>)>>,
    /// Per source (as `source_cursor`), the PWL corner it gave last
    /// (`waveform::next_breakpoint_near`).
    pub(crate) breakpoint_cursor: std::cell::RefCell<Vec<usize>>,
    pub(crate) times: TranTimes,
    pub(crate) current: Vec<f64>,
    pub(crate) sticky: bool,
    pub(crate) clamp_resistance: bool,
    /// Names for messages, inline (no heap block per name at 10M devices).
    pub(crate) names: Vec<memnet_graph::CompactString>,
    pub(crate) locs: Vec<Option<Loc>>,
    pub(crate) node_names: Vec<memnet_graph::CompactString>,
    pub(crate) inj_names: Vec<Element>,
    pub(crate) cons_names: Vec<Element>,
    pub(crate) evals: u64,
    pub(crate) last_t: f64,
    /// Some device's current is not linear in v: solve by Newton.
    pub(crate) nonlinear: bool,
    /// Device voltages of the last Newton solve (the next one's start).
    pub(crate) v_dev: Vec<f64>,
    /// Series sources of a Newton iteration (the network's own).
    pub(crate) s_newton: Vec<f64>,
    /// Node injections of a Newton iteration: the current sources' plus
    /// each device's companion current (Norton form).
    inj_newton: Vec<f64>,
    /// (tail, head) node of each device, for its companion current.
    dev_ends: Vec<(NodeId, NodeId)>,
    pub(crate) newton_iterations: u64,
    /// What each device keeps from its conductance for its rate
    /// ([`DeviceLaw::memo_len`]): device d's floats are
    /// `memo[memo_at[d]..memo_at[d + 1]]`. Both empty when no law keeps
    /// anything (no per-device cost then).
    pub(crate) memo: Vec<f64>,
    pub(crate) memo_at: Vec<usize>,
}

/// Conductance added to every device's tangent in the Newton matrix of a
/// non-linear network: keeps it positive definite where a device conducts
/// nothing (Yakopcic at x = 0). It is not added to the currents, so the
/// converged potentials solve Kirchhoff's law of the devices as written.
/// (ngspice adds no gmin to B and G sources; a diode's own gmin is in its
/// junction law. A gmin in the currents put 1.9e-12 A through a reversed
/// 1 nA selector, moving its node by 0.19%.) Where every device conducts
/// far less than this, the matrix would be gmin's, not the devices', and
/// Newton would crawl (each iteration closing g/gmin of the gap: Yakopcic
/// devices just after x = 0 carry 1e-17 S): there the added conductance is
/// [`GMIN_SCALE`] of the largest device slope instead.
pub const GMIN: f64 = 1e-12;
/// The added conductance is at most this fraction of the largest device
/// slope di/dv of the iteration (and [`GMIN`] when every slope is 0).
const GMIN_SCALE: f64 = 1e-9;
/// Why [`NodalSolver::factor`] failed on the weighted Laplacian (the
/// memory equation's and the exact method's).
pub(crate) const UNFACTORED_LAPLACIAN: &str =
    "the weighted Laplacian cannot be factored: not positive definite, and its LU failed";
/// Newton stops when no device voltage moves by more than this, relative
/// to 1 + |v| (volts).
const NEWTON_VTOL: f64 = 1e-13;
/// Below this (relative, volts) an update that shrank by less than 4x
/// since the last iteration is the round-off of the nodal solve: a
/// 300x300 grid's solve carries ~1e-13 relative noise, so the strict
/// tolerance alone can never be met there.
const NEWTON_FLOOR: f64 = 1e-10;
const NEWTON_MAX_ITER: usize = 100;

impl std::fmt::Debug for MemoryRhs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryRhs")
            .field("memristors", &self.state_edge.len())
            .field("edges", &self.names.len())
            .field("unknowns", &self.nodal.n_unknowns())
            .finish()
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
        let (mut law, state_edge) = Laws::from_network(net)?;
        law.set_tran_times(times);
        let extra_at = if (0..law.len()).any(|d| law.extra_states(d) > 0) {
            let mut at = vec![0u32];
            for d in 0..law.len() {
                at.push(at[d] + law.extra_states(d) as u32);
            }
            at
        } else {
            Vec::new()
        };
        let nonlinear = !law.linear_in_voltage();
        let n_dev = state_edge.len();
        let mut edge_state = vec![NONE; m];
        for (s, &k) in state_edge.iter().enumerate() {
            edge_state[k] = s as u32;
        }
        let mut g_fixed = vec![0.0; m];
        let mut s = vec![0.0; m];
        let mut s_dyn = Vec::new();
        for (k, e) in net.edges.iter().enumerate() {
            if let Device::Resistor { resistance } = e.device {
                if !(resistance.is_finite() && resistance > 0.0) {
                    return Err(invalid(
                        &e.name,
                        e.loc.as_ref(),
                        format!("resistance {resistance} must be positive and finite"),
                    ));
                }
                g_fixed[k] = 1.0 / resistance;
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
        let topo = network_topology(net)?;
        // A current source needs a return path: both ends in one component
        // of edges and constraints (one component of the contracted graph).
        let q = topo.contracted();
        for j in &net.injections {
            let comp = |v: NodeId| q.component.get(topo.supernodes().of(v)).copied();
            if j.from >= net.n_nodes() || j.to >= net.n_nodes() {
                return Err(SolveError::InvalidOption(format!(
                    "current source `{}` refers to a node beyond the network's {}",
                    j.name,
                    net.n_nodes()
                )));
            }
            if comp(j.from) != comp(j.to) {
                return Err(SolveError::FloatingCurrentSource {
                    element: Element::new(&j.name, j.loc.as_ref()),
                });
            }
        }
        let mut nodal = NodalSolver::from_nodal_topology(&topo, ordering)?;
        // A body with a negative slope di/dv (or a negative resistor)
        // makes the matrix indefinite: LU then, as SPICE would.
        nodal.allow_indefinite(true);
        drop(topo);
        // Resistor conductances never change; memristor entries are
        // written at every evaluation.
        nodal.conductances_mut().copy_from_slice(&g_fixed);
        let (memo, memo_at) = if (0..law.len()).any(|d| law.memo_len(d) > 0) {
            let mut at = Vec::with_capacity(law.len() + 1);
            at.push(0);
            for d in 0..law.len() {
                at.push(at[d] + law.memo_len(d));
            }
            (vec![0.0; at[law.len()]], at)
        } else {
            (Vec::new(), Vec::new())
        };
        let (warm, warm_at) = if (0..law.len()).any(|d| law.warm_len(d) > 0) {
            let mut at = vec![0usize];
            for d in 0..law.len() {
                at.push(at[d] + law.warm_len(d));
            }
            (vec![0.0; at[law.len()]], at)
        } else {
            (Vec::new(), Vec::new())
        };
        let dev_ends = if nonlinear {
            state_edge
                .iter()
                .map(|&k| (net.edges[k].tail, net.edges[k].head))
                .collect()
        } else {
            Vec::new()
        };
        let n_sources = s_dyn.len() + net.injections.len() + net.constraints.len();
        Ok(MemoryRhs {
            warm,
            warm_at,
            extra_at,
            memo,
            memo_at,
            law,
            state_edge,
            edge_state,
            g_fixed,
            s,
            s_dyn,
            inj: net
                .injections
                .iter()
                .map(|j| j.source.waveform.clone())
                .collect(),
            inj_ends: net.injections.iter().map(|j| (j.from, j.to)).collect(),
            inj_val: vec![0.0; net.injections.len()],
            inj_node: if net.injections.is_empty() {
                Vec::new()
            } else {
                vec![0.0; net.n_nodes()]
            },
            cons: net
                .constraints
                .iter()
                .map(|c| c.source.waveform.clone())
                .collect(),
            cons_val: vec![0.0; net.constraints.len()],
            source_cursor: vec![0; n_sources],
            breakpoint_memo: std::cell::Cell::new(None),
            breakpoint_cursor: std::cell::RefCell::new(vec![0; n_sources]),
            times,
            current: vec![0.0; m],
            sticky: false,
            clamp_resistance: false,
            names: net.edges.iter().map(|e| e.name.clone()).collect(),
            locs: net.edges.iter().map(|e| e.loc.clone()).collect(),
            node_names: net.node_names.iter().map(|n| n.as_str().into()).collect(),
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
            v_dev: vec![0.0; if nonlinear { n_dev } else { 0 }],
            s_newton: vec![0.0; if nonlinear { m } else { 0 }],
            inj_newton: vec![0.0; if nonlinear { net.n_nodes() } else { 0 }],
            dev_ends,
            newton_iterations: 0,
            nonlinear,
            nodal,
            evals: 0,
            last_t: f64::NAN,
        })
    }

    /// The length of the integrated state: one per memristor, then the
    /// extra states of devices that have them.
    pub fn dim(&self) -> usize {
        self.state_edge.len() + self.extra_at.last().map_or(0, |&e| e as usize)
    }

    /// The device whose state is component `c` of the integrated state.
    pub fn device_of_component(&self, c: usize) -> usize {
        let m = self.state_edge.len();
        if c < m {
            return c;
        }
        let e = (c - m) as u32;
        self.extra_at.partition_point(|&a| a <= e).saturating_sub(1)
    }

    /// Number of memristors.
    pub fn n_memristors(&self) -> usize {
        self.state_edge.len()
    }

    /// Edge id of each state component.
    pub fn state_edges(&self) -> &[EdgeId] {
        &self.state_edge
    }

    /// The initial state of every device, in the integrated variable
    /// (memnet's w for the linear law; see [`DeviceLaw::native_state`]).
    pub fn initial_state(&self) -> Vec<f64> {
        let mut y: Vec<f64> = (0..self.law.len())
            .map(|d| self.law.initial_state(d))
            .collect();
        for d in 0..self.law.len() {
            y.extend_from_slice(self.law.initial_extra(d));
        }
        y
    }

    /// The initial state with the operating-point rules of the laws that
    /// have one ([`DeviceLaw::initial_state_at_bias`]): one solve at t = 0
    /// from the default initial state gives each such device its voltage.
    pub fn initial_state_at_operating_point(&mut self) -> Result<Vec<f64>, SolveError> {
        let mut w = self.initial_state();
        let m = self.state_edge.len();
        if !(0..m).any(|d| self.law.initial_state_at_bias(d, 0.0).is_some()) {
            return Ok(w);
        }
        // Such laws are not linear in v, so the solve is Newton's and
        // leaves every device's voltage in `v_dev`.
        self.solve_currents(0.0, &w)?;
        for (d, x) in w[..m].iter_mut().enumerate() {
            let v = self.v_dev[d];
            if let Some(x0) = self.law.initial_state_at_bias(d, v) {
                *x = self.law.internal_state(d, x0);
            }
        }
        Ok(w)
    }

    /// The laws of the memristors.
    pub fn laws(&self) -> &Laws {
        &self.law
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

    /// Reuse nodal factorisations across evaluations as CG
    /// preconditioners ([`crate::FactorReuse`]). Laws with a non-linear
    /// I-V keep a fresh factorisation per Newton iteration (their
    /// Jacobian need not stay definite), so for them this does nothing.
    pub fn set_factor_reuse(&mut self, reuse: Option<crate::FactorReuse>) {
        if !self.nonlinear {
            self.nodal.set_factor_reuse(reuse);
        }
    }

    /// CG iterations, and solves that reused an older factor.
    pub fn reuse_counts(&self) -> (u64, u64) {
        self.nodal.reuse_counts()
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
        self.nodal.factorizations()
    }

    /// Whether the last factorisation was a sparse LU (the matrix was not
    /// positive definite: a negative conductance or slope di/dv).
    pub fn factor_is_lu(&self) -> bool {
        self.nodal.factor_is_lu()
    }

    /// Right-hand-side evaluations done so far.
    pub fn evaluations(&self) -> u64 {
        self.evals
    }

    /// Unknown potentials of the reduced system (size of the Laplacian).
    pub fn n_unknowns(&self) -> usize {
        self.nodal.n_unknowns()
    }

    /// Nonzeros in the upper triangle of the Laplacian and in its Cholesky
    /// factor (fill-in).
    pub fn sparsity(&self) -> (usize, usize) {
        (self.nodal.matrix_nnz(), self.nodal.factor_nnz())
    }

    /// The fill-reducing ordering in use ([`crate::Ordering::Auto`]
    /// resolved).
    pub fn ordering_used(&self) -> crate::Ordering {
        self.nodal.ordering_used()
    }

    /// Which sparse Cholesky variant faer chose: `simplicial`,
    /// `supernodal` (or `none` without unknowns).
    pub fn factor_kind(&self) -> &'static str {
        self.nodal.factor_kind()
    }

    /// Whether all memristors share one alpha (then B w(t) = e^{alpha t}
    /// B w(0) in the generalised charge form), and which.
    pub fn uniform_alpha(&self) -> Option<f64> {
        if self.law.is_all_linear() {
            self.law.linear.uniform_alpha()
        } else {
            None
        }
    }

    /// The first corner of any time-dependent source after `t` (PULSE
    /// corners, PWL points, SIN delays), see [`crate::waveform::next_breakpoint`].
    ///
    /// The sources' part is remembered: b, the first corner after t0, is
    /// the first corner after any later t that b is still after (by
    /// `waveform::is_after`, next_breakpoint's rounding test), since no source has a corner
    /// strictly between; so b stands until t reaches it. An
    /// integrator asks at every step, and a reservoir has thousands of long
    /// PWL sources.
    pub fn source_breakpoint(&self, t: f64) -> Option<f64> {
        let sources = match self.breakpoint_memo.get() {
            Some((t0, b)) if t >= t0 && b.is_none_or(|b| crate::waveform::is_after(b, t)) => b,
            _ => {
                let mut cursors = self.breakpoint_cursor.borrow_mut();
                let b = self
                    .s_dyn
                    .iter()
                    .map(|d| &d.2)
                    .chain(&self.inj)
                    .chain(&self.cons)
                    .zip(cursors.iter_mut())
                    .filter_map(|(wf, c)| {
                        crate::waveform::next_breakpoint_near(wf, t, self.times, c)
                    })
                    .reduce(f64::min);
                self.breakpoint_memo.set(Some((t, b)));
                b
            }
        };
        sources
            .into_iter()
            .chain(self.law.breakpoint(t))
            .reduce(f64::min)
    }

    /// Series source values S(t) per edge into `self.s`, constraint values
    /// and node injections.
    fn sources_at(&mut self, t: f64) -> Result<(), SolveError> {
        let (n_dyn, n_inj) = (self.s_dyn.len(), self.inj.len());
        let (cur_dyn, rest) = self.source_cursor.split_at_mut(n_dyn);
        let (cur_inj, cur_cons) = rest.split_at_mut(n_inj);
        for ((k, sign, wf), cursor) in self.s_dyn.iter().zip(cur_dyn) {
            let v = sign * wf.value_near(t, self.times, cursor);
            if !v.is_finite() {
                let k = *k as usize;
                return Err(SolveError::NonFiniteSource {
                    element: Element::new(&self.names[k], self.locs[k].as_ref()),
                    t,
                });
            }
            self.s[*k as usize] = v;
        }
        for ((j, wf), cursor) in self.inj.iter().enumerate().zip(cur_inj) {
            let v = wf.value_near(t, self.times, cursor);
            if !v.is_finite() {
                return Err(SolveError::NonFiniteSource {
                    element: self.inj_names[j].clone(),
                    t,
                });
            }
            self.inj_val[j] = v;
        }
        if !self.inj_node.is_empty() {
            for &(from, to) in &self.inj_ends {
                self.inj_node[from] = 0.0;
                self.inj_node[to] = 0.0;
            }
            for (&(from, to), &v) in self.inj_ends.iter().zip(&self.inj_val) {
                self.inj_node[from] -= v;
                self.inj_node[to] += v;
            }
        }
        for ((c, wf), cursor) in self.cons.iter().enumerate().zip(cur_cons) {
            let v = wf.value_near(t, self.times, cursor);
            if !v.is_finite() {
                return Err(SolveError::NonFiniteSource {
                    element: self.cons_names[c].clone(),
                    t,
                });
            }
            self.cons_val[c] = v;
        }
        Ok(())
    }

    /// Solve the circuit at time t with memory state w: fills the branch
    /// currents (see [`MemoryRhs::currents`]) and potentials.
    pub fn solve_currents(&mut self, t: f64, w: &[f64]) -> Result<(), SolveError> {
        if w.len() != self.dim() {
            return Err(SolveError::DimensionMismatch {
                got: w.len(),
                want: self.dim(),
            });
        }
        let m = self.state_edge.len();
        self.evals += 1;
        self.last_t = t;
        self.sources_at(t)?;
        if self.nonlinear {
            return self.solve_newton(t, w);
        }
        // Conductances from the device law (theory.md 3.8 with per-device
        // ron); resistors keep the 1/R written at construction. The law is
        // linear in v, so v is not needed for G.
        let g = self.nodal.conductances_mut();
        for (d, (&k, &wd)) in self.state_edge.iter().zip(w).enumerate() {
            let x = if self.clamp_resistance {
                let (lo, hi) = self.law.state_bounds(d);
                wd.clamp(lo, hi)
            } else {
                wd
            };
            let memo = match self.memo_at.get(d..d + 2) {
                Some(&[a, b]) => &mut self.memo[a..b],
                _ => &mut [],
            };
            let cx = ctx(&self.extra_at, m, t, w, d);
            match self.law.conductance_keep_in(d, x, cx, 0.0, memo) {
                Ok(gd) => g[k] = gd,
                Err(f) => {
                    let element = Element::new(&self.names[k], self.locs[k].as_ref());
                    return Err(fault_error(element, f, t, wd));
                }
            }
        }
        if let Err(node) = self.nodal.factor() {
            return Err(self.singular(node, t, UNFACTORED_LAPLACIAN));
        }
        let sources = NodalSources {
            series: &self.s,
            injection: &self.inj_node,
            constraints: &self.cons_val,
        };
        self.nodal.solve(&sources, &mut self.current);
        self.check_lu_solve(t)
    }

    /// A singular matrix that the LU factored (a pivot of zero value): its
    /// potentials are not finite. Say so, naming the node.
    fn check_lu_solve(&self, t: f64) -> Result<(), SolveError> {
        match self.nodal.singular_node() {
            None => Ok(()),
            Some(node) => Err(self.singular(
                node,
                t,
                "the matrix is singular: a negative conductance cancels the rest at this node",
            )),
        }
    }

    /// The singular-matrix error at node `node` (an index of the nodal
    /// solver), named as the netlist names it.
    pub(crate) fn singular(&self, node: NodeId, t: f64, reason: &str) -> SolveError {
        SolveError::Singular {
            node: self
                .node_names
                .get(node)
                .map(|n| n.to_string())
                .unwrap_or_default(),
            t,
            reason: reason.into(),
        }
    }

    /// The network with devices whose current is not linear in v: damped
    /// Newton on the node potentials through companion models. Each
    /// device is replaced by its tangent at the present voltage estimate,
    /// i = I(x, v0) + g (v - v0) with g = dI/dv + gmin, i.e. a conductance g
    /// in parallel with the current J = I(x, v0) - g v0 (Norton's form: a
    /// device that conducts almost nothing, g ~ gmin, would make the series
    /// form's source I/g huge and its round-off a volt-scale noise); one
    /// nodal factorisation and solve per iteration, on the same symbolic
    /// factorisation. Starts from the last solve's voltages; allocates
    /// nothing.
    fn solve_newton(&mut self, t: f64, w: &[f64]) -> Result<(), SolveError> {
        let fault = |me: &Self, d: usize, f: DeviceFault| {
            let k = me.state_edge[d];
            fault_error(Element::new(&me.names[k], me.locs[k].as_ref()), f, t, w[d])
        };
        // The device whose voltage moved most in the last iteration.
        let mut worst_d = 0;
        let mut last_worst = f64::INFINITY;
        for _ in 0..NEWTON_MAX_ITER {
            self.newton_iterations += 1;
            self.s_newton.copy_from_slice(&self.s);
            if self.inj_node.is_empty() {
                self.inj_newton.fill(0.0);
            } else {
                self.inj_newton.copy_from_slice(&self.inj_node);
            }
            let m = self.state_edge.len();
            // Slopes into the matrix, currents into `current` (free until
            // the solve overwrites it).
            let mut slope_max = 0.0f64;
            for (d, &wd) in w[..m].iter().enumerate() {
                let k = self.state_edge[d];
                let x = self.clamped(d, wd);
                let v = self.v_dev[d];
                let cx = ctx(&self.extra_at, m, t, w, d);
                let warm = match self.warm_at.get(d..d + 2) {
                    Some(&[a, b]) => &mut self.warm[a..b],
                    _ => &mut [],
                };
                let (i, g) = match self.law.current_and_conductance_in(d, x, cx, v, warm) {
                    Ok(ig) => ig,
                    Err(f) => return Err(fault(self, d, f)),
                };
                self.nodal.conductances_mut()[k] = g;
                self.current[k] = i;
                slope_max = slope_max.max(g.abs());
            }
            let gmin = if slope_max > 0.0 {
                GMIN.min(GMIN_SCALE * slope_max)
            } else {
                GMIN
            };
            for d in 0..m {
                let k = self.state_edge[d];
                let g = self.nodal.conductances()[k] + gmin;
                self.nodal.conductances_mut()[k] = g;
                // J flows tail -> head through the device: drawn out of
                // the tail, pushed into the head.
                let j = self.current[k] - g * self.v_dev[d];
                let (tail, head) = self.dev_ends[d];
                self.inj_newton[tail] -= j;
                self.inj_newton[head] += j;
            }
            if let Err(node) = self.nodal.factor() {
                return Err(self.singular(
                    node,
                    t,
                    "the Newton matrix cannot be factored: not positive definite, and its LU failed",
                ));
            }
            let sources = NodalSources {
                series: &self.s_newton,
                injection: &self.inj_newton,
                constraints: &self.cons_val,
            };
            self.nodal.solve(&sources, &mut self.current);
            self.check_lu_solve(t)?;
            // New device voltages v = S + drop = (edge current without J) / g.
            let mut worst = 0.0f64;
            let g = self.nodal.conductances();
            for d in 0..self.state_edge.len() {
                let k = self.state_edge[d];
                let v_new = self.current[k] / g[k] - (self.s_newton[k] - self.s[k]);
                let v = self.v_dev[d];
                if !(v_new.is_finite() && v.is_finite()) {
                    return Err(SolveError::NewtonFailed {
                        element: Element::new(&self.names[k], self.locs[k].as_ref()),
                        t,
                        iterations: 0,
                    });
                }
                // Limit a step to 0.5 V + |v| so an exponential law cannot
                // jump to overflow.
                let limit = 0.5 + v.abs();
                let step = (v_new - v).clamp(-limit, limit);
                self.v_dev[d] = v + step;
                let moved = step.abs() / (1.0 + v.abs());
                if moved > worst {
                    (worst, worst_d) = (moved, d);
                }
            }
            // Converged: below the tolerance, or at the round-off floor of
            // a large network's solve (updates this small that no longer
            // shrink quadratically are noise, not progress).
            let floor = worst <= NEWTON_FLOOR && worst > 0.25 * last_worst;
            last_worst = worst;
            if worst <= NEWTON_VTOL || floor {
                // Currents of the devices at their converged voltages (the
                // resistors' come from the last linear solve).
                for (d, &wd) in w[..m].iter().enumerate() {
                    let k = self.state_edge[d];
                    let x = self.clamped(d, wd);
                    let v = self.v_dev[d];
                    let cx = ctx(&self.extra_at, m, t, w, d);
                    let warm = match self.warm_at.get(d..d + 2) {
                        Some(&[a, b]) => &mut self.warm[a..b],
                        _ => &mut [],
                    };
                    self.current[k] = match self.law.current_in(d, x, cx, v, warm) {
                        Ok(i) => i,
                        Err(f) => return Err(fault(self, d, f)),
                    };
                }
                return Ok(());
            }
        }
        let k = self.state_edge[worst_d];
        Err(SolveError::NewtonFailed {
            element: Element::new(&self.names[k], self.locs[k].as_ref()),
            t,
            iterations: NEWTON_MAX_ITER,
        })
    }

    /// State `x` of device `d` clamped to its law's range when the bound
    /// rules ask for it.
    #[inline]
    fn clamped(&self, d: usize, x: f64) -> f64 {
        if self.clamp_resistance {
            let (lo, hi) = self.law.state_bounds(d);
            x.clamp(lo, hi)
        } else {
            x
        }
    }

    /// Newton iterations so far (0 for laws linear in v).
    pub fn newton_iterations(&self) -> u64 {
        self.newton_iterations
    }

    /// Branch voltage and current of device `d` from the last solve (a
    /// law linear in v: v = i / G from the conductance solved with).
    #[inline]
    fn device_vi(&self, d: usize) -> (f64, f64) {
        let k = self.state_edge[d];
        let i = self.current[k];
        let v = if self.nonlinear {
            self.v_dev[d]
        } else {
            i / self.nodal.conductances()[k]
        };
        (v, i)
    }

    /// The sticky rule: device `d` at state `x` is held at a bound that
    /// its rate `f` pushes past.
    #[inline]
    fn held_at_bound(&self, d: usize, x: f64, f: f64) -> bool {
        let (lo, hi) = self.law.state_bounds(d);
        (x <= lo && f < 0.0) || (x >= hi && f > 0.0)
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
        let m = self.state_edge.len();
        let (dw, dx) = dw.split_at_mut(m);
        for (d, out) in dw.iter_mut().enumerate() {
            let (v, i) = self.device_vi(d);
            let keep = match (self.nonlinear, self.memo_at.get(d..d + 2)) {
                (false, Some(&[a, b])) => Keep::Memo(&self.memo[a..b]),
                _ => match self.warm_at.get(d..d + 2) {
                    Some(&[a, b]) => Keep::Warm(&mut self.warm[a..b]),
                    _ => Keep::Cold,
                },
            };
            let cx = ctx(&self.extra_at, m, t, w, d);
            let extra = match self.extra_at.get(d..d + 2) {
                Some(&[a, b]) => &mut dx[a as usize..b as usize],
                _ => &mut [],
            };
            let f = self.law.state_rate_in(d, w[d], cx, (v, i), keep, extra);
            *out = if self.sticky && self.held_at_bound(d, w[d], f) {
                0.0
            } else {
                f
            };
        }
        Ok(())
    }

    /// The diagonal of d(dw/dt)/dw at the state `w` of the last solve, each
    /// device alone at its solved branch voltage (the network's response to
    /// its change left out): a difference of its law's rate over a step of
    /// 1e-7 of its state's span (of max(|x|, 1) when unbounded), into `d`.
    /// Zero where the sticky gate holds a device at a bound or the law
    /// cannot be evaluated at the shifted state. For the Rosenbrock-W
    /// method, whose order does not depend on this approximation.
    /// The extra states' entries are 0.
    pub fn rate_slopes(&self, w: &[f64], d: &mut [f64]) {
        let m = self.state_edge.len();
        let (dw, dx) = d.split_at_mut(m);
        for (dev, jd) in dw.iter_mut().enumerate() {
            *jd = self.rate_slope(dev, w);
        }
        dx.iter_mut().for_each(|z| *z = 0.0);
    }

    /// Device `dev`'s entry of [`MemoryRhs::rate_slopes`] at the state `w`.
    fn rate_slope(&self, dev: usize, w: &[f64]) -> f64 {
        let (v, i) = self.device_vi(dev);
        let (lo, hi) = self.law.state_bounds(dev);
        let x = w[dev];
        let cx = ctx(&self.extra_at, self.state_edge.len(), self.last_t, w, dev);
        let rate = |x: f64, i: f64| {
            self.law
                .state_rate_in(dev, x, cx, (v, i), Keep::Cold, &mut [])
        };
        let f = rate(x, i);
        if self.sticky && self.held_at_bound(dev, x, f) {
            return 0.0;
        }
        let span = if (hi - lo).is_finite() {
            hi - lo
        } else {
            x.abs().max(1.0)
        };
        let step = 1e-7 * span;
        let x2 = if x + step <= hi { x + step } else { x - step };
        let i2 = if self.nonlinear {
            self.law.current_in(dev, x2, cx, v, &mut [])
        } else {
            self.law.conductance_in(dev, x2, cx, v).map(|g| g * v)
        };
        match i2 {
            Ok(i2) => {
                let q = (rate(x2, i2) - f) / (x2 - x);
                if q.is_finite() { q } else { 0.0 }
            }
            Err(_) => 0.0,
        }
    }

    /// Why the run could not meet its tolerance at (t, `w`) with steps
    /// down to `h`, device `d` having the largest error estimate: its rate
    /// is not finite, it sits at a switch of its law or a bound (the rate
    /// jumps there), it is stiff (its rate's own time scale far below the
    /// step an explicit method could take), or else the tolerance is below
    /// what double precision resolves. `explicit`: the method was Dopri5;
    /// `located`: switches were located.
    pub fn tolerance_not_met(
        &mut self,
        t: f64,
        h: f64,
        w: &[f64],
        d: usize,
        explicit: bool,
        located: bool,
    ) -> SolveError {
        // An extra state's trouble is its device's.
        let d = self.device_of_component(d);
        let k = self.state_edge[d];
        let element = Element::new(&self.names[k], self.locs[k].as_ref());
        let law = self.law.law_of(d);
        let x = w[d];
        let state = self.law.native_state(d, x);
        let mut rate = f64::NAN;
        let mut reason = String::new();
        if self.solve_currents(t, w).is_ok() {
            let (v, i) = self.device_vi(d);
            let cx = ctx(&self.extra_at, self.state_edge.len(), t, w, d);
            rate = self
                .law
                .state_rate_in(d, x, cx, (v, i), Keep::Cold, &mut []);
            let mut g = vec![0.0; self.switches_per_device()];
            let (sw, bounds) = g.split_at_mut(self.law.switch_count());
            self.law.switches(d, x, v, i, sw);
            let (lo, hi) = self.law.state_bounds(d);
            let near = |a: f64| a.is_finite() && a.abs() < 1e-6;
            bounds[0] = if lo.is_finite() { x - lo } else { 1.0 };
            bounds[1] = if hi.is_finite() { hi - x } else { 1.0 };
            let slope = self.rate_slope(d, w);
            if !rate.is_finite() {
                reason = "its rate is not finite here (an overflow in its law)".into();
            } else if sw.iter().copied().any(near) {
                reason = format!(
                    "it is at a switch of its law (a threshold, dead band or window corner), \
                     where its rate jumps{}",
                    if located {
                        "; a looser --rtol/--atol steps across it"
                    } else {
                        ": try --locate-switches, or a looser --rtol/--atol"
                    }
                );
            } else if bounds.iter().copied().any(near) {
                reason = "it is at a bound of its state, where the rule at the bound (clip, \
                          sticky) makes its rate jump: a looser --rtol/--atol steps across it"
                    .into();
            } else if explicit && -slope * h > 1.0 {
                reason = format!(
                    "its law is stiff here (its rate's time scale is {:.1e} s): use --method \
                     rosenbrock",
                    -1.0 / slope
                );
            }
        }
        if reason.is_empty() {
            reason = "its state moves faster than this tolerance resolves in double precision: \
                      loosen --rtol/--atol"
                .into();
        }
        SolveError::ToleranceNotMet {
            element,
            t,
            h,
            law,
            state,
            rate,
            reason,
        }
    }

    /// Switching functions per device: its law's ([`DeviceLaw::switches`],
    /// padded to the most any law present has) and its two bounds.
    pub fn switches_per_device(&self) -> usize {
        self.law.switch_count() + 2
    }

    /// The switching functions of every device at the state `w` of the
    /// last solve, [`MemoryRhs::switches_per_device`] each: the law's, then
    /// w - lo and w - hi of its bounds, relative to the bounds' span (1
    /// for an infinite bound).
    pub fn switches(&self, w: &[f64], out: &mut [f64]) {
        let per = self.switches_per_device();
        for (d, (gs, &x)) in out.chunks_exact_mut(per).zip(w).enumerate() {
            let (v, i) = self.device_vi(d);
            let (law, bounds) = gs.split_at_mut(per - 2);
            self.law.switches(d, x, v, i, law);
            let (lo, hi) = self.law.state_bounds(d);
            let span = if (hi - lo).is_finite() { hi - lo } else { 1.0 };
            bounds[0] = if lo.is_finite() { (x - lo) / span } else { 1.0 };
            bounds[1] = if hi.is_finite() { (x - hi) / span } else { 1.0 };
        }
    }

    /// x = R_on i per memristor (volts) at (t, w): theory.md 3.2,
    /// x = (I + xi Omega W)^{-1} Omega S for uniform parameters.
    pub fn memristor_x(&mut self, t: f64, w: &[f64], x: &mut [f64]) -> Result<(), SolveError> {
        if !self.law.is_all_linear() {
            return Err(SolveError::InvalidOption(
                "x = ron i is defined for memnet's linear law only".into(),
            ));
        }
        self.solve_currents(t, w)?;
        for (s, xs) in x.iter_mut().enumerate().take(self.state_edge.len()) {
            *xs = self.law.linear.ron[s] * self.current[self.state_edge[s]];
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
        self.nodal.node_potentials(out);
    }

    /// Whether the charge law (theory.md 4.1 (C1)) in its generalised form
    /// holds for this network: B_q c(t) = e^{alpha t} B_q c(0) with
    /// c_k = polarity_k beta_k w_k / ron_k. Needs uniform alpha, no current
    /// sources and no resistor touching an unknown potential. Returns the
    /// reason when it does not hold.
    pub fn charge_law(&self) -> Result<f64, &'static str> {
        if !self.law.is_all_linear() {
            return Err("the charge law is stated for memnet's linear law");
        }
        if !self.inj.is_empty() {
            return Err("current sources inject charge: the charge law does not hold");
        }
        let Some(a) = self.uniform_alpha() else {
            return Err("alpha differs between devices: no single exponential charge law");
        };
        let resistor_in_matrix = (0..self.names.len()).any(|k| {
            let (a, b) = self.nodal.edge_unknowns(k);
            self.edge_state[k] == NONE && (a != NONE || b != NONE)
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
        let law = &self.law.linear;
        self.state_edge
            .iter()
            .enumerate()
            .map(|(s, &k)| {
                let (a, b) = self.nodal.edge_unknowns(k);
                (a, b, law.polarity[s] * law.beta[s] / law.ron[s])
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
        MemoryRhs::dim(self)
    }

    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), SolveError> {
        self.eval(t, y, dy)
    }

    fn next_breakpoint(&self, t: f64) -> Option<f64> {
        self.source_breakpoint(t)
    }
}

/// The run error of a device fault at time `t`, state `w`.
/// What device `d` reads besides its own state at time `t` in the
/// integrated state `y` (m devices, then the extra states at `extra_at`).
#[inline]
pub(crate) fn ctx<'y>(extra_at: &[u32], m: usize, t: f64, y: &'y [f64], d: usize) -> Ctx<'y> {
    match extra_at.get(d..d + 2) {
        Some(&[a, b]) => Ctx {
            t,
            extra: &y[m + a as usize..m + b as usize],
        },
        _ => Ctx { t, extra: &[] },
    }
}

fn fault_error(element: Element, f: DeviceFault, t: f64, w: f64) -> SolveError {
    match f {
        DeviceFault::NonPhysicalResistance(r) => SolveError::NonPhysicalState {
            element,
            t,
            w,
            resistance: r,
        },
        DeviceFault::BodyUnsolved { x, v } => SolveError::BodyUnsolved { element, t, x, v },
    }
}
