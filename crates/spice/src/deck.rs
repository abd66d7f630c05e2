//! Text to deck: lines, continuation, comments, includes and libraries,
//! subcircuit nesting and one typed statement per card, every piece with
//! its source position. Nothing is evaluated here (parameters can be used
//! before they are defined); see [`crate::elab`].
//!
//! Speed matters (netlists of millions of devices): physical lines are
//! borrowed, a card spanning one line is never copied, cards are dispatched
//! on their first letter, and fields are split by a byte scanner into a
//! reused token buffer; values go through [`crate::number`] (fast path) or
//! the nom expression parser in [`crate::expr`].

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::circuit::{Loc, OutputCard, Warning};
use crate::decode::decode;
use crate::diag::Diagnostic;
use crate::expr::{BinOp, Expr, parse_expr};
use crate::number::parse_number;

/// A source file kept for diagnostics (its decoded text).
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path as shown in messages (relative paths stay relative).
    pub name: Arc<str>,
    pub text: String,
}

/// Line and column (1-based) inside the file of the card that holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// A value as written: its expression and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Val {
    pub expr: Expr,
    pub pos: Pos,
}

/// A parsed netlist, before parameter evaluation and flattening.
#[derive(Clone, Debug, Default)]
pub struct Deck {
    pub title: String,
    /// Every file read (top file first), for rendering diagnostics.
    pub files: Vec<SourceFile>,
    pub body: Body,
    pub analyses: Vec<AnalysisCard>,
    pub options: Vec<(String, String)>,
    pub outputs: Vec<OutputCard>,
    pub controls: Vec<String>,
    /// Where each `.control` block starts (its `.control` line).
    pub control_locs: Vec<Loc>,
    /// `.csparam name=value`: parameters made visible to `.control` blocks.
    pub csparams: Vec<ParamDef>,
    /// `.global` node names (never prefixed when flattening).
    pub globals: Vec<String>,
    pub warnings: Vec<Warning>,
}

/// The contents of the top level or of one `.subckt`.
#[derive(Clone, Debug, Default)]
pub struct Body {
    pub stmts: Vec<Stmt>,
    pub params: Vec<ParamDef>,
    pub funcs: Vec<FuncDef>,
    pub subckts: Vec<Subckt>,
}

#[derive(Clone, Debug)]
pub struct ParamDef {
    pub name: String,
    pub val: Val,
    pub loc: Loc,
}

/// `.func name(args) = {body}`.
#[derive(Clone, Debug)]
pub struct FuncDef {
    pub name: String,
    pub args: Vec<String>,
    pub body: Val,
    pub loc: Loc,
}

/// `.subckt name pins [PARAMS:] k=v ...` ... `.ends`.
#[derive(Clone, Debug)]
pub struct Subckt {
    pub name: String,
    pub pins: Vec<String>,
    /// `PARAMS:` defaults, in order.
    pub defaults: Vec<ParamDef>,
    pub body: Body,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
/// Variants are boxed so a `Vec<Stmt>` of millions of deferred cards stays
/// small.
pub enum Stmt {
    Element(Box<ElementCard>),
    /// A top-level one-line element card, parsed only when elaborated: big
    /// netlists then cost the text plus 24 bytes per card until the flat
    /// circuit is built (see [`parse_raw`]; a test holds the 24).
    Raw(RawCard),
    Model(Box<ModelCard>),
    /// `.ic v(node)=value ...`.
    Ic(Box<(Vec<(String, Val)>, Loc)>),
}

/// Where a one-line element card is: file index into [`Deck::files`],
/// 1-based line number, the line's byte range in the file and the card's
/// byte range within the line (after comment stripping). 20 bytes, so a
/// [`Stmt`] is 24: a card on a line longer than 64 KiB, or in a file past
/// 4 GiB, is parsed at once instead.
#[derive(Clone, Copy, Debug)]
pub struct RawCard {
    pub file: u32,
    pub line_no: u32,
    pub line_start: u32,
    pub line_len: u32,
    pub start: u16,
    pub end: u16,
}

/// Parse a deferred element card (see [`Stmt::Raw`]) into a
/// [`Stmt::Element`]. Field warnings go to `warnings`.
pub fn parse_raw(
    files: &[SourceFile],
    raw: &RawCard,
    warnings: &mut Vec<Warning>,
) -> Result<Stmt, Diagnostic> {
    let mut toks = Vec::new();
    parse_raw_with(files, raw, &mut toks, warnings).map(|c| Stmt::Element(Box::new(c)))
}

/// [`parse_raw`] reusing a token buffer.
pub(crate) fn parse_raw_with(
    files: &[SourceFile],
    raw: &RawCard,
    toks: &mut Vec<TokBuf>,
    warnings: &mut Vec<Warning>,
) -> Result<ElementCard, Diagnostic> {
    let f = files.get(raw.file as usize);
    let line = f
        .and_then(|f| {
            f.text
                .get(raw.line_start as usize..(raw.line_start + raw.line_len) as usize)
        })
        .unwrap_or("");
    let name = f.map(|f| f.name.clone()).unwrap_or_else(|| Arc::from(""));
    let (start, end) = (raw.start as usize, raw.end as usize);
    let seg = [Seg {
        line_no: raw.line_no,
        line,
        start,
        end,
    }];
    let card = Card {
        text: Cow::Borrowed(line.get(start..end).unwrap_or("")),
        segs: &seg,
        ascii: line.is_ascii(),
    };
    let cx = ParseCtx { card: &card, name };
    tokenize(cx.text(), toks).map_err(|(off, msg)| cx.err(off, msg))?;
    if toks.first().is_none_or(|t| t.kind != TokKind::Word) {
        return Err(cx.err(0, "a card must start with a name"));
    }
    element(&cx, toks, warnings)
}

/// One element card. `name` and `nodes` are lower-case as written.
#[derive(Clone, Debug)]
pub struct ElementCard {
    pub name: String,
    pub nodes: Vec<String>,
    pub spec: Spec,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub enum Spec {
    Resistor(Val),
    Capacitor(Val, Option<Val>),
    Inductor(Val, Option<Val>),
    VSource(SourceSpec),
    ISource(SourceSpec),
    Vcvs(Val),
    Vccs(Val),
    /// `B` source: the text after the nodes.
    Behavioral(String),
    /// `B ... V=`/`I=`, `E`/`G ... value=`, HSPICE `vol=`/`cur=`: sets the
    /// voltage (`voltage`) or the current to the expression.
    ExprSource {
        voltage: bool,
        val: Val,
    },
    /// `X`: subcircuit name and `k=v` overrides.
    Instance {
        subckt: String,
        params: Vec<(String, Val)>,
    },
    /// XSPICE `A` instance: model name (nodes hold the connections).
    Xspice {
        model: String,
    },
    /// Xyce `Y<type> name nodes model k=v...`.
    YDevice {
        ytype: String,
        model: String,
        params: Vec<(String, Val)>,
    },
    /// `D a k model [area]`: a junction diode (simulated inside memristor
    /// subcircuits, from its model's `is` and `n`).
    Diode {
        model: String,
        area: Option<Val>,
    },
    Unsupported {
        what: String,
        text: String,
    },
}

#[derive(Clone, Debug)]
pub struct SourceSpec {
    pub dc: Option<Val>,
    pub wave: Option<WaveSpec>,
}

#[derive(Clone, Debug)]
pub enum WaveSpec {
    Pulse(Vec<Val>),
    Sin(Vec<Val>),
    Pwl {
        values: Vec<Val>,
        r: Option<Val>,
        td: Option<Val>,
        /// `FILE=name` (LTspice, Xyce) or `FILE name` (PSpice): the
        /// time-value pairs are read from this file, relative to the
        /// netlist, with its location in the deck.
        file: Option<(String, Loc)>,
        /// PSpice's `TIME_SCALE_FACTOR=` and `VALUE_SCALE_FACTOR=`.
        time_scale: Option<Val>,
        value_scale: Option<Val>,
    },
}

#[derive(Clone, Debug)]
pub struct ModelCard {
    pub name: String,
    pub kind: String,
    pub params: Vec<(String, Val)>,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub enum AnalysisCard {
    Tran { vals: Vec<Val>, uic: bool, loc: Loc },
    Op { loc: Loc },
    Dc { text: String, loc: Loc },
    Ac { text: String, loc: Loc },
}

/// Lower-case, ASCII fast path.
pub(crate) fn lower(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

// ---------------------------------------------------------------------------
// Physical lines -> cards

/// One physical line's contribution to a card.
#[derive(Clone, Copy, Debug)]
struct Seg<'t> {
    line_no: u32,
    /// The whole physical line (for diagnostics).
    line: &'t str,
    start: usize,
    end: usize,
}

/// A logical card: one or more physical lines joined by single blanks.
struct Card<'s, 't> {
    text: Cow<'t, str>,
    segs: &'s [Seg<'t>],
    /// All lines ASCII: columns are byte offsets (the common case, no
    /// character counting per value).
    ascii: bool,
}

impl Card<'_, '_> {
    /// The segment holding byte `off` of the card text, and its card offset.
    fn seg_at(&self, off: usize) -> (usize, Seg<'_>) {
        let mut base = 0;
        let mut found = (0, self.segs[0]);
        for s in self.segs {
            if off < base {
                break;
            }
            found = (base, *s);
            base += s.end - s.start + 1;
        }
        found
    }

    fn pos(&self, off: usize) -> Pos {
        let (base, s) = self.seg_at(off);
        let in_line = s.start + off.saturating_sub(base).min(s.end - s.start);
        let col = if self.ascii {
            in_line.min(s.line.len())
        } else {
            s.line.get(..in_line).map_or(0, |p| p.chars().count())
        } as u32
            + 1;
        Pos {
            line: s.line_no,
            col,
        }
    }

    fn line_text(&self, off: usize) -> &str {
        self.seg_at(off).1.line
    }
}

/// Where a card's end-of-line comment starts: `;` anywhere, `$` or `//`
/// at the start or after a blank (so `$` in names survives).
fn comment_start(line: &str) -> usize {
    let b = line.as_bytes();
    let mut prev_blank = true;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b';' => return i,
            b'$' if prev_blank && b.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()) => {
                return i;
            }
            b'/' if prev_blank && b.get(i + 1) == Some(&b'/') => return i,
            _ => {}
        }
        prev_blank = c.is_ascii_whitespace();
    }
    b.len()
}

fn first_word(s: &str) -> &str {
    s.split_ascii_whitespace().next().unwrap_or("")
}

// ---------------------------------------------------------------------------
// Tokens

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokKind {
    Word,
    /// `{...}`, offsets include the braces.
    Brace,
    /// `'...'`, offsets include the quotes.
    Quote,
    /// `"..."`, offsets include the quotes.
    Str,
    LParen,
    RParen,
    Eq,
}

/// A token (kept crate-private; exposed only as a reusable buffer type).
pub(crate) type TokBuf = Tok;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Tok {
    start: u32,
    end: u32,
    kind: TokKind,
}

impl Tok {
    fn text<'a>(&self, s: &'a str) -> &'a str {
        &s[self.start as usize..self.end as usize]
    }
    /// Text without delimiters for braces and quotes.
    fn inner<'a>(&self, s: &'a str) -> &'a str {
        match self.kind {
            TokKind::Brace | TokKind::Quote | TokKind::Str => {
                &s[self.start as usize + 1..self.end as usize - 1]
            }
            _ => self.text(s),
        }
    }
    fn is_word(&self) -> bool {
        self.kind == TokKind::Word
    }
}

/// Split a card into fields. Blanks and commas separate; `(`, `)` and a
/// lone `=` are tokens of their own; `{...}` (nested), `'...'` and `"..."`
/// are single tokens. Returns the byte offset and message of a bad brace
/// or quote.
fn tokenize(s: &str, out: &mut Vec<Tok>) -> Result<(), (usize, &'static str)> {
    out.clear();
    let b = s.as_bytes();
    let n = b.len();
    let mut i = 0;
    let push = |out: &mut Vec<Tok>, a: usize, z: usize, kind| {
        out.push(Tok {
            start: a as u32,
            end: z as u32,
            kind,
        })
    };
    while i < n {
        let c = b[i];
        match c {
            b' ' | b'\t' | b',' | b'\r' | b'\n' => i += 1,
            b'(' => {
                push(out, i, i + 1, TokKind::LParen);
                i += 1;
            }
            b')' => {
                push(out, i, i + 1, TokKind::RParen);
                i += 1;
            }
            b'=' if b.get(i + 1) != Some(&b'=') => {
                push(out, i, i + 1, TokKind::Eq);
                i += 1;
            }
            b'{' => {
                let mut depth = 0usize;
                let mut j = i;
                let mut close = None;
                while j < n {
                    match b[j] {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                close = Some(j);
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                let Some(j) = close else {
                    return Err((i, "unbalanced '{': no matching '}'"));
                };
                push(out, i, j + 1, TokKind::Brace);
                i = j + 1;
            }
            b'}' => return Err((i, "unbalanced '}': no matching '{'")),
            b'\'' | b'"' => {
                let Some(k) = s[i + 1..].find(c as char) else {
                    return Err((i, "unterminated quote"));
                };
                let kind = if c == b'"' {
                    TokKind::Str
                } else {
                    TokKind::Quote
                };
                push(out, i, i + 1 + k + 1, kind);
                i = i + k + 2;
            }
            _ => {
                let a = i;
                while i < n {
                    let d = b[i];
                    let stop = match d {
                        b' ' | b'\t' | b',' | b'(' | b')' | b'{' | b'}' | b'\'' | b'"' | b'\r'
                        | b'\n' => true,
                        // `=` ends a word unless it is part of `==`, `<=`, `>=`, `!=`.
                        b'=' => {
                            b.get(i + 1) != Some(&b'=')
                                && !matches!(b[i - 1], b'<' | b'>' | b'!' | b'=')
                        }
                        _ => false,
                    };
                    if stop {
                        break;
                    }
                    i += 1;
                }
                push(out, a, i, TokKind::Word);
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The parser

enum Mode {
    Top,
    Include,
    Section(String),
}

/// Errors carry the card position; this builds them.
struct ParseCtx<'c, 's, 't> {
    card: &'c Card<'s, 't>,
    name: Arc<str>,
}

impl ParseCtx<'_, '_, '_> {
    fn loc(&self, off: usize) -> Loc {
        let p = self.card.pos(off);
        Loc {
            file: self.name.clone(),
            line: p.line,
            col: p.col,
        }
    }
    fn err(&self, off: usize, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.loc(off), msg).with_line(self.card.line_text(off))
    }
    fn text(&self) -> &str {
        &self.card.text
    }
}

struct OpenSubckt {
    sub: Subckt,
}

pub(crate) struct Parser {
    deck: Deck,
    open: Vec<OpenSubckt>,
    /// Canonical paths (and section) of the include chain, for cycles.
    include_stack: Vec<(PathBuf, Option<String>, String)>,
    toks: Vec<Tok>,
    ended: bool,
}

/// Maximum `.subckt` definition nesting (bounds recursion when the deck
/// is dropped).
const MAX_SUBCKT_NESTING: usize = 128;

/// Maximum include depth (beyond any real use, and keeps the stack safe).
const MAX_INCLUDE_DEPTH: usize = 64;

impl Parser {
    pub(crate) fn new() -> Self {
        Parser {
            deck: Deck::default(),
            open: Vec::new(),
            include_stack: Vec::new(),
            toks: Vec::new(),
            ended: false,
        }
    }

    fn body(&mut self) -> &mut Body {
        match self.open.last_mut() {
            Some(o) => &mut o.sub.body,
            None => &mut self.deck.body,
        }
    }

    fn warn(&mut self, kind: &'static str, loc: Loc, message: impl Into<String>) {
        self.deck.warnings.push(Warning::new(kind, loc, message));
    }

    /// Parse the top-level text. `dir` resolves relative includes.
    pub(crate) fn parse_top(
        mut self,
        name: &str,
        text: String,
        dir: &Path,
        canonical: Option<PathBuf>,
    ) -> Result<Deck, Diagnostic> {
        let name: Arc<str> = Arc::from(name);
        self.deck.files.push(SourceFile {
            name: name.clone(),
            text: String::new(),
        });
        if let Some(c) = canonical {
            self.include_stack.push((c, None, name.to_string()));
        }
        if text.len() >= u32::MAX as usize {
            return Err(Diagnostic::new(
                Loc::new(name.clone(), 0, 0),
                "netlist larger than 4 GiB is not supported",
            ));
        }
        let r = self.parse_source(0, &name, &text, dir, &Mode::Top);
        self.deck.files[0].text = text;
        r?;
        if let Some(o) = self.open.last() {
            let l = o.sub.loc.clone();
            let msg = format!("subcircuit '{}' has no .ends", o.sub.name);
            let line = self.line_of(&l);
            return Err(Diagnostic::new(l, msg).with_line(line));
        }
        Ok(self.deck)
    }

    fn line_of(&self, loc: &Loc) -> String {
        self.deck
            .files
            .iter()
            .find(|f| f.name == loc.file)
            .and_then(|f| f.text.lines().nth(loc.line.saturating_sub(1) as usize))
            .unwrap_or("")
            .to_string()
    }

    fn parse_source(
        &mut self,
        file: u32,
        name: &Arc<str>,
        text: &str,
        dir: &Path,
        mode: &Mode,
    ) -> Result<(), Diagnostic> {
        let mut pend: Vec<Seg> = Vec::new();
        let mut control: Option<(String, Loc, String)> = None;
        let mut skipping: Option<(Loc, String)> = None;
        let mut in_section = false;
        let mut lines = text.split('\n');
        let mut line_no: u32 = 0;
        if let Mode::Top = mode {
            line_no = 1;
            let title = lines.next().unwrap_or("");
            let title = title.trim_start_matches('\u{feff}').trim();
            self.deck.title = title.to_string();
        }
        for raw in lines {
            line_no += 1;
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            let loc_here = |col| Loc::new(name.clone(), line_no, col);
            if let Some((block, _, _)) = &mut control {
                if lower(first_word(raw)) == ".endc" {
                    if let Some((b, l, _)) = control.take() {
                        self.deck.controls.push(b);
                        self.deck.control_locs.push(l);
                    }
                } else {
                    block.push_str(raw);
                    block.push('\n');
                }
                continue;
            }
            if skipping.is_some() {
                if lower(first_word(raw)) == ".endl" {
                    skipping = None;
                }
                continue;
            }
            if let Mode::Section(sec) = mode
                && !in_section
            {
                let mut w = raw.split_ascii_whitespace();
                if w.next().is_some_and(|f| f.eq_ignore_ascii_case(".lib"))
                    && w.next().is_some_and(|s| lower(s) == *sec)
                {
                    in_section = true;
                }
                continue;
            }
            let content_end = comment_start(raw);
            let content = &raw[..content_end];
            let trimmed = content.trim_start();
            let start = content.len() - trimmed.len();
            let end = content.trim_end().len();
            if trimmed.is_empty() || trimmed.starts_with('*') {
                continue;
            }
            if trimmed.starts_with('+') {
                if pend.is_empty() {
                    let col = raw[..start].chars().count() as u32 + 1;
                    return Err(Diagnostic::new(
                        loc_here(col),
                        "continuation line '+' with no card before it",
                    )
                    .with_line(raw));
                }
                pend.push(Seg {
                    line_no,
                    line: raw,
                    start: start + 1,
                    end: end.max(start + 1),
                });
                continue;
            }
            // A new card: finish the pending one first.
            if !pend.is_empty() {
                self.card(file, text, name, &pend, dir)?;
                pend.clear();
                if self.ended {
                    return Ok(());
                }
            }
            let w0 = first_word(trimmed);
            if w0.starts_with('.') {
                let kw = lower(w0);
                match kw.as_str() {
                    ".control" => {
                        let col = start as u32 + 1;
                        control = Some((String::new(), loc_here(col), raw.to_string()));
                        continue;
                    }
                    ".endc" => {
                        self.warn(
                            "card ignored",
                            loc_here(start as u32 + 1),
                            "'.endc' without '.control' ignored",
                        );
                        continue;
                    }
                    ".end" => {
                        self.ended = true;
                        return Ok(());
                    }
                    ".endl" => {
                        if let Mode::Section(_) = mode {
                            return Ok(());
                        }
                        self.warn(
                            "card ignored",
                            loc_here(start as u32 + 1),
                            "'.endl' without '.lib' ignored",
                        );
                        continue;
                    }
                    ".lib" => {
                        let args: Vec<&str> = trimmed[..end - start]
                            .split_ascii_whitespace()
                            .skip(1)
                            .collect();
                        if let [one] = args[..] {
                            let arg = one.trim_matches(['"', '\'']);
                            if !dir.join(arg).is_file() {
                                // `.lib name` ... `.endl`: a section definition,
                                // only read when another file selects it.
                                skipping = Some((loc_here(start as u32 + 1), raw.to_string()));
                                continue;
                            }
                        }
                    }
                    _ => {}
                }
            }
            pend.push(Seg {
                line_no,
                line: raw,
                start,
                end,
            });
        }
        if !pend.is_empty() && !self.ended {
            self.card(file, text, name, &pend, dir)?;
        }
        if let Some((_, loc, line)) = control {
            return Err(Diagnostic::new(loc, "'.control' block has no '.endc'").with_line(line));
        }
        if let Some((loc, line)) = skipping {
            return Err(Diagnostic::new(loc, "'.lib' section has no '.endl'").with_line(line));
        }
        if let Mode::Section(sec) = mode {
            if !in_section {
                return Err(Diagnostic::new(
                    Loc::new(name.clone(), 1, 1),
                    format!("library section '{sec}' not found in this file"),
                ));
            }
            return Err(Diagnostic::new(
                Loc::new(name.clone(), line_no.max(1), 1),
                format!("library section '{sec}' has no '.endl'"),
            ));
        }
        Ok(())
    }

    fn card(
        &mut self,
        file: u32,
        file_text: &str,
        name: &Arc<str>,
        segs: &[Seg],
        dir: &Path,
    ) -> Result<(), Diagnostic> {
        // Top-level one-line element cards are deferred (Stmt::Raw).
        if let [g] = segs
            && self.open.is_empty()
            && g.line[g.start..g.end]
                .chars()
                .next()
                .is_some_and(char::is_alphabetic)
            && let line_start = g.line.as_ptr() as usize - file_text.as_ptr() as usize
            && let (Ok(line_start), Ok(line_len), Ok(start), Ok(end)) = (
                u32::try_from(line_start),
                u32::try_from(g.line.len()),
                u16::try_from(g.start),
                u16::try_from(g.end),
            )
            && line_start.checked_add(line_len).is_some()
        {
            self.deck.body.stmts.push(Stmt::Raw(RawCard {
                file,
                line_no: g.line_no,
                line_start,
                line_len,
                start,
                end,
            }));
            return Ok(());
        }
        let text: Cow<str> = if segs.len() == 1 {
            Cow::Borrowed(&segs[0].line[segs[0].start..segs[0].end])
        } else {
            let mut s = String::new();
            for (k, g) in segs.iter().enumerate() {
                if k > 0 {
                    s.push(' ');
                }
                s.push_str(&g.line[g.start..g.end]);
            }
            Cow::Owned(s)
        };
        let ascii = segs.iter().all(|g| g.line.is_ascii());
        let card = Card { text, segs, ascii };
        let cx = ParseCtx {
            card: &card,
            name: name.clone(),
        };
        let mut toks = std::mem::take(&mut self.toks);
        let r = tokenize(cx.text(), &mut toks)
            .map_err(|(off, msg)| cx.err(off, msg))
            .and_then(|()| self.dispatch(&cx, &toks, dir));
        self.toks = toks;
        r
    }

    fn dispatch(&mut self, cx: &ParseCtx, toks: &[Tok], dir: &Path) -> Result<(), Diagnostic> {
        let t = cx.text();
        let Some(first) = toks.first() else {
            return Ok(());
        };
        if first.kind != TokKind::Word {
            return Err(cx.err(first.start as usize, "a card must start with a name"));
        }
        let w = first.text(t);
        if w.starts_with('.') {
            return self.dot_card(cx, toks, dir);
        }
        let card = element(cx, toks, &mut self.deck.warnings)?;
        self.body().stmts.push(Stmt::Element(Box::new(card)));
        Ok(())
    }

    fn dot_card(&mut self, cx: &ParseCtx, toks: &[Tok], dir: &Path) -> Result<(), Diagnostic> {
        let t = cx.text();
        let kw = lower(toks[0].text(t));
        let loc = cx.loc(0);
        match kw.as_str() {
            // HSPICE defines functions with `.param f(x) = '...'`.
            ".param" | ".params" if toks.get(2).is_some_and(|x| x.kind == TokKind::LParen) => {
                let f = func_def(cx, toks)?;
                self.body().funcs.push(f);
            }
            ".param" | ".params" => {
                let defs = kv_list(cx, toks, 1)?;
                if defs.is_empty() {
                    return Err(cx.err(0, format!("'{kw}' defines no parameter")));
                }
                for (name, val) in defs {
                    self.body().params.push(ParamDef {
                        name,
                        val,
                        loc: loc.clone(),
                    });
                }
            }
            ".csparam" => {
                for (name, val) in kv_list(cx, toks, 1)? {
                    self.deck.csparams.push(ParamDef {
                        name,
                        val,
                        loc: loc.clone(),
                    });
                }
            }
            ".func" => {
                let f = func_def(cx, toks)?;
                self.body().funcs.push(f);
            }
            ".subckt" => {
                let Some(nt) = toks.get(1).filter(|x| x.is_word()) else {
                    return Err(cx.err(t.len(), ".subckt needs a name"));
                };
                if self.open.len() >= MAX_SUBCKT_NESTING {
                    return Err(cx.err(0, "subcircuit definitions nested too deeply"));
                }
                let (end, _) = plain_words(t, toks, 2);
                let pins = toks[2..end].iter().map(|x| lower(x.text(t))).collect();
                let defaults = kv_list(cx, toks, end)?
                    .into_iter()
                    .map(|(name, val)| ParamDef {
                        loc: Loc::new(cx.name.clone(), val.pos.line, val.pos.col),
                        name,
                        val,
                    })
                    .collect();
                self.open.push(OpenSubckt {
                    sub: Subckt {
                        name: lower(nt.text(t)),
                        pins,
                        defaults,
                        body: Body::default(),
                        loc,
                    },
                });
            }
            ".ends" => {
                let Some(open) = self.open.pop() else {
                    // SPICE reads the first line as the title, whatever it
                    // says: a library given as the netlist loses its
                    // `.subckt` line there.
                    let title = &self.deck.title;
                    let file = &cx.name;
                    let top = self.deck.files.first().is_some_and(|f| &f.name == file);
                    if top && lower(first_word(title)) == ".subckt" {
                        return Err(cx.err(
                            0,
                            format!(
                                "'.ends' without '.subckt': the first line, `{title}`, was read \
                                 as the title (SPICE's first line always is). Is {file} a \
                                 model library? Put `.include {file}` in a netlist that uses it"
                            ),
                        ));
                    }
                    return Err(cx.err(0, "'.ends' without '.subckt'"));
                };
                // ngspice and Xyce close the innermost open subcircuit
                // whatever name `.ends` gives, and warn; so does memnet.
                if let Some(n) = toks.get(1) {
                    let n = lower(n.text(t));
                    if n != open.sub.name {
                        let loc = cx.loc(toks[1].start as usize);
                        let opened = if open.sub.loc.file == loc.file {
                            format!("line {}", open.sub.loc.line)
                        } else {
                            open.sub.loc.to_string()
                        };
                        self.warn(
                            ".ends name mismatch",
                            loc,
                            format!(
                                "'.ends {n}' closes subcircuit '{}' (opened at {opened}): the name is ignored",
                                open.sub.name
                            ),
                        );
                    }
                }
                self.body().subckts.push(open.sub);
            }
            ".include" | ".inc" | ".lib" => {
                let Some(ft) = toks.get(1) else {
                    return Err(cx.err(t.len(), format!("'{kw}' needs a file name")));
                };
                let section = if kw == ".lib" {
                    toks.get(2).map(|s| lower(s.inner(t)))
                } else {
                    None
                };
                self.include(cx, ft.inner(t), ft.start as usize, section, dir)?;
            }
            ".model" => {
                let m = model_card(cx, toks, &mut self.deck.warnings)?;
                self.body().stmts.push(Stmt::Model(Box::new(m)));
            }
            ".ic" => {
                let ic = ic_card(cx, toks)?;
                self.body().stmts.push(Stmt::Ic(Box::new((ic, loc))));
            }
            ".tran" => {
                let mut vals = Vec::new();
                let mut uic = false;
                let mut i = 1;
                while i < toks.len() {
                    if toks[i].is_word() && toks[i].text(t).eq_ignore_ascii_case("uic") {
                        uic = true;
                        i += 1;
                        continue;
                    }
                    let e = value_group(toks, i);
                    vals.push(value(cx, &toks[i..e])?);
                    i = e;
                }
                if vals.is_empty() {
                    return Err(cx.err(t.len(), ".tran needs at least a stop time"));
                }
                self.deck
                    .analyses
                    .push(AnalysisCard::Tran { vals, uic, loc });
            }
            ".op" => self.deck.analyses.push(AnalysisCard::Op { loc }),
            ".dc" | ".ac" => {
                let rest = toks
                    .get(1)
                    .map_or("", |x| t[x.start as usize..].trim())
                    .to_string();
                self.deck.analyses.push(if kw == ".dc" {
                    AnalysisCard::Dc { text: rest, loc }
                } else {
                    AnalysisCard::Ac { text: rest, loc }
                });
            }
            ".options" | ".option" | ".opt" | ".opts" => {
                let mut accuracy = None;
                let mut accuracy_keys: Vec<String> = Vec::new();
                let mut i = 1;
                while i < toks.len() {
                    let k = toks[i];
                    if !k.is_word() {
                        i += 1;
                        continue;
                    }
                    let key = lower(k.text(t));
                    // SPICE's accuracy controls: memnet integrates to its
                    // own tolerances, which a user should hear of.
                    if ACCURACY_OPTIONS.contains(&key.as_str()) {
                        accuracy.get_or_insert(k.start as usize);
                        accuracy_keys.push(key.clone());
                    }
                    if toks.get(i + 1).is_some_and(|x| x.kind == TokKind::Eq) {
                        let e = if i + 2 < toks.len() {
                            value_group(toks, i + 2)
                        } else {
                            i + 2
                        };
                        let v = if e > i + 2 {
                            t[toks[i + 2].start as usize..toks[e - 1].end as usize].to_string()
                        } else {
                            String::new()
                        };
                        self.deck.options.push((key, v));
                        i = e;
                    } else {
                        self.deck.options.push((key, String::new()));
                        i += 1;
                    }
                }
                if let Some(at) = accuracy {
                    self.warn(
                        "SPICE accuracy option not used",
                        cx.loc(at),
                        format!(
                            ".options {}: memnet's accuracy is set by --rtol and --atol \
                             (defaults 1e-8 and 1e-10, with --method dopri5 or rosenbrock) or \
                             --dt, not by SPICE's options",
                            accuracy_keys.join(", ")
                        ),
                    );
                }
            }
            ".global" => {
                for x in &toks[1..] {
                    if x.is_word() {
                        let n = lower(x.text(t));
                        if !self.deck.globals.contains(&n) {
                            self.deck.globals.push(n);
                        }
                    }
                }
            }
            ".end" => self.ended = true,
            ".save" | ".print" | ".probe" => {
                let rest = toks.get(1).map_or("", |x| &t[x.start as usize..]);
                self.deck
                    .outputs
                    .push(OutputCard::parse(&kw[1..], rest, loc));
            }
            ".plot" | ".meas" | ".measure" | ".temp" | ".four" | ".backanno" | ".step"
            | ".nodeset" | ".width" | ".title" | ".data" | ".noise" | ".tf" | ".sens" | ".pz"
            | ".disto" | ".sp" | ".pss" | ".savebias" | ".loadbias" | ".wave" | ".net"
            | ".ferret" | ".text" | ".preprocess" => {
                self.warn(
                    "card ignored",
                    loc,
                    format!("'{kw}' card ignored (memnet does not use it)"),
                );
            }
            _ => {
                self.warn("card ignored", loc, format!("unknown card '{kw}' ignored"));
            }
        }
        Ok(())
    }

    fn include(
        &mut self,
        cx: &ParseCtx,
        file_arg: &str,
        off: usize,
        section: Option<String>,
        dir: &Path,
    ) -> Result<(), Diagnostic> {
        let path = dir.join(file_arg);
        let shown = path.to_string_lossy().into_owned();
        let canon = std::fs::canonicalize(&path)
            .map_err(|e| cx.err(off, format!("cannot open include file '{shown}': {e}")))?;
        if let Some(k) = self
            .include_stack
            .iter()
            .position(|(p, s, _)| *p == canon && *s == section)
        {
            let mut chain: Vec<&str> = self.include_stack[k..]
                .iter()
                .map(|(_, _, n)| n.as_str())
                .collect();
            chain.push(&shown);
            return Err(cx.err(off, format!("include cycle: {}", chain.join(" -> "))));
        }
        if self.include_stack.len() >= MAX_INCLUDE_DEPTH {
            return Err(cx.err(off, "includes nested too deeply"));
        }
        // Devices and pipes (`/dev/zero`) would never end.
        if !canon.is_file() {
            return Err(cx.err(off, format!("include '{shown}' is not a regular file")));
        }
        let bytes = std::fs::read(&path)
            .map_err(|e| cx.err(off, format!("cannot read include file '{shown}': {e}")))?;
        let (text, _) = decode(bytes);
        if let Some(sec) = &section {
            let has = text.lines().any(|l| {
                let mut w = l.split_ascii_whitespace();
                w.next().is_some_and(|f| f.eq_ignore_ascii_case(".lib"))
                    && w.next()
                        .is_some_and(|s| lower(s.trim_matches(['"', '\''])) == *sec)
                    && w.next().is_none()
            });
            if !has {
                return Err(cx.err(
                    off,
                    format!("library section '{sec}' not found in '{shown}'"),
                ));
            }
        }
        if text.len() >= u32::MAX as usize {
            return Err(cx.err(off, format!("include '{shown}' is larger than 4 GiB")));
        }
        let name: Arc<str> = Arc::from(shown.as_str());
        let id = self.deck.files.len() as u32;
        self.deck.files.push(SourceFile {
            name: name.clone(),
            text: String::new(),
        });
        self.include_stack.push((canon, section.clone(), shown));
        let sub_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mode = match section {
            Some(s) => Mode::Section(s),
            None => Mode::Include,
        };
        let r = self.parse_source(id, &name, &text, &sub_dir, &mode);
        self.include_stack.pop();
        self.deck.files[id as usize].text = text;
        // `.end` inside an include ends only that file.
        self.ended = false;
        r
    }
}

// ---------------------------------------------------------------------------
// Field helpers

/// Index of the first `key =` pair at or after `from`.
fn next_key(toks: &[Tok], from: usize) -> Option<usize> {
    (from..toks.len())
        .find(|&k| toks[k].is_word() && toks.get(k + 1).is_some_and(|x| x.kind == TokKind::Eq))
}

fn is_params_word(t: &str, tok: &Tok) -> bool {
    tok.is_word() && tok.text(t).eq_ignore_ascii_case("params:")
}

/// Plain words from `from` up to the first `key=` pair or `PARAMS:`.
/// Returns the end index and whether `PARAMS:` was seen.
fn plain_words(t: &str, toks: &[Tok], from: usize) -> (usize, bool) {
    let mut i = from;
    while i < toks.len() {
        let x = &toks[i];
        if !x.is_word() || is_params_word(t, x) {
            return (i, is_params_word(t, x));
        }
        if toks.get(i + 1).is_some_and(|y| y.kind == TokKind::Eq) {
            return (i, false);
        }
        i += 1;
    }
    (i, false)
}

/// End of one positional value starting at `i`: a single token, or a
/// word followed by a parenthesised argument list (`max(1,2)`).
fn value_group(toks: &[Tok], i: usize) -> usize {
    if toks[i].is_word() && toks.get(i + 1).is_some_and(|x| x.kind == TokKind::LParen) {
        let mut depth = 0usize;
        for (k, x) in toks.iter().enumerate().skip(i + 1) {
            match x.kind {
                TokKind::LParen => depth += 1,
                TokKind::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        return k + 1;
                    }
                }
                _ => {}
            }
        }
        return toks.len();
    }
    i + 1
}

/// Parse tokens as one value.
fn value(cx: &ParseCtx, toks: &[Tok]) -> Result<Val, Diagnostic> {
    let t = cx.text();
    let Some(first) = toks.first() else {
        return Err(cx.err(t.len(), "missing value"));
    };
    let start = first.start as usize;
    let pos = cx.card.pos(start);
    let (src, base) = if toks.len() == 1 {
        match first.kind {
            TokKind::Word => {
                let w = first.text(t);
                if let Some(v) = parse_number(w) {
                    return Ok(Val {
                        expr: Expr::Num(v),
                        pos,
                    });
                }
                let numeric = w.as_bytes()[0].is_ascii_digit()
                    || (w.len() > 1 && w.starts_with('.') && w.as_bytes()[1].is_ascii_digit());
                // `20e3/stime` is a bare expression; `1.2.3` is a bad number.
                if numeric && parse_expr(w).is_err() {
                    return Err(cx.err(start, format!("malformed number '{w}'")));
                }
                (w, start)
            }
            TokKind::Brace | TokKind::Quote => (first.inner(t), start + 1),
            TokKind::Str => return Err(cx.err(start, "a quoted string is not a value")),
            _ => return Err(cx.err(start, "expected a value")),
        }
    } else {
        let end = toks[toks.len() - 1].end as usize;
        (&t[start..end], start)
    };
    match parse_expr(src) {
        Ok(expr) => Ok(Val { expr, pos }),
        Err(e) => Err(cx.err(
            base + e.offset,
            format!("{} (in '{}')", e.message, src.trim()),
        )),
    }
}

/// `k=v k2=v2 ...` from token `from`; `PARAMS:` words are skipped.
/// Returns (lower-case key, value, key offset).
fn kv_list(cx: &ParseCtx, toks: &[Tok], from: usize) -> Result<Vec<(String, Val)>, Diagnostic> {
    let t = cx.text();
    let mut out = Vec::new();
    let mut i = from;
    while i < toks.len() {
        let k = &toks[i];
        if is_params_word(t, k) {
            i += 1;
            continue;
        }
        if !(k.is_word() && toks.get(i + 1).is_some_and(|x| x.kind == TokKind::Eq)) {
            return Err(cx.err(
                k.start as usize,
                format!("expected 'name=value', found '{}'", k.text(t)),
            ));
        }
        let mut key = k.text(t);
        if key.len() > 7
            && key
                .get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case("params:"))
        {
            key = &key[7..];
        }
        let e = next_key(toks, i + 2).unwrap_or(toks.len());
        if e == i + 2 {
            return Err(cx.err(k.start as usize, format!("parameter '{key}' has no value")));
        }
        let v = value(cx, &toks[i + 2..e])?;
        out.push((lower(key), v));
        i = e;
    }
    Ok(out)
}

fn func_def(cx: &ParseCtx, toks: &[Tok]) -> Result<FuncDef, Diagnostic> {
    let t = cx.text();
    let bad = |off: usize| cx.err(off, "expected '.func name(args) = {expression}'");
    let Some(n) = toks.get(1).filter(|x| x.is_word()) else {
        return Err(bad(t.len()));
    };
    if toks.get(2).map(|x| x.kind) != Some(TokKind::LParen) {
        return Err(bad(toks.get(2).map_or(t.len(), |x| x.start as usize)));
    }
    let mut args = Vec::new();
    let mut i = 3;
    loop {
        match toks.get(i) {
            Some(x) if x.kind == TokKind::RParen => break,
            Some(x) if x.is_word() => args.push(lower(x.text(t))),
            Some(x) => return Err(bad(x.start as usize)),
            None => return Err(bad(t.len())),
        }
        i += 1;
    }
    i += 1;
    if toks.get(i).map(|x| x.kind) == Some(TokKind::Eq) {
        i += 1;
    }
    if i >= toks.len() {
        return Err(cx.err(t.len(), format!("function '{}' has no body", n.text(t))));
    }
    let body = value(cx, &toks[i..])?;
    Ok(FuncDef {
        name: lower(n.text(t)),
        args,
        body,
        loc: cx.loc(0),
    })
}

fn model_card(
    cx: &ParseCtx,
    toks: &[Tok],
    warnings: &mut Vec<Warning>,
) -> Result<ModelCard, Diagnostic> {
    let t = cx.text();
    let (Some(n), Some(k)) = (toks.get(1), toks.get(2)) else {
        return Err(cx.err(t.len(), ".model needs a name and a type"));
    };
    if !n.is_word() || !k.is_word() {
        return Err(cx.err(n.start as usize, ".model needs a name and a type"));
    }
    // Drop the parentheses around the parameter list.
    let inner: Vec<Tok> = toks[3..]
        .iter()
        .copied()
        .filter(|x| !matches!(x.kind, TokKind::LParen | TokKind::RParen))
        .collect();
    let mut params = Vec::new();
    let mut i = 0;
    while i < inner.len() {
        let x = inner[i];
        if x.is_word() && inner.get(i + 1).is_some_and(|y| y.kind == TokKind::Eq) {
            let e = next_key(&inner, i + 2).unwrap_or(inner.len());
            if e == i + 2 {
                return Err(cx.err(
                    x.start as usize,
                    format!("parameter '{}' has no value", x.text(t)),
                ));
            }
            let v = model_value(cx, &inner[i + 2..e])?;
            params.push((lower(x.text(t)), v));
            i = e;
        } else {
            warnings.push(Warning::new(
                "model flag ignored",
                cx.loc(x.start as usize),
                format!("model flag '{}' ignored", x.text(t)),
            ));
            i += 1;
        }
    }
    Ok(ModelCard {
        name: lower(n.text(t)),
        kind: lower(k.text(t)),
        params,
        loc: cx.loc(0),
    })
}

/// A model parameter's value: a number or expression, or a word such as a
/// file name (Xyce's `fxpdata=fxp_table.csv`, quoted or not), kept as
/// [`Expr::Var`] so that elaboration can tell words from numbers.
fn model_value(cx: &ParseCtx, toks: &[Tok]) -> Result<Val, Diagnostic> {
    let t = cx.text();
    if let [x] = toks {
        let start = x.start as usize;
        let word = match x.kind {
            TokKind::Str => Some(x.inner(t)),
            TokKind::Word => {
                let w = x.text(t);
                let numeric = w.as_bytes()[0].is_ascii_digit() || w.starts_with('.');
                (!numeric && parse_number(w).is_none() && parse_expr(w).is_err()).then_some(w)
            }
            _ => None,
        };
        if let Some(w) = word {
            return Ok(Val {
                expr: Expr::Var(w.into()),
                pos: cx.card.pos(start),
            });
        }
    }
    value(cx, toks)
}

fn ic_card(cx: &ParseCtx, toks: &[Tok]) -> Result<Vec<(String, Val)>, Diagnostic> {
    let t = cx.text();
    let mut out = Vec::new();
    let mut i = 1;
    while i < toks.len() {
        let ok = toks[i].is_word()
            && toks[i].text(t).eq_ignore_ascii_case("v")
            && toks.get(i + 1).map(|x| x.kind) == Some(TokKind::LParen)
            && toks.get(i + 2).is_some_and(Tok::is_word)
            && toks.get(i + 3).map(|x| x.kind) == Some(TokKind::RParen)
            && toks.get(i + 4).map(|x| x.kind) == Some(TokKind::Eq)
            && i + 5 < toks.len();
        if !ok {
            return Err(cx.err(toks[i].start as usize, "expected 'v(node)=value' in .ic"));
        }
        let node = lower(toks[i + 2].text(t));
        let e = value_group(toks, i + 5);
        out.push((node, value(cx, &toks[i + 5..e])?));
        i = e;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Element cards

fn kind_word(letter: char) -> &'static str {
    match letter {
        'r' => "resistor",
        'c' => "capacitor",
        'l' => "inductor",
        'v' => "voltage source",
        'i' => "current source",
        'e' => "vcvs",
        'g' => "vccs",
        'b' => "behavioral source",
        'x' => "subcircuit instance",
        'a' => "xspice instance",
        'y' => "xyce device",
        'd' => "diode",
        'q' => "bjt",
        'm' => "mosfet",
        'j' => "jfet",
        'z' => "mesfet",
        'k' => "coupling",
        't' | 'o' | 'u' => "transmission line",
        's' => "voltage switch",
        'w' => "current switch",
        'f' => "cccs",
        'h' => "ccvs",
        'p' => "coupled line",
        'n' => "osdi device",
        _ => "element",
    }
}

/// Nodes an unsupported element letter takes (the rest is kept as text).
fn unsupported_nodes(letter: char) -> usize {
    match letter {
        'd' | 'f' | 'h' | 'w' => 2,
        'q' | 'j' | 'z' => 3,
        'm' | 't' | 'o' | 's' | 'u' => 4,
        _ => 0,
    }
}

fn nodes(
    cx: &ParseCtx,
    toks: &[Tok],
    n: usize,
    what: &str,
    name: &str,
) -> Result<Vec<String>, Diagnostic> {
    let t = cx.text();
    let mut v = Vec::with_capacity(n);
    for k in 1..=n {
        match toks.get(k) {
            Some(x) if x.is_word() && toks.get(k + 1).is_none_or(|y| y.kind != TokKind::Eq) => {
                v.push(lower(x.text(t)))
            }
            other => {
                let off = other.map_or(t.len(), |x| x.start as usize);
                return Err(cx.err(off, format!("{what} {name}: missing node {k} of {n}")));
            }
        }
    }
    Ok(v)
}

fn element(
    cx: &ParseCtx,
    toks: &[Tok],
    warnings: &mut Vec<Warning>,
) -> Result<ElementCard, Diagnostic> {
    let t = cx.text();
    let raw_name = toks[0].text(t);
    let name = lower(raw_name);
    let letter = name.chars().next().unwrap_or(' ');
    let what = kind_word(letter);
    let loc = cx.loc(0);
    let warn_extra = |warnings: &mut Vec<Warning>, x: &Tok| {
        warnings.push(Warning::new(
            "element field ignored",
            cx.loc(x.start as usize),
            format!("{what} {name}: '{}' ignored", x.text(t)),
        ))
    };
    let (nodes, spec) = match letter {
        'r' | 'c' | 'l' => {
            let nodes = nodes(cx, toks, 2, what, &name)?;
            let keys: &[&str] = match letter {
                'r' => &["r", "resistance"],
                'c' => &["c", "capacitance"],
                _ => &["l", "inductance"],
            };
            let mut main: Option<Val> = None;
            let mut ic: Option<Val> = None;
            let mut i = 3;
            while i < toks.len() {
                let x = toks[i];
                if x.is_word() && toks.get(i + 1).is_some_and(|y| y.kind == TokKind::Eq) {
                    let key = lower(x.text(t));
                    let e = next_key(toks, i + 2).unwrap_or(toks.len());
                    if e == i + 2 {
                        return Err(cx.err(
                            x.start as usize,
                            format!("{what} {name}: '{key}' has no value"),
                        ));
                    }
                    if keys.contains(&key.as_str()) && main.is_none() {
                        main = Some(value(cx, &toks[i + 2..e])?);
                    } else if key == "ic" && letter != 'r' {
                        ic = Some(value(cx, &toks[i + 2..e])?);
                    } else {
                        warn_extra(warnings, &x);
                    }
                    i = e;
                } else if main.is_none() {
                    let e = value_group(toks, i);
                    main = Some(value(cx, &toks[i..e])?);
                    i = e;
                } else {
                    warn_extra(warnings, &x);
                    i += 1;
                }
            }
            let Some(v) = main else {
                return Err(cx.err(t.len(), format!("{what} {name} has no value")));
            };
            let spec = match letter {
                'r' => Spec::Resistor(v),
                'c' => Spec::Capacitor(v, ic),
                _ => Spec::Inductor(v, ic),
            };
            (nodes, spec)
        }
        'v' | 'i' => {
            let nodes = nodes(cx, toks, 2, what, &name)?;
            let src = source_spec(cx, toks, 3, what, &name, warnings)?;
            match src {
                Ok(s) => (
                    nodes,
                    if letter == 'v' {
                        Spec::VSource(s)
                    } else {
                        Spec::ISource(s)
                    },
                ),
                Err(shape) => (
                    nodes,
                    Spec::Unsupported {
                        what: format!("{what} with {shape} waveform"),
                        text: rest_text(t, toks, 3),
                    },
                ),
            }
        }
        'e' | 'g' => {
            let linear = toks.len() == 6
                && toks[1..5].iter().all(|x| x.is_word())
                && !toks[3].text(t).eq_ignore_ascii_case("value")
                && !toks[3].text(t).eq_ignore_ascii_case("poly");
            if linear {
                let nodes = nodes(cx, toks, 4, what, &name)?;
                let g = value(cx, &toks[5..6])?;
                (
                    nodes,
                    if letter == 'e' {
                        Spec::Vcvs(g)
                    } else {
                        Spec::Vccs(g)
                    },
                )
            } else {
                let nodes = nodes(cx, toks, 2, what, &name)?;
                // `value=expr` (ngspice, LTspice, PSpice), HSPICE `vol=`
                // (E) and `cur=` (G); `value={expr}` may also be written
                // `value {expr}` in PSpice.
                let key = toks
                    .get(3)
                    .filter(|x| x.is_word())
                    .map(|x| lower(x.text(t)));
                let keyed = matches!(
                    (key.as_deref(), letter),
                    (Some("value"), _) | (Some("vol"), 'e') | (Some("cur"), 'g')
                );
                if let Some(val) = poly_one(cx, toks, letter, what, &name)? {
                    (
                        nodes,
                        Spec::ExprSource {
                            voltage: letter == 'e',
                            val,
                        },
                    )
                } else if key.as_deref() == Some("table") && toks.len() > 4 {
                    // `TABLE {expr} = (x1,y1) (x2,y2) ...` (PSpice, ngspice):
                    // the expression, then pairs with or without the `=`,
                    // parentheses and commas: table(expr, x1, y1, ...).
                    let input = value(cx, &toks[4..5])?;
                    let mut args = vec![input.expr];
                    for x in &toks[5..] {
                        match x.kind {
                            TokKind::Eq | TokKind::LParen | TokKind::RParen => {}
                            TokKind::Word => {
                                let mut at = x.start as usize;
                                for part in x.text(t).split(',') {
                                    if !part.is_empty() {
                                        let Some(v) = parse_number(part) else {
                                            return Err(cx.err(
                                                at,
                                                format!("{what} {name}: TABLE point '{part}' is not a number"),
                                            ));
                                        };
                                        args.push(Expr::Num(v));
                                    }
                                    at += part.len() + 1;
                                }
                            }
                            _ => args.push(value(cx, std::slice::from_ref(x))?.expr),
                        }
                    }
                    warnings.push(Warning::new(
                        "TABLE corners differ from ngspice",
                        cx.loc(toks[3].start as usize),
                        format!(
                            "{what} {name}: TABLE is linear between its points, as PSpice and \
                             LTspice compute it; ngspice rounds each corner over a tenth of the \
                             segments beside it (its XSPICE pwl model, input_domain=0.1)"
                        ),
                    ));
                    let val = Val {
                        expr: Expr::Call(Box::new(("table".into(), args))),
                        pos: input.pos,
                    };
                    (
                        nodes,
                        Spec::ExprSource {
                            voltage: letter == 'e',
                            val,
                        },
                    )
                } else if keyed && toks.len() > 4 {
                    let from = if toks[4].kind == TokKind::Eq { 5 } else { 4 };
                    if from >= toks.len() {
                        return Err(cx.err(t.len(), format!("{what} {name}: no expression")));
                    }
                    let val = value(cx, &toks[from..])?;
                    (
                        nodes,
                        Spec::ExprSource {
                            voltage: letter == 'e',
                            val,
                        },
                    )
                } else {
                    (
                        nodes,
                        Spec::Unsupported {
                            what: format!("{what} (non-linear form)"),
                            text: rest_text(t, toks, 3),
                        },
                    )
                }
            }
        }
        'd' if toks.len() >= 4 && toks[1..4].iter().all(|x| x.is_word()) => {
            let nodes = nodes(cx, toks, 2, what, &name)?;
            let model = lower(toks[3].text(t));
            let mut area = None;
            let mut i = 4;
            while i < toks.len() {
                let x = toks[i];
                if x.is_word() && toks.get(i + 1).is_some_and(|y| y.kind == TokKind::Eq) {
                    let key = lower(x.text(t));
                    let e = next_key(toks, i + 2).unwrap_or(toks.len());
                    if key == "area" && e > i + 2 {
                        area = Some(value(cx, &toks[i + 2..e])?);
                    } else {
                        warn_extra(warnings, &x);
                    }
                    i = e;
                } else if area.is_none() && i == 4 {
                    let e = value_group(toks, i);
                    area = Some(value(cx, &toks[i..e])?);
                    i = e;
                } else {
                    warn_extra(warnings, &x);
                    i += 1;
                }
            }
            (nodes, Spec::Diode { model, area })
        }
        'f' | 'h' if toks.len() > 4 && toks[3].text(t).to_ascii_lowercase().starts_with("poly") => {
            let nodes = nodes(cx, toks, 2, what, &name)?;
            match poly_one(cx, toks, letter, what, &name)? {
                Some(val) => (
                    nodes,
                    Spec::ExprSource {
                        voltage: letter == 'h',
                        val,
                    },
                ),
                None => (
                    nodes,
                    Spec::Unsupported {
                        what: format!("{what} (POLY form)"),
                        text: rest_text(t, toks, 3),
                    },
                ),
            }
        }
        // `F n+ n- vname gain` (current gain x i(vname)), `H n+ n- vname
        // transresistance` (voltage): behavioural sources on the current
        // of a voltage source, compiled where bodies are.
        'f' | 'h'
            if toks.len() == 5
                && toks[1..4].iter().all(|x| x.is_word())
                && !toks[3].text(t).eq_ignore_ascii_case("poly") =>
        {
            let nodes = nodes(cx, toks, 2, what, &name)?;
            let gain = value(cx, &toks[4..5])?;
            let control = Expr::Call(Box::new((
                "i".into(),
                vec![Expr::Var(lower(toks[3].text(t)).into())],
            )));
            let val = Val {
                expr: Expr::Binary(BinOp::Mul, Box::new(gain.expr), Box::new(control)),
                pos: gain.pos,
            };
            (
                nodes,
                Spec::ExprSource {
                    voltage: letter == 'h',
                    val,
                },
            )
        }
        'b' => {
            let nodes = nodes(cx, toks, 2, what, &name)?;
            let text = rest_text(t, toks, 3);
            let l = text.to_ascii_lowercase();
            let ok = l.starts_with('v') || l.starts_with('i');
            if !ok || !text.contains('=') {
                return Err(cx.err(
                    toks.get(3).map_or(t.len(), |x| x.start as usize),
                    format!("behavioral source {name}: expected 'V=expr' or 'I=expr'"),
                ));
            }
            // `V=expr` / `I=expr`: the expression runs to the end of the
            // card (LTspice writes it without braces, with blanks).
            let key = toks
                .get(3)
                .filter(|x| x.is_word())
                .map(|x| lower(x.text(t)));
            match key.as_deref() {
                Some(k @ ("v" | "i")) if toks.len() > 5 && toks[4].kind == TokKind::Eq => {
                    let val = value(cx, &toks[5..])?;
                    (
                        nodes,
                        Spec::ExprSource {
                            voltage: k == "v",
                            val,
                        },
                    )
                }
                _ => (nodes, Spec::Behavioral(text)),
            }
        }
        'x' => {
            let (end, _) = plain_words(t, toks, 1);
            if end < 2 {
                return Err(cx.err(
                    toks.get(1).map_or(t.len(), |x| x.start as usize),
                    format!("instance {name} names no subcircuit"),
                ));
            }
            let nodes = toks[1..end - 1].iter().map(|x| lower(x.text(t))).collect();
            let subckt = lower(toks[end - 1].text(t));
            let params = kv_list(cx, toks, end)?;
            (nodes, Spec::Instance { subckt, params })
        }
        'a' => {
            // `a1 %gd(p n) model`, `a1 p n model`, `a1 [a b] y model`.
            let mut words = Vec::new();
            for x in &toks[1..] {
                if x.is_word() {
                    let w = x.text(t);
                    if w.starts_with('%') {
                        continue;
                    }
                    let w = w.trim_matches(['[', ']', '~']);
                    if !w.is_empty() {
                        words.push(lower(w));
                    }
                }
            }
            let Some(model) = words.pop() else {
                return Err(cx.err(t.len(), format!("xspice instance {name} names no model")));
            };
            (words, Spec::Xspice { model })
        }
        'y' => {
            let ytype = name[1..].to_string();
            let Some(inst) = toks.get(1).filter(|x| x.is_word()) else {
                return Err(cx.err(t.len(), format!("{raw_name}: missing instance name")));
            };
            let (end, _) = plain_words(t, toks, 2);
            if end < 3 {
                return Err(cx.err(
                    t.len(),
                    format!("{raw_name} {}: missing model name", inst.text(t)),
                ));
            }
            let nodes = toks[2..end - 1].iter().map(|x| lower(x.text(t))).collect();
            let model = lower(toks[end - 1].text(t));
            let params = kv_list(cx, toks, end)?;
            let full = format!("{name}!{}", lower(inst.text(t)));
            return Ok(ElementCard {
                name: full,
                nodes,
                spec: Spec::YDevice {
                    ytype,
                    model,
                    params,
                },
                loc,
            });
        }
        c if c.is_alphabetic() => {
            let n = unsupported_nodes(c).min(toks.len().saturating_sub(1));
            let nodes = toks[1..=n]
                .iter()
                .filter(|x| x.is_word())
                .map(|x| lower(x.text(t)))
                .collect();
            (
                nodes,
                Spec::Unsupported {
                    what: what.to_string(),
                    text: rest_text(t, toks, n + 1),
                },
            )
        }
        _ => {
            return Err(cx.err(0, format!("'{raw_name}' is not an element or a card")));
        }
    };
    Ok(ElementCard {
        name,
        nodes,
        spec,
        loc,
    })
}

/// The `POLY(n)` form of E, G, F and H as a value, the polynomial of
/// SPICE 2 in the n controlling quantities u_1 .. u_n (E, G: voltages
/// `V(c_k,d_k)` of n node pairs; F, H: currents `i(vname_k)` of n voltage
/// sources): p0 + p1 u_1 + ... + pn u_n + the second-order products, then
/// the third, each order in SPICE 2G6's sequence (its NXTPWR, which
/// ngspice's spice2poly code model keeps): exponent tuples of one total
/// degree in decreasing lexicographic order, u_1^2, u_1 u_2, ..., u_2^2,
/// .... As in ngspice, a lone coefficient is p0. `None` when the card
/// has no POLY.
fn poly_one(
    cx: &ParseCtx,
    toks: &[Tok],
    letter: char,
    what: &str,
    name: &str,
) -> Result<Option<Val>, Diagnostic> {
    let t = cx.text();
    let Some(kw) = toks.get(3).filter(|x| x.is_word()) else {
        return Ok(None);
    };
    if !kw.text(t).eq_ignore_ascii_case("poly") {
        return Ok(None);
    }
    // POLY(n): the word, then `(`, the dimension, `)`.
    let dim = match (toks.get(4), toks.get(5), toks.get(6)) {
        (Some(l), Some(d), Some(r))
            if l.kind == TokKind::LParen && r.kind == TokKind::RParen && d.is_word() =>
        {
            d
        }
        _ => {
            return Err(cx.err(
                kw.start as usize,
                format!("{what} {name}: expected POLY(n)"),
            ));
        }
    };
    let n = match parse_number(dim.text(t)) {
        Some(x) if x.fract() == 0.0 && (1.0..=MAX_POLY_DIM as f64).contains(&x) => x as usize,
        _ => {
            return Err(cx.err(
                dim.start as usize,
                format!(
                    "{what} {name}: POLY({}) needs a whole dimension from 1 to {MAX_POLY_DIM}",
                    dim.text(t)
                ),
            ));
        }
    };
    let per = if matches!(letter, 'e' | 'g') { 2 } else { 1 };
    let controls = per * n;
    // Control pairs may be written `(c1,d1) (c2,d2)`: parentheses and `=`
    // separate like blanks here.
    let words: Vec<&Tok> = toks[7..]
        .iter()
        .filter(|x| !matches!(x.kind, TokKind::Eq | TokKind::LParen | TokKind::RParen))
        .collect();
    if words.len() <= controls || !words[..controls].iter().all(|x| x.is_word()) {
        return Err(cx.err(
            dim.start as usize,
            format!(
                "{what} {name}: POLY({n}) needs {controls} controlling {} and then its \
                 coefficients",
                if per == 2 { "nodes" } else { "sources" }
            ),
        ));
    }
    let node = |x: &Tok| Expr::Var(lower(x.text(t)).into());
    let control: Vec<Expr> = (0..n)
        .map(|k| {
            if per == 2 {
                Expr::Call(Box::new((
                    "v".into(),
                    vec![node(words[2 * k]), node(words[2 * k + 1])],
                )))
            } else {
                Expr::Call(Box::new(("i".into(), vec![node(words[k])])))
            }
        })
        .collect();
    let mut coeffs = Vec::new();
    for x in &words[controls..] {
        coeffs.push(value(cx, std::slice::from_ref(*x))?.expr);
    }
    let pos = cx.card.pos(words[controls].start as usize);
    let bin = |op, a: Expr, b: Expr| Expr::Binary(op, Box::new(a), Box::new(b));
    let expr = if n == 1 {
        // Horner: p0 + u (p1 + u (p2 + ...)).
        let mut acc = coeffs.pop().unwrap_or(Expr::Num(0.0));
        while let Some(p) = coeffs.pop() {
            acc = bin(BinOp::Add, p, bin(BinOp::Mul, control[0].clone(), acc));
        }
        acc
    } else {
        let mut powers = vec![0u32; n];
        let mut acc = coeffs[0].clone();
        for p in coeffs.into_iter().skip(1) {
            next_powers(&mut powers);
            if p == Expr::Num(0.0) {
                continue;
            }
            let mut term = p;
            for (u, &e) in control.iter().zip(&powers) {
                term = match e {
                    0 => term,
                    1 => bin(BinOp::Mul, term, u.clone()),
                    e => bin(
                        BinOp::Mul,
                        term,
                        bin(BinOp::Pow, u.clone(), Expr::Num(e as f64)),
                    ),
                };
            }
            acc = bin(BinOp::Add, acc, term);
        }
        acc
    };
    Ok(Some(Val { expr, pos }))
}

/// Dimensions of `POLY(n)` memnet reads (SPICE 2 allows any; users' decks
/// use 1 to 3).
const MAX_POLY_DIM: usize = 8;

/// The exponents of the next product term of a SPICE 2 polynomial after
/// `powers` (all zero before the first): the next tuple of the same total
/// degree in decreasing lexicographic order, or the first of the next
/// degree, (d + 1, 0, ..., 0).
fn next_powers(powers: &mut [u32]) {
    let n = powers.len();
    // The last position k < n - 1 holding a power that can move right.
    let movable = (0..n.saturating_sub(1)).rev().find(|&k| powers[k] > 0);
    match movable {
        Some(k) => {
            // Move one unit from k to k + 1 and gather everything to the
            // right of k + 1 into k + 1: the next tuple in that order.
            let tail: u32 = powers[k + 1..].iter().sum();
            powers[k] -= 1;
            for p in &mut powers[k + 1..] {
                *p = 0;
            }
            powers[k + 1] = tail + 1;
        }
        None => {
            let degree: u32 = powers.iter().sum();
            powers.fill(0);
            powers[0] = degree + 1;
        }
    }
}

fn rest_text(t: &str, toks: &[Tok], from: usize) -> String {
    toks.get(from)
        .map_or("", |x| t[x.start as usize..].trim_end())
        .to_string()
}

/// `.options` keys that set a SPICE simulator's accuracy (ngspice, Xyce's
/// `timeint` package, HSPICE, LTspice).
const ACCURACY_OPTIONS: &[&str] = &[
    "reltol", "abstol", "vntol", "chgtol", "trtol", "method", "maxord", "lvltim", "itl4", "relv",
    "absv", "reli", "absi",
];

const SHAPES: &[&str] = &[
    "pulse", "sin", "sine", "pwl", "exp", "sffm", "am", "trnoise", "trrandom", "pat",
];

/// `[DC] v [AC m [p]] [PULSE(...)|SIN(...)|PWL(...)]`. `Ok(Err(shape))` for
/// a waveform memnet cannot represent.
fn source_spec(
    cx: &ParseCtx,
    toks: &[Tok],
    from: usize,
    what: &str,
    name: &str,
    warnings: &mut Vec<Warning>,
) -> Result<Result<SourceSpec, String>, Diagnostic> {
    let t = cx.text();
    let word_is = |i: usize, w: &str| {
        toks.get(i)
            .is_some_and(|x| x.is_word() && x.text(t).eq_ignore_ascii_case(w))
    };
    // `DC=1` is a key, not the DC keyword.
    let is_keyword = |i: usize| {
        toks.get(i).is_some_and(|x| {
            x.is_word() && {
                let l = x.text(t).to_ascii_lowercase();
                l == "dc" || l == "ac" || SHAPES.contains(&l.as_str())
            }
        }) && toks.get(i + 1).is_none_or(|y| y.kind != TokKind::Eq)
    };
    let mut dc = None;
    let mut wave = None;
    let mut saw_ac = false;
    let mut i = from;
    while i < toks.len() {
        let x = toks[i];
        if word_is(i, "dc") && toks.get(i + 1).is_none_or(|y| y.kind != TokKind::Eq) {
            if i + 1 >= toks.len() || is_keyword(i + 1) {
                return Err(cx.err(x.end as usize, format!("{what} {name}: DC needs a value")));
            }
            let e = value_group(toks, i + 1);
            dc = Some(value(cx, &toks[i + 1..e])?);
            i = e;
        } else if word_is(i, "ac") {
            // AC magnitude and optional phase: accepted, ignored.
            saw_ac = true;
            i += 1;
            for _ in 0..2 {
                if i < toks.len() && !is_keyword(i) && toks[i].kind != TokKind::Eq {
                    i = value_group(toks, i);
                }
            }
        } else if is_keyword(i) {
            let shape = x.text(t).to_ascii_lowercase();
            let mut args: Vec<Val> = Vec::new();
            let mut kv: Vec<(String, Val)> = Vec::new();
            let mut pwl_file: Option<(String, Loc)> = None;
            let mut j = i + 1;
            let paren = toks.get(j).map(|y| y.kind) == Some(TokKind::LParen);
            if paren {
                j += 1;
            }
            loop {
                let Some(y) = toks.get(j) else {
                    if paren {
                        return Err(cx.err(t.len(), format!("{what} {name}: {shape}( has no ')'")));
                    }
                    break;
                };
                if paren && y.kind == TokKind::RParen {
                    j += 1;
                    break;
                }
                if !paren && is_keyword(j) {
                    break;
                }
                // `FILE=name`, `FILE "name"`: a word, not an expression.
                if shape == "pwl" && y.is_word() && y.text(t).eq_ignore_ascii_case("file") {
                    let k = if toks.get(j + 1).is_some_and(|z| z.kind == TokKind::Eq) {
                        j + 2
                    } else {
                        j + 1
                    };
                    let named = toks.get(k).filter(|z| {
                        matches!(z.kind, TokKind::Word | TokKind::Str | TokKind::Quote)
                    });
                    let Some(z) = named else {
                        return Err(cx.err(
                            y.start as usize,
                            format!("{what} {name}: PWL FILE needs a file name"),
                        ));
                    };
                    let raw = z.text(t);
                    let fname = if z.kind == TokKind::Word {
                        raw
                    } else {
                        &raw[1..raw.len() - 1]
                    };
                    if pwl_file.is_some() {
                        return Err(cx.err(
                            y.start as usize,
                            format!("{what} {name}: PWL names a file twice"),
                        ));
                    }
                    pwl_file = Some((fname.to_string(), cx.loc(z.start as usize)));
                    j = k + 1;
                    continue;
                }
                if y.is_word() && toks.get(j + 1).is_some_and(|z| z.kind == TokKind::Eq) {
                    let e = next_key(toks, j + 2).unwrap_or(toks.len());
                    // A PSpice PWL value stops at its FILE word.
                    let e = if shape == "pwl" {
                        (j + 2..e)
                            .find(|&k| {
                                toks[k].is_word() && toks[k].text(t).eq_ignore_ascii_case("file")
                            })
                            .unwrap_or(e)
                    } else {
                        e
                    };
                    // Inside parentheses the value stops at the ')'.
                    let e = if paren {
                        (j + 2..e)
                            .find(|&k| toks[k].kind == TokKind::RParen)
                            .unwrap_or(e)
                    } else {
                        e
                    };
                    if e == j + 2 {
                        return Err(cx.err(
                            y.start as usize,
                            format!("{what} {name}: '{}' has no value", y.text(t)),
                        ));
                    }
                    kv.push((lower(y.text(t)), value(cx, &toks[j + 2..e])?));
                    j = e;
                    continue;
                }
                let e = value_group(toks, j);
                args.push(value(cx, &toks[j..e])?);
                j = e;
            }
            // PWL's r= and td= may also follow the closing parenthesis.
            while shape == "pwl"
                && toks.get(j).is_some_and(|y| {
                    y.is_word()
                        && (y.text(t).eq_ignore_ascii_case("r")
                            || y.text(t).eq_ignore_ascii_case("td"))
                })
                && toks.get(j + 1).is_some_and(|z| z.kind == TokKind::Eq)
            {
                let e = next_key(toks, j + 2).unwrap_or(toks.len());
                if e == j + 2 {
                    return Err(cx.err(toks[j].start as usize, "missing value"));
                }
                kv.push((lower(toks[j].text(t)), value(cx, &toks[j + 2..e])?));
                j = e;
            }
            let need = |n: usize, form: &str| -> Result<(), Diagnostic> {
                if args.len() < n {
                    Err(cx.err(
                        x.start as usize,
                        format!(
                            "{what} {name}: {form} needs at least {n} values, found {}",
                            args.len()
                        ),
                    ))
                } else {
                    Ok(())
                }
            };
            let take_kv = |kv: &mut Vec<(String, Val)>, k: &str| {
                kv.iter().position(|(n, _)| n == k).map(|p| kv.remove(p).1)
            };
            wave = Some(match shape.as_str() {
                "pulse" => {
                    need(2, "PULSE")?;
                    if args.len() > 8 {
                        return Err(cx.err(
                            x.start as usize,
                            format!("{what} {name}: PULSE takes at most 8 values"),
                        ));
                    }
                    WaveSpec::Pulse(args)
                }
                "sin" | "sine" => {
                    need(2, "SIN")?;
                    if args.len() > 6 {
                        return Err(cx.err(
                            x.start as usize,
                            format!("{what} {name}: SIN takes at most 6 values"),
                        ));
                    }
                    WaveSpec::Sin(args)
                }
                "pwl" => {
                    if pwl_file.is_some() && !args.is_empty() {
                        return Err(cx.err(
                            x.start as usize,
                            format!(
                                "{what} {name}: PWL has both a FILE and {} inline values",
                                args.len()
                            ),
                        ));
                    }
                    if pwl_file.is_none() {
                        need(2, "PWL")?;
                    }
                    if args.len() % 2 != 0 {
                        return Err(cx.err(
                            x.start as usize,
                            format!(
                                "{what} {name}: PWL needs time-value pairs, found {} values",
                                args.len()
                            ),
                        ));
                    }
                    let r = take_kv(&mut kv, "r");
                    let td = take_kv(&mut kv, "td");
                    let time_scale = take_kv(&mut kv, "time_scale_factor");
                    let value_scale = take_kv(&mut kv, "value_scale_factor");
                    WaveSpec::Pwl {
                        values: args,
                        r,
                        td,
                        file: pwl_file.take(),
                        time_scale,
                        value_scale,
                    }
                }
                other => return Ok(Err(other.to_uppercase())),
            });
            if let Some((k, _)) = kv.first() {
                return Err(cx.err(
                    x.start as usize,
                    format!("{what} {name}: unknown {shape} parameter '{k}'"),
                ));
            }
            i = j;
        } else if x.is_word() && toks.get(i + 1).is_some_and(|y| y.kind == TokKind::Eq) {
            // `DC=1`, or LTspice extras such as `Rser=0.1` (ignored).
            let key = lower(x.text(t));
            let e = next_key(toks, i + 2).unwrap_or(toks.len());
            if e == i + 2 {
                return Err(cx.err(
                    x.start as usize,
                    format!("{what} {name}: '{key}' has no value"),
                ));
            }
            if key == "dc" {
                dc = Some(value(cx, &toks[i + 2..e])?);
            } else if key == "file" {
                return Err(cx.err(
                    x.start as usize,
                    match &wave {
                        Some(WaveSpec::Pwl { values, .. }) if !values.is_empty() => format!(
                            "{what} {name}: PWL has both a FILE and {} inline values",
                            values.len()
                        ),
                        _ => format!("{what} {name}: FILE= belongs to PWL (PWL FILE=name)"),
                    },
                ));
            } else {
                warnings.push(Warning::new(
                    "element field ignored",
                    cx.loc(x.start as usize),
                    format!("{what} {name}: '{key}' ignored"),
                ));
            }
            i = e;
        } else if dc.is_none() && wave.is_none() && x.kind != TokKind::Eq {
            let e = value_group(toks, i);
            dc = Some(value(cx, &toks[i..e])?);
            i = e;
        } else {
            return Err(cx.err(
                x.start as usize,
                format!("{what} {name}: unexpected '{}'", x.text(t)),
            ));
        }
    }
    if dc.is_none() && wave.is_none() && !saw_ac {
        return Err(cx.err(t.len(), format!("{what} {name} has no value")));
    }
    Ok(Ok(SourceSpec { dc, wave }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<(TokKind, String)> {
        let mut v = Vec::new();
        assert!(tokenize(s, &mut v).is_ok(), "{s}");
        v.iter().map(|t| (t.kind, t.text(s).to_string())).collect()
    }

    #[test]
    fn tokenizer_splits_fields() {
        use TokKind::*;
        let got = toks("X1 a b sub PARAMS: k = {a+ {b}} m='2*x' v(a)=1, c==d");
        let want = [
            (Word, "X1"),
            (Word, "a"),
            (Word, "b"),
            (Word, "sub"),
            (Word, "PARAMS:"),
            (Word, "k"),
            (Eq, "="),
            (Brace, "{a+ {b}}"),
            (Word, "m"),
            (Eq, "="),
            (Quote, "'2*x'"),
            (Word, "v"),
            (LParen, "("),
            (Word, "a"),
            (RParen, ")"),
            (Eq, "="),
            (Word, "1"),
            (Word, "c==d"),
        ];
        let want: Vec<(TokKind, String)> = want.iter().map(|(k, s)| (*k, s.to_string())).collect();
        assert_eq!(got, want);
        assert_eq!(toks("a<=b")[0].1, "a<=b");
        let mut v = Vec::new();
        assert_eq!(
            tokenize("r1 a b {1+2", &mut v),
            Err((7, "unbalanced '{': no matching '}'"))
        );
        assert_eq!(
            tokenize("r1 a b 1}", &mut v),
            Err((8, "unbalanced '}': no matching '{'"))
        );
    }

    #[test]
    fn comments() {
        assert_eq!(comment_start("R1 a b 1k ; note"), 10);
        assert_eq!(comment_start("R1 a b 1k $ note"), 10);
        assert_eq!(comment_start("R1 a$b c 1k"), 11);
        assert_eq!(comment_start("R1 a b 1k // x"), 10);
        assert_eq!(comment_start("$ all"), 0);
    }
}
