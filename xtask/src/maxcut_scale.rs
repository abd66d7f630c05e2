//! `cargo xtask bench-maxcut-scale`: target A-T3 of apps.md part C. A
//! seeded random 3-regular max-cut instance with +-1 weights, memnet's
//! restarts against simulated annealing (dwave-samplers, in the venv of
//! `bench-optimize`) given the same wall-clock budget, side by side in one
//! run. Prints a Markdown table.

use std::fmt::Write as _;
use std::process::Command;

use anyhow::{Context, Result, bail};
use memnet_crosscheck::repo_root;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::bench::release_memnet;
use crate::optimize_bench::{Annealer, fmt, json_of};

/// Options of `cargo xtask bench-maxcut-scale`.
#[derive(clap::Args)]
pub struct Settings {
    /// Nodes of the 3-regular graph (even).
    #[arg(long, default_value_t = 100_000)]
    pub nodes: usize,
    /// Seed of the graph and its weights (ChaCha8).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// memnet restarts.
    #[arg(long, default_value_t = 1)]
    pub restarts: usize,
    /// Options of memnet's run.
    #[arg(
        long,
        default_value = "--boundary window --polish",
        allow_hyphen_values = true
    )]
    pub memnet_args: String,
    /// SA sweeps per read.
    #[arg(long, default_value_t = 1000)]
    pub sweeps: usize,
}

/// A random 3-regular graph by the configuration model (three stubs per
/// node, shuffled and paired; loops and repeated pairs dropped, so a few
/// nodes end with degree 2), each edge weighted +1 or -1, in rudy format.
pub fn regular3_rudy(nodes: usize, seed: u64) -> Result<String> {
    if nodes < 4 || nodes % 2 == 1 {
        bail!("--nodes must be even and at least 4, got {nodes}");
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut stubs: Vec<usize> = (0..nodes).flat_map(|v| [v, v, v]).collect();
    stubs.shuffle(&mut rng);
    let mut seen = std::collections::HashSet::new();
    let mut edges = Vec::new();
    for pair in stubs.chunks_exact(2) {
        let (a, b) = (pair[0].min(pair[1]), pair[0].max(pair[1]));
        if a != b && seen.insert((a, b)) {
            edges.push((a, b, if rng.random::<bool>() { 1 } else { -1 }));
        }
    }
    let mut text = format!("{nodes} {}\n", edges.len());
    for (a, b, w) in edges {
        writeln!(text, "{} {} {w}", a + 1, b + 1)?;
    }
    Ok(text)
}

pub fn bench_maxcut_scale(s: &Settings) -> Result<()> {
    let root = repo_root();
    let dir = root.join("target/bench-maxcut");
    std::fs::create_dir_all(&dir)?;
    let file = dir.join(format!("regular3_n{}_seed{}.rud", s.nodes, s.seed));
    std::fs::write(&file, regular3_rudy(s.nodes, s.seed)?)?;
    let memnet = release_memnet(&root)?;
    let annealer = Annealer::install(&root)?;

    let out = Command::new(&memnet)
        .arg("optimize")
        .arg(&file)
        .args(["--restarts", &s.restarts.to_string(), "--json"])
        .args(s.memnet_args.split_whitespace())
        .output()?;
    let m = json_of(out, "memnet optimize")?;
    let wall = m["wall_time_s"].as_f64().context("memnet's wall time")?;
    // Three reads measure SA's cost (the first carries the set-up); then as
    // many reads as fit memnet's time.
    // (No best-known cut: sa.py's hit rate is then 0 and unused.)
    let probe = annealer.run(&file, "", "1e300", 3, s.sweeps)?;
    let t_read = probe["t_read_s"].as_f64().context("SA's time per read")?;
    let reads = ((wall / t_read).floor() as usize).max(1);
    let a = annealer.run(&file, "", "1e300", reads, s.sweeps)?;
    let sa_best = a["best"].as_f64().context("SA's best cut")?;
    let best = m["best_cut"].as_f64().context("memnet's best cut")?;

    println!(
        "A 3-regular max-cut instance ({} nodes, seed {}, +-1 weights). memnet `optimize --restarts {} {}`; SA {} sweeps per read, as many reads as fit memnet's wall time.\n",
        s.nodes, s.seed, s.restarts, s.memnet_args, s.sweeps
    );
    println!("| | best cut | wall time | per restart or read |");
    println!("|---|---|---|---|");
    println!(
        "| memnet, raw | {} | | |",
        fmt(m["raw"]["best_cut"].as_f64(), 0)
    );
    println!(
        "| memnet, reported | {best} | {wall:.1} s | {:.1} s |",
        wall / s.restarts as f64
    );
    // The run's own time per read (the probe's includes the first read's
    // set-up, so SA uses at most memnet's budget).
    let t_run = a["t_read_s"].as_f64().context("SA's time per read")?;
    println!(
        "| SA, {reads} reads | {sa_best} | {:.1} s | {t_run:.2} s |",
        t_run * reads as f64
    );
    let gap = (sa_best - best) / sa_best.abs();
    println!();
    println!(
        "A-T3 (within 2 % of SA's best cut at the same wall-clock budget): memnet is {:.1} % {} SA: {}",
        100.0 * gap.abs(),
        if gap >= 0.0 { "below" } else { "above" },
        if gap <= 0.02 { "met" } else { "not met" }
    );
    Ok(())
}
