//! The memristive network: a directed multigraph whose edges are devices
//! (memristor or fixed resistor) each in series with a voltage source
//! (theory.md 2.1, 3.1), plus current-source injections and potential
//! constraints from ideal voltage sources that could not be folded.
//!
//! Node and edge indices are dense `usize` (0..n_nodes, 0..n_edges): every
//! later stage indexes vectors with them.

use std::sync::Arc;

pub use compact_str::CompactString;

use memnet_spice::{DataTable, Loc, MemristorBody, Source, Waveform};
use serde::Serialize;

/// Index of a node in [`Network::node_names`].
pub type NodeId = usize;
/// Index of an edge in [`Network::edges`].
pub type EdgeId = usize;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Network {
    pub title: String,
    /// Node names, index = [`NodeId`]. Imported circuits keep their flat
    /// node names (ground is `0`); generated networks use `n<i>` and `0`.
    pub node_names: Vec<String>,
    pub edges: Vec<Edge>,
    /// Current sources (see [`Injection`] for the sign convention).
    pub injections: Vec<Injection>,
    /// Ideal voltage sources that were not folded into an edge.
    pub constraints: Vec<PotentialConstraint>,
    /// `.tran` step and stop time of the source netlist, if any.
    pub tran: Option<TranSpec>,
    /// The law specifications that [`Device::Native`] edges refer to (one
    /// per `.model` card or per device; many devices may share one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub laws: Vec<LawSpec>,
    /// Netlist nodes removed by folding a source into an edge, so that
    /// outputs can still name them (`v(n1)`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub folded_nodes: Vec<FoldedNode>,
    /// Netlist nodes on a compiled body's pins beyond its first two, left
    /// open (the state pin of the `TE BE XSV` shape): internal nodes of
    /// that device, which outputs may still name (`v(xsv1)`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub open_pins: Vec<OpenPin>,
}

/// A netlist node that is pin `pin` (2 or more) of the body device on
/// edge `edge` and touches nothing else.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OpenPin {
    pub name: String,
    pub edge: EdgeId,
    pub pin: usize,
}

/// A memristor law other than memnet's linear law, as the netlist gave it:
/// the law's name, its word options and its numeric parameters. The solver
/// resolves it against the law's parameter table (docs/device-laws.md) and
/// reports unknown or unusable parameters at `loc`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LawSpec {
    /// `hp`, `team`, `vteam`, `xyce-team`, `yakopcic`, `nlid`, `pem`,
    /// `xspice` or `mmss`.
    pub law: String,
    /// Word options, e.g. (`window`, `biolek`), (`iv`, `exponential`).
    pub options: Vec<(String, String)>,
    /// Parameters, lower-case names.
    pub params: Vec<(String, f64)>,
    /// Data tables by parameter name (Xyce PEM's `fxpdata`, `fxmdata`),
    /// shared by the devices of one model.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<(String, Arc<DataTable>)>,
    /// Where the law was written (a `.model` card), if anywhere.
    pub loc: Option<Loc>,
    /// Law `body`: a user's subcircuit, compiled by the solver, and this
    /// device's initial capacitor voltages (see `MemristorDialect::Body`).
    #[serde(skip)]
    pub body: Option<(Arc<MemristorBody>, Vec<Option<f64>>)>,
}

impl LawSpec {
    /// The value of word option `name`, if given.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A netlist node between a folded series source and its device. With
/// S the edge's series source and phi the potentials of the edge's ends,
/// its potential is phi(tail) + S when the source sits at the tail end,
/// phi(head) - S when it sits at the head end (theory.md 3.1 orientation).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FoldedNode {
    /// Flat netlist name (`n1`, `x1.mid`).
    pub name: String,
    pub edge: EdgeId,
    /// Whether the source is at the edge's tail end.
    pub at_tail: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct TranSpec {
    pub tstep: f64,
    pub tstop: f64,
    /// The card's maximum internal step (`.tran tstep tstop tstart tmax`).
    pub tmax: Option<f64>,
}

/// Edge k = (tail -> head). The orientation is the reference direction of
/// the current i_k and of the series source S_k (theory.md 3.1: S_k > 0
/// drives current tail -> head through the branch).
#[derive(Clone, Debug, Serialize)]
pub struct Edge {
    /// Lower-case flat element name of the device (`xm3`, `x1.xm2`, `r5`).
    /// Inline up to 24 bytes: a netlist's device names then cost no heap
    /// block of their own (320 MB at ten million devices).
    pub name: CompactString,
    pub tail: NodeId,
    pub head: NodeId,
    pub device: Device,
    /// The series source S_k(t), in volts, sign per theory.md 3.1.
    /// `None` means S_k = 0.
    /// Boxed: most edges have none, and an inline source would triple the
    /// size of every edge (millions of them).
    pub source: Option<Box<SeriesSource>>,
    /// Where the device was written, for messages (`None` if generated).
    pub loc: Option<Loc>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SeriesSource {
    /// Name of the folded voltage source (`v3`), or empty if generated.
    pub name: String,
    pub source: Source,
    /// +1.0 or -1.0: S_k(t) = sign * source value(t). Folding picks the sign
    /// from the source's polarity relative to the edge (theory.md 3.1).
    pub sign: f64,
    pub loc: Option<Loc>,
}

impl SeriesSource {
    /// S_k(t) in the edge's orientation.
    pub fn value(&self, t: f64, times: memnet_spice::TranTimes) -> f64 {
        self.sign * self.source.waveform.value(t, times)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "device", rename_all = "snake_case")]
pub enum Device {
    /// theory.md 1.1-1.2 (and 3.5 for polarity, 3.8 per-device values):
    /// R(w) = ron (1 + xi w), dw/dt = alpha w - polarity * ron i / beta.
    Memristor(MemristorParams),
    /// A fixed resistor, ohms (> 0).
    Resistor { resistance: f64 },
    /// A memristor with another native law (docs/device-laws.md): the law
    /// is [`Network::laws`]`[spec]`. Its p pin is the edge tail.
    Native { spec: u32 },
}

impl Device {
    /// Whether the device is a memristor (has a state), of any law.
    pub fn is_memristor(&self) -> bool {
        matches!(self, Device::Memristor(_) | Device::Native { .. })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MemristorParams {
    pub ron: f64,
    pub roff: f64,
    pub w0: f64,
    pub alpha: f64,
    pub beta: f64,
    /// +1 if the device's p pin is the edge tail, -1 if mounted reversed
    /// (theory.md 3.5). Imported devices are always +1 (edge = p -> n).
    pub polarity: f64,
}

impl MemristorParams {
    /// xi = (roff - ron)/ron (theory.md 1.1).
    pub fn xi(&self) -> f64 {
        (self.roff - self.ron) / self.ron
    }
}

/// A current source between two nodes. SPICE convention: `I1 a b 1m`
/// drives 1 mA *through the source* from `a` to `b`, i.e. it draws current
/// out of node `a` and pushes it into node `b`. In theory.md 3.4 terms a
/// source j pushing tail -> head in parallel with an edge (tail = a,
/// head = b) is exactly this.
#[derive(Clone, Debug, Serialize)]
pub struct Injection {
    pub name: String,
    /// SPICE n+ (current leaves this node into the source).
    pub from: NodeId,
    /// SPICE n- (current enters this node from the source).
    pub to: NodeId,
    pub source: Source,
    pub loc: Option<Loc>,
}

/// An ideal voltage source `V name pos neg`: phi(pos) - phi(neg) = value(t).
/// If `neg` (or `pos`) is ground it fixes a node potential; otherwise it
/// ties two nodes into a supernode.
#[derive(Clone, Debug, Serialize)]
pub struct PotentialConstraint {
    pub name: String,
    pub pos: NodeId,
    pub neg: NodeId,
    pub source: Source,
    pub loc: Option<Loc>,
}

impl Network {
    /// Makes every memristor follow `spec` instead of its current law
    /// (`memnet generate --law`, Python's `Network.with_law`): `spec` joins
    /// [`Network::laws`] and each memristor edge becomes
    /// [`Device::Native`] on it, with its p pin at the edge tail (a linear
    /// device's `polarity` and `w0` do not carry over; the law's own
    /// parameters set its initial state). Returns how many devices changed.
    pub fn give_law(&mut self, spec: LawSpec) -> usize {
        let index = self.laws.len() as u32;
        self.laws.push(spec);
        let mut changed = 0;
        for e in &mut self.edges {
            if e.device.is_memristor() {
                e.device = Device::Native { spec: index };
                changed += 1;
            }
        }
        changed
    }

    pub fn n_nodes(&self) -> usize {
        self.node_names.len()
    }

    pub fn n_edges(&self) -> usize {
        self.edges.len()
    }

    /// Number of memristor edges (every law).
    pub fn n_memristors(&self) -> usize {
        self.edges
            .iter()
            .filter(|e| e.device.is_memristor())
            .count()
    }

    /// Number of devices that hold a state: memristors of every law and
    /// compiled bodies with a state, not static devices (diodes, selectors).
    pub fn n_stateful_devices(&self) -> usize {
        (0..self.edges.len())
            .filter(|&k| self.edges[k].device.is_memristor() && !self.is_static(k))
            .count()
    }

    /// Whether edge `k` is a static device: a compiled body without state
    /// (a diode, a behavioural selector). The engine gives it a state slot
    /// that stays 0; outputs and state summaries leave it out.
    pub fn is_static(&self, k: EdgeId) -> bool {
        self.body(k).is_some_and(|b| !b.holds_state())
    }

    /// The compiled subcircuit body of edge `k`'s device, if it has one.
    pub fn body(&self, k: EdgeId) -> Option<&MemristorBody> {
        match self.edges[k].device {
            Device::Native { spec } => self
                .laws
                .get(spec as usize)
                .and_then(|l| l.body.as_ref())
                .map(|(b, _)| &**b),
            _ => None,
        }
    }

    /// The ngspice default-filling times for source waveforms.
    pub fn tran_times(&self, t_end: f64) -> memnet_spice::TranTimes {
        match self.tran {
            Some(t) => memnet_spice::TranTimes {
                tstep: t.tstep,
                tstop: t.tstop,
            },
            None => memnet_spice::TranTimes {
                tstep: t_end / 50.0,
                tstop: t_end,
            },
        }
    }

    /// Whether every source (series, injection, constraint) is constant.
    pub fn sources_are_dc(&self) -> bool {
        let dc = |w: &Waveform| w.is_constant();
        self.edges
            .iter()
            .all(|e| e.source.as_ref().is_none_or(|s| dc(&s.source.waveform)))
            && self.injections.iter().all(|j| dc(&j.source.waveform))
            && self.constraints.iter().all(|c| dc(&c.source.waveform))
    }
}
