//! Exported ngspice decks run by real ngspice (skipped, with a note, when
//! `ngspice` is not on PATH), checked against theory.md closed forms.
//!
//! Tolerances: with max step h, the smooth memristor body integrated by
//! ngspice's trapezoidal rule is second-order accurate; measured errors on
//! E1/E2 are below 3e-3 * h^2 (docs/ngspice.md). The tests use h = 1e-3
//! (error <= 3.2e-9 measured) and assert 1e-8.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use memnet_spice::compare::{CompareOptions, Tolerance, Trajectory, compare};
use memnet_spice::export::{DeckOptions, ExportError, state_vector, write_ngspice_deck};
use memnet_spice::raw::{RawFile, ReadOptions};
use memnet_spice::{
    Circuit, Element, ElementKind, LinearLaw, Loc, Memristor, MemristorDialect, Source, TranTimes,
    Waveform,
};

fn loc(line: u32) -> Loc {
    Loc::new(Arc::<str>::from("gen.cir"), line, 1)
}

fn mem(name: &str, p: &str, n: &str, law: LinearLaw) -> Element {
    Element {
        name: name.into(),
        nodes: vec![p.into(), n.into()],
        kind: ElementKind::Memristor(Memristor {
            dialect: MemristorDialect::Canonical,
            law: Some(law),
            params: BTreeMap::new(),
            tables: Vec::new(),
        }),
        loc: loc(2),
    }
}

fn vsrc(name: &str, p: &str, n: &str, s: Source) -> Element {
    Element {
        name: name.into(),
        nodes: vec![p.into(), n.into()],
        kind: ElementKind::VoltageSource(s),
        loc: loc(1),
    }
}

fn law(ron: f64, roff: f64, w0: f64, alpha: f64) -> LinearLaw {
    LinearLaw {
        ron,
        roff,
        w0,
        alpha,
        beta: 1.0,
    }
}

fn ngspice_available() -> bool {
    Command::new("ngspice")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("export_ngspice");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Writes the deck, runs `ngspice -b`, returns the states plot.
fn run(c: &Circuit, tag: &str, t_end: f64, dt: f64, ascii: bool) -> Trajectory {
    let opts = DeckOptions {
        t_end,
        sample_dt: dt,
        ascii,
        ..Default::default()
    };
    run_with(c, tag, opts)
}

fn run_with(c: &Circuit, tag: &str, opts: DeckOptions) -> Trajectory {
    let raw = scratch(&format!("{tag}.raw"));
    let deck = scratch(&format!("{tag}.cir"));
    let opts = DeckOptions {
        raw_path: raw.display().to_string(),
        ..opts
    };
    let mut text = Vec::new();
    write_ngspice_deck(c, &opts, &mut text).unwrap();
    std::fs::write(&deck, &text).unwrap();
    let out = Command::new("ngspice")
        .arg("-b")
        .arg(&deck)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{tag}: ngspice exit {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    let f = RawFile::read(&raw, ReadOptions::default()).unwrap();
    let p = f.plot("transient").unwrap();
    Trajectory::memristor_states(p).unwrap()
}

/// theory.md E1: xi = 1 (ron 1, roff 2), beta 1, S = 0.1, w0 = 0.5, alpha 0:
/// w(t) = sqrt(2.25 - 0.2 t) - 1. S > 0 drives current p -> n.
#[test]
fn e1_single_memristor_matches_closed_form() {
    if !ngspice_available() {
        eprintln!("note: ngspice not on PATH, skipping");
        return;
    }
    let c = Circuit {
        title: "theory E1".into(),
        elements: vec![
            vsrc("v1", "a", "0", Source::dc(0.1)),
            mem("xm1", "a", "0", law(1.0, 2.0, 0.5, 0.0)),
        ],
        ..Default::default()
    };
    for ascii in [false, true] {
        let tr = run(&c, if ascii { "e1_ascii" } else { "e1" }, 6.0, 1e-3, ascii);
        assert_eq!(tr.names, ["xm1"]);
        // uic: ngspice 39 writes no t = 0 row.
        assert!(tr.times[0] > 0.0 && tr.times[0] <= 1e-3);
        assert!((tr.times.last().unwrap() - 6.0).abs() < 1e-12);
        let mut worst = 0.0f64;
        for (t, w) in tr.times.iter().zip(&tr.series[0]) {
            worst = worst.max((w - ((2.25 - 0.2 * t).sqrt() - 1.0)).abs());
        }
        assert!(worst < 1e-8, "E1 max error {worst:e}");
        let w1 = tr.value_at(0, 1.0).unwrap();
        let w5 = tr.value_at(0, 5.0).unwrap();
        // Interpolating between samples 1e-3 apart adds < |w''| h^2 / 8 ~ 1e-9.
        assert!((w1 - 0.431782106328).abs() < 1e-8, "{w1}");
        assert!((w5 - 0.118033988750).abs() < 1e-8, "{w5}");
    }
}

/// theory.md E1 with alpha = -0.5, S = -0.1: implicit solution
/// t = c1 ln|(w - r1)/(w0 - r1)| + c2 ln|(w - r2)/(w0 - r2)|.
#[test]
fn e1_with_decay_matches_implicit_solution() {
    if !ngspice_available() {
        eprintln!("note: ngspice not on PATH, skipping");
        return;
    }
    let c = Circuit {
        title: "theory E1 alpha".into(),
        elements: vec![
            vsrc("v1", "a", "0", Source::dc(-0.1)),
            mem("xm1", "a", "0", law(1.0, 2.0, 0.5, -0.5)),
        ],
        ..Default::default()
    };
    let tr = run(&c, "e1a", 10.0, 1e-3, false);
    let (r1, r2) = (-1.170820393250, 0.170820393250);
    let (c1, c2) = (-0.254644007500, -1.745355992500);
    // Recompute the roots to full precision: alpha xi w^2 + alpha w - S/beta = 0.
    let (a, b, cc) = (-0.5f64, -0.5f64, 0.1f64);
    let d = (b * b - 4.0 * a * cc).sqrt();
    let (mut q1, mut q2) = ((-b - d) / (2.0 * a), (-b + d) / (2.0 * a));
    if q1 > q2 {
        std::mem::swap(&mut q1, &mut q2);
    }
    assert!((q1 - r1).abs() < 1e-11 && (q2 - r2).abs() < 1e-11);
    let k1 = (1.0 + q1) / (-0.5 * (q1 - q2));
    let k2 = (1.0 + q2) / (-0.5 * (q2 - q1));
    assert!((k1 - c1).abs() < 1e-11 && (k2 - c2).abs() < 1e-11);
    let t_of =
        |w: f64| k1 * ((w - q1) / (0.5 - q1)).abs().ln() + k2 * ((w - q2) / (0.5 - q2)).abs().ln();
    let f = |w: f64| -0.5 * w + 0.1 / (1.0 + w);
    let mut worst = 0.0f64;
    for (t, w) in tr.times.iter().zip(&tr.series[0]) {
        // Error in w = time error times |dw/dt| (first order, fine at 1e-8).
        worst = worst.max(((t_of(*w) - t) * f(*w)).abs());
    }
    assert!(worst < 1e-8, "E1 alpha max error {worst:e}");
    for (t, want) in [
        (0.5, 0.419784137977),
        (2.0, 0.277682303493),
        (5.0, 0.190152828489),
        (10.0, 0.171924466716),
    ] {
        let w = tr.value_at(0, t).unwrap();
        assert!((w - want).abs() < 2e-8, "t={t}: {w} vs {want}");
    }
}

/// theory.md E2: two memristors in series, xi = 2, s = 0.3, w0 = (0.6, 0.2).
/// Edge 0 is 0 -> 1 with the source, edge 1 is 1 -> 0.
#[test]
fn e2_series_pair_matches_closed_form_and_conservation() {
    if !ngspice_available() {
        eprintln!("note: ngspice not on PATH, skipping");
        return;
    }
    let c = Circuit {
        title: "theory E2".into(),
        elements: vec![
            vsrc("v1", "s", "0", Source::dc(0.3)),
            mem("xm1", "s", "n1", law(1.0, 3.0, 0.6, 0.0)),
            mem("x2.xm2", "n1", "0", law(1.0, 3.0, 0.2, 0.0)),
        ],
        ..Default::default()
    };
    let tr = run(&c, "e2", 1.0, 1e-3, false);
    let (i1, i2) = (
        tr.names.iter().position(|n| n == "xm1").unwrap(),
        tr.names.iter().position(|n| n == "x2.xm2").unwrap(),
    );
    let u = |t: f64| (-2.0 + ((2.0f64 + 2.0 * 0.8).powi(2) - 4.0 * 2.0 * 0.3 * t).sqrt()) / 2.0;
    let mut worst = 0.0f64;
    for (i, t) in tr.times.iter().enumerate() {
        let (w1, w2) = (tr.series[i1][i], tr.series[i2][i]);
        assert!(
            (w1 - w2 - 0.4).abs() < 1e-9,
            "w1 - w2 not conserved at t={t}"
        );
        worst = worst.max((w1 + w2 - u(*t)).abs());
    }
    assert!(worst < 1e-8, "E2 max error {worst:e}");
    let w = [tr.value_at(i1, 1.0).unwrap(), tr.value_at(i2, 1.0).unwrap()];
    assert!(
        (w[0] - 0.512403840464).abs() < 1e-8 && (w[1] - 0.112403840464).abs() < 1e-8,
        "{w:?}"
    );
}

/// Time-dependent sources mean the same thing in ngspice as in
/// `Waveform::value`: for one memristor with alpha = 0,
/// w + xi w^2 / 2 + (1/beta) * integral of S dt is constant (theory.md E1
/// with S(t)), so the exported PULSE/SIN/PWL are checked through the state.
#[test]
fn exported_waveforms_drive_the_same_charge() {
    if !ngspice_available() {
        eprintln!("note: ngspice not on PATH, skipping");
        return;
    }
    let t_end = 1.0;
    let times = TranTimes {
        tstep: 1e-3,
        tstop: t_end,
    };
    let waves = [
        (
            "pulse",
            Waveform::Pulse {
                v1: 0.0,
                v2: 0.2,
                td: 0.1,
                tr: None,
                tf: Some(0.05),
                pw: Some(0.2),
                per: Some(0.5),
                np: None,
            },
        ),
        (
            "sin",
            Waveform::Sin {
                vo: 0.05,
                va: 0.1,
                freq: Some(3.0),
                td: 0.1,
                theta: 0.5,
                phase: 30.0,
            },
        ),
        (
            "pwl",
            Waveform::Pwl {
                points: vec![(0.0, 0.0), (0.2, 0.2), (0.3, -0.1)],
                repeat_from: Some(0.0),
                delay: 0.05,
            },
        ),
    ];
    for (tag, wave) in waves {
        let src = Source {
            dc: wave.value(0.0, times),
            waveform: wave.clone(),
        };
        let mut c = Circuit {
            title: format!("waveform {tag}"),
            elements: vec![
                vsrc("v1", "a", "0", src),
                mem("xm1", "a", "0", law(1.0, 2.0, 0.5, 0.0)),
            ],
            ..Default::default()
        };
        c.analyses.push(memnet_spice::Analysis::Tran {
            tstep: 1e-3,
            tstop: t_end,
            tstart: 0.0,
            tmax: None,
            uic: true,
            loc: loc(9),
        });
        // ngspice restarts with a first-order step after each source
        // corner (local error ~ h^2 |S'| / 2): 1.6e-6 at max step 1e-3 for
        // this PULSE, hence max step 1e-4 here (1.6e-8). A wrong waveform
        // field would drift by >= 1e-4.
        let opts = DeckOptions {
            t_end,
            sample_dt: 1e-3,
            max_step: Some(1e-4),
            ..Default::default()
        };
        let tr = run_with(&c, &format!("wave_{tag}"), opts);
        // Integral of S by the trapezoid rule on a 1e-6 grid (breakpoints
        // are multiples of 1e-6 up to rounding): error ~1e-10.
        let n = 1_000_000;
        let h = t_end / n as f64;
        let mut charge = vec![0.0; n + 1];
        for i in 1..=n {
            let (ta, tb) = ((i - 1) as f64 * h, i as f64 * h);
            charge[i] = charge[i - 1] + 0.5 * h * (wave.value(ta, times) + wave.value(tb, times));
        }
        let q = |t: f64| {
            let x = t / h;
            let i = (x.floor() as usize).min(n - 1);
            charge[i] + (charge[i + 1] - charge[i]) * (x - i as f64)
        };
        let inv0 = 0.5 + 0.5 * 0.25;
        let mut worst = 0.0f64;
        for (t, w) in tr.times.iter().zip(&tr.series[0]) {
            let inv = w + 0.5 * w * w + q(*t);
            // d(inv)/dw = 1 + w ~ 1.5: invariant error ~ w error.
            worst = worst.max((inv - inv0).abs());
        }
        assert!(worst < 1e-7, "{tag}: invariant drift {worst:e}");
        assert!(
            tr.series[0].iter().any(|w| (w - 0.5).abs() > 1e-3),
            "{tag}: the source did nothing"
        );
    }
}

/// Two ngspice runs at different step bounds agree within the comparator's
/// default tolerance; a deliberately perturbed device is found and named.
#[test]
fn comparator_on_real_runs() {
    if !ngspice_available() {
        eprintln!("note: ngspice not on PATH, skipping");
        return;
    }
    let c = Circuit {
        title: "theory E2".into(),
        elements: vec![
            vsrc("v1", "s", "0", Source::dc(0.3)),
            mem("xm1", "s", "n1", law(1.0, 3.0, 0.6, 0.0)),
            mem("xm2", "n1", "0", law(1.0, 3.0, 0.2, 0.0)),
        ],
        ..Default::default()
    };
    let fine = run(&c, "cmp_fine", 1.0, 1e-4, false);
    let coarse = run(&c, "cmp_coarse", 1.0, 1e-3, true);
    let report = compare(&fine, &coarse, &CompareOptions::default()).unwrap();
    assert!(report.pass, "{}", report.render());
    assert_eq!(report.devices_compared, 2);
    let mut bad = coarse.clone();
    let k = bad.names.iter().position(|n| n == "xm2").unwrap();
    let last = bad.series[k].len() - 1;
    bad.series[k][last] += 1e-5;
    let report = compare(&fine, &bad, &CompareOptions::default()).unwrap();
    assert!(!report.pass);
    assert_eq!(report.devices_failing, 1);
    assert_eq!(report.worst[0].device, "xm2");
    assert_eq!(report.max_abs_error_device, "xm2");
    assert!((report.max_abs_error - 1e-5).abs() < 1e-8);
    // A looser per-device tolerance accepts it.
    let mut opts = CompareOptions::default();
    opts.per_device.insert(
        "xm2".into(),
        Tolerance {
            reltol: 1e-3,
            abstol: 1e-9,
        },
    );
    assert!(compare(&fine, &bad, &opts).unwrap().pass);
}

#[test]
fn deck_text_and_refusals() {
    let c = Circuit {
        title: "deck".into(),
        elements: vec![
            vsrc("v1", "a", "0", Source::dc(0.1)),
            mem("x1.xm2", "a", "0", law(1.0, 2.0, 0.5, 0.0)),
        ],
        ..Default::default()
    };
    let opts = DeckOptions {
        t_end: 2.0,
        sample_dt: 0.01,
        raw_path: "out.raw".into(),
        ..Default::default()
    };
    let mut out = Vec::new();
    write_ngspice_deck(&c, &opts, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains(".subckt memristor p n PARAMS: ron=100 roff=16000 w0=0.5 alpha=0 beta=1")
    );
    assert!(text.contains("\n.save v(x1.xm2.w)\n"));
    assert_eq!(state_vector(&c.elements[1]), "v(x1.xm2.w)");
    assert!(text.contains("\ntran 0.01 2 0 0.01 uic\nwrite out.raw\nquit\n.endc\n.end\n"));
    assert!(text.contains("set filetype=binary"));

    for bad in [
        DeckOptions {
            t_end: 0.0,
            ..opts.clone()
        },
        DeckOptions {
            sample_dt: f64::NAN,
            ..opts.clone()
        },
        DeckOptions {
            sample_dt: 3.0,
            ..opts.clone()
        },
        DeckOptions {
            raw_path: String::new(),
            ..opts.clone()
        },
        DeckOptions {
            raw_path: "my dir/out.raw".into(),
            ..opts.clone()
        },
    ] {
        assert!(matches!(
            write_ngspice_deck(&c, &bad, &mut Vec::new()),
            Err(ExportError::Options(_))
        ));
    }
    let mut d = c.clone();
    d.elements.push(Element {
        name: "q1".into(),
        nodes: vec!["a".into(), "b".into(), "0".into()],
        kind: ElementKind::Unsupported {
            what: "bjt".into(),
            text: "a b 0 qmod".into(),
        },
        loc: loc(17),
    });
    let e = write_ngspice_deck(&d, &opts, &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("gen.cir:17:1:") && e.contains("bjt `q1`"),
        "{e}"
    );
}

/// An n x n grid of memristors (2 n (n-1) devices) driven corner to corner.
fn grid(n: usize) -> Circuit {
    let node = |r: usize, c: usize| {
        if r == n - 1 && c == n - 1 {
            "0".to_string()
        } else {
            format!("n{r}_{c}")
        }
    };
    let mut c = Circuit {
        title: format!("{n}x{n} memristor grid"),
        ..Default::default()
    };
    c.elements.push(vsrc("v1", "drive", "0", Source::dc(1.0)));
    c.elements.push(Element {
        name: "r0".into(),
        nodes: vec!["drive".into(), node(0, 0)],
        kind: ElementKind::Resistor { resistance: 1.0 },
        loc: loc(1),
    });
    let mut k = 0usize;
    for r in 0..n {
        for col in 0..n {
            for (r2, c2) in [(r, col + 1), (r + 1, col)] {
                if r2 < n && c2 < n {
                    // Deterministic spread of initial states in [0.3, 0.7].
                    let w0 = 0.3 + 0.4 * ((k * 7919) % 1000) as f64 / 1000.0;
                    c.elements.push(mem(
                        &format!("xm{k}"),
                        &node(r, col),
                        &node(r2, c2),
                        law(1.0, 10.0, w0, 0.0),
                    ));
                    k += 1;
                }
            }
        }
    }
    c
}

/// A 10 x 10 grid (180 memristors) runs; every state comes back, stays in
/// (0, 1) and the drive moves it. `MEMNET_GRID_N=40` measures the 40 x 40
/// grid (3120 memristors), t_end 1, sample_dt 0.01, and prints the time.
#[test]
fn grid_deck_runs() {
    if !ngspice_available() {
        eprintln!("note: ngspice not on PATH, skipping");
        return;
    }
    let n: usize = std::env::var("MEMNET_GRID_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let c = grid(n);
    let start = std::time::Instant::now();
    let tr = run(&c, &format!("grid{n}"), 1.0, 0.01, false);
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{n}x{n} grid: {} memristors, {} ngspice rows, deck+ngspice+read {secs:.2} s",
        tr.names.len(),
        tr.times.len()
    );
    assert_eq!(tr.names.len(), 2 * n * (n - 1));
    assert!(tr.series.iter().flatten().all(|w| *w > 0.0 && *w < 1.0));
    let moved = tr
        .series
        .iter()
        .filter(|s| (s[s.len() - 1] - s[0]).abs() > 1e-4)
        .count();
    assert!(moved > 0);
}

/// The canonical netlist plus `.include fixtures/spice/memristor.lib` is a
/// plain ngspice netlist: `ngspice -b -r out.raw` runs its `.tran` and the
/// state follows theory.md E1 (same 1e-8 bound, max step 1e-3).
#[test]
fn canonical_netlist_with_include_runs_in_ngspice() {
    if !ngspice_available() {
        eprintln!("note: ngspice not on PATH, skipping");
        return;
    }
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/spice/memristor.lib");
    let mut c = Circuit {
        title: "theory E1 canonical".into(),
        elements: vec![
            vsrc("v1", "a", "0", Source::dc(0.1)),
            mem("xm1", "a", "0", law(1.0, 2.0, 0.5, 0.0)),
        ],
        ..Default::default()
    };
    c.analyses.push(memnet_spice::Analysis::Tran {
        tstep: 1e-3,
        tstop: 5.0,
        tstart: 0.0,
        tmax: Some(1e-3),
        uic: true,
        loc: loc(4),
    });
    c.options.insert("reltol".into(), "1e-6".into());
    let netlist = scratch("canonical_e1.cir");
    let raw = scratch("canonical_e1.raw");
    let mut text = Vec::new();
    let opts = memnet_spice::export::CanonicalOptions {
        include: Some(lib.display().to_string()),
    };
    memnet_spice::export::write_canonical_with(&c, &opts, &mut text).unwrap();
    std::fs::write(&netlist, &text).unwrap();
    let out = Command::new("ngspice")
        .arg("-b")
        .arg("-r")
        .arg(&raw)
        .arg(&netlist)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let f = RawFile::read(&raw, ReadOptions::default()).unwrap();
    let tr = Trajectory::memristor_states(f.plot("transient").unwrap()).unwrap();
    assert_eq!(tr.names, ["xm1"]);
    let worst = tr
        .times
        .iter()
        .zip(&tr.series[0])
        .map(|(t, w)| (w - ((2.25 - 0.2 * t).sqrt() - 1.0)).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-8, "max error {worst:e}");
    assert!((tr.times.last().unwrap() - 5.0).abs() < 1e-12);
}

/// theory.md E3: triangle 0->1, 1->2, 0->2, each edge a series source S_k
/// (driving current tail -> head) and a memristor mounted tail -> head;
/// xi = 2, w0 = (0.5, 0.4, 0.3), S = (0.3, 0.2, 0.1). The reversed edge's w
/// grows. Checks polarity of the body against the theory's convention.
#[test]
fn e3_triangle_signs() {
    if !ngspice_available() {
        eprintln!("note: ngspice not on PATH, skipping");
        return;
    }
    let node = |i: usize| {
        if i == 0 {
            "0".to_string()
        } else {
            format!("n{i}")
        }
    };
    let edges = [(0, 1, 0.3, 0.5), (1, 2, 0.2, 0.4), (0, 2, 0.1, 0.3)];
    let mut c = Circuit {
        title: "theory E3".into(),
        ..Default::default()
    };
    for (k, &(tail, head, s, w0)) in edges.iter().enumerate() {
        let mid = format!("m{k}");
        // V(mid) - V(tail) = S: the source pushes current tail -> mid -> head.
        c.elements
            .push(vsrc(&format!("v{k}"), &mid, &node(tail), Source::dc(s)));
        c.elements.push(mem(
            &format!("xm{k}"),
            &mid,
            &node(head),
            law(1.0, 3.0, w0, 0.0),
        ));
    }
    let tr = run(&c, "e3", 1.0, 1e-3, false);
    let want_05 = [0.462705391139, 0.362705391139, 0.337294608861];
    let want_1 = [0.424880949681, 0.324880949681, 0.375119050319];
    for k in 0..3 {
        let i = tr
            .names
            .iter()
            .position(|n| *n == format!("xm{k}"))
            .unwrap();
        let (a, b) = (tr.value_at(i, 0.5).unwrap(), tr.value_at(i, 1.0).unwrap());
        assert!((a - want_05[k]).abs() < 1e-8, "xm{k} w(0.5) = {a}");
        assert!((b - want_1[k]).abs() < 1e-8, "xm{k} w(1) = {b}");
    }
}
