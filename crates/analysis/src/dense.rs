//! Dense linear algebra of the theory for small networks: incidence B,
//! cycle basis A, projectors Omega_A and Omega_{B^T} (theory.md 2.2-2.4),
//! the memory kernel K(w) = (I + xi Omega W)^{-1} Omega (3.2-3.3).

use faer::linalg::solvers::{DenseSolveCore, Solve};
use faer::{Mat, MatRef, Side};

use crate::error::AnalysisError;
use crate::model::Topo;

/// Full incidence matrix B (N x M): +1 at the tail, -1 at the head, a zero
/// column for a self-loop (theory.md 2.2).
pub fn incidence(n_nodes: usize, edges: &[(usize, usize)]) -> Mat<f64> {
    let mut b = Mat::zeros(n_nodes, edges.len());
    for (k, &(t, h)) in edges.iter().enumerate() {
        if t != h {
            b[(t, k)] = 1.0;
            b[(h, k)] = -1.0;
        }
    }
    b
}

/// Reduced incidence B_r: B without the ground row of each component.
pub fn reduced_incidence(topo: &Topo, edges: &[(usize, usize)]) -> Mat<f64> {
    let mut b = Mat::zeros(topo.n_reduced, edges.len());
    for (k, &(t, h)) in edges.iter().enumerate() {
        if t == h {
            continue;
        }
        if let Some(r) = topo.reduced[t] {
            b[(r, k)] = 1.0;
        }
        if let Some(r) = topo.reduced[h] {
            b[(r, k)] = -1.0;
        }
    }
    b
}

/// Fundamental cycle basis A (L x M), theory.md 2.3: a BFS spanning forest;
/// each chord e = (u -> v) gives a row with +1 on e and the tree path from v
/// back to u, signed by traversal direction. Self-loops are cycles alone.
pub fn cycle_basis(topo: &Topo, edges: &[(usize, usize)]) -> Mat<f64> {
    let n = topo.n_nodes;
    let mut adj: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (k, &(t, h)) in edges.iter().enumerate() {
        if t != h {
            adj[t].push((h, k));
            adj[h].push((t, k));
        }
    }
    let mut parent: Vec<Option<(usize, usize)>> = vec![None; n];
    let mut depth = vec![usize::MAX; n];
    let mut in_tree = vec![false; edges.len()];
    for root in 0..n {
        if depth[root] != usize::MAX {
            continue;
        }
        depth[root] = 0;
        let mut queue = std::collections::VecDeque::from([root]);
        while let Some(u) = queue.pop_front() {
            for &(v, k) in &adj[u] {
                if depth[v] == usize::MAX {
                    depth[v] = depth[u] + 1;
                    parent[v] = Some((u, k));
                    in_tree[k] = true;
                    queue.push_back(v);
                }
            }
        }
    }
    let chords: Vec<usize> = (0..edges.len()).filter(|&k| !in_tree[k]).collect();
    let mut a = Mat::zeros(chords.len(), edges.len());
    for (c, &e) in chords.iter().enumerate() {
        a[(c, e)] = 1.0;
        let (u, v) = edges[e];
        if u == v {
            continue;
        }
        // Walk from v to u: v climbs to the common ancestor, then descend to u.
        // Traversing tree edge k from x to y counts +1 if k = (x -> y).
        let (mut x, mut y) = (v, u);
        let mut down: Vec<(usize, usize, usize)> = Vec::new();
        while x != y {
            if depth[x] >= depth[y] {
                if let Some((px, k)) = parent[x] {
                    a[(c, k)] += if edges[k] == (x, px) { 1.0 } else { -1.0 };
                    x = px;
                }
            } else if let Some((py, k)) = parent[y] {
                down.push((py, y, k));
                y = py;
            }
        }
        for (from, to, k) in down {
            a[(c, k)] += if edges[k] == (from, to) { 1.0 } else { -1.0 };
        }
    }
    a
}

/// Omega_{B^T} = B_r^T (B_r B_r^T)^{-1} B_r (theory.md 2.4).
pub fn omega_bt(b_r: MatRef<'_, f64>) -> Result<Mat<f64>, AnalysisError> {
    let m = b_r.ncols();
    if b_r.nrows() == 0 {
        return Ok(Mat::zeros(m, m));
    }
    let lap = b_r * b_r.transpose();
    let llt = lap
        .llt(Side::Lower)
        .map_err(|_| AnalysisError::Numerical("reduced Laplacian is singular".into()))?;
    let x = llt.solve(b_r);
    Ok(b_r.transpose() * &x)
}

/// Omega_A = I - Omega_{B^T} (theory.md 2.4; Caravelli's own construction).
pub fn omega_from_bt(omega_bt: MatRef<'_, f64>) -> Mat<f64> {
    let m = omega_bt.nrows();
    Mat::from_fn(m, m, |i, j| f64::from(u8::from(i == j)) - omega_bt[(i, j)])
}

/// Omega_A = A^T (A A^T)^{-1} A from any cycle basis (theory.md 2.4).
pub fn omega_from_cycles(a: MatRef<'_, f64>) -> Result<Mat<f64>, AnalysisError> {
    let m = a.ncols();
    if a.nrows() == 0 {
        return Ok(Mat::zeros(m, m));
    }
    let gram = a * a.transpose();
    let llt = gram
        .llt(Side::Lower)
        .map_err(|_| AnalysisError::Numerical("cycle rows are linearly dependent".into()))?;
    let x = llt.solve(a);
    Ok(a.transpose() * &x)
}

/// K(w) = (I + xi Omega W)^{-1} Omega (theory.md 3.2), by an LU solve so it
/// also works for states with negative resistances (E5). Fails if
/// I + xi Omega W is numerically singular.
pub fn memory_kernel(
    omega: MatRef<'_, f64>,
    w: &[f64],
    xi: f64,
) -> Result<Mat<f64>, AnalysisError> {
    let m = omega.nrows();
    if w.len() != m {
        return Err(AnalysisError::Invalid(format!(
            "state has {} entries, Omega is {m} x {m}",
            w.len()
        )));
    }
    let lhs = Mat::from_fn(m, m, |i, j| {
        f64::from(u8::from(i == j)) + xi * omega[(i, j)] * w[j]
    });
    let lu = lhs.full_piv_lu();
    let k = lu.solve(omega);
    // A singular I + xi Omega W shows up as non-finite or inconsistent output.
    let resid = (&lhs * &k - omega).norm_max();
    if !resid.is_finite() || resid > 1e-8 * (1.0 + omega.norm_max() * k.norm_max()) {
        return Err(AnalysisError::Numerical(format!(
            "I + xi Omega W is singular at this state (residual {resid:.3e})"
        )));
    }
    Ok(k)
}

/// Orthonormal basis Q (M x L) of range(Omega), Omega = Q Q^T
/// (theory.md 4.1), from the eigenvectors with eigenvalue 1.
pub fn range_basis(omega: MatRef<'_, f64>) -> Result<Mat<f64>, AnalysisError> {
    let m = omega.nrows();
    let evd = omega
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| AnalysisError::Numerical(format!("eigendecomposition of Omega: {e:?}")))?;
    let s = evd.S();
    let u = evd.U();
    let cols: Vec<usize> = (0..m).filter(|&i| s[i] > 0.5).collect();
    Ok(Mat::from_fn(m, cols.len(), |i, j| u[(i, cols[j])]))
}

/// Inverse of a small square matrix (used for M_1^{-1} in theory.md 4.3).
pub fn inverse(a: MatRef<'_, f64>) -> Mat<f64> {
    a.full_piv_lu().inverse()
}

/// y = M x for a dense matrix and a slice.
pub fn mat_vec(m: MatRef<'_, f64>, x: &[f64]) -> Vec<f64> {
    (0..m.nrows())
        .map(|i| (0..m.ncols()).map(|j| m[(i, j)] * x[j]).sum())
        .collect()
}

/// max_i |a_i - b_i|.
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

pub fn max_abs(a: &[f64]) -> f64 {
    a.iter().map(|x| x.abs()).fold(0.0, f64::max)
}
