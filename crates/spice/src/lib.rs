//! memnet-spice: SPICE text in, flat circuit out (and, for interop, ngspice
//! decks and raw files out and back in).
//!
//! Pipeline: [`parse_str`]/[`parse_file`] text into a [`Deck`] with source
//! positions, then [`elaborate`] it into a flat [`Circuit`];
//! [`import_str`]/[`import_file`] do both. Nothing here prints or exits; all
//! user-caused failures are [`Diagnostic`]s naming the card and its
//! `file:line:col`.
//!
//! What the importer reads (case-insensitively; ngspice, Xyce and LTspice
//! styles):
//! - title line (always line 1 of the top file), `.end`, `*` comments,
//!   `;` / `$ ` / `//` end-of-line comments, `+` continuations (also after
//!   blanks, across comment lines, in `.subckt` headers and `PARAMS:`);
//! - numbers with `f p n u µ m k meg g t mil` and unit letters (`10kOhm`;
//!   `M` is milli), see [`number`];
//! - `.param`/`.params`, `{...}`/`'...'`/bare expressions and `.func`, see
//!   [`expr`]; scopes: instance overrides, `PARAMS:` defaults and local
//!   `.param`s, then the enclosing definition, then globals (lexical);
//! - `.subckt`/`.ends` (nested), `X` instances, `.include`, `.lib file
//!   section`, `.lib name ... .endl`, `.global`, `.model`, `.ic`,
//!   `.options`, `.tran`/`.op`/`.dc`/`.ac`, `.control ... .endc` (verbatim);
//! - elements R C L V I (DC, PULSE, SIN, PWL) E G (linear) B A Y X; other
//!   letters become [`ElementKind::Unsupported`] with their line;
//! - memristors: canonical `X.. p n memristor ron= roff= w0= alpha= beta=`
//!   (defaults [`DEFAULT_RON`] ...), Xyce `YMEMRISTOR name p n model`,
//!   XSPICE `a.. %gd(p n) model`, and user subcircuits declared through
//!   [`ImportOptions::memristor_subckts`];
//! - UTF-8, UTF-16LE (with or without BOM) and Latin-1 files, see [`decode`].
//!
//! For speed, top-level one-line element cards are only located by the
//! parser ([`deck::Stmt::Raw`]) and parsed field by field during
//! elaboration; their syntax errors therefore come from [`elaborate`].

pub mod circuit;
pub mod compare;
pub mod deck;
pub mod decode;
pub mod diag;
pub mod dump;
pub mod elab;
pub mod export;
pub mod expr;
pub mod number;
pub mod raw;

pub use circuit::{
    Analysis, BodyElement, Circuit, DataTable, Element, ElementKind, GROUND, LinearLaw, Loc,
    Memristor, MemristorBody, MemristorDialect, Model, OutputCard, Sets, Source, TranTimes,
    Warning, WarningGroup, Waveform, group_warnings, parse_pwl_file,
};
pub use deck::Deck;
pub use decode::TextEncoding;
pub use diag::Diagnostic;
pub use dump::dump_circuit;
pub use elab::{
    CANONICAL_PARAMS, DEFAULT_ALPHA, DEFAULT_BETA, DEFAULT_ROFF, DEFAULT_RON, DEFAULT_W0,
    ElementSink, ImportOptions, OptionStyle, UserMemristor, elaborate, elaborate_into,
};

use std::path::Path;

/// Parse netlist text. `name` is the file name used in locations;
/// `.include`s resolve relative to the current directory.
pub fn parse_str(text: &str, name: &str) -> Result<Deck, Diagnostic> {
    deck::Parser::new().parse_top(name, text.to_string(), Path::new(""), None)
}

/// Read (any supported encoding), then parse a netlist file. Includes
/// resolve relative to the including file.
pub fn parse_file(path: &Path) -> Result<Deck, Diagnostic> {
    let shown = path.to_string_lossy();
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostic::new(Loc::new(&*shown, 0, 0), format!("cannot read netlist: {e}"))
    })?;
    let (text, _) = decode::decode(bytes);
    let dir = path.parent().unwrap_or(Path::new(""));
    let canonical = std::fs::canonicalize(path).ok();
    deck::Parser::new().parse_top(&shown, text, dir, canonical)
}

/// Parse and elaborate netlist text (see [`parse_str`]).
pub fn import_str(text: &str, name: &str, opts: &ImportOptions) -> Result<Circuit, Diagnostic> {
    elaborate(parse_str(text, name)?, opts)
}

/// Parse and elaborate a netlist file (see [`parse_file`]).
pub fn import_file(path: &Path, opts: &ImportOptions) -> Result<Circuit, Diagnostic> {
    elaborate(parse_file(path)?, opts)
}

/// [`import_file`] with the elements handed to `sink` (see
/// [`elaborate_into`]): the returned circuit has none.
pub fn import_file_into(
    path: &Path,
    opts: &ImportOptions,
    sink: &mut dyn ElementSink,
) -> Result<Circuit, Diagnostic> {
    elaborate_into(parse_file(path)?, opts, sink)
}
