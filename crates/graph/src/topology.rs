//! Topology of a [`Network`]: connected components, grounding, the reduced
//! node numbering, a spanning forest, the incidence matrix B, the
//! fundamental cycle basis A and the reduced Laplacian (theory.md 2.1-2.4,
//! 3.3 item 4).
//!
//! The graph here is *nodes + edges* of the network only: current-source
//! injections and potential constraints (unfolded ideal voltage sources) are
//! not edges, so they do not change N, M, p, L = M - N + p, B or A.
//!
//! Everything is built with flat arrays in O(N + M) (no per-edge heap
//! allocation, no dense matrix); the cycle basis is built on request because
//! its size is the sum of the cycle lengths, not O(M).
//!
//! Sparse matrices are faer's `SparseColMat<usize, f64>` (compressed sparse
//! column, sorted row indices, no explicit zeros).

use faer::Mat;
use faer::linalg::solvers::Solve;
use faer::sparse::{SparseColMat, SymbolicSparseColMat};
use memnet_spice::GROUND;

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
    /// Node adjacency in CSR form: the edges at node n (self-loops
    /// excluded) are `adj_edges[adj_ptr[n]..adj_ptr[n + 1]]`.
    pub adj_ptr: Vec<usize>,
    pub adj_edges: Vec<EdgeId>,
}

impl Topology {
    /// Builds the topology in O(N + M).
    ///
    /// # Panics
    /// Never for a network whose edge endpoints are valid node indices
    /// (every constructor in this crate guarantees that); use
    /// [`Topology::try_new`] for unchecked input.
    pub fn new(net: &Network) -> Topology {
        match Self::try_new(net) {
            Ok(t) => t,
            // Networks built by this crate always have valid endpoints.
            Err(e) => panic!("invalid network: {e}"),
        }
    }

    /// Like [`Topology::new`], but reports an edge endpoint out of range
    /// instead of panicking.
    pub fn try_new(net: &Network) -> Result<Topology, TopologyError> {
        let n = net.n_nodes();
        let m = net.n_edges();
        let mut tails = Vec::with_capacity(m);
        let mut heads = Vec::with_capacity(m);
        for (k, e) in net.edges.iter().enumerate() {
            for node in [e.tail, e.head] {
                if node >= n {
                    return Err(TopologyError::BadEndpoint {
                        edge: k,
                        node,
                        n_nodes: n,
                    });
                }
            }
            tails.push(e.tail);
            heads.push(e.head);
        }
        let ground_node = net.node_names.iter().position(|s| s == GROUND);
        let constraint_pairs: Vec<(NodeId, NodeId)> = net
            .constraints
            .iter()
            .filter(|c| c.pos < n && c.neg < n)
            .map(|c| (c.pos, c.neg))
            .collect();
        Ok(Self::from_edges(
            n,
            tails,
            heads,
            ground_node,
            &constraint_pairs,
        ))
    }

    /// The topology of a bare edge list: `tails[k] -> heads[k]` on nodes
    /// `0..n_nodes`, with `ground_node` the index of node `0` (if any) and
    /// `constraints` the (pos, neg) node pairs of potential constraints.
    /// All endpoints must be `< n_nodes`.
    pub fn from_edges(
        n_nodes: usize,
        tails: Vec<NodeId>,
        heads: Vec<NodeId>,
        ground_node: Option<NodeId>,
        constraints: &[(NodeId, NodeId)],
    ) -> Topology {
        let n = n_nodes;
        let m = tails.len();
        // CSR adjacency by counting sort: O(N + M), two flat arrays.
        let mut adj_ptr = vec![0usize; n + 1];
        for k in 0..m {
            if tails[k] != heads[k] {
                adj_ptr[tails[k] + 1] += 1;
                adj_ptr[heads[k] + 1] += 1;
            }
        }
        for i in 0..n {
            adj_ptr[i + 1] += adj_ptr[i];
        }
        let mut fill = adj_ptr.clone();
        let mut adj_edges = vec![0usize; adj_ptr[n]];
        for k in 0..m {
            let (t, h) = (tails[k], heads[k]);
            if t != h {
                adj_edges[fill[t]] = k;
                fill[t] += 1;
                adj_edges[fill[h]] = k;
                fill[h] += 1;
            }
        }
        drop(fill);

        // BFS forest rooted at the grounds. Node `0` first so its component
        // is component 0, then the remaining nodes in index order, so every
        // other root is its component's lowest-index node.
        let mut component = vec![NONE; n];
        let mut parent_edge = vec![None; n];
        let mut depth = vec![0usize; n];
        let mut is_tree_edge = vec![false; m];
        let mut ground = Vec::new();
        let mut queue: Vec<NodeId> = Vec::with_capacity(n);
        let roots = ground_node.into_iter().chain(0..n);
        for root in roots {
            if component[root] != NONE {
                continue;
            }
            let c = ground.len();
            ground.push(root);
            component[root] = c;
            queue.clear();
            queue.push(root);
            let mut head_of_queue = 0;
            while head_of_queue < queue.len() {
                let u = queue[head_of_queue];
                head_of_queue += 1;
                for &k in &adj_edges[adj_ptr[u]..adj_ptr[u + 1]] {
                    let v = tails[k] + heads[k] - u;
                    if component[v] == NONE {
                        component[v] = c;
                        parent_edge[v] = Some(k);
                        depth[v] = depth[u] + 1;
                        is_tree_edge[k] = true;
                        queue.push(v);
                    }
                }
            }
        }
        drop(queue);
        let p = ground.len();

        let mut reduced_index = vec![None; n];
        let mut reduced_nodes = Vec::with_capacity(n.saturating_sub(p));
        for (node, slot) in reduced_index.iter_mut().enumerate() {
            if ground[component[node]] != node {
                *slot = Some(reduced_nodes.len());
                reduced_nodes.push(node);
            }
        }

        let chords: Vec<EdgeId> = (0..m).filter(|&k| !is_tree_edge[k]).collect();

        // Components tied to node `0` through constraints: union-find over
        // components, constraints as unions.
        let mut uf: Vec<usize> = (0..p).collect();
        fn find(uf: &mut [usize], mut x: usize) -> usize {
            while uf[x] != x {
                uf[x] = uf[uf[x]];
                x = uf[x];
            }
            x
        }
        for &(a, b) in constraints {
            if a < n && b < n {
                let (ra, rb) = (find(&mut uf, component[a]), find(&mut uf, component[b]));
                if ra != rb {
                    uf[ra] = rb;
                }
            }
        }
        let component_referenced = match ground_node {
            Some(g) => {
                let rg = find(&mut uf, component[g]);
                (0..p).map(|c| find(&mut uf, c) == rg).collect()
            }
            None => vec![false; p],
        };

        Topology {
            n_nodes: n,
            n_edges: m,
            n_components: p,
            tails,
            heads,
            component,
            ground,
            reduced_index,
            reduced_nodes,
            component_referenced,
            parent_edge,
            depth,
            is_tree_edge,
            chords,
            adj_ptr,
            adj_edges,
        }
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

    /// Sparsity structure and per-edge value slots of the reduced Laplacian
    /// L_r = B_r diag(g) B_r^T (theory.md 3.3 item 4), so a solver can
    /// factor the pattern symbolically once and refill values in O(M).
    pub fn laplacian_pattern(&self) -> LaplacianPattern {
        let nr = self.n_reduced();
        let mut col_ptr = Vec::with_capacity(nr + 1);
        let mut row_idx = Vec::new();
        col_ptr.push(0);
        let mut neigh: Vec<usize> = Vec::new();
        for &node in &self.reduced_nodes {
            neigh.clear();
            for &k in &self.adj_edges[self.adj_ptr[node]..self.adj_ptr[node + 1]] {
                let other = self.tails[k] + self.heads[k] - node;
                if let Some(r) = self.reduced_index[other] {
                    neigh.push(r);
                }
            }
            if let Some(r) = self.reduced_index[node] {
                neigh.push(r);
            }
            neigh.sort_unstable();
            neigh.dedup();
            row_idx.extend_from_slice(&neigh);
            col_ptr.push(row_idx.len());
        }
        // Slot of entry (r, c): binary search in column c.
        let slot = |r: usize, c: usize| -> usize {
            let col = &row_idx[col_ptr[c]..col_ptr[c + 1]];
            match col.binary_search(&r) {
                Ok(i) => col_ptr[c] + i,
                Err(_) => NONE,
            }
        };
        let mut edge_slots = vec![[NONE; 4]; self.n_edges];
        for (k, s) in edge_slots.iter_mut().enumerate() {
            let (t, h) = (self.tails[k], self.heads[k]);
            if t == h {
                continue;
            }
            let (rt, rh) = (self.reduced_index[t], self.reduced_index[h]);
            if let Some(rt) = rt {
                s[0] = slot(rt, rt);
            }
            if let Some(rh) = rh {
                s[1] = slot(rh, rh);
            }
            if let (Some(rt), Some(rh)) = (rt, rh) {
                s[2] = slot(rt, rh);
                s[3] = slot(rh, rt);
            }
        }
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

/// Pattern of the reduced Laplacian (both triangles stored) with, for every
/// edge k, the value slots it contributes to: `[(t,t), (h,h), (t,h), (h,t)]`
/// in reduced numbering, `usize::MAX` where an endpoint is a ground (or the
/// edge is a self-loop, which contributes nothing).
#[derive(Clone, Debug)]
pub struct LaplacianPattern {
    pub symbolic: SymbolicSparseColMat<usize>,
    pub edge_slots: Vec<[usize; 4]>,
}

impl LaplacianPattern {
    /// Values of B_r diag(g) B_r^T in the pattern's order (theory.md 3.3
    /// item 4, L_r).
    pub fn values(&self, g: &[f64]) -> Vec<f64> {
        let mut val = vec![0.0; self.symbolic.row_idx().len()];
        self.fill_values(g, &mut val);
        val
    }

    /// Overwrites `val` with the values of B_r diag(g) B_r^T.
    pub fn fill_values(&self, g: &[f64], val: &mut [f64]) {
        val.fill(0.0);
        for (s, &gk) in self.edge_slots.iter().zip(g) {
            for (i, sign) in [(0, 1.0), (1, 1.0), (2, -1.0), (3, -1.0)] {
                if s[i] != NONE {
                    val[s[i]] += sign * gk;
                }
            }
        }
    }

    /// The assembled matrix B_r diag(g) B_r^T.
    pub fn matrix(&self, g: &[f64]) -> SparseColMat<usize, f64> {
        SparseColMat::new(self.symbolic.clone(), self.values(g))
    }
}
