//! `memnet simulate --resume OUT`: the run record written beside every
//! `--out` file, and continuing a run from the last sample of its file.
//!
//! The record (`OUT.run.json`) holds what the file does not: the netlist it
//! came from (with a checksum of its bytes), the integrator settings as
//! resolved (method, step, tolerances, sample interval; so a resumed run
//! steps and samples on the same grid) and the options that chose the
//! outputs and the network. The states themselves are the file's last
//! complete sample.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use memnet_solver::{Bounds, ErrorNorm, Method, Ordering, SampleSink, SavedRun, SimOptions};
use serde::{Deserialize, Serialize};

use crate::error::{CliError, CliResult};
use crate::input::InputArgs;
use crate::simulate::{BoundsArg, ErrorNormArg, MethodArg, OrderingArg, StepArgs};

/// How a run written to `--out` was made.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// The memnet version that wrote the file.
    pub memnet: String,
    /// The netlist (or graph file) as given on the command line.
    pub netlist: String,
    /// CRC-32 of the netlist's bytes (files it includes are not covered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netlist_crc32: Option<String>,
    /// FNV-1a 64 of the netlist's bytes: the checksum of records written
    /// before memnet took CRC-32 (still read, so their runs resume).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netlist_fnv1a: Option<String>,
    pub step: StepArgs,
    pub save: Vec<String>,
    pub memristor_subckt: Vec<String>,
    pub param: Vec<String>,
}

/// Where the record of output `out` lives.
pub fn record_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".run.json");
    PathBuf::from(s)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv1a_update(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A checksum that says whether a netlist changed (not a security measure).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Checksum {
    Crc32,
    /// Records of earlier versions.
    Fnv1a,
}

/// The file's checksum, read in blocks: a ten-million-device netlist is a
/// gigabyte, which is not held twice.
fn checksum(path: &Path, kind: Checksum) -> CliResult<String> {
    let mut file = File::open(path).map_err(|e| CliError::io(path.display(), e))?;
    let mut block = vec![0u8; 1 << 20];
    let mut crc = crc32fast::Hasher::new();
    let mut fnv = FNV_OFFSET;
    loop {
        match file.read(&mut block) {
            Ok(0) => break,
            Ok(n) => match kind {
                Checksum::Crc32 => crc.update(&block[..n]),
                Checksum::Fnv1a => fnv = fnv1a_update(fnv, &block[..n]),
            },
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(CliError::io(path.display(), e)),
        }
    }
    Ok(match kind {
        Checksum::Crc32 => format!("{:08x}", crc.finalize()),
        Checksum::Fnv1a => format!("{fnv:016x}"),
    })
}

/// The step settings a run used, resolved: resolving them again on the
/// same network gives the same options (the defaults that depend on t_end,
/// such as the step and the sample interval, are fixed).
fn resolved_step(opts: &SimOptions) -> StepArgs {
    let adaptive = matches!(opts.method, Method::Dopri5 | Method::Rosenbrock);
    let fixed = matches!(opts.method, Method::Euler | Method::Rk4);
    StepArgs {
        t_end: Some(opts.t_end),
        method: match opts.method {
            Method::Euler => MethodArg::Euler,
            Method::Rk4 => MethodArg::Rk4,
            Method::Dopri5 => MethodArg::Dopri5,
            Method::Rosenbrock => MethodArg::Rosenbrock,
            Method::Exact => MethodArg::Exact,
        },
        dt: fixed.then_some(opts.dt),
        rtol: adaptive.then_some(opts.rtol),
        atol: adaptive.then_some(opts.atol),
        locate_switches: opts.locate_switches,
        no_locate_switches: !opts.locate_switches,
        max_step: opts.max_step.filter(|_| adaptive),
        error_norm: match opts.error_norm {
            ErrorNorm::Rms => ErrorNormArg::Rms,
            ErrorNorm::Max => ErrorNormArg::Max,
        },
        bounds: match opts.bounds {
            Bounds::Clip => BoundsArg::Clip,
            Bounds::Sticky => BoundsArg::Sticky,
        },
        sample_dt: opts.sample_dt,
        reuse_factorization: opts.factor_reuse.is_some(),
        ordering: match opts.ordering {
            Ordering::Auto => OrderingArg::Auto,
            Ordering::Amd => OrderingArg::Amd,
            Ordering::NestedDissection => OrderingArg::Nd,
            Ordering::Metis => OrderingArg::Metis,
        },
    }
}

impl RunRecord {
    pub fn new(
        netlist: &Path,
        opts: &SimOptions,
        save: &[String],
        input: &InputArgs,
    ) -> CliResult<Self> {
        Ok(RunRecord {
            memnet: env!("CARGO_PKG_VERSION").to_string(),
            netlist: netlist.display().to_string(),
            netlist_crc32: Some(checksum(netlist, Checksum::Crc32)?),
            netlist_fnv1a: None,
            step: resolved_step(opts),
            save: save.to_vec(),
            memristor_subckt: input.memristor_subckt.clone(),
            param: input.param.clone(),
        })
    }

    /// Written at the start of a run, so an interrupted one has it.
    pub fn write(&self, out: &Path) -> CliResult {
        let path = record_path(out);
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| CliError::io("serialising the run record", e))?;
        std::fs::write(&path, text + "\n").map_err(|e| CliError::io(path.display(), e))
    }

    pub fn read(out: &Path) -> CliResult<Self> {
        let path = record_path(out);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            CliError::input(format!(
                "{}: error: cannot resume: no run record {} ({e}); memnet simulate --out writes \
                 one beside its output",
                out.display(),
                path.display()
            ))
        })?;
        serde_json::from_str(&text).map_err(|e| {
            CliError::input(format!(
                "{}:{}:{}: error: not a memnet run record: {e}",
                path.display(),
                e.line(),
                e.column()
            ))
        })
    }

    /// The settings of the resumed run: the record's, with the end time
    /// the command line gives (a run may be continued past its old end).
    /// Any other setting given must be the recorded one: a run continued
    /// with another step or outputs would be neither run.
    pub fn merge(
        &self,
        out: &Path,
        netlist: &Path,
        step: &StepArgs,
        save: &[String],
        input: &InputArgs,
    ) -> CliResult<(StepArgs, Vec<String>, InputArgs)> {
        let (kind, recorded) = match (&self.netlist_crc32, &self.netlist_fnv1a) {
            (Some(c), _) => (Checksum::Crc32, c),
            (None, Some(f)) => (Checksum::Fnv1a, f),
            (None, None) => {
                return Err(CliError::input(format!(
                    "{}: error: cannot resume: the run record has no checksum of its netlist                      (netlist_crc32)",
                    record_path(out).display()
                )));
            }
        };
        if checksum(netlist, kind)? != *recorded {
            return Err(CliError::input(format!(
                "{}: error: cannot resume: {} is not the netlist {} was written from ({}, as \
                 the run record says), or it changed since",
                netlist.display(),
                netlist.display(),
                out.display(),
                self.netlist
            )));
        }
        let r = &self.step;
        let differs = |flag: &str, given: String, recorded: String| {
            CliError::input(format!(
                "error: cannot resume {} with {flag} {given}: it was written with {recorded}, \
                 and a resumed run keeps its settings (leave {flag} out)",
                out.display()
            ))
        };
        let opt = |v: Option<f64>| v.map_or("its default".into(), |x| x.to_string());
        for (flag, g, rec) in [
            ("--dt", step.dt, r.dt),
            ("--rtol", step.rtol, r.rtol),
            ("--atol", step.atol, r.atol),
            ("--max-step", step.max_step, r.max_step),
            ("--sample-dt", step.sample_dt, r.sample_dt),
        ] {
            if g.is_some() && g != rec {
                return Err(differs(flag, opt(g), opt(rec)));
            }
        }
        let name = |v: &dyn std::fmt::Debug| format!("{v:?}").to_lowercase();
        if step.method != MethodArg::Auto && step.method != r.method {
            return Err(differs("--method", name(&step.method), name(&r.method)));
        }
        if step.error_norm != ErrorNormArg::Rms && step.error_norm != r.error_norm {
            return Err(differs(
                "--error-norm",
                name(&step.error_norm),
                name(&r.error_norm),
            ));
        }
        if step.bounds != BoundsArg::Clip && step.bounds != r.bounds {
            return Err(differs("--bounds", name(&step.bounds), name(&r.bounds)));
        }
        if step.ordering != OrderingArg::Auto && step.ordering != r.ordering {
            return Err(differs(
                "--ordering",
                name(&step.ordering),
                name(&r.ordering),
            ));
        }
        if step.reuse_factorization && !r.reuse_factorization {
            return Err(differs(
                "--reuse-factorization",
                String::new(),
                "a factorisation per evaluation".into(),
            ));
        }
        if step.locate_switches && !r.locate_switches {
            return Err(differs("--locate-switches", String::new(), "none".into()));
        }
        if step.no_locate_switches && r.locate_switches {
            return Err(differs(
                "--no-locate-switches",
                String::new(),
                "--locate-switches".into(),
            ));
        }
        if !save.is_empty() && save != self.save {
            return Err(differs(
                "--save",
                save.join(","),
                if self.save.is_empty() {
                    "the netlist's outputs".into()
                } else {
                    self.save.join(",")
                },
            ));
        }
        let given_input = !input.memristor_subckt.is_empty() || !input.param.is_empty();
        if given_input
            && (input.memristor_subckt != self.memristor_subckt || input.param != self.param)
        {
            return Err(differs(
                "--memristor-subckt/--param",
                "other values".into(),
                "those of the run record".into(),
            ));
        }
        let mut merged = r.clone();
        // A record states its choice either way (one written before
        // `--no-locate-switches` existed has only `locate_switches`).
        merged.no_locate_switches = !merged.locate_switches;
        if step.t_end.is_some() {
            merged.t_end = step.t_end;
        }
        Ok((
            merged,
            self.save.clone(),
            InputArgs {
                memristor_subckt: self.memristor_subckt.clone(),
                param: self.param.clone(),
            },
        ))
    }
}

/// Reopens `out` for a resumed run: a fresh file of the same format is
/// written beside it with every complete sample of `run`, then takes its
/// place (so an interruption at any moment leaves a readable file that
/// holds every sample written so far), and the run's further samples go
/// to it.
pub fn reopen(
    out: &Path,
    run: &SavedRun,
    open: impl Fn(&Path) -> CliResult<Box<dyn SampleSink>>,
) -> CliResult<Box<dyn SampleSink>> {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, ext) = name.rsplit_once('.').unwrap_or((&name, ""));
    let tmp = out.with_file_name(format!(".{stem}.resuming.{ext}"));
    let mut sink = open(&tmp)?;
    for i in 0..run.times.len() {
        sink.sample(run.times[i], run.row(i))
            .map_err(|e| CliError::io(tmp.display(), e))?;
    }
    std::fs::rename(&tmp, out).map_err(|e| CliError::io(out.display(), e))?;
    // An NPY sink wrote its names beside the temporary file; the output's
    // own sidecar already holds the same names.
    if ext.eq_ignore_ascii_case("npy") {
        let _ = std::fs::remove_file(memnet_solver::output::npy_sidecar_path(&tmp));
    }
    Ok(sink)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checksum_of(bytes: &[u8], kind: Checksum) -> String {
        let dir = std::env::temp_dir().join(format!(
            "memnet-checksum-{}-{}",
            std::process::id(),
            bytes.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("deck.cir");
        std::fs::write(&path, bytes).unwrap();
        let c = checksum(&path, kind).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        c
    }

    #[test]
    fn checksums_of_known_strings() {
        // The standard check values: CRC-32 (IEEE) of "123456789", FNV-1a
        // 64 of "" and "a".
        assert_eq!(checksum_of(b"123456789", Checksum::Crc32), "cbf43926");
        assert_eq!(checksum_of(b"", Checksum::Fnv1a), "cbf29ce484222325");
        assert_eq!(checksum_of(b"a", Checksum::Fnv1a), "af63dc4c8601ec8c");
    }

    #[test]
    fn checksum_in_blocks_is_that_of_the_whole_file() {
        // Three blocks and a bit, so block edges fall inside the file.
        let bytes: Vec<u8> = (0..(3 << 20) + 12345)
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        assert_eq!(
            checksum_of(&bytes, Checksum::Crc32),
            format!("{:08x}", crc32fast::hash(&bytes))
        );
        assert_eq!(
            checksum_of(&bytes, Checksum::Fnv1a),
            format!("{:016x}", fnv1a_update(FNV_OFFSET, &bytes))
        );
    }
}
