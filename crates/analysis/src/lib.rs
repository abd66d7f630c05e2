//! memnet-analysis: the results of the theory (theory.md section 4) for a
//! user's circuit -- effective memory and conservation laws, the flux law,
//! symmetries, the linearised regime, Jacobian spectra and Lyapunov
//! functionals -- each verified against a simulation and reported with a
//! [`Verdict`].
//!
//! Entry point: [`analyze`] with [`AnalyzeOptions`], giving an
//! [`AnalysisReport`] (serde) and [`render_text`]. The building blocks are
//! public for tests and other tools: [`model::Model`] (the network in the
//! theory's normal form, with its [`memnet_graph::Topology`]), [`dense`]
//! (Omega, K), [`dynamics`] (currents and dw/dt for arbitrary sources
//! through the solver's [`memnet_solver::NodalSolver`]; the implicit
//! projectors are [`memnet_graph::OmegaOperator`]) and one module per
//! result. Trajectories come from [`memnet_solver::integrate`].

pub mod dense;
pub mod dynamics;
pub mod error;
pub mod flux;
pub mod jacobian;
pub mod linear;
pub mod lyapunov;
pub mod memory;
pub mod model;
pub mod report;
pub mod symmetry;
pub mod verdict;

pub use error::AnalysisError;
pub use report::{AnalysisReport, AnalyzeOptions, analyze, render_text};
pub use verdict::Verdict;
