//! memnet-reservoir: the harness of reservoir computing with memristive
//! networks (docs/reservoir.md; `../shared/apps.md` part B): benchmark
//! tasks and their splits ([`tasks`]), feature matrices ([`features`]) and
//! the ridge readout with its NRMSE ([`readout`]).
//!
//! The harness is checked on its own first (apps.md target B-T0): with
//! delay-line features it reproduces the reference NRMSE figures of the
//! NARMA10 fixture. The memristive reservoir driver builds on it.

pub mod drive;
pub mod features;
pub mod readout;
pub mod tasks;

pub use drive::{BiasRange, Drive, DriveError, FeatureKinds, drive};
pub use features::{Features, delay_line};
pub use readout::{
    MemoryCapacity, Ridge, Score, correlation, fit_ridge, fit_ridge_many, memory_capacity, nrmse,
    select_and_score,
};
pub use tasks::{
    Series, Split, Target, TaskError, mackey_glass, narma10, narma10_series, parse_series_csv,
    read_series_csv, sine_to_square,
};
