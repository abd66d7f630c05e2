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
use std::borrow::Cow;
use std::collections::HashMap;

use memnet_spice::{
    Analysis, Circuit, Diagnostic, Element, ElementKind, ElementSink, GROUND, LinearLaw, Loc,
    Memristor, MemristorDialect, Source,
};

use crate::error::NetworkError;
use crate::network::{
    CompactString, Device, Edge, FoldedNode, Injection, LawSpec, MemristorParams, Network, NodeId,
    OpenPin, PotentialConstraint, SeriesSource, TranSpec,
};

const NONE: usize = usize::MAX;
const NONE32: u32 = u32::MAX;

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
    ///
    /// The same as handing the elements to a [`NetworkBuilder`] one by one,
    /// which is what an import that never holds the whole circuit does
    /// (`memnet_spice::elaborate_into`).
    pub fn from_circuit(c: &Circuit) -> Result<Network, NetworkError> {
        let mut b = NetworkBuilder::default();
        for e in &c.elements {
            b.add(Cow::Borrowed(e));
        }
        b.finish(c)
    }
}

/// An element kept as it came: a source (folded or not, it is needed
/// whole) or a rejected element (for its name in messages).
struct Aside {
    /// Its index in the element order.
    index: usize,
    role: Role,
    element: Element,
    /// Interned nodes of its two pins ([`NONE`] if rejected).
    nodes: [usize; 2],
}

/// A compiled body's pins beyond its first two, which must be left open
/// (checked once every element is in, when their uses are known).
struct ExtraPins {
    edge: usize,
    name: String,
    loc: Loc,
    /// (interned node, pin number).
    pins: Vec<(usize, usize)>,
}

/// Builds a [`Network`] from elements handed to it one at a time, in
/// circuit order ([`Network::from_circuit`] is this over a whole circuit).
///
/// Devices become edges as they arrive (with nodes numbered in order of
/// first appearance); only sources and rejected elements are kept whole.
/// Folding, which needs every node's degree, happens in
/// [`NetworkBuilder::finish`]. So an import of millions of devices holds
/// the network and a few numbers per node, never the flat circuit.
#[derive(Default)]
pub struct NetworkBuilder {
    errs: Vec<Diagnostic>,
    /// Node interning: indices into `names`, hashed by name.
    ids: hashbrown::HashTable<u32>,
    /// The nodes named most recently, by the low bits of their hash: (hash,
    /// index + 1), 0 for an empty slot. Netlists name a node again soon
    /// after (a grid card shares a node with the next one), and a hit here
    /// skips a probe of `ids`, which at millions of nodes misses the cache.
    recent: Vec<(u64, u32)>,
    /// Every node of every element, in order of first appearance (inline
    /// names: no heap block per node while the netlist text is held).
    names: Vec<CompactString>,
    /// Element terminals on each node, every pin of every element.
    /// Counted up to 255: only 0, 1 and "2 or more" are ever asked, and a
    /// byte per node is what keeps an import of ten million devices
    /// within three times its netlist.
    uses: Vec<u8>,
    /// The first element on each node.
    first: Vec<u32>,
    /// Terminals of network elements (the two pins of each element not
    /// rejected) on each node: 0 for nodes that are not the network's.
    /// Counted up to 255, as `uses`.
    degree: Vec<u8>,
    /// The first two network elements on each node ([`NONE32`] if fewer).
    touch: Vec<[u32; 2]>,
    /// Elements handed in (devices are those not in `aside`).
    n_elements: usize,
    /// Devices so far, `tail`/`head` still interned node indices.
    edges: Vec<Edge>,
    laws: Vec<LawSpec>,
    aside: Vec<Aside>,
    extra_pins: Vec<ExtraPins>,
}

/// Where element `index` went: `Ok(edge)` for a device, `Err(position in
/// aside)` for any other element (`aside` is in element order).
fn locate(aside: &[Aside], index: usize) -> Result<usize, usize> {
    let before = aside.partition_point(|a| a.index < index);
    match aside.get(before) {
        Some(a) if a.index == index => Err(before),
        _ => Ok(index - before),
    }
}

/// Slots of [`NetworkBuilder`]'s recent-node cache (a power of two; 256 KiB).
const RECENT_NODES: usize = 16384;

fn name_hash(s: &str) -> u64 {
    use std::hash::BuildHasher;
    FixedHash::default().hash_one(s)
}

impl NetworkBuilder {
    /// Interns node `name`, counting one use by element `element`.
    fn node(&mut self, name: &str, element: usize) -> usize {
        let h = name_hash(name);
        if self.recent.is_empty() {
            self.recent = vec![(0, 0); RECENT_NODES];
        }
        let slot = (h as usize) & (RECENT_NODES - 1);
        let (rh, r) = self.recent[slot];
        if rh == h && r > 0 && self.names[r as usize - 1] == name {
            let id = r as usize - 1;
            self.uses[id] = self.uses[id].saturating_add(1);
            return id;
        }
        let names = &self.names;
        let id = match self.ids.entry(
            h,
            |&i| names[i as usize] == name,
            |&i| name_hash(&names[i as usize]),
        ) {
            hashbrown::hash_table::Entry::Occupied(o) => *o.get() as usize,
            hashbrown::hash_table::Entry::Vacant(v) => {
                let id = self.names.len();
                v.insert(u32::try_from(id).expect("fewer than 2^32 nodes"));
                self.names.push(CompactString::from(name));
                self.uses.push(0);
                self.first.push(u32::try_from(element).unwrap_or(u32::MAX));
                self.degree.push(0);
                self.touch.push([NONE32; 2]);
                id
            }
        };
        // (0, an empty slot, for the one index that does not fit.)
        self.recent[slot] = (h, u32::try_from(id + 1).unwrap_or(0));
        self.uses[id] = self.uses[id].saturating_add(1);
        id
    }

    /// How many elements have been handed in.
    pub fn element_count(&self) -> usize {
        self.n_elements
    }

    /// Every node of every element so far with its number of element
    /// terminals and the first element on it, in order of first appearance.
    /// (Uses are counted up to 255.)
    pub fn node_uses(&self) -> impl Iterator<Item = (&str, u32, usize)> + '_ {
        self.names
            .iter()
            .zip(&self.uses)
            .zip(&self.first)
            .map(|((n, &u), &f)| (n.as_str(), u32::from(u), f as usize))
    }

    /// Takes the next element of the circuit.
    pub fn add(&mut self, e: Cow<'_, Element>) {
        let i = self.n_elements;
        let (role, device) = classify(&e, &mut self.errs);
        let body_with_open_pins = e.nodes.len() > 2
            && matches!(&e.kind, ElementKind::Memristor(m)
                if matches!(m.dialect, MemristorDialect::Body { .. }));
        let role = if role != Role::Rejected && e.nodes.len() != 2 && !body_with_open_pins {
            self.errs.push(Diagnostic::new(
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
        let mut ids = Vec::with_capacity(e.nodes.len());
        for n in &e.nodes {
            ids.push(self.node(n, i));
        }
        let mut pair = [NONE; 2];
        if role != Role::Rejected {
            for (slot, &id) in pair.iter_mut().zip(&ids) {
                self.degree[id] = self.degree[id].saturating_add(1);
                if let Some(t) = self.touch[id].iter_mut().find(|t| **t == NONE32) {
                    *t = u32::try_from(i).expect("fewer than 2^32 elements");
                }
                *slot = id;
            }
        }
        self.n_elements += 1;
        match (role, device) {
            (Role::Device, Some(mut device)) => {
                if let (Device::Native { spec }, ElementKind::Memristor(m)) = (&mut device, &e.kind)
                    && let Some(law) = native_law(m)
                {
                    *spec = self.laws.len() as u32;
                    self.laws.push(native_spec(&e, m, law));
                }
                if ids.len() > 2 {
                    self.extra_pins.push(ExtraPins {
                        edge: self.edges.len(),
                        name: e.name.clone(),
                        loc: e.loc.clone(),
                        pins: ids.iter().copied().zip(0..).skip(2).collect(),
                    });
                }
                let (name, loc) = match e {
                    Cow::Owned(e) => (e.name, e.loc),
                    Cow::Borrowed(e) => (e.name.clone(), e.loc.clone()),
                };
                self.edges.push(Edge {
                    name: name.into(),
                    tail: pair[0],
                    head: pair[1],
                    device,
                    source: None,
                    loc: Some(loc),
                });
            }
            _ => self.aside.push(Aside {
                index: i,
                role,
                element: e.into_owned(),
                nodes: pair,
            }),
        }
    }

    /// The network of the elements handed in; `frame` gives the title and
    /// the `.tran` card (its elements are not read). All problems found
    /// are reported together, sorted by place.
    pub fn finish(self, frame: &Circuit) -> Result<Network, NetworkError> {
        let NetworkBuilder {
            mut errs,
            names,
            uses,
            degree,
            touch,
            mut edges,
            laws,
            aside,
            extra_pins,
            ..
        } = self;
        let mut names: Vec<Option<CompactString>> = names.into_iter().map(Some).collect();
        let name = |names: &[Option<CompactString>], x: usize| -> String {
            names[x].as_deref().unwrap_or_default().to_string()
        };

        let mut open_pins = Vec::new();
        for p in extra_pins {
            let open = p
                .pins
                .iter()
                .all(|&(x, _)| names[x].as_deref() != Some(GROUND) && uses[x] == 1);
            if open {
                for &(x, pin) in &p.pins {
                    open_pins.push(OpenPin {
                        name: name(&names, x),
                        edge: p.edge,
                        pin,
                    });
                }
            } else {
                let pins: Vec<String> = p.pins.iter().map(|&(x, _)| name(&names, x)).collect();
                errs.push(Diagnostic::new(
                    p.loc,
                    format!(
                        "memristor `{}`: its pins beyond the first two ({}) are connected \
                         to other elements or to ground; memnet compiles such pins (a state \
                         pin like XSV) when they are left open",
                        p.name,
                        pins.join(" ")
                    ),
                ));
            }
        }

        // The edge of device element `d` (`None` for any other element).
        let edge_of = |d: usize| locate(&aside, d).ok();

        // Folding: V source v with a non-ground terminal x of degree 2 whose
        // other element is an unfolded device touching x once.
        // fold_of[device element] = (aside index of the source, internal node, sign).
        // Few devices fold in a typical netlist: a map keeps this O(folds).
        let mut fold_of: HashMap<usize, (usize, usize, f64), FixedHash> = HashMap::default();
        let mut folded_v = vec![false; aside.len()];
        let mut internal = vec![false; names.len()];
        for (v, a) in aside.iter().enumerate() {
            if a.role != Role::VSource {
                continue;
            }
            let [vp, vn] = a.nodes;
            if vp == vn {
                continue;
            }
            for x in [vp, vn] {
                if names[x].as_deref() == Some(GROUND) || degree[x] != 2 {
                    continue;
                }
                let [t0, t1] = touch[x].map(|t| if t == NONE32 { NONE } else { t as usize });
                let d = if t0 == a.index { t1 } else { t0 };
                if d == NONE || d == a.index || fold_of.contains_key(&d) {
                    continue;
                }
                let Some(k) = edge_of(d) else {
                    continue;
                };
                let edge = &edges[k];
                let (p, n) = (edge.tail, edge.head);
                if p == n {
                    continue;
                }
                // Case p == x: walk (other V end) -> x, crossing the source
                // towards x; +val if x is n+. Case n == x: walk x -> (other V
                // end); +val if x is n-.
                let sign = if (p == x) == (x == vp) { 1.0 } else { -1.0 };
                fold_of.insert(d, (v, x, sign));
                folded_v[v] = true;
                internal[x] = true;
                break;
            }
        }
        let mut folds: Vec<(usize, (usize, usize, f64))> = fold_of.into_iter().collect();
        folds.sort_unstable_by_key(|&(d, _)| d);
        let mut folded_nodes = Vec::with_capacity(folds.len());
        for (d, (v, x, sign)) in folds {
            let Some(k) = edge_of(d) else {
                continue;
            };
            let [vp, vn] = aside[v].nodes;
            let outer = if x == vp { vn } else { vp };
            let ElementKind::VoltageSource(src) = &aside[v].element.kind else {
                continue;
            };
            let e = &mut edges[k];
            e.source = Some(Box::new(SeriesSource {
                name: aside[v].element.name.clone(),
                source: src.clone(),
                sign,
                loc: Some(aside[v].element.loc.clone()),
            }));
            folded_nodes.push(FoldedNode {
                name: name(&names, x),
                edge: k,
                at_tail: e.tail == x,
            });
            if e.tail == x {
                e.tail = outer;
            } else {
                e.head = outer;
            }
        }

        // Final node numbering: first appearance, network nodes only, minus
        // folded internal nodes.
        let mut new_id = vec![NONE; names.len()];
        let mut node_names = Vec::new();
        for (old, slot) in names.iter_mut().enumerate() {
            if degree[old] > 0 && !internal[old] {
                new_id[old] = node_names.len();
                node_names.push(
                    slot.take()
                        .map(CompactString::into_string)
                        .unwrap_or_default(),
                );
            }
        }
        drop((uses, touch, internal));
        for e in &mut edges {
            e.tail = new_id[e.tail];
            e.head = new_id[e.head];
        }
        let n = node_names.len();
        let mut net = Network {
            title: frame.title.clone(),
            node_names,
            edges,
            laws,
            folded_nodes,
            open_pins,
            tran: frame.tran().and_then(|a| match a {
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

        // Union-find over nodes: the constraint-only forest (to find loops of
        // ideal voltage sources) and then edges + constraints (cut sets).
        let n_vsources = aside.iter().filter(|a| a.role == Role::VSource).count();
        let mut vforest = UnionFind::<usize>::new(if n_vsources > 0 { n } else { 0 });
        let mut vadj: HashMap<usize, Vec<(usize, usize)>, FixedHash> = HashMap::default();
        for (v, a) in aside.iter().enumerate() {
            let e = &a.element;
            let [pa, pb] = a.nodes;
            match a.role {
                Role::VSource if !folded_v[v] => {
                    let ElementKind::VoltageSource(src) = &e.kind else {
                        continue;
                    };
                    let (pos, neg) = (new_id[pa], new_id[pb]);
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
                        let els = |j: usize| &aside[j].element;
                        let mut members: Vec<&str> =
                            path.iter().map(|&j| els(j).name.as_str()).collect();
                        members.push(&e.name);
                        let lines: Vec<String> = path
                            .iter()
                            .map(|&j| format!("`{}` at {}", els(j).name, els(j).loc))
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
                    vadj.entry(pos).or_default().push((neg, v));
                    vadj.entry(neg).or_default().push((pos, v));
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
                        from: new_id[pa],
                        to: new_id[pb],
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

impl ElementSink for NetworkBuilder {
    fn element(&mut self, e: Element) {
        self.add(Cow::Owned(e));
    }

    /// Room for `elements` edges and half as many nodes (a grid's ratio).
    /// Saves the copies of growth by doubling. Room not used is address
    /// space only, except under the CLI's prefaulting allocator, which makes
    /// fresh blocks of 64 MiB and more resident (memnet-prefault): there a
    /// netlist with fewer nodes pays for the node tables' spare room.
    fn expect(&mut self, elements: usize) {
        self.edges.reserve(elements);
        let nodes = elements / 2 + 1;
        self.names.reserve(nodes);
        self.uses.reserve(nodes);
        self.first.reserve(nodes);
        self.degree.reserve(nodes);
        self.touch.reserve(nodes);
        let names = &self.names;
        self.ids.reserve(nodes, |&i| name_hash(&names[i as usize]));
    }

    fn name_at(&self, index: usize) -> Option<(&str, &Loc)> {
        if index >= self.n_elements {
            return None;
        }
        match locate(&self.aside, index) {
            Ok(k) => {
                let e = self.edges.get(k)?;
                Some((e.name.as_str(), e.loc.as_ref()?))
            }
            Err(a) => {
                let e = &self.aside[a].element;
                Some((e.name.as_str(), &e.loc))
            }
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
    adj: &HashMap<usize, Vec<(usize, usize)>, FixedHash>,
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

/// The tables' hasher ([`foldhash`]; fixed seed, so runs are repeatable).
pub(crate) type FixedHash = foldhash::fast::FixedState;

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
                name: e.name.to_string(),
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
