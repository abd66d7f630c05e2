//! `memnet._memnet`: the native half of the Python package (python/memnet
//! holds the rest). A thin layer over the library crates, as the CLI is:
//! [`load`] reads what `memnet simulate FILE` reads, [`Network::simulate`]
//! resolves its arguments through the same [`RunRequest`] as the CLI and
//! runs the same solver, with the GIL released, so that both give the same
//! numbers for the same request.
//!
//! Samples are collected into one row-major buffer per kind (states, other
//! outputs) and handed to numpy as they are: no copy per sample, no Python
//! object per sample.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use memnet_graph::{
    Device, DeviceDefaults, Drive, DriveMode, EdgeColumns, GenSpec, GraphKind, Network as Net,
    NetworkError, RandomSources, WInit, generate, is_graph_file, network_from_columns,
    read_graph_file,
};
use memnet_solver::{
    Bounds, ErrorNorm, Method, MethodChoice, Probes, RunRequest, SampleSink, SolveError,
    simulate_until,
};
use memnet_spice::export::{DeckOptions, ExportError, write_ngspice_deck_with};
use memnet_spice::{Circuit, ImportOptions, OptionStyle};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::{PyException, PyKeyboardInterrupt};
use pyo3::prelude::*;

pyo3::create_exception!(
    memnet,
    MemnetError,
    PyException,
    "A failure the user can cause (a netlist error, a bad parameter, a run that cannot meet \
     its tolerance). The message is the CLI's, with FILE:LINE:COL where there is one."
);

/// `bias=` of `Network.drive`: B for [-B, B], or a pair (lo, hi).
#[derive(FromPyObject)]
enum BiasArg {
    Symmetric(f64),
    Range(f64, f64),
}

fn user_error(message: impl std::fmt::Display) -> PyErr {
    let m = message.to_string();
    let m = if m.contains("error:") {
        m
    } else {
        format!("error: {m}")
    };
    MemnetError::new_err(m)
}

/// A network ready to simulate: a netlist elaborated and built, a graph
/// file, a generated network or edges given as arrays.
#[pyclass(module = "memnet", name = "Network", frozen)]
struct Network {
    net: Arc<Net>,
    /// The elaborated netlist, when there was one (the export writes it).
    circuit: Option<Arc<Circuit>>,
    /// The netlist's warnings, as the CLI prints them (FILE:LINE:COL).
    warnings: Vec<String>,
}

/// Reads a netlist (ngspice, Xyce, LTspice, PSpice, HSPICE) or a graph
/// file (.csv, .mtx) into a Network.
#[pyfunction]
#[pyo3(signature = (path, memristor_subckt=Vec::new(), params=Vec::new()))]
fn load(
    py: Python<'_>,
    path: PathBuf,
    memristor_subckt: Vec<String>,
    params: Vec<String>,
) -> PyResult<Network> {
    py.detach(|| load_path(path, &memristor_subckt, &params))
        .map_err(user_error)
}

fn load_path(path: PathBuf, subckts: &[String], params: &[String]) -> Result<Network, String> {
    if is_graph_file(&path) {
        let net = read_graph_file(&path, &DeviceDefaults::default()).map_err(|e| e.render())?;
        return Ok(Network {
            net: Arc::new(net),
            circuit: None,
            warnings: Vec::new(),
        });
    }
    let opts = ImportOptions::with_memristor_subckts(subckts, params, OptionStyle::Keyword)?;
    let circuit = memnet_spice::import_file(&path, &opts).map_err(|d| d.render())?;
    let net = Net::from_circuit(&circuit).map_err(|e| e.render())?;
    let warnings = circuit
        .warnings
        .iter()
        .map(|w| format!("{}: warning: {}", w.loc, w.message))
        .collect();
    Ok(Network {
        net: Arc::new(net),
        circuit: Some(Arc::new(circuit)),
        warnings,
    })
}

/// A generated network of memnet's linear memristors, as `memnet generate
/// KIND` makes it (memnet.generate wraps it per family): the family and its
/// sizes, DC series sources on chosen edges (`sources`, (edge, volts)) or
/// `random_sources` of them with values in `source_range`, a `drive`
/// voltage between the left and right sides (ideal sources), initial
/// states `w0` or uniform in `w0_range`, all random choices from `seed`.
#[pyfunction]
#[pyo3(signature = (kind, *, rows=10, cols=10, diagonals=false, n=100, p=0.05, degree=3, k=4, rewire=0.1, radius=0.15, p_extra=0.1, sources=Vec::new(), random_sources=None, source_range=(-1.0, 1.0), drive=None, seed=0, w0=None, w0_range=None, ron=None, roff=None, alpha=None, beta=None))]
#[allow(clippy::too_many_arguments)]
fn generate_network(
    kind: &str,
    rows: usize,
    cols: usize,
    diagonals: bool,
    n: usize,
    p: f64,
    degree: usize,
    k: usize,
    rewire: f64,
    radius: f64,
    p_extra: f64,
    sources: Vec<(usize, f64)>,
    random_sources: Option<usize>,
    source_range: (f64, f64),
    drive: Option<f64>,
    seed: u64,
    w0: Option<f64>,
    w0_range: Option<(f64, f64)>,
    ron: Option<f64>,
    roff: Option<f64>,
    alpha: Option<f64>,
    beta: Option<f64>,
) -> PyResult<Network> {
    let kind = match kind {
        "grid" => GraphKind::Grid {
            rows,
            cols,
            diagonals,
        },
        "triangular" => GraphKind::Triangular { rows, cols },
        "erdos_renyi" => GraphKind::ErdosRenyi { n, p },
        "random_regular" => GraphKind::RandomRegular { n, degree },
        "watts_strogatz" => GraphKind::WattsStrogatz { n, k, rewire },
        "geometric" => GraphKind::RandomGeometric { n, radius },
        "complete" => GraphKind::Complete { n },
        "random_connected" => GraphKind::RandomConnected { n, p_extra },
        other => {
            return Err(user_error(format!(
                "generate `{other}`: expected grid, triangular, erdos_renyi, random_regular, \
                 watts_strogatz, geometric, complete or random_connected"
            )));
        }
    };
    let mut spec = GenSpec::new(kind);
    spec.seed = seed;
    let d = &mut spec.device;
    d.ron = ron.unwrap_or(d.ron);
    d.roff = roff.unwrap_or(d.roff);
    d.alpha = alpha.unwrap_or(d.alpha);
    d.beta = beta.unwrap_or(d.beta);
    if let Some(w) = w0 {
        d.w0 = w;
        spec.w_init = WInit::Constant { w };
    }
    if let Some((lo, hi)) = w0_range {
        spec.w_init = WInit::Uniform { lo, hi };
    }
    if let Some(voltage) = drive {
        spec.drive = Drive::Sides {
            voltage,
            mode: DriveMode::Constraint,
        };
    }
    spec.sources = sources;
    spec.random_sources = random_sources.map(|count| RandomSources {
        count,
        min: source_range.0,
        max: source_range.1,
    });
    let net = generate(&spec).map_err(|e| user_error(e.render()))?;
    Ok(Network {
        net: Arc::new(net),
        circuit: None,
        warnings: Vec::new(),
    })
}

/// What a run collects: the states in one buffer, the other outputs in
/// another, both row-major (samples x columns).
struct Collect {
    states: usize,
    t: Vec<f64>,
    w: Vec<f64>,
    rest: Vec<f64>,
}

impl SampleSink for Collect {
    fn sample(&mut self, t: f64, row: &[f64]) -> std::io::Result<()> {
        self.t.push(t);
        self.w.extend_from_slice(&row[..self.states]);
        self.rest.extend_from_slice(&row[self.states..]);
        Ok(())
    }
}

/// The samples of a run: times `t`, states `w` (samples x devices, in the
/// order of `names`), the other outputs asked for and the run summary.
#[pyclass(module = "memnet", name = "SimResult", frozen)]
struct SimResult {
    #[pyo3(get)]
    t: Py<PyArray1<f64>>,
    #[pyo3(get)]
    w: Py<PyArray2<f64>>,
    /// Device (state) names, the columns of `w`.
    #[pyo3(get)]
    names: Vec<String>,
    /// Node potentials, source and device currents asked for with `save`
    /// (samples x outputs).
    #[pyo3(get)]
    outputs: Py<PyArray2<f64>>,
    #[pyo3(get)]
    output_names: Vec<String>,
    /// The run summary as `memnet simulate --json` prints it, as JSON text
    /// (memnet.SimResult.summary parses it).
    #[pyo3(get)]
    summary_json: String,
}

fn method_of(name: &str) -> PyResult<MethodChoice> {
    Ok(match name {
        "auto" => MethodChoice::Auto,
        "euler" => MethodChoice::Given(Method::Euler),
        "rk4" => MethodChoice::Given(Method::Rk4),
        "dopri5" => MethodChoice::Given(Method::Dopri5),
        "rosenbrock" => MethodChoice::Given(Method::Rosenbrock),
        "exact" => MethodChoice::Given(Method::Exact),
        other => {
            return Err(user_error(format!(
                "method `{other}`: expected auto, euler, rk4, dopri5, rosenbrock or exact"
            )));
        }
    })
}

/// The outputs beyond the states that `save` names: nothing, `"all"`
/// (every node potential and voltage-source current, as the CLI writes by
/// default), or a list of names as in `memnet simulate --save`.
fn probes_for(net: &Net, save: &[String]) -> Result<(Probes, usize), String> {
    let states = Probes::states(net);
    let n = states.len();
    if save.is_empty() {
        return Ok((states, n));
    }
    let mut items = vec!["states".to_string()];
    items.extend(save.iter().map(|s| s.trim().to_ascii_lowercase()));
    let probes = Probes::parse(net, &items)?;
    Ok((probes, n))
}

#[pymethods]
impl Network {
    /// Edges given as arrays: node indices `tails` and `heads` (0 to
    /// n_nodes-1; nodes are named `n<i>` unless `node_names` says, and
    /// `ground` names one of them `0`), and per-edge device parameters as
    /// in a CSV edge list (ron, roff, w0, alpha, beta, source, polarity,
    /// resistance), each a number for every edge or an array with one per
    /// edge. NaN takes the default; a finite resistance makes the edge a
    /// fixed resistor. Bad edges raise MemnetError naming the edge, its
    /// nodes and the parameter (docs/python.md).
    #[staticmethod]
    #[pyo3(signature = (tails, heads, *, n_nodes=None, node_names=None, ground=None, ron=None, roff=None, w0=None, alpha=None, beta=None, source=None, polarity=None, resistance=None, title=String::new()))]
    #[allow(clippy::too_many_arguments)]
    fn from_edges(
        py: Python<'_>,
        tails: &Bound<'_, PyAny>,
        heads: &Bound<'_, PyAny>,
        n_nodes: Option<usize>,
        node_names: Option<Vec<String>>,
        ground: Option<usize>,
        ron: Option<&Bound<'_, PyAny>>,
        roff: Option<&Bound<'_, PyAny>>,
        w0: Option<&Bound<'_, PyAny>>,
        alpha: Option<&Bound<'_, PyAny>>,
        beta: Option<&Bound<'_, PyAny>>,
        source: Option<&Bound<'_, PyAny>>,
        polarity: Option<&Bound<'_, PyAny>>,
        resistance: Option<&Bound<'_, PyAny>>,
        title: String,
    ) -> PyResult<Network> {
        let np = py.import("numpy")?;
        let index = |a: &Bound<'_, PyAny>, what: &str| -> PyResult<Vec<usize>> {
            let arr = np.call_method1("asarray", (a, "int64"))?;
            let arr: PyReadonlyArray1<'_, i64> = arr.extract().map_err(|_| {
                user_error(format!(
                    "{what}: expected a one-dimensional array of node indices"
                ))
            })?;
            arr.as_array()
                .iter()
                .map(|&i| {
                    usize::try_from(i)
                        .map_err(|_| user_error(format!("{what}: node index {i} is negative")))
                })
                .collect()
        };
        let (tails, heads) = (index(tails, "tails")?, index(heads, "heads")?);
        let m = tails.len();
        let column = |c: Option<&Bound<'_, PyAny>>, what: &str| -> PyResult<Option<Vec<f64>>> {
            let Some(c) = c.filter(|c| !c.is_none()) else {
                return Ok(None);
            };
            if let Ok(v) = c.extract::<f64>() {
                return Ok(Some(vec![v; m]));
            }
            let arr = np.call_method1("asarray", (c, "float64"))?;
            let arr: PyReadonlyArray1<'_, f64> = arr.extract().map_err(|_| {
                user_error(format!(
                    "{what}: expected a number or a one-dimensional array"
                ))
            })?;
            Ok(Some(arr.as_array().iter().copied().collect()))
        };
        let cols = [
            column(ron, "ron")?,
            column(roff, "roff")?,
            column(w0, "w0")?,
            column(alpha, "alpha")?,
            column(beta, "beta")?,
            column(source, "source")?,
            column(polarity, "polarity")?,
            column(resistance, "resistance")?,
        ];
        let used = tails
            .iter()
            .chain(&heads)
            .map(|&i| i + 1)
            .max()
            .unwrap_or(0);
        let n = n_nodes
            .or(node_names.as_ref().map(Vec::len))
            .unwrap_or(used)
            .max(ground.map_or(0, |g| g + 1));
        let mut names = match node_names {
            Some(v) if v.len() != n => {
                return Err(user_error(format!(
                    "node_names has {} names for {n} nodes",
                    v.len()
                )));
            }
            Some(v) => v,
            None => (0..n).map(|i| format!("n{i}")).collect(),
        };
        if let Some(g) = ground {
            names[g] = memnet_spice::GROUND.to_string();
        }
        let c = |k: usize| cols[k].as_deref();
        let spec = EdgeColumns {
            title,
            node_names: names,
            tails: &tails,
            heads: &heads,
            ron: c(0),
            roff: c(1),
            w0: c(2),
            alpha: c(3),
            beta: c(4),
            source: c(5),
            polarity: c(6),
            resistance: c(7),
        };
        let net = network_from_columns(&spec, &DeviceDefaults::default())
            .map_err(|e: NetworkError| user_error(e.render()))?;
        Ok(Network {
            net: Arc::new(net),
            circuit: None,
            warnings: Vec::new(),
        })
    }

    /// A networkx graph's edges as devices: nodes in the graph's order,
    /// named `str(node)`; edge attributes named as from_edges' parameters
    /// are the devices' parameters; `ground` is the node to call `0`.
    #[staticmethod]
    #[pyo3(signature = (graph, *, ground=None, title=String::new()))]
    fn from_networkx(
        py: Python<'_>,
        graph: &Bound<'_, PyAny>,
        ground: Option<&Bound<'_, PyAny>>,
        title: String,
    ) -> PyResult<Py<PyAny>> {
        let nx = py.import("memnet._networkx")?;
        Ok(nx
            .call_method1("from_networkx", (graph, ground, title))?
            .unbind())
    }

    /// The network as a networkx MultiDiGraph: direction matters (a
    /// device's p pin is the edge's tail) and parallel edges are kept; each
    /// edge is keyed by its name and carries `kind` and its parameters.
    fn to_networkx(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let nx = slf.py().import("memnet._networkx")?;
        Ok(nx.call_method1("to_networkx", (slf,))?.unbind())
    }

    #[getter]
    fn title(&self) -> &str {
        &self.net.title
    }

    /// Node names, indexed as `tails` and `heads` (ground is `0`).
    #[getter]
    fn node_names(&self) -> Vec<String> {
        self.net.node_names.clone()
    }

    /// Edge (element) names, lower case and flattened (`x1.xm2`, `r5`).
    #[getter]
    fn edge_names(&self) -> Vec<String> {
        self.net.edges.iter().map(|e| e.name.to_string()).collect()
    }

    /// The names of the devices with state, in the column order of a
    /// simulation's `w`.
    #[getter]
    fn device_names(&self) -> Vec<String> {
        Probes::states(&self.net)
            .names()
            .iter()
            .map(|n| n.to_string())
            .collect()
    }

    #[getter]
    fn n_nodes(&self) -> usize {
        self.net.node_names.len()
    }

    #[getter]
    fn n_edges(&self) -> usize {
        self.net.edges.len()
    }

    /// Devices with state (the columns of `w`).
    #[getter]
    fn n_devices(&self) -> usize {
        Probes::states(&self.net).len()
    }

    #[getter]
    fn tails<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        let v: Vec<i64> = self.net.edges.iter().map(|e| e.tail as i64).collect();
        v.into_pyarray(py)
    }

    #[getter]
    fn heads<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        let v: Vec<i64> = self.net.edges.iter().map(|e| e.head as i64).collect();
        v.into_pyarray(py)
    }

    /// Per edge: `memristor` (memnet's linear law), `resistor`, or the name
    /// of the device's law (`body` for a compiled subcircuit, `yakopcic`,
    /// `xyce-team`, ...).
    #[getter]
    fn kinds(&self) -> Vec<String> {
        self.net
            .edges
            .iter()
            .map(|e| match &e.device {
                Device::Memristor(_) => "memristor".to_string(),
                Device::Resistor { .. } => "resistor".to_string(),
                Device::Native { spec } => self.net.laws[*spec as usize].law.clone(),
            })
            .collect()
    }

    /// The CSV edge list's parameter columns, NaN where an edge has no such
    /// parameter (a resistor's ron, a memristor's resistance, another
    /// law's everything): ron, roff, w0, alpha, beta, polarity, resistance,
    /// and source (the series source's DC value times its sign, 0 where
    /// there is none).
    fn parameters<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<Vec<(String, Bound<'py, PyArray1<f64>>)>> {
        let columns: [(&str, Column); 7] = [
            ("ron", |d| memristor(d).map(|p| p.ron)),
            ("roff", |d| memristor(d).map(|p| p.roff)),
            ("w0", |d| memristor(d).map(|p| p.w0)),
            ("alpha", |d| memristor(d).map(|p| p.alpha)),
            ("beta", |d| memristor(d).map(|p| p.beta)),
            ("polarity", |d| memristor(d).map(|p| p.polarity)),
            ("resistance", |d| match d {
                Device::Resistor { resistance } => Some(*resistance),
                _ => None,
            }),
        ];
        let mut out: Vec<(String, Bound<'py, PyArray1<f64>>)> = columns
            .iter()
            .map(|(name, f)| {
                let v: Vec<f64> = self
                    .net
                    .edges
                    .iter()
                    .map(|e| f(&e.device).unwrap_or(f64::NAN))
                    .collect();
                (name.to_string(), v.into_pyarray(py))
            })
            .collect();
        // The series source's value at t = 0 times its sign (theory.md
        // 3.1), 0 without one.
        let source: Vec<f64> = self
            .net
            .edges
            .iter()
            .map(|e| e.source.as_ref().map_or(0.0, |s| s.sign * s.source.dc))
            .collect();
        out.push(("source".to_string(), source.into_pyarray(py)));
        Ok(out)
    }

    /// A copy of this network in which every memristor follows device law
    /// `law` (hp, nlid, team, vteam, yakopcic, mmss, xyce-team, xspice,
    /// ...; docs/device-laws.md) with numeric `params` (`{"ron": 100,
    /// "x0": 0.3}`) and word `options` (`{"window": "biolek"}`), checked
    /// against the law's table, as `memnet generate --law` does. Each
    /// device's p pin is its edge's tail; the linear law's per-device
    /// values (w0, polarity) do not carry over, the law's own parameters
    /// set the initial state. Resistors and sources stay as they are.
    #[pyo3(signature = (law, params=None, options=None))]
    fn with_law(
        &self,
        law: &str,
        params: Option<BTreeMap<String, f64>>,
        options: Option<BTreeMap<String, String>>,
    ) -> PyResult<Network> {
        let spec = memnet_graph::LawSpec {
            law: law.to_ascii_lowercase(),
            options: options
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_ascii_lowercase()))
                .collect(),
            params: params
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
            tables: Vec::new(),
            loc: None,
            body: None,
        };
        memnet_solver::Laws::default()
            .push_spec(&spec)
            .map_err(|e| user_error(format!("law `{law}`: {e}")))?;
        let mut net = (*self.net).clone();
        net.give_law(spec);
        Ok(Network {
            net: Arc::new(net),
            // The netlist no longer describes these devices.
            circuit: None,
            warnings: self.warnings.clone(),
        })
    }

    /// Drives this network as a reservoir with input series `u`, as `memnet
    /// reservoir` does: the input enters as bias_k + gain m_k (u[n] -
    /// centre), held for `period` per sample, with masks m_k = +-1 from
    /// `seed`: on series sources added to every `every`-th edge (bias_k
    /// uniform in the `bias` range), on the netlist's voltage sources named in
    /// `sources` (bias_k their DC value) and on ideal sources from the
    /// nodes named in `nodes` to ground (bias_k uniform); with neither
    /// sources nor nodes, `every` defaults to 1. `bias` is B for [-B, B]
    /// or a pair (lo, hi). `method` "rk4" or "euler" with `steps` fixed
    /// steps per period, `reuse_factorization` as in `simulate`.
    /// `features` ("states", "currents" as R_on i, "potentials",
    /// comma-separated) read at `virtual_nodes` instants of each period
    /// (`read`: that many evenly spaced quantities, default all), with
    /// `delays` delayed copies of them (periods n-1..n-delays).
    /// `input_lags` L puts a delay line on the input side: the j-th driven
    /// input (edges, then sources, then nodes) carries u[n - (j mod (L+1))],
    /// its bias alone before that. Returns the
    /// features, float64 of shape (len(u), 2 + (1 + delays) * V *
    /// quantities): [1, u[n], quantities]. `centre` defaults to the mean of u. The GIL is
    /// released; Ctrl-C stops the run.
    #[pyo3(signature = (u, *, every=None, sources=Vec::new(), nodes=Vec::new(), features="states", gain=0.5, bias=BiasArg::Symmetric(1.0), centre=None, period=1.0, steps=10, virtual_nodes=1, read=None, delays=0, input_lags=0, method="rk4", reuse_factorization=false, seed=1))]
    #[allow(clippy::too_many_arguments)]
    fn drive<'py>(
        &self,
        py: Python<'py>,
        u: PyReadonlyArray1<'py, f64>,
        every: Option<usize>,
        sources: Vec<String>,
        nodes: Vec<String>,
        features: &str,
        gain: f64,
        bias: BiasArg,
        centre: Option<f64>,
        period: f64,
        steps: usize,
        virtual_nodes: usize,
        read: Option<usize>,
        delays: usize,
        input_lags: usize,
        method: &str,
        reuse_factorization: bool,
        seed: u64,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        // Any layout (a column of a loaded table is strided).
        let u: Vec<f64> = u.as_array().iter().copied().collect();
        let centre = centre.unwrap_or_else(|| u.iter().sum::<f64>() / u.len().max(1) as f64);
        let mut d = memnet_reservoir::Drive {
            gain,
            centre,
            period,
            virtual_nodes,
            steps_per_period: steps,
            features: memnet_reservoir::FeatureKinds::parse(features).map_err(user_error)?,
            delays,
            input_lags,
            method: match method {
                "rk4" => Method::Rk4,
                "euler" => Method::Euler,
                m => {
                    return Err(user_error(format!(
                        "method `{m}`: a reservoir is driven by rk4 or euler"
                    )));
                }
            },
            reuse_factorization,
            ..memnet_reservoir::Drive::new()
        };
        let bias = match bias {
            BiasArg::Symmetric(b) => memnet_reservoir::BiasRange::from(b),
            BiasArg::Range(lo, hi) => memnet_reservoir::BiasRange { lo, hi },
        };
        d.set_inputs(&self.net, every, &sources, &nodes, bias, seed)
            .map_err(user_error)?;
        d.read = read.map(|r| memnet_reservoir::Drive::evenly_spaced(d.snapshot_len(&self.net), r));
        let net = self.net.clone();
        let mut signals = Signals::new();
        let result = py.detach(|| memnet_reservoir::drive(&net, &d, &u, &mut |_| signals.poll()));
        let x = match result {
            Ok(x) => x,
            Err(memnet_reservoir::DriveError::Solve(SolveError::Interrupted { t })) => {
                return Err(signals.interrupted(t));
            }
            Err(e) => return Err(user_error(e)),
        };
        x.data.into_pyarray(py).reshape([x.rows, x.cols])
    }

    /// The netlist's warnings, one line each, as the CLI prints them.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    /// Integrates the network's dynamics from t = 0 to `t_end` (default: the
    /// netlist's `.tran` stop time) with the options of `memnet simulate`:
    /// `method` auto (dopri5 for any device law but memnet's linear one,
    /// rk4 otherwise), euler, rk4, dopri5, rosenbrock or exact; `dt` the
    /// fixed step (default t_end/1000); `sample_dt` the sample interval
    /// (default the `.tran` step, else t_end/100); `rtol`/`atol` the
    /// adaptive tolerances (1e-8, 1e-10); `locate_switches` True, False
    /// or None (the default: with dopri5 on networks of at most 16 devices
    /// with state, as on the command line); `max_step`,
    /// `error_norm` (rms, max) and `bounds` (clip, sticky) as on the
    /// command line. `save` adds outputs beyond the states: `["all"]`
    /// (every node potential and voltage-source current) or names as in
    /// `--save` (`v(node)`, `i(vsource)`, `i(device)`, ...).
    /// `reuse_factorization` keeps factorisations across evaluations as
    /// conjugate-gradient preconditioners (`--reuse-factorization`; the
    /// summary's `cg_iterations` and `reused_solves` count them);
    /// `ordering` the fill-reducing ordering (auto, amd, nd, metis: `--ordering`;
    /// the summary's `ordering` says which ran). `progress`
    /// shows a bar on stderr (default: when stderr is a terminal).
    ///
    /// The GIL is released while the solver runs; Ctrl-C stops it and
    /// raises KeyboardInterrupt. A failure raises MemnetError with the
    /// CLI's message.
    #[pyo3(signature = (t_end=None, *, method="auto", dt=None, sample_dt=None, rtol=None, atol=None, locate_switches=None, max_step=None, error_norm=None, bounds="clip", save=Vec::new(), reuse_factorization=false, ordering="auto", progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn simulate(
        &self,
        py: Python<'_>,
        t_end: Option<f64>,
        method: &str,
        dt: Option<f64>,
        sample_dt: Option<f64>,
        rtol: Option<f64>,
        atol: Option<f64>,
        locate_switches: Option<bool>,
        max_step: Option<f64>,
        error_norm: Option<&str>,
        bounds: &str,
        save: Vec<String>,
        reuse_factorization: bool,
        ordering: &str,
        progress: Option<bool>,
    ) -> PyResult<SimResult> {
        let request = RunRequest {
            t_end,
            method: method_of(method)?,
            dt,
            rtol,
            atol,
            locate_switches,
            max_step,
            error_norm: match error_norm {
                None => None,
                Some("rms") => Some(ErrorNorm::Rms),
                Some("max") => Some(ErrorNorm::Max),
                Some(other) => {
                    return Err(user_error(format!(
                        "error_norm `{other}`: expected rms or max"
                    )));
                }
            },
            bounds: match bounds {
                "clip" => Bounds::Clip,
                "sticky" => Bounds::Sticky,
                other => {
                    return Err(user_error(format!(
                        "bounds `{other}`: expected clip or sticky"
                    )));
                }
            },
            sample_dt,
            reuse_factorization,
            ordering: match ordering {
                "auto" => memnet_solver::Ordering::Auto,
                "amd" => memnet_solver::Ordering::Amd,
                "nd" => memnet_solver::Ordering::NestedDissection,
                "metis" => memnet_solver::Ordering::Metis,
                other => {
                    return Err(user_error(format!(
                        "ordering `{other}`: expected auto, amd, nd or metis"
                    )));
                }
            },
        };
        let net = self.net.clone();
        let opts = request
            .options(&net, OptionStyle::Keyword)
            .map_err(user_error)?;
        let (probes, states) = probes_for(&net, &save).map_err(user_error)?;
        let owned = |ns: &[memnet_graph::CompactString]| -> Vec<String> {
            ns.iter().map(|n| n.to_string()).collect()
        };
        let names = owned(&probes.names()[..states]);
        let output_names = owned(&probes.names()[states..]);
        let show_bar = progress.unwrap_or_else(|| std::io::stderr().is_terminal());
        let mut sink = Collect {
            states,
            t: Vec::new(),
            w: Vec::new(),
            rest: Vec::new(),
        };
        let mut signals = Signals::new();
        let result = py.detach(|| {
            let bar = show_bar.then(|| progress_bar(opts.t_end));
            let t_end = opts.t_end;
            let mut on_progress = |t: f64| {
                if let Some(b) = &bar {
                    b.set_position((t / t_end * 1000.0) as u64);
                }
                // Ctrl-C stops the run with the samples so far kept.
                signals.poll()
            };
            let r = simulate_until(&net, &opts, &probes, &mut sink, &mut on_progress);
            if let Some(b) = &bar {
                b.finish_and_clear();
            }
            r
        });
        let report = match result {
            Ok(r) => r,
            Err(SolveError::Interrupted { t }) => return Err(signals.interrupted(t)),
            Err(e) => return Err(user_error(e)),
        };
        let rows = sink.t.len();
        let summary_json = summary_json(&report, opts.t_end);
        let t = sink.t.into_pyarray(py).unbind();
        let w = sink.w.into_pyarray(py).reshape([rows, states])?.unbind();
        let outputs = sink
            .rest
            .into_pyarray(py)
            .reshape([rows, output_names.len()])?
            .unbind();
        Ok(SimResult {
            t,
            w,
            names,
            outputs,
            output_names,
            summary_json,
        })
    }

    /// What the theory says this network's dynamics obey, each statement
    /// checked on a simulation to `t_end` (default the `.tran` stop time,
    /// else 1): the report of `memnet analyze --json` as Python data
    /// (dicts, lists, numbers). A law or circuit outside a result's
    /// hypotheses gets that result as "not applicable" with the reason.
    #[pyo3(signature = (t_end=None, *, jacobian=false, symmetries=false, lyapunov=false))]
    fn analyze(
        &self,
        py: Python<'_>,
        t_end: Option<f64>,
        jacobian: bool,
        symmetries: bool,
        lyapunov: bool,
    ) -> PyResult<Py<PyAny>> {
        let opts = memnet_analysis::AnalyzeOptions {
            t_end: t_end.or(self.net.tran.map(|t| t.tstop)).unwrap_or(1.0),
            jacobian,
            symmetries,
            lyapunov,
        };
        let net = self.net.clone();
        let report = py
            .detach(|| memnet_analysis::analyze(&net, &opts))
            .map_err(user_error)?;
        let text = serde_json::to_string(&report).map_err(user_error)?;
        Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
    }

    /// Writes a self-contained ngspice deck of this circuit to `path`, as
    /// `memnet export --to ngspice` does: the run to `t_end` (default the
    /// `.tran` stop time), printed every `sample_dt`, its raw file at
    /// `raw_path` (default `path` with extension `.raw`).
    #[pyo3(signature = (path, *, t_end=None, sample_dt=None, max_step=None, raw_path=None, ascii=false))]
    fn export_ngspice(
        &self,
        path: PathBuf,
        t_end: Option<f64>,
        sample_dt: Option<f64>,
        max_step: Option<f64>,
        raw_path: Option<String>,
        ascii: bool,
    ) -> PyResult<()> {
        let owned;
        let circuit = match &self.circuit {
            Some(c) => &**c,
            None => {
                owned = self.net.to_circuit();
                &owned
            }
        };
        let opts = DeckOptions {
            ascii,
            ..DeckOptions::for_circuit(
                circuit,
                &path,
                t_end,
                sample_dt,
                max_step,
                raw_path,
                OptionStyle::Keyword,
            )
            .map_err(user_error)?
        };
        let io = |e: std::io::Error| user_error(format!("{}: {e}", path.display()));
        let file = std::fs::File::create(&path).map_err(io)?;
        let mut w = std::io::BufWriter::new(file);
        write_ngspice_deck_with(
            circuit,
            &opts,
            &memnet_solver::device::ngspice::NgspiceBodies,
            &mut w,
        )
        .map_err(|e| match e {
            ExportError::Io(e) => io(e),
            other => user_error(other),
        })?;
        std::io::Write::flush(&mut w).map_err(io)
    }

    fn __repr__(&self) -> String {
        format!(
            "<memnet.Network '{}': {} nodes, {} edges, {} devices with state>",
            self.net.title,
            self.net.node_names.len(),
            self.net.edges.len(),
            Probes::states(&self.net).len()
        )
    }
}

/// One parameter column: the edge's value, if its device has one.
type Column = fn(&Device) -> Option<f64>;

fn memristor(d: &Device) -> Option<&memnet_graph::MemristorParams> {
    match d {
        Device::Memristor(p) => Some(p),
        _ => None,
    }
}

/// The run summary with the end time, as `memnet simulate --json` has it
/// (without the file names).
fn summary_json(report: &memnet_solver::SimReport, t_end: f64) -> String {
    let mut v = serde_json::to_value(report).unwrap_or(serde_json::Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("t_end".into(), t_end.into());
    }
    v.to_string()
}

/// Python's signals, looked at every 50 ms from a solver's progress
/// callback while the GIL is released: the first error a handler raises
/// (KeyboardInterrupt for Ctrl-C) stops the run and is raised after it.
struct Signals {
    last_check: Instant,
    raised: Option<PyErr>,
}

impl Signals {
    fn new() -> Signals {
        Signals {
            last_check: Instant::now(),
            raised: None,
        }
    }

    fn poll(&mut self) -> ControlFlow<()> {
        if self.last_check.elapsed() < Duration::from_millis(50) {
            return ControlFlow::Continue(());
        }
        self.last_check = Instant::now();
        match Python::attach(|py| py.check_signals()) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                self.raised = Some(e);
                ControlFlow::Break(())
            }
        }
    }

    /// The error to raise for a run stopped at `t`.
    fn interrupted(self, t: f64) -> PyErr {
        self.raised
            .unwrap_or_else(|| PyKeyboardInterrupt::new_err(format!("interrupted at t = {t}")))
    }
}

/// The CLI's progress bar (indicatif, the same template as `memnet
/// simulate`): shown when asked for, or by default when stderr is a
/// terminal; indicatif itself draws nothing when stderr is not one.
fn progress_bar(t_end: f64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(1000), ProgressDrawTarget::stderr_with_hz(10));
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% of t_end = {msg}, eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(t_end.to_string());
    bar
}

/// Scores a ridge readout as `memnet reservoir` does: features `x`
/// (samples x features, float64), targets `y`; trains on
/// [washout, train_end) for each lambda of `grid`, keeps the best on
/// [train_end, val_end), refits on [washout, val_end) and returns the test
/// NRMSE on [val_end, test_end) (population variance) with the chosen
/// lambda and the validation scores, as a dict.
#[pyfunction]
#[pyo3(signature = (x, y, split=(200, 2200, 3200, 5200), grid=None))]
fn score_readout(
    py: Python<'_>,
    x: numpy::PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray1<'_, f64>,
    split: (usize, usize, usize, usize),
    grid: Option<Vec<f64>>,
) -> PyResult<Py<PyAny>> {
    let y: Vec<f64> = y.as_array().iter().copied().collect();
    let (features, split, grid) = readout_inputs(&x, y.len(), split, grid)?;
    let score = py.detach(|| memnet_reservoir::select_and_score(&features, &y, split, &grid));
    let text = serde_json::to_string(&score).map_err(user_error)?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

/// The features, split and lambda grid of a readout call, checked.
fn readout_inputs(
    x: &numpy::PyReadonlyArray2<'_, f64>,
    n: usize,
    split: (usize, usize, usize, usize),
    grid: Option<Vec<f64>>,
) -> PyResult<(
    memnet_reservoir::Features,
    memnet_reservoir::Split,
    Vec<f64>,
)> {
    let view = x.as_array();
    let (rows, cols) = view.dim();
    let (washout, train_end, val_end, test_end) = split;
    if !(washout < train_end && train_end < val_end && val_end < test_end) || test_end > rows {
        return Err(user_error(format!(
            "split {split:?} must be increasing and within the {rows} samples"
        )));
    }
    if n != rows {
        return Err(user_error(format!(
            "the series has {n} samples, x has {rows}"
        )));
    }
    let features = memnet_reservoir::Features {
        rows,
        cols,
        // Row-major whatever numpy's layout (iteration is in logical order).
        data: view.iter().copied().collect(),
    };
    let grid = grid.unwrap_or_else(|| vec![1e-11, 1e-9, 1e-7, 1e-5, 1e-3, 1e-1, 1.0]);
    if grid.is_empty() {
        return Err(user_error("grid must hold at least one lambda"));
    }
    let split = memnet_reservoir::Split {
        washout,
        train_end,
        val_end,
        test_end,
    };
    Ok((features, split, grid))
}

/// Jaeger's linear memory capacity of features `x` (samples x features)
/// driven by input `u`, as `memnet reservoir --capacity` computes it: for
/// each delay k = 1..=`k_max` (at most the washout) a ridge readout of
/// u[t-k] with lambda chosen on validation, refitted on train and
/// validation; r_k^2 is its squared correlation with u[t-k] on test.
/// Returns {"total": MC, "curve": [r_1^2, ...]}.
#[pyfunction]
#[pyo3(signature = (x, u, k_max=200, split=(200, 2200, 3200, 5200), grid=None))]
fn memory_capacity(
    py: Python<'_>,
    x: numpy::PyReadonlyArray2<'_, f64>,
    u: PyReadonlyArray1<'_, f64>,
    k_max: usize,
    split: (usize, usize, usize, usize),
    grid: Option<Vec<f64>>,
) -> PyResult<Py<PyAny>> {
    let u: Vec<f64> = u.as_array().iter().copied().collect();
    let (features, split, grid) = readout_inputs(&x, u.len(), split, grid)?;
    let mc = py
        .detach(|| memnet_reservoir::memory_capacity(&features, &u, split, k_max, &grid))
        .map_err(user_error)?;
    let text = serde_json::to_string(&mc).map_err(user_error)?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

#[pymodule]
fn _memnet(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Network>()?;
    m.add_class::<SimResult>()?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(generate_network, m)?)?;
    m.add_function(wrap_pyfunction!(score_readout, m)?)?;
    m.add_function(wrap_pyfunction!(memory_capacity, m)?)?;
    m.add("MemnetError", m.py().get_type::<MemnetError>())?;
    Ok(())
}
