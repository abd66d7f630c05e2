//! `memnet plot RESULT`: the trajectories of a saved run (CSV, NPY or raw
//! as `memnet simulate --out` writes them), without rerunning it.

use std::path::PathBuf;

use memnet_solver::{glob_match, read_saved_run};

use crate::error::{CliError, CliResult};
use crate::plot::{self, TrajectoryPlot};
use crate::plot_network::{self, Quantity};

/// Plot a saved run: the outputs of a `memnet simulate --out` file against time.
///
/// By default the device states are drawn (every column that is not v(...), i(...), p(...),
/// n(...) or an {expression}); --columns picks others by name, with * and ? as wildcards.
/// Up to 50 columns are drawn as lines (named in a legend up to 12), more as quantile bands.
/// The y axis follows the data. A file cut short by an interrupted run plots its complete
/// samples.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  memnet simulate fixtures/spice/e4_grid.cir --t-end 1 --out e4.csv
  memnet plot e4.csv -o e4.svg
  memnet plot e4.csv --columns 'v(*)' -o e4_v.png
  memnet plot run.npy --columns xm1 --columns xm2 -o two.svg
  memnet generate nanowire --drive sides -o nw.cir
  memnet simulate nw.cir --t-end 1 --out nw.csv
  memnet plot nw.csv --network nw.cir --at 0 --at 1 -o nw.png
  memnet plot nw.csv --network nw.cir -o nw.gif")]
pub struct Args {
    /// The saved run: .csv, .npy (with its .npy.json column names) or .raw.
    pub result: PathBuf,
    /// Output picture: .svg or .png.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Columns to draw, by name or wildcard pattern (repeatable; default: device states).
    #[arg(long = "columns", value_name = "PATTERN")]
    pub columns: Vec<String>,
    /// Title (default: the result file's name).
    #[arg(long)]
    pub title: Option<String>,
    /// Draw the network of this netlist instead of trajectories: each
    /// device coloured by its state (or current) where its nodes lie, from
    /// --layout, the NETLIST.nodes.csv that `memnet generate` writes, or a
    /// force layout for networks of up to 1500 nodes. Above 20000 devices
    /// a heat map. Output .svg/.png (one panel per --at) or .gif (an
    /// animation over the run).
    #[arg(long, value_name = "NETLIST", help_heading = "Network pictures")]
    pub network: Option<PathBuf>,
    /// Times to draw (repeatable; the nearest sample each). Default: the
    /// last sample, or for a .gif up to --frames samples over the run.
    #[arg(long, value_name = "T", value_parser = spice_time, help_heading = "Network pictures")]
    pub at: Vec<f64>,
    /// What colours the devices.
    #[arg(long, value_enum, default_value_t = Quantity::State, help_heading = "Network pictures")]
    pub quantity: Quantity,
    /// Node coordinates, a CSV file with `node,x,y` columns.
    #[arg(long, value_name = "FILE", help_heading = "Network pictures")]
    pub layout: Option<PathBuf>,
    /// Most frames of a .gif.
    #[arg(long, default_value_t = 60, help_heading = "Network pictures")]
    pub frames: usize,
    /// Time each .gif frame is shown, ms.
    #[arg(
        long,
        default_value_t = 100,
        value_name = "MS",
        help_heading = "Network pictures"
    )]
    pub delay: u32,
}

fn spice_time(s: &str) -> Result<f64, String> {
    memnet_spice::number::parse_number(s.trim())
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("`{s}` is not a number (SPICE suffixes are accepted: 10n, 2.5ms)"))
}

/// `memnet plot RESULT --network NETLIST`.
fn run_network(a: &Args, netlist: &std::path::Path, run: &memnet_solver::SavedRun) -> CliResult {
    let loaded = crate::input::load(netlist, &crate::input::InputArgs::default())?;
    let net = loaded.into_network()?;
    let columns = plot_network::edge_columns(&net, run, a.quantity, &a.result)?;
    let positions = plot_network::positions(&net, netlist, a.layout.as_deref())?;
    let animation = plot_network::is_animation(&a.output);
    let frames = plot_network::frames(run, &a.at, animation, a.frames);
    let title = a.title.clone().unwrap_or_else(|| net.title.clone());
    let pic = plot_network::NetworkPicture {
        net: &net,
        positions,
        columns,
        run,
        frames,
        quantity: a.quantity,
        title,
    };
    plot_network::write(&a.output, &pic, a.delay)
}

/// Whether a column of memnet's output is a device state (not a node
/// voltage, a current, a power, a Xyce `n(...)` name or an expression).
fn is_state(name: &str) -> bool {
    !(name.starts_with("v(")
        || name.starts_with("i(")
        || name.starts_with("p(")
        || name.starts_with('{')
        || (name.starts_with("n(") && name.ends_with(":r)")))
}

pub fn run(a: Args) -> CliResult {
    let run = read_saved_run(&a.result).map_err(CliError::input)?;
    if run.times.is_empty() {
        return Err(CliError::input(format!(
            "{}: error: the file holds no complete sample",
            a.result.display()
        )));
    }
    if let Some(netlist) = &a.network {
        return run_network(&a, netlist, &run);
    }
    if plot_network::is_animation(&a.output) {
        return Err(CliError::input(
            "-o: an animation (.gif) draws a network: give --network NETLIST",
        ));
    }
    let columns: Vec<usize> = if a.columns.is_empty() {
        let states: Vec<usize> = (0..run.names.len())
            .filter(|&c| is_state(&run.names[c]))
            .collect();
        if states.is_empty() {
            (0..run.names.len()).collect()
        } else {
            states
        }
    } else {
        let mut picked = Vec::new();
        for pattern in &a.columns {
            let p = pattern.to_ascii_lowercase();
            let before = picked.len();
            for (c, name) in run.names.iter().enumerate() {
                if glob_match(p.as_bytes(), name.to_ascii_lowercase().as_bytes())
                    && !picked.contains(&c)
                {
                    picked.push(c);
                }
            }
            if picked.len() == before {
                let shown: Vec<&str> = run.names.iter().take(8).map(String::as_str).collect();
                return Err(CliError::input(format!(
                    "{}: error: --columns `{pattern}` matches no column (the file has {}{})",
                    a.result.display(),
                    shown.join(", "),
                    if run.names.len() > 8 { ", ..." } else { "" }
                )));
            }
        }
        picked
    };
    let names: Vec<String> = columns.iter().map(|&c| run.names[c].clone()).collect();
    let mut p = TrajectoryPlot::new(&names);
    if !columns.iter().all(|&c| is_state(&run.names[c])) {
        p.y_desc = "value".into();
    }
    let mut row = Vec::with_capacity(columns.len());
    for (i, &t) in run.times.iter().enumerate() {
        let r = run.row(i);
        row.clear();
        row.extend(columns.iter().map(|&c| r[c]));
        p.push(t, &row);
    }
    let title = a.title.clone().unwrap_or_else(|| {
        a.result.file_name().map_or_else(
            || a.result.display().to_string(),
            |f| f.to_string_lossy().into_owned(),
        )
    });
    plot::write_trajectory(&a.output, &title, &p)
}
