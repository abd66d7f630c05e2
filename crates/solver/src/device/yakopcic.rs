//! Yakopcic's generalised memristive device (Yakopcic et al., IEEE EDL
//! 32(10):1436, 2011; IEEE TCAD 32(8):1201, 2013), as Xyce's level 3
//! evaluates it; docs/device-laws.md, "Yakopcic".
//!
//!   x in [0, 1]
//!   i = a1 x sinh(b v) (v >= 0),   a2 x sinh(b v) (v < 0)    (non-linear)
//!   g(v) = ap (e^v - e^vp)      v > vp
//!        = -an (e^-v - e^vn)    v < -vn
//!        = 0                    otherwise
//!   f(x, v) = eta v > 0: x > xp ? (1 - x)/(1 - xp) e^{-alphap (x - xp)} : 1
//!             else:      x <= 1 - xn ? x/(1 - xn) e^{alphan (x + xn - 1)} : 1
//!   dx/dt = eta g(v) f(x, v)
//!
//! The current is not linear in v: a network of these devices is solved
//! by Newton on the node potentials with di/dv = a x b cosh(b v) (plus a
//! small gmin, since a device at x = 0 conducts nothing).

use super::{DeviceFault, DeviceLaw, Param};

/// The parameter set of Xyce's regression netlist `memristorYakopcic.cir`
/// with x0 = 0.11: the device-model notes' worked example E9, and the
/// usable set the tests and benches share (Xyce's defaults, xp = xn = 1,
/// are degenerate and refused).
pub const XYCE_REGRESSION_SET: &[(&str, f64)] = &[
    ("a1", 0.17),
    ("a2", 0.17),
    ("b", 0.05),
    ("vp", 0.16),
    ("vn", 0.15),
    ("ap", 4000.0),
    ("an", 4000.0),
    ("xp", 0.3),
    ("xn", 0.5),
    ("alphap", 1.0),
    ("alphan", 5.0),
    ("eta", 1.0),
    ("xo", 0.11),
];

/// Parameters (Xyce `.model ... memristor level=3` names, its defaults).
/// Xyce's defaults xp = xn = 1 divide by zero and vn < 0 makes a device
/// drift without bias: [`YakopcicDevice::from_params`] refuses the first
/// and accepts the second as written.
pub const PARAMS: &[Param] = &[
    Param {
        name: "a1",
        default: 1.0,
        unit: "A",
        meaning: "current scale, v >= 0",
    },
    Param {
        name: "a2",
        default: 1.0,
        unit: "A",
        meaning: "current scale, v < 0",
    },
    Param {
        name: "b",
        default: 1.0,
        unit: "1/V",
        meaning: "sinh exponent",
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
        meaning: "negative threshold (magnitude)",
    },
    Param {
        name: "ap",
        default: 1.0,
        unit: "1/s",
        meaning: "positive rate",
    },
    Param {
        name: "an",
        default: 1.0,
        unit: "1/s",
        meaning: "negative rate",
    },
    Param {
        name: "xp",
        default: 1.0,
        unit: "",
        meaning: "positive window onset",
    },
    Param {
        name: "xn",
        default: 1.0,
        unit: "",
        meaning: "negative window onset",
    },
    Param {
        name: "alphap",
        default: 1.0,
        unit: "",
        meaning: "positive window decay",
    },
    Param {
        name: "alphan",
        default: 1.0,
        unit: "",
        meaning: "negative window decay",
    },
    Param {
        name: "eta",
        default: 1.0,
        unit: "",
        meaning: "direction (+1 or -1)",
    },
    Param {
        name: "xo",
        default: 0.0,
        unit: "",
        meaning: "initial state",
    },
];

/// One Yakopcic device.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct YakopcicDevice {
    pub a1: f64,
    pub a2: f64,
    pub b: f64,
    pub vp: f64,
    pub vn: f64,
    pub ap: f64,
    pub an: f64,
    pub xp: f64,
    pub xn: f64,
    pub alphap: f64,
    pub alphan: f64,
    pub eta: f64,
    pub x0: f64,
}

impl YakopcicDevice {
    /// A device from its parameters ([`PARAMS`]), or the reason they are
    /// unusable, naming the parameter.
    pub fn from_params(given: &[(&str, f64)]) -> Result<YakopcicDevice, String> {
        let get = |n: &str| super::param_value(PARAMS, given, n).unwrap_or(f64::NAN);
        let dev = YakopcicDevice {
            a1: get("a1"),
            a2: get("a2"),
            b: get("b"),
            vp: get("vp"),
            vn: get("vn"),
            ap: get("ap"),
            an: get("an"),
            xp: get("xp"),
            xn: get("xn"),
            alphap: get("alphap"),
            alphan: get("alphan"),
            eta: get("eta"),
            x0: get("xo"),
        };
        for (name, v) in [("a1", dev.a1), ("a2", dev.a2), ("b", dev.b)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{name} = {v} must be positive and finite"));
            }
        }
        for (name, v) in [("xp", dev.xp), ("xn", dev.xn)] {
            if !(v.is_finite() && (0.0..1.0).contains(&v)) {
                return Err(format!(
                    "{name} = {v} must lie in [0, 1) (at 1 the window divides by zero)"
                ));
            }
        }
        for (name, v) in [
            ("vp", dev.vp),
            ("vn", dev.vn),
            ("ap", dev.ap),
            ("an", dev.an),
            ("alphap", dev.alphap),
            ("alphan", dev.alphan),
        ] {
            if !v.is_finite() {
                return Err(format!("{name} = {v} must be finite"));
            }
        }
        if dev.eta != 1.0 && dev.eta != -1.0 {
            return Err(format!("eta = {} must be +1 or -1", dev.eta));
        }
        if !(0.0..=1.0).contains(&dev.x0) {
            return Err(format!("xo = {} must lie in [0, 1]", dev.x0));
        }
        Ok(dev)
    }

    /// g(v), 1/s.
    #[inline]
    pub fn g(&self, v: f64) -> f64 {
        if v > self.vp {
            self.ap * (v.exp() - self.vp.exp())
        } else if v < -self.vn {
            -self.an * ((-v).exp() - self.vn.exp())
        } else {
            0.0
        }
    }

    /// f(x, v).
    #[inline]
    pub fn window(&self, x: f64, v: f64) -> f64 {
        if self.eta * v > 0.0 {
            if x > self.xp {
                (1.0 - x) / (1.0 - self.xp) * (-self.alphap * (x - self.xp)).exp()
            } else {
                1.0
            }
        } else if x <= 1.0 - self.xn {
            x / (1.0 - self.xn) * (self.alphan * (x + self.xn - 1.0)).exp()
        } else {
            1.0
        }
    }

    #[inline]
    fn scale(&self, v: f64) -> f64 {
        if v >= 0.0 { self.a1 } else { self.a2 }
    }
}

/// The Yakopcic law for a set of devices (state: x).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct YakopcicLaw {
    pub devices: Vec<YakopcicDevice>,
}

impl DeviceLaw for YakopcicLaw {
    fn name(&self) -> &'static str {
        "yakopcic"
    }

    fn len(&self) -> usize {
        self.devices.len()
    }

    fn initial_state(&self, d: usize) -> f64 {
        self.devices[d].x0
    }

    fn linear_in_voltage(&self) -> bool {
        false
    }

    fn state_bounds(&self, _d: usize) -> (f64, f64) {
        (0.0, 1.0)
    }

    /// di/dv = a x b cosh(b v) (0 at x = 0: the caller adds a gmin).
    #[inline]
    fn conductance(&self, d: usize, x: f64, v: f64) -> Result<f64, DeviceFault> {
        let dev = &self.devices[d];
        let g = dev.scale(v) * x * dev.b * (dev.b * v).cosh();
        if g.is_finite() && g >= 0.0 {
            Ok(g)
        } else {
            Err(DeviceFault::NonPhysicalResistance(1.0 / g))
        }
    }

    #[inline]
    fn current(&self, d: usize, x: f64, v: f64) -> Result<f64, DeviceFault> {
        let dev = &self.devices[d];
        Ok(dev.scale(v) * x * (dev.b * v).sinh())
    }

    #[inline]
    fn state_rate(&self, d: usize, x: f64, v: f64, _i: f64) -> f64 {
        let dev = &self.devices[d];
        dev.eta * dev.g(v) * dev.window(x, v)
    }

    /// The thresholds v = vp and v = -vn of g, and the window corners
    /// x = xp and x = 1 - xn.
    fn switch_count(&self) -> usize {
        4
    }

    fn switches(&self, d: usize, x: f64, v: f64, _i: f64, out: &mut [f64]) {
        let dev = &self.devices[d];
        out[0] = super::past(v, dev.vp);
        out[1] = super::past(v, -dev.vn);
        out[2] = x - dev.xp;
        out[3] = x - (1.0 - dev.xn);
    }
}
