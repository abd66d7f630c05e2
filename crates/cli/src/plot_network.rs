//! `memnet plot RESULT --network NETLIST`: the network drawn where its nodes
//! lie, each device coloured by its state or current at chosen times (SVG
//! or PNG panels side by side, or a GIF over the run); above
//! [`HEAT_EDGES`] devices, a heat map of cells.

use std::path::{Path, PathBuf};

use memnet_graph::layout::{force_layout, parse_node_positions};
use memnet_graph::{Network, NodeId};
use memnet_solver::{Probes, SavedRun};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{CliError, CliResult};
use crate::plot::{Chart, render};

/// Above this many drawn devices, lines would merge into noise: a heat map
/// of the mean value per cell is drawn instead.
pub const HEAT_EDGES: usize = 20_000;

/// Networks without coordinates up to this many nodes get a force layout
/// (it is O(n^2) per iteration).
pub const MAX_FORCE_NODES: usize = 1500;

/// Cells across the heat map's longer side.
const HEAT_CELLS: usize = 160;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// each device's state (its law's own variable), from the state columns
    State,
    /// each device's current, from `i(DEVICE)` columns (simulate with
    /// --save 'states,i(xm*)')
    Current,
}

/// What to draw: the network, its node positions, the value column of
/// every edge, and the samples to show.
pub struct NetworkPicture<'a> {
    pub net: &'a Network,
    pub positions: Vec<(f64, f64)>,
    /// Per edge, the column of its value (None: drawn grey).
    pub columns: Vec<Option<usize>>,
    pub run: &'a SavedRun,
    pub frames: Vec<usize>,
    pub quantity: Quantity,
    pub title: String,
}

/// Node positions: from `layout` (a `node,x,y` file), else the netlist's
/// `NETLIST.nodes.csv` beside it, else a force layout for small networks.
pub fn positions(
    net: &Network,
    netlist: &Path,
    layout: Option<&Path>,
) -> CliResult<Vec<(f64, f64)>> {
    let beside = {
        let mut s = netlist.as_os_str().to_owned();
        s.push(".nodes.csv");
        PathBuf::from(s)
    };
    let file = match layout {
        Some(p) => Some(p.to_path_buf()),
        None => beside.exists().then_some(beside),
    };
    let Some(file) = file else {
        let n = net.node_names.len();
        if n > MAX_FORCE_NODES {
            return Err(CliError::input(format!(
                "{}: error: the network has no coordinates (no {}.nodes.csv) and {n} nodes, too \
                 many to lay out (at most {MAX_FORCE_NODES}); give --layout FILE with `node,x,y` \
                 rows",
                netlist.display(),
                netlist.display()
            )));
        }
        return Ok(force_layout(net, 0, 300));
    };
    let text = std::fs::read_to_string(&file).map_err(|e| CliError::io(file.display(), e))?;
    let rows = parse_node_positions(&text, &file.display().to_string()).map_err(CliError::input)?;
    let index: std::collections::HashMap<String, NodeId> = net
        .node_names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.to_ascii_lowercase(), i))
        .collect();
    let mut pos = vec![(f64::NAN, f64::NAN); net.node_names.len()];
    let mut found = 0;
    for (name, p) in rows {
        if let Some(&i) = index.get(&name) {
            pos[i] = p;
            found += 1;
        }
    }
    if found == 0 && !net.node_names.is_empty() {
        return Err(CliError::input(format!(
            "{}: error: names none of the network's nodes (it has e.g. `{}`)",
            file.display(),
            net.node_names[0]
        )));
    }
    Ok(pos)
}

/// The column of each edge's value in `run` (None: the run holds none).
pub fn edge_columns(
    net: &Network,
    run: &SavedRun,
    quantity: Quantity,
    result: &Path,
) -> CliResult<Vec<Option<usize>>> {
    let by_name: std::collections::HashMap<String, usize> = run
        .names
        .iter()
        .enumerate()
        .map(|(c, n)| (n.to_ascii_lowercase(), c))
        .collect();
    let mut columns = vec![None; net.edges.len()];
    match quantity {
        Quantity::State => {
            // State columns are named as `Probes::states` names them, in
            // edge order over the devices with state.
            let states = Probes::states(net);
            let mut names = states.names().iter();
            for (k, e) in net.edges.iter().enumerate() {
                if e.device.is_memristor() && !net.is_static(k) {
                    if let Some(n) = names.next() {
                        columns[k] = by_name.get(n.to_ascii_lowercase().as_str()).copied();
                    }
                }
            }
        }
        Quantity::Current => {
            for (k, e) in net.edges.iter().enumerate() {
                let name = format!("i({})", e.name.to_ascii_lowercase());
                columns[k] = by_name.get(&name).copied();
            }
        }
    }
    if columns.iter().all(Option::is_none) {
        let first = net.edges.first().map_or("", |e| e.name.as_str());
        return Err(CliError::input(match quantity {
            Quantity::State => format!(
                "{}: error: holds no state of the network's devices (no column `{first}`): was \
                 it written from this netlist?",
                result.display()
            ),
            Quantity::Current => format!(
                "{}: error: holds no device current (no column `i({first})`); simulate with \
                 --save 'states,i(xm*)' (or the devices' own names) to write them",
                result.display()
            ),
        }));
    }
    Ok(columns)
}

/// The samples to show: the one nearest each of `at`, else the last (a
/// picture) or up to `frames` evenly spaced ones (an animation).
pub fn frames(run: &SavedRun, at: &[f64], animation: bool, frames: usize) -> Vec<usize> {
    let n = run.times.len();
    if !at.is_empty() {
        return at
            .iter()
            .map(|&t| {
                (0..n)
                    .min_by(|&a, &b| {
                        (run.times[a] - t)
                            .abs()
                            .total_cmp(&(run.times[b] - t).abs())
                    })
                    .unwrap_or(0)
            })
            .collect();
    }
    if !animation {
        return vec![n.saturating_sub(1)];
    }
    let f = frames.clamp(1, n.max(1));
    if f <= 1 {
        return vec![0];
    }
    let mut v: Vec<usize> = (0..f)
        .map(|i| ((i as f64 * (n - 1) as f64 / (f - 1) as f64).round()) as usize)
        .collect();
    v.dedup();
    v
}

impl NetworkPicture<'_> {
    fn value(&self, frame: usize, k: usize) -> Option<f64> {
        let c = self.columns[k]?;
        let v = self.run.row(frame)[c];
        let v = match self.quantity {
            Quantity::State => v,
            Quantity::Current => v.abs(),
        };
        v.is_finite().then_some(v)
    }

    /// The colour scale's range over every frame shown.
    fn range(&self) -> (f64, f64) {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for &f in &self.frames {
            for k in 0..self.net.edges.len() {
                if let Some(v) = self.value(f, k) {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
        }
        if lo > hi {
            (0.0, 1.0)
        } else if hi - lo <= 1e-12 * hi.abs().max(lo.abs()).max(1e-300) {
            (
                lo - 0.5 * lo.abs().max(1e-12),
                hi + 0.5 * hi.abs().max(1e-12),
            )
        } else {
            (lo, hi)
        }
    }

    /// The data box, widened to a square about its centre so the picture
    /// keeps its proportions in a square panel.
    fn bounds(&self) -> ((f64, f64), (f64, f64)) {
        let (mut x0, mut x1, mut y0, mut y1) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for &(x, y) in self
            .positions
            .iter()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
        {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        if x0 > x1 {
            return ((0.0, 1.0), (0.0, 1.0));
        }
        let half = 0.5 * (x1 - x0).max(y1 - y0).max(1e-12) * 1.06;
        let (cx, cy) = (0.5 * (x0 + x1), 0.5 * (y0 + y1));
        ((cx - half, cx + half), (cy - half, cy + half))
    }

    /// Whether node `n` has a position (a layout file may omit nodes).
    fn placed(&self, n: NodeId) -> bool {
        self.positions[n].0.is_finite() && self.positions[n].1.is_finite()
    }

    /// Edges with both ends placed: those a picture can draw.
    fn drawn_edges(&self) -> usize {
        self.net
            .edges
            .iter()
            .filter(|e| self.placed(e.tail) && self.placed(e.head))
            .count()
    }

    fn describe(&self) -> &'static str {
        match self.quantity {
            Quantity::State => "state",
            Quantity::Current => "|current| (A)",
        }
    }

    /// One panel: the network at sample `frame`.
    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        frame: usize,
        (lo, hi): (f64, f64),
        text: bool,
    ) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let ((x0, x1), (y0, y1)) = self.bounds();
        let mut b = ChartBuilder::on(area);
        b.margin(8);
        if text {
            b.caption(format!("t = {}", self.run.times[frame]), ("sans-serif", 16));
        }
        let mut chart = b.build_cartesian_2d(x0..x1, y0..y1).map_err(e)?;
        let colour = |v: f64| ViridisRGB.get_color_normalized(v, lo, hi);
        let ok = |n: NodeId| self.placed(n);
        let drawn = self.drawn_edges();
        if drawn > HEAT_EDGES {
            // Mean value of the devices whose midpoints fall in each cell.
            let cells = HEAT_CELLS;
            let (w, h) = ((x1 - x0) / cells as f64, (y1 - y0) / cells as f64);
            let mut sum = vec![0.0f64; cells * cells];
            let mut count = vec![0u32; cells * cells];
            for (k, ed) in self.net.edges.iter().enumerate() {
                let Some(v) = self.value(frame, k) else {
                    continue;
                };
                if !(ok(ed.tail) && ok(ed.head)) {
                    continue;
                }
                let (a, c) = (self.positions[ed.tail], self.positions[ed.head]);
                let (mx, my) = (0.5 * (a.0 + c.0), 0.5 * (a.1 + c.1));
                let i = (((mx - x0) / w) as usize).min(cells - 1);
                let j = (((my - y0) / h) as usize).min(cells - 1);
                sum[j * cells + i] += v;
                count[j * cells + i] += 1;
            }
            chart
                .draw_series((0..cells * cells).filter(|&c| count[c] > 0).map(|c| {
                    let (i, j) = (c % cells, c / cells);
                    let (px, py) = (x0 + i as f64 * w, y0 + j as f64 * h);
                    Rectangle::new(
                        [(px, py), (px + w, py + h)],
                        colour(sum[c] / count[c] as f64).filled(),
                    )
                }))
                .map_err(e)?;
            return Ok(());
        }
        let width = if drawn > 2000 { 1 } else { 2 };
        // Devices without a value (resistors, sources) first, in grey.
        chart
            .draw_series(
                self.net
                    .edges
                    .iter()
                    .enumerate()
                    .filter(|(k, ed)| self.value(frame, *k).is_none() && ok(ed.tail) && ok(ed.head))
                    .map(|(_, ed)| {
                        PathElement::new(
                            [self.positions[ed.tail], self.positions[ed.head]],
                            RGBColor(190, 190, 190).stroke_width(1),
                        )
                    }),
            )
            .map_err(e)?;
        // A device whose two nodes lie at one point (a multi-nodal
        // network's junction) is a dot there; others are lines.
        let tiny = 1e-9 * (x1 - x0);
        let point = |ed: &memnet_graph::Edge| {
            let (a, c) = (self.positions[ed.tail], self.positions[ed.head]);
            (a.0 - c.0).abs() <= tiny && (a.1 - c.1).abs() <= tiny
        };
        chart
            .draw_series(self.net.edges.iter().enumerate().filter_map(|(k, ed)| {
                let v = self.value(frame, k)?;
                (ok(ed.tail) && ok(ed.head) && !point(ed)).then(|| {
                    PathElement::new(
                        [self.positions[ed.tail], self.positions[ed.head]],
                        colour(v).stroke_width(width),
                    )
                })
            }))
            .map_err(e)?;
        chart
            .draw_series(self.net.edges.iter().enumerate().filter_map(|(k, ed)| {
                let v = self.value(frame, k)?;
                (ok(ed.tail) && ok(ed.head) && point(ed))
                    .then(|| Circle::new(self.positions[ed.tail], 3, colour(v).filled()))
            }))
            .map_err(e)?;
        if self.net.node_names.len() <= 400 && !self.net.edges.iter().any(point) {
            chart
                .draw_series(
                    self.positions
                        .iter()
                        .filter(|p| p.0.is_finite() && p.1.is_finite())
                        .map(|&p| Circle::new(p, 2, BLACK.filled())),
                )
                .map_err(e)?;
        }
        Ok(())
    }

    /// The colour bar: the scale from lo (bottom) to hi (top).
    fn draw_bar<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        (lo, hi): (f64, f64),
        text: bool,
    ) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let mut b = ChartBuilder::on(area);
        b.margin_top(40).margin_bottom(40).margin_right(10);
        if text {
            b.y_label_area_size(60);
        }
        let mut chart = b.build_cartesian_2d(0.0..1.0, lo..hi).map_err(e)?;
        if text {
            chart
                .configure_mesh()
                .disable_x_mesh()
                .disable_x_axis()
                .disable_y_mesh()
                .y_desc(self.describe())
                .y_label_style(("sans-serif", 13))
                .axis_desc_style(("sans-serif", 14))
                .y_labels(8)
                .y_label_formatter(&|v| {
                    let a = v.abs();
                    if a == 0.0 || (1e-2..1e4).contains(&a) {
                        format!("{v:.4}")
                    } else {
                        format!("{v:.3e}")
                    }
                })
                .draw()
                .map_err(e)?;
        }
        let steps = 100;
        chart
            .draw_series((0..steps).map(|i| {
                let a = lo + (hi - lo) * i as f64 / steps as f64;
                let b = lo + (hi - lo) * (i + 1) as f64 / steps as f64;
                Rectangle::new(
                    [(0.0, a), (1.0, b)],
                    ViridisRGB
                        .get_color_normalized(0.5 * (a + b), lo, hi)
                        .filled(),
                )
            }))
            .map_err(e)?;
        Ok(())
    }

    /// Every frame as a panel (a picture): up to 3 across.
    fn draw_all<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        frames: &[usize],
        text: bool,
    ) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        area.fill(&WHITE).map_err(e)?;
        let range = self.range();
        let area = if text {
            let heat = if self.drawn_edges() > HEAT_EDGES {
                ", mean per cell"
            } else {
                ""
            };
            area.titled(
                &format!("{}: {}{heat}", self.title, self.describe()),
                ("sans-serif", 20),
            )
            .map_err(e)?
        } else {
            area.clone()
        };
        let (w, _) = area.dim_in_pixel();
        let (panels, bar) = area.split_horizontally(w.saturating_sub(130));
        self.draw_bar(&bar, range, text)?;
        let cols = frames.len().clamp(1, 3);
        let rows = frames.len().div_ceil(cols).max(1);
        for (p, &f) in panels.split_evenly((rows, cols)).iter().zip(frames) {
            self.draw_panel(p, f, range, text)?;
        }
        Ok(())
    }
}

impl Chart for NetworkPicture<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        text: bool,
    ) -> Result<(), String> {
        self.draw_all(area, &self.frames, text)
    }
}

/// Whether `path` names an animation (`.gif`) rather than a picture.
pub fn is_animation(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gif"))
}

/// Writes the picture: SVG or PNG panels, or a GIF with one frame per
/// sample shown (`delay_ms` each).
pub fn write(path: &Path, pic: &NetworkPicture, delay_ms: u32) -> CliResult {
    if !is_animation(path) {
        let cols = pic.frames.len().clamp(1, 3) as u32;
        let rows = pic.frames.len().div_ceil(cols as usize).max(1) as u32;
        return render(path, ((cols * 520 + 130).max(780), rows * 520 + 40), pic);
    }
    let err = |e: String| CliError::io(format!("writing animation {}", path.display()), e);
    let text = crate::plot::font_available();
    let area = BitMapBackend::gif(path, (780, 560), delay_ms)
        .map_err(|e| err(e.to_string()))?
        .into_drawing_area();
    for &f in &pic.frames {
        pic.draw_all(&area, &[f], text).map_err(err)?;
        area.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(())
}
