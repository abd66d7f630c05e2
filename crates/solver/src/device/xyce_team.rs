//! Xyce's `YMEMRISTOR` level 2, TEAM exactly as Xyce codes it
//! (`N_DEV_MemristorTEAM.C`, `Master::updateState`); docs/device-laws.md,
//! "Xyce level 2". It differs from the published TEAM ([`super::team`]) in
//! ways a Xyce deck relies on, so it is its own law:
//!
//!   s = xscaling; the state x is Xyce's solution variable (physical x * s)
//!   R = ron + (x - xon s)(roff - ron)/((xoff - xon) s)        ivrelation 0
//!   R = ron exp((x - xon s) ln(roff/ron)/((xoff - xon) s))    ivrelation 1
//!   i = v / R
//!   dx/dt = koff s (i/ioff - 1)^alphaoff W   if i >= ioff
//!         = kon  s (i/ion  - 1)^alphaon  W   else if i <= ion
//!         = 0                                 if ion < i < ioff
//!   W by wt: 0: 1; 1: 1 - (2x/d - 1)^(2p); 2: 1 - (x/d - stp(i))^(2p) with
//!   stp(i) = 0 for i < 0, else 1; 3: j (1 - ((x - 1/2)^2 - 3/4)^p);
//!   4: exp(-exp((x - aoff s)/(wc s))) for i >= 0,
//!      exp(-exp(-(x - aon s)/(wc s))) for i < 0.
//!
//! The powers are C's `pow`: a negative base with a non-integer exponent
//! gives NaN, as in Xyce (windows 1 to 3 with non-integer 2p, and the
//! default ion > 0 with a non-integer alphaon). Nothing bounds x: the state
//! may leave [xon s, xoff s] and R may fall below ron, as Xyce's does.

use super::{DeviceFault, DeviceLaw, Param, conductance_of};

/// Parameters and defaults of Xyce's `.model ... memristor level=2`
/// (`loadModelParameters`), plus the instance parameter `ivrelation` and
/// memnet's `x0`.
pub const PARAMS: &[Param] = &[
    Param {
        name: "kon",
        default: -8e-13,
        unit: "m/s",
        meaning: "on rate",
    },
    Param {
        name: "koff",
        default: 8e-13,
        unit: "m/s",
        meaning: "off rate",
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
        name: "ron",
        default: 50.0,
        unit: "ohm",
        meaning: "on resistance",
    },
    Param {
        name: "roff",
        default: 1000.0,
        unit: "ohm",
        meaning: "off resistance",
    },
    Param {
        name: "ion",
        default: 8.9e-6,
        unit: "A",
        meaning: "on threshold (Xyce's default is positive)",
    },
    Param {
        name: "ioff",
        default: 1.15e-4,
        unit: "A",
        meaning: "off threshold",
    },
    Param {
        name: "xscaling",
        default: 1.0,
        unit: "",
        meaning: "state unit (1e9: nanometres)",
    },
    Param {
        name: "d",
        default: 1.15e-4,
        unit: "",
        meaning: "window 1-3 length (not scaled)",
    },
    Param {
        name: "p",
        default: 1.15e-4,
        unit: "",
        meaning: "window 1-3 exponent",
    },
    Param {
        name: "j",
        default: 1.15e-4,
        unit: "",
        meaning: "window 3 scale",
    },
    Param {
        name: "aon",
        default: 0.0,
        unit: "m",
        meaning: "window 4 on edge",
    },
    Param {
        name: "aoff",
        default: 3e-9,
        unit: "m",
        meaning: "window 4 off edge",
    },
    Param {
        name: "wc",
        default: 1.07e-12,
        unit: "m",
        meaning: "window 4 width",
    },
    Param {
        name: "wt",
        default: 0.0,
        unit: "",
        meaning: "window: 0 none, 1 Joglekar, 2 Biolek, 3 Prodromakis, 4 Kvatinsky",
    },
    Param {
        name: "ivrelation",
        default: 0.0,
        unit: "",
        meaning: "R(x): 0 linear, 1 exponential",
    },
    Param {
        name: "x0",
        default: 0.0,
        unit: "",
        meaning: "initial state, scaled units (memnet; Xyce starts at 0)",
    },
];

/// One Xyce level-2 device, with its lengths already scaled by xscaling.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct XyceTeamDevice {
    pub ron: f64,
    pub roff: f64,
    /// kon * s, koff * s.
    pub k_on: f64,
    pub k_off: f64,
    pub alpha_on: f64,
    pub alpha_off: f64,
    pub i_on: f64,
    pub i_off: f64,
    /// xon * s, xoff * s.
    pub x_on: f64,
    pub x_off: f64,
    pub exponential: bool,
    pub window: u8,
    pub d: f64,
    pub p: f64,
    pub j: f64,
    /// aon * s, aoff * s, wc * s.
    pub a_on: f64,
    pub a_off: f64,
    pub w_c: f64,
    pub x0: f64,
}

impl XyceTeamDevice {
    /// A device from its parameters ([`PARAMS`]), or the reason they are
    /// unusable, naming the parameter.
    pub fn from_params(given: &[(&str, f64)]) -> Result<XyceTeamDevice, String> {
        let get = |n: &str| super::param_value(PARAMS, given, n).unwrap_or(f64::NAN);
        for p in PARAMS {
            let v = get(p.name);
            if !v.is_finite() {
                return Err(format!("{} = {v} must be finite", p.name));
            }
        }
        let s = get("xscaling");
        if s <= 0.0 {
            return Err(format!("xscaling = {s} must be positive"));
        }
        for name in ["ron", "roff"] {
            if get(name) <= 0.0 {
                return Err(format!("{name} = {} must be positive", get(name)));
            }
        }
        if get("xoff") == get("xon") {
            return Err(format!(
                "xoff = xon = {} leaves R(x) undefined (it divides by xoff - xon)",
                get("xon")
            ));
        }
        let window = get("wt");
        if !(0.0..=4.0).contains(&window) || window.fract() != 0.0 {
            return Err(format!(
                "wt = {window} is not a window type (0, 1, 2, 3 or 4)"
            ));
        }
        let iv = get("ivrelation");
        if iv != 0.0 && iv != 1.0 {
            return Err(format!(
                "ivrelation = {iv} must be 0 (linear) or 1 (exponential)"
            ));
        }
        if window == 4.0 && get("wc") <= 0.0 {
            return Err(format!("wc = {} must be positive with wt = 4", get("wc")));
        }
        if (1.0..=2.0).contains(&window) && get("d") == 0.0 {
            return Err("d = 0 divides by zero in windows 1 and 2".into());
        }
        // Where Xyce's pow meets a negative base with a non-integer
        // exponent it computes NaN; say so before the run does.
        if get("ion") > 0.0 && get("alphaon").fract() != 0.0 {
            return Err(format!(
                "ion = {} > 0 (Xyce's default sign) with non-integer alphaon = {} gives NaN \
                 for 0 < i <= ion; make ion negative as in the TEAM paper",
                get("ion"),
                get("alphaon")
            ));
        }
        if (1.0..=3.0).contains(&window) {
            let e = if window == 3.0 {
                get("p")
            } else {
                2.0 * get("p")
            };
            if e.fract() != 0.0 {
                return Err(format!(
                    "p = {} makes window {window} raise a negative base to a non-integer \
                     power (NaN in Xyce); use an integer{}",
                    get("p"),
                    if window == 3.0 { " p" } else { " 2p" }
                ));
            }
        }
        if get("ioff") == 0.0 || get("ion") == 0.0 {
            return Err("ion and ioff must be non-zero (the rate divides by them)".into());
        }
        Ok(XyceTeamDevice {
            ron: get("ron"),
            roff: get("roff"),
            k_on: get("kon") * s,
            k_off: get("koff") * s,
            alpha_on: get("alphaon"),
            alpha_off: get("alphaoff"),
            i_on: get("ion"),
            i_off: get("ioff"),
            x_on: get("xon") * s,
            x_off: get("xoff") * s,
            exponential: iv == 1.0,
            window: window as u8,
            d: get("d"),
            p: get("p"),
            j: get("j"),
            a_on: get("aon") * s,
            a_off: get("aoff") * s,
            w_c: get("wc") * s,
            x0: get("x0"),
        })
    }

    /// R(x), x in scaled units.
    #[inline]
    pub fn resistance(&self, x: f64) -> f64 {
        let frac = (x - self.x_on) / (self.x_off - self.x_on);
        if self.exponential {
            self.ron * ((self.roff / self.ron).ln() * frac).exp()
        } else {
            self.ron + (self.roff - self.ron) * frac
        }
    }

    /// Xyce's window W(x, i).
    #[inline]
    pub fn window(&self, x: f64, i: f64) -> f64 {
        match self.window {
            1 => 1.0 - (2.0 * (x / self.d) - 1.0).powf(2.0 * self.p),
            2 => {
                let stp = if i < 0.0 { 0.0 } else { 1.0 };
                1.0 - (x / self.d - stp).powf(2.0 * self.p)
            }
            3 => {
                let u = x - 0.5;
                self.j * (1.0 - (u * u - 0.75).powf(self.p))
            }
            4 => {
                if i >= 0.0 {
                    (-((x - self.a_off) / self.w_c).exp()).exp()
                } else {
                    (-(-(x - self.a_on) / self.w_c).exp()).exp()
                }
            }
            _ => 1.0,
        }
    }
}

/// The Xyce level-2 law for a set of devices (state: x in scaled units).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct XyceTeamLaw {
    pub devices: Vec<XyceTeamDevice>,
}

impl DeviceLaw for XyceTeamLaw {
    fn name(&self) -> &'static str {
        "xyce-team"
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

    /// Xyce does not bound the state.
    fn state_bounds(&self, _d: usize) -> (f64, f64) {
        (f64::NEG_INFINITY, f64::INFINITY)
    }

    #[inline]
    fn conductance(&self, d: usize, x: f64, _v: f64) -> Result<f64, DeviceFault> {
        conductance_of(self.devices[d].resistance(x))
    }

    #[inline]
    fn current(&self, d: usize, x: f64, v: f64) -> Result<f64, DeviceFault> {
        Ok(self.conductance(d, x, v)? * v)
    }

    #[inline]
    fn state_rate(&self, d: usize, x: f64, _v: f64, i: f64) -> f64 {
        let dev = &self.devices[d];
        // Xyce's order of tests: the off branch first, then the on branch,
        // then the dead band (which wins only when ion < ioff).
        let mut rate = 0.0;
        if i >= dev.i_off {
            rate = dev.k_off * (i / dev.i_off - 1.0).powf(dev.alpha_off);
        } else if i <= dev.i_on {
            rate = dev.k_on * (i / dev.i_on - 1.0).powf(dev.alpha_on);
        }
        if i > dev.i_on && i < dev.i_off {
            rate = 0.0;
        }
        if rate == 0.0 {
            return 0.0;
        }
        rate * dev.window(x, i)
    }

    /// The current thresholds i_off and i_on.
    fn switch_count(&self) -> usize {
        2
    }

    fn switches(&self, d: usize, _x: f64, _v: f64, i: f64, out: &mut [f64]) {
        let dev = &self.devices[d];
        out[0] = super::past(i, dev.i_off);
        out[1] = super::past(i, dev.i_on);
    }
}
