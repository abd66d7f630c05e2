//! The elaborated, flat circuit: what every later stage (graph, solver,
//! export) reads. Parameters are resolved to numbers, subcircuits are
//! flattened to hierarchical lower-case names (`x1.xm2`, node `x1.mid`, as
//! ngspice prints them) and each element remembers where it was written.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::expr::Expr;

/// A place in a source file: 1-based line and column.
///
/// `file` is shared between all locations of one file, so a million
/// elements cost one path string.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Loc {
    pub file: Arc<str>,
    pub line: u32,
    pub col: u32,
}

impl Loc {
    pub fn new(file: impl Into<Arc<str>>, line: u32, col: u32) -> Self {
        Loc {
            file: file.into(),
            line,
            col,
        }
    }
}

impl fmt::Display for Loc {
    /// `FILE:LINE:COL`, the prefix compilers and editors understand.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// The name of the ground node after normalisation (`gnd` becomes `0`).
pub const GROUND: &str = "0";

/// A flat circuit after elaboration.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Circuit {
    /// The first line of the top-level file.
    pub title: String,
    /// Elements in source order (depth-first through subcircuit instances).
    pub elements: Vec<Element>,
    /// `.model` cards, by lower-case name (global and flattened local ones).
    pub models: BTreeMap<String, Model>,
    /// Analyses requested by dot cards (`.tran`, `.op`, `.dc`, `.ac`).
    pub analyses: Vec<Analysis>,
    /// `.ic v(node)=value` initial conditions, node names flattened.
    pub initial_conditions: Vec<(String, f64)>,
    /// `.options` as written: lower-case key, raw value text (`""` for flags).
    pub options: BTreeMap<String, String>,
    /// `.control ... .endc` blocks, verbatim.
    pub control_blocks: Vec<String>,
    /// Output requests (`.save`, `.print`, `.probe`), in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<OutputCard>,
    /// Non-fatal findings (unused parameters, ignored cards, ...).
    pub warnings: Vec<Warning>,
}

/// An output request card: `.save v(a) i(v1)`, `.print tran v(n1) ...`,
/// `.probe ...`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutputCard {
    /// `save`, `print` or `probe`.
    pub card: String,
    /// The analysis a `.print` names (`tran`, `dc`, ...), if any.
    pub analysis: Option<String>,
    /// The requested outputs, lower case, as written (`v(n1)`,
    /// `n(ymemristor!mr1_x)`, `{v(a)-v(b)}`).
    pub items: Vec<String>,
    pub loc: Loc,
}

impl OutputCard {
    /// Splits the text after the keyword into items: blanks separate them
    /// except inside parentheses and braces; `key=value` settings (Xyce's
    /// `format=csv`) are not items.
    pub fn parse(card: &str, text: &str, loc: Loc) -> OutputCard {
        let mut items = Vec::new();
        let mut depth = 0i32;
        let mut cur = String::new();
        for c in text.chars() {
            match c {
                '(' | '{' => depth += 1,
                ')' | '}' => depth -= 1,
                _ => {}
            }
            if c.is_whitespace() && depth <= 0 {
                if !cur.is_empty() {
                    items.push(std::mem::take(&mut cur));
                }
            } else if !(c.is_whitespace() && cur.is_empty()) {
                cur.push(c.to_ascii_lowercase());
            }
        }
        if !cur.is_empty() {
            items.push(cur);
        }
        // `v( n1 )`: blanks inside a call are not part of its name.
        for it in &mut items {
            if !it.starts_with('{') {
                it.retain(|c| !c.is_whitespace());
            }
        }
        items.retain(|it| !(it.contains('=') && !it.starts_with('{') && !it.contains('(')));
        let mut analysis = None;
        if card == "print"
            && let Some(first) = items.first()
            && ["tran", "dc", "ac", "op", "noise"].contains(&first.as_str())
        {
            analysis = Some(items.remove(0));
        }
        OutputCard {
            card: card.to_string(),
            analysis,
            items,
            loc,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Warning {
    pub loc: Loc,
    /// What kind of warning, in a few words ("card ignored"): repeated
    /// warnings are grouped by it (see [`group_warnings`]).
    pub kind: &'static str,
    pub message: String,
}

impl Warning {
    pub fn new(kind: &'static str, loc: Loc, message: impl Into<String>) -> Self {
        Warning {
            loc,
            kind,
            message: message.into(),
        }
    }
}

/// Warnings of one kind, in the order they were first given.
#[derive(Clone, Debug, PartialEq)]
pub struct WarningGroup<'a> {
    pub kind: &'static str,
    pub warnings: Vec<&'a Warning>,
}

/// Groups warnings by kind, the groups in order of their first warning
/// and each group in netlist order, so that a deck with a thousand ignored
/// fields reports one group rather than a thousand lines.
pub fn group_warnings(warnings: &[Warning]) -> Vec<WarningGroup<'_>> {
    let mut groups: Vec<WarningGroup<'_>> = Vec::new();
    for w in warnings {
        match groups.iter_mut().find(|g| g.kind == w.kind) {
            Some(g) => g.warnings.push(w),
            None => groups.push(WarningGroup {
                kind: w.kind,
                warnings: vec![w],
            }),
        }
    }
    groups
}

/// One flat element. `nodes` are flattened, lower-case node names with
/// ground normalised to [`GROUND`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Element {
    /// Lower-case hierarchical instance name, e.g. `r1`, `x1.xm2`, `x1.r3`.
    pub name: String,
    pub nodes: Vec<String>,
    pub kind: ElementKind,
    pub loc: Loc,
}

impl Element {
    /// A short kind word for summaries and messages (`resistor`, `memristor`, ...).
    pub fn kind_name(&self) -> &'static str {
        self.kind.name()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ElementKind {
    Resistor {
        resistance: f64,
    },
    Capacitor {
        capacitance: f64,
        ic: Option<f64>,
    },
    Inductor {
        inductance: f64,
        ic: Option<f64>,
    },
    VoltageSource(Source),
    CurrentSource(Source),
    /// `E`: voltage-controlled voltage source (linear gain form only).
    Vcvs {
        gain: f64,
    },
    /// `G`: voltage-controlled current source (linear gain form only).
    Vccs {
        transconductance: f64,
    },
    /// `B`: behavioural source whose expression memnet could not resolve,
    /// kept as text for reports.
    Behavioral {
        expr: String,
    },
    /// A behavioural source (`B ... V=`/`I=`, `E`/`G` with `value=`,
    /// HSPICE `vol=`/`cur=`): sets the voltage from its first node to its
    /// second, or the current through it from its first node to its second,
    /// to `value`. Parameters are numbers and user functions are inlined;
    /// `v(node)`, `v(a,b)` and `i(element)` name flat nodes and elements
    /// (local ones inside a [`MemristorBody`]).
    ExprSource {
        sets: Sets,
        value: Expr,
    },
    /// A resistor whose value reads `v()` or `i()`: R = `value` ohms.
    ExprResistor {
        value: Expr,
    },
    /// A capacitor whose capacitance depends on its own voltage (a
    /// diode's depletion capacitance): C = `value` farads, an expression of
    /// `v(a,b)` across it. Its voltage is a state, as a capacitor's is.
    ExprCapacitor {
        value: Expr,
    },
    Memristor(Memristor),
    /// Anything else (`D`, `Q`, `M`, an `A` or `Y` device that is not a
    /// memristor, ...): kept so it can be reported with its line.
    Unsupported {
        /// What it is, e.g. `diode`, `xspice`, `mosfet`, or the letter.
        what: String,
        /// Remaining fields of the card, as written.
        text: String,
    },
}

impl ElementKind {
    pub fn name(&self) -> &'static str {
        match self {
            ElementKind::Resistor { .. } => "resistor",
            ElementKind::Capacitor { .. } => "capacitor",
            ElementKind::Inductor { .. } => "inductor",
            ElementKind::VoltageSource(_) => "voltage_source",
            ElementKind::CurrentSource(_) => "current_source",
            ElementKind::Vcvs { .. } => "vcvs",
            ElementKind::Vccs { .. } => "vccs",
            ElementKind::Behavioral { .. } => "behavioral",
            ElementKind::ExprSource {
                sets: Sets::Voltage,
                ..
            } => "behavioral_voltage",
            ElementKind::ExprSource {
                sets: Sets::Current,
                ..
            } => "behavioral_current",
            ElementKind::ExprResistor { .. } => "behavioral_resistor",
            ElementKind::ExprCapacitor { .. } => "behavioral_capacitor",
            ElementKind::Memristor(_) => "memristor",
            ElementKind::Unsupported { .. } => "unsupported",
        }
    }
}

/// What a behavioural source sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sets {
    Voltage,
    Current,
}

/// A user's subcircuit that holds state (a capacitor), elaborated for one
/// set of parameter values: a small circuit the solver compiles into a
/// device law (docs/subcircuit-bodies.md). Instances with equal values share
/// one body; their initial states are per instance
/// ([`MemristorDialect::Body`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemristorBody {
    /// The definition's name and place.
    pub subckt: String,
    pub loc: Loc,
    /// Local node names: 0 is ground (`0`), then the nodes of the pins,
    /// then internal nodes (`x`, `xa.mid`).
    pub nodes: Vec<String>,
    /// The body node of each pin, in the definition's order (0 where the
    /// instance ties the pin to ground).
    pub pins: Vec<u32>,
    pub pin_names: Vec<String>,
    /// The elements, with local names and body node indices.
    pub elements: Vec<BodyElement>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BodyElement {
    /// Local name (`cx`, `xa.r1`).
    pub name: String,
    pub nodes: Vec<u32>,
    pub kind: ElementKind,
    pub loc: Loc,
}

/// An independent source: its DC value and its transient waveform.
/// `AC` specifications are accepted and ignored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Source {
    pub dc: f64,
    pub waveform: Waveform,
}

impl Source {
    pub fn dc(value: f64) -> Self {
        Source {
            dc: value,
            waveform: Waveform::Dc(value),
        }
    }
}

/// Transient waveforms with ngspice's semantics (ngspice manual, section
/// "Independent sources"). Optional fields take ngspice's defaults, which
/// depend on the `.tran` step and stop time: see [`TranTimes`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum Waveform {
    Dc(f64),
    /// `PULSE(V1 V2 TD TR TF PW PER NP)`.
    Pulse {
        v1: f64,
        v2: f64,
        td: f64,
        tr: Option<f64>,
        tf: Option<f64>,
        pw: Option<f64>,
        per: Option<f64>,
        /// Number of pulses; `None` or `Some(0)` means unlimited.
        np: Option<u32>,
    },
    /// `SIN(VO VA FREQ TD THETA PHASE)`; phase in degrees.
    Sin {
        vo: f64,
        va: f64,
        freq: Option<f64>,
        td: f64,
        theta: f64,
        phase: f64,
    },
    /// `PWL(T1 V1 T2 V2 ...)`, times non-decreasing. `repeat_from`: `r=`
    /// time from which the waveform repeats, if given.
    Pwl {
        points: Vec<(f64, f64)>,
        repeat_from: Option<f64>,
        delay: f64,
    },
}

/// The `.tran` step and stop time that ngspice uses as defaults for
/// `PULSE` rise/fall/width/period and `SIN` frequency.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TranTimes {
    pub tstep: f64,
    pub tstop: f64,
}

/// A `PULSE`'s rise, fall, width and period with ngspice's defaults filled
/// in: a missing or non-positive rise or fall time is the `.tran` step, a
/// missing width the stop time, a missing or non-positive period the stop
/// time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PulseTimes {
    pub tr: f64,
    pub tf: f64,
    pub pw: f64,
    pub per: f64,
}

impl PulseTimes {
    pub fn resolve(
        tr: Option<f64>,
        tf: Option<f64>,
        pw: Option<f64>,
        per: Option<f64>,
        times: TranTimes,
    ) -> Self {
        PulseTimes {
            tr: tr.filter(|&x| x > 0.0).unwrap_or(times.tstep),
            tf: tf.filter(|&x| x > 0.0).unwrap_or(times.tstep),
            pw: pw.unwrap_or(times.tstop),
            per: per.filter(|&x| x > 0.0).unwrap_or(times.tstop),
        }
    }
}

/// A `SIN`'s frequency with ngspice's default (1 / stop time) filled in.
pub fn sin_frequency(freq: Option<f64>, times: TranTimes) -> f64 {
    freq.unwrap_or(1.0 / times.tstop)
}

impl Waveform {
    /// Value at time `t`, ngspice's definition. `times` fills defaults for
    /// fields the netlist left out.
    pub fn value(&self, t: f64, times: TranTimes) -> f64 {
        match *self {
            Waveform::Dc(v) => v,
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
                let PulseTimes { tr, tf, pw, per } = PulseTimes::resolve(tr, tf, pw, per, times);
                if t < td {
                    return v1;
                }
                let mut tt = t - td;
                if per > 0.0 && tt >= per {
                    let k = (tt / per).floor();
                    if let Some(n) = np.filter(|&n| n > 0)
                        && k >= f64::from(n)
                    {
                        return v1;
                    }
                    tt -= k * per;
                }
                if tt < tr {
                    if tr > 0.0 {
                        v1 + (v2 - v1) * tt / tr
                    } else {
                        v2
                    }
                } else if tt < tr + pw {
                    v2
                } else if tt < tr + pw + tf {
                    if tf > 0.0 {
                        v2 + (v1 - v2) * (tt - tr - pw) / tf
                    } else {
                        v1
                    }
                } else {
                    v1
                }
            }
            Waveform::Sin {
                vo,
                va,
                freq,
                td,
                theta,
                phase,
            } => {
                let freq = sin_frequency(freq, times);
                let ph = phase.to_radians();
                if t < td {
                    vo + va * ph.sin()
                } else {
                    let tt = t - td;
                    vo + va * (-tt * theta).exp() * (std::f64::consts::TAU * freq * tt + ph).sin()
                }
            }
            Waveform::Pwl {
                ref points,
                repeat_from,
                delay,
            } => pwl_value(points, repeat_from, t - delay),
        }
    }

    /// [`Waveform::value`] for a caller that asks at nearby times over and
    /// over (an integrator): `cursor` keeps the PWL segment of the last call,
    /// which is tried first, then the next one, before a bisection. The
    /// value is that of `value` whatever the cursor holds; the cursor only
    /// saves the search (O(1) along a run instead of O(log points), and no
    /// walk over a long table that is not in cache).
    pub fn value_near(&self, t: f64, times: TranTimes, cursor: &mut usize) -> f64 {
        match *self {
            Waveform::Pwl {
                ref points,
                repeat_from,
                delay,
            } => pwl_value_near(points, repeat_from, t - delay, cursor),
            _ => self.value(t, times),
        }
    }

    /// Whether the waveform is constant in time (its value is `dc`).
    pub fn is_constant(&self) -> bool {
        matches!(self, Waveform::Dc(_))
    }
}

fn pwl_value(points: &[(f64, f64)], repeat_from: Option<f64>, t: f64) -> f64 {
    pwl_value_near(points, repeat_from, t, &mut 0)
}

/// The PWL's value at t, trying the segment ending at `cursor` and the
/// one after it before bisection; `cursor` is left at the segment used.
fn pwl_value_near(
    points: &[(f64, f64)],
    repeat_from: Option<f64>,
    t: f64,
    cursor: &mut usize,
) -> f64 {
    let (Some(&(t0, v0)), Some(&(tn, vn))) = (points.first(), points.last()) else {
        return 0.0;
    };
    let mut t = t;
    if let Some(r) = repeat_from
        && t > tn
        && tn > r
    {
        t = r + (t - r) % (tn - r);
    }
    if t <= t0 {
        return v0;
    }
    if t >= tn {
        return vn;
    }
    // i: the first point with time > t (times are non-decreasing, so
    // points[i-1].0 <= t < points[i].0 identifies it); the cursor's segment
    // or the next, else bisection, which keeps long PWLs cheap.
    let holds = |i: usize| i >= 1 && i < points.len() && points[i - 1].0 <= t && t < points[i].0;
    let c = *cursor;
    let i = if holds(c) {
        c
    } else if holds(c.saturating_add(1)) {
        c + 1
    } else {
        points.partition_point(|p| p.0 <= t)
    };
    *cursor = i;
    let (ta, va) = points[i - 1];
    let (tb, vb) = points[i];
    if tb > ta {
        va + (vb - va) * (t - ta) / (tb - ta)
    } else {
        vb
    }
}

/// A memristor as imported, in whichever dialect it was written.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Memristor {
    pub dialect: MemristorDialect,
    /// The linear law of theory.md 1.1-1.2 when memnet can simulate this
    /// device, `None` for models it only imports (TEAM, Yakopcic, XSPICE
    /// threshold models, ...).
    pub law: Option<LinearLaw>,
    /// Parameters as given (instance, subcircuit defaults, model), lower-case
    /// keys. For the canonical device the five law parameters (`ron roff w0
    /// alpha beta`) live only in `law`, and this map holds any others.
    pub params: BTreeMap<String, f64>,
    /// Data tables the model reads (Xyce level 4's `fxpdata`, `fxmdata`),
    /// by parameter name, shared by every device of the model.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<(String, Arc<DataTable>)>,
}

/// A two-column table read from a file (x, f(x)), in file order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DataTable {
    /// The file as found (relative to the netlist that names it).
    pub path: String,
    #[serde(skip)]
    pub points: Vec<(f64, f64)>,
    /// Whether the columns are separated by blanks only: Xyce's reader
    /// takes one non-blank character between the numbers and misreads such
    /// files (docs/device-laws.md, "PEM").
    pub blank_separated: bool,
}

impl DataTable {
    /// Parses `text`: lines starting with `#` are comments, blank lines
    /// are skipped, every other line holds two numbers separated by one
    /// character (`,` `;` ...) or by blanks. Errors carry the 1-based line
    /// and column.
    pub fn parse(path: &str, text: &str) -> Result<DataTable, (u32, u32, String)> {
        let mut points = Vec::new();
        let mut blank_separated = false;
        for (k, line) in text.lines().enumerate() {
            let row = k as u32 + 1;
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            // Every slice below lies inside `line`: its column is its offset.
            let col = |part: &str| (part.as_ptr() as usize - line.as_ptr() as usize) as u32 + 1;
            let (a, b) = match l.find([',', ';', '\t', ' ']) {
                Some(j) => {
                    let sep = l[j..].chars().next().unwrap_or(' ');
                    if sep == ' ' || sep == '\t' {
                        let rest = l[j..].trim_start();
                        match rest.strip_prefix([',', ';']) {
                            Some(r) => (&l[..j], r.trim_start()),
                            None => {
                                blank_separated = true;
                                (&l[..j], rest)
                            }
                        }
                    } else {
                        (l[..j].trim_end(), l[j + 1..].trim_start())
                    }
                }
                None => {
                    return Err((row, col(l), format!("expected two numbers, found '{l}'")));
                }
            };
            let num = |s: &str| -> Result<f64, (u32, u32, String)> {
                match s.trim().parse::<f64>() {
                    Ok(v) if v.is_finite() => Ok(v),
                    _ => Err((
                        row,
                        col(s),
                        format!("'{}' is not a finite number", s.trim()),
                    )),
                }
            };
            let x = num(a)?;
            let f = num(b)?;
            if let Some(&(xp, _)) = points.last() {
                if x <= xp {
                    return Err((
                        row,
                        col(a),
                        format!("x = {x} does not increase (the row before has {xp})"),
                    ));
                }
            }
            points.push((x, f));
        }
        if points.len() < 2 {
            return Err((
                1,
                1,
                format!("needs at least two rows, found {}", points.len()),
            ));
        }
        Ok(DataTable {
            path: path.to_string(),
            points,
            blank_separated,
        })
    }
}

/// The time-value pairs of a `PWL FILE=` source file (LTspice, Xyce,
/// PSpice): one pair per line, the two numbers separated by blanks, a
/// comma or a semicolon, SPICE suffixes allowed (`1m`, `2.5u`); blank
/// lines and lines starting with `*`, `#` or `;` are skipped. Times must
/// not decrease. Errors carry the 1-based line and column.
pub fn parse_pwl_file(text: &str) -> Result<Vec<(f64, f64)>, (u32, u32, String)> {
    let mut points: Vec<(f64, f64)> = Vec::new();
    for (k, line) in text.lines().enumerate() {
        let row = k as u32 + 1;
        let l = line.trim();
        if l.is_empty() || l.starts_with(['*', '#', ';']) {
            continue;
        }
        // Every slice below lies inside `line`: its column is its offset.
        let col = |part: &str| (part.as_ptr() as usize - line.as_ptr() as usize) as u32 + 1;
        let fields: Vec<&str> = l
            .split([' ', '\t', ',', ';'])
            .filter(|f| !f.is_empty())
            .collect();
        if fields.len() != 2 {
            return Err((
                row,
                col(l),
                format!(
                    "expected a time and a value, found {} fields in '{l}'",
                    fields.len()
                ),
            ));
        }
        let num = |f: &str| match crate::number::parse_number(f) {
            Some(v) if v.is_finite() => Ok(v),
            _ => Err((row, col(f), format!("'{f}' is not a finite number"))),
        };
        let (t, v) = (num(fields[0])?, num(fields[1])?);
        if let Some(&(tp, _)) = points.last() {
            if t < tp {
                return Err((
                    row,
                    col(fields[0]),
                    format!("time {t} is before the previous point's {tp}"),
                ));
            }
        }
        points.push((t, v));
    }
    if points.is_empty() {
        return Err((1, 1, "holds no time-value pair".into()));
    }
    Ok(points)
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "dialect", rename_all = "snake_case")]
pub enum MemristorDialect {
    /// `X... p n memristor ron=.. roff=.. w0=.. alpha=.. beta=..`.
    Canonical,
    /// A user subcircuit declared a memristor with `--memristor-subckt`.
    UserSubckt { subckt: String },
    /// Xyce `ymemristor` with `.model NAME memristor level=N`.
    Xyce { model: String, level: u32 },
    /// ngspice XSPICE `a` instance with a `memristor` code model.
    Xspice { model: String },
    /// One of memnet's native laws other than the linear one
    /// (docs/device-laws.md): `ymemristor NAME p n MODEL` with `.model
    /// MODEL memristor law=LAW [window=...] [iv=...] params...`, or a
    /// device written back from a network. `options` are the law's word
    /// options, lower case.
    Native {
        law: String,
        options: Vec<(String, String)>,
    },
    /// An instance of a user's subcircuit holding state: the compiled body
    /// and this instance's initial states (`IC=`: one per capacitor,
    /// its voltage, or inductor, its current, of `body` in element order;
    /// `None`: not given).
    Body {
        body: Arc<MemristorBody>,
        ic: Vec<Option<f64>>,
    },
}

/// theory.md 1.1-1.2: R(w) = ron (1 - w) + roff w, dw/dt = alpha w - ron i / beta,
/// with i flowing from the first pin (p) to the second (n).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LinearLaw {
    pub ron: f64,
    pub roff: f64,
    pub w0: f64,
    pub alpha: f64,
    pub beta: f64,
}

impl LinearLaw {
    /// xi = (roff - ron) / ron (theory.md 1.1).
    pub fn xi(&self) -> f64 {
        (self.roff - self.ron) / self.ron
    }
}

/// A `.model` card.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Model {
    pub name: String,
    /// Model type as written, lower-case (`memristor`, `d`, `nmos`, ...).
    pub kind: String,
    pub params: BTreeMap<String, f64>,
    /// Parameters whose value is a word (a file name), lower-case keys.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub words: BTreeMap<String, String>,
    pub loc: Loc,
}

/// An analysis card.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "analysis", rename_all = "snake_case")]
pub enum Analysis {
    Tran {
        tstep: f64,
        tstop: f64,
        tstart: f64,
        tmax: Option<f64>,
        uic: bool,
        loc: Loc,
    },
    Op {
        loc: Loc,
    },
    Dc {
        text: String,
        loc: Loc,
    },
    Ac {
        text: String,
        loc: Loc,
    },
}

impl Circuit {
    /// The first `.tran` card, if any.
    pub fn tran(&self) -> Option<&Analysis> {
        self.analyses
            .iter()
            .find(|a| matches!(a, Analysis::Tran { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: TranTimes = TranTimes {
        tstep: 0.1,
        tstop: 10.0,
    };

    #[test]
    fn pulse_follows_ngspice_shape() {
        let p = Waveform::Pulse {
            v1: 0.0,
            v2: 1.0,
            td: 1.0,
            tr: Some(0.5),
            tf: Some(0.5),
            pw: Some(1.0),
            per: Some(4.0),
            np: None,
        };
        assert_eq!(p.value(0.5, T), 0.0);
        assert!((p.value(1.25, T) - 0.5).abs() < 1e-15);
        assert_eq!(p.value(2.0, T), 1.0);
        assert!((p.value(2.75, T) - 0.5).abs() < 1e-15);
        assert_eq!(p.value(3.5, T), 0.0);
        // second period
        assert!((p.value(5.25, T) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn pulse_count_limits_repetition() {
        let p = Waveform::Pulse {
            v1: 0.0,
            v2: 1.0,
            td: 0.0,
            tr: Some(0.1),
            tf: Some(0.1),
            pw: Some(1.0),
            per: Some(2.0),
            np: Some(1),
        };
        assert_eq!(p.value(0.5, T), 1.0);
        assert_eq!(p.value(2.5, T), 0.0);
    }

    #[test]
    fn sin_with_delay_damping_and_phase() {
        let s = Waveform::Sin {
            vo: 1.0,
            va: 2.0,
            freq: Some(0.25),
            td: 1.0,
            theta: 0.5,
            phase: 90.0,
        };
        assert!((s.value(0.0, T) - 3.0).abs() < 1e-15);
        let t: f64 = 2.0;
        let want = 1.0
            + 2.0
                * (-0.5f64).exp()
                * (std::f64::consts::TAU * 0.25 + std::f64::consts::FRAC_PI_2).sin();
        assert!((s.value(t, T) - want).abs() < 1e-15);
        // default frequency is 1/tstop
        let d = Waveform::Sin {
            vo: 0.0,
            va: 1.0,
            freq: None,
            td: 0.0,
            theta: 0.0,
            phase: 0.0,
        };
        assert!((d.value(2.5, T) - 1.0).abs() < 1e-12);
    }

    /// The PWL value as `value` computed it before cursors (bisection for
    /// the segment), or by a walk over every segment (the definition).
    fn pwl_reference(points: &[(f64, f64)], t: f64, walk: bool) -> f64 {
        let (t0, v0) = points[0];
        let (tn, vn) = points[points.len() - 1];
        if t <= t0 {
            return v0;
        }
        if t >= tn {
            return vn;
        }
        let i = if walk {
            (1..points.len()).find(|&i| points[i].0 > t).unwrap()
        } else {
            points.partition_point(|p| p.0 <= t)
        };
        let ((ta, va), (tb, vb)) = (points[i - 1], points[i]);
        if tb > ta {
            va + (vb - va) * (t - ta) / (tb - ta)
        } else {
            vb
        }
    }

    /// A reservoir-like table (held values, short ramps, a repeated time):
    /// value_near equals value and the scan for any cursor, read forwards,
    /// backwards and in a scrambled order (a deterministic sequence, no
    /// random crate needed here).
    #[test]
    fn pwl_value_near_is_value_for_any_cursor() {
        let mut points = vec![(0.0, 0.3)];
        for n in 1..200 {
            let t = n as f64;
            let v = ((n * 37 % 101) as f64) / 50.0 - 1.0;
            points.push((t + 1e-3, v));
            points.push((t + 1.0, v));
        }
        // A vertical step: two points at one time.
        points.push((200.0, 0.0));
        points.push((200.0, 2.0));
        points.push((201.0, 1.0));
        let w = Waveform::Pwl {
            points: points.clone(),
            repeat_from: None,
            delay: 0.5,
        };
        let forward: Vec<f64> = (0..4000).map(|k| -1.0 + k as f64 * 0.0513).collect();
        let backward: Vec<f64> = forward.iter().rev().copied().collect();
        let scrambled: Vec<f64> = (0..4000u64)
            .map(|k| ((k * 2_654_435_761) % 203_000) as f64 / 1000.0 - 1.0)
            .collect();
        // On the vertical step (200 + the delay) from either side, and on
        // points of the table.
        let on_points = vec![200.5, 199.5, 200.5, 201.0, 200.5, 150.5, 150.501, 200.5];
        for times in [&forward, &backward, &scrambled, &on_points] {
            let mut cursor = 0;
            for &t in times.iter() {
                let near = w.value_near(t, T, &mut cursor);
                assert_eq!(near, w.value(t, T), "t = {t}");
                assert_eq!(near, pwl_reference(&points, t - 0.5, false), "t = {t}");
                if (t - 0.5 - 200.0).abs() > 1e-12 {
                    let want = pwl_reference(&points, t - 0.5, true);
                    assert!(
                        (near - want).abs() <= 1e-14,
                        "t = {t}: {near} against {want}"
                    );
                }
            }
        }
        // A cursor out of range is only a hint.
        let mut far = usize::MAX;
        assert_eq!(w.value_near(3.7, T, &mut far), w.value(3.7, T));
        let r = Waveform::Pwl {
            points: vec![(0.0, 0.0), (1.0, 1.0), (2.0, -1.0)],
            repeat_from: Some(0.0),
            delay: 0.0,
        };
        let mut c = 0;
        for k in 0..100 {
            let t = k as f64 * 0.37;
            assert_eq!(r.value_near(t, T, &mut c), r.value(t, T));
        }
    }

    #[test]
    fn pwl_interpolates_holds_and_repeats() {
        let w = Waveform::Pwl {
            points: vec![(0.0, 0.0), (1.0, 1.0), (2.0, -1.0)],
            repeat_from: None,
            delay: 0.0,
        };
        assert_eq!(w.value(-1.0, T), 0.0);
        assert_eq!(w.value(0.5, T), 0.5);
        assert_eq!(w.value(1.5, T), 0.0);
        assert_eq!(w.value(5.0, T), -1.0);
        let r = Waveform::Pwl {
            points: vec![(0.0, 0.0), (1.0, 1.0), (2.0, -1.0)],
            repeat_from: Some(0.0),
            delay: 0.0,
        };
        assert!((r.value(2.5, T) - 0.5).abs() < 1e-15);
    }
}
