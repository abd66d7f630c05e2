//! The network as a petgraph graph ([`Network::to_petgraph`]), for users
//! who want petgraph's algorithms on it, and as Graphviz DOT
//! ([`Network::to_dot`]) through petgraph's DOT writer.

use petgraph::dot::{Config, Dot};
use petgraph::graph::{DiGraph, NodeIndex};

use crate::network::{Device, EdgeId, Network};

/// The weight of an edge of [`Network::to_petgraph`].
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeWeight {
    /// The edge's index in [`Network::edges`].
    pub edge: EdgeId,
    /// Device name (`x1.xm2`, `R3`).
    pub name: String,
    pub device: Device,
    /// Name of the series voltage source folded into the edge, if any.
    pub source: Option<String>,
}

impl Network {
    /// A petgraph directed graph with the network's nodes and edges:
    /// node `NodeIndex::new(n)` is node `n` (weight: its name), edge
    /// `EdgeIndex::new(k)` is edge `k` oriented tail -> head. Current
    /// sources and ideal voltage sources that are not folded into an edge
    /// are not edges of the network and do not appear.
    pub fn to_petgraph(&self) -> DiGraph<String, EdgeWeight> {
        let mut g = DiGraph::with_capacity(self.n_nodes(), self.n_edges());
        for name in &self.node_names {
            g.add_node(name.clone());
        }
        for (k, e) in self.edges.iter().enumerate() {
            g.add_edge(
                NodeIndex::new(e.tail),
                NodeIndex::new(e.head),
                EdgeWeight {
                    edge: k,
                    name: e.name.to_string(),
                    device: e.device,
                    source: e.source.as_ref().map(|s| s.name.clone()),
                },
            );
        }
        g
    }

    /// Graphviz DOT text of the network (`dot -Tsvg net.dot`): nodes
    /// labelled with their names, edges with their device names, each
    /// memristor coloured by its state at t = 0 ([`state_colour`]: red at
    /// w = 0, its low-resistance end R = ron, through purple to blue at
    /// w = 1, R = roff), fixed resistors grey and dashed.
    pub fn to_dot(&self) -> String {
        let g = self.to_petgraph();
        let edge_attrs =
            |_: &DiGraph<String, EdgeWeight>, e: petgraph::graph::EdgeReference<'_, EdgeWeight>| {
                let w = e.weight();
                let label = match &w.source {
                    Some(s) => format!("{} + {}", w.name, s),
                    None => w.name.clone(),
                };
                match w.device {
                    Device::Memristor(p) => format!(
                        "label = \"{}\" color = \"{}\" tooltip = \"w(0) = {}\"",
                        escape(&label),
                        state_colour(p.w0),
                        p.w0
                    ),
                    Device::Native { .. } => format!(
                        "label = \"{}\" color = \"#6a3d9a\" style = bold",
                        escape(&label)
                    ),
                    Device::Resistor { resistance } => format!(
                        "label = \"{}\" color = \"#808080\" style = dashed tooltip = \"R = {}\"",
                        escape(&label),
                        resistance
                    ),
                }
            };
        let node_attrs = |_: &DiGraph<String, EdgeWeight>, n: (NodeIndex, &String)| -> String {
            format!("label = \"{}\"", escape(n.1))
        };
        let dot = Dot::with_attr_getters(
            &g,
            &[Config::EdgeNoLabel, Config::NodeNoLabel],
            &edge_attrs,
            &node_attrs,
        );
        format!("{dot:?}")
    }
}

/// The colour of state w in [0, 1] (clamped): a linear blend from red
/// (#d7301f, w = 0) to blue (#2b6cb0, w = 1), as `#rrggbb`.
pub fn state_colour(w: f64) -> String {
    let w = if w.is_nan() { 0.5 } else { w.clamp(0.0, 1.0) };
    let lerp = |a: u8, b: u8| (f64::from(a) + w * (f64::from(b) - f64::from(a))).round() as u8;
    let (r, g, b) = (lerp(0xd7, 0x2b), lerp(0x30, 0x6c), lerp(0x1f, 0xb0));
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// A DOT double-quoted string body.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
