//! memnet-graph: the memristive network (theory.md sections 2-3) built from
//! an elaborated circuit, a graph file or a generator, and its topology.
//!
//! * [`Network::from_circuit`] folds series voltage sources into edges
//!   (theory.md 3.1) and reports unsupported input with `file:line:col`;
//!   [`Network::to_circuit`] is its inverse.
//! * [`generate()`] / [`GenSpec`] build seeded synthetic networks;
//!   [`random_connected_graph`] is theory.md T0's test graph.
//! * [`read_graph_file`] reads CSV edge lists and Matrix Market files,
//!   [`write_csv`] writes CSV.
//! * [`Topology`] gives components, grounds, the reduced numbering, a
//!   spanning forest, B, B_r, the fundamental cycle basis A and the reduced
//!   Laplacian pattern, all in O(N + M) (the cycle basis in O(sum of cycle
//!   lengths)); sparse matrices are faer `SparseColMat<usize, f64>` (CSC).
//! * [`OmegaOperator`] applies Omega = Omega_A with one unweighted
//!   Laplacian solve (sparse Cholesky, factored once); the dense projectors
//!   are [`Topology::omega_a_dense`] and [`Topology::omega_bt_dense`].
//! * [`Summary`] holds the counts (`memnet import --json`).
//! * [`Network::to_petgraph`] and [`Network::to_dot`] hand the network to
//!   petgraph and Graphviz.

pub mod build;
pub mod error;
pub mod files;
pub mod generate;
pub mod graphviz;
pub mod layout;
pub mod nanowire;
pub mod network;
pub mod projector;
pub mod summary;
pub mod topology;

pub use build::{NetworkBuilder, check_memristor, check_resistance, native_law};
pub use error::NetworkError;
pub use files::{
    EdgeColumns, is_graph_file, network_from_columns, read_csv, read_graph_file, read_mtx,
    write_csv,
};
pub use generate::{
    DeviceDefaults, Drive, DriveMode, GenSpec, GraphKind, Layout, Orientation, RandomSources,
    WInit, generate, generate_with_layout, random_connected_graph,
};
pub use graphviz::{EdgeWeight, state_colour};
pub use nanowire::{Electrodes, NanowireSpec, Representation, Side, Spread};
pub use network::{
    CompactString, Device, Edge, EdgeId, FoldedNode, Injection, LawSpec, MemristorParams, Network,
    NodeId, OpenPin, PotentialConstraint, SeriesSource, TranSpec,
};
pub use projector::OmegaOperator;
pub use summary::Summary;
pub use topology::{
    CycleBasis, LaplacianPattern, NO_SLOT, NodalTopology, OffsetLink, Supernodes, Topology,
    TopologyError,
};
