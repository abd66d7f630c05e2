//! `memnet reservoir`: a memristive network as a reservoir on a benchmark
//! task, scored by a ridge readout (memnet-reservoir; docs/reservoir.md).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use memnet_reservoir::{
    BiasRange, Drive, FeatureKinds, Series, Split, Target, drive, mackey_glass, memory_capacity,
    narma10_series, read_series_csv, select_and_score, sine_to_square,
};
use serde::Serialize;

use crate::error::{CliError, CliResult};
use crate::input::{InputArgs, load};

/// Drive a network with a task's input series and score a ridge readout on its states.
///
/// The input enters as b_k + GAIN m_k (u[n] - CENTRE), held for one period per input sample,
/// with a seeded random mask m_k = +-1: on a series source added to every K-th edge (--every;
/// b_k uniform in the --bias range), on the netlist's own voltage sources (--source; b_k their DC
/// value), or on ideal sources from chosen nodes to ground (--node; b_k uniform). The network
/// is integrated by RK4 (or --method euler) on memnet's sparse engine; device states (and, with --features,
/// currents R_on i and node potentials) are read at --virtual-nodes equally spaced instants of
/// each period. The readout is ridge regression on [1, u[n], features], lambda chosen on the
/// validation segment, refitted on train + validation and scored once on test (NRMSE,
/// population variance). --delays D gives the readout the snapshots of the D previous periods
/// too; --input-lags L delays the input of the j-th driven source by (j mod (L+1)) samples, so the
/// network itself mixes the last L+1 inputs. --capacity K adds Jaeger's linear memory capacity
/// up to delay K.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  memnet generate random-connected --nodes 20 --p 0.25 --ron 1 --roff 11 --alpha -0.2 --beta 2 -o r.csv
  memnet reservoir r.csv --series fixtures/narma10/narma10_seed42.csv
  memnet reservoir r.csv --task mackey-glass --virtual-nodes 5 --json
  memnet reservoir r.csv --features states,currents --capacity 100
  memnet reservoir r.csv --series fixtures/narma10/narma10_seed42.csv --bias=-1,0 --gain 0.1 --read 36 --delays 10
  memnet reservoir r.csv --series fixtures/narma10/narma10_seed42.csv --bias=-1,0 --gain 0.07 --read 36 --delays 10 --input-lags 10
  memnet reservoir deck.cir --source vin --node n3 --features potentials")]
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
    /// Drive every K-th edge (1: all). Default: 1 unless --source or --node is given.
    #[arg(long, value_name = "K")]
    pub every: Option<usize>,
    /// Drive this voltage source of the netlist (repeatable; its DC value is the bias).
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<String>,
    /// Drive this node against ground (repeatable).
    #[arg(long = "node", value_name = "NAME")]
    pub nodes: Vec<String>,
    /// Features read per snapshot: a comma-separated list of states, currents (R_on i) and
    /// potentials.
    #[arg(long, default_value = "states", value_name = "LIST")]
    pub features: String,
    /// Also report the linear memory capacity over delays 1..=K (K at most the washout, 200).
    #[arg(long, value_name = "K")]
    pub capacity: Option<usize>,
    /// Volts per unit of input.
    #[arg(long, default_value_t = 0.5)]
    pub gain: f64,
    /// Bias sources of driven edges and nodes uniform in [-BIAS, BIAS] volts, or in [LO, HI]
    /// given as LO,HI (e.g. --bias=-1,0).
    #[arg(long, default_value = "1", value_name = "BIAS|LO,HI", value_parser = BiasRange::parse, allow_hyphen_values = true)]
    pub bias: BiasRange,
    /// The input value that gives the bias alone (default: the task's mean input).
    #[arg(long)]
    pub centre: Option<f64>,
    /// Duration of one input sample.
    #[arg(long, default_value_t = 1.0)]
    pub period: f64,
    /// Fixed steps per period.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// The fixed-step integrator: rk4 (four network solves per step) or euler (one, as the
    /// published reference codes).
    #[arg(long, default_value = "rk4", value_parser = ["rk4", "euler"])]
    pub method: String,
    /// Reuse one factorisation as the preconditioner of conjugate gradients across solves
    /// (large networks; docs/engine.md).
    #[arg(long)]
    pub reuse_factorization: bool,
    /// Read only this many of a snapshot's quantities, evenly spaced (default: all).
    #[arg(long, value_name = "N")]
    pub read: Option<usize>,
    /// States read per period (time multiplexing); must divide --steps.
    #[arg(long, default_value_t = 1)]
    pub virtual_nodes: usize,
    /// Also give the readout the snapshots of the previous D periods (a delay embedding: memory
    /// in the readout, not in the network).
    #[arg(long, default_value_t = 0, value_name = "D")]
    pub delays: usize,
    /// A tapped delay line on the input side: the j-th driven input (edges in order, then
    /// --source, then --node) carries u[n - (j mod (L+1))], its bias alone before that, so the
    /// network sees the last L+1 inputs at once and its nonlinearity can mix them (0: every
    /// input carries u[n]).
    #[arg(long, default_value_t = 0, value_name = "L")]
    pub input_lags: usize,
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
    driven_sources: Vec<String>,
    driven_nodes: Vec<String>,
    feature_kinds: FeatureKinds,
    read: Option<usize>,
    delays: usize,
    input_lags: usize,
    gain: f64,
    bias: BiasRange,
    method: String,
    reuse_factorization: bool,
    features: usize,
    split: Split,
    lambda: f64,
    validation_nrmse: f64,
    test_nrmse: f64,
    validation: Vec<(f64, f64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory_capacity: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory_capacity_curve: Option<Vec<f64>>,
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
    let features = FeatureKinds::parse(&a.features).map_err(CliError::input)?;
    let mut d = Drive {
        gain: a.gain,
        centre: a.centre.unwrap_or(mean_u),
        period: a.period,
        virtual_nodes: a.virtual_nodes,
        steps_per_period: a.steps,
        features,
        delays: a.delays,
        input_lags: a.input_lags,
        method: if a.method == "euler" {
            memnet_solver::Method::Euler
        } else {
            memnet_solver::Method::Rk4
        },
        reuse_factorization: a.reuse_factorization,
        ..Drive::new()
    };
    d.set_inputs(&net, a.every, &a.sources, &a.nodes, a.bias, a.seed)
        .map_err(|e| CliError::input(format!("error: {}: {e}", a.file.display())))?;
    let devices = memnet_solver::Probes::states(&net).len();
    d.read = a
        .read
        .map(|r| Drive::evenly_spaced(d.snapshot_len(&net), r));
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
    let capacity = a
        .capacity
        .map(|k| memory_capacity(&x, &s.u[..y.len()], split, k, &grid))
        .transpose()
        .map_err(CliError::input)?;
    let report = Report {
        file: a.file.display().to_string(),
        task: a.task.clone(),
        target,
        samples: y.len(),
        devices,
        driven_edges: d.edges.len(),
        driven_sources: d.sources.iter().map(|s| s.0.clone()).collect(),
        driven_nodes: d
            .nodes
            .iter()
            .map(|n| net.node_names[n.0].clone())
            .collect(),
        feature_kinds: features,
        read: a.read,
        delays: a.delays,
        input_lags: a.input_lags,
        gain: a.gain,
        bias: a.bias,
        method: a.method.clone(),
        reuse_factorization: a.reuse_factorization,
        features: x.cols,
        split,
        lambda: score.lambda,
        validation_nrmse: score.validation_nrmse,
        test_nrmse: score.test_nrmse,
        validation: score.validation,
        memory_capacity: capacity.as_ref().map(|c| c.total),
        memory_capacity_curve: capacity.map(|c| c.curve),
        drive_time_s,
        fit_time_s: start.elapsed().as_secs_f64(),
    };
    if a.json {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| CliError::io("serialising the report", e))?;
        crate::error::print_stdout(&format!("{text}\n"))
    } else {
        let mut inputs = format!("{} driven edges", report.driven_edges);
        if !report.driven_sources.is_empty() {
            inputs += &format!(", sources {}", report.driven_sources.join(" "));
        }
        if !report.driven_nodes.is_empty() {
            inputs += &format!(", nodes {}", report.driven_nodes.join(" "));
        }
        let mut text = format!(
            "{}: {} devices, {inputs}, {} features ({}; virtual nodes {}, delayed copies {}{})\n\
             {} (target {}), {} samples: test NRMSE {:.4}, validation {:.4}, lambda {:e}\n",
            report.file,
            report.devices,
            report.features,
            a.features,
            a.virtual_nodes,
            a.delays,
            if a.input_lags > 0 {
                format!(", input lags 0..{}", a.input_lags)
            } else {
                String::new()
            },
            report.task,
            match target {
                Target::Now => "y[t]",
                Target::Next => "y[t+1]",
            },
            report.samples,
            report.test_nrmse,
            report.validation_nrmse,
            report.lambda,
        );
        if let (Some(mc), Some(curve)) = (report.memory_capacity, &report.memory_capacity_curve) {
            let head: Vec<String> = curve.iter().take(5).map(|r| format!("{r:.3}")).collect();
            text += &format!(
                "linear memory capacity {mc:.3} over delays 1..={} (r_k^2 from k = 1: {} ...)\n",
                curve.len(),
                head.join(" ")
            );
        }
        text += &format!(
            "drive {:.2} s, readout {:.2} s\n",
            report.drive_time_s, report.fit_time_s
        );
        crate::error::print_stdout(&text)
    }
}
