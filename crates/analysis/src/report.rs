//! `analyze`: every result of theory.md section 4 for one network, checked
//! against a simulation, as a serde-serialisable report and as text.

use std::fmt::Write as _;

use serde::Serialize;

use crate::dense;
use crate::dynamics::{BoundExit, Evaluator, Tolerance, simulate};
use crate::error::AnalysisError;
use crate::flux::{check_flux_law, check_strong_regime};
use crate::jacobian::{
    RealityCheck, check_j1, eigenvalues, find_fixed_point, finite_difference_jacobian,
    fixed_point_spectrum, jacobian_columns, jacobian_dense, max_imag,
};
use crate::linear::check_linear_regime;
use crate::lyapunov::{FunctionalSeries, lyapunov_series};
use crate::memory::{
    DENSE_LIMIT, MemoryCounts, check_charge_law, check_reduced_dynamics, conserved_charges,
    memory_counts,
};
use crate::model::{EdgeKind, Model, Uniform};
use crate::symmetry::{SymmetryCheck, check_all};
use crate::verdict::Verdict;
use memnet_graph::OmegaOperator;

/// What to compute. The trajectory-based checks always run; the three
/// flags switch on the costlier parts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnalyzeOptions {
    /// End of the simulated window the laws are verified on.
    pub t_end: f64,
    /// Jacobian spectra, theorems J1/J2, fixed-point formula (theory.md 4.5).
    pub jacobian: bool,
    /// The symmetry checkers of theory.md 4.2.
    pub symmetries: bool,
    /// Lyapunov functionals along the trajectory (theory.md 4.6).
    pub lyapunov: bool,
}

impl Default for AnalyzeOptions {
    /// t_end = 1 and every part switched on.
    fn default() -> Self {
        AnalyzeOptions {
            t_end: 1.0,
            jacobian: true,
            symmetries: true,
            lyapunov: true,
        }
    }
}

/// Number of sample intervals of the verified trajectory.
pub const SAMPLES: usize = 200;
/// Above this many edges the verified trajectory has [`LARGE_SAMPLES`]
/// sample intervals: every sample ends an integration step, and on a
/// million-edge network each step costs seconds of sparse factorisations.
pub const LARGE_NETWORK: usize = 100_000;
pub const LARGE_SAMPLES: usize = 4;

/// Sample intervals of the verified trajectory for a network of `m` edges.
pub fn sample_intervals(m: usize) -> usize {
    if m > LARGE_NETWORK {
        LARGE_SAMPLES
    } else {
        SAMPLES
    }
}
/// Seed of the random gauge potentials, cycle-basis changes and relabellings.
pub const SEED: u64 = 0x6d65_6d6e_6574;

#[derive(Clone, Debug, Serialize)]
pub struct TrajectorySummary {
    pub t_end: f64,
    /// Last sample strictly inside [0, 1]; the checks use [0, t_checked].
    pub t_checked: f64,
    pub samples: usize,
    pub steps: usize,
    pub rejected_steps: usize,
    pub rhs_evaluations: usize,
    /// First device to leave [0, 1], if any (the exact laws stop there).
    pub exit: Option<BoundExit>,
    pub w_min: f64,
    pub w_max: f64,
    pub w_mean: f64,
    /// Set when the states are not memnet's w: the laws' own variables
    /// (a network of other device laws, see [`analyze`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_variable: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ConservationReport {
    /// The law in words, with this circuit's parameters.
    pub law: String,
    /// q(0) = B_r (c .* w(0)) for the first few non-ground nodes.
    pub charges: Vec<f64>,
    pub verdict: Verdict,
}

#[derive(Clone, Debug, Serialize)]
pub struct JacobianAt {
    pub label: String,
    pub t: f64,
    /// Eigenvalues (re, im), sorted: plot data.
    pub eigenvalues: Vec<(f64, f64)>,
    /// Analytic J against central differences (h = 1e-6, T8).
    pub finite_difference: Verdict,
    /// Theorem J1.
    pub j1: RealityCheck,
}

#[derive(Clone, Debug, Serialize)]
pub struct JacobianReport {
    pub states: Vec<JacobianAt>,
    /// Set when the Jacobian part was skipped (size), with the reason.
    pub skipped: Option<String>,
    /// Fixed point found by Newton from w(t_checked), if any.
    pub fixed_point: Option<Vec<f64>>,
    pub fixed_point_eigenvalues: Vec<(f64, f64)>,
    /// alpha (1 + 2 xi lambda)/(1 + xi lambda) against eig J(w*).
    pub fixed_point_formula: Verdict,
    /// Theorem J2: D = diag(xi_k w*_k) >= 0 implies a real spectrum at w*.
    pub j2: Verdict,
}

#[derive(Clone, Debug, Serialize)]
pub struct AnalysisReport {
    pub title: String,
    pub counts: MemoryCounts,
    /// Shared device parameters, when uniform.
    pub uniform: Option<Uniform>,
    /// How the network was brought to the theory's form, and its hypotheses.
    pub notes: Vec<String>,
    pub trajectory: TrajectorySummary,
    /// (C1), theory.md 4.1.
    pub conservation: ConservationReport,
    /// The L-dimensional z-system, theory.md 4.1 (T12).
    pub reduced_dynamics: Verdict,
    /// (C2), theory.md 4.4 (T4).
    pub flux_law: Verdict,
    /// Omega(w^2) law for xi >> 1, theory.md 4.4 (T10).
    pub strong_regime: Verdict,
    /// Closed forms at xi = 0 / first order, theory.md 4.3 (T11).
    pub linear_regime: Verdict,
    pub symmetries: Option<Vec<SymmetryCheck>>,
    pub jacobian: Option<JacobianReport>,
    /// L, E, F_1 against time: plot data and monotonicity (T6, T7).
    pub lyapunov: Option<Vec<FunctionalSeries>>,
}

fn notes(model: &Model) -> Vec<String> {
    let mut out = Vec::new();
    if !model.constraints.is_empty() {
        // Name a few; a driven million-node grid has thousands of them.
        const SHOWN: usize = 8;
        let names: Vec<&str> = model
            .constraints
            .iter()
            .take(SHOWN)
            .map(|c| c.0.as_str())
            .collect();
        let more = model.constraints.len().saturating_sub(SHOWN);
        let rest = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        out.push(format!(
            "ideal voltage sources {}{rest} merged their nodes into supernodes; their voltages \
             act as series sources on the edges that touch them",
            names.join(", ")
        ));
    }
    let reversed = model.edges.iter().filter(|e| e.reversed).count();
    if reversed > 0 {
        out.push(format!(
            "{reversed} reversed device(s) analysed with their edge turned round (docs/model.md)"
        ));
    }
    if let Some(r) = model.nonuniform_reason() {
        out.push(format!("Omega-form results need uniform devices: {r}"));
    }
    if let Some(r) = model.injection_reason() {
        out.push(r);
    }
    if let Some(r) = model.time_dependent_reason() {
        out.push(r);
    }
    out
}

fn na_all(reason: &str) -> Verdict {
    Verdict::na(reason.to_string())
}

/// Analyses `net` (theory.md section 4): simulates [0, t_end] (stopping
/// where a device leaves [0, 1]), then checks each result on that window.
pub fn analyze(
    net: &memnet_graph::Network,
    opts: &AnalyzeOptions,
) -> Result<AnalysisReport, AnalysisError> {
    if !(opts.t_end.is_finite() && opts.t_end > 0.0) {
        return Err(AnalysisError::Invalid(format!(
            "t_end must be positive and finite (got {})",
            opts.t_end
        )));
    }
    if let Some(report) = other_laws_report(net, opts)? {
        return Ok(report);
    }
    let model = Model::from_network(net, opts.t_end)?;
    let counts = memory_counts(&model);
    let traj = simulate(
        &model,
        opts.t_end,
        sample_intervals(model.n_edges()),
        Tolerance::default(),
    )?;
    let (t_checked, w_last) = traj.last();
    let w_last = w_last.to_vec();
    let nm = model.n_memristors();
    let trajectory = TrajectorySummary {
        t_end: opts.t_end,
        t_checked,
        samples: traj.times.len(),
        steps: traj.steps,
        rejected_steps: traj.rejected,
        rhs_evaluations: traj.rhs_evals,
        exit: traj.exit.clone(),
        w_min: w_last.iter().copied().fold(f64::INFINITY, f64::min),
        w_max: w_last.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        w_mean: if nm > 0 {
            w_last.iter().sum::<f64>() / nm as f64
        } else {
            f64::NAN
        },
        state_variable: None,
    };
    let proj = OmegaOperator::new(model.topo.clone())?;
    let too_short = traj.times.len() < 2;
    let short_reason = "the trajectory left [0, 1] before its first sample";

    let law = match model.uniform() {
        Some(u) if u.alpha == 0.0 => "B w(t) = B w(0)".to_string(),
        Some(u) => format!("B w(t) = e^({} t) B w(0)", u.alpha),
        None => {
            "B (beta/ron .* w)(t) = e^(alpha t) B (beta/ron .* w)(0) - int e^(alpha(t-s)) J(s) ds"
                .to_string()
        }
    };
    let charges = if nm > 0 {
        let mut q = conserved_charges(&model, &proj, &traj.states[0]);
        q.truncate(12);
        q
    } else {
        Vec::new()
    };
    let conservation = ConservationReport {
        law,
        charges,
        verdict: if too_short {
            na_all(short_reason)
        } else {
            check_charge_law(&model, &proj, &traj)
        },
    };
    let (reduced_dynamics, flux_law, strong_regime, linear_regime) = if too_short {
        (
            na_all(short_reason),
            na_all(short_reason),
            na_all(short_reason),
            na_all(short_reason),
        )
    } else {
        (
            check_reduced_dynamics(&model, &traj, Tolerance::default())?,
            check_flux_law(&model, &proj, &traj),
            check_strong_regime(&model, &proj, &traj),
            check_linear_regime(&model, &proj, &traj),
        )
    };
    let symmetries = if opts.symmetries {
        let t_sym = t_checked.min(0.5);
        if t_sym > 0.0 && nm > 0 {
            Some(check_all(&model, t_sym, SEED)?)
        } else {
            Some(vec![SymmetryCheck {
                name: "all".into(),
                statement: "the symmetries of the memory equation".into(),
                verdict: Verdict::na(if nm == 0 {
                    "the circuit has no memristors"
                } else {
                    short_reason
                }),
            }])
        }
    } else {
        None
    };
    let jacobian = if opts.jacobian {
        Some(jacobian_report(
            &model,
            &traj.states[0],
            t_checked,
            &w_last,
        )?)
    } else {
        None
    };
    let lyapunov = if opts.lyapunov {
        Some(lyapunov_series(&model, &proj, &traj))
    } else {
        None
    };
    Ok(AnalysisReport {
        title: model.title.clone(),
        counts,
        uniform: model.uniform(),
        notes: notes(&model),
        trajectory,
        conservation,
        reduced_dynamics,
        flux_law,
        strong_regime,
        linear_regime,
        symmetries,
        jacobian,
        lyapunov,
    })
}

/// The report for a network with devices of laws other than memnet's
/// linear one (`None` when every device follows it): the topological
/// counts, a simulation with the laws as they are, and every theory result
/// not applicable, with the reason. The theory (theory.md 1-4) is derived
/// for R linear in w and dw/dt = alpha w - ron i / beta; its conserved
/// charges, flux law, symmetries, Jacobian theorems and Lyapunov
/// functionals all rest on that form.
fn other_laws_report(
    net: &memnet_graph::Network,
    opts: &AnalyzeOptions,
) -> Result<Option<AnalysisReport>, AnalysisError> {
    use memnet_graph::Device;
    let mut laws: Vec<(String, usize)> = Vec::new();
    for e in &net.edges {
        if let Device::Native { spec } = e.device {
            let law = net.laws.get(spec as usize).map_or("?", |s| s.law.as_str());
            match laws.iter_mut().find(|(l, _)| l == law) {
                Some((_, n)) => *n += 1,
                None => laws.push((law.to_string(), 1)),
            }
        }
    }
    if laws.is_empty() {
        return Ok(None);
    }
    let named: Vec<String> = laws
        .iter()
        .map(|(l, n)| format!("`{l}` ({n} device{})", if *n == 1 { "" } else { "s" }))
        .collect();
    let reason = format!(
        "the circuit's devices follow {}; the theory's results are derived for memnet's \
         linear law (R linear in w, dw/dt = alpha w - ron i / beta; theory.md 1.1-1.2) and \
         do not hold for other laws",
        named.join(", ")
    );
    let topo = memnet_graph::Topology::try_new(net)?;
    let t = topo.contracted();
    // Static devices (diodes, selectors) hold no memory: they count with
    // the resistors, as edges without state.
    let memristors = net.n_stateful_devices();
    let counts = MemoryCounts::of_graph(t.n_nodes, t.n_edges, t.n_components, memristors);
    let sim = memnet_solver::SimOptions {
        t_end: opts.t_end,
        method: memnet_solver::Method::Dopri5,
        dt: 0.0,
        sample_dt: Some(opts.t_end / SAMPLES as f64),
        ..memnet_solver::SimOptions::default()
    };
    let run = memnet_solver::simulate(net, &sim, &mut memnet_solver::NullSink, &mut |_| {})
        .map_err(|e| AnalysisError::Numerical(e.to_string()))?;
    let trajectory = TrajectorySummary {
        t_end: opts.t_end,
        t_checked: opts.t_end,
        samples: run.samples as usize,
        steps: run.steps as usize,
        rejected_steps: run.rejected_steps as usize,
        rhs_evaluations: run.rhs_evals as usize,
        exit: None,
        w_min: run.w_min,
        w_max: run.w_max,
        w_mean: run.w_mean,
        state_variable: Some("each law's own state variable".into()),
    };
    let short = format!(
        "the devices follow {}, not memnet's linear law (see the note)",
        laws.iter()
            .map(|(l, _)| format!("`{l}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let na = || Verdict::na(short.clone());
    let jacobian = opts.jacobian.then(|| JacobianReport {
        states: Vec::new(),
        skipped: Some(short.clone()),
        fixed_point: None,
        fixed_point_eigenvalues: Vec::new(),
        fixed_point_formula: na(),
        j2: na(),
    });
    Ok(Some(AnalysisReport {
        title: net.title.clone(),
        counts,
        uniform: None,
        notes: vec![format!(
            "not the linear law: {reason}; the counts below are the graph's, the trajectory \
             is the laws' own (memnet simulate)"
        )],
        trajectory,
        conservation: ConservationReport {
            law: "B w(t) = B w(0)".into(),
            charges: Vec::new(),
            verdict: na(),
        },
        reduced_dynamics: na(),
        flux_law: na(),
        strong_regime: na(),
        linear_regime: na(),
        symmetries: opts.symmetries.then(|| {
            vec![SymmetryCheck {
                name: "all".into(),
                statement: "the symmetries of the memory equation".into(),
                verdict: na(),
            }]
        }),
        jacobian,
        lyapunov: opts.lyapunov.then(|| {
            vec![FunctionalSeries {
                name: "all".into(),
                times: Vec::new(),
                values: Vec::new(),
                monotone: na(),
            }]
        }),
    }))
}

fn resistances(model: &Model, w: &[f64]) -> Vec<f64> {
    model
        .edges
        .iter()
        .map(|e| match e.kind {
            EdgeKind::Memristor { state, params } => params.ron * (1.0 + params.xi * w[state]),
            EdgeKind::Resistor { resistance } => resistance,
        })
        .collect()
}

/// J at one state: spectrum, finite-difference check, theorem J1.
fn jacobian_at(model: &Model, label: &str, t: f64, w: &[f64]) -> Result<JacobianAt, AnalysisError> {
    let jac = jacobian_dense(model, t, w)?;
    let ev = eigenvalues(jac.as_ref())?;
    let mut nodal = Evaluator::new(model)?;
    let fd = finite_difference_jacobian(|w, f| nodal.rhs(t, w, f), w, 1e-6)?;
    let fd_err = (&jac - &fd).norm_max();
    let scale = 1.0 + jac.norm_max();
    let a = model.topo.cycle_basis().to_dense();
    let j1 = check_j1(a.as_ref(), &resistances(model, w), &ev)?;
    Ok(JacobianAt {
        label: label.into(),
        t,
        eigenvalues: ev,
        finite_difference: Verdict::from_residual(fd_err, 1e-7 * scale),
        j1,
    })
}

/// Above [`DENSE_LIMIT`] edges and up to this many, `analyze --jacobian`
/// still computes J, column by column through nodal solves (M solves).
pub const COLUMN_LIMIT: usize = 20_000;
/// Columns of J checked against central differences above the dense limit.
const FD_COLUMNS: usize = 16;

/// J at one state of a large network: J column by column through nodal
/// solves (theory.md 7), central differences (h = 1e-6, T8) on
/// [`FD_COLUMNS`] evenly spaced columns, and theorem J1's hypothesis (all
/// resistances positive implies a real spectrum). The spectrum itself, a
/// dense O(M^3) eigendecomposition, is not computed.
fn jacobian_at_columns(
    model: &Model,
    label: &str,
    t: f64,
    w: &[f64],
) -> Result<JacobianAt, AnalysisError> {
    let nm = model.n_memristors();
    let mut picks: Vec<usize> = (0..FD_COLUMNS).map(|i| i * nm / FD_COLUMNS).collect();
    picks.dedup();
    let mut picked: Vec<(usize, Vec<f64>)> = Vec::with_capacity(picks.len());
    let mut scale = 1.0f64;
    jacobian_columns(model, t, w, |j, col| {
        scale = col.iter().fold(scale, |a, v| a.max(1.0 + v.abs()));
        if picks.binary_search(&j).is_ok() {
            picked.push((j, col.to_vec()));
        }
    })?;
    let mut nodal = Evaluator::new(model)?;
    let h = 1e-6;
    let (mut wp, mut fp, mut fm) = (w.to_vec(), vec![0.0; nm], vec![0.0; nm]);
    let mut worst = 0.0f64;
    for (j, col) in &picked {
        wp[*j] = w[*j] + h;
        nodal.rhs(t, &wp, &mut fp)?;
        wp[*j] = w[*j] - h;
        nodal.rhs(t, &wp, &mut fm)?;
        wp[*j] = w[*j];
        for (i, c) in col.iter().enumerate() {
            worst = worst.max(((fp[i] - fm[i]) / (2.0 * h) - c).abs());
        }
    }
    let r = resistances(model, w);
    let passive = r.iter().all(|&x| x > 0.0);
    let detail = if passive {
        "all resistances positive, so A R A^T is positive definite and J has a real spectrum"
            .to_string()
    } else {
        "some resistances are not positive: the hypothesis of J1 may fail".to_string()
    };
    Ok(JacobianAt {
        label: label.into(),
        t,
        eigenvalues: Vec::new(),
        finite_difference: Verdict::from_residual(worst, 1e-7 * scale),
        j1: RealityCheck {
            hypothesis: passive,
            detail,
            max_imag: f64::NAN,
            verdict: Verdict::na(format!(
                "{} edges: the spectrum (a dense eigendecomposition) is computed up to \
                 {DENSE_LIMIT} edges; J itself was computed column by column",
                model.n_edges()
            )),
        },
    })
}

fn jacobian_report(
    model: &Model,
    w0: &[f64],
    t_last: f64,
    w_last: &[f64],
) -> Result<JacobianReport, AnalysisError> {
    let m = model.n_edges();
    if m > DENSE_LIMIT {
        let reason = format!(
            "{m} edges: eigenvalues and fixed points are computed up to {DENSE_LIMIT} edges"
        );
        let mut states = Vec::new();
        let skipped = if m <= COLUMN_LIMIT {
            states.push(jacobian_at_columns(model, "w(0)", 0.0, w0)?);
            if t_last > 0.0 {
                states.push(jacobian_at_columns(
                    model,
                    &format!("w({t_last})"),
                    t_last,
                    w_last,
                )?);
            }
            format!("{reason}; J computed column by column through nodal solves")
        } else {
            format!("{reason}, J column by column up to {COLUMN_LIMIT} edges")
        };
        return Ok(JacobianReport {
            states,
            skipped: Some(skipped),
            fixed_point: None,
            fixed_point_eigenvalues: Vec::new(),
            fixed_point_formula: Verdict::na(reason.clone()),
            j2: Verdict::na(reason),
        });
    }
    let mut states = vec![jacobian_at(model, "w(0)", 0.0, w0)?];
    if t_last > 0.0 {
        states.push(jacobian_at(model, &format!("w({t_last})"), t_last, w_last)?);
    }
    let no_fp = |r: String| JacobianReport {
        states: states.clone(),
        skipped: None,
        fixed_point: None,
        fixed_point_eigenvalues: Vec::new(),
        fixed_point_formula: Verdict::na(r.clone()),
        j2: Verdict::na(r),
    };
    if let Some(r) = model.time_dependent_reason() {
        return Ok(no_fp(format!("{r}; fixed points need DC sources")));
    }
    let Some(wf) = find_fixed_point(model, w_last) else {
        return Ok(no_fp(
            "Newton from the last state found no fixed point inside [0, 1]".into(),
        ));
    };
    let jac = jacobian_dense(model, 0.0, &wf)?;
    let ev = eigenvalues(jac.as_ref())?;
    let scale = 1.0 + ev.iter().map(|e| e.0.hypot(e.1)).fold(0.0, f64::max);
    let formula = match model.uniform() {
        Some(u) if model.injections.is_empty() => {
            let obt = model.topo.omega_bt_dense()?;
            let omega = dense::omega_from_bt(obt.as_ref());
            let (f, _) = fixed_point_spectrum(omega.as_ref(), &wf, u.xi, u.alpha)?;
            let worst = ev
                .iter()
                .zip(&f)
                .map(|(e, f)| (e.0 - f).abs().max(e.1.abs()))
                .fold(0.0, f64::max);
            Verdict::from_residual(worst, 1e-8 * scale)
        }
        Some(_) => Verdict::na(model.injection_reason().unwrap_or_default()),
        None => Verdict::na(model.nonuniform_reason().unwrap_or_default()),
    };
    let negative = (0..model.n_memristors()).find(|&s| model.params(s).xi * wf[s] < 0.0);
    let j2 = match negative {
        None => Verdict::from_residual(max_imag(&ev), 1e-8 * scale),
        Some(s) => Verdict::na(format!(
            "D = diag(xi w*) is not >= 0 ({} has xi w* = {:.3e})",
            model.memristor_name(s),
            model.params(s).xi * wf[s]
        )),
    };
    Ok(JacobianReport {
        states,
        skipped: None,
        fixed_point: Some(wf),
        fixed_point_eigenvalues: ev,
        fixed_point_formula: formula,
        j2,
    })
}

/// Rounds tiny values to 0 so that printed spectra do not show -0.000000.
fn snap(x: f64) -> f64 {
    if x.abs() < 5e-7 { 0.0 } else { x }
}

/// Spectra longer than this are shown by their 8 lowest and 8 highest
/// members (the report itself keeps all of them).
const EIGS_SHOWN: usize = 16;

fn fmt_eigs(ev: &[(f64, f64)]) -> String {
    if ev.len() > EIGS_SHOWN {
        let h = EIGS_SHOWN / 2;
        return format!(
            "{}, ... ({} more), {}",
            fmt_eigs(&ev[..h]),
            ev.len() - EIGS_SHOWN,
            fmt_eigs(&ev[ev.len() - h..])
        );
    }
    ev.iter()
        .map(|&(re, im)| {
            let (re, im) = (snap(re), snap(im));
            if im == 0.0 {
                format!("{re:.6}")
            } else if im > 0.0 {
                format!("{re:.6}+{im:.6}i")
            } else {
                format!("{re:.6}-{:.6}i", -im)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The human-readable report.
pub fn render_text(r: &AnalysisReport) -> String {
    let mut s = String::new();
    let c = &r.counts;
    let _ = writeln!(s, "memnet analysis: {}", r.title);
    let _ = writeln!(s);
    let _ = writeln!(s, "Effective memory");
    let _ = writeln!(
        s,
        "  N = {} nodes, M = {} edges ({} memristors, {} resistors), p = {} components, L = {} loops",
        c.nodes, c.edges, c.memristors, c.resistors, c.components, c.cycles
    );
    let _ = writeln!(
        s,
        "  {} conserved charges (N - p), {} dynamical memory directions (L)",
        c.conserved, c.effective_memory
    );
    let _ = writeln!(
        s,
        "  voltage-controlled dual (3.6): {} conserved (A w), {} dynamical",
        c.dual_conserved, c.dual_effective_memory
    );
    if let Some(u) = &r.uniform {
        let _ = writeln!(
            s,
            "  uniform devices: ron = {}, xi = {}, alpha = {}, beta = {}",
            u.ron, u.xi, u.alpha, u.beta
        );
    }
    for n in &r.notes {
        let _ = writeln!(s, "  note: {n}");
    }
    let t = &r.trajectory;
    let _ = writeln!(s);
    let _ = writeln!(s, "Trajectory");
    let _ = writeln!(
        s,
        "  t_end = {}, {} on [0, {}] with {} samples",
        t.t_end,
        if t.state_variable.is_some() {
            "simulated"
        } else {
            "checked"
        },
        t.t_checked,
        t.samples
    );
    match &t.exit {
        Some(e) => {
            let _ = writeln!(
                s,
                "  {} left [0, 1] at t = {:.6}: the exact laws stop there",
                e.device, e.t
            );
        }
        None if t.state_variable.is_none() => {
            let _ = writeln!(s, "  all devices stayed inside [0, 1]");
        }
        None => {}
    }
    let _ = writeln!(
        s,
        "  {} at the end: min {:.6}, mean {:.6}, max {:.6}",
        t.state_variable.as_deref().unwrap_or("w(t)"),
        t.w_min,
        t.w_mean,
        t.w_max
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "Laws");
    let _ = writeln!(
        s,
        "  charge law (C1) {}: {}",
        r.conservation.law,
        r.conservation.verdict.render()
    );
    if !r.conservation.charges.is_empty() {
        let q: Vec<String> = r
            .conservation
            .charges
            .iter()
            .map(|x| format!("{:.6}", snap(*x)))
            .collect();
        let _ = writeln!(s, "    q(0) = ({})", q.join(", "));
    }
    let _ = writeln!(
        s,
        "  reduced L-dim dynamics: {}",
        r.reduced_dynamics.render()
    );
    let _ = writeln!(s, "  flux law (C2): {}", r.flux_law.render());
    let _ = writeln!(s, "  strong-regime law: {}", r.strong_regime.render());
    let _ = writeln!(
        s,
        "  linear regime closed form: {}",
        r.linear_regime.render()
    );
    if let Some(sym) = &r.symmetries {
        let _ = writeln!(s);
        let _ = writeln!(s, "Symmetries");
        for c in sym {
            let _ = writeln!(s, "  {}: {}", c.name, c.verdict.render());
        }
    }
    if let Some(j) = &r.jacobian {
        let _ = writeln!(s);
        let _ = writeln!(s, "Jacobian");
        if let Some(reason) = &j.skipped {
            let _ = writeln!(s, "  skipped: {reason}");
        }
        for st in &j.states {
            if st.eigenvalues.is_empty() && !st.j1.verdict.is_applicable() {
                let _ = writeln!(s, "  at {}: J by columns ({})", st.label, st.j1.detail);
            } else {
                let _ = writeln!(
                    s,
                    "  at {}: eig J = {}",
                    st.label,
                    fmt_eigs(&st.eigenvalues)
                );
            }
            let _ = writeln!(
                s,
                "    finite differences: {}",
                st.finite_difference.render()
            );
            let _ = writeln!(s, "    J1 (real spectrum): {}", st.j1.verdict.render());
        }
        match &j.fixed_point {
            None if j.states.is_empty() && !j.j2.is_applicable() => {}
            Some(_) => {
                let _ = writeln!(
                    s,
                    "  fixed point: eig J* = {}",
                    fmt_eigs(&j.fixed_point_eigenvalues)
                );
            }
            None => {
                let _ = writeln!(s, "  fixed point: none found");
            }
        }
        let _ = writeln!(
            s,
            "    spectrum formula: {}",
            j.fixed_point_formula.render()
        );
        let _ = writeln!(s, "    J2 (real spectrum): {}", j.j2.render());
    }
    if let Some(l) = &r.lyapunov {
        let _ = writeln!(s);
        let _ = writeln!(s, "Lyapunov functionals");
        for f in l {
            match (f.values.first(), f.values.last()) {
                (Some(a), Some(b)) => {
                    let _ = writeln!(
                        s,
                        "  {}: {:.9} -> {:.9}, non-increasing: {}",
                        f.name,
                        a,
                        b,
                        f.monotone.render()
                    );
                }
                _ => {
                    let _ = writeln!(s, "  {}: {}", f.name, f.monotone.render());
                }
            }
        }
    }
    s
}
