//! `memnet`: the command-line front end. It parses arguments, calls the
//! library crates and prints; all the work lives in the libraries.

mod analyze;
mod error;
mod export;
mod generate;
mod import;
mod input;
mod optimize;
mod plot;
mod plot_cmd;
mod plot_network;
mod reservoir;
mod resume;
mod simulate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// memnet: memristive circuit networks, from SPICE netlists to the memory equation.
///
/// memnet reads SPICE netlists (ngspice, Xyce and LTspice dialects) or graph files, builds
/// the memristive network, integrates its memory equation with a sparse solver, checks what
/// the theory says the dynamics must obey, and cross-checks against ngspice. It also puts the
/// dynamics to work: QUBO and max-cut optimisation, and reservoir computing.
#[derive(Parser, Debug)]
#[command(name = "memnet", version, about, long_about, propagate_version = true)]
#[command(after_help = "Examples:
  memnet import fixtures/spice/e4_grid.cir
  memnet simulate fixtures/spice/e4_grid.cir --t-end 1 --out e4.csv --json
  memnet analyze fixtures/spice/e4_grid.cir --lyapunov --jacobian
  memnet generate grid --rows 100 --cols 100 --seed 1 -o grid.cir
  memnet export grid.cir --to ngspice --t-end 1 -o grid_ngspice.cir
  memnet export fixtures/spice/e4_grid.cir --to dot -o e4.dot
  memnet optimize fixtures/qubo/bqp50.txt --instance 1 --best-known 2098 --polish
  memnet reservoir grid.cir --series fixtures/narma10/narma10_seed42.csv --read 400
  memnet plot e4.csv -o e4.svg")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Read a netlist or graph file and summarise what memnet found in it.
    Import(import::Args),
    /// Write a generated network (grid, random graph, ...) as a netlist or CSV edge list.
    Generate(generate::Args),
    /// Integrate the memory dynamics and write states, node voltages and source currents.
    Simulate(simulate::Args),
    /// Counts, conservation laws, symmetries, Jacobian spectra and Lyapunov functionals.
    Analyze(analyze::Args),
    /// Write the circuit as a self-contained ngspice deck, or the network as Graphviz DOT.
    Export(export::Args),
    /// Solve a QUBO, Ising or max-cut instance by memristive dynamics.
    Optimize(optimize::Args),
    /// Use a network as a reservoir on NARMA10, Mackey-Glass or sine-to-square.
    Reservoir(reservoir::Args),
    /// Draw a saved run (CSV, NPY or raw) against time, without rerunning it.
    Plot(plot_cmd::Args),
}

/// Large fresh blocks are faulted in by a second thread while this one
/// fills them (memnet-prefault: first touches dominated the system time of
/// the largest runs).
#[global_allocator]
static GLOBAL: memnet_prefault::Prefaulting = memnet_prefault::Prefaulting;

fn main() -> ExitCode {
    memnet_prefault::start();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Import(a) => import::run(a),
        Command::Generate(a) => generate::run(a),
        Command::Simulate(a) => simulate::run(a),
        Command::Analyze(a) => analyze::run(a),
        Command::Export(a) => export::run(a),
        Command::Optimize(a) => optimize::run(a),
        Command::Reservoir(a) => reservoir::run(a),
        Command::Plot(a) => plot_cmd::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", e.render());
            ExitCode::from(e.exit_code())
        }
    }
}
