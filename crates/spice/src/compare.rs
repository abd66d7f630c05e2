//! Comparing two simulations of the same circuit (memnet against ngspice,
//! or two memnet solvers) device by device, with SPICE-style tolerances.
//!
//! The two trajectories are aligned on time by linear interpolation: each
//! is evaluated at the union of both sample-time sets inside the common time
//! range. Times outside it are not compared: ngspice 39 `tran ... uic`
//! output has no row at t = 0 (its first row is the first internal step),
//! so a memnet t = 0 sample is skipped, not extrapolated.
//!
//! A point passes when |a - b| <= reltol * max(|a|, |b|) + abstol (the
//! SPICE convergence test); a device passes when all its points do.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde::Serialize;

use crate::raw::{Columns, Plot};

/// Invalid input to the comparator.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompareError {
    pub message: String,
}

impl fmt::Display for CompareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CompareError {}

fn cerr(message: impl Into<String>) -> CompareError {
    CompareError {
        message: message.into(),
    }
}

/// Sampled series on a common, non-decreasing time axis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trajectory {
    pub times: Vec<f64>,
    /// Device (series) names, e.g. memristor instance names `xm1`.
    pub names: Vec<String>,
    /// `series[k][i]` is series `k` at `times[i]`.
    pub series: Vec<Vec<f64>>,
}

impl Trajectory {
    /// Checks lengths, finite non-decreasing times and unique names.
    pub fn new(
        times: Vec<f64>,
        names: Vec<String>,
        series: Vec<Vec<f64>>,
    ) -> Result<Self, CompareError> {
        if names.len() != series.len() {
            return Err(cerr(format!(
                "{} names for {} series",
                names.len(),
                series.len()
            )));
        }
        if times.is_empty() {
            return Err(cerr("a trajectory needs at least one time"));
        }
        if times.iter().any(|t| !t.is_finite()) {
            return Err(cerr("times must be finite"));
        }
        for (i, w) in times.windows(2).enumerate() {
            if w[1] < w[0] {
                return Err(cerr(format!(
                    "times must be non-decreasing: t[{}] = {} then t[{}] = {}",
                    i,
                    w[0],
                    i + 1,
                    w[1]
                )));
            }
        }
        for (n, s) in names.iter().zip(&series) {
            if s.len() != times.len() {
                return Err(cerr(format!(
                    "series `{n}` has {} values for {} times",
                    s.len(),
                    times.len()
                )));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for n in &names {
            if !seen.insert(n.as_str()) {
                return Err(cerr(format!("series `{n}` appears twice")));
            }
        }
        Ok(Trajectory {
            times,
            names,
            series,
        })
    }

    /// A trajectory from a real raw-file plot: the scale is the time, each
    /// variable for which `name_of` returns a name becomes a series.
    pub fn from_plot(
        plot: &Plot,
        name_of: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, CompareError> {
        let Columns::Real(cols) = &plot.columns else {
            return Err(cerr(format!(
                "plot `{}` is complex; a trajectory needs real data",
                plot.plotname
            )));
        };
        let Some(times) = cols.first() else {
            return Err(cerr("plot has no variables"));
        };
        let mut names = Vec::new();
        let mut series = Vec::new();
        for (v, col) in plot.variables.iter().zip(cols).skip(1) {
            if let Some(n) = name_of(&v.name) {
                names.push(n);
                series.push(col.clone());
            }
        }
        Trajectory::new(times.clone(), names, series)
    }

    /// A trajectory from Xyce's `.print tran` output (`.prn`): a header
    /// `Index TIME col...`, whitespace-separated rows, and a closing line
    /// `End of Xyce(TM) Simulation`. Series are named by their header
    /// (lower case, e.g. `n(ymemristor!mr1_x)`).
    pub fn from_prn(text: &str) -> Result<Self, CompareError> {
        let mut lines = text.lines().enumerate();
        let header = lines
            .by_ref()
            .find(|(_, l)| !l.trim().is_empty())
            .map(|(_, l)| l)
            .ok_or_else(|| cerr("empty .prn file"))?;
        let cols: Vec<String> = header
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        let Some(t_col) = cols.iter().position(|c| c == "time") else {
            return Err(cerr("the .prn header has no TIME column"));
        };
        let data: Vec<usize> = (0..cols.len())
            .filter(|&k| k != t_col && cols[k] != "index")
            .collect();
        let mut times = Vec::new();
        let mut series = vec![Vec::new(); data.len()];
        for (k, line) in lines {
            let l = line.trim();
            if l.is_empty() || l.starts_with("End of") {
                continue;
            }
            let values: Vec<f64> = l
                .split_whitespace()
                .map(|w| w.parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|e| cerr(format!("line {}: {e}", k + 1)))?;
            if values.len() != cols.len() {
                return Err(cerr(format!(
                    "line {}: {} values for {} columns",
                    k + 1,
                    values.len(),
                    cols.len()
                )));
            }
            times.push(values[t_col]);
            for (s, &c) in series.iter_mut().zip(&data) {
                s.push(values[c]);
            }
        }
        let names = data.iter().map(|&c| cols[c].clone()).collect();
        Trajectory::new(times, names, series)
    }

    /// Series `name` (as named), if present.
    pub fn series_named(&self, name: &str) -> Option<&[f64]> {
        let k = self.names.iter().position(|n| n == name)?;
        Some(&self.series[k])
    }

    /// The memristor states of an ngspice deck written by
    /// [`crate::export::write_ngspice_deck`]: every `v(<inst>.w)` becomes
    /// series `<inst>` (the ngspice instance name, see
    /// [`crate::export::spice_name`]), other vectors are ignored.
    pub fn memristor_states(plot: &Plot) -> Result<Self, CompareError> {
        Trajectory::from_plot(plot, |name| {
            let lower = name.to_ascii_lowercase();
            lower
                .strip_prefix("v(")
                .and_then(|s| s.strip_suffix(".w)"))
                .map(str::to_string)
        })
    }

    /// Series `k` at time `t` by linear interpolation; `None` outside the
    /// sampled range. At a repeated time the later sample is used.
    pub fn value_at(&self, k: usize, t: f64) -> Option<f64> {
        let s = self.series.get(k)?;
        let (&t0, &tn) = (self.times.first()?, self.times.last()?);
        if !(t >= t0 && t <= tn) {
            return None;
        }
        let i = self.times.partition_point(|&x| x <= t);
        if i == 0 {
            return s.first().copied();
        }
        // `get`: the fields are public, so lengths may disagree.
        let (ta, va) = (self.times[i - 1], *s.get(i - 1)?);
        if ta == t || i == self.times.len() {
            return Some(va);
        }
        let (tb, vb) = (self.times[i], *s.get(i)?);
        Some(va + (vb - va) * (t - ta) / (tb - ta))
    }
}

/// SPICE-style tolerance: |a - b| <= reltol * max(|a|, |b|) + abstol.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Tolerance {
    pub reltol: f64,
    pub abstol: f64,
}

impl Tolerance {
    /// |a - b| divided by the allowed error: <= 1 passes. NaN on either
    /// side never passes (infinite ratio).
    pub fn ratio(&self, a: f64, b: f64) -> f64 {
        let allowed = self.reltol * a.abs().max(b.abs()) + self.abstol;
        let d = (a - b).abs();
        if d.is_nan() {
            f64::INFINITY
        } else if allowed > 0.0 {
            d / allowed
        } else if d == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CompareOptions {
    pub tol: Tolerance,
    /// Per-device overrides, by series name.
    pub per_device: BTreeMap<String, Tolerance>,
    /// How many worst devices the report lists.
    pub worst: usize,
    /// Compare at the reference's own times only (the candidate is
    /// interpolated there), not at the union of both: for a reference
    /// printed coarsely (a SPICE run at its deck's step) beside a finely
    /// sampled candidate, where interpolating the reference between its
    /// points would be its interpolation error, not a disagreement.
    pub at_reference_times: bool,
}

impl Default for CompareOptions {
    /// reltol 1e-6, abstol 1e-9: w is O(1), and an ngspice deck run at
    /// max step 1e-3 agrees with the closed forms to ~3e-9 (docs/ngspice.md).
    fn default() -> Self {
        CompareOptions {
            tol: Tolerance {
                reltol: 1e-6,
                abstol: 1e-9,
            },
            per_device: BTreeMap::new(),
            worst: 5,
            at_reference_times: false,
        }
    }
}

/// One device's worst disagreement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeviceError {
    pub device: String,
    /// Largest tolerance ratio over time (<= 1 passes).
    pub max_ratio: f64,
    /// Time of the largest ratio, with both values there.
    pub time: f64,
    pub reference: f64,
    pub candidate: f64,
    /// Largest |a - b| over time (may be at another time than `time`).
    pub max_abs_error: f64,
    /// Number of compared times that fail.
    pub failing_times: usize,
}

/// The result of [`compare`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompareReport {
    pub pass: bool,
    pub tol: Tolerance,
    pub devices_compared: usize,
    pub devices_failing: usize,
    pub times_compared: usize,
    /// Common time range that was compared.
    pub t_from: f64,
    pub t_to: f64,
    /// Sample times of either side outside the common range (not compared).
    pub times_skipped: usize,
    /// Largest |a - b| over all devices and times, where it occurs.
    pub max_abs_error: f64,
    pub max_abs_error_device: String,
    pub max_abs_error_time: f64,
    /// Largest tolerance ratio over all devices and times.
    pub max_ratio: f64,
    /// Worst devices by `max_ratio`, descending (ties by name).
    pub worst: Vec<DeviceError>,
    /// Series present on one side only (each makes the comparison fail).
    pub only_in_reference: Vec<String>,
    pub only_in_candidate: Vec<String>,
}

/// Compares `candidate` against `reference` (the order only matters for
/// labels: the tolerance test is symmetric).
pub fn compare(
    reference: &Trajectory,
    candidate: &Trajectory,
    opts: &CompareOptions,
) -> Result<CompareReport, CompareError> {
    for (what, t) in [("reference", reference), ("candidate", candidate)] {
        if t.times.is_empty() {
            return Err(cerr(format!("the {what} trajectory has no times")));
        }
    }
    let (ra, rb) = (reference.times[0], *reference.times.last().unwrap_or(&0.0));
    let (ca, cb) = (candidate.times[0], *candidate.times.last().unwrap_or(&0.0));
    let (t_from, t_to) = (ra.max(ca), rb.min(cb));
    if t_from > t_to {
        return Err(cerr(format!(
            "the time ranges do not overlap: reference [{ra}, {rb}], candidate [{ca}, {cb}]"
        )));
    }
    let own: &[f64] = if opts.at_reference_times {
        &[]
    } else {
        &candidate.times
    };
    let mut times: Vec<f64> = reference
        .times
        .iter()
        .chain(own)
        .copied()
        .filter(|&t| t >= t_from && t <= t_to)
        .collect();
    let times_skipped = reference.times.len() + own.len() - times.len();
    times.sort_by(f64::total_cmp);
    times.dedup();

    let cand_index: BTreeMap<&str, usize> = candidate
        .names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let ref_names: std::collections::BTreeSet<&str> =
        reference.names.iter().map(String::as_str).collect();
    let only_in_candidate: Vec<String> = candidate
        .names
        .iter()
        .filter(|n| !ref_names.contains(n.as_str()))
        .cloned()
        .collect();
    let mut only_in_reference = Vec::new();

    let mut devices = Vec::new();
    let (mut max_abs, mut max_abs_dev, mut max_abs_t) = (0.0f64, String::new(), t_from);
    for (k, name) in reference.names.iter().enumerate() {
        let Some(&j) = cand_index.get(name.as_str()) else {
            only_in_reference.push(name.clone());
            continue;
        };
        let tol = opts.per_device.get(name).copied().unwrap_or(opts.tol);
        let mut dev = DeviceError {
            device: name.clone(),
            max_ratio: 0.0,
            time: t_from,
            reference: f64::NAN,
            candidate: f64::NAN,
            max_abs_error: 0.0,
            failing_times: 0,
        };
        let mut first = true;
        for &t in &times {
            let a = reference.value_at(k, t).unwrap_or(f64::NAN);
            let b = candidate.value_at(j, t).unwrap_or(f64::NAN);
            let r = tol.ratio(a, b);
            let d = (a - b).abs();
            let d = if d.is_nan() { f64::INFINITY } else { d };
            if r > 1.0 {
                dev.failing_times += 1;
            }
            if first || r > dev.max_ratio {
                first = false;
                dev.max_ratio = r;
                dev.time = t;
                dev.reference = a;
                dev.candidate = b;
            }
            if d > dev.max_abs_error {
                dev.max_abs_error = d;
            }
            if d > max_abs {
                max_abs = d;
                max_abs_dev = name.clone();
                max_abs_t = t;
            }
        }
        devices.push(dev);
    }
    let devices_failing = devices.iter().filter(|d| d.failing_times > 0).count();
    let max_ratio = devices.iter().map(|d| d.max_ratio).fold(0.0, f64::max);
    devices.sort_by(|a, b| {
        b.max_ratio
            .total_cmp(&a.max_ratio)
            .then_with(|| a.device.cmp(&b.device))
    });
    let devices_compared = devices.len();
    devices.truncate(opts.worst);
    Ok(CompareReport {
        pass: devices_failing == 0
            && only_in_reference.is_empty()
            && only_in_candidate.is_empty()
            && devices_compared > 0,
        tol: opts.tol,
        devices_compared,
        devices_failing,
        times_compared: times.len(),
        t_from,
        t_to,
        times_skipped,
        max_abs_error: max_abs,
        max_abs_error_device: max_abs_dev,
        max_abs_error_time: max_abs_t,
        max_ratio,
        worst: devices,
        only_in_reference,
        only_in_candidate,
    })
}

impl CompareReport {
    /// A compact, stable text rendering (fixed number formats, sorted
    /// lists), suitable for terminals and snapshots.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{}: {} of {} devices within reltol={:e} abstol={:e}",
            if self.pass { "PASS" } else { "FAIL" },
            self.devices_compared - self.devices_failing,
            self.devices_compared,
            self.tol.reltol,
            self.tol.abstol
        );
        let _ = writeln!(
            s,
            "times: {} compared in [{:.6e}, {:.6e}], {} outside the common range",
            self.times_compared, self.t_from, self.t_to, self.times_skipped
        );
        if self.max_abs_error > 0.0 {
            let _ = writeln!(
                s,
                "max |a-b| = {:.3e} ({} at t={:.6e}); max ratio = {:.3}",
                self.max_abs_error,
                self.max_abs_error_device,
                self.max_abs_error_time,
                self.max_ratio
            );
        } else {
            let _ = writeln!(s, "max |a-b| = 0 (identical at every compared time)");
        }
        if !self.worst.is_empty() {
            let _ = writeln!(s, "worst devices:");
            for d in &self.worst {
                let _ = writeln!(
                    s,
                    "  {:<16} ratio {:>10.3}  |a-b|max {:.3e}  at t={:.6e}: ref {:.9e} cand {:.9e}  ({} failing times)",
                    d.device,
                    d.max_ratio,
                    d.max_abs_error,
                    d.time,
                    d.reference,
                    d.candidate,
                    d.failing_times
                );
            }
        }
        for (label, list) in [
            ("only in reference", &self.only_in_reference),
            ("only in candidate", &self.only_in_candidate),
        ] {
            if !list.is_empty() {
                let shown: Vec<&str> = list.iter().take(10).map(String::as_str).collect();
                let more = list.len().saturating_sub(shown.len());
                let _ = write!(s, "{label} ({}): {}", list.len(), shown.join(", "));
                if more > 0 {
                    let _ = write!(s, ", ... {more} more");
                }
                let _ = writeln!(s);
            }
        }
        s
    }
}
