//! Writers for a flat [`Circuit`]: a canonical-dialect netlist that memnet
//! (and ngspice, given `memristor.lib`) reads back, and a self-contained
//! ngspice deck that simulates the circuit and writes the memristor states
//! to a raw file.
//!
//! Numbers are written with Rust's `{:e}`, the shortest text that parses
//! back to the same `f64`, so export -> import is exact. Output is streamed
//! straight into the writer (wrap files in a `BufWriter`): generated
//! networks have millions of elements.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use crate::circuit::{
    Analysis, BodyElement, Circuit, DataTable, Element, ElementKind, GROUND, Loc, Memristor,
    MemristorBody, MemristorDialect, Sets, Source, TranTimes, Waveform,
};
use crate::expr::{BinOp, Expr, UnOp};

/// The canonical memristor subcircuit for ngspice (theory.md 1.1-1.2), the
/// same text as `fixtures/spice/memristor.lib`.
pub const MEMRISTOR_LIB: &str = include_str!("../../../fixtures/spice/memristor.lib");

/// Why a circuit cannot be written.
#[derive(Debug)]
pub enum ExportError {
    /// An element this dialect cannot express.
    Unsupported {
        element: String,
        kind: String,
        loc: Loc,
        reason: String,
    },
    /// A value that has no SPICE spelling (NaN, infinity) or a malformed element.
    Invalid {
        element: String,
        loc: Loc,
        reason: String,
    },
    /// Bad export options (not tied to an element).
    Options(String),
    Io(io::Error),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::Unsupported {
                element,
                kind,
                loc,
                reason,
            } => write!(f, "{loc}: cannot export {kind} `{element}`: {reason}"),
            ExportError::Invalid {
                element,
                loc,
                reason,
            } => write!(f, "{loc}: cannot export `{element}`: {reason}"),
            ExportError::Options(m) => write!(f, "invalid export options: {m}"),
            ExportError::Io(e) => write!(f, "write failed: {e}"),
        }
    }
}

impl std::error::Error for ExportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExportError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for ExportError {
    fn from(e: io::Error) -> Self {
        ExportError::Io(e)
    }
}

/// A number in shortest round-trip form: Rust's `{}` and `{:e}` both print
/// the shortest digits that parse back exactly; plain notation reads better
/// for everyday magnitudes (`16000`, `0.5`), exponents for the rest (`1e-12`).
struct Num(f64);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.0.abs();
        if a == 0.0 || (1e-3..1e7).contains(&a) {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{:e}", self.0)
        }
    }
}

/// The SPICE letter of an element kind (`b` for behavioural sources);
/// `None` for an unsupported element, whose name stays as it is.
fn kind_letter(kind: &ElementKind) -> Option<char> {
    Some(match kind {
        ElementKind::Resistor { .. } | ElementKind::ExprResistor { .. } => 'r',
        ElementKind::Capacitor { .. } | ElementKind::ExprCapacitor { .. } => 'c',
        ElementKind::Inductor { .. } => 'l',
        ElementKind::VoltageSource(_) => 'v',
        ElementKind::CurrentSource(_) => 'i',
        ElementKind::Vcvs { .. } => 'e',
        ElementKind::Vccs { .. } => 'g',
        ElementKind::Behavioral { .. } | ElementKind::ExprSource { .. } => 'b',
        ElementKind::Memristor(_) => 'x',
        ElementKind::Unsupported { .. } => return None,
    })
}

/// The name ngspice must see for an element: SPICE picks the device type
/// from the first letter, so a flattened `x1.r3` becomes `r.x1.r3` (the
/// way ngspice names expanded devices) while `x1.xm2` stays as is.
pub fn spice_name(el: &Element) -> Cow<'_, str> {
    if let ElementKind::Memristor(_) = el.kind {
        return match memristor_instance(&el.name) {
            n if n == el.name => Cow::Borrowed(&el.name),
            n => Cow::Owned(n),
        };
    }
    let Some(letter) = kind_letter(&el.kind) else {
        return Cow::Borrowed(&el.name);
    };
    if el
        .name
        .chars()
        .next()
        .is_some_and(|c| c.eq_ignore_ascii_case(&letter))
    {
        Cow::Borrowed(&el.name)
    } else {
        Cow::Owned(format!("{letter}.{}", el.name))
    }
}

/// The ngspice instance name of memristor `name` in an exported deck: an
/// `x` first (subcircuit instance), and Xyce's `!` (`ymemristor!m1`)
/// spelt `_`, which ngspice's parser accepts everywhere.
pub fn memristor_instance(name: &str) -> String {
    let n = name.replace('!', "_");
    if n.starts_with(['x', 'X']) {
        n
    } else {
        format!("x.{n}")
    }
}

/// A memristor of one of memnet's other laws as an ngspice subcircuit
/// instance: the subcircuit's name and text, and the instance's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct NativeInstance {
    pub subckt: String,
    /// The whole `.subckt ... .ends` text (written once per name).
    pub body: String,
    pub params: Vec<(String, f64)>,
}

/// Writes memnet's other laws for ngspice (the solver knows them:
/// `memnet_solver::device::ngspice::NgspiceBodies`).
pub trait NativeExport {
    /// The instance of memristor `m` (a [`MemristorDialect::Native`]
    /// device), or why its law cannot be written.
    fn instance(&self, m: &Memristor) -> Result<NativeInstance, String>;
}

/// Refuses every native law (the spice crate alone does not know them).
struct NoNative;

impl NativeExport for NoNative {
    fn instance(&self, _m: &Memristor) -> Result<NativeInstance, String> {
        Err("memnet's other laws are written by memnet_solver::device::ngspice".into())
    }
}

/// The ngspice vector holding a memristor's state w in an exported deck:
/// `v(<instance>.w)`, e.g. `v(xm1.w)`, `v(x1.xm2.w)`.
pub fn state_vector(el: &Element) -> String {
    format!("v({}.w)", spice_name(el))
}

/// Options of [`write_canonical_with`].
#[derive(Clone, Debug, Default)]
pub struct CanonicalOptions {
    /// Write `.include <path>` (e.g. a path to `memristor.lib`) so that
    /// ngspice can run the netlist directly. memnet does not need it.
    pub include: Option<String>,
}

/// Writes the canonical-dialect netlist of `c` (no `.include`).
pub fn write_canonical(c: &Circuit, out: &mut impl Write) -> Result<(), ExportError> {
    write_canonical_with(c, &CanonicalOptions::default(), out)
}

/// Writes the canonical-dialect netlist: title, elements (R, C, L, V/I with
/// DC/PULSE/SIN/PWL, E/G gains, memristors as `X<name> p n memristor
/// ron=.. roff=.. w0=.. alpha=.. beta=..`), `.ic`, `.options`, analyses,
/// `.end`. `.model` cards and `.control` blocks are not written.
pub fn write_canonical_with(
    c: &Circuit,
    opts: &CanonicalOptions,
    out: &mut impl Write,
) -> Result<(), ExportError> {
    // The whole circuit is a frame with nothing more to stream.
    write_canonical_streamed(c, opts, |_| Ok(()), out)
}

/// [`write_canonical_with`] for a circuit too large to hold twice: `frame`
/// gives the title, analyses, options and `.ic` (and any elements of its
/// own, written first), and `elements` hands over the rest one at a time
/// by calling its argument once per element, in order. The text is the
/// one [`write_canonical_with`] writes for the whole circuit. Devices of
/// memnet's other laws are refused: their `.model` cards depend on every
/// device, so they need the whole circuit.
pub fn write_canonical_streamed<W: Write>(
    frame: &Circuit,
    opts: &CanonicalOptions,
    elements: impl FnOnce(
        &mut dyn FnMut(&Element) -> Result<(), ExportError>,
    ) -> Result<(), ExportError>,
    out: &mut W,
) -> Result<(), ExportError> {
    let native = NativeModels::of(frame);
    let times = write_head(frame, opts, &native, out)?;
    for (k, el) in frame.elements.iter().enumerate() {
        write_canonical_element(el, native.instance(k), times, out)?;
    }
    elements(&mut |el: &Element| {
        if let ElementKind::Memristor(Memristor {
            dialect: MemristorDialect::Native { law, .. },
            ..
        }) = &el.kind
        {
            return Err(ExportError::Unsupported {
                element: el.name.clone(),
                kind: el.kind_name().into(),
                loc: el.loc.clone(),
                reason: format!(
                    "a device of law `{law}` needs its model card, which a streamed write \
                     cannot know in advance"
                ),
            });
        }
        write_canonical_element(el, None, times, out)
    })?;
    write_tail(frame, out)
}

/// Title, `.include` and the `.model` cards of memnet's other laws; the
/// source defaults the elements are written with.
fn write_head(
    c: &Circuit,
    opts: &CanonicalOptions,
    native: &NativeModels<'_>,
    out: &mut impl Write,
) -> Result<Defaults, ExportError> {
    write_title(c, out)?;
    if let Some(path) = &opts.include {
        writeln!(out, ".include {path}")?;
    }
    native.write_cards(out)?;
    Ok(Defaults {
        times: tran_times(c),
        explicit: false,
    })
}

/// One element line; `native` is its model card and own parameters when
/// it is a device of memnet's other laws.
fn write_canonical_element(
    el: &Element,
    native: Option<(&str, &[(&str, f64)])>,
    times: Defaults,
    out: &mut impl Write,
) -> Result<(), ExportError> {
    match native {
        Some((model, params)) => {
            // `ymemristor NAME p n MODEL ...` names the element
            // `ymemristor!NAME`; a name that already is one keeps it.
            let short = el.name.strip_prefix("ymemristor!").unwrap_or(&el.name);
            write!(
                out,
                "ymemristor {short} {} {} {model}",
                el.nodes[0], el.nodes[1]
            )?;
            for (k, v) in params {
                write!(out, " {k}={}", finite(el, k, *v)?)?;
            }
            writeln!(out)?;
            Ok(())
        }
        None => write_element(el, times, out),
    }
}

/// `.ic`, `.options`, the analyses and `.end`.
fn write_tail(c: &Circuit, out: &mut impl Write) -> Result<(), ExportError> {
    write_ics(c, out)?;
    for (k, v) in &c.options {
        if v.is_empty() {
            writeln!(out, ".options {k}")?;
        } else {
            writeln!(out, ".options {k}={v}")?;
        }
    }
    for a in &c.analyses {
        match a {
            Analysis::Tran {
                tstep,
                tstop,
                tstart,
                tmax,
                uic,
                ..
            } => {
                write!(out, ".tran {} {}", Num(*tstep), Num(*tstop))?;
                if *tstart != 0.0 || tmax.is_some() {
                    write!(out, " {}", Num(*tstart))?;
                }
                if let Some(m) = tmax {
                    write!(out, " {}", Num(*m))?;
                }
                if *uic {
                    write!(out, " uic")?;
                }
                writeln!(out)?;
            }
            Analysis::Op { .. } => writeln!(out, ".op")?,
            Analysis::Dc { text, .. } => writeln!(out, ".dc {text}")?,
            Analysis::Ac { text, .. } => writeln!(out, ".ac {text}")?,
        }
    }
    writeln!(out, ".end")?;
    Ok(())
}

/// The `.model` cards of a circuit's devices with memnet's other laws
/// (docs/device-laws.md): one card per law, word options and tables; the
/// parameters every device of the card shares go on the card, the others
/// on each device's line.
struct NativeModels<'c> {
    /// (model name, law, options, tables, shared parameters).
    cards: Vec<NativeCard<'c>>,
    /// Per element: its card and its own parameters.
    devices: std::collections::HashMap<usize, (usize, Params<'c>)>,
}

/// Parameters written on a line: name and value.
type Params<'c> = Vec<(&'c str, f64)>;

struct NativeCard<'c> {
    name: String,
    /// An element of the card (for messages).
    first: &'c Element,
    law: &'c str,
    options: &'c [(String, String)],
    tables: Vec<(&'c str, &'c Arc<DataTable>)>,
    shared: Vec<(&'c str, f64)>,
}

impl<'c> NativeModels<'c> {
    fn of(c: &'c Circuit) -> NativeModels<'c> {
        let mut cards: Vec<NativeCard<'c>> = Vec::new();
        let mut members: Vec<Vec<usize>> = Vec::new();
        for (k, el) in c.elements.iter().enumerate() {
            let ElementKind::Memristor(m) = &el.kind else {
                continue;
            };
            let MemristorDialect::Native { law, options } = &m.dialect else {
                continue;
            };
            // A model's devices share their tables (one `Arc` per file).
            let same_tables = |c: &NativeCard<'_>| {
                c.tables.len() == m.tables.len()
                    && c.tables
                        .iter()
                        .zip(&m.tables)
                        .all(|((ka, a), (kb, b))| *ka == kb && Arc::ptr_eq(a, b))
            };
            let j = match cards
                .iter()
                .position(|c| c.law == law && c.options == &options[..] && same_tables(c))
            {
                Some(j) => j,
                None => {
                    cards.push(NativeCard {
                        name: format!("memnet_{law}_{}", cards.len()),
                        first: el,
                        law,
                        options,
                        tables: m.tables.iter().map(|(k, t)| (k.as_str(), t)).collect(),
                        shared: Vec::new(),
                    });
                    members.push(Vec::new());
                    cards.len() - 1
                }
            };
            members[j].push(k);
        }
        let params = |k: usize| match &c.elements[k].kind {
            ElementKind::Memristor(m) => &m.params,
            _ => unreachable!("members are memristors"),
        };
        let mut devices = std::collections::HashMap::new();
        for (j, card) in cards.iter_mut().enumerate() {
            let first = params(members[j][0]);
            card.shared = first
                .iter()
                .filter(|(key, v)| {
                    members[j].iter().all(|&k| {
                        params(k)
                            .get(*key)
                            .is_some_and(|u| u.to_bits() == v.to_bits())
                    })
                })
                .map(|(key, v)| (key.as_str(), *v))
                .collect();
            for &k in &members[j] {
                let own: Vec<(&str, f64)> = params(k)
                    .iter()
                    .filter(|(key, _)| !card.shared.iter().any(|(s, _)| s == key))
                    .map(|(key, v)| (key.as_str(), *v))
                    .collect();
                devices.insert(k, (j, own));
            }
        }
        NativeModels { cards, devices }
    }

    fn instance(&self, k: usize) -> Option<(&str, &[(&'c str, f64)])> {
        let (j, own) = self.devices.get(&k)?;
        Some((self.cards[*j].name.as_str(), own))
    }

    fn write_cards(&self, out: &mut impl Write) -> Result<(), ExportError> {
        for c in &self.cards {
            write!(out, ".model {} memristor law={}", c.name, c.law)?;
            for (k, v) in c.options {
                write!(out, " {k}={v}")?;
            }
            for (k, t) in &c.tables {
                // The absolute path, so the netlist reads the table from
                // wherever it is written (once per card, not per device).
                let path = std::fs::canonicalize(&t.path)
                    .map_or_else(|_| t.path.clone(), |p| p.to_string_lossy().into_owned());
                write!(out, " {k}=\"{path}\"")?;
            }
            for (k, v) in &c.shared {
                write!(out, " {k}={}", finite(c.first, k, *v)?)?;
            }
            writeln!(out)?;
        }
        Ok(())
    }
}

/// Options of [`write_ngspice_deck`].
#[derive(Clone, Debug)]
pub struct DeckOptions {
    /// Stop time of the transient run.
    pub t_end: f64,
    /// `tran` step (print step); also the maximum internal step unless
    /// `max_step` is given.
    pub sample_dt: f64,
    /// Maximum internal time step. The accuracy of w is set by it, about
    /// 3e-3 * max_step^2 on theory.md E1/E2 (docs/ngspice.md).
    pub max_step: Option<f64>,
    /// Where the deck's `write` puts the raw file (as ngspice should see it).
    pub raw_path: String,
    /// ASCII raw file instead of binary.
    pub ascii: bool,
    pub reltol: f64,
    pub abstol: f64,
    pub vntol: f64,
    /// Extra vectors to write besides the states (e.g. `i(v1)`).
    pub extra_vectors: Vec<String>,
}

impl DeckOptions {
    /// The options for exporting `circuit` with the caller's choices
    /// filled in from its `.tran` card: the stop time (required from one
    /// or the other), the print step (else t_end/100) and the raw file
    /// (else `out` with extension `.raw`). Option names in messages are
    /// spelt in `style`. Shared by `memnet export` and Python's
    /// `Network.export_ngspice`.
    pub fn for_circuit(
        circuit: &Circuit,
        out: &std::path::Path,
        t_end: Option<f64>,
        sample_dt: Option<f64>,
        max_step: Option<f64>,
        raw_path: Option<String>,
        style: crate::OptionStyle,
    ) -> Result<DeckOptions, String> {
        let tran = circuit.tran().and_then(|t| match t {
            crate::Analysis::Tran { tstep, tstop, .. } => Some((*tstep, *tstop)),
            _ => None,
        });
        let t_end = t_end.or(tran.map(|t| t.1)).ok_or_else(|| {
            format!(
                "no stop time: give {} or put a `.tran` card in the netlist",
                style.spell("t_end")
            )
        })?;
        let sample_dt = sample_dt
            .or(tran.map(|t| t.0).filter(|s| *s > 0.0 && *s <= t_end))
            .unwrap_or(t_end / 100.0);
        let raw_path = raw_path.unwrap_or_else(|| out.with_extension("raw").display().to_string());
        Ok(DeckOptions {
            t_end,
            sample_dt,
            max_step,
            raw_path,
            ..DeckOptions::default()
        })
    }
}

impl Default for DeckOptions {
    /// reltol 1e-6, abstol 1e-12, vntol 1e-9: tight enough that the step
    /// bound, not the tolerances, limits accuracy (measured, docs/ngspice.md).
    fn default() -> Self {
        DeckOptions {
            t_end: 1.0,
            sample_dt: 1e-3,
            max_step: None,
            raw_path: "memnet.raw".to_string(),
            ascii: false,
            reltol: 1e-6,
            abstol: 1e-12,
            vntol: 1e-9,
            extra_vectors: Vec::new(),
        }
    }
}

/// Writes a self-contained ngspice deck of `c`: the memristor subcircuit
/// inline ([`MEMRISTOR_LIB`]), the elements, initial states through each
/// instance's `w0` (the state capacitor's `IC=`, used with `uic`; this is
/// much faster in ngspice than `.ic` over thousands of nodes), accuracy
/// options, `.save` of every state `v(<inst>.w)`, and a `.control` block that
/// runs `tran sample_dt t_end 0 max_step uic`, writes the raw file and ends
/// in `quit` (without it `ngspice -b` exits with status 1).
///
/// The circuit's own `.tran`, `.options` and `.control` are replaced by
/// the deck's. Note: ngspice 39 with `uic` writes no row at t = 0.
pub fn write_ngspice_deck(
    c: &Circuit,
    opts: &DeckOptions,
    out: &mut impl Write,
) -> Result<(), ExportError> {
    write_ngspice_deck_with(c, opts, &NoNative, out)
}

/// [`write_ngspice_deck`], with devices of memnet's other laws written by
/// `native` as behavioural subcircuits; their states are
/// `v(<instance>.w)` too, in each law's own variable.
pub fn write_ngspice_deck_with(
    c: &Circuit,
    opts: &DeckOptions,
    native: &dyn NativeExport,
    out: &mut impl Write,
) -> Result<(), ExportError> {
    let max_step = opts.max_step.unwrap_or(opts.sample_dt);
    for (what, v) in [
        ("t_end", opts.t_end),
        ("sample_dt", opts.sample_dt),
        ("max_step", max_step),
        ("reltol", opts.reltol),
        ("abstol", opts.abstol),
        ("vntol", opts.vntol),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(ExportError::Options(format!(
                "{what} must be finite and > 0, got {v}"
            )));
        }
    }
    if opts.sample_dt > opts.t_end {
        return Err(ExportError::Options(format!(
            "sample_dt {} exceeds t_end {}",
            opts.sample_dt, opts.t_end
        )));
    }
    // ngspice's `write` takes the path as one whitespace-separated word.
    if opts.raw_path.is_empty() || opts.raw_path.contains(char::is_whitespace) {
        return Err(ExportError::Options(format!(
            "raw_path `{}` must be non-empty and contain no whitespace (ngspice `write` splits on it)",
            opts.raw_path
        )));
    }
    let times = Defaults {
        times: tran_times(c).or(Some(TranTimes {
            tstep: opts.sample_dt,
            tstop: opts.t_end,
        })),
        explicit: true,
    };
    write_title(c, out)?;
    writeln!(
        out,
        "* ngspice deck written by memnet; states w are v(<instance>.w)"
    )?;
    writeln!(
        out,
        ".options reltol={} abstol={} vntol={}",
        Num(opts.reltol),
        Num(opts.abstol),
        Num(opts.vntol)
    )?;
    out.write_all(MEMRISTOR_LIB.as_bytes())?;
    if !MEMRISTOR_LIB.ends_with('\n') {
        writeln!(out)?;
    }
    let mut bodies: Vec<String> = Vec::new();
    // Users' subcircuits: one exported definition per compiled body.
    let mut user_bodies: Vec<(*const MemristorBody, String, Vec<String>)> = Vec::new();
    for el in &c.elements {
        match &el.kind {
            ElementKind::Memristor(m) if matches!(m.dialect, MemristorDialect::Body { .. }) => {
                let MemristorDialect::Body { body, ic } = &m.dialect else {
                    continue;
                };
                let key = Arc::as_ptr(body);
                let k = match user_bodies.iter().position(|b| b.0 == key) {
                    Some(k) => k,
                    None => {
                        // A static diode's body is named `(diode)`.
                        let stem: String = body
                            .subckt
                            .chars()
                            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect();
                        let name = format!("{stem}_memnet{}", user_bodies.len());
                        let mut text = Vec::new();
                        let params = write_body_subckt(body, &name, times, &mut text)
                            .map_err(|reason| unsupported(el, reason))?;
                        out.write_all(&text)?;
                        user_bodies.push((key, name, params));
                        user_bodies.len() - 1
                    }
                };
                let (_, name, params) = &user_bodies[k];
                write!(out, "{}", spice_name(el))?;
                for n in &el.nodes {
                    write!(out, " {n}")?;
                }
                write!(out, " {name}")?;
                for (p, v) in params.iter().zip(ic) {
                    write!(out, " {p}={}", finite(el, p, v.unwrap_or(0.0))?)?;
                }
                writeln!(out)?;
            }
            ElementKind::Memristor(m) if matches!(m.dialect, MemristorDialect::Native { .. }) => {
                let inst = native
                    .instance(m)
                    .map_err(|reason| unsupported(el, reason))?;
                if !bodies.contains(&inst.subckt) {
                    out.write_all(inst.body.as_bytes())?;
                    bodies.push(inst.subckt.clone());
                }
                write!(
                    out,
                    "{} {} {} {}",
                    spice_name(el),
                    el.nodes[0],
                    el.nodes[1],
                    inst.subckt
                )?;
                for (k, v) in &inst.params {
                    write!(out, " {k}={}", finite(el, k, *v)?)?;
                }
                writeln!(out)?;
            }
            _ => write_element(el, times, out)?,
        }
    }
    write_floating_grounds(c, out)?;
    write_ics(c, out)?;
    // Netlist `.save` lines (one per state) keep ngspice's memory to the
    // states and avoid one enormous control line.
    let mut n_states = 0usize;
    for el in &c.elements {
        let stateless = el.kind.is_static_device();
        if matches!(el.kind, ElementKind::Memristor(_)) && !stateless {
            writeln!(out, ".save {}", state_vector(el))?;
            n_states += 1;
        }
    }
    for v in &opts.extra_vectors {
        writeln!(out, ".save {v}")?;
    }
    if n_states == 0 && opts.extra_vectors.is_empty() {
        // Nothing to save would make ngspice save every node.
        return Err(ExportError::Options(
            "the circuit has no memristor and no extra vector to write".into(),
        ));
    }
    writeln!(out, ".control")?;
    writeln!(
        out,
        "set filetype={}",
        if opts.ascii { "ascii" } else { "binary" }
    )?;
    writeln!(
        out,
        "tran {} {} 0 {} uic",
        Num(opts.sample_dt),
        Num(opts.t_end),
        Num(max_step)
    )?;
    writeln!(out, "write {}", opts.raw_path)?;
    writeln!(out, "quit")?;
    writeln!(out, ".endc")?;
    writeln!(out, ".end")?;
    Ok(())
}

/// Ties each connected component without a ground node to ground through a
/// 0 V source at one of its nodes.
///
/// memnet grounds every component itself (a floating component is not an
/// error); ngspice needs a DC path from every node to node 0, and the
/// memristor body's state node gives none (its B sources are current
/// sources). A single connection between a component and ground carries no
/// current (KCL on the component), so this changes no voltage difference
/// and no w; it only fixes the component's potential reference.
fn write_floating_grounds(c: &Circuit, out: &mut impl Write) -> io::Result<()> {
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut parent: Vec<usize> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for el in &c.elements {
        let mut first = None;
        for n in &el.nodes {
            let id = *index.entry(n.as_str()).or_insert_with(|| {
                parent.push(parent.len());
                names.push(n.as_str());
                parent.len() - 1
            });
            match first {
                None => first = Some(id),
                Some(f) => {
                    let (a, b) = (find(&mut parent, f), find(&mut parent, id));
                    parent[a] = b;
                }
            }
        }
    }
    let ground_root = index.get(GROUND).map(|&g| find(&mut parent, g));
    let mut seen = std::collections::HashSet::new();
    for (id, name) in names.iter().enumerate() {
        let r = find(&mut parent, id);
        if Some(r) != ground_root && seen.insert(r) {
            writeln!(
                out,
                "* component of node {name} has no ground: reference it (carries no current)"
            )?;
            writeln!(out, "vmemnet_gnd{} {name} 0 DC 0", seen.len())?;
        }
    }
    Ok(())
}

/// How to write waveform fields left to ngspice's defaults.
#[derive(Clone, Copy)]
struct Defaults {
    /// The `.tran` times the defaults derive from (memnet's meaning).
    times: Option<TranTimes>,
    /// Write every default as an explicit number (decks: their own `tran`
    /// step may differ from the circuit's, which memnet's defaults follow).
    explicit: bool,
}

fn tran_times(c: &Circuit) -> Option<TranTimes> {
    match c.tran() {
        Some(Analysis::Tran { tstep, tstop, .. }) => Some(TranTimes {
            tstep: *tstep,
            tstop: *tstop,
        }),
        _ => None,
    }
}

fn write_title(c: &Circuit, out: &mut impl Write) -> io::Result<()> {
    let title = c.title.replace(['\n', '\r'], " ");
    let title = title.trim();
    // The first line is always the title: never let it look like a card.
    if title.is_empty() {
        writeln!(out, "memnet circuit")
    } else {
        writeln!(out, "{title}")
    }
}

fn write_ics(c: &Circuit, out: &mut impl Write) -> Result<(), ExportError> {
    for (node, v) in &c.initial_conditions {
        if !v.is_finite() {
            return Err(ExportError::Options(format!(
                ".ic v({node}) = {v} is not a finite number"
            )));
        }
        writeln!(out, ".ic v({node})={}", Num(*v))?;
    }
    Ok(())
}

fn invalid(el: &Element, reason: impl Into<String>) -> ExportError {
    ExportError::Invalid {
        element: el.name.clone(),
        loc: el.loc.clone(),
        reason: reason.into(),
    }
}

fn unsupported(el: &Element, reason: impl Into<String>) -> ExportError {
    let kind = match &el.kind {
        ElementKind::Unsupported { what, .. } => what.clone(),
        k => k.name().to_string(),
    };
    ExportError::Unsupported {
        element: el.name.clone(),
        kind,
        loc: el.loc.clone(),
        reason: reason.into(),
    }
}

fn finite(el: &Element, what: &str, v: f64) -> Result<Num, ExportError> {
    if v.is_finite() {
        Ok(Num(v))
    } else {
        Err(invalid(el, format!("{what} = {v} is not a finite number")))
    }
}

fn write_element(el: &Element, times: Defaults, out: &mut impl Write) -> Result<(), ExportError> {
    let want_nodes = match el.kind {
        ElementKind::Vcvs { .. } | ElementKind::Vccs { .. } => 4,
        _ => 2,
    };
    if !matches!(el.kind, ElementKind::Unsupported { .. }) && el.nodes.len() != want_nodes {
        return Err(invalid(
            el,
            format!("has {} nodes, expected {want_nodes}", el.nodes.len()),
        ));
    }
    let name = spice_name(el);
    match &el.kind {
        ElementKind::Resistor { resistance } => {
            let r = finite(el, "resistance", *resistance)?;
            writeln!(out, "{name} {} {} {r}", el.nodes[0], el.nodes[1])?;
        }
        ElementKind::Capacitor { capacitance, ic }
        | ElementKind::Inductor {
            inductance: capacitance,
            ic,
        } => {
            let v = finite(el, "value", *capacitance)?;
            write!(out, "{name} {} {} {v}", el.nodes[0], el.nodes[1])?;
            if let Some(ic) = ic {
                write!(out, " IC={}", finite(el, "IC", *ic)?)?;
            }
            writeln!(out)?;
        }
        ElementKind::VoltageSource(s) | ElementKind::CurrentSource(s) => {
            write!(out, "{name} {} {}", el.nodes[0], el.nodes[1])?;
            write_source(el, s, times, out)?;
            writeln!(out)?;
        }
        ElementKind::Vcvs { gain: g }
        | ElementKind::Vccs {
            transconductance: g,
        } => {
            let g = finite(el, "gain", *g)?;
            writeln!(
                out,
                "{name} {} {} {} {} {g}",
                el.nodes[0], el.nodes[1], el.nodes[2], el.nodes[3]
            )?;
        }
        ElementKind::Memristor(m) => {
            let Some(law) = &m.law else {
                return Err(unsupported(
                    el,
                    "this memristor's model (Xyce, XSPICE or a user subcircuit) is not written back: memnet exports its linear law and, for ngspice, the smooth laws of docs/device-laws.md",
                ));
            };
            write!(out, "{name} {} {} memristor", el.nodes[0], el.nodes[1])?;
            for (k, v) in [
                ("ron", law.ron),
                ("roff", law.roff),
                ("w0", law.w0),
                ("alpha", law.alpha),
                ("beta", law.beta),
            ] {
                write!(out, " {k}={}", finite(el, k, v)?)?;
            }
            writeln!(out)?;
        }
        ElementKind::Behavioral { .. } => {
            return Err(unsupported(
                el,
                "behavioural sources are not exported (memnet keeps only their expression text)",
            ));
        }
        ElementKind::ExprSource { .. }
        | ElementKind::ExprResistor { .. }
        | ElementKind::ExprCapacitor { .. } => {
            return Err(unsupported(
                el,
                "behavioural elements outside a memristor body are not exported",
            ));
        }
        ElementKind::Unsupported { .. } => {
            return Err(unsupported(el, "memnet does not model this element"));
        }
    }
    Ok(())
}

/// ` DC v [PULSE(...)|SIN(...)|PWL(...) ...]`, ngspice syntax. Fields the
/// netlist left to ngspice's defaults are written out only when a later
/// field forces it, with the defaults of [`Waveform::value`].
fn write_source(
    el: &Element,
    s: &Source,
    defaults: Defaults,
    out: &mut impl Write,
) -> Result<(), ExportError> {
    write!(out, " DC {}", finite(el, "DC value", s.dc)?)?;
    let need_times = |field: &str| {
        defaults.times.ok_or_else(|| {
            invalid(
                el,
                format!(
                    "{field} is left to its default, which depends on .tran, and there is none"
                ),
            )
        })
    };
    match &s.waveform {
        Waveform::Dc(v) => {
            // The waveform is the constant: if it disagrees with `dc` the
            // transient value wins, as for ngspice's `DC` + transient spec.
            if v.to_bits() != s.dc.to_bits() {
                write!(out, " PWL(0 {v} 1 {v})", v = finite(el, "value", *v)?)?;
            }
        }
        Waveform::Pulse {
            v1,
            v2,
            td,
            tr,
            tf,
            pw,
            per,
            np,
        } => {
            let mut fields: Vec<Option<f64>> =
                vec![Some(*v1), Some(*v2), Some(*td), *tr, *tf, *pw, *per];
            if let Some(n) = np {
                fields.push(Some(f64::from(*n)));
            }
            let last = if defaults.explicit {
                fields.len() - 1
            } else {
                fields.iter().rposition(Option::is_some).unwrap_or(0)
            };
            write!(out, " PULSE(")?;
            for (i, f) in fields.iter().take(last + 1).enumerate() {
                // Defaults as in `Waveform::value`: tr, tf <= 0 mean tstep,
                // per <= 0 means tstop, a missing pw means tstop.
                let v = match (i, f) {
                    (3 | 4, Some(v)) if *v <= 0.0 && defaults.explicit => {
                        need_times("PULSE rise/fall")?.tstep
                    }
                    (6, Some(v)) if *v <= 0.0 && defaults.explicit => {
                        need_times("PULSE period")?.tstop
                    }
                    (_, Some(v)) => *v,
                    (3 | 4, None) if defaults.explicit => need_times("PULSE rise/fall")?.tstep,
                    (6, None) if defaults.explicit => need_times("PULSE period")?.tstop,
                    // ngspice, like memnet, reads 0 as "use the default".
                    (3 | 4 | 6, None) => 0.0,
                    (_, None) => need_times("PULSE width")?.tstop,
                };
                if i > 0 {
                    write!(out, " ")?;
                }
                write!(out, "{}", finite(el, "PULSE field", v)?)?;
            }
            write!(out, ")")?;
        }
        Waveform::Sin {
            vo,
            va,
            freq,
            td,
            theta,
            phase,
        } => {
            write!(
                out,
                " SIN({} {}",
                finite(el, "SIN offset", *vo)?,
                finite(el, "SIN amplitude", *va)?
            )?;
            let rest_default = *td == 0.0 && *theta == 0.0 && *phase == 0.0 && !defaults.explicit;
            let freq = match freq {
                Some(f) => Some(*f),
                None if rest_default => None,
                None => Some(1.0 / need_times("SIN frequency")?.tstop),
            };
            if let Some(f) = freq {
                write!(out, " {}", finite(el, "SIN frequency", f)?)?;
                if !rest_default {
                    write!(
                        out,
                        " {} {} {}",
                        finite(el, "SIN delay", *td)?,
                        finite(el, "SIN damping", *theta)?,
                        finite(el, "SIN phase", *phase)?
                    )?;
                }
            }
            write!(out, ")")?;
        }
        Waveform::Pwl {
            points,
            repeat_from,
            delay,
        } => {
            if points.is_empty() {
                return Err(invalid(el, "PWL without points"));
            }
            write!(out, " PWL(")?;
            for (i, (t, v)) in points.iter().enumerate() {
                if i > 0 {
                    write!(out, " ")?;
                }
                write!(
                    out,
                    "{} {}",
                    finite(el, "PWL time", *t)?,
                    finite(el, "PWL value", *v)?
                )?;
            }
            write!(out, ")")?;
            if let Some(r) = repeat_from {
                write!(out, " r={}", finite(el, "PWL r", *r)?)?;
            }
            if *delay != 0.0 {
                write!(out, " td={}", finite(el, "PWL td", *delay)?)?;
            }
        }
    }
    Ok(())
}

/// The ngspice text of expression `e` inside an exported body: memnet's
/// functions that ngspice 39's B sources lack written with those it has
/// (`stp` as `u`, `limit` and `hypot` spelt out, `int` and `round` by
/// floor and ceil), `i()` of renamed elements renamed. `sdt()`/`idt()`,
/// `atan2` and `%` have no ngspice form here: an error naming them.
fn ngspice_expr(
    e: &Expr,
    rename: &dyn Fn(&str) -> Option<String>,
    integrals: &[Expr],
) -> Result<String, String> {
    let w = |x: &Expr| ngspice_expr(x, rename, integrals);
    Ok(match e {
        Expr::Num(_) | Expr::Var(_) => e.to_string(),
        Expr::Unary(UnOp::Neg, a) => format!("(-{})", w(a)?),
        Expr::Unary(UnOp::Not, a) => format!("(!{})", w(a)?),
        Expr::Binary(BinOp::Mod, ..) => {
            return Err("`%` has no ngspice B-source form".into());
        }
        Expr::Binary(op, a, b) => format!("({}{}{})", w(a)?, op.symbol(), w(b)?),
        Expr::Cond(c) => format!("({}?{}:{})", w(&c[0])?, w(&c[1])?, w(&c[2])?),
        Expr::Call(c) => {
            let (name, args) = (&*c.0, &c.1);
            // An integral is the voltage of its capacitor node
            // (`write_body_subckt`).
            if let Some(k) = integrals.iter().position(|x| x == e) {
                return Ok(format!("v({})", integral_node(k)));
            }
            let a: Vec<String> = match name {
                // Node and element names, not expressions.
                "v" => return Ok(e.to_string()),
                "i" => {
                    return Ok(match &args[..] {
                        [Expr::Var(n)] => match rename(n) {
                            Some(r) => format!("i({r})"),
                            None => e.to_string(),
                        },
                        _ => e.to_string(),
                    });
                }
                _ => args.iter().map(w).collect::<Result<_, _>>()?,
            };
            match (name, &a[..]) {
                ("sdt" | "idt", _) => {
                    return Err(format!(
                        "{name}() with {} arguments has no ngspice form",
                        a.len()
                    ));
                }
                ("atan2", _) => return Err("atan2() has no ngspice B-source form".into()),
                ("stp", [x]) => format!("u({x})"),
                ("sign", [x]) => format!("sgn({x})"),
                ("int", [x]) => format!("(({x})<0?ceil({x}):floor({x}))"),
                ("round" | "nint", [x]) => {
                    format!("(({x})<0?ceil(({x})-0.5):floor(({x})+0.5))")
                }
                ("hypot", [x, y]) => format!("sqrt(({x})*({x})+({y})*({y}))"),
                ("limit", [x, lo, hi]) => {
                    format!("min(max({x},min({lo},{hi})),max({lo},{hi}))")
                }
                _ => format!("{name}({})", a.join(",")),
            }
        }
    })
}

/// The node of exported integral `k` (`write_body_subckt`).
fn integral_node(k: usize) -> String {
    format!("memnet_int{k}")
}

/// A user's memristor subcircuit as compiled (parameters folded, functions
/// inlined) written back as the ngspice subcircuit `name`, with one
/// parameter `ic_<element>` per capacitor and inductor for the instances'
/// `IC=` values, and node `w` following the device's state (an `E` copy of
/// the first capacitor's voltage, so that `v(<instance>.w)` is the state as
/// for memnet's other exported laws). Returns the parameter names.
fn write_body_subckt(
    body: &MemristorBody,
    name: &str,
    times: Defaults,
    out: &mut impl Write,
) -> Result<Vec<String>, String> {
    let node = |k: u32| body.nodes[k as usize].as_str();
    let first_state = body.elements.iter().find(|e| {
        matches!(
            e.kind,
            ElementKind::Capacitor { .. } | ElementKind::Inductor { .. }
        )
    });
    // ngspice has no sdt()/idt(): each integral becomes the voltage of a
    // 1 F capacitor charged by a B source of its integrand, from its
    // initial value. Integrals are collected in the order memnet numbers
    // its states (element order, nested ones after their holders).
    let mut integrals: Vec<Expr> = Vec::new();
    fn collect(e: &Expr, out: &mut Vec<Expr>) {
        match e {
            Expr::Num(_) | Expr::Var(_) => {}
            Expr::Unary(_, a) => collect(a, out),
            Expr::Binary(_, a, b) => {
                collect(a, out);
                collect(b, out);
            }
            Expr::Cond(c) => c.iter().for_each(|x| collect(x, out)),
            Expr::Call(c) => {
                if matches!(&*c.0, "sdt" | "idt") && matches!(c.1.len(), 1 | 2) {
                    if !out.contains(e) {
                        out.push(e.clone());
                    }
                } else {
                    c.1.iter().for_each(|x| collect(x, out));
                }
            }
        }
    }
    for e in &body.elements {
        if let ElementKind::ExprSource { value, .. } | ElementKind::ExprResistor { value } = &e.kind
        {
            collect(value, &mut integrals);
        }
    }
    let mut k = 0;
    while k < integrals.len() {
        if let Expr::Call(c) = integrals[k].clone() {
            collect(&c.1[0], &mut integrals);
        }
        k += 1;
    }
    let state = match first_state {
        // A static device (a diode, a selector) has no state to copy.
        None if !body.holds_state() => (0, 0),
        Some(e) if matches!(e.kind, ElementKind::Capacitor { .. }) => (e.nodes[0], e.nodes[1]),
        Some(e) => {
            return Err(format!(
                "its state is the current of inductor {}, which has no node for ngspice to save",
                e.name
            ));
        }
        // The first integral is the state: copied from its node below.
        None if !integrals.is_empty() => (u32::MAX, 0),
        None => return Err("it holds no state ngspice can save".into()),
    };
    let w_taken = body.nodes.iter().position(|n| n == "w");
    let copy_state = body.holds_state()
        && match w_taken {
            Some(k) if state == (k as u32, 0) => false,
            Some(_) => {
                return Err(
                    "it has a node `w` that is not its state, the name exported states take".into(),
                );
            }
            None => true,
        };
    // Elements whose kind ngspice spells with another letter.
    let mut renamed: Vec<(String, String)> = Vec::new();
    let spelt = |e: &BodyElement| -> String {
        // A behavioural source keeps its E or G letter unless it is a B.
        let want = match &e.kind {
            ElementKind::ExprSource { sets, .. } if !e.name.starts_with('b') => match sets {
                Sets::Voltage => 'e',
                Sets::Current => 'g',
            },
            ElementKind::Memristor(_) | ElementKind::Behavioral { .. } => return e.name.clone(),
            k => match kind_letter(k) {
                Some(c) => c,
                None => return e.name.clone(),
            },
        };
        let flat = e.name.replace('.', "_");
        if flat.starts_with(want) {
            flat
        } else {
            format!("{want}_{flat}")
        }
    };
    for e in &body.elements {
        let s = spelt(e);
        if s != e.name {
            renamed.push((e.name.clone(), s));
        }
    }
    let rename = |n: &str| {
        renamed
            .iter()
            .find(|(a, _)| a.eq_ignore_ascii_case(n))
            .map(|(_, b)| b.clone())
    };
    let mut params = Vec::new();
    let mut text = String::new();
    use std::fmt::Write as _;
    for e in &body.elements {
        let at = |m: String| format!("element {}: {m}", e.name);
        let n = spelt(e);
        let (a, b) = (node(e.nodes[0]), node(e.nodes[1]));
        let expr = |x: &Expr| ngspice_expr(x, &rename, &integrals).map_err(at);
        let num = |v: f64| {
            if v.is_finite() {
                Ok(Num(v))
            } else {
                Err(at(format!("value {v} is not finite")))
            }
        };
        let _ = match &e.kind {
            ElementKind::Resistor { resistance } => {
                writeln!(text, "{n} {a} {b} {}", num(*resistance)?)
            }
            ElementKind::Capacitor { capacitance: v, .. }
            | ElementKind::Inductor { inductance: v, .. } => {
                let p = format!("ic_{}", e.name.replace('.', "_"));
                let line = writeln!(text, "{n} {a} {b} {} IC={{{p}}}", num(*v)?);
                params.push(p);
                line
            }
            ElementKind::VoltageSource(s) | ElementKind::CurrentSource(s) => {
                let el = Element {
                    name: e.name.clone(),
                    nodes: Vec::new(),
                    kind: e.kind.clone(),
                    loc: e.loc.clone(),
                };
                let mut src = Vec::new();
                write_source(&el, s, times, &mut src).map_err(|x| at(x.to_string()))?;
                writeln!(text, "{n} {a} {b}{}", String::from_utf8_lossy(&src))
            }
            ElementKind::Vcvs { gain: g }
            | ElementKind::Vccs {
                transconductance: g,
            } => writeln!(
                text,
                "{n} {a} {b} {} {} {}",
                node(e.nodes[2]),
                node(e.nodes[3]),
                num(*g)?
            ),
            ElementKind::ExprSource { sets, value } if n.starts_with('b') => {
                let key = if *sets == Sets::Voltage { "V" } else { "I" };
                writeln!(text, "{n} {a} {b} {key}={}", expr(value)?)
            }
            ElementKind::ExprSource { value, .. } => {
                writeln!(text, "{n} {a} {b} value={{{}}}", expr(value)?)
            }
            ElementKind::ExprResistor { value } => {
                writeln!(text, "{n} {a} {b} R={{{}}}", expr(value)?)
            }
            k => return Err(at(format!("a {} has no ngspice form here", k.name()))),
        };
    }
    for (k, e) in integrals.iter().enumerate() {
        let Expr::Call(c) = e else { continue };
        let f =
            ngspice_expr(&c.1[0], &rename, &integrals).map_err(|m| format!("an integral: {m}"))?;
        let ic = match c.1.get(1) {
            None => 0.0,
            Some(Expr::Num(v)) if v.is_finite() => *v,
            Some(x) => return Err(format!("an integral's initial value {x} is not a number")),
        };
        let n = integral_node(k);
        let _ = writeln!(text, "b_{n} 0 {n} I={f}");
        let _ = writeln!(text, "c_{n} {n} 0 1 IC={}", Num(ic));
    }
    if copy_state {
        let from = if state.0 == u32::MAX {
            integral_node(0)
        } else {
            node(state.0).to_string()
        };
        let _ = writeln!(text, "e_memnet_w w 0 {from} {} 1", node(state.1));
    }
    write!(out, ".subckt {name} {}", body.pin_names.join(" ")).map_err(|e| e.to_string())?;
    if !params.is_empty() {
        write!(out, " PARAMS:").map_err(|e| e.to_string())?;
        for p in &params {
            write!(out, " {p}=0").map_err(|e| e.to_string())?;
        }
    }
    writeln!(out).map_err(|e| e.to_string())?;
    writeln!(
        out,
        "* memnet's compiled form of subcircuit '{}' ({}): parameters folded, functions inlined",
        body.subckt, body.loc
    )
    .map_err(|e| e.to_string())?;
    out.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    writeln!(out, ".ends {name}").map_err(|e| e.to_string())?;
    Ok(params)
}
