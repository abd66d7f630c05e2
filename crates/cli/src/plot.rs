//! Plots for `simulate --plot` and `analyze --plot`: SVG or PNG by extension.
//!
//! Text needs a TrueType font (plotters' `ab_glyph` renderer); memnet uses
//! the system's DejaVu Sans when present and otherwise draws the same chart
//! without text rather than failing.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{CliError, CliResult};

/// Up to this many devices every trajectory is drawn; above it, quantile bands.
pub const MAX_LINES: usize = 50;

/// Up to this many trajectories each is named in a legend.
pub const MAX_LABELS: usize = 12;

const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
];

/// Whether plot text can be drawn (a font was found and registered).
pub fn font_available() -> bool {
    have_font()
}

/// Registers a sans-serif font once; `false` if none could be found.
fn have_font() -> bool {
    static FONT: OnceLock<bool> = OnceLock::new();
    *FONT.get_or_init(|| {
        FONT_PATHS.iter().any(|p| {
            std::fs::read(p).ok().is_some_and(|bytes| {
                // The font lives for the whole process; plotters wants 'static.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok()
            })
        })
    })
}

/// Collects w(t) while a simulation runs: every series for small networks,
/// quantiles (0, 5, 25, 50, 75, 95, 100 %) per sample for large ones.
pub struct TrajectoryPlot {
    names: Vec<String>,
    times: Vec<f64>,
    /// `series[s][i]`: device s (or quantile s) at sample i.
    series: Vec<Vec<f64>>,
    quantiles: bool,
    scratch: Vec<f64>,
    /// The y axis's name: `w` for device states, `value` for mixed outputs.
    pub y_desc: String,
}

const QUANTILES: [f64; 7] = [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0];

impl TrajectoryPlot {
    pub fn new(names: &[String]) -> Self {
        let quantiles = names.len() > MAX_LINES;
        let n = if quantiles {
            QUANTILES.len()
        } else {
            names.len()
        };
        TrajectoryPlot {
            names: names.to_vec(),
            times: Vec::new(),
            series: vec![Vec::new(); n],
            quantiles,
            scratch: Vec::new(),
            y_desc: "w".into(),
        }
    }

    pub fn push(&mut self, t: f64, w: &[f64]) {
        self.times.push(t);
        if self.quantiles {
            self.scratch.clear();
            self.scratch.extend_from_slice(w);
            self.scratch.sort_by(f64::total_cmp);
            let last = self.scratch.len().saturating_sub(1) as f64;
            for (s, q) in QUANTILES.iter().enumerate() {
                let v = self
                    .scratch
                    .get((q * last).round() as usize)
                    .copied()
                    .unwrap_or(f64::NAN);
                self.series[s].push(v);
            }
        } else {
            for (s, &v) in w.iter().enumerate() {
                self.series[s].push(v);
            }
        }
    }
}

fn plot_err(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::io(format!("writing plot {}", path.display()), e)
}

/// A chart that can be drawn on any plotters backend.
pub trait Chart {
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        text: bool,
    ) -> Result<(), String>;
}

/// Draws `chart` to an SVG or PNG file chosen by the extension of `path`.
pub fn render(path: &Path, size: (u32, u32), chart: &impl Chart) -> CliResult {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let text = have_font();
    match ext.as_deref() {
        Some("svg") => {
            let area = SVGBackend::new(path, size).into_drawing_area();
            chart.draw(&area, text).map_err(|e| plot_err(path, e))?;
            area.present().map_err(|e| plot_err(path, e))
        }
        Some("png") => {
            let area = BitMapBackend::new(path, size).into_drawing_area();
            chart.draw(&area, text).map_err(|e| plot_err(path, e))?;
            area.present().map_err(|e| plot_err(path, e))
        }
        _ => Err(CliError::input(format!(
            "--plot {}: unknown format (use .svg or .png)",
            path.display()
        ))),
    }
}

/// The y range of a chart: the data's own range with 5 % margins, so
/// that small motions fill the plot (a constant series gets a band about
/// its value; no data gives [0, 1]).
pub fn y_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    let pad = if span > 1e-12 * hi.abs().max(lo.abs()) && span > 0.0 {
        0.05 * span
    } else {
        1e-3 * hi.abs().max(1e-9)
    };
    (lo - pad, hi + pad)
}

/// Whether every series moves by less than 5 % of the spread of all
/// values (then each is best drawn as its change from its first sample).
pub fn moves_little(series: &[Vec<f64>]) -> bool {
    let range = |ys: &mut dyn Iterator<Item = f64>| {
        ys.filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            })
    };
    let (lo, hi) = range(&mut series.iter().flatten().copied());
    let motion = series
        .iter()
        .map(|ys| {
            let (a, b) = range(&mut ys.iter().copied());
            if a <= b { b - a } else { 0.0 }
        })
        .fold(0.0f64, f64::max);
    series.len() > 1 && hi > lo && motion > 0.0 && motion < 0.05 * (hi - lo)
}

/// w(t) of every device, or quantile bands for large networks.
pub fn write_trajectory(path: &Path, title: &str, p: &TrajectoryPlot) -> CliResult {
    struct Draw<'a> {
        title: &'a str,
        p: &'a TrajectoryPlot,
    }
    impl Chart for Draw<'_> {
        fn draw<DB: DrawingBackend>(
            &self,
            area: &DrawingArea<DB, Shift>,
            text: bool,
        ) -> Result<(), String> {
            let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
            area.fill(&WHITE).map_err(e)?;
            let t0 = self.p.times.first().copied().unwrap_or(0.0);
            let t1 = self.p.times.last().copied().unwrap_or(1.0).max(t0 + 1e-300);
            // Devices that barely move about values far apart are drawn
            // as their change from t0, or every line is flat.
            let relative = !self.p.quantiles && moves_little(&self.p.series);
            let offset = |s: usize| {
                if relative {
                    self.p.series[s].first().copied().unwrap_or(0.0)
                } else {
                    0.0
                }
            };
            let (lo, hi) = y_range(
                self.p
                    .series
                    .iter()
                    .enumerate()
                    .flat_map(|(s, ys)| ys.iter().map(move |v| v - offset(s))),
            );
            let y_desc = if relative {
                format!("{0} - {0}(t0)", self.p.y_desc)
            } else {
                self.p.y_desc.clone()
            };
            let mut builder = ChartBuilder::on(area);
            builder.margin(15);
            if text {
                let caption = if self.p.quantiles {
                    format!(
                        "{}: {}(t) of {} outputs (quantile bands)",
                        self.title,
                        self.p.y_desc,
                        self.p.names.len()
                    )
                } else {
                    format!(
                        "{}: {}",
                        self.title,
                        if relative {
                            format!("{y_desc} (change from t0 = {})", t0)
                        } else {
                            format!("{y_desc}(t)")
                        }
                    )
                };
                builder
                    .caption(caption, ("sans-serif", 20))
                    .x_label_area_size(40)
                    .y_label_area_size(50);
            }
            let mut chart = builder.build_cartesian_2d(t0..t1, lo..hi).map_err(e)?;
            if text {
                chart
                    .configure_mesh()
                    .x_desc("t")
                    .y_desc(y_desc.as_str())
                    .draw()
                    .map_err(e)?;
            }
            let times = &self.p.times;
            if self.p.quantiles {
                let band = |a: usize, b: usize| {
                    times
                        .iter()
                        .zip(&self.p.series[a])
                        .map(|(&t, &v)| (t, v))
                        .chain(
                            times
                                .iter()
                                .zip(&self.p.series[b])
                                .rev()
                                .map(|(&t, &v)| (t, v)),
                        )
                        .collect::<Vec<_>>()
                };
                for (a, b, alpha) in [(0, 6, 0.12), (1, 5, 0.25), (2, 4, 0.45)] {
                    chart
                        .draw_series(std::iter::once(Polygon::new(
                            band(a, b),
                            BLUE.mix(alpha).filled(),
                        )))
                        .map_err(e)?;
                }
                chart
                    .draw_series(LineSeries::new(
                        times.iter().zip(&self.p.series[3]).map(|(&t, &v)| (t, v)),
                        BLUE.stroke_width(2),
                    ))
                    .map_err(e)?;
            } else {
                let labelled = text && self.p.series.len() <= MAX_LABELS;
                for (s, ys) in self.p.series.iter().enumerate() {
                    let color = Palette99::pick(s).to_rgba();
                    let drawn = chart
                        .draw_series(LineSeries::new(
                            times.iter().zip(ys).map(|(&t, &v)| (t, v - offset(s))),
                            color.stroke_width(if labelled { 2 } else { 1 }),
                        ))
                        .map_err(e)?;
                    if labelled {
                        drawn.label(self.p.names[s].clone()).legend(move |(x, y)| {
                            PathElement::new([(x, y), (x + 15, y)], color.stroke_width(2))
                        });
                    }
                }
                if labelled && !self.p.series.is_empty() {
                    chart
                        .configure_series_labels()
                        .position(SeriesLabelPosition::UpperRight)
                        .background_style(WHITE.mix(0.8))
                        .border_style(BLACK)
                        .draw()
                        .map_err(e)?;
                }
            }
            Ok(())
        }
    }
    render(path, (900, 600), &Draw { title, p })
}

/// Lyapunov functionals against time (left) and Jacobian eigenvalues in the
/// complex plane (right).
pub fn write_analysis(path: &Path, r: &memnet_analysis::AnalysisReport) -> CliResult {
    struct Draw<'a>(&'a memnet_analysis::AnalysisReport);
    impl Chart for Draw<'_> {
        fn draw<DB: DrawingBackend>(
            &self,
            area: &DrawingArea<DB, Shift>,
            text: bool,
        ) -> Result<(), String> {
            let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
            area.fill(&WHITE).map_err(e)?;
            let (left, right) = area.split_horizontally(area.dim_in_pixel().0 / 2);
            // Left: each functional, normalised to its own range so all fit.
            let series = self.0.lyapunov.as_deref().unwrap_or(&[]);
            let t1 = series
                .iter()
                .flat_map(|s| s.times.last().copied())
                .fold(1e-300, f64::max);
            let mut b = ChartBuilder::on(&left);
            b.margin(15);
            if text {
                b.caption("Lyapunov functionals (scaled to [0,1])", ("sans-serif", 18))
                    .x_label_area_size(35)
                    .y_label_area_size(45);
            }
            let mut chart = b.build_cartesian_2d(0.0..t1, -0.05..1.05).map_err(e)?;
            if text {
                chart.configure_mesh().x_desc("t").draw().map_err(e)?;
            }
            for (i, s) in series.iter().enumerate() {
                let (lo, hi) = s
                    .values
                    .iter()
                    .filter(|v| v.is_finite())
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                        (a.min(v), b.max(v))
                    });
                let span = if hi > lo { hi - lo } else { 1.0 };
                let color = Palette99::pick(i).to_rgba();
                let drawn = chart
                    .draw_series(LineSeries::new(
                        s.times
                            .iter()
                            .zip(&s.values)
                            .map(|(&t, &v)| (t, (v - lo) / span)),
                        color.stroke_width(2),
                    ))
                    .map_err(e)?;
                if text {
                    drawn
                        .label(s.name.clone())
                        .legend(move |(x, y)| PathElement::new([(x, y), (x + 15, y)], color));
                }
            }
            if text && !series.is_empty() {
                chart
                    .configure_series_labels()
                    .background_style(WHITE.mix(0.8))
                    .border_style(BLACK)
                    .draw()
                    .map_err(e)?;
            }
            // Right: eigenvalues of every Jacobian computed.
            let eigs: Vec<(f64, f64)> = self
                .0
                .jacobian
                .iter()
                .flat_map(|j| {
                    j.states
                        .iter()
                        .flat_map(|s| s.eigenvalues.iter().copied())
                        .chain(j.fixed_point_eigenvalues.iter().copied())
                })
                .filter(|(a, b)| a.is_finite() && b.is_finite())
                .collect();
            let (rlo, rhi, imax) = eigs
                .iter()
                .fold((-1e-9, 1e-9, 1e-9), |(a, b, c), &(re, im)| {
                    (f64::min(a, re), f64::max(b, re), f64::max(c, im.abs()))
                });
            let pad = 0.1 * (rhi - rlo).max(imax);
            let mut b = ChartBuilder::on(&right);
            b.margin(15);
            if text {
                b.caption("Jacobian eigenvalues", ("sans-serif", 18))
                    .x_label_area_size(35)
                    .y_label_area_size(45);
            }
            let mut chart = b
                .build_cartesian_2d(rlo - pad..rhi + pad, -imax - pad..imax + pad)
                .map_err(e)?;
            if text {
                chart
                    .configure_mesh()
                    .x_desc("Re")
                    .y_desc("Im")
                    .draw()
                    .map_err(e)?;
            }
            chart
                .draw_series(
                    eigs.iter()
                        .map(|&(re, im)| Circle::new((re, im), 4, RED.filled())),
                )
                .map_err(e)?;
            Ok(())
        }
    }
    render(path, (1200, 500), &Draw(r))
}
