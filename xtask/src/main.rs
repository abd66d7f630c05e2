//! Project automation, in Rust rather than shell (`cargo xtask <task>`).
//!
//! - `ngspice-check [--bless] [--case NAME]`: run real ngspice on every
//!   cross-check case, compare with memnet, print a table, fail on any
//!   disagreement; `--bless` rewrites the pinned ngspice outputs.
//! - `bench-ngspice`: wall time and error of ngspice and memnet on the same
//!   generated grid decks, side by side in one run.
//! - `bench-user-grid`: ngspice and memnet on a grid of users' behavioural
//!   memristor subcircuits, run as written, side by side.
//! - `bench`: the 1000x1000 grid end to end (time, peak memory) and the
//!   solver's measurements (evaluation cost ratio, scaling, crossover).
//! - `bench-optimize`: `memnet optimize` against simulated annealing
//!   (dwave-samplers in a venv) on the OR-Library and Gset instances.
//! - `bench-reservoir`: memnet reservoirs against echo-state networks
//!   (reservoirpy in the same venv) on NARMA10.
//! - `bench-scale`: the 10M-memristor grid (and optionally 20M): import
//!   memory against file size, `exact` and RK4 runs against the targets.

mod bench;
mod maxcut_scale;
mod optimize_bench;
mod perf;
mod reservoir_bench;
mod scale;
mod user_grid;
mod venv;

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use memnet_crosscheck::{
    Case, case_trajectory, cases, compare_case, memnet_trajectory, pinned_path, repo_root,
    run_ngspice,
};

#[derive(Parser)]
#[command(name = "xtask", about = "memnet project automation")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run real ngspice on the cross-check cases and compare with memnet.
    NgspiceCheck {
        /// Rewrite the pinned ngspice outputs under fixtures/ngspice/.
        #[arg(long)]
        bless: bool,
        /// Only this case.
        #[arg(long)]
        case: Option<String>,
    },
    /// The big-grid end-to-end figures and the solver measurements (release build).
    Bench {
        /// Grid side length.
        #[arg(long, default_value_t = 1000)]
        rows: usize,
    },
    /// Time ngspice and memnet on a grid of behavioural memristor subcircuits, as written.
    BenchUserGrid {
        /// Grid side length (nodes).
        #[arg(long, default_value_t = 40)]
        rows: usize,
        /// The devices' subcircuit.
        #[arg(long, value_enum, default_value_t = user_grid::Body::Biolek)]
        body: user_grid::Body,
    },
    /// memnet optimize against simulated annealing (dwave-samplers) on bqp and Gset instances.
    BenchOptimize(optimize_bench::Settings),
    /// memnet optimize against SA at the same wall-clock budget on a seeded 3-regular max-cut
    /// instance of 10^5 nodes (target A-T3).
    BenchMaxcutScale(maxcut_scale::Settings),
    /// memnet reservoirs against echo-state networks (reservoirpy) on the NARMA10 fixture.
    BenchReservoir {
        /// How many of the memnet sizes to run (1-4: about 60, 140, 350, 10 000 memristors).
        #[arg(long, default_value_t = 3)]
        largest: usize,
        /// ESN sizes (tanh units).
        #[arg(long, default_value = "50,100,200,400")]
        esn_sizes: String,
        /// Also run the delay design, without and with input lags, on an N x N grid of
        /// memristors driven by explicit Euler with a reused factorisation (72: 10 224
        /// memristors, apps.md B-T3; about 3 minutes).
        #[arg(long, value_name = "N")]
        delay_grid: Option<usize>,
    },
    /// The 10M-memristor grid runs (time, solver time, peak memory) against the scale targets.
    BenchScale(scale::Settings),
    /// Time ngspice and memnet on the same generated grid decks (release build).
    BenchNgspice {
        /// Grid sizes (side length).
        #[arg(long, value_delimiter = ',', default_values_t = vec![10, 20, 40, 60])]
        sizes: Vec<usize>,
        /// Repetitions of each timing (the minimum is reported).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::NgspiceCheck { bless, case } => ngspice_check(bless, case.as_deref()),
        Task::BenchNgspice { sizes, repeat } => bench::bench_ngspice(&sizes, repeat),
        Task::Bench { rows } => perf::bench(rows),
        Task::BenchUserGrid { rows, body } => user_grid::bench_user_grid(rows, body),
        Task::BenchReservoir {
            largest,
            esn_sizes,
            delay_grid,
        } => reservoir_bench::bench_reservoir(largest, &esn_sizes, delay_grid),
        Task::BenchOptimize(settings) => optimize_bench::bench_optimize(&settings),
        Task::BenchMaxcutScale(settings) => maxcut_scale::bench_maxcut_scale(&settings),
        Task::BenchScale(settings) => scale::bench_scale(&settings),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn ngspice_check(bless: bool, only: Option<&str>) -> Result<()> {
    let root = repo_root();
    let work = root.join("target/ngspice-check");
    let selected: Vec<Case> = cases()
        .into_iter()
        .filter(|c| only.is_none_or(|n| n == c.name))
        .collect();
    if selected.is_empty() {
        bail!("no case named {only:?}");
    }
    println!(
        "{:<20} {:>7} {:>9} {:>10} {:>10} {:>12} {:>9}  verdict",
        "case", "devices", "times", "ngspice s", "memnet s", "max |diff|", "ratio"
    );
    let mut failures = Vec::new();
    for case in &selected {
        let (raw, ng_time) = run_ngspice(&root, case, &work)?;
        let ngspice = case_trajectory(case, &raw)?;
        let (memnet, mn_time) = memnet_trajectory(&root, case)?;
        let report = compare_case(case, &ngspice, &memnet)?;
        println!(
            "{:<20} {:>7} {:>9} {:>10.3} {:>10.3} {:>12.3e} {:>9.3}  {}",
            case.name,
            report.devices_compared,
            report.times_compared,
            ng_time.as_secs_f64(),
            mn_time.as_secs_f64(),
            report.max_abs_error,
            report.max_ratio,
            if report.pass { "agrees" } else { "DISAGREES" }
        );
        if !report.pass || report.devices_compared == 0 {
            failures.push(format!("{}:\n{}", case.name, report.render()));
        }
        // Pinned output drift: a different ngspice may move by its own error.
        let pinned = pinned_path(&root, case);
        if bless {
            copy(&raw, &pinned)?;
        } else if pinned.exists() {
            let old = case_trajectory(case, &pinned)?;
            let drift = compare_case(case, &old, &ngspice)?;
            if !drift.pass {
                println!(
                    "  note: this ngspice differs from the pinned output by {:.3e}",
                    drift.max_abs_error
                );
            }
        } else {
            println!(
                "  note: no pinned output yet ({}); run with --bless",
                pinned.display()
            );
        }
    }
    if bless {
        println!("pinned ngspice outputs written to fixtures/ngspice/");
    }
    if !failures.is_empty() {
        bail!(
            "{} case(s) disagree with ngspice:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
    println!("all {} cases agree with ngspice", selected.len());
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}
