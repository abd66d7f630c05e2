//! Users' memristor subcircuits compiled into a device law (issue 11;
//! docs/subcircuit-bodies.md).
//!
//! A body (`memnet_spice::MemristorBody`) is a small circuit between the
//! device's two pins whose capacitors, inductors and `sdt()` integrals hold
//! its states x_0 .. x_{k-1} (a capacitor's voltage, an inductor's current,
//! an integral's value; x_0, the first in element order, capacitors and
//! inductors before integrals, is the device's state, the others are the
//! engine's extra states). Given the voltage v across the pins, the states
//! and the time t, the body's node potentials and the currents of its
//! voltage-defined elements solve the modified nodal equations
//!
//!   KCL at every free node:              sum of currents leaving it = 0
//!   each V, E, B-voltage element a -> b:  V(a) - V(b) = value(u, t)
//!   capacitor j a -> b:                   V(a) - V(b) = x_j
//!   inductor j a -> b:                    a current x_j from a to b
//!
//! by Newton (dense, the body has a handful of unknowns; the Jacobian
//! exact, forward mode on the tapes). The device current is the current the
//! body draws at its first pin, and each state's rate is as SPICE
//! integrates it: C dx/dt = i_C for a capacitor, L dx/dt = V(a) - V(b) for
//! an inductor, the integrand for an integral.
//!
//! The pins are fixed at V(p) = v, V(n) = 0 (or the one tied to ground at
//! 0): exact when the body does not connect its pins to ground and reads
//! no pin potential on its own, which the compiler checks (the instance is
//! then a two-terminal device whatever the outer potentials).
//!
//! Expressions are compiled to stack tapes evaluated without allocation;
//! all scratch lives on the stack, bounded by [`MAX_UNKNOWNS`] and
//! [`MAX_STACK`].

use std::collections::HashMap;
use std::sync::Arc;

use memnet_spice::expr::{
    BUILTIN_PARTIALS, BUILTINS, BinOp, Builtin, Expr, Partials, UnOp, apply_binary,
    binary_partials, builtin_index,
};
use memnet_spice::{ElementKind, MemristorBody, Sets};

use super::{Ctx, DeviceFault, DeviceLaw};

/// Unknowns of one body (node potentials and branch currents): bodies of
/// users' models have a handful, the largest published ones about 20 (an
/// E source per helper node); the Jacobian lives on the stack (8 KB).
pub const MAX_UNKNOWNS: usize = 32;
/// Scratch of the common bodies (up to 16 unknowns): the hot paths clear
/// this much, not [`MAX_UNKNOWNS`].
const SMALL: usize = 16;
/// Scratch of the smallest bodies (HP and Biolek subcircuits have 2
/// unknowns): cleared in registers, without a call to memset.
const TINY: usize = 4;

/// Runs `f` on zeroed stack scratch for `n` unknowns.
#[inline]
fn with_unknowns<R>(n: usize, f: impl FnOnce(&mut [f64]) -> R) -> R {
    if n <= TINY {
        f(&mut [0.0f64; TINY])
    } else if n <= SMALL {
        f(&mut [0.0f64; SMALL])
    } else {
        f(&mut [0.0f64; MAX_UNKNOWNS])
    }
}

/// Depth of an expression's evaluation stack.
pub const MAX_STACK: usize = 48;
/// Stack depth of a shallow tape.
const SHALLOW: usize = 8;
/// States of one body (capacitors, inductors and integrals).
pub const MAX_STATES: usize = 4;
/// Time-dependent sources (PULSE, SIN, PWL) of one body.
pub const MAX_WAVES: usize = 4;
/// Step halvings of a body Newton step's line search.
const LINE_SEARCH: usize = 12;
/// Newton iterations of a body solve before it is declared failed.
const MAX_NEWTON: usize = 60;
/// Convergence of a body solve: each update below this, relative to the
/// unknown (potentials in V, currents in A) plus an absolute floor, and
/// the KCL residuals below `RESIDUAL_TOL` A.
const UPDATE_RTOL: f64 = 1e-12;
const UPDATE_ATOL: f64 = 1e-15;

/// Where a body node's potential comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Pot {
    /// Unknown `k`.
    Free(u32),
    /// Ground, or the pin fixed at 0.
    Zero,
    /// The pin fixed at v.
    Plus,
    /// The pin fixed at -v (the first pin is on ground).
    Minus,
    /// The node of state capacitor j to ground: at x_j (`State`) or -x_j
    /// (`MinusState`, the capacitor written from ground to the node).
    State(u8),
    MinusState(u8),
}

/// One instruction of an expression tape.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Const(f64),
    /// Unknown k (a potential or a branch current).
    Unknown(u32),
    /// The device voltage v, times a sign.
    V(f64),
    /// State x_j, times a sign.
    State(u8, f64),
    /// The time t (`time` in an expression).
    Time,
    Neg,
    Not,
    Bin(BinOp),
    /// A binary operation whose right operand is a constant: `Const(c),
    /// Bin(op)` fused (a third of a typical tape is constants: one
    /// dispatch and one stack slot each saved).
    BinC(BinOp, f64),
    /// Pops c, a, b: a if c != 0 else b.
    Select,
    Call(u8),
    /// a^n for a constant integer exponent (Biolek's and Joglekar's
    /// windows write (...)**(2*p)): powi and its derivative n a^(n-1)
    /// instead of two powf and a logarithm.
    PowN(i32),
}

/// A part of the body in the modified nodal equations.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Part {
    /// Current g (V(a) - V(b)) from a to b.
    Conductance { a: Pot, b: Pot, g: f64 },
    /// Current tape(u) from a to b.
    CurrentExpr { a: Pot, b: Pot, tape: u32 },
    /// Current (V(a) - V(b)) / tape(u) from a to b.
    ResistorExpr { a: Pot, b: Pot, tape: u32 },
    /// Current gm (V(c) - V(d)) from a to b.
    Vccs {
        a: Pot,
        b: Pot,
        c: Pot,
        d: Pot,
        gm: f64,
    },
    /// Constant current from a to b.
    Current { a: Pot, b: Pot, i: f64 },
    /// V(a) - V(b) = e, branch current unknown `br` from a to b.
    Voltage { a: Pot, b: Pot, br: u32, e: f64 },
    /// V(a) - V(b) = gain (V(c) - V(d)).
    Vcvs {
        a: Pot,
        b: Pot,
        c: Pot,
        d: Pot,
        gain: f64,
        br: u32,
    },
    /// V(a) - V(b) = tape(u).
    VoltageExpr { a: Pot, b: Pot, br: u32, tape: u32 },
    /// State capacitor j: V(a) - V(b) = x_j.
    State { a: Pot, b: Pot, br: u32, j: u8 },
    /// Inductor j: its current x_j from a to b.
    Inductor { a: Pot, b: Pot, j: u8 },
    /// V(a) - V(b) = the time-dependent source `wave`'s value.
    VoltageWave { a: Pot, b: Pot, br: u32, wave: u8 },
    /// The time-dependent source `wave`'s current from a to b.
    CurrentWave { a: Pot, b: Pot, wave: u8 },
}

impl Part {
    /// The two nodes the part's own current flows between (a to b).
    fn ends(&self) -> (Pot, Pot) {
        match *self {
            Part::Conductance { a, b, .. }
            | Part::CurrentExpr { a, b, .. }
            | Part::ResistorExpr { a, b, .. }
            | Part::Vccs { a, b, .. }
            | Part::Current { a, b, .. }
            | Part::Voltage { a, b, .. }
            | Part::Vcvs { a, b, .. }
            | Part::VoltageExpr { a, b, .. }
            | Part::State { a, b, .. }
            | Part::Inductor { a, b, .. }
            | Part::VoltageWave { a, b, .. }
            | Part::CurrentWave { a, b, .. } => (a, b),
        }
    }
}

/// One body definition (one set of parameter values), compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledBody {
    pub subckt: String,
    /// Unknowns: free node potentials, then branch currents.
    n: usize,
    parts: Vec<Part>,
    /// Tapes, concatenated; `tapes[k]` is the range of tape k.
    ops: Vec<Op>,
    tapes: Vec<(u32, u32)>,
    /// Each tape's stack depth.
    depths: Vec<u32>,
    /// The inputs each tape reads (`reads[k]` a range of `inputs`): the
    /// directions its derivatives are taken in.
    reads: Vec<(u32, u32)>,
    inputs: Vec<Input>,
    /// The states, x_0 first.
    states: Vec<StateDef>,
    /// The time-dependent sources (values at t are handed to the solve).
    waves: Vec<memnet_spice::Waveform>,
    /// Whether a tape reads `time` or the body has a time-dependent source.
    reads_time: bool,
    /// The parts with a terminal on a state node: the only ones
    /// Kirchhoff's law there needs ([`StateCurrent::Kcl`]). Those between
    /// ground and state nodes alone are here and not in `parts`: they
    /// decide the states' rates but not the port solve.
    kcl_parts: Vec<Part>,
    /// Whether a state's current is Kirchhoff's sum at its node (then
    /// [`CompiledBody::rates_at`] assembles `kcl_parts`).
    kcl_states: bool,
    /// Whether the port current is G(x) v (every part of the port solve
    /// linear and homogeneous in the unknowns and v at a fixed state): one
    /// linear solve then gives G, and the network keeps one factorisation
    /// per right-hand side.
    linear: bool,
    /// The port current: the sum of the currents leaving this pin into the
    /// body, times `port_sign` (the first pin, or minus the second when the
    /// first is on ground).
    port: Pot,
    port_sign: f64,
    /// Scale of each unknown for finite differences and convergence (1 V
    /// for potentials, 1 mA for currents).
    scale: Vec<f64>,
    /// Each body node's potential, and whether it floats with the pins
    /// (its potential is then relative to the second pin's).
    pot: Vec<Pot>,
    floating: Vec<bool>,
}

/// One state of a body: x_j' = (its current) / `scale`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct StateDef {
    /// The capacitance, the inductance, or 1 for an integral.
    scale: Scale,
    current: StateCurrent,
    /// The initial value an `sdt(x, ic)` gives (a capacitor's or
    /// inductor's IC= comes with each instance instead).
    ic: Option<f64>,
}

/// What a state's rate divides its current by.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scale {
    /// A capacitance, an inductance, or 1 for an integral.
    Const(f64),
    /// A capacitance that depends on the capacitor's voltage (a diode's
    /// depletion capacitance): its tape, evaluated at the solved body.
    Tape(u32),
}

/// Where a state's rate (times its scale) comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
enum StateCurrent {
    /// A branch unknown (a capacitor between two unknown nodes).
    Branch(u32),
    /// Kirchhoff's law at state node j: the capacitor's current (from
    /// its first node to its second) is `sign` times minus the current
    /// leaving the node into the other parts.
    Kcl { sign: f64 },
    /// An `sdt()`/`idt()` integral: the rate is tape `tape` (scale 1).
    Integral { tape: u32 },
    /// An inductor a -> b: L x' = V(a) - V(b).
    Across { a: Pot, b: Pot },
}

/// What a body solve holds fixed: the states x_0 .. x_{k-1}, the time and
/// the values of the body's time-dependent sources at that time.
#[derive(Clone, Copy, Debug)]
struct Held<'a> {
    x: &'a [f64],
    t: f64,
    src: &'a [f64],
}

/// The devices of all compiled bodies of a network.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BodyLaw {
    pub bodies: Vec<Arc<CompiledBody>>,
    /// Body index and the offset of its initial states in `initial`.
    pub devices: Vec<(u32, u32)>,
    /// Every device's initial states, x_0 first.
    initial: Vec<f64>,
    /// Compiled bodies by the address of their source (instances share it).
    compiled: HashMap<usize, u32>,
    /// The run's `.tran` step and stop (PULSE's default edges; until the
    /// engine sets them, those of `.tran 1 1`).
    tran: Option<memnet_spice::TranTimes>,
}

impl BodyLaw {
    /// Adds a device of `body` with initial capacitor voltages and inductor
    /// currents `ic` (element order), compiling the body on its first
    /// device.
    pub fn push(&mut self, body: &Arc<MemristorBody>, ic: &[Option<f64>]) -> Result<(), String> {
        let key = Arc::as_ptr(body) as usize;
        let k = match self.compiled.get(&key) {
            Some(&k) => k,
            None => {
                let c = compile(body)?;
                self.bodies.push(Arc::new(c));
                let k = self.bodies.len() as u32 - 1;
                self.compiled.insert(key, k);
                k
            }
        };
        // Without IC= a capacitor starts uncharged and an inductor
        // without current, as with `.tran ... uic`; the integrals follow
        // the capacitors and inductors.
        let at = self.initial.len() as u32;
        let b = &self.bodies[k as usize];
        for (j, st) in b.states.iter().enumerate() {
            let given = ic.get(j).copied().flatten();
            self.initial.push(given.or(st.ic).unwrap_or(0.0));
        }
        self.devices.push((k, at));
        Ok(())
    }

    fn body(&self, d: usize) -> &CompiledBody {
        &self.bodies[self.devices[d].0 as usize]
    }

    /// The `.tran` step and stop the run uses (a PULSE in a body takes
    /// its default edges from them, as at the top level).
    pub fn set_tran_times(&mut self, tran: memnet_spice::TranTimes) {
        self.tran = Some(tran);
    }

    fn tran_times(&self) -> memnet_spice::TranTimes {
        self.tran.unwrap_or(memnet_spice::TranTimes {
            tstep: 1.0,
            tstop: 1.0,
        })
    }

    /// States of device `d` beyond its own x_0.
    pub fn extra_states(&self, d: usize) -> usize {
        self.body(d).states.len() - 1
    }

    /// Device `d`'s initial states beyond x_0.
    pub fn initial_extra(&self, d: usize) -> &[f64] {
        let at = self.devices[d].1 as usize;
        &self.initial[at + 1..at + self.body(d).states.len()]
    }

    /// Whether some body reads the time (`time`, or a PULSE/SIN/PWL
    /// source inside it).
    pub fn reads_time(&self) -> bool {
        self.bodies.iter().any(|b| b.reads_time)
    }

    /// The first corner after `t` of any body's time-dependent source.
    pub fn breakpoint(&self, t: f64) -> Option<f64> {
        self.bodies
            .iter()
            .flat_map(|b| &b.waves)
            .filter_map(|w| crate::waveform::next_breakpoint(w, t, self.tran_times()))
            .reduce(f64::min)
    }

    /// Runs `f` on device `d`'s body with what its solve holds: the state
    /// `x` and `cx`'s extra states (the initial ones when `cx` has none:
    /// the scalar [`DeviceLaw`] calls) and time.
    #[inline]
    fn held<R>(&self, d: usize, x: f64, cx: Ctx, f: impl FnOnce(&CompiledBody, Held) -> R) -> R {
        let b = self.body(d);
        let k = b.states.len();
        let mut xs = [0.0f64; MAX_STATES];
        xs[0] = x;
        if k > 1 {
            let extra = if cx.extra.len() == k - 1 {
                cx.extra
            } else {
                self.initial_extra(d)
            };
            xs[1..k].copy_from_slice(extra);
        }
        let mut src = [0.0f64; MAX_WAVES];
        for (s, w) in src.iter_mut().zip(&b.waves) {
            *s = w.value(cx.t, self.tran_times());
        }
        let held = Held {
            x: &xs[..k],
            t: cx.t,
            src: &src[..b.waves.len()],
        };
        f(b, held)
    }

    /// The length of device `d`'s warm start: a non-linear body's
    /// unknowns, kept by the engine between solves so that Newton starts
    /// from the last solution (0: the body is solved in one step).
    pub fn warm_len(&self, d: usize) -> usize {
        let b = self.body(d);
        if b.linear { 0 } else { b.n }
    }

    /// Device current and di/dv at (x, `cx`, v). Newton starts from `warm`
    /// when it holds [`BodyLaw::warm_len`] values (else from zero) and
    /// leaves its solution there.
    #[inline]
    pub fn current_and_conductance_in(
        &self,
        d: usize,
        x: f64,
        cx: Ctx,
        v: f64,
        warm: &mut [f64],
    ) -> Result<(f64, f64), DeviceFault> {
        self.held(d, x, cx, |b, h| {
            with_unknowns(b.n, |u| {
                b.solve_warm(h, v, false, warm, u).map(|s| (s.i, s.di_dv))
            })
        })
    }

    /// x_0's rate at (x, `cx`, v), the extra states' rates into `extra`
    /// (when it has room for them); `warm` as in
    /// [`BodyLaw::current_and_conductance_in`].
    #[inline]
    pub fn state_rates_in(
        &self,
        d: usize,
        x: f64,
        cx: Ctx,
        v: f64,
        warm: &mut [f64],
        extra: &mut [f64],
    ) -> f64 {
        self.held(d, x, cx, |b, h| {
            with_unknowns(b.n, |u| match b.solve_warm(h, v, true, warm, u) {
                Ok(_) => b.rates_at(&u[..b.n], v, h, extra),
                Err(_) => {
                    extra.iter_mut().for_each(|r| *r = f64::NAN);
                    f64::NAN
                }
            })
        })
    }

    /// As [`DeviceLaw::conductance_keep`], at `cx`.
    #[inline]
    pub fn conductance_keep_in(
        &self,
        d: usize,
        x: f64,
        cx: Ctx,
        v: f64,
        memo: &mut [f64],
    ) -> Result<f64, DeviceFault> {
        let b = self.body(d);
        if !b.keeps() || memo.len() != b.n + 1 {
            return self
                .current_and_conductance_in(d, x, cx, v, &mut [])
                .map(|p| p.1);
        }
        self.held(d, x, cx, |b, h| {
            with_unknowns(b.n, |u| {
                let (head, du_dv) = memo.split_at_mut(1);
                let s = b.solve_into(h, v, u, false, Some(du_dv))?;
                head[0] = x;
                Ok(s.di_dv)
            })
        })
    }

    /// As [`DeviceLaw::state_rate_kept`], at `cx`, the extra states' rates
    /// into `extra`.
    #[inline]
    pub fn state_rate_kept_in(
        &self,
        d: usize,
        x: f64,
        cx: Ctx,
        v: f64,
        memo: &[f64],
        extra: &mut [f64],
    ) -> f64 {
        let b = self.body(d);
        if !b.keeps() || memo.len() != b.n + 1 || memo[0] != x {
            return self.state_rates_in(d, x, cx, v, &mut [], extra);
        }
        self.held(d, x, cx, |b, h| {
            with_unknowns(b.n, |u| {
                for (u, s) in u.iter_mut().zip(&memo[1..]) {
                    *u = v * s;
                }
                b.rates_at(&u[..b.n], v, h, extra)
            })
        })
    }

    /// The potential of body node `node` (an index into the body's
    /// `nodes`) of device `d` at state `x` and device voltage `v`, and
    /// whether it is relative to the device's second pin rather than
    /// ground; `None` if the body has no solution there.
    pub fn node_potential(
        &self,
        d: usize,
        x: f64,
        cx: Ctx,
        v: f64,
        node: usize,
    ) -> Option<(f64, bool)> {
        self.held(d, x, cx, |b, h| {
            let p = *b.pot.get(node)?;
            with_unknowns(b.n, |u| {
                b.solve_into(h, v, u, false, None).ok()?;
                Some((CompiledBody::pot(p, &u[..b.n], v, h), b.floating[node]))
            })
        })
    }
}

/// Compiles `body`, or says why it cannot be, naming the element.
pub fn compile(body: &MemristorBody) -> Result<CompiledBody, String> {
    let nn = body.nodes.len();
    // Pins beyond the first two (a state pin left open, checked by the
    // network builder) are internal nodes.
    if body.pins.len() < 2 {
        return Err(format!(
            "subcircuit '{}' has {} pin; a device needs two",
            body.subckt,
            body.pins.len()
        ));
    }
    if body.pins[2..].contains(&0) {
        return Err(format!(
            "subcircuit '{}': an instance ties a pin beyond the first two to ground; memnet \
             compiles such pins when they are left open",
            body.subckt
        ));
    }
    let (p, n) = (body.pins[0] as usize, body.pins[1] as usize);
    // Galvanic components (every terminal of an element that carries
    // current; the control nodes of E and G do not).
    let mut parent: Vec<usize> = (0..nn).collect();
    fn find(parent: &mut [usize], mut k: usize) -> usize {
        while parent[k] != k {
            parent[k] = parent[parent[k]];
            k = parent[k];
        }
        k
    }
    for e in &body.elements {
        if let [a, b, ..] = e.nodes[..] {
            let (ra, rb) = (find(&mut parent, a as usize), find(&mut parent, b as usize));
            parent[ra] = rb;
        }
    }
    let ground_comp = find(&mut parent, 0);
    let port_comp = find(&mut parent, p.max(n));
    if p != 0 && n != 0 && port_comp == ground_comp {
        return Err(format!(
            "subcircuit '{}' connects its pins to ground inside its body: memnet compiles \
             two-terminal bodies, whose pins connect to ground only through the outer circuit",
            body.subckt
        ));
    }
    // The states of capacitors and inductors, in element order.
    let state_elems: Vec<usize> = body
        .elements
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            matches!(
                e.kind,
                ElementKind::Capacitor { .. }
                    | ElementKind::ExprCapacitor { .. }
                    | ElementKind::Inductor { .. }
            )
        })
        .map(|(k, _)| k)
        .collect();
    let state_of = |k: usize| state_elems.iter().position(|&s| s == k).map(|j| j as u8);
    // A capacitor that closes a loop of capacitors and voltage-defined
    // elements (the pins and ground count as tied by the outer circuit)
    // has no independent voltage: SPICE's matrix is singular there.
    {
        let mut tie: Vec<usize> = (0..nn).collect();
        let (rp, rn) = (find(&mut tie, p), find(&mut tie, n));
        tie[rp] = 0;
        tie[rn] = 0;
        let voltage_defined = |k: &ElementKind| {
            matches!(
                k,
                ElementKind::VoltageSource(_)
                    | ElementKind::Vcvs { .. }
                    | ElementKind::ExprSource {
                        sets: Sets::Voltage,
                        ..
                    }
            )
        };
        for e in body.elements.iter().filter(|e| voltage_defined(&e.kind)) {
            let (ra, rb) = (
                find(&mut tie, e.nodes[0] as usize),
                find(&mut tie, e.nodes[1] as usize),
            );
            tie[ra] = rb;
        }
        for e in &body.elements {
            if let ElementKind::Capacitor { .. } | ElementKind::ExprCapacitor { .. } = e.kind {
                let (ra, rb) = (
                    find(&mut tie, e.nodes[0] as usize),
                    find(&mut tie, e.nodes[1] as usize),
                );
                if ra == rb {
                    return Err(format!(
                        "element {} of subcircuit '{}': the capacitor closes a loop of                          capacitors and voltage sources (the pins count as tied), so its                          voltage is not a state of its own",
                        e.name, body.subckt
                    ));
                }
                tie[ra] = rb;
            }
        }
    }
    // A capacitor from an internal node to ground fixes that node at its
    // state: no unknown, and its current comes from Kirchhoff's law there.
    let grounded_caps: Vec<(usize, usize, Pot)> = body
        .elements
        .iter()
        .enumerate()
        .filter_map(|(k, e)| match (&e.kind, &e.nodes[..]) {
            (ElementKind::Capacitor { .. } | ElementKind::ExprCapacitor { .. }, &[a, b]) => {
                let internal = |k: u32| k != 0 && k as usize != p && k as usize != n;
                let j = state_of(k)?;
                if b == 0 && internal(a) {
                    Some((k, a as usize, Pot::State(j)))
                } else if a == 0 && internal(b) {
                    Some((k, b as usize, Pot::MinusState(j)))
                } else {
                    None
                }
            }
            _ => None,
        })
        .collect();
    // Fixed potentials.
    let mut pot = vec![Pot::Zero; nn];
    let mut n_free = 0usize;
    for (k, slot) in pot.iter_mut().enumerate() {
        *slot = if k == 0 {
            Pot::Zero
        } else if k == p {
            Pot::Plus
        } else if k == n {
            if p == 0 { Pot::Minus } else { Pot::Zero }
        } else if let Some(&(_, _, sp)) = grounded_caps.iter().find(|g| g.1 == k) {
            sp
        } else {
            n_free += 1;
            Pot::Free(n_free as u32 - 1)
        };
    }
    // A floating component has no fixed potential: its matrix is singular.
    for k in 1..nn {
        let c = find(&mut parent, k);
        if c != ground_comp && c != port_comp {
            return Err(format!(
                "node `{}` of subcircuit '{}' has no DC path to a pin or ground",
                body.nodes[k], body.subckt
            ));
        }
    }
    let node = |k: u32| pot[k as usize];
    // With both pins off ground the port side's potentials are known only
    // up to a common shift: only differences within it may be read.
    let floating: Vec<bool> = (0..nn)
        .map(|k| p != 0 && n != 0 && find(&mut parent, k) == port_comp)
        .collect();
    // Branch unknowns, and the names `i()` may read.
    let mut n_br = 0u32;
    let mut branch_of: HashMap<&str, u32> = HashMap::new();
    for (k, e) in body.elements.iter().enumerate() {
        let grounded = grounded_caps.iter().any(|g| g.0 == k);
        let is_branch = !grounded
            && matches!(
                e.kind,
                ElementKind::VoltageSource(_)
                    | ElementKind::Vcvs { .. }
                    | ElementKind::Capacitor { .. }
                    | ElementKind::ExprCapacitor { .. }
                    | ElementKind::ExprSource {
                        sets: Sets::Voltage,
                        ..
                    }
            );
        if is_branch {
            branch_of.insert(e.name.as_str(), n_free as u32 + n_br);
            n_br += 1;
        }
    }
    let n = n_free + n_br as usize;
    if n > MAX_UNKNOWNS {
        return Err(format!(
            "subcircuit '{}' has {n} unknowns (node potentials and source currents); memnet \
             compiles bodies of up to {MAX_UNKNOWNS}",
            body.subckt
        ));
    }
    let node_index: HashMap<&str, usize> = body
        .nodes
        .iter()
        .enumerate()
        .map(|(k, s)| (s.as_str(), k))
        .collect();
    let resistors: HashMap<&str, (Pot, Pot, f64)> = body
        .elements
        .iter()
        .filter_map(|e| match e.kind {
            ElementKind::Resistor { resistance } => Some((
                e.name.as_str(),
                (node(e.nodes[0]), node(e.nodes[1]), resistance),
            )),
            _ => None,
        })
        .collect();
    let currents: HashMap<&str, CurrentOf> = body
        .elements
        .iter()
        .filter_map(|e| {
            let def = match &e.kind {
                ElementKind::ExprSource {
                    sets: Sets::Current,
                    value,
                } => CurrentOf::Expr(value),
                ElementKind::ExprResistor { value } => {
                    CurrentOf::Resistor(node(e.nodes[0]), node(e.nodes[1]), value)
                }
                ElementKind::Vccs { transconductance } => {
                    CurrentOf::Vccs(node(e.nodes[2]), node(e.nodes[3]), *transconductance)
                }
                ElementKind::CurrentSource(s)
                    if matches!(s.waveform, memnet_spice::Waveform::Dc(_)) =>
                {
                    CurrentOf::Dc(s.dc)
                }
                _ => return None,
            };
            Some((e.name.as_str(), def))
        })
        .collect();
    // `i(L)` of an inductor reads its state.
    let inductors: HashMap<&str, u8> = body
        .elements
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e.kind, ElementKind::Inductor { .. }))
        .filter_map(|(k, e)| Some((e.name.as_str(), state_of(k)?)))
        .collect();
    if state_elems.len() > MAX_STATES {
        return Err(format!(
            "subcircuit '{}' has {} capacitors and inductors; memnet compiles bodies of up              to {MAX_STATES} states",
            body.subckt,
            state_elems.len()
        ));
    }
    let mut c = Compiler {
        integrals: Vec::new(),
        first_integral: state_elems.len() as u8,
        reads_time: false,
        inductors: &inductors,
        ops: Vec::new(),
        tapes: Vec::new(),
        depths: Vec::new(),
        pot: &pot,
        floating: &floating,
        node_index: &node_index,
        branch_of: &branch_of,
        resistors: &resistors,
        currents: &currents,
        reading: Vec::new(),
    };
    let mut parts = Vec::new();
    let mut states: Vec<Option<StateDef>> = vec![None; state_elems.len()];
    let mut waves: Vec<memnet_spice::Waveform> = Vec::new();
    for (k, e) in body.elements.iter().enumerate() {
        let at = |m: String| format!("element {} of subcircuit '{}': {m}", e.name, body.subckt);
        let nd = &e.nodes;
        let (a, b) = (node(nd[0]), node(nd[1]));
        let br = || branch_of[e.name.as_str()];
        let part = match &e.kind {
            ElementKind::Resistor { resistance } => {
                if !(resistance.is_finite() && *resistance != 0.0) {
                    return Err(at(format!(
                        "resistance {resistance} is not finite and non-zero"
                    )));
                }
                Part::Conductance {
                    a,
                    b,
                    g: 1.0 / resistance,
                }
            }
            ElementKind::Capacitor { .. } | ElementKind::ExprCapacitor { .. } => {
                let scale = match &e.kind {
                    ElementKind::Capacitor { capacitance, .. } => {
                        if !(capacitance.is_finite() && *capacitance > 0.0) {
                            return Err(at(format!("capacitance {capacitance} is not positive")));
                        }
                        Scale::Const(*capacitance)
                    }
                    // C(v) is evaluated at the solved body, where the
                    // capacitor's voltage is its state.
                    ElementKind::ExprCapacitor { value } => Scale::Tape(c.tape(value).map_err(at)?),
                    _ => unreachable!("the arm matches capacitors only"),
                };
                let j = state_of(k).unwrap_or(0);
                if let Some(&(_, _, sp)) = grounded_caps.iter().find(|g| g.0 == k) {
                    let sign = if matches!(sp, Pot::State(_)) {
                        1.0
                    } else {
                        -1.0
                    };
                    states[j as usize] = Some(StateDef {
                        scale,
                        current: StateCurrent::Kcl { sign },
                        ic: None,
                    });
                    continue;
                }
                states[j as usize] = Some(StateDef {
                    scale,
                    current: StateCurrent::Branch(br()),
                    ic: None,
                });
                Part::State { a, b, br: br(), j }
            }
            ElementKind::Inductor { inductance, .. } => {
                if !(inductance.is_finite() && *inductance > 0.0) {
                    return Err(at(format!("inductance {inductance} is not positive")));
                }
                let j = state_of(k).unwrap_or(0);
                states[j as usize] = Some(StateDef {
                    scale: Scale::Const(*inductance),
                    current: StateCurrent::Across { a, b },
                    ic: None,
                });
                Part::Inductor { a, b, j }
            }
            ElementKind::VoltageSource(s) | ElementKind::CurrentSource(s)
                if !matches!(s.waveform, memnet_spice::Waveform::Dc(_)) =>
            {
                if waves.len() == MAX_WAVES {
                    return Err(at(format!(
                        "a time-dependent source beyond the first {MAX_WAVES}: memnet \
                         compiles bodies with up to {MAX_WAVES}"
                    )));
                }
                waves.push(s.waveform.clone());
                let wave = waves.len() as u8 - 1;
                if matches!(e.kind, ElementKind::VoltageSource(_)) {
                    Part::VoltageWave {
                        a,
                        b,
                        br: br(),
                        wave,
                    }
                } else {
                    Part::CurrentWave { a, b, wave }
                }
            }
            ElementKind::VoltageSource(s) => Part::Voltage {
                a,
                b,
                br: br(),
                e: s.dc,
            },
            ElementKind::CurrentSource(s) => Part::Current { a, b, i: s.dc },
            ElementKind::Vcvs { gain } => Part::Vcvs {
                a,
                b,
                c: node(nd[2]),
                d: node(nd[3]),
                gain: *gain,
                br: br(),
            },
            ElementKind::Vccs { transconductance } => Part::Vccs {
                a,
                b,
                c: node(nd[2]),
                d: node(nd[3]),
                gm: *transconductance,
            },
            ElementKind::ExprSource { sets, value } => {
                let tape = c.tape(value).map_err(at)?;
                match sets {
                    Sets::Voltage => Part::VoltageExpr {
                        a,
                        b,
                        br: br(),
                        tape,
                    },
                    Sets::Current => Part::CurrentExpr { a, b, tape },
                }
            }
            ElementKind::ExprResistor { value } => {
                let tape = c.tape(value).map_err(at)?;
                Part::ResistorExpr { a, b, tape }
            }
            k => return Err(at(format!("a {} is not compiled", k.name()))),
        };
        parts.push(part);
    }
    let mut states: Vec<StateDef> = states.into_iter().flatten().collect();
    // Integrals, in the order met; an integrand may hold another.
    let mut k = 0;
    while k < c.integrals.len() {
        let (integrand, ic) = c.integrals[k].clone();
        let tape = c
            .tape(&integrand)
            .map_err(|m| format!("an integral of subcircuit '{}': {m}", body.subckt))?;
        states.push(StateDef {
            scale: Scale::Const(1.0),
            current: StateCurrent::Integral { tape },
            ic: Some(ic),
        });
        k += 1;
    }
    if states.is_empty() {
        // A static device (a diode, a behavioural selector): its one state
        // slot is an integral of 0 from 0, which the engine carries along
        // and outputs leave out (`MemristorBody::holds_state`).
        let tape = c.tape(&Expr::Num(0.0))?;
        states.push(StateDef {
            scale: Scale::Const(1.0),
            current: StateCurrent::Integral { tape },
            ic: Some(0.0),
        });
    }
    let reads_time = c.reads_time || !waves.is_empty();
    let (port, port_sign) = if p != 0 {
        (Pot::Plus, 1.0)
    } else {
        (Pot::Minus, -1.0)
    };
    let mut scale = vec![1.0; n_free];
    scale.resize(n, 1e-3);
    let Compiler {
        ops, tapes, depths, ..
    } = c;
    // Parts between ground and the state node only feed the state's rate.
    let state_side = |q: Pot| matches!(q, Pot::Zero | Pot::State(_) | Pot::MinusState(_));
    let state_only = |part: &Part| {
        let (a, b) = part.ends();
        let current_type = matches!(
            part,
            Part::Conductance { .. }
                | Part::CurrentExpr { .. }
                | Part::ResistorExpr { .. }
                | Part::Vccs { .. }
                | Part::Current { .. }
        );
        current_type && state_side(a) && state_side(b)
    };
    let (state_parts, parts): (Vec<Part>, Vec<Part>) = parts.into_iter().partition(state_only);
    let on_state = |q: Pot| matches!(q, Pot::State(_) | Pot::MinusState(_));
    let kcl_parts = parts
        .iter()
        .chain(&state_parts)
        .filter(|part| {
            let (a, b) = part.ends();
            on_state(a) || on_state(b)
        })
        .copied()
        .collect();
    let linear = parts.iter().all(|part| part_is_linear(part, &ops, &tapes));
    let mut inputs = Vec::new();
    let reads = tapes
        .iter()
        .map(|&(a, b)| {
            let start = inputs.len() as u32;
            for op in &ops[a as usize..b as usize] {
                let w = match *op {
                    Op::Unknown(k) => Input::U(k),
                    Op::V(_) => Input::V,
                    _ => continue,
                };
                if !inputs[start as usize..].contains(&w) {
                    inputs.push(w);
                }
            }
            (start, inputs.len() as u32)
        })
        .collect();
    let kcl_states = states
        .iter()
        .any(|s| matches!(s.current, StateCurrent::Kcl { .. }));
    Ok(CompiledBody {
        depths,
        reads,
        inputs,
        kcl_parts,
        kcl_states,
        linear,
        pot,
        floating,
        subckt: body.subckt.clone(),
        n,
        parts,
        ops,
        tapes,
        states,
        waves,
        reads_time,
        port,
        port_sign,
        scale,
    })
}

/// The node of a one-node `v(node)` read.
fn single_v(e: &Expr) -> Option<&str> {
    match e {
        Expr::Call(c) if &*c.0 == "v" => match &c.1[..] {
            [Expr::Var(n)] => Some(n),
            _ => None,
        },
        _ => None,
    }
}

struct Compiler<'a> {
    /// The integrand and initial value of each `sdt()`/`idt()`, compiled
    /// to tapes of their own after the elements; integral k is state
    /// `first_integral + k`.
    integrals: Vec<(Expr, f64)>,
    first_integral: u8,
    /// Whether a tape reads `time`.
    reads_time: bool,
    /// Inductors by name, with their states (`i(L)` reads it).
    inductors: &'a HashMap<&'a str, u8>,
    ops: Vec<Op>,
    tapes: Vec<(u32, u32)>,
    depths: Vec<u32>,
    pot: &'a [Pot],
    floating: &'a [bool],
    node_index: &'a HashMap<&'a str, usize>,
    branch_of: &'a HashMap<&'a str, u32>,
    resistors: &'a HashMap<&'a str, (Pot, Pot, f64)>,
    /// Current-defined elements `i()` may read by their value.
    currents: &'a HashMap<&'a str, CurrentOf<'a>>,
    /// The elements whose `i()` is being inlined (a cycle is an error).
    reading: Vec<&'a str>,
}

/// How the current of a current-defined element is computed, for `i()`:
/// from a to b through the element, SPICE's sign for G, B and I sources.
#[derive(Clone, Copy)]
enum CurrentOf<'a> {
    /// A G `value=`/`cur=` or B `I=` source.
    Expr(&'a Expr),
    /// A resistor whose value is an expression: (V(a) - V(b)) / R.
    Resistor(Pot, Pot, &'a Expr),
    /// A linear G: gm (V(c) - V(d)).
    Vccs(Pot, Pot, f64),
    /// A DC current source.
    Dc(f64),
}

impl<'a> Compiler<'a> {
    fn tape(&mut self, e: &Expr) -> Result<u32, String> {
        let start = self.ops.len() as u32;
        let mut depth = 0usize;
        let mut max = 0usize;
        self.emit(e, &mut depth, &mut max)?;
        if max > MAX_STACK {
            return Err(format!(
                "expression nested too deeply to compile (stack {max} > {MAX_STACK})"
            ));
        }
        self.tapes.push((start, self.ops.len() as u32));
        self.depths.push(max as u32);
        Ok(self.tapes.len() as u32 - 1)
    }

    fn push(&mut self, op: Op, depth: &mut usize, max: &mut usize, pops: usize) {
        *depth = *depth + 1 - pops;
        *max = (*max).max(*depth);
        // A binary operation's right operand is what was pushed last, in
        // this tape: a constant there fuses (Op::BinC).
        if let Op::Bin(b) = op
            && let Some(&Op::Const(c)) = self.ops.last()
        {
            self.ops.pop();
            // x * c1 * c2 and x * c1 / c2 (Biolek's I*uv*Ron/D**2) take
            // one product, off by at most an ulp or two of the product,
            // when the folded constant is a normal number (a quotient that
            // underflowed would lose what the two products keep).
            if let (BinOp::Mul | BinOp::Div, Some(&Op::BinC(BinOp::Mul, c1))) = (b, self.ops.last())
            {
                let folded = if b == BinOp::Mul { c1 * c } else { c1 / c };
                if folded.is_normal() {
                    self.ops.pop();
                    self.ops.push(Op::BinC(BinOp::Mul, folded));
                    return;
                }
            }
            self.ops.push(Op::BinC(b, c));
            return;
        }
        self.ops.push(op);
    }

    fn pot_op(&mut self, p: Pot, depth: &mut usize, max: &mut usize) {
        let op = match p {
            Pot::Free(k) => Op::Unknown(k),
            Pot::Zero => Op::Const(0.0),
            Pot::Plus => Op::V(1.0),
            Pot::Minus => Op::V(-1.0),
            Pot::State(j) => Op::State(j, 1.0),
            Pot::MinusState(j) => Op::State(j, -1.0),
        };
        self.push(op, depth, max, 0);
    }

    /// A node's potential, and whether it floats with the port side.
    fn node(&self, name: &str) -> Result<(Pot, bool), String> {
        self.node_index
            .get(name)
            .map(|&k| (self.pot[k], self.floating[k]))
            .ok_or_else(|| format!("v({name}) reads a node the body does not have"))
    }

    /// Emits the current of a current-defined element ([`CurrentOf`]).
    fn emit_current(
        &mut self,
        def: CurrentOf<'a>,
        depth: &mut usize,
        max: &mut usize,
    ) -> Result<(), String> {
        match def {
            CurrentOf::Expr(e) => self.emit(e, depth, max)?,
            CurrentOf::Resistor(a, b, r) => {
                self.pot_op(a, depth, max);
                self.pot_op(b, depth, max);
                self.push(Op::Bin(BinOp::Sub), depth, max, 2);
                self.emit(r, depth, max)?;
                self.push(Op::Bin(BinOp::Div), depth, max, 2);
            }
            CurrentOf::Vccs(c, d, gm) => {
                self.pot_op(c, depth, max);
                self.pot_op(d, depth, max);
                self.push(Op::Bin(BinOp::Sub), depth, max, 2);
                self.push(Op::Const(gm), depth, max, 0);
                self.push(Op::Bin(BinOp::Mul), depth, max, 2);
            }
            CurrentOf::Dc(i) => self.push(Op::Const(i), depth, max, 0),
        }
        Ok(())
    }

    fn emit(&mut self, e: &Expr, depth: &mut usize, max: &mut usize) -> Result<(), String> {
        match e {
            Expr::Num(v) => self.push(Op::Const(*v), depth, max, 0),
            Expr::Var(n) if &**n == "time" => {
                self.reads_time = true;
                self.push(Op::Time, depth, max, 0);
            }
            Expr::Var(n) => return Err(format!("`{n}` is not a value")),
            Expr::Unary(op, a) => {
                self.emit(a, depth, max)?;
                let op = match op {
                    UnOp::Neg => Op::Neg,
                    UnOp::Not => Op::Not,
                };
                self.push(op, depth, max, 1);
            }
            Expr::Binary(op, a, b) => {
                // A constant integer power: one powi (see Op::PowN).
                if *op == BinOp::Pow
                    && let Expr::Num(n) = **b
                    && n.fract() == 0.0
                    && n.abs() <= 64.0
                {
                    self.emit(a, depth, max)?;
                    self.push(Op::PowN(n as i32), depth, max, 1);
                    return Ok(());
                }
                // V(a) - V(b) of two pin-side nodes is the difference
                // v(a,b), which does not depend on where the instance sits
                // (Xyce's Yakopcic deck writes F((V(TE)-V(BE)), ...)).
                if *op == BinOp::Sub
                    && let (Some(na), Some(nb)) = (single_v(a), single_v(b))
                    && let ((pa, true), (pb, true)) = (self.node(na)?, self.node(nb)?)
                {
                    self.pot_op(pa, depth, max);
                    self.pot_op(pb, depth, max);
                    self.push(Op::Bin(BinOp::Sub), depth, max, 2);
                    return Ok(());
                }
                self.emit(a, depth, max)?;
                self.emit(b, depth, max)?;
                self.push(Op::Bin(*op), depth, max, 2);
            }
            Expr::Cond(c) => {
                for x in c.iter() {
                    self.emit(x, depth, max)?;
                }
                self.push(Op::Select, depth, max, 3);
            }
            Expr::Call(c) => {
                let (name, args) = (&*c.0, &c.1);
                match name {
                    "v" => {
                        let names: Vec<&str> = args
                            .iter()
                            .map(|a| match a {
                                Expr::Var(n) => Ok(&**n),
                                _ => Err("v(): expected a node name".to_string()),
                            })
                            .collect::<Result<_, _>>()?;
                        let floats = |a: &str| {
                            format!(
                                "v({a}) reads the potential of a node on the pins' side of the \
                                 body relative to ground, which depends on where the instance \
                                 sits: memnet compiles such reads when a pin is on ground; \
                                 elsewhere write differences such as v(plus,minus)"
                            )
                        };
                        match names[..] {
                            [a] => {
                                let (pa, fa) = self.node(a)?;
                                if fa {
                                    return Err(floats(a));
                                }
                                self.pot_op(pa, depth, max);
                            }
                            [a, b] => {
                                let ((pa, fa), (pb, fb)) = (self.node(a)?, self.node(b)?);
                                if fa != fb {
                                    return Err(floats(if fa { a } else { b }));
                                }
                                self.pot_op(pa, depth, max);
                                self.pot_op(pb, depth, max);
                                self.push(Op::Bin(BinOp::Sub), depth, max, 2);
                            }
                            _ => return Err("v() takes one or two nodes".into()),
                        }
                    }
                    "i" => {
                        let [Expr::Var(n)] = &args[..] else {
                            return Err("i(): expected an element name".into());
                        };
                        if let Some(&br) = self.branch_of.get(&**n) {
                            self.push(Op::Unknown(br), depth, max, 0);
                        } else if let Some(&j) = self.inductors.get(&**n) {
                            self.push(Op::State(j, 1.0), depth, max, 0);
                        } else if let Some(&(a, b, r)) = self.resistors.get(&**n) {
                            self.pot_op(a, depth, max);
                            self.pot_op(b, depth, max);
                            self.push(Op::Bin(BinOp::Sub), depth, max, 2);
                            self.push(Op::Const(r), depth, max, 0);
                            self.push(Op::Bin(BinOp::Div), depth, max, 2);
                        } else if let Some((&key, &def)) = self.currents.get_key_value(&**n) {
                            if self.reading.contains(&key) {
                                return Err(format!(
                                    "i({n}) is read inside the value of {n} itself: the \
                                     current is defined through itself"
                                ));
                            }
                            self.reading.push(key);
                            let r = self.emit_current(def, depth, max);
                            self.reading.pop();
                            r?;
                        } else {
                            return Err(format!(
                                "i({n}): memnet reads the currents of the body's sources (V, \
                                 I, E, F, G, H, B), capacitors, inductors and resistors; `{n}` \
                                 is none of them"
                            ));
                        }
                    }
                    "sdt" | "idt" => {
                        // A state x_j is the integral: sdt(f, ic) reads x_j,
                        // and dx_j/dt = f at the body's solution.
                        let j = self.first_integral as usize + self.integrals.len();
                        if j >= MAX_STATES {
                            return Err(format!(
                                "{name}(): a state beyond the first {MAX_STATES} (capacitors, \
                                 inductors and integrals): memnet compiles bodies of up to \
                                 {MAX_STATES}"
                            ));
                        }
                        let ic = match args.get(1) {
                            None => 0.0,
                            Some(Expr::Num(v)) => *v,
                            Some(_) => {
                                return Err(format!(
                                    "{name}(): the initial value must be a number once \
                                     parameters are known"
                                ));
                            }
                        };
                        // The same integral written twice (an inlined
                        // `i()` repeats its element's value) is one state.
                        let j = match self
                            .integrals
                            .iter()
                            .position(|(f, c)| *f == args[0] && *c == ic)
                        {
                            Some(k) => self.first_integral as usize + k,
                            None => {
                                self.integrals.push((args[0].clone(), ic));
                                j
                            }
                        };
                        self.push(Op::State(j as u8, 1.0), depth, max, 0);
                    }
                    _ => {
                        let Some(k) = builtin_index(name) else {
                            return Err(format!("unknown function '{name}'"));
                        };
                        let arity = BUILTINS[k].1.arity();
                        if args.len() != arity {
                            return Err(format!(
                                "{name}() takes {arity} arguments, got {}",
                                args.len()
                            ));
                        }
                        for a in args {
                            self.emit(a, depth, max)?;
                        }
                        self.push(Op::Call(k as u8), depth, max, arity);
                    }
                }
            }
        }
        Ok(())
    }
}

/// What a tape's derivative is taken in: an unknown, or the device voltage.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Input {
    U(u32),
    V,
}

/// Evaluates a tape. `u` the unknowns, `v` the device voltage, `h` the
/// states and time.
#[inline]
fn eval<const S: usize>(ops: &[Op], u: &[f64], v: f64, h: Held) -> f64 {
    let mut st = [0.0f64; S];
    let mut sp = 0usize;
    for op in ops {
        match *op {
            Op::Const(c) => {
                st[sp] = c;
                sp += 1;
            }
            Op::Unknown(k) => {
                st[sp] = u[k as usize];
                sp += 1;
            }
            Op::V(sign) => {
                st[sp] = sign * v;
                sp += 1;
            }
            Op::State(j, sign) => {
                st[sp] = sign * h.x[j as usize];
                sp += 1;
            }
            Op::Time => {
                st[sp] = h.t;
                sp += 1;
            }
            Op::Neg => st[sp - 1] = -st[sp - 1],
            Op::Not => st[sp - 1] = if st[sp - 1] == 0.0 { 1.0 } else { 0.0 },
            Op::PowN(n) => st[sp - 1] = st[sp - 1].powi(n),
            Op::Bin(b) => {
                sp -= 1;
                st[sp - 1] = apply_binary(b, st[sp - 1], st[sp]);
            }
            Op::BinC(b, c) => st[sp - 1] = apply_binary(b, st[sp - 1], c),
            Op::Select => {
                sp -= 2;
                st[sp - 1] = if st[sp - 1] != 0.0 {
                    st[sp]
                } else {
                    st[sp + 1]
                };
            }
            Op::Call(k) => match BUILTINS[k as usize].1 {
                Builtin::One(f) => st[sp - 1] = f(st[sp - 1]),
                Builtin::Two(f) => {
                    sp -= 1;
                    st[sp - 1] = f(st[sp - 1], st[sp]);
                }
                Builtin::Three(f) => {
                    sp -= 2;
                    st[sp - 1] = f(st[sp - 1], st[sp], st[sp + 1]);
                }
            },
        }
    }
    st[0]
}

/// `p . t` over the arguments that move (a partial may be infinite or NaN
/// where its argument does not move: pow(0, 2)'s exponent partial).
#[inline]
fn chain(p: &[f64], t: &[f64]) -> f64 {
    p.iter()
        .zip(t)
        .filter(|(_, t)| **t != 0.0)
        .map(|(p, t)| p * t)
        .sum()
}

/// Evaluates a tape and its derivative in `wrt`, exactly (forward mode:
/// each stack slot carries a value and its tangent).
fn eval_tangent<const S: usize>(ops: &[Op], u: &[f64], v: f64, h: Held, wrt: Input) -> (f64, f64) {
    let mut st = [0.0f64; S];
    let mut dt = [0.0f64; S];
    let mut sp = 0usize;
    for op in ops {
        match *op {
            Op::Const(c) => {
                (st[sp], dt[sp]) = (c, 0.0);
                sp += 1;
            }
            Op::Unknown(k) => {
                let seed = if wrt == Input::U(k) { 1.0 } else { 0.0 };
                (st[sp], dt[sp]) = (u[k as usize], seed);
                sp += 1;
            }
            Op::V(sign) => {
                let seed = if wrt == Input::V { sign } else { 0.0 };
                (st[sp], dt[sp]) = (sign * v, seed);
                sp += 1;
            }
            Op::State(j, sign) => {
                (st[sp], dt[sp]) = (sign * h.x[j as usize], 0.0);
                sp += 1;
            }
            Op::Time => {
                (st[sp], dt[sp]) = (h.t, 0.0);
                sp += 1;
            }
            Op::Neg => (st[sp - 1], dt[sp - 1]) = (-st[sp - 1], -dt[sp - 1]),
            Op::Not => {
                st[sp - 1] = if st[sp - 1] == 0.0 { 1.0 } else { 0.0 };
                dt[sp - 1] = 0.0;
            }
            Op::PowN(n) => {
                let a = st[sp - 1];
                if dt[sp - 1] != 0.0 {
                    dt[sp - 1] *= f64::from(n) * a.powi(n - 1);
                }
                st[sp - 1] = a.powi(n);
            }
            Op::Bin(b) => {
                sp -= 1;
                let (a, c) = (st[sp - 1], st[sp]);
                let f = apply_binary(b, a, c);
                dt[sp - 1] = chain(&binary_partials(b, a, c, f), &dt[sp - 1..=sp]);
                st[sp - 1] = f;
            }
            Op::BinC(b, c) => {
                let a = st[sp - 1];
                let f = apply_binary(b, a, c);
                if dt[sp - 1] != 0.0 {
                    dt[sp - 1] *= binary_partials(b, a, c, f)[0];
                }
                st[sp - 1] = f;
            }
            Op::Select => {
                sp -= 2;
                let j = if st[sp - 1] != 0.0 { sp } else { sp + 1 };
                (st[sp - 1], dt[sp - 1]) = (st[j], dt[j]);
            }
            Op::Call(k) => match (BUILTINS[k as usize].1, BUILTIN_PARTIALS[k as usize]) {
                (Builtin::One(f), Partials::One(d)) => {
                    let a = st[sp - 1];
                    let fa = f(a);
                    dt[sp - 1] = chain(&[d(a, fa)], &dt[sp - 1..sp]);
                    st[sp - 1] = fa;
                }
                (Builtin::Two(f), Partials::Two(d)) => {
                    sp -= 1;
                    let (a, b) = (st[sp - 1], st[sp]);
                    let fa = f(a, b);
                    dt[sp - 1] = chain(&d(a, b, fa), &dt[sp - 1..=sp]);
                    st[sp - 1] = fa;
                }
                (Builtin::Three(f), Partials::Three(d)) => {
                    sp -= 2;
                    let (a, b, c) = (st[sp - 1], st[sp], st[sp + 1]);
                    let fa = f(a, b, c);
                    dt[sp - 1] = chain(&d(a, b, c, fa), &dt[sp - 1..=sp + 1]);
                    st[sp - 1] = fa;
                }
                // The two tables share their order and arities (tested in
                // memnet-spice); a mismatch would leave the tangent at 0.
                _ => {
                    let arity = BUILTINS[k as usize].1.arity();
                    sp -= arity - 1;
                    dt[sp - 1] = 0.0;
                }
            },
        }
    }
    (st[0], dt[0])
}

/// Which parts [`CompiledBody::assemble`] takes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Assembly {
    /// The port solve's.
    Port,
    /// Those on the state node (its Kirchhoff sum alone).
    StateNode,
}

/// The outcome of one body solve.
#[derive(Clone, Copy, Debug)]
struct Solved {
    /// Device current (first pin to second, through the body).
    i: f64,
    /// di/dv with the state held.
    di_dv: f64,
}

/// Derivatives of the residuals and of the port current, on the stack for
/// bodies of up to `N` unknowns (`N2` = N * N).
struct Tangents<const N: usize, const N2: usize> {
    /// dr/du, row-major n x n.
    jac: [f64; N2],
    dr_dv: [f64; N],
    di_du: [f64; N],
    di_dv: f64,
}

impl<const N: usize, const N2: usize> Tangents<N, N2> {
    fn zero() -> Self {
        Tangents {
            jac: [0.0; N2],
            dr_dv: [0.0; N],
            di_du: [0.0; N],
            di_dv: 0.0,
        }
    }

    /// Solves J w = dr/dv with J factored in `jac`; hands -w (how the
    /// unknowns move with v) to `du_dv` and returns
    /// di/dv = di/dv|u - di/du J^-1 dr/dv and w.
    fn port_conductance(
        &self,
        n: usize,
        perm: &[usize],
        du_dv: Option<&mut [f64]>,
    ) -> (f64, [f64; N]) {
        let mut w = self.dr_dv;
        lu_solve::<N>(&self.jac[..n * n], n, perm, &mut w[..n]);
        if let Some(out) = du_dv {
            for (o, w) in out.iter_mut().zip(&w[..n]) {
                *o = -w;
            }
        }
        (self.di_dv - chain(&self.di_du[..n], &w[..n]), w)
    }
}

/// Residuals and currents as the parts add to them.
struct Acc<'a, const N: usize, const N2: usize> {
    n: usize,
    r: &'a mut [f64; N],
    tan: Option<&'a mut Tangents<N, N2>>,
    port_pot: Pot,
    port: f64,
    /// The current leaving each state node into the parts.
    at_state: [f64; MAX_STATES],
}

impl<const N: usize, const N2: usize> Acc<'_, N, N2> {
    /// A current `i` leaving node a into a part and entering node b.
    #[inline]
    fn flow(&mut self, a: Pot, b: Pot, i: f64) {
        for (p, s) in [(a, i), (b, -i)] {
            match p {
                Pot::Free(k) => self.r[k as usize] += s,
                Pot::State(j) | Pot::MinusState(j) => self.at_state[j as usize] += s,
                p if p == self.port_pot => self.port += s,
                _ => {}
            }
        }
    }

    /// The derivative `d` in `wrt` of the current of [`Acc::flow`].
    #[inline]
    fn flow_d(&mut self, a: Pot, b: Pot, wrt: Input, d: f64) {
        let n = self.n;
        let port_pot = self.port_pot;
        let Some(t) = self.tan.as_deref_mut() else {
            return;
        };
        for (p, s) in [(a, d), (b, -d)] {
            let row = match p {
                Pot::Free(k) => Some(k as usize),
                p if p == port_pot => None,
                _ => continue,
            };
            match (row, wrt) {
                (Some(r), Input::U(k)) => t.jac[r * n + k as usize] += s,
                (Some(r), Input::V) => t.dr_dv[r] += s,
                (None, Input::U(k)) => t.di_du[k as usize] += s,
                (None, Input::V) => t.di_dv += s,
            }
        }
    }

    /// The derivative `d` of branch row `row` in `wrt`.
    #[inline]
    fn row_d(&mut self, row: u32, wrt: Input, d: f64) {
        let n = self.n;
        if let Some(t) = self.tan.as_deref_mut() {
            match wrt {
                Input::U(k) => t.jac[row as usize * n + k as usize] += d,
                Input::V => t.dr_dv[row as usize] += d,
            }
        }
    }

    /// Row `row`'s derivative of `c (V(a) - V(b))`.
    #[inline]
    fn row_pots(&mut self, row: u32, a: Pot, b: Pot, c: f64) {
        for (p, s) in [(a, c), (b, -c)] {
            if let Some((w, k)) = seed(p) {
                self.row_d(row, w, s * k);
            }
        }
    }

    /// The derivative of the current `g (V(c) - V(d))` from a to b.
    #[inline]
    fn flow_pots(&mut self, a: Pot, b: Pot, c: Pot, d: Pot, g: f64) {
        for (p, s) in [(c, g), (d, -g)] {
            if let Some((w, k)) = seed(p) {
                self.flow_d(a, b, w, s * k);
            }
        }
    }
}

/// The input that moves a potential, and by how much.
#[inline]
fn seed(p: Pot) -> Option<(Input, f64)> {
    match p {
        Pot::Free(k) => Some((Input::U(k), 1.0)),
        Pot::Plus => Some((Input::V, 1.0)),
        Pot::Minus => Some((Input::V, -1.0)),
        _ => None,
    }
}

impl CompiledBody {
    fn tape(&self, k: u32) -> &[Op] {
        let (a, b) = self.tapes[k as usize];
        &self.ops[a as usize..b as usize]
    }

    /// The inputs tape `k` reads.
    fn reads(&self, k: u32) -> &[Input] {
        let (a, b) = self.reads[k as usize];
        &self.inputs[a as usize..b as usize]
    }

    #[inline]
    fn pot(p: Pot, u: &[f64], v: f64, h: Held) -> f64 {
        match p {
            Pot::Free(k) => u[k as usize],
            Pot::Zero => 0.0,
            Pot::Plus => v,
            Pot::Minus => -v,
            Pot::State(j) => h.x[j as usize],
            Pot::MinusState(j) => -h.x[j as usize],
        }
    }

    /// Whether the engine may keep a linear body's du/dv between its
    /// conductance and its rate (keyed by x_0 alone: one state, no time).
    fn keeps(&self) -> bool {
        self.linear && self.states.len() == 1 && !self.reads_time
    }

    /// Tape `k` at u, and with `tangents` each of its derivatives handed to
    /// `d` (tapes read one or two inputs: one forward pass per input).
    #[inline]
    fn tape_value(
        &self,
        k: u32,
        u: &[f64],
        v: f64,
        h: Held,
        tangents: bool,
        mut d: impl FnMut(Input, f64),
    ) -> f64 {
        let ops = self.tape(k);
        let reads = self.reads(k);
        // A shallow tape (most are) clears a small stack.
        let shallow = self.depths[k as usize] as usize <= SHALLOW;
        if !tangents || reads.is_empty() {
            return if shallow {
                eval::<SHALLOW>(ops, u, v, h)
            } else {
                eval::<MAX_STACK>(ops, u, v, h)
            };
        }
        let mut value = 0.0;
        for &w in reads {
            let (f, df) = if shallow {
                eval_tangent::<SHALLOW>(ops, u, v, h, w)
            } else {
                eval_tangent::<MAX_STACK>(ops, u, v, h, w)
            };
            value = f;
            d(w, df);
        }
        value
    }

    /// The residuals `r` at `u`, and with `tan` their derivatives and the
    /// port current's, over the parts `which` names. Returns the port
    /// current and the current leaving each state node into those parts.
    fn assemble<const N: usize, const N2: usize>(
        &self,
        u: &[f64],
        v: f64,
        h: Held,
        r: &mut [f64; N],
        mut tan: Option<&mut Tangents<N, N2>>,
        which: Assembly,
    ) -> (f64, [f64; MAX_STATES]) {
        let n = self.n;
        r[..n].iter_mut().for_each(|z| *z = 0.0);
        let tangents = tan.is_some();
        if let Some(t) = tan.as_deref_mut() {
            t.jac[..n * n].iter_mut().for_each(|z| *z = 0.0);
            t.dr_dv[..n].iter_mut().for_each(|z| *z = 0.0);
            t.di_du[..n].iter_mut().for_each(|z| *z = 0.0);
            t.di_dv = 0.0;
        }
        let mut acc = Acc {
            n,
            r,
            tan,
            port_pot: self.port,
            port: 0.0,
            at_state: [0.0; MAX_STATES],
        };
        let pot = |p: Pot| Self::pot(p, u, v, h);
        let parts = match which {
            Assembly::Port => &self.parts,
            Assembly::StateNode => &self.kcl_parts,
        };
        for part in parts {
            match *part {
                Part::Conductance { a, b, g } => {
                    acc.flow(a, b, g * (pot(a) - pot(b)));
                    if tangents {
                        acc.flow_pots(a, b, a, b, g);
                    }
                }
                Part::CurrentExpr { a, b, tape } => {
                    let i = self.tape_value(tape, u, v, h, tangents, |w, d| acc.flow_d(a, b, w, d));
                    acc.flow(a, b, i);
                }
                Part::ResistorExpr { a, b, tape } => {
                    let drop = pot(a) - pot(b);
                    let resistance = self.tape_value(tape, u, v, h, false, |_, _| {});
                    acc.flow(a, b, drop / resistance);
                    if tangents {
                        acc.flow_pots(a, b, a, b, 1.0 / resistance);
                        let c = -drop / (resistance * resistance);
                        self.tape_value(tape, u, v, h, true, |w, d| acc.flow_d(a, b, w, c * d));
                    }
                }
                Part::Vccs { a, b, c, d, gm } => {
                    acc.flow(a, b, gm * (pot(c) - pot(d)));
                    if tangents {
                        acc.flow_pots(a, b, c, d, gm);
                    }
                }
                Part::Current { a, b, i } => acc.flow(a, b, i),
                Part::Voltage { a, b, br, e } => {
                    acc.flow(a, b, u[br as usize]);
                    acc.r[br as usize] = pot(a) - pot(b) - e;
                    if tangents {
                        acc.flow_d(a, b, Input::U(br), 1.0);
                        acc.row_pots(br, a, b, 1.0);
                    }
                }
                Part::Vcvs {
                    a,
                    b,
                    c,
                    d,
                    gain,
                    br,
                } => {
                    acc.flow(a, b, u[br as usize]);
                    acc.r[br as usize] = pot(a) - pot(b) - gain * (pot(c) - pot(d));
                    if tangents {
                        acc.flow_d(a, b, Input::U(br), 1.0);
                        acc.row_pots(br, a, b, 1.0);
                        acc.row_pots(br, c, d, -gain);
                    }
                }
                Part::VoltageExpr { a, b, br, tape } => {
                    acc.flow(a, b, u[br as usize]);
                    if tangents {
                        acc.flow_d(a, b, Input::U(br), 1.0);
                        acc.row_pots(br, a, b, 1.0);
                    }
                    let e = self.tape_value(tape, u, v, h, tangents, |w, d| acc.row_d(br, w, -d));
                    acc.r[br as usize] = pot(a) - pot(b) - e;
                }
                Part::State { a, b, br, j } => {
                    acc.flow(a, b, u[br as usize]);
                    acc.r[br as usize] = pot(a) - pot(b) - h.x[j as usize];
                    if tangents {
                        acc.flow_d(a, b, Input::U(br), 1.0);
                        acc.row_pots(br, a, b, 1.0);
                    }
                }
                Part::Inductor { a, b, j } => acc.flow(a, b, h.x[j as usize]),
                Part::VoltageWave { a, b, br, wave } => {
                    acc.flow(a, b, u[br as usize]);
                    acc.r[br as usize] = pot(a) - pot(b) - h.src[wave as usize];
                    if tangents {
                        acc.flow_d(a, b, Input::U(br), 1.0);
                        acc.row_pots(br, a, b, 1.0);
                    }
                }
                Part::CurrentWave { a, b, wave } => acc.flow(a, b, h.src[wave as usize]),
            }
        }
        let (port, at_state) = (acc.port, acc.at_state);
        if let Some(t) = acc.tan {
            t.di_du[..n].iter_mut().for_each(|z| *z *= self.port_sign);
            t.di_dv *= self.port_sign;
        }
        (port * self.port_sign, at_state)
    }

    /// The states' rates at the solved unknowns `u`: x_0's returned, the
    /// others into `extra` (as far as it has room).
    fn rates_at(&self, u: &[f64], v: f64, h: Held, extra: &mut [f64]) -> f64 {
        // Kirchhoff's sums at the state nodes, once for all of them.
        let at_state = if self.kcl_states {
            if self.n <= TINY {
                let mut r = [0.0f64; TINY];
                self.assemble::<TINY, 0>(u, v, h, &mut r, None, Assembly::StateNode)
                    .1
            } else if self.n <= SMALL {
                let mut r = [0.0f64; SMALL];
                self.assemble::<SMALL, 0>(u, v, h, &mut r, None, Assembly::StateNode)
                    .1
            } else {
                let mut r = [0.0f64; MAX_UNKNOWNS];
                self.assemble::<MAX_UNKNOWNS, 0>(u, v, h, &mut r, None, Assembly::StateNode)
                    .1
            }
        } else {
            [0.0; MAX_STATES]
        };
        let rate = |j: usize| {
            let st = &self.states[j];
            let i = match st.current {
                StateCurrent::Branch(br) => u[br as usize],
                StateCurrent::Kcl { sign } => -sign * at_state[j],
                StateCurrent::Integral { tape } => self.tape_value(tape, u, v, h, false, |_, _| {}),
                StateCurrent::Across { a, b } => Self::pot(a, u, v, h) - Self::pot(b, u, v, h),
            };
            match st.scale {
                Scale::Const(c) => i / c,
                Scale::Tape(t) => i / self.tape_value(t, u, v, h, false, |_, _| {}),
            }
        };
        for (j, r) in extra.iter_mut().enumerate().take(self.states.len() - 1) {
            *r = rate(j + 1);
        }
        rate(0)
    }

    /// Solves the body at `h` and device voltage `v`, from `warm` when it
    /// holds a start (its length is the unknowns'), which then receives
    /// the solution; a warm start that fails is retried from zero. The
    /// unknowns are left in `u` (zeroed, at least [`CompiledBody::n`] long).
    fn solve_warm(
        &self,
        h: Held,
        v: f64,
        want_state: bool,
        warm: &mut [f64],
        u: &mut [f64],
    ) -> Result<Solved, DeviceFault> {
        let warm = if warm.len() == self.n { warm } else { &mut [] };
        if !warm.is_empty() {
            u[..self.n].copy_from_slice(warm);
            if let Ok(s) = self.solve_into(h, v, u, want_state, None) {
                warm.copy_from_slice(&u[..self.n]);
                return Ok(s);
            }
            u.fill(0.0);
        }
        let s = self.solve_into(h, v, u, want_state, None)?;
        if !warm.is_empty() {
            warm.copy_from_slice(&u[..self.n]);
        }
        Ok(s)
    }

    /// As [`CompiledBody::solve`], leaving the unknowns in `u`. The
    /// scratch is sized to the body (a 2-unknown body clears 16 entries,
    /// not 256).
    fn solve_into(
        &self,
        h: Held,
        v: f64,
        u: &mut [f64],
        want_state: bool,
        du_dv: Option<&mut [f64]>,
    ) -> Result<Solved, DeviceFault> {
        // Up to 4 unknowns the size is a constant: the loops unroll.
        match self.n {
            0 => self.solve_n::<0, 0>(h, v, u, want_state, du_dv),
            1 => self.solve_n::<1, 1>(h, v, u, want_state, du_dv),
            2 => self.solve_n::<2, 4>(h, v, u, want_state, du_dv),
            3 => self.solve_n::<3, 9>(h, v, u, want_state, du_dv),
            4 => self.solve_n::<4, 16>(h, v, u, want_state, du_dv),
            5..=8 => self.solve_n::<8, 64>(h, v, u, want_state, du_dv),
            9..=16 => self.solve_n::<16, 256>(h, v, u, want_state, du_dv),
            _ => self.solve_n::<MAX_UNKNOWNS, { MAX_UNKNOWNS * MAX_UNKNOWNS }>(
                h, v, u, want_state, du_dv,
            ),
        }
    }

    /// Newton on the body's unknowns with its exact Jacobian (a linear
    /// body is handed to [`CompiledBody::solve_linear`]). With `du_dv`, how
    /// the unknowns move with v goes there.
    fn solve_n<const N: usize, const N2: usize>(
        &self,
        h: Held,
        v: f64,
        u: &mut [f64],
        want_state: bool,
        du_dv: Option<&mut [f64]>,
    ) -> Result<Solved, DeviceFault> {
        if self.linear {
            return self.solve_linear::<N, N2>(h, v, u, want_state, du_dv);
        }
        let n = if N <= 4 { N } else { self.n };
        let mut r = [0.0f64; N];
        let mut tan = Tangents::<N, N2>::zero();
        let mut perm = [0usize; N];
        let mut i = f64::NAN;
        let mut converged = false;
        // A start where the body has no Jacobian (an R={V(k)} read at k =
        // 0, a zero resistance) starts again once from all unknowns at 1.
        let mut restarted = false;
        let x = h.x[0];
        for _ in 0..MAX_NEWTON {
            let (i0, _) = self.assemble(&u[..n], v, h, &mut r, Some(&mut tan), Assembly::Port);
            let usable = r[..n]
                .iter()
                .chain(&tan.jac[..n * n])
                .all(|z| z.is_finite());
            if !usable || !lu_factor::<N>(&mut tan.jac[..n * n], n, &mut perm[..n]) {
                if restarted {
                    return Err(DeviceFault::BodyUnsolved { x, v });
                }
                restarted = true;
                u[..n].iter_mut().for_each(|z| *z = 1.0);
                continue;
            }
            let mut du = [0.0f64; N];
            for k in 0..n {
                du[k] = -r[k];
            }
            lu_solve::<N>(&tan.jac[..n * n], n, &perm[..n], &mut du[..n]);
            // Backtracking on the residual's norm (the Newton step is a
            // descent direction for it): an exponential (a diode) far from
            // its solution would otherwise overshoot and creep back by
            // about one thermal voltage per iteration. Without a decrease
            // in LINE_SEARCH halvings the full step is taken.
            let mut full = true;
            // A step already below the convergence test is taken whole: at
            // round-off no halving lowers the residual reliably.
            let converging = (0..n)
                .all(|k| du[k].abs() <= UPDATE_RTOL * (u[k].abs() + self.scale[k]) + UPDATE_ATOL);
            if !self.linear && !converging {
                let norm0: f64 = r[..n].iter().map(|z| z * z).sum();
                let (mut trial, mut rt) = ([0.0f64; N], [0.0f64; N]);
                let mut alpha = 1.0;
                let mut found = false;
                for _ in 0..LINE_SEARCH {
                    for k in 0..n {
                        trial[k] = u[k] + alpha * du[k];
                    }
                    self.assemble::<N, N2>(&trial[..n], v, h, &mut rt, None, Assembly::Port);
                    let norm1: f64 = rt[..n].iter().map(|z| z * z).sum();
                    if norm1.is_finite() && norm1 <= (1.0 - 1e-4 * alpha) * norm0 {
                        found = true;
                        break;
                    }
                    alpha *= 0.5;
                }
                if found && alpha < 1.0 {
                    full = false;
                    du[..n].iter_mut().for_each(|d| *d *= alpha);
                }
            }
            let mut small = full;
            // The port current at the new unknowns: exact for a linear
            // body, and off by the square of a converged step otherwise.
            i = i0;
            for k in 0..n {
                u[k] += du[k];
                i += tan.di_du[k] * du[k];
                if !u[k].is_finite() {
                    return Err(DeviceFault::BodyUnsolved { x, v });
                }
                let scale = u[k].abs() + self.scale[k];
                if du[k].abs() > UPDATE_RTOL * scale + UPDATE_ATOL {
                    small = false;
                }
            }
            if small || self.linear {
                converged = true;
                break;
            }
        }
        if !converged || !i.is_finite() {
            return Err(DeviceFault::BodyUnsolved { x, v });
        }
        // di/dv = di/dv|u - di/du J^-1 dr/dv (J factored at the last
        // iterate, exact for a linear body).
        // (Not needed with the state: that is the rate's solve.)
        let di_dv = if want_state {
            f64::NAN
        } else {
            tan.port_conductance(n, &perm[..n], du_dv).0
        };
        Ok(Solved { i, di_dv })
    }

    /// A linear body (see [`CompiledBody::linear`]): the residuals are
    /// J u + (dr/dv) v and the port current (di/du) u + (di/dv) v with
    /// coefficients that depend on the state alone, so one factorisation
    /// of J gives u = -J^-1 (dr/dv) v and G = di/dv - (di/du) J^-1 dr/dv,
    /// without Newton's bookkeeping or a second solve.
    fn solve_linear<const N: usize, const N2: usize>(
        &self,
        h: Held,
        v: f64,
        u: &mut [f64],
        want_state: bool,
        du_dv: Option<&mut [f64]>,
    ) -> Result<Solved, DeviceFault> {
        let n = if N <= 4 { N } else { self.n };
        let mut r = [0.0f64; N];
        let mut tan = Tangents::<N, N2>::zero();
        let mut perm = [0usize; N];
        let unsolved = DeviceFault::BodyUnsolved { x: h.x[0], v };
        // The coefficients do not depend on where they are taken.
        u[..n].iter_mut().for_each(|z| *z = 0.0);
        self.assemble(&u[..n], v, h, &mut r, Some(&mut tan), Assembly::Port);
        let usable = tan.jac[..n * n]
            .iter()
            .chain(&tan.dr_dv[..n])
            .all(|z| z.is_finite());
        if !usable || !lu_factor::<N>(&mut tan.jac[..n * n], n, &mut perm[..n]) {
            return Err(unsolved);
        }
        let (g, w) = tan.port_conductance(n, &perm[..n], du_dv);
        for k in 0..n {
            u[k] = -w[k] * v;
        }
        let i = g * v;
        if !i.is_finite() {
            return Err(unsolved);
        }
        Ok(Solved {
            i,
            di_dv: if want_state { f64::NAN } else { g },
        })
    }
}

/// Whether `part` keeps the port solve linear and homogeneous in the
/// unknowns and v at a fixed state (see [`CompiledBody::linear`]).
fn part_is_linear(part: &Part, ops: &[Op], tapes: &[(u32, u32)]) -> bool {
    let class = |t: u32| {
        let (a, b) = tapes[t as usize];
        tape_class(&ops[a as usize..b as usize])
    };
    // A node held at a state (a capacitor to ground) is a constant term:
    // g (V(a) - x) is linear in v but not homogeneous, so the port law
    // is not G(x) v (an RC body: R from the pin to a grounded capacitor).
    let state = |q: Pot| matches!(q, Pot::State(_) | Pot::MinusState(_));
    let (a, b) = part.ends();
    if state(a) || state(b) {
        return false;
    }
    match *part {
        Part::Vccs { c, d, .. } | Part::Vcvs { c, d, .. } if state(c) || state(d) => false,
        Part::Conductance { .. } | Part::Vccs { .. } | Part::Vcvs { .. } => true,
        Part::Current { i, .. } => i == 0.0,
        Part::Voltage { e, .. } => e == 0.0,
        Part::CurrentExpr { tape, .. } | Part::VoltageExpr { tape, .. } => {
            matches!(class(tape), Class::Linear | Class::Zero)
        }
        Part::ResistorExpr { tape, .. } => class(tape) == Class::Constant,
        // V(a) - V(b) = x, a current x or a source's value is not
        // homogeneous in v.
        Part::State { .. }
        | Part::Inductor { .. }
        | Part::VoltageWave { .. }
        | Part::CurrentWave { .. } => false,
    }
}

/// How a tape depends on the unknowns and v at a fixed state.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Class {
    /// Identically 0 (`V(p,n)` with n on ground reads v - 0).
    Zero,
    /// Not at all.
    Constant,
    /// Linearly, with no constant term.
    Linear,
    Other,
}

/// The class of `x op y`.
fn binary_class(b: BinOp, x: Class, y: Class) -> Class {
    use Class::*;
    let konst = |c: Class| matches!(c, Zero | Constant);
    match (b, x, y) {
        (BinOp::Add | BinOp::Sub, Zero, c) | (BinOp::Add | BinOp::Sub, c, Zero) => c,
        (BinOp::Mul, Zero, _) | (BinOp::Mul, _, Zero) => Zero,
        (BinOp::Div, Zero, c) if konst(c) => Zero,
        (_, x, y) if konst(x) && konst(y) => Constant,
        (BinOp::Add | BinOp::Sub, Linear, Linear) => Linear,
        (BinOp::Mul, c, Linear) | (BinOp::Mul, Linear, c) if konst(c) => Linear,
        (BinOp::Div, Linear, c) if konst(c) => Linear,
        _ => Other,
    }
}

fn tape_class(ops: &[Op]) -> Class {
    use Class::*;
    let konst = |c: Class| matches!(c, Zero | Constant);
    let mut st = [Constant; MAX_STACK];
    let mut sp = 0usize;
    for op in ops {
        match *op {
            Op::Const(c) => {
                st[sp] = if c == 0.0 { Zero } else { Constant };
                sp += 1;
            }
            Op::State(..) | Op::Time => {
                st[sp] = Constant;
                sp += 1;
            }
            Op::Unknown(_) | Op::V(_) => {
                st[sp] = Linear;
                sp += 1;
            }
            Op::Neg => {}
            Op::Not => {
                st[sp - 1] = if konst(st[sp - 1]) { Constant } else { Other };
            }
            Op::PowN(n) => {
                st[sp - 1] = match (st[sp - 1], n) {
                    (_, 0) => Constant,
                    (c, 1) => c,
                    (Zero, n) if n > 0 => Zero,
                    (c, _) if konst(c) => Constant,
                    _ => Other,
                };
            }
            Op::Bin(b) => {
                sp -= 1;
                st[sp - 1] = binary_class(b, st[sp - 1], st[sp]);
            }
            Op::BinC(b, c) => {
                st[sp - 1] = binary_class(b, st[sp - 1], if c == 0.0 { Zero } else { Constant });
            }
            Op::Select => {
                sp -= 2;
                let (c, a, b) = (st[sp - 1], st[sp], st[sp + 1]);
                st[sp - 1] = if !konst(c) {
                    Other
                } else if a == b {
                    a
                } else if konst(a) && konst(b) {
                    Constant
                } else {
                    Other
                };
            }
            Op::Call(k) => {
                let arity = BUILTINS[k as usize].1.arity();
                sp -= arity - 1;
                let all_constant = st[sp - 1..sp - 1 + arity].iter().all(|&c| konst(c));
                st[sp - 1] = if all_constant { Constant } else { Other };
            }
        }
    }
    if sp == 0 { Constant } else { st[0] }
}

/// In-place LU with partial pivoting of the row-major n x n matrix `a`;
/// false if singular. Up to 4 unknowns `n` is the constant `N`: the loops
/// unroll and the index checks fold (a 2-unknown body's LU was a tenth of
/// its evaluation as a loop over a run-time size).
#[inline(always)]
fn lu_factor<const N: usize>(a: &mut [f64], n: usize, perm: &mut [usize]) -> bool {
    let n = if N <= 4 { N } else { n };
    for (k, p) in perm.iter_mut().enumerate().take(n) {
        *p = k;
    }
    for col in 0..n {
        let mut best = col;
        for row in col + 1..n {
            if a[row * n + col].abs() > a[best * n + col].abs() {
                best = row;
            }
        }
        let pivot = a[best * n + col];
        if pivot == 0.0 || !pivot.is_finite() {
            return false;
        }
        if best != col {
            for k in 0..n {
                a.swap(col * n + k, best * n + k);
            }
            perm.swap(col, best);
        }
        for row in col + 1..n {
            let f = a[row * n + col] / a[col * n + col];
            a[row * n + col] = f;
            for k in col + 1..n {
                a[row * n + k] -= f * a[col * n + k];
            }
        }
    }
    true
}

/// Solves LU x = P b in place.
#[inline(always)]
fn lu_solve<const N: usize>(lu: &[f64], n: usize, perm: &[usize], b: &mut [f64]) {
    let n = if N <= 4 { N } else { n };
    let mut y = [0.0f64; N];
    for k in 0..n {
        y[k] = b[perm[k]];
    }
    for row in 0..n {
        for k in 0..row {
            y[row] -= lu[row * n + k] * y[k];
        }
    }
    for row in (0..n).rev() {
        for k in row + 1..n {
            y[row] -= lu[row * n + k] * y[k];
        }
        y[row] /= lu[row * n + row];
    }
    b[..n].copy_from_slice(&y[..n]);
}

impl DeviceLaw for BodyLaw {
    fn name(&self) -> &'static str {
        "body"
    }

    fn len(&self) -> usize {
        self.devices.len()
    }

    fn initial_state(&self, d: usize) -> f64 {
        self.initial[self.devices[d].1 as usize]
    }

    fn linear_in_voltage(&self) -> bool {
        self.bodies.iter().all(|b| b.linear)
    }

    /// A capacitor voltage: no bounds but the body's own.
    fn state_bounds(&self, _d: usize) -> (f64, f64) {
        (f64::NEG_INFINITY, f64::INFINITY)
    }

    // The scalar calls hold the extra states at their initial values and
    // t = 0; the engine calls the `_in` forms with its own.

    /// di/dv, exact (for a linear body G(x), at any v).
    fn conductance(&self, d: usize, x: f64, v: f64) -> Result<f64, DeviceFault> {
        self.current_and_conductance_in(d, x, Ctx::NONE, v, &mut [])
            .map(|p| p.1)
    }

    fn current(&self, d: usize, x: f64, v: f64) -> Result<f64, DeviceFault> {
        self.current_and_conductance_in(d, x, Ctx::NONE, v, &mut [])
            .map(|p| p.0)
    }

    /// One body solve gives both.
    fn current_and_conductance(&self, d: usize, x: f64, v: f64) -> Result<(f64, f64), DeviceFault> {
        self.current_and_conductance_in(d, x, Ctx::NONE, v, &mut [])
    }

    fn state_rate(&self, d: usize, x: f64, v: f64, _i: f64) -> f64 {
        self.state_rates_in(d, x, Ctx::NONE, v, &mut [], &mut [])
    }

    /// A linear body of one state that does not read the time keeps x and
    /// du/dv (its unknowns are v du/dv).
    fn memo_len(&self, d: usize) -> usize {
        let b = self.body(d);
        if b.keeps() { b.n + 1 } else { 0 }
    }

    fn conductance_keep(
        &self,
        d: usize,
        x: f64,
        v: f64,
        memo: &mut [f64],
    ) -> Result<f64, DeviceFault> {
        self.conductance_keep_in(d, x, Ctx::NONE, v, memo)
    }

    fn state_rate_kept(&self, d: usize, x: f64, v: f64, _i: f64, memo: &[f64]) -> f64 {
        self.state_rate_kept_in(d, x, Ctx::NONE, v, memo, &mut [])
    }

    fn state_name(&self) -> &'static str {
        "v"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// memnet's own body (fixtures/spice/memristor.lib) under another name.
    const OWN: &str = "own body\n\
        .subckt mem p n PARAMS: ron=100 roff=16000 w0=0.5 alpha=0.1 beta=1\n\
        Cw w 0 1 IC={w0}\n\
        Bw 0 w I={alpha*V(w) - ron*V(p,n)/(ron+(roff-ron)*V(w))/beta}\n\
        Bm p n I={V(p,n)/(ron+(roff-ron)*V(w))}\n\
        .ends mem\n\
        V1 a 0 1\n\
        X1 a b mem w0=0.3\n\
        R1 b 0 1k\n\
        .end\n";

    pub(super) fn body_of(deck: &str) -> (Arc<MemristorBody>, Vec<Option<f64>>) {
        let c = memnet_spice::import_str(deck, "t.cir", &Default::default())
            .unwrap_or_else(|d| panic!("{}", d.render()));
        c.elements
            .iter()
            .find_map(|e| match &e.kind {
                ElementKind::Memristor(m) => match &m.dialect {
                    memnet_spice::MemristorDialect::Body { body, ic } => {
                        Some((body.clone(), ic.clone()))
                    }
                    _ => None,
                },
                _ => None,
            })
            .expect("a body device")
    }

    fn body_unknowns(law: &BodyLaw) -> usize {
        law.bodies[0].n
    }

    /// The compiled body gives memnet's linear law: i = v / R(w),
    /// di/dv = 1 / R(w), dw/dt = alpha w - ron i / beta.
    #[test]
    fn memnets_own_body_compiles_to_its_law() {
        let (body, ic) = body_of(OWN);
        assert_eq!(ic, vec![Some(0.3)]);
        let mut law = BodyLaw::default();
        law.push(&body, &ic).unwrap();
        assert_eq!(law.initial_state(0), 0.3);
        for &(w, v) in &[(0.3, 1.0), (0.9, -0.4), (0.05, 2.5), (0.5, 0.0)] {
            let r = 100.0 + 15_900.0 * w;
            let i = law.current(0, w, v).unwrap();
            let g = law.conductance(0, w, v).unwrap();
            let rate = law.state_rate(0, w, v, i);
            let want_rate = 0.1 * w - 100.0 * (v / r);
            // The engine's path: G at v = 0 keeps du/dv, the rate reuses it.
            let mut memo = vec![f64::NAN; law.memo_len(0)];
            assert_eq!(memo.len(), 1 + body_unknowns(&law));
            let g_kept = law.conductance_keep(0, w, 0.0, &mut memo).unwrap();
            let rate_kept = law.state_rate_kept(0, w, v, i, &memo);
            assert!((g_kept - g).abs() <= 1e-14 * g, "kept G {g_kept} vs {g}");
            assert!(
                (rate_kept - rate).abs() <= 1e-12 * (1.0 + rate.abs()),
                "kept rate {rate_kept} vs {rate}"
            );
            // Kept for another state, the memo is not used.
            let other = law.state_rate_kept(0, w + 0.01, v, i, &memo);
            assert_eq!(other, law.state_rate(0, w + 0.01, v, i));
            // Tolerances: a linear body is solved by one exact Newton
            // step, so all three are exact up to round-off.
            assert!(
                (i - v / r).abs() <= 1e-12 * (v / r).abs() + 1e-18,
                "i {i} vs {}",
                v / r
            );
            assert!((g - 1.0 / r).abs() <= 1e-12 / r, "g {g} vs {}", 1.0 / r);
            assert!(
                (rate - want_rate).abs() <= 1e-10 * (1.0 + want_rate.abs()),
                "rate {rate} vs {want_rate}"
            );
        }
    }

    /// A body non-linear in its port voltage, with a resistor whose value
    /// reads a node and a B source through a 0 V ammeter: the exact di/dv
    /// against a central difference of the current (round-off of the
    /// difference ~1e-16 / 1e-5 relative, plus its truncation ~1e-10).
    #[test]
    fn nonlinear_body_derivative_is_exact() {
        let deck = "nl\n\
            .subckt nl p n\n\
            Cx x 0 1 IC=0.4\n\
            Gx 0 x value={1e-3*I(Vam)}\n\
            Vam p a 0\n\
            Bd a m I={1e-3*sinh(2*V(a,m))*(1+V(x))}\n\
            Rm m n {100+50*V(x)}\n\
            Rp a m R={1k*(1+pow(V(a,m),2))}\n\
            .ends nl\n\
            V1 in 0 1\n\
            X1 in 0 nl\n\
            .end\n";
        let (body, ic) = body_of(deck);
        let mut law = BodyLaw::default();
        law.push(&body, &ic).unwrap();
        assert!(!law.linear_in_voltage());
        for &(x, v) in &[(0.4, 0.3), (0.9, -1.2), (0.1, 2.0)] {
            let (i, g) = law.current_and_conductance(0, x, v).unwrap();
            let h = 1e-5;
            let fd =
                (law.current(0, x, v + h).unwrap() - law.current(0, x, v - h).unwrap()) / (2.0 * h);
            assert!(
                (g - fd).abs() <= 1e-8 * g.abs(),
                "x {x} v {v}: g {g} vs {fd}"
            );
            // The ammeter's current is the port current: the rate reads it.
            let rate = law.state_rate(0, x, v, i);
            assert!(
                (rate - 1e-3 * i).abs() <= 1e-12 * rate.abs(),
                "rate {rate} vs {i}"
            );
        }
    }

    /// Constant operands fused into their operations (Op::BinC) and
    /// folded constant products keep a linear body linear, and its G and
    /// rate to round-off.
    #[test]
    fn fused_constants_keep_values_and_linearity() {
        let deck = "fused\n\
            .subckt f p n\n\
            Cx x 0 1 IC=0.5\n\
            Gx 0 x value={I(Va)*2*3/4}\n\
            Va p a 0\n\
            Ba a n I={V(a,n)*0.5*1e-3/2 + V(a,n)/1000*4/4}\n\
            .ends f\n\
            V1 in 0 1\n\
            X1 in 0 f\n\
            .end\n";
        let (body, ic) = body_of(deck);
        let mut law = BodyLaw::default();
        law.push(&body, &ic).unwrap();
        assert!(law.linear_in_voltage());
        let ops = &law.bodies[0].ops;
        assert!(
            ops.iter().any(|op| matches!(op, Op::BinC(BinOp::Div, _))),
            "{ops:?}"
        );
        let want_g = 2.5e-4 + 1e-3;
        for &(x, v) in &[(0.5, 0.3), (0.1, -2.0)] {
            let (i, g) = law.current_and_conductance(0, x, v).unwrap();
            assert!((g - want_g).abs() <= 1e-15 * want_g, "g {g}");
            assert!((i - want_g * v).abs() <= 1e-15 * want_g * v.abs(), "i {i}");
            let rate = law.state_rate(0, x, v, i);
            assert!((rate - 1.5 * i).abs() <= 1e-15 * rate.abs(), "rate {rate}");
        }
    }
}
