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
//! Ordering: AMD is the default after measurement (see the report in
//! `benches/rhs.rs` and `examples/big_grid.rs`).

pub mod convention;
pub mod dense;
mod error;
pub mod exact;
mod memory;
mod nodal;
pub mod ode;
mod ordering;
pub mod output;
mod simulate;
pub mod waveform;

pub use dense::{DenseMemoryRhs, dense_memory_rhs, dense_x, omega_dense};
pub use error::{Element, SolveError};
pub use memory::{MemoryRhs, memristor_edges, memristor_names};
pub use nodal::Ordering;
pub use ode::{IntegrationStats, ObserveFn, OdeSystem, Sampling, Stepper, integrate};
pub use output::{CsvSink, NpySink};
pub use simulate::{
    BoundHit, Bounds, Method, NullSink, SampleSink, SimOptions, SimReport, simulate,
};
