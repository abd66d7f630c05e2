//! The Python venv of the benchmarks that compare memnet with Python
//! packages (simulated annealing, echo-state networks): one venv under
//! target/, made once, with each caller's packages from PyPI.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// `target/bench-venv/bin/python` with `packages` (pip requirement
/// strings) installed; `python3 -m venv` and `pip install` when missing.
pub fn bench_venv(root: &Path, packages: &[&str]) -> Result<PathBuf> {
    let venv = root.join("target/bench-venv");
    let python = venv.join("bin/python");
    if !python.is_file() {
        eprintln!("creating {}", venv.display());
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .context("python3 -m venv")?;
        if !status.success() {
            bail!("python3 -m venv {} failed", venv.display());
        }
    }
    // pip checks what is there and installs only what is missing.
    let status = Command::new(venv.join("bin/pip"))
        .args(["install", "-q"])
        .args(packages)
        .status()
        .context("pip install")?;
    if !status.success() {
        bail!("pip install {} failed", packages.join(" "));
    }
    Ok(python)
}
