//! Non-linear ion drift (Lehtonen & Laiho, CNNA 2010); docs/device-laws.md,
//! "Non-linear ion drift".
//!
//!   w in [0, 1]
//!   i = w^n beta sinh(alpha v) + chi (e^{gamma v} - 1)      (non-linear)
//!   dw/dt = a v^m f(w),   m an odd integer in practice
//!
//! Windows f: none, Joglekar 1 - ((2w - 1)^2)^p, Biolek
//! 1 - ((w - stp(-v))^2)^p. A state below |v| = threshold is frozen.

use super::{DeviceFault, DeviceLaw, Param, biolek_window, joglekar_window};

/// Parameters (Technion Verilog-A names and defaults).
pub const PARAMS: &[Param] = &[
    Param {
        name: "alpha",
        default: 2.0,
        unit: "1/V",
        meaning: "sinh exponent",
    },
    Param {
        name: "beta",
        default: 9.0,
        unit: "A",
        meaning: "memristive current scale",
    },
    Param {
        name: "chi",
        default: 0.01,
        unit: "A",
        meaning: "diode current scale",
    },
    Param {
        name: "gamma",
        default: 4.0,
        unit: "1/V",
        meaning: "diode exponent",
    },
    Param {
        name: "n",
        default: 14.0,
        unit: "",
        meaning: "state exponent of the current",
    },
    Param {
        name: "m",
        default: 13.0,
        unit: "",
        meaning: "voltage exponent of the rate",
    },
    Param {
        name: "a",
        default: 4.0,
        unit: "V^-m/s",
        meaning: "rate constant",
    },
    Param {
        name: "p",
        default: 1.0,
        unit: "",
        meaning: "window exponent",
    },
    Param {
        name: "threshold",
        default: 0.0,
        unit: "V",
        meaning: "state frozen below |v|",
    },
    Param {
        name: "w0",
        default: 0.5,
        unit: "",
        meaning: "initial state",
    },
];

/// The window of a non-linear drift device.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NlidWindow {
    None,
    Joglekar { p: f64 },
    Biolek { p: f64 },
}

/// One non-linear drift device.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NonlinearDriftDevice {
    pub alpha: f64,
    pub beta: f64,
    pub chi: f64,
    pub gamma: f64,
    pub n: f64,
    pub m: f64,
    pub a: f64,
    pub threshold: f64,
    pub w0: f64,
    pub window: NlidWindow,
}

impl NonlinearDriftDevice {
    /// A device from its parameters ([`PARAMS`]) and window (`none`,
    /// `joglekar`, `biolek`), or the reason they are unusable.
    pub fn from_params(given: &[(&str, f64)], window: &str) -> Result<Self, String> {
        let get = |n: &str| super::param_value(PARAMS, given, n).unwrap_or(f64::NAN);
        let p = get("p");
        let window = match window {
            "none" => NlidWindow::None,
            "joglekar" => NlidWindow::Joglekar { p },
            "biolek" => NlidWindow::Biolek { p },
            other => {
                return Err(format!(
                    "window `{other}` is not one of none, joglekar, biolek"
                ));
            }
        };
        let dev = NonlinearDriftDevice {
            alpha: get("alpha"),
            beta: get("beta"),
            chi: get("chi"),
            gamma: get("gamma"),
            n: get("n"),
            m: get("m"),
            a: get("a"),
            threshold: get("threshold"),
            w0: get("w0"),
            window,
        };
        for (name, v) in [
            ("alpha", dev.alpha),
            ("beta", dev.beta),
            ("chi", dev.chi),
            ("gamma", dev.gamma),
            ("n", dev.n),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{name} = {v} must be finite and not negative"));
            }
        }
        if dev.alpha * dev.beta == 0.0 && dev.chi * dev.gamma == 0.0 {
            return Err("the device conducts nothing (alpha beta = chi gamma = 0)".into());
        }
        for (name, v) in [("m", dev.m), ("a", dev.a), ("threshold", dev.threshold)] {
            if !v.is_finite() {
                return Err(format!("{name} = {v} must be finite"));
            }
        }
        if window != NlidWindow::None && !(p.is_finite() && p > 0.0) {
            return Err(format!("p = {p} must be positive and finite"));
        }
        if !(0.0..=1.0).contains(&dev.w0) {
            return Err(format!("w0 = {} must lie in [0, 1]", dev.w0));
        }
        Ok(dev)
    }

    /// v^m, odd in v for integer m (sign(v) |v|^m otherwise).
    #[inline]
    fn v_pow(&self, v: f64) -> f64 {
        if self.m.fract() == 0.0 && self.m.abs() < 1024.0 {
            v.powi(self.m as i32)
        } else {
            v.signum() * v.abs().powf(self.m)
        }
    }
}

/// The non-linear drift law for a set of devices (state: w).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NonlinearDriftLaw {
    pub devices: Vec<NonlinearDriftDevice>,
}

impl DeviceLaw for NonlinearDriftLaw {
    fn name(&self) -> &'static str {
        "nonlinear_drift"
    }

    fn len(&self) -> usize {
        self.devices.len()
    }

    fn initial_state(&self, d: usize) -> f64 {
        self.devices[d].w0
    }

    fn linear_in_voltage(&self) -> bool {
        false
    }

    fn state_bounds(&self, _d: usize) -> (f64, f64) {
        (0.0, 1.0)
    }

    /// di/dv = w^n beta alpha cosh(alpha v) + chi gamma e^{gamma v} > 0.
    #[inline]
    fn conductance(&self, d: usize, w: f64, v: f64) -> Result<f64, DeviceFault> {
        let dev = &self.devices[d];
        let g = w.max(0.0).powf(dev.n) * dev.beta * dev.alpha * (dev.alpha * v).cosh()
            + dev.chi * dev.gamma * (dev.gamma * v).exp();
        if g.is_finite() && g > 0.0 {
            Ok(g)
        } else {
            Err(DeviceFault::NonPhysicalResistance(1.0 / g))
        }
    }

    #[inline]
    fn current(&self, d: usize, w: f64, v: f64) -> Result<f64, DeviceFault> {
        let dev = &self.devices[d];
        let i = w.max(0.0).powf(dev.n) * dev.beta * (dev.alpha * v).sinh()
            + dev.chi * (dev.gamma * v).exp_m1();
        if i.is_finite() {
            Ok(i)
        } else {
            Err(DeviceFault::NonPhysicalResistance(v / i))
        }
    }

    #[inline]
    fn state_rate(&self, d: usize, w: f64, v: f64, _i: f64) -> f64 {
        let dev = &self.devices[d];
        if v.abs() < dev.threshold {
            return 0.0;
        }
        let f = match dev.window {
            NlidWindow::None => 1.0,
            NlidWindow::Joglekar { p } => joglekar_window(w, p),
            NlidWindow::Biolek { p } => biolek_window(w, v, p),
        };
        dev.a * dev.v_pow(v) * f
    }

    /// The threshold |v| = threshold (at v = 0 when there is none, where
    /// the Biolek window and |v|^q turn).
    fn switch_count(&self) -> usize {
        2
    }

    fn switches(&self, d: usize, _w: f64, v: f64, _i: f64, out: &mut [f64]) {
        let th = self.devices[d].threshold;
        out[0] = super::past(v, th);
        out[1] = super::past(v, -th);
    }

    fn state_name(&self) -> &'static str {
        "w"
    }
}
