//! The analysed model: a [`Network`] reduced to the purely memristive form
//! the theory speaks about (theory.md 3.1-3.8).
//!
//! Two exact rewrites make every network fit the same equations:
//!
//! * **Constraint contraction.** An ideal voltage source `V pos neg` fixes
//!   phi_pos - phi_neg. Merging pos and neg into one *supernode* and moving
//!   the fixed offsets into the series sources of the edges that touch them
//!   (S'_k = S_k + c_tail - c_head, with c_n the potential of node n relative
//!   to its supernode root) gives the same branch currents. KCL then holds
//!   for supernodes, so the charge law (C1) is stated on the contracted graph.
//! * **Polarity normalisation.** A device mounted reversed (polarity -1) is
//!   the same physics as the edge turned round with its source negated
//!   (theory.md 3.5, D = P). After this every device has polarity +1.
//!
//! Currents and vectors indexed by edge use the *normalised* orientation;
//! [`ModelEdge::reversed`] records which edges were turned.

use std::sync::Arc;

use memnet_graph::{Device, Network, Topology, TopologyError};
use memnet_spice::{Loc, TranTimes, Waveform};
use serde::Serialize;

use crate::error::AnalysisError;

/// A signed waveform: one contribution to a series source S'_k(t).
#[derive(Clone, Debug)]
pub struct SourceTerm {
    pub sign: f64,
    pub waveform: Waveform,
}

/// Device parameters of one memristor (theory.md 1.1-1.2, 3.8).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DeviceParams {
    pub ron: f64,
    pub xi: f64,
    pub alpha: f64,
    pub beta: f64,
    pub w0: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EdgeKind {
    /// Memristor with its index in the state vector w.
    Memristor { state: usize, params: DeviceParams },
    /// Fixed resistor, ohms.
    Resistor { resistance: f64 },
}

#[derive(Clone, Debug)]
pub struct ModelEdge {
    pub name: String,
    pub loc: Option<Loc>,
    /// Contracted node indices (normalised orientation).
    pub tail: usize,
    pub head: usize,
    pub kind: EdgeKind,
    /// S'_k(t) = sum of terms (edge source plus constraint offsets).
    pub terms: Vec<SourceTerm>,
    /// Whether the edge was turned round relative to the network.
    pub reversed: bool,
}

/// A current source between two contracted nodes: it draws its current out
/// of `from` and pushes it into `to` (SPICE convention, theory.md 3.4).
#[derive(Clone, Debug)]
pub struct ModelInjection {
    pub name: String,
    pub loc: Option<Loc>,
    pub from: usize,
    pub to: usize,
    pub waveform: Waveform,
    /// Multiplies the waveform (1 for imported sources; symmetry checks scale it).
    pub gain: f64,
}

/// The network in the theory's normal form. See the module documentation.
#[derive(Clone, Debug)]
pub struct Model {
    pub title: String,
    /// Name of each contracted node (supernodes join their members with `=`).
    pub node_names: Vec<String>,
    pub edges: Vec<ModelEdge>,
    /// Edge index of each memristor (state order = network edge order).
    pub memristor_edges: Vec<usize>,
    pub injections: Vec<ModelInjection>,
    /// Names and locations of the contracted ideal voltage sources.
    pub constraints: Vec<(String, Option<Loc>)>,
    /// Topology of the contracted graph (theory.md 2.1-2.4): components,
    /// one ground per component (the supernode of `0` where present, else
    /// the lowest node), reduced numbering, B_r, the cycle basis A and the
    /// reduced Laplacian pattern. Shared with [`memnet_graph::OmegaOperator`].
    pub topo: Arc<Topology>,
    pub times: TranTimes,
}

/// Uniform device parameters, when every device shares them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Uniform {
    pub ron: f64,
    pub xi: f64,
    pub alpha: f64,
    pub beta: f64,
}

fn check_finite(name: &str, loc: Option<&Loc>, what: &str, v: f64) -> Result<(), AnalysisError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(AnalysisError::element(
            name,
            loc,
            format!("{what} is not finite ({v})"),
        ))
    }
}

impl Model {
    /// Builds the normal form. `t_end` fills ngspice's waveform defaults when
    /// the network has no `.tran` card.
    pub fn from_network(net: &Network, t_end: f64) -> Result<Model, AnalysisError> {
        let n = net.n_nodes();
        let node_ok = |id: usize, name: &str, loc: Option<&Loc>| {
            if id < n {
                Ok(())
            } else {
                Err(AnalysisError::element(
                    name,
                    loc,
                    format!("refers to node index {id}, but the network has {n} nodes"),
                ))
            }
        };
        // Supernodes and their constraint trees come from the network's
        // topology; the offsets c_n are path sums along the tree, so they
        // are independent of the tree (a forest has one path).
        let net_topo = Topology::try_new(net).map_err(|e| match e {
            TopologyError::VoltageSourceLoop { constraint } => {
                let c = &net.constraints[constraint];
                AnalysisError::element(
                    &c.name,
                    c.loc.as_ref(),
                    "closes a loop of ideal voltage sources (their voltages are over-determined)",
                )
            }
            TopologyError::BadEndpoint { edge, node, .. } => {
                let e = &net.edges[edge];
                AnalysisError::element(
                    &e.name,
                    e.loc.as_ref(),
                    format!("refers to node index {node}, but the network has {n} nodes"),
                )
            }
            TopologyError::BadConstraint {
                constraint, node, ..
            } => {
                let c = &net.constraints[constraint];
                AnalysisError::element(
                    &c.name,
                    c.loc.as_ref(),
                    format!("refers to node index {node}, but the network has {n} nodes"),
                )
            }
            e => e.into(),
        })?;
        let sup = &net_topo.supernodes;
        let ground_node = net
            .node_names
            .iter()
            .position(|s| s == memnet_spice::GROUND);
        let mut offset: Vec<Vec<SourceTerm>> = vec![Vec::new(); n];
        for l in &sup.links {
            // phi_pos - phi_neg = V: c_v = c_u + sign V along the link.
            let mut terms = offset[l.parent].clone();
            terms.push(SourceTerm {
                sign: l.sign,
                waveform: net.constraints[l.constraint].source.waveform.clone(),
            });
            offset[l.node] = terms;
        }
        // Contracted numbering (supernodes, in order of first member).
        let node_of: Vec<usize> = (0..n).map(|i| sup.of(i)).collect();
        let mut node_names: Vec<String> = Vec::with_capacity(sup.count);
        for (i, &s) in node_of.iter().enumerate() {
            if s == node_names.len() {
                node_names.push(net.node_names[i].clone());
            } else {
                let name = &mut node_names[s];
                name.push('=');
                name.push_str(&net.node_names[i]);
            }
        }
        drop(net_topo);

        let mut edges = Vec::with_capacity(net.edges.len());
        let mut memristor_edges = Vec::new();
        for e in &net.edges {
            let loc = e.loc.as_ref();
            let mut terms = Vec::new();
            if let Some(s) = &e.source {
                terms.push(SourceTerm {
                    sign: s.sign,
                    waveform: s.source.waveform.clone(),
                });
            }
            terms.extend(offset[e.tail].iter().cloned());
            terms.extend(offset[e.head].iter().map(|t| SourceTerm {
                sign: -t.sign,
                waveform: t.waveform.clone(),
            }));
            let (mut tail, mut head) = (node_of[e.tail], node_of[e.head]);
            let mut reversed = false;
            let kind = match e.device {
                Device::Memristor(p) => {
                    for (what, v) in [
                        ("ron", p.ron),
                        ("roff", p.roff),
                        ("w0", p.w0),
                        ("alpha", p.alpha),
                        ("beta", p.beta),
                        ("polarity", p.polarity),
                    ] {
                        check_finite(&e.name, loc, what, v)?;
                    }
                    if p.ron <= 0.0 {
                        return Err(AnalysisError::element(
                            &e.name,
                            loc,
                            format!("ron must be positive (got {})", p.ron),
                        ));
                    }
                    if p.roff <= 0.0 {
                        return Err(AnalysisError::element(
                            &e.name,
                            loc,
                            format!(
                                "roff must be positive, i.e. xi > -1 (got roff = {})",
                                p.roff
                            ),
                        ));
                    }
                    if p.beta == 0.0 {
                        return Err(AnalysisError::element(&e.name, loc, "beta must not be 0"));
                    }
                    if p.polarity < 0.0 {
                        // theory.md 3.5: turning the edge round (D = P) makes
                        // the polarity +1 and negates the source.
                        std::mem::swap(&mut tail, &mut head);
                        for t in &mut terms {
                            t.sign = -t.sign;
                        }
                        reversed = true;
                    }
                    memristor_edges.push(edges.len());
                    EdgeKind::Memristor {
                        state: memristor_edges.len() - 1,
                        params: DeviceParams {
                            ron: p.ron,
                            xi: p.xi(),
                            alpha: p.alpha,
                            beta: p.beta,
                            w0: p.w0,
                        },
                    }
                }
                Device::Native { spec } => {
                    let law = net.laws.get(spec as usize).map_or("?", |s| s.law.as_str());
                    return Err(AnalysisError::element(
                        &e.name,
                        loc,
                        format!(
                            "follows law `{law}`: the theory's results are stated for memnet's \
                             linear law (docs/model.md), so none of them applies to this circuit"
                        ),
                    ));
                }
                Device::Resistor { resistance } => {
                    check_finite(&e.name, loc, "resistance", resistance)?;
                    if resistance <= 0.0 {
                        return Err(AnalysisError::element(
                            &e.name,
                            loc,
                            format!("resistance must be positive (got {resistance})"),
                        ));
                    }
                    EdgeKind::Resistor { resistance }
                }
            };
            edges.push(ModelEdge {
                name: e.name.to_string(),
                loc: e.loc.clone(),
                tail,
                head,
                kind,
                terms,
                reversed,
            });
        }
        let topo = Arc::new(Topology::from_edges(
            node_names.len(),
            edges.iter().map(|e| e.tail).collect(),
            edges.iter().map(|e| e.head).collect(),
            ground_node.map(|g| node_of[g]),
            // Constraints are contracted away: none are left.
            &[],
        )?);
        let mut injections = Vec::new();
        for j in &net.injections {
            node_ok(j.from, &j.name, j.loc.as_ref())?;
            node_ok(j.to, &j.name, j.loc.as_ref())?;
            let (from, to) = (node_of[j.from], node_of[j.to]);
            if topo.component[from] != topo.component[to] {
                return Err(AnalysisError::element(
                    &j.name,
                    j.loc.as_ref(),
                    "connects two parts of the circuit that no device joins, so KCL cannot hold",
                ));
            }
            injections.push(ModelInjection {
                name: j.name.clone(),
                loc: j.loc.clone(),
                from,
                to,
                waveform: j.source.waveform.clone(),
                gain: 1.0,
            });
        }
        Ok(Model {
            title: net.title.clone(),
            node_names,
            edges,
            memristor_edges,
            injections,
            constraints: net
                .constraints
                .iter()
                .map(|c| (c.name.clone(), c.loc.clone()))
                .collect(),
            topo,
            times: net.tran_times(t_end),
        })
    }

    pub fn n_edges(&self) -> usize {
        self.edges.len()
    }

    pub fn n_memristors(&self) -> usize {
        self.memristor_edges.len()
    }

    pub fn n_resistors(&self) -> usize {
        self.n_edges() - self.n_memristors()
    }

    /// Parameters of memristor `state`.
    pub fn params(&self, state: usize) -> DeviceParams {
        match self.edges[self.memristor_edges[state]].kind {
            EdgeKind::Memristor { params, .. } => params,
            // memristor_edges only lists memristors.
            EdgeKind::Resistor { .. } => DeviceParams {
                ron: 1.0,
                xi: 0.0,
                alpha: 0.0,
                beta: 1.0,
                w0: 0.0,
            },
        }
    }

    /// Initial memory state w(0).
    pub fn w0(&self) -> Vec<f64> {
        (0..self.n_memristors())
            .map(|s| self.params(s).w0)
            .collect()
    }

    /// The shared parameters, if the network is memristors only and all
    /// share ron, xi, alpha and beta (what the Omega-form formulas need).
    pub fn uniform(&self) -> Option<Uniform> {
        if self.n_resistors() > 0 || self.n_memristors() == 0 {
            return None;
        }
        let p0 = self.params(0);
        let u = Uniform {
            ron: p0.ron,
            xi: p0.xi,
            alpha: p0.alpha,
            beta: p0.beta,
        };
        (1..self.n_memristors())
            .all(|s| {
                let p = self.params(s);
                p.ron == u.ron && p.xi == u.xi && p.alpha == u.alpha && p.beta == u.beta
            })
            .then_some(u)
    }

    /// Why the uniform formulas do not apply, naming the first offending element.
    pub fn nonuniform_reason(&self) -> Option<String> {
        if self.n_memristors() == 0 {
            return Some("the circuit has no memristors".into());
        }
        if let Some(e) = self
            .edges
            .iter()
            .find(|e| matches!(e.kind, EdgeKind::Resistor { .. }))
        {
            return Some(format!(
                "fixed resistor {} carries current but has no memory variable",
                describe(&e.name, e.loc.as_ref())
            ));
        }
        let p0 = self.params(0);
        for s in 1..self.n_memristors() {
            let p = self.params(s);
            if p.ron != p0.ron || p.xi != p0.xi || p.alpha != p0.alpha || p.beta != p0.beta {
                let e = &self.edges[self.memristor_edges[s]];
                return Some(format!(
                    "device parameters are not uniform ({} differs from {})",
                    describe(&e.name, e.loc.as_ref()),
                    self.edges[self.memristor_edges[0]].name
                ));
            }
        }
        None
    }

    /// Whether any series source, constraint or current source varies in time.
    pub fn time_dependent_reason(&self) -> Option<String> {
        for e in &self.edges {
            if e.terms.iter().any(|t| !t.waveform.is_constant()) {
                return Some(format!(
                    "the source driving {} varies in time",
                    describe(&e.name, e.loc.as_ref())
                ));
            }
        }
        for j in &self.injections {
            if !j.waveform.is_constant() {
                return Some(format!(
                    "current source {} varies in time",
                    describe(&j.name, j.loc.as_ref())
                ));
            }
        }
        None
    }

    pub fn injection_reason(&self) -> Option<String> {
        self.injections.first().map(|j| {
            format!(
                "current source {} injects charge the memory does not record",
                describe(&j.name, j.loc.as_ref())
            )
        })
    }

    /// Whether all alphas vanish.
    pub fn alpha_zero(&self) -> bool {
        (0..self.n_memristors()).all(|s| self.params(s).alpha == 0.0)
    }

    /// Series sources S'_k(t) of every edge (normalised orientation).
    pub fn sources_at(&self, t: f64, s: &mut [f64]) {
        for (e, sk) in self.edges.iter().zip(s.iter_mut()) {
            *sk = e
                .terms
                .iter()
                .map(|term| term.sign * term.waveform.value(t, self.times))
                .sum();
        }
    }

    pub fn sources_vec(&self, t: f64) -> Vec<f64> {
        let mut s = vec![0.0; self.n_edges()];
        self.sources_at(t, &mut s);
        s
    }

    /// Net current J_n injected into each contracted node by current sources.
    pub fn injections_at(&self, t: f64, j: &mut [f64]) {
        j.iter_mut().for_each(|x| *x = 0.0);
        for inj in &self.injections {
            let v = inj.gain * inj.waveform.value(t, self.times);
            j[inj.to] += v;
            j[inj.from] -= v;
        }
    }

    /// Memristor-only source vector S (length = number of memristors).
    pub fn memristor_sources(&self, t: f64) -> Vec<f64> {
        let s = self.sources_vec(t);
        self.memristor_edges.iter().map(|&k| s[k]).collect()
    }

    /// Display name of memristor `state`, with its location.
    pub fn memristor_name(&self, state: usize) -> String {
        let e = &self.edges[self.memristor_edges[state]];
        describe(&e.name, e.loc.as_ref())
    }
}

/// `name (file:line:col)` or just `name`.
pub fn describe(name: &str, loc: Option<&Loc>) -> String {
    match loc {
        Some(l) => format!("{name} ({l})"),
        None => name.to_string(),
    }
}
