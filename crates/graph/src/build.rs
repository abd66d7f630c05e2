//! From an elaborated circuit to a [`Network`] (and back).
//!
//! Folding (theory.md 3.1): an ideal voltage source in series with exactly
//! one memristor or resistor, through an internal node that nothing else
//! touches (and that is not ground), becomes that edge's series source S_k.
//! The edge keeps the device's orientation (p -> n); the internal node
//! disappears. The sign follows phi_tail - phi_head = R i - S: walking the
//! branch from tail to head, the source raises the potential by S. With
//! ngspice's `V n+ n- val` meaning V(n+) - V(n-) = val, crossing the source
//! from n- to n+ gives S = +val, from n+ to n- gives S = -val.

use petgraph::unionfind::UnionFind;
use std::collections::HashMap;

use memnet_spice::{
    Analysis, Circuit, Diagnostic, Element, ElementKind, GROUND, LinearLaw, Loc, Memristor,
    MemristorDialect, Source,
};

use crate::error::NetworkError;
use crate::network::{
    Device, Edge, FoldedNode, Injection, LawSpec, MemristorParams, Network, NodeId, OpenPin,
    PotentialConstraint, SeriesSource, TranSpec,
};

const NONE: usize = usize::MAX;

/// Checks device parameters against theory.md 1.1-1.2 and 2.1: R_on > 0,
/// R_off > 0 (xi > -1), w0 in [0, 1], beta != 0, everything finite.
/// Returns the complaint, if any.
pub fn check_memristor(p: &MemristorParams) -> Result<(), String> {
    let named = [
        ("ron", p.ron),
        ("roff", p.roff),
        ("w0", p.w0),
        ("alpha", p.alpha),
        ("beta", p.beta),
        ("polarity", p.polarity),
    ];
    for (name, v) in named {
        if !v.is_finite() {
            return Err(format!("parameter {name} = {v} is not a finite number"));
        }
    }
    if p.ron <= 0.0 {
        return Err(format!("ron = {} must be positive", p.ron));
    }
    if p.roff <= 0.0 {
        return Err(format!(
            "roff = {} must be positive (xi = roff/ron - 1 = {} must be > -1)",
            p.roff,
            p.xi()
        ));
    }
    if !(0.0..=1.0).contains(&p.w0) {
        return Err(format!("w0 = {} must lie in [0, 1]", p.w0));
    }
    if p.beta == 0.0 {
        return Err("beta must be non-zero".to_string());
    }
    if p.polarity != 1.0 && p.polarity != -1.0 {
        return Err(format!("polarity = {} must be +1 or -1", p.polarity));
    }
    Ok(())
}

/// Checks a fixed resistance (> 0, finite).
pub fn check_resistance(r: f64) -> Result<(), String> {
    if !r.is_finite() || r <= 0.0 {
        return Err(format!("resistance {r} must be a positive finite number"));
    }
    Ok(())
}

impl From<&LinearLaw> for MemristorParams {
    fn from(l: &LinearLaw) -> Self {
        MemristorParams {
            ron: l.ron,
            roff: l.roff,
            w0: l.w0,
            alpha: l.alpha,
            beta: l.beta,
            polarity: 1.0,
        }
    }
}

/// Whether a Xyce memristor turns on random telegraph noise (`RESNOISE`,
/// `XNOISE` of levels 2 and 3): stochastic, not simulated.
fn xyce_noisy(m: &Memristor) -> bool {
    ["resnoise", "xnoise"]
        .iter()
        .any(|k| m.params.get(*k).is_some_and(|v| *v != 0.0))
}

/// Parameters Xyce declares but whose values do not change the law memnet
/// integrates while the noise switches are off (and level 3's unused
/// `xscaling`).
const XYCE_INERT: &[&str] = &[
    "resnoise",
    "resseed",
    "reslambda",
    "restd",
    "reseptd",
    "resdelta",
    "resdeltagrad",
    "xnoise",
    "xseed",
    "xlambda",
    "xtd",
    "xeptd",
    "xdelta",
    "xdeltagrad",
];

/// The native law (docs/device-laws.md) of an imported memristor that has
/// one: the ngspice XSPICE `memristor` code model is the threshold law;
/// Xyce's levels 2, 3 and 4 are its TEAM as coded, Yakopcic and PEM, and
/// level 5 Knowm's fork's metastable switch (upstream has none); a
/// device written back from a network keeps its law.
pub fn native_law(m: &Memristor) -> Option<&str> {
    match &m.dialect {
        MemristorDialect::Xspice { .. } => Some("xspice"),
        MemristorDialect::Xyce { level, .. } => match level {
            _ if xyce_noisy(m) => None,
            2 => Some("xyce-team"),
            3 => Some("yakopcic"),
            4 => Some("pem"),
            // Upstream Xyce has no level 5: Knowm's fork's MMSS.
            5 => Some("knowm-xyce"),
            _ => None,
        },
        MemristorDialect::Native { law, .. } => Some(law),
        MemristorDialect::Body { .. } => Some("body"),
        _ => None,
    }
}

/// The law specification of such a memristor, with its parameters as
/// written (the solver checks them against the law's table and names any
/// other). Xyce's `level`, its inert noise parameters and level 3's unused
/// `xscaling` are not the law's.
fn native_spec(e: &Element, m: &Memristor, law: &str) -> LawSpec {
    let xyce = matches!(m.dialect, MemristorDialect::Xyce { .. });
    let inert = |k: &str| {
        xyce && (k == "level" || XYCE_INERT.contains(&k) || (law == "yakopcic" && k == "xscaling"))
    };
    let options = match &m.dialect {
        MemristorDialect::Native { options, .. } => options.clone(),
        _ => Vec::new(),
    };
    LawSpec {
        law: law.into(),
        options,
        params: m
            .params
            .iter()
            .filter(|(k, _)| !inert(k))
            .map(|(k, v)| (k.clone(), *v))
            .collect(),
        tables: m.tables.clone(),
        loc: Some(e.loc.clone()),
        body: match &m.dialect {
            MemristorDialect::Body { body, ic } => Some((body.clone(), ic.clone())),
            _ => None,
        },
    }
}

/// Why a memristor without a linear law cannot be simulated.
fn unsimulable_memristor(m: &Memristor) -> String {
    match &m.dialect {
        MemristorDialect::Xyce { model, level } => {
            if xyce_noisy(m) {
                format!(
                    "Xyce memristor model `{model}` turns on random telegraph noise \
                     (RESNOISE/XNOISE): a stochastic law memnet does not simulate"
                )
            } else {
                format!(
                    "Xyce memristor level {level} (model `{model}`) is not a level memnet \
                     implements (2 TEAM, 3 Yakopcic, 4 PEM, and 5, the metastable switch of \
                     Knowm's Xyce fork)"
                )
            }
        }
        MemristorDialect::Xspice { model } => format!(
            "XSPICE memristor code model `{model}` is imported but cannot be simulated: memnet \
             simulates the linear memristor of docs/model.md only"
        ),
        MemristorDialect::UserSubckt { subckt } => format!(
            "memristor subcircuit `{subckt}` is imported but cannot be simulated: its parameters \
             do not give the linear law of docs/model.md"
        ),
        MemristorDialect::Native { law, .. } => {
            format!("memristor with law `{law}` cannot be simulated")
        }
        MemristorDialect::Body { body, .. } => {
            format!("memristor subcircuit `{}` cannot be simulated", body.subckt)
        }
        MemristorDialect::Canonical => "memristor is imported but cannot be simulated: its \
             parameters do not give the linear law of docs/model.md"
            .to_string(),
    }
}

/// What an element becomes.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    Device,
    VSource,
    ISource,
    Rejected,
}

impl Network {
    /// Builds the network of an elaborated circuit (theory.md 2.1, 3.1).
    ///
    /// Memristors with a linear law and resistors become edges p -> n;
    /// voltage sources fold into series sources where possible (see the
    /// module docs), the others become [`PotentialConstraint`]s; current
    /// sources become [`Injection`]s. All problems found are reported
    /// together, each with its element name and `file:line:col`.
    ///
    /// Nodes are numbered in order of first appearance in the element list
    /// (folded internal nodes removed); edges keep the element order.
    pub fn from_circuit(c: &Circuit) -> Result<Network, NetworkError> {
        let mut errs: Vec<Diagnostic> = Vec::new();
        let els = &c.elements;

        // Node interning in first-appearance order; per node its degree
        // (element terminals on it) and the first two elements touching it.
        let mut ids: HashMap<&str, usize, FxBuild> =
            HashMap::with_capacity_and_hasher(els.len(), FxBuild);
        let mut names: Vec<&str> = Vec::new();
        let mut degree: Vec<u32> = Vec::new();
        let mut touch: Vec<[usize; 2]> = Vec::new();
        let mut el_nodes: Vec<[usize; 2]> = Vec::with_capacity(els.len());
        let mut roles: Vec<Role> = Vec::with_capacity(els.len());

        // How many element terminals are on each node: counted only if a
        // compiled body has pins beyond its two (the state pin of the
        // `TE BE XSV` shape), which may stay open and are then internal.
        let mut uses: Option<HashMap<&str, u32, FxBuild>> = None;
        for (i, e) in els.iter().enumerate() {
            let (role, _) = classify(e, &mut errs);
            let mut extra_pins_open = || {
                let counts = uses.get_or_insert_with(|| {
                    let mut m: HashMap<&str, u32, FxBuild> = HashMap::default();
                    for e in els {
                        for n in &e.nodes {
                            *m.entry(n.as_str()).or_default() += 1;
                        }
                    }
                    m
                });
                e.nodes[2..]
                    .iter()
                    .all(|n| n != GROUND && counts.get(n.as_str()) == Some(&1))
            };
            let body_with_open_pins = e.nodes.len() > 2
                && matches!(&e.kind, ElementKind::Memristor(m)
                    if matches!(m.dialect, MemristorDialect::Body { .. }));
            if body_with_open_pins && role != Role::Rejected && !extra_pins_open() {
                errs.push(Diagnostic::new(
                    e.loc.clone(),
                    format!(
                        "memristor `{}`: its pins beyond the first two ({}) are connected \
                         to other elements or to ground; memnet compiles such pins (a state \
                         pin like XSV) when they are left open",
                        e.name,
                        e.nodes[2..].join(" ")
                    ),
                ));
            }
            let role = if role != Role::Rejected && e.nodes.len() != 2 && !body_with_open_pins {
                errs.push(Diagnostic::new(
                    e.loc.clone(),
                    format!(
                        "{} `{}` has {} terminals; memnet needs two-terminal elements",
                        e.kind_name(),
                        e.name,
                        e.nodes.len()
                    ),
                ));
                Role::Rejected
            } else {
                role
            };
            let mut pair = [NONE; 2];
            if role != Role::Rejected {
                for (slot, name) in pair.iter_mut().zip(&e.nodes) {
                    let id = *ids.entry(name.as_str()).or_insert_with(|| {
                        names.push(name.as_str());
                        degree.push(0);
                        touch.push([NONE; 2]);
                        names.len() - 1
                    });
                    degree[id] += 1;
                    if let Some(t) = touch[id].iter_mut().find(|t| **t == NONE) {
                        *t = i;
                    }
                    *slot = id;
                }
            }
            el_nodes.push(pair);
            roles.push(role);
        }

        // Folding: V source i with a non-ground terminal x of degree 2 whose
        // other element is an unfolded device touching x once.
        // fold_of[device] = (vsource, internal node, sign).
        // Few devices fold in a typical netlist: a map keeps this O(folds).
        let mut fold_of: HashMap<usize, (usize, usize, f64), FxBuild> = HashMap::default();
        let mut folded_v = vec![false; els.len()];
        let mut internal = vec![false; names.len()];
        for i in 0..els.len() {
            if roles[i] != Role::VSource {
                continue;
            }
            let [vp, vn] = el_nodes[i];
            if vp == vn {
                continue;
            }
            for x in [vp, vn] {
                if names[x] == GROUND || degree[x] != 2 {
                    continue;
                }
                let d = if touch[x][0] == i {
                    touch[x][1]
                } else {
                    touch[x][0]
                };
                if d == NONE || d == i || roles[d] != Role::Device || fold_of.contains_key(&d) {
                    continue;
                }
                let [p, n] = el_nodes[d];
                if p == n {
                    continue;
                }
                // Case p == x: walk (other V end) -> x, crossing the source
                // towards x; +val if x is n+. Case n == x: walk x -> (other V
                // end); +val if x is n-.
                let sign = if (p == x) == (x == vp) { 1.0 } else { -1.0 };
                fold_of.insert(d, (i, x, sign));
                folded_v[i] = true;
                internal[x] = true;
                break;
            }
        }

        // Final node numbering: first appearance, minus folded internal nodes.
        let mut new_id = vec![NONE; names.len()];
        let mut node_names = Vec::new();
        for (old, name) in names.iter().enumerate() {
            if !internal[old] {
                new_id[old] = node_names.len();
                node_names.push((*name).to_string());
            }
        }

        let mut net = Network {
            title: c.title.clone(),
            node_names,
            tran: c.tran().and_then(|a| match a {
                Analysis::Tran {
                    tstep, tstop, tmax, ..
                } => Some(TranSpec {
                    tstep: *tstep,
                    tstop: *tstop,
                    tmax: *tmax,
                }),
                _ => None,
            }),
            ..Network::default()
        };
        net.edges
            .reserve_exact(roles.iter().filter(|&&r| r == Role::Device).count());
        // Union-find over nodes: the constraint-only forest (to find loops of
        // ideal voltage sources) and then edges + constraints (cut sets).
        let n = net.node_names.len();
        let n_vsources = roles.iter().filter(|&&r| r == Role::VSource).count();
        let mut vforest = UnionFind::<usize>::new(if n_vsources > 0 { n } else { 0 });
        let mut vadj: HashMap<usize, Vec<(usize, usize)>, FxBuild> = HashMap::default();

        for (i, e) in els.iter().enumerate() {
            let [a, b] = el_nodes[i];
            match roles[i] {
                Role::Device => {
                    // Classified without complaint in the first pass.
                    let (_, Some(mut device)) = classify(e, &mut Vec::new()) else {
                        continue;
                    };
                    if let (Device::Native { spec }, ElementKind::Memristor(m)) =
                        (&mut device, &e.kind)
                        && let Some(law) = native_law(m)
                    {
                        *spec = net.laws.len() as u32;
                        net.laws.push(native_spec(e, m, law));
                    }
                    if e.nodes.len() > 2 {
                        // A body with open extra pins (checked above).
                        for (pin, name) in e.nodes.iter().enumerate().skip(2) {
                            net.open_pins.push(OpenPin {
                                name: name.clone(),
                                edge: net.edges.len(),
                                pin,
                            });
                        }
                    }
                    let (tail, head, source) = match fold_of.get(&i).copied() {
                        None => (new_id[a], new_id[b], None),
                        Some((v, x, sign)) => {
                            let [vp, vn] = el_nodes[v];
                            let outer = new_id[if x == vp { vn } else { vp }];
                            let ElementKind::VoltageSource(src) = &els[v].kind else {
                                continue;
                            };
                            let s = SeriesSource {
                                name: els[v].name.clone(),
                                source: src.clone(),
                                sign,
                                loc: Some(els[v].loc.clone()),
                            };
                            net.folded_nodes.push(FoldedNode {
                                name: names[x].to_string(),
                                edge: net.edges.len(),
                                at_tail: a == x,
                            });
                            if a == x {
                                (outer, new_id[b], Some(s))
                            } else {
                                (new_id[a], outer, Some(s))
                            }
                        }
                    };
                    net.edges.push(Edge {
                        name: e.name.clone(),
                        tail,
                        head,
                        device,
                        source: source.map(Box::new),
                        loc: Some(e.loc.clone()),
                    });
                }
                Role::VSource if !folded_v[i] => {
                    let ElementKind::VoltageSource(src) = &e.kind else {
                        continue;
                    };
                    let (pos, neg) = (new_id[a], new_id[b]);
                    if pos == neg {
                        errs.push(Diagnostic::new(
                            e.loc.clone(),
                            format!(
                                "voltage source `{}` has both terminals on node `{}`: a loop of \
                                 ideal voltage sources",
                                e.name, net.node_names[pos]
                            ),
                        ));
                        continue;
                    }
                    if vforest.find_mut(pos) == vforest.find_mut(neg) {
                        let path = forest_path(&vadj, pos, neg);
                        let mut members: Vec<&str> =
                            path.iter().map(|&j| els[j].name.as_str()).collect();
                        members.push(&e.name);
                        let lines: Vec<String> = path
                            .iter()
                            .map(|&j| format!("`{}` at {}", els[j].name, els[j].loc))
                            .collect();
                        errs.push(Diagnostic::new(
                            e.loc.clone(),
                            format!(
                                "voltage sources {} form a loop of ideal voltage sources (the \
                                 node potentials are over-determined); the others: {}",
                                members
                                    .iter()
                                    .map(|s| format!("`{s}`"))
                                    .collect::<Vec<_>>()
                                    .join(", "),
                                lines.join(", ")
                            ),
                        ));
                        continue;
                    }
                    vforest.union(pos, neg);
                    vadj.entry(pos).or_default().push((neg, i));
                    vadj.entry(neg).or_default().push((pos, i));
                    net.constraints.push(PotentialConstraint {
                        name: e.name.clone(),
                        pos,
                        neg,
                        source: src.clone(),
                        loc: Some(e.loc.clone()),
                    });
                }
                Role::ISource => {
                    let ElementKind::CurrentSource(src) = &e.kind else {
                        continue;
                    };
                    net.injections.push(Injection {
                        name: e.name.clone(),
                        from: new_id[a],
                        to: new_id[b],
                        source: src.clone(),
                        loc: Some(e.loc.clone()),
                    });
                }
                _ => {}
            }
        }

        // Cut sets of current sources: an injection joining two parts that
        // nothing but current sources connects leaves KCL unsatisfiable.
        let mut joined = UnionFind::<usize>::new(if net.injections.is_empty() { 0 } else { n });
        if !net.injections.is_empty() {
            for e in &net.edges {
                joined.union(e.tail, e.head);
            }
            for c in &net.constraints {
                joined.union(c.pos, c.neg);
            }
        }
        for j in &net.injections {
            if j.from != j.to && joined.find_mut(j.from) != joined.find_mut(j.to) {
                let loc = j.loc.clone().unwrap_or_else(|| Loc::new("<network>", 0, 0));
                errs.push(Diagnostic::new(
                    loc,
                    format!(
                        "current source `{}` between nodes `{}` and `{}` is part of a cut set of \
                         current sources: the two sides are connected only through current \
                         sources, so KCL cannot hold",
                        j.name, net.node_names[j.from], net.node_names[j.to]
                    ),
                ));
            }
        }

        if errs.is_empty() {
            Ok(net)
        } else {
            errs.sort_by(|a, b| a.loc.cmp(&b.loc));
            Err(NetworkError::Invalid(errs))
        }
    }
}

/// Role of an element, its device if it is an edge, and its complaints.
fn classify(e: &Element, errs: &mut Vec<Diagnostic>) -> (Role, Option<Device>) {
    let mut reject = |msg: String| {
        errs.push(Diagnostic::new(e.loc.clone(), msg));
        (Role::Rejected, None)
    };
    let source_ok = |s: &Source| s.dc.is_finite();
    match &e.kind {
        ElementKind::Resistor { resistance } => match check_resistance(*resistance) {
            Ok(()) => (
                Role::Device,
                Some(Device::Resistor {
                    resistance: *resistance,
                }),
            ),
            Err(m) => reject(format!("resistor `{}`: {m}", e.name)),
        },
        ElementKind::Memristor(m) => match &m.law {
            Some(law) => {
                let p = MemristorParams::from(law);
                match check_memristor(&p) {
                    Ok(()) => (Role::Device, Some(Device::Memristor(p))),
                    Err(msg) => reject(format!("memristor `{}`: {msg}", e.name)),
                }
            }
            None => match native_law(m) {
                // The spec index is assigned when the edge is created.
                Some(_) => (Role::Device, Some(Device::Native { spec: u32::MAX })),
                None => reject(format!("`{}`: {}", e.name, unsimulable_memristor(m))),
            },
        },
        ElementKind::VoltageSource(s) if source_ok(s) => (Role::VSource, None),
        ElementKind::CurrentSource(s) if source_ok(s) => (Role::ISource, None),
        ElementKind::VoltageSource(s) | ElementKind::CurrentSource(s) => reject(format!(
            "source `{}` has a non-finite value {}",
            e.name, s.dc
        )),
        ElementKind::Capacitor { .. } | ElementKind::Inductor { .. } => reject(format!(
            "{} `{}` cannot be simulated: memnet simulates purely memristive circuits \
             (memristors, resistors and independent sources)",
            e.kind_name(),
            e.name
        )),
        ElementKind::ExprSource { .. }
        | ElementKind::ExprResistor { .. }
        | ElementKind::ExprCapacitor { .. } => reject(format!(
            "behavioural element `{}` ({}) is outside any memristor subcircuit: memnet compiles \
             behavioural elements inside subcircuits that hold state (a capacitor), or in a \
             two-pin subcircuit of their own (a static device such as a selector), and \
             simulates memristors, resistors and independent sources around them",
            e.name,
            e.kind_name()
        )),
        ElementKind::Vcvs { .. } | ElementKind::Vccs { .. } | ElementKind::Behavioral { .. } => {
            let letter = match e.kind {
                ElementKind::Vcvs { .. } => "E",
                ElementKind::Vccs { .. } => "G",
                _ => "B",
            };
            reject(format!(
                "{letter} element `{}` ({}) is not supported: memnet simulates memristors, \
                 resistors and independent sources only",
                e.name,
                e.kind_name()
            ))
        }
        ElementKind::Unsupported { what, .. } => reject(format!(
            "`{}` is a {what}, which memnet cannot simulate (memristors, resistors and \
             independent sources only)",
            e.name
        )),
    }
}

/// The constraint elements on the forest path from `a` to `b`.
fn forest_path(
    adj: &HashMap<usize, Vec<(usize, usize)>, FxBuild>,
    a: usize,
    b: usize,
) -> Vec<usize> {
    let mut prev: HashMap<usize, (usize, usize)> = HashMap::new();
    let mut stack = vec![a];
    prev.insert(a, (NONE, NONE));
    while let Some(u) = stack.pop() {
        if u == b {
            break;
        }
        for &(v, el) in adj.get(&u).map_or(&[][..], Vec::as_slice) {
            if let std::collections::hash_map::Entry::Vacant(slot) = prev.entry(v) {
                slot.insert((u, el));
                stack.push(v);
            }
        }
    }
    let mut path = Vec::new();
    let mut u = b;
    while let Some(&(p, el)) = prev.get(&u) {
        if p == NONE {
            break;
        }
        path.push(el);
        u = p;
    }
    path.sort_unstable();
    path
}

/// FxHash (rustc's hasher): node names are short and trusted enough that
/// SipHash's flood resistance buys nothing, and it is several times faster
/// on the millions of lookups of a large netlist.
#[derive(Clone, Copy, Default)]
pub(crate) struct FxBuild;

pub(crate) struct FxHasher(u64);

impl std::hash::BuildHasher for FxBuild {
    type Hasher = FxHasher;
    fn build_hasher(&self) -> FxHasher {
        FxHasher(0)
    }
}

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    fn write_u8(&mut self, b: u8) {
        self.write(&[b]);
    }
    fn finish(&self) -> u64 {
        // Murmur3's finaliser: hashbrown takes the bucket from the low bits,
        // which a bare multiply leaves poorly mixed.
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^ (x >> 33)
    }
}

/// Name used for the internal node of edge `name`'s series source.
fn source_node(edge: &str) -> String {
    format!("{edge}_s")
}

impl Network {
    /// The inverse of [`Network::from_circuit`]: a flat circuit a netlist
    /// writer can print.
    ///
    /// Each edge becomes its device element (memristors as canonical
    /// `Memristor` elements, resistors as `Resistor`) from tail to head; an
    /// edge with a series source gets a V element between the tail and an
    /// internal node `<edge>_s`, oriented so that folding gives back the
    /// same S_k (`V <edge>_s tail` for sign +1, `V tail <edge>_s` for -1).
    /// A memristor mounted reversed (polarity -1) is written with its pins
    /// swapped and so reads back as the relabelled edge head -> tail with
    /// polarity +1 (the same physics, theory.md 3.5). Injections become I
    /// elements, constraints V elements. Elements without a name get one
    /// (`v<k>`, `i<k>`).
    pub fn to_circuit(&self) -> memnet_spice::Circuit {
        let mut elements = Vec::with_capacity(self.edges.len() * 2);
        let pushed: Result<(), std::convert::Infallible> = self.each_element(|e| {
            elements.push(e);
            Ok(())
        });
        let Ok(()) = pushed;
        memnet_spice::Circuit {
            elements,
            ..self.circuit_frame()
        }
    }

    /// The elements of [`Network::to_circuit`], handed to `f` one at a
    /// time in the same order, none of them kept: a network of millions of
    /// edges is written out without a second copy of itself
    /// (`memnet generate`). Stops at the first error of `f`.
    pub fn each_element<E>(&self, mut f: impl FnMut(Element) -> Result<(), E>) -> Result<(), E> {
        let generated: std::sync::Arc<str> = "<generated>".into();
        let here = |loc: &Option<Loc>| {
            loc.clone().unwrap_or_else(|| Loc {
                file: generated.clone(),
                line: 0,
                col: 0,
            })
        };
        let node = |n: NodeId| self.node_names[n].clone();
        for (k, e) in self.edges.iter().enumerate() {
            let (mut p, n) = (node(e.tail), node(e.head));
            if let Some(s) = &e.source {
                let x = source_node(&e.name);
                let name = if s.name.starts_with(['v', 'V']) {
                    s.name.clone()
                } else {
                    format!("v{}_{k}", e.name)
                };
                let nodes = if s.sign >= 0.0 {
                    vec![x.clone(), p.clone()]
                } else {
                    vec![p.clone(), x.clone()]
                };
                f(Element {
                    name,
                    nodes,
                    kind: ElementKind::VoltageSource(s.source.clone()),
                    loc: here(&s.loc),
                })?;
                p = x;
            }
            let (kind, nodes) = match e.device {
                Device::Resistor { resistance } => {
                    (ElementKind::Resistor { resistance }, vec![p, n])
                }
                Device::Native { spec } => {
                    let spec = &self.laws[spec as usize];
                    (
                        ElementKind::Memristor(Memristor {
                            dialect: MemristorDialect::Native {
                                law: spec.law.clone(),
                                options: spec.options.clone(),
                            },
                            law: None,
                            params: spec.params.iter().cloned().collect(),
                            tables: spec.tables.clone(),
                        }),
                        vec![p, n],
                    )
                }
                Device::Memristor(m) => {
                    let law = LinearLaw {
                        ron: m.ron,
                        roff: m.roff,
                        w0: m.w0,
                        alpha: m.alpha,
                        beta: m.beta,
                    };
                    // The canonical device keeps its five values in `law` only.
                    let params = Default::default();
                    let nodes = if m.polarity < 0.0 {
                        vec![n, p]
                    } else {
                        vec![p, n]
                    };
                    (
                        ElementKind::Memristor(Memristor {
                            dialect: MemristorDialect::Canonical,
                            law: Some(law),
                            params,
                            tables: Vec::new(),
                        }),
                        nodes,
                    )
                }
            };
            f(Element {
                name: e.name.clone(),
                nodes,
                kind,
                loc: here(&e.loc),
            })?;
        }
        for (k, j) in self.injections.iter().enumerate() {
            let name = if j.name.starts_with(['i', 'I']) {
                j.name.clone()
            } else {
                format!("i{k}")
            };
            f(Element {
                name,
                nodes: vec![node(j.from), node(j.to)],
                kind: ElementKind::CurrentSource(j.source.clone()),
                loc: here(&j.loc),
            })?;
        }
        for (k, c) in self.constraints.iter().enumerate() {
            let name = if c.name.starts_with(['v', 'V']) {
                c.name.clone()
            } else {
                format!("v{k}")
            };
            f(Element {
                name,
                nodes: vec![node(c.pos), node(c.neg)],
                kind: ElementKind::VoltageSource(c.source.clone()),
                loc: here(&c.loc),
            })?;
        }
        Ok(())
    }

    /// The circuit of [`Network::to_circuit`] without its elements: the
    /// title and the `.tran` analysis.
    pub fn circuit_frame(&self) -> memnet_spice::Circuit {
        let mut analyses = Vec::new();
        if let Some(t) = self.tran {
            analyses.push(Analysis::Tran {
                tstep: t.tstep,
                tstop: t.tstop,
                tstart: 0.0,
                tmax: None,
                uic: false,
                loc: Loc {
                    file: "<generated>".into(),
                    line: 0,
                    col: 0,
                },
            });
        }
        memnet_spice::Circuit {
            title: self.title.clone(),
            analyses,
            ..memnet_spice::Circuit::default()
        }
    }
}
