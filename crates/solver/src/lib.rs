//! memnet-solver: integrates the memory equation of memristive networks
//! (theory.md 3.2, (ME)),
//!
//!   dw/dt = alpha w - (1/beta) (I + xi Omega W)^{-1} Omega S,
//!
//! and its generalisations (per-device parameters, polarity, resistors,
//! current sources, ideal voltage sources, time-dependent sources) with a
//! sparse nodal solver (theory.md 3.3 item 4) on faer's sparse Cholesky.
//!
//! Layers:
//! * [`ode`]: a generic ODE layer ([`OdeSystem`], [`integrate`]) with
//!   Euler, RK4 and Dormand-Prince 5(4);
//! * [`MemoryRhs`]: the right-hand side of a [`memnet_graph::Network`],
//!   allocation-free per evaluation;
//! * [`simulate`]: a whole run with bounds, samples and a [`SimReport`];
//! * [`exact`]: the alpha = 0 solution from the integrated Kirchhoff laws
//!   (theory.md 4.4), no time stepping;
//! * [`dense`]: the paper's dense formula, a reference for tests;
//! * [`output`]: CSV and NPY sample sinks; [`convention`]: theory.md 3.7.
//!
//! Ordering: chosen per network ([`Ordering::Auto`]) after measurement
//! (`examples/measure.rs`, `examples/big_grid.rs`): on grids the crate's
//! level-set nested dissection is 10-15% faster per evaluation at 200x200
//! and 400x400 but 20% slower at 100x100, with 8-30% more fill. Measured
//! again (`measure threads`, docs/engine.md "Orderings and threads"):
//! 0.6-0.9x AMD's time on 300x300-1400x1400 grids, but 3.2-3.6x on
//! multi-nodal nanowire networks (5-6x the fill). Size alone cannot tell
//! these apart, the fill of the two symbolic factorisations can: `Auto`
//! keeps AMD on small networks and wherever nested dissection fills more
//! than 1.25x as much.
//!
//! Integrators are written here rather than taken from diffsol: the
//! memory equation needs a projection hook after each accepted step
//! (clip / sticky, with FSAL invalidation), landing on source corners,
//! allocation-free streaming of dense-output samples, and fallible
//! right-hand sides that return located errors; diffsol's explicit
//! method is Tsit45 (not Dormand-Prince), state edits go through its
//! solver state, and it adds a large dependency tree.

pub mod convention;
pub mod dense;
pub mod device;
mod error;
pub mod exact;
mod indefinite;
mod memory;
mod nodal;
pub mod ode;
mod ordering;
pub mod output;
mod probe;
pub mod readback;
mod request;
mod run;
mod simulate;
pub mod waveform;

pub use dense::{DenseMemoryRhs, dense_memory_rhs, dense_x, omega_dense};
pub use device::{DeviceFault, DeviceLaw, Laws, LinearLaw};
pub use error::{Element, SolveError};
pub use memory::{MemoryRhs, memristor_edges, memristor_names};
pub use nodal::{
    AUTO_FILL_RATIO, AUTO_MIN_UNKNOWNS, FactorReuse, NodalSolver, NodalSources, Ordering,
};
pub use ode::{ErrorNorm, IntegrationStats, ObserveFn, OdeSystem, Sampling, Stepper, integrate};
pub use output::{CsvSink, NpySink};
pub use probe::{ProbeScratch, Probes, glob as glob_match};
pub use readback::{SavedRun, read_saved_run};
pub use request::{AUTO_LOCATE_MAX_DEVICES, MethodChoice, RunRequest};
pub use run::{BoundHit, Bounds, Method, NullSink, SampleSink, SimOptions, SimReport};
pub use simulate::{
    ResumePoint, resume_point, simulate, simulate_from, simulate_outputs, simulate_until,
};

#[cfg(test)]
mod tests {
    /// The CLI may run a simulation on a worker thread.
    #[test]
    fn solver_types_are_send() {
        fn send<T: Send>() {}
        send::<crate::MemoryRhs>();
        send::<crate::SimReport>();
        send::<crate::SolveError>();
        send::<crate::CsvSink<std::fs::File>>();
        send::<crate::NpySink<std::fs::File>>();
    }
}
