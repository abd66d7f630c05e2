//! The device seam: everything the nodal engine needs from a memristor (its
//! conductance and its current at the present state and branch voltage)
//! and everything the integrator needs (its state rate), behind one
//! interface, [`DeviceLaw`]. The nodal code ([`crate::NodalSolver`]) sees
//! only conductances; [`crate::MemoryRhs`] asks the law for them, solves,
//! and asks the law for the state rates.
//!
//! One implementation today: [`LinearLaw`], the linear law of
//! docs/model.md (theory.md 1.1-1.2 with the per-device parameters of 3.8).
//! Laws are stored structure-of-arrays, one value per device and
//! parameter, and called with static dispatch in the inner loops.

use memnet_graph::{Device, EdgeId, Network};

use crate::SolveError;
use crate::error::Element;

/// Why a law cannot be evaluated at a state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DeviceFault {
    /// The resistance at this state is not positive and finite.
    NonPhysicalResistance(f64),
}

/// A memristor law for a set of devices (device `d` = state component `d`).
///
/// Each device has one state variable in its law's own units (for the
/// linear law, memnet's `w`). The branch voltage `v` is the voltage across
/// the device, tail minus head, in volts; currents flow tail to head.
pub trait DeviceLaw {
    /// The law's name, as reports print it.
    fn name(&self) -> &'static str;

    /// Number of devices.
    fn len(&self) -> usize;

    /// Whether there are no devices.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Initial state of every device.
    fn initial_state(&self, x: &mut [f64]);

    /// Whether the current is linear in the branch voltage at fixed state
    /// (i = G(x) v): then one nodal factorisation per right-hand side
    /// solves the network exactly.
    fn linear_in_voltage(&self) -> bool;

    /// The state's domain, where the bound rules (clip, sticky) act.
    fn state_bounds(&self, d: usize) -> (f64, f64);

    /// di/dv of device `d` at state `x` and branch voltage `v` (for a law
    /// linear in v, the conductance i / v).
    fn conductance(&self, d: usize, x: f64, v: f64) -> Result<f64, DeviceFault>;

    /// Current through device `d` at state `x` and branch voltage `v`.
    fn current(&self, d: usize, x: f64, v: f64) -> Result<f64, DeviceFault>;

    /// dx/dt of device `d` at state `x`, branch voltage `v`, current `i`.
    fn state_rate(&self, d: usize, x: f64, v: f64, i: f64) -> f64;
}

/// memnet's linear law (docs/model.md; theory.md 1.1, 1.2, 3.5, 3.8):
///
///   R(w) = ron (1 + xi w),   xi = roff/ron - 1,
///   dw/dt = alpha w - polarity ron i / beta.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinearLaw {
    pub ron: Vec<f64>,
    pub xi: Vec<f64>,
    pub alpha: Vec<f64>,
    pub beta: Vec<f64>,
    pub polarity: Vec<f64>,
    pub w0: Vec<f64>,
}

fn invalid(name: &str, loc: Option<&memnet_spice::Loc>, reason: String) -> SolveError {
    SolveError::InvalidDevice {
        element: Element::new(name, loc),
        reason,
    }
}

impl LinearLaw {
    /// The memristors of `net` in edge order, with their parameters
    /// checked (located errors), and the edge of each device.
    pub fn from_network(net: &Network) -> Result<(LinearLaw, Vec<EdgeId>), SolveError> {
        let mut law = LinearLaw::default();
        let mut edges = Vec::new();
        for (k, e) in net.edges.iter().enumerate() {
            let Device::Memristor(p) = e.device else {
                continue;
            };
            let bad = |r: String| invalid(&e.name, e.loc.as_ref(), r);
            if !(p.ron.is_finite() && p.ron > 0.0) {
                return Err(bad(format!("ron = {} must be positive and finite", p.ron)));
            }
            if !(p.roff.is_finite() && p.roff > 0.0) {
                return Err(bad(format!(
                    "roff = {} must be positive and finite (xi = {} must be > -1)",
                    p.roff,
                    p.xi()
                )));
            }
            if !(p.w0.is_finite() && (0.0..=1.0).contains(&p.w0)) {
                return Err(bad(format!("w0 = {} must lie in [0, 1]", p.w0)));
            }
            if !p.alpha.is_finite() {
                return Err(bad(format!("alpha = {} must be finite", p.alpha)));
            }
            if !(p.beta.is_finite() && p.beta != 0.0) {
                return Err(bad(format!(
                    "beta = {} must be finite and non-zero",
                    p.beta
                )));
            }
            if p.polarity != 1.0 && p.polarity != -1.0 {
                return Err(bad(format!("polarity = {} must be +1 or -1", p.polarity)));
            }
            edges.push(k);
            law.ron.push(p.ron);
            law.xi.push(p.xi());
            law.alpha.push(p.alpha);
            law.beta.push(p.beta);
            law.polarity.push(p.polarity);
            law.w0.push(p.w0);
        }
        Ok((law, edges))
    }

    /// R(w) = ron (1 + xi w) of device `d`.
    #[inline]
    pub fn resistance(&self, d: usize, w: f64) -> f64 {
        self.ron[d] * (1.0 + self.xi[d] * w)
    }

    /// Whether all devices share one alpha, and which.
    pub fn uniform_alpha(&self) -> Option<f64> {
        let a = *self.alpha.first()?;
        self.alpha.iter().all(|&x| x == a).then_some(a)
    }
}

impl DeviceLaw for LinearLaw {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn len(&self) -> usize {
        self.ron.len()
    }

    fn initial_state(&self, x: &mut [f64]) {
        x.copy_from_slice(&self.w0);
    }

    fn linear_in_voltage(&self) -> bool {
        true
    }

    fn state_bounds(&self, _d: usize) -> (f64, f64) {
        (0.0, 1.0)
    }

    #[inline]
    fn conductance(&self, d: usize, w: f64, _v: f64) -> Result<f64, DeviceFault> {
        let r = self.resistance(d, w);
        if r.is_finite() && r > 0.0 {
            Ok(1.0 / r)
        } else {
            Err(DeviceFault::NonPhysicalResistance(r))
        }
    }

    #[inline]
    fn current(&self, d: usize, w: f64, v: f64) -> Result<f64, DeviceFault> {
        Ok(self.conductance(d, w, v)? * v)
    }

    #[inline]
    fn state_rate(&self, d: usize, w: f64, _v: f64, i: f64) -> f64 {
        self.alpha[d] * w - self.polarity[d] * self.ron[d] * i / self.beta[d]
    }
}
