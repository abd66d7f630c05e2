//! Errors of network construction. Every problem caused by the input names
//! the element(s) and the place they were written.

use std::fmt;

use memnet_spice::Diagnostic;

/// Why a network could not be built.
#[derive(Clone, Debug, PartialEq)]
pub enum NetworkError {
    /// Problems in a netlist or graph file, each at its `file:line:col`
    /// (all that were found, in input order).
    Invalid(Vec<Diagnostic>),
    /// A file could not be read.
    Io { path: String, message: String },
    /// A generator specification is inconsistent (no place to point at).
    Spec(String),
}

impl NetworkError {
    /// The located diagnostics (empty for `Io` and `Spec`).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            NetworkError::Invalid(d) => d,
            _ => &[],
        }
    }

    /// All messages, one per line, `FILE:LINE:COL: error: message`.
    pub fn render(&self) -> String {
        match self {
            NetworkError::Invalid(d) => d
                .iter()
                .map(Diagnostic::render)
                .collect::<Vec<_>>()
                .join("\n"),
            other => format!("error: {other}"),
        }
    }
}

impl fmt::Display for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetworkError::Invalid(d) => {
                for (i, diag) in d.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{diag}")?;
                }
                Ok(())
            }
            NetworkError::Io { path, message } => write!(f, "{path}: {message}"),
            NetworkError::Spec(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for NetworkError {}
