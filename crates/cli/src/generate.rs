//! `memnet generate`: write a generated network as a netlist or edge list.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use memnet_graph::{
    DeviceDefaults, Drive, DriveMode, Electrodes, GenSpec, GraphKind, Layout, NanowireSpec,
    Orientation, RandomSources, Representation, Side, Spread, TranSpec, WInit,
    generate_with_layout, write_csv,
};
use memnet_spice::export::{CanonicalOptions, write_canonical_streamed};

use crate::error::{CliError, CliResult};
use crate::input::network_error;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// rows x cols square grid (edges row-major: right then down; `--diagonals` adds both diagonals)
    Grid,
    /// triangular lattice (grid plus one diagonal per square)
    Triangular,
    /// Erdős–Rényi G(n, p)
    ErdosRenyi,
    /// random d-regular graph
    RandomRegular,
    /// Watts–Strogatz small world (ring with k neighbours, rewiring probability)
    WattsStrogatz,
    /// random geometric graph in the unit square (nanowire-like)
    Geometric,
    /// complete graph K_n
    Complete,
    /// ring plus random extra edges, random orientations (the theory's test graph)
    RandomConnected,
    /// random nanowires in a box, a memristive junction where two cross,
    /// electrodes on its sides (MemNNetSim's model; docs/nanowires.md)
    Nanowire,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepresentationArg {
    /// one node per wire, the junctions the only devices (JDA)
    Junctions,
    /// wires split at their junctions into resistive segments (MNR)
    MultiNodal,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriveKind {
    /// no applied voltage
    None,
    /// a voltage between two nodes (`--terminals A,B`)
    Terminals,
    /// a voltage between the left and right sides (grid, triangular, geometric)
    Sides,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriveAs {
    /// ideal voltage sources to ground
    Constraint,
    /// extra memristor edges with series sources
    Series,
}

/// Write a generated network (grid, lattice, random graph) with a drive.
///
/// The output format follows the extension of `-o`: `.csv` writes an edge
/// list (`tail,head,ron,roff,w0,alpha,beta,source`), anything else a
/// canonical-dialect netlist that memnet reads. With `--include
/// fixtures/spice/memristor.lib --t-end T` it also runs in ngspice
/// (`ngspice -b -r out.raw OUT`) when it has a ground node (a drive); for a
/// self-contained deck with the states written out use `memnet export`. The
/// same options and seed always give the same network.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Graph family.
    #[arg(value_enum)]
    pub kind: Kind,
    /// Output file (`.cir`/`.sp`/... netlist, or `.csv` edge list).
    #[arg(short, long, value_name = "OUT")]
    pub out: PathBuf,
    /// Grid and lattice rows.
    #[arg(long, default_value_t = 10)]
    pub rows: usize,
    /// Grid and lattice columns.
    #[arg(long, default_value_t = 10)]
    pub cols: usize,
    /// Add both diagonals to each grid square.
    #[arg(long)]
    pub diagonals: bool,
    /// Number of nodes (random families, complete graph).
    #[arg(short = 'n', long, default_value_t = 100)]
    pub nodes: usize,
    /// Edge probability (Erdős–Rényi) or extra-edge probability (random-connected).
    #[arg(long, default_value_t = 0.1)]
    pub p: f64,
    /// Degree of a random regular graph.
    #[arg(long, default_value_t = 3)]
    pub degree: usize,
    /// Neighbours per node in a Watts–Strogatz ring (even).
    #[arg(long, default_value_t = 4)]
    pub k: usize,
    /// Watts–Strogatz rewiring probability.
    #[arg(long, default_value_t = 0.1)]
    pub rewire: f64,
    /// Connection radius of a random geometric graph.
    #[arg(long, default_value_t = 0.15)]
    pub radius: f64,
    /// Random seed (networks are reproducible across platforms).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Orient edges at random instead of low -> high node index.
    #[arg(long)]
    pub random_orientation: bool,
    /// R_on of every memristor, ohms.
    #[arg(long, default_value_t = 100.0)]
    pub ron: f64,
    /// R_off of every memristor, ohms.
    #[arg(long, default_value_t = 16000.0)]
    pub roff: f64,
    /// Relaxation rate alpha (1/s).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub alpha: f64,
    /// beta (V s).
    #[arg(long, default_value_t = 1.0)]
    pub beta: f64,
    /// Initial w: `0.5`, `uniform:LO,HI` or `normal:MEAN,STD` (clipped into (0,1)).
    #[arg(long, default_value = "0.5", value_name = "DIST")]
    pub w0: String,
    /// How the network is driven.
    #[arg(long, value_enum, default_value_t = DriveKind::None)]
    pub drive: DriveKind,
    /// Drive as ideal sources to ground or as series sources on extra edges.
    #[arg(long, value_enum, default_value_t = DriveAs::Constraint)]
    pub drive_as: DriveAs,
    /// Drive voltage, volts.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub voltage: f64,
    /// The two driven nodes for `--drive terminals`, as node indices `A,B`.
    #[arg(long, value_name = "A,B")]
    pub terminals: Option<String>,
    /// A DC series source on an edge: `EDGE=VOLTS` (repeatable).
    #[arg(long = "source", value_name = "EDGE=VOLTS")]
    pub sources: Vec<String>,
    /// Put DC series sources on this many random edges.
    #[arg(long, value_name = "COUNT")]
    pub random_sources: Option<usize>,
    /// Range of the random series sources, `MIN,MAX` volts.
    #[arg(
        long,
        default_value = "-1,1",
        value_name = "MIN,MAX",
        allow_hyphen_values = true
    )]
    pub source_range: String,
    /// Add `.tran STEP T` with this stop time (STEP = T/100).
    #[arg(long, value_name = "T")]
    pub t_end: Option<f64>,
    /// Write `.include PATH` into the netlist (e.g. the ngspice memristor body).
    #[arg(long, value_name = "PATH")]
    pub include: Option<String>,
    /// Give every memristor one of memnet's other device laws instead of
    /// the linear one: hp, team, vteam, xyce-team, yakopcic, nlid, xspice,
    /// mmss (docs/device-laws.md). The netlist then holds a `.model ...
    /// memristor law=LAW` card and `ymemristor` devices; --ron, --roff,
    /// --alpha, --beta and --w0 belong to the linear law and are not used.
    #[arg(long, value_name = "LAW")]
    pub law: Option<String>,
    /// A parameter of --law, `NAME=VALUE` (comma-separated or repeated),
    /// e.g. `ron=100,roff=16k,p=2,rinit=5k` for hp; the rest keep the
    /// law's defaults (docs/device-laws.md lists each law's names).
    #[arg(long = "law-param", value_name = "NAME=VALUE", value_delimiter = ',')]
    pub law_params: Vec<String>,
    /// A word option of --law, `NAME=WORD`, e.g. `window=biolek` (hp),
    /// `iv=exponential` (team).
    #[arg(long = "law-option", value_name = "NAME=WORD", value_delimiter = ',')]
    pub law_options: Vec<String>,
    /// Nanowire box, `X,Y` in micrometres (wire midpoints are uniform in it).
    #[arg(
        long = "box",
        default_value = "50,50",
        value_name = "X,Y",
        help_heading = "Nanowire networks"
    )]
    pub box_size: String,
    /// Number of wires (default: from --density).
    #[arg(long, value_name = "N", help_heading = "Nanowire networks")]
    pub wires: Option<usize>,
    /// Wires per square micrometre, rounded to a whole number of wires.
    #[arg(
        long,
        default_value_t = 0.3,
        value_name = "D",
        help_heading = "Nanowire networks"
    )]
    pub density: f64,
    /// Wire length in micrometres: `7`, `normal:MEAN,SD` (redrawn until
    /// positive) or `uniform:LO,HI`.
    #[arg(
        long,
        default_value = "7",
        value_name = "DIST",
        help_heading = "Nanowire networks"
    )]
    pub wire_length: String,
    /// Wire angle to the x axis in degrees: `uniform:LO,HI`,
    /// `normal:MEAN,SD` or a fixed angle.
    #[arg(
        long,
        default_value = "uniform:0,180",
        value_name = "DIST",
        help_heading = "Nanowire networks"
    )]
    pub angle: String,
    /// Electrodes: `SIDE` (one along the whole side) or
    /// `SIDE:COUNT,SPACING` (COUNT electrodes with SPACING um between
    /// them), SIDE one of left, right, top, bottom; comma-free forms may be
    /// repeated. Electrode nodes are named left0, left1, ...; `--drive
    /// sides` holds the left ones at --voltage against the right ones.
    #[arg(long = "electrodes", value_name = "SPEC", default_values_t = ["left".to_string(), "right".to_string()], help_heading = "Nanowire networks")]
    pub electrodes: Vec<String>,
    /// How wires become a circuit.
    #[arg(long, value_enum, default_value_t = RepresentationArg::Junctions, help_heading = "Nanowire networks")]
    pub representation: RepresentationArg,
    /// Wire resistivity, nOhm m (multi-nodal; 22.6 is MemNNetSim's silver).
    #[arg(long, default_value_t = 22.6, help_heading = "Nanowire networks")]
    pub resistivity: f64,
    /// Wire diameter, nm (multi-nodal).
    #[arg(long, default_value_t = 50.0, help_heading = "Nanowire networks")]
    pub diameter: f64,
}

/// A length or angle distribution: `V`, `uniform:LO,HI` or `normal:MEAN,SD`,
/// each number multiplied by `scale`.
fn spread(text: &str, what: &str, scale: f64) -> CliResult<Spread> {
    if let Some(rest) = text.strip_prefix("uniform:") {
        let (lo, hi) = pair(rest, what)?;
        Ok(Spread::Uniform {
            lo: lo * scale,
            hi: hi * scale,
        })
    } else if let Some(rest) = text.strip_prefix("normal:") {
        let (mean, sd) = pair(rest, what)?;
        Ok(Spread::Normal {
            mean: mean * scale,
            sd: sd * scale,
        })
    } else {
        let v: f64 = text.trim().parse().map_err(|_| {
            CliError::input(format!(
                "{what}: expected a number, `uniform:LO,HI` or `normal:MEAN,SD`, got `{text}`"
            ))
        })?;
        Ok(Spread::Fixed { value: v * scale })
    }
}

fn electrodes(specs: &[String]) -> CliResult<Vec<Electrodes>> {
    let mut out = Vec::new();
    for text in specs {
        let (side, rest) = text.split_once(':').unwrap_or((text, ""));
        let side = match side.trim().to_ascii_lowercase().as_str() {
            "left" => Side::Left,
            "right" => Side::Right,
            "top" => Side::Top,
            "bottom" => Side::Bottom,
            "none" if specs.len() == 1 => continue,
            other => {
                return Err(CliError::input(format!(
                    "--electrodes: `{other}` is not a side (left, right, top, bottom, or none)"
                )));
            }
        };
        let (count, spacing) = if rest.is_empty() {
            (1, 0.0)
        } else {
            let (c, sp) = pair(rest, "--electrodes SIDE:COUNT,SPACING")?;
            if c < 1.0 || c.fract() != 0.0 {
                return Err(CliError::input(format!(
                    "--electrodes {text}: the count must be a whole number of at least 1"
                )));
            }
            (c as usize, sp)
        };
        out.push(Electrodes {
            side,
            count,
            spacing,
        });
    }
    Ok(out)
}

fn nanowire_spec(a: &Args) -> CliResult<NanowireSpec> {
    let size = pair(&a.box_size, "--box")?;
    if !(size.0 > 0.0 && size.1 > 0.0 && size.0.is_finite() && size.1.is_finite()) {
        return Err(CliError::input(format!(
            "--box: both sides must be positive micrometres, got `{}`",
            a.box_size
        )));
    }
    let wires = match a.wires {
        Some(n) => n,
        None if a.density.is_finite() && a.density >= 0.0 => {
            NanowireSpec::wires_for_density(size, a.density)
        }
        None => {
            return Err(CliError::input(format!(
                "--density must be a non-negative number of wires per um^2, got {}",
                a.density
            )));
        }
    };
    Ok(NanowireSpec {
        size,
        wires,
        length: spread(&a.wire_length, "--wire-length", 1.0)?,
        angle: spread(&a.angle, "--angle", std::f64::consts::PI / 180.0)?,
        electrodes: electrodes(&a.electrodes)?,
        representation: match a.representation {
            RepresentationArg::Junctions => Representation::Junctions,
            RepresentationArg::MultiNodal => Representation::MultiNodal {
                resistivity: a.resistivity,
                diameter: a.diameter,
            },
        },
    })
}

/// The law `--law` names, with its parameters and options, checked against
/// the law's table (so a typo fails here, not at simulation).
fn law_spec(a: &Args) -> CliResult<Option<memnet_graph::LawSpec>> {
    let Some(law) = &a.law else {
        if !a.law_params.is_empty() || !a.law_options.is_empty() {
            return Err(CliError::input("--law-param and --law-option need --law"));
        }
        return Ok(None);
    };
    let split = |text: &str, what: &str| -> CliResult<(String, String)> {
        let (k, v) = text.split_once('=').ok_or_else(|| {
            CliError::input(format!("{what}: expected `NAME=VALUE`, got `{text}`"))
        })?;
        Ok((k.trim().to_ascii_lowercase(), v.trim().to_string()))
    };
    let mut params = Vec::new();
    for text in &a.law_params {
        let (k, v) = split(text, "--law-param")?;
        let x = memnet_spice::number::parse_number(&v)
            .filter(|x| x.is_finite())
            .ok_or_else(|| CliError::input(format!("--law-param {k}: `{v}` is not a number")))?;
        params.push((k, x));
    }
    let mut options = Vec::new();
    for text in &a.law_options {
        let (k, v) = split(text, "--law-option")?;
        options.push((k, v.to_ascii_lowercase()));
    }
    let spec = memnet_graph::LawSpec {
        law: law.to_ascii_lowercase(),
        options,
        params,
        tables: Vec::new(),
        loc: None,
        body: None,
    };
    memnet_solver::Laws::default()
        .push_spec(&spec)
        .map_err(|e| CliError::input(format!("--law {law}: {e}")))?;
    Ok(Some(spec))
}

fn pair(text: &str, what: &str) -> CliResult<(f64, f64)> {
    let bad = || CliError::input(format!("{what}: expected two numbers `A,B`, got `{text}`"));
    let (a, b) = text.split_once(',').ok_or_else(bad)?;
    Ok((
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    ))
}

fn w_init(text: &str) -> CliResult<WInit> {
    if let Some(rest) = text.strip_prefix("uniform:") {
        let (lo, hi) = pair(rest, "--w0 uniform")?;
        Ok(WInit::Uniform { lo, hi })
    } else if let Some(rest) = text.strip_prefix("normal:") {
        let (mean, std) = pair(rest, "--w0 normal")?;
        Ok(WInit::NormalClipped { mean, std })
    } else {
        let w = text.parse().map_err(|_| {
            CliError::input(format!(
                "--w0: expected a number, `uniform:LO,HI` or `normal:MEAN,STD`, got `{text}`"
            ))
        })?;
        Ok(WInit::Constant { w })
    }
}

/// The generator specification the options describe.
pub fn spec(a: &Args) -> CliResult<GenSpec> {
    let kind = match a.kind {
        Kind::Grid => GraphKind::Grid {
            rows: a.rows,
            cols: a.cols,
            diagonals: a.diagonals,
        },
        Kind::Triangular => GraphKind::Triangular {
            rows: a.rows,
            cols: a.cols,
        },
        Kind::ErdosRenyi => GraphKind::ErdosRenyi { n: a.nodes, p: a.p },
        Kind::RandomRegular => GraphKind::RandomRegular {
            n: a.nodes,
            degree: a.degree,
        },
        Kind::WattsStrogatz => GraphKind::WattsStrogatz {
            n: a.nodes,
            k: a.k,
            rewire: a.rewire,
        },
        Kind::Geometric => GraphKind::RandomGeometric {
            n: a.nodes,
            radius: a.radius,
        },
        Kind::Complete => GraphKind::Complete { n: a.nodes },
        Kind::RandomConnected => GraphKind::RandomConnected {
            n: a.nodes,
            p_extra: a.p,
        },
        Kind::Nanowire => GraphKind::Nanowire(nanowire_spec(a)?),
    };
    let mut s = GenSpec::new(kind);
    s.seed = a.seed;
    s.device = DeviceDefaults {
        ron: a.ron,
        roff: a.roff,
        w0: 0.5,
        alpha: a.alpha,
        beta: a.beta,
    };
    s.w_init = w_init(&a.w0)?;
    if a.random_orientation {
        s.orientation = Orientation::Random;
    }
    let mode = match a.drive_as {
        DriveAs::Constraint => DriveMode::Constraint,
        DriveAs::Series => DriveMode::SeriesSource,
    };
    s.drive = match a.drive {
        DriveKind::None => Drive::None,
        DriveKind::Sides => Drive::Sides {
            voltage: a.voltage,
            mode,
        },
        DriveKind::Terminals => {
            let text = a.terminals.as_deref().ok_or_else(|| {
                CliError::input("--drive terminals needs --terminals A,B (node indices)")
            })?;
            let bad = || {
                CliError::input(format!(
                    "--terminals: expected `A,B` node indices, got `{text}`"
                ))
            };
            let (x, y) = text.split_once(',').ok_or_else(bad)?;
            Drive::Terminals {
                a: x.trim().parse().map_err(|_| bad())?,
                b: y.trim().parse().map_err(|_| bad())?,
                voltage: a.voltage,
                mode,
            }
        }
    };
    for text in &a.sources {
        let bad = || CliError::input(format!("--source: expected `EDGE=VOLTS`, got `{text}`"));
        let (k, v) = text.split_once('=').ok_or_else(bad)?;
        s.sources.push((
            k.trim().parse().map_err(|_| bad())?,
            v.trim().parse().map_err(|_| bad())?,
        ));
    }
    if let Some(count) = a.random_sources {
        let (min, max) = pair(&a.source_range, "--source-range")?;
        s.random_sources = Some(RandomSources { count, min, max });
    }
    Ok(s)
}

pub fn run(a: Args) -> CliResult {
    let spec = spec(&a)?;
    let law = law_spec(&a)?;
    let (mut net, layout) = generate_with_layout(&spec).map_err(network_error)?;
    if let Some(law) = law {
        if a.w0 != "0.5" {
            return Err(CliError::input(
                "--w0 sets memnet's linear-law state; with --law give the law's own initial \
                 state as a --law-param (e.g. x0=0.3)",
            ));
        }
        net.give_law(law);
    }
    if let Some(t) = a.t_end {
        if !(t.is_finite() && t > 0.0) {
            return Err(CliError::input(format!(
                "--t-end must be positive, got {t}"
            )));
        }
        net.tran = Some(TranSpec {
            tstep: t / 100.0,
            tstop: t,
            tmax: None,
        });
    }
    write_network(&net, &a.out, a.include.clone())?;
    write_layout(&net, &layout, &a.out)
}

/// Where the nodes lie, beside the network: `OUT.nodes.csv` (`node,x,y`;
/// grid column and row, a geometric graph's unit square, a nanowire
/// network's micrometres) and, for nanowires, `OUT.wires.csv` (each wire
/// and electrode as `x0,y0,x1,y1,kind`). Nothing for families without a
/// geometry.
fn write_layout(net: &memnet_graph::Network, layout: &Layout, out: &Path) -> CliResult {
    if layout.positions.is_empty() {
        return Ok(());
    }
    let side = |suffix: &str| {
        let mut s = out.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    let write = |path: PathBuf, body: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>| {
        let f = File::create(&path).map_err(|e| CliError::io(path.display(), e))?;
        let mut w = BufWriter::new(f);
        body(&mut w)
            .and_then(|_| w.flush())
            .map_err(|e| CliError::io(path.display(), e))
    };
    write(side(".nodes.csv"), &mut |w| {
        writeln!(w, "node,x,y")?;
        for (name, &(x, y)) in net.node_names.iter().zip(&layout.positions) {
            if x.is_finite() && y.is_finite() {
                writeln!(w, "{name},{x},{y}")?;
            }
        }
        Ok(())
    })?;
    if !layout.lines.is_empty() {
        let wires = layout.wires;
        write(side(".wires.csv"), &mut |w| {
            writeln!(w, "x0,y0,x1,y1,kind")?;
            for (k, l) in layout.lines.iter().enumerate() {
                let kind = if k < wires { "wire" } else { "electrode" };
                writeln!(w, "{},{},{},{},{kind}", l[0], l[1], l[2], l[3])?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

fn write_network(net: &memnet_graph::Network, out: &Path, include: Option<String>) -> CliResult {
    let written = write_network_to(net, out, include);
    if written.is_err() {
        // No empty or half-written network is left to be read later.
        let _ = std::fs::remove_file(out);
    }
    written
}

fn write_network_to(net: &memnet_graph::Network, out: &Path, include: Option<String>) -> CliResult {
    let is_csv = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv && !(net.constraints.is_empty() && net.injections.is_empty()) {
        return Err(CliError::input(format!(
            "{}: error: an edge list cannot hold electrodes at a fixed potential or current \
             sources; drive with --drive-as series, or write a netlist (.cir)",
            out.display()
        )));
    }
    let file = File::create(out).map_err(|e| CliError::io(out.display(), e))?;
    let mut w = BufWriter::new(file);
    if is_csv {
        write_csv(net, &mut w).map_err(|e| CliError::io(out.display(), e))?;
    } else {
        // Devices of memnet's other laws need their model cards, known
        // only from the whole circuit; the rest is written edge by edge
        // from the network, without a second copy of it as a circuit.
        let whole = !net.laws.is_empty();
        let mut circuit = if whole {
            net.to_circuit()
        } else {
            net.circuit_frame()
        };
        // ngspice can only start the memristor body from its IC= states
        // (the state node has no DC path), so the `.tran` asks for `uic`.
        for a in &mut circuit.analyses {
            if let memnet_spice::Analysis::Tran { uic, .. } = a {
                *uic = true;
            }
        }
        let opts = CanonicalOptions { include };
        write_canonical_streamed(
            &circuit,
            &opts,
            |write| {
                if whole {
                    Ok(())
                } else {
                    net.each_element(|e| write(&e))
                }
            },
            &mut w,
        )
        .map_err(|e| CliError::io(out.display(), e))?;
    }
    w.flush().map_err(|e| CliError::io(out.display(), e))
}
