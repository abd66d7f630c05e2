//! Restarts, rounding, polish and metrics (docs/optimize.md, "Runs";
//! apps.md A.6-A.7).

use std::cell::Cell;
use std::ops::ControlFlow;
use std::time::Instant;

use memnet_solver::{ErrorNorm, Sampling, SolveError, Stepper, integrate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::dynamics::{Boundary, CgSettings, QuboDynamics, Schedule, Stop, StopRule};
use crate::mapping::{DiagonalRule, MapError, Mapping, MappingKind, Params};
use crate::problem::{Kind, Qubo, SweepScratch, round_at_half};

/// How far inside the cube a perturbed restart puts the best corner's
/// components that are not redrawn.
pub const PULL_IN: f64 = 0.1;

/// How a restart's final state becomes a corner.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rounding {
    /// x_k = [w_k > 0.5] (apps.md A.6 step 4); the default.
    #[default]
    Half,
    /// The best threshold: the lowest E over the corners [w > theta] for
    /// every theta (`Qubo::sweep_round`). A rounding, not a search: it
    /// looks only at the level sets of the final state, never worse than
    /// `Half`.
    Sweep,
}

/// Everything a run is given.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OptimizeOptions {
    pub params: Params,
    pub mapping: MappingKind,
    pub diagonal: DiagonalRule,
    /// Divide the coefficients by their largest magnitude first (as the
    /// published solver does); energies are always reported unscaled.
    pub scale: bool,
    pub boundary: Boundary,
    pub schedule: Schedule,
    pub stop: StopRule,
    pub rounding: Rounding,
    /// Dormand-Prince tolerances.
    pub rtol: f64,
    pub atol: f64,
    pub cg: CgSettings,
    pub restarts: usize,
    /// Restart r starts from ChaCha8(seed), stream r: w_k(0) uniform on
    /// [0, 1) in variable order.
    pub seed: u64,
    /// Restarts after the first start from the best final state so far
    /// with this fraction of its components redrawn (apps.md A.6(6),
    /// perturbed restarts); `None`: every restart from a fresh draw.
    pub perturb: Option<f64>,
    /// Perturb the best polished corner instead of the best raw one (an
    /// iterated local search: the raw results then no longer come from the
    /// dynamics alone, and the report says so).
    pub perturb_polished: bool,
    /// Run the 1-flip polish on each restart's corner (reported apart).
    pub polish: bool,
    /// The best-known value in the file's sense (bqp: the maximum of x^T
    /// Q x; max-cut: the cut; otherwise the minimum), for gaps and
    /// success rates.
    pub best_known: Option<f64>,
}

impl Default for OptimizeOptions {
    fn default() -> OptimizeOptions {
        OptimizeOptions {
            params: Params::default(),
            mapping: MappingKind::Exact,
            diagonal: DiagonalRule::Lanczos,
            scale: true,
            boundary: Boundary::Sticky,
            schedule: Schedule::None,
            stop: StopRule::default(),
            rounding: Rounding::Half,
            rtol: 1e-6,
            atol: 1e-9,
            cg: CgSettings::default(),
            restarts: 10,
            seed: 1,
            perturb: None,
            perturb_polished: false,
            polish: false,
            best_known: None,
        }
    }
}

/// A run that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum OptimizeError {
    #[error("{0}")]
    Map(#[from] MapError),
    #[error("restart {restart}: {source}")]
    Dynamics {
        restart: usize,
        #[source]
        source: Box<SolveError>,
    },
    #[error("invalid option: {0}")]
    Option(String),
}

/// One restart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RestartReport {
    pub restart: usize,
    /// The rounded corner's energy in the file's sense.
    pub energy: f64,
    /// After the 1-flip polish, when it ran.
    pub polished_energy: Option<f64>,
    pub flips: Option<usize>,
    pub stop: Stop,
    /// Time reached (in the scaled problem's units).
    pub t: f64,
    pub steps: u64,
    pub rhs_evals: u64,
    pub cg_iterations: u64,
    /// Accepted steps along which L increased (apps.md A.4).
    pub l_increases: u64,
    pub wall_time_s: f64,
}

/// The best of a run, raw or polished, with its metrics (apps.md A.7).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    /// In the file's sense.
    pub best_energy: f64,
    /// Canonical E (minimised).
    pub best_energy_canonical: f64,
    /// For max-cut input: the cut (= -E).
    pub best_cut: Option<f64>,
    /// 0/1 per variable in file order (for spins, 1 is s = +1).
    pub assignment: Vec<u8>,
    /// The restart that found it.
    pub restart: usize,
    /// (E_best - E_ref) / |E_ref|, with a best-known value.
    pub gap: Option<f64>,
    /// Restarts that reached the best-known value (within 1e-9 |E_ref|).
    pub hits: Option<usize>,
    pub success_probability: Option<f64>,
    /// 95 % Wilson interval of the success probability.
    pub wilson95: Option<(f64, f64)>,
    /// Time to the best-known value with 99 % probability, from the mean
    /// wall time per restart; `None` when never reached, and when restarts
    /// are perturbed (they are then not independent trials).
    pub tts99_s: Option<f64>,
    /// Wall time from the start of the first restart to the end of the
    /// first one that reached the best-known value.
    pub first_hit_s: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MappingReport {
    pub kind: MappingKind,
    pub params: Params,
    pub diagonal: DiagonalRule,
    pub c: f64,
    pub lambda_min: Option<f64>,
    pub scale: f64,
}

/// A whole run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OptimizeReport {
    pub n: usize,
    pub pairs: usize,
    pub kind: Kind,
    pub maximize: bool,
    pub mapping: MappingReport,
    pub options: OptimizeOptions,
    /// The reported best: the polished one when the polish ran, else raw.
    pub best_energy: f64,
    pub best_cut: Option<f64>,
    pub assignment: Vec<u8>,
    pub polished: bool,
    pub raw: Outcome,
    pub polish: Option<Outcome>,
    pub restarts: Vec<RestartReport>,
    /// Whether the caller stopped the run before all restarts.
    pub interrupted: bool,
    pub rhs_evals: u64,
    pub cg_iterations: u64,
    pub wall_time_s: f64,
    pub restarts_per_s: f64,
    pub rhs_evals_per_s: f64,
}

/// Runs `opts.restarts` restarts of the memristive dynamics on `q`.
/// `progress(done, latest)` is called after each restart; `Break` ends the
/// run with what is done (the report says `interrupted`).
pub fn optimize(
    q: &Qubo,
    opts: &OptimizeOptions,
    progress: &mut dyn FnMut(usize, &RestartReport) -> ControlFlow<()>,
) -> Result<OptimizeReport, OptimizeError> {
    let start = Instant::now();
    if opts.restarts == 0 {
        return Err(OptimizeError::Option("restarts must be at least 1".into()));
    }
    if let Some(f) = opts.perturb
        && !(f > 0.0 && f <= 1.0)
    {
        return Err(OptimizeError::Option(format!(
            "perturb fraction {f} must be in (0, 1]"
        )));
    }
    if opts.perturb_polished && !(opts.polish && opts.perturb.is_some()) {
        return Err(OptimizeError::Option(
            "perturbing the polished corner needs the polish and a perturb fraction".into(),
        ));
    }
    for (name, v) in [
        ("t_max", opts.stop.t_max),
        ("eps", opts.stop.eps),
        ("eps_f", opts.stop.eps_f),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(OptimizeError::Option(format!(
                "{name} = {v} must be positive"
            )));
        }
    }
    let scale = if opts.scale {
        q.max_coefficient().max(f64::MIN_POSITIVE)
    } else {
        1.0
    };
    let map = Mapping::new(q, opts.mapping, opts.params, opts.diagonal, scale)?;
    let n = q.n();
    let mut sys = QuboDynamics::new(&map, opts.boundary, opts.schedule);
    sys.cg = opts.cg;
    sys.stop_rule = opts.stop;
    let stepper = Stepper::Dopri5 {
        rtol: opts.rtol,
        atol: opts.atol,
        h0: None,
        h_max: None,
        norm: ErrorNorm::Rms,
    };
    let mut w = vec![0.0; n];
    let mut sweep = SweepScratch::default();
    let mut best_w: Option<(f64, Vec<f64>)> = None;
    // Each restart's corner with its energy E, raw and polished.
    let mut corners: Vec<(f64, Vec<bool>)> = Vec::new();
    let mut polished_corners: Vec<(f64, Vec<bool>)> = Vec::new();
    let mut reports = Vec::new();
    let mut interrupted = false;
    for r in 0..opts.restarts {
        let t0 = Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        rng.set_stream(r as u64);
        match (&best_w, opts.perturb) {
            (Some((_, bw)), Some(frac)) => {
                for k in 0..n {
                    let redraw = rng.random::<f64>() < frac;
                    let fresh = rng.random::<f64>();
                    w[k] = if redraw { fresh } else { bw[k] };
                }
            }
            _ => w.iter_mut().for_each(|x| *x = rng.random::<f64>()),
        }
        sys.reset();
        let (cg0, l0) = (sys.cg_iterations, sys.l_increases);
        let (ev0, st0) = (sys.evaluations, sys.steps);
        let flag = sys.stop_flag();
        let t_now = Cell::new(0.0);
        let result = integrate(
            &mut sys,
            &mut w,
            0.0,
            opts.stop.t_max,
            &stepper,
            &Sampling::Ends,
            &mut |_, _| Ok(()),
            &mut |t, _| {
                t_now.set(t);
                if flag.get().is_some() {
                    Err(SolveError::Interrupted { t })
                } else {
                    Ok(())
                }
            },
        );
        let stop = match result {
            Ok(_) => Stop::TimeLimit,
            Err(SolveError::Interrupted { .. }) => flag.get().unwrap_or(Stop::TimeLimit),
            Err(source) => {
                return Err(OptimizeError::Dynamics {
                    restart: r,
                    source: Box::new(source),
                });
            }
        };
        let mut x = vec![false; n];
        let e = match opts.rounding {
            Rounding::Half => {
                round_at_half(&w, &mut x);
                q.energy(&x)
            }
            Rounding::Sweep => q.sweep_round(&w, &mut sweep, &mut x),
        };
        let (polished_energy, flips) = if opts.polish {
            let mut y = x.clone();
            let flips = q.polish(&mut y);
            let pe = q.energy(&y);
            polished_corners.push((pe, y));
            (Some(q.file_value(pe)), Some(flips))
        } else {
            (None, None)
        };
        // The base of perturbed restarts: the best raw corner so far (or
        // polished one, when asked), pulled PULL_IN into the cube so that
        // the window rule can move it.
        let (e_base, base) = match polished_corners.last() {
            Some((pe, y)) if opts.perturb_polished => (*pe, y.as_slice()),
            _ => (e, x.as_slice()),
        };
        if best_w.as_ref().is_none_or(|(be, _)| e_base < *be) {
            let soft = base
                .iter()
                .map(|&b| if b { 1.0 - PULL_IN } else { PULL_IN })
                .collect();
            best_w = Some((e_base, soft));
        }
        corners.push((e, x));
        let report = RestartReport {
            restart: r,
            energy: q.file_value(e),
            polished_energy,
            flips,
            stop,
            t: t_now.get(),
            steps: sys.steps - st0,
            rhs_evals: sys.evaluations - ev0,
            cg_iterations: sys.cg_iterations - cg0,
            l_increases: sys.l_increases - l0,
            wall_time_s: t0.elapsed().as_secs_f64(),
        };
        let go = progress(r + 1, &report);
        reports.push(report);
        if go.is_break() {
            interrupted = r + 1 < opts.restarts;
            break;
        }
    }
    let times: Vec<f64> = reports.iter().map(|r| r.wall_time_s).collect();
    let independent = opts.perturb.is_none();
    let raw = outcome(q, &corners, opts.best_known, &times, independent);
    let polish = opts
        .polish
        .then(|| outcome(q, &polished_corners, opts.best_known, &times, independent));
    let best = polish.as_ref().unwrap_or(&raw);
    let rhs_evals = reports.iter().map(|r| r.rhs_evals).sum::<u64>();
    let wall = start.elapsed().as_secs_f64();
    Ok(OptimizeReport {
        n,
        pairs: q.n_pairs(),
        kind: q.kind,
        maximize: q.maximize,
        mapping: MappingReport {
            kind: map.kind,
            params: map.params,
            diagonal: map.rule,
            c: map.c,
            lambda_min: map.lambda_min,
            scale: map.scale,
        },
        options: opts.clone(),
        best_energy: best.best_energy,
        best_cut: best.best_cut,
        assignment: best.assignment.clone(),
        polished: opts.polish,
        polish: polish.clone(),
        raw,
        interrupted,
        cg_iterations: reports.iter().map(|r| r.cg_iterations).sum(),
        restarts_per_s: reports.len() as f64 / wall.max(1e-12),
        rhs_evals_per_s: rhs_evals as f64 / wall.max(1e-12),
        rhs_evals,
        restarts: reports,
        wall_time_s: wall,
    })
}

/// The best of `corners` (energy, corner) and the metrics against
/// `best_known`.
fn outcome(
    q: &Qubo,
    corners: &[(f64, Vec<bool>)],
    best_known: Option<f64>,
    times: &[f64],
    independent: bool,
) -> Outcome {
    let t_restart = times.iter().sum::<f64>() / times.len() as f64;
    let energies: Vec<f64> = corners.iter().map(|c| c.0).collect();
    let (at, &e_best) = energies
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .expect("at least one restart");
    // The reference in canonical form: bqp and `max` files are maximised
    // (E = -value), a cut is -E.
    let e_ref = best_known.map(|v| match q.kind {
        Kind::MaxCut => -v,
        _ => q.file_value(v),
    });
    let hit = |e: f64, er: f64| e <= er + 1e-9 * er.abs().max(1e-300);
    let hits = e_ref.map(|er| energies.iter().filter(|&&e| hit(e, er)).count());
    let first_hit_s = e_ref.and_then(|er| {
        let k = energies.iter().position(|&e| hit(e, er))?;
        Some(times[..=k].iter().sum())
    });
    let r = corners.len() as f64;
    let p = hits.map(|h| h as f64 / r);
    Outcome {
        best_energy: q.file_value(e_best),
        best_energy_canonical: e_best,
        best_cut: (q.kind == Kind::MaxCut).then_some(-e_best),
        assignment: corners[at].1.iter().map(|&b| b as u8).collect(),
        restart: at,
        gap: e_ref.map(|er| (e_best - er) / er.abs()),
        hits,
        success_probability: p,
        wilson95: p.map(|p| wilson(p, r)),
        tts99_s: p.filter(|_| independent).and_then(|p| tts99(p, t_restart)),
        first_hit_s,
    }
}

/// The 95 % Wilson score interval of a proportion p out of n trials.
pub fn wilson(p: f64, n: f64) -> (f64, f64) {
    let z: f64 = 1.959_963_984_540_054;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// TTS99 = t ln(0.01) / ln(1 - p) for 0 < p < 0.99, t for p >= 0.99, none
/// for p = 0 (apps.md A.7).
pub fn tts99(p: f64, t_restart: f64) -> Option<f64> {
    if p <= 0.0 {
        None
    } else if p >= 0.99 {
        Some(t_restart)
    } else {
        Some(t_restart * 0.01f64.ln() / (1.0 - p).ln())
    }
}
