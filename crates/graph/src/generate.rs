//! Seedable network generators (ChaCha8Rng: the same spec and seed give the
//! same network on every platform).
//!
//! Every generated edge is a memristor (theory.md 2.1) with the parameters
//! of [`DeviceDefaults`] and an initial w drawn from [`WInit`]. Nodes are
//! named `n<i>`; a drive that needs a reference names one node `0`.
//! Edges are named `xm<k>` by edge index, series sources `vs<k>`.

use std::collections::HashSet;

use memnet_spice::{GROUND, Source};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::Serialize;

use crate::build::check_memristor;
use crate::error::NetworkError;
use crate::nanowire::{NanowireSpec, Representation};
use crate::network::{
    Device, Edge, EdgeId, MemristorParams, Network, NodeId, PotentialConstraint, SeriesSource,
};

/// Device parameters for generated and file-read edges (theory.md 1.1-1.2).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DeviceDefaults {
    pub ron: f64,
    pub roff: f64,
    pub w0: f64,
    pub alpha: f64,
    pub beta: f64,
}

impl Default for DeviceDefaults {
    fn default() -> Self {
        DeviceDefaults {
            ron: 100.0,
            roff: 16000.0,
            w0: 0.5,
            alpha: 0.0,
            beta: 1.0,
        }
    }
}

impl DeviceDefaults {
    pub fn params(&self, w0: f64) -> MemristorParams {
        MemristorParams {
            ron: self.ron,
            roff: self.roff,
            w0,
            alpha: self.alpha,
            beta: self.beta,
            polarity: 1.0,
        }
    }
}

/// Graph families.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GraphKind {
    /// rows x cols square grid, node n = cols*r + c; edges row-major, for
    /// each node its right edge then its down edge (theory.md E4); with
    /// `diagonals`, then its down-right and down-left diagonals.
    Grid {
        rows: usize,
        cols: usize,
        diagonals: bool,
    },
    /// Triangular lattice: the grid plus each square's down-right diagonal
    /// (per node: right, down, down-right).
    Triangular { rows: usize, cols: usize },
    /// G(n, p): each pair independently with probability p.
    ErdosRenyi { n: usize, p: f64 },
    /// Uniformly random simple d-regular graph (pairing with rejection).
    RandomRegular { n: usize, degree: usize },
    /// Ring lattice with k nearest neighbours (k even), each edge's far end
    /// rewired with probability `rewire`.
    WattsStrogatz { n: usize, k: usize, rewire: f64 },
    /// n points uniform in the unit square, an edge between points closer
    /// than `radius` (a nanowire-like random network).
    RandomGeometric { n: usize, radius: f64 },
    /// K_n.
    Complete { n: usize },
    /// theory.md T0: ring i -> i+1 (mod n) plus each pair with probability
    /// `p_extra` (parallel to a ring edge allowed), random orientations.
    RandomConnected { n: usize, p_extra: f64 },
    /// Random nanowires in a box, a memristive junction where two cross,
    /// electrodes on the sides ([`crate::nanowire`]).
    Nanowire(NanowireSpec),
}

/// Where a generated network's nodes lie, for pictures: a grid's (column,
/// row), a geometric graph's points, a nanowire network's wires and
/// junctions (um). Empty for families without a geometry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    /// Per node; a node added by the drive (a series drive's ground) has
    /// none (NaN).
    pub positions: Vec<(f64, f64)>,
    /// Lines to draw under the network: a nanowire network's wires, then
    /// its electrodes.
    pub lines: Vec<crate::nanowire::Segment>,
    /// How many of `lines` are wires (the rest are electrodes).
    pub wires: usize,
}

/// Initial memory values.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "dist", rename_all = "snake_case")]
pub enum WInit {
    Constant {
        w: f64,
    },
    Uniform {
        lo: f64,
        hi: f64,
    },
    /// Normal(mean, std) clipped into [1e-6, 1 - 1e-6] (inside (0,1)).
    NormalClipped {
        mean: f64,
        std: f64,
    },
}

/// Edge orientations for the families without a prescribed one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    /// Lower node index -> higher.
    LowToHigh,
    /// Each edge flipped with probability 1/2.
    Random,
}

/// How a drive voltage is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriveMode {
    /// Ideal voltage sources to the ground node `0` (potential constraints).
    Constraint,
    /// Extra memristor edges carrying series sources.
    SeriesSource,
}

/// An applied voltage.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "drive", rename_all = "snake_case")]
pub enum Drive {
    None,
    /// phi(a) - phi(b) = voltage. `Constraint`: node b is named `0` and
    /// a constraint `vdrive a 0` is added. `SeriesSource`: node b is named
    /// `0` and an extra edge b -> a with S = +voltage is appended (theory.md
    /// 3.1: it pushes current out into a).
    Terminals {
        a: NodeId,
        b: NodeId,
        voltage: f64,
        mode: DriveMode,
    },
    /// Left side at `voltage`, right side at 0 (grid, triangular: first and
    /// last column; random geometric: x < radius and x > 1 - radius).
    /// `Constraint`: the first right node is named `0`, every left node
    /// gets `vleft<i> node 0 voltage`, every other right node
    /// `vright<i> node 0 0`. `SeriesSource`: a new node `0` is added, with
    /// an edge 0 -> l carrying S = +voltage for each left node l and an
    /// edge r -> 0 (no source) for each right node r.
    Sides {
        voltage: f64,
        mode: DriveMode,
    },
}

/// Series sources on randomly chosen distinct edges, S uniform in [min, max].
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RandomSources {
    pub count: usize,
    pub min: f64,
    pub max: f64,
}

/// Everything a generated network depends on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GenSpec {
    pub kind: GraphKind,
    pub seed: u64,
    pub device: DeviceDefaults,
    pub w_init: WInit,
    pub orientation: Orientation,
    pub drive: Drive,
    /// DC series sources on chosen edges (edge index, S in volts).
    pub sources: Vec<(EdgeId, f64)>,
    pub random_sources: Option<RandomSources>,
}

impl GenSpec {
    /// A spec with default devices, w0 = 0.5, low-to-high orientation, no
    /// drive and no sources, seed 0.
    pub fn new(kind: GraphKind) -> GenSpec {
        let device = DeviceDefaults::default();
        GenSpec {
            kind,
            seed: 0,
            device,
            w_init: WInit::Constant { w: device.w0 },
            orientation: Orientation::LowToHigh,
            drive: Drive::None,
            sources: Vec::new(),
            random_sources: None,
        }
    }
}

fn spec_err(msg: impl Into<String>) -> NetworkError {
    NetworkError::Spec(msg.into())
}

/// Builds the network a [`GenSpec`] describes.
pub fn generate(spec: &GenSpec) -> Result<Network, NetworkError> {
    generate_with_layout(spec).map(|(net, _)| net)
}

/// [`generate`], with where the nodes lie.
pub fn generate_with_layout(spec: &GenSpec) -> Result<(Network, Layout), NetworkError> {
    check_memristor(&spec.device.params(0.5))
        .map_err(|m| spec_err(format!("device parameters: {m}")))?;
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let mut wires = None;
    let (n, mut pairs, positions, title) = match &spec.kind {
        GraphKind::Nanowire(nw) => {
            let c = crate::nanowire::build(nw, &mut rng)?;
            let rep = match nw.representation {
                Representation::Junctions => "junctions",
                Representation::MultiNodal { .. } => "multi-nodal",
            };
            let title = format!(
                "nanowire network: {} wires in {} x {} um, {} junctions ({rep})",
                nw.wires,
                nw.size.0,
                nw.size.1,
                c.junctions.len()
            );
            let s = (
                c.node_names.len(),
                c.junctions.clone(),
                Some(c.positions.clone()),
                title,
            );
            wires = Some(c);
            s
        }
        kind => structure(kind, &mut rng)?,
    };
    let xs: Option<Vec<f64>> = positions.as_ref().map(|p| p.iter().map(|q| q.0).collect());
    if spec.orientation == Orientation::Random
        || matches!(spec.kind, GraphKind::RandomConnected { .. })
    {
        for p in &mut pairs {
            if rng.random_bool(0.5) {
                *p = (p.1, p.0);
            }
        }
    }
    let m = pairs.len();
    let w = draw_w(&spec.w_init, m, &mut rng)?;
    let mut net = Network {
        title,
        node_names: match &mut wires {
            Some(c) => std::mem::take(&mut c.node_names),
            None => (0..n).map(|i| format!("n{i}")).collect(),
        },
        ..Network::default()
    };
    net.edges = pairs
        .iter()
        .zip(&w)
        .enumerate()
        .map(|(k, (&(t, h), &w0))| Edge {
            name: compact_str::format_compact!("xm{k}"),
            tail: t,
            head: h,
            device: Device::Memristor(spec.device.params(w0)),
            source: None,
            loc: None,
        })
        .collect();
    // A multi-nodal nanowire network's wire segments.
    if let Some(c) = &wires {
        for &(t, h, r) in &c.segments {
            let k = net.edges.len();
            net.edges.push(Edge {
                name: compact_str::format_compact!("r{k}"),
                tail: t,
                head: h,
                device: Device::Resistor { resistance: r },
                source: None,
                loc: None,
            });
        }
    }
    let m = net.edges.len();

    for &(k, s) in &spec.sources {
        if k >= m {
            return Err(spec_err(format!(
                "source on edge {k}, but there are only {m} edges"
            )));
        }
        if !s.is_finite() {
            return Err(spec_err(format!(
                "source value {s} on edge {k} is not finite"
            )));
        }
        set_source(&mut net.edges[k], k, s);
    }
    if let Some(rs) = spec.random_sources {
        if rs.count > m {
            return Err(spec_err(format!(
                "{} random sources requested, but there are only {m} edges",
                rs.count
            )));
        }
        if !(rs.min.is_finite() && rs.max.is_finite() && rs.min <= rs.max) {
            return Err(spec_err(
                "random source range must be finite with min <= max",
            ));
        }
        let mut chosen = rand::seq::index::sample(&mut rng, m, rs.count).into_vec();
        chosen.sort_unstable();
        for k in chosen {
            let s = if rs.max > rs.min {
                rng.random_range(rs.min..=rs.max)
            } else {
                rs.min
            };
            set_source(&mut net.edges[k], k, s);
        }
    }
    let sides = wires.as_ref().map(|c| (c.left.clone(), c.right.clone()));
    apply_drive(spec, &mut net, xs.as_deref(), sides)?;
    let n_wires = match &spec.kind {
        GraphKind::Nanowire(nw) => nw.wires,
        _ => 0,
    };
    let mut layout = Layout {
        positions: positions.unwrap_or_default(),
        lines: wires.map(|c| c.lines).unwrap_or_default(),
        wires: n_wires,
    };
    if !layout.positions.is_empty() {
        layout
            .positions
            .resize(net.node_names.len(), (f64::NAN, f64::NAN));
    }
    Ok((net, layout))
}

fn set_source(e: &mut Edge, k: EdgeId, s: f64) {
    e.source = Some(Box::new(SeriesSource {
        name: format!("vs{k}"),
        source: Source::dc(s),
        sign: 1.0,
        loc: None,
    }));
}

/// theory.md T0 graph: ring plus extra edges with probability `p_extra`,
/// random orientations, default devices. For tests everywhere.
pub fn random_connected_graph(seed: u64, n: usize, p_extra: f64) -> Network {
    let mut spec = GenSpec::new(GraphKind::RandomConnected {
        n,
        p_extra: p_extra.clamp(0.0, 1.0),
    });
    spec.seed = seed;
    // The only fallible inputs (probability, device parameters) are valid
    // here, so an error cannot occur; an empty network is the fallback.
    generate(&spec).unwrap_or_default()
}

type Structure = (
    usize,
    Vec<(NodeId, NodeId)>,
    Option<Vec<(f64, f64)>>,
    String,
);

/// Node count, edge list, node positions (where the family has a
/// geometry) and a title.
fn structure(kind: &GraphKind, rng: &mut ChaCha8Rng) -> Result<Structure, NetworkError> {
    let prob = |p: f64, what: &str| {
        if (0.0..=1.0).contains(&p) {
            Ok(p)
        } else {
            Err(spec_err(format!("{what} = {p} must lie in [0, 1]")))
        }
    };
    Ok(match *kind {
        GraphKind::Grid {
            rows,
            cols,
            diagonals,
        } => {
            let (n, e, xs) = lattice(rows, cols, if diagonals { 2 } else { 0 })?;
            let d = if diagonals { " with diagonals" } else { "" };
            (n, e, Some(xs), format!("{rows}x{cols} grid{d}"))
        }
        GraphKind::Triangular { rows, cols } => {
            let (n, e, xs) = lattice(rows, cols, 1)?;
            (n, e, Some(xs), format!("{rows}x{cols} triangular lattice"))
        }
        GraphKind::ErdosRenyi { n, p } => {
            let p = prob(p, "edge probability p")?;
            (n, gnp(n, p, rng), None, format!("Erdos-Renyi G({n}, {p})"))
        }
        GraphKind::RandomRegular { n, degree } => (
            n,
            random_regular(n, degree, rng)?,
            None,
            format!("random {degree}-regular graph on {n} nodes"),
        ),
        GraphKind::WattsStrogatz { n, k, rewire } => {
            let rewire = prob(rewire, "rewiring probability")?;
            (
                n,
                watts_strogatz(n, k, rewire, rng)?,
                None,
                format!("Watts-Strogatz graph n={n} k={k} rewire={rewire}"),
            )
        }
        GraphKind::RandomGeometric { n, radius } => {
            if !(radius.is_finite() && radius > 0.0) {
                return Err(spec_err(format!("radius {radius} must be positive")));
            }
            let (e, xs) = random_geometric(n, radius, rng);
            (
                n,
                e,
                Some(xs),
                format!("random geometric graph n={n} radius={radius}"),
            )
        }
        GraphKind::Complete { n } => {
            let mut e = Vec::with_capacity(n * n.saturating_sub(1) / 2);
            for i in 0..n {
                for j in i + 1..n {
                    e.push((i, j));
                }
            }
            (n, e, None, format!("complete graph K{n}"))
        }
        // Built with its wire segments by `generate_with_layout`.
        GraphKind::Nanowire(_) => {
            return Err(spec_err("a nanowire network has no plain edge structure"));
        }
        GraphKind::RandomConnected { n, p_extra } => {
            let p = prob(p_extra, "extra edge probability")?;
            let mut e: Vec<(usize, usize)> = (0..n).map(|i| (i, (i + 1) % n)).collect();
            for i in 0..n {
                for j in i + 1..n {
                    if rng.random_bool(p) {
                        e.push((i, j));
                    }
                }
            }
            (n, e, None, format!("random connected graph n={n} p={p}"))
        }
    })
}

/// Square lattice; `diag` 0: none, 1: down-right, 2: down-right and
/// down-left. Returns N, edges and every node's (column, row).
#[allow(clippy::type_complexity)]
fn lattice(
    rows: usize,
    cols: usize,
    diag: u8,
) -> Result<(usize, Vec<(NodeId, NodeId)>, Vec<(f64, f64)>), NetworkError> {
    if rows == 0 || cols == 0 {
        return Err(spec_err("a lattice needs at least one row and one column"));
    }
    let n = rows
        .checked_mul(cols)
        .ok_or_else(|| spec_err("lattice too large"))?;
    let mut e = Vec::with_capacity(2 * n + if diag > 0 { diag as usize * n } else { 0 });
    for r in 0..rows {
        for c in 0..cols {
            let i = cols * r + c;
            if c + 1 < cols {
                e.push((i, i + 1));
            }
            if r + 1 < rows {
                e.push((i, i + cols));
                if diag >= 1 && c + 1 < cols {
                    e.push((i, i + cols + 1));
                }
                if diag >= 2 && c > 0 {
                    e.push((i, i + cols - 1));
                }
            }
        }
    }
    let xs = (0..n)
        .map(|i| ((i % cols) as f64, (i / cols) as f64))
        .collect();
    Ok((n, e, xs))
}

/// G(n, p) by geometric skipping (Batagelj & Brandes 2005): O(n + M).
fn gnp(n: usize, p: f64, rng: &mut ChaCha8Rng) -> Vec<(NodeId, NodeId)> {
    let mut e = Vec::new();
    if p <= 0.0 || n < 2 {
        return e;
    }
    if p >= 1.0 {
        for i in 0..n {
            for j in i + 1..n {
                e.push((i, j));
            }
        }
        return e;
    }
    let lp = (1.0 - p).ln();
    let (mut v, mut w): (usize, i64) = (1, -1);
    while v < n {
        let r: f64 = rng.random();
        let skip = ((1.0 - r).ln() / lp).floor();
        w += 1 + skip.min(i64::MAX as f64 / 4.0) as i64;
        while v < n && w >= v as i64 {
            w -= v as i64;
            v += 1;
        }
        if v < n {
            e.push((w as usize, v));
        }
    }
    e
}

fn random_regular(
    n: usize,
    d: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<(NodeId, NodeId)>, NetworkError> {
    if d >= n.max(1) || (n * d) % 2 == 1 {
        return Err(spec_err(format!(
            "no simple {d}-regular graph on {n} nodes (need d < n and n*d even)"
        )));
    }
    for _attempt in 0..1000 {
        let mut points: Vec<usize> = (0..n).flat_map(|i| std::iter::repeat_n(i, d)).collect();
        let mut seen: HashSet<(usize, usize)> = HashSet::new();
        let mut e = Vec::with_capacity(n * d / 2);
        let mut failures = 0usize;
        while points.len() >= 2 && failures < 100 + 10 * points.len() {
            let i = rng.random_range(0..points.len());
            let j = rng.random_range(0..points.len());
            let (a, b) = (points[i], points[j]);
            let key = (a.min(b), a.max(b));
            if i == j || a == b || seen.contains(&key) {
                failures += 1;
                continue;
            }
            seen.insert(key);
            e.push(key);
            // Remove the higher index first so the lower stays valid.
            points.swap_remove(i.max(j));
            points.swap_remove(i.min(j));
        }
        if points.is_empty() {
            e.sort_unstable();
            return Ok(e);
        }
    }
    Err(spec_err(format!(
        "could not draw a simple {d}-regular graph on {n} nodes"
    )))
}

fn watts_strogatz(
    n: usize,
    k: usize,
    rewire: f64,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<(NodeId, NodeId)>, NetworkError> {
    if k % 2 == 1 || k >= n {
        return Err(spec_err(format!(
            "Watts-Strogatz needs an even k < n (got k = {k}, n = {n})"
        )));
    }
    let key = |a: usize, b: usize| (a.min(b), a.max(b));
    let mut e: Vec<(usize, usize)> = Vec::with_capacity(n * k / 2);
    for j in 1..=k / 2 {
        for i in 0..n {
            e.push((i, (i + j) % n));
        }
    }
    let mut seen: HashSet<(usize, usize)> = e.iter().map(|&(a, b)| key(a, b)).collect();
    let mut degree = vec![k; n];
    for edge in &mut e {
        let (i, old) = *edge;
        if !rng.random_bool(rewire) || degree[i] >= n - 1 {
            continue;
        }
        let new = loop {
            let u = rng.random_range(0..n);
            if u != i && !seen.contains(&key(i, u)) {
                break u;
            }
        };
        seen.remove(&key(i, old));
        seen.insert(key(i, new));
        degree[old] -= 1;
        degree[new] += 1;
        *edge = (i, new);
    }
    Ok(e.into_iter().map(|(a, b)| key(a, b)).collect())
}

type Points = (Vec<(NodeId, NodeId)>, Vec<(f64, f64)>);

/// Points in the unit square and the pairs closer than `radius`, found with
/// a cell list (cells of side >= radius): O(n + M) expected.
fn random_geometric(n: usize, radius: f64, rng: &mut ChaCha8Rng) -> Points {
    let pts: Vec<(f64, f64)> = (0..n).map(|_| (rng.random(), rng.random())).collect();
    let cells = ((1.0 / radius).floor() as usize).clamp(1, 4096);
    let cell_of = |x: f64| ((x * cells as f64) as usize).min(cells - 1);
    let mut buckets: Vec<Vec<usize>> = vec![Vec::new(); cells * cells];
    for (i, &(x, y)) in pts.iter().enumerate() {
        buckets[cell_of(y) * cells + cell_of(x)].push(i);
    }
    let r2 = radius * radius;
    let mut e = Vec::new();
    for (i, &(x, y)) in pts.iter().enumerate() {
        let (cx, cy) = (cell_of(x), cell_of(y));
        for ny in cy.saturating_sub(1)..=(cy + 1).min(cells - 1) {
            for nx in cx.saturating_sub(1)..=(cx + 1).min(cells - 1) {
                for &j in &buckets[ny * cells + nx] {
                    let (xj, yj) = pts[j];
                    if j > i && (x - xj).powi(2) + (y - yj).powi(2) < r2 {
                        e.push((i, j));
                    }
                }
            }
        }
    }
    e.sort_unstable();
    (e, pts)
}

/// Inside-(0,1) clipping margin for normal initial values.
const W_MARGIN: f64 = 1e-6;

fn draw_w(init: &WInit, m: usize, rng: &mut ChaCha8Rng) -> Result<Vec<f64>, NetworkError> {
    match *init {
        WInit::Constant { w } => {
            if !(0.0..=1.0).contains(&w) {
                return Err(spec_err(format!("initial w = {w} must lie in [0, 1]")));
            }
            Ok(vec![w; m])
        }
        WInit::Uniform { lo, hi } => {
            if !(0.0 <= lo && lo <= hi && hi <= 1.0) {
                return Err(spec_err(format!(
                    "uniform({lo}, {hi}) must satisfy 0 <= lo <= hi <= 1"
                )));
            }
            Ok((0..m)
                .map(|_| {
                    if hi > lo {
                        rng.random_range(lo..hi)
                    } else {
                        lo
                    }
                })
                .collect())
        }
        WInit::NormalClipped { mean, std } => {
            let d = Normal::new(mean, std)
                .map_err(|e| spec_err(format!("normal({mean}, {std}): {e}")))?;
            if !mean.is_finite() {
                return Err(spec_err("normal mean must be finite"));
            }
            Ok((0..m)
                .map(|_| d.sample(rng).clamp(W_MARGIN, 1.0 - W_MARGIN))
                .collect())
        }
    }
}

/// `sides`: the left and right nodes of a family that names them (a
/// nanowire network's electrodes); others are found from `xs`.
fn apply_drive(
    spec: &GenSpec,
    net: &mut Network,
    xs: Option<&[f64]>,
    sides: Option<(Vec<NodeId>, Vec<NodeId>)>,
) -> Result<(), NetworkError> {
    let n = net.n_nodes();
    let drive_edge = |net: &mut Network, tail: NodeId, head: NodeId, s: Option<f64>| {
        let k = net.edges.len();
        let mut e = Edge {
            name: compact_str::format_compact!("xm{k}"),
            tail,
            head,
            device: Device::Memristor(spec.device.params(spec.device.w0)),
            source: None,
            loc: None,
        };
        if let Some(s) = s {
            set_source(&mut e, k, s);
        }
        net.edges.push(e);
    };
    let constraint = |name: String, pos: NodeId, neg: NodeId, v: f64| PotentialConstraint {
        name,
        pos,
        neg,
        source: Source::dc(v),
        loc: None,
    };
    match spec.drive {
        Drive::None => {}
        Drive::Terminals {
            a,
            b,
            voltage,
            mode,
        } => {
            if a >= n || b >= n || a == b {
                return Err(spec_err(format!(
                    "drive terminals {a} and {b} must be distinct nodes below {n}"
                )));
            }
            if !voltage.is_finite() {
                return Err(spec_err("drive voltage must be finite"));
            }
            net.node_names[b] = GROUND.to_string();
            match mode {
                DriveMode::Constraint => {
                    net.constraints
                        .push(constraint("vdrive".into(), a, b, voltage))
                }
                DriveMode::SeriesSource => drive_edge(net, b, a, Some(voltage)),
            }
        }
        Drive::Sides { voltage, mode } => {
            if !voltage.is_finite() {
                return Err(spec_err("drive voltage must be finite"));
            }
            let (left, right) = match sides {
                Some((l, r)) if l.is_empty() || r.is_empty() => {
                    return Err(spec_err(
                        "a sides drive on a nanowire network needs electrodes on the left and \
                         the right side",
                    ));
                }
                Some(lr) => lr,
                None => {
                    let xs = xs.ok_or_else(|| {
                        spec_err(
                            "a sides drive needs a grid, triangular, random geometric or \
                             nanowire network",
                        )
                    })?;
                    let (lo, hi) = match spec.kind {
                        GraphKind::RandomGeometric { radius, .. } => (radius, 1.0 - radius),
                        _ => (0.5, xs.iter().copied().fold(0.0, f64::max) - 0.5),
                    };
                    if lo >= hi {
                        return Err(spec_err(
                            "the two sides of the network overlap (too narrow)",
                        ));
                    }
                    let left: Vec<NodeId> = (0..n).filter(|&i| xs[i] < lo).collect();
                    let right: Vec<NodeId> = (0..n).filter(|&i| xs[i] > hi).collect();
                    if left.is_empty() || right.is_empty() {
                        return Err(spec_err("one side of the network has no nodes"));
                    }
                    (left, right)
                }
            };
            match mode {
                DriveMode::Constraint => {
                    let g = right[0];
                    net.node_names[g] = GROUND.to_string();
                    for (i, &l) in left.iter().enumerate() {
                        net.constraints
                            .push(constraint(format!("vleft{i}"), l, g, voltage));
                    }
                    for (i, &r) in right.iter().enumerate().skip(1) {
                        net.constraints
                            .push(constraint(format!("vright{i}"), r, g, 0.0));
                    }
                }
                DriveMode::SeriesSource => {
                    let g = net.node_names.len();
                    net.node_names.push(GROUND.to_string());
                    for &l in &left {
                        drive_edge(net, g, l, Some(voltage));
                    }
                    for &r in &right {
                        drive_edge(net, r, g, None);
                    }
                }
            }
        }
    }
    Ok(())
}
