//! Circuit quantities whose Lyapunov functional is the QUBO energy
//! (docs/optimize.md, "The mapping"; apps.md A.2): a symmetric positive
//! semidefinite Omega and a drive b = Omega S for the memory equation
//!
//!   dw/dt = alpha w - (1/beta) (I + xi Omega W)^{-1} b,
//!
//! whose functional (theory.md 4.6(b))
//!
//!   L(w) = -(alpha/3) sum w^3 - (alpha xi/4) sum_jk w_j^2 Omega_jk w_k^2
//!          + (1/(2 beta)) sum b_k w_k^2
//!
//! equals E(x) - c0 at every corner x of the cube. Omega has the sparsity
//! of J plus its diagonal; nothing dense is formed.

use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::problem::Qubo;

/// The memory equation's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Params {
    pub alpha: f64,
    pub beta: f64,
    pub xi: f64,
}

impl Default for Params {
    /// The published solver's values (apps.md A.5(ii)).
    fn default() -> Params {
        Params {
            alpha: 0.2,
            beta: 0.2,
            xi: 1.0,
        }
    }
}

/// How Omega's diagonal c is chosen (apps.md A.3).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "rule", content = "value")]
pub enum DiagonalRule {
    /// c = max(0, -lambda_min(Omega off the diagonal)) + margin, lambda_min
    /// by Lanczos (exact when the Krylov space is the whole space).
    Lanczos,
    /// c = max_k sum_{j != k} |Omega_jk|: always PSD, larger than needed.
    Gershgorin,
    /// A given c (it must keep Omega PSD; not checked beyond CG).
    Value(f64),
    /// c = -lambda_min(Omega off the diagonal) - theta / xi, theta in [0, 1),
    /// exact mapping only: Omega itself is indefinite, with lambda_min(Omega)
    /// = -theta / xi. On the cube I + xi R Omega R (R = diag(sqrt(w))) keeps
    /// its eigenvalues at or above 1 - theta, so the metric
    /// W + xi W Omega W = R (I + xi R Omega R) R stays PSD (docs/optimize.md,
    /// "The metric rule").
    Metric(f64),
}

/// Which formulas map the problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MappingKind {
    /// The exact mapping of apps.md A.2 (memnet's default).
    Exact,
    /// The Invenia blog's formulas (apps.md A.5(i)): coupling of the wrong
    /// sign and linear coefficients alpha/2, alpha xi/3, 1/beta that do not
    /// match the functional's corner values. For reproduction only.
    Published,
    /// `ls_mem.jl` as called (apps.md A.5(ii)): the published formulas
    /// with the mapping's xi and beta swapped. For reproduction only.
    LsMem,
}

/// A mapped problem: Omega (off-diagonal in compressed rows, diagonal c)
/// and the drive b, for the coefficients divided by `scale`.
#[derive(Clone, Debug)]
pub struct Mapping {
    pub kind: MappingKind,
    /// The parameters the mapping was made for (alpha_m of A.6(6)).
    pub params: Params,
    pub rule: DiagonalRule,
    /// Omega_kk.
    pub c: f64,
    /// The estimate of lambda_min(Omega off the diagonal), when computed.
    pub lambda_min: Option<f64>,
    /// The problem's coefficients were divided by this.
    pub scale: f64,
    pub b: Vec<f64>,
    row_ptr: Vec<usize>,
    cols: Vec<usize>,
    vals: Vec<f64>,
}

/// A mapping that cannot be made.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MapError {
    #[error("{0}")]
    Parameter(String),
}

impl Mapping {
    /// Maps `q` (coefficients divided by `scale`) with `kind`'s formulas.
    pub fn new(
        q: &Qubo,
        kind: MappingKind,
        params: Params,
        rule: DiagonalRule,
        scale: f64,
    ) -> Result<Mapping, MapError> {
        let Params { alpha, beta, xi } = params;
        for (name, v) in [
            ("alpha", alpha),
            ("beta", beta),
            ("xi", xi),
            ("scale", scale),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(MapError::Parameter(format!(
                    "{name} = {v}: the mapping needs it positive and finite"
                )));
            }
        }
        // The mapping's own xi and beta (ls_mem.jl swaps them).
        let (xi_m, beta_m) = match kind {
            MappingKind::LsMem => (beta, xi),
            _ => (xi, beta),
        };
        let coupling = match kind {
            // Omega_jk = -2 J_jk / (alpha xi)
            MappingKind::Exact => -2.0 / (alpha * xi_m * scale),
            // Omega_jk = +J_jk / (2 alpha xi): Q = J/2, called with -Q
            MappingKind::Published | MappingKind::LsMem => 0.5 / (alpha * xi_m * scale),
        };
        let n = q.n();
        let mut row_ptr = Vec::with_capacity(n + 1);
        let mut cols = Vec::with_capacity(2 * q.n_pairs());
        let mut vals = Vec::with_capacity(2 * q.n_pairs());
        row_ptr.push(0);
        for i in 0..n {
            for (j, v) in q.row(i) {
                cols.push(j);
                vals.push(coupling * v);
            }
            row_ptr.push(cols.len());
        }
        let mut m = Mapping {
            kind,
            params,
            rule,
            c: 0.0,
            lambda_min: None,
            scale,
            b: Vec::new(),
            row_ptr,
            cols,
            vals,
        };
        let c = match rule {
            DiagonalRule::Value(c) => {
                if !(c.is_finite() && c >= 0.0) {
                    return Err(MapError::Parameter(format!(
                        "diagonal c = {c}: it must be finite and non-negative"
                    )));
                }
                c
            }
            DiagonalRule::Gershgorin => (0..n)
                .map(|i| {
                    m.vals[m.row_ptr[i]..m.row_ptr[i + 1]]
                        .iter()
                        .map(|v| v.abs())
                        .sum()
                })
                .fold(0.0f64, f64::max),
            DiagonalRule::Lanczos | DiagonalRule::Metric(_) => {
                let theta = match rule {
                    DiagonalRule::Metric(theta) => {
                        if !(0.0..1.0).contains(&theta) {
                            return Err(MapError::Parameter(format!(
                                "metric theta = {theta}: it must be in [0, 1)"
                            )));
                        }
                        if kind != MappingKind::Exact {
                            return Err(MapError::Parameter(
                                "the metric diagonal is for the exact mapping (the published \
                                 ones scale Omega differently)"
                                    .into(),
                            ));
                        }
                        theta
                    }
                    _ => 0.0,
                };
                let (lmin, bound) = m.lambda_min_offdiag();
                m.lambda_min = Some(lmin);
                match kind {
                    // ls_mem.jl takes -lambda_min exactly.
                    MappingKind::Published | MappingKind::LsMem => (-lmin).max(0.0),
                    // The reference runs' margin, plus the Ritz residual
                    // (an eigenvalue lies within it of the estimate); the
                    // metric rule lowers it by theta / xi.
                    MappingKind::Exact => (-lmin).max(0.0) + bound + 1e-9 - theta / xi,
                }
            }
        };
        m.c = c;
        m.b = (0..n)
            .map(|k| {
                let h = q.h[k] / scale;
                match kind {
                    MappingKind::Exact => 2.0 * beta * (h + alpha / 3.0 + alpha * xi * c / 4.0),
                    MappingKind::Published | MappingKind::LsMem => {
                        beta_m * (alpha / 2.0 + alpha * xi_m * c / 3.0 + h)
                    }
                }
            })
            .collect();
        Ok(m)
    }

    /// Number of variables.
    pub fn n(&self) -> usize {
        self.row_ptr.len() - 1
    }

    /// Stored off-diagonal entries (both triangles).
    pub fn nnz_offdiag(&self) -> usize {
        self.vals.len()
    }

    /// out = Omega_offdiag v.
    pub fn offdiag_times(&self, v: &[f64], out: &mut [f64]) {
        for (i, o) in out.iter_mut().enumerate().take(self.n()) {
            let r = self.row_ptr[i]..self.row_ptr[i + 1];
            *o = self.cols[r.clone()]
                .iter()
                .zip(&self.vals[r])
                .map(|(&j, &a)| a * v[j])
                .sum();
        }
    }

    /// out = Omega v (diagonal c included).
    pub fn omega_times(&self, v: &[f64], out: &mut [f64]) {
        self.offdiag_times(v, out);
        for (o, &x) in out.iter_mut().zip(v) {
            *o += self.c * x;
        }
    }

    /// Omega_jk, for dense checks in tests (O(degree)).
    pub fn omega(&self, j: usize, k: usize) -> f64 {
        if j == k {
            return self.c;
        }
        let r = self.row_ptr[j]..self.row_ptr[j + 1];
        match self.cols[r.clone()].binary_search(&k) {
            Ok(p) => self.vals[r.start + p],
            Err(_) => 0.0,
        }
    }

    /// The exact functional L(w) (theory.md 4.6(b)) of the dynamics with
    /// parameter `alpha` (the mapping's unless a schedule moves it) and
    /// drive `s` b (s = 1 unless a schedule scales it). `scratch` has 2n
    /// entries.
    pub fn lyapunov(&self, w: &[f64], alpha: f64, s: f64, scratch: &mut [f64]) -> f64 {
        let Params { beta, xi, .. } = self.params;
        let (w2, scratch) = scratch.split_at_mut(self.n());
        for (a, x) in w2.iter_mut().zip(w) {
            *a = x * x;
        }
        self.omega_times(w2, scratch);
        let mut l = 0.0;
        for k in 0..self.n() {
            l += -(alpha / 3.0) * w[k] * w2[k] - (alpha * xi / 4.0) * w2[k] * scratch[k]
                + s * self.b[k] * w2[k] / (2.0 * beta);
        }
        l
    }

    /// lambda_min of Omega off the diagonal by Lanczos with full
    /// reorthogonalisation (at most 80 steps; exact when that spans the
    /// space), and the residual norm of its Ritz pair.
    fn lambda_min_offdiag(&self) -> (f64, f64) {
        let n = self.n();
        if n == 0 || self.vals.is_empty() {
            return (0.0, 0.0);
        }
        let steps = n.min(80);
        // A fixed start: the mapping is a function of the problem alone.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x006c_616e_637a_6f73);
        let mut v: Vec<f64> = (0..n).map(|_| rng.random::<f64>() - 0.5).collect();
        normalise(&mut v);
        let mut basis: Vec<Vec<f64>> = Vec::with_capacity(steps);
        let (mut diag, mut off) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
        let mut w = vec![0.0; n];
        let mut last_beta = 0.0;
        for step in 0..steps {
            self.offdiag_times(&v, &mut w);
            let a = dot(&w, &v);
            diag.push(a);
            basis.push(v.clone());
            // Full reorthogonalisation (twice is enough, Kahan-Parlett).
            for _ in 0..2 {
                for q in &basis {
                    let p = dot(&w, q);
                    for (x, y) in w.iter_mut().zip(q) {
                        *x -= p * y;
                    }
                }
            }
            let b = dot(&w, &w).sqrt();
            last_beta = b;
            if b <= 1e-12 * (a.abs() + off.last().copied().unwrap_or(0.0)).max(1e-300)
                || step + 1 == steps
            {
                break;
            }
            off.push(b);
            v.iter_mut().zip(&w).for_each(|(x, y)| *x = y / b);
        }
        let k = diag.len();
        let t = faer::Mat::<f64>::from_fn(k, k, |i, j| {
            if i == j {
                diag[i]
            } else if i == j + 1 {
                off[j]
            } else if j == i + 1 {
                off[i]
            } else {
                0.0
            }
        });
        let Ok(eig) = t.self_adjoint_eigen(faer::Side::Lower) else {
            // Not expected for a small symmetric tridiagonal matrix; the
            // Gershgorin bound is then a safe answer.
            let g = (0..n)
                .map(|i| {
                    self.vals[self.row_ptr[i]..self.row_ptr[i + 1]]
                        .iter()
                        .map(|v| v.abs())
                        .sum()
                })
                .fold(0.0f64, f64::max);
            return (-g, 0.0);
        };
        let s = eig.S();
        let u = eig.U();
        let (mut best, mut at) = (f64::INFINITY, 0);
        for i in 0..k {
            if s[i] < best {
                best = s[i];
                at = i;
            }
        }
        let exact = k == n;
        let residual = if exact {
            0.0
        } else {
            (last_beta * u[(k - 1, at)]).abs()
        };
        (best, residual)
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalise(v: &mut [f64]) {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}
