//! TEAM (Kvatinsky et al., IEEE TCAS-I 60(1):211, 2013) and VTEAM
//! (Kvatinsky et al., IEEE TCAS-II 62(8):786, 2015) with the Kvatinsky
//! window; docs/device-laws.md, "TEAM and VTEAM".
//!
//!   x in [x_on, x_off] (m; x_on is the R_on end)
//!   linear R:      R = ron + (roff - ron) (x - x_on) / (x_off - x_on)
//!   exponential R: R = ron exp(lambda (x - x_on) / (x_off - x_on)),
//!                  lambda = ln(roff / ron)
//!   u = i (TEAM) or v (VTEAM), thresholds u_on < 0 < u_off:
//!   dx/dt = k_off (u / u_off - 1)^alpha_off f_off(x)   u >= u_off
//!         = 0                                           u_on < u < u_off
//!         = k_on  (u / u_on  - 1)^alpha_on  f_on(x)    u <= u_on
//!   Kvatinsky window: f_off = exp(-exp((x - a_off) / w_c)),
//!                     f_on  = exp(-exp(-(x - a_on) / w_c)).
//!
//! The bases of the powers are >= 0 on their branches (guarded, so a
//! non-integer alpha never meets a negative base); an exponent argument
//! past 709 makes the window exactly 0 instead of overflowing. The window
//! does not bound x (the state creeps past a_on, a_off); the bound rules
//! act on [x_on, x_off].

use super::{DeviceFault, DeviceLaw, Param, conductance_of};

/// Parameters of TEAM/VTEAM (paper names; defaults: Xyce's level-2 set,
/// with the on threshold negative as in the paper).
pub const PARAMS: &[Param] = &[
    Param {
        name: "ron",
        default: 50.0,
        unit: "ohm",
        meaning: "resistance at x_on",
    },
    Param {
        name: "roff",
        default: 1000.0,
        unit: "ohm",
        meaning: "resistance at x_off",
    },
    Param {
        name: "kon",
        default: -8e-13,
        unit: "m/s",
        meaning: "on-switching rate (< 0)",
    },
    Param {
        name: "koff",
        default: 8e-13,
        unit: "m/s",
        meaning: "off-switching rate (> 0)",
    },
    Param {
        name: "alphaon",
        default: 3.0,
        unit: "",
        meaning: "on exponent",
    },
    Param {
        name: "alphaoff",
        default: 3.0,
        unit: "",
        meaning: "off exponent",
    },
    Param {
        name: "ion",
        default: -8.9e-6,
        unit: "A",
        meaning: "TEAM on threshold (< 0)",
    },
    Param {
        name: "ioff",
        default: 115e-6,
        unit: "A",
        meaning: "TEAM off threshold (> 0)",
    },
    Param {
        name: "von",
        default: -0.2,
        unit: "V",
        meaning: "VTEAM on threshold (< 0)",
    },
    Param {
        name: "voff",
        default: 0.02,
        unit: "V",
        meaning: "VTEAM off threshold (> 0)",
    },
    Param {
        name: "xon",
        default: 0.0,
        unit: "m",
        meaning: "state at ron",
    },
    Param {
        name: "xoff",
        default: 3e-9,
        unit: "m",
        meaning: "state at roff",
    },
    Param {
        name: "aon",
        default: 0.0,
        unit: "m",
        meaning: "Kvatinsky window on edge",
    },
    Param {
        name: "aoff",
        default: 3e-9,
        unit: "m",
        meaning: "Kvatinsky window off edge",
    },
    Param {
        name: "wc",
        default: 1.07e-12,
        unit: "m",
        meaning: "Kvatinsky window width",
    },
    Param {
        name: "x0",
        default: 0.0,
        unit: "m",
        meaning: "initial state",
    },
];

/// What drives the state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// TEAM: the current.
    Current,
    /// VTEAM: the voltage.
    Voltage,
}

/// The resistance law R(x).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IvRelation {
    Linear,
    Exponential,
}

/// One TEAM/VTEAM device.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TeamDevice {
    pub control: Control,
    pub iv: IvRelation,
    /// Kvatinsky window on (else none).
    pub kvatinsky: bool,
    pub ron: f64,
    pub roff: f64,
    pub k_on: f64,
    pub k_off: f64,
    pub alpha_on: f64,
    pub alpha_off: f64,
    /// Thresholds of the controlling quantity (A or V), u_on < 0 < u_off.
    pub u_on: f64,
    pub u_off: f64,
    pub x_on: f64,
    pub x_off: f64,
    pub a_on: f64,
    pub a_off: f64,
    pub w_c: f64,
    pub x0: f64,
}

impl TeamDevice {
    /// A device from its parameters ([`PARAMS`]; missing ones take their
    /// defaults), or the reason they are unusable, naming the parameter.
    pub fn from_params(
        given: &[(&str, f64)],
        control: Control,
        iv: IvRelation,
        kvatinsky: bool,
    ) -> Result<TeamDevice, String> {
        let get = |n: &str| super::param_value(PARAMS, given, n).unwrap_or(f64::NAN);
        let (u_on, u_off, on_name, off_name) = match control {
            Control::Current => (get("ion"), get("ioff"), "ion", "ioff"),
            Control::Voltage => (get("von"), get("voff"), "von", "voff"),
        };
        let dev = TeamDevice {
            control,
            iv,
            kvatinsky,
            ron: get("ron"),
            roff: get("roff"),
            k_on: get("kon"),
            k_off: get("koff"),
            alpha_on: get("alphaon"),
            alpha_off: get("alphaoff"),
            u_on,
            u_off,
            x_on: get("xon"),
            x_off: get("xoff"),
            a_on: get("aon"),
            a_off: get("aoff"),
            w_c: get("wc"),
            x0: get("x0"),
        };
        for (name, v) in [("ron", dev.ron), ("roff", dev.roff)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{name} = {v} must be positive and finite"));
            }
        }
        if !(dev.u_on < 0.0 && dev.u_off > 0.0) {
            return Err(format!(
                "thresholds {on_name} = {} and {off_name} = {} must satisfy {on_name} < 0 < {off_name}",
                dev.u_on, dev.u_off
            ));
        }
        if !(dev.k_on <= 0.0 && dev.k_off >= 0.0) {
            return Err(format!(
                "kon = {} must be <= 0 and koff = {} >= 0",
                dev.k_on, dev.k_off
            ));
        }
        if dev.x_off.is_nan() || dev.x_on.is_nan() || dev.x_off <= dev.x_on {
            return Err(format!(
                "xoff = {} must exceed xon = {}",
                dev.x_off, dev.x_on
            ));
        }
        if kvatinsky && !(dev.w_c.is_finite() && dev.w_c > 0.0) {
            return Err(format!("wc = {} must be positive", dev.w_c));
        }
        for (name, v) in [
            ("alphaon", dev.alpha_on),
            ("alphaoff", dev.alpha_off),
            ("x0", dev.x0),
            ("aon", dev.a_on),
            ("aoff", dev.a_off),
        ] {
            if !v.is_finite() {
                return Err(format!("{name} = {v} must be finite"));
            }
        }
        Ok(dev)
    }

    /// R(x).
    #[inline]
    pub fn resistance(&self, x: f64) -> f64 {
        let frac = (x - self.x_on) / (self.x_off - self.x_on);
        match self.iv {
            IvRelation::Linear => self.ron + (self.roff - self.ron) * frac,
            IvRelation::Exponential => self.ron * ((self.roff / self.ron).ln() * frac).exp(),
        }
    }
}

/// exp(-exp(z)), exactly 0 where exp(z) would overflow.
#[inline]
fn double_exp_decay(z: f64) -> f64 {
    if z > 709.0 { 0.0 } else { (-z.exp()).exp() }
}

/// The TEAM/VTEAM law for a set of devices (state: x in metres).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TeamLaw {
    pub devices: Vec<TeamDevice>,
}

impl DeviceLaw for TeamLaw {
    fn name(&self) -> &'static str {
        "team"
    }

    fn len(&self) -> usize {
        self.devices.len()
    }

    fn initial_state(&self, d: usize) -> f64 {
        self.devices[d].x0
    }

    fn linear_in_voltage(&self) -> bool {
        true
    }

    fn state_bounds(&self, d: usize) -> (f64, f64) {
        (self.devices[d].x_on, self.devices[d].x_off)
    }

    #[inline]
    fn conductance(&self, d: usize, x: f64, _v: f64) -> Result<f64, DeviceFault> {
        let r = self.devices[d].resistance(x);
        conductance_of(r)
    }

    #[inline]
    fn current(&self, d: usize, x: f64, v: f64) -> Result<f64, DeviceFault> {
        Ok(self.conductance(d, x, v)? * v)
    }

    #[inline]
    fn state_rate(&self, d: usize, x: f64, v: f64, i: f64) -> f64 {
        let dev = &self.devices[d];
        let u = match dev.control {
            Control::Current => i,
            Control::Voltage => v,
        };
        if u >= dev.u_off {
            let f = if dev.kvatinsky {
                double_exp_decay((x - dev.a_off) / dev.w_c)
            } else {
                1.0
            };
            dev.k_off * (u / dev.u_off - 1.0).max(0.0).powf(dev.alpha_off) * f
        } else if u <= dev.u_on {
            let f = if dev.kvatinsky {
                double_exp_decay(-(x - dev.a_on) / dev.w_c)
            } else {
                1.0
            };
            dev.k_on * (u / dev.u_on - 1.0).max(0.0).powf(dev.alpha_on) * f
        } else {
            0.0
        }
    }

    /// The thresholds u_off and u_on of the controlling quantity.
    fn switch_count(&self) -> usize {
        2
    }

    fn switches(&self, d: usize, _x: f64, v: f64, i: f64, out: &mut [f64]) {
        let dev = &self.devices[d];
        let u = match dev.control {
            Control::Current => i,
            Control::Voltage => v,
        };
        out[0] = super::past(u, dev.u_off);
        out[1] = super::past(u, dev.u_on);
    }
}
