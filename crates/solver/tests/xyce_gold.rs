//! Xyce's own regression circuits for its memristor levels, run as written
//! (`fixtures/xyce/`, copied from the public `Xyce/Xyce_Regression`
//! repository with their gold `.prn` outputs; see fixtures/xyce/README.md),
//! compared with the tolerances the netlists' `*COMP` lines give Xyce's
//! own comparator.

use std::path::Path;

use memnet_graph::Network;
use memnet_solver::{Method, Probes, SimOptions, simulate_outputs};
use memnet_spice::compare::Trajectory;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/xyce")
        .join(name)
}

fn network(deck: &str) -> Network {
    let circuit = memnet_spice::import_file(&fixture(deck), &Default::default())
        .unwrap_or_else(|e| panic!("{deck}: {e}"));
    Network::from_circuit(&circuit).unwrap_or_else(|e| panic!("{deck}: {}", e.render()))
}

fn gold(deck: &str) -> Trajectory {
    let text = std::fs::read_to_string(fixture(&format!("{deck}.prn"))).unwrap();
    Trajectory::from_prn(&text).unwrap()
}

/// The gold file's columns (its `.print` list), sampled every `dt` from 0
/// to the deck's stop time by dopri5 at rtol 1e-8 (a reference far tighter
/// than Xyce's reltol): times and one series per column.
fn run(net: &Network, gold: &Trajectory, t_end: f64, dt: f64) -> (Vec<f64>, Vec<Vec<f64>>) {
    let opts = SimOptions {
        t_end,
        method: Method::Dopri5,
        dt: 0.0,
        rtol: 1e-8,
        atol: 1e-12,
        sample_dt: Some(dt),
        ..SimOptions::default()
    };
    let probes = Probes::parse(net, &gold.names).unwrap();
    assert_eq!(probes.names(), &gold.names[..]);
    let mut samples: Vec<(f64, Vec<f64>)> = Vec::new();
    simulate_outputs(net, &opts, &probes, &mut samples, &mut |_| {}).unwrap();
    let times = samples.iter().map(|s| s.0).collect();
    let series = (0..gold.names.len())
        .map(|k| samples.iter().map(|s| s.1[k]).collect())
        .collect();
    (times, series)
}

/// Column `name` of a run of `gold`'s outputs.
fn column<'a>(gold: &Trajectory, series: &'a [Vec<f64>], name: &str) -> &'a [f64] {
    let k = gold.names.iter().position(|n| n == name).unwrap();
    &series[k]
}

/// Linear interpolation of (t, x) at `at`.
fn at(t: &[f64], x: &[f64], at: f64) -> f64 {
    let i = t.partition_point(|&s| s <= at).clamp(1, t.len() - 1);
    x[i - 1] + (x[i] - x[i - 1]) * (at - t[i - 1]) / (t[i] - t[i - 1])
}

/// Times where x crosses `level` upwards and downwards.
fn crossings(t: &[f64], x: &[f64], level: f64) -> (Vec<f64>, Vec<f64>) {
    let (mut up, mut down) = (Vec::new(), Vec::new());
    for i in 1..t.len() {
        let (a, b) = (x[i - 1], x[i]);
        let tc = || t[i - 1] + (level - a) * (t[i] - t[i - 1]) / (b - a);
        if a < level && b >= level {
            up.push(tc());
        } else if a >= level && b < level {
            down.push(tc());
        }
    }
    (up, down)
}

/// `memristorTEAM_test.cir`: level 2 with Kvatinsky's window (wt = 4),
/// 1 kHz sine of 1 V through the device and 50 ohm, 10 ms. The state
/// switches within ~170 ns twice per period, so rows inside a transition
/// differ by a time shift times a steep slope; what the test compares is
/// what the deck is about (docs/device-laws.md, "Xyce level 2"):
/// * the times of all ten SETs and ten RESETs (x through 0.67 nm, mid
///   range) within 100 ns, 1e-4 of the period, i.e. Xyce's `reltol`;
/// * x at every gold row farther than 0.5 us from a switching time within
///   the netlist's `abstol = 0.01` (nm), R within its `reltol = 0.02`;
/// * the plateaus: the state creeps below xon = 0, so R falls below ron,
///   as Xyce computes it (no clamp).
#[test]
fn xyce_team_regression_deck_switches_when_xyce_does() {
    let deck = "memristorTEAM_test.cir";
    let net = network(deck);
    let gold = gold(deck);
    let (t, series) = run(&net, &gold, 10e-3, 1e-8);
    let x = column(&gold, &series, "n(ymemristor!mr1_x)");
    let r = column(&gold, &series, "n(ymemristor!mr1:r)");
    let i = column(&gold, &series, "i(rptg)");
    let v1 = column(&gold, &series, "v(n1)");
    let gx = gold.series_named("n(ymemristor!mr1_x)").unwrap();
    let gr = gold.series_named("n(ymemristor!mr1:r)").unwrap();
    let gi = gold.series_named("i(rptg)").unwrap();
    let gv1 = gold.series_named("v(n1)").unwrap();

    let (up, down) = crossings(&t, x, 0.67);
    let (gup, gdown) = crossings(&gold.times, gx, 0.67);
    assert_eq!((up.len(), down.len()), (10, 10), "SETs and RESETs");
    assert_eq!((gup.len(), gdown.len()), (10, 10));
    for (a, b) in up.iter().chain(&down).zip(gup.iter().chain(&gdown)) {
        assert!((a - b).abs() < 1e-7, "switching at {a} s, Xyce at {b} s");
    }

    let switching: Vec<f64> = gup.iter().chain(&gdown).copied().collect();
    let mut compared = 0;
    for (k, &tg) in gold.times.iter().enumerate() {
        if switching.iter().any(|&s| (s - tg).abs() < 0.5e-6) {
            continue;
        }
        let xm = at(&t, x, tg);
        assert!(
            (xm - gx[k]).abs() <= 0.01,
            "x at t = {tg}: {xm} nm, Xyce {} nm",
            gx[k]
        );
        let rm = at(&t, r, tg);
        // The source is written exactly (`v(n1)`, abstol 1e-5) and the
        // current through the 50 ohm load within abstol 0.002.
        assert!((at(&t, v1, tg) - gv1[k]).abs() <= 1e-5, "v(n1) at {tg}");
        assert!((at(&t, i, tg) - gi[k]).abs() <= 0.002, "i(rptg) at {tg}");
        if gr[k] != 0.0 {
            assert!(
                (rm - gr[k]).abs() <= 0.02 * gr[k].abs(),
                "R at t = {tg}: {rm}, Xyce {}",
                gr[k]
            );
        }
        compared += 1;
    }
    assert!(compared > 3900, "{compared} rows compared");

    let (lo, hi) = x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let (glo, ghi) = gx
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    assert!((hi - ghi).abs() < 1e-3, "x_max {hi} nm, Xyce {ghi} nm");
    assert!(
        lo < 0.0 && (lo - glo).abs() < 1e-5,
        "x_min {lo} nm, Xyce {glo} nm"
    );
}

/// `memristorPEM1.cir` (x starts at 0: Xyce's operating point at zero
/// bias) and `memristorPEM1wIC.cir` (`xo = 0.11`): level 4 with the csv
/// tables, 100 Hz sine of 0.5 V through the device and 50 ohm, 2 ms. Every
/// gold row within the netlist's `abstol = 0.01` for x. The tables end at
/// x = 1, where f+ is cut off; Xyce steps a little past it (gold x up to
/// 1.0009), memnet's state stops at the table end.
#[test]
fn xyce_pem_regression_decks_agree_with_gold() {
    for deck in ["memristorPEM1.cir", "memristorPEM1wIC.cir"] {
        let net = network(deck);
        let gold = gold(deck);
        let (t, series) = run(&net, &gold, 20e-4, 1e-7);
        let x = column(&gold, &series, "n(ymemristor!mr1_x)");
        let i = column(&gold, &series, "i(ymemristor!mr1)");
        let r = column(&gold, &series, "n(ymemristor!mr1:r)");
        let v = column(&gold, &series, "v(n1,n2)");
        // The deck's h'(v): R = 1/(di/dv) = 1/(x h'(v)), as Xyce stores it.
        let (i1, i2, v1, v2, g0) = (85.37e-6, 90.16e-6, 0.265, 0.265, 130.72e-6);
        let r_of = |x: f64, v: f64| {
            1.0 / (x * (i1 / v1 * (v / v1).exp() + i2 / v2 * (-v / v2).exp() + g0))
        };
        for s in 1..t.len() {
            let want = r_of(x[s], v[s]);
            assert!((r[s] - want).abs() <= 1e-12 * want, "R at t = {}", t[s]);
        }
        let (gx, gi, gr) = (
            gold.series_named("n(ymemristor!mr1_x)").unwrap(),
            gold.series_named("i(ymemristor!mr1)").unwrap(),
            gold.series_named("n(ymemristor!mr1:r)").unwrap(),
        );
        let mut worst = [0.0f64; 3];
        for (k, &tg) in gold.times.iter().enumerate() {
            // Xyce prints its operating point (x = 0, R not stored) at t = 0,
            // before xo.
            if tg == 0.0 {
                continue;
            }
            let (xm, vm) = (at(&t, x, tg), at(&t, v, tg));
            let errs = [
                (xm - gx[k]).abs(),
                (at(&t, i, tg) - gi[k]).abs(),
                (r_of(xm, vm) - gr[k]).abs() / gr[k].abs(),
            ];
            // The decks' *COMP: x abstol 0.01, i abstol 0.002, R reltol 0.02.
            for (e, (w, tol)) in errs.iter().zip(worst.iter_mut().zip([0.01, 0.002, 0.02])) {
                assert!(*e <= tol, "{deck} at t = {tg}: errors (x, i, R) {errs:?}");
                *w = w.max(*e);
            }
        }
        assert!(gold.times.len() > 50);
        eprintln!(
            "{deck}: max |dx| {:.2e}, |di| {:.2e} A, rel dR {:.2e}",
            worst[0], worst[1], worst[2]
        );
    }
}
