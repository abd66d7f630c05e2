//! Topology of a [`Network`]: connected components, grounding, the reduced
//! node numbering, a spanning forest, the incidence matrix B, the
//! fundamental cycle basis A and the reduced Laplacian (theory.md 2.1-2.4,
//! 3.3 item 4).
//!
//! The graph here is *nodes + edges* of the network only: current-source
//! injections and potential constraints (unfolded ideal voltage sources) are
//! not edges, so they do not change N, M, p, L = M - N + p, B or A.
//!
//! Ideal voltage sources tie nodes into *supernodes* ([`Supernodes`]): a
//! spanning tree of the constraints in each supernode carries the known
//! potential offsets, and [`Topology::contracted`] is the topology of the
//! graph with each supernode contracted, on which the nodal system of the
//! solver and the theory's normal form of the analysis are written.
//!
//! The adjacency is a petgraph graph ([`Topology::graph`]), the loops of
//! voltage sources are found with petgraph's union-find; everything else
//! is flat arrays, built in O(N + M) (no per-edge heap allocation, no
//! dense matrix); the cycle basis is built on request because
//! its size is the sum of the cycle lengths, not O(M).
//!
//! Sparse matrices are faer's `SparseColMat<usize, f64>` (compressed sparse
//! column, sorted row indices, no explicit zeros).

use faer::Mat;
use faer::linalg::solvers::Solve;
use faer::sparse::{SparseColMat, SymbolicSparseColMat};
use memnet_spice::GROUND;
use petgraph::graph::{NodeIndex, UnGraph};
use petgraph::unionfind::UnionFind;
use petgraph::visit::EdgeRef;

use crate::network::{EdgeId, Network, NodeId};

/// Sentinel in flat index arrays meaning "none" (ground node, root, ...).
const NONE: usize = usize::MAX;

/// Errors from topology computations. Only resource limits and numerical
/// failures of the linear algebra can occur: every network has a topology.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TopologyError {
    #[error(
        "dense {what} requested for {edges} edges; the limit is {limit} (use the implicit operator)"
    )]
    TooLargeForDense {
        what: &'static str,
        edges: usize,
        limit: usize,
    },
    #[error("edge {edge} has endpoint {node} but the network has only {n_nodes} nodes")]
    BadEndpoint {
        edge: EdgeId,
        node: NodeId,
        n_nodes: usize,
    },
    #[error(
        "voltage source {constraint} has terminal node {node} but the network has only {n_nodes} nodes"
    )]
    BadConstraint {
        constraint: usize,
        node: NodeId,
        n_nodes: usize,
    },
    /// Constraint `constraint` (index into the network's constraints)
    /// closes a loop of ideal voltage sources: the potentials around it
    /// are over-determined.
    #[error("voltage source {constraint} closes a loop of ideal voltage sources")]
    VoltageSourceLoop { constraint: usize },
    #[error("linear algebra failed: {0}")]
    LinearAlgebra(String),
}

/// Largest M for which the dense M x M projectors are formed.
pub const DENSE_EDGE_LIMIT: usize = 6000;

/// Connected components, grounding and spanning forest of a network.
///
/// Grounding (theory.md 2.4): every connected component is grounded at one
/// node: the node named `0` if the component contains it, otherwise its
/// lowest-index node. A floating component is not an error. The ground
/// nodes are the rows deleted from B to form the reduced incidence matrix
/// B_r, and the rows/columns deleted from the Laplacian B B^T.
///
/// Constraints do not change the grounding choice; they only decide
/// [`Topology::component_referenced`]: a component is *referenced* if it
/// contains node `0`, or is linked to such a component through a chain of
/// potential constraints (ideal voltage sources). A component that contains
/// the `pos` node of a grounded constraint `V a 0` is therefore connected to
/// ground even when no edge reaches node `0`.
#[derive(Clone, Debug)]
pub struct Topology {
    /// N.
    pub n_nodes: usize,
    /// M.
    pub n_edges: usize,
    /// p.
    pub n_components: usize,
    /// Edge tails t_k (copied from the network so the topology is self-contained).
    pub tails: Vec<NodeId>,
    /// Edge heads h_k.
    pub heads: Vec<NodeId>,
    /// Component id of every node. The component of node `0` (if any) is 0;
    /// the others are numbered in order of their lowest node index.
    pub component: Vec<usize>,
    /// Ground node of every component (the root of its spanning tree).
    pub ground: Vec<NodeId>,
    /// Position of each node in the reduced numbering (rows of B_r, rows
    /// and columns of the reduced Laplacian); `None` for ground nodes.
    /// Non-ground nodes are numbered in increasing node index.
    pub reduced_index: Vec<Option<usize>>,
    /// Inverse of `reduced_index`: the node of each reduced row (length N - p).
    pub reduced_nodes: Vec<NodeId>,
    /// Whether each component is tied to node `0` (see the type docs).
    pub component_referenced: Vec<bool>,
    /// Spanning forest (BFS from each ground): the tree edge joining a node
    /// to its parent, `None` for the roots (the ground nodes).
    pub parent_edge: Vec<Option<EdgeId>>,
    /// BFS depth of every node in its tree (0 at the ground).
    pub depth: Vec<usize>,
    /// Whether each edge belongs to the spanning forest.
    pub is_tree_edge: Vec<bool>,
    /// The non-tree edges (chords, incl. self-loops) in increasing edge
    /// index; fundamental cycle c is the cycle of chord `chords[c]`.
    pub chords: Vec<EdgeId>,
    /// The graph as petgraph holds it (the adjacency every traversal here
    /// uses): node `NodeIndex::new(n)` is node n, edge `EdgeIndex::new(k)`
    /// is edge k. See [`Topology::edges_at`].
    pub graph: UnGraph<(), (), u32>,
    /// Supernodes: nodes tied together by ideal voltage sources, their
    /// constraint trees and the contracted topology.
    pub supernodes: Supernodes,
}

impl Topology {
    /// Builds the topology in O(N + M).
    ///
    /// # Panics
    /// Never for a network whose edge and constraint endpoints are valid
    /// node indices and whose ideal voltage sources form no loop (every
    /// constructor in this crate guarantees that: [`Network::from_circuit`]
    /// reports loops as located errors); use [`Topology::try_new`] for
    /// unchecked input.
    pub fn new(net: &Network) -> Topology {
        match Self::try_new(net) {
            Ok(t) => t,
            // Networks built by this crate always have valid endpoints.
            Err(e) => panic!("invalid network: {e}"),
        }
    }

    /// Like [`Topology::new`], but reports an endpoint out of range or a
    /// loop of voltage sources instead of panicking.
    pub fn try_new(net: &Network) -> Result<Topology, TopologyError> {
        let n = net.n_nodes();
        let tails = net.edges.iter().map(|e| e.tail).collect();
        let heads = net.edges.iter().map(|e| e.head).collect();
        let ground_node = net.node_names.iter().position(|s| s == GROUND);
        let constraint_pairs: Vec<(NodeId, NodeId)> =
            net.constraints.iter().map(|c| (c.pos, c.neg)).collect();
        Self::from_edges(n, tails, heads, ground_node, &constraint_pairs)
    }

    /// The topology of a bare edge list: `tails[k] -> heads[k]` on nodes
    /// `0..n_nodes`, with `ground_node` the index of node `0` (if any) and
    /// `constraints` the (pos, neg) node pairs of potential constraints
    /// (ideal voltage sources, constraint `c` is `constraints[c]`). All
    /// endpoints must be `< n_nodes`. A constraint that closes a loop of
    /// constraints is an error naming it.
    pub fn from_edges(
        n_nodes: usize,
        tails: Vec<NodeId>,
        heads: Vec<NodeId>,
        ground_node: Option<NodeId>,
        constraints: &[(NodeId, NodeId)],
    ) -> Result<Topology, TopologyError> {
        let n = n_nodes;
        let m = tails.len();
        if let Some((edge, node)) = out_of_range(n, &tails, &heads) {
            return Err(TopologyError::BadEndpoint {
                edge,
                node,
                n_nodes: n,
            });
        }
        let graph = petgraph_of(n, &tails, &heads);
        let forest = Forest::bfs(&graph, &tails, &heads, ground_node);
        let p = forest.roots.len();

        let mut reduced_index = vec![None; n];
        let mut reduced_nodes = Vec::with_capacity(n.saturating_sub(p));
        for (node, slot) in reduced_index.iter_mut().enumerate() {
            if forest.roots[forest.component[node]] != node {
                *slot = Some(reduced_nodes.len());
                reduced_nodes.push(node);
            }
        }
        let chords: Vec<EdgeId> = (0..m).filter(|&k| !forest.is_tree_edge[k]).collect();
        let supernodes = Supernodes::new(n, &tails, &heads, ground_node, constraints)?;

        let mut topo = Topology {
            n_nodes: n,
            n_edges: m,
            n_components: p,
            tails,
            heads,
            component: forest.component,
            ground: forest.roots,
            reduced_index,
            reduced_nodes,
            component_referenced: Vec::new(),
            parent_edge: forest.parent_edge,
            depth: forest.depth,
            is_tree_edge: forest.is_tree_edge,
            chords,
            graph,
            supernodes,
        };
        // A component is referenced when it lies, after contracting the
        // supernodes, in the component of node `0`.
        topo.component_referenced = match ground_node {
            None => vec![false; p],
            Some(g) => {
                let q = topo.contracted();
                let gc = q.component[topo.supernodes.of(g)];
                let mut referenced = vec![false; p];
                for v in 0..n {
                    if q.component[topo.supernodes.of(v)] == gc {
                        referenced[topo.component[v]] = true;
                    }
                }
                referenced
            }
        };
        Ok(topo)
    }

    /// The topology of the graph with every supernode contracted to one
    /// node (the quotient graph the nodal system is written on): its nodes
    /// are the supernodes, numbered in order of their first member, its
    /// edges the same edges (an edge inside one supernode becomes a
    /// self-loop), its components those of edges and constraints together,
    /// each grounded at the supernode of node `0` or else at the supernode
    /// of its lowest-index node. Without constraints it is `self`.
    pub fn contracted(&self) -> &Topology {
        self.supernodes.contracted.as_deref().unwrap_or(self)
    }

    /// The edges at node `n`, self-loops excluded, each once.
    pub fn edges_at(&self, n: NodeId) -> impl Iterator<Item = EdgeId> + '_ {
        self.graph
            .edges(NodeIndex::new(n))
            .map(|e| e.id().index())
            .filter(|&k| self.tails[k] != self.heads[k])
    }

    /// L = M - N + p, the number of independent cycles (theory.md 2.3).
    pub fn n_cycles(&self) -> usize {
        self.n_edges + self.n_components - self.n_nodes
    }

    /// N - p, the size of the reduced numbering (rank of B).
    pub fn n_reduced(&self) -> usize {
        self.reduced_nodes.len()
    }

    /// Whether node `n` is the ground of its component.
    pub fn is_ground(&self, n: NodeId) -> bool {
        self.reduced_index[n].is_none()
    }

    /// Incidence matrix B (N x M), theory.md 2.2: B[t_k, k] = +1,
    /// B[h_k, k] = -1, zero column for a self-loop.
    pub fn incidence(&self) -> SparseColMat<usize, f64> {
        self.incidence_rows(Some, self.n_nodes)
    }

    /// Reduced incidence matrix B_r ((N - p) x M): B without the ground
    /// rows, rows in the reduced numbering (theory.md 2.4).
    pub fn reduced_incidence(&self) -> SparseColMat<usize, f64> {
        self.incidence_rows(|n| self.reduced_index[n], self.n_reduced())
    }

    fn incidence_rows(
        &self,
        row_of: impl Fn(NodeId) -> Option<usize>,
        nrows: usize,
    ) -> SparseColMat<usize, f64> {
        let m = self.n_edges;
        let mut col_ptr = Vec::with_capacity(m + 1);
        let mut row_idx = Vec::with_capacity(2 * m);
        let mut val = Vec::with_capacity(2 * m);
        col_ptr.push(0);
        for k in 0..m {
            let (t, h) = (self.tails[k], self.heads[k]);
            if t != h {
                let mut entries = [(row_of(t), 1.0), (row_of(h), -1.0)];
                // Rows must be sorted within a column.
                if entries[0].0 > entries[1].0 {
                    entries.swap(0, 1);
                }
                for (r, v) in entries {
                    if let Some(r) = r {
                        row_idx.push(r);
                        val.push(v);
                    }
                }
            }
            col_ptr.push(row_idx.len());
        }
        let sym = SymbolicSparseColMat::new_checked(nrows, m, col_ptr, None, row_idx);
        SparseColMat::new(sym, val)
    }

    /// Fundamental cycle basis A (theory.md 2.3 construction): for chord
    /// e = (u -> v), +1 on e, then the tree path from v back to u, each tree
    /// edge +1 if traversed along its orientation, -1 against. A self-loop
    /// is a cycle by itself. Cost: O(sum of the cycle lengths).
    pub fn cycle_basis(&self) -> CycleBasis {
        let mut row_ptr = Vec::with_capacity(self.chords.len() + 1);
        let mut entries: Vec<(EdgeId, f64)> = Vec::new();
        let mut down: Vec<(EdgeId, f64)> = Vec::new();
        row_ptr.push(0);
        for &e in &self.chords {
            let start = entries.len();
            entries.push((e, 1.0));
            let (u, v) = (self.tails[e], self.heads[e]);
            // Walk from v up to the lowest common ancestor (traversing
            // child -> parent), and from u up (those edges are traversed
            // parent -> child on the way down to u).
            let (mut a, mut b) = (v, u);
            down.clear();
            while a != b {
                if self.depth[a] >= self.depth[b] {
                    let k = self.parent_edge[a].unwrap_or(NONE);
                    // child a -> parent: along if a is the tail.
                    entries.push((k, if self.tails[k] == a { 1.0 } else { -1.0 }));
                    a = self.tails[k] + self.heads[k] - a;
                } else {
                    let k = self.parent_edge[b].unwrap_or(NONE);
                    // parent -> child b: along if b is the head.
                    down.push((k, if self.heads[k] == b { 1.0 } else { -1.0 }));
                    b = self.tails[k] + self.heads[k] - b;
                }
            }
            entries.extend(down.iter().rev());
            entries[start..].sort_unstable_by_key(|&(k, _)| k);
            row_ptr.push(entries.len());
        }
        CycleBasis {
            n_edges: self.n_edges,
            row_ptr,
            edges: entries.iter().map(|&(k, _)| k).collect(),
            signs: entries.iter().map(|&(_, s)| s).collect(),
        }
    }

    /// Sparsity structure (upper triangle) and per-edge value slots of the
    /// reduced Laplacian L_r = B_r diag(g) B_r^T (theory.md 3.3 item 4), so
    /// a solver can factor the pattern symbolically once and refill values
    /// in O(M). This is the one place where edges are assembled into the
    /// nodal matrix; the solver's nodal system writes the contracted
    /// topology's pattern.
    ///
    /// # Panics
    /// If the pattern has 2^32 or more entries (beyond any network memnet
    /// can factor on one machine).
    pub fn laplacian_pattern(&self) -> LaplacianPattern {
        let nr = self.n_reduced();
        let mut col_ptr = Vec::with_capacity(nr + 1);
        let mut row_idx = Vec::new();
        col_ptr.push(0);
        let mut rows: Vec<usize> = Vec::new();
        for (c, &node) in self.reduced_nodes.iter().enumerate() {
            rows.clear();
            for k in self.edges_at(node) {
                let other = self.tails[k] + self.heads[k] - node;
                if let Some(r) = self.reduced_index[other]
                    && r < c
                {
                    rows.push(r);
                }
            }
            rows.push(c);
            rows.sort_unstable();
            rows.dedup();
            row_idx.extend_from_slice(&rows);
            col_ptr.push(row_idx.len());
        }
        assert!(
            row_idx.len() < NO_SLOT as usize,
            "Laplacian pattern with 2^32 entries"
        );
        // Slot of entry (r, c), r <= c: binary search in column c.
        let slot = |r: usize, c: usize| -> u32 {
            let col = &row_idx[col_ptr[c]..col_ptr[c + 1]];
            match col.binary_search(&r) {
                Ok(i) => (col_ptr[c] + i) as u32,
                Err(_) => NO_SLOT,
            }
        };
        let edge_slots = (0..self.n_edges)
            .map(|k| {
                let (t, h) = (self.tails[k], self.heads[k]);
                let mut s = [NO_SLOT; 3];
                if t != h {
                    let (rt, rh) = (self.reduced_index[t], self.reduced_index[h]);
                    if let Some(rt) = rt {
                        s[0] = slot(rt, rt);
                    }
                    if let Some(rh) = rh {
                        s[1] = slot(rh, rh);
                    }
                    if let (Some(rt), Some(rh)) = (rt, rh) {
                        s[2] = slot(rt.min(rh), rt.max(rh));
                    }
                }
                s
            })
            .collect();
        let symbolic = SymbolicSparseColMat::new_checked(nr, nr, col_ptr, None, row_idx);
        LaplacianPattern {
            symbolic,
            edge_slots,
        }
    }

    /// y -> B_r y (length N - p).
    pub fn reduced_incidence_mul(&self, y: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.n_reduced()];
        for ((&t, &h), &yk) in self.tails.iter().zip(&self.heads).zip(y) {
            if t == h {
                continue; // zero column of B
            }
            if let Some(r) = self.reduced_index[t] {
                out[r] += yk;
            }
            if let Some(r) = self.reduced_index[h] {
                out[r] -= yk;
            }
        }
        out
    }

    /// phi_r -> B_r^T phi_r (length M): phi_t - phi_h with grounds at 0.
    pub fn reduced_incidence_t_mul(&self, phi_r: &[f64]) -> Vec<f64> {
        let pot = |n: NodeId| self.reduced_index[n].map_or(0.0, |r| phi_r[r]);
        (0..self.n_edges)
            .map(|k| {
                let (t, h) = (self.tails[k], self.heads[k]);
                if t == h { 0.0 } else { pot(t) - pot(h) }
            })
            .collect()
    }

    /// Dense Omega_{B^T} = B_r^T (B_r B_r^T)^{-1} B_r (theory.md 2.4), M x M.
    pub fn omega_bt_dense(&self) -> Result<Mat<f64>, TopologyError> {
        self.check_dense("Omega_B^T")?;
        let br = self.reduced_incidence().to_dense();
        Ok(projector_onto_rows(&br))
    }

    /// Dense Omega_A = A^T (A A^T)^{-1} A (theory.md 2.4), M x M, from the
    /// fundamental cycle basis.
    pub fn omega_a_dense(&self) -> Result<Mat<f64>, TopologyError> {
        self.check_dense("Omega_A")?;
        Ok(self.cycle_basis().omega_dense())
    }

    fn check_dense(&self, what: &'static str) -> Result<(), TopologyError> {
        if self.n_edges > DENSE_EDGE_LIMIT {
            return Err(TopologyError::TooLargeForDense {
                what,
                edges: self.n_edges,
                limit: DENSE_EDGE_LIMIT,
            });
        }
        Ok(())
    }
}

/// The network's nodes and edges as a petgraph undirected graph, edge k
/// as `EdgeIndex::new(k)`.
///
/// petgraph rather than hand-written CSR arrays: measured side by side on
/// the 1000x1000 grid (1M nodes, 2M edges, `cargo run --release -p
/// memnet-graph --example bfs_petgraph`), building this graph and the BFS
/// forest over it took 0.22 s against 0.27 s for a counting-sort CSR
/// adjacency and the same BFS, at 24 B per edge and 8 B per node (CSR: 16 B
/// per edge and 8 B per node).
fn petgraph_of(n: usize, tails: &[NodeId], heads: &[NodeId]) -> UnGraph<(), (), u32> {
    let mut g = UnGraph::with_capacity(n, tails.len());
    for _ in 0..n {
        g.add_node(());
    }
    for (&t, &h) in tails.iter().zip(heads) {
        g.add_edge(NodeIndex::new(t), NodeIndex::new(h), ());
    }
    g
}

/// The first pair `(a[i], b[i])` with an endpoint `>= n`: (i, that node).
fn out_of_range(n: usize, a: &[NodeId], b: &[NodeId]) -> Option<(usize, NodeId)> {
    a.iter()
        .zip(b)
        .enumerate()
        .find_map(|(i, (&x, &y))| [x, y].into_iter().find(|&v| v >= n).map(|v| (i, v)))
}

/// A BFS spanning forest: one tree per connected component.
struct Forest {
    component: Vec<usize>,
    /// Root of each component (its ground).
    roots: Vec<NodeId>,
    parent_edge: Vec<Option<EdgeId>>,
    depth: Vec<usize>,
    is_tree_edge: Vec<bool>,
    /// Nodes in visiting order: every node after its parent.
    order: Vec<NodeId>,
}

impl Forest {
    /// Roots: `first_root` (node `0`) first, so its component is component
    /// 0, then the remaining nodes in index order, so every other root is
    /// its component's lowest-index node.
    fn bfs(
        graph: &UnGraph<(), (), u32>,
        tails: &[NodeId],
        heads: &[NodeId],
        first_root: Option<NodeId>,
    ) -> Forest {
        let n = graph.node_count();
        let mut component = vec![NONE; n];
        let mut parent_edge = vec![None; n];
        let mut depth = vec![0usize; n];
        let mut is_tree_edge = vec![false; tails.len()];
        let mut roots = Vec::new();
        let mut order: Vec<NodeId> = Vec::with_capacity(n);
        for root in first_root.into_iter().chain(0..n) {
            if component[root] != NONE {
                continue;
            }
            let c = roots.len();
            roots.push(root);
            component[root] = c;
            let mut next = order.len();
            order.push(root);
            while next < order.len() {
                let u = order[next];
                next += 1;
                for e in graph.edges(NodeIndex::new(u)) {
                    let k = e.id().index();
                    // (A self-loop finds u itself, already visited.)
                    let v = tails[k] + heads[k] - u;
                    if component[v] == NONE {
                        component[v] = c;
                        parent_edge[v] = Some(k);
                        depth[v] = depth[u] + 1;
                        is_tree_edge[k] = true;
                        order.push(v);
                    }
                }
            }
        }
        Forest {
            component,
            roots,
            parent_edge,
            depth,
            is_tree_edge,
            order,
        }
    }
}

/// What the nodal solve reads of a network's topology: the edges, the
/// supernodes and the contracted graph. With constraints it is built
/// without the spanning forest of the uncontracted graph, which only the
/// analyses read (on a 1400x1400 grid driven from its sides, a third of
/// the topology's build).
#[derive(Clone, Debug)]
pub enum NodalTopology {
    /// No constraints: the contracted graph is the graph.
    Full(Box<Topology>),
    /// Constraints: the contracted graph lives in the supernodes.
    Contracted {
        n_nodes: usize,
        tails: Vec<NodeId>,
        heads: Vec<NodeId>,
        supernodes: Supernodes,
    },
}

impl NodalTopology {
    /// As [`Topology::try_new`], with the same errors.
    pub fn try_new(net: &Network) -> Result<NodalTopology, TopologyError> {
        let n = net.n_nodes();
        let tails: Vec<NodeId> = net.edges.iter().map(|e| e.tail).collect();
        let heads: Vec<NodeId> = net.edges.iter().map(|e| e.head).collect();
        let ground_node = net.node_names.iter().position(|s| s == GROUND);
        let constraints: Vec<(NodeId, NodeId)> =
            net.constraints.iter().map(|c| (c.pos, c.neg)).collect();
        if constraints.is_empty() {
            return Topology::from_edges(n, tails, heads, ground_node, &[])
                .map(|t| NodalTopology::Full(Box::new(t)));
        }
        if let Some((edge, node)) = out_of_range(n, &tails, &heads) {
            return Err(TopologyError::BadEndpoint {
                edge,
                node,
                n_nodes: n,
            });
        }
        let supernodes = Supernodes::new(n, &tails, &heads, ground_node, &constraints)?;
        Ok(NodalTopology::Contracted {
            n_nodes: n,
            tails,
            heads,
            supernodes,
        })
    }

    /// N.
    pub fn n_nodes(&self) -> usize {
        match self {
            NodalTopology::Full(t) => t.n_nodes,
            NodalTopology::Contracted { n_nodes, .. } => *n_nodes,
        }
    }

    /// Tail node of every edge.
    pub fn tails(&self) -> &[NodeId] {
        match self {
            NodalTopology::Full(t) => &t.tails,
            NodalTopology::Contracted { tails, .. } => tails,
        }
    }

    /// Head node of every edge.
    pub fn heads(&self) -> &[NodeId] {
        match self {
            NodalTopology::Full(t) => &t.heads,
            NodalTopology::Contracted { heads, .. } => heads,
        }
    }

    pub fn supernodes(&self) -> &Supernodes {
        match self {
            NodalTopology::Full(t) => &t.supernodes,
            NodalTopology::Contracted { supernodes, .. } => supernodes,
        }
    }

    /// [`Topology::contracted`].
    pub fn contracted(&self) -> &Topology {
        match self {
            NodalTopology::Full(t) => t.contracted(),
            NodalTopology::Contracted { supernodes, .. } => supernodes
                .contracted
                .as_deref()
                .expect("constraints give a contracted graph"),
        }
    }
}

/// A link of a constraint tree: phi(node) = phi(parent) + sign V_c, with
/// V_c the value of constraint `constraint` (phi(pos) - phi(neg)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OffsetLink {
    pub node: NodeId,
    pub parent: NodeId,
    pub constraint: usize,
    pub sign: f64,
}

/// Supernodes: the sets of nodes tied together by ideal voltage sources
/// (potential constraints). Within a supernode the potentials differ by
/// known offsets, sums of constraint values along a spanning tree of the
/// constraints rooted at the supernode's root (node `0` where it is a
/// member, else the lowest-index member); a loop of constraints would
/// over-determine them and is an error. A node without constraints is a
/// supernode by itself.
#[derive(Clone, Debug)]
pub struct Supernodes {
    /// Supernode of every node, numbered in order of first member (empty
    /// when there are no constraints: node n is supernode n).
    of_node: Vec<usize>,
    /// Number of supernodes.
    pub count: usize,
    /// Root node of every supernode (empty when there are no constraints).
    roots: Vec<NodeId>,
    /// The constraint trees, every link after the link of its parent, so
    /// one pass computes all offsets ([`Supernodes::offsets`]).
    pub links: Vec<OffsetLink>,
    /// Number of constraints.
    pub n_constraints: usize,
    /// Topology of the contracted graph; `None` without constraints.
    contracted: Option<Box<Topology>>,
}

impl Supernodes {
    fn new(
        n: usize,
        tails: &[NodeId],
        heads: &[NodeId],
        ground_node: Option<NodeId>,
        constraints: &[(NodeId, NodeId)],
    ) -> Result<Supernodes, TopologyError> {
        if constraints.is_empty() {
            return Ok(Supernodes {
                of_node: Vec::new(),
                count: n,
                roots: Vec::new(),
                links: Vec::new(),
                n_constraints: 0,
                contracted: None,
            });
        }
        let (pos, neg): (Vec<NodeId>, Vec<NodeId>) = constraints.iter().copied().unzip();
        if let Some((constraint, node)) = out_of_range(n, &pos, &neg) {
            return Err(TopologyError::BadConstraint {
                constraint,
                node,
                n_nodes: n,
            });
        }
        // The first constraint, in order, whose ends are already tied
        // closes a loop (petgraph's union-find).
        let mut tied = UnionFind::<usize>::new(n);
        for (c, (&a, &b)) in pos.iter().zip(&neg).enumerate() {
            if !tied.union(a, b) {
                return Err(TopologyError::VoltageSourceLoop { constraint: c });
            }
        }
        drop(tied);
        // No loop: every constraint is an edge of the BFS forest.
        let forest = Forest::bfs(&petgraph_of(n, &pos, &neg), &pos, &neg, ground_node);
        // Supernode numbers in order of first member.
        let mut number = vec![NONE; forest.roots.len()];
        let mut roots = Vec::new();
        let mut of_node = Vec::with_capacity(n);
        for v in 0..n {
            let c = forest.component[v];
            if number[c] == NONE {
                number[c] = roots.len();
                roots.push(forest.roots[c]);
            }
            of_node.push(number[c]);
        }
        let links = forest
            .order
            .iter()
            .filter_map(|&v| {
                let c = forest.parent_edge[v]?;
                // phi(pos) = phi(neg) + V, phi(neg) = phi(pos) - V.
                let (parent, sign) = if v == pos[c] {
                    (neg[c], 1.0)
                } else {
                    (pos[c], -1.0)
                };
                Some(OffsetLink {
                    node: v,
                    parent,
                    constraint: c,
                    sign,
                })
            })
            .collect();
        let contracted = Topology::from_edges(
            roots.len(),
            tails.iter().map(|&t| of_node[t]).collect(),
            heads.iter().map(|&h| of_node[h]).collect(),
            ground_node.map(|g| of_node[g]),
            &[],
        )?;
        Ok(Supernodes {
            of_node,
            count: roots.len(),
            roots,
            links,
            n_constraints: constraints.len(),
            contracted: Some(Box::new(contracted)),
        })
    }

    /// Supernode of node `v`.
    #[inline]
    pub fn of(&self, v: NodeId) -> usize {
        if self.of_node.is_empty() {
            v
        } else {
            self.of_node[v]
        }
    }

    /// Root node of supernode `s`.
    pub fn root(&self, s: usize) -> NodeId {
        if self.roots.is_empty() {
            s
        } else {
            self.roots[s]
        }
    }

    /// Whether some node shares its supernode with another.
    pub fn any(&self) -> bool {
        !self.links.is_empty()
    }

    /// Potential offsets of every node from the root of its supernode for
    /// constraint values `values` (one per constraint), written into
    /// `offsets` (length N; roots and unconstrained nodes get 0). One pass
    /// over the links; allocates nothing.
    pub fn offsets(&self, values: &[f64], offsets: &mut [f64]) {
        for l in &self.links {
            offsets[l.node] = offsets[l.parent] + l.sign * values[l.constraint];
        }
    }
}

/// X^T (X X^T)^{-1} X for a full-row-rank dense X (via Cholesky of X X^T).
/// An empty X gives the zero matrix.
pub(crate) fn projector_onto_rows(x: &Mat<f64>) -> Mat<f64> {
    let m = x.ncols();
    if x.nrows() == 0 {
        return Mat::zeros(m, m);
    }
    let gram = x * x.transpose();
    // Rows are independent by construction (reduced incidence, cycle
    // basis), so the Gram matrix is SPD; fall back to a general solve if
    // rounding ever says otherwise.
    let sol = match gram.llt(faer::Side::Lower) {
        Ok(llt) => llt.solve(x),
        Err(_) => gram.partial_piv_lu().solve(x),
    };
    x.transpose() * &sol
}

/// A cycle basis as sparse signed rows (CSR): cycle c has entries
/// `edges[row_ptr[c]..row_ptr[c+1]]` (sorted) with `signs` +-1.
#[derive(Clone, Debug, PartialEq)]
pub struct CycleBasis {
    pub n_edges: usize,
    pub row_ptr: Vec<usize>,
    pub edges: Vec<EdgeId>,
    pub signs: Vec<f64>,
}

impl CycleBasis {
    /// L.
    pub fn n_cycles(&self) -> usize {
        self.row_ptr.len() - 1
    }

    /// The signed edges of cycle `c`.
    pub fn cycle(&self, c: usize) -> impl Iterator<Item = (EdgeId, f64)> + '_ {
        let r = self.row_ptr[c]..self.row_ptr[c + 1];
        self.edges[r.clone()]
            .iter()
            .copied()
            .zip(self.signs[r].iter().copied())
    }

    /// A as a dense L x M matrix.
    pub fn to_dense(&self) -> Mat<f64> {
        let mut a = Mat::zeros(self.n_cycles(), self.n_edges);
        for c in 0..self.n_cycles() {
            for (k, s) in self.cycle(c) {
                a[(c, k)] = s;
            }
        }
        a
    }

    /// A^T as a sparse M x L matrix (cycle c is column c).
    pub fn transpose_sparse(&self) -> SparseColMat<usize, f64> {
        let sym = SymbolicSparseColMat::new_checked(
            self.n_edges,
            self.n_cycles(),
            self.row_ptr.clone(),
            None,
            self.edges.clone(),
        );
        SparseColMat::new(sym, self.signs.clone())
    }

    /// A as a sparse L x M matrix.
    pub fn to_sparse(&self) -> SparseColMat<usize, f64> {
        // Transpose the CSR rows into CSC columns by counting sort.
        let m = self.n_edges;
        let mut col_ptr = vec![0usize; m + 1];
        for &k in &self.edges {
            col_ptr[k + 1] += 1;
        }
        for k in 0..m {
            col_ptr[k + 1] += col_ptr[k];
        }
        let mut fill = col_ptr.clone();
        let mut row_idx = vec![0usize; self.edges.len()];
        let mut val = vec![0.0; self.edges.len()];
        for c in 0..self.n_cycles() {
            for (k, s) in self.cycle(c) {
                row_idx[fill[k]] = c;
                val[fill[k]] = s;
                fill[k] += 1;
            }
        }
        let sym = SymbolicSparseColMat::new_checked(self.n_cycles(), m, col_ptr, None, row_idx);
        SparseColMat::new(sym, val)
    }

    /// Dense Omega_A = A^T (A A^T)^{-1} A (theory.md 2.4).
    pub fn omega_dense(&self) -> Mat<f64> {
        projector_onto_rows(&self.to_dense())
    }
}

/// "No slot" in [`LaplacianPattern::edge_slots`].
pub const NO_SLOT: u32 = u32::MAX;

/// Pattern of the reduced Laplacian, upper triangle only (row <= column,
/// sorted within each column), with, for every edge k, the value slots it
/// contributes to: `[(t,t), (h,h), (min(t,h), max(t,h))]` in reduced
/// numbering, [`NO_SLOT`] where an endpoint is a ground (or the edge is a
/// self-loop, which contributes nothing). Slots are `u32` to keep the
/// pattern at 12 bytes per edge on networks of millions of edges.
#[derive(Clone, Debug)]
pub struct LaplacianPattern {
    pub symbolic: SymbolicSparseColMat<usize>,
    pub edge_slots: Vec<[u32; 3]>,
}

impl LaplacianPattern {
    /// Values of the upper triangle of B_r diag(g) B_r^T in the pattern's
    /// order (theory.md 3.3 item 4, L_r).
    pub fn values(&self, g: &[f64]) -> Vec<f64> {
        let mut val = vec![0.0; self.symbolic.row_idx().len()];
        self.fill_values(g, &mut val);
        val
    }

    /// Overwrites `val` with the upper triangle of B_r diag(g) B_r^T
    /// (one pass over the edges, no allocation).
    pub fn fill_values(&self, g: &[f64], val: &mut [f64]) {
        val.fill(0.0);
        for (s, &gk) in self.edge_slots.iter().zip(g) {
            if s[0] != NO_SLOT {
                val[s[0] as usize] += gk;
            }
            if s[1] != NO_SLOT {
                val[s[1] as usize] += gk;
            }
            if s[2] != NO_SLOT {
                val[s[2] as usize] -= gk;
            }
        }
    }

    /// The assembled symmetric matrix B_r diag(g) B_r^T, both triangles
    /// (for inspection and tests; solvers use the upper triangle).
    pub fn matrix(&self, g: &[f64]) -> SparseColMat<usize, f64> {
        let val = self.values(g);
        let sym = &self.symbolic;
        let mut triplets = Vec::with_capacity(2 * val.len());
        for c in 0..sym.ncols() {
            let range = sym.col_ptr()[c]..sym.col_ptr()[c + 1];
            for (&r, &v) in sym.row_idx()[range.clone()].iter().zip(&val[range]) {
                triplets.push(faer::sparse::Triplet::new(r, c, v));
                if r != c {
                    triplets.push(faer::sparse::Triplet::new(c, r, v));
                }
            }
        }
        SparseColMat::try_new_from_triplets(sym.nrows(), sym.ncols(), &triplets)
            .unwrap_or_else(|_| unreachable!("indices come from a valid pattern"))
    }
}
