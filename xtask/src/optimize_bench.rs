//! `cargo xtask bench-optimize`: `memnet optimize` against simulated
//! annealing (dwave-samplers, installed from PyPI into a venv under
//! target/) on the shipped OR-Library and Gset instances, side by side in
//! one run (apps.md A.10, targets A-T1 and A-T2). Prints a Markdown table.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use memnet_crosscheck::repo_root;

use crate::bench::release_memnet;
use crate::venv::bench_venv;

/// Restarts of the raw run (target A-T1: best of 10, no polish).
const A_T1_RESTARTS: usize = 10;

/// The annealer's versions (apps.md A.10 used these).
const SA_PACKAGES: [&str; 2] = ["dwave-samplers==1.8.0", "dimod==0.12.23"];

/// Simulated annealing (dwave-samplers) by `sa.py` in the bench venv: it
/// reads the instance files itself.
pub struct Annealer {
    python: PathBuf,
    script: PathBuf,
}

impl Annealer {
    /// Installs the packages into the venv and writes the script beside it.
    pub fn install(root: &Path) -> Result<Annealer> {
        let python = bench_venv(root, &SA_PACKAGES)?;
        let script = root.join("target/bench-venv/sa.py");
        std::fs::write(&script, include_str!("sa.py"))?;
        Ok(Annealer { python, script })
    }

    /// `sa.py FILE --best-known V --reads R --sweeps S [--instance K]`,
    /// parsed: best, p, t_read_s, tts99_s.
    pub fn run(
        &self,
        file: &Path,
        instance: &str,
        best_known: &str,
        reads: usize,
        sweeps: usize,
    ) -> Result<serde_json::Value> {
        let mut cmd = Command::new(&self.python);
        cmd.arg(&self.script).arg(file).args([
            "--best-known",
            best_known,
            "--reads",
            &reads.to_string(),
            "--sweeps",
            &sweeps.to_string(),
        ]);
        if !instance.is_empty() {
            cmd.args(["--instance", instance]);
        }
        json_of(cmd.output()?, &format!("SA {} {instance}", file.display()))
    }
}

/// Options of one benchmark run (`cargo xtask bench-optimize`).
#[derive(clap::Args)]
pub struct Settings {
    /// Families: bqp50, bqp100, bqp250, gset.
    #[arg(long, value_delimiter = ',', default_values_t = vec!["bqp50".to_string(), "bqp100".to_string(), "bqp250".to_string(), "gset".to_string()])]
    pub families: Vec<String>,
    /// memnet restarts per instance.
    #[arg(long, default_value_t = 20)]
    pub restarts: usize,
    /// SA reads per instance.
    #[arg(long, default_value_t = 20)]
    pub reads: usize,
    /// SA sweeps per read on bqp instances.
    #[arg(long, default_value_t = 1000)]
    pub sweeps_bqp: usize,
    /// SA sweeps per read on Gset instances.
    #[arg(long, default_value_t = 10000)]
    pub sweeps_gset: usize,
    /// Options of memnet's raw run (no polish; target A-T1). Without
    /// `--seed`: the xtask passes it.
    #[arg(
        long,
        default_value = "--alpha 30 --diagonal metric:0.99 --schedule drive:0.35,100 --perturb 0.2 --t-max 100 --rounding sweep",
        allow_hyphen_values = true
    )]
    pub raw_args: String,
    /// Seeds of the raw run on bqp50 (1 to N): A-T1 is reported per seed.
    /// The table shows seed 1.
    #[arg(long, default_value_t = 1)]
    pub a_t1_seeds: u64,
    /// Options of memnet's polished run (independent restarts, so that
    /// TTS99 is defined; target A-T2). Without `--seed`: the xtask passes
    /// it.
    #[arg(long, default_value = "--boundary window", allow_hyphen_values = true)]
    pub polish_args: String,
}

pub fn json_of(out: std::process::Output, what: &str) -> Result<serde_json::Value> {
    if !out.status.success() {
        bail!("{what} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or("");
    // The memnet report is pretty-printed over many lines.
    let doc = if text.trim_start().starts_with('{') {
        text.trim()
    } else {
        line
    };
    serde_json::from_str(doc).with_context(|| format!("{what}: not JSON: {text}"))
}

pub fn fmt(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".to_string(), |x| format!("{x:.digits$}"))
}

pub fn bench_optimize(s: &Settings) -> Result<()> {
    let root = repo_root();
    let memnet = release_memnet(&root)?;
    let annealer = Annealer::install(&root)?;
    let table = std::fs::read_to_string(root.join("fixtures/qubo/best-known.csv"))?;
    println!(
        "memnet optimize: raw column on bqp from `--restarts {A_T1_RESTARTS} {}` (target A-T1 on bqp50), on Gset from the polished run's raw corners; polished `--restarts {} --polish {}`; SA {} reads ({} sweeps on bqp, {} on Gset)\n",
        s.raw_args, s.restarts, s.polish_args, s.reads, s.sweeps_bqp, s.sweeps_gset
    );
    println!(
        "| instance | best known | memnet raw best (gap) | memnet polished best | P/restart | t/restart | memnet TTS99 | SA best | SA P/read | SA t/read | SA TTS99 | TTS99 ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let a_t1_seeds = s.a_t1_seeds.max(1);
    let mut worst_bqp50_gap = vec![0.0f64; a_t1_seeds as usize];
    let (mut reached, mut rows) = (0, 0);
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (file, instance, best) = (f[0], f[1], f[2]);
        let family = if file.ends_with(".rud") {
            "gset"
        } else {
            file.trim_end_matches(".txt")
        };
        if !s.families.iter().any(|x| x == family) {
            continue;
        }
        let path = root.join("fixtures/qubo").join(file);
        let run = |polish: bool, args: &str, seed: u64| -> Result<serde_json::Value> {
            // A-T1 is defined on 10 restarts.
            let restarts = if polish { s.restarts } else { A_T1_RESTARTS };
            let mut cmd = Command::new(&memnet);
            cmd.arg("optimize").arg(&path).args([
                "--restarts",
                &restarts.to_string(),
                "--best-known",
                best,
                "--seed",
                &seed.to_string(),
                "--json",
            ]);
            if polish {
                cmd.arg("--polish");
            }
            if !instance.is_empty() {
                cmd.args(["--instance", instance]);
            }
            cmd.args(args.split_whitespace());
            json_of(cmd.output()?, &format!("memnet optimize {file} {instance}"))
        };
        let m = run(true, &s.polish_args, 1)?;
        // The raw column: the A-T1 setting on the bqp files (bqp50 is
        // A-T1's own set), on Gset the polished run's own raw corners
        // (independent restarts, pure dynamics): ten A-T1 restarts of G1
        // cost about 100 s.
        let r = if family != "gset" {
            run(false, &s.raw_args, 1)?
        } else {
            m.clone()
        };
        let sweeps = if family == "gset" {
            s.sweeps_gset
        } else {
            s.sweeps_bqp
        };
        let a = annealer.run(&path, instance, best, s.reads, sweeps)?;
        let raw_gap = r["raw"]["gap"].as_f64();
        if family == "bqp50" {
            for seed in 1..=a_t1_seeds {
                let gap = if seed == 1 {
                    raw_gap
                } else {
                    run(false, &s.raw_args, seed)?["raw"]["gap"].as_f64()
                };
                let worst = &mut worst_bqp50_gap[seed as usize - 1];
                *worst = worst.max(gap.unwrap_or(f64::INFINITY));
            }
        }
        let p = &m["polish"];
        let tts = p["tts99_s"].as_f64();
        if p["hits"].as_u64().unwrap_or(0) > 0 {
            reached += 1;
        }
        rows += 1;
        let restarts = m["restarts"].as_array().map_or(1, Vec::len) as f64;
        let sa_tts = a["tts99_s"].as_f64();
        let ratio = match (tts, sa_tts) {
            (Some(x), Some(y)) if y > 0.0 => format!("{:.1}", x / y),
            _ => "-".into(),
        };
        let name = if instance.is_empty() {
            file.trim_end_matches(".rud").to_uppercase()
        } else {
            format!("{}-{instance}", file.trim_end_matches(".txt"))
        };
        let best_of = |v: &serde_json::Value| {
            v["best_cut"]
                .as_f64()
                .or(v["best_energy"].as_f64())
                .map_or("-".into(), |x| format!("{x}"))
        };
        println!(
            "| {name} | {best} | {} ({}) | {} | {} | {} s | {} | {} | {} | {} s | {} | {ratio} |",
            best_of(&r["raw"]),
            fmt(raw_gap, 3),
            best_of(p),
            fmt(p["success_probability"].as_f64(), 2),
            fmt(m["wall_time_s"].as_f64().map(|t| t / restarts), 3),
            fmt(tts, 3).replace('-', "not reached"),
            a["best"].as_f64().map_or("-".into(), |x| format!("{x}")),
            fmt(a["p"].as_f64(), 2),
            fmt(a["t_read_s"].as_f64(), 4),
            fmt(sa_tts, 3).replace('-', "not reached"),
        );
    }
    println!();
    if s.families.iter().any(|f| f == "bqp50") {
        let met = worst_bqp50_gap.iter().filter(|&&g| g <= 0.10).count();
        let per_seed: Vec<String> = worst_bqp50_gap.iter().map(|g| format!("{g:.3}")).collect();
        println!(
            "A-T1 (raw, best of {A_T1_RESTARTS} restarts, every bqp50 gap <= 0.10): worst gap per seed (1 to {}) {}; met on {met} of {} seeds",
            worst_bqp50_gap.len(),
            per_seed.join(" "),
            worst_bqp50_gap.len()
        );
    }
    println!("A-T2: best-known value reached (with polish) on {reached} of {rows} instances");
    Ok(())
}
