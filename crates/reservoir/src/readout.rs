//! The ridge readout and its score (docs/reservoir.md, "Readout"; apps.md
//! B.2): W = argmin |X W - y|^2 + lambda |W|^2 with lambda on every
//! coefficient, the bias included; lambda chosen on the validation
//! segment, the readout refitted on train and validation, scored once on
//! test by NRMSE = sqrt(mean((y - yhat)^2) / var(y)), var the population
//! variance of the test targets.

use std::ops::Range;

use faer::Mat;
use faer::linalg::solvers::SolveLstsq;

use crate::features::Features;
use crate::tasks::Split;

/// A fitted readout.
#[derive(Clone, Debug, PartialEq)]
pub struct Ridge {
    pub lambda: f64,
    pub weights: Vec<f64>,
}

impl Ridge {
    /// The readout's output at each sample of `rows`.
    pub fn predict(&self, x: &Features, rows: Range<usize>) -> Vec<f64> {
        rows.map(|t| x.row(t).iter().zip(&self.weights).map(|(a, w)| a * w).sum())
            .collect()
    }
}

/// Fits on the samples `rows` of `x` against `y` (indexed like x's rows).
/// Solved as the least-squares problem [X; sqrt(lambda) I] W = [y; 0] by
/// Householder QR (faer), which is the closed form (X^T X + lambda I)^{-1}
/// X^T y without squaring X's condition number.
pub fn fit_ridge(x: &Features, y: &[f64], rows: Range<usize>, lambda: f64) -> Ridge {
    let (n, p) = (rows.len(), x.cols);
    let s = lambda.max(0.0).sqrt();
    let a = Mat::<f64>::from_fn(n + p, p, |i, j| {
        if i < n {
            x.row(rows.start + i)[j]
        } else if i - n == j {
            s
        } else {
            0.0
        }
    });
    let b = Mat::<f64>::from_fn(n + p, 1, |i, _| if i < n { y[rows.start + i] } else { 0.0 });
    let w = a.qr().solve_lstsq(&b);
    Ridge {
        lambda,
        weights: (0..p).map(|j| w[(j, 0)]).collect(),
    }
}

/// sqrt(mean((y - yhat)^2) / var(y)), var with divisor N.
pub fn nrmse(y: &[f64], yhat: &[f64]) -> f64 {
    let n = y.len() as f64;
    let mean = y.iter().sum::<f64>() / n;
    let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let mse = y
        .iter()
        .zip(yhat)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        / n;
    (mse / var).sqrt()
}

/// The outcome of choosing lambda and scoring.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Score {
    pub lambda: f64,
    pub validation_nrmse: f64,
    pub test_nrmse: f64,
    /// (lambda, validation NRMSE) for each lambda tried.
    pub validation: Vec<(f64, f64)>,
}

/// Trains on `split`'s train segment for each lambda of `grid`, keeps the
/// one with the lowest validation NRMSE, refits on train and validation,
/// and scores on test.
pub fn select_and_score(x: &Features, y: &[f64], split: Split, grid: &[f64]) -> Score {
    let train = split.washout..split.train_end;
    let val = split.train_end..split.val_end;
    let test = split.val_end..split.test_end;
    let validation: Vec<(f64, f64)> = grid
        .iter()
        .map(|&l| {
            let r = fit_ridge(x, y, train.clone(), l);
            (l, nrmse(&y[val.clone()], &r.predict(x, val.clone())))
        })
        .collect();
    let &(lambda, validation_nrmse) = validation
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("a non-empty lambda grid");
    let r = fit_ridge(x, y, split.washout..split.val_end, lambda);
    let test_nrmse = nrmse(&y[test.clone()], &r.predict(x, test));
    Score {
        lambda,
        validation_nrmse,
        test_nrmse,
        validation,
    }
}

/// [`fit_ridge`] for several targets at once (the columns of `ys`, each
/// indexed like x's rows): one QR of the augmented system serves them all.
pub fn fit_ridge_many(
    x: &Features,
    ys: &[Vec<f64>],
    rows: Range<usize>,
    lambda: f64,
) -> Vec<Ridge> {
    let (n, p) = (rows.len(), x.cols);
    let s = lambda.max(0.0).sqrt();
    let a = Mat::<f64>::from_fn(n + p, p, |i, j| {
        if i < n {
            x.row(rows.start + i)[j]
        } else if i - n == j {
            s
        } else {
            0.0
        }
    });
    let b = Mat::<f64>::from_fn(n + p, ys.len(), |i, c| {
        if i < n { ys[c][rows.start + i] } else { 0.0 }
    });
    let w = a.qr().solve_lstsq(&b);
    (0..ys.len())
        .map(|c| Ridge {
            lambda,
            weights: (0..p).map(|j| w[(j, c)]).collect(),
        })
        .collect()
}

/// Pearson's correlation coefficient of `a` and `b` (0 when either is
/// constant).
pub fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    if saa == 0.0 || sbb == 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// Linear memory capacity after Jaeger (GMD Report 152, 2001; apps.md
/// B.1): MC = sum over k = 1..=K of r_k^2, r_k the correlation on the test
/// segment between u[t-k] and a ridge readout of the features trained to
/// reproduce it (lambda per k on validation, refitted on train and
/// validation, as [`select_and_score`] does).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MemoryCapacity {
    pub total: f64,
    /// r_k^2 for k = 1..=K.
    pub curve: Vec<f64>,
}

/// The memory capacity of features `x` driven by `u` (x's rows are u's
/// samples) up to delay `k_max`, on `split`; `k_max` may not exceed the
/// washout (every delayed target must exist from the first training row).
pub fn memory_capacity(
    x: &Features,
    u: &[f64],
    split: Split,
    k_max: usize,
    grid: &[f64],
) -> Result<MemoryCapacity, String> {
    if k_max == 0 || k_max > split.washout {
        return Err(format!(
            "memory capacity delays 1..={k_max}: at least 1 and at most the washout ({})",
            split.washout
        ));
    }
    if u.len() < split.test_end || x.rows < split.test_end {
        return Err(format!(
            "memory capacity needs {} samples, has {}",
            split.test_end,
            u.len().min(x.rows)
        ));
    }
    let ys: Vec<Vec<f64>> = (1..=k_max)
        .map(|k| {
            (0..u.len())
                .map(|t| if t >= k { u[t - k] } else { 0.0 })
                .collect()
        })
        .collect();
    let train = split.washout..split.train_end;
    let val = split.train_end..split.val_end;
    let test = split.val_end..split.test_end;
    // Per delay: the lambda of least validation NRMSE.
    let mut best = vec![(f64::INFINITY, grid.first().copied().unwrap_or(0.0)); k_max];
    for &l in grid {
        for (k, r) in fit_ridge_many(x, &ys, train.clone(), l).iter().enumerate() {
            let e = nrmse(&ys[k][val.clone()], &r.predict(x, val.clone()));
            if e < best[k].0 {
                best[k] = (e, l);
            }
        }
    }
    let mut curve = vec![0.0; k_max];
    for &l in grid {
        let ks: Vec<usize> = (0..k_max).filter(|&k| best[k].1 == l).collect();
        if ks.is_empty() {
            continue;
        }
        let targets: Vec<Vec<f64>> = ks.iter().map(|&k| ys[k].clone()).collect();
        let fits = fit_ridge_many(x, &targets, split.washout..split.val_end, l);
        for (&k, r) in ks.iter().zip(&fits) {
            let yhat = r.predict(x, test.clone());
            curve[k] = correlation(&ys[k][test.clone()], &yhat).powi(2);
        }
    }
    Ok(MemoryCapacity {
        total: curve.iter().sum(),
        curve,
    })
}
