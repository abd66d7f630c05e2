//! Instance files (docs/optimize.md, "Files"; apps.md A.8): OR-Library
//! bqp, Gset/rudy max-cut, bqpjson and memnet's own sparse text format,
//! each converted exactly to the canonical form of [`crate::Qubo`].
//! Every malformed input is an error at FILE:LINE:COL.

use std::path::Path;
use std::sync::Arc;

use memnet_spice::Loc;
use serde::Serialize;

use crate::problem::{Kind, ProblemError, Qubo};

/// The instance formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// OR-Library `bqp*.txt`: maximise x^T Q x, upper triangle listed.
    Bqp,
    /// Gset max-cut in rudy format.
    Rudy,
    /// memnet's sparse QUBO/Ising text (docs/optimize.md).
    Memnet,
    /// LANL's bqpjson.
    Bqpjson,
}

impl Format {
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "bqp" => Some(Format::Bqp),
            "rudy" | "gset" => Some(Format::Rudy),
            "memnet" | "qubo" => Some(Format::Memnet),
            "bqpjson" | "json" => Some(Format::Bqpjson),
            _ => None,
        }
    }
}

/// A failure to read an instance: where and why.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{loc}: error: {message}")]
pub struct ReadError {
    pub loc: Loc,
    pub message: String,
}

/// A problem read from a file, with what it was.
#[derive(Clone, Debug)]
pub struct Instance {
    pub qubo: Qubo,
    pub format: Format,
    /// For a file with several instances (bqp), the one read (1-based).
    pub instance: Option<usize>,
    /// How many instances the file holds.
    pub instances: usize,
}

/// Reads `path` (format from `format`, else detected from the content:
/// `{` is bqpjson, a first word `memnet-qubo` memnet's format, a first
/// line of one number bqp, of two numbers rudy). `instance` (1-based)
/// picks one of a bqp file's instances; it is required when there are
/// several.
pub fn read_file(
    path: &Path,
    format: Option<Format>,
    instance: Option<usize>,
) -> Result<Instance, ReadError> {
    let name: Arc<str> = path.display().to_string().into();
    let bytes = std::fs::read(path).map_err(|e| ReadError {
        loc: Loc::new(name.clone(), 0, 0),
        message: format!("cannot read: {e}"),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let (line, col) = line_col(&e.as_bytes()[..e.utf8_error().valid_up_to()]);
        ReadError {
            loc: Loc::new(name.clone(), line, col),
            message: "not UTF-8 text".into(),
        }
    })?;
    read_str(&text, &name, format, instance)
}

/// As [`read_file`], from text; `file` names it in errors.
pub fn read_str(
    text: &str,
    file: &str,
    format: Option<Format>,
    instance: Option<usize>,
) -> Result<Instance, ReadError> {
    let file: Arc<str> = file.into();
    let format = match format {
        Some(f) => f,
        None => detect(text).ok_or_else(|| ReadError {
            loc: Loc::new(file.clone(), 1, 1),
            message: "cannot tell the format (bqp, rudy, memnet, bqpjson): give --format".into(),
        })?,
    };
    if instance.is_some() && format != Format::Bqp {
        return Err(ReadError {
            loc: Loc::new(file.clone(), 1, 1),
            message: "--instance applies to bqp files (several instances in one file)".into(),
        });
    }
    match format {
        Format::Bqp => read_bqp(text, &file, instance),
        Format::Rudy => read_rudy(text, &file),
        Format::Memnet => read_memnet(text, &file),
        Format::Bqpjson => read_bqpjson(text, &file),
    }
}

fn detect(text: &str) -> Option<Format> {
    let first = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .find(|l| !l.is_empty())?;
    if first.starts_with('{') {
        return Some(Format::Bqpjson);
    }
    let words: Vec<&str> = first.split_ascii_whitespace().collect();
    if words[0] == "memnet-qubo" {
        return Some(Format::Memnet);
    }
    let numbers = words.iter().all(|w| w.parse::<f64>().is_ok());
    match (numbers, words.len()) {
        (true, 1) => Some(Format::Bqp),
        (true, 2) => Some(Format::Rudy),
        _ => None,
    }
}

/// 1-based line and column of the end of `prefix`.
fn line_col(prefix: &[u8]) -> (u32, u32) {
    let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = prefix.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line as u32, col as u32)
}

/// A whitespace token with its place.
#[derive(Clone, Copy)]
struct Token<'a> {
    text: &'a str,
    line: u32,
    col: u32,
}

/// Whitespace-separated tokens with their line and column (CRLF and
/// trailing spaces are whitespace), skipping `#` comments when `comments`.
struct Tokens<'a> {
    text: &'a str,
    pos: usize,
    line: u32,
    line_start: usize,
    comments: bool,
    file: Arc<str>,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str, file: &Arc<str>, comments: bool) -> Tokens<'a> {
        Tokens {
            text,
            pos: 0,
            line: 1,
            line_start: 0,
            comments,
            file: file.clone(),
        }
    }

    fn next_token(&mut self) -> Option<Token<'a>> {
        let b = self.text.as_bytes();
        loop {
            while self.pos < b.len() && b[self.pos].is_ascii_whitespace() {
                if b[self.pos] == b'\n' {
                    self.line += 1;
                    self.line_start = self.pos + 1;
                }
                self.pos += 1;
            }
            if self.comments && self.pos < b.len() && b[self.pos] == b'#' {
                while self.pos < b.len() && b[self.pos] != b'\n' {
                    self.pos += 1;
                }
                continue;
            }
            break;
        }
        if self.pos >= b.len() {
            return None;
        }
        let start = self.pos;
        while self.pos < b.len() && !b[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        Some(Token {
            text: &self.text[start..self.pos],
            line: self.line,
            col: (self.text[self.line_start..start].chars().count() + 1) as u32,
        })
    }

    /// The place just after the last token (for "the file ends early").
    fn end_loc(&self) -> Loc {
        let col = self.text[self.line_start..self.pos].chars().count() + 1;
        Loc::new(self.file.clone(), self.line, col as u32)
    }

    fn at(&self, t: &Token) -> Loc {
        Loc::new(self.file.clone(), t.line, t.col)
    }

    fn err(&self, t: &Token, message: impl Into<String>) -> ReadError {
        ReadError {
            loc: self.at(t),
            message: message.into(),
        }
    }

    /// The next token, which must exist: `what` names it in the error.
    fn need(&mut self, what: &str) -> Result<Token<'a>, ReadError> {
        self.next_token().ok_or_else(|| ReadError {
            loc: self.end_loc(),
            message: format!("the file ends where {what} was expected"),
        })
    }

    fn count(&mut self, what: &str) -> Result<(usize, Token<'a>), ReadError> {
        let t = self.need(what)?;
        let v = t
            .text
            .parse::<usize>()
            .map_err(|_| self.err(&t, format!("{what}: expected a count, got `{}`", t.text)))?;
        Ok((v, t))
    }

    /// A 1-based (or `base`-based) variable index below `n`, as 0-based.
    fn index(
        &mut self,
        what: &str,
        n: usize,
        base: usize,
    ) -> Result<(usize, Token<'a>), ReadError> {
        let t = self.need(what)?;
        let v = t.text.parse::<usize>().map_err(|_| {
            self.err(
                &t,
                format!("{what}: expected a variable index, got `{}`", t.text),
            )
        })?;
        if v < base || v - base >= n {
            return Err(self.err(
                &t,
                format!(
                    "{what} {v} is out of range: the problem has {n} variables, numbered from {base}"
                ),
            ));
        }
        Ok((v - base, t))
    }

    fn number(&mut self, what: &str) -> Result<(f64, Token<'a>), ReadError> {
        let t = self.need(what)?;
        let v = t
            .text
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| self.err(&t, format!("{what}: expected a number, got `{}`", t.text)))?;
        Ok((v, t))
    }

    fn expect_end(&mut self, what: &str) -> Result<(), ReadError> {
        match self.next_token() {
            None => Ok(()),
            Some(t) => Err(self.err(&t, format!("unexpected `{}` after {what}", t.text))),
        }
    }
}

fn problem_error(file: &Arc<str>, e: ProblemError) -> ReadError {
    ReadError {
        loc: Loc::new(file.clone(), 1, 1),
        message: e.to_string(),
    }
}

/// OR-Library bqp (apps.md A.1, A.8): maximise f(x) = sum q_ii x_i +
/// 2 sum_{i<j} q_ij x_i x_j, so h_i = -q_ii and J_ij = -2 q_ij. An entry
/// may be listed as (i, j) or (j, i); listed both ways it must carry the
/// same value (Q is symmetric) and counts once.
fn read_bqp(text: &str, file: &Arc<str>, instance: Option<usize>) -> Result<Instance, ReadError> {
    let mut tk = Tokens::new(text, file, false);
    let (k, k_tok) = tk.count("the number of instances")?;
    if k == 0 {
        return Err(tk.err(&k_tok, "the file holds no instance"));
    }
    let want = match instance {
        Some(i) if (1..=k).contains(&i) => i,
        Some(i) => {
            return Err(tk.err(
                &k_tok,
                format!("--instance {i}: the file holds instances 1 to {k}"),
            ));
        }
        None if k == 1 => 1,
        None => {
            return Err(tk.err(
                &k_tok,
                format!("the file holds {k} instances: choose one with --instance 1..{k}"),
            ));
        }
    };
    for idx in 1..=k {
        let (n, _) = tk.count("the number of variables")?;
        let (m, _) = tk.count("the number of entries")?;
        if idx != want {
            for _ in 0..3 * m {
                tk.need("an entry")?;
            }
            continue;
        }
        let mut h = vec![0.0; n];
        let mut seen_diag = vec![false; n];
        let mut entries: std::collections::HashMap<(usize, usize), (f64, Token)> =
            std::collections::HashMap::with_capacity(m);
        for _ in 0..m {
            let (i, at) = tk.index("row", n, 1)?;
            let (j, _) = tk.index("column", n, 1)?;
            let (q, _) = tk.number("the entry")?;
            if i == j {
                if seen_diag[i] {
                    return Err(tk.err(
                        &at,
                        format!("diagonal entry ({0}, {0}) listed twice", i + 1),
                    ));
                }
                seen_diag[i] = true;
                h[i] = -q;
                continue;
            }
            let key = (i.min(j), i.max(j));
            if let Some((prev, prev_at)) = entries.get(&key) {
                if *prev != q {
                    return Err(tk.err(
                        &at,
                        format!(
                            "entry ({}, {}) = {q} but ({}, {}) = {prev} at line {}: Q must be symmetric",
                            i + 1,
                            j + 1,
                            j + 1,
                            i + 1,
                            prev_at.line
                        ),
                    ));
                }
                // The mirror image of an entry already read: counted once.
                continue;
            }
            entries.insert(key, (q, at));
        }
        if idx == k {
            tk.expect_end(&format!("the {m} entries of the last instance"))?;
        }
        let mut pairs: Vec<(usize, usize, f64)> = entries
            .into_iter()
            .map(|((i, j), (q, _))| (i, j, -2.0 * q))
            .collect();
        pairs.sort_unstable_by_key(|&(i, j, _)| (i, j));
        let qubo =
            Qubo::new(h, &pairs, 0.0, true, Kind::Bqp).map_err(|e| problem_error(file, e))?;
        return Ok(Instance {
            qubo,
            format: Format::Bqp,
            instance: Some(want),
            instances: k,
        });
    }
    unreachable!("the wanted instance is within 1..=k")
}

/// Gset / rudy max-cut: `n m`, then m edges `i j w` (1-based).
fn read_rudy(text: &str, file: &Arc<str>) -> Result<Instance, ReadError> {
    let mut tk = Tokens::new(text, file, false);
    let (n, _) = tk.count("the number of nodes")?;
    let (m, _) = tk.count("the number of edges")?;
    let mut edges = Vec::with_capacity(m);
    for _ in 0..m {
        let (i, at) = tk.index("node", n, 1)?;
        let (j, _) = tk.index("node", n, 1)?;
        let (w, _) = tk.number("the edge weight")?;
        if i == j {
            return Err(tk.err(
                &at,
                format!("edge ({0}, {0}) is a loop, which no cut crosses", i + 1),
            ));
        }
        edges.push((i, j, w));
    }
    tk.expect_end(&format!("the {m} edges the header announced"))?;
    let qubo = Qubo::from_max_cut(n, &edges).map_err(|e| problem_error(file, e))?;
    Ok(Instance {
        qubo,
        format: Format::Rudy,
        instance: None,
        instances: 1,
    })
}

/// memnet's sparse text format (docs/optimize.md, "memnet's QUBO format"):
///
/// ```text
/// memnet-qubo 1
/// sense min          # or max
/// domain binary      # or spin (s = +-1)
/// index 1            # or 0: how variables are numbered
/// variables 3
/// offset 0
/// 1 -2.5             # a linear term: variable, coefficient
/// 1 2 3              # a pair: variable, variable, coefficient
/// ```
///
/// The objective is offset + the sum of the terms. Each variable's linear
/// term and each unordered pair appear at most once; `i i c` is a linear
/// term for binary variables (x^2 = x) and a constant for spins (s^2 = 1).
fn read_memnet(text: &str, file: &Arc<str>) -> Result<Instance, ReadError> {
    let mut lines = Vec::new();
    for (k, raw) in text.lines().enumerate() {
        let body = raw.split('#').next().unwrap_or("");
        let mut words = Vec::new();
        let mut rest = body;
        let mut offset = 0;
        while let Some(start) = rest.find(|c: char| !c.is_ascii_whitespace()) {
            let end = rest[start..]
                .find(|c: char| c.is_ascii_whitespace())
                .map_or(rest.len(), |e| start + e);
            words.push((&rest[start..end], offset + start));
            offset += end;
            rest = &rest[end..];
        }
        if !words.is_empty() {
            lines.push((k as u32 + 1, raw, words));
        }
    }
    let loc = |line: u32, raw: &str, byte: usize| {
        Loc::new(file.clone(), line, raw[..byte].chars().count() as u32 + 1)
    };
    let err = |line: u32, raw: &str, byte: usize, m: String| ReadError {
        loc: loc(line, raw, byte),
        message: m,
    };
    let Some((first_line, first_raw, first)) = lines.first() else {
        return Err(ReadError {
            loc: Loc::new(file.clone(), 1, 1),
            message: "empty file: expected `memnet-qubo 1`".into(),
        });
    };
    if first.len() != 2 || first[0].0 != "memnet-qubo" {
        return Err(err(
            *first_line,
            first_raw,
            first[0].1,
            "expected `memnet-qubo 1` first".into(),
        ));
    }
    if first[1].0 != "1" {
        return Err(err(
            *first_line,
            first_raw,
            first[1].1,
            format!("version `{}`: this memnet reads version 1", first[1].0),
        ));
    }
    let (mut sense, mut domain, mut base, mut vars, mut offset) = (None, None, None, None, None);
    let mut h: Vec<f64> = Vec::new();
    let mut linear_at: Vec<Option<u32>> = Vec::new();
    let mut pairs: Vec<(usize, usize, f64)> = Vec::new();
    let mut pair_at: std::collections::HashMap<(usize, usize), u32> = Default::default();
    let mut constant = 0.0;
    for (line, raw, words) in &lines[1..] {
        let (line, raw) = (*line, *raw);
        let head = words[0].0;
        if head.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
            if !h.is_empty() || !pairs.is_empty() || constant != 0.0 {
                return Err(err(
                    line,
                    raw,
                    words[0].1,
                    format!("`{head}` after the terms: the header comes first"),
                ));
            }
            if words.len() != 2 {
                return Err(err(
                    line,
                    raw,
                    words[0].1,
                    format!("expected `{head} VALUE`"),
                ));
            }
            let (value, at) = words[1];
            let bad = |what: &str| {
                err(
                    line,
                    raw,
                    at,
                    format!("{head}: expected {what}, got `{value}`"),
                )
            };
            let twice = |set: bool| {
                if set {
                    Err(err(line, raw, words[0].1, format!("`{head}` given twice")))
                } else {
                    Ok(())
                }
            };
            match head {
                "sense" => {
                    twice(sense.is_some())?;
                    sense = Some(match value {
                        "min" | "minimize" | "minimise" => false,
                        "max" | "maximize" | "maximise" => true,
                        _ => return Err(bad("min or max")),
                    });
                }
                "domain" => {
                    twice(domain.is_some())?;
                    domain = Some(match value {
                        "binary" | "boolean" | "01" => false,
                        "spin" | "ising" | "pm1" => true,
                        _ => return Err(bad("binary or spin")),
                    });
                }
                "index" => {
                    twice(base.is_some())?;
                    base = Some(match value {
                        "0" => 0,
                        "1" => 1,
                        _ => return Err(bad("0 or 1")),
                    });
                }
                "variables" => {
                    twice(vars.is_some())?;
                    vars = Some(value.parse::<usize>().map_err(|_| bad("a count"))?);
                }
                "offset" => {
                    twice(offset.is_some())?;
                    offset = Some(
                        value
                            .parse::<f64>()
                            .ok()
                            .filter(|v| v.is_finite())
                            .ok_or_else(|| bad("a number"))?,
                    );
                }
                _ => {
                    return Err(err(
                        line,
                        raw,
                        words[0].1,
                        format!(
                            "unknown header `{head}` (sense, domain, index, variables, offset)"
                        ),
                    ));
                }
            }
            continue;
        }
        // A term: the header must be complete.
        let missing: Vec<&str> = [
            ("sense", sense.is_none()),
            ("domain", domain.is_none()),
            ("index", base.is_none()),
            ("variables", vars.is_none()),
            ("offset", offset.is_none()),
        ]
        .iter()
        .filter(|(_, m)| *m)
        .map(|(n, _)| *n)
        .collect();
        if !missing.is_empty() {
            return Err(err(
                line,
                raw,
                words[0].1,
                format!(
                    "a term before the header is complete: missing {}",
                    missing.join(", ")
                ),
            ));
        }
        let (n, b) = (vars.unwrap_or(0), base.unwrap_or(0));
        if h.len() != n {
            h = vec![0.0; n];
            linear_at = vec![None; n];
        }
        let index = |(w, at): (&str, usize)| -> Result<usize, ReadError> {
            let v = w.parse::<usize>().map_err(|_| {
                err(
                    line,
                    raw,
                    at,
                    format!("expected a variable index, got `{w}`"),
                )
            })?;
            if v < b || v - b >= n {
                return Err(err(
                    line,
                    raw,
                    at,
                    format!("variable {v} is out of range: {n} variables, numbered from {b}"),
                ));
            }
            Ok(v - b)
        };
        let coeff = |(w, at): (&str, usize)| -> Result<f64, ReadError> {
            w.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| err(line, raw, at, format!("expected a coefficient, got `{w}`")))
        };
        let (i, j, c) = match words.len() {
            2 => {
                let i = index(words[0])?;
                (i, i, coeff(words[1])?)
            }
            3 => (index(words[0])?, index(words[1])?, coeff(words[2])?),
            _ => {
                return Err(err(
                    line,
                    raw,
                    words[0].1,
                    "expected a term `I COEFF` or `I J COEFF`".into(),
                ));
            }
        };
        if i == j {
            if let Some(prev) = linear_at[i] {
                return Err(err(
                    line,
                    raw,
                    words[0].1,
                    format!(
                        "the linear term of variable {} is also at line {prev}",
                        i + b
                    ),
                ));
            }
            linear_at[i] = Some(line);
            if domain == Some(true) && words.len() == 3 {
                constant += c; // s_i^2 = 1
            } else {
                h[i] = c;
            }
        } else {
            let key = (i.min(j), i.max(j));
            if let Some(prev) = pair_at.insert(key, line) {
                return Err(err(
                    line,
                    raw,
                    words[0].1,
                    format!(
                        "pair ({}, {}) is also at line {prev}: each pair once",
                        key.0 + b,
                        key.1 + b
                    ),
                ));
            }
            pairs.push((i, j, c));
        }
    }
    let Some(n) = vars else {
        return Err(ReadError {
            loc: Loc::new(file.clone(), *first_line, 1),
            message: "no `variables N` line".into(),
        });
    };
    if h.len() != n {
        h = vec![0.0; n];
    }
    let (maximize, spin) = (sense.unwrap_or(false), domain.unwrap_or(false));
    let offset = offset.unwrap_or(0.0) + constant;
    // Minimise E: a maximised objective F becomes E = -F.
    let s = if maximize { -1.0 } else { 1.0 };
    let h: Vec<f64> = h.iter().map(|v| s * v).collect();
    let pairs: Vec<(usize, usize, f64)> = pairs.iter().map(|&(i, j, v)| (i, j, s * v)).collect();
    let qubo = if spin {
        Qubo::from_ising(&h, &pairs, s * offset, maximize)
    } else {
        Qubo::new(h, &pairs, s * offset, maximize, Kind::Qubo)
    }
    .map_err(|e| problem_error(file, e))?;
    Ok(Instance {
        qubo,
        format: Format::Memnet,
        instance: None,
        instances: 1,
    })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BqpJson {
    #[allow(dead_code)]
    version: Option<String>,
    #[allow(dead_code)]
    id: Option<serde_json::Value>,
    #[allow(dead_code)]
    metadata: Option<serde_json::Value>,
    variable_ids: Vec<i64>,
    variable_domain: String,
    scale: f64,
    offset: f64,
    linear_terms: Vec<LinearTerm>,
    quadratic_terms: Vec<QuadraticTerm>,
    #[allow(dead_code)]
    solutions: Option<serde_json::Value>,
}

#[derive(serde::Deserialize)]
struct LinearTerm {
    id: i64,
    coeff: f64,
}

#[derive(serde::Deserialize)]
struct QuadraticTerm {
    id_tail: i64,
    id_head: i64,
    coeff: f64,
}

/// bqpjson (repo `lanl-ansi/bqpjson`): minimise scale * (sum of terms +
/// offset) over the listed variable ids, boolean or spin; variables in
/// the order of `variable_ids`.
fn read_bqpjson(text: &str, file: &Arc<str>) -> Result<Instance, ReadError> {
    let doc: BqpJson = serde_json::from_str(text).map_err(|e| ReadError {
        loc: Loc::new(file.clone(), e.line() as u32, e.column() as u32),
        message: format!("bqpjson: {e}"),
    })?;
    let at = |needle: &str| {
        let byte = text.find(needle).unwrap_or(0);
        let (line, col) = line_col(&text.as_bytes()[..byte]);
        Loc::new(file.clone(), line, col)
    };
    let fail = |needle: &str, message: String| ReadError {
        loc: at(needle),
        message,
    };
    let spin = match doc.variable_domain.as_str() {
        "spin" => true,
        "boolean" => false,
        other => {
            return Err(fail(
                "variable_domain",
                format!("variable_domain `{other}`: expected spin or boolean"),
            ));
        }
    };
    if !(doc.scale.is_finite() && doc.scale > 0.0) {
        return Err(fail(
            "scale",
            format!("scale {} must be positive", doc.scale),
        ));
    }
    let mut index = std::collections::HashMap::with_capacity(doc.variable_ids.len());
    for (k, &id) in doc.variable_ids.iter().enumerate() {
        if index.insert(id, k).is_some() {
            return Err(fail(
                "variable_ids",
                format!("variable id {id} listed twice"),
            ));
        }
    }
    let n = doc.variable_ids.len();
    let var = |id: i64, what: &str| {
        index
            .get(&id)
            .copied()
            .ok_or_else(|| fail(what, format!("{what}: id {id} is not in variable_ids")))
    };
    let mut h = vec![0.0; n];
    let mut seen = vec![false; n];
    for t in &doc.linear_terms {
        let k = var(t.id, "linear_terms")?;
        if std::mem::replace(&mut seen[k], true) {
            return Err(fail(
                "linear_terms",
                format!("linear term of id {} listed twice", t.id),
            ));
        }
        h[k] = doc.scale * t.coeff;
    }
    let mut pairs = Vec::with_capacity(doc.quadratic_terms.len());
    let mut seen_pairs = std::collections::HashSet::new();
    for t in &doc.quadratic_terms {
        let (i, j) = (
            var(t.id_tail, "quadratic_terms")?,
            var(t.id_head, "quadratic_terms")?,
        );
        if i == j {
            return Err(fail(
                "quadratic_terms",
                format!("quadratic term ({0}, {0}) has id_tail = id_head", t.id_tail),
            ));
        }
        if !seen_pairs.insert((i.min(j), i.max(j))) {
            return Err(fail(
                "quadratic_terms",
                format!("quadratic term ({}, {}) listed twice", t.id_tail, t.id_head),
            ));
        }
        pairs.push((i, j, doc.scale * t.coeff));
    }
    let offset = doc.scale * doc.offset;
    let qubo = if spin {
        Qubo::from_ising(&h, &pairs, offset, false)
    } else {
        Qubo::new(h, &pairs, offset, false, Kind::Qubo)
    }
    .map_err(|e| problem_error(file, e))?;
    Ok(Instance {
        qubo,
        format: Format::Bqpjson,
        instance: None,
        instances: 1,
    })
}
