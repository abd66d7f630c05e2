//! Benchmark tasks and their splits (docs/reservoir.md, "Tasks"; apps.md
//! B.1-B.2): NARMA10 (from the fixture series or generated), the
//! Mackey-Glass one-step map and sine to square.

use std::path::Path;

/// An input series u and its target y, one entry per sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub u: Vec<f64>,
    pub y: Vec<f64>,
}

/// Which target the readout is asked for at step t (apps.md B.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// y[t]: the state after input u[t] must give y[t] (memnet's default).
    Now,
    /// y[t+1] from inputs up to u[t].
    Next,
}

/// Sample ranges: `[washout, train_end)` trains, `[train_end, val_end)`
/// validates, `[val_end, test_end)` tests; the final readout is refitted on
/// `[washout, val_end)`. Samples before `washout` drive the reservoir only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Split {
    pub washout: usize,
    pub train_end: usize,
    pub val_end: usize,
    pub test_end: usize,
}

impl Split {
    /// NARMA10's (apps.md B.2): washout 200, train 2 000, validation 1 000,
    /// test 2 000.
    pub const NARMA10: Split = Split {
        washout: 200,
        train_end: 2200,
        val_end: 3200,
        test_end: 5200,
    };
    /// Mackey-Glass one-step (apps.md B.1): washout 200, train 2 500,
    /// validation 500, test 1 000.
    pub const MACKEY_GLASS: Split = Split {
        washout: 200,
        train_end: 2700,
        val_end: 3200,
        test_end: 4200,
    };
    /// Sine to square: washout 200, train 1 500, validation 500, test 1 000.
    pub const SINE_TO_SQUARE: Split = Split {
        washout: 200,
        train_end: 1700,
        val_end: 2200,
        test_end: 3200,
    };
}

/// A series file that cannot be read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{file}:{line}:{col}: error: {message}")]
pub struct TaskError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// Reads a `t,u,y` CSV (a header line, then one row per sample, t = 0, 1,
/// ...), such as the NARMA10 fixture.
pub fn read_series_csv(path: &Path) -> Result<Series, TaskError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| TaskError {
        file: file.clone(),
        line: 0,
        col: 0,
        message: format!("cannot read: {e}"),
    })?;
    parse_series_csv(&text, &file)
}

/// As [`read_series_csv`], from text; `file` names it in errors.
pub fn parse_series_csv(text: &str, file: &str) -> Result<Series, TaskError> {
    let err = |line: usize, col: usize, message: String| TaskError {
        file: file.to_string(),
        line,
        col,
        message,
    };
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.trim().eq_ignore_ascii_case("t,u,y") => {}
        _ => return Err(err(1, 1, "expected the header `t,u,y`".into())),
    }
    let (mut u, mut y) = (Vec::new(), Vec::new());
    for (k, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let mut col = 1;
        let mut fields = Vec::with_capacity(3);
        for f in line.split(',') {
            let v = f.trim().parse::<f64>().ok().filter(|v| v.is_finite());
            fields.push((v, col, f));
            col += f.chars().count() + 1;
        }
        if fields.len() != 3 {
            return Err(err(
                k + 1,
                1,
                format!("expected 3 fields t,u,y, got {}", fields.len()),
            ));
        }
        for &(v, c, f) in &fields {
            if v.is_none() {
                return Err(err(k + 1, c, format!("`{f}` is not a finite number")));
            }
        }
        let t = fields[0].0.unwrap_or(f64::NAN);
        if t != u.len() as f64 {
            return Err(err(k + 1, 1, format!("t = {t}: expected {}", u.len())));
        }
        u.push(fields[1].0.unwrap_or(0.0));
        y.push(fields[2].0.unwrap_or(0.0));
    }
    Ok(Series { u, y })
}

/// The NARMA10 target of input `u` (apps.md B.1; Atiya & Parlos 2000):
/// y[0..9] = 0 and, for t = 9..len-2,
/// y[t+1] = 0.3 y[t] + 0.05 y[t] sum_{i=0..9} y[t-i] + 1.5 u[t-9] u[t] + 0.1.
pub fn narma10(u: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; u.len()];
    for t in 9..u.len().saturating_sub(1) {
        let s: f64 = y[t - 9..=t].iter().sum();
        y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * s + 1.5 * u[t - 9] * u[t] + 0.1;
    }
    y
}

/// A generated NARMA10 series of `samples` rows: u uniform on [0, 0.5)
/// from ChaCha8 seeded with `seed`, y its recurrence ([`narma10`]). Not the
/// fixture series (numpy's stream): compare figures on the fixture.
pub fn narma10_series(samples: usize, seed: u64) -> Series {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let u: Vec<f64> = (0..samples).map(|_| rng.random_range(0.0..0.5)).collect();
    let y = narma10(&u);
    Series { u, y }
}

/// The Mackey-Glass series as reservoirpy 0.4.2 makes it (apps.md B.1):
/// the explicit map x[k+1] = x[k] + kappa (a x[k-17] / (1 + x[k-17]^10) -
/// b x[k]), a = 0.2, b = 0.1, kappa = 0.9215, from x = 1.2 with a constant
/// history of 1.2; scaled to [-1, 1] by its min and max. Input x[k],
/// target x[k+1].
pub fn mackey_glass(samples: usize) -> Series {
    const TAU: usize = 17;
    let (a, b, kappa): (f64, f64, f64) = (0.2, 0.1, (1.0 + 1.9 + 1.81 + 0.819) / 6.0);
    let mut x: Vec<f64> = vec![1.2; TAU + samples + 1];
    for k in TAU..TAU + samples {
        let d = x[k - TAU];
        x[k + 1] = x[k] + kappa * (a * d / (1.0 + d.powi(10)) - b * x[k]);
    }
    let x = &x[TAU..];
    let (lo, hi) = x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let s: Vec<f64> = x.iter().map(|v| 2.0 * (v - lo) / (hi - lo) - 1.0).collect();
    Series {
        u: s[..samples].to_vec(),
        y: s[1..=samples].to_vec(),
    }
}

/// Sine to square (apps.md B.1): u[t] = sin(2 pi (t + 0.25) / 50), target
/// sign(u[t]); the quarter-sample phase keeps samples off the crossings.
pub fn sine_to_square(samples: usize) -> Series {
    let u: Vec<f64> = (0..samples)
        .map(|t| (2.0 * std::f64::consts::PI * (t as f64 + 0.25) / 50.0).sin())
        .collect();
    let y = u.iter().map(|v| v.signum()).collect();
    Series { u, y }
}

impl Series {
    /// The pairs (input index, target) for `target`: "y[t]" pairs u[t] with
    /// y[t] over the first len-1 samples, "y[t+1]" pairs u[t] with y[t+1]
    /// (so both use len-1 samples of a fixture of len rows).
    pub fn targets(&self, target: Target) -> Vec<f64> {
        let n = self.u.len().saturating_sub(1);
        match target {
            Target::Now => self.y[..n].to_vec(),
            Target::Next => self.y[1..=n].to_vec(),
        }
    }
}
