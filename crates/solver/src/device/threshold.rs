//! The ngspice XSPICE `memristor` code model, which is the threshold law
//! of Pershin & Di Ventra (Radioengineering 22(2):485, 2013);
//! docs/device-laws.md, "XSPICE memristor".
//!
//!   state R in [rmin, rmax] (ohm),   i = v / R
//!   f1(v) = beta v + (alpha - beta) (|v + vt| - |v - vt|) / 2
//!   dR/dt = f1(v) where (f1 > 0 and R < rmax) or (f1 < 0 and R > rmin),
//!           0 otherwise (the law's own gate: memnet's sticky rule).

use super::{DeviceFault, DeviceLaw, Param, conductance_of};

/// Parameters as the XSPICE `.model NAME memristor (...)` card names
/// them, with its defaults.
pub const PARAMS: &[Param] = &[
    Param {
        name: "rmin",
        default: 10.0,
        unit: "ohm",
        meaning: "lowest resistance",
    },
    Param {
        name: "rmax",
        default: 10e3,
        unit: "ohm",
        meaning: "highest resistance",
    },
    Param {
        name: "rinit",
        default: 7e3,
        unit: "ohm",
        meaning: "initial resistance",
    },
    Param {
        name: "alpha",
        default: 0.0,
        unit: "ohm/(V s)",
        meaning: "slope below threshold",
    },
    Param {
        name: "beta",
        default: 1.0,
        unit: "ohm/(V s)",
        meaning: "slope above threshold",
    },
    Param {
        name: "vt",
        default: 0.0,
        unit: "V",
        meaning: "threshold voltage",
    },
];

/// One threshold device.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThresholdDevice {
    pub rmin: f64,
    pub rmax: f64,
    pub rinit: f64,
    pub alpha: f64,
    pub beta: f64,
    pub vt: f64,
}

impl ThresholdDevice {
    /// A device from its parameters ([`PARAMS`]), or the reason they are
    /// unusable, naming the parameter.
    pub fn from_params(given: &[(&str, f64)]) -> Result<ThresholdDevice, String> {
        let get = |n: &str| super::param_value(PARAMS, given, n).unwrap_or(f64::NAN);
        let dev = ThresholdDevice {
            rmin: get("rmin"),
            rmax: get("rmax"),
            rinit: get("rinit"),
            alpha: get("alpha"),
            beta: get("beta"),
            vt: get("vt"),
        };
        if !(dev.rmin.is_finite() && dev.rmin > 0.0) {
            return Err(format!("rmin = {} must be positive and finite", dev.rmin));
        }
        if !(dev.rmax.is_finite() && dev.rmax > dev.rmin) {
            return Err(format!(
                "rmax = {} must be finite and above rmin = {}",
                dev.rmax, dev.rmin
            ));
        }
        if !(dev.rmin..=dev.rmax).contains(&dev.rinit) {
            return Err(format!(
                "rinit = {} must lie in [rmin, rmax] = [{}, {}]",
                dev.rinit, dev.rmin, dev.rmax
            ));
        }
        for (name, v) in [("alpha", dev.alpha), ("beta", dev.beta), ("vt", dev.vt)] {
            if !v.is_finite() {
                return Err(format!("{name} = {v} must be finite"));
            }
        }
        if dev.vt < 0.0 {
            return Err(format!("vt = {} must not be negative", dev.vt));
        }
        Ok(dev)
    }

    /// f1(v), ohm/s.
    #[inline]
    pub fn f1(&self, v: f64) -> f64 {
        self.beta * v + 0.5 * (self.alpha - self.beta) * ((v + self.vt).abs() - (v - self.vt).abs())
    }
}

/// The threshold law for a set of devices (state: R in ohms).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ThresholdLaw {
    pub devices: Vec<ThresholdDevice>,
}

impl DeviceLaw for ThresholdLaw {
    fn name(&self) -> &'static str {
        "xspice_memristor"
    }

    fn len(&self) -> usize {
        self.devices.len()
    }

    fn initial_state(&self, d: usize) -> f64 {
        self.devices[d].rinit
    }

    fn linear_in_voltage(&self) -> bool {
        true
    }

    fn state_bounds(&self, d: usize) -> (f64, f64) {
        (self.devices[d].rmin, self.devices[d].rmax)
    }

    #[inline]
    fn conductance(&self, _d: usize, r: f64, _v: f64) -> Result<f64, DeviceFault> {
        conductance_of(r)
    }

    #[inline]
    fn current(&self, d: usize, r: f64, v: f64) -> Result<f64, DeviceFault> {
        Ok(self.conductance(d, r, v)? * v)
    }

    #[inline]
    fn state_rate(&self, d: usize, r: f64, v: f64, _i: f64) -> f64 {
        let dev = &self.devices[d];
        let f = dev.f1(v);
        if (f > 0.0 && r < dev.rmax) || (f < 0.0 && r > dev.rmin) {
            f
        } else {
            0.0
        }
    }

    /// The corners of f1 at v = +-vt.
    fn switch_count(&self) -> usize {
        2
    }

    fn switches(&self, d: usize, _r: f64, v: f64, _i: f64, out: &mut [f64]) {
        let vt = self.devices[d].vt;
        out[0] = super::past(v, vt);
        out[1] = super::past(v, -vt);
    }

    fn state_name(&self) -> &'static str {
        "R"
    }
}
