//! Graph files: CSV edge lists (read and write) and Matrix Market
//! coordinate files (read). Errors point at `file:line:col`.
//!
//! CSV: a header line naming the columns, then one edge per line.
//! Columns (any order, names case-insensitive): `tail`, `head` (required;
//! node labels are arbitrary strings, `0` is ground), and optionally `ron`,
//! `roff`, `w0`, `alpha`, `beta` (memristor parameters), `source` (DC
//! series source S_k in volts, theory.md 3.1), `polarity` (+1/-1,
//! theory.md 3.5) and `resistance` (if given, the edge is a fixed resistor
//! and the memristor columns must be empty). Empty fields and missing
//! columns take the [`DeviceDefaults`]. Fields may be double-quoted
//! (RFC 4180); blank lines and lines starting with `#` are skipped.
//!
//! Matrix Market (`%%MatrixMarket matrix coordinate FIELD SYMMETRY`, FIELD
//! `pattern`, `real` or `integer`, SYMMETRY `general` or `symmetric`):
//! nodes are the indices `1..=max(rows, cols)`, named by their number; each
//! off-diagonal entry (i, j) is one edge i -> j (a symmetric file stores
//! each undirected edge once, so it also gives one edge). Diagonal entries
//! are ignored (they are degrees or weights in most adjacency files, not
//! self-loops). A value, if present, is a resistance scale s > 0: the edge
//! gets ron = s * ron_default and roff = s * roff_default (xi unchanged);
//! an explicit zero means no edge.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use memnet_spice::{Diagnostic, Loc, Source};

use crate::build::{check_memristor, check_resistance};
use crate::error::NetworkError;
use crate::generate::DeviceDefaults;
use crate::network::{Device, Edge, Network, NodeId, SeriesSource};

/// Whether `path` names a graph file (`.csv`, `.mtx`) rather than a
/// netlist: what every front end (the CLI, Python) reads by extension.
pub fn is_graph_file(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("csv" | "mtx")
    )
}

/// Reads a graph file, choosing the format by extension (`.csv`, `.mtx`).
pub fn read_graph_file(path: &Path, defaults: &DeviceDefaults) -> Result<Network, NetworkError> {
    let name = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let read = || {
        std::fs::read_to_string(path).map_err(|e| NetworkError::Io {
            path: name.clone(),
            message: e.to_string(),
        })
    };
    match ext.as_deref() {
        Some("csv") => read_csv(&read()?, &name, defaults),
        Some("mtx") => read_mtx(&read()?, &name, defaults),
        _ => Err(NetworkError::Io {
            path: name.clone(),
            message: "unknown graph file type (expected .csv or .mtx)".into(),
        }),
    }
}

/// Node labels to dense indices in first-appearance order.
#[derive(Default)]
struct Nodes {
    ids: HashMap<String, NodeId>,
    names: Vec<String>,
}

impl Nodes {
    fn id(&mut self, label: &str) -> NodeId {
        if let Some(&i) = self.ids.get(label) {
            return i;
        }
        self.names.push(label.to_string());
        self.ids.insert(label.to_string(), self.names.len() - 1);
        self.names.len() - 1
    }
}

/// Splits one CSV line into fields with their 1-based start columns
/// (characters): RFC 4180 quoting (`""` inside quotes is a quote),
/// unquoted fields trimmed. An unterminated quote is an error at the
/// column where its field starts.
pub fn split_csv(line: &str) -> Result<Vec<(String, u32)>, (u32, String)> {
    let mut out = Vec::new();
    let mut chars = line.char_indices().peekable();
    let mut field = String::new();
    let mut start = 1u32;
    let mut quoted = false;
    let mut in_quotes = false;
    while let Some((i, c)) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek().map(|p| p.1) == Some('"') {
                    field.push('"');
                    chars.next();
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
        } else if c == ',' {
            out.push((finish(&field, quoted), start));
            field.clear();
            quoted = false;
            start = line[..i + 1].chars().count() as u32 + 1;
        } else if c == '"' && field.trim().is_empty() && !quoted {
            field.clear();
            quoted = true;
            in_quotes = true;
        } else {
            field.push(c);
        }
    }
    if in_quotes {
        return Err((start, "unterminated quoted field".into()));
    }
    out.push((finish(&field, quoted), start));
    Ok(out)
}

fn finish(field: &str, quoted: bool) -> String {
    if quoted {
        field.to_string()
    } else {
        field.trim().to_string()
    }
}

const CSV_COLUMNS: [&str; 10] = [
    "tail",
    "head",
    "ron",
    "roff",
    "w0",
    "alpha",
    "beta",
    "source",
    "polarity",
    "resistance",
];

/// Reads a CSV edge list (see the module docs). `file` names the input in
/// messages.
pub fn read_csv(
    text: &str,
    file: &str,
    defaults: &DeviceDefaults,
) -> Result<Network, NetworkError> {
    let file: Arc<str> = file.into();
    let at = |line: usize, col: u32| Loc {
        file: file.clone(),
        line: line as u32,
        col,
    };
    let mut errs = Vec::new();
    let mut nodes = Nodes::default();
    let mut edges = Vec::new();
    let mut column: Option<[Option<usize>; 10]> = None;
    for (ln0, raw) in text.lines().enumerate() {
        let ln = ln0 + 1;
        let body = raw.trim();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let diag = |col: u32, msg: String| Diagnostic::new(at(ln, col), msg).with_line(raw);
        let fields = match split_csv(raw) {
            Ok(f) => f,
            Err((col, msg)) => {
                errs.push(diag(col, msg));
                continue;
            }
        };
        let Some(cols) = column else {
            let mut map = [None; 10];
            for (i, (name, col)) in fields.iter().enumerate() {
                let lname = name.to_ascii_lowercase();
                match CSV_COLUMNS.iter().position(|c| *c == lname) {
                    Some(j) if map[j].is_none() => map[j] = Some(i),
                    Some(_) => errs.push(diag(*col, format!("column `{name}` appears twice"))),
                    None => errs.push(diag(
                        *col,
                        format!(
                            "unknown column `{name}` (expected {})",
                            CSV_COLUMNS.join(", ")
                        ),
                    )),
                }
            }
            if map[0].is_none() || map[1].is_none() {
                errs.push(diag(
                    1,
                    "the header must name the columns `tail` and `head`".into(),
                ));
                return Err(NetworkError::Invalid(errs));
            }
            column = Some(map);
            continue;
        };
        let get = |j: usize| -> Option<&(String, u32)> {
            cols[j]
                .and_then(|i| fields.get(i))
                .filter(|f| !f.0.is_empty())
        };
        let mut num = |j: usize, default: f64| -> Option<f64> {
            match get(j) {
                None => Some(default),
                Some((s, col)) => match s.parse::<f64>() {
                    Ok(v) if v.is_finite() => Some(v),
                    _ => {
                        errs.push(diag(
                            *col,
                            format!("column `{}`: `{s}` is not a finite number", CSV_COLUMNS[j]),
                        ));
                        None
                    }
                },
            }
        };
        let (Some(tail), Some(head)) = (get(0), get(1)) else {
            errs.push(diag(1, "`tail` and `head` must not be empty".into()));
            continue;
        };
        let (tail, head) = (tail.0.clone(), head.0.clone());
        let vals: Vec<Option<f64>> = [
            (2, defaults.ron),
            (3, defaults.roff),
            (4, defaults.w0),
            (5, defaults.alpha),
            (6, defaults.beta),
            (7, 0.0),
            (8, 1.0),
            (9, f64::NAN),
        ]
        .into_iter()
        .map(|(j, d)| num(j, d))
        .collect();
        if vals.iter().any(Option::is_none) {
            continue;
        }
        let v: Vec<f64> = vals.into_iter().flatten().collect();
        let device = if get(9).is_some() {
            if let Some((_, col)) = (2..=6).find_map(get) {
                errs.push(diag(
                    *col,
                    "a resistor edge (`resistance` given) cannot have memristor parameters".into(),
                ));
                continue;
            }
            if let Err(m) = check_resistance(v[7]) {
                errs.push(diag(get(9).map_or(1, |f| f.1), m));
                continue;
            }
            Device::Resistor { resistance: v[7] }
        } else {
            let p = crate::network::MemristorParams {
                ron: v[0],
                roff: v[1],
                w0: v[2],
                alpha: v[3],
                beta: v[4],
                polarity: v[6],
            };
            if let Err(m) = check_memristor(&p) {
                errs.push(diag(1, format!("edge {tail} -> {head}: {m}")));
                continue;
            }
            Device::Memristor(p)
        };
        let k = edges.len();
        let source = (get(7).is_some() && v[5] != 0.0).then(|| SeriesSource {
            name: format!("vs{k}"),
            source: Source::dc(v[5]),
            sign: 1.0,
            loc: Some(at(ln, get(7).map_or(1, |f| f.1))),
        });
        edges.push(Edge {
            name: match device {
                Device::Resistor { .. } => compact_str::format_compact!("r{k}"),
                Device::Memristor(_) | Device::Native { .. } => {
                    compact_str::format_compact!("xm{k}")
                }
            },
            tail: nodes.id(&tail),
            head: nodes.id(&head),
            device,
            source: source.map(Box::new),
            loc: Some(at(ln, 1)),
        });
    }
    if column.is_none() {
        errs.push(Diagnostic::new(at(1, 1), "empty CSV file: no header line"));
    }
    if !errs.is_empty() {
        return Err(NetworkError::Invalid(errs));
    }
    Ok(Network {
        title: file.to_string(),
        node_names: nodes.names,
        edges,
        ..Network::default()
    })
}

/// Edges given as columns, with the meaning of the CSV edge list's columns
/// (module docs): what the Python package's `Network.from_edges` hands
/// over. A NaN in a parameter column is an empty field (the default); a
/// finite `resistance` makes the edge a fixed resistor, whose memristor
/// columns must then be NaN.
#[derive(Debug, Default)]
pub struct EdgeColumns<'a> {
    pub title: String,
    /// One name per node; `tails` and `heads` index it.
    pub node_names: Vec<String>,
    pub tails: &'a [usize],
    pub heads: &'a [usize],
    pub ron: Option<&'a [f64]>,
    pub roff: Option<&'a [f64]>,
    pub w0: Option<&'a [f64]>,
    pub alpha: Option<&'a [f64]>,
    pub beta: Option<&'a [f64]>,
    /// DC series source S_k in volts (theory.md 3.1).
    pub source: Option<&'a [f64]>,
    /// +1 or -1 (theory.md 3.5).
    pub polarity: Option<&'a [f64]>,
    pub resistance: Option<&'a [f64]>,
}

impl<'a> EdgeColumns<'a> {
    /// The parameter columns with their names, in the CSV edge list's order.
    fn parameters(&self) -> [(&'static str, Option<&'a [f64]>); 8] {
        [
            ("ron", self.ron),
            ("roff", self.roff),
            ("w0", self.w0),
            ("alpha", self.alpha),
            ("beta", self.beta),
            ("source", self.source),
            ("polarity", self.polarity),
            ("resistance", self.resistance),
        ]
    }
}

/// The network of `cols`; a bad edge is an error naming its index, its
/// nodes and the column.
pub fn network_from_columns(
    cols: &EdgeColumns,
    defaults: &DeviceDefaults,
) -> Result<Network, NetworkError> {
    let m = cols.tails.len();
    let params = cols.parameters();
    let named = std::iter::once(("heads", Some(cols.heads.len())))
        .chain(params.iter().map(|(n, c)| (*n, c.map(<[_]>::len))));
    for (name, len) in named {
        if let Some(len) = len.filter(|&l| l != m) {
            return Err(NetworkError::Spec(format!(
                "`{name}` has {len} entries for {m} edges"
            )));
        }
    }
    let n = cols.node_names.len();
    let mut edges = Vec::with_capacity(m);
    for k in 0..m {
        let (tail, head) = (cols.tails[k], cols.heads[k]);
        if tail >= n || head >= n {
            return Err(NetworkError::Spec(format!(
                "edge {k}: node {} is not one of the {n} nodes",
                tail.max(head)
            )));
        }
        let what = || {
            format!(
                "edge {k} ({} -> {})",
                cols.node_names[tail], cols.node_names[head]
            )
        };
        let given = |c: Option<&[f64]>| c.map(|c| c[k]).filter(|v| !v.is_nan());
        let value = |name: &str, c: Option<&[f64]>, default: f64| match given(c) {
            Some(v) if !v.is_finite() => Err(NetworkError::Spec(format!(
                "{}: `{name}` is {v}, not a finite number",
                what()
            ))),
            Some(v) => Ok(v),
            None => Ok(default),
        };
        let device = match given(cols.resistance) {
            Some(r) => {
                let mut memristor = params
                    .iter()
                    .filter(|(n, _)| !matches!(*n, "source" | "resistance"));
                if let Some((name, _)) = memristor.find(|(_, c)| given(*c).is_some()) {
                    return Err(NetworkError::Spec(format!(
                        "{}: a resistor edge (`resistance` given) cannot have `{name}`",
                        what()
                    )));
                }
                check_resistance(r).map_err(|e| NetworkError::Spec(format!("{}: {e}", what())))?;
                Device::Resistor { resistance: r }
            }
            None => {
                let p = crate::network::MemristorParams {
                    ron: value("ron", cols.ron, defaults.ron)?,
                    roff: value("roff", cols.roff, defaults.roff)?,
                    w0: value("w0", cols.w0, defaults.w0)?,
                    alpha: value("alpha", cols.alpha, defaults.alpha)?,
                    beta: value("beta", cols.beta, defaults.beta)?,
                    polarity: value("polarity", cols.polarity, 1.0)?,
                };
                check_memristor(&p).map_err(|e| NetworkError::Spec(format!("{}: {e}", what())))?;
                Device::Memristor(p)
            }
        };
        let s = value("source", cols.source, 0.0)?;
        let source = (s != 0.0).then(|| {
            Box::new(SeriesSource {
                name: format!("vs{k}"),
                source: Source::dc(s),
                sign: 1.0,
                loc: None,
            })
        });
        edges.push(Edge {
            name: match device {
                Device::Resistor { .. } => compact_str::format_compact!("r{k}"),
                Device::Memristor(_) | Device::Native { .. } => {
                    compact_str::format_compact!("xm{k}")
                }
            },
            tail,
            head,
            device,
            source,
            loc: None,
        });
    }
    Ok(Network {
        title: cols.title.clone(),
        node_names: cols.node_names.clone(),
        edges,
        ..Network::default()
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.trim() != s || s.starts_with('#') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes the network as a CSV edge list with all columns (the format
/// [`read_csv`] reads; reading it back gives the same edges). Fails with
/// `InvalidInput` for what CSV cannot hold: injections, constraints and
/// time-dependent series sources.
pub fn write_csv(net: &Network, mut out: impl Write) -> io::Result<()> {
    let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
    if let Some(j) = net.injections.first() {
        return Err(invalid(format!(
            "current source `{}` cannot be written to a CSV edge list",
            j.name
        )));
    }
    if let Some(c) = net.constraints.first() {
        return Err(invalid(format!(
            "voltage source `{}` (a potential constraint) cannot be written to a CSV edge list",
            c.name
        )));
    }
    writeln!(out, "{}", CSV_COLUMNS.join(","))?;
    for e in &net.edges {
        let s = match &e.source {
            None => String::new(),
            Some(s) if s.source.waveform.is_constant() => format!("{}", s.sign * s.source.dc),
            Some(s) => {
                return Err(invalid(format!(
                    "edge `{}` has a time-dependent source `{}`; CSV holds DC sources only",
                    e.name, s.name
                )));
            }
        };
        let (t, h) = (
            csv_field(&net.node_names[e.tail]),
            csv_field(&net.node_names[e.head]),
        );
        match e.device {
            Device::Memristor(p) => writeln!(
                out,
                "{t},{h},{},{},{},{},{},{s},{},",
                p.ron, p.roff, p.w0, p.alpha, p.beta, p.polarity
            )?,
            Device::Resistor { resistance } => writeln!(out, "{t},{h},,,,,,{s},,{resistance}")?,
            Device::Native { spec } => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "edge `{}` has law `{}`: CSV edge lists carry memnet's linear law only",
                        e.name, net.laws[spec as usize].law
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Reads a Matrix Market coordinate file (see the module docs).
pub fn read_mtx(
    text: &str,
    file: &str,
    defaults: &DeviceDefaults,
) -> Result<Network, NetworkError> {
    let file: Arc<str> = file.into();
    let at = |line: usize| Loc {
        file: file.clone(),
        line: line as u32,
        col: 1,
    };
    let fail = |line: usize, raw: &str, msg: String| {
        NetworkError::Invalid(vec![Diagnostic::new(at(line), msg).with_line(raw)])
    };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let Some((_, header)) = lines.next() else {
        return Err(fail(1, "", "empty Matrix Market file".into()));
    };
    let words: Vec<String> = header
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    if words.len() != 5 || words[0] != "%%matrixmarket" || words[1] != "matrix" {
        return Err(fail(
            1,
            header,
            "expected `%%MatrixMarket matrix coordinate FIELD SYMMETRY`".into(),
        ));
    }
    if words[2] != "coordinate" {
        return Err(fail(
            1,
            header,
            format!("`{}` format is not supported; only `coordinate`", words[2]),
        ));
    }
    let has_value = match words[3].as_str() {
        "pattern" => false,
        "real" | "integer" => true,
        f => {
            return Err(fail(
                1,
                header,
                format!("field `{f}` is not supported (pattern, real or integer)"),
            ));
        }
    };
    if words[4] != "general" && words[4] != "symmetric" {
        return Err(fail(
            1,
            header,
            format!(
                "symmetry `{}` is not supported (general or symmetric)",
                words[4]
            ),
        ));
    }
    let mut body = lines.filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('%'));
    let Some((sln, size)) = body.next() else {
        return Err(fail(
            1,
            header,
            "missing size line `rows cols entries`".into(),
        ));
    };
    let dims: Vec<usize> = size
        .split_whitespace()
        .map(|w| w.parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            fail(
                sln,
                size,
                "size line must be three non-negative integers".into(),
            )
        })?;
    let &[rows, cols, nnz] = dims.as_slice() else {
        return Err(fail(
            sln,
            size,
            "size line must be `rows cols entries`".into(),
        ));
    };
    let n = rows.max(cols);
    let mut net = Network {
        title: file.to_string(),
        node_names: (1..=n).map(|i| i.to_string()).collect(),
        ..Network::default()
    };
    let mut count = 0usize;
    for (ln, raw) in body {
        count += 1;
        if count > nnz {
            return Err(fail(
                ln,
                raw,
                format!("more entries than the {nnz} declared"),
            ));
        }
        let w: Vec<&str> = raw.split_whitespace().collect();
        let want = if has_value { 3 } else { 2 };
        if w.len() != want {
            return Err(fail(ln, raw, format!("expected {want} fields per entry")));
        }
        let idx = |s: &str, lim: usize| s.parse::<usize>().ok().filter(|&v| v >= 1 && v <= lim);
        let (Some(i), Some(j)) = (idx(w[0], rows), idx(w[1], cols)) else {
            return Err(fail(
                ln,
                raw,
                format!("indices must be integers in 1..={rows} and 1..={cols}"),
            ));
        };
        let scale = if has_value {
            match w[2].parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => v,
                _ => {
                    return Err(fail(
                        ln,
                        raw,
                        format!(
                            "value `{}` must be a finite number >= 0 (a resistance scale)",
                            w[2]
                        ),
                    ));
                }
            }
        } else {
            1.0
        };
        if i == j || scale == 0.0 {
            continue;
        }
        let mut p = defaults.params(defaults.w0);
        p.ron *= scale;
        p.roff *= scale;
        if let Err(m) = check_memristor(&p) {
            return Err(fail(ln, raw, m));
        }
        let k = net.edges.len();
        net.edges.push(Edge {
            name: compact_str::format_compact!("xm{k}"),
            tail: i - 1,
            head: j - 1,
            device: Device::Memristor(p),
            source: None,
            loc: Some(at(ln)),
        });
    }
    if count < nnz {
        return Err(fail(
            sln,
            size,
            format!("{nnz} entries declared but only {count} found"),
        ));
    }
    Ok(net)
}
