//! The canonical problem (docs/optimize.md, "Problems"; apps.md A.1):
//! minimise
//!
//!   E(x) = sum_i h_i x_i + sum_{i<j} J_ij x_i x_j + c0,   x in {0,1}^n,
//!
//! with J symmetric, zero on the diagonal and stored once per unordered
//! pair, J_ij the coefficient of the pair (not half of it). Ising and
//! max-cut problems are converted into it exactly; `c0` keeps energies in
//! the file's own units.

use serde::Serialize;

/// What a file asked for, so that results are reported in its terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A 0/1 problem to minimise (memnet's format, bqpjson boolean).
    Qubo,
    /// An OR-Library bqp instance: maximise f = x^T Q x (apps.md A.8).
    Bqp,
    /// A +-1 problem, s = 2x - 1 (s = +1 is x = 1).
    Ising,
    /// Maximise the weight of the cut; E = -cut.
    MaxCut,
}

/// A problem in canonical form, with its local-field structure.
#[derive(Clone, Debug)]
pub struct Qubo {
    /// h_i.
    pub h: Vec<f64>,
    /// The constant c0.
    pub c0: f64,
    /// Whether the file's objective is maximised (its value is then -E).
    pub maximize: bool,
    pub kind: Kind,
    /// Symmetric adjacency of J in compressed rows: the pairs of row i are
    /// `cols[row_ptr[i]..row_ptr[i+1]]`, sorted, with values `vals`; each
    /// pair appears in both rows.
    row_ptr: Vec<usize>,
    cols: Vec<usize>,
    vals: Vec<f64>,
}

/// A problem that cannot be built: a pair on the diagonal, an index out
/// of range, a coefficient that is not finite.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProblemError {
    #[error("variable {index} is out of range (the problem has {n} variables)")]
    OutOfRange { index: usize, n: usize },
    #[error("coefficient {value} of {what} is not finite")]
    NotFinite { what: String, value: f64 },
}

impl Qubo {
    /// Builds the canonical form from linear terms and pairs (i, j, J_ij),
    /// i != j; the coefficients of a pair given more than once are added
    /// (the callers decide whether the format allows that), zero pairs are
    /// dropped.
    pub fn new(
        h: Vec<f64>,
        pairs: &[(usize, usize, f64)],
        c0: f64,
        maximize: bool,
        kind: Kind,
    ) -> Result<Qubo, ProblemError> {
        let n = h.len();
        for (i, &v) in h.iter().enumerate() {
            if !v.is_finite() {
                return Err(ProblemError::NotFinite {
                    what: format!("linear term {i}"),
                    value: v,
                });
            }
        }
        if !c0.is_finite() {
            return Err(ProblemError::NotFinite {
                what: "the offset".into(),
                value: c0,
            });
        }
        let mut both: Vec<(usize, usize, f64)> = Vec::with_capacity(2 * pairs.len());
        for &(i, j, v) in pairs {
            for index in [i, j] {
                if index >= n {
                    return Err(ProblemError::OutOfRange { index, n });
                }
            }
            if !v.is_finite() {
                return Err(ProblemError::NotFinite {
                    what: format!("pair ({i}, {j})"),
                    value: v,
                });
            }
            debug_assert_ne!(i, j, "a pair on the diagonal is a linear term");
            both.push((i, j, v));
            both.push((j, i, v));
        }
        both.sort_unstable_by_key(|&(i, j, _)| (i, j));
        let mut row_ptr = vec![0usize; n + 1];
        let mut cols = Vec::with_capacity(both.len());
        let mut vals: Vec<f64> = Vec::with_capacity(both.len());
        let mut last: Option<(usize, usize)> = None;
        for (i, j, v) in both {
            if last == Some((i, j)) {
                *vals.last_mut().expect("a previous entry") += v;
                continue;
            }
            last = Some((i, j));
            cols.push(j);
            vals.push(v);
            row_ptr[i + 1] = cols.len();
        }
        for i in 0..n {
            row_ptr[i + 1] = row_ptr[i + 1].max(row_ptr[i]);
        }
        let mut q = Qubo {
            h,
            c0,
            maximize,
            kind,
            row_ptr,
            cols,
            vals,
        };
        q.drop_zero_pairs();
        Ok(q)
    }

    fn drop_zero_pairs(&mut self) {
        if self.vals.iter().all(|&v| v != 0.0) {
            return;
        }
        let n = self.n();
        let (mut cols, mut vals, mut row_ptr) = (Vec::new(), Vec::new(), vec![0; n + 1]);
        for i in 0..n {
            for (j, v) in self.row(i) {
                if v != 0.0 {
                    cols.push(j);
                    vals.push(v);
                }
            }
            row_ptr[i + 1] = cols.len();
        }
        (self.cols, self.vals, self.row_ptr) = (cols, vals, row_ptr);
    }

    /// Number of variables.
    pub fn n(&self) -> usize {
        self.h.len()
    }

    /// Number of nonzero pairs (each unordered pair once).
    pub fn n_pairs(&self) -> usize {
        self.cols.len() / 2
    }

    /// The pairs (j, J_ij) of row i, j sorted.
    pub fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let r = self.row_ptr[i]..self.row_ptr[i + 1];
        self.cols[r.clone()]
            .iter()
            .copied()
            .zip(self.vals[r].iter().copied())
    }

    /// Each pair once, i < j.
    pub fn pairs(&self) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        (0..self.n()).flat_map(move |i| {
            self.row(i)
                .filter(move |&(j, _)| j > i)
                .map(move |(j, v)| (i, j, v))
        })
    }

    /// max(max |h_i|, max |J_ij|): the scale by which `--scale` divides.
    pub fn max_coefficient(&self) -> f64 {
        self.h
            .iter()
            .chain(self.vals.iter())
            .fold(0.0f64, |m, v| m.max(v.abs()))
    }

    /// E(x), x_i = 1 where `x[i]`.
    pub fn energy(&self, x: &[bool]) -> f64 {
        let mut e = self.c0;
        for i in 0..self.n() {
            if !x[i] {
                continue;
            }
            e += self.h[i];
            for (j, v) in self.row(i) {
                if j > i && x[j] {
                    e += v;
                }
            }
        }
        e
    }

    /// The file's objective for canonical energy E: -E for a maximised
    /// objective (bqp's x^T Q x, a `sense max` file), E otherwise (max-cut
    /// files report E = -cut here and the cut separately).
    pub fn file_value(&self, energy: f64) -> f64 {
        if self.maximize { -energy } else { energy }
    }

    /// The local fields g_k = h_k + sum_j J_kj x_j; flipping k changes E
    /// by (1 - 2 x_k) g_k (apps.md A.1).
    pub fn local_fields(&self, x: &[bool], g: &mut [f64]) {
        for (k, gk) in g.iter_mut().enumerate().take(self.n()) {
            *gk = self.h[k]
                + self
                    .row(k)
                    .filter(|&(j, _)| x[j])
                    .map(|(_, v)| v)
                    .sum::<f64>();
        }
    }

    /// Sweep rounding (docs/optimize.md, "Dynamics"): the best of the
    /// threshold roundings x_k = [w_k > theta] over every theta, i.e. of
    /// the n + 1 nested corners that switch the components on in
    /// decreasing order of w (the level sets of w). Ties are never split:
    /// a corner is a candidate only where the order has a strict step.
    /// The candidates are compared on a running sum; the chosen corner and
    /// the corner of rounding at 0.5 (one of the candidates) are then
    /// compared exactly, so the result is never worse than 0.5. Writes the
    /// corner to `x` and returns its E. O(nnz + n log n): one pass adds the
    /// components in order, keeping the local fields (apps.md A.1).
    ///
    /// # Panics
    /// If `w` or `x` is not of length n, or w holds a NaN.
    pub fn sweep_round(&self, w: &[f64], scratch: &mut SweepScratch, x: &mut [bool]) -> f64 {
        let n = self.n();
        assert!(w.len() == n && x.len() == n, "one state per variable");
        assert!(w.iter().all(|v| !v.is_nan()), "the state holds a NaN");
        let SweepScratch {
            order,
            fields,
            half,
        } = scratch;
        order.clear();
        order.extend(0..n);
        order.sort_unstable_by(|&a, &b| w[b].total_cmp(&w[a]));
        fields.clear();
        fields.extend_from_slice(&self.h);
        let (mut e, mut best_e, mut best_m) = (self.c0, self.c0, 0);
        for m in 0..n {
            let k = order[m];
            e += fields[k];
            for (j, v) in self.row(k) {
                fields[j] += v;
            }
            let step = m + 1 == n || w[order[m + 1]] < w[k];
            if step && e < best_e {
                best_e = e;
                best_m = m + 1;
            }
        }
        x.fill(false);
        for &k in &order[..best_m] {
            x[k] = true;
        }
        // The running sum carries round-off: settle against 0.5 exactly.
        let e_sweep = self.energy(x);
        half.resize(n, false);
        round_at_half(w, half);
        let e_half = self.energy(half);
        if e_half < e_sweep {
            x.copy_from_slice(half);
            return e_half;
        }
        e_sweep
    }

    /// Steepest-descent 1-flip polish (apps.md A.6 step 5): flips the
    /// variable whose flip lowers E most until none does. Returns the
    /// number of flips. O((n + flips * degree) log n) with a tournament
    /// tree over the gains.
    pub fn polish(&self, x: &mut [bool]) -> usize {
        let n = self.n();
        if n == 0 {
            return 0;
        }
        let mut g = vec![0.0; n];
        self.local_fields(x, &mut g);
        let gain = |k: usize, x: &[bool], g: &[f64]| if x[k] { -g[k] } else { g[k] };
        let mut tree = MinTree::new(n);
        for k in 0..n {
            tree.set(k, gain(k, x, &g));
        }
        let mut flips = 0;
        loop {
            let (k, d) = tree.min();
            // Strictly improving only, with a margin for round-off in the
            // accumulated fields of real coefficients (and never on NaN,
            // which overflowing sums of huge coefficients can give).
            let margin = -1e-12 * (1.0 + g[k].abs());
            if d.is_nan() || margin.is_nan() || d >= margin {
                break;
            }
            let delta = if x[k] { -1.0 } else { 1.0 };
            x[k] = !x[k];
            tree.set(k, gain(k, x, &g));
            for (j, v) in self.row(k) {
                g[j] += delta * v;
                tree.set(j, gain(j, x, &g));
            }
            flips += 1;
        }
        flips
    }

    /// Converts an Ising problem, minimise sum a_i s_i + sum_{i<j} K_ij
    /// s_i s_j + o over s in {-1, 1}^n, exactly (apps.md A.1, s = 2x - 1).
    pub fn from_ising(
        a: &[f64],
        k: &[(usize, usize, f64)],
        offset: f64,
        maximize: bool,
    ) -> Result<Qubo, ProblemError> {
        let mut h: Vec<f64> = a.iter().map(|&ai| 2.0 * ai).collect();
        let mut c0 = offset - a.iter().sum::<f64>();
        let mut pairs = Vec::with_capacity(k.len());
        for &(i, j, kij) in k {
            for index in [i, j] {
                if index >= a.len() {
                    return Err(ProblemError::OutOfRange { index, n: a.len() });
                }
            }
            h[i] -= 2.0 * kij;
            h[j] -= 2.0 * kij;
            c0 += kij;
            pairs.push((i, j, 4.0 * kij));
        }
        Qubo::new(h, &pairs, c0, maximize, Kind::Ising)
    }

    /// Converts max-cut with edge weights w_ij (any sign) exactly: J_ij = 2
    /// w_ij (parallel edges summed), h_i = -(weighted degree), so that
    /// cut(x) = -E(x) (apps.md A.1).
    pub fn from_max_cut(n: usize, edges: &[(usize, usize, f64)]) -> Result<Qubo, ProblemError> {
        let mut h = vec![0.0; n];
        let mut pairs = Vec::with_capacity(edges.len());
        for &(i, j, w) in edges {
            for index in [i, j] {
                if index >= n {
                    return Err(ProblemError::OutOfRange { index, n });
                }
            }
            h[i] -= w;
            h[j] -= w;
            pairs.push((i, j, 2.0 * w));
        }
        Qubo::new(h, &pairs, 0.0, false, Kind::MaxCut)
    }
}

/// The index of the smallest of n values, kept under point updates: a
/// complete binary tournament tree over the leaves (size a power of two).
struct MinTree {
    size: usize,
    /// Leaf values, then +inf padding.
    value: Vec<f64>,
    /// Winner (leaf index) of each internal node; node 1 is the root.
    win: Vec<usize>,
}

impl MinTree {
    fn new(n: usize) -> MinTree {
        let size = n.next_power_of_two();
        let mut t = MinTree {
            size,
            value: vec![f64::INFINITY; size],
            win: vec![0; 2 * size],
        };
        for i in 0..size {
            t.win[size + i] = i;
        }
        for node in (1..size).rev() {
            t.win[node] = t.better(t.win[2 * node], t.win[2 * node + 1]);
        }
        t
    }

    fn better(&self, a: usize, b: usize) -> usize {
        if self.value[b] < self.value[a] { b } else { a }
    }

    fn set(&mut self, i: usize, v: f64) {
        self.value[i] = v;
        let mut node = (self.size + i) / 2;
        while node >= 1 {
            self.win[node] = self.better(self.win[2 * node], self.win[2 * node + 1]);
            node /= 2;
        }
    }

    fn min(&self) -> (usize, f64) {
        let i = if self.size == 1 { 0 } else { self.win[1] };
        (i, self.value[i])
    }
}

/// x_k = [w_k > 0.5], the rounding of apps.md A.6 step 4.
pub(crate) fn round_at_half(w: &[f64], x: &mut [bool]) {
    for (xk, &wk) in x.iter_mut().zip(w) {
        *xk = wk > 0.5;
    }
}

/// Reusable buffers of [`Qubo::sweep_round`].
#[derive(Clone, Debug, Default)]
pub struct SweepScratch {
    order: Vec<usize>,
    fields: Vec<f64>,
    half: Vec<bool>,
}
