//! Xyce's `YMEMRISTOR` level 4, the piecewise empirical model (Niroula et
//! al., J. Comput. Electron. 2017), as `N_DEV_MemristorPEM.C` evaluates it;
//! docs/device-laws.md, "PEM".
//!
//!   i = x h(v),  h(v) = i1 e^{v/v1} - i2 e^{-v/v2} + g0 v - (i1 - i2)
//!   G(v) = e^{d1 (v - vp)} - 1   v >= vp
//!        = e^{d2 (v - vn)} - 1   else if v <= vn     (vn signed, as coded)
//!        = 0                     otherwise
//!   dx/dt = c1 G(v) f+(x)  (v >= 0),   c2 G(v) f-(x)  (v < 0)
//!
//! f+ and f- are the two-column tables `fxpdata`, `fxmdata`, interpolated
//! linearly and extrapolated linearly outside their range, except that
//! f+ = 0 above the last x of its table and f- = 0 below the first x of
//! its table (Xyce's cut-offs, which stop the state at the table ends).
//! The current is not linear in v: networks of these devices are solved by
//! Newton (di/dv = x h'(v), plus gmin: at x = 0 the device is open).

use std::sync::Arc;

use memnet_spice::DataTable;

use super::{DeviceFault, DeviceLaw, Param};

/// Parameters and defaults of Xyce's `.model ... memristor level=4`
/// (`loadModelParameters`) and the instance parameter `xo`.
pub const PARAMS: &[Param] = &[
    Param {
        name: "v1",
        default: 1.0,
        unit: "V",
        meaning: "forward voltage scale",
    },
    Param {
        name: "v2",
        default: 1.0,
        unit: "V",
        meaning: "reverse voltage scale",
    },
    Param {
        name: "i1",
        default: 1.0,
        unit: "A",
        meaning: "forward current scale",
    },
    Param {
        name: "i2",
        default: 1.0,
        unit: "A",
        meaning: "reverse current scale",
    },
    Param {
        name: "g0",
        default: 1.0,
        unit: "S",
        meaning: "linear conductance",
    },
    Param {
        name: "vp",
        default: 1e-2,
        unit: "V",
        meaning: "positive threshold",
    },
    Param {
        name: "vn",
        default: -1e-2,
        unit: "V",
        meaning: "negative threshold (signed)",
    },
    Param {
        name: "d1",
        default: 1.0,
        unit: "1/V",
        meaning: "positive threshold sharpness",
    },
    Param {
        name: "d2",
        default: 1.0,
        unit: "1/V",
        meaning: "negative threshold sharpness",
    },
    Param {
        name: "c1",
        default: 1.0,
        unit: "1/s",
        meaning: "forward rate",
    },
    Param {
        name: "c2",
        default: 1.0,
        unit: "1/s",
        meaning: "reverse rate",
    },
    Param {
        name: "xo",
        default: 0.0,
        unit: "",
        meaning: "initial state",
    },
];

/// A table's interpolant: linear inside, extrapolated from the end
/// segments outside.
#[inline]
fn interpolate(points: &[(f64, f64)], x: f64) -> f64 {
    // Index of the segment [k, k + 1] holding x, clamped to the ends.
    let k = points
        .partition_point(|p| p.0 <= x)
        .clamp(1, points.len() - 1)
        - 1;
    let (xa, fa) = points[k];
    let (xb, fb) = points[k + 1];
    fa + (fb - fa) * (x - xa) / (xb - xa)
}

/// One PEM device; `fp`, `fm` index [`PemLaw::tables`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PemDevice {
    pub v1: f64,
    pub v2: f64,
    pub i1: f64,
    pub i2: f64,
    pub g0: f64,
    pub vp: f64,
    pub vn: f64,
    pub d1: f64,
    pub d2: f64,
    pub c1: f64,
    pub c2: f64,
    pub x0: f64,
    /// Whether `xo` was given; if not, Xyce's operating point sets x(0) =
    /// 1 for a device forward-biased at t = 0, else 0.
    pub x0_given: bool,
    pub fp: u32,
    pub fm: u32,
}

impl PemDevice {
    /// h(v) and h'(v).
    #[inline]
    pub fn h(&self, v: f64) -> (f64, f64) {
        let a = self.i1 * (v / self.v1).exp();
        let b = self.i2 * (-v / self.v2).exp();
        (
            a - b + self.g0 * v - (self.i1 - self.i2),
            a / self.v1 + b / self.v2 + self.g0,
        )
    }

    /// The threshold function G(v).
    #[inline]
    pub fn threshold(&self, v: f64) -> f64 {
        if v >= self.vp {
            (self.d1 * (v - self.vp)).exp_m1()
        } else if v <= self.vn {
            (self.d2 * (v - self.vn)).exp_m1()
        } else {
            0.0
        }
    }
}

/// The PEM law for a set of devices (state: x), with the tables they read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PemLaw {
    pub devices: Vec<PemDevice>,
    /// Each distinct table once (a model's devices share theirs).
    pub tables: Vec<Arc<DataTable>>,
}

impl PemLaw {
    /// Appends a device from its parameters ([`PARAMS`]) and its tables
    /// `fxpdata`, `fxmdata`, or says why they are unusable.
    pub fn push(
        &mut self,
        given: &[(&str, f64)],
        tables: &[(String, Arc<DataTable>)],
    ) -> Result<(), String> {
        let get = |n: &str| super::param_value(PARAMS, given, n).unwrap_or(f64::NAN);
        for p in PARAMS {
            let v = get(p.name);
            if !v.is_finite() {
                return Err(format!("{} = {v} must be finite", p.name));
            }
        }
        for name in ["v1", "v2"] {
            if get(name) == 0.0 {
                return Err(format!("{name} = 0 divides by zero in h(v)"));
            }
        }
        let mut index = |key: &str| -> Result<u32, String> {
            let (_, t) = tables
                .iter()
                .find(|(k, _)| k == key)
                .ok_or_else(|| format!("table {key} is missing (Xyce level 4 reads two files)"))?;
            if t.points.len() < 2 {
                return Err(format!("table {key} ('{}') needs two rows", t.path));
            }
            let k = match self.tables.iter().position(|u| Arc::ptr_eq(u, t)) {
                Some(k) => k,
                None => {
                    self.tables.push(t.clone());
                    self.tables.len() - 1
                }
            };
            Ok(k as u32)
        };
        let fp = index("fxpdata")?;
        let fm = index("fxmdata")?;
        self.devices.push(PemDevice {
            v1: get("v1"),
            v2: get("v2"),
            i1: get("i1"),
            i2: get("i2"),
            g0: get("g0"),
            vp: get("vp"),
            vn: get("vn"),
            d1: get("d1"),
            d2: get("d2"),
            c1: get("c1"),
            c2: get("c2"),
            x0: get("xo"),
            x0_given: given.iter().any(|(n, _)| *n == "xo"),
            fp,
            fm,
        });
        Ok(())
    }

    /// f+(x) of device `d`, 0 past its table's last x.
    #[inline]
    pub fn f_plus(&self, d: usize, x: f64) -> f64 {
        let t = &self.tables[self.devices[d].fp as usize].points;
        if x > t[t.len() - 1].0 {
            0.0
        } else {
            interpolate(t, x)
        }
    }

    /// f-(x) of device `d`, 0 before its table's first x.
    #[inline]
    pub fn f_minus(&self, d: usize, x: f64) -> f64 {
        let t = &self.tables[self.devices[d].fm as usize].points;
        if x < t[0].0 { 0.0 } else { interpolate(t, x) }
    }
}

impl DeviceLaw for PemLaw {
    fn name(&self) -> &'static str {
        "pem"
    }

    fn len(&self) -> usize {
        self.devices.len()
    }

    fn initial_state(&self, d: usize) -> f64 {
        self.devices[d].x0
    }

    fn linear_in_voltage(&self) -> bool {
        self.devices.is_empty()
    }

    /// Xyce does not bound x; the table cut-offs stop it.
    fn state_bounds(&self, _d: usize) -> (f64, f64) {
        (f64::NEG_INFINITY, f64::INFINITY)
    }

    /// Xyce's DC operating point without `xo`: x = 1 when V+ > V-, else 0.
    fn initial_state_at_bias(&self, d: usize, v: f64) -> Option<f64> {
        (!self.devices[d].x0_given).then_some(if v > 0.0 { 1.0 } else { 0.0 })
    }

    #[inline]
    fn conductance(&self, d: usize, x: f64, v: f64) -> Result<f64, DeviceFault> {
        Ok(x * self.devices[d].h(v).1)
    }

    #[inline]
    fn current(&self, d: usize, x: f64, v: f64) -> Result<f64, DeviceFault> {
        Ok(x * self.devices[d].h(v).0)
    }

    #[inline]
    fn state_rate(&self, d: usize, x: f64, v: f64, _i: f64) -> f64 {
        let dev = &self.devices[d];
        let g = dev.threshold(v);
        if g == 0.0 {
            return 0.0;
        }
        if v >= 0.0 {
            dev.c1 * g * self.f_plus(d, x)
        } else {
            dev.c2 * g * self.f_minus(d, x)
        }
    }

    /// The thresholds vp and vn. (The corners of the interpolated tables
    /// are not located.)
    fn switch_count(&self) -> usize {
        2
    }

    fn switches(&self, d: usize, _x: f64, v: f64, _i: f64, out: &mut [f64]) {
        let dev = &self.devices[d];
        out[0] = super::past(v, dev.vp);
        out[1] = super::past(v, dev.vn);
    }
}

#[cfg(test)]
mod tests {
    use super::interpolate;

    #[test]
    fn interpolates_inside_and_extrapolates_outside() {
        let t = [(0.0, 1.0), (1.0, 3.0), (2.0, 2.0)];
        assert_eq!(interpolate(&t, 0.5), 2.0);
        assert_eq!(interpolate(&t, 1.5), 2.5);
        assert_eq!(interpolate(&t, -1.0), -1.0);
        assert_eq!(interpolate(&t, 3.0), 1.0);
        assert_eq!(interpolate(&t, 1.0), 3.0);
    }
}
