//! `memnet export`: the same circuit as a self-contained ngspice deck, or
//! the network as a Graphviz graph.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::ValueEnum;
use memnet_solver::device::ngspice::NgspiceBodies;
use memnet_spice::export::{DeckOptions, write_ngspice_deck_with};

use crate::error::{CliError, CliResult};
use crate::input::{InputArgs, load_whole};

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// ngspice 39 or later (`ngspice -b OUT.cir`)
    Ngspice,
    /// Graphviz DOT (`dot -Tsvg OUT.dot -o net.svg`): edges labelled with
    /// device names, memristors coloured by w(0) (red 0 .. blue 1),
    /// resistors grey and dashed
    Dot,
}

/// Write the circuit as a self-contained ngspice deck, or the network as
/// a Graphviz graph (`--to dot`).
///
/// The deck holds the canonical memristor subcircuit body, every element,
/// each memristor's initial state as the `IC=` of its state capacitor (run
/// with `uic`), accuracy options, and a `.control` block that runs `tran`,
/// writes the states v(<instance>.w) to a raw file and quits. Run it with
/// `ngspice -b OUT.cir`; the raw file path is relative to where ngspice runs.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Netlist or graph file (.csv, .mtx).
    pub file: PathBuf,
    /// Simulator dialect of the deck.
    #[arg(long, value_enum, default_value_t = Target::Ngspice)]
    pub to: Target,
    /// The file to write (a deck, or a `.dot` graph with `--to dot`).
    #[arg(short, long, value_name = "OUT")]
    pub out: PathBuf,
    /// Stop time. Default: the netlist's `.tran` stop time.
    #[arg(long, value_name = "T")]
    pub t_end: Option<f64>,
    /// Output (print) step of `tran`. Default: the `.tran` step, else t_end/100.
    #[arg(long, value_name = "S")]
    pub sample_dt: Option<f64>,
    /// Maximum internal time step of ngspice (sets its accuracy). Default: the sample step.
    #[arg(long, value_name = "H")]
    pub max_step: Option<f64>,
    /// Raw file the deck writes. Default: OUT with extension `.raw`.
    #[arg(long, value_name = "PATH")]
    pub raw: Option<String>,
    /// Write an ASCII raw file instead of binary.
    #[arg(long)]
    pub ascii: bool,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(a: Args) -> CliResult {
    let loaded = load_whole(&a.file, &a.input)?;
    loaded.show_warnings();
    if a.to == Target::Dot {
        let net = loaded.network.map_err(crate::input::network_error)?;
        return std::fs::write(&a.out, net.to_dot()).map_err(|e| CliError::io(a.out.display(), e));
    }
    let circuit = match loaded.circuit {
        Some(c) => c,
        None => loaded
            .network
            .map_err(crate::input::network_error)?
            .to_circuit(),
    };
    let opts = DeckOptions {
        ascii: a.ascii,
        ..DeckOptions::for_circuit(
            &circuit,
            &a.out,
            a.t_end,
            a.sample_dt,
            a.max_step,
            a.raw.clone(),
            memnet_spice::OptionStyle::Flag,
        )
        .map_err(CliError::input)?
    };
    let file = File::create(&a.out).map_err(|e| CliError::io(a.out.display(), e))?;
    let mut w = BufWriter::new(file);
    write_ngspice_deck_with(&circuit, &opts, &NgspiceBodies, &mut w).map_err(|e| match e {
        memnet_spice::export::ExportError::Io(io) => CliError::io(a.out.display(), io),
        other => CliError::input(format!("error: {other}")),
    })?;
    w.flush().map_err(|e| CliError::io(a.out.display(), e))
}
