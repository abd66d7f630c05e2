//! The device seam: everything the nodal engine needs from a memristor (its
//! conductance and its current at the present state and branch voltage)
//! and everything the integrator needs (its state rate), behind one
//! interface, [`DeviceLaw`]. The nodal code ([`crate::NodalSolver`]) sees
//! only conductances; [`crate::MemoryRhs`] asks the law for them, solves,
//! and asks the law for the state rates.
//!
//! One module per law, each with its parameter table ([`Param`]: name,
//! default, unit) and the equation it implements cited from
//! docs/device-laws.md:
//!
//! * [`LinearLaw`]: memnet's linear law (docs/model.md; theory.md 1.1-1.2
//!   with the per-device parameters of 3.8). The engine runs it today.
//! * [`hp::HpLaw`]: HP linear ion drift with the windows none, Joglekar,
//!   Biolek, Prodromakis (x-only windows integrated in log-odds).
//! * [`team::TeamLaw`]: TEAM and VTEAM with the Kvatinsky window.
//! * [`yakopcic::YakopcicLaw`]: Yakopcic (as Xyce level 3 evaluates it).
//! * [`nlid::NonlinearDriftLaw`]: non-linear ion drift (Lehtonen-Laiho).
//! * [`threshold::ThresholdLaw`]: the ngspice XSPICE `memristor` code model
//!   (Pershin-Di Ventra threshold law).
//! * [`mmss::MmssLaw`]: Knowm's mean metastable switch.
//!
//! Laws other than the linear one are evaluated and tested here law by
//! law; wiring them into networks (import, the Newton loop for the
//! non-linear I-V laws) is the next step (see the crate's notes).

pub mod hp;
mod linear;
pub mod mmss;
pub mod nlid;
pub mod team;
pub mod threshold;
pub mod yakopcic;

pub use linear::LinearLaw;

/// One parameter of a law: its name in memnet (lower case, as netlists
/// write it), its default, its unit and what it means.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Param {
    pub name: &'static str,
    pub default: f64,
    pub unit: &'static str,
    pub meaning: &'static str,
}

/// Looks `name` up in `table` (exact, lower case) and returns its value in
/// `given` or its default.
pub fn param_value(table: &[Param], given: &[(&str, f64)], name: &str) -> Option<f64> {
    let spec = table.iter().find(|p| p.name == name)?;
    Some(
        given
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(spec.default, |&(_, v)| v),
    )
}

/// The logistic function 1 / (1 + e^{-s}) without overflow.
#[inline]
pub(crate) fn logistic(s: f64) -> f64 {
    if s >= 0.0 {
        1.0 / (1.0 + (-s).exp())
    } else {
        let e = s.exp();
        e / (1.0 + e)
    }
}

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

    /// The name of the state in the law's own variable (`w`, `x`, `R`).
    fn state_name(&self) -> &'static str {
        "x"
    }

    /// The state in the law's own variable from the integrated one (they
    /// differ where a law integrates a transformed variable, e.g. the
    /// log-odds of x for the x-only HP windows).
    fn native_state(&self, _d: usize, x: f64) -> f64 {
        x
    }

    /// The integrated variable from the law's own (inverse of
    /// [`DeviceLaw::native_state`]).
    fn internal_state(&self, _d: usize, native: f64) -> f64 {
        native
    }
}
