//! The nodal (grounded weighted-Laplacian) solve of theory.md 3.3 item 4,
//! generalised to per-device parameters (3.8), current sources (3.4) and
//! ideal voltage sources eliminated as potential constraints.
//!
//! Unknowns are the potentials of "supernodes": a node, or a set of nodes
//! tied together by ideal voltage sources, whose potential is not fixed.
//! In every connected component one supernode (the one holding node `0`, or
//! else the lowest-numbered node) is the reference at potential 0; a
//! constraint tree hanging from it fixes potentials (grounded sources move
//! to the right-hand side); a floating tree contributes one unknown (the
//! supernode) and known offsets. The system stays symmetric positive
//! definite:
//!
//!   L Phi = -B_q (G S') - B_q j,        L = B_q G B_q^T,
//!
//! with B_q the incidence matrix of the quotient graph (supernodes), S' the
//! series sources plus the constraint offsets across each edge, and j the
//! injections. The sparse pattern of L and the Cholesky symbolic analysis
//! are computed once; each evaluation writes conductances into the values
//! through precomputed positions, refactorises in place and solves, with
//! no allocation.

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::sparse::linalg::cholesky::{
    CholeskySymbolicParams, LltRef, SymbolicCholesky, SymmetricOrdering,
    factorize_symbolic_cholesky,
};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMat};
use faer::{Conj, MatMut, Par, Side};
use memnet_graph::{Network, NodeId};

use crate::SolveError;
use crate::error::Element;

pub(crate) const NONE: u32 = u32::MAX;

/// Fill-reducing ordering for the sparse Cholesky factorisation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ordering {
    /// faer's approximate minimum degree (default; chosen by measurement,
    /// see the crate documentation: least fill, on par in time).
    #[default]
    Amd,
    /// Recursive level-set nested dissection (crate-local).
    NestedDissection,
}

struct UnionFind(Vec<u32>);

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind((0..n as u32).collect())
    }
    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] as usize != x {
            let p = self.0[x] as usize;
            self.0[x] = self.0[p];
            x = p;
        }
        x
    }
    /// Returns false if already joined.
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.0[hi] = lo as u32;
        true
    }
}

/// A link of a constraint tree: phi(node) = phi(parent) + sign * V_c(t).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OffsetLink {
    pub node: u32,
    pub parent: u32,
    pub constraint: u32,
    pub sign: f64,
}

/// Topology, sparse pattern and factorisation workspace of the grounded
/// weighted Laplacian of one network.
pub(crate) struct NodalSystem {
    pub n_nodes: usize,
    pub n_unknowns: usize,
    /// Unknown index of each node, [`NONE`] for nodes at a fixed potential.
    pub node_unknown: Vec<u32>,
    /// A representative node of each unknown (for messages).
    pub unknown_node: Vec<u32>,
    /// Per edge: tail and head node, their unknowns, value positions.
    pub tail: Vec<u32>,
    pub head: Vec<u32>,
    pub tail_u: Vec<u32>,
    pub head_u: Vec<u32>,
    pub(crate) pos_tt: Vec<u32>,
    pub(crate) pos_hh: Vec<u32>,
    pub(crate) pos_th: Vec<u32>,
    /// Constraint trees in parent-before-child order.
    pub links: Vec<OffsetLink>,
    /// Per injection: unknowns of `from` and `to`.
    pub inj_from_u: Vec<u32>,
    pub inj_to_u: Vec<u32>,
    /// Upper-triangular CSC pattern of the Laplacian, validated once.
    pattern: SymbolicSparseColMat<usize>,
    pub(crate) values: Vec<f64>,
    symbolic: Option<SymbolicCholesky<usize>>,
    l_values: Vec<f64>,
    mem: MemBuffer,
    pub factorizations: u64,
    pub ordering: Ordering,
}

impl NodalSystem {
    pub fn new(net: &Network, ordering: Ordering) -> Result<Self, SolveError> {
        let n = net.n_nodes();
        if n >= NONE as usize || net.n_edges() >= NONE as usize {
            return Err(SolveError::InvalidOption(
                "networks above 4e9 nodes or edges are not supported".into(),
            ));
        }
        let check_node = |id: NodeId, what: &str, name: &str| {
            if id >= n {
                Err(SolveError::InvalidOption(format!(
                    "{what} `{name}` refers to node {id}, the network has {n} nodes"
                )))
            } else {
                Ok(())
            }
        };
        for e in &net.edges {
            check_node(e.tail, "edge", &e.name)?;
            check_node(e.head, "edge", &e.name)?;
        }
        for c in &net.constraints {
            check_node(c.pos, "voltage source", &c.name)?;
            check_node(c.neg, "voltage source", &c.name)?;
        }
        for j in &net.injections {
            check_node(j.from, "current source", &j.name)?;
            check_node(j.to, "current source", &j.name)?;
        }

        // Components over edges and constraints.
        let mut comp = UnionFind::new(n);
        for e in &net.edges {
            comp.union(e.tail, e.head);
        }
        for c in &net.constraints {
            comp.union(c.pos, c.neg);
        }
        for j in &net.injections {
            if comp.find(j.from) != comp.find(j.to) {
                return Err(SolveError::FloatingCurrentSource {
                    element: Element::new(&j.name, j.loc.as_ref()),
                });
            }
        }
        // Reference node per component: `0` if present, else the lowest.
        let mut reference = vec![NONE; n];
        if let Some(g) = net
            .node_names
            .iter()
            .position(|s| s == memnet_spice::GROUND)
        {
            let r = comp.find(g);
            reference[r] = g as u32;
        }
        for v in 0..n {
            let r = comp.find(v);
            if reference[r] == NONE {
                reference[r] = v as u32;
            }
        }

        // Constraint forest (loops of ideal sources are refused).
        let mut supernode_root: Vec<u32> = (0..n as u32).collect();
        let mut links = Vec::new();
        if !net.constraints.is_empty() {
            let mut cuf = UnionFind::new(n);
            let mut adj: std::collections::BTreeMap<usize, Vec<(usize, usize, f64)>> =
                Default::default();
            for (ci, c) in net.constraints.iter().enumerate() {
                if !cuf.union(c.pos, c.neg) {
                    return Err(SolveError::VoltageSourceLoop {
                        element: Element::new(&c.name, c.loc.as_ref()),
                    });
                }
                // phi(pos) = phi(neg) + V, phi(neg) = phi(pos) - V.
                adj.entry(c.neg).or_default().push((c.pos, ci, 1.0));
                adj.entry(c.pos).or_default().push((c.neg, ci, -1.0));
            }
            let mut root_of_set: std::collections::BTreeMap<usize, usize> = Default::default();
            for &v in adj.keys() {
                let r = reference[comp.find(v)] as usize;
                if adj.contains_key(&r) {
                    root_of_set.insert(cuf.find(r), r);
                }
            }
            for &v in adj.keys() {
                root_of_set.entry(cuf.find(v)).or_insert(v);
            }
            let mut seen = std::collections::BTreeSet::new();
            for &root in root_of_set.values() {
                let mut queue = std::collections::VecDeque::from([root]);
                seen.insert(root);
                while let Some(v) = queue.pop_front() {
                    supernode_root[v] = root as u32;
                    for &(w, ci, sign) in adj.get(&v).map(Vec::as_slice).unwrap_or(&[]) {
                        if seen.insert(w) {
                            links.push(OffsetLink {
                                node: w as u32,
                                parent: v as u32,
                                constraint: ci as u32,
                                sign,
                            });
                            queue.push_back(w);
                        }
                    }
                }
            }
        }

        // Unknowns: supernodes that are not their component's reference.
        let mut unknown_of_root = vec![NONE; n];
        let mut node_unknown = vec![NONE; n];
        let mut unknown_node = Vec::new();
        for v in 0..n {
            let sr = supernode_root[v] as usize;
            if sr as u32 == reference[comp.find(v)] {
                continue;
            }
            if unknown_of_root[sr] == NONE {
                unknown_of_root[sr] = unknown_node.len() as u32;
                unknown_node.push(sr as u32);
            }
            node_unknown[v] = unknown_of_root[sr];
        }
        drop(unknown_of_root);
        let n_u = unknown_node.len();

        let m = net.n_edges();
        let tail: Vec<u32> = net.edges.iter().map(|e| e.tail as u32).collect();
        let head: Vec<u32> = net.edges.iter().map(|e| e.head as u32).collect();
        let mut tail_u: Vec<u32> = tail.iter().map(|&v| node_unknown[v as usize]).collect();
        let mut head_u: Vec<u32> = head.iter().map(|&v| node_unknown[v as usize]).collect();
        // An edge inside one supernode carries a known current and does not
        // enter the matrix.
        for k in 0..m {
            if tail_u[k] == head_u[k] {
                tail_u[k] = NONE;
                head_u[k] = NONE;
            }
        }

        // Upper-triangular CSC pattern: (col, row) with row <= col.
        let mut pairs: Vec<(u32, u32)> = (0..n_u as u32).map(|i| (i, i)).collect();
        for k in 0..m {
            let (a, b) = (tail_u[k], head_u[k]);
            if a != NONE && b != NONE {
                pairs.push((a.max(b), a.min(b)));
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut col_ptr = vec![0usize; n_u + 1];
        for &(c, _) in &pairs {
            col_ptr[c as usize + 1] += 1;
        }
        for j in 0..n_u {
            col_ptr[j + 1] += col_ptr[j];
        }
        let row_idx: Vec<usize> = pairs.iter().map(|&(_, r)| r as usize).collect();
        drop(pairs);
        let pos = |row: u32, col: u32| -> u32 {
            let (s, e) = (col_ptr[col as usize], col_ptr[col as usize + 1]);
            // The pair was inserted above, so the search succeeds.
            let off = row_idx[s..e].partition_point(|&r| r < row as usize);
            (s + off) as u32
        };
        let mut pos_tt = vec![NONE; m];
        let mut pos_hh = vec![NONE; m];
        let mut pos_th = vec![NONE; m];
        for k in 0..m {
            let (a, b) = (tail_u[k], head_u[k]);
            if a != NONE {
                pos_tt[k] = pos(a, a);
            }
            if b != NONE {
                pos_hh[k] = pos(b, b);
            }
            if a != NONE && b != NONE {
                pos_th[k] = pos(a.min(b), a.max(b));
            }
        }
        let nnz = row_idx.len();
        if nnz >= NONE as usize {
            return Err(SolveError::InvalidOption("nodal matrix too large".into()));
        }

        let inj_from_u = net
            .injections
            .iter()
            .map(|j| node_unknown[j.from])
            .collect();
        let inj_to_u = net.injections.iter().map(|j| node_unknown[j.to]).collect();

        let mut sys = NodalSystem {
            n_nodes: n,
            n_unknowns: n_u,
            node_unknown,
            unknown_node,
            tail,
            head,
            tail_u,
            head_u,
            pos_tt,
            pos_hh,
            pos_th,
            links,
            inj_from_u,
            inj_to_u,
            pattern: SymbolicSparseColMat::new_checked(n_u, n_u, col_ptr, None, row_idx),
            values: vec![0.0; nnz],
            symbolic: None,
            l_values: Vec::new(),
            mem: MemBuffer::new(StackReq::empty()),
            factorizations: 0,
            ordering,
        };
        sys.analyse()?;
        Ok(sys)
    }

    /// Symbolic analysis (ordering + elimination tree) and workspace.
    fn analyse(&mut self) -> Result<(), SolveError> {
        let n_u = self.n_unknowns;
        if n_u == 0 {
            return Ok(());
        }
        let a = self.pattern.as_ref();
        let perm;
        let ord = match self.ordering {
            Ordering::Amd => SymmetricOrdering::Amd,
            Ordering::NestedDissection => {
                perm = crate::ordering::nested_dissection(n_u, a.col_ptr(), a.row_idx());
                SymmetricOrdering::Custom(faer::perm::PermRef::new_checked(&perm.0, &perm.1, n_u))
            }
        };
        let symbolic =
            factorize_symbolic_cholesky(a, Side::Upper, ord, CholeskySymbolicParams::default())
                .map_err(|_| SolveError::OutOfMemory)?;
        let req = StackReq::any_of(&[
            symbolic.factorize_numeric_llt_scratch::<f64>(Par::Seq, Default::default()),
            symbolic.solve_in_place_scratch::<f64>(1, Par::Seq),
        ]);
        self.mem = MemBuffer::try_new(req).map_err(|_| SolveError::OutOfMemory)?;
        self.l_values = vec![0.0; symbolic.len_val()];
        self.symbolic = Some(symbolic);
        Ok(())
    }

    /// `simplicial` or `supernodal` (faer picks by a flop-ratio threshold).
    pub fn factor_kind(&self) -> &'static str {
        match self.symbolic.as_ref().map(|s| s.raw()) {
            Some(faer::sparse::linalg::cholesky::SymbolicCholeskyRaw::Supernodal(_)) => {
                "supernodal"
            }
            Some(_) => "simplicial",
            None => "none",
        }
    }

    /// Nonzeros of the factor L (fill-in measure).
    pub fn factor_nnz(&self) -> usize {
        self.l_values.len()
    }

    /// Nonzeros of the upper triangle of the Laplacian.
    pub fn matrix_nnz(&self) -> usize {
        self.values.len()
    }

    /// Write L = B_q diag(g) B_q^T into the stored values (in place).
    pub fn assemble(&mut self, g: &[f64]) {
        self.values.fill(0.0);
        let v = &mut self.values;
        for (k, &gk) in g.iter().enumerate() {
            let (a, b) = (self.pos_tt[k], self.pos_hh[k]);
            if a != NONE {
                v[a as usize] += gk;
            }
            if b != NONE {
                v[b as usize] += gk;
            }
            let ab = self.pos_th[k];
            if ab != NONE {
                v[ab as usize] -= gk;
            }
        }
    }

    /// Numeric Cholesky refactorisation of the assembled values. On a
    /// non-positive pivot returns the node (a representative of the
    /// supernode) where elimination failed.
    pub fn factor(&mut self) -> Result<(), NodeId> {
        let Some(symbolic) = self.symbolic.as_ref() else {
            return Ok(());
        };
        let n_u = self.n_unknowns;
        let a = SparseColMatRef::new(self.pattern.as_ref(), &self.values);
        let stack = MemStack::new(&mut self.mem);
        self.factorizations += 1;
        match symbolic.factorize_numeric_llt(
            &mut self.l_values,
            a,
            Side::Upper,
            Default::default(),
            Par::Seq,
            stack,
            Default::default(),
        ) {
            Ok(_) => Ok(()),
            Err(faer::linalg::cholesky::llt::factor::LltError::NonPositivePivot { index }) => {
                let u = symbolic
                    .perm()
                    .map(|p| p.arrays().0[index])
                    .unwrap_or(index)
                    .min(n_u - 1);
                Err(self.unknown_node[u] as NodeId)
            }
        }
    }

    /// Solve L x = b in place with the last factorisation.
    pub fn solve_in_place(&mut self, b: &mut [f64]) {
        let Some(symbolic) = self.symbolic.as_ref() else {
            return;
        };
        let llt = LltRef::<'_, usize, f64>::new(symbolic, &self.l_values);
        let stack = MemStack::new(&mut self.mem);
        let rhs = MatMut::from_column_major_slice_mut(b, self.n_unknowns, 1);
        llt.solve_in_place_with_conj(Conj::No, rhs, Par::Seq, stack);
    }
}
