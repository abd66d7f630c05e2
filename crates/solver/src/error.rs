//! Errors of the solver. Every variant that a user's netlist can cause names
//! the element and, when known, where it was written (`file:line:col`).

use memnet_spice::Loc;

/// `name (file:line:col)` or just `name` for generated elements.
#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    pub name: String,
    pub loc: Option<Loc>,
}

impl Element {
    pub fn new(name: &str, loc: Option<&Loc>) -> Self {
        Element {
            name: name.to_string(),
            loc: loc.cloned(),
        }
    }
}

/// A [`SolveError::InvalidDevice`] for device `name` written at `loc`.
pub(crate) fn invalid(name: &str, loc: Option<&Loc>, reason: String) -> SolveError {
    SolveError::InvalidDevice {
        element: Element::new(name, loc),
        reason,
    }
}

impl std::fmt::Display for Element {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.loc {
            Some(loc) => write!(f, "{loc}: {}", self.name),
            None => write!(f, "{}", self.name),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SolveError {
    /// The caller stopped the run (its progress callback said so: Ctrl-C
    /// in Python). Every sample up to `t` has been handed to the sink.
    #[error("interrupted at t = {t}")]
    Interrupted { t: f64 },

    /// A device parameter outside the model's domain (theory.md 1.1-1.2,
    /// 3.8): xi <= -1, beta == 0, ron <= 0, non-finite values, ...
    #[error("{element}: {reason}")]
    InvalidDevice { element: Element, reason: String },

    /// A source whose value is not finite at some time.
    #[error("{element}: source value is not finite at t = {t}")]
    NonFiniteSource { element: Element, t: f64 },

    /// Ideal voltage sources forming a loop (or shorting a node to itself):
    /// their potentials cannot be eliminated consistently.
    #[error("{element}: ideal voltage sources form a loop (or the source is shorted)")]
    VoltageSourceLoop { element: Element },

    /// A current source between two parts of the network that no edge or
    /// voltage source connects: its current has no return path.
    #[error("{element}: current source connects parts of the network with no return path")]
    FloatingCurrentSource { element: Element },

    /// The grounded weighted Laplacian is not positive definite (a device
    /// with non-positive conductance, e.g. 1 + xi w <= 0).
    #[error("singular nodal matrix at t = {t} near node `{node}` ({reason})")]
    Singular {
        node: String,
        t: f64,
        reason: String,
    },

    /// A memristor reached a state with non-positive resistance
    /// (1 + xi w <= 0), outside the model's domain.
    #[error("{element}: resistance {resistance} is not positive at t = {t} (w = {w})")]
    NonPhysicalState {
        element: Element,
        t: f64,
        w: f64,
        resistance: f64,
    },

    /// Newton on the node potentials did not converge for a network with
    /// devices whose current is not linear in the voltage; `element` is the
    /// device whose voltage moved most in the last iteration.
    #[error(
        "{element}: Newton on the node potentials did not converge at t = {t} in {iterations} iterations (the device whose voltage still moved most)"
    )]
    NewtonFailed {
        element: Element,
        t: f64,
        iterations: usize,
    },

    /// A compiled subcircuit body has no solution at a state the
    /// integrator tried (a trial fault: a shorter step may avoid it).
    #[error(
        "{element}: its subcircuit body has no solution at t = {t} (state {x}, voltage {v} across it): Newton on the body did not converge or its matrix is singular"
    )]
    BodyUnsolved {
        element: Element,
        t: f64,
        x: f64,
        v: f64,
    },

    /// A bad simulation option (dt <= 0, t_end not finite, ...).
    #[error("invalid option: {0}")]
    InvalidOption(String),

    /// The right-hand side of another crate's [`crate::OdeSystem`] failed
    /// (e.g. an iterative solve that did not converge); the message says
    /// why.
    #[error("{0}")]
    System(String),

    /// The state became non-finite (NaN or infinity).
    #[error("the state became non-finite at t = {t} (edge `{name}`)")]
    NonFiniteState { t: f64, name: String },

    /// The adaptive integrator could not meet the tolerance.
    /// `component`: the state component with the largest error estimate in
    /// the last rejected step, when known (the run names its device).
    #[error(
        "step size underflow at t = {t} (h = {h:e}): tolerances too strict or solution not smooth"
    )]
    StepSizeUnderflow {
        t: f64,
        h: f64,
        component: Option<usize>,
    },

    /// A time-stepping run could not meet its tolerance: where (time,
    /// device, its state and law) and the likely reason.
    #[error(
        "{element}: the tolerance cannot be met at t = {t:e} (step {h:e}): this device has the \
         largest error estimate ({law}, state {state:e}, rate {rate:e}/s); {reason}"
    )]
    ToleranceNotMet {
        element: Element,
        t: f64,
        h: f64,
        law: &'static str,
        state: f64,
        rate: f64,
        reason: String,
    },

    /// The exact (integrated Kirchhoff) method does not apply.
    #[error("exact method: {0}")]
    ExactUnsupported(String),

    /// The exact method's Newton iteration failed or a device left `[0, 1]`.
    #[error("exact method at t = {t}: {reason}")]
    ExactFailed { t: f64, reason: String },

    /// State vector of the wrong length passed to an evaluation.
    #[error("state has {got} entries, the network has {want} memristors")]
    DimensionMismatch { got: usize, want: usize },

    /// Memory could not be allocated for the factorisation.
    #[error("out of memory while preparing the sparse factorisation")]
    OutOfMemory,

    /// The fill-reducing ordering could not be computed (METIS refused
    /// the matrix).
    #[error("fill-reducing ordering: {0}")]
    Ordering(String),

    /// Writing a sample failed.
    #[error("writing samples: {0}")]
    Io(#[from] std::io::Error),
}

impl SolveError {
    /// Whether the error is one a trial step of an adaptive method can
    /// cause by stepping too far (a state outside its law's domain, a
    /// Newton solve that fails there), so that a shorter step may succeed.
    pub fn is_trial_fault(&self) -> bool {
        matches!(
            self,
            SolveError::NonPhysicalState { .. }
                | SolveError::NewtonFailed { .. }
                | SolveError::BodyUnsolved { .. }
                | SolveError::Singular { .. }
                | SolveError::NonFiniteState { .. }
        )
    }
}
