//! `cargo xtask bench-ngspice`: ngspice and memnet on the same decks, side by
//! side in one run (the machines are shared and noisy, so only ratios
//! measured together mean anything).
//!
//! Both sides run as whole processes on the same netlist, parsing included:
//! `ngspice -b` on the exported deck, and the release `memnet simulate`
//! binary. The error of each is measured against memnet's `exact` method
//! (alpha = 0: the integrated Kirchhoff laws, no time stepping), evaluated
//! at each simulator's own output times so no interpolation enters.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use memnet_graph::Network;
use memnet_solver::MemoryRhs;
use memnet_solver::exact::ExactSolver;
use memnet_spice::compare::Trajectory;
use memnet_spice::{ImportOptions, import_file};

/// ngspice deck settings: print step and maximum internal step. At max step
/// 1e-3 ngspice's error in w is a few 1e-9 (docs/ngspice.md).
const SAMPLE_DT: f64 = 0.01;
const NGSPICE_MAX_STEP: f64 = 1e-3;
const T_END: f64 = 1.0;
/// memnet's RK4 step on these decks.
const MEMNET_DT: f64 = 0.01;

pub fn run(cmd: &mut Command) -> Result<Duration> {
    let start = Instant::now();
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    let elapsed = start.elapsed();
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(elapsed)
}

/// Builds the release `memnet` binary and returns its path.
pub fn release_memnet(root: &Path) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(&cargo)
        .args(["build", "--release", "--quiet", "-p", "memnet"])
        .current_dir(root))?;
    Ok(root.join("target/release/memnet"))
}

fn min_time(repeat: usize, mut f: impl FnMut() -> Result<Duration>) -> Result<Duration> {
    let mut best = Duration::MAX;
    for _ in 0..repeat.max(1) {
        best = best.min(f()?);
    }
    Ok(best)
}

/// max over devices and times of |traj - exact|, exact solved at traj's times.
fn network(netlist: &Path) -> Result<Network> {
    let circuit =
        import_file(netlist, &ImportOptions::default()).map_err(|d| anyhow::anyhow!(d.render()))?;
    Network::from_circuit(&circuit).map_err(|e| anyhow::anyhow!(e.render()))
}

fn error_against_exact(netlist: &Path, traj: &Trajectory) -> Result<f64> {
    let net = network(netlist)?;
    let names = memnet_solver::memristor_names(&net);
    let mut rhs = MemoryRhs::new(&net, net.tran_times(T_END))?;
    let mut exact = ExactSolver::new(&mut rhs)?;
    // Map the trajectory's series onto memnet's state order.
    let index: Vec<usize> = names
        .iter()
        .map(|n| {
            traj.names
                .iter()
                .position(|m| m == n)
                .with_context(|| format!("{n} missing from the trajectory"))
        })
        .collect::<Result<_>>()?;
    let mut worst = 0.0f64;
    for (i, &t) in traj.times.iter().enumerate() {
        if t <= 0.0 {
            continue;
        }
        let w = exact.solve(t)?;
        for (s, &k) in index.iter().enumerate() {
            worst = worst.max((traj.series[k][i] - w[s]).abs());
        }
    }
    Ok(worst)
}

fn read_csv(path: &Path) -> Result<Trajectory> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let mut lines = text.lines();
    let header = lines.next().context("empty csv")?;
    let names: Vec<String> = header.split(',').skip(1).map(str::to_string).collect();
    let mut times = Vec::new();
    let mut series = vec![Vec::new(); names.len()];
    for l in lines {
        let mut it = l.split(',').map(str::parse::<f64>);
        times.push(it.next().context("time")??);
        for s in &mut series {
            s.push(it.next().context("value")??);
        }
    }
    Ok(Trajectory::new(times, names, series)?)
}

/// A memristor's name in any of the outputs compared here: memnet's CSV
/// (`xm0`, Xyce-style `n(ymemristor!xm0_x)`) or ngspice's raw file
/// (`x.ymemristor_xm0`), as the exported deck's instance name.
fn instance_name(name: &str) -> String {
    let bare = name
        .strip_prefix("n(")
        .and_then(|n| n.strip_suffix("_x)"))
        .unwrap_or(name);
    memnet_spice::export::memristor_instance(bare)
}

/// max over devices and times of |traj - reference|, the reference a
/// dopri5 run at rtol 1e-12 sampled every 1e-4 and interpolated linearly at
/// traj's times (for laws without an exact method; the interpolation adds
/// at most 1e-8 |x''| / 8).
fn error_against_tight_run(netlist: &Path, traj: &Trajectory) -> Result<f64> {
    let net = network(netlist)?;
    let opts = memnet_solver::SimOptions {
        t_end: T_END,
        method: memnet_solver::Method::Dopri5,
        dt: 0.0,
        rtol: 1e-12,
        atol: 1e-15,
        sample_dt: Some(1e-4),
        ..memnet_solver::SimOptions::default()
    };
    let mut samples: Vec<(f64, Vec<f64>)> = Vec::new();
    memnet_solver::simulate(&net, &opts, &mut samples, &mut |_| {})?;
    let names: Vec<String> = memnet_solver::memristor_names(&net)
        .iter()
        .map(|n| instance_name(n))
        .collect();
    let times: Vec<f64> = samples.iter().map(|s| s.0).collect();
    let series = (0..names.len())
        .map(|k| samples.iter().map(|s| s.1[k]).collect())
        .collect();
    let reference = Trajectory::new(times, names, series)?;
    let mut worst = 0.0f64;
    for (k, name) in traj.names.iter().enumerate() {
        let name = instance_name(name);
        let r = reference
            .names
            .iter()
            .position(|n| *n == name)
            .with_context(|| format!("{name} missing from the reference"))?;
        for (i, &t) in traj.times.iter().enumerate() {
            if let Some(x) = reference.value_at(r, t) {
                worst = worst.max((traj.series[k][i] - x).abs());
            }
        }
    }
    Ok(worst)
}

struct Row {
    name: String,
    devices: usize,
    ngspice: Duration,
    memnet: Duration,
    ngspice_err: f64,
    memnet_err: f64,
}

pub fn bench_ngspice(sizes: &[usize], repeat: usize) -> Result<()> {
    let root = memnet_crosscheck::repo_root();
    let dir = root.join("target/bench-ngspice");
    std::fs::create_dir_all(&dir)?;
    let memnet = release_memnet(&root)?;

    let mut decks: Vec<(String, Vec<String>)> = sizes
        .iter()
        .map(|&n| {
            let n = n.to_string();
            (
                format!("grid{n}x{n}"),
                [
                    "grid",
                    "--rows",
                    &n,
                    "--cols",
                    &n,
                    "--drive",
                    "sides",
                    "--drive-as",
                    "series",
                    "--voltage",
                    "2",
                    "--ron",
                    "100",
                    "--roff",
                    "1000",
                    "--beta",
                    "0.5",
                    "--w0",
                    "uniform:0.3,0.7",
                    "--seed",
                    "1",
                ]
                .map(String::from)
                .to_vec(),
            )
        })
        .collect();
    decks.push((
        "random400".into(),
        [
            "random-connected",
            "-n",
            "400",
            "--p",
            "0.005",
            "--seed",
            "5",
            "--random-sources",
            "40",
            "--source-range=-1,1",
            "--ron",
            "100",
            "--roff",
            "1000",
            "--beta",
            "1",
            "--w0",
            "uniform:0.3,0.7",
        ]
        .map(String::from)
        .to_vec(),
    ));

    // memnet's Biolek law (HP with Biolek's window, p = 2), which ngspice
    // follows closely as a behavioural subcircuit (docs/device-laws.md).
    decks.push((
        "biolek60x60".into(),
        [
            "grid",
            "--rows",
            "60",
            "--cols",
            "60",
            "--drive",
            "sides",
            "--drive-as",
            "series",
            "--voltage",
            "2",
            "--law",
            "hp",
            "--law-option",
            "window=biolek",
            "--law-param",
            "p=2,rinit=8050,roff=16k,ron=100",
        ]
        .map(String::from)
        .to_vec(),
    ));

    let mut rows = Vec::new();
    for (name, gen_args) in &decks {
        let netlist = dir.join(format!("{name}.cir"));
        let deck = dir.join(format!("{name}_ngspice.cir"));
        let raw = dir.join(format!("{name}_ngspice.raw"));
        let csv = dir.join(format!("{name}_memnet.csv"));
        let t_end = T_END.to_string();
        run(Command::new(&memnet)
            .arg("generate")
            .args(gen_args)
            .args(["--t-end", &t_end, "-o"])
            .arg(&netlist))?;
        run(Command::new(&memnet)
            .arg("export")
            .arg(&netlist)
            .args(["--to", "ngspice", "--t-end", &t_end])
            .args(["--sample-dt", &SAMPLE_DT.to_string()])
            .args(["--max-step", &NGSPICE_MAX_STEP.to_string()])
            .arg("--raw")
            .arg(raw.file_name().context("raw name")?)
            .arg("-o")
            .arg(&deck))?;
        let ngspice = min_time(repeat, || {
            run(Command::new("ngspice")
                .arg("-b")
                .arg(deck.file_name().unwrap_or_default())
                .current_dir(&dir))
        })?;
        let memnet_time = min_time(repeat, || {
            run(Command::new(&memnet)
                .arg("simulate")
                .arg(&netlist)
                .args(["--t-end", &t_end, "--method", "rk4"])
                .args(["--dt", &MEMNET_DT.to_string()])
                .args(["--sample-dt", &SAMPLE_DT.to_string()])
                // The states, as ngspice's deck saves them.
                .args(["--save", "states"])
                .arg("--out")
                .arg(&csv))
        })?;
        // The Biolek law has no exact method: a tight run is its reference.
        let error = if name.starts_with("biolek") {
            error_against_tight_run
        } else {
            error_against_exact
        };
        let ng_traj = memnet_crosscheck::raw_trajectory(&raw)?;
        let mn_traj = read_csv(&csv)?;
        rows.push(Row {
            name: name.clone(),
            devices: mn_traj.names.len(),
            ngspice,
            memnet: memnet_time,
            ngspice_err: error(&netlist, &ng_traj)?,
            memnet_err: error(&netlist, &mn_traj)?,
        });
    }
    print_table(&rows, &dir);
    Ok(())
}

fn print_table(rows: &[Row], dir: &Path) {
    println!(
        "t_end = {T_END}, samples every {SAMPLE_DT}; ngspice: trapezoidal, max step {NGSPICE_MAX_STEP}; \
         memnet: rk4, dt {MEMNET_DT}; errors: max |w - w_exact| over devices and output times"
    );
    println!(
        "| deck | memristors | ngspice (s) | memnet (s) | speed-up | ngspice error | memnet error |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {:.3} | {:.4} | {:.0}x | {:.1e} | {:.1e} |",
            r.name,
            r.devices,
            r.ngspice.as_secs_f64(),
            r.memnet.as_secs_f64(),
            r.ngspice.as_secs_f64() / r.memnet.as_secs_f64(),
            r.ngspice_err,
            r.memnet_err
        );
    }
    println!("(decks and outputs in {})", dir.display());
}
