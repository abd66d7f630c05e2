//! HP linear ion drift (Strukov et al., Nature 453:80, 2008) with the
//! windows of Joglekar & Wolf (2009), Biolek et al. (2009) and
//! Prodromakis et al. (2011); docs/device-laws.md, "HP linear ion drift".
//!
//!   x = w/D in [0, 1] (x = 1: fully doped, R = ron)
//!   R(x) = ron x + roff (1 - x),   i = v / R(x)
//!   dx/dt = k i f(x, i),   k = uv ron / D^2
//!
//! Windows f: none (1); Joglekar 1 - (2x - 1)^{2p}; Biolek
//! 1 - (x - stp(-i))^{2p} with stp(s) = 1 for s >= 0; Prodromakis
//! j (1 - ((x - 1/2)^2 + 3/4)^p). Powers of a possibly negative base are
//! taken of its square ((2x - 1)^2)^p, which is what a user with integer p
//! means and is defined for real p.
//!
//! The x-only windows (Joglekar, Prodromakis) vanish at x = 0 and 1, which
//! the exact solution approaches exponentially and never reaches; in
//! double precision 1 - x rounds to 0 under a strong drive and the state
//! then sticks for ever. Those devices are integrated in the log-odds
//! s = ln(x / (1 - x)), ds/dt = k i f / (x (1 - x)), with the cancellation
//! in f / (x (1 - x)) removed analytically (expm1/ln1p of q = x (1 - x) =
//! 1 / (4 cosh^2(s/2))), so the dynamics stay exact and reversible.

use super::{DeviceFault, DeviceLaw, Param, biolek_window, conductance_of, logistic};

/// Parameters of the HP law, with the defaults of Biolek's subcircuit
/// (the most copied listing).
pub const PARAMS: &[Param] = &[
    Param {
        name: "ron",
        default: 100.0,
        unit: "ohm",
        meaning: "resistance fully doped (x = 1)",
    },
    Param {
        name: "roff",
        default: 16e3,
        unit: "ohm",
        meaning: "resistance undoped (x = 0)",
    },
    Param {
        name: "rinit",
        default: 11e3,
        unit: "ohm",
        meaning: "initial resistance: x0 = (roff - rinit) / (roff - ron)",
    },
    Param {
        name: "d",
        default: 10e-9,
        unit: "m",
        meaning: "film thickness D",
    },
    Param {
        name: "uv",
        default: 10e-15,
        unit: "m^2/(V s)",
        meaning: "dopant mobility mu_v",
    },
    Param {
        name: "p",
        default: 1.0,
        unit: "",
        meaning: "window exponent",
    },
    Param {
        name: "j",
        default: 1.0,
        unit: "",
        meaning: "Prodromakis window scale",
    },
];

/// The window of an HP device.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Window {
    None,
    Joglekar { p: f64 },
    Biolek { p: f64 },
    Prodromakis { p: f64, j: f64 },
}

impl Window {
    /// Whether the window depends on x only and vanishes at both ends (the
    /// device is then integrated in log-odds).
    pub fn x_only(&self) -> bool {
        matches!(self, Window::Joglekar { .. } | Window::Prodromakis { .. })
    }
}

/// One HP device.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HpDevice {
    pub ron: f64,
    pub roff: f64,
    /// k = uv ron / D^2, 1/(A s).
    pub k: f64,
    /// x(0) in [0, 1].
    pub x0: f64,
    pub window: Window,
}

impl HpDevice {
    /// A device from its parameters (names of [`PARAMS`]; missing ones take
    /// their defaults), or the reason the values are unusable, naming the
    /// parameter.
    pub fn from_params(given: &[(&str, f64)], window: &str) -> Result<HpDevice, String> {
        let get = |n: &str| super::param_value(PARAMS, given, n).unwrap_or(f64::NAN);
        let (ron, roff, rinit, d, uv, p, j) = (
            get("ron"),
            get("roff"),
            get("rinit"),
            get("d"),
            get("uv"),
            get("p"),
            get("j"),
        );
        for (name, v) in [("ron", ron), ("roff", roff), ("d", d), ("uv", uv)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{name} = {v} must be positive and finite"));
            }
        }
        if roff == ron {
            return Err(format!("roff = ron = {ron}: the state has no effect"));
        }
        let x0 = (roff - rinit) / (roff - ron);
        if !(0.0..=1.0).contains(&x0) {
            return Err(format!(
                "rinit = {rinit} must lie between ron = {ron} and roff = {roff}"
            ));
        }
        let window = match window {
            "none" => Window::None,
            "joglekar" => Window::Joglekar { p },
            "biolek" => Window::Biolek { p },
            "prodromakis" => Window::Prodromakis { p, j },
            other => {
                return Err(format!(
                    "window `{other}` is not one of none, joglekar, biolek, prodromakis"
                ));
            }
        };
        if window != Window::None && !(p.is_finite() && p > 0.0) {
            return Err(format!("p = {p} must be positive and finite"));
        }
        if matches!(window, Window::Prodromakis { .. }) && !(j.is_finite() && j > 0.0) {
            return Err(format!("j = {j} must be positive and finite"));
        }
        Ok(HpDevice {
            ron,
            roff,
            k: uv * ron / (d * d),
            x0,
            window,
        })
    }
}

/// The HP law for a set of devices (state: x, or its log-odds for the
/// x-only windows).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HpLaw {
    pub devices: Vec<HpDevice>,
}

impl HpLaw {
    /// x of device `d` and 1 - x, each without cancellation.
    #[inline]
    fn x_and_complement(&self, d: usize, s: f64) -> (f64, f64) {
        if self.devices[d].window.x_only() {
            (logistic(s), logistic(-s))
        } else {
            (s, 1.0 - s)
        }
    }

    #[inline]
    fn resistance(&self, d: usize, s: f64) -> f64 {
        let dev = &self.devices[d];
        let (x, xc) = self.x_and_complement(d, s);
        dev.ron * x + dev.roff * xc
    }
}

/// f / (x (1 - x)) of the x-only windows in terms of q = x (1 - x):
/// Joglekar 1 - (1 - 4q)^p, Prodromakis j (1 - (1 - q)^p); both tend to a
/// finite limit as q -> 0 (4p, j p).
#[inline]
fn window_over_q(window: Window, q: f64) -> f64 {
    match window {
        Window::Joglekar { p } => {
            if q == 0.0 {
                4.0 * p
            } else {
                -(p * (-4.0 * q).ln_1p()).exp_m1() / q
            }
        }
        Window::Prodromakis { p, j } => {
            if q == 0.0 {
                j * p
            } else {
                -j * (p * (-q).ln_1p()).exp_m1() / q
            }
        }
        Window::None | Window::Biolek { .. } => f64::NAN,
    }
}

impl DeviceLaw for HpLaw {
    fn name(&self) -> &'static str {
        "hp"
    }

    fn len(&self) -> usize {
        self.devices.len()
    }

    fn initial_state(&self, d: usize) -> f64 {
        self.internal_state(d, self.devices[d].x0)
    }

    fn linear_in_voltage(&self) -> bool {
        true
    }

    fn state_bounds(&self, d: usize) -> (f64, f64) {
        if self.devices[d].window.x_only() {
            (f64::NEG_INFINITY, f64::INFINITY)
        } else {
            (0.0, 1.0)
        }
    }

    #[inline]
    fn conductance(&self, d: usize, s: f64, _v: f64) -> Result<f64, DeviceFault> {
        let r = self.resistance(d, s);
        conductance_of(r)
    }

    #[inline]
    fn current(&self, d: usize, s: f64, v: f64) -> Result<f64, DeviceFault> {
        Ok(self.conductance(d, s, v)? * v)
    }

    #[inline]
    fn state_rate(&self, d: usize, s: f64, _v: f64, i: f64) -> f64 {
        let dev = &self.devices[d];
        match dev.window {
            Window::None => dev.k * i,
            Window::Biolek { p } => dev.k * i * biolek_window(s, i, p),
            w @ (Window::Joglekar { .. } | Window::Prodromakis { .. }) => {
                // q = x (1 - x) = 1 / (4 cosh^2(s/2)); 0 at s = +-inf, where
                // the device sits exactly at a bound, stuck by the law.
                let c = (0.5 * s).cosh();
                let q = 1.0 / (4.0 * c * c);
                dev.k * i * window_over_q(w, q)
            }
        }
    }

    /// Biolek's window turns with the sign of the current (scaled by
    /// roff: the voltage that current would drop across the device off).
    fn switch_count(&self) -> usize {
        1
    }

    fn switches(&self, d: usize, _s: f64, _v: f64, i: f64, out: &mut [f64]) {
        let dev = &self.devices[d];
        if matches!(dev.window, Window::Biolek { .. }) {
            out[0] = i * dev.roff;
        }
    }

    fn state_name(&self) -> &'static str {
        "x"
    }

    fn native_state(&self, d: usize, s: f64) -> f64 {
        self.x_and_complement(d, s).0
    }

    fn internal_state(&self, d: usize, x: f64) -> f64 {
        if self.devices[d].window.x_only() {
            // ln(x / (1 - x)); +-inf exactly at the bounds.
            x.ln() - (-x).ln_1p()
        } else {
            x
        }
    }
}
