//! A memristive network as a reservoir (docs/reservoir.md, "Driving a
//! network"; apps.md B.3, input modes 1 to 4): the input enters through
//! series sources on chosen edges, S_k(t) = b_k + g m_k (u[n] - centre)
//! held over sample n's period, through voltage sources of the netlist
//! named by the user (each keeps its own DC value as b_k), or through
//! ideal sources from chosen nodes to ground. Device states, normalised
//! device currents and node potentials are read at `virtual_nodes`
//! equally spaced instants of each period. The network is integrated by
//! memnet's engine (one sparse solve per right-hand side); the sources
//! are PWL waveforms whose corners the integrator lands on.

use std::ops::ControlFlow;

use memnet_graph::{Device, Network, PotentialConstraint, SeriesSource};
use memnet_solver::{
    Method, MethodChoice, Probes, RunRequest, SampleSink, SolveError, simulate_until,
};
use memnet_spice::{OptionStyle, Source, Waveform};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::features::Features;

/// Which quantities of the network become features (apps.md B.3 mode 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FeatureKinds {
    /// Device states in their law's own variable (w for memnet's law).
    pub states: bool,
    /// Device currents normalised as x = R_on i (volts; R_on of memnet's
    /// law, 1 ohm for other laws), first node to second.
    pub currents: bool,
    /// Node potentials against ground.
    pub potentials: bool,
}

impl Default for FeatureKinds {
    fn default() -> Self {
        FeatureKinds {
            states: true,
            currents: false,
            potentials: false,
        }
    }
}

impl FeatureKinds {
    /// A comma-separated list of `states`, `currents`, `potentials`.
    pub fn parse(text: &str) -> Result<FeatureKinds, String> {
        let mut k = FeatureKinds {
            states: false,
            currents: false,
            potentials: false,
        };
        for word in text.split(',').map(str::trim) {
            match word {
                "states" | "w" => k.states = true,
                "currents" | "i" => k.currents = true,
                "potentials" | "v" => k.potentials = true,
                _ => {
                    return Err(format!(
                        "feature `{word}`: the features are states, currents and potentials"
                    ));
                }
            }
        }
        Ok(k)
    }
}

/// How the input enters the network and how its states are read.
#[derive(Clone, Debug, PartialEq)]
pub struct Drive {
    /// Driven edges (mode 1): (edge index, mask m_k, bias b_k in volts);
    /// a series source on the edge, replacing any it had.
    pub edges: Vec<(usize, f64, f64)>,
    /// Voltage sources of the netlist driven by name: (name, mask m_k);
    /// b_k is the source's own DC value, its polarity is kept.
    pub sources: Vec<(String, f64)>,
    /// Driven nodes (mode 2): (node index, mask m_k, bias b_k); an ideal
    /// source from the node to ground.
    pub nodes: Vec<(usize, f64, f64)>,
    /// Volts per unit of input.
    pub gain: f64,
    /// The input value that gives the bias alone.
    pub centre: f64,
    /// Duration of one input sample (the held period).
    pub period: f64,
    /// Snapshots per period, at (j / virtual_nodes) of it, j = 1..=V.
    pub virtual_nodes: usize,
    /// Fixed steps per period.
    pub steps_per_period: usize,
    /// The fixed-step integrator: RK4 (default) or explicit Euler (one
    /// network solve per step, as the published reference codes).
    pub method: Method,
    /// Reuse one factorisation across solves as CG's preconditioner
    /// (docs/engine.md), refactorising when CG slows down.
    pub reuse_factorization: bool,
    /// What a snapshot reads.
    pub features: FeatureKinds,
    /// Which of a snapshot's quantities become features (indices into
    /// states, then currents, then potentials, as `features` selects
    /// them); all when `None`. A large reservoir is read through a few
    /// hundred.
    pub read: Option<Vec<usize>>,
    /// Delayed copies of what is read (apps.md B.3 mode 3, the delay
    /// embedding of Milano et al. 2022): the row of sample n also holds the
    /// snapshots of samples n-1, ..., n-`delays`, zeros before sample 0.
    /// They add memory to the readout, not to the network.
    pub delays: usize,
    /// A tapped delay line on the input side: the j-th driven input
    /// (edges, then named sources, then nodes, in order) carries
    /// u[n - (j mod (input_lags + 1))], the bias alone before the series
    /// starts. The network then sees inputs up to `input_lags` samples
    /// old at once, and its nonlinearity can form their products, which
    /// delayed copies of the readout cannot (docs/reservoir.md).
    pub input_lags: usize,
}

/// The range [lo, hi] of the seeded bias voltages b_k of driven edges and
/// nodes. A single number B is the symmetric [-B, B].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct BiasRange {
    pub lo: f64,
    pub hi: f64,
}

impl From<f64> for BiasRange {
    fn from(b: f64) -> BiasRange {
        BiasRange {
            lo: -b.abs(),
            hi: b.abs(),
        }
    }
}

impl BiasRange {
    /// `B` (for [-B, B]) or `LO,HI`, in volts.
    pub fn parse(text: &str) -> Result<BiasRange, String> {
        let num = |w: &str| {
            w.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("bias `{text}`: `{}` is not a finite number", w.trim()))
        };
        let r = match text.split_once(',') {
            None => BiasRange::from(num(text)?),
            Some((lo, hi)) => BiasRange {
                lo: num(lo)?,
                hi: num(hi)?,
            },
        };
        r.check().map_err(|e| format!("bias `{text}`: {e}"))?;
        Ok(r)
    }

    /// Both ends finite, LO at most HI.
    pub fn check(&self) -> Result<(), String> {
        if !(self.lo.is_finite() && self.hi.is_finite()) {
            return Err(format!(
                "the range [{}, {}] must be finite",
                self.lo, self.hi
            ));
        }
        if self.lo > self.hi {
            return Err(format!("LO ({}) is greater than HI ({})", self.lo, self.hi));
        }
        Ok(())
    }
}

impl Drive {
    /// A drive with no inputs yet: states read once per period of 1,
    /// 10 RK4 steps, gain 1 about 0.
    pub fn new() -> Drive {
        Drive {
            edges: Vec::new(),
            sources: Vec::new(),
            nodes: Vec::new(),
            gain: 1.0,
            centre: 0.0,
            period: 1.0,
            virtual_nodes: 1,
            steps_per_period: 10,
            method: Method::Rk4,
            reuse_factorization: false,
            features: FeatureKinds::default(),
            read: None,
            delays: 0,
            input_lags: 0,
        }
    }

    /// The driven edges of `memnet reservoir` (and Python's
    /// `Network.drive`): every `every`-th of `n_edges` edges, each with a
    /// mask m_k = +-1 and a bias b_k uniform in `bias`, drawn in edge
    /// order (mask, then bias) from ChaCha8 seeded with `seed` + 0x5eed, a
    /// stream apart from a series generated from the same seed.
    pub fn seeded_edges(
        n_edges: usize,
        every: usize,
        bias: impl Into<BiasRange>,
        seed: u64,
    ) -> Vec<(usize, f64, f64)> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(0x5eed));
        let b = bias.into();
        (0..n_edges)
            .step_by(every.max(1))
            .map(|k| {
                let m = if rng.random::<bool>() { 1.0 } else { -1.0 };
                (k, m, rng.random_range(b.lo..=b.hi))
            })
            .collect()
    }

    /// Masks and biases (m_k = +-1, b_k uniform in `bias`) for `count`
    /// named sources or nodes, drawn like [`Drive::seeded_edges`] from a
    /// stream salted apart (`salt` 1 for sources, 2 for nodes).
    pub fn seeded_inputs(
        count: usize,
        bias: impl Into<BiasRange>,
        seed: u64,
        salt: u64,
    ) -> Vec<(f64, f64)> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(0x5eed).wrapping_add(salt << 32));
        let b = bias.into();
        (0..count)
            .map(|_| {
                let m = if rng.random::<bool>() { 1.0 } else { -1.0 };
                (m, rng.random_range(b.lo..=b.hi))
            })
            .collect()
    }

    /// The inputs of `memnet reservoir` and Python's `Network.drive`:
    /// every `every`-th edge when given, the netlist's voltage sources
    /// `sources` by name and the nodes `nodes` by name, with seeded masks
    /// and biases. With no sources and no nodes, `every` defaults to 1.
    pub fn set_inputs(
        &mut self,
        net: &Network,
        every: Option<usize>,
        sources: &[String],
        nodes: &[String],
        bias: impl Into<BiasRange>,
        seed: u64,
    ) -> Result<(), String> {
        let bias = bias.into();
        bias.check().map_err(|e| format!("bias: {e}"))?;
        let every = match every {
            Some(0) => return Err("every must be at least 1".into()),
            Some(k) => Some(k),
            None if sources.is_empty() && nodes.is_empty() => Some(1),
            None => None,
        };
        self.edges = every.map_or_else(Vec::new, |k| {
            Drive::seeded_edges(net.edges.len(), k, bias, seed)
        });
        let masks = Drive::seeded_inputs(sources.len(), bias, seed, 1);
        self.sources = sources
            .iter()
            .zip(masks)
            .map(|(s, (m, _))| (s.to_ascii_lowercase(), m))
            .collect();
        let draws = Drive::seeded_inputs(nodes.len(), bias, seed, 2);
        self.nodes = nodes
            .iter()
            .zip(draws)
            .map(|(name, (m, b))| {
                net.node_names
                    .iter()
                    .position(|n| n.eq_ignore_ascii_case(name))
                    .map(|v| (v, m, b))
                    .ok_or_else(|| format!("node `{name}`: not a node of the network"))
            })
            .collect::<Result<_, _>>()?;
        Ok(())
    }

    /// `count` evenly spaced indices of `n` quantities (all when count >= n).
    pub fn evenly_spaced(n: usize, count: usize) -> Vec<usize> {
        let r = count.clamp(1, n.max(1));
        (0..r).map(|i| i * n / r).collect()
    }

    /// How many quantities one snapshot of `net` reads before `read`
    /// narrows them (the `n` of [`Drive::evenly_spaced`]).
    pub fn snapshot_len(&self, net: &Network) -> usize {
        self.probes(net).0.len()
    }

    /// The outputs a snapshot reads and the factor of each (R_on for a
    /// current of memnet's law).
    fn probes(&self, net: &Network) -> (Probes, Vec<f64>) {
        let mut p = Probes::default();
        let mut scale = Vec::new();
        if self.features.states {
            p.append(Probes::states(net));
            scale.resize(p.len(), 1.0);
        }
        if self.features.currents {
            p.append(Probes::device_currents(net));
            for (k, e) in net.edges.iter().enumerate() {
                if e.device.is_memristor() && !net.is_static(k) {
                    scale.push(match &e.device {
                        Device::Memristor(d) => d.ron,
                        _ => 1.0,
                    });
                }
            }
        }
        if self.features.potentials {
            p.append(Probes::node_potentials(net));
            scale.resize(p.len(), 1.0);
        }
        (p, scale)
    }
}

impl Default for Drive {
    fn default() -> Self {
        Drive::new()
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
    values: Vec<f64>,
    width: usize,
}

impl SampleSink for Rows {
    fn sample(&mut self, _t: f64, w: &[f64]) -> Result<(), std::io::Error> {
        self.width = w.len();
        self.values.extend_from_slice(w);
        Ok(())
    }
}

/// The PWL of one driven source: value v_n on [n T + r, (n+1) T] after a
/// ramp of length r from v_{n-1} that starts on the period boundary (both
/// corners are breakpoints the integrator lands on). A snapshot at the end
/// of period n thus sees v_n, never v_{n+1}: currents and potentials read
/// there carry no look-ahead.
fn held(values: &[f64], period: f64, ramp: f64) -> Waveform {
    let mut points = Vec::with_capacity(2 * values.len());
    for (n, &v) in values.iter().enumerate() {
        let start = n as f64 * period;
        points.push((if n == 0 { 0.0 } else { start + ramp }, v));
        points.push((start + period, v));
    }
    Waveform::Pwl {
        points,
        repeat_from: None,
        delay: 0.0,
    }
}

/// The held source b + g m (u[n - lag] - centre), b alone for n < lag.
fn input_source(d: &Drive, u: &[f64], lag: usize, m: f64, b: f64, ramp: f64) -> Source {
    let values: Vec<f64> = (0..u.len())
        .map(|n| {
            n.checked_sub(lag)
                .map_or(b, |s| b + d.gain * m * (u[s] - d.centre))
        })
        .collect();
    Source {
        dc: values.first().copied().unwrap_or(b),
        waveform: held(&values, d.period, ramp),
    }
}

/// The DC value of a netlist source (its bias as a driven input).
fn dc_of(s: &Source) -> f64 {
    match s.waveform {
        Waveform::Dc(v) => v,
        _ => s.dc,
    }
}

/// `net` with the drive's sources in place.
fn driven_network(net: &Network, d: &Drive, u: &[f64], ramp: f64) -> Result<Network, DriveError> {
    let mut net = net.clone();
    // The lag of the j-th driven input (Drive::input_lags).
    let lag = |j: usize| j % d.input_lags.saturating_add(1);
    for (j, &(k, m, b)) in d.edges.iter().enumerate() {
        let Some(edge) = net.edges.get_mut(k) else {
            return Err(DriveError::Option(format!(
                "driven edge {k}: the network has {} edges",
                net.edges.len()
            )));
        };
        edge.source = Some(Box::new(SeriesSource {
            name: String::new(),
            source: input_source(d, u, lag(j), m, b, ramp),
            sign: 1.0,
            loc: None,
        }));
    }
    for (i, (name, m)) in d.sources.iter().enumerate() {
        let j = d.edges.len() + i;
        let folded = net.edges.iter_mut().find_map(|e| {
            e.source
                .as_mut()
                .filter(|s| !s.name.is_empty() && s.name.eq_ignore_ascii_case(name))
        });
        if let Some(s) = folded {
            s.source = input_source(d, u, lag(j), *m, dc_of(&s.source), ramp);
            continue;
        }
        let Some(c) = net
            .constraints
            .iter_mut()
            .find(|c| c.name.eq_ignore_ascii_case(name))
        else {
            return Err(DriveError::Option(format!(
                "source `{name}`: the netlist has no voltage source of that name"
            )));
        };
        c.source = input_source(d, u, lag(j), *m, dc_of(&c.source), ramp);
    }
    if !d.nodes.is_empty() {
        // A network without ground (a generated graph) gets one, tied to
        // nothing but the driven nodes: then only differences between
        // driven nodes move charge, and one driven node alone is a gauge.
        let ground = match net
            .node_names
            .iter()
            .position(|n| n == memnet_spice::GROUND || n == "gnd")
        {
            Some(g) => g,
            None => {
                net.node_names.push(memnet_spice::GROUND.to_string());
                net.node_names.len() - 1
            }
        };
        for (j, &(v, m, b)) in d.nodes.iter().enumerate() {
            if v >= net.n_nodes() || v == ground {
                return Err(DriveError::Option(format!(
                    "driven node {v}: not a node of the network other than ground (it has {})",
                    net.n_nodes()
                )));
            }
            if d.nodes[..j].iter().any(|p| p.0 == v) {
                return Err(DriveError::Option(format!(
                    "driven node `{}` is driven twice",
                    net.node_names[v]
                )));
            }
            net.constraints.push(PotentialConstraint {
                name: format!("vin_{}", net.node_names[v]),
                pos: v,
                neg: ground,
                source: input_source(d, u, lag(d.edges.len() + d.sources.len() + j), m, b, ramp),
                loc: None,
            });
        }
    }
    Ok(net)
}

/// Drives `net` with input `u` and returns the features [1, u[n], the
/// quantities read at each virtual node of period n, then of periods n-1,
/// ..., n-`delays`] for every sample n (apps.md B.2, B.3). `progress(t)`
/// follows the integration (t from 0 to len(u) periods); `Break` stops it
/// (`SolveError::Interrupted`).
pub fn drive(
    net: &Network,
    d: &Drive,
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
    if !matches!(d.method, Method::Rk4 | Method::Euler) {
        return Err(DriveError::Option(format!(
            "method {:?}: a reservoir is driven with fixed steps, rk4 or euler",
            d.method
        )));
    }
    if d.steps_per_period % d.virtual_nodes != 0 {
        return Err(DriveError::Option(format!(
            "{} steps per period do not land on {} virtual nodes",
            d.steps_per_period, d.virtual_nodes
        )));
    }
    if d.edges.is_empty() && d.sources.is_empty() && d.nodes.is_empty() {
        return Err(DriveError::Option(
            "nothing carries the input: drive edges, sources or nodes".into(),
        ));
    }
    let dt = d.period / d.steps_per_period as f64;
    // The ramp between periods: 1e-3 of a step, starting exactly on the
    // period boundary (a step corner).
    let net = driven_network(net, d, u, dt * 1e-3)?;
    let (probes, mut scale) = d.probes(&net);
    if probes.is_empty() {
        return Err(DriveError::Option(
            "no features: read states, currents or potentials".into(),
        ));
    }
    scale.resize(probes.len(), 1.0);
    let t_end = u.len() as f64 * d.period;
    let request = RunRequest {
        t_end: Some(t_end),
        method: MethodChoice::Given(d.method),
        reuse_factorization: d.reuse_factorization,
        dt: Some(dt),
        sample_dt: Some(d.period / d.virtual_nodes as f64),
        ..RunRequest::default()
    };
    let opts = request
        .options(&net, OptionStyle::Keyword)
        .map_err(DriveError::Option)?;
    let mut rows = Rows {
        values: Vec::new(),
        width: 0,
    };
    simulate_until(&net, &opts, &probes, &mut rows, progress)?;
    // Sample 0 is t = 0 (before any input); then V per period.
    let (v, m, n) = (d.virtual_nodes, rows.width, u.len());
    if rows.values.len() < (1 + n * v) * m {
        return Err(DriveError::Option(format!(
            "the run gave {} samples for {} periods of {v}",
            rows.values.len() / m.max(1),
            n
        )));
    }
    let all: Vec<usize>;
    let read = match &d.read {
        Some(r) => {
            if let Some(&bad) = r.iter().find(|&&k| k >= m) {
                return Err(DriveError::Option(format!(
                    "quantity {bad} to read: a snapshot has {m}"
                )));
            }
            r.as_slice()
        }
        None => {
            all = (0..m).collect();
            &all
        }
    };
    let cols = 2 + (1 + d.delays) * v * read.len();
    let mut data = Vec::with_capacity(n * cols);
    for (t, &ut) in u.iter().enumerate() {
        data.push(1.0);
        data.push(ut);
        for lag in 0..=d.delays {
            let Some(s) = t.checked_sub(lag) else {
                data.resize(data.len() + v * read.len(), 0.0);
                continue;
            };
            for j in 0..v {
                let from = (1 + s * v + j) * m;
                data.extend(read.iter().map(|&k| scale[k] * rows.values[from + k]));
            }
        }
    }
    Ok(Features {
        rows: n,
        cols,
        data,
    })
}
