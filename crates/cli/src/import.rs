//! `memnet import`: what is in this netlist, and can memnet simulate it?

use std::collections::BTreeMap;
use std::path::PathBuf;

use memnet_graph::{NetworkBuilder, Summary, is_graph_file};
use memnet_spice::{Analysis, Circuit, Element, ElementKind, ElementSink, Loc, Warning};
use serde::Serialize;

use crate::error::{CliError, CliResult};
use crate::input::{InputArgs, load, load_netlist_into, render_warnings};

/// Read a netlist or graph file and summarise it.
///
/// Prints the title, element counts by kind, memristors (and which of them
/// memnet can simulate), nodes, analyses, warnings, and the network memnet
/// builds from the circuit: nodes (including ground, after folding series
/// sources), edges, connected components and independent cycles. A circuit
/// that parses but cannot be simulated (a capacitor, a device model memnet
/// does not integrate) is still summarised; the reason is a warning and the
/// exit status is 0. Syntax errors exit with status 2.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Netlist (.cir, .sp, .net, ...) or graph file (.csv, .mtx).
    pub file: PathBuf,
    /// Print a JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Serialize)]
struct Located {
    name: String,
    kind: String,
    file: String,
    line: u32,
}

#[derive(Serialize)]
struct Report {
    file: String,
    title: String,
    /// Element counts by kind.
    elements: BTreeMap<&'static str, usize>,
    memristors: usize,
    /// Diodes and stateless selectors memnet compiles as static devices.
    static_devices: usize,
    resistors: usize,
    voltage_sources: usize,
    current_sources: usize,
    /// Memristors whose model memnet imports but cannot integrate.
    unsimulable_memristors: Vec<Located>,
    unsupported: Vec<Located>,
    /// Distinct netlist nodes including ground (before folding).
    netlist_nodes: usize,
    analyses: Vec<String>,
    /// Every warning, one line each.
    warnings: Vec<String>,
    /// The warnings grouped by kind, as the text report shows them.
    #[serde(skip)]
    warnings_text: String,
    /// Network counts; `null` when the network cannot be built.
    nodes: Option<usize>,
    edges: Option<usize>,
    components: Option<usize>,
    cycles: Option<usize>,
    network: Option<Summary>,
    /// Why the circuit cannot be simulated, if it cannot.
    network_error: Option<String>,
}

pub fn run(args: Args) -> CliResult {
    let from_graph = is_graph_file(&args.file);
    let (mut report, network) = if from_graph {
        let loaded = load(&args.file, &args.input)?;
        (graph_report(), loaded.network)
    } else {
        // The elements stream past: counted here, kept by the network
        // builder as edges, never held as a whole flat circuit.
        let mut builder = NetworkBuilder::default();
        let mut census = Census {
            report: graph_report(),
            builder: &mut builder,
        };
        let circuit = load_netlist_into(&args.file, &args.input, &mut census)?;
        let report = census.report;
        let report = circuit_report(report, &circuit, &builder);
        (report, builder.finish(&circuit))
    };
    report.file = args.file.display().to_string();
    match &network {
        Ok(net) => {
            let s = net.summary();
            if from_graph {
                report.title = net.title.clone();
                report.memristors = s.memristors;
                report.resistors = s.resistors;
                report.netlist_nodes = s.nodes;
            }
            report.nodes = Some(s.nodes);
            report.edges = Some(s.edges);
            report.components = Some(s.components);
            report.cycles = Some(s.cycles);
            report.network = Some(s);
        }
        Err(e) => {
            let msg = e.render();
            let line = format!("warning: the circuit cannot be simulated:\n{msg}");
            report.warnings_text.push_str(&line);
            report.warnings_text.push('\n');
            report.warnings.push(line);
            report.network_error = Some(msg);
        }
    }
    if args.json {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| CliError::io("serialising the report", e))?;
        crate::error::print_stdout(&format!("{text}\n"))?;
    } else {
        crate::error::print_stdout(&render_text(&report))?;
    }
    Ok(())
}

fn graph_report() -> Report {
    Report {
        file: String::new(),
        title: String::new(),
        elements: BTreeMap::new(),
        memristors: 0,
        static_devices: 0,
        resistors: 0,
        voltage_sources: 0,
        current_sources: 0,
        unsimulable_memristors: Vec::new(),
        unsupported: Vec::new(),
        netlist_nodes: 0,
        analyses: Vec::new(),
        warnings: Vec::new(),
        warnings_text: String::new(),
        nodes: None,
        edges: None,
        components: None,
        cycles: None,
        network: None,
        network_error: None,
    }
}

/// The per-element part of the report, tallied as each element passes on
/// to the network builder.
struct Census<'b> {
    report: Report,
    builder: &'b mut NetworkBuilder,
}

impl ElementSink for Census<'_> {
    fn element(&mut self, e: Element) {
        let r = &mut self.report;
        let kind = if e.kind.is_static_device() {
            "static_device"
        } else {
            e.kind_name()
        };
        *r.elements.entry(kind).or_default() += 1;
        let located = || Located {
            name: e.name.clone(),
            kind: match &e.kind {
                ElementKind::Unsupported { what, .. } => what.clone(),
                k => k.name().to_string(),
            },
            file: e.loc.file.to_string(),
            line: e.loc.line,
        };
        match &e.kind {
            ElementKind::Resistor { .. } => r.resistors += 1,
            ElementKind::VoltageSource(_) => r.voltage_sources += 1,
            ElementKind::CurrentSource(_) => r.current_sources += 1,
            k if k.is_static_device() => r.static_devices += 1,
            ElementKind::Memristor(m) => {
                r.memristors += 1;
                if m.law.is_none() && memnet_graph::native_law(m).is_none() {
                    r.unsimulable_memristors.push(located());
                }
            }
            ElementKind::Unsupported { .. } => r.unsupported.push(located()),
            _ => {}
        }
        self.builder.element(e);
    }

    fn name_at(&self, index: usize) -> Option<(&str, &Loc)> {
        self.builder.name_at(index)
    }

    fn expect(&mut self, elements: usize) {
        self.builder.expect(elements);
    }
}

/// The rest of the report once every element has passed: nodes (the
/// builder counted every terminal), analyses and warnings.
fn circuit_report(mut r: Report, c: &Circuit, nodes: &NetworkBuilder) -> Report {
    r.title = c.title.clone();
    r.netlist_nodes = nodes.node_uses().count();
    r.analyses = c.analyses.iter().map(analysis_text).collect();
    let mut warnings = c.warnings.clone();
    // SPICE simulators warn about a node with fewer than two connections:
    // nothing can flow through it. memnet simulates it (the device carries
    // no current) but says so, in netlist order.
    let mut dangling: Vec<(usize, &str)> = nodes
        .node_uses()
        .filter(|&(n, count, _)| count < 2 && n != memnet_spice::GROUND)
        .map(|(n, _, first)| (first, n))
        .collect();
    dangling.sort_unstable();
    for (i, n) in dangling {
        let Some((name, loc)) = nodes.name_at(i) else {
            continue;
        };
        warnings.push(Warning::new(
            "node with one connection",
            loc.clone(),
            format!("node `{n}` has only one connection (`{name}`): no current flows through it"),
        ));
    }
    r.warnings_text = render_warnings(&warnings);
    r.warnings = warnings
        .iter()
        .map(|w| format!("{}: warning: {}", w.loc, w.message))
        .collect();
    r
}

fn analysis_text(a: &Analysis) -> String {
    match a {
        Analysis::Tran {
            tstep,
            tstop,
            tstart,
            uic,
            ..
        } => {
            let mut s = format!(".tran {tstep} {tstop}");
            if *tstart != 0.0 {
                s.push_str(&format!(" {tstart}"));
            }
            if *uic {
                s.push_str(" uic");
            }
            s
        }
        Analysis::Op { .. } => ".op".into(),
        Analysis::Dc { text, .. } => format!(".dc {text}"),
        Analysis::Ac { text, .. } => format!(".ac {text}"),
    }
}

fn render_text(r: &Report) -> String {
    let mut s = String::new();
    s.push_str(&format!("file:        {}\n", r.file));
    s.push_str(&format!("title:       {}\n", r.title));
    if !r.elements.is_empty() {
        let kinds: Vec<String> = r.elements.iter().map(|(k, n)| format!("{n} {k}")).collect();
        s.push_str(&format!("elements:    {}\n", kinds.join(", ")));
    }
    s.push_str(&format!("memristors:  {}", r.memristors));
    if !r.unsimulable_memristors.is_empty() {
        s.push_str(&format!(
            " ({} imported only, not simulable)",
            r.unsimulable_memristors.len()
        ));
    }
    s.push('\n');
    if r.static_devices > 0 {
        s.push_str(&format!(
            "static devices: {} (diodes and selectors without state)\n",
            r.static_devices
        ));
    }
    s.push_str(&format!("netlist nodes: {}\n", r.netlist_nodes));
    if !r.analyses.is_empty() {
        s.push_str(&format!("analyses:    {}\n", r.analyses.join("; ")));
    }
    if let Some(net) = &r.network {
        s.push_str(&format!(
            "network:     {} nodes, {} edges ({} memristors, {} resistors), {} components, {} independent cycles\n",
            net.nodes, net.edges, net.memristors, net.resistors, net.components, net.cycles
        ));
        s.push_str(&format!(
            "             {} series sources folded, {} current sources, {} voltage constraints\n",
            net.folded_sources, net.injections, net.constraints
        ));
    }
    for u in &r.unsupported {
        s.push_str(&format!(
            "unsupported: {} ({}) at {}:{}\n",
            u.name, u.kind, u.file, u.line
        ));
    }
    for u in &r.unsimulable_memristors {
        s.push_str(&format!(
            "not simulable: {} ({}) at {}:{}\n",
            u.name, u.kind, u.file, u.line
        ));
    }
    s.push_str(&r.warnings_text);
    s
}
