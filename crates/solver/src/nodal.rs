//! The nodal (grounded weighted-Laplacian) solve of theory.md 3.3 item 4,
//! generalised to per-device parameters (3.8), current sources (3.4) and
//! ideal voltage sources eliminated as potential constraints: the one
//! nodal evaluator of memnet. The memory equation ([`crate::MemoryRhs`]),
//! the exact method and the analysis crate (Jacobian columns, symmetry
//! checks, verified trajectories) all call [`NodalSolver`].
//!
//! Unknowns are the potentials of the supernodes of
//! [`memnet_graph::Supernodes`] (a node, or nodes tied together by ideal
//! voltage sources) that are not the ground of their component of the
//! contracted topology ([`Topology::contracted`]). Within a supernode,
//! potentials differ by the constraint offsets c_n (sums of constraint
//! values along the constraint tree). The system stays symmetric positive
//! definite:
//!
//!   L Phi = -B_q (G S') + B_q-side injections,   L = B_q G B_q^T,
//!   S'_k = S_k + c_tail - c_head,   i = G (S' + B_q^T Phi),
//!
//! with B_q the reduced incidence matrix of the contracted graph. The
//! pattern (assembled by [`memnet_graph::LaplacianPattern`]) and the
//! Cholesky symbolic analysis are computed once per topology; each
//! evaluation writes conductances into the values in place, refactorises
//! numerically into preallocated storage and solves, with no allocation.

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::sparse::linalg::cholesky::{
    CholeskySymbolicParams, LltRef, SymbolicCholesky, SymmetricOrdering,
    factorize_symbolic_cholesky,
};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par, Side};
use memnet_graph::{
    LaplacianPattern, NO_SLOT, NodalTopology, NodeId, OffsetLink, Supernodes, Topology,
};

use crate::SolveError;
use crate::indefinite::IndefiniteLu;

pub(crate) const NONE: u32 = u32::MAX;

/// A fill-reducing permutation: forward (new -> old) and inverse.
type Perm = (Vec<usize>, Vec<usize>);

/// faer's AMD ordering of the pattern (forward and inverse) and the
/// nonzeros of its factor as AMD counts them while it eliminates
/// (diagonal included): exact on grids, a little over on other graphs
/// (tested to 1%), a sum that leaves out rows dense enough to be
/// ordered last.
fn amd_order(a: SymbolicSparseColMatRef<'_, usize>) -> Result<(Perm, usize), SolveError> {
    let n = a.nrows();
    let mut fwd = vec![0usize; n];
    let mut inv = vec![0usize; n];
    let req = faer::sparse::linalg::amd::order_maybe_unsorted_scratch::<usize>(n, a.compute_nnz());
    let mut mem = MemBuffer::try_new(req).map_err(|_| SolveError::OutOfMemory)?;
    let flops = faer::sparse::linalg::amd::order_maybe_unsorted(
        &mut fwd,
        &mut inv,
        a,
        Default::default(),
        MemStack::new(&mut mem),
    )
    .map_err(|_| SolveError::OutOfMemory)?;
    Ok(((fwd, inv), flops.n_div as usize + n))
}

/// Nonzeros (diagonal included) of the Cholesky factor of the pattern
/// permuted by `inv` (old index -> new): the column counts of its
/// elimination tree, without the supernodal structure.
fn fill_under(a: SymbolicSparseColMatRef<'_, usize>, inv: &[usize]) -> usize {
    let n = a.nrows();
    // P A P^T, upper triangle, rows unsorted (as faer's own analysis
    // hands it to the same routine).
    let mut col_ptr = vec![0usize; n + 1];
    for j in 0..n {
        for &i in &a.row_idx()[a.col_ptr()[j]..a.col_ptr()[j + 1]] {
            col_ptr[inv[i].max(inv[j]) + 1] += 1;
        }
    }
    for j in 0..n {
        col_ptr[j + 1] += col_ptr[j];
    }
    let mut next = col_ptr.clone();
    let mut row_idx = vec![0usize; col_ptr[n]];
    for j in 0..n {
        for &i in &a.row_idx()[a.col_ptr()[j]..a.col_ptr()[j + 1]] {
            let (r, c) = (inv[i].min(inv[j]), inv[i].max(inv[j]));
            row_idx[next[c]] = r;
            next[c] += 1;
        }
    }
    drop(next);
    let permuted = SymbolicSparseColMatRef::new_unsorted_checked(n, n, &col_ptr, None, &row_idx);
    let mut etree = vec![0isize; n];
    let mut counts = vec![0usize; n];
    let mut mem = MemBuffer::new(
        faer::sparse::linalg::cholesky::simplicial::prefactorize_symbolic_cholesky_scratch::<usize>(
            n,
            row_idx.len(),
        ),
    );
    faer::sparse::linalg::cholesky::simplicial::prefactorize_symbolic_cholesky(
        &mut etree,
        &mut counts,
        permuted,
        MemStack::new(&mut mem),
    );
    counts.iter().sum()
}

/// Fill-reducing ordering for the sparse Cholesky factorisation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ordering {
    /// Chosen per network (default): AMD, except on a network of at least
    /// [`AUTO_MIN_UNKNOWNS`] unknowns whose nested-dissection factor has
    /// at most [`AUTO_FILL_RATIO`] times AMD's fill. Measured
    /// (docs/engine.md, "Orderings and threads"): nested dissection
    /// factorises grids in 0.6x to 0.9x AMD's time with 8-12% more fill,
    /// and nanowire networks 3.2x to 3.6x slower with 5-6 times the fill,
    /// so the fill ratio tells the two apart where size cannot.
    #[default]
    Auto,
    /// faer's approximate minimum degree.
    Amd,
    /// Recursive level-set nested dissection (crate-local).
    NestedDissection,
    /// METIS 5's multilevel nested dissection (`METIS_NodeND`, vendored C).
    Metis,
}

/// Below this many unknowns [`Ordering::Auto`] takes AMD without trying
/// nested dissection: a factorisation costs milliseconds there and a
/// second symbolic analysis would cost as much as it could save.
pub const AUTO_MIN_UNKNOWNS: usize = 50_000;

/// The most fill, relative to AMD's, with which [`Ordering::Auto`] still
/// takes nested dissection (grids measured at 1.08-1.12, nanowire
/// networks at 5-6).
pub const AUTO_FILL_RATIO: f64 = 1.25;

/// Reusing a factorisation across solves whose conductances changed: the
/// old factor preconditions conjugate gradients on the new matrix (it is
/// the exact inverse of a nearby matrix, so CG converges in a few
/// iterations while the conductances move little), and the matrix is
/// refactorised when CG needs more than `max_iter` iterations
/// (docs/engine.md, "Fewer factorisations").
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct FactorReuse {
    /// CG iterations above which the next solve refactorises.
    pub max_iter: usize,
    /// Relative residual |b - A x| / |b| that ends CG.
    pub rtol: f64,
    /// Start CG from the potentials of the last solve of the network's
    /// sources (true, the default) rather than from the old factor's
    /// solution. On a smooth run the last potentials are the closer of the
    /// two, and the start costs no solve pair.
    pub warm_start: bool,
}

impl Default for FactorReuse {
    fn default() -> Self {
        // 1e-13: currents agree with the direct solve to ~1e-11 relative
        // on the tested grids. max_iter 6: derived from measured costs,
        // not tuned by a sweep. One CG iteration costs a solve pair and a
        // matrix product (~0.3 s at 1000x1000 against 1.72 s for a fresh
        // factorisation and solve), so past ~6 iterations refactorising
        // is cheaper.
        FactorReuse {
            max_iter: 6,
            rtol: 1e-13,
            warm_start: true,
        }
    }
}

/// Scratch and counters of [`FactorReuse`].
struct Pcg {
    reuse: FactorReuse,
    r: Vec<f64>,
    z: Vec<f64>,
    p: Vec<f64>,
    ap: Vec<f64>,
    b: Vec<f64>,
    /// Unknowns of the last [`NodalSolver::solve`]: CG's start for the
    /// next one (on an integrator's run the conductances and sources moved
    /// by one evaluation since, usually less than since the factorisation;
    /// the exact method solves only at samples, so there it is a sample
    /// interval old).
    x_last: Vec<f64>,
    /// `x_last` holds a solution.
    has_last: bool,
    /// The factor is of the present conductances.
    fresh: bool,
    /// A factor exists.
    factored: bool,
    /// The last CG needed too many iterations: refactorise next time.
    stale: bool,
    iterations: u64,
    solves: u64,
    /// Warm starts dropped because the sources jumped (read by the tests).
    warm_rejected: u64,
}

/// The sources of one nodal solve: any vectors, not only a network's own.
#[derive(Clone, Copy, Debug, Default)]
pub struct NodalSources<'a> {
    /// Series source S_k of every edge (volts, docs/model.md: the branch
    /// current is i_k = G_k (S_k + phi_tail - phi_head)), or empty for none.
    pub series: &'a [f64],
    /// Current injected into every node from outside (amperes), length N,
    /// or empty for none. A current source drawing j out of `from` and
    /// pushing it into `to` is -j at `from`, +j at `to`.
    pub injection: &'a [f64],
    /// Value of every potential constraint, phi(pos) - phi(neg) (volts),
    /// one per constraint of the topology, or empty when it has none.
    pub constraints: &'a [f64],
}

/// The grounded weighted Laplacian of one topology and its sparse Cholesky
/// factorisation: symbolic once, numeric per conductance vector.
///
/// Use: write conductances into [`NodalSolver::conductances_mut`], call
/// [`NodalSolver::factor`], then [`NodalSolver::solve`] once per source
/// vector (a Jacobian column, a transformed circuit, ...). Nothing
/// allocates after construction.
pub struct NodalSolver {
    n_nodes: usize,
    n_unknowns: usize,
    /// Unknown of each node, [`NONE`] for nodes at a fixed potential (the
    /// ground supernode of each component).
    node_unknown: Vec<u32>,
    /// The root node of each unknown's supernode (for messages).
    unknown_node: Vec<u32>,
    /// Per edge: tail and head node and their unknowns.
    tail: Vec<u32>,
    head: Vec<u32>,
    tail_u: Vec<u32>,
    head_u: Vec<u32>,
    /// Constraint trees, parents first (from the topology's supernodes).
    links: Vec<OffsetLink>,
    n_constraints: usize,
    /// Conductance of every edge, written by the caller.
    g: Vec<f64>,
    /// Upper-triangular pattern and per-edge value slots.
    pattern: LaplacianPattern,
    values: Vec<f64>,
    symbolic: Option<SymbolicCholesky<usize>>,
    l_values: Vec<f64>,
    mem: MemBuffer,
    /// Unknown potentials of the last solve (right-hand side before it).
    phi: Vec<f64>,
    /// Node offsets c_n of the last solve (empty without constraints).
    offsets: Vec<f64>,
    factorizations: u64,
    ordering: Ordering,
    ordering_used: Ordering,
    pcg: Option<Pcg>,
    /// Threads of the numeric factorisation (faer's `Par`).
    par: Par,
    /// Factor by sparse LU where Cholesky meets a non-positive pivot
    /// ([`NodalSolver::allow_indefinite`]).
    indefinite: bool,
    /// The LU, built the first time it is needed.
    lu: Option<Box<IndefiniteLu>>,
    /// The last factorisation is the LU's.
    lu_active: bool,
}

impl std::fmt::Debug for NodalSolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodalSolver")
            .field("nodes", &self.n_nodes)
            .field("edges", &self.g.len())
            .field("unknowns", &self.n_unknowns)
            .field("ordering", &self.ordering)
            .finish()
    }
}

impl NodalSolver {
    /// Pattern, ordering and symbolic Cholesky analysis for `topo`.
    pub fn new(topo: &Topology, ordering: Ordering) -> Result<Self, SolveError> {
        Self::on(
            topo.n_nodes,
            &topo.tails,
            &topo.heads,
            &topo.supernodes,
            topo.contracted(),
            ordering,
        )
    }

    /// [`NodalSolver::new`] from the part of the topology a nodal solve
    /// reads (built faster where there are constraints).
    pub fn from_nodal_topology(
        topo: &NodalTopology,
        ordering: Ordering,
    ) -> Result<Self, SolveError> {
        Self::on(
            topo.n_nodes(),
            topo.tails(),
            topo.heads(),
            topo.supernodes(),
            topo.contracted(),
            ordering,
        )
    }

    fn on(
        n: usize,
        tails: &[NodeId],
        heads: &[NodeId],
        sup: &Supernodes,
        q: &Topology,
        ordering: Ordering,
    ) -> Result<Self, SolveError> {
        let m = tails.len();
        if n >= NONE as usize || m >= NONE as usize {
            return Err(SolveError::InvalidOption(
                "networks above 4e9 nodes or edges are not supported".into(),
            ));
        }
        let node_unknown: Vec<u32> = (0..n)
            .map(|v| q.reduced_index[sup.of(v)].map_or(NONE, |u| u as u32))
            .collect();
        let unknown_node = q
            .reduced_nodes
            .iter()
            .map(|&s| sup.root(s) as u32)
            .collect();
        let tail: Vec<u32> = tails.iter().map(|&v| v as u32).collect();
        let head: Vec<u32> = heads.iter().map(|&v| v as u32).collect();
        // An edge inside one supernode carries a known current and does not
        // enter the matrix (a self-loop of the contracted graph).
        let (mut tail_u, mut head_u): (Vec<u32>, Vec<u32>) = (0..m)
            .map(|k| {
                (
                    node_unknown[tail[k] as usize],
                    node_unknown[head[k] as usize],
                )
            })
            .unzip();
        for k in 0..m {
            if sup.of(tails[k]) == sup.of(heads[k]) {
                tail_u[k] = NONE;
                head_u[k] = NONE;
            }
        }
        let pattern = q.laplacian_pattern();
        let n_u = q.n_reduced();
        let nnz = pattern.symbolic.row_idx().len();
        let mut sys = NodalSolver {
            n_nodes: n,
            n_unknowns: n_u,
            node_unknown,
            unknown_node,
            tail,
            head,
            tail_u,
            head_u,
            links: sup.links.clone(),
            n_constraints: sup.n_constraints,
            g: vec![0.0; m],
            pattern,
            values: vec![0.0; nnz],
            symbolic: None,
            l_values: Vec::new(),
            mem: MemBuffer::new(StackReq::empty()),
            phi: vec![0.0; n_u],
            offsets: if sup.any() { vec![0.0; n] } else { Vec::new() },
            factorizations: 0,
            indefinite: false,
            lu: None,
            lu_active: false,
            ordering,
            // What Auto resolves to when there is nothing to factorise.
            ordering_used: match ordering {
                Ordering::Auto => Ordering::Amd,
                fixed => fixed,
            },
            pcg: None,
            par: Par::Seq,
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
        let (symbolic, used) = match self.ordering {
            Ordering::Auto if n_u < AUTO_MIN_UNKNOWNS => {
                (self.symbolic_with(Ordering::Amd)?, Ordering::Amd)
            }
            Ordering::Auto => {
                // The two candidates are compared by their fill alone, and
                // only the winner gets the supernodal analysis (which costs
                // as much again as an ordering on a large grid): AMD counts
                // its fill while it orders, nested dissection's comes from
                // the column counts of its elimination tree.
                // The two orderings are independent: one on each core.
                let a = self.pattern.symbolic.as_ref();
                let (amd, (nd, nd_fill)) = std::thread::scope(|scope| {
                    let nd = scope.spawn(move || {
                        let nd = crate::ordering::nested_dissection(n_u, a.col_ptr(), a.row_idx());
                        let fill = fill_under(a, &nd.1);
                        (nd, fill)
                    });
                    let amd = amd_order(a);
                    let nd = nd
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    (amd, nd)
                });
                let (amd, amd_fill) = amd?;
                let (perm, used) = if nd_fill as f64 <= AUTO_FILL_RATIO * amd_fill as f64 {
                    (nd, Ordering::NestedDissection)
                } else {
                    (amd, Ordering::Amd)
                };
                (self.symbolic_under(&perm)?, used)
            }
            fixed => (self.symbolic_with(fixed)?, fixed),
        };
        self.ordering_used = used;
        self.l_values = vec![0.0; symbolic.len_val()];
        self.symbolic = Some(symbolic);
        self.plan_scratch()
    }

    /// The symbolic factorisation under a computed ordering.
    fn symbolic_under(&self, perm: &Perm) -> Result<SymbolicCholesky<usize>, SolveError> {
        let a = self.pattern.symbolic.as_ref();
        let ord = SymmetricOrdering::Custom(faer::perm::PermRef::new_checked(
            &perm.0,
            &perm.1,
            self.n_unknowns,
        ));
        factorize_symbolic_cholesky(a, Side::Upper, ord, CholeskySymbolicParams::default())
            .map_err(|_| SolveError::OutOfMemory)
    }

    /// The symbolic factorisation under `ordering` (AMD or nested
    /// dissection).
    fn symbolic_with(&self, ordering: Ordering) -> Result<SymbolicCholesky<usize>, SolveError> {
        let a = self.pattern.symbolic.as_ref();
        let n_u = self.n_unknowns;
        let perm;
        let ord = match ordering {
            Ordering::NestedDissection => {
                perm = crate::ordering::nested_dissection(n_u, a.col_ptr(), a.row_idx());
                SymmetricOrdering::Custom(faer::perm::PermRef::new_checked(&perm.0, &perm.1, n_u))
            }
            Ordering::Metis => {
                perm = crate::ordering::metis_nested_dissection(n_u, a.col_ptr(), a.row_idx())
                    .map_err(SolveError::Ordering)?;
                SymmetricOrdering::Custom(faer::perm::PermRef::new_checked(&perm.0, &perm.1, n_u))
            }
            Ordering::Amd | Ordering::Auto => SymmetricOrdering::Amd,
        };
        factorize_symbolic_cholesky(a, Side::Upper, ord, CholeskySymbolicParams::default())
            .map_err(|_| SolveError::OutOfMemory)
    }

    /// The ordering the factorisation uses: the one asked for, or what
    /// [`Ordering::Auto`] chose.
    pub fn ordering_used(&self) -> Ordering {
        self.ordering_used
    }

    /// One buffer for the numeric factorisation (in the current thread
    /// mode) and the solves, allocated here once so that neither
    /// allocates per evaluation.
    fn plan_scratch(&mut self) -> Result<(), SolveError> {
        if let Some(symbolic) = &self.symbolic {
            let req = StackReq::any_of(&[
                symbolic.factorize_numeric_llt_scratch::<f64>(self.par, Default::default()),
                symbolic.solve_in_place_scratch::<f64>(1, Par::Seq),
            ]);
            self.mem = MemBuffer::try_new(req).map_err(|_| SolveError::OutOfMemory)?;
        }
        Ok(())
    }

    /// N.
    pub fn n_nodes(&self) -> usize {
        self.n_nodes
    }

    /// M.
    pub fn n_edges(&self) -> usize {
        self.g.len()
    }

    /// Number of potential constraints the sources must give values for.
    pub fn n_constraints(&self) -> usize {
        self.n_constraints
    }

    /// Size of the reduced system (unknown supernode potentials).
    pub fn n_unknowns(&self) -> usize {
        self.n_unknowns
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

    /// Numeric factorisations done so far.
    pub fn factorizations(&self) -> u64 {
        self.factorizations
    }

    /// The conductance of every edge (siemens), to be written before
    /// [`NodalSolver::factor`].
    pub fn conductances_mut(&mut self) -> &mut [f64] {
        &mut self.g
    }

    /// The conductances of the last factorisation (or as last written).
    pub fn conductances(&self) -> &[f64] {
        &self.g
    }

    /// Reuse factorisations across solves ([`FactorReuse`]), or (`None`)
    /// factorise at every [`NodalSolver::factor`]. Only for conductances
    /// that stay positive: a reused factor cannot detect a matrix that
    /// lost definiteness.
    pub fn set_factor_reuse(&mut self, reuse: Option<FactorReuse>) {
        let n = self.n_unknowns;
        self.pcg = reuse.map(|reuse| Pcg {
            reuse,
            r: vec![0.0; n],
            z: vec![0.0; n],
            p: vec![0.0; n],
            ap: vec![0.0; n],
            b: vec![0.0; n],
            x_last: vec![0.0; n],
            has_last: false,
            fresh: false,
            factored: false,
            stale: false,
            iterations: 0,
            solves: 0,
            warm_rejected: 0,
        });
    }

    /// Factorise with `threads` threads (faer's rayon parallelism; 1:
    /// sequential). Re-plans the scratch, which allocates once.
    pub fn set_threads(&mut self, threads: usize) -> Result<(), SolveError> {
        self.par = if threads > 1 {
            Par::rayon(threads)
        } else {
            Par::Seq
        };
        self.plan_scratch()
    }

    /// CG iterations and solves that reused an older factor so far.
    pub fn reuse_counts(&self) -> (u64, u64) {
        self.pcg
            .as_ref()
            .map_or((0, 0), |p| (p.iterations, p.solves))
    }

    /// Assemble L = B_q diag(g) B_q^T from [`NodalSolver::conductances_mut`]
    /// and refactorise numerically (with [`FactorReuse`], only when the
    /// last solve asked for it). On a non-positive pivot returns the
    /// node (the root of the supernode) where elimination failed.
    pub fn factor(&mut self) -> Result<(), NodeId> {
        // (An LU factor is never reused: CG needs a definite matrix.)
        if let Some(p) = &mut self.pcg
            && p.factored
            && !p.stale
            && !self.lu_active
        {
            p.fresh = false;
            return Ok(());
        }
        self.factor_now()
    }

    fn factor_now(&mut self) -> Result<(), NodeId> {
        if let Some(p) = &mut self.pcg {
            p.fresh = true;
            p.factored = true;
            p.stale = false;
        }
        self.pattern.fill_values(&self.g, &mut self.values);
        let Some(symbolic) = self.symbolic.as_ref() else {
            return Ok(());
        };
        let n_u = self.n_unknowns;
        let a = SparseColMatRef::new(self.pattern.symbolic.as_ref(), &self.values);
        let stack = MemStack::new(&mut self.mem);
        self.factorizations += 1;
        self.lu_active = false;
        match symbolic.factorize_numeric_llt(
            &mut self.l_values,
            a,
            Side::Upper,
            Default::default(),
            self.par,
            stack,
            Default::default(),
        ) {
            Ok(_) => Ok(()),
            Err(faer::linalg::cholesky::llt::factor::LltError::NonPositivePivot { index }) => {
                // faer may report the pivot one past the last column.
                let index = index.min(n_u.saturating_sub(1));
                let u = symbolic
                    .perm()
                    .map(|p| p.arrays().0[index])
                    .unwrap_or(index)
                    .min(n_u - 1);
                let failed = if self.indefinite {
                    self.factor_lu().map_err(|lu_u| lu_u.min(n_u - 1))
                } else {
                    Err(u)
                };
                if failed.is_err()
                    && let Some(p) = &mut self.pcg
                {
                    // Nothing usable to reuse: the next factor() starts over.
                    p.factored = false;
                }
                failed.map_err(|u| self.unknown_node[u] as NodeId)
            }
        }
    }

    /// Factors the present values by sparse LU (the symbolic LU on first
    /// use); on failure, the unknown where no pivot was found (0 when the
    /// LU could not be set up at all).
    fn factor_lu(&mut self) -> Result<(), usize> {
        let lu = match self.lu.take() {
            Some(lu) => lu,
            None => {
                Box::new(IndefiniteLu::new(self.pattern.symbolic.as_ref()).map_err(|_| 0usize)?)
            }
        };
        self.lu.insert(lu).factor(&self.values)?;
        self.lu_active = true;
        Ok(())
    }

    /// Let [`NodalSolver::factor`] fall back to sparse LU (faer's, with
    /// partial pivoting) when the matrix is not positive definite: a
    /// device with a negative conductance or slope di/dv (Newton's matrix
    /// of a compiled body with negative differential resistance). Off by
    /// default: the theory's analyses need a definite matrix and say so.
    pub fn allow_indefinite(&mut self, allow: bool) {
        self.indefinite = allow;
    }

    /// Whether the last factorisation was the LU of an indefinite matrix.
    pub fn factor_is_lu(&self) -> bool {
        self.lu_active
    }

    /// After a solve with an LU factor: the node of the first unknown whose
    /// potential is not finite, if any. faer's LU reports only a column with
    /// no pivot in its pattern; a pivot that is zero in value (a negative
    /// conductance cancelling the rest at a node) shows up as infinite or
    /// NaN potentials instead.
    pub fn singular_node(&self) -> Option<NodeId> {
        if !self.lu_active {
            return None;
        }
        self.phi
            .iter()
            .position(|p| !p.is_finite())
            .map(|u| self.unknown_node[u] as NodeId)
    }

    /// Solves with the last factorisation (Cholesky or LU) in place.
    fn direct_solve(&mut self, b: &mut [f64]) {
        match self.lu.as_mut() {
            Some(lu) if self.lu_active => lu.solve(b),
            _ => llt_solve(self.symbolic.as_ref(), &self.l_values, &mut self.mem, b),
        }
    }

    /// [`NodalSolver::direct_solve`] of `phi` (taken out and put back: no
    /// allocation).
    fn direct_solve_phi(&mut self) {
        let mut phi = std::mem::take(&mut self.phi);
        self.direct_solve(&mut phi);
        self.phi = phi;
    }

    /// Node potentials and branch currents for `sources` at the last
    /// factorisation: i = G (S' + B_q^T Phi) into `current` (amperes, tail
    /// to head through the edge, length M); the potentials are kept
    /// ([`NodalSolver::node_potentials`]).
    ///
    /// # Panics
    /// If a non-empty source vector or `current` has the wrong length.
    pub fn solve(&mut self, sources: &NodalSources<'_>, current: &mut [f64]) {
        let m = self.g.len();
        assert_eq!(current.len(), m, "one current per edge");
        let series = sources.series;
        assert!(
            series.is_empty() || series.len() == m,
            "one series source per edge"
        );
        let inj = sources.injection;
        assert!(
            inj.is_empty() || inj.len() == self.n_nodes,
            "one injection per node"
        );
        if !self.offsets.is_empty() {
            assert_eq!(
                sources.constraints.len(),
                self.n_constraints,
                "one value per constraint"
            );
            for l in &self.links {
                self.offsets[l.node] =
                    self.offsets[l.parent] + l.sign * sources.constraints[l.constraint];
            }
        }
        // Right-hand side: -B_q (G S') plus the injections.
        self.phi.fill(0.0);
        if !inj.is_empty() {
            for (v, &j) in inj.iter().enumerate() {
                let u = self.node_unknown[v];
                if u != NONE {
                    self.phi[u as usize] += j;
                }
            }
        }
        let has_offsets = !self.offsets.is_empty();
        if !series.is_empty() || has_offsets {
            for k in 0..m {
                let gs = self.g[k] * self.s_eff(series, k);
                let (a, b) = (self.tail_u[k], self.head_u[k]);
                if a != NONE {
                    self.phi[a as usize] -= gs;
                }
                if b != NONE {
                    self.phi[b as usize] += gs;
                }
            }
        }
        if self.pcg.as_ref().is_some_and(|p| !p.fresh) && !self.lu_active {
            self.pcg_solve(0.0, true);
        } else {
            self.direct_solve_phi();
        }
        if let Some(p) = &mut self.pcg {
            p.x_last.copy_from_slice(&self.phi);
            p.has_last = self.phi.iter().all(|x| x.is_finite());
        }
        for (k, i) in current.iter_mut().enumerate() {
            let (a, b) = (self.tail_u[k], self.head_u[k]);
            let pa = if a != NONE { self.phi[a as usize] } else { 0.0 };
            let pb = if b != NONE { self.phi[b as usize] } else { 0.0 };
            *i = self.g[k] * (self.s_eff(series, k) + pa - pb);
        }
    }

    /// y = B_q diag(g) B_q^T x over the edges (no assembled matrix needed).
    fn apply_laplacian(g: &[f64], tail_u: &[u32], head_u: &[u32], x: &[f64], y: &mut [f64]) {
        y.fill(0.0);
        for k in 0..g.len() {
            let (a, b) = (tail_u[k], head_u[k]);
            let xa = if a != NONE { x[a as usize] } else { 0.0 };
            let xb = if b != NONE { x[b as usize] } else { 0.0 };
            let f = g[k] * (xa - xb);
            if a != NONE {
                y[a as usize] += f;
            }
            if b != NONE {
                y[b as usize] -= f;
            }
        }
    }

    /// Solves L phi = b (b in `phi`) by conjugate gradients preconditioned
    /// with the last factorisation (of an earlier L), starting from that
    /// factor's solution. Too many iterations: refactorise now and solve
    /// directly, so every solve meets the tolerance.
    /// CG to the relative residual `rtol` (at least [`FactorReuse::rtol`]).
    /// `warm`: start from the last [`NodalSolver::solve`]'s unknowns
    /// instead (when there are some), which saves the solve pair of the
    /// start and is closer on a smooth run.
    fn pcg_solve(&mut self, rtol: f64, warm: bool) {
        let Some(mut p) = self.pcg.take() else {
            return;
        };
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        p.solves += 1;
        p.b.copy_from_slice(&self.phi);
        let b_norm = dot(&p.b, &p.b).sqrt();
        let warm = warm && p.reuse.warm_start && p.has_last;
        let mut r_norm = f64::INFINITY;
        if warm {
            self.phi.copy_from_slice(&p.x_last);
            r_norm = self.start_residual(&mut p);
        }
        // Cold, or the sources jumped (a new input, a step of a waveform) so
        // that the last potentials are worse than nothing: x0 = M^-1 b (not
        // counted as an iteration; a rejected warm start wasted one product
        // with the Laplacian).
        if !warm || r_norm > b_norm || !r_norm.is_finite() {
            p.warm_rejected += warm as u64;
            self.phi.copy_from_slice(&p.b);
            llt_solve(
                self.symbolic.as_ref(),
                &self.l_values,
                &mut self.mem,
                &mut self.phi,
            );
            r_norm = self.start_residual(&mut p);
        }
        let tol = rtol.max(p.reuse.rtol) * b_norm;
        let mut converged = r_norm <= tol;
        let mut rz = 0.0;
        let mut it = 0;
        while !converged && it < p.reuse.max_iter {
            it += 1;
            p.z.copy_from_slice(&p.r);
            llt_solve(
                self.symbolic.as_ref(),
                &self.l_values,
                &mut self.mem,
                &mut p.z,
            );
            let rz_new = dot(&p.r, &p.z);
            if it == 1 {
                p.p.copy_from_slice(&p.z);
            } else {
                let beta = rz_new / rz;
                for i in 0..p.p.len() {
                    p.p[i] = p.z[i] + beta * p.p[i];
                }
            }
            rz = rz_new;
            Self::apply_laplacian(&self.g, &self.tail_u, &self.head_u, &p.p, &mut p.ap);
            let alpha = rz / dot(&p.p, &p.ap);
            if !alpha.is_finite() {
                break;
            }
            for i in 0..p.r.len() {
                self.phi[i] += alpha * p.p[i];
                p.r[i] -= alpha * p.ap[i];
            }
            converged = dot(&p.r, &p.r).sqrt() <= tol;
        }
        p.iterations += it as u64;
        if converged {
            // At the cap: the next solve starts from a fresh factor.
            p.stale = it >= p.reuse.max_iter;
            self.pcg = Some(p);
            return;
        }
        // The old factor no longer preconditions well: a fresh one.
        self.phi.copy_from_slice(&p.b);
        self.pcg = Some(p);
        if self.factor_now().is_ok() {
            self.direct_solve_phi();
        } else {
            // (Reuse is only enabled for positive conductances, whose
            // matrix is definite; should it not be, say so in the result.)
            self.phi.fill(f64::NAN);
        }
    }

    /// r = b - L x for CG's start x (in `phi`); returns |r|.
    fn start_residual(&self, p: &mut Pcg) -> f64 {
        Self::apply_laplacian(&self.g, &self.tail_u, &self.head_u, &self.phi, &mut p.ap);
        for i in 0..p.r.len() {
            p.r[i] = p.b[i] - p.ap[i];
        }
        p.r.iter().map(|x| x * x).sum::<f64>().sqrt()
    }

    /// S'_k: the series source plus the constraint offsets across edge k.
    #[inline]
    fn s_eff(&self, series: &[f64], k: usize) -> f64 {
        let s = if series.is_empty() { 0.0 } else { series[k] };
        if self.offsets.is_empty() {
            s
        } else {
            s + self.offsets[self.tail[k] as usize] - self.offsets[self.head[k] as usize]
        }
    }

    /// Solve L x = b in place in the unknowns' numbering with the last
    /// factorisation (Newton steps of the exact method), or by CG
    /// preconditioned with it ([`FactorReuse`]).
    pub fn solve_unknowns_in_place(&mut self, b: &mut [f64]) {
        self.solve_unknowns_in_place_within(b, 0.0);
    }

    /// As [`NodalSolver::solve_unknowns_in_place`]; a reused factor's CG
    /// stops at the relative residual `rtol` when that is looser than
    /// [`FactorReuse::rtol`] (an inexact Newton step: the exact method's
    /// forcing term). A fresh factor solves directly whatever `rtol`.
    pub fn solve_unknowns_in_place_within(&mut self, b: &mut [f64], rtol: f64) {
        if self.pcg.as_ref().is_some_and(|p| !p.fresh)
            && !self.lu_active
            && b.len() == self.phi.len()
        {
            // With a reused factor: CG on the present matrix (an inexact
            // Newton step, to CG's tolerance).
            self.phi.copy_from_slice(b);
            self.pcg_solve(rtol, false);
            b.copy_from_slice(&self.phi);
            return;
        }
        self.direct_solve(b);
    }

    /// Potentials (volts) of every node from the last solve, ground
    /// supernodes at 0 plus their offsets.
    pub fn node_potentials(&self, out: &mut [f64]) {
        for (v, o) in out.iter_mut().enumerate().take(self.n_nodes) {
            *o = self.potential(v);
        }
    }

    /// Potential of node `v` from the last solve.
    pub fn potential(&self, v: NodeId) -> f64 {
        let u = self.node_unknown[v];
        let base = if u != NONE { self.phi[u as usize] } else { 0.0 };
        base + self.offsets.get(v).copied().unwrap_or(0.0)
    }

    /// Unknown of node `v` (`None` at a fixed potential).
    pub fn node_unknown(&self, v: NodeId) -> Option<usize> {
        let u = self.node_unknown[v];
        (u != NONE).then_some(u as usize)
    }

    /// Unknowns of the tail and head of edge k in the matrix ([`NONE`]
    /// where fixed, both [`NONE`] for an edge inside one supernode).
    #[inline]
    pub(crate) fn edge_unknowns(&self, k: usize) -> (u32, u32) {
        (self.tail_u[k], self.head_u[k])
    }

    /// Tail and head node of edge k.
    #[inline]
    pub(crate) fn edge_nodes(&self, k: usize) -> (usize, usize) {
        (self.tail[k] as usize, self.head[k] as usize)
    }

    /// The constraint trees (offsets of the exact method's fluxes).
    pub(crate) fn links(&self) -> &[OffsetLink] {
        &self.links
    }
}

/// Solves with the factor in place; nothing to do without unknowns.
fn llt_solve(
    symbolic: Option<&SymbolicCholesky<usize>>,
    l_values: &[f64],
    mem: &mut MemBuffer,
    b: &mut [f64],
) {
    let Some(symbolic) = symbolic else {
        return;
    };
    let llt = LltRef::<'_, usize, f64>::new(symbolic, l_values);
    let stack = MemStack::new(mem);
    let n = b.len();
    let rhs = MatMut::from_column_major_slice_mut(b, n, 1);
    llt.solve_in_place_with_conj(Conj::No, rhs, Par::Seq, stack);
}

// Keep the pattern's sentinel and ours the same value.
const _: () = assert!(NO_SLOT == NONE);

#[cfg(test)]
mod fill_counts {
    use super::*;
    use memnet_graph::{GenSpec, GraphKind, Topology, generate};

    fn solver(kind: GraphKind, ordering: Ordering) -> NodalSolver {
        let mut s = GenSpec::new(kind);
        s.seed = 3;
        let net = generate(&s).expect("network");
        NodalSolver::new(&Topology::new(&net), ordering).expect("solver")
    }

    /// The fills `Auto` compares are those of the factors: AMD's count is
    /// its elimination tree's column counts (to 1%), and both are what the
    /// supernodal analysis stores, less the zeros its supernodes pad in.
    #[test]
    fn counted_fill_is_the_factors() {
        let kinds = [
            GraphKind::Grid {
                rows: 40,
                cols: 40,
                diagonals: false,
            },
            GraphKind::Grid {
                rows: 25,
                cols: 31,
                diagonals: true,
            },
            GraphKind::RandomGeometric {
                n: 900,
                radius: 0.06,
            },
            GraphKind::RandomConnected {
                n: 300,
                p_extra: 0.01,
            },
        ];
        for kind in kinds {
            let s = solver(kind.clone(), Ordering::Amd);
            let a = s.pattern.symbolic.as_ref();
            let (amd, amd_fill) = amd_order(a).expect("amd");
            // AMD's own count can exceed its factor's by the odd entry
            // (measured: 6 of 10 817 on the geometric graph, none on grids).
            let exact = fill_under(a, &amd.1);
            assert!(
                exact <= amd_fill && amd_fill as f64 <= 1.01 * exact as f64,
                "{kind:?}: {amd_fill} against {exact}"
            );
            let sym = s.symbolic_under(&amd).expect("symbolic");
            assert!(
                exact <= sym.len_val() && sym.len_val() <= 2 * exact,
                "{kind:?}"
            );
            let nd = crate::ordering::nested_dissection(s.n_unknowns, a.col_ptr(), a.row_idx());
            let nd_fill = fill_under(a, &nd.1);
            let sym = s.symbolic_under(&nd).expect("symbolic");
            assert!(
                nd_fill <= sym.len_val() && sym.len_val() <= 2 * nd_fill,
                "{kind:?}"
            );
            assert!(nd_fill >= s.n_unknowns, "{kind:?}");
        }
    }
}

#[cfg(test)]
impl NodalSolver {
    /// A solver (AMD) for each generated graph, seeds from `seed0` on.
    fn on_graphs(
        kinds: impl IntoIterator<Item = memnet_graph::GraphKind>,
        seed0: u64,
    ) -> impl Iterator<Item = (memnet_graph::GraphKind, NodalSolver)> {
        kinds.into_iter().zip(seed0..).map(|(kind, seed)| {
            let mut spec = memnet_graph::GenSpec::new(kind.clone());
            spec.seed = seed;
            let net = memnet_graph::generate(&spec).expect("network");
            let s = NodalSolver::new(&memnet_graph::Topology::new(&net), Ordering::Amd)
                .expect("solver");
            (kind, s)
        })
    }

    /// max |L phi - b| / max |b| for the present conductances and
    /// potentials, b from node injections alone.
    fn injection_residual(&self, injection: &[f64]) -> f64 {
        let mut b = vec![0.0; self.n_unknowns];
        for (v, &j) in injection.iter().enumerate() {
            if let Some(u) = self.node_unknown(v) {
                b[u] += j;
            }
        }
        let mut lphi = vec![0.0; self.n_unknowns];
        Self::apply_laplacian(&self.g, &self.tail_u, &self.head_u, &self.phi, &mut lphi);
        let r = lphi
            .iter()
            .zip(&b)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        r / b.iter().map(|x| x.abs()).fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod indefinite_fallback {
    use super::*;
    use memnet_graph::GraphKind;

    /// With negative conductances on some edges the matrix is indefinite:
    /// Cholesky fails, and with the fallback allowed the LU's potentials
    /// satisfy L phi = b to round-off; positive conductances afterwards
    /// go back to Cholesky. Several graphs, fixed seeds.
    #[test]
    fn an_indefinite_matrix_is_solved_by_lu() {
        let kinds = [
            GraphKind::Grid {
                rows: 12,
                cols: 12,
                diagonals: true,
            },
            GraphKind::RandomConnected {
                n: 200,
                p_extra: 0.02,
            },
            GraphKind::RandomGeometric {
                n: 300,
                radius: 0.1,
            },
        ];
        for (seed, (kind, mut s)) in NodalSolver::on_graphs(kinds, 11).enumerate() {
            let (n, m) = (s.n_nodes(), s.n_edges());
            // Fixed pseudo-random conductances in [0.5, 1.5], every
            // seventh edge -4 (a negative slope, as of an NDR body).
            let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ seed as u64;
            let mut next = || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 11) as f64 / (1u64 << 53) as f64
            };
            let positive: Vec<f64> = (0..m).map(|_| 0.5 + next()).collect();
            let negative: Vec<f64> = positive
                .iter()
                .enumerate()
                .map(|(k, &g)| if k % 7 == 3 { -4.0 } else { g })
                .collect();
            let injection: Vec<f64> = (0..n).map(|_| next() - 0.5).collect();
            let sources = NodalSources {
                series: &[],
                injection: &injection,
                constraints: &[],
            };
            let mut current = vec![0.0; m];

            s.conductances_mut().copy_from_slice(&negative);
            assert!(
                s.factor().is_err(),
                "{kind:?}: Cholesky of an indefinite matrix"
            );
            s.allow_indefinite(true);
            s.factor().expect("LU");
            assert!(s.factor_is_lu(), "{kind:?}");
            s.solve(&sources, &mut current);
            let r = s.injection_residual(&injection);
            assert!(r < 1e-10, "{kind:?}: LU residual {r:e}");

            s.conductances_mut().copy_from_slice(&positive);
            s.factor().expect("Cholesky");
            assert!(!s.factor_is_lu(), "{kind:?}: definite again");
            s.solve(&sources, &mut current);
            let r = s.injection_residual(&injection);
            assert!(r < 1e-10, "{kind:?}: Cholesky residual {r:e}");
        }
    }
}

#[cfg(test)]
mod warm_start {
    use super::*;
    use memnet_graph::GraphKind;

    /// With a reused factor, CG starts from the last potentials. When the
    /// sources jump (here the injections turn over and grow tenfold) that
    /// start is worse than none, and CG starts from the old factor's
    /// solution instead; either way the potentials meet the tolerance. A
    /// small change of the sources keeps the warm start. Two graphs, fixed
    /// seeds.
    #[test]
    fn a_jump_of_the_sources_drops_the_warm_start_and_still_solves() {
        let kinds = [
            GraphKind::Grid {
                rows: 15,
                cols: 15,
                diagonals: false,
            },
            GraphKind::RandomConnected {
                n: 300,
                p_extra: 0.01,
            },
        ];
        for (kind, mut s) in NodalSolver::on_graphs(kinds, 5) {
            s.set_factor_reuse(Some(FactorReuse {
                max_iter: 50,
                ..FactorReuse::default()
            }));
            let (n, m) = (s.n_nodes(), s.n_edges());
            let g0: Vec<f64> = (0..m)
                .map(|k| 1.0 + 0.5 * ((k * 7919) % 13) as f64 / 13.0)
                .collect();
            let b0: Vec<f64> = (0..n)
                .map(|v| ((v * 104_729) % 17) as f64 / 17.0 - 0.5)
                .collect();
            let mut current = vec![0.0; m];
            let mut solve = |s: &mut NodalSolver, g: &[f64], b: &[f64]| {
                s.conductances_mut().copy_from_slice(g);
                s.factor().expect("definite");
                let sources = NodalSources {
                    series: &[],
                    injection: b,
                    constraints: &[],
                };
                s.solve(&sources, &mut current);
                s.injection_residual(b)
            };
            let rejected = |s: &NodalSolver| s.pcg.as_ref().unwrap().warm_rejected;
            assert!(solve(&mut s, &g0, &b0) < 1e-12, "{kind:?}: direct");
            // Conductances move a little: the factor is reused from here on.
            let g1: Vec<f64> = g0
                .iter()
                .enumerate()
                .map(|(k, g)| g * (1.0 + 0.01 * (k % 3) as f64))
                .collect();
            let b1: Vec<f64> = b0.iter().map(|b| 1.01 * b).collect();
            let r = solve(&mut s, &g1, &b1);
            assert!(r < 1e-11, "{kind:?}: warm residual {r:e}");
            assert_eq!(
                rejected(&s),
                0,
                "{kind:?}: a small change keeps the warm start"
            );
            let b2: Vec<f64> = b1.iter().map(|b| -10.0 * b).collect();
            let r = solve(&mut s, &g1, &b2);
            assert!(r < 1e-11, "{kind:?}: residual after the jump {r:e}");
            assert_eq!(rejected(&s), 1, "{kind:?}: the jump drops the warm start");
            let (iterations, solves) = s.reuse_counts();
            assert!(
                solves == 2 && iterations > 0,
                "{kind:?}: {solves} reused solves"
            );
        }
    }
}
