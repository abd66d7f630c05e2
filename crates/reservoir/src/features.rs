//! Feature matrices: one row per sample, the bias and the raw input first
//! (apps.md B.2: features are [1, u[t], reservoir features at t]).

/// A row-major feature matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Features {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Features {
    /// Starts a matrix of `rows` samples with the bias column and `u`.
    pub fn with_bias_and_input(u: &[f64]) -> Features {
        let mut f = Features {
            rows: u.len(),
            cols: 0,
            data: Vec::new(),
        };
        f.push_column(|_| 1.0);
        f.push_column(|t| u[t]);
        f
    }

    /// Appends a column whose entry at sample t is `value(t)`.
    pub fn push_column(&mut self, value: impl Fn(usize) -> f64) {
        let (rows, cols) = (self.rows, self.cols);
        let mut data = Vec::with_capacity(rows * (cols + 1));
        for t in 0..rows {
            data.extend_from_slice(&self.data[t * cols..(t + 1) * cols]);
            data.push(value(t));
        }
        self.data = data;
        self.cols += 1;
    }

    /// Row t.
    pub fn row(&self, t: usize) -> &[f64] {
        &self.data[t * self.cols..(t + 1) * self.cols]
    }
}

/// The delay line [1, u[t], u[t-1], ..., u[t-taps]] (zeros before t = 0),
/// with all products u[t-i] u[t-j], 0 <= i <= j <= taps, when `quadratic`
/// (apps.md B.5: 12 and 78 features for taps = 10). No reservoir: the
/// exact reference of the readout harness.
pub fn delay_line(u: &[f64], taps: usize, quadratic: bool) -> Features {
    let lag = |t: usize, i: usize| if t >= i { u[t - i] } else { 0.0 };
    let mut f = Features::with_bias_and_input(u);
    for i in 1..=taps {
        f.push_column(|t| lag(t, i));
    }
    if quadratic {
        for i in 0..=taps {
            for j in i..=taps {
                f.push_column(|t| lag(t, i) * lag(t, j));
            }
        }
    }
    f
}
