//! Errors of the analysis. Every failure a user's circuit can cause names
//! the element and, when known, its `file:line:col`.

use memnet_spice::Loc;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalysisError {
    /// A problem with one element of the circuit.
    #[error("{}{element}: {message}", loc_prefix(.loc))]
    Element {
        element: String,
        loc: Option<Loc>,
        message: String,
    },
    /// A numerical failure that is not attributable to one element
    /// (e.g. a singular loop-resistance matrix at a user-given state).
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// Inconsistent arguments to a library function (dimension mismatch,
    /// non-finite option values).
    #[error("invalid input: {0}")]
    Invalid(String),
}

/// Dense projectors and Laplacian factorisations of the graph crate fail
/// only numerically (or for networks too large to densify).
impl From<memnet_graph::TopologyError> for AnalysisError {
    fn from(e: memnet_graph::TopologyError) -> Self {
        AnalysisError::Numerical(e.to_string())
    }
}

fn loc_prefix(loc: &Option<Loc>) -> String {
    match loc {
        Some(l) => format!("{l}: "),
        None => String::new(),
    }
}

impl AnalysisError {
    pub(crate) fn element(name: &str, loc: Option<&Loc>, message: impl Into<String>) -> Self {
        AnalysisError::Element {
            element: name.to_string(),
            loc: loc.cloned(),
            message: message.into(),
        }
    }
}
