//! memnet-spice: SPICE text in, flat circuit out (and, for interop, ngspice
//! decks and raw files out and back in).
//!
//! Pipeline: [`parse`](crate) text into a deck with source spans, then
//! elaborate it into a flat [`Circuit`]. Nothing here prints or exits; all
//! user-caused failures are [`Diagnostic`]s.

pub mod circuit;
pub mod diag;

pub use circuit::{
    Analysis, Circuit, Element, ElementKind, LinearLaw, Loc, Memristor, MemristorDialect, Model,
    Source, TranTimes, Warning, Waveform, GROUND,
};
pub use diag::Diagnostic;
