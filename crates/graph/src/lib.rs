//! memnet-graph: the memristive network (theory.md sections 2-3) built from
//! an elaborated circuit, a graph file or a generator, and its topology.

pub mod network;
pub mod projector;
pub mod topology;

pub use network::{
    Device, Edge, EdgeId, Injection, MemristorParams, Network, NodeId, PotentialConstraint,
    SeriesSource, TranSpec,
};
pub use projector::OmegaOperator;
pub use topology::{CycleBasis, LaplacianPattern, Topology, TopologyError};
