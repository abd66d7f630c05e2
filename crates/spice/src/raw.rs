//! SPICE raw files (the Berkeley SPICE3 / ngspice "rawfile" format), read
//! and written, binary and ASCII.
//!
//! A file is one or more plots. Each plot is a text header (`Title:`,
//! `Date:`, `Plotname:`, `Flags:`, `No. Variables:`, `No. Points:`,
//! `Variables:` followed by one `index name type [extra...]` line per
//! variable) and then either `Values:` (ASCII: per point an index and one
//! value per variable, complex values as `re,im`) or `Binary:` (per point one
//! little-endian f64 per variable, two for complex plots, the scale included).
//!
//! The reader never panics and never trusts a count in the header before
//! checking it against the bytes actually present, so it is safe on any
//! input. Errors carry the 1-based line and the byte offset.
//!
//! [`RawWriter`] streams points and keeps `No. Points:` current (padded,
//! rewritten in place after every point) so that a run interrupted at any
//! moment leaves a file ngspice's `load` reads.

use std::fmt;
use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;

use serde::Serialize;

/// A failure to read a raw file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RawError {
    /// The file, when reading from a path.
    pub path: Option<String>,
    /// 1-based line (counting every `\n` byte before the problem).
    pub line: usize,
    /// Byte offset of the problem.
    pub byte: usize,
    pub message: String,
}

impl fmt::Display for RawError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.path {
            write!(f, "{p}:")?;
        }
        write!(f, "{}: {} (byte {})", self.line, self.message, self.byte)
    }
}

impl std::error::Error for RawError {}

/// One variable (column) of a plot.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Variable {
    /// As written, e.g. `time`, `v(xm1.w)`, `i(v1)`.
    pub name: String,
    /// As written, e.g. `time`, `voltage`, `current`, `frequency`.
    pub kind: String,
    /// Further fields of the variable line (`grid=3`, `dims=...`), verbatim.
    pub extra: Vec<String>,
}

impl Variable {
    /// A variable whose type is guessed from its name the way ngspice
    /// labels vectors: `time`, `frequency`, `i(...)` current, else voltage.
    pub fn named(name: &str) -> Self {
        let lower = name.to_ascii_lowercase();
        let kind = if lower == "time" || lower == "frequency" {
            lower.clone()
        } else if lower.starts_with("i(") || lower.ends_with("#branch") {
            "current".to_string()
        } else {
            "voltage".to_string()
        };
        Variable {
            name: name.to_string(),
            kind,
            extra: Vec::new(),
        }
    }
}

/// The data of a plot, stored per variable (column-major): `columns[v][p]`
/// is variable `v` at point `p`. Column 0 is the scale (time, frequency).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", content = "columns", rename_all = "snake_case")]
pub enum Columns {
    Real(Vec<Vec<f64>>),
    Complex(Vec<Vec<[f64; 2]>>),
}

/// One plot of a raw file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plot {
    pub title: String,
    pub date: String,
    pub plotname: String,
    /// The `Flags:` words, lower-case (`real`, `complex`, `forward`, ...).
    pub flags: Vec<String>,
    pub variables: Vec<Variable>,
    /// `No. Points:` as written. Larger than [`Plot::n_points`] only for a
    /// truncated plot read with [`ReadOptions::allow_truncated`].
    pub declared_points: usize,
    /// Header lines this reader does not interpret (`Command:`, `Option:`,
    /// ...), as (key, value).
    pub other: Vec<(String, String)>,
    pub columns: Columns,
}

impl Plot {
    /// An empty real plot with these variables.
    pub fn new_real(title: &str, plotname: &str, variables: Vec<Variable>) -> Self {
        let n = variables.len();
        Plot {
            title: title.to_string(),
            date: String::new(),
            plotname: plotname.to_string(),
            flags: vec!["real".to_string()],
            variables,
            declared_points: 0,
            other: Vec::new(),
            columns: Columns::Real(vec![Vec::new(); n]),
        }
    }

    pub fn is_complex(&self) -> bool {
        matches!(self.columns, Columns::Complex(_))
    }

    /// Number of points actually present.
    pub fn n_points(&self) -> usize {
        match &self.columns {
            Columns::Real(c) => c.first().map_or(0, Vec::len),
            Columns::Complex(c) => c.first().map_or(0, Vec::len),
        }
    }

    /// Whether fewer points are present than `No. Points:` declared.
    pub fn is_truncated(&self) -> bool {
        self.n_points() < self.declared_points
    }

    /// Index of a variable by name, ASCII case-insensitive (ngspice vector
    /// names are case-insensitive).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.variables
            .iter()
            .position(|v| v.name.eq_ignore_ascii_case(name))
    }

    /// A real column by name (`None` if absent or the plot is complex).
    pub fn real(&self, name: &str) -> Option<&[f64]> {
        let i = self.index_of(name)?;
        match &self.columns {
            Columns::Real(c) => c.get(i).map(Vec::as_slice),
            Columns::Complex(_) => None,
        }
    }

    /// A complex column by name (`None` if absent or the plot is real).
    pub fn complex(&self, name: &str) -> Option<&[[f64; 2]]> {
        let i = self.index_of(name)?;
        match &self.columns {
            Columns::Complex(c) => c.get(i).map(Vec::as_slice),
            Columns::Real(_) => None,
        }
    }

    /// The scale (first variable) as real numbers: real part for complex plots.
    pub fn scale(&self) -> Vec<f64> {
        match &self.columns {
            Columns::Real(c) => c.first().cloned().unwrap_or_default(),
            Columns::Complex(c) => c
                .first()
                .map(|v| v.iter().map(|z| z[0]).collect())
                .unwrap_or_default(),
        }
    }

    /// Writes this plot (header and data). `No. Points:` is the number of
    /// points present.
    pub fn write(&self, w: &mut impl Write, binary: bool) -> io::Result<()> {
        let n = self.n_points();
        write_header(
            w,
            &HeaderFields {
                title: &self.title,
                date: &self.date,
                plotname: &self.plotname,
                complex: self.is_complex(),
                flags: &self.flags,
                variables: &self.variables,
                other: &self.other,
            },
        )?;
        writeln!(w, "No. Points: {n}")?;
        write_variables(w, &self.variables)?;
        writeln!(w, "{}", if binary { "Binary:" } else { "Values:" })?;
        for p in 0..n {
            match &self.columns {
                Columns::Real(c) => {
                    if binary {
                        for col in c {
                            w.write_all(&col.get(p).copied().unwrap_or(0.0).to_le_bytes())?;
                        }
                    } else {
                        write!(w, " {p}")?;
                        for col in c {
                            writeln!(w, "\t{:e}", col.get(p).copied().unwrap_or(0.0))?;
                        }
                        writeln!(w)?;
                    }
                }
                Columns::Complex(c) => {
                    if binary {
                        for col in c {
                            let z = col.get(p).copied().unwrap_or([0.0; 2]);
                            w.write_all(&z[0].to_le_bytes())?;
                            w.write_all(&z[1].to_le_bytes())?;
                        }
                    } else {
                        write!(w, " {p}")?;
                        for col in c {
                            let z = col.get(p).copied().unwrap_or([0.0; 2]);
                            writeln!(w, "\t{:e},{:e}", z[0], z[1])?;
                        }
                        writeln!(w)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A whole raw file: its plots in order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RawFile {
    pub plots: Vec<Plot>,
}

/// How lenient the reader is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Accept a last plot with fewer points than `No. Points:` declares (an
    /// interrupted simulator): the complete points are kept, a partial point
    /// and trailing bytes are dropped.
    pub allow_truncated: bool,
}

impl RawFile {
    /// Parses a raw file; every inconsistency is an error.
    pub fn parse(bytes: &[u8]) -> Result<RawFile, RawError> {
        Self::parse_with(bytes, ReadOptions::default())
    }

    /// Like [`RawFile::parse`], with options. LTspice files (UTF-16LE text,
    /// single-precision values) are recognised; error byte offsets are
    /// mapped back to the original UTF-16 bytes.
    pub fn parse_with(bytes: &[u8], opts: ReadOptions) -> Result<RawFile, RawError> {
        let Some(t) = utf16le_to_utf8(bytes) else {
            return Reader {
                bytes,
                pos: 0,
                opts,
            }
            .file();
        };
        Reader {
            bytes: &t.bytes,
            pos: 0,
            opts,
        }
        .file()
        .map_err(|mut e| {
            e.byte = t.original_offset(e.byte).min(bytes.len());
            e
        })
    }

    /// Reads and parses a file; errors name the path.
    pub fn read(path: impl AsRef<Path>, opts: ReadOptions) -> Result<RawFile, RawError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| RawError {
            path: Some(path.display().to_string()),
            line: 0,
            byte: 0,
            message: format!("cannot read: {e}"),
        })?;
        Self::parse_with(&bytes, opts).map_err(|mut e| {
            e.path = Some(path.display().to_string());
            e
        })
    }

    /// The first plot whose name contains `needle` (ASCII case-insensitive),
    /// e.g. `"transient"`.
    pub fn plot(&self, needle: &str) -> Option<&Plot> {
        let needle = needle.to_ascii_lowercase();
        self.plots
            .iter()
            .find(|p| p.plotname.to_ascii_lowercase().contains(&needle))
    }

    /// Writes every plot, all binary or all ASCII.
    pub fn write(&self, w: &mut impl Write, binary: bool) -> io::Result<()> {
        for p in &self.plots {
            p.write(w, binary)?;
        }
        Ok(())
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    opts: ReadOptions,
}

/// A header being assembled.
#[derive(Default)]
struct Header {
    title: Option<String>,
    date: String,
    plotname: Option<String>,
    flags: Vec<String>,
    n_vars: Option<usize>,
    n_points: Option<usize>,
    variables: Option<Vec<Variable>>,
    other: Vec<(String, String)>,
    /// Whether any line of this header was seen.
    started: bool,
}

enum DataKind {
    Ascii,
    Binary,
}

impl<'a> Reader<'a> {
    fn err_at(&self, byte: usize, message: impl Into<String>) -> RawError {
        let byte = byte.min(self.bytes.len());
        let line = 1 + self.bytes[..byte].iter().filter(|&&b| b == b'\n').count();
        RawError {
            path: None,
            line,
            byte,
            message: message.into(),
        }
    }

    /// Next line (without `\n` / `\r\n`) and its start offset.
    fn next_line(&mut self) -> Option<(&'a [u8], usize)> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let start = self.pos;
        let rest = &self.bytes[start..];
        let (line, adv) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        self.pos = start + adv;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Some((line, start))
    }

    /// Position of the next non-blank line, without consuming it.
    fn peek_nonblank(&self) -> Option<(&'a [u8], usize)> {
        let mut probe = Reader {
            bytes: self.bytes,
            pos: self.pos,
            opts: self.opts,
        };
        while let Some((line, start)) = probe.next_line() {
            if !line.iter().all(u8::is_ascii_whitespace) {
                return Some((line, start));
            }
        }
        None
    }

    fn file(mut self) -> Result<RawFile, RawError> {
        let mut plots = Vec::new();
        while let Some((plot, stop)) = self.plot(&plots)? {
            plots.push(plot);
            if stop {
                break;
            }
        }
        if plots.is_empty() {
            return Err(self.err_at(
                0,
                "no plot found (expected a `Title:` or `Plotname:` header)",
            ));
        }
        Ok(RawFile { plots })
    }

    /// Reads one plot; `None` at a clean end of file. The flag says reading
    /// must stop (a truncated plot was accepted).
    fn plot(&mut self, done: &[Plot]) -> Result<Option<(Plot, bool)>, RawError> {
        let mut h = Header::default();
        let kind = loop {
            let Some((line, start)) = self.next_line() else {
                if h.started {
                    return Err(self.err_at(
                        self.bytes.len(),
                        "file ends inside a header (no `Values:` or `Binary:`)",
                    ));
                }
                return Ok(None);
            };
            let text = String::from_utf8_lossy(line);
            let trimmed = text.trim();
            if trimmed.is_empty() {
                continue;
            }
            let Some((key, value)) = trimmed.split_once(':') else {
                return Err(self.err_at(
                    start,
                    format!(
                        "expected a header line `Key: value`, found `{}`",
                        clip(trimmed)
                    ),
                ));
            };
            let key_norm = key
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_ascii_lowercase();
            let value = value.trim();
            h.started = true;
            match key_norm.as_str() {
                "title" => h.title = Some(value.to_string()),
                "date" => h.date = value.to_string(),
                "plotname" => h.plotname = Some(value.to_string()),
                "flags" => {
                    h.flags = value
                        .split_whitespace()
                        .map(str::to_ascii_lowercase)
                        .collect()
                }
                "no. variables" => h.n_vars = Some(self.count(value, start, "No. Variables")?),
                "no. points" => h.n_points = Some(self.count(value, start, "No. Points")?),
                "variables" => {
                    let Some(n) = h.n_vars else {
                        return Err(self.err_at(start, "`Variables:` before `No. Variables:`"));
                    };
                    h.variables = Some(self.variables(n, value, start)?);
                }
                "values" => break DataKind::Ascii,
                "binary" => break DataKind::Binary,
                _ => {
                    if !key
                        .bytes()
                        .all(|b| b.is_ascii_graphic() || b == b' ' || b == b'\t')
                        || key.trim().is_empty()
                    {
                        return Err(self.err_at(
                            start,
                            format!(
                                "expected a header line `Key: value`, found `{}`",
                                clip(trimmed)
                            ),
                        ));
                    }
                    h.other.push((key.trim().to_string(), value.to_string()));
                }
            }
        };
        let data_line = self.pos;
        let Some(variables) = h.variables else {
            return Err(self.err_at(data_line, "data section before the `Variables:` list"));
        };
        if variables.is_empty() {
            return Err(self.err_at(data_line, "a plot needs at least one variable"));
        }
        let complex = h.flags.iter().any(|f| f == "complex");
        // A later plot may omit Title: (it keeps the previous one).
        let title = h
            .title
            .or_else(|| done.last().map(|p| p.title.clone()))
            .unwrap_or_default();
        let plotname = h.plotname.unwrap_or_default();
        let (columns, declared, stop) = match kind {
            DataKind::Binary => {
                let Some(np) = h.n_points else {
                    return Err(self.err_at(data_line, "`Binary:` data needs `No. Points:`"));
                };
                if h.flags.iter().any(|f| f == "fastaccess") {
                    return Err(self.err_at(
                        data_line,
                        "LTspice FastAccess (column-major) data is not supported; re-save without -FastAccess",
                    ));
                }
                // LTspice stores real data as an f64 scale and f32 values
                // unless the `double` flag is set.
                let ltspice = h.other.iter().any(|(k, v)| {
                    k.eq_ignore_ascii_case("command") && v.to_ascii_lowercase().contains("ltspice")
                });
                let single = ltspice && !complex && !h.flags.iter().any(|f| f == "double");
                let (c, stop) = self.binary(variables.len(), np, complex, single)?;
                (c, np, stop)
            }
            DataKind::Ascii => {
                let (c, stop) = self.ascii(variables.len(), h.n_points, complex)?;
                let present = match &c {
                    Columns::Real(v) => v.first().map_or(0, Vec::len),
                    Columns::Complex(v) => v.first().map_or(0, Vec::len),
                };
                (c, h.n_points.unwrap_or(present), stop)
            }
        };
        let flags = if h.flags.is_empty() {
            vec![if complex { "complex" } else { "real" }.to_string()]
        } else {
            h.flags
        };
        Ok(Some((
            Plot {
                title,
                date: h.date,
                plotname,
                flags,
                variables,
                declared_points: declared,
                other: h.other,
                columns,
            },
            stop,
        )))
    }

    fn count(&self, value: &str, at: usize, what: &str) -> Result<usize, RawError> {
        value
            .split_whitespace()
            .next()
            .and_then(|t| t.parse::<usize>().ok())
            .ok_or_else(|| {
                self.err_at(
                    at,
                    format!(
                        "`{what}:` needs a non-negative integer, found `{}`",
                        clip(value)
                    ),
                )
            })
    }

    fn variables(
        &mut self,
        n: usize,
        same_line: &str,
        at: usize,
    ) -> Result<Vec<Variable>, RawError> {
        // Capacity from the bytes present, not from the header's count.
        let mut vars = Vec::with_capacity(n.min(1024));
        let mut pending = (!same_line.is_empty()).then(|| (same_line.to_string(), at));
        while vars.len() < n {
            let (text, start) = match pending.take() {
                Some(p) => p,
                None => {
                    let Some((line, start)) = self.next_line() else {
                        return Err(self.err_at(
                            self.bytes.len(),
                            format!("file ends after {} of {n} variables", vars.len()),
                        ));
                    };
                    (String::from_utf8_lossy(line).into_owned(), start)
                }
            };
            let mut fields = text.split_whitespace();
            let Some(first) = fields.next() else {
                continue;
            };
            let idx: usize = first.parse().map_err(|_| {
                self.err_at(
                    start,
                    format!(
                        "expected variable line `index name type`, found `{}` ({} of {n} variables read)",
                        clip(text.trim()),
                        vars.len()
                    ),
                )
            })?;
            if idx != vars.len() {
                return Err(self.err_at(
                    start,
                    format!(
                        "variable index {idx} out of order (expected {})",
                        vars.len()
                    ),
                ));
            }
            let Some(name) = fields.next() else {
                return Err(self.err_at(start, format!("variable {idx} has no name")));
            };
            let kind = fields.next().unwrap_or("").to_string();
            vars.push(Variable {
                name: name.to_string(),
                kind,
                extra: fields.map(str::to_string).collect(),
            });
        }
        Ok(vars)
    }

    /// `single`: LTspice layout, an f64 scale then f32 values; its scale
    /// may carry a flag in the sign bit, so its magnitude is taken.
    fn binary(
        &mut self,
        nv: usize,
        np: usize,
        complex: bool,
        single: bool,
    ) -> Result<(Columns, bool), RawError> {
        let start = self.pos;
        let width = if complex { 16 } else { 8 };
        let point_bytes = if single {
            nv.saturating_sub(1)
                .checked_mul(4)
                .and_then(|b| b.checked_add(8))
        } else {
            nv.checked_mul(width)
        }
        .ok_or_else(|| self.err_at(start, "too many variables"))?;
        let available = self.bytes.len() - start;
        let need = np.checked_mul(point_bytes);
        let (points, stop) = match need {
            Some(need) if need <= available => (np, false),
            _ => {
                let have = available / point_bytes;
                if !self.opts.allow_truncated {
                    return Err(self.err_at(
                        self.bytes.len(),
                        format!(
                            "binary data ends after {have} of {np} points ({available} bytes, {point_bytes} per point)"
                        ),
                    ));
                }
                (have, true)
            }
        };
        let data = &self.bytes[start..start + points * point_bytes];
        let f = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&data[i..i + 8]);
            f64::from_le_bytes(b)
        };
        let columns = if complex {
            let mut cols = vec![Vec::with_capacity(points); nv];
            for p in 0..points {
                for (v, col) in cols.iter_mut().enumerate() {
                    let o = p * point_bytes + v * 16;
                    col.push([f(o), f(o + 8)]);
                }
            }
            Columns::Complex(cols)
        } else {
            let mut cols = vec![Vec::with_capacity(points); nv];
            for p in 0..points {
                let o = p * point_bytes;
                for (v, col) in cols.iter_mut().enumerate() {
                    col.push(if !single {
                        f(o + v * 8)
                    } else if v == 0 {
                        f(o).abs()
                    } else {
                        let i = o + 8 + (v - 1) * 4;
                        let mut b = [0u8; 4];
                        b.copy_from_slice(&data[i..i + 4]);
                        f64::from(f32::from_le_bytes(b))
                    });
                }
            }
            Columns::Real(cols)
        };
        self.pos = start + points * point_bytes;
        if stop {
            return Ok((columns, true));
        }
        // What follows must be another plot's header (or nothing).
        if let Some((line, at)) = self.peek_nonblank()
            && !looks_like_header(line)
        {
            if self.opts.allow_truncated {
                self.pos = self.bytes.len();
                return Ok((columns, true));
            }
            return Err(self.err_at(
                at,
                "unexpected bytes after the binary data (more points than `No. Points:`?)",
            ));
        }
        Ok((columns, false))
    }

    fn ascii(
        &mut self,
        nv: usize,
        declared: Option<usize>,
        complex: bool,
    ) -> Result<(Columns, bool), RawError> {
        let mut re: Vec<Vec<f64>> = vec![Vec::new(); if complex { 0 } else { nv }];
        let mut cx: Vec<Vec<[f64; 2]>> = vec![Vec::new(); if complex { nv } else { 0 }];
        // `next_var == 0` means the next token is a point index.
        let mut next_var: Option<usize> = None;
        let mut points = 0usize;
        let mut stop = false;
        loop {
            if next_var.is_none() && declared.is_some_and(|d| points >= d) {
                break;
            }
            let before = self.pos;
            let Some((line, start)) = self.next_line() else {
                break;
            };
            if next_var.is_none() && looks_like_header(line) {
                // The next plot begins.
                self.pos = before;
                break;
            }
            let text = String::from_utf8_lossy(line);
            let mut col = 0usize;
            for tok in text.split(|c: char| c.is_ascii_whitespace()) {
                if tok.is_empty() {
                    col += 1;
                    continue;
                }
                let at = start + col.min(line.len());
                col += tok.len() + 1;
                match next_var {
                    None => {
                        if declared.is_some_and(|d| points >= d) {
                            return Err(self.err_at(
                                at,
                                format!("more points than `No. Points:` ({})", points),
                            ));
                        }
                        let idx: usize = tok.parse().map_err(|_| {
                            self.err_at(
                                at,
                                format!("expected point index {points}, found `{}`", clip(tok)),
                            )
                        })?;
                        if idx != points {
                            return Err(self.err_at(
                                at,
                                format!("point index {idx} out of order (expected {points})"),
                            ));
                        }
                        next_var = Some(0);
                    }
                    Some(v) => {
                        if complex {
                            let z = parse_complex(tok).ok_or_else(|| {
                                self.err_at(at, format!("expected `re,im` for variable {v} of point {points}, found `{}`", clip(tok)))
                            })?;
                            cx[v].push(z);
                        } else {
                            let x = parse_f64(tok).ok_or_else(|| {
                                self.err_at(at, format!("expected a number for variable {v} of point {points}, found `{}`", clip(tok)))
                            })?;
                            re[v].push(x);
                        }
                        if v + 1 == nv {
                            next_var = None;
                            points += 1;
                        } else {
                            next_var = Some(v + 1);
                        }
                    }
                }
            }
        }
        if next_var.is_some() {
            // A partial last point.
            if !self.opts.allow_truncated {
                return Err(self.err_at(self.pos, format!("point {points} is incomplete")));
            }
            for c in &mut re {
                c.truncate(points);
            }
            for c in &mut cx {
                c.truncate(points);
            }
            stop = true;
        }
        if let Some(d) = declared
            && points < d
        {
            if !self.opts.allow_truncated {
                return Err(
                    self.err_at(self.pos, format!("data ends after {points} of {d} points"))
                );
            }
            stop = true;
        }
        if !stop
            && let Some((line, at)) = self.peek_nonblank()
            && !looks_like_header(line)
        {
            if self.opts.allow_truncated {
                self.pos = self.bytes.len();
                stop = true;
            } else {
                return Err(self.err_at(at, format!("more points than `No. Points:` ({points})")));
            }
        }
        let columns = if complex {
            Columns::Complex(cx)
        } else {
            Columns::Real(re)
        };
        Ok((columns, stop))
    }
}

/// A UTF-16LE file with its text transcoded to UTF-8.
struct Transcoded {
    bytes: Vec<u8>,
    /// Length of the transcoded text (binary data follows it unchanged).
    text_len: usize,
    /// Bytes of the original the text came from (BOM included).
    original_text_len: usize,
    bom: usize,
}

impl Transcoded {
    /// Offset in the original file of transcoded offset `at`.
    fn original_offset(&self, at: usize) -> usize {
        if at >= self.text_len {
            return self.original_text_len + (at - self.text_len);
        }
        // Each char came from `len_utf16` units (a replacement char from one).
        let units: usize = String::from_utf8_lossy(&self.bytes[..at])
            .chars()
            .map(char::len_utf16)
            .sum();
        self.bom + 2 * units
    }
}

/// LTspice writes its raw files' text in UTF-16LE (binary data stays
/// binary). Returns the file with the text transcoded to UTF-8, or `None`
/// if the file does not look like UTF-16LE.
fn utf16le_to_utf8(bytes: &[u8]) -> Option<Transcoded> {
    let bom = if bytes.starts_with(&[0xff, 0xfe]) {
        2
    } else if bytes.len() >= 4
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == 0
        && bytes[2].is_ascii_alphabetic()
        && bytes[3] == 0
    {
        0
    } else {
        return None;
    };
    let body = &bytes[bom..];
    let decode = |units: &[u16]| -> String {
        char::decode_utf16(units.iter().copied())
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    };
    let mut out = Vec::with_capacity(body.len() / 2);
    let mut line: Vec<u16> = Vec::new();
    let mut i = 0;
    while i + 1 < body.len() {
        let unit = u16::from_le_bytes([body[i], body[i + 1]]);
        i += 2;
        line.push(unit);
        if unit == u16::from(b'\n') {
            let text = decode(&line);
            out.extend_from_slice(text.as_bytes());
            line.clear();
            if text.trim().eq_ignore_ascii_case("binary:") {
                // The data that follows is raw bytes.
                let text_len = out.len();
                out.extend_from_slice(&body[i..]);
                return Some(Transcoded {
                    bytes: out,
                    text_len,
                    original_text_len: bom + i,
                    bom,
                });
            }
        }
    }
    out.extend_from_slice(decode(&line).as_bytes());
    Some(Transcoded {
        text_len: out.len(),
        bytes: out,
        original_text_len: bytes.len(),
        bom,
    })
}

/// Whether a line starts a header: `Word...:` with a letter first.
fn looks_like_header(line: &[u8]) -> bool {
    let t = line.trim_ascii_start();
    t.first().is_some_and(u8::is_ascii_alphabetic)
        && t.iter()
            .take_while(|&&b| b != b':')
            .all(|&b| b.is_ascii_alphanumeric() || b == b' ' || b == b'.' || b == b'\t')
        && t.contains(&b':')
}

fn parse_f64(tok: &str) -> Option<f64> {
    tok.parse::<f64>().ok()
}

fn parse_complex(tok: &str) -> Option<[f64; 2]> {
    let (a, b) = tok.split_once(',')?;
    Some([parse_f64(a)?, parse_f64(b)?])
}

/// At most 40 characters of user text for a message.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().nth(40).is_some() {
        out.push_str("...");
    }
    out
}

struct HeaderFields<'a> {
    title: &'a str,
    date: &'a str,
    plotname: &'a str,
    complex: bool,
    flags: &'a [String],
    variables: &'a [Variable],
    other: &'a [(String, String)],
}

/// Header up to and including `No. Variables:` (the caller writes
/// `No. Points:` its own way).
fn write_header(w: &mut impl Write, h: &HeaderFields<'_>) -> io::Result<()> {
    writeln!(w, "Title: {}", one_line(h.title))?;
    writeln!(w, "Date: {}", one_line(h.date))?;
    writeln!(w, "Plotname: {}", one_line(h.plotname))?;
    // The data layout follows `complex`, so the flags must agree with it.
    let mut flags: Vec<&str> = h
        .flags
        .iter()
        .map(String::as_str)
        .filter(|f| *f != "real" && *f != "complex")
        .collect();
    flags.insert(0, if h.complex { "complex" } else { "real" });
    writeln!(w, "Flags: {}", flags.join(" "))?;
    for (k, v) in h.other {
        writeln!(w, "{}: {}", one_line(k), one_line(v))?;
    }
    writeln!(w, "No. Variables: {}", h.variables.len())
}

fn write_variables(w: &mut impl Write, vars: &[Variable]) -> io::Result<()> {
    writeln!(w, "Variables:")?;
    for (i, v) in vars.iter().enumerate() {
        let kind = if v.kind.is_empty() {
            "voltage"
        } else {
            &v.kind
        };
        write!(w, "\t{i}\t{}\t{}", no_space(&v.name), no_space(kind))?;
        for e in &v.extra {
            write!(w, "\t{}", no_space(e))?;
        }
        writeln!(w)?;
    }
    Ok(())
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn no_space(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect()
}

/// Width of the padded `No. Points:` field: any u64 fits, so the count can
/// be rewritten in place without moving the data.
const POINTS_FIELD: usize = 20;

/// A streaming writer of one real plot (ngspice-readable).
///
/// After every [`RawWriter::write_point`] the padded `No. Points:` field
/// is rewritten in place (seek back, write, seek to the end), so the file
/// on disk is a complete raw file with every point written so far: ngspice
/// `load` reads it if the run stops between points (Ctrl-C, panic, kill
/// while computing). Each point is one `write` call and the count another,
/// so only a kill inside that window of two system calls can leave a point
/// that the count does not cover (our reader's
/// [`ReadOptions::allow_truncated`] still reads such a file; ngspice 39
/// rejects trailing partial data).
#[derive(Debug)]
pub struct RawWriter<W: Write + Seek> {
    out: W,
    n_vars: usize,
    binary: bool,
    points: u64,
    /// Byte offset of the `No. Points:` number.
    points_at: u64,
    /// One point, assembled so that it reaches the file in one write.
    buf: Vec<u8>,
}

impl RawWriter<File> {
    /// Creates (truncates) `path` and writes the header. Unbuffered on
    /// purpose: every point is written whole, at once.
    pub fn create_file(
        path: impl AsRef<Path>,
        title: &str,
        plotname: &str,
        variables: &[&str],
        binary: bool,
    ) -> io::Result<Self> {
        let f = File::create(path)?;
        Self::create(f, title, plotname, variables, binary)
    }
}

impl<W: Write + Seek> RawWriter<W> {
    /// Writes the header to `out` (which should be positioned at its start).
    /// `variables[0]` is the scale, e.g. `time`; types are guessed from the
    /// names ([`Variable::named`]).
    pub fn create(
        mut out: W,
        title: &str,
        plotname: &str,
        variables: &[&str],
        binary: bool,
    ) -> io::Result<Self> {
        if variables.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a raw file needs at least one variable (the scale)",
            ));
        }
        let vars: Vec<Variable> = variables.iter().map(|n| Variable::named(n)).collect();
        let start = out.stream_position()?;
        let mut head = Vec::new();
        write_header(
            &mut head,
            &HeaderFields {
                title,
                date: "",
                plotname,
                complex: false,
                flags: &[],
                variables: &vars,
                other: &[],
            },
        )?;
        write!(head, "No. Points: ")?;
        let points_at = start + head.len() as u64;
        writeln!(head, "{:<width$}", 0, width = POINTS_FIELD)?;
        write_variables(&mut head, &vars)?;
        writeln!(head, "{}", if binary { "Binary:" } else { "Values:" })?;
        out.write_all(&head)?;
        out.flush()?;
        Ok(RawWriter {
            out,
            n_vars: vars.len(),
            binary,
            points: 0,
            points_at,
            buf: Vec::new(),
        })
    }

    /// Appends one point (scale first) and updates `No. Points:`.
    pub fn write_point(&mut self, values: &[f64]) -> io::Result<()> {
        if values.len() != self.n_vars {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "raw point has {} values, the plot has {} variables",
                    values.len(),
                    self.n_vars
                ),
            ));
        }
        self.buf.clear();
        if self.binary {
            for v in values {
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
        } else {
            // `{:e}` is the shortest representation that parses back exactly.
            write!(self.buf, " {}", self.points)?;
            for v in values {
                writeln!(self.buf, "\t{v:e}")?;
            }
            self.buf.push(b'\n');
        }
        self.out.write_all(&self.buf)?;
        self.points += 1;
        // Data first, count second: the count never covers missing data.
        let end = self.out.stream_position()?;
        self.out.seek(SeekFrom::Start(self.points_at))?;
        let count = format!("{:<width$}", self.points, width = POINTS_FIELD);
        self.out.write_all(count.as_bytes())?;
        self.out.seek(SeekFrom::Start(end))?;
        self.out.flush()
    }

    /// Points written so far.
    pub fn points(&self) -> u64 {
        self.points
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
