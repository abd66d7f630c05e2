//! Random nanowire networks as the nanowire community builds them
//! (MemNNetSim, `marcus-k/MemNNetSim`, `create_NWN`, `add_electrodes`,
//! `convert_NWN_to_MNR`): straight wires of random position, angle and
//! length in a box, a junction wherever two wires cross, electrodes as
//! segments on the box's sides.
//!
//! Two representations (docs/nanowires.md):
//! - junction-dominated (JDA): each wire is one node (an equipotential
//!   wire), each junction a memristor between the two wires' nodes;
//! - multi-nodal (MNR): each wire is split at its junctions into nodes,
//!   joined along the wire by resistors R = rho s / (pi D^2 / 4) for the
//!   length s between consecutive junctions; electrodes stay one node.
//!
//! Lengths are in micrometres, as MemNNetSim states them (its unit l0 is
//! 7 um); the resistivity is in nOhm m and the diameter in nm.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::Serialize;

use crate::error::NetworkError;
use crate::network::NodeId;

/// A distribution of a wire's length or angle.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "dist", rename_all = "snake_case")]
pub enum Spread {
    Fixed {
        value: f64,
    },
    Uniform {
        lo: f64,
        hi: f64,
    },
    /// Normal(mean, sd); a length is redrawn until positive.
    Normal {
        mean: f64,
        sd: f64,
    },
}

impl Spread {
    fn check(&self, what: &str) -> Result<(), NetworkError> {
        let ok = match *self {
            Spread::Fixed { value } => value.is_finite(),
            Spread::Uniform { lo, hi } => lo.is_finite() && hi.is_finite() && lo <= hi,
            Spread::Normal { mean, sd } => mean.is_finite() && sd.is_finite() && sd >= 0.0,
        };
        if ok {
            Ok(())
        } else {
            Err(spec_err(format!(
                "{what}: {self:?} is not a usable distribution"
            )))
        }
    }

    fn draw(&self, rng: &mut ChaCha8Rng) -> f64 {
        match *self {
            Spread::Fixed { value } => value,
            Spread::Uniform { lo, hi } if hi > lo => rng.random_range(lo..hi),
            Spread::Uniform { lo, .. } => lo,
            Spread::Normal { mean, sd } => match Normal::new(mean, sd) {
                Ok(n) => n.sample(rng),
                Err(_) => mean,
            },
        }
    }

    /// The largest value a draw can take, for the neighbour search: the
    /// upper end, or mean + 8 sd for a normal (drawn lengths are capped
    /// there, a 1e-15 tail).
    fn cap(&self) -> f64 {
        match *self {
            Spread::Fixed { value } => value,
            Spread::Uniform { hi, .. } => hi,
            Spread::Normal { mean, sd } => mean + 8.0 * sd,
        }
    }
}

/// A side of the box.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Left,
    Right,
    Top,
    Bottom,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
            Side::Top => "top",
            Side::Bottom => "bottom",
        }
    }
}

/// `count` electrodes along `side`, MemNNetSim's `add_electrodes(NWN,
/// (side, count, spacing))`: electrode i covers [i/count, (i+1)/count] of
/// the side, shortened by spacing/2 at each end.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Electrodes {
    pub side: Side,
    pub count: usize,
    /// Gap between neighbouring electrodes, um.
    pub spacing: f64,
}

/// How a wire network becomes a circuit.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "representation", rename_all = "snake_case")]
pub enum Representation {
    /// One node per wire; junctions are the only devices.
    Junctions,
    /// Wires split at their junctions into resistive segments.
    MultiNodal {
        /// nOhm m (MemNNetSim's rho0 = 22.6, silver).
        resistivity: f64,
        /// nm (MemNNetSim's D0 = 50).
        diameter: f64,
    },
}

/// A random nanowire network.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NanowireSpec {
    /// Box size (x, y), um; wire midpoints are uniform in it.
    pub size: (f64, f64),
    /// Number of wires (electrodes not counted).
    pub wires: usize,
    /// Wire length, um.
    pub length: Spread,
    /// Wire angle to the x axis, radians.
    pub angle: Spread,
    pub electrodes: Vec<Electrodes>,
    pub representation: Representation,
}

impl NanowireSpec {
    /// The wire count of a density (wires per um^2) in a box, rounded as
    /// MemNNetSim rounds it.
    pub fn wires_for_density(size: (f64, f64), density: f64) -> usize {
        (size.0 * size.1 * density).round().max(0.0) as usize
    }
}

/// A line segment (x0, y0, x1, y1), um.
pub type Segment = [f64; 4];

/// Wire a crosses wire (or electrode) b at parameter t along a, u along
/// b, at a point.
type Crossing = (usize, usize, f64, f64, (f64, f64));

/// The nanowire network's circuit: nodes, junctions, wire segments, and
/// the geometry for pictures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NanowireCircuit {
    pub node_names: Vec<String>,
    /// Node positions, um (a JDA wire node: its midpoint; an MNR node: its
    /// junction; an electrode: its midpoint).
    pub positions: Vec<(f64, f64)>,
    /// Memristive junctions (lower wire first).
    pub junctions: Vec<(NodeId, NodeId)>,
    /// Wire segments of the multi-nodal representation, ohms.
    pub segments: Vec<(NodeId, NodeId, f64)>,
    /// Nodes of the left and right electrodes (what a sides drive uses).
    pub left: Vec<NodeId>,
    pub right: Vec<NodeId>,
    /// The wires, then the electrodes, as drawn.
    pub lines: Vec<Segment>,
}

fn spec_err(msg: impl Into<String>) -> NetworkError {
    NetworkError::Spec(msg.into())
}

/// Where segments `a` and `b` cross: the parameter along `a` and the
/// point. Parallel segments (collinear overlaps included) do not cross.
fn crossing(a: &Segment, b: &Segment) -> Option<(f64, (f64, f64))> {
    let (rx, ry) = (a[2] - a[0], a[3] - a[1]);
    let (sx, sy) = (b[2] - b[0], b[3] - b[1]);
    let den = rx * sy - ry * sx;
    if den == 0.0 {
        return None;
    }
    let (qx, qy) = (b[0] - a[0], b[1] - a[1]);
    let t = (qx * sy - qy * sx) / den;
    let u = (qx * ry - qy * rx) / den;
    ((0.0..=1.0).contains(&t) && (0.0..=1.0).contains(&u))
        .then(|| (t, (a[0] + t * rx, a[1] + t * ry)))
}

fn electrode_lines(size: (f64, f64), e: &Electrodes) -> Result<Vec<Segment>, NetworkError> {
    let (lx, ly) = size;
    let along = match e.side {
        Side::Left | Side::Right => ly,
        Side::Top | Side::Bottom => lx,
    };
    if e.count == 0 || !(e.spacing.is_finite() && e.spacing >= 0.0) {
        return Err(spec_err(format!(
            "electrodes on the {} side: the count must be at least 1 and the spacing \
             non-negative",
            e.side.name()
        )));
    }
    let piece = along / e.count as f64;
    if e.spacing >= piece {
        return Err(spec_err(format!(
            "electrodes on the {} side: a spacing of {} um leaves no electrode ({} of them \
             share {along} um)",
            e.side.name(),
            e.spacing,
            e.count
        )));
    }
    Ok((0..e.count)
        .map(|i| {
            let s = i as f64 * piece + e.spacing / 2.0;
            let t = (i + 1) as f64 * piece - e.spacing / 2.0;
            match e.side {
                Side::Left => [0.0, s, 0.0, t],
                Side::Right => [lx, s, lx, t],
                Side::Bottom => [s, 0.0, t, 0.0],
                Side::Top => [s, ly, t, ly],
            }
        })
        .collect())
}

/// Draws the wires and builds the circuit of `spec`.
pub fn build(spec: &NanowireSpec, rng: &mut ChaCha8Rng) -> Result<NanowireCircuit, NetworkError> {
    let (lx, ly) = spec.size;
    if !(lx.is_finite() && ly.is_finite() && lx > 0.0 && ly > 0.0) {
        return Err(spec_err(format!(
            "the box must have positive sides, got {lx} x {ly} um"
        )));
    }
    spec.length.check("wire length")?;
    spec.angle.check("wire angle")?;
    let cap = spec.length.cap();
    if !(cap.is_finite() && cap > 0.0) {
        return Err(spec_err("wire lengths must be positive"));
    }
    let n_w = spec.wires;
    let mut lines: Vec<Segment> = Vec::with_capacity(n_w);
    for _ in 0..n_w {
        let (x, y) = (rng.random_range(0.0..lx), rng.random_range(0.0..ly));
        let theta = spec.angle.draw(rng);
        let mut len = spec.length.draw(rng);
        // A normal length is redrawn until positive (and capped at the
        // neighbour search's reach).
        let mut tries = 0;
        while (!len.is_finite() || len <= 0.0) && tries < 1000 {
            len = spec.length.draw(rng);
            tries += 1;
        }
        if !len.is_finite() || len <= 0.0 {
            return Err(spec_err("the length distribution draws no positive length"));
        }
        let len = len.min(cap);
        let (dx, dy) = (0.5 * len * theta.cos(), 0.5 * len * theta.sin());
        lines.push([x - dx, y - dy, x + dx, y + dy]);
    }
    from_wires(spec.size, lines, &spec.electrodes, spec.representation)
}

/// The circuit of given wires (um) in a box of `size` with `electrodes`:
/// what [`build`] does once it has drawn the wires.
pub fn from_wires(
    size: (f64, f64),
    mut lines: Vec<Segment>,
    electrodes: &[Electrodes],
    representation: Representation,
) -> Result<NanowireCircuit, NetworkError> {
    let (lx, ly) = size;
    if !(lx.is_finite() && ly.is_finite() && lx > 0.0 && ly > 0.0) {
        return Err(spec_err(format!(
            "the box must have positive sides, got {lx} x {ly} um"
        )));
    }
    if let Representation::MultiNodal {
        resistivity,
        diameter,
    } = representation
        && !(resistivity.is_finite() && resistivity > 0.0 && diameter.is_finite() && diameter > 0.0)
    {
        return Err(spec_err(
            "the multi-nodal representation needs a positive resistivity and diameter",
        ));
    }
    if lines.iter().flatten().any(|v| !v.is_finite()) {
        return Err(spec_err("a wire has a coordinate that is not finite"));
    }
    let n_w = lines.len();
    let seg_len = |l: &Segment| ((l[2] - l[0]).powi(2) + (l[3] - l[1]).powi(2)).sqrt();
    let cap = lines
        .iter()
        .map(seg_len)
        .fold(0.0, f64::max)
        .max(1e-12 * lx.max(ly));
    let mut electrode_of: Vec<Side> = Vec::new();
    let mut seen = Vec::new();
    for e in electrodes {
        if seen.contains(&e.side) {
            return Err(spec_err(format!(
                "electrodes on the {} side given twice",
                e.side.name()
            )));
        }
        seen.push(e.side);
        for l in electrode_lines(size, e)? {
            lines.push(l);
            electrode_of.push(e.side);
        }
    }

    // Wire-wire crossings: midpoints in cells of side `cap`; two wires can
    // cross only if their midpoints are within cap of each other, so only
    // neighbouring cells are searched. (t along the first wire, t along
    // the second, point.)
    let cell = cap;
    // (Cells no narrower than `cap`: at most lx / cap of them.)
    let (cx, cy) = (
        ((lx / cell).floor() as usize).clamp(1, 1 << 12),
        ((ly / cell).floor() as usize).clamp(1, 1 << 12),
    );
    // (A midpoint outside the box goes to the nearest cell.)
    let cell_of = |x: f64, y: f64| {
        let i = ((x / lx * cx as f64).max(0.0) as usize).min(cx - 1);
        let j = ((y / ly * cy as f64).max(0.0) as usize).min(cy - 1);
        (i, j)
    };
    let mid = |l: &Segment| (0.5 * (l[0] + l[2]), 0.5 * (l[1] + l[3]));
    let mut heads = vec![usize::MAX; cx * cy];
    let mut next = vec![usize::MAX; n_w];
    for w in (0..n_w).rev() {
        let (x, y) = mid(&lines[w]);
        let (i, j) = cell_of(x, y);
        next[w] = heads[j * cx + i];
        heads[j * cx + i] = w;
    }
    // (wire a, wire b or electrode, t along a, t along b, point)
    let mut crossings: Vec<Crossing> = Vec::new();
    for a in 0..n_w {
        let (x, y) = mid(&lines[a]);
        let (i, j) = cell_of(x, y);
        for jj in j.saturating_sub(1)..=(j + 1).min(cy - 1) {
            for ii in i.saturating_sub(1)..=(i + 1).min(cx - 1) {
                let mut b = heads[jj * cx + ii];
                while b != usize::MAX {
                    if b > a
                        && let Some((t, p)) = crossing(&lines[a], &lines[b])
                        && let Some((u, _)) = crossing(&lines[b], &lines[a])
                    {
                        crossings.push((a, b, t, u, p));
                    }
                    b = next[b];
                }
            }
        }
    }
    // Wire-electrode crossings: the wires whose midpoints lie within cap/2
    // of the electrode (its cells, widened by one).
    for k in 0..electrode_of.len() {
        let e = n_w + k;
        let l = lines[e];
        let (i0, j0) = cell_of(l[0].min(l[2]), l[1].min(l[3]));
        let (i1, j1) = cell_of(l[0].max(l[2]), l[1].max(l[3]));
        for jj in j0.saturating_sub(1)..=(j1 + 1).min(cy - 1) {
            for ii in i0.saturating_sub(1)..=(i1 + 1).min(cx - 1) {
                let mut w = heads[jj * cx + ii];
                while w != usize::MAX {
                    if let Some((t, p)) = crossing(&lines[w], &l) {
                        crossings.push((w, e, t, 0.0, p));
                    }
                    w = next[w];
                }
            }
        }
    }
    // A fixed order whatever the search order: by wire, then partner.
    crossings.sort_by_key(|x| (x.0, x.1));

    let electrode_name = {
        let mut count = [0usize; 4];
        electrode_of
            .iter()
            .map(|s| {
                let i = *s as usize;
                count[i] += 1;
                format!("{}{}", s.name(), count[i] - 1)
            })
            .collect::<Vec<_>>()
    };
    let mut c = NanowireCircuit::default();
    let mut electrode_node = Vec::with_capacity(electrode_of.len());
    match representation {
        Representation::Junctions => {
            for (w, l) in lines.iter().enumerate().take(n_w) {
                c.node_names.push(format!("w{w}"));
                c.positions.push(mid(l));
            }
            for (k, l) in lines[n_w..].iter().enumerate() {
                electrode_node.push(c.node_names.len());
                c.node_names.push(electrode_name[k].clone());
                c.positions.push(mid(l));
            }
            c.junctions = crossings.iter().map(|x| (x.0, x.1)).collect();
        }
        Representation::MultiNodal {
            resistivity,
            diameter,
        } => {
            // Each wire's junctions ordered along it: (t, crossing index,
            // whether the wire is the crossing's first).
            let mut on_wire: Vec<Vec<(f64, usize)>> = vec![Vec::new(); n_w];
            for (k, x) in crossings.iter().enumerate() {
                on_wire[x.0].push((x.2, k));
                if x.1 < n_w {
                    on_wire[x.1].push((x.3, k));
                }
            }
            // Node of (crossing k, wire w).
            let mut node_a = vec![0usize; crossings.len()];
            let mut node_b = vec![0usize; crossings.len()];
            // Ohms per um: rho [nOhm m] * 1e-9 * 1e-6 m / (pi D^2/4 [nm^2] 1e-18).
            let area = std::f64::consts::PI / 4.0 * diameter * diameter * 1e-18;
            let per_um = resistivity * 1e-15 / area;
            for (w, js) in on_wire.iter_mut().enumerate() {
                js.sort_by(|x, y| x.0.total_cmp(&y.0));
                if js.is_empty() {
                    c.node_names.push(format!("w{w}"));
                    c.positions.push(mid(&lines[w]));
                    continue;
                }
                let first = c.node_names.len();
                for (j, &(_, k)) in js.iter().enumerate() {
                    c.node_names.push(format!("w{w}_{j}"));
                    c.positions.push(crossings[k].4);
                    if crossings[k].0 == w {
                        node_a[k] = first + j;
                    } else {
                        node_b[k] = first + j;
                    }
                }
                let l = &lines[w];
                let len = ((l[2] - l[0]).powi(2) + (l[3] - l[1]).powi(2)).sqrt();
                for j in 1..js.len() {
                    let s = (js[j].0 - js[j - 1].0) * len;
                    c.segments.push((first + j - 1, first + j, per_um * s));
                }
            }
            for (k, l) in lines[n_w..].iter().enumerate() {
                electrode_node.push(c.node_names.len());
                c.node_names.push(electrode_name[k].clone());
                c.positions.push(mid(l));
            }
            for (k, x) in crossings.iter().enumerate() {
                if x.1 >= n_w {
                    node_b[k] = electrode_node[x.1 - n_w];
                }
            }
            c.junctions = (0..crossings.len())
                .map(|k| (node_a[k], node_b[k]))
                .collect();
        }
    }
    for (side, &node) in electrode_of.iter().zip(&electrode_node) {
        match side {
            Side::Left => c.left.push(node),
            Side::Right => c.right.push(node),
            _ => {}
        }
    }
    c.lines = lines;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossings_of_hand_drawn_segments() {
        let a = [0.0, 0.0, 2.0, 2.0];
        let b = [0.0, 2.0, 2.0, 0.0];
        let (t, p) = crossing(&a, &b).unwrap();
        assert!((t - 0.5).abs() < 1e-15 && (p.0 - 1.0).abs() < 1e-15);
        // Parallel, touching at an end, and missing.
        assert!(crossing(&a, &[1.0, 0.0, 3.0, 2.0]).is_none());
        assert!(crossing(&a, &[2.0, 2.0, 3.0, 0.0]).is_some());
        assert!(crossing(&a, &[3.0, 0.0, 3.0, 1.0]).is_none());
    }
}
