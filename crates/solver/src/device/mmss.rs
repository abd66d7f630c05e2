//! Knowm's generalised mean metastable switch (Molter & Nugent, CNNA 2016,
//! arXiv:1608.04659), mean form with the optional Schottky term in the
//! paper's form; docs/device-laws.md, "Knowm MMSS".
//!
//!   x in [0, 1] (fraction of switches on), V_T = k_B T / q
//!   G(x) = x / ron + (1 - x) / roff
//!   i = phi v G(x) + (1 - phi) (sfa (e^{sfb v} - 1) - sra (e^{-srb v} - 1))
//!   dx/dt = ((1 - x) s((v - von) / V_T) - x s(-(v + voff) / V_T)) / tau,
//!   s(z) = 1 / (1 + e^{-z}).
//!
//! With phi = 1 (the LTspice listing) the current is linear in v.

use super::{DeviceFault, DeviceLaw, Param, logistic};

/// Boltzmann constant (CODATA 2018, exact), J/K.
pub const BOLTZMANN: f64 = 1.380649e-23;
/// Elementary charge (CODATA 2018, exact), C.
pub const ELEMENTARY_CHARGE: f64 = 1.602176634e-19;

/// Parameters (LTspice `MEM_KNOWM` names and defaults; the Schottky term
/// of the Xyce fork, off by default).
pub const PARAMS: &[Param] = &[
    Param {
        name: "ron",
        default: 500.0,
        unit: "ohm",
        meaning: "resistance all on",
    },
    Param {
        name: "roff",
        default: 1500.0,
        unit: "ohm",
        meaning: "resistance all off",
    },
    Param {
        name: "von",
        default: 0.27,
        unit: "V",
        meaning: "on threshold",
    },
    Param {
        name: "voff",
        default: 0.27,
        unit: "V",
        meaning: "off threshold (magnitude)",
    },
    Param {
        name: "tau",
        default: 1e-4,
        unit: "s",
        meaning: "time constant",
    },
    Param {
        name: "t",
        default: 298.5,
        unit: "K",
        meaning: "temperature",
    },
    Param {
        name: "x0",
        default: 0.0,
        unit: "",
        meaning: "initial fraction on",
    },
    Param {
        name: "phi",
        default: 1.0,
        unit: "",
        meaning: "memristive fraction of the current",
    },
    Param {
        name: "sfa",
        default: 0.0,
        unit: "A",
        meaning: "Schottky forward prefactor",
    },
    Param {
        name: "sfb",
        default: 0.0,
        unit: "1/V",
        meaning: "Schottky forward exponent",
    },
    Param {
        name: "sra",
        default: 0.0,
        unit: "A",
        meaning: "Schottky reverse prefactor",
    },
    Param {
        name: "srb",
        default: 0.0,
        unit: "1/V",
        meaning: "Schottky reverse exponent",
    },
];

/// Parameters of Knowm's Xyce fork, `YMEMRISTOR ... level=5`
/// (`N_DEV_MemristorKnowm.C` of `knowm/memristor-models-4-all`; upstream
/// Xyce has no level 5): the fork's names and defaults, the initial state
/// given as a resistance `r_init` (default roff) and the temperature
/// `temp` in kelvin (default the circuit's, 27 C). Law "knowm-xyce".
pub const XYCE_FORK_PARAMS: &[Param] = &[
    Param {
        name: "ron",
        default: 100.0,
        unit: "ohm",
        meaning: "resistance all on",
    },
    Param {
        name: "roff",
        default: 16000.0,
        unit: "ohm",
        meaning: "resistance all off",
    },
    Param {
        name: "von",
        default: 1.0,
        unit: "V",
        meaning: "on threshold",
    },
    Param {
        name: "voff",
        default: 1.0,
        unit: "V",
        meaning: "off threshold (magnitude)",
    },
    Param {
        name: "tau",
        default: 1e-8,
        unit: "s",
        meaning: "time constant",
    },
    Param {
        name: "phi",
        default: 1.0,
        unit: "",
        meaning: "memristive fraction of the current",
    },
    Param {
        name: "sfa",
        default: 0.0,
        unit: "A",
        meaning: "Schottky forward prefactor",
    },
    Param {
        name: "sfb",
        default: 0.0,
        unit: "1/V",
        meaning: "Schottky forward exponent",
    },
    Param {
        name: "sra",
        default: 0.0,
        unit: "A",
        meaning: "Schottky reverse prefactor",
    },
    Param {
        name: "srb",
        default: 0.0,
        unit: "1/V",
        meaning: "Schottky reverse exponent",
    },
    Param {
        name: "r_init",
        default: f64::NAN,
        unit: "ohm",
        meaning: "initial resistance (default roff)",
    },
    Param {
        name: "temp",
        default: 300.15,
        unit: "K",
        meaning: "device temperature",
    },
];

/// One MMSS device.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MmssDevice {
    pub ron: f64,
    pub roff: f64,
    pub von: f64,
    pub voff: f64,
    pub tau: f64,
    /// k_B T / q, volts.
    pub vt: f64,
    pub x0: f64,
    pub phi: f64,
    pub sfa: f64,
    pub sfb: f64,
    pub sra: f64,
    pub srb: f64,
}

impl MmssDevice {
    /// A device from its parameters ([`PARAMS`]), or the reason they are
    /// unusable, naming the parameter.
    /// A device of Knowm's Xyce fork (level 5, [`XYCE_FORK_PARAMS`]): the
    /// fork's defaults; x0 from r_init as the fork computes it, 1/r_init =
    /// G(x0), i.e. x0 = ron (r_init - roff) / (r_init (ron - roff)).
    pub fn from_xyce_fork(given: &[(&str, f64)]) -> Result<MmssDevice, String> {
        let get = |n: &str| super::param_value(XYCE_FORK_PARAMS, given, n).unwrap_or(f64::NAN);
        let (ron, roff) = (get("ron"), get("roff"));
        let r_init = match get("r_init") {
            r if r.is_nan() => roff,
            r => r,
        };
        let lo = ron.min(roff);
        let hi = ron.max(roff);
        if !(r_init.is_finite() && r_init >= lo && r_init <= hi) {
            return Err(format!(
                "r_init = {r_init} must lie between ron = {ron} and roff = {roff}"
            ));
        }
        let x0 = if ron == roff {
            0.0
        } else {
            ron * (r_init - roff) / (r_init * (ron - roff))
        };
        let mut mapped: Vec<(&str, f64)> = [
            "ron", "roff", "von", "voff", "tau", "phi", "sfa", "sfb", "sra", "srb",
        ]
        .into_iter()
        .map(|n| (n, get(n)))
        .collect();
        mapped.push(("t", get("temp")));
        mapped.push(("x0", x0.clamp(0.0, 1.0)));
        MmssDevice::from_params(&mapped).map_err(|e| e.replace("t = ", "temp = "))
    }

    pub fn from_params(given: &[(&str, f64)]) -> Result<MmssDevice, String> {
        let get = |n: &str| super::param_value(PARAMS, given, n).unwrap_or(f64::NAN);
        let t = get("t");
        let dev = MmssDevice {
            ron: get("ron"),
            roff: get("roff"),
            von: get("von"),
            voff: get("voff"),
            tau: get("tau"),
            vt: BOLTZMANN * t / ELEMENTARY_CHARGE,
            x0: get("x0"),
            phi: get("phi"),
            sfa: get("sfa"),
            sfb: get("sfb"),
            sra: get("sra"),
            srb: get("srb"),
        };
        for (name, v) in [
            ("ron", dev.ron),
            ("roff", dev.roff),
            ("tau", dev.tau),
            ("t", t),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{name} = {v} must be positive and finite"));
            }
        }
        if !(0.0..=1.0).contains(&dev.x0) {
            return Err(format!("x0 = {} must lie in [0, 1]", dev.x0));
        }
        if !(0.0..=1.0).contains(&dev.phi) {
            return Err(format!("phi = {} must lie in [0, 1]", dev.phi));
        }
        for (name, v) in [
            ("von", dev.von),
            ("voff", dev.voff),
            ("sfa", dev.sfa),
            ("sfb", dev.sfb),
            ("sra", dev.sra),
            ("srb", dev.srb),
        ] {
            if !v.is_finite() {
                return Err(format!("{name} = {v} must be finite"));
            }
        }
        if dev.phi < 1.0 && (dev.sfa < 0.0 || dev.sfb < 0.0 || dev.sra < 0.0 || dev.srb < 0.0) {
            return Err("sfa, sfb, sra, srb must not be negative (di/dv > 0)".into());
        }
        Ok(dev)
    }

    #[inline]
    fn memristive_conductance(&self, x: f64) -> f64 {
        x / self.ron + (1.0 - x) / self.roff
    }
}

/// The MMSS law for a set of devices (state: x).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MmssLaw {
    pub devices: Vec<MmssDevice>,
}

impl DeviceLaw for MmssLaw {
    fn name(&self) -> &'static str {
        "mmss"
    }

    fn len(&self) -> usize {
        self.devices.len()
    }

    fn initial_state(&self, d: usize) -> f64 {
        self.devices[d].x0
    }

    fn linear_in_voltage(&self) -> bool {
        self.devices.iter().all(|d| d.phi == 1.0)
    }

    fn state_bounds(&self, _d: usize) -> (f64, f64) {
        (0.0, 1.0)
    }

    #[inline]
    fn conductance(&self, d: usize, x: f64, v: f64) -> Result<f64, DeviceFault> {
        let dev = &self.devices[d];
        let g = dev.phi * dev.memristive_conductance(x)
            + (1.0 - dev.phi)
                * (dev.sfa * dev.sfb * (dev.sfb * v).exp()
                    + dev.sra * dev.srb * (-dev.srb * v).exp());
        if g.is_finite() && g > 0.0 {
            Ok(g)
        } else {
            Err(DeviceFault::NonPhysicalResistance(1.0 / g))
        }
    }

    #[inline]
    fn current(&self, d: usize, x: f64, v: f64) -> Result<f64, DeviceFault> {
        let dev = &self.devices[d];
        let schottky = dev.sfa * (dev.sfb * v).exp_m1() - dev.sra * (-dev.srb * v).exp_m1();
        let i = dev.phi * v * dev.memristive_conductance(x) + (1.0 - dev.phi) * schottky;
        if i.is_finite() {
            Ok(i)
        } else {
            Err(DeviceFault::NonPhysicalResistance(v / i))
        }
    }

    #[inline]
    fn state_rate(&self, d: usize, x: f64, v: f64, _i: f64) -> f64 {
        let dev = &self.devices[d];
        let on = logistic((v - dev.von) / dev.vt);
        let off = logistic(-(v + dev.voff) / dev.vt);
        ((1.0 - x) * on - x * off) / dev.tau
    }
}
