//! One error type for the front end: a rendered message and an exit status.
//!
//! Exit status 2 means the input was at fault (syntax, an element memnet cannot
//! simulate, a bad option); 1 means the environment was (a file could not be
//! written).

use std::fmt::Display;

#[derive(Debug)]
pub struct CliError {
    message: String,
    code: u8,
}

pub type CliResult<T = ()> = Result<T, CliError>;

impl CliError {
    /// The input (netlist, graph file, options) is at fault.
    pub fn input(message: impl Display) -> Self {
        CliError {
            message: message.to_string(),
            code: 2,
        }
    }

    /// Something outside the input failed (writing an output file, ...).
    pub fn io(context: impl Display, err: impl Display) -> Self {
        CliError {
            message: format!("error: {context}: {err}"),
            code: 1,
        }
    }

    pub fn render(&self) -> String {
        if self.message.contains("error:") {
            self.message.clone()
        } else {
            format!("error: {}", self.message)
        }
    }

    pub fn exit_code(&self) -> u8 {
        self.code
    }
}

impl From<memnet_spice::Diagnostic> for CliError {
    fn from(d: memnet_spice::Diagnostic) -> Self {
        CliError {
            message: d.render(),
            code: 2,
        }
    }
}

/// Writes a report to stdout. A reader that has gone (`memnet ... | head`)
/// ends the output quietly, as for any Unix filter; other write errors are
/// I/O errors.
pub fn print_stdout(text: &str) -> CliResult {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::io("stdout", e)),
        _ => Ok(()),
    }
}
