//! A memristive network as a reservoir (docs/reservoir.md, "Driving a
//! network"; apps.md B.3 mode 1 and 3): series sources on chosen edges
//! carry the input, S_k(t) = b_k + g m_k (u[n] - centre) held over sample
//! n's period, and the device states are read at `virtual_nodes` equally
//! spaced instants of each period. The network is integrated by memnet's
//! engine (one sparse solve per right-hand side); the sources are PWL
//! waveforms whose corners the integrator lands on.

use std::ops::ControlFlow;

use memnet_graph::{Network, SeriesSource};
use memnet_solver::{
    Method, MethodChoice, Probes, RunRequest, SampleSink, SolveError, simulate_until,
};
use memnet_spice::{OptionStyle, Source, Waveform};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::features::Features;

/// How the input enters the network and how its states are read.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeDrive {
    /// Driven edges: (edge index, mask m_k, bias b_k in volts).
    pub edges: Vec<(usize, f64, f64)>,
    /// Volts per unit of input.
    pub gain: f64,
    /// The input value that gives the bias alone.
    pub centre: f64,
    /// Duration of one input sample (the held period).
    pub period: f64,
    /// States read per period, at (j / virtual_nodes) of it, j = 1..=V.
    pub virtual_nodes: usize,
    /// Fixed RK4 steps per period.
    pub steps_per_period: usize,
    /// Which device states become features (indices in state order); all
    /// when `None`. A large reservoir is read through a few hundred.
    pub read: Option<Vec<usize>>,
}

impl EdgeDrive {
    /// The driven edges of `memnet reservoir` (and Python's
    /// `Network.drive`): every `every`-th of `n_edges` edges, each with a
    /// mask m_k = +-1 and a bias b_k uniform in [-bias, bias], drawn in edge
    /// order (mask, then bias) from ChaCha8 seeded with `seed` + 0x5eed, a
    /// stream apart from a series generated from the same seed.
    pub fn seeded_edges(
        n_edges: usize,
        every: usize,
        bias: f64,
        seed: u64,
    ) -> Vec<(usize, f64, f64)> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(0x5eed));
        let b = bias.abs();
        (0..n_edges)
            .step_by(every.max(1))
            .map(|k| {
                let m = if rng.random::<bool>() { 1.0 } else { -1.0 };
                (k, m, rng.random_range(-b..=b))
            })
            .collect()
    }

    /// `count` evenly spaced indices of `n` states (all when count >= n).
    pub fn evenly_spaced(n: usize, count: usize) -> Vec<usize> {
        let r = count.clamp(1, n.max(1));
        (0..r).map(|i| i * n / r).collect()
    }
}

/// A drive that cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    #[error("{0}")]
    Option(String),
    #[error(transparent)]
    Solve(#[from] SolveError),
}

struct Rows {
    states: Vec<f64>,
    width: usize,
}

impl SampleSink for Rows {
    fn sample(&mut self, _t: f64, w: &[f64]) -> Result<(), std::io::Error> {
        self.width = w.len();
        self.states.extend_from_slice(w);
        Ok(())
    }
}

/// The PWL of one driven edge: value v_n on [n T, (n+1) T - r], then a
/// ramp of length r to v_{n+1} that ends on the period boundary (both
/// corners are breakpoints the integrator lands on).
fn held(values: &[f64], period: f64, ramp: f64) -> Waveform {
    let mut points = Vec::with_capacity(2 * values.len());
    for (n, &v) in values.iter().enumerate() {
        let start = n as f64 * period;
        points.push((if n == 0 { 0.0 } else { start }, v));
        points.push((start + period - ramp, v));
    }
    Waveform::Pwl {
        points,
        repeat_from: None,
        delay: 0.0,
    }
}

/// Drives `net` with input `u` and returns the features [1, u[n], states
/// at each virtual node of period n] for every sample n (apps.md B.2).
/// `progress(t)` follows the integration (t from 0 to len(u) periods);
/// `Break` stops it (`SolveError::Interrupted`).
pub fn drive(
    net: &Network,
    d: &EdgeDrive,
    u: &[f64],
    progress: &mut dyn FnMut(f64) -> ControlFlow<()>,
) -> Result<Features, DriveError> {
    if d.virtual_nodes == 0 || d.steps_per_period == 0 {
        return Err(DriveError::Option(
            "virtual nodes and steps per period must be at least 1".into(),
        ));
    }
    if !(d.period.is_finite() && d.period > 0.0) {
        return Err(DriveError::Option(format!(
            "period {} must be positive",
            d.period
        )));
    }
    if d.steps_per_period % d.virtual_nodes != 0 {
        return Err(DriveError::Option(format!(
            "{} steps per period do not land on {} virtual nodes",
            d.steps_per_period, d.virtual_nodes
        )));
    }
    let mut net = net.clone();
    let dt = d.period / d.steps_per_period as f64;
    // The ramp between periods: 1e-3 of a step, ending exactly on the
    // period boundary (a step corner).
    let ramp = dt * 1e-3;
    for &(k, m, b) in &d.edges {
        let Some(edge) = net.edges.get_mut(k) else {
            return Err(DriveError::Option(format!(
                "driven edge {k}: the network has {} edges",
                net.edges.len()
            )));
        };
        let values: Vec<f64> = u.iter().map(|&x| b + d.gain * m * (x - d.centre)).collect();
        let first = values.first().copied().unwrap_or(b);
        edge.source = Some(Box::new(SeriesSource {
            name: String::new(),
            source: Source {
                dc: first,
                waveform: held(&values, d.period, ramp),
            },
            sign: 1.0,
            loc: None,
        }));
    }
    let t_end = u.len() as f64 * d.period;
    let request = RunRequest {
        t_end: Some(t_end),
        method: MethodChoice::Given(Method::Rk4),
        dt: Some(dt),
        sample_dt: Some(d.period / d.virtual_nodes as f64),
        ..RunRequest::default()
    };
    let opts = request
        .options(&net, OptionStyle::Keyword)
        .map_err(DriveError::Option)?;
    let probes = Probes::states(&net);
    let mut rows = Rows {
        states: Vec::new(),
        width: 0,
    };
    simulate_until(&net, &opts, &probes, &mut rows, progress)?;
    // Sample 0 is t = 0 (before any input); then V per period.
    let (v, m, n) = (d.virtual_nodes, rows.width, u.len());
    if rows.states.len() < (1 + n * v) * m {
        return Err(DriveError::Option(format!(
            "the run gave {} samples for {} periods of {v}",
            rows.states.len() / m.max(1),
            n
        )));
    }
    let all: Vec<usize>;
    let read = match &d.read {
        Some(r) => {
            if let Some(&bad) = r.iter().find(|&&k| k >= m) {
                return Err(DriveError::Option(format!(
                    "state {bad} to read: the network has {m} devices"
                )));
            }
            r.as_slice()
        }
        None => {
            all = (0..m).collect();
            &all
        }
    };
    let cols = 2 + v * read.len();
    let mut data = Vec::with_capacity(n * cols);
    for (t, &ut) in u.iter().enumerate() {
        data.push(1.0);
        data.push(ut);
        for j in 0..v {
            let from = (1 + t * v + j) * m;
            data.extend(read.iter().map(|&k| rows.states[from + k]));
        }
    }
    let x = Features {
        rows: n,
        cols,
        data,
    };
    Ok(x)
}
