//! Diagnostics: every failure a user can cause, with the place it happened.

use std::fmt;

use serde::Serialize;

use crate::circuit::Loc;

/// An error (or warning) tied to a place in a netlist.
///
/// `line_text` is the source line as written (after decoding), captured
/// when the diagnostic is made so rendering needs no file access.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    pub loc: Loc,
    pub message: String,
    pub line_text: Option<String>,
}

impl Diagnostic {
    pub fn new(loc: Loc, message: impl Into<String>) -> Self {
        Diagnostic {
            loc,
            message: message.into(),
            line_text: None,
        }
    }

    pub fn with_line(mut self, text: impl Into<String>) -> Self {
        self.line_text = Some(text.into());
        self
    }

    /// `FILE:LINE:COL: error: message`, then the source line and a caret
    /// under the column, the way compilers print it.
    pub fn render(&self) -> String {
        let mut s = format!("{}: error: {}", self.loc, self.message);
        if let Some(text) = &self.line_text {
            let text = text.trim_end_matches(['\r', '\n']);
            // Tabs keep their width so the caret lines up.
            let pad: String = text
                .chars()
                .take(self.loc.col.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            s.push_str(&format!("\n{text}\n{pad}^"));
        }
        s
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.loc, self.message)
    }
}

impl std::error::Error for Diagnostic {}
