//! `memnet simulate`: integrate the memory equation and write w(t).

use std::fs::File;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use memnet_graph::{CompactString, Network};
use memnet_solver::{
    Bounds, CsvSink, ErrorNorm, Method, MethodChoice, NpySink, Ordering, Probes, RunRequest,
    SampleSink, SimOptions, SimReport, memristor_names, read_saved_run, resume_point,
    simulate_from,
};
use memnet_spice::Circuit;
use memnet_spice::raw::RawWriter;
use serde::{Deserialize, Serialize};

use crate::error::{CliError, CliResult};
use crate::input::{InputArgs, load};
use crate::plot::{self, TrajectoryPlot};
use crate::resume::RunRecord;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MethodArg {
    /// dopri5 when the network holds a device of any law but memnet's
    /// linear law (users' subcircuits, Xyce and XSPICE devices, laws chosen
    /// by .model): their switches and fast excursions need a controlled
    /// step, as SPICE's. rk4 otherwise. --dt alone selects rk4; --rtol,
    /// --atol or --locate-switches select dopri5
    Auto,
    /// explicit Euler with fixed step --dt (what published reference codes use)
    Euler,
    /// classical Runge-Kutta 4 with fixed step --dt
    Rk4,
    /// adaptive Dormand-Prince 5(4) with --rtol/--atol
    Dopri5,
    /// adaptive Rosenbrock-W (ROS34PW2, linearly implicit, order 3) with
    /// --rtol/--atol: for stiff laws (TEAM/VTEAM with Kvatinsky's window,
    /// MMSS with a short tau), where dopri5's steps are held down by
    /// stability rather than accuracy (docs/engine.md, "Stiff laws")
    Rosenbrock,
    /// integrated Kirchhoff laws, no time stepping (alpha = 0 only)
    Exact,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorNormArg {
    /// root mean square of the weighted errors (Hairer's DOPRI5)
    Rms,
    /// the largest weighted error
    Max,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BoundsArg {
    /// clip w to [0,1] after each step
    Clip,
    /// a device at a bound stays there while the law pushes it outwards
    Sticky,
}

#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderingArg {
    /// AMD, or nested dissection on a network of 50 000 unknowns or more
    /// when its fill is at most 1.25x AMD's (grids: faster)
    #[default]
    Auto,
    /// approximate minimum degree (faer)
    Amd,
    /// level-set nested dissection
    Nd,
    /// METIS 5's multilevel nested dissection
    Metis,
}

/// How to integrate: shared by `simulate` and anything else that runs the solver.
#[derive(clap::Args, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepArgs {
    /// End time, a SPICE number (`10n`, `2.5ms`, `1e-3`). Default: the stop
    /// time of the netlist's `.tran`.
    #[arg(long, value_name = "T", value_parser = spice_number)]
    pub t_end: Option<f64>,
    /// Integration method.
    #[arg(long, value_enum, default_value_t = MethodArg::Auto)]
    pub method: MethodArg,
    /// Step of euler/rk4 (first step of dopri5). Default: t_end/1000. Steps
    /// are shortened only to land on source corners and t_end; samples in
    /// between are interpolated (docs/engine.md).
    #[arg(long, value_name = "DT", value_parser = spice_number)]
    pub dt: Option<f64>,
    /// Relative tolerance of dopri5 and rosenbrock (default 1e-8). With the
    /// fixed-step methods it is an error: their accuracy is set by --dt.
    #[arg(long, value_name = "R", value_parser = spice_number)]
    pub rtol: Option<f64>,
    /// Absolute tolerance of dopri5 and rosenbrock (default 1e-10).
    #[arg(long, value_name = "A", value_parser = spice_number)]
    pub atol: Option<f64>,
    /// With dopri5: end steps at the device laws' switches (thresholds,
    /// dead bands, window corners) and at bound hits, and cross each in a
    /// short step, instead of stepping across them. This is the default
    /// with dopri5 on networks of at most 16 devices with state, where it
    /// makes the tolerance hold at 1.8-8x the evaluations; on larger networks
    /// every switch of every device ends a step, and the default steps
    /// across them (docs/engine.md, "Switches").
    #[arg(long, overrides_with = "no_locate_switches")]
    pub locate_switches: bool,
    /// Step across switches (see --locate-switches), whatever the size.
    #[arg(long, overrides_with = "locate_switches")]
    #[serde(default)]
    pub no_locate_switches: bool,
    /// Largest step of dopri5 and rosenbrock, a SPICE number. Default: the
    /// maximum step of the netlist's `.tran` (its fourth number), else
    /// unbounded. A step longer than a threshold device's excursion can
    /// pass it unseen (docs/engine.md, "Steps and samples").
    #[arg(long, value_name = "H", value_parser = spice_number)]
    pub max_step: Option<f64>,
    /// How dopri5 and rosenbrock size their error estimate: `rms` (the
    /// root mean square over the states) or `max` (every state within
    /// tolerance; on grids of threshold devices it keeps a few switching
    /// devices from carrying the error, at more steps: docs/engine.md,
    /// "Switches").
    #[arg(long, value_enum, default_value_t = ErrorNormArg::Rms)]
    pub error_norm: ErrorNormArg,
    /// Rule at the ends of [0,1].
    #[arg(long, value_enum, default_value_t = BoundsArg::Clip)]
    pub bounds: BoundsArg,
    /// Reuse a factorisation across evaluations: it preconditions
    /// conjugate gradients on the new conductances, and the network is
    /// refactorised only when CG needs more than 6 iterations. The states
    /// agree with a factorisation per evaluation to ~1e-10; fewer
    /// factorisations on smooth runs of large networks (docs/engine.md,
    /// "Fewer factorisations"). Laws linear in v; every method (exact:
    /// its Newton steps by CG).
    #[arg(long)]
    #[serde(default)]
    pub reuse_factorization: bool,
    /// Fill-reducing ordering of the sparse factorisation. The report
    /// (`--json` `ordering`) says which one ran (docs/engine.md,
    /// "Orderings and threads").
    #[arg(long, value_enum, default_value_t = OrderingArg::Auto)]
    #[serde(default)]
    pub ordering: OrderingArg,
    /// Sample interval. Default: the `.tran` step, else t_end/100. The last
    /// sample is at exactly t_end. Samples do not shorten steps: between
    /// steps they come from each method's interpolant (euler: linear, rk4:
    /// cubic Hermite, dopri5: dense output).
    #[arg(long, value_name = "S", value_parser = spice_number)]
    pub sample_dt: Option<f64>,
}

/// A SPICE number on the command line: `10n`, `1meg`, `2.5ms`, `1e-3`.
fn spice_number(s: &str) -> Result<f64, String> {
    memnet_spice::number::parse_number(s.trim()).ok_or_else(|| {
        format!("`{s}` is not a number (SPICE suffixes are accepted: 10n, 2.5ms, 1meg)")
    })
}

/// Integrate the memory dynamics and write states, node voltages and source currents.
///
/// The dynamics are dw/dt = alpha w - (1/beta)(I + xi Omega W)^{-1} Omega S
/// for memnet's linear law, or each device's own law (Xyce levels 2-4,
/// XSPICE, memnet's `law=` models; docs/device-laws.md).
///
/// Samples are written as they are produced, so an interrupted run leaves a
/// valid file holding every sample so far. The output format follows the
/// extension of --out: `.csv` (header `time,<output names>`), `.npy`
/// (float64 matrix, first column time, names in a sidecar `.json`) or
/// `.raw` (ngspice binary raw file, readable by ngspice's `load`). The
/// outputs are every state, `v(node)` and `i(vsource)` unless the netlist's
/// `.save`/`.print`/`.probe` or --save choose (docs/engine.md, "Outputs").
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Netlist or graph file (.csv, .mtx).
    pub file: PathBuf,
    #[command(flatten)]
    pub step: StepArgs,
    /// Write the trajectory (.csv, .npy or .raw), and beside it the run
    /// record OUT.run.json that --resume reads.
    #[arg(long, value_name = "PATH", conflicts_with = "resume")]
    pub out: Option<PathBuf>,
    /// Continue the run that wrote OUT (interrupted, or to a later --t-end)
    /// from its last complete sample, with the settings in OUT.run.json,
    /// and append to OUT. Settings given again must be the recorded ones.
    #[arg(long, value_name = "OUT")]
    pub resume: Option<PathBuf>,
    /// Plot w(t) to an SVG or PNG (every device up to 50, else quantile bands).
    #[arg(long, value_name = "PATH")]
    pub plot: Option<PathBuf>,
    /// Outputs to write, comma-separated or repeated, replacing the
    /// netlist's `.save`/`.print`/`.probe`: `v(node)`, `v(a,b)`,
    /// `i(vsource)` (ngspice's sign), `i(device)`, `p(device)`, a
    /// memristor's name (its state), Xyce's `n(dev_x)`/`n(dev:r)`,
    /// `{expr}` of these, or `states`, `v`, `i`, `all`. Default: the
    /// netlist's cards, else all.
    #[arg(long, value_name = "LIST")]
    pub save: Vec<String>,
    /// Print the run summary as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub input: InputArgs,
}

/// Fans samples out to the output file and the plot collector (which
/// takes the columns `plot_columns`).
struct Sinks {
    out: Option<Box<dyn SampleSink>>,
    plot: Option<TrajectoryPlot>,
    plot_columns: Vec<usize>,
    plot_row: Vec<f64>,
}

impl SampleSink for Sinks {
    fn sample(&mut self, t: f64, row: &[f64]) -> std::io::Result<()> {
        if let Some(o) = &mut self.out {
            o.sample(t, row)?;
        }
        if let Some(p) = &mut self.plot {
            self.plot_row.clear();
            self.plot_row
                .extend(self.plot_columns.iter().map(|&k| row[k]));
            p.push(t, &self.plot_row);
        }
        Ok(())
    }
}

/// The outputs of a run: `--save`, else the netlist's `.save`, `.print
/// [tran]` and `.probe` cards, else every state, node voltage and source
/// current.
fn outputs(net: &Network, circuit: Option<&Circuit>, save: &[String]) -> CliResult<Probes> {
    // Commas separate items except inside parentheses (`v(a,b)`).
    let mut items: Vec<String> = Vec::new();
    for s in save {
        let mut depth = 0i32;
        let mut cur = String::new();
        for c in s.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth <= 0 => {
                    items.push(std::mem::take(&mut cur).trim().to_ascii_lowercase());
                    continue;
                }
                _ => {}
            }
            cur.push(c);
        }
        items.push(cur.trim().to_ascii_lowercase());
    }
    items.retain(|s| !s.is_empty());
    let mut from_cards = false;
    if items.is_empty()
        && let Some(c) = circuit
    {
        for card in &c.outputs {
            if card.analysis.as_deref().is_some_and(|a| a != "tran") {
                continue;
            }
            items.extend(card.items.iter().cloned());
            from_cards = true;
        }
    }
    if items.is_empty() {
        return Ok(if from_cards {
            Probes::states(net)
        } else {
            Probes::all(net)
        });
    }
    let probes = Probes::parse(net, &items).map_err(|e| {
        // Name the card that holds the item memnet cannot write.
        let at = circuit
            .filter(|_| save.is_empty())
            .and_then(|c| {
                c.outputs.iter().find(|card| {
                    card.items
                        .iter()
                        .any(|it| Probes::parse(net, std::slice::from_ref(it)).is_err())
                })
            })
            .map(|card| format!("{}: ", card.loc))
            .unwrap_or_default();
        CliError::input(format!("{at}error: {e}"))
    })?;
    for item in probes.unmatched() {
        eprintln!(
            "warning: output `{item}` matches nothing memnet writes (nodes, internal nodes of \
             compiled subcircuits, voltage sources and devices); left out"
        );
    }
    Ok(probes)
}

/// ngspice raw output: one point per sample, `time` then every w.
struct RawSink(RawWriter<File>);

impl SampleSink for RawSink {
    fn sample(&mut self, t: f64, w: &[f64]) -> std::io::Result<()> {
        // One allocation per sample is small next to the file write.
        let mut point = Vec::with_capacity(w.len() + 1);
        point.push(t);
        point.extend_from_slice(w);
        self.0.write_point(&point)
    }
}

fn open_sink(path: &Path, names: &[CompactString], title: &str) -> CliResult<Box<dyn SampleSink>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let err = |e: std::io::Error| CliError::io(path.display(), e);
    Ok(match ext.as_deref() {
        Some("csv") => Box::new(CsvSink::create(path, names).map_err(err)?),
        Some("npy") => Box::new(NpySink::create(path, names).map_err(err)?),
        Some("raw") => {
            // ngspice names node voltages v(<node>) and currents i(<v>);
            // a memristor's state is named after the device, as
            // `v(<device>.w)` in an exported deck.
            let vars: Vec<String> = std::iter::once("time".to_string())
                .chain(names.iter().map(|n| {
                    if n.contains('(') {
                        n.to_string()
                    } else {
                        format!("v({n}.w)")
                    }
                }))
                .collect();
            let refs: Vec<&str> = vars.iter().map(String::as_str).collect();
            let w = RawWriter::create_file(path, title, "Transient Analysis", &refs, true)
                .map_err(err)?;
            Box::new(RawSink(w))
        }
        _ => {
            return Err(CliError::input(format!(
                "--out {}: unknown format (use .csv, .npy or .raw)",
                path.display()
            )));
        }
    })
}

/// The request the command line makes (see [`RunRequest`]).
pub fn run_request(a: &StepArgs) -> RunRequest {
    RunRequest {
        t_end: a.t_end,
        method: match a.method {
            MethodArg::Auto => MethodChoice::Auto,
            MethodArg::Euler => MethodChoice::Given(Method::Euler),
            MethodArg::Rk4 => MethodChoice::Given(Method::Rk4),
            MethodArg::Dopri5 => MethodChoice::Given(Method::Dopri5),
            MethodArg::Rosenbrock => MethodChoice::Given(Method::Rosenbrock),
            MethodArg::Exact => MethodChoice::Given(Method::Exact),
        },
        dt: a.dt,
        rtol: a.rtol,
        atol: a.atol,
        locate_switches: match (a.locate_switches, a.no_locate_switches) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        max_step: a.max_step,
        error_norm: Some(match a.error_norm {
            ErrorNormArg::Rms => ErrorNorm::Rms,
            ErrorNormArg::Max => ErrorNorm::Max,
        })
        .filter(|n| *n != ErrorNorm::Rms),
        bounds: match a.bounds {
            BoundsArg::Clip => Bounds::Clip,
            BoundsArg::Sticky => Bounds::Sticky,
        },
        sample_dt: a.sample_dt,
        reuse_factorization: a.reuse_factorization,
        ordering: match a.ordering {
            OrderingArg::Auto => Ordering::Auto,
            OrderingArg::Amd => Ordering::Amd,
            OrderingArg::Nd => Ordering::NestedDissection,
            OrderingArg::Metis => Ordering::Metis,
        },
    }
}

/// Simulation options from the command line and the netlist's `.tran`.
pub fn sim_options(net: &Network, a: &StepArgs) -> CliResult<SimOptions> {
    run_request(a)
        .options(net, memnet_spice::OptionStyle::Flag)
        .map_err(CliError::input)
}

#[derive(Serialize)]
struct Summary<'a> {
    /// The time of the last sample a resumed run continued from.
    #[serde(skip_serializing_if = "Option::is_none")]
    resumed_at: Option<f64>,
    file: String,
    out: Option<String>,
    t_end: f64,
    #[serde(flatten)]
    report: &'a SimReport,
}

pub fn run(mut a: Args) -> CliResult {
    // A resumed run takes its settings from the record and writes to OUT.
    let record = match &a.resume {
        Some(out) => {
            let record = RunRecord::read(out)?;
            let (step, save, input) = record.merge(out, &a.file, &a.step, &a.save, &a.input)?;
            (a.step, a.save, a.input) = (step, save, input);
            a.out = Some(out.clone());
            Some(record)
        }
        None => None,
    };
    let loaded = load(&a.file, &a.input)?;
    loaded.show_warnings();
    let crate::input::Loaded {
        circuit, network, ..
    } = loaded;
    let net = network.map_err(crate::input::network_error)?;
    let opts = sim_options(&net, &a.step)?;
    // Without a file to write, only the plot needs samples: the states.
    let probes = if a.out.is_some() {
        outputs(&net, circuit.as_ref(), &a.save)?
    } else {
        Probes::states(&net)
    };
    // The flat circuit only names outputs; on a large netlist it is as big
    // as the network, so it goes before the solver allocates.
    drop(circuit);
    let resumed = match (&a.resume, &record) {
        (Some(out), Some(_)) => {
            let cannot = |e: String| {
                CliError::input(format!("{}: error: cannot resume: {e}", out.display()))
            };
            let saved = read_saved_run(out).map_err(CliError::input)?;
            let point = resume_point(&net, &probes, &saved).map_err(cannot)?;
            Some((saved, point))
        }
        _ => None,
    };
    // Borrowed, not copied: at ten million states a copy is half a gigabyte.
    let names = probes.names();
    // The plot shows the states among the outputs (all columns if none).
    let mut plot_columns: Vec<usize> = Vec::new();
    if a.plot.is_some() {
        let states: std::collections::HashSet<String> = memristor_names(&net)
            .into_iter()
            .flat_map(|s| [format!("n({s}_x)"), s])
            .collect();
        plot_columns = (0..names.len())
            .filter(|&k| states.contains(names[k].as_str()))
            .collect();
        if plot_columns.is_empty() {
            plot_columns = (0..names.len()).collect();
        }
    }
    let plot_names: Vec<String> = plot_columns.iter().map(|&k| names[k].to_string()).collect();
    let out = match (&a.out, &resumed) {
        (Some(p), None) => {
            let sink = open_sink(p, names, &net.title)?;
            RunRecord::new(&a.file, &opts, &a.save, &a.input)?.write(p)?;
            Some(sink)
        }
        (Some(p), Some((saved, _))) => {
            let sink = crate::resume::reopen(p, saved, |tmp| open_sink(tmp, names, &net.title))?;
            // The record now says where the run ends.
            RunRecord::new(&a.file, &opts, &a.save, &a.input)?.write(p)?;
            Some(sink)
        }
        (None, _) => None,
    };
    let mut sinks = Sinks {
        out,
        plot: a.plot.as_ref().map(|_| TrajectoryPlot::new(&plot_names)),
        plot_columns,
        plot_row: Vec::new(),
    };
    let bar = progress_bar(opts.t_end);
    let progress = |t: f64| {
        if let Some(b) = &bar {
            b.set_position((t / opts.t_end * 1000.0) as u64);
        }
    };
    // The plot shows the whole run, the samples written before too.
    if let (Some(p), Some((saved, _))) = (&mut sinks.plot, &resumed) {
        for i in 0..saved.times.len() {
            let row = saved.row(i);
            let cols: Vec<f64> = sinks.plot_columns.iter().map(|&k| row[k]).collect();
            p.push(saved.times[i], &cols);
        }
    }
    let from = resumed.as_ref().map(|(_, p)| p);
    // The solver takes the network: with only states to write it drops it
    // before factorising (1.4 GB at ten million devices).
    let title = net.title.clone();
    let result = simulate_from(
        std::borrow::Cow::Owned(net),
        &opts,
        &probes,
        &mut sinks,
        &mut |t| {
            progress(t);
            std::ops::ControlFlow::Continue(())
        },
        from,
    );
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let report = result.map_err(|e| CliError::input(format!("error: {e}")))?;
    if let (Some(path), Some(p)) = (&a.plot, &sinks.plot) {
        plot::write_trajectory(path, &title, p)?;
    }
    let summary = Summary {
        resumed_at: from.map(|p| p.t),
        file: a.file.display().to_string(),
        out: a.out.as_ref().map(|p| p.display().to_string()),
        t_end: opts.t_end,
        report: &report,
    };
    if a.json {
        let text = serde_json::to_string_pretty(&summary)
            .map_err(|e| CliError::io("serialising the summary", e))?;
        crate::error::print_stdout(&format!("{text}\n"))?;
    } else {
        crate::error::print_stdout(&render_text(&summary))?;
    }
    Ok(())
}

/// A bar on a terminal; nothing when stderr is piped or redirected.
fn progress_bar(t_end: f64) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(1000);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% of t_end = {msg}, eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(t_end.to_string());
    Some(bar)
}

fn render_text(s: &Summary) -> String {
    let r = s.report;
    let mut out = String::new();
    if let Some(t) = s.resumed_at {
        out.push_str(&format!(
            "resumed from the last sample of {} at t = {t}\n",
            s.out.as_deref().unwrap_or("")
        ));
    }
    out.push_str(&format!(
        "simulated {} memristors to t = {} with {:?}: {} steps ({} rejected), {} right-hand sides, {} factorisations, {} samples, {:.3} s\n",
        r.memristors,
        s.t_end,
        r.method,
        r.steps,
        r.rejected_steps,
        r.rhs_evals,
        r.factorizations,
        r.samples,
        r.wall_time_s
    ));
    if r.switches_located > 0 {
        out.push_str(&format!(
            "switches located (thresholds, window corners, bound hits): {}, {} steps retried to end before one\n",
            r.switches_located, r.switch_retries
        ));
    }
    if r.reused_solves > 0 {
        out.push_str(&format!(
            "factorisations reused: {} solves by preconditioned CG ({:.2} iterations each)\n",
            r.reused_solves,
            r.cg_iterations as f64 / r.reused_solves as f64
        ));
    }
    if r.newton_iterations > 0 {
        out.push_str(&format!(
            "Newton on the node potentials: {} iterations, {:.2} per right-hand side\n",
            r.newton_iterations,
            r.newton_iterations as f64 / r.rhs_evals.max(1) as f64
        ));
    }
    // memnet's linear law states w; other laws their own variable.
    let linear = r.linear_law;
    let state = if linear { "w" } else { "state" };
    if r.memristors == 0 {
        // Only static devices (diodes, selectors): nothing to summarise.
        out.push_str("no device with state: each sample is the network's solution at its time\n");
    } else {
        out.push_str(&format!(
            "final {state}: min {:.6} max {:.6} mean {:.6}\n",
            r.w_min, r.w_max, r.w_mean
        ));
    }
    match &r.first_bound_hit {
        _ if r.memristors == 0 => {}
        Some(h) => out.push_str(&format!(
            "first bound hit: {} reached {state} = {} at t = {:.6} (invariants hold only before this)\n",
            h.name, h.bound, h.t
        )),
        None if linear => out.push_str("no device reached a bound of [0,1]\n"),
        None => out.push_str("no device reached a bound of its state\n"),
    }
    match (r.charge_drift, &r.charge_note) {
        (Some(d), _) => out.push_str(&format!(
            "charge law |B w(t) - e^(alpha t) B w(0)|: max drift {d:.3e}\n"
        )),
        (None, Some(note)) => out.push_str(&format!("charge law not checked: {note}\n")),
        (None, None) => {}
    }
    if let Some(o) = &s.out {
        out.push_str(&format!("wrote {o}\n"));
    }
    out
}
