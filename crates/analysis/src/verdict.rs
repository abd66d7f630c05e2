//! The outcome of checking one statement of the theory on a circuit.

use serde::Serialize;

/// Whether a statement holds for the user's circuit.
///
/// Exact statements end in `Holds` or `Violated` (residual against the
/// stated tolerance); asymptotic ones (strong/weak/first-order regimes) in
/// `Approximate`, with the error and the order the theory predicts; a
/// statement whose hypotheses fail is `NotApplicable` with the reason
/// (naming the element that breaks it) instead of a number.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Holds { residual: f64, tolerance: f64 },
    Violated { residual: f64, tolerance: f64 },
    Approximate { error: f64, expected_order: f64 },
    NotApplicable { reason: String },
}

impl Verdict {
    /// `Holds` if `residual <= tolerance` (NaN counts as violated).
    pub fn from_residual(residual: f64, tolerance: f64) -> Self {
        if residual <= tolerance {
            Verdict::Holds {
                residual,
                tolerance,
            }
        } else {
            Verdict::Violated {
                residual,
                tolerance,
            }
        }
    }

    pub fn na(reason: impl Into<String>) -> Self {
        Verdict::NotApplicable {
            reason: reason.into(),
        }
    }

    pub fn holds(&self) -> bool {
        matches!(self, Verdict::Holds { .. })
    }

    pub fn is_applicable(&self) -> bool {
        !matches!(self, Verdict::NotApplicable { .. })
    }

    /// One-line human-readable form, numbers in 3 significant digits.
    pub fn render(&self) -> String {
        match self {
            Verdict::Holds {
                residual,
                tolerance,
            } => format!("holds (residual {residual:.2e} <= {tolerance:.1e})"),
            Verdict::Violated {
                residual,
                tolerance,
            } => format!("VIOLATED (residual {residual:.2e} > {tolerance:.1e})"),
            Verdict::Approximate {
                error,
                expected_order,
            } => {
                format!("approximate (error {error:.2e}, theory predicts O({expected_order:.1e}))")
            }
            Verdict::NotApplicable { reason } => format!("not applicable: {reason}"),
        }
    }
}
