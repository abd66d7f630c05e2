//! What a run writes besides time: the outputs SPICE users ask for by
//! name (`.save`, `.print`, `.probe`, `--save`), evaluated at each sample
//! from one network solve at the sampled state (docs/engine.md,
//! "Outputs").
//!
//! Names follow ngspice and Xyce: `v(node)` and `v(a,b)` (flattened node
//! names, folded-away nodes included), `i(vname)` for a voltage source in
//! ngspice's sign (the current through the source from its + to its -
//! terminal: negative for a source that delivers power), `i(device)` for
//! the current through a device from its first node to its second,
//! `p(device)` its power, `n(ymemristor!mr1_x)` and `n(ymemristor!mr1:r)`
//! a Xyce device's state and resistance (1/(di/dv), as Xyce stores it),
//! a memristor's own name for its state in its law's own variable
//! (memnet's `w` for the linear law), and `{expr}` expressions of these.

use memnet_graph::{CompactString, EdgeId, Network, NodeId};

use crate::SolveError;
use crate::memory::MemoryRhs;

/// A node an output reads.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Node {
    Ground,
    Net(NodeId),
    /// Index into [`Network::folded_nodes`].
    Folded(usize),
}

/// One output quantity.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Quantity {
    /// State of memristor `device` in its law's own variable.
    State(usize),
    /// 1/(di/dv) of memristor `device` (R for laws linear in v).
    Resistance(usize),
    Voltage(Node, Node),
    /// `sign` times the current of edge `edge` (tail -> head).
    EdgeCurrent(EdgeId, f64),
    /// Voltage times current of edge `edge`'s device.
    Power(EdgeId),
    /// Current of an ideal voltage source tying two nodes (ngspice sign).
    ConstraintCurrent(usize),
    /// An expression of other outputs (index into `Probes::expressions`).
    Expression(usize),
    /// The potential of node `node` inside compiled subcircuit device
    /// `device` (state index; edge `edge`), e.g. `v(xmem.x)`; `pin_n` is
    /// the outer node of the device's second pin, which potentials on
    /// the pins' side of a floating body are relative to.
    BodyNode {
        device: usize,
        edge: EdgeId,
        node: usize,
        pin_n: Node,
    },
}

/// The outputs of a run, with their names (see the module doc).
#[derive(Clone, Debug, Default)]
pub struct Probes {
    /// Inline up to 24 bytes: no heap block per column at 10M states.
    names: Vec<CompactString>,
    /// Indices into `names`, hashed by the name: the duplicate check in
    /// O(1) (a linear search made `Probes::states` quadratic: 11 s at 80k
    /// devices) without a second copy of every name (a set of the names
    /// held 0.7 GB more at 10M devices).
    seen: hashbrown::HashTable<u32>,
    /// `names[..indexed]` are in `seen`. The states of [`Probes::states`]
    /// are one per device by construction and go in unindexed: the table
    /// is built only if another output is added (at 10M devices it cost a
    /// few seconds of a run that saves only the states).
    indexed: usize,
    hasher: foldhash::fast::RandomState,
    quantities: Vec<Quantity>,
    expressions: Vec<OutputExpr>,
    /// Wildcard items that matched nothing (HSPICE warns and goes on).
    unmatched: Vec<String>,
}

/// Whether `name` matches the HSPICE-style wildcard `pattern`: `*` any
/// run of characters (dots included), `?` one character.
pub fn glob(pattern: &[u8], name: &[u8]) -> bool {
    // Iterative with one backtrack point: the last `*` seen.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((sp, sn)) = star {
            p = sp + 1;
            n = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// The names a wildcard `f(pattern)` may match: for `v`, every node
/// (folded-away nodes, open pins and compiled bodies' internal nodes
/// `inst.node` included); for `i`, voltage sources and devices; for `p`,
/// devices.
fn wildcard_candidates(net: &Network, f: &str) -> Vec<String> {
    let mut out = Vec::new();
    let devices = || {
        net.edges
            .iter()
            .filter(|e| !e.name.is_empty())
            .map(|e| e.name.to_string())
    };
    match f {
        "v" => {
            out.extend(
                net.node_names
                    .iter()
                    .filter(|n| *n != memnet_spice::GROUND && *n != "gnd")
                    .cloned(),
            );
            out.extend(net.folded_nodes.iter().map(|f| f.name.clone()));
            out.extend(net.open_pins.iter().map(|p| p.name.clone()));
            for (k, e) in net.edges.iter().enumerate() {
                let Some(body) = net.body(k) else {
                    continue;
                };
                let diode = body.subckt == "(diode)";
                for (k, n) in body.nodes.iter().enumerate() {
                    if k != 0 && !body.pins.contains(&(k as u32)) {
                        let sep = if diode { '#' } else { '.' };
                        out.push(format!("{}{sep}{n}", e.name));
                    }
                }
            }
        }
        "i" => {
            out.extend(
                net.edges
                    .iter()
                    .filter_map(|e| e.source.as_ref().map(|s| s.name.clone()))
                    .filter(|n| !n.is_empty()),
            );
            out.extend(net.constraints.iter().map(|c| c.name.clone()));
            out.extend(devices());
        }
        "p" => out.extend(devices()),
        _ => {}
    }
    out
}

/// What an output list item names: `(quantity name, arguments)`.
fn split_call(item: &str) -> Option<(&str, Vec<&str>)> {
    let open = item.find('(')?;
    let inner = item[open + 1..].strip_suffix(')')?;
    let args = inner.split(',').map(str::trim).collect();
    Some((item[..open].trim(), args))
}

/// The name of a memristor's state column: Xyce's for Xyce devices, the
/// device name otherwise.
fn state_name(edge_name: &str) -> CompactString {
    if edge_name.starts_with("ymemristor!") {
        compact_str::format_compact!("n({edge_name}_x)")
    } else {
        edge_name.into()
    }
}

/// The quantity a single output name stands for (not a keyword list, not
/// an expression), or why it names nothing.
fn quantity(net: &Network, item: &str) -> Result<Quantity, String> {
    let node = |name: &str| -> Result<Node, String> {
        if name == memnet_spice::GROUND || name == "gnd" {
            return Ok(Node::Ground);
        }
        if let Some(v) = net.node_names.iter().position(|n| n == name) {
            return Ok(Node::Net(v));
        }
        if let Some(k) = net.folded_nodes.iter().position(|f| f.name == name) {
            return Ok(Node::Folded(k));
        }
        Err(format!("`{name}` is not a node of the circuit"))
    };
    // The edge named `name` and its state index if it is a memristor.
    let device = |name: &str| -> Option<(EdgeId, Option<usize>)> {
        let mut d = 0;
        for (k, e) in net.edges.iter().enumerate() {
            let state = e.device.is_memristor().then_some(d);
            if e.name == name {
                return Some((k, state));
            }
            if state.is_some() {
                d += 1;
            }
        }
        None
    };
    // Body node `node` (an index into its `nodes`, or its pin `pin`) of
    // the body device on edge `k`.
    let body_quantity = |k: EdgeId, d: usize, local: Result<&str, usize>| -> Option<Quantity> {
        let e = &net.edges[k];
        let body = net.body(k)?;
        let node = match local {
            Ok(name) => body.nodes.iter().position(|n| n == name)?,
            Err(pin) => *body.pins.get(pin)? as usize,
        };
        // A folded source at the head side moves the second pin off
        // the head node; ground's potential is 0 like Node::Ground's.
        let pin_n = match net
            .folded_nodes
            .iter()
            .position(|f| f.edge == k && !f.at_tail)
        {
            Some(f) => Node::Folded(f),
            None => Node::Net(e.head),
        };
        Some(Quantity::BodyNode {
            device: d,
            edge: k,
            node,
            pin_n,
        })
    };
    // `inst.node` inside a compiled subcircuit body (the instance is the
    // longest prefix that names a body device), or an open pin's node.
    let body_node = |name: &str| -> Option<Quantity> {
        if let Some(p) = net.open_pins.iter().find(|p| p.name == name) {
            let d = net.edges[..p.edge]
                .iter()
                .filter(|e| e.device.is_memristor())
                .count();
            return body_quantity(p.edge, d, Err(p.pin));
        }
        // ngspice's name of a diode's internal node (`d1#internal`), for a
        // diode memnet made a device of its own.
        if let Some((inst, "internal")) = name.rsplit_once('#')
            && let Some((k, Some(d))) = device(inst)
            && let Some(q) = body_quantity(k, d, Ok("internal"))
        {
            return Some(q);
        }
        name.match_indices('.').rev().find_map(|(dot, _)| {
            let (inst, local) = (&name[..dot], &name[dot + 1..]);
            let (k, Some(d)) = device(inst)? else {
                return None;
            };
            body_quantity(k, d, Ok(local))
        })
    };
    let bad = |why: String| format!("output `{item}`: {why}");
    let Some((f, args)) = split_call(item) else {
        // A bare name: a memristor's state.
        return match device(item) {
            Some((_, Some(d))) => Ok(Quantity::State(d)),
            _ => Err(bad(
                "not an output memnet knows (v(node), v(a,b), i(source or device), \
                 p(device), n(device_x), n(device:r), {expression}, a memristor's name, \
                 states, v, i or all)"
                    .into(),
            )),
        };
    };
    Ok(match (f, args.as_slice()) {
        ("v", [a]) => match node(a) {
            Ok(n) => Quantity::Voltage(n, Node::Ground),
            Err(e) => body_node(a).ok_or_else(|| bad(e))?,
        },
        ("v", [a, b]) => Quantity::Voltage(node(a).map_err(bad)?, node(b).map_err(bad)?),
        ("i", [name]) => {
            if let Some(c) = net.constraints.iter().position(|c| c.name == *name) {
                Quantity::ConstraintCurrent(c)
            } else if let Some(k) = net
                .edges
                .iter()
                .position(|e| e.source.as_ref().is_some_and(|s| s.name == *name))
            {
                let sign = net.edges[k].source.as_ref().map_or(1.0, |s| s.sign);
                Quantity::EdgeCurrent(k, -sign)
            } else if let Some((k, _)) = device(name) {
                Quantity::EdgeCurrent(k, 1.0)
            } else {
                return Err(bad(format!(
                    "`{name}` is not a voltage source or a two-terminal device of the circuit"
                )));
            }
        }
        ("p", [name]) => match device(name) {
            Some((k, _)) => Quantity::Power(k),
            None => return Err(bad(format!("`{name}` is not a device of the circuit"))),
        },
        ("n", [inner]) => {
            let (dev, what) = match (inner.strip_suffix("_x"), inner.strip_suffix(":r")) {
                (Some(d), _) => (d, "x"),
                (_, Some(d)) => (d, "r"),
                _ => {
                    return Err(bad(
                        "memnet knows a device's `_x` (state) and `:r` (resistance)".into(),
                    ));
                }
            };
            match device(dev) {
                Some((_, Some(d))) if what == "x" => Quantity::State(d),
                Some((_, Some(d))) => Quantity::Resistance(d),
                _ => return Err(bad(format!("`{dev}` is not a memristor of the circuit"))),
            }
        }
        _ => {
            return Err(bad(
                "not an output memnet knows (v(node), v(a,b), i(name), p(name), n(...))".into(),
            ));
        }
    })
}

/// An expression output: the parsed expression, whose variables `__o<k>`
/// are the values of `terms[k]`.
#[derive(Clone, Debug, PartialEq)]
struct OutputExpr {
    expr: memnet_spice::expr::Expr,
    terms: Vec<Quantity>,
}

/// Evaluates an output expression given its terms' values.
fn eval(e: &memnet_spice::expr::Expr, terms: &[f64]) -> f64 {
    use memnet_spice::expr::{Expr, UnOp, apply_binary, builtin};
    match e {
        Expr::Num(v) => *v,
        Expr::Var(n) if &**n == "pi" => std::f64::consts::PI,
        Expr::Var(n) => n
            .strip_prefix("__o")
            .and_then(|k| k.parse::<usize>().ok())
            .and_then(|k| terms.get(k).copied())
            .unwrap_or(f64::NAN),
        Expr::Unary(UnOp::Neg, a) => -eval(a, terms),
        Expr::Unary(UnOp::Not, a) => {
            if eval(a, terms) == 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Expr::Binary(op, a, b) => apply_binary(*op, eval(a, terms), eval(b, terms)),
        Expr::Cond(c) => {
            if eval(&c[0], terms) != 0.0 {
                eval(&c[1], terms)
            } else {
                eval(&c[2], terms)
            }
        }
        Expr::Call(c) => {
            let args: Vec<f64> = c.1.iter().map(|a| eval(a, terms)).collect();
            builtin(&c.0, &args)
                .and_then(Result::ok)
                .unwrap_or(f64::NAN)
        }
    }
}

/// Equal outputs: the same names, quantities and expressions (the hash
/// index follows from the names).
impl PartialEq for Probes {
    fn eq(&self, other: &Probes) -> bool {
        self.names == other.names
            && self.quantities == other.quantities
            && self.expressions == other.expressions
            && self.unmatched == other.unmatched
    }
}

impl Probes {
    /// Every memristor state (and nothing else): what memnet wrote before
    /// it had named outputs, and the cheapest set.
    pub fn states(net: &Network) -> Probes {
        let mut p = Probes::default();
        // Sized once: growing the name table rehashes every name at each
        // doubling (a tenth of a 4M-device run's wall time).
        let count = net.n_stateful_devices();
        p.names.reserve_exact(count);
        p.quantities.reserve_exact(count);
        let mut d = 0;
        for (k, e) in net.edges.iter().enumerate() {
            if e.device.is_memristor() {
                // A static device's slot is no state of the circuit.
                if !net.is_static(k) {
                    p.names.push(state_name(&e.name));
                    p.quantities.push(Quantity::State(d));
                }
                d += 1;
            }
        }
        p
    }

    /// The default outputs: every memristor state, the potential of every
    /// node but ground (folded-away nodes included) and the current of
    /// every voltage source.
    pub fn all(net: &Network) -> Probes {
        let mut p = Probes::states(net);
        p.extend_nodes(net);
        p.extend_sources(net);
        p
    }

    /// The current `i(name)` of every memristor that has a state, from its
    /// first node to its second, in the order of [`Probes::states`].
    pub fn device_currents(net: &Network) -> Probes {
        let mut p = Probes::default();
        for (k, e) in net.edges.iter().enumerate() {
            if e.device.is_memristor() && !net.is_static(k) {
                p.push(format!("i({})", e.name), Quantity::EdgeCurrent(k, 1.0));
            }
        }
        p
    }

    /// The potential `v(node)` of every node but ground, folded-away
    /// nodes included (the `v` keyword of [`Probes::parse`]).
    pub fn node_potentials(net: &Network) -> Probes {
        let mut p = Probes::default();
        p.extend_nodes(net);
        p
    }

    /// Appends the outputs of `other` that `self` does not name yet.
    pub fn append(&mut self, other: Probes) {
        let offset = self.expressions.len();
        self.expressions.extend(other.expressions);
        self.unmatched.extend(other.unmatched);
        for (name, q) in other.names.into_iter().zip(other.quantities) {
            let q = match q {
                Quantity::Expression(e) => Quantity::Expression(e + offset),
                q => q,
            };
            self.push(name, q);
        }
    }

    /// Room for `additional` more outputs, the name table included.
    fn reserve(&mut self, additional: usize) {
        use std::hash::BuildHasher;
        let (names, hasher) = (&self.names, &self.hasher);
        let unindexed = names.len() - self.indexed;
        self.seen.reserve(additional + unindexed, |&i| {
            hasher.hash_one(names[i as usize].as_str())
        });
        self.names.reserve(additional);
        self.quantities.reserve(additional);
    }

    /// Puts the names not yet in the duplicate table into it.
    fn index(&mut self) {
        use std::hash::BuildHasher;
        let (names, hasher) = (&self.names, &self.hasher);
        let rehash = |&i: &u32| hasher.hash_one(names[i as usize].as_str());
        self.seen.reserve(names.len() - self.indexed, rehash);
        for (i, n) in names.iter().enumerate().skip(self.indexed) {
            self.seen
                .insert_unique(hasher.hash_one(n.as_str()), i as u32, rehash);
        }
        self.indexed = names.len();
    }

    fn push(&mut self, name: impl Into<CompactString> + AsRef<str>, q: Quantity) {
        use std::hash::BuildHasher;
        if self.indexed < self.names.len() {
            self.index();
        }
        let (names, hasher) = (&self.names, &self.hasher);
        let hash = hasher.hash_one(name.as_ref());
        let entry = self.seen.entry(
            hash,
            |&i| names[i as usize] == name.as_ref(),
            |&i| hasher.hash_one(names[i as usize].as_str()),
        );
        if let hashbrown::hash_table::Entry::Vacant(slot) = entry {
            slot.insert(names.len() as u32);
            self.names.push(name.into());
            self.quantities.push(q);
            self.indexed = self.names.len();
        }
    }

    fn extend_nodes(&mut self, net: &Network) {
        self.reserve(net.node_names.len() + net.folded_nodes.len());
        for (v, name) in net.node_names.iter().enumerate() {
            if name != memnet_spice::GROUND && name != "gnd" {
                self.push(
                    format!("v({name})"),
                    Quantity::Voltage(Node::Net(v), Node::Ground),
                );
            }
        }
        for (k, f) in net.folded_nodes.iter().enumerate() {
            self.push(
                format!("v({})", f.name),
                Quantity::Voltage(Node::Folded(k), Node::Ground),
            );
        }
    }

    fn extend_sources(&mut self, net: &Network) {
        for (k, e) in net.edges.iter().enumerate() {
            if let Some(s) = &e.source
                && !s.name.is_empty()
            {
                // S = sign V and i_k runs through the source from - to +
                // when sign = +1 (theory.md 3.1): i(V) = -sign i_k.
                self.push(format!("i({})", s.name), Quantity::EdgeCurrent(k, -s.sign));
            }
        }
        for (c, con) in net.constraints.iter().enumerate() {
            self.push(format!("i({})", con.name), Quantity::ConstraintCurrent(c));
        }
    }

    /// The outputs named in `items` (`.save`/`.print`/`.probe` entries or
    /// `--save` words, lower case), in order, duplicates once. Besides the
    /// names of the module doc: `states`, `v`, `i` and `all` for every
    /// state, node voltage, source current, or all of them. An unknown
    /// name is an error naming it.
    pub fn parse(net: &Network, items: &[String]) -> Result<Probes, String> {
        let mut p = Probes::default();
        for item in items {
            let item = item.trim();
            match item {
                "all" | "states" => {
                    let more = if item == "all" {
                        Probes::all(net)
                    } else {
                        Probes::states(net)
                    };
                    if p.is_empty() && p.expressions.is_empty() {
                        // First (the usual case), taken as they are: ten
                        // million names are not pushed into a second table.
                        let unmatched = std::mem::take(&mut p.unmatched);
                        p = more;
                        p.unmatched = unmatched;
                    } else {
                        p.reserve(more.len());
                        for (n, q) in more.into_iter() {
                            p.push(n, q);
                        }
                    }
                }
                "v" => p.extend_nodes(net),
                "i" => p.extend_sources(net),
                _ if item.starts_with('{') => {
                    let q = p.expression(net, item)?;
                    p.push(item.to_string(), q);
                }
                _ if item.contains(['*', '?']) => {
                    let Some((f, args)) = split_call(item).filter(|(_, a)| a.len() == 1) else {
                        return Err(format!(
                            "output `{item}`: a wildcard goes inside v(), i() or p() \
                             (`v(x*.*)`, `i(v?)`)"
                        ));
                    };
                    let mut any = false;
                    for name in wildcard_candidates(net, f) {
                        if glob(args[0].as_bytes(), name.as_bytes()) {
                            let item = format!("{f}({name})");
                            if let Ok(q) = quantity(net, &item) {
                                p.push(item, q);
                                any = true;
                            }
                        }
                    }
                    if !any {
                        p.unmatched.push(item.to_string());
                    }
                }
                _ => p.push(item.to_string(), quantity(net, item)?),
            }
        }
        if p.is_empty() {
            return Err("no outputs selected".into());
        }
        Ok(p)
    }

    /// An expression output `{...}` of other outputs (Xyce's `.print`
    /// `{v(a)-v(b)}`, `{i(r1)*1e3}`): each output call in it becomes a term,
    /// the rest is SPICE's expression language with its functions.
    fn expression(&mut self, net: &Network, item: &str) -> Result<Quantity, String> {
        let bad = |why: String| format!("output `{item}`: {why}");
        let inner = item
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .ok_or_else(|| bad("an expression output is `{...}`".into()))?;
        let mut text = String::new();
        let mut terms = Vec::new();
        let bytes = inner.as_bytes();
        let mut k = 0;
        while k < bytes.len() {
            let c = bytes[k];
            let starts_call = matches!(c, b'v' | b'i' | b'p' | b'n')
                && bytes.get(k + 1) == Some(&b'(')
                && (k == 0 || !(bytes[k - 1].is_ascii_alphanumeric() || bytes[k - 1] == b'_'));
            if starts_call {
                let close = inner[k..]
                    .find(')')
                    .ok_or_else(|| bad("an output call is not closed".into()))?;
                let call = &inner[k..k + close + 1];
                terms.push(quantity(net, call).map_err(bad)?);
                text.push_str(&format!("__o{}", terms.len() - 1));
                k += close + 1;
            } else {
                text.push(c as char);
                k += 1;
            }
        }
        let expr = memnet_spice::expr::parse_expr(&text).map_err(|e| bad(e.message))?;
        let mut unknown = None;
        expr.visit_vars(&mut |v| {
            if !(v.starts_with("__o") || v == "pi") && unknown.is_none() {
                unknown = Some(v.to_string());
            }
        });
        if let Some(v) = unknown {
            return Err(bad(format!(
                "`{v}` is not an output; write v(node), i(name), p(name) or n(...)"
            )));
        }
        self.expressions.push(OutputExpr { expr, terms });
        Ok(Quantity::Expression(self.expressions.len() - 1))
    }

    fn into_iter(self) -> impl Iterator<Item = (CompactString, Quantity)> {
        self.names.into_iter().zip(self.quantities)
    }

    /// Wildcard items that matched no output (`v(x*.*)` in a deck without
    /// subcircuits): HSPICE warns about them and so should a caller.
    pub fn unmatched(&self) -> &[String] {
        &self.unmatched
    }

    /// Column names, in order.
    pub fn names(&self) -> &[CompactString] {
        &self.names
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Whether every output is a state (no network solve is needed).
    /// The columns that hold a device state: (column, state slot).
    pub fn state_columns(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.quantities
            .iter()
            .enumerate()
            .filter_map(|(c, q)| match q {
                Quantity::State(d) => Some((c, *d)),
                _ => None,
            })
    }

    pub fn states_only(&self) -> bool {
        self.all_quantities()
            .all(|q| matches!(q, Quantity::State(_) | Quantity::Expression(_)))
    }

    /// The outputs and the terms of the expression outputs.
    fn all_quantities(&self) -> impl Iterator<Item = &Quantity> {
        self.quantities
            .iter()
            .chain(self.expressions.iter().flat_map(|e| e.terms.iter()))
    }

    /// Whether outputs `0..n` are the `n` memristor states in device order
    /// (then a sample can be written as it is).
    pub fn is_plain_states(&self, n: usize) -> bool {
        self.quantities.len() == n
            && self
                .quantities
                .iter()
                .enumerate()
                .all(|(k, q)| *q == Quantity::State(k))
    }
}

/// The values [`MemoryRhs::probe`] writes (`values`, one per output) and
/// its scratch, allocated once per run.
#[derive(Clone, Debug, Default)]
pub struct ProbeScratch {
    pub values: Vec<f64>,
    /// Term values of one expression output.
    terms: Vec<f64>,
    phi: Vec<f64>,
    /// Per node: net current leaving through devices and current sources.
    leaving: Vec<f64>,
    constraint_current: Vec<f64>,
}

impl MemoryRhs {
    /// The outputs `probes` at time `t` and integrated state `w` into
    /// `scratch.values`: one network solve when any output is not a state.
    /// `native` holds the states in each law's own variable.
    pub fn probe(
        &mut self,
        net: &Network,
        probes: &Probes,
        t: f64,
        w: &[f64],
        native: &[f64],
        scratch: &mut ProbeScratch,
    ) -> Result<(), SolveError> {
        if !probes.states_only() {
            self.solve_currents(t, w)?;
            scratch.phi.resize(net.n_nodes(), 0.0);
            self.node_potentials(&mut scratch.phi);
        }
        let needs_constraints = probes
            .all_quantities()
            .any(|q| matches!(q, Quantity::ConstraintCurrent(_)));
        if needs_constraints {
            self.constraint_currents(net, scratch);
        }
        let mut values = std::mem::take(&mut scratch.values);
        values.resize(probes.len(), 0.0);
        let phi = &scratch.phi;
        let node = |n: Node| match n {
            Node::Ground => 0.0,
            Node::Net(v) => phi[v],
            Node::Folded(k) => {
                let f = &net.folded_nodes[k];
                let e = &net.edges[f.edge];
                if f.at_tail {
                    phi[e.tail] + self.s[f.edge]
                } else {
                    phi[e.head] - self.s[f.edge]
                }
            }
        };
        let device_voltage = |k: EdgeId| {
            let e = &net.edges[k];
            phi[e.tail] - phi[e.head] + self.s[k]
        };
        let value = |q: Quantity| match q {
            Quantity::State(d) => native[d],
            Quantity::Resistance(d) => {
                let v = device_voltage(self.state_edge[d]);
                let cx = crate::memory::ctx(&self.extra_at, self.state_edge.len(), t, w, d);
                match self.law.conductance_in(d, w[d], cx, v) {
                    Ok(g) => 1.0 / g,
                    Err(_) => f64::NAN,
                }
            }
            Quantity::Voltage(a, b) => node(a) - node(b),
            Quantity::EdgeCurrent(k, sign) => sign * self.current[k],
            Quantity::Power(k) => device_voltage(k) * self.current[k],
            Quantity::ConstraintCurrent(c) => scratch.constraint_current[c],
            // Expressions hold no expressions (see `Probes::expression`).
            Quantity::Expression(_) => f64::NAN,
            Quantity::BodyNode {
                device,
                edge,
                node: b,
                pin_n,
            } => {
                let v = device_voltage(edge);
                let cx = crate::memory::ctx(&self.extra_at, self.state_edge.len(), t, w, device);
                match self.law.body_node_potential(device, w[device], cx, v, b) {
                    Some((p, true)) => p + node(pin_n),
                    Some((p, false)) => p,
                    None => f64::NAN,
                }
            }
        };
        let mut terms = std::mem::take(&mut scratch.terms);
        for (o, q) in values.iter_mut().zip(&probes.quantities) {
            *o = match *q {
                Quantity::Expression(x) => {
                    let e = &probes.expressions[x];
                    terms.clear();
                    terms.extend(e.terms.iter().map(|&t| value(t)));
                    eval(&e.expr, &terms)
                }
                q => value(q),
            };
        }
        scratch.terms = terms;
        scratch.values = values;
        Ok(())
    }

    /// The current of every ideal voltage source that ties nodes (ngspice
    /// sign) from the last solve: KCL over the subtree of the constraint
    /// forest that hangs from each source.
    fn constraint_currents(&self, net: &Network, scratch: &mut ProbeScratch) {
        let n = net.n_nodes();
        scratch.leaving.clear();
        scratch.leaving.resize(n, 0.0);
        for (k, e) in net.edges.iter().enumerate() {
            scratch.leaving[e.tail] += self.current[k];
            scratch.leaving[e.head] -= self.current[k];
        }
        for (v, inj) in self.inj_node.iter().enumerate() {
            // inj_node is the current injected into v; it leaves as -inj.
            scratch.leaving[v] -= inj;
        }
        scratch.constraint_current.clear();
        scratch
            .constraint_current
            .resize(net.constraints.len(), 0.0);
        // Links run from each supernode's root outwards: children last.
        for link in self.nodal.links().iter().rev() {
            let subtree = scratch.leaving[link.node];
            // Out of the subtree through this source, node side to parent.
            let through = -subtree;
            let c = &net.constraints[link.constraint];
            scratch.constraint_current[link.constraint] = if c.pos == link.node {
                through
            } else {
                -through
            };
            scratch.leaving[link.parent] += subtree;
        }
    }
}
