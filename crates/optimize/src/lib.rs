//! memnet-optimize: QUBO, Ising and max-cut problems solved by memristive
//! dynamics (docs/optimize.md; the mapping and metrics of
//! `../shared/apps.md` part A).
//!
//! Data flows one way: an instance file ([`read`]) becomes the canonical
//! problem ([`Qubo`]), the exact mapping ([`Mapping`]) gives a PSD Omega
//! and a drive b whose Lyapunov functional equals the energy at every
//! corner, the dynamics ([`QuboDynamics`], sparse SPD solves by CG) run
//! from seeded restarts, and [`optimize`] rounds, polishes and measures.
//! The crate prints nothing.

pub mod dynamics;
pub mod mapping;
pub mod problem;
pub mod read;
pub mod run;

pub use dynamics::{Boundary, CgSettings, QuboDynamics, Schedule, Stop, StopRule};
pub use mapping::{DiagonalRule, MapError, Mapping, MappingKind, Params};
pub use problem::{Kind, ProblemError, Qubo, SweepScratch};
pub use read::{Format, Instance, ReadError, read_file, read_str};
pub use run::{
    MappingReport, OptimizeError, OptimizeOptions, OptimizeReport, Outcome, RestartReport,
    Rounding, optimize, tts99, wilson,
};
