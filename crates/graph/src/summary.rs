//! Counts describing a network, for `memnet import --json` and friends.

use serde::Serialize;

use crate::network::{Device, Network};
use crate::topology::Topology;

/// Counts of a network (theory.md 2.1-2.3: N, M, p, L = M - N + p).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub nodes: usize,
    pub edges: usize,
    /// Devices with state (every law).
    pub memristors: usize,
    pub resistors: usize,
    /// Static devices: diodes and stateless selectors ([`Network::is_static`]).
    pub static_devices: usize,
    pub self_loops: usize,
    pub components: usize,
    pub cycles: usize,
    pub injections: usize,
    pub constraints: usize,
    /// Edges carrying a series source (folded V elements or generated).
    pub folded_sources: usize,
}

impl Summary {
    /// Computes the counts; `topology` gives the components if available.
    /// Without it they are counted with a union-find over the edges (the
    /// components of [`Topology`]), not a whole topology: at ten million
    /// edges that would hold a gigabyte for two numbers.
    pub fn new(net: &Network, topology: Option<&Topology>) -> Summary {
        let n_components = match topology {
            Some(t) => t.n_components,
            None => {
                let mut uf = petgraph::unionfind::UnionFind::<usize>::new(net.n_nodes());
                for e in &net.edges {
                    uf.union(e.tail, e.head);
                }
                (0..net.n_nodes()).filter(|&v| uf.find_mut(v) == v).count()
            }
        };
        let static_devices = (0..net.n_edges()).filter(|&k| net.is_static(k)).count();
        Summary {
            nodes: net.n_nodes(),
            edges: net.n_edges(),
            memristors: net.n_memristors() - static_devices,
            static_devices,
            resistors: net
                .edges
                .iter()
                .filter(|e| matches!(e.device, Device::Resistor { .. }))
                .count(),
            self_loops: net.edges.iter().filter(|e| e.tail == e.head).count(),
            components: n_components,
            // L = M - N + p (theory.md 2.3).
            cycles: net.n_edges() + n_components - net.n_nodes(),
            injections: net.injections.len(),
            constraints: net.constraints.len(),
            folded_sources: net.edges.iter().filter(|e| e.source.is_some()).count(),
        }
    }
}

impl Network {
    /// The network's [`Summary`].
    pub fn summary(&self) -> Summary {
        Summary::new(self, None)
    }
}
