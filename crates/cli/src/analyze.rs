//! `memnet analyze`: what the theory says this circuit's dynamics obey,
//! each statement verified on a simulation.

use std::path::PathBuf;

use memnet_analysis::{AnalysisReport, AnalyzeOptions, analyze, render_text};
use serde::Serialize;

use crate::error::{CliError, CliResult};
use crate::input::{InputArgs, load};
use crate::plot;

/// Counts, conservation laws, flux law, symmetries, Jacobian spectra and Lyapunov functionals.
///
/// memnet simulates the circuit on [0, t_end] (stopping where a device
/// reaches a bound of [0,1], since the exact laws hold only inside) and
/// checks each result of the theory on that window. Every result carries a
/// verdict: it holds (with the residual), it is violated (with the
/// residual), or it does not apply to this circuit (with the reason, e.g.
/// alpha != 0 for a law that needs alpha = 0). See docs/analysis.md.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Netlist or graph file (.csv, .mtx).
    pub file: PathBuf,
    /// End of the verified window. Default: the `.tran` stop time, else 1.
    #[arg(long, value_name = "T")]
    pub t_end: Option<f64>,
    /// Jacobian spectra, the reality theorems J1/J2 and the fixed-point spectrum.
    #[arg(long)]
    pub jacobian: bool,
    /// Check each symmetry by transforming the circuit and simulating both.
    #[arg(long)]
    pub symmetries: bool,
    /// Lyapunov functionals along the trajectory, with a monotonicity verdict.
    #[arg(long)]
    pub lyapunov: bool,
    /// Plot the Lyapunov functionals against time and the Jacobian spectrum (.svg or .png).
    #[arg(long, value_name = "PATH")]
    pub plot: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Serialize)]
struct Json<'a> {
    file: String,
    nodes: usize,
    edges: usize,
    components: usize,
    cycles: usize,
    effective_memory: usize,
    conserved_quantities: usize,
    #[serde(flatten)]
    report: &'a AnalysisReport,
}

pub fn run(a: Args) -> CliResult {
    let loaded = load(&a.file, &a.input)?;
    loaded.show_warnings();
    let net = loaded.into_network()?;
    let t_end = a.t_end.or(net.tran.map(|t| t.tstop)).unwrap_or(1.0);
    let opts = AnalyzeOptions {
        t_end,
        jacobian: a.jacobian,
        symmetries: a.symmetries,
        // The plot shows the functionals, so asking for it computes them.
        lyapunov: a.lyapunov || a.plot.is_some(),
    };
    let report = analyze(&net, &opts).map_err(|e| CliError::input(format!("error: {e}")))?;
    if let Some(path) = &a.plot {
        plot::write_analysis(path, &report)?;
    }
    if a.json {
        let c = &report.counts;
        let json = Json {
            file: a.file.display().to_string(),
            nodes: c.nodes,
            edges: c.edges,
            components: c.components,
            cycles: c.cycles,
            effective_memory: c.effective_memory,
            conserved_quantities: c.conserved,
            report: &report,
        };
        let text = serde_json::to_string_pretty(&json)
            .map_err(|e| CliError::io("serialising the report", e))?;
        crate::error::print_stdout(&format!("{text}\n"))?;
    } else {
        crate::error::print_stdout(&render_text(&report))?;
    }
    Ok(())
}
