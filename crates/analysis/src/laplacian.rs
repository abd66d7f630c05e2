//! Grounded (reduced) weighted Laplacian L_r = B_r diag(g) B_r^T and its
//! sparse Cholesky factor (theory.md 3.3 item 4). The symbolic analysis is
//! done once per topology; each [`Laplacian::factor`] only refreshes values.

use faer::Side;
use faer::linalg::solvers::Solve;
use faer::sparse::linalg::solvers::{Llt, SymbolicLlt};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMat};

use crate::error::AnalysisError;
use crate::model::Topo;

pub struct Laplacian {
    n: usize,
    symbolic: SymbolicSparseColMat<usize>,
    sym_llt: Option<SymbolicLlt<usize>>,
    /// Per edge: value slots of (tail,tail), (head,head), (max,min) in the
    /// lower triangle; `None` where an end is ground or the edge is a loop.
    slots: Vec<[Option<usize>; 3]>,
    /// Reduced indices of (tail, head) per edge.
    ends: Vec<(Option<usize>, Option<usize>)>,
    values: Vec<f64>,
    llt: Option<Llt<usize, f64>>,
}

impl Laplacian {
    /// Pattern of B_r diag(g) B_r^T for edges (tail, head) of `topo`.
    pub fn new(topo: &Topo, edges: &[(usize, usize)]) -> Result<Self, AnalysisError> {
        let n = topo.n_reduced;
        let ends: Vec<(Option<usize>, Option<usize>)> = edges
            .iter()
            .map(|&(t, h)| (topo.reduced[t], topo.reduced[h]))
            .collect();
        // Lower-triangle pattern, column by column.
        let mut cols: Vec<Vec<usize>> = (0..n).map(|j| vec![j]).collect();
        for &(a, b) in &ends {
            if let (Some(a), Some(b)) = (a, b)
                && a != b
            {
                cols[a.min(b)].push(a.max(b));
            }
        }
        let mut col_ptr = Vec::with_capacity(n + 1);
        let mut row_idx = Vec::new();
        col_ptr.push(0);
        for c in &mut cols {
            c.sort_unstable();
            c.dedup();
            row_idx.extend_from_slice(c);
            col_ptr.push(row_idx.len());
        }
        drop(cols);
        let find = |row: usize, col: usize| -> Option<usize> {
            let (lo, hi) = (col_ptr[col], col_ptr[col + 1]);
            row_idx[lo..hi].binary_search(&row).ok().map(|p| lo + p)
        };
        let slots: Vec<[Option<usize>; 3]> = ends
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    return [None, None, None];
                }
                let da = a.and_then(|a| find(a, a));
                let db = b.and_then(|b| find(b, b));
                let off = match (a, b) {
                    (Some(a), Some(b)) => find(a.max(b), a.min(b)),
                    _ => None,
                };
                [da, db, off]
            })
            .collect();
        let nnz = row_idx.len();
        let symbolic = SymbolicSparseColMat::new_checked(n, n, col_ptr, None, row_idx);
        let sym_llt = if n > 0 {
            Some(
                SymbolicLlt::try_new(symbolic.as_ref(), Side::Lower).map_err(|e| {
                    AnalysisError::Numerical(format!("symbolic Cholesky of the Laplacian: {e:?}"))
                })?,
            )
        } else {
            None
        };
        Ok(Laplacian {
            n,
            symbolic,
            sym_llt,
            slots,
            ends,
            values: vec![0.0; nnz],
            llt: None,
        })
    }

    pub fn n_reduced(&self) -> usize {
        self.n
    }

    /// Reduced indices of the ends of edge k.
    pub fn ends(&self, k: usize) -> (Option<usize>, Option<usize>) {
        self.ends[k]
    }

    /// Factor B_r diag(g) B_r^T. Fails if it is not positive definite
    /// (some conductance not positive).
    pub fn factor(&mut self, g: &[f64]) -> Result<(), AnalysisError> {
        self.values.iter_mut().for_each(|v| *v = 0.0);
        for (slot, &gk) in self.slots.iter().zip(g) {
            if let Some(p) = slot[0] {
                self.values[p] += gk;
            }
            if let Some(p) = slot[1] {
                self.values[p] += gk;
            }
            if let Some(p) = slot[2] {
                self.values[p] -= gk;
            }
        }
        let Some(sym) = &self.sym_llt else {
            return Ok(());
        };
        let mat = SparseColMatRef::new(self.symbolic.as_ref(), &self.values);
        let llt = Llt::try_new_with_symbolic(sym.clone(), mat, Side::Lower).map_err(|_| {
            AnalysisError::Numerical(
                "the weighted Laplacian is not positive definite (a device has a \
                 non-positive resistance at this state)"
                    .into(),
            )
        })?;
        self.llt = Some(llt);
        Ok(())
    }

    /// Solves L_r phi = rhs in place (after [`Laplacian::factor`]).
    pub fn solve_in_place(&self, rhs: &mut [f64]) {
        if let Some(llt) = &self.llt {
            let col = faer::ColMut::from_slice_mut(rhs);
            llt.solve_in_place(col.as_mat_mut());
        }
    }

    /// Solves for several right-hand sides stored column-major (n x k).
    pub fn solve_many_in_place(&self, rhs: &mut [f64], k: usize) {
        if let Some(llt) = &self.llt {
            let m = faer::MatMut::from_column_major_slice_mut(rhs, self.n, k);
            llt.solve_in_place(m);
        }
    }
}

/// The implicit projectors of theory.md 3.3 item 4:
/// Omega_{B^T} y = B_r^T (B_r B_r^T)^{-1} B_r y and Omega_A y = y - Omega_{B^T} y,
/// one unweighted Laplacian solve each, never a dense M x M matrix.
pub struct Projector {
    lap: Laplacian,
    ends: Vec<(Option<usize>, Option<usize>)>,
}

impl Projector {
    pub fn new(topo: &Topo, edges: &[(usize, usize)]) -> Result<Self, AnalysisError> {
        let mut lap = Laplacian::new(topo, edges)?;
        lap.factor(&vec![1.0; edges.len()])?;
        let ends = (0..edges.len()).map(|k| lap.ends(k)).collect();
        Ok(Projector { lap, ends })
    }

    /// B_r y (reduced node vector).
    pub fn incidence_apply(&self, y: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.lap.n_reduced()];
        for (&(a, b), &yk) in self.ends.iter().zip(y) {
            if a == b {
                continue;
            }
            if let Some(a) = a {
                out[a] += yk;
            }
            if let Some(b) = b {
                out[b] -= yk;
            }
        }
        out
    }

    /// Omega_{B^T} y: projection onto the cut space range(B^T) (theory.md 2.4).
    pub fn apply_omega_bt(&self, y: &[f64]) -> Vec<f64> {
        let mut phi = self.incidence_apply(y);
        self.lap.solve_in_place(&mut phi);
        self.ends
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    return 0.0;
                }
                a.map_or(0.0, |a| phi[a]) - b.map_or(0.0, |b| phi[b])
            })
            .collect()
    }

    /// Omega_A y: projection onto the cycle space (theory.md 2.4, 3.3 item 4).
    pub fn apply_omega(&self, y: &[f64]) -> Vec<f64> {
        let p = self.apply_omega_bt(y);
        y.iter().zip(&p).map(|(a, b)| a - b).collect()
    }
}
