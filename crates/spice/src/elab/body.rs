//! Behavioural expressions and users' memristor subcircuits (issue 11).
//!
//! A behavioural value (`B ... I={...}`, `E ... value={...}`, `R ... {V(x)}`)
//! is *resolved* in the scope of its element: parameters become numbers,
//! user functions are inlined, and `v(node)`, `i(element)` name flat nodes
//! and elements. A subcircuit instance whose flattened body holds state (a
//! capacitor) becomes one device: its elements, renamed to the definition's
//! local names, form a [`MemristorBody`] that the solver compiles into a
//! device law (docs/subcircuit-bodies.md). Instances whose bodies come out
//! equal share one `Arc`; their capacitors' `IC=` stay per instance.

use super::*;
use crate::circuit::{BodyElement, MemristorBody, Sets};
use crate::expr::{apply_binary, builtin};

/// Whether `found` holds for `e` or any expression inside it.
fn any_node(e: &Expr, found: &impl Fn(&Expr) -> bool) -> bool {
    found(e)
        || match e {
            Expr::Num(_) | Expr::Var(_) => false,
            Expr::Unary(_, a) => any_node(a, found),
            Expr::Binary(_, a, b) => any_node(a, found) || any_node(b, found),
            Expr::Cond(c) => c.iter().any(|x| any_node(x, found)),
            Expr::Call(c) => c.1.iter().any(|x| any_node(x, found)),
        }
}

/// Whether an expression reads the circuit (`v()`, `i()`, `sdt()`, `idt()`,
/// `time`), so that it cannot be a number at elaboration.
pub(super) fn reads_circuit(e: &Expr) -> bool {
    any_node(e, &|x| match x {
        Expr::Var(n) => &**n == "time",
        Expr::Call(c) => matches!(&*c.0, "v" | "i" | "sdt" | "idt"),
        _ => false,
    })
}

/// Whether an expression integrates (`sdt()`, `idt()`): a state of its own.
fn integrates(e: &Expr) -> bool {
    any_node(
        e,
        &|x| matches!(x, Expr::Call(c) if matches!(&*c.0, "sdt" | "idt")),
    )
}

/// Whether `e` reads `v(node)` inside a comparison, a condition or a step
/// function (`stp`, `u`, `sgn`, `floor`, ...): a discontinuous test of it.
fn tests_node(e: &Expr, node: &str) -> bool {
    let reads = |x: &Expr| {
        any_node(x, &|y| match y {
            Expr::Call(c) if &*c.0 == "v" => {
                matches!(c.1.first(), Some(Expr::Var(n)) if &**n == node)
            }
            _ => false,
        })
    };
    any_node(e, &|x| match x {
        Expr::Binary(
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge,
            a,
            b,
        ) => reads(a) || reads(b),
        Expr::Cond(c) => reads(&c[0]),
        Expr::Call(c)
            if matches!(
                &*c.0,
                "stp" | "u" | "sgn" | "sign" | "floor" | "ceil" | "int" | "round" | "nint"
            ) =>
        {
            c.1.iter().any(reads)
        }
        _ => false,
    })
}

/// Whether a flat element holds state, making its subcircuit a device.
fn holds_state(k: &ElementKind) -> bool {
    match k {
        ElementKind::Capacitor { .. }
        | ElementKind::ExprCapacitor { .. }
        | ElementKind::Inductor { .. } => true,
        ElementKind::ExprSource { value, .. } | ElementKind::ExprResistor { value } => {
            integrates(value)
        }
        _ => false,
    }
}

/// The elements of a body (flat elements of instance `prefix`, pins on
/// `pins`) that are display-only integrals: an E or B source whose value
/// integrates (`Eflux flux 0 value={sdt(V(plus,minus))}`), from an internal
/// node to ground that no other element touches and no expression reads,
/// and whose own current nothing reads. Leaving such an element out changes
/// nothing else in the body; the body keeps at least one state.
fn display_integrals(els: &[Element], prefix: &str, pins: &[String]) -> Vec<usize> {
    let mut read_nodes: HashSet<&str> = HashSet::new();
    let mut read_currents: HashSet<&str> = HashSet::new();
    fn visit<'e>(e: &'e Expr, nodes: &mut HashSet<&'e str>, currents: &mut HashSet<&'e str>) {
        match e {
            Expr::Num(_) | Expr::Var(_) => {}
            Expr::Unary(_, a) => visit(a, nodes, currents),
            Expr::Binary(_, a, b) => {
                visit(a, nodes, currents);
                visit(b, nodes, currents);
            }
            Expr::Cond(c) => c.iter().for_each(|x| visit(x, nodes, currents)),
            Expr::Call(c) => {
                for a in &c.1 {
                    match (&*c.0, a) {
                        ("v", Expr::Var(n)) => {
                            nodes.insert(n);
                        }
                        ("i", Expr::Var(n)) => {
                            currents.insert(n);
                        }
                        _ => visit(a, nodes, currents),
                    }
                }
            }
        }
    }
    for e in els {
        if let ElementKind::ExprSource { value, .. } | ElementKind::ExprResistor { value } = &e.kind
        {
            visit(value, &mut read_nodes, &mut read_currents);
        }
    }
    let candidate = |e: &Element| -> bool {
        let ElementKind::ExprSource { value, .. } = &e.kind else {
            return false;
        };
        if !integrates(value) || read_currents.contains(e.name.as_str()) {
            return false;
        }
        let node = match e.nodes.as_slice() {
            [a, b] if b == "0" => a,
            [a, b] if a == "0" => b,
            _ => return false,
        };
        let internal = node.starts_with(prefix) && !pins.contains(node);
        let touched = els
            .iter()
            .any(|o| !std::ptr::eq(o, e) && o.nodes.contains(node));
        internal && !touched && !read_nodes.contains(node.as_str())
    };
    let dropped: Vec<usize> = (0..els.len()).filter(|&k| candidate(&els[k])).collect();
    let states_left = els
        .iter()
        .enumerate()
        .filter(|(k, e)| !dropped.contains(k) && holds_state(&e.kind))
        .count();
    if states_left == 0 {
        Vec::new()
    } else {
        dropped
    }
}

/// A node argument of `v()`: a name, or a node number (`v(1)`, `v(0)`).
fn node_arg(a: &Expr) -> Option<String> {
    match a {
        Expr::Var(n) => Some(n.to_string()),
        Expr::Num(x) if *x >= 0.0 && x.fract() == 0.0 && *x < 1e15 => {
            Some(format!("{}", *x as u64))
        }
        _ => None,
    }
}

/// LTspice's `table(x, x1, y1, x2, y2, ...)` and the `TABLE` form of E
/// and G (which the parser writes as this call): y linear in x between the
/// points, y1 below x1 and yn above xn (ngspice's and LTspice's ends). The
/// points must be numbers once parameters are known, x non-decreasing. It
/// becomes a balanced tree of conditionals, so its depth grows with the
/// logarithm of the number of points.
fn table(vals: Vec<Expr>) -> Result<Expr, String> {
    let mut it = vals.into_iter();
    let Some(x) = it.next() else {
        return Err("table() needs an input and at least one point".into());
    };
    let nums: Vec<f64> = it
        .map(|v| match v {
            Expr::Num(n) if n.is_finite() => Ok(n),
            _ => Err("table(): the points must be finite numbers once parameters are known"),
        })
        .collect::<Result<_, _>>()?;
    if nums.is_empty() || nums.len() % 2 != 0 {
        return Err(format!(
            "table(): points come in (x, y) pairs, got {} numbers after the input",
            nums.len()
        ));
    }
    let pts: Vec<(f64, f64)> = nums.chunks_exact(2).map(|p| (p[0], p[1])).collect();
    if let Some(w) = pts.windows(2).find(|w| w[1].0 < w[0].0) {
        return Err(format!(
            "table(): x must not decrease, but {} follows {}",
            w[1].0, w[0].0
        ));
    }
    let bin = |op, a, b| Expr::Binary(op, Box::new(a), Box::new(b));
    // Segment k (between points k and k+1) as y_k + (x - x_k) slope.
    let segment = |k: usize| {
        let ((x0, y0), (x1, y1)) = (pts[k], pts[k + 1]);
        if x1 == x0 {
            return Expr::Num(y1);
        }
        let slope = (y1 - y0) / (x1 - x0);
        bin(
            BinOp::Add,
            Expr::Num(y0),
            bin(
                BinOp::Mul,
                bin(BinOp::Sub, x.clone(), Expr::Num(x0)),
                Expr::Num(slope),
            ),
        )
    };
    // Pieces: below x1, the segments, above xn; split at x_k.
    fn tree(
        lo: usize,
        hi: usize,
        x: &Expr,
        pts: &[(f64, f64)],
        piece: &dyn Fn(usize) -> Expr,
    ) -> Expr {
        if lo == hi {
            return piece(lo);
        }
        let mid = (lo + hi).div_ceil(2);
        Expr::Cond(Box::new([
            Expr::Binary(
                BinOp::Lt,
                Box::new(x.clone()),
                Box::new(Expr::Num(pts[mid - 1].0)),
            ),
            tree(lo, mid - 1, x, pts, piece),
            tree(mid, hi, x, pts, piece),
        ]))
    }
    let n = pts.len();
    // Piece 0: y1 (x < x1); piece k in 1..n: segment k-1; piece n: yn.
    let piece = |k: usize| {
        if k == 0 {
            Expr::Num(pts[0].1)
        } else if k == n {
            Expr::Num(pts[n - 1].1)
        } else {
            segment(k - 1)
        }
    };
    Ok(tree(0, n, &x, &pts, &piece))
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Call(Box::new((name.into(), args)))
}

impl<'d> Elab<'d, '_> {
    /// A behavioural value of the element in `frame`, resolved.
    pub(super) fn resolve_val(
        &mut self,
        v: &Val,
        file: &Arc<str>,
        frame: usize,
        what: impl Fn() -> String,
    ) -> Result<Expr, Diagnostic> {
        let at = Self::val_loc(file, v);
        self.resolve(&v.expr, frame, frame, &[], &at)
            .map_err(|d| Self::name_in(d, &what(), file, v))
    }

    /// `e` with parameters (scope `f`) replaced by their values, user
    /// functions inlined (their arguments bound in `binds`), constants
    /// folded, and `v()`/`i()` arguments flattened in the element's scope
    /// `nf`.
    fn resolve(
        &mut self,
        e: &Expr,
        f: usize,
        nf: usize,
        binds: &[(String, Expr)],
        at: &Loc,
    ) -> Result<Expr, Diagnostic> {
        Ok(match e {
            Expr::Num(v) => Expr::Num(*v),
            Expr::Var(n) => {
                if let Some((_, b)) = binds.iter().find(|(k, _)| **k == **n) {
                    b.clone()
                } else if &**n == "time" {
                    e.clone()
                } else {
                    Expr::Num(self.lookup(n, f, at)?)
                }
            }
            Expr::Unary(op, a) => {
                let a = self.resolve(a, f, nf, binds, at)?;
                match (op, &a) {
                    (UnOp::Neg, Expr::Num(x)) => Expr::Num(-x),
                    (UnOp::Not, Expr::Num(x)) => Expr::Num(if *x == 0.0 { 1.0 } else { 0.0 }),
                    _ => Expr::Unary(*op, Box::new(a)),
                }
            }
            Expr::Binary(op, a, b) => {
                let a = self.resolve(a, f, nf, binds, at)?;
                let b = self.resolve(b, f, nf, binds, at)?;
                match (&a, &b) {
                    (Expr::Num(x), Expr::Num(y)) => Expr::Num(apply_binary(*op, *x, *y)),
                    _ => Expr::Binary(*op, Box::new(a), Box::new(b)),
                }
            }
            Expr::Cond(c) => self.resolve_cond(&c[0], &c[1], &c[2], f, nf, binds, at)?,
            Expr::Call(c) => self.resolve_call(&c.0, &c.1, f, nf, binds, at)?,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn resolve_cond(
        &mut self,
        c: &Expr,
        a: &Expr,
        b: &Expr,
        f: usize,
        nf: usize,
        binds: &[(String, Expr)],
        at: &Loc,
    ) -> Result<Expr, Diagnostic> {
        let k = self.resolve(c, f, nf, binds, at)?;
        if let Expr::Num(x) = k {
            return self.resolve(if x != 0.0 { a } else { b }, f, nf, binds, at);
        }
        let a = self.resolve(a, f, nf, binds, at)?;
        let b = self.resolve(b, f, nf, binds, at)?;
        Ok(Expr::Cond(Box::new([k, a, b])))
    }

    fn resolve_call(
        &mut self,
        name: &str,
        args: &[Expr],
        f: usize,
        nf: usize,
        binds: &[(String, Expr)],
        at: &Loc,
    ) -> Result<Expr, Diagnostic> {
        match name {
            "v" => {
                if args.is_empty() || args.len() > 2 {
                    return Err(self.diag(
                        at,
                        format!("v() takes a node or two, got {} arguments", args.len()),
                    ));
                }
                let mut out = Vec::with_capacity(args.len());
                for a in args {
                    let Some(n) = node_arg(a) else {
                        return Err(self.diag(at, "v(): expected a node name"));
                    };
                    out.push(Expr::Var(self.flat_node(nf, &n).into_boxed_str()));
                }
                return Ok(call("v", out));
            }
            "i" => {
                let [Expr::Var(n)] = args else {
                    return Err(self.diag(at, "i(): expected the name of one element"));
                };
                let flat = format!("{}{n}", self.frames[nf].prefix);
                return Ok(call("i", vec![Expr::Var(flat.into_boxed_str())]));
            }
            _ => {}
        }
        // User functions shadow built-ins (as in `call`).
        let found = self.user_function(name, f);
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(self.resolve(a, f, nf, binds, at)?);
        }
        if let Some((fd, home)) = found {
            self.check_call(fd, name, vals.len(), at)?;
            let inner: Vec<(String, Expr)> = fd.args.iter().cloned().zip(vals).collect();
            let body_at = Self::val_loc(&fd.loc.file, &fd.body);
            self.call_depth += 1;
            let r = self.resolve(&fd.body.expr, home, nf, &inner, &body_at);
            self.call_depth -= 1;
            return r;
        }
        if matches!(name, "if" | "ternary_fcn") {
            let [c, a, b] = <[Expr; 3]>::try_from(vals).map_err(|v| {
                self.diag(at, format!("{name}() takes 3 arguments, got {}", v.len()))
            })?;
            return Ok(match c {
                Expr::Num(x) if x != 0.0 => a,
                Expr::Num(_) => b,
                c => Expr::Cond(Box::new([c, a, b])),
            });
        }
        if name == "table" {
            return table(vals).map_err(|m| self.diag(at, m));
        }
        if matches!(name, "sdt" | "idt") {
            if vals.is_empty() || vals.len() > 2 {
                return Err(self.diag(
                    at,
                    format!(
                        "{name}() takes an integrand and an initial value, got {} arguments",
                        vals.len()
                    ),
                ));
            }
            return Ok(call(name, vals));
        }
        let nums: Option<Vec<f64>> = vals
            .iter()
            .map(|v| match v {
                Expr::Num(x) => Some(*x),
                _ => None,
            })
            .collect();
        let probe = nums.clone().unwrap_or_else(|| vec![0.0; vals.len()]);
        match builtin(name, &probe) {
            None => Err(self.diag(at, format!("unknown function '{name}'"))),
            Some(Err(m)) => Err(self.diag(at, m)),
            Some(Ok(x)) if nums.is_some() => Ok(Expr::Num(x)),
            Some(Ok(_)) => Ok(call(name, vals)),
        }
    }

    /// After instance `name` of `def` (pins on `nodes`) was flattened into
    /// elements `start..`: if they hold state, replace them by one device
    /// with their body; `None` if they do not.
    pub(super) fn body_device(
        &mut self,
        def: &'d Subckt,
        name: &str,
        nodes: &[String],
        start: usize,
        loc: &Loc,
    ) -> Result<Option<ElementKind>, Diagnostic> {
        let flat = &self.circuit.elements[start..];
        let has_state = flat.iter().any(|e| holds_state(&e.kind));
        // A two-pin instance without state whose behavioural elements the
        // outer network cannot hold (a selector written with B or G
        // sources, an ideal diode) is a static device: a body with no
        // state. Wiring around memristors (a crossbar cell) stays wiring.
        let is_static = !has_state
            && nodes.len() == 2
            && flat.iter().any(|e| {
                matches!(
                    e.kind,
                    ElementKind::ExprSource { .. } | ElementKind::ExprResistor { .. }
                )
            })
            && !flat
                .iter()
                .any(|e| matches!(e.kind, ElementKind::Memristor(_)));
        if !has_state && !is_static {
            return Ok(None);
        }
        let mut els: Vec<Element> = self.circuit.elements.drain(start..).collect();
        for (k, e) in els.iter().enumerate() {
            let h = hash_name(&e.name);
            let idx = self.flushed + start + k;
            if let Ok(slot) = self.names.find_entry(h, |&i| i as usize == idx) {
                slot.remove();
            }
        }
        let prefix = format!("{name}.");
        // A voltage set from a test of itself is a latch: its memory is
        // the solver's previous solution, not a state of the circuit.
        for e in &els {
            if let (
                ElementKind::ExprSource {
                    sets: Sets::Voltage,
                    value,
                },
                [out, ..],
            ) = (&e.kind, e.nodes.as_slice())
                && out != "0"
                && tests_node(value, out)
            {
                self.warn(
                    "latch",
                    &e.loc,
                    format!(
                        "element {} of subcircuit '{}' sets node `{}` from a comparison of \
                         its own voltage: a latch, whose memory is the previous solution of \
                         the body's Newton rather than a state; memnet starts each solve from \
                         the last one, as SPICE does, so the result depends on the solver's \
                         history (hold the memory in a capacitor or an integral instead)",
                        e.name.strip_prefix(&prefix).unwrap_or(&e.name),
                        def.name,
                        out.strip_prefix(&prefix).unwrap_or(out),
                    ),
                );
            }
        }
        let dropped = display_integrals(&els, &prefix, nodes);
        for &k in &dropped {
            let e = &els[k];
            // An internal node of the instance (display_integrals).
            let node = e
                .nodes
                .iter()
                .find(|n| n.as_str() != "0")
                .map_or("", String::as_str);
            self.warn(
                "display-only integral not simulated",
                &e.loc,
                format!(
                    "element {} of subcircuit '{}': its sdt()/idt() feeds node `{}`, which \
                     nothing else in the body reads (a display of flux or charge): memnet \
                     leaves it out, so v({}) is not an output",
                    e.name.strip_prefix(&prefix).unwrap_or(&e.name),
                    def.name,
                    node.strip_prefix(&prefix).unwrap_or(node),
                    node,
                ),
            );
        }
        for &k in dropped.iter().rev() {
            els.remove(k);
        }
        let mut node_names: Vec<String> = vec!["0".into()];
        let mut index: HashMap<String, u32> = HashMap::new();
        index.insert("0".into(), 0);
        let mut pins = Vec::with_capacity(nodes.len());
        for (p, outer) in def.pins.iter().zip(nodes) {
            if outer == "0" {
                pins.push(0);
                continue;
            }
            if index.contains_key(outer) {
                return Err(self.diag(
                    loc,
                    format!(
                        "instance {name}: two pins of subcircuit '{}' are on node `{outer}`: \
                         memnet compiles bodies whose pins are distinct nodes",
                        def.name
                    ),
                ));
            }
            let k = node_names.len() as u32;
            node_names.push(p.clone());
            index.insert(outer.clone(), k);
            pins.push(k);
        }
        let local: HashSet<&str> = els
            .iter()
            .filter_map(|e| e.name.strip_prefix(&prefix))
            .collect();
        // Every node first: an expression may read a node that a later
        // element connects.
        for e in &els {
            for n in &e.nodes {
                if index.contains_key(n) {
                    continue;
                }
                let Some(l) = n.strip_prefix(&prefix) else {
                    return Err(self.diag(
                        &e.loc,
                        format!(
                            "element {} of subcircuit '{}' (instance {name}) connects to node \
                             `{n}`, outside the instance's pins: memnet compiles bodies that \
                             connect only to their pins, their own nodes and ground",
                            e.name, def.name
                        ),
                    ));
                };
                index.insert(n.clone(), node_names.len() as u32);
                node_names.push(l.to_string());
            }
        }
        let mut elements = Vec::with_capacity(els.len());
        let mut ic = Vec::new();
        for e in &els {
            let what = || {
                format!(
                    "element {} of subcircuit '{}' (instance {name})",
                    e.name, def.name
                )
            };
            let idx: Vec<u32> = e.nodes.iter().map(|n| index[n]).collect();
            let localise = |x: &Expr| -> Result<Expr, String> {
                rename(
                    x,
                    &|flat| index.get(flat).map(|&k| node_names[k as usize].clone()),
                    &|flat| {
                        flat.strip_prefix(&prefix)
                            .filter(|l| local.contains(l))
                            .map(str::to_string)
                    },
                )
            };
            let kind = match &e.kind {
                ElementKind::Resistor { .. }
                | ElementKind::Vcvs { .. }
                | ElementKind::Vccs { .. } => e.kind.clone(),
                ElementKind::Capacitor { capacitance, ic: c } => {
                    ic.push(*c);
                    ElementKind::Capacitor {
                        capacitance: *capacitance,
                        ic: None,
                    }
                }
                ElementKind::Inductor { inductance, ic: c } => {
                    ic.push(*c);
                    ElementKind::Inductor {
                        inductance: *inductance,
                        ic: None,
                    }
                }
                ElementKind::VoltageSource(_) | ElementKind::CurrentSource(_) => e.kind.clone(),
                ElementKind::ExprSource { sets, value } => ElementKind::ExprSource {
                    sets: *sets,
                    value: localise(value)
                        .map_err(|m| self.diag(&e.loc, format!("{}: {m}", what())))?,
                },
                ElementKind::ExprResistor { value } => ElementKind::ExprResistor {
                    value: localise(value)
                        .map_err(|m| self.diag(&e.loc, format!("{}: {m}", what())))?,
                },
                ElementKind::ExprCapacitor { value } => {
                    // Its voltage starts at 0, as a uic run's nodes do.
                    ic.push(None);
                    ElementKind::ExprCapacitor {
                        value: localise(value)
                            .map_err(|m| self.diag(&e.loc, format!("{}: {m}", what())))?,
                    }
                }
                other => {
                    let kind = match other {
                        ElementKind::Unsupported { what, .. } => what.as_str(),
                        k => k.name(),
                    };
                    return Err(self.diag(
                        &e.loc,
                        format!(
                            "{} is a {kind}: memnet compiles memristor bodies of R, C, L, V, I, \
                             D, E, F, G, H and B elements (behavioural values included) so far",
                            what()
                        ),
                    ));
                }
            };
            let local_name = e.name.strip_prefix(&prefix).unwrap_or(&e.name).to_string();
            elements.push(BodyElement {
                name: local_name,
                nodes: idx,
                kind,
                loc: e.loc.clone(),
            });
        }
        let body = MemristorBody {
            subckt: def.name.clone(),
            loc: def.loc.clone(),
            nodes: node_names,
            pins,
            pin_names: def.pins.clone(),
            elements,
        };
        let shared = self.bodies.entry(def.name.clone()).or_default();
        let body = match shared.iter().find(|b| ***b == body) {
            Some(b) => b.clone(),
            None => {
                let b = Arc::new(body);
                shared.push(b.clone());
                b
            }
        };
        Ok(Some(ElementKind::Memristor(Memristor {
            dialect: MemristorDialect::Body { body, ic },
            law: None,
            params: BTreeMap::new(),
            tables: Vec::new(),
        })))
    }
}

impl<'d> Elab<'d, '_> {
    /// Diodes left outside every body (at the top level, or in wiring
    /// around memristors) become static devices: each junction, with its
    /// series resistance and internal node, is a body of its own with no
    /// state, between the diode's two nodes (docs/subcircuit-bodies.md).
    /// Diodes of one model share one body.
    pub(super) fn static_diodes(&mut self) -> Result<(), Diagnostic> {
        let diodes = std::mem::take(&mut self.diodes);
        if diodes.is_empty() {
            return Ok(());
        }
        let mut els: Vec<Option<Element>> = std::mem::take(&mut self.circuit.elements)
            .into_iter()
            .map(Some)
            .collect();
        let mut rs_of: HashMap<String, usize> = HashMap::new();
        let mut cj_of: HashMap<String, usize> = HashMap::new();
        let mut junctions = Vec::new();
        for (k, e) in els.iter().enumerate() {
            let Some(e) = e else { continue };
            if let Some(d) = e.name.strip_suffix("#rs")
                && diodes.contains(d)
            {
                rs_of.insert(d.to_string(), k);
            }
            if let Some(d) = e.name.strip_suffix("#cj")
                && diodes.contains(d)
            {
                cj_of.insert(d.to_string(), k);
            }
            if diodes.contains(&e.name) && matches!(e.kind, ElementKind::ExprSource { .. }) {
                junctions.push(k);
            }
        }
        for j in junctions {
            let junction = els[j].take().expect("a junction is taken once");
            let rs = rs_of.get(&junction.name).and_then(|&k| els[k].take());
            let cj = cj_of.get(&junction.name).and_then(|&k| els[k].take());
            els[j] = Some(self.diode_device(junction, rs, cj)?);
        }
        self.circuit.elements = els.into_iter().flatten().collect();
        Ok(())
    }

    /// One diode's junction (and series resistance) as a static body.
    fn diode_device(
        &mut self,
        junction: Element,
        rs: Option<Element>,
        cj: Option<Element>,
    ) -> Result<Element, Diagnostic> {
        let anode = rs
            .as_ref()
            .map_or(&junction.nodes[0], |r| &r.nodes[0])
            .clone();
        let cathode = junction.nodes[1].clone();
        if anode == cathode {
            return Err(self.diag(
                &junction.loc,
                format!(
                    "diode {}: both its nodes are `{anode}`; a shorted diode carries no current",
                    junction.name
                ),
            ));
        }
        let mut node_names: Vec<String> = vec!["0".into()];
        let mut index: HashMap<String, u32> = HashMap::new();
        index.insert("0".into(), 0);
        let mut pins = Vec::with_capacity(2);
        for (outer, local) in [(&anode, "a"), (&cathode, "k")] {
            if outer == "0" {
                pins.push(0);
            } else {
                index.insert(outer.clone(), node_names.len() as u32);
                pins.push(node_names.len() as u32);
                node_names.push(local.to_string());
            }
        }
        if rs.is_some() {
            index.insert(junction.nodes[0].clone(), node_names.len() as u32);
            node_names.push("internal".into());
        }
        let ElementKind::ExprSource { sets, value } = &junction.kind else {
            unreachable!("static_diodes passes junctions only");
        };
        // The diode's expressions read its own nodes only, by local name.
        let localise = |x: &Expr, at: &Loc| {
            rename(
                x,
                &|flat| index.get(flat).map(|&k| node_names[k as usize].clone()),
                &|_| None,
            )
            .map_err(|m| self.diag(at, format!("diode {}: {m}", junction.name)))
        };
        let value = localise(value, &junction.loc)?;
        let mut elements = vec![BodyElement {
            name: "junction".into(),
            nodes: junction.nodes.iter().map(|n| index[n]).collect(),
            kind: ElementKind::ExprSource { sets: *sets, value },
            loc: junction.loc.clone(),
        }];
        if let Some(r) = &rs {
            elements.push(BodyElement {
                name: "rs".into(),
                nodes: r.nodes.iter().map(|n| index[n]).collect(),
                kind: r.kind.clone(),
                loc: r.loc.clone(),
            });
        }
        // The junction capacitance: its voltage is the diode's state.
        let mut ic = Vec::new();
        if let Some(c) = &cj {
            let ElementKind::ExprCapacitor { value } = &c.kind else {
                unreachable!("a diode's #cj is its junction capacitance");
            };
            let value = localise(value, &c.loc)?;
            elements.push(BodyElement {
                name: "cj".into(),
                nodes: c.nodes.iter().map(|n| index[n]).collect(),
                kind: ElementKind::ExprCapacitor { value },
                loc: c.loc.clone(),
            });
            ic.push(None);
        }
        let body = MemristorBody {
            subckt: "(diode)".into(),
            loc: junction.loc.clone(),
            nodes: node_names,
            pins,
            pin_names: vec!["a".into(), "k".into()],
            elements,
        };
        // Diodes of one model share a body; their locations differ.
        let same = |a: &MemristorBody, b: &MemristorBody| {
            a.nodes == b.nodes
                && a.pins == b.pins
                && a.elements.len() == b.elements.len()
                && a.elements
                    .iter()
                    .zip(&b.elements)
                    .all(|(x, y)| x.name == y.name && x.nodes == y.nodes && x.kind == y.kind)
        };
        let shared = self.bodies.entry("(diode)".into()).or_default();
        let body = match shared.iter().find(|b| same(b, &body)) {
            Some(b) => b.clone(),
            None => {
                let b = Arc::new(body);
                shared.push(b.clone());
                b
            }
        };
        Ok(Element {
            name: junction.name,
            nodes: vec![anode, cathode],
            kind: ElementKind::Memristor(Memristor {
                dialect: MemristorDialect::Body { body, ic },
                law: None,
                params: BTreeMap::new(),
                tables: Vec::new(),
            }),
            loc: junction.loc,
        })
    }
}

impl ElementKind {
    /// Whether this is a static device: a compiled body without state (a
    /// diode or selector outside every memristor body).
    pub fn is_static_device(&self) -> bool {
        matches!(
            self,
            ElementKind::Memristor(Memristor {
                dialect: MemristorDialect::Body { body, .. },
                ..
            }) if !body.holds_state()
        )
    }
}

impl MemristorBody {
    /// Whether the body holds state (a capacitor, an inductor or an
    /// integral): a memristor. A body without is a static device (a
    /// diode, a behavioural selector): its state slot stays 0 and is not
    /// an output.
    pub fn holds_state(&self) -> bool {
        self.elements.iter().any(|e| holds_state(&e.kind))
    }
}

/// `e` with the nodes of `v()` and the elements of `i()` renamed; an
/// error names a node or element with no new name.
fn rename(
    e: &Expr,
    node: &dyn Fn(&str) -> Option<String>,
    element: &dyn Fn(&str) -> Option<String>,
) -> Result<Expr, String> {
    Ok(match e {
        Expr::Num(_) | Expr::Var(_) => e.clone(),
        Expr::Unary(op, a) => Expr::Unary(*op, Box::new(rename(a, node, element)?)),
        Expr::Binary(op, a, b) => Expr::Binary(
            *op,
            Box::new(rename(a, node, element)?),
            Box::new(rename(b, node, element)?),
        ),
        Expr::Cond(c) => Expr::Cond(Box::new([
            rename(&c[0], node, element)?,
            rename(&c[1], node, element)?,
            rename(&c[2], node, element)?,
        ])),
        Expr::Call(c) => {
            let (name, args) = (&*c.0, &c.1);
            let mut out = Vec::with_capacity(args.len());
            for a in args {
                out.push(match (name, a) {
                    ("v", Expr::Var(n)) => Expr::Var(
                        node(n)
                            .ok_or_else(|| format!("v({n}) reads a node outside the subcircuit"))?
                            .into_boxed_str(),
                    ),
                    ("i", Expr::Var(n)) => Expr::Var(
                        element(n)
                            .ok_or_else(|| {
                                format!("i({n}) reads an element outside the subcircuit")
                            })?
                            .into_boxed_str(),
                    ),
                    _ => rename(a, node, element)?,
                });
            }
            call(name, out)
        }
    })
}

impl Sets {
    pub(super) fn of(voltage: bool) -> Sets {
        if voltage {
            Sets::Voltage
        } else {
            Sets::Current
        }
    }
}
