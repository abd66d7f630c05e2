//! Reading what the user points memnet at: a SPICE netlist or a graph file
//! (`.csv` edge list, `.mtx` Matrix Market), chosen by extension.

use std::path::Path;

use memnet_graph::{
    DeviceDefaults, Network, NetworkBuilder, NetworkError, is_graph_file, read_graph_file,
};
use memnet_spice::{Circuit, ElementSink, ImportOptions, OptionStyle, Warning, group_warnings};

use crate::error::{CliError, CliResult};

/// Options shared by every command that reads a circuit.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct InputArgs {
    /// Treat instances of this user subcircuit as memnet memristors (repeatable).
    #[arg(long = "memristor-subckt", value_name = "NAME")]
    pub memristor_subckt: Vec<String>,
    /// Map memnet's parameter names onto the subcircuit's, e.g. `ron=RMIN,roff=RMAX,w0=X0`.
    /// The n-th `--param` belongs to the n-th `--memristor-subckt`.
    #[arg(long = "param", value_name = "MAP")]
    pub param: Vec<String>,
}

impl InputArgs {
    pub fn import_options(&self) -> CliResult<ImportOptions> {
        ImportOptions::with_memristor_subckts(
            &self.memristor_subckt,
            &self.param,
            OptionStyle::Flag,
        )
        .map_err(CliError::input)
    }
}

/// A loaded input: the flat circuit (netlists only; without its elements
/// unless [`load_whole`] read it) and the network built from it, or why
/// the network could not be built.
pub struct Loaded {
    pub circuit: Option<Circuit>,
    pub network: Result<Network, NetworkError>,
}

impl Loaded {
    /// The network, or the error that prevents simulation, rendered.
    pub fn into_network(self) -> CliResult<Network> {
        self.network.map_err(network_error)
    }
}

pub fn network_error(e: NetworkError) -> CliError {
    CliError::input(e.render())
}

/// How many warnings of one kind are shown in full before the rest are
/// counted: enough to locate the pattern, few enough to read.
const WARNINGS_SHOWN_PER_KIND: usize = 3;

/// Warnings grouped by kind: the first few of each kind in full
/// (`FILE:LINE:COL: warning: ...`), then one line counting the rest.
pub fn render_warnings(warnings: &[Warning]) -> String {
    let mut s = String::new();
    for g in group_warnings(warnings) {
        for w in g.warnings.iter().take(WARNINGS_SHOWN_PER_KIND) {
            s.push_str(&format!("{}: warning: {}\n", w.loc, w.message));
        }
        let rest = g.warnings.len().saturating_sub(WARNINGS_SHOWN_PER_KIND);
        if rest > 0 {
            s.push_str(&format!(
                "warning: {rest} more of this kind ({}), {} in all\n",
                g.kind,
                g.warnings.len()
            ));
        }
    }
    s
}

impl Loaded {
    /// Shows the netlist's warnings on stderr (grouped), for the commands
    /// whose stdout is not a report of the netlist.
    pub fn show_warnings(&self) {
        if let Some(c) = &self.circuit {
            eprint!("{}", render_warnings(&c.warnings));
        }
    }
}

/// Reads `path`. A netlist that cannot be parsed is an error; one that
/// parses but cannot become a network is returned with the reason.
///
/// A netlist's elements go straight into the network as they are
/// elaborated: the circuit returned has none (its title, analyses,
/// models, output cards and warnings are there). A netlist of ten million
/// devices is then never held twice.
pub fn load(path: &Path, args: &InputArgs) -> CliResult<Loaded> {
    if is_graph_file(path) {
        return load_whole(path, args);
    }
    let mut builder = NetworkBuilder::default();
    let circuit = load_netlist_into(path, args, &mut builder)?;
    let network = builder.finish(&circuit);
    Ok(Loaded {
        circuit: Some(circuit),
        network,
    })
}

/// Parses and elaborates netlist `path`, handing its elements to `sink`.
pub fn load_netlist_into(
    path: &Path,
    args: &InputArgs,
    sink: &mut dyn ElementSink,
) -> CliResult<Circuit> {
    let opts = args.import_options()?;
    Ok(memnet_spice::import_file_into(path, &opts, sink)?)
}

/// [`load`] keeping the flat circuit's elements (for the commands that
/// write the circuit out).
pub fn load_whole(path: &Path, args: &InputArgs) -> CliResult<Loaded> {
    if is_graph_file(path) {
        let network = match read_graph_file(path, &DeviceDefaults::default()) {
            Err(e @ NetworkError::Io { .. }) => return Err(network_error(e)),
            other => other,
        };
        return Ok(Loaded {
            circuit: None,
            network,
        });
    }
    let opts = args.import_options()?;
    let circuit = memnet_spice::import_file(path, &opts)?;
    let network = Network::from_circuit(&circuit);
    Ok(Loaded {
        circuit: Some(circuit),
        network,
    })
}
