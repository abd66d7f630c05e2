//! `cargo xtask bench-scale`: the ten- and twenty-million-memristor runs of
//! the scale issue, through the release `memnet` binary, each with its wall
//! time, the solver's own time (`--json` `wall_time_s`) and the peak
//! resident memory (`/usr/bin/time`), against the targets.
//!
//! Generation is not counted (it is timed and shown apart). Import is
//! measured as peak memory over the netlist's size.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::perf::{generate_grid, mb, timed, timed_output};

#[derive(clap::Args, Debug)]
pub struct Settings {
    /// Grid side of the main runs (2237: 10 003 864 memristors).
    #[arg(long, default_value_t = 2237)]
    pub rows: usize,
    /// Also one `exact` sample on this larger grid (3163: 20 002 812
    /// memristors; 0 skips it).
    #[arg(long, default_value_t = 0)]
    pub large_rows: usize,
    /// Also one `exact` sample on a junction nanowire network in a box of
    /// this side, um, at MemNNetSim's default density and wire length
    /// (2650: 2.1M wires, 9.8M junctions; 0 skips it).
    #[arg(long, default_value_t = 0)]
    pub nanowire_box: u32,
    /// Skip the ten-sample and ten-step runs (the one-sample run only).
    #[arg(long)]
    pub quick: bool,
}

/// `exact` at one time (samples at 0 and 0.1), factorisations reused.
const EXACT_ONE: &[&str] = &[
    "--method",
    "exact",
    "--t-end",
    "0.1",
    "--sample-dt",
    "0.1",
    "--reuse-factorization",
];

/// A finished run's figures.
struct Measured {
    what: String,
    wall: f64,
    solver: Option<f64>,
    peak: Option<f64>,
    detail: String,
    /// (seconds, MB) the issue allows, if it sets a target.
    target: (Option<f64>, Option<f64>),
}

/// `memnet simulate` with `args` after the netlist, states saved to an
/// `.npy` beside it.
/// `what` and `target` label the row (see [`Measured`]).
fn simulate(
    memnet: &Path,
    netlist: &Path,
    tag: &str,
    args: &[&str],
    what: String,
    target: (Option<f64>, Option<f64>),
) -> Result<Measured> {
    let out = netlist.with_extension(format!("{tag}.npy"));
    let mut all = vec![
        "simulate",
        netlist.to_str().context("utf-8 path")?,
        "--save",
        "states",
        "--json",
        "--out",
        out.to_str().context("utf-8 path")?,
    ];
    all.extend_from_slice(args);
    let (wall, peak, json) = timed_output(memnet, &all)?;
    let v: serde_json::Value = serde_json::from_str(&json).context("simulate --json")?;
    let num = |k: &str| v[k].as_u64().unwrap_or(0);
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(out.with_extension("npy.json"));
    // (and the run record beside it, for `--resume`)
    let _ = std::fs::remove_file(out.with_extension("npy.run.json"));
    Ok(Measured {
        what,
        wall,
        solver: v["wall_time_s"].as_f64(),
        peak,
        detail: format!(
            "{} memristors, {} unknowns, factor {:.1}M entries, {} ordering, {} samples, {} \
             evaluations (right-hand sides; exact: Newton iterations), {} factorisations, {} CG \
             iterations",
            num("memristors"),
            num("unknowns"),
            num("factor_nnz") as f64 / 1e6,
            v["ordering"].as_str().unwrap_or("?"),
            num("samples"),
            num("rhs_evals"),
            num("factorizations"),
            num("cg_iterations")
        ),
        target,
    })
}

/// A generated network and the layout files beside it (`OUT.nodes.csv`,
/// and `OUT.wires.csv` for nanowires; a gigabyte or more each at this size).
fn remove_generated(file: &Path) {
    let _ = std::fs::remove_file(file);
    for beside in [".nodes.csv", ".wires.csv"] {
        let mut path = file.as_os_str().to_owned();
        path.push(beside);
        let _ = std::fs::remove_file(PathBuf::from(path));
    }
}

fn verdict(m: &Measured) -> String {
    let mut parts = Vec::new();
    if let Some(s) = m.target.0 {
        parts.push(if m.wall <= s {
            format!("{s:.0} s: met")
        } else {
            format!("{s:.0} s: not met")
        });
    }
    if let Some(limit) = m.target.1 {
        parts.push(match m.peak {
            Some(p) if p <= limit => format!("{:.0} GiB: met", limit / 1024.0),
            Some(_) => format!("{:.0} GiB: not met", limit / 1024.0),
            None => "memory: not measured".into(),
        });
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

pub fn bench_scale(s: &Settings) -> Result<()> {
    let root = memnet_crosscheck::repo_root();
    let dir = root.join("target/bench-scale");
    std::fs::create_dir_all(&dir)?;
    let memnet = crate::bench::release_memnet(&root)?;
    let rows = s.rows;
    let memristors = 2 * rows * (rows - 1);
    println!("## bench-scale: {rows}x{rows} grid ({memristors} memristors)");
    println!();

    // Import: peak memory against file size. The netlist form only: the
    // CSV edge list cannot carry the side electrodes (potential
    // constraints) of this drive.
    let netlist = dir.join(format!("grid{rows}.cir"));
    let gen_s = generate_grid(&memnet, rows, &netlist)?;
    let size = std::fs::metadata(&netlist)?.len() as f64 / 1e6;
    let (imp_s, imp_peak) = timed(
        &memnet,
        &["import", netlist.to_str().context("utf-8 path")?, "--json"],
    )?;
    println!("| netlist | size | generate (not counted) | import | import peak | peak / size |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} | {size:.0} MB | {gen_s:.1} s | {imp_s:.1} s | {} | {} |",
        netlist.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
        mb(imp_peak),
        imp_peak.map_or("-".into(), |p| format!(
            "{:.2}x (target 3x)",
            p * 1.048576 / size
        ))
    );
    println!();

    let mut runs = Vec::new();
    runs.push(simulate(
        &memnet,
        &netlist,
        "exact1",
        EXACT_ONE,
        "exact at one t (samples 0 and 0.1), reused factorisations".into(),
        (Some(60.0), Some(8.0 * 1024.0)),
    )?);
    if !s.quick {
        runs.push(simulate(
            &memnet,
            &netlist,
            "exact10",
            &[
                "--method",
                "exact",
                "--t-end",
                "1",
                "--sample-dt",
                "0.1",
                "--reuse-factorization",
            ],
            "exact, ten samples (0.1 to 1), reused factorisations".into(),
            (Some(300.0), None),
        )?);
        runs.push(simulate(
            &memnet,
            &netlist,
            "rk4",
            &[
                "--method",
                "rk4",
                "--dt",
                "0.01",
                "--t-end",
                "0.1",
                "--sample-dt",
                "0.1",
                "--reuse-factorization",
            ],
            "RK4, ten steps of 0.01, reused factorisations".into(),
            (Some(300.0), None),
        )?);
    }
    remove_generated(&netlist);
    let mut large_failure = None;
    if s.large_rows > 0 {
        let r = s.large_rows;
        let file = dir.join(format!("grid{r}.cir"));
        generate_grid(&memnet, r, &file)?;
        let what = format!(
            "{r}x{r} grid ({} memristors): exact at one t",
            2 * r * (r - 1)
        );
        let big = simulate(
            &memnet,
            &file,
            "exact1",
            EXACT_ONE,
            what.clone(),
            (None, Some(16.0 * 1024.0)),
        );
        match big {
            Ok(big) => runs.push(big),
            // Out of memory is a result here, not a reason to lose the
            // table of the runs before it.
            Err(e) => large_failure = Some(format!("{what}: failed: {e:#}")),
        }
        remove_generated(&file);
    }
    if s.nanowire_box > 0 {
        let side = s.nanowire_box.to_string();
        let file = dir.join(format!("nanowire{side}.cir"));
        let box_arg = format!("{side},{side}");
        let (gen_s, gen_peak) = timed(
            &memnet,
            &[
                "generate",
                "nanowire",
                "--box",
                &box_arg,
                "--drive",
                "sides",
                "-o",
                file.to_str().context("utf-8 path")?,
            ],
        )?;
        println!(
            "nanowire network in {side} x {side} um: generated in {gen_s:.1} s, {} peak (not counted)",
            mb(gen_peak)
        );
        println!();
        let what = format!("nanowires, {side} x {side} um box, junctions: exact at one t");
        runs.push(simulate(
            &memnet,
            &file,
            "exact1",
            EXACT_ONE,
            what,
            (None, None),
        )?);
        remove_generated(&file);
    }
    println!("Wall times include import; the solver column is the run's own report.");
    println!();
    println!("| run | wall | solver | peak memory | target | counts |");
    println!("|---|---|---|---|---|---|");
    for m in &runs {
        println!(
            "| {} | {:.1} s | {} | {} | {} | {} |",
            m.what,
            m.wall,
            m.solver.map_or("-".into(), |s| format!("{s:.1} s")),
            mb(m.peak),
            verdict(m),
            m.detail
        );
    }
    if let Some(f) = large_failure {
        println!();
        println!("{f}");
    }
    if runs.is_empty() {
        bail!("nothing ran");
    }
    Ok(())
}
