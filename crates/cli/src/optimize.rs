//! `memnet optimize`: a QUBO, Ising or max-cut instance solved by
//! memristive dynamics (memnet-optimize; docs/optimize.md).

use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use memnet_optimize::{
    Boundary, DiagonalRule, Format, Kind, MappingKind, OptimizeOptions, OptimizeReport, Params,
    Rounding, Schedule, StopRule, optimize, read_file,
};
use serde::Serialize;

use crate::error::{CliError, CliResult};

/// Minimise a QUBO (or maximise a bqp objective or a cut) by the memory equation's dynamics.
///
/// The instance is converted exactly to minimise E(x) = h.x + sum_{i<j} J_ij x_i x_j + c0 and
/// mapped onto a positive-semidefinite Omega and a drive b whose Lyapunov functional equals E
/// at every corner of [0,1]^n. Each restart integrates the memory equation from a seeded
/// random state (sparse SPD solves by conjugate gradients, adaptive Dormand-Prince) until the
/// state sits at a corner, stops moving, or reaches --t-max; the state is rounded at 0.5 (or
/// at its best threshold, --rounding sweep). The optional 1-flip polish is reported apart from
/// the raw dynamics. With --best-known the report gives the relative gap, the success
/// probability per restart (95 % Wilson interval) and TTS99. See docs/optimize.md.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  memnet optimize fixtures/qubo/bqp50.txt --instance 1 --best-known 2098 --polish
  memnet optimize fixtures/qubo/g1.rud --restarts 4 --best-known 11624 --json
  memnet optimize problem.qubo --schedule drive:3,20 --perturb 0.3
  memnet optimize fixtures/qubo/bqp50.txt --instance 4 --best-known 3544 --alpha 30 --diagonal metric:0.99 --schedule drive:0.35,100 --perturb 0.2 --t-max 100 --rounding sweep")]
pub struct Args {
    /// Instance file: OR-Library bqp, Gset/rudy max-cut, bqpjson, or memnet's .qubo text.
    pub file: PathBuf,
    /// The file's format; default: told from its content.
    #[arg(long, value_parser = ["bqp", "rudy", "memnet", "bqpjson"])]
    pub format: Option<String>,
    /// Which instance of a bqp file (1-based); required when it holds several.
    #[arg(long, value_name = "K")]
    pub instance: Option<usize>,
    /// Number of restarts.
    #[arg(long, default_value_t = 10)]
    pub restarts: usize,
    /// Seed of the initial states (restart r uses ChaCha8(seed), stream r).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Run the 1-flip steepest-descent polish on each restart's corner (reported separately).
    #[arg(long)]
    pub polish: bool,
    /// Best-known value in the file's sense (bqp: max x^T Q x; max-cut: the cut; else min).
    #[arg(long, value_name = "VALUE")]
    pub best_known: Option<f64>,
    /// alpha of the memory equation (and of the mapping).
    #[arg(long, default_value_t = 0.2)]
    pub alpha: f64,
    /// beta of the memory equation.
    #[arg(long, default_value_t = 0.2)]
    pub beta: f64,
    /// xi of the memory equation.
    #[arg(long, default_value_t = 1.0)]
    pub xi: f64,
    /// Mapping: exact (Lyapunov functional = energy on the corners), or the published
    /// formulas for reproduction only (published: the Invenia blog's; ls-mem: ls_mem.jl as
    /// called, xi and beta swapped). The published ones have the wrong coupling sign.
    #[arg(long, default_value = "exact", value_parser = ["exact", "published", "ls-mem"])]
    pub mapping: String,
    /// Omega's diagonal c: lanczos (-lambda_min of the off-diagonal part), gershgorin,
    /// metric:THETA (-lambda_min - THETA/xi, THETA in [0, 1): Omega indefinite, the metric still
    /// positive definite; pair it with a large --alpha, e.g. --alpha 20 --diagonal metric:0.99),
    /// or a value.
    #[arg(long, default_value = "lanczos", value_name = "RULE")]
    pub diagonal: String,
    /// Keep the coefficients as they are (default: divided by the largest magnitude).
    #[arg(long)]
    pub no_scale: bool,
    /// Faces of the cube: sticky (held while the rate points out), window (w(1-w) f), clip.
    #[arg(long, default_value = "sticky", value_parser = ["sticky", "window", "clip"])]
    pub boundary: String,
    /// Parameter schedule: none, coupling:FROM,T (alpha from FROM*alpha to alpha over [0,T]),
    /// drive:FROM,T (b scaled from FROM to 1 over [0,T]).
    #[arg(long, default_value = "none", value_name = "SCHEDULE")]
    pub schedule: String,
    /// Restarts after the first start from the best state so far with this fraction redrawn.
    #[arg(long, value_name = "FRACTION")]
    pub perturb: Option<f64>,
    /// Perturb the best polished corner instead of the best raw one (an iterated local search;
    /// needs --polish and --perturb; the raw results then depend on the polish).
    #[arg(long)]
    pub perturb_polished: bool,
    /// How the final state becomes a corner: half (x_k = 1 where w_k > 0.5), or sweep (the
    /// lowest-energy corner [w > theta] over every threshold theta: at most n + 1 corners, the
    /// state's level sets, never worse than half; no flips). The raw results, the polish and
    /// the base of --perturb's later restarts all start from it.
    #[arg(long, default_value = "half", value_parser = ["half", "sweep"])]
    pub rounding: String,
    /// Time limit per restart (scaled time units).
    #[arg(long, default_value_t = 3000.0)]
    pub t_max: f64,
    /// Stop when max_k w_k (1 - w_k) is below this.
    #[arg(long, default_value_t = 1e-3)]
    pub eps: f64,
    /// Stop when every free component's rate is below this.
    #[arg(long, default_value_t = 1e-6)]
    pub eps_f: f64,
    /// Relative tolerance of the integrator.
    #[arg(long, default_value_t = 1e-6)]
    pub rtol: f64,
    /// Print the report as JSON (best_energy, best_cut, assignment, polished, per-restart data).
    #[arg(long)]
    pub json: bool,
}

fn options(a: &Args) -> CliResult<OptimizeOptions> {
    let diagonal = match a.diagonal.as_str() {
        "lanczos" => DiagonalRule::Lanczos,
        "gershgorin" => DiagonalRule::Gershgorin,
        v if v.starts_with("metric:") => {
            DiagonalRule::Metric(v["metric:".len()..].parse().map_err(|_| {
                CliError::input(format!(
                    "--diagonal: metric:THETA needs a number, got `{v}`"
                ))
            })?)
        }
        v => DiagonalRule::Value(v.parse().map_err(|_| {
            CliError::input(format!(
                "--diagonal: expected lanczos, gershgorin, metric:THETA or a number, got `{v}`"
            ))
        })?),
    };
    let schedule = if a.schedule == "none" {
        Schedule::None
    } else {
        let bad = || {
            CliError::input(format!(
                "--schedule: expected none, coupling:FROM,T or drive:FROM,T, got `{}`",
                a.schedule
            ))
        };
        let (kind, rest) = a.schedule.split_once(':').ok_or_else(bad)?;
        let (from, t) = rest.split_once(',').ok_or_else(bad)?;
        let from: f64 = from.trim().parse().map_err(|_| bad())?;
        let t_ramp: f64 = t.trim().parse().map_err(|_| bad())?;
        if !(from.is_finite() && t_ramp.is_finite() && t_ramp > 0.0) {
            return Err(bad());
        }
        match kind {
            "coupling" => Schedule::Coupling { from, t_ramp },
            "drive" => Schedule::Drive { from, t_ramp },
            _ => return Err(bad()),
        }
    };
    Ok(OptimizeOptions {
        params: Params {
            alpha: a.alpha,
            beta: a.beta,
            xi: a.xi,
        },
        mapping: match a.mapping.as_str() {
            "published" => MappingKind::Published,
            "ls-mem" => MappingKind::LsMem,
            _ => MappingKind::Exact,
        },
        diagonal,
        scale: !a.no_scale,
        boundary: match a.boundary.as_str() {
            "window" => Boundary::Window,
            "clip" => Boundary::Clip,
            _ => Boundary::Sticky,
        },
        schedule,
        stop: StopRule {
            eps: a.eps,
            eps_f: a.eps_f,
            t_max: a.t_max,
        },
        rounding: match a.rounding.as_str() {
            "sweep" => Rounding::Sweep,
            _ => Rounding::Half,
        },
        rtol: a.rtol,
        restarts: a.restarts,
        seed: a.seed,
        perturb: a.perturb,
        perturb_polished: a.perturb_polished,
        polish: a.polish,
        best_known: a.best_known,
        ..OptimizeOptions::default()
    })
}

#[derive(Serialize)]
struct Json<'a> {
    file: String,
    format: Format,
    instance: Option<usize>,
    #[serde(flatten)]
    report: &'a OptimizeReport,
}

pub fn run(a: Args) -> CliResult {
    let opts = options(&a)?;
    let format = a.format.as_deref().and_then(Format::from_name);
    let inst = read_file(&a.file, format, a.instance).map_err(CliError::input)?;
    let q = &inst.qubo;
    let bar = (std::io::stderr().is_terminal() && opts.restarts > 1).then(|| {
        let bar = ProgressBar::new(opts.restarts as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} restart {pos}/{len}, {msg}, eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let mut best: Option<f64> = None;
    let report = optimize(q, &opts, &mut |done, r| {
        if let Some(b) = &bar {
            let e = r.polished_energy.unwrap_or(r.energy);
            let better = |old: f64| if q.maximize { e > old } else { e < old };
            if best.is_none_or(better) {
                best = Some(e);
            }
            b.set_position(done as u64);
            b.set_message(format!("best {}", best.unwrap_or(e)));
        }
        ControlFlow::Continue(())
    })
    .map_err(|e| CliError::input(format!("error: {}: {e}", a.file.display())))?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if a.json {
        let json = Json {
            file: a.file.display().to_string(),
            format: inst.format,
            instance: inst.instance,
            report: &report,
        };
        let text = serde_json::to_string_pretty(&json)
            .map_err(|e| CliError::io("serialising the report", e))?;
        crate::error::print_stdout(&format!("{text}\n"))
    } else {
        crate::error::print_stdout(&render_text(&a, &inst, &report))
    }
}

fn render_text(a: &Args, inst: &memnet_optimize::Instance, r: &OptimizeReport) -> String {
    let what = match r.kind {
        Kind::Bqp => "maximise x^T Q x",
        Kind::MaxCut => "maximise the cut",
        Kind::Ising => "Ising, s = 2x - 1",
        Kind::Qubo => "QUBO",
    };
    let sense = match (r.kind, r.maximize) {
        (Kind::MaxCut, _) => "reported as the cut and as E = -cut",
        (_, true) => "reported in the file's sense, maximised",
        (_, false) => "reported in the file's sense, minimised",
    };
    let mut out = format!(
        "{}{}: {} variables, {} pairs ({what}; {:?} file, {sense})\n",
        a.file.display(),
        inst.instance
            .map(|i| format!(" instance {i} of {}", inst.instances))
            .unwrap_or_default(),
        r.n,
        r.pairs,
        inst.format,
    );
    let m = &r.mapping;
    out += &format!(
        "mapping {:?}: alpha {}, beta {}, xi {}, c = {:.6} ({:?}), coefficients divided by {}\n",
        m.kind, m.params.alpha, m.params.beta, m.params.xi, m.c, m.diagonal, m.scale
    );
    out += &format!(
        "{} restarts in {:.3} s ({:.2} restarts/s): {} right-hand sides ({:.0}/s), {} CG iterations\n",
        r.restarts.len(),
        r.wall_time_s,
        r.restarts_per_s,
        r.rhs_evals,
        r.rhs_evals_per_s,
        r.cg_iterations
    );
    let line = |label: &str, o: &memnet_optimize::Outcome| {
        let mut s = match o.best_cut {
            Some(cut) => format!("{label}: best cut {cut} (E = {})", o.best_energy),
            None => format!("{label}: best {}", o.best_energy),
        };
        s += &format!(" at restart {}", o.restart);
        if let (Some(gap), Some(hits), Some((lo, hi))) = (o.gap, o.hits, o.wilson95) {
            s += &format!(
                ", gap {gap:.4}, reached {hits}/{} (95% {lo:.2}-{hi:.2})",
                r.restarts.len()
            );
            match (o.tts99_s, o.first_hit_s) {
                (Some(t), _) => s += &format!(", TTS99 {t:.3} s"),
                (None, Some(t)) => {
                    s += &format!(", first reached after {t:.3} s (restarts perturbed: no TTS99)")
                }
                (None, None) => s += ", not reached",
            }
        }
        s + "\n"
    };
    out += &line("raw dynamics", &r.raw);
    if let Some(p) = &r.polish {
        out += &line("with 1-flip polish", p);
    }
    let increases: u64 = r.restarts.iter().map(|x| x.l_increases).sum();
    let stops = |s: memnet_optimize::Stop| r.restarts.iter().filter(|x| x.stop == s).count();
    out += &format!(
        "stops: {} at a corner, {} stationary, {} at t_max; L increased on {increases} steps\n",
        stops(memnet_optimize::Stop::Corner),
        stops(memnet_optimize::Stop::Stationary),
        stops(memnet_optimize::Stop::TimeLimit),
    );
    if r.interrupted {
        out += "interrupted: the report covers the restarts done\n";
    }
    out
}
