//! `cargo xtask bench`: the performance figures the issues ask for, measured
//! in one run on release builds (these machines are shared and noisy: compare
//! ratios measured side by side, not absolute times across runs).
//!
//! 1. The 1000x1000 grid end to end through the `memnet` binary: import
//!    (parse, elaborate, fold, topology) and import plus two RK4 steps, with
//!    wall time and peak resident memory (`/usr/bin/time`, when installed).
//! 2. The solver's measurement example: one right-hand-side evaluation
//!    against faer's bare refactorisation plus solve, per-step scaling over
//!    grid sizes, the dense/sparse crossover, exact method against dopri5.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// Runs `cmd`, returning (wall seconds, peak RSS in MB if measurable).
pub fn timed(program: &Path, args: &[&str]) -> Result<(f64, Option<f64>)> {
    timed_output(program, args).map(|(wall, peak, _)| (wall, peak))
}

/// Like [`timed`], also returning standard output.
pub fn timed_output(program: &Path, args: &[&str]) -> Result<(f64, Option<f64>, String)> {
    let gnu_time = Path::new("/usr/bin/time");
    let start = Instant::now();
    let out = if gnu_time.exists() {
        Command::new(gnu_time)
            .args(["-f", "memnet-peak-kb=%M"])
            .arg(program)
            .args(args)
            .output()
    } else {
        Command::new(program).args(args).output()
    }
    .with_context(|| format!("running {}", program.display()))?;
    let wall = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("{} {args:?} failed:\n{stderr}", program.display());
    }
    let peak = stderr
        .lines()
        .find_map(|l| l.strip_prefix("memnet-peak-kb="))
        .and_then(|kb| kb.trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0);
    Ok((
        wall,
        peak,
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

pub fn mb(peak: Option<f64>) -> String {
    peak.map_or("n/a (no /usr/bin/time)".into(), |m| format!("{m:.0} MiB"))
}

/// `memnet generate` of the benchmark grid (sides driven, w0 uniform in
/// [0.3, 0.7], seed 1) to `out`; returns the wall seconds.
pub fn generate_grid(memnet: &Path, rows: usize, out: &Path) -> Result<f64> {
    let n = rows.to_string();
    let (wall, _) = timed(
        memnet,
        &[
            "generate",
            "grid",
            "--rows",
            &n,
            "--cols",
            &n,
            "--drive",
            "sides",
            "--seed",
            "1",
            "--w0",
            "uniform:0.3,0.7",
            "-o",
            out.to_str().context("utf-8 path")?,
        ],
    )?;
    Ok(wall)
}

pub fn bench(rows: usize) -> Result<()> {
    let root = memnet_crosscheck::repo_root();
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(["build", "--release", "--quiet", "-p", "memnet"])
        .current_dir(&root)
        .status()?;
    if !status.success() {
        bail!("release build failed");
    }
    let memnet = root.join("target/release/memnet");
    let netlist = dir.join(format!("grid{rows}.cir"));
    let net_s = netlist.to_str().context("utf-8 path")?;
    let gen_s = generate_grid(&memnet, rows, &netlist)?;
    let size_mb = std::fs::metadata(&netlist)?.len() as f64 / 1e6;
    let (import_s, import_peak) = timed(&memnet, &["import", net_s, "--json"])?;
    // The run of the one-engine issue: 2 RK4 steps, the default 101
    // samples (interpolated, not stepped to), `.npy` output.
    let npy = dir.join(format!("grid{rows}.npy"));
    let (sim_s, sim_peak, sim_json) = timed_output(
        &memnet,
        &[
            "simulate",
            net_s,
            "--t-end",
            "0.1",
            "--method",
            "rk4",
            "--dt",
            "0.05",
            // The states only, as this run measured before outputs had
            // node voltages (a million more columns).
            "--save",
            "states",
            "--out",
            npy.to_str().context("utf-8 path")?,
            "--json",
        ],
    )?;
    let report: serde_json::Value =
        serde_json::from_str(&sim_json).context("simulate --json output")?;
    println!("## {rows}x{rows} grid through the memnet binary (release)");
    println!("| stage | wall | peak memory |");
    println!("|---|---|---|");
    println!("| generate netlist ({size_mb:.0} MB) | {gen_s:.2} s | |");
    println!(
        "| import: parse, elaborate, fold, topology ({:.0} MB/s end to end) | {import_s:.2} s | {} |",
        size_mb / import_s,
        mb(import_peak)
    );
    println!(
        "| import + RK4 --dt 0.05 to 0.1 ({} steps, {} factorisations, {} samples, .npy) | {sim_s:.2} s | {} |",
        report["steps"],
        report["factorizations"],
        report["samples"],
        mb(sim_peak)
    );
    println!();
    // Fewer factorisations: the same smooth run (RK4, 10 steps) with a
    // factorisation per evaluation and with reused ones, one after the
    // other, each timed by its own report (the solver, import not counted).
    let run = |netlist: &Path, reuse: bool| -> Result<(f64, serde_json::Value)> {
        let out = netlist.with_extension(format!("reuse{reuse}.npy"));
        let mut args = vec![
            "simulate",
            netlist.to_str().context("utf-8 path")?,
            "--t-end",
            "0.1",
            "--method",
            "rk4",
            "--dt",
            "0.01",
            "--sample-dt",
            "0.1",
            "--save",
            "states",
            "--json",
            "--out",
            out.to_str().context("utf-8 path")?,
        ];
        if reuse {
            args.push("--reuse-factorization");
        }
        let (_, _, json) = timed_output(&memnet, &args)?;
        let v: serde_json::Value = serde_json::from_str(&json).context("simulate --json")?;
        let _ = std::fs::remove_file(&out);
        Ok((v["wall_time_s"].as_f64().unwrap_or(f64::NAN), v))
    };
    let (direct_s, direct) = run(&netlist, false)?;
    let (reuse_s, reused) = run(&netlist, true)?;
    let evals = direct["rhs_evals"].as_f64().unwrap_or(f64::NAN);
    let per_direct = direct_s / evals;
    let per_reuse = reuse_s / reused["rhs_evals"].as_f64().unwrap_or(f64::NAN);
    let solves = reused["reused_solves"].as_f64().unwrap_or(0.0);
    println!(
        "## {rows}x{rows}: a factorisation per evaluation against reused ones (RK4, 10 steps)"
    );
    println!(
        "| run | evaluations | factorisations | evaluations per factorisation | CG iterations per reused solve | s per evaluation | ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, v, per) in [
        ("factorise each", &direct, per_direct),
        ("--reuse-factorization", &reused, per_reuse),
    ] {
        let e = v["rhs_evals"].as_f64().unwrap_or(f64::NAN);
        let f = v["factorizations"].as_f64().unwrap_or(f64::NAN);
        let cg = if name.starts_with("--") && solves > 0.0 {
            format!("{:.2}", v["cg_iterations"].as_f64().unwrap_or(0.0) / solves)
        } else {
            "-".into()
        };
        println!(
            "| {name} | {e} | {f} | {:.1} | {cg} | {per:.3} | {:.2} |",
            e / f,
            per / per_direct
        );
    }
    println!();
    // Scaling: the solver's time per RK4 step of the same run (setup
    // included) against unknowns, both paths, smaller grids generated
    // here and the grid above, fitted as time ~ unknowns^p by least squares
    // on the logarithms.
    println!(
        "## cost per step against unknowns (RK4, 10 steps of 0.01, solver time, setup included)"
    );
    println!("| grid | unknowns | factorise each: s per step | reused: s per step | ratio |");
    println!("|---|---|---|---|---|");
    let mut points: Vec<(f64, f64, f64)> = Vec::new();
    let mut sizes: Vec<usize> = [250usize, 500, 750]
        .into_iter()
        .filter(|&r| r < rows)
        .collect();
    sizes.push(rows);
    for r in sizes {
        let (d, dv, u, uv) = if r == rows {
            (direct_s, direct.clone(), reuse_s, reused.clone())
        } else {
            let file = dir.join(format!("grid{r}.cir"));
            generate_grid(&memnet, r, &file)?;
            let (d, dv) = run(&file, false)?;
            let (u, uv) = run(&file, true)?;
            let _ = std::fs::remove_file(&file);
            (d, dv, u, uv)
        };
        let unknowns = dv["unknowns"].as_f64().unwrap_or(f64::NAN);
        let per_step = |t: f64, v: &serde_json::Value| t / v["steps"].as_f64().unwrap_or(f64::NAN);
        let (pd, pu) = (per_step(d, &dv), per_step(u, &uv));
        println!(
            "| {r}x{r} | {unknowns} | {pd:.4} | {pu:.4} | {:.2} |",
            pu / pd
        );
        points.push((unknowns.ln(), pd.ln(), pu.ln()));
    }
    let slope = |y: fn(&(f64, f64, f64)) -> f64| {
        let n = points.len() as f64;
        let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
        let my = points.iter().map(y).sum::<f64>() / n;
        points.iter().map(|p| (p.0 - mx) * (y(p) - my)).sum::<f64>()
            / points.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>()
    };
    println!();
    if points.len() >= 2 {
        println!(
            "cost per step ~ unknowns^{:.2} factorising each evaluation, ~ unknowns^{:.2} with reused factorisations",
            slope(|p| p.1),
            slope(|p| p.2)
        );
    } else {
        println!("(one grid size: no exponent; run with --rows above 250)");
    }
    println!();
    println!("## solver measurements (cargo run --release -p memnet-solver --example measure)");
    let status = Command::new(&cargo)
        .args([
            "run",
            "--release",
            "--quiet",
            "-p",
            "memnet-solver",
            "--example",
            "measure",
        ])
        .current_dir(&root)
        .status()?;
    if !status.success() {
        bail!("the solver measurement example failed");
    }
    Ok(())
}
