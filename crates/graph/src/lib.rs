//! memnet-graph: the memristive network (theory.md sections 2-3) built from
//! an elaborated circuit, a graph file or a generator, and its topology.

pub mod build;
pub mod error;
pub mod files;
pub mod generate;
pub mod network;
pub mod projector;
pub mod summary;
pub mod topology;

pub use build::{check_memristor, check_resistance};
pub use error::NetworkError;
pub use files::{read_csv, read_graph_file, read_mtx, write_csv};
pub use generate::{
    DeviceDefaults, Drive, DriveMode, GenSpec, GraphKind, Orientation, RandomSources, WInit,
    generate, random_connected_graph,
};
pub use network::{
    Device, Edge, EdgeId, Injection, MemristorParams, Network, NodeId, PotentialConstraint,
    SeriesSource, TranSpec,
};
pub use projector::OmegaOperator;
pub use summary::Summary;
pub use topology::{CycleBasis, LaplacianPattern, Topology, TopologyError};
