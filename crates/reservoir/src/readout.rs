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
