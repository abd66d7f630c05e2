//! `memnet reservoir`: a memristive network as a reservoir on a benchmark
//! task, scored by a ridge readout (memnet-reservoir; docs/reservoir.md).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use memnet_reservoir::{
    EdgeDrive, Series, Split, Target, drive, mackey_glass, narma10_series, read_series_csv,
    select_and_score, sine_to_square,
};
use serde::Serialize;

use crate::error::{CliError, CliResult};
use crate::input::{InputArgs, load};

/// Drive a network with a task's input series and score a ridge readout on its device states.
///
/// Every driven edge carries a series source b_k + GAIN m_k (u[n] - CENTRE), held for one
/// period per input sample, with a seeded random mask m_k = +-1 and bias b_k uniform in
/// [-BIAS, BIAS]. The network is integrated by RK4 on memnet's sparse engine; the states of
/// all devices are read at --virtual-nodes equally spaced instants of each period. The
/// readout is ridge regression on [1, u[n], states], lambda chosen on the validation segment,
/// refitted on train + validation and scored once on test (NRMSE, population variance).
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  memnet generate random-connected --nodes 20 --p 0.25 --ron 1 --roff 11 --alpha -0.2 --beta 2 -o r.csv
  memnet reservoir r.csv --series fixtures/narma10/narma10_seed42.csv
  memnet reservoir r.csv --task mackey-glass --virtual-nodes 5 --json")]
pub struct Args {
    /// The reservoir: a netlist or graph file (.csv, .mtx).
    pub file: PathBuf,
    /// Task: narma10, mackey-glass or sine-square.
    #[arg(long, default_value = "narma10", value_parser = ["narma10", "mackey-glass", "sine-square"])]
    pub task: String,
    /// The task's series as a `t,u,y` CSV (e.g. fixtures/narma10/narma10_seed42.csv); default:
    /// generated (NARMA10 from a seeded uniform input).
    #[arg(long, value_name = "CSV")]
    pub series: Option<PathBuf>,
    /// NARMA10 target convention: now (y[t]) or next (y[t+1]).
    #[arg(long, default_value = "now", value_parser = ["now", "next"])]
    pub target: String,
    /// Drive every K-th edge (1: all).
    #[arg(long, default_value_t = 1, value_name = "K")]
    pub every: usize,
    /// Volts per unit of input.
    #[arg(long, default_value_t = 0.5)]
    pub gain: f64,
    /// Bias sources uniform in [-BIAS, BIAS] volts.
    #[arg(long, default_value_t = 1.0)]
    pub bias: f64,
    /// The input value that gives the bias alone (default: the task's mean input).
    #[arg(long)]
    pub centre: Option<f64>,
    /// Duration of one input sample.
    #[arg(long, default_value_t = 1.0)]
    pub period: f64,
    /// RK4 steps per period.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Read only this many device states, evenly spaced (default: all).
    #[arg(long, value_name = "N")]
    pub read: Option<usize>,
    /// States read per period (time multiplexing); must divide --steps.
    #[arg(long, default_value_t = 1)]
    pub virtual_nodes: usize,
    /// Seed of the mask, the biases and a generated series.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Serialize)]
struct Report {
    file: String,
    task: String,
    target: Target,
    samples: usize,
    devices: usize,
    driven_edges: usize,
    features: usize,
    split: Split,
    lambda: f64,
    validation_nrmse: f64,
    test_nrmse: f64,
    validation: Vec<(f64, f64)>,
    drive_time_s: f64,
    fit_time_s: f64,
}

fn series(a: &Args) -> CliResult<(Series, Split, f64)> {
    if let Some(path) = &a.series {
        let s = read_series_csv(path).map_err(CliError::input)?;
        let split = match a.task.as_str() {
            "mackey-glass" => Split::MACKEY_GLASS,
            "sine-square" => Split::SINE_TO_SQUARE,
            _ => Split::NARMA10,
        };
        return Ok((s, split, 0.25));
    }
    Ok(match a.task.as_str() {
        "mackey-glass" => (mackey_glass(4201), Split::MACKEY_GLASS, 0.0),
        "sine-square" => (sine_to_square(3201), Split::SINE_TO_SQUARE, 0.0),
        _ => (narma10_series(5201, a.seed), Split::NARMA10, 0.25),
    })
}

pub fn run(a: Args) -> CliResult {
    let loaded = load(&a.file, &a.input)?;
    loaded.show_warnings();
    let net = loaded.into_network()?;
    let (s, split, mean_u) = series(&a)?;
    let target = if a.target == "next" {
        Target::Next
    } else {
        Target::Now
    };
    let y = s.targets(target);
    if y.len() < split.test_end {
        return Err(CliError::input(format!(
            "{}: the series has {} usable samples, the split needs {}",
            a.series
                .as_ref()
                .map_or("the series".into(), |p| p.display().to_string()),
            y.len(),
            split.test_end
        )));
    }
    if a.every == 0 {
        return Err(CliError::input("--every must be at least 1"));
    }
    let devices = memnet_solver::Probes::states(&net).len();
    let edges = EdgeDrive::seeded_edges(net.edges.len(), a.every, a.bias, a.seed);
    let d = EdgeDrive {
        edges,
        gain: a.gain,
        centre: a.centre.unwrap_or(mean_u),
        period: a.period,
        virtual_nodes: a.virtual_nodes,
        steps_per_period: a.steps,
        read: a.read.map(|r| EdgeDrive::evenly_spaced(devices, r)),
    };
    let start = Instant::now();
    let periods = y.len() as f64 * a.period;
    // A bar on a terminal only; piped output stays quiet.
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(1000);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% of the input, eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let x = drive(&net, &d, &s.u[..y.len()], &mut |t| {
        if let Some(b) = &bar {
            b.set_position((t / periods * 1000.0) as u64);
        }
        std::ops::ControlFlow::Continue(())
    })
    .map_err(|e| CliError::input(format!("error: {}: {e}", a.file.display())))?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let drive_time_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let grid = [1e-11, 1e-9, 1e-7, 1e-5, 1e-3, 1e-1, 1.0];
    let score = select_and_score(&x, &y, split, &grid);
    let report = Report {
        file: a.file.display().to_string(),
        task: a.task.clone(),
        target,
        samples: y.len(),
        devices,
        driven_edges: d.edges.len(),
        features: x.cols,
        split,
        lambda: score.lambda,
        validation_nrmse: score.validation_nrmse,
        test_nrmse: score.test_nrmse,
        validation: score.validation,
        drive_time_s,
        fit_time_s: start.elapsed().as_secs_f64(),
    };
    if a.json {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| CliError::io("serialising the report", e))?;
        crate::error::print_stdout(&format!("{text}\n"))
    } else {
        crate::error::print_stdout(&format!(
            "{}: {} devices, {} driven edges, {} features ({} virtual nodes)\n\
             {} (target {}), {} samples: test NRMSE {:.4}, validation {:.4}, lambda {:e}\n\
             drive {:.2} s, readout {:.2} s\n",
            report.file,
            report.devices,
            report.driven_edges,
            report.features,
            a.virtual_nodes,
            report.task,
            match target {
                Target::Now => "y[t]",
                Target::Next => "y[t+1]",
            },
            report.samples,
            report.test_nrmse,
            report.validation_nrmse,
            report.lambda,
            report.drive_time_s,
            report.fit_time_s
        ))
    }
}
