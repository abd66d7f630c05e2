//! Elaboration: deck to flat [`Circuit`]. Parameters are evaluated lazily
//! in lexical scopes (instance overrides, then the subcircuit's `PARAMS:`
//! defaults and local `.param`s, then the enclosing definition's scope, up
//! to the globals), subcircuits are flattened with ngspice's hierarchical
//! names (`x1.xm2`, node `x1.mid`), and memristor instances in any of the
//! supported dialects become one [`ElementKind::Memristor`] each.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

mod body;
mod control;

use crate::circuit::{
    Analysis, Circuit, DataTable, Element, ElementKind, LinearLaw, Loc, Memristor, MemristorBody,
    MemristorDialect, Model, Sets, Source, TranTimes, Warning, Waveform,
};
use crate::deck::{
    AnalysisCard, Body, Deck, ElementCard, FuncDef, ModelCard, ParamDef, SourceFile, SourceSpec,
    Spec, Stmt, Subckt, Val, WaveSpec, parse_raw, parse_raw_with,
};
use crate::diag::Diagnostic;
use crate::expr::{BinOp, Expr, UnOp, apply_binary, builtin};

/// Canonical memristor defaults (theory.md 1.1-1.2), used when neither the
/// instance nor a `.subckt memristor ... PARAMS:` line gives a value.
/// R_on in ohms.
pub const DEFAULT_RON: f64 = 100.0;
/// R_off in ohms.
pub const DEFAULT_ROFF: f64 = 16000.0;
/// Initial memory state w(0), in [0, 1].
pub const DEFAULT_W0: f64 = 0.5;
/// alpha (1/time) in dw/dt = alpha w - ron i / beta.
pub const DEFAULT_ALPHA: f64 = 0.0;
/// beta (volt x time) in dw/dt = alpha w - ron i / beta.
pub const DEFAULT_BETA: f64 = 1.0;

/// The five canonical parameter names, in law order.
pub const CANONICAL_PARAMS: [&str; 5] = ["ron", "roff", "w0", "alpha", "beta"];

const DEFAULTS: [f64; 5] = [
    DEFAULT_RON,
    DEFAULT_ROFF,
    DEFAULT_W0,
    DEFAULT_ALPHA,
    DEFAULT_BETA,
];

/// A user subcircuit declared to be a memristor (`--memristor-subckt NAME
/// --param ron=RMIN,...`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserMemristor {
    /// Subcircuit name (case-insensitive).
    pub subckt: String,
    /// (canonical name, their parameter name) pairs, e.g. `("ron", "rmin")`.
    /// Canonical names without a mapping use the parameter of the same
    /// name if the instance or subcircuit has it, else the default.
    pub param_map: Vec<(String, String)>,
}

impl UserMemristor {
    /// Parse `ron=RMIN,roff=RMAX` (the CLI's `--param` text).
    pub fn parse_param_map(text: &str) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((c, theirs)) = item.split_once('=') else {
                return Err(format!(
                    "'{item}': expected canonical=theirs, e.g. ron=RMIN"
                ));
            };
            let c = c.trim().to_ascii_lowercase();
            if !CANONICAL_PARAMS.contains(&c.as_str()) {
                return Err(format!(
                    "'{c}' is not a canonical memristor parameter (ron roff w0 alpha beta)"
                ));
            }
            out.push((c, theirs.trim().to_lowercase()));
        }
        Ok(out)
    }
}

/// `--memristor-subckt NAME` must name a subcircuit the netlist defines
/// (at any depth; `memristor` is memnet's own and always exists), and each
/// `--param` mapping must name a parameter that definition declares: a typo
/// would otherwise fall back to a default silently.
fn check_user_memristors(
    users: &[UserMemristor],
    subckts: &[Subckt],
    style: OptionStyle,
) -> Result<(), Diagnostic> {
    fn collect<'a>(subckts: &'a [Subckt], out: &mut Vec<&'a Subckt>) {
        for s in subckts {
            out.push(s);
            collect(&s.body.subckts, out);
        }
    }
    let mut defs = Vec::new();
    collect(subckts, &mut defs);
    let at = || Loc::new("<options>", 0, 0);
    for um in users {
        let name = um.subckt.to_lowercase();
        let mine: Vec<&&Subckt> = defs.iter().filter(|d| d.name == name).collect();
        if mine.is_empty() {
            if name == "memristor" && um.param_map.is_empty() {
                continue;
            }
            let mut known: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
            known.sort_unstable();
            known.dedup();
            let known = if known.is_empty() {
                "it defines none".to_string()
            } else {
                format!("it defines: {}", known.join(", "))
            };
            return Err(Diagnostic::new(
                at(),
                format!(
                    "{} {}: the netlist defines no subcircuit '{name}' ({known})",
                    style.spell("memristor_subckt"),
                    um.subckt
                ),
            ));
        }
        for (c, theirs) in &um.param_map {
            if !mine
                .iter()
                .any(|d| d.defaults.iter().any(|p| &p.name == theirs))
            {
                let d = mine[0];
                let declared: Vec<&str> = d.defaults.iter().map(|p| p.name.as_str()).collect();
                let declared = if declared.is_empty() {
                    "it declares none".to_string()
                } else {
                    format!("it declares: {}", declared.join(", "))
                };
                return Err(Diagnostic::new(
                    at(),
                    format!(
                        "{} {c}={theirs}: subcircuit '{name}' (at {}) declares no parameter '{theirs}' ({declared})",
                        style.spell("param"),
                        d.loc
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Options for [`crate::import_file`] / [`crate::import_str`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportOptions {
    pub memristor_subckts: Vec<UserMemristor>,
    /// How messages name these options.
    pub style: OptionStyle,
}

/// How the caller's user writes an option, for messages: the command
/// line's `--memristor-subckt` or Python's `memristor_subckt`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OptionStyle {
    #[default]
    Flag,
    Keyword,
}

impl OptionStyle {
    /// `name` (in snake case) as this style writes it.
    pub fn spell(self, name: &str) -> String {
        match self {
            OptionStyle::Flag => format!("--{}", name.replace('_', "-")),
            OptionStyle::Keyword => name.to_string(),
        }
    }
}

impl ImportOptions {
    /// Options treating each of `subckts` as memnet's memristor, the n-th
    /// parameter map (`ron=RMIN,roff=RMAX`, [`UserMemristor::parse_param_map`])
    /// belonging to the n-th subcircuit, named in messages in `style`.
    pub fn with_memristor_subckts(
        subckts: &[String],
        params: &[String],
        style: OptionStyle,
    ) -> Result<ImportOptions, String> {
        let spell = |name: &str| style.spell(name);
        if params.len() > subckts.len() {
            return Err(format!(
                "{} given without a matching {}",
                spell("param"),
                spell("memristor_subckt")
            ));
        }
        let mut memristor_subckts = Vec::new();
        for (i, subckt) in subckts.iter().enumerate() {
            let param_map = match params.get(i) {
                Some(text) => UserMemristor::parse_param_map(text)
                    .map_err(|e| format!("{} {text}: {e}", spell("param")))?,
                None => Vec::new(),
            };
            memristor_subckts.push(UserMemristor {
                subckt: subckt.clone(),
                param_map,
            });
        }
        Ok(ImportOptions {
            memristor_subckts,
            style,
        })
    }
}

enum SlotState {
    Lazy,
    Busy,
    Done(f64),
}

struct Slot<'d> {
    val: Option<&'d Val>,
    file: Option<&'d Arc<str>>,
    state: SlotState,
    used: bool,
}

impl<'d> Slot<'d> {
    fn lazy(p: &'d ParamDef) -> Self {
        Slot {
            val: Some(&p.val),
            file: Some(&p.loc.file),
            state: SlotState::Lazy,
            used: false,
        }
    }
    fn done(v: f64) -> Self {
        Slot {
            val: None,
            file: None,
            state: SlotState::Done(v),
            used: false,
        }
    }
}

#[derive(Default)]
struct Frame<'d> {
    params: HashMap<Cow<'d, str>, Slot<'d>>,
    funcs: HashMap<&'d str, &'d FuncDef>,
    subckts: HashMap<&'d str, &'d Subckt>,
    /// Local model name -> flat model name.
    models: HashMap<String, String>,
    /// Pin name -> outer (flat) node.
    pins: HashMap<&'d str, String>,
    /// `x1.` inside instance x1, empty at the top.
    prefix: String,
    parent: Option<usize>,
}

impl<'d> Frame<'d> {
    fn fill(&mut self, body: &'d Body) {
        for p in &body.params {
            self.params.insert(Cow::Borrowed(&p.name), Slot::lazy(p));
        }
        for f in &body.funcs {
            self.funcs.insert(&f.name, f);
        }
        for s in &body.subckts {
            self.subckts.insert(&s.name, s);
        }
    }
}

struct Elab<'d, 'o> {
    files: &'d [SourceFile],
    opts: &'o ImportOptions,
    globals: HashSet<&'d str>,
    frames: Vec<Frame<'d>>,
    /// Subcircuits being expanded (for recursion errors).
    expanding: Vec<&'d Subckt>,
    /// Parameters being evaluated (for self-reference errors).
    busy: Vec<String>,
    call_depth: u32,
    used_subckts: HashSet<*const Subckt>,
    /// The circuit so far; with a sink, `elements` holds only the
    /// elements not yet handed to it.
    circuit: Circuit,
    /// Where finished elements go ([`elaborate_into`]), if anywhere.
    sink: Option<&'o mut dyn ElementSink>,
    /// How many elements the sink has taken: element `i` of the whole
    /// circuit is `circuit.elements[i - flushed]` once `i >= flushed`.
    flushed: usize,
    /// The index in the whole circuit of every element so far, hashed by
    /// name (to report duplicates): four bytes per element, the names
    /// themselves stay where the elements are.
    names: hashbrown::HashTable<u32>,
    /// Table files read so far, by path (a model used by many devices
    /// reads its files once).
    tables: HashMap<String, Arc<DataTable>>,
    /// Memristor bodies built so far, by definition: instances with equal
    /// bodies share one.
    bodies: HashMap<String, Vec<Arc<MemristorBody>>>,
    /// Flat names of the diodes' junction elements: a diode left outside
    /// every body becomes a static device of its own (`static_diodes`).
    diodes: HashSet<String>,
}

/// Instance parameters: borrowed from a subcircuit body (instantiated
/// many times) or owned by a top-level card (used once).
enum Params<'a> {
    Shared(&'a [(String, Val)]),
    Owned(Vec<(String, Val)>),
}

impl Params<'_> {
    fn len(&self) -> usize {
        match self {
            Params::Shared(p) => p.len(),
            Params::Owned(p) => p.len(),
        }
    }
}

/// User-function nesting limit (recursive `.func`s would never end).
const MAX_CALL_DEPTH: u32 = 256;
/// Depth of parameters defined through other parameters (a chain of
/// thousands would overflow the stack; real decks use a handful).
const MAX_PARAM_DEPTH: usize = 500;
/// Subcircuit nesting limit.
const MAX_NESTING: usize = 256;

/// The ground node: `0`; `gnd`, which ngspice, Xyce and LTspice accept;
/// and HSPICE's (and Spectre netlisters') global `gnd!`.
fn is_ground(n: &str) -> bool {
    n == "0" || n == "gnd" || n == "gnd!"
}

/// The name and place of element `index` of the whole circuit: in
/// `pending` from `flushed` on, before that with the sink.
fn element_at<'a>(
    pending: &'a [Element],
    flushed: usize,
    sink: Option<&'a dyn ElementSink>,
    index: usize,
) -> Option<(&'a str, &'a Loc)> {
    match index.checked_sub(flushed) {
        Some(k) => pending.get(k).map(|e| (e.name.as_str(), &e.loc)),
        None => sink.and_then(|s| s.name_at(index)),
    }
}

fn hash_name(s: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::default().hash_one(s)
}

/// `tstep tstop [tstart [tmax]]` of a `.tran` card or a `.control` `tran`
/// line, checked; the error is the message after the card's name.
fn tran_fields(xs: &[f64]) -> Result<(f64, f64, f64, Option<f64>), String> {
    let (tstep, tstop, tstart, tmax) = match *xs {
        [a, b] => (a, b, 0.0, None),
        [a, b, c] => (a, b, c, None),
        [a, b, c, d, ..] => (a, b, c, Some(d)),
        _ => return Err(" needs a step and a stop time".into()),
    };
    if !(tstop.is_finite() && tstop > 0.0 && tstep >= 0.0) {
        return Err(format!(
            ": stop time {tstop} must be > 0 and step {tstep} >= 0"
        ));
    }
    Ok((tstep, tstop, tstart, tmax))
}

/// Elaborate a parsed deck into a flat circuit.
pub fn elaborate(deck: Deck, opts: &ImportOptions) -> Result<Circuit, Diagnostic> {
    elaborate_with(deck, opts, None)
}

/// Where [`elaborate_into`] hands the circuit's elements, one at a time
/// and in the order of [`Circuit::elements`].
pub trait ElementSink {
    /// Takes the next element.
    fn element(&mut self, e: Element);
    /// The name and place of the `index`-th element taken (0-based), for
    /// the message about a later element of the same name.
    fn name_at(&self, index: usize) -> Option<(&str, &Loc)>;
    /// About `elements` elements will follow (the netlist's top-level
    /// statements: an upper bound for a flat netlist, since models and
    /// other cards count too; possibly below the count when subcircuits
    /// expand): room can be made once instead of by doubling.
    fn expect(&mut self, _elements: usize) {}
}

/// [`elaborate`], handing the elements to `sink` as each top-level card
/// is done instead of keeping them: the returned circuit has no elements.
/// A netlist of millions of devices then never holds them all as
/// [`Element`]s (the sink keeps what it needs, e.g. a network's edges).
/// A deck with diodes outside any subcircuit keeps its elements from the
/// first diode on until the end, where the diode pass needs them together.
pub fn elaborate_into(
    deck: Deck,
    opts: &ImportOptions,
    sink: &mut dyn ElementSink,
) -> Result<Circuit, Diagnostic> {
    elaborate_with(deck, opts, Some(sink))
}

fn elaborate_with<'o>(
    deck: Deck,
    opts: &'o ImportOptions,
    sink: Option<&'o mut dyn ElementSink>,
) -> Result<Circuit, Diagnostic> {
    let Deck {
        title,
        files,
        body,
        analyses,
        options,
        outputs,
        controls,
        control_locs,
        csparams,
        globals,
        warnings,
    } = deck;
    let Body {
        stmts,
        params,
        funcs,
        subckts,
    } = body;
    for um in &opts.memristor_subckts {
        for (c, _) in &um.param_map {
            if !CANONICAL_PARAMS.contains(&c.as_str()) {
                return Err(Diagnostic::new(
                    Loc::new("<options>", 0, 0),
                    format!(
                        "memristor subcircuit '{}': '{c}' is not a canonical parameter (ron roff w0 alpha beta)",
                        um.subckt
                    ),
                ));
            }
        }
    }
    check_user_memristors(&opts.memristor_subckts, &subckts, opts.style)?;
    // A model library given as the netlist parses (SPICE reads its first
    // line as the title) and yields an empty circuit: say what happened.
    let has_element = stmts
        .iter()
        .any(|s| matches!(s, Stmt::Element(_) | Stmt::Raw(_)));
    if !has_element && let Some(first) = subckts.first() {
        let names: Vec<&str> = subckts.iter().map(|s| s.name.as_str()).collect();
        let file = files.first().map_or("the netlist", |f| &*f.name);
        let mut d = Diagnostic::new(
            first.loc.clone(),
            format!(
                "{file} defines subcircuits ({}) but no element uses them: is it a model \
                 library? Put `.include {file}` in a netlist and instantiate one (`X1 a b {} ...`)",
                names.join(", "),
                first.name
            ),
        );
        if let Some(line) = files
            .iter()
            .find(|f| f.name == first.loc.file)
            .and_then(|f| {
                f.text
                    .lines()
                    .nth(first.loc.line.saturating_sub(1) as usize)
            })
        {
            d = d.with_line(line.to_string());
        }
        return Err(d);
    }
    let top = Body {
        stmts: Vec::new(),
        params,
        funcs,
        subckts,
    };
    let mut el = Elab {
        files: &files,
        opts,
        globals: globals.iter().map(String::as_str).collect(),
        frames: Vec::new(),
        expanding: Vec::new(),
        busy: Vec::new(),
        call_depth: 0,
        used_subckts: HashSet::new(),
        circuit: Circuit {
            title,
            warnings,
            control_blocks: controls,
            ..Circuit::default()
        },
        sink,
        flushed: 0,
        names: hashbrown::HashTable::new(),
        tables: HashMap::new(),
        bodies: HashMap::new(),
        diodes: HashSet::new(),
    };
    let mut f0 = Frame::default();
    f0.fill(&top);
    el.frames.push(f0);
    if el.sink.is_none() {
        el.circuit.elements.reserve(stmts.len());
    }
    el.names.reserve(stmts.len(), |_| 0);
    if let Some(sink) = el.sink.as_deref_mut() {
        sink.expect(stmts.len());
    }
    let mut stmts = stmts;
    for s in &stmts {
        if let Stmt::Model(m) = s {
            el.model(m, 0)?;
        }
    }
    let mut toks = Vec::new();
    for s in &mut stmts {
        match s {
            Stmt::Raw(r) => {
                let mut c = parse_raw_with(&files, r, &mut toks, &mut el.circuit.warnings)?;
                el.top_element(&mut c)?;
            }
            Stmt::Element(c) => el.top_element(c)?,
            Stmt::Ic(b) => el.ic(&b.0, &b.1.file, 0)?,
            Stmt::Model(_) => {}
        }
        if el.diodes.is_empty() {
            el.flush();
        }
    }
    drop(stmts);
    for a in &analyses {
        el.analysis(a)?;
    }
    let blocks = el.circuit.control_blocks.clone();
    el.control_tran(&blocks, &control_locs, &csparams)?;
    el.circuit.options = options.into_iter().collect();
    el.circuit.outputs = outputs;
    el.static_diodes()?;
    el.finish(&top)?;
    el.flush();
    Ok(el.circuit)
}

impl<'d> Elab<'d, '_> {
    /// A top-level card is used once: move its name, nodes and parameter
    /// keys into the circuit instead of copying them.
    fn top_element(&mut self, c: &mut ElementCard) -> Result<(), Diagnostic> {
        let name = std::mem::take(&mut c.name);
        let mut nodes = std::mem::take(&mut c.nodes);
        for n in &mut nodes {
            if is_ground(n) {
                *n = "0".to_string();
            }
        }
        let owned = match &mut c.spec {
            Spec::Instance { params, .. } => Some(std::mem::take(params)),
            _ => None,
        };
        self.element(&c.spec, &c.loc, name, nodes, 0, owned)
    }

    fn line_text(&self, loc: &Loc) -> Option<String> {
        let f = self.files.iter().find(|f| f.name == loc.file)?;
        f.text
            .split('\n')
            .nth(loc.line.checked_sub(1)? as usize)
            .map(|l| l.trim_end_matches('\r').to_string())
    }

    fn diag(&self, loc: &Loc, msg: impl Into<String>) -> Diagnostic {
        let d = Diagnostic::new(loc.clone(), msg);
        match self.line_text(loc) {
            Some(l) => d.with_line(l),
            None => d,
        }
    }

    fn warn(&mut self, kind: &'static str, loc: &Loc, msg: impl Into<String>) {
        self.circuit
            .warnings
            .push(Warning::new(kind, loc.clone(), msg));
    }

    // -- evaluation --------------------------------------------------------

    fn val_loc(file: &Arc<str>, v: &Val) -> Loc {
        Loc {
            file: file.clone(),
            line: v.pos.line,
            col: v.pos.col,
        }
    }

    /// Evaluate a value written in `file`, in scope `frame`.
    fn value(&mut self, v: &Val, file: &Arc<str>, frame: usize) -> Result<f64, Diagnostic> {
        if let Expr::Num(x) = v.expr {
            return Ok(x);
        }
        let at = Self::val_loc(file, v);
        self.eval(&v.expr, frame, &at)
    }

    /// A value that must be finite (element values, waveform points).
    /// `what` names the value for messages; it is only called on error, so
    /// the hot path formats nothing.
    fn finite(
        &mut self,
        v: &Val,
        file: &Arc<str>,
        frame: usize,
        what: impl Fn() -> String,
    ) -> Result<f64, Diagnostic> {
        let x = self
            .value(v, file, frame)
            .map_err(|d| Self::name_in(d, &what(), file, v))?;
        if x.is_finite() {
            Ok(x)
        } else {
            let at = Self::val_loc(file, v);
            Err(self.diag(
                &at,
                format!("{} evaluates to {x}, not a finite number", what()),
            ))
        }
    }

    /// Prefix an evaluation error raised on the card of `v` with the name
    /// of what was being evaluated (`resistor r1: undefined parameter 'k'`).
    fn name_in(mut d: Diagnostic, what: &str, file: &Arc<str>, v: &Val) -> Diagnostic {
        if d.loc.line == v.pos.line && d.loc.file == *file && !d.message.starts_with(what) {
            d.message = format!("{what}: {}", d.message);
        }
        d
    }

    fn eval(&mut self, e: &Expr, f: usize, at: &Loc) -> Result<f64, Diagnostic> {
        Ok(match e {
            Expr::Num(v) => *v,
            Expr::Var(n) => self.lookup(n, f, at)?,
            Expr::Unary(UnOp::Neg, a) => -self.eval(a, f, at)?,
            Expr::Unary(UnOp::Not, a) => {
                if self.eval(a, f, at)? == 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Expr::Binary(BinOp::And, a, b) => {
                let x = self.eval(a, f, at)? != 0.0 && self.eval(b, f, at)? != 0.0;
                f64::from(u8::from(x))
            }
            Expr::Binary(BinOp::Or, a, b) => {
                let x = self.eval(a, f, at)? != 0.0 || self.eval(b, f, at)? != 0.0;
                f64::from(u8::from(x))
            }
            Expr::Binary(op, a, b) => {
                let x = self.eval(a, f, at)?;
                let y = self.eval(b, f, at)?;
                apply_binary(*op, x, y)
            }
            Expr::Cond(c) => {
                if self.eval(&c[0], f, at)? != 0.0 {
                    self.eval(&c[1], f, at)?
                } else {
                    self.eval(&c[2], f, at)?
                }
            }
            Expr::Call(c) => self.call(&c.0, &c.1, f, at)?,
        })
    }

    fn call(&mut self, name: &str, args: &[Expr], f: usize, at: &Loc) -> Result<f64, Diagnostic> {
        if name == "if" || name == "ternary_fcn" {
            let [c, a, b] = args else {
                return Err(self.diag(
                    at,
                    format!("{name}() takes 3 arguments, got {}", args.len()),
                ));
            };
            return if self.eval(c, f, at)? != 0.0 {
                self.eval(a, f, at)
            } else {
                self.eval(b, f, at)
            };
        }
        // User functions shadow built-ins.
        let found = self.user_function(name, f);
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(self.eval(a, f, at)?);
        }
        if let Some((fd, home)) = found {
            self.check_call(fd, name, vals.len(), at)?;
            let mut fr = Frame {
                parent: Some(home),
                ..Frame::default()
            };
            for (a, v) in fd.args.iter().zip(&vals) {
                fr.params.insert(Cow::Borrowed(a), Slot::done(*v));
            }
            self.frames.push(fr);
            self.call_depth += 1;
            let r = self.value(&fd.body, &fd.loc.file, self.frames.len() - 1);
            self.call_depth -= 1;
            self.frames.pop();
            return r;
        }
        match builtin(name, &vals) {
            Some(Ok(v)) => Ok(v),
            Some(Err(m)) => Err(self.diag(at, m)),
            None => Err(self.diag(at, format!("unknown function '{name}'"))),
        }
    }

    /// The user function `name` visible from frame `f`, and the frame it
    /// is defined in.
    fn user_function(&self, name: &str, f: usize) -> Option<(&'d FuncDef, usize)> {
        let mut k = Some(f);
        while let Some(i) = k {
            if let Some(&fd) = self.frames[i].funcs.get(name) {
                return Some((fd, i));
            }
            k = self.frames[i].parent;
        }
        None
    }

    /// A call of `fd` with `n` arguments may go ahead: the count matches
    /// and the nesting is bounded.
    fn check_call(&self, fd: &FuncDef, name: &str, n: usize, at: &Loc) -> Result<(), Diagnostic> {
        if fd.args.len() != n {
            return Err(self.diag(
                at,
                format!(
                    "function '{name}' takes {} arguments, got {n} (defined at {})",
                    fd.args.len(),
                    fd.loc
                ),
            ));
        }
        if self.call_depth >= MAX_CALL_DEPTH {
            return Err(self.diag(at, format!("function '{name}' recurses without end")));
        }
        Ok(())
    }

    fn lookup(&mut self, name: &str, f: usize, at: &Loc) -> Result<f64, Diagnostic> {
        let mut k = Some(f);
        while let Some(i) = k {
            if let Some(slot) = self.frames[i].params.get_mut(name) {
                slot.used = true;
                match slot.state {
                    SlotState::Done(v) => return Ok(v),
                    SlotState::Busy => {
                        let start = self.busy.iter().position(|b| b == name).unwrap_or(0);
                        let mut chain: Vec<&str> =
                            self.busy[start..].iter().map(String::as_str).collect();
                        chain.push(name);
                        let msg = format!(
                            "parameter '{name}' depends on itself ({})",
                            chain.join(" -> ")
                        );
                        return Err(self.diag(at, msg));
                    }
                    SlotState::Lazy => {
                        let (Some(val), Some(file)) = (slot.val, slot.file) else {
                            return Err(self.diag(at, format!("parameter '{name}' has no value")));
                        };
                        if self.busy.len() >= MAX_PARAM_DEPTH {
                            return Err(self.diag(
                                at,
                                format!("parameter '{name}': definitions nested too deeply"),
                            ));
                        }
                        let Some(slot) = self.frames[i].params.get_mut(name) else {
                            return Err(self.diag(at, format!("parameter '{name}' vanished")));
                        };
                        slot.state = SlotState::Busy;
                        self.busy.push(name.to_string());
                        let r = self.value(val, file, i).map_err(|d| {
                            if d.message.starts_with("parameter ") {
                                d
                            } else {
                                Self::name_in(d, &format!("parameter '{name}'"), file, val)
                            }
                        });
                        self.busy.pop();
                        if let Some(slot) = self.frames[i].params.get_mut(name) {
                            slot.state = match r {
                                Ok(v) => SlotState::Done(v),
                                Err(_) => SlotState::Lazy,
                            };
                        }
                        return r;
                    }
                }
            }
            k = self.frames[i].parent;
        }
        if let Some(c) = crate::expr::constant(name) {
            return Ok(c);
        }
        Err(self.diag(at, format!("undefined parameter '{name}'")))
    }

    // -- names ---------------------------------------------------------------

    fn flat_node(&self, frame: usize, node: &str) -> String {
        if is_ground(node) {
            return "0".to_string();
        }
        if self.globals.contains(node) {
            return node.to_string();
        }
        let fr = &self.frames[frame];
        if let Some(outer) = fr.pins.get(node) {
            return outer.clone();
        }
        let mut s = String::with_capacity(fr.prefix.len() + node.len());
        s.push_str(&fr.prefix);
        s.push_str(node);
        s
    }

    fn find_subckt(&self, frame: usize, name: &str) -> Option<(&'d Subckt, usize)> {
        let mut k = Some(frame);
        while let Some(i) = k {
            if let Some(&s) = self.frames[i].subckts.get(name) {
                return Some((s, i));
            }
            k = self.frames[i].parent;
        }
        None
    }

    /// A junction diode `D a k model [area]` as ngspice's DC law computes
    /// it (src/spicelib/devices/dio/dioload.c and diotemp.c at 27 C): with
    /// vte = n kT/q and csat = is area,
    ///   i = csat (exp(v / vte) - 1) + gmin v             for v >= -3 vte,
    ///   i = -csat (1 + (3 vte / (v e))^3) + gmin v       down to -bv',
    ///   i = -csat exp(-(bv' + v) / (nbv kT/q)) + gmin v  below (`bv=`),
    /// gmin = 1e-12 S as in ngspice, and bv' the breakdown voltage moved so
    /// that the current at -bv' is ibv ([`breakdown_knee`]). A behavioural
    /// current source on `nodes`, so that a memristor subcircuit compiles
    /// it; the series resistance `rs` / area, when the model sets one, is
    /// returned for the caller to put in series; `ikf`/`ikr` limit the
    /// forward and reverse currents as dioload.c does; `cjo` (with `vj`,
    /// `m`, `fc`) gives the depletion capacitance as an expression of the
    /// junction voltage, for a capacitor across the junction. The diffusion
    /// charge (`tt`) is refused by name.
    fn diode(
        &mut self,
        model: &str,
        area: Option<&Val>,
        nodes: &[String],
        loc: &Loc,
        frame: usize,
        name: &str,
    ) -> Result<(ElementKind, Option<f64>, Option<Expr>), Diagnostic> {
        let area = match area {
            Some(a) => self.finite(a, &loc.file, frame, || format!("diode {name} area"))?,
            None => 1.0,
        };
        let Some(m) = self.find_model(frame, model) else {
            return Err(self.diag(loc, format!("diode {name}: no model '{model}'")));
        };
        if m.kind != "d" {
            return Err(self.diag(
                loc,
                format!(
                    "diode {name}: model '{model}' is a '{}' model, not 'd'",
                    m.kind
                ),
            ));
        }
        let p = |k: &str| m.params.get(k).copied();
        // Parameters that change the law at 27 C and that memnet does not
        // model: refused by name rather than ignored (the temperature ones,
        // xti, eg, ..., act only away from tnom).
        for k in ["tt", "isr", "jsw", "isw", "ibvl", "ns"] {
            if p(k).is_some_and(|v| v != 0.0) {
                return Err(self.diag(
                    loc,
                    format!(
                        "diode {name}: model '{model}' sets {k}; memnet simulates the junction \
                         law of is, n, rs, bv and ikf/ikr and the depletion charge of cjo, vj, \
                         m and fc (no diffusion charge, recombination, sidewall or low-level \
                         breakdown current)"
                    ),
                ));
            }
        }
        // The circuit runs at 27 C; a model measured at another tnom would
        // have its is, vj and cjo moved by temperature in SPICE.
        if let Some(tnom) = p("tnom").filter(|t| (t - 27.0).abs() > 1e-9) {
            return Err(self.diag(
                loc,
                format!(
                    "diode {name}: model '{model}' sets tnom = {tnom} C; memnet evaluates \
                     diodes at 27 C, their nominal temperature, without SPICE's temperature \
                     scaling (remove tnom, or give the parameters at 27 C)"
                ),
            ));
        }
        let csat = p("is").unwrap_or(1e-14) * area;
        let n = p("n").unwrap_or(1.0);
        // ngspice's CONSTKoverQ and REFTEMP (const.h, 27 C).
        let vt = 1.38064852e-23 / 1.6021766208e-19 * 300.15;
        let vte = n * vt;
        if !(csat.is_finite() && csat > 0.0 && vte.is_finite() && vte > 0.0) {
            return Err(self.diag(loc, format!("diode {name}: is and n must be positive")));
        }
        let rs = match p("rs") {
            Some(r) if !(r.is_finite() && r >= 0.0) => {
                return Err(self.diag(loc, format!("diode {name}: rs = {r} must not be negative")));
            }
            Some(r) if r > 0.0 => Some(r / area),
            _ => None,
        };
        let breakdown = match p("bv") {
            Some(bv) if bv.is_finite() => {
                let ibv = p("ibv").unwrap_or(1e-3);
                let nbv = p("nbv").unwrap_or(n);
                if !(bv > 0.0 && ibv > 0.0 && nbv > 0.0) {
                    return Err(self.diag(
                        loc,
                        format!("diode {name}: bv, ibv and nbv must be positive"),
                    ));
                }
                Some((breakdown_knee(bv, ibv, csat, vt, nbv), nbv * vt))
            }
            _ => None,
        };
        let num = Expr::Num;
        let bin = |op, a: Expr, b: Expr| Expr::Binary(op, Box::new(a), Box::new(b));
        let vd = || {
            Expr::Call(Box::new((
                "v".into(),
                vec![
                    Expr::Var(nodes[0].as_str().into()),
                    Expr::Var(nodes[1].as_str().into()),
                ],
            )))
        };
        let exp = Expr::Call(Box::new((
            "exp".into(),
            vec![bin(BinOp::Div, vd(), num(vte))],
        )));
        let forward = bin(BinOp::Mul, num(csat), bin(BinOp::Sub, exp, num(1.0)));
        let arg = bin(BinOp::Div, num(3.0 * vte / std::f64::consts::E), vd());
        let cube = bin(BinOp::Mul, arg.clone(), bin(BinOp::Mul, arg.clone(), arg));
        let mut reverse = bin(BinOp::Mul, num(-csat), bin(BinOp::Add, num(1.0), cube));
        if let Some((knee, vtebrk)) = breakdown {
            let evrev = Expr::Call(Box::new((
                "exp".into(),
                vec![bin(
                    BinOp::Div,
                    Expr::Unary(UnOp::Neg, Box::new(bin(BinOp::Add, num(knee), vd()))),
                    num(vtebrk),
                )],
            )));
            reverse = Expr::Cond(Box::new([
                bin(BinOp::Ge, vd(), num(-knee)),
                reverse,
                bin(BinOp::Mul, num(-csat), evrev),
            ]));
        }
        // High injection (ngspice's dioload.c): past 1e-18 A the forward
        // current is divided by 1 + sqrt(i / ikf), the reverse one by
        // 1 + sqrt(-i / ikr), with the knees times the area; a knee below
        // ngspice's epsmin (1e-28) is ignored, as ngspice does.
        let knee = |k: &str, alias: &str| {
            p(k).or_else(|| p(alias))
                .filter(|v| v.is_finite() && *v >= 1e-28)
                .map(|v| v * area)
        };
        let sqrt = |x: Expr| Expr::Call(Box::new(("sqrt".into(), vec![x])));
        let forward = match knee("ikf", "ik") {
            Some(ikf) => Expr::Cond(Box::new([
                bin(BinOp::Gt, forward.clone(), num(1e-18)),
                bin(
                    BinOp::Div,
                    forward.clone(),
                    bin(
                        BinOp::Add,
                        num(1.0),
                        sqrt(bin(BinOp::Div, forward.clone(), num(ikf))),
                    ),
                ),
                forward,
            ])),
            None => forward,
        };
        let reverse = match knee("ikr", "ikr") {
            Some(ikr) => Expr::Cond(Box::new([
                bin(BinOp::Lt, reverse.clone(), num(-1e-18)),
                bin(
                    BinOp::Div,
                    reverse.clone(),
                    bin(
                        BinOp::Add,
                        num(1.0),
                        sqrt(bin(BinOp::Div, reverse.clone(), num(-ikr))),
                    ),
                ),
                reverse,
            ])),
            None => reverse,
        };
        let junction = Expr::Cond(Box::new([
            bin(BinOp::Ge, vd(), num(-3.0 * vte)),
            forward,
            reverse,
        ]));
        let kind = ElementKind::ExprSource {
            sets: Sets::Current,
            value: bin(BinOp::Add, junction, bin(BinOp::Mul, num(1e-12), vd())),
        };
        // The depletion capacitance (dioload.c at 27 C): cjo area (1 -
        // vd/vj)^-m below fc vj, its tangent line above.
        let cjo = p("cjo")
            .or_else(|| p("cj0"))
            .or_else(|| p("cj"))
            .unwrap_or(0.0)
            * area;
        let cap = if cjo != 0.0 {
            let vj = p("vj").or_else(|| p("pb")).unwrap_or(1.0);
            let m = p("m").or_else(|| p("mj")).unwrap_or(0.5);
            let fc = p("fc").unwrap_or(0.5);
            if !(cjo.is_finite()
                && cjo > 0.0
                && vj > 0.0
                && (0.0..0.95).contains(&fc)
                && m > 0.0
                && m < 1.0)
            {
                return Err(self.diag(
                    loc,
                    format!(
                        "diode {name}: cjo = {cjo} must be positive, vj > 0, 0 < m < 1 and \
                         0 <= fc < 0.95"
                    ),
                ));
            }
            let below = bin(
                BinOp::Mul,
                num(cjo),
                bin(
                    BinOp::Pow,
                    bin(BinOp::Sub, num(1.0), bin(BinOp::Div, vd(), num(vj))),
                    num(-m),
                ),
            );
            let f2 = (1.0 - fc).powf(1.0 + m);
            let f3 = 1.0 - fc * (1.0 + m);
            let above = bin(
                BinOp::Mul,
                num(cjo / f2),
                bin(BinOp::Add, num(f3), bin(BinOp::Mul, num(m / vj), vd())),
            );
            Some(Expr::Cond(Box::new([
                bin(BinOp::Lt, vd(), num(fc * vj)),
                below,
                above,
            ])))
        } else {
            None
        };
        Ok((kind, rs, cap))
    }

    fn find_model(&self, frame: usize, name: &str) -> Option<&Model> {
        let mut k = Some(frame);
        while let Some(i) = k {
            if let Some(flat) = self.frames[i].models.get(name) {
                return self.circuit.models.get(flat);
            }
            k = self.frames[i].parent;
        }
        self.circuit.models.get(name)
    }

    /// Hands the finished elements to the sink, if there is one.
    fn flush(&mut self) {
        if let Some(sink) = self.sink.as_deref_mut() {
            self.flushed += self.circuit.elements.len();
            for e in self.circuit.elements.drain(..) {
                sink.element(e);
            }
        }
    }

    fn push(&mut self, el: Element) -> Result<(), Diagnostic> {
        let h = hash_name(&el.name);
        let idx = self.flushed + self.circuit.elements.len();
        let Ok(idx) = u32::try_from(idx) else {
            return Err(self.diag(&el.loc, "more than 2^32 elements: too many for one netlist"));
        };
        let (pending, flushed, sink) = (&self.circuit.elements, self.flushed, self.sink.as_deref());
        let at = |i: u32| element_at(pending, flushed, sink, i as usize);
        // One probe of the name table: find and insert together.
        let entry = self.names.entry(
            h,
            |&i| at(i).is_some_and(|(n, _)| n == el.name),
            |&i| at(i).map_or(0, |(n, _)| hash_name(n)),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(o) => {
                let loc = at(*o.get()).map(|(_, l)| l.to_string()).unwrap_or_default();
                let msg = format!("duplicate element name '{}' (first at {loc})", el.name);
                Err(self.diag(&el.loc, msg))
            }
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(idx);
                self.circuit.elements.push(el);
                Ok(())
            }
        }
    }

    // -- statements ----------------------------------------------------------

    fn run_body(&mut self, body: &'d Body, frame: usize) -> Result<(), Diagnostic> {
        for s in &body.stmts {
            if let Stmt::Model(m) = s {
                self.model(m, frame)?;
            }
        }
        for s in &body.stmts {
            match s {
                Stmt::Element(c) => {
                    let name = format!("{}{}", self.frames[frame].prefix, c.name);
                    let nodes = c.nodes.iter().map(|n| self.flat_node(frame, n)).collect();
                    self.element(&c.spec, &c.loc, name, nodes, frame, None)?;
                }
                Stmt::Ic(b) => self.ic(&b.0, &b.1.file, frame)?,
                Stmt::Raw(r) => {
                    // Only top-level cards are deferred; parse anyway.
                    let mut w = Vec::new();
                    if let Stmt::Element(c) = parse_raw(self.files, r, &mut w)? {
                        let name = format!("{}{}", self.frames[frame].prefix, c.name);
                        let nodes = c.nodes.iter().map(|n| self.flat_node(frame, n)).collect();
                        self.element(&c.spec, &c.loc, name, nodes, frame, None)?;
                    }
                    self.circuit.warnings.extend(w);
                }
                Stmt::Model(_) => {}
            }
        }
        Ok(())
    }

    fn model(&mut self, m: &ModelCard, frame: usize) -> Result<(), Diagnostic> {
        let flat = format!("{}{}", self.frames[frame].prefix, m.name);
        let mut params = BTreeMap::new();
        let mut words = BTreeMap::new();
        for (k, v) in &m.params {
            match self.value(v, &m.loc.file, frame) {
                Ok(x) => {
                    params.insert(k.clone(), x);
                }
                Err(e) => {
                    if let Expr::Var(word) = &v.expr {
                        // Memristor models name files (Xyce level 4); the
                        // device decides which words it reads.
                        if m.kind == "memristor" {
                            words.insert(k.clone(), word.to_string());
                        } else {
                            let at = Self::val_loc(&m.loc.file, v);
                            self.warn(
                                "non-numeric model parameter",
                                &at,
                                format!(
                                    "model {}: non-numeric parameter {k}={word} ignored",
                                    m.name
                                ),
                            );
                        }
                    } else {
                        return Err(e);
                    }
                }
            }
        }
        if self.circuit.models.contains_key(&flat) {
            self.warn(
                "model redefined",
                &m.loc,
                format!("model '{flat}' redefined; the last definition wins"),
            );
        }
        self.circuit.models.insert(
            flat.clone(),
            Model {
                name: flat.clone(),
                kind: m.kind.clone(),
                params,
                words,
                loc: m.loc.clone(),
            },
        );
        if frame > 0 || !self.frames[frame].prefix.is_empty() {
            self.frames[frame].models.insert(m.name.clone(), flat);
        }
        Ok(())
    }

    fn ic(
        &mut self,
        ic: &[(String, Val)],
        file: &Arc<str>,
        frame: usize,
    ) -> Result<(), Diagnostic> {
        for (node, v) in ic {
            let x = self.value(v, file, frame)?;
            let n = self.flat_node(frame, node);
            self.circuit.initial_conditions.push((n, x));
        }
        Ok(())
    }

    fn analysis(&mut self, a: &AnalysisCard) -> Result<(), Diagnostic> {
        let out = match a {
            AnalysisCard::Tran { vals, uic, loc } => {
                let mut xs = Vec::with_capacity(vals.len());
                for v in vals {
                    xs.push(self.finite(v, &loc.file, 0, || ".tran value".to_string())?);
                }
                if let [tstop] = xs[..] {
                    // LTspice `.tran Tstop`: no step given.
                    self.warn(
                        ".tran step defaulted",
                        loc,
                        ".tran with only a stop time: step set to tstop/1000",
                    );
                    xs.insert(0, tstop / 1000.0);
                }
                let (tstep, tstop, tstart, tmax) =
                    tran_fields(&xs).map_err(|m| self.diag(loc, format!(".tran{m}")))?;
                Analysis::Tran {
                    tstep,
                    tstop,
                    tstart,
                    tmax,
                    uic: *uic,
                    loc: loc.clone(),
                }
            }
            AnalysisCard::Op { loc } => Analysis::Op { loc: loc.clone() },
            AnalysisCard::Dc { text, loc } => Analysis::Dc {
                text: text.clone(),
                loc: loc.clone(),
            },
            AnalysisCard::Ac { text, loc } => Analysis::Ac {
                text: text.clone(),
                loc: loc.clone(),
            },
        };
        self.circuit.analyses.push(out);
        Ok(())
    }

    fn finish(&mut self, top: &'d Body) -> Result<(), Diagnostic> {
        let unused: Vec<&'d ParamDef> = top
            .params
            .iter()
            .filter(|p| {
                self.frames[0]
                    .params
                    .get(p.name.as_str())
                    .is_some_and(|s| !s.used)
            })
            .collect();
        // Evaluate every global parameter so errors surface even in unused ones.
        for p in &top.params {
            let at = Self::val_loc(&p.loc.file, &p.val);
            self.lookup(&p.name, 0, &at)?;
        }
        for p in unused {
            self.warn(
                "unused parameter",
                &p.loc,
                format!("parameter '{}' is defined but never used", p.name),
            );
        }
        for s in &top.subckts {
            let canonical = s.name == "memristor"
                || self
                    .opts
                    .memristor_subckts
                    .iter()
                    .any(|u| u.subckt.eq_ignore_ascii_case(&s.name));
            if !canonical && !self.used_subckts.contains(&(s as *const Subckt)) {
                self.warn(
                    "unused subcircuit",
                    &s.loc,
                    format!("subcircuit '{}' is defined but never used", s.name),
                );
            }
        }
        Ok(())
    }

    // -- elements --------------------------------------------------------------

    fn element(
        &mut self,
        spec: &Spec,
        loc: &Loc,
        name: String,
        nodes: Vec<String>,
        frame: usize,
        owned: Option<Vec<(String, Val)>>,
    ) -> Result<(), Diagnostic> {
        let file = &loc.file;
        let kind = match spec {
            Spec::Resistor(v) if body::reads_circuit(&v.expr) => ElementKind::ExprResistor {
                value: self.resolve_val(v, file, frame, || format!("resistor {name}"))?,
            },
            Spec::Resistor(v) => ElementKind::Resistor {
                resistance: self.finite(v, file, frame, || format!("resistor {name}"))?,
            },
            Spec::ExprSource { voltage, val } => ElementKind::ExprSource {
                sets: Sets::of(*voltage),
                value: self.resolve_val(val, file, frame, || {
                    format!(
                        "{} {name}",
                        if *voltage {
                            "voltage source"
                        } else {
                            "current source"
                        }
                    )
                })?,
            },
            Spec::Capacitor(v, ic) => ElementKind::Capacitor {
                capacitance: self.finite(v, file, frame, || format!("capacitor {name}"))?,
                ic: match ic {
                    Some(i) => {
                        Some(self.finite(i, file, frame, || format!("capacitor {name} ic"))?)
                    }
                    None => None,
                },
            },
            Spec::Inductor(v, ic) => ElementKind::Inductor {
                inductance: self.finite(v, file, frame, || format!("inductor {name}"))?,
                ic: match ic {
                    Some(i) => Some(self.finite(i, file, frame, || format!("inductor {name} ic"))?),
                    None => None,
                },
            },
            Spec::VSource(s) => ElementKind::VoltageSource(self.source(s, file, frame, &name)?),
            Spec::ISource(s) => ElementKind::CurrentSource(self.source(s, file, frame, &name)?),
            Spec::Vcvs(g) => ElementKind::Vcvs {
                gain: self.finite(g, file, frame, || format!("vcvs {name} gain"))?,
            },
            Spec::Vccs(g) => ElementKind::Vccs {
                transconductance: self.finite(g, file, frame, || format!("vccs {name} gain"))?,
            },
            Spec::Behavioral(e) => ElementKind::Behavioral { expr: e.clone() },
            // A diode inside a body is part of it; one left outside every
            // body becomes a static device of its own (`static_diodes`).
            Spec::Diode { model, area } => {
                self.diodes.insert(name.clone());
                // A series resistance puts the junction behind an internal
                // node, named as ngspice names it (`d1#internal`).
                let has_rs = self
                    .find_model(frame, model)
                    .and_then(|m| m.params.get("rs"))
                    .is_some_and(|&r| r > 0.0);
                let internal = format!("{name}#internal");
                let jn = if has_rs {
                    vec![internal.clone(), nodes[1].clone()]
                } else {
                    nodes.clone()
                };
                let (kind, rs, cap) = self.diode(model, area.as_ref(), &jn, loc, frame, &name)?;
                if let Some(r) = rs {
                    self.push(Element {
                        name: format!("{name}#rs"),
                        nodes: vec![nodes[0].clone(), internal.clone()],
                        kind: ElementKind::Resistor { resistance: r },
                        loc: loc.clone(),
                    })?;
                }
                if let Some(value) = cap {
                    self.push(Element {
                        name: format!("{name}#cj"),
                        nodes: jn.clone(),
                        kind: ElementKind::ExprCapacitor { value },
                        loc: loc.clone(),
                    })?;
                }
                return self.push(Element {
                    name,
                    nodes: jn,
                    kind,
                    loc: loc.clone(),
                });
            }
            Spec::Unsupported { what, text } => ElementKind::Unsupported {
                what: what.clone(),
                text: text.clone(),
            },
            Spec::Instance { subckt, params } => {
                let ps = match owned {
                    Some(v) => Params::Owned(v),
                    None => Params::Shared(params),
                };
                match self.instance(subckt, ps, loc, &name, &nodes, frame)? {
                    Some(k) => k,
                    None => return Ok(()),
                }
            }
            Spec::Xspice { model } => self.xspice(model, loc, &name, &nodes, frame)?,
            Spec::YDevice {
                ytype,
                model,
                params,
            } => self.ydevice(ytype, model, params, loc, &name, &nodes, frame)?,
        };
        self.push(Element {
            name,
            nodes,
            kind,
            loc: loc.clone(),
        })
    }

    fn source(
        &mut self,
        s: &SourceSpec,
        file: &Arc<str>,
        frame: usize,
        name: &str,
    ) -> Result<Source, Diagnostic> {
        let what = format!("source {name}");
        let dc = match &s.dc {
            Some(v) => Some(self.finite(v, file, frame, || what.clone())?),
            None => None,
        };
        let Some(w) = &s.wave else {
            return Ok(Source::dc(dc.unwrap_or(0.0)));
        };
        let mut xs = Vec::new();
        let vals = match w {
            WaveSpec::Pulse(v) | WaveSpec::Sin(v) => v,
            WaveSpec::Pwl { values, .. } => values,
        };
        let mut pwl_at = None;
        if let WaveSpec::Pwl {
            file: Some((fname, at)),
            ..
        } = w
        {
            xs = self.pwl_file(fname, at, &what)?;
            pwl_at = Some(at);
        }
        for v in vals {
            xs.push(self.finite(v, file, frame, || what.clone())?);
        }
        let opt = |k: usize| xs.get(k).copied();
        let waveform = match w {
            WaveSpec::Pulse(_) => Waveform::Pulse {
                v1: opt(0).unwrap_or(0.0),
                v2: opt(1).unwrap_or(0.0),
                td: opt(2).unwrap_or(0.0),
                tr: opt(3),
                tf: opt(4),
                pw: opt(5),
                per: opt(6),
                np: match opt(7) {
                    None => None,
                    Some(n) if n >= 0.0 && n <= f64::from(u32::MAX) => Some(n.round() as u32),
                    Some(n) => {
                        let at = Self::val_loc(file, &vals[7]);
                        return Err(self.diag(
                            &at,
                            format!("{what}: pulse count {n} must be a non-negative integer"),
                        ));
                    }
                },
            },
            WaveSpec::Sin(_) => Waveform::Sin {
                vo: opt(0).unwrap_or(0.0),
                va: opt(1).unwrap_or(0.0),
                freq: opt(2),
                td: opt(3).unwrap_or(0.0),
                theta: opt(4).unwrap_or(0.0),
                phase: opt(5).unwrap_or(0.0),
            },
            WaveSpec::Pwl {
                r,
                td,
                time_scale,
                value_scale,
                ..
            } => {
                let mut scale = |v: &Option<Val>| match v {
                    Some(v) => self.finite(v, file, frame, || what.clone()),
                    None => Ok(1.0),
                };
                let (ts, vs) = (scale(time_scale)?, scale(value_scale)?);
                let points: Vec<(f64, f64)> =
                    xs.chunks_exact(2).map(|c| (c[0] * ts, c[1] * vs)).collect();
                if let Some(k) = points.windows(2).position(|p| p[1].0 < p[0].0) {
                    // File times were checked as read; only a negative
                    // TIME_SCALE_FACTOR reverses them.
                    let at = match pwl_at {
                        Some(at) => at.clone(),
                        None => Self::val_loc(file, &vals[2 * (k + 1)]),
                    };
                    return Err(self.diag(&at, format!("{what}: PWL times must not decrease")));
                }
                let repeat_from = match r {
                    Some(v) => Some(self.finite(v, file, frame, || what.clone())?),
                    None => None,
                };
                let delay = match td {
                    Some(v) => self.finite(v, file, frame, || what.clone())?,
                    None => 0.0,
                };
                Waveform::Pwl {
                    points,
                    repeat_from,
                    delay,
                }
            }
        };
        // Without a DC value SPICE uses the waveform's value at t = 0.
        let dc = dc.unwrap_or_else(|| {
            waveform.value(
                0.0,
                TranTimes {
                    tstep: 1.0,
                    tstop: 1.0,
                },
            )
        });
        Ok(Source { dc, waveform })
    }

    fn model_for(
        &self,
        model: &str,
        loc: &Loc,
        name: &str,
        frame: usize,
    ) -> Result<Model, Diagnostic> {
        match self.find_model(frame, model) {
            Some(m) => Ok(m.clone()),
            None => Err(self.diag(loc, format!("{name}: model '{model}' is not defined"))),
        }
    }

    fn xspice(
        &mut self,
        model: &str,
        loc: &Loc,
        name: &str,
        nodes: &[String],
        frame: usize,
    ) -> Result<ElementKind, Diagnostic> {
        let m = self.model_for(model, loc, name, frame)?;
        if m.kind != "memristor" {
            return Ok(ElementKind::Unsupported {
                what: format!("xspice {}", m.kind),
                text: format!("model {}", m.name),
            });
        }
        if nodes.len() != 2 {
            return Err(self.diag(
                loc,
                format!(
                    "xspice memristor {name} needs 2 nodes, found {}",
                    nodes.len()
                ),
            ));
        }
        Ok(ElementKind::Memristor(Memristor {
            dialect: MemristorDialect::Xspice { model: m.name },
            law: None,
            params: m.params,
            tables: Vec::new(),
        }))
    }

    #[allow(clippy::too_many_arguments)]
    fn ydevice(
        &mut self,
        ytype: &str,
        model: &str,
        params: &[(String, Val)],
        loc: &Loc,
        name: &str,
        nodes: &[String],
        frame: usize,
    ) -> Result<ElementKind, Diagnostic> {
        if ytype != "memristor" {
            return Ok(ElementKind::Unsupported {
                what: format!("xyce y{ytype}"),
                text: format!("model {model}"),
            });
        }
        let m = self.model_for(model, loc, name, frame)?;
        if m.kind != "memristor" {
            return Err(self.diag(
                loc,
                format!(
                    "{name}: model '{model}' is a '{}' model, not a memristor",
                    m.kind
                ),
            ));
        }
        if nodes.len() != 2 {
            return Err(self.diag(
                loc,
                format!("{name}: a memristor needs 2 nodes, found {}", nodes.len()),
            ));
        }
        if let Some(law) = m.words.get("law") {
            return self.native_memristor(&m, law, params, loc, name, frame);
        }
        let level = m.params.get("level").copied().unwrap_or(1.0);
        if !(0.0..1000.0).contains(&level) {
            return Err(self.diag(&m.loc, format!("model {}: invalid level {level}", m.name)));
        }
        let level = level.round() as u32;
        let mut all = m.params.clone();
        for (k, v) in params {
            let x = self.finite(v, &loc.file, frame, || format!("{name} parameter {k}"))?;
            all.insert(k.clone(), x);
        }
        let mut tables = Vec::new();
        for (k, word) in &m.words {
            if level == 4 && (k == "fxpdata" || k == "fxmdata") {
                tables.push((k.clone(), self.data_table(&m, k, word)?));
            } else {
                return Err(self.diag(
                    &m.loc,
                    format!(
                        "model {}: parameter {k}={word} is not a number (only level 4's \
                         fxpdata and fxmdata name files)",
                        m.name
                    ),
                ));
            }
        }
        if level == 4 {
            // Knowm's Xyce fork numbers Joglekar's model level 4, which is
            // PEM upstream: memnet follows upstream and says so.
            let fork: Vec<&str> = ["d", "uv", "p"]
                .into_iter()
                .filter(|k| m.params.contains_key(*k))
                .collect();
            if !fork.is_empty() {
                return Err(self.diag(
                    &m.loc,
                    format!(
                        "model {}: level 4 is Xyce's PEM, which has no parameter {}; Knowm's \
                         Xyce fork uses level 4 for Joglekar's model, and memnet follows \
                         upstream Xyce: write it as `.model {} memristor law=hp \
                         window=joglekar ...` (docs/device-laws.md)",
                        m.name,
                        fork.join(", "),
                        m.name
                    ),
                ));
            }
            self.default_pem_tables(&m, &mut tables)?;
        }
        if level == 5 {
            self.warn(
                "Knowm Xyce fork",
                &m.loc,
                format!(
                    "model {}: level 5 is not upstream Xyce's; memnet reads it as the \
                     metastable switch of Knowm's Xyce fork (law knowm-xyce)",
                    m.name
                ),
            );
            let (sfa, sra) = (
                all.get("sfa").copied().unwrap_or(0.0),
                all.get("sra").copied().unwrap_or(0.0),
            );
            // The two forms differ by (1 - phi)(sra - sfa), a constant.
            if all.get("phi").is_some_and(|&phi| phi < 1.0) && sfa != sra {
                self.warn(
                    "Knowm Xyce fork",
                    &m.loc,
                    format!(
                        "model {}: with phi < 1 the fork adds a Schottky current coded without \
                         the paper's -1 terms (so it is {} A at 0 V); memnet uses the paper's \
                         form, sfa (e^(sfb v) - 1) - sra (e^(-srb v) - 1)",
                        m.name,
                        (1.0 - all["phi"]) * (sfa - sra)
                    ),
                );
            }
        }
        Ok(ElementKind::Memristor(Memristor {
            dialect: MemristorDialect::Xyce {
                model: m.name,
                level,
            },
            law: None,
            params: all,
            tables,
        }))
    }

    /// `ymemristor NAME p n MODEL` whose model names one of memnet's laws
    /// (`law=hp window=biolek ...`, docs/device-laws.md): the law, its word
    /// options and the model's and instance's numbers; the solver checks
    /// them against the law's table.
    fn native_memristor(
        &mut self,
        m: &Model,
        law: &str,
        params: &[(String, Val)],
        loc: &Loc,
        name: &str,
        frame: usize,
    ) -> Result<ElementKind, Diagnostic> {
        let mut all = m.params.clone();
        for (k, v) in params {
            let x = self.finite(v, &loc.file, frame, || format!("{name} parameter {k}"))?;
            all.insert(k.clone(), x);
        }
        let mut options = Vec::new();
        let mut tables = Vec::new();
        for (k, word) in &m.words {
            match k.as_str() {
                "law" => {}
                "fxpdata" | "fxmdata" => tables.push((k.clone(), self.data_table(m, k, word)?)),
                _ => options.push((k.clone(), word.to_ascii_lowercase())),
            }
        }
        if law == "pem" {
            self.default_pem_tables(m, &mut tables)?;
        }
        Ok(ElementKind::Memristor(Memristor {
            dialect: MemristorDialect::Native {
                law: law.to_ascii_lowercase(),
                options,
            },
            law: None,
            params: all,
            tables,
        }))
    }

    /// The PEM tables model `m` does not name: Xyce's defaults
    /// (`filep.dat`, `filem.dat`), which a netlist rarely ships.
    fn default_pem_tables(
        &mut self,
        m: &Model,
        tables: &mut Vec<(String, Arc<DataTable>)>,
    ) -> Result<(), Diagnostic> {
        for (k, default) in [("fxpdata", "filep.dat"), ("fxmdata", "filem.dat")] {
            if !m.words.contains_key(k) {
                tables.push((k.to_string(), self.data_table(m, k, default)?));
            }
        }
        Ok(())
    }

    /// The time-value pairs of `PWL FILE=fname` (at `at` in the deck),
    /// read relative to the netlist that names it, as a flat list.
    fn pwl_file(&mut self, fname: &str, at: &Loc, what: &str) -> Result<Vec<f64>, Diagnostic> {
        let dir = Path::new(&*at.file).parent().unwrap_or(Path::new(""));
        let path = dir.join(fname);
        let shown = path.to_string_lossy().into_owned();
        let text = match std::fs::read(&path) {
            Ok(bytes) => crate::decode::decode(bytes).0,
            Err(e) => {
                return Err(self.diag(
                    at,
                    format!("{what}: PWL file '{shown}' cannot be read: {e}"),
                ));
            }
        };
        let points = crate::circuit::parse_pwl_file(&text).map_err(|(line, col, msg)| {
            Diagnostic::new(
                Loc::new(shown.as_str(), line, col),
                format!("{msg} (PWL file of {what})"),
            )
        })?;
        Ok(points.into_iter().flat_map(|(t, v)| [t, v]).collect())
    }

    /// The table file `word` named by parameter `key` of model `m`, read
    /// relative to the file holding the model card, once per file.
    fn data_table(
        &mut self,
        m: &Model,
        key: &str,
        word: &str,
    ) -> Result<Arc<DataTable>, Diagnostic> {
        let dir = Path::new(&*m.loc.file).parent().unwrap_or(Path::new(""));
        let path = dir.join(word);
        let shown = path.to_string_lossy().into_owned();
        if let Some(t) = self.tables.get(&shown) {
            return Ok(t.clone());
        }
        let text = match std::fs::read(&path) {
            Ok(bytes) => crate::decode::decode(bytes).0,
            Err(e) => {
                return Err(self.diag(
                    &m.loc,
                    format!(
                        "model {}: {key} table '{shown}' cannot be read: {e}",
                        m.name
                    ),
                ));
            }
        };
        let table = DataTable::parse(&shown, &text).map_err(|(line, col, msg)| {
            Diagnostic::new(
                Loc::new(shown.as_str(), line, col),
                format!("{msg} (table {key} of model {})", m.name),
            )
        })?;
        if table.blank_separated {
            self.warn(
                "table columns separated by blanks",
                &m.loc,
                format!(
                    "model {}: {key} table '{shown}' separates its columns by blanks; memnet \
                     reads it as written, Xyce misreads such files (use a comma)",
                    m.name
                ),
            );
        }
        let table = Arc::new(table);
        self.tables.insert(shown, table.clone());
        Ok(table)
    }

    /// Evaluate instance overrides in the caller's scope. Owned cards
    /// (top level) hand their key strings over instead of copying them.
    fn overrides<'a>(
        &mut self,
        params: Params<'a>,
        file: &Arc<str>,
        frame: usize,
        name: &str,
    ) -> Result<Vec<(Cow<'a, str>, f64)>, Diagnostic> {
        let mut out = Vec::with_capacity(params.len());
        let eval = |this: &mut Self, k: &str, v: &Val| -> Result<f64, Diagnostic> {
            let x = this
                .value(v, file, frame)
                .map_err(|d| Self::name_in(d, &format!("instance {name}"), file, v))?;
            if x.is_finite() {
                Ok(x)
            } else {
                let at = Self::val_loc(file, v);
                Err(this.diag(&at, format!("{name}: parameter {k} evaluates to {x}")))
            }
        };
        match params {
            Params::Shared(ps) => {
                for (k, v) in ps {
                    let x = eval(self, k, v)?;
                    out.push((Cow::Borrowed(k.as_str()), x));
                }
            }
            Params::Owned(ps) => {
                for (k, v) in ps {
                    let x = eval(self, &k, &v)?;
                    out.push((Cow::Owned(k), x));
                }
            }
        }
        Ok(out)
    }

    /// A scope for one instance of `def` (found in frame `home`).
    fn instance_frame(
        &self,
        def: &'d Subckt,
        home: usize,
        prefix: String,
        over: &[(Cow<'_, str>, f64)],
        with_locals: bool,
    ) -> Frame<'d> {
        let mut fr = Frame {
            parent: Some(home),
            prefix,
            ..Frame::default()
        };
        for p in &def.defaults {
            fr.params.insert(Cow::Borrowed(&p.name), Slot::lazy(p));
        }
        if with_locals {
            fr.fill(&def.body);
        }
        for (k, v) in over {
            fr.params.insert(Cow::Owned(k.to_string()), Slot::done(*v));
        }
        fr
    }

    fn instance(
        &mut self,
        subckt: &str,
        params: Params<'_>,
        loc: &Loc,
        name: &str,
        nodes: &[String],
        frame: usize,
    ) -> Result<Option<ElementKind>, Diagnostic> {
        let user = self
            .opts
            .memristor_subckts
            .iter()
            .find(|u| u.subckt.eq_ignore_ascii_case(subckt));
        let def = self.find_subckt(frame, subckt);
        // A user's own `.subckt memristor` is simulated as written (its body
        // compiled below); memnet's law stands in only for memnet's own
        // body, or when there is no definition.
        let own_body = subckt == "memristor"
            && user.is_none()
            && def.is_some_and(|(d, _)| !is_memnet_body(d, self.files));
        if (subckt == "memristor" && !own_body) || user.is_some() {
            if nodes.len() != 2 {
                return Err(self.diag(
                    loc,
                    format!(
                        "memristor {name} needs 2 nodes (p n), found {}",
                        nodes.len()
                    ),
                ));
            }
            return self
                .memristor(subckt, user.cloned(), def, params, loc, name, frame)
                .map(Some);
        }
        let Some((def, home)) = def else {
            return Err(self.diag(
                loc,
                format!("instance {name}: unknown subcircuit '{subckt}'"),
            ));
        };
        if self.expanding.iter().any(|s| std::ptr::eq(*s, def)) {
            let mut chain: Vec<&str> = self.expanding.iter().map(|s| s.name.as_str()).collect();
            chain.push(&def.name);
            return Err(self.diag(
                loc,
                format!(
                    "instance {name}: recursive subcircuit ({})",
                    chain.join(" -> ")
                ),
            ));
        }
        if self.expanding.len() >= MAX_NESTING {
            return Err(self.diag(
                loc,
                format!("instance {name}: subcircuits nested too deeply"),
            ));
        }
        if def.pins.len() != nodes.len() {
            return Err(self.diag(
                loc,
                format!(
                    "instance {name} has {} nodes but subcircuit '{}' has {} pins ({})",
                    nodes.len(),
                    def.name,
                    def.pins.len(),
                    def.pins.join(" ")
                ),
            ));
        }
        let over = self.overrides(params, &loc.file, frame, name)?;
        for (k, _) in &over {
            if !def.defaults.iter().any(|p| p.name == **k)
                && !def.body.params.iter().any(|p| p.name == **k)
            {
                self.warn(
                    "undeclared parameter",
                    loc,
                    format!(
                        "instance {name}: subcircuit '{}' declares no parameter '{k}'",
                        def.name
                    ),
                );
            }
        }
        self.used_subckts.insert(def as *const Subckt);
        let mut fr = self.instance_frame(def, home, format!("{name}."), &over, true);
        for (p, n) in def.pins.iter().zip(nodes) {
            fr.pins.insert(p, n.clone());
        }
        self.frames.push(fr);
        self.expanding.push(def);
        let start = self.circuit.elements.len();
        let r = self.run_body(&def.body, self.frames.len() - 1);
        self.expanding.pop();
        self.frames.pop();
        r?;
        self.body_device(def, name, nodes, start, loc)
    }

    /// [`Self::memristor`] for memnet's own device with no `.subckt` in the
    /// deck, the element of millions-of-devices netlists: the law straight
    /// from the instance's values (a later value of a key wins, as in a
    /// map), and a map only for the keys that are not the law's.
    fn canonical_memristor(
        &mut self,
        over: Vec<(Cow<'_, str>, f64)>,
        loc: &Loc,
        name: &str,
    ) -> ElementKind {
        let mut law = DEFAULTS;
        let mut extra: BTreeMap<String, f64> = BTreeMap::new();
        for (k, v) in over {
            match CANONICAL_PARAMS.iter().position(|c| *c == k) {
                Some(i) => law[i] = v,
                None => {
                    extra.insert(k.into_owned(), v);
                }
            }
        }
        for k in extra.keys() {
            self.circuit.warnings.push(Warning::new(
                "unknown memristor parameter",
                loc.clone(),
                format!("memristor {name}: unknown parameter '{k}' kept but unused"),
            ));
        }
        ElementKind::Memristor(Memristor {
            dialect: MemristorDialect::Canonical,
            law: Some(linear_law(law)),
            params: extra,
            tables: Vec::new(),
        })
    }

    /// A canonical (`memristor`) or user-declared memristor instance: the
    /// law of theory.md 1.1-1.2 with parameters from the instance, then
    /// the subcircuit's `PARAMS:` defaults, then [`DEFAULT_RON`] etc.
    #[allow(clippy::too_many_arguments)]
    fn memristor(
        &mut self,
        subckt: &str,
        user: Option<UserMemristor>,
        def: Option<(&'d Subckt, usize)>,
        params: Params<'_>,
        loc: &Loc,
        name: &str,
        frame: usize,
    ) -> Result<ElementKind, Diagnostic> {
        let over = self.overrides(params, &loc.file, frame, name)?;
        if def.is_none() && user.is_none() {
            return Ok(self.canonical_memristor(over, loc, name));
        }
        let mut all: BTreeMap<String, f64> = BTreeMap::new();
        match def {
            Some((d, home)) => {
                self.used_subckts.insert(d as *const Subckt);
                let fr = self.instance_frame(d, home, String::new(), &over, false);
                self.frames.push(fr);
                let idx = self.frames.len() - 1;
                let mut r = Ok(());
                for p in &d.defaults {
                    let at = Self::val_loc(&p.loc.file, &p.val);
                    match self.lookup(&p.name, idx, &at) {
                        Ok(v) => {
                            all.insert(p.name.clone(), v);
                        }
                        Err(e) => {
                            r = Err(e);
                            break;
                        }
                    }
                }
                self.frames.pop();
                r?;
                for (k, v) in over {
                    if !all.contains_key(&*k) {
                        self.warn(
                            "undeclared parameter",
                            loc,
                            format!(
                                "memristor {name}: subcircuit '{}' declares no parameter '{k}'",
                                d.name
                            ),
                        );
                    }
                    all.insert(k.into_owned(), v);
                }
            }
            None => {
                for (k, v) in over {
                    all.insert(k.into_owned(), v);
                }
            }
        }
        let mut law = [0.0; 5];
        match &user {
            None => {
                for (i, c) in CANONICAL_PARAMS.iter().enumerate() {
                    law[i] = match all.get(*c) {
                        Some(v) => *v,
                        None => {
                            all.insert((*c).to_string(), DEFAULTS[i]);
                            DEFAULTS[i]
                        }
                    };
                }
                // (Without a definition: `canonical_memristor`.)
            }
            Some(u) => {
                for (i, c) in CANONICAL_PARAMS.iter().enumerate() {
                    let theirs = u
                        .param_map
                        .iter()
                        .find(|(cc, _)| cc == c)
                        .map_or(*c, |(_, t)| t.as_str());
                    law[i] = match all.get(theirs) {
                        Some(v) => *v,
                        None => {
                            if theirs != *c {
                                self.warn(
"mapped parameter not found",
                                    loc,
                                    format!("memristor {name}: mapped parameter '{theirs}' (for {c}) not found; using default {c}={}", DEFAULTS[i]),
                                );
                            }
                            DEFAULTS[i]
                        }
                    };
                }
            }
        }
        if user.is_none() {
            // The law holds the five canonical values; keeping them in the map
            // too would cost ~0.4 kB per device on million-device netlists.
            // Rebuilt rather than emptied in place: an emptied BTreeMap keeps
            // its allocated root node, a collected empty one allocates nothing.
            let extra: BTreeMap<String, f64> = all
                .into_iter()
                .filter(|(k, _)| !CANONICAL_PARAMS.contains(&k.as_str()))
                .collect();
            all = extra;
        }
        let dialect = match user {
            None => MemristorDialect::Canonical,
            Some(_) => MemristorDialect::UserSubckt {
                subckt: subckt.to_string(),
            },
        };
        Ok(ElementKind::Memristor(Memristor {
            dialect,
            law: Some(linear_law(law)),
            params: all,
            tables: Vec::new(),
        }))
    }
}

/// The linear law of the canonical values, in [`CANONICAL_PARAMS`] order.
fn linear_law([ron, roff, w0, alpha, beta]: [f64; 5]) -> LinearLaw {
    LinearLaw {
        ron,
        roff,
        w0,
        alpha,
        beta,
    }
}

/// The element cards of a body, reduced to what they compute: name,
/// nodes, and the value as parsed (positions, spacing, case and comments
/// dropped). `None` for a body with anything but capacitors and B sources
/// (memnet's own body has only those) or with nested definitions.
fn body_signature(body: &Body, files: &[SourceFile]) -> Option<Vec<String>> {
    if !body.params.is_empty() || !body.funcs.is_empty() || !body.subckts.is_empty() {
        return None;
    }
    let mut sig = Vec::with_capacity(body.stmts.len());
    for s in &body.stmts {
        let parsed;
        let card = match s {
            Stmt::Element(c) => &**c,
            Stmt::Raw(r) => {
                parsed = parse_raw(files, r, &mut Vec::new()).ok()?;
                match &parsed {
                    Stmt::Element(c) => &**c,
                    _ => return None,
                }
            }
            Stmt::Model(_) | Stmt::Ic(_) => return None,
        };
        let value = match &card.spec {
            Spec::Capacitor(v, ic) => {
                format!("C {:?} {:?}", v.expr, ic.as_ref().map(|i| &i.expr))
            }
            Spec::Behavioral(text) => {
                let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                format!("B {}", t.to_ascii_lowercase())
            }
            Spec::ExprSource { voltage, val } => format!("B {voltage} {:?}", val.expr),
            _ => return None,
        };
        sig.push(format!("{} {:?} {value}", card.name, card.nodes));
    }
    Some(sig)
}

/// Whether a `.subckt memristor` is memnet's own body (the cards of
/// `fixtures/spice/memristor.lib`, compared as parsed; its `PARAMS:`
/// defaults may differ). Only then do its instances become memnet's
/// linear-law device.
fn is_memnet_body(def: &Subckt, files: &[SourceFile]) -> bool {
    static OWN: std::sync::OnceLock<Option<Vec<String>>> = std::sync::OnceLock::new();
    let own = OWN.get_or_init(|| {
        let deck = crate::parse_str(crate::export::MEMRISTOR_LIB, "memristor.lib").ok()?;
        let s = deck.body.subckts.iter().find(|s| s.name == "memristor")?;
        body_signature(&s.body, &deck.files)
    });
    def.pins.len() == 2
        && own
            .as_ref()
            .is_some_and(|own| body_signature(&def.body, files).as_ref() == Some(own))
}

/// ngspice's breakdown knee (diotemp.c): the voltage bv' at which the
/// reverse current -csat exp(-(bv' + v) / (nbv vt)) reaches ibv, found by
/// its fixed-point iteration (at most 25 steps, to ngspice's default
/// reltol 1e-3 of ibv); bv itself when ibv is below csat bv / vt.
fn breakdown_knee(bv: f64, ibv: f64, csat: f64, vt: f64, nbv: f64) -> f64 {
    if ibv < csat * bv / vt {
        return bv;
    }
    let tol = 1e-3 * ibv;
    let mut xbv = bv - nbv * vt * (1.0 + ibv / csat).ln();
    for _ in 0..25 {
        xbv = bv - nbv * vt * (ibv / csat + 1.0 - xbv / vt).ln();
        let xcbv = csat * (((bv - xbv) / (nbv * vt)).exp() - 1.0 + xbv / vt);
        if (xcbv - ibv).abs() <= tol {
            break;
        }
    }
    xbv
}
