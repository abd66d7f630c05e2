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
//! * [`xyce_team::XyceTeamLaw`]: Xyce's level 2, TEAM as Xyce codes it.
//! * [`pem::PemLaw`]: Xyce's level 4, the piecewise empirical model.
//! * [`yakopcic::YakopcicLaw`]: Yakopcic (as Xyce level 3 evaluates it).
//! * [`nlid::NonlinearDriftLaw`]: non-linear ion drift (Lehtonen-Laiho).
//! * [`threshold::ThresholdLaw`]: the ngspice XSPICE `memristor` code model
//!   (Pershin-Di Ventra threshold law).
//! * [`mmss::MmssLaw`]: Knowm's mean metastable switch.
//!
//! [`Laws`] holds the devices of one network, each with its law, and is
//! the one [`DeviceLaw`] the engine calls.

pub mod body;
pub mod hp;
mod linear;
pub mod mmss;
pub mod ngspice;
pub mod nlid;
pub mod pem;
pub mod team;
pub mod threshold;
pub mod xyce_team;
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

/// 1 / R, or the fault of a resistance that is not positive and finite.
#[inline]
pub(crate) fn conductance_of(r: f64) -> Result<f64, DeviceFault> {
    if r.is_finite() && r > 0.0 {
        Ok(1.0 / r)
    } else {
        Err(DeviceFault::NonPhysicalResistance(r))
    }
}

/// Joglekar's window 1 - ((2x - 1)^2)^p (the square first: defined for
/// real p).
#[inline]
pub(crate) fn joglekar_window(x: f64, p: f64) -> f64 {
    let u = 2.0 * x - 1.0;
    1.0 - (u * u).powf(p)
}

/// Biolek's window 1 - ((x - stp(-u))^2)^p with stp(s) = 1 for s >= 0,
/// u the drive (current or voltage).
#[inline]
pub(crate) fn biolek_window(x: f64, u: f64, p: f64) -> f64 {
    let stp = if u <= 0.0 { 1.0 } else { 0.0 };
    let d = x - stp;
    1.0 - (d * d).powf(p)
}

/// How far `u` is past `threshold`, in units of the threshold's magnitude
/// (of 1 when it is 0): a switching function on the scale
/// [`DeviceLaw::switches`] asks for.
#[inline]
pub(crate) fn past(u: f64, threshold: f64) -> f64 {
    let s = threshold.abs();
    (u - threshold) / if s > 0.0 { s } else { 1.0 }
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
    /// A compiled subcircuit body has no solution at this state and
    /// voltage (its Newton iteration failed or its matrix is singular).
    BodyUnsolved { x: f64, v: f64 },
}

/// What a device's evaluation may read besides its state x and voltage v:
/// the time and its extra states (a compiled body with several
/// capacitors, inductors or integrals, or one that reads `time`). The
/// native laws read neither; [`Laws`]' `_in` calls hand it to the bodies.
#[derive(Clone, Copy, Debug)]
pub struct Ctx<'a> {
    pub t: f64,
    /// The device's states beyond x, as [`Laws::extra_states`] counts them.
    pub extra: &'a [f64],
}

impl Ctx<'_> {
    /// t = 0 and the extra states at their initial values.
    pub const NONE: Ctx<'static> = Ctx { t: 0.0, extra: &[] };
}

/// What the engine kept for a device's rate: nothing, the memo of a
/// linear body's conductance ([`DeviceLaw::memo_len`]), or a non-linear
/// body's warm start ([`Laws::warm_len`]).
#[derive(Debug)]
pub enum Keep<'a> {
    Cold,
    Memo(&'a [f64]),
    Warm(&'a mut [f64]),
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

    /// Initial state of device `d` (in the integrated variable).
    fn initial_state(&self, d: usize) -> f64;

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

    /// [`DeviceLaw::current`] and [`DeviceLaw::conductance`] together (a
    /// law that computes both in one go, a compiled body, overrides it).
    fn current_and_conductance(&self, d: usize, x: f64, v: f64) -> Result<(f64, f64), DeviceFault> {
        Ok((self.current(d, x, v)?, self.conductance(d, x, v)?))
    }

    /// dx/dt of device `d` at state `x`, branch voltage `v`, current `i`.
    fn state_rate(&self, d: usize, x: f64, v: f64, i: f64) -> f64;

    /// Floats device `d` keeps between [`DeviceLaw::conductance_keep`] and
    /// [`DeviceLaw::state_rate_kept`] within one evaluation of a law linear
    /// in v (0: nothing to keep). A compiled body keeps how its unknowns
    /// move with v, so the rate needs no second body solve.
    fn memo_len(&self, _d: usize) -> usize {
        0
    }

    /// [`DeviceLaw::conductance`], leaving in `memo` (of
    /// [`DeviceLaw::memo_len`] floats) what the rate at the same state can
    /// reuse.
    fn conductance_keep(
        &self,
        d: usize,
        x: f64,
        v: f64,
        _memo: &mut [f64],
    ) -> Result<f64, DeviceFault> {
        self.conductance(d, x, v)
    }

    /// [`DeviceLaw::state_rate`] from what [`DeviceLaw::conductance_keep`]
    /// left in `memo` at state `x` (a law checks that it is for `x`).
    fn state_rate_kept(&self, d: usize, x: f64, v: f64, i: f64, _memo: &[f64]) -> f64 {
        self.state_rate(d, x, v, i)
    }

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

    /// For a law whose initial state depends on the operating point at
    /// t = 0 (Xyce's PEM without `xo`): the initial state of device `d`
    /// when the solve at its default initial state puts voltage `v` across
    /// it. `None`: the initial state is fixed.
    fn initial_state_at_bias(&self, _d: usize, _v: f64) -> Option<f64> {
        None
    }

    /// Number of switching functions per device: the kinks of the law
    /// (thresholds in v or i, dead bands, window corners in x) where its
    /// state rate is not smooth. 0: smooth. The bounds of
    /// [`DeviceLaw::state_bounds`] are not counted (the engine adds them).
    fn switch_count(&self) -> usize {
        0
    }

    /// Device `d`'s switching functions at state `x`, branch voltage `v`
    /// and current `i` into `out[..switch_count()]`: the rate is smooth
    /// while none changes sign. Each is scaled to its law's natural unit
    /// (a threshold's magnitude, see [`past`]), so that a value within
    /// [`crate::ode::SWITCH_DEAD`] of 0 is round-off, on the switch.
    fn switches(&self, _d: usize, _x: f64, _v: f64, _i: f64, _out: &mut [f64]) {}
}

/// Where a device's parameters live: which law, and its index there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Linear(u32),
    Hp(u32),
    Team(u32),
    Threshold(u32),
    Mmss(u32),
    Yakopcic(u32),
    Nlid(u32),
    XyceTeam(u32),
    Pem(u32),
    Body(u32),
}

/// The memristors of one network, each with its own law: the one
/// [`DeviceLaw`] the engine calls. Device `d` is state component `d`;
/// each law keeps its devices' parameters in its own table, so a network
/// of one law pays one predictable branch per device and call.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Laws {
    slots: Vec<Slot>,
    pub linear: LinearLaw,
    pub hp: hp::HpLaw,
    pub team: team::TeamLaw,
    pub threshold: threshold::ThresholdLaw,
    pub mmss: mmss::MmssLaw,
    pub yakopcic: yakopcic::YakopcicLaw,
    pub nlid: nlid::NonlinearDriftLaw,
    pub xyce_team: xyce_team::XyceTeamLaw,
    pub pem: pem::PemLaw,
    pub body: body::BodyLaw,
}

/// Calls `$method` on the law that holds device `$d`, with its index there.
macro_rules! dispatch {
    ($self:ident, $d:expr, $law:ident, $j:ident => $call:expr) => {
        match $self.slots[$d] {
            Slot::Linear(j) => {
                let ($law, $j) = (&$self.linear, j as usize);
                $call
            }
            Slot::Hp(j) => {
                let ($law, $j) = (&$self.hp, j as usize);
                $call
            }
            Slot::Team(j) => {
                let ($law, $j) = (&$self.team, j as usize);
                $call
            }
            Slot::Threshold(j) => {
                let ($law, $j) = (&$self.threshold, j as usize);
                $call
            }
            Slot::Mmss(j) => {
                let ($law, $j) = (&$self.mmss, j as usize);
                $call
            }
            Slot::Yakopcic(j) => {
                let ($law, $j) = (&$self.yakopcic, j as usize);
                $call
            }
            Slot::Nlid(j) => {
                let ($law, $j) = (&$self.nlid, j as usize);
                $call
            }
            Slot::XyceTeam(j) => {
                let ($law, $j) = (&$self.xyce_team, j as usize);
                $call
            }
            Slot::Pem(j) => {
                let ($law, $j) = (&$self.pem, j as usize);
                $call
            }
            Slot::Body(j) => {
                let ($law, $j) = (&$self.body, j as usize);
                $call
            }
        }
    };
}

impl Laws {
    /// Laws of devices that all follow memnet's linear law.
    pub fn all_linear(linear: LinearLaw) -> Laws {
        Laws {
            slots: (0..linear.len() as u32).map(Slot::Linear).collect(),
            linear,
            ..Laws::default()
        }
    }

    /// The memristors of `net` in edge order, each with its law resolved
    /// and checked (located errors naming the device), and the edge of
    /// each device.
    pub fn from_network(
        net: &memnet_graph::Network,
    ) -> Result<(Laws, Vec<memnet_graph::EdgeId>), crate::SolveError> {
        use memnet_graph::Device;
        let mut laws = Laws::default();
        let mut edges = Vec::new();
        for (k, e) in net.edges.iter().enumerate() {
            match e.device {
                Device::Memristor(p) => {
                    laws.linear.push_checked(&p, &e.name, e.loc.as_ref())?;
                    laws.slots.push(Slot::Linear(laws.linear.len() as u32 - 1));
                }
                Device::Native { spec } => {
                    let spec = net.laws.get(spec as usize).ok_or_else(|| {
                        crate::SolveError::InvalidOption(format!(
                            "device `{}` refers to law {spec}, the network has {}",
                            e.name,
                            net.laws.len()
                        ))
                    })?;
                    laws.push_spec(spec)
                        .map_err(|reason| crate::SolveError::InvalidDevice {
                            element: crate::Element::new(
                                &e.name,
                                e.loc.as_ref().or(spec.loc.as_ref()),
                            ),
                            reason: format!("law {}: {reason}", spec.law),
                        })?;
                }
                Device::Resistor { .. } => continue,
            }
            edges.push(k);
        }
        Ok((laws, edges))
    }

    /// Appends the device of law specification `spec` (law names and
    /// options of docs/device-laws.md), or says why it cannot be used,
    /// naming the law, option or parameter.
    pub fn push_spec(&mut self, spec: &memnet_graph::LawSpec) -> Result<(), String> {
        let given: Vec<(&str, f64)> = spec.params.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let table = match spec.law.as_str() {
            "hp" => hp::PARAMS,
            "team" | "vteam" => team::PARAMS,
            "xspice" => threshold::PARAMS,
            "mmss" => mmss::PARAMS,
            "knowm-xyce" => mmss::XYCE_FORK_PARAMS,
            "yakopcic" => yakopcic::PARAMS,
            "nlid" => nlid::PARAMS,
            "xyce-team" => xyce_team::PARAMS,
            "pem" => pem::PARAMS,
            "body" => {
                let Some((body, ic)) = &spec.body else {
                    return Err("law `body` needs a subcircuit body".into());
                };
                self.body.push(body, ic)?;
                self.slots
                    .push(Slot::Body(self.body.devices.len() as u32 - 1));
                return Ok(());
            }
            other => {
                return Err(format!(
                    "law `{other}` is not one of hp, team, vteam, xyce-team, yakopcic, nlid, \
                     pem, xspice, mmss, knowm-xyce"
                ));
            }
        };
        if let Some((name, _)) = given
            .iter()
            .find(|(n, _)| !table.iter().any(|p| p.name == *n))
        {
            let names: Vec<&str> = table.iter().map(|p| p.name).collect();
            return Err(format!(
                "`{name}` is not a parameter of law {} (it has {})",
                spec.law,
                names.join(", ")
            ));
        }
        let option = |name: &str, default: &'static str, allowed: &[&str]| {
            let v = spec.option(name).unwrap_or(default);
            if allowed.contains(&v) {
                Ok(v.to_string())
            } else {
                Err(format!(
                    "{name} = {v} is not one of {} for law {}",
                    allowed.join(", "),
                    spec.law
                ))
            }
        };
        let index = |len: usize| len as u32;
        let slot = match spec.law.as_str() {
            "hp" => {
                let w = option(
                    "window",
                    "none",
                    &["none", "joglekar", "biolek", "prodromakis"],
                )?;
                self.hp.devices.push(hp::HpDevice::from_params(&given, &w)?);
                Slot::Hp(index(self.hp.devices.len() - 1))
            }
            "team" | "vteam" => {
                let control = if spec.law == "team" {
                    team::Control::Current
                } else {
                    team::Control::Voltage
                };
                let iv = match option("iv", "linear", &["linear", "exponential"])?.as_str() {
                    "linear" => team::IvRelation::Linear,
                    _ => team::IvRelation::Exponential,
                };
                let kvatinsky =
                    option("window", "kvatinsky", &["none", "kvatinsky"])? == "kvatinsky";
                self.team.devices.push(team::TeamDevice::from_params(
                    &given, control, iv, kvatinsky,
                )?);
                Slot::Team(index(self.team.devices.len() - 1))
            }
            "xspice" => {
                self.threshold
                    .devices
                    .push(threshold::ThresholdDevice::from_params(&given)?);
                Slot::Threshold(index(self.threshold.devices.len() - 1))
            }
            "mmss" => {
                self.mmss
                    .devices
                    .push(mmss::MmssDevice::from_params(&given)?);
                Slot::Mmss(index(self.mmss.devices.len() - 1))
            }
            "knowm-xyce" => {
                self.mmss
                    .devices
                    .push(mmss::MmssDevice::from_xyce_fork(&given)?);
                Slot::Mmss(index(self.mmss.devices.len() - 1))
            }
            "yakopcic" => {
                self.yakopcic
                    .devices
                    .push(yakopcic::YakopcicDevice::from_params(&given)?);
                Slot::Yakopcic(index(self.yakopcic.devices.len() - 1))
            }
            "xyce-team" => {
                self.xyce_team
                    .devices
                    .push(xyce_team::XyceTeamDevice::from_params(&given)?);
                Slot::XyceTeam(index(self.xyce_team.devices.len() - 1))
            }
            "pem" => {
                self.pem.push(&given, &spec.tables)?;
                Slot::Pem(index(self.pem.devices.len() - 1))
            }
            _ => {
                let w = option("window", "none", &["none", "joglekar", "biolek"])?;
                self.nlid
                    .devices
                    .push(nlid::NonlinearDriftDevice::from_params(&given, &w)?);
                Slot::Nlid(index(self.nlid.devices.len() - 1))
            }
        };
        self.slots.push(slot);
        Ok(())
    }

    /// Whether every device follows memnet's linear law (then device `d`
    /// is `linear`'s device `d`).
    pub fn is_all_linear(&self) -> bool {
        self.linear.len() == self.slots.len()
    }

    /// For a device of a compiled subcircuit body: the potential of its
    /// body node `node` at state `x` and device voltage `v`, and whether it
    /// is relative to the second pin ([`body::BodyLaw::node_potential`]).
    pub fn body_node_potential(
        &self,
        d: usize,
        x: f64,
        cx: Ctx,
        v: f64,
        node: usize,
    ) -> Option<(f64, bool)> {
        match self.slots.get(d)? {
            Slot::Body(j) => self.body.node_potential(*j as usize, x, cx, v, node),
            _ => None,
        }
    }

    /// States of device `d` beyond its x (the engine integrates them after
    /// every device's x, in device order).
    pub fn extra_states(&self, d: usize) -> usize {
        match self.slots[d] {
            Slot::Body(j) => self.body.extra_states(j as usize),
            _ => 0,
        }
    }

    /// Device `d`'s initial extra states.
    pub fn initial_extra(&self, d: usize) -> &[f64] {
        match self.slots[d] {
            Slot::Body(j) => self.body.initial_extra(j as usize),
            _ => &[],
        }
    }

    /// Whether some device reads the time (then [`Ctx::t`] matters).
    pub fn reads_time(&self) -> bool {
        self.body.reads_time()
    }

    /// The first corner after `t` of a time-dependent source inside a
    /// device (a PULSE or PWL in a subcircuit body).
    pub fn breakpoint(&self, t: f64) -> Option<f64> {
        self.body.breakpoint(t)
    }

    /// The run's `.tran` step and stop, for sources inside bodies.
    pub fn set_tran_times(&mut self, tran: memnet_spice::TranTimes) {
        self.body.set_tran_times(tran);
    }

    /// The length of device `d`'s warm start (a non-linear body's last
    /// solution, [`body::BodyLaw::warm_len`]; 0 for every other law).
    pub fn warm_len(&self, d: usize) -> usize {
        match self.slots[d] {
            Slot::Body(j) => self.body.warm_len(j as usize),
            _ => 0,
        }
    }

    /// [`DeviceLaw::current_and_conductance`] at `cx`, a body's Newton
    /// starting from `warm` and leaving its solution there.
    #[inline]
    pub fn current_and_conductance_in(
        &self,
        d: usize,
        x: f64,
        cx: Ctx,
        v: f64,
        warm: &mut [f64],
    ) -> Result<(f64, f64), DeviceFault> {
        match self.slots[d] {
            Slot::Body(j) => self
                .body
                .current_and_conductance_in(j as usize, x, cx, v, warm),
            _ => self.current_and_conductance(d, x, v),
        }
    }

    /// [`DeviceLaw::current`] at `cx`, with `warm` as above.
    #[inline]
    pub fn current_in(
        &self,
        d: usize,
        x: f64,
        cx: Ctx,
        v: f64,
        warm: &mut [f64],
    ) -> Result<f64, DeviceFault> {
        match self.slots[d] {
            Slot::Body(j) => self
                .body
                .current_and_conductance_in(j as usize, x, cx, v, warm)
                .map(|p| p.0),
            _ => self.current(d, x, v),
        }
    }

    /// [`DeviceLaw::conductance`] at `cx`.
    #[inline]
    pub fn conductance_in(&self, d: usize, x: f64, cx: Ctx, v: f64) -> Result<f64, DeviceFault> {
        match self.slots[d] {
            Slot::Body(j) => self
                .body
                .current_and_conductance_in(j as usize, x, cx, v, &mut [])
                .map(|p| p.1),
            _ => self.conductance(d, x, v),
        }
    }

    /// [`DeviceLaw::conductance_keep`] at `cx`.
    #[inline]
    pub fn conductance_keep_in(
        &self,
        d: usize,
        x: f64,
        cx: Ctx,
        v: f64,
        memo: &mut [f64],
    ) -> Result<f64, DeviceFault> {
        match self.slots[d] {
            Slot::Body(j) => self.body.conductance_keep_in(j as usize, x, cx, v, memo),
            _ => self.conductance_keep(d, x, v, memo),
        }
    }

    /// [`DeviceLaw::state_rate`] at `cx` and the branch voltage and
    /// current `(v, i)`, with what the engine kept for the device
    /// ([`Keep`]); the rates of the extra states go into `extra`.
    #[inline]
    pub fn state_rate_in(
        &self,
        d: usize,
        x: f64,
        cx: Ctx,
        (v, i): (f64, f64),
        keep: Keep,
        extra: &mut [f64],
    ) -> f64 {
        match (self.slots[d], keep) {
            (Slot::Body(j), Keep::Memo(m)) => {
                self.body.state_rate_kept_in(j as usize, x, cx, v, m, extra)
            }
            (Slot::Body(j), Keep::Warm(w)) => {
                self.body.state_rates_in(j as usize, x, cx, v, w, extra)
            }
            (Slot::Body(j), Keep::Cold) => {
                self.body
                    .state_rates_in(j as usize, x, cx, v, &mut [], extra)
            }
            (_, Keep::Memo(m)) => self.state_rate_kept(d, x, v, i, m),
            _ => self.state_rate(d, x, v, i),
        }
    }

    /// The law name of device `d`.
    pub fn law_of(&self, d: usize) -> &'static str {
        dispatch!(self, d, law, _j => law.name())
    }

    /// The name of device `d`'s state in its law's own variable.
    pub fn state_name_of(&self, d: usize) -> &'static str {
        dispatch!(self, d, law, _j => law.state_name())
    }

    /// Whether some device integrates a transformed state (its samples
    /// must pass through [`DeviceLaw::native_state`]).
    pub fn any_transformed(&self) -> bool {
        self.hp.devices.iter().any(|d| d.window.x_only())
    }
}

impl DeviceLaw for Laws {
    fn name(&self) -> &'static str {
        if self.is_all_linear() {
            "linear"
        } else {
            "mixed"
        }
    }

    fn len(&self) -> usize {
        self.slots.len()
    }

    fn initial_state(&self, d: usize) -> f64 {
        dispatch!(self, d, law, j => law.initial_state(j))
    }

    fn linear_in_voltage(&self) -> bool {
        self.yakopcic.is_empty()
            && self.nlid.is_empty()
            && self.pem.is_empty()
            && self.body.linear_in_voltage()
            && self.mmss.linear_in_voltage()
    }

    fn state_bounds(&self, d: usize) -> (f64, f64) {
        dispatch!(self, d, law, j => law.state_bounds(j))
    }

    #[inline]
    fn conductance(&self, d: usize, x: f64, v: f64) -> Result<f64, DeviceFault> {
        dispatch!(self, d, law, j => law.conductance(j, x, v))
    }

    #[inline]
    fn current(&self, d: usize, x: f64, v: f64) -> Result<f64, DeviceFault> {
        dispatch!(self, d, law, j => law.current(j, x, v))
    }

    #[inline]
    fn current_and_conductance(&self, d: usize, x: f64, v: f64) -> Result<(f64, f64), DeviceFault> {
        dispatch!(self, d, law, j => law.current_and_conductance(j, x, v))
    }

    #[inline]
    fn state_rate(&self, d: usize, x: f64, v: f64, i: f64) -> f64 {
        dispatch!(self, d, law, j => law.state_rate(j, x, v, i))
    }

    fn memo_len(&self, d: usize) -> usize {
        dispatch!(self, d, law, j => law.memo_len(j))
    }

    #[inline]
    fn conductance_keep(
        &self,
        d: usize,
        x: f64,
        v: f64,
        memo: &mut [f64],
    ) -> Result<f64, DeviceFault> {
        dispatch!(self, d, law, j => law.conductance_keep(j, x, v, memo))
    }

    #[inline]
    fn state_rate_kept(&self, d: usize, x: f64, v: f64, i: f64, memo: &[f64]) -> f64 {
        dispatch!(self, d, law, j => law.state_rate_kept(j, x, v, i, memo))
    }

    fn state_name(&self) -> &'static str {
        if self.is_all_linear() { "w" } else { "x" }
    }

    fn native_state(&self, d: usize, x: f64) -> f64 {
        dispatch!(self, d, law, j => law.native_state(j, x))
    }

    fn internal_state(&self, d: usize, native: f64) -> f64 {
        dispatch!(self, d, law, j => law.internal_state(j, native))
    }

    fn initial_state_at_bias(&self, d: usize, v: f64) -> Option<f64> {
        dispatch!(self, d, law, j => law.initial_state_at_bias(j, v))
    }

    /// The most switching functions of any law present.
    fn switch_count(&self) -> usize {
        let present = [
            (self.linear.is_empty(), self.linear.switch_count()),
            (self.hp.is_empty(), self.hp.switch_count()),
            (self.team.is_empty(), self.team.switch_count()),
            (self.threshold.is_empty(), self.threshold.switch_count()),
            (self.mmss.is_empty(), self.mmss.switch_count()),
            (self.yakopcic.is_empty(), self.yakopcic.switch_count()),
            (self.nlid.is_empty(), self.nlid.switch_count()),
            (self.xyce_team.is_empty(), self.xyce_team.switch_count()),
            (self.pem.is_empty(), self.pem.switch_count()),
            (self.body.is_empty(), self.body.switch_count()),
        ];
        present
            .iter()
            .filter(|(empty, _)| !empty)
            .map(|&(_, k)| k)
            .max()
            .unwrap_or(0)
    }

    /// Device `d`'s switching functions; slots its law does not use hold 1
    /// (no sign change).
    #[inline]
    fn switches(&self, d: usize, x: f64, v: f64, i: f64, out: &mut [f64]) {
        out.iter_mut().for_each(|g| *g = 1.0);
        dispatch!(self, d, law, j => {
            let k = law.switch_count().min(out.len());
            law.switches(j, x, v, i, &mut out[..k])
        })
    }
}
