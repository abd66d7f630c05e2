//! The trajectory comparator on hand-made data with known answers.

use memnet_spice::compare::{CompareOptions, Tolerance, Trajectory, compare};
use memnet_spice::raw::RawFile;

fn traj(times: &[f64], series: &[(&str, &dyn Fn(f64) -> f64)]) -> Trajectory {
    Trajectory::new(
        times.to_vec(),
        series.iter().map(|(n, _)| n.to_string()).collect(),
        series
            .iter()
            .map(|(_, f)| times.iter().map(|&t| f(t)).collect())
            .collect(),
    )
    .unwrap()
}

fn grid(t0: f64, dt: f64, n: usize) -> Vec<f64> {
    (0..n).map(|i| t0 + dt * i as f64).collect()
}

#[test]
fn linear_signals_on_different_grids_agree_exactly() {
    // Linear interpolation is exact for linear functions, so only rounding
    // remains: 1e-14 absolute is ample for values of order 1.
    let f = |t: f64| 0.5 - 0.3 * t;
    let g = |t: f64| 2.0 * t + 1e-3;
    let a = traj(&grid(0.0, 0.1, 11), &[("xm1", &f), ("xm2", &g)]);
    let b = traj(&grid(1e-4, 0.07, 15), &[("xm2", &g), ("xm1", &f)]);
    let opts = CompareOptions {
        tol: Tolerance {
            reltol: 0.0,
            abstol: 1e-14,
        },
        ..Default::default()
    };
    let r = compare(&a, &b, &opts).unwrap();
    assert!(r.pass, "{}", r.render());
    assert_eq!(r.devices_compared, 2);
    assert!(r.max_abs_error < 1e-14);
    // a's t = 0 lies before b's first sample (ngspice uic has no t = 0 row).
    assert_eq!(r.t_from, 1e-4);
    assert!((r.t_to - 0.9801).abs() < 1e-12);
    // a: 0.0 and 1.0 are outside [1e-4, 0.9801]; b: none outside.
    assert_eq!(r.times_skipped, 2);
    assert_eq!(r.times_compared, 9 + 15);
}

#[test]
fn tolerance_is_relative_plus_absolute() {
    let tol = Tolerance {
        reltol: 1e-3,
        abstol: 1e-6,
    };
    assert!(tol.ratio(1000.0, 1000.9) < 1.0); // 0.9 <= 1.0009
    assert!(tol.ratio(1000.0, 1001.1) > 1.0);
    assert!(tol.ratio(0.0, 9e-7) < 1.0);
    assert!(tol.ratio(0.0, 1.1e-6) > 1.0);
    assert_eq!(tol.ratio(f64::NAN, 1.0), f64::INFINITY);
    let exact = Tolerance {
        reltol: 0.0,
        abstol: 0.0,
    };
    assert_eq!(exact.ratio(2.0, 2.0), 0.0);
    assert_eq!(exact.ratio(2.0, 2.0 + 1e-15), f64::INFINITY);
}

fn failing_pair() -> (Trajectory, Trajectory) {
    let times = grid(0.0, 0.25, 5);
    let base = |t: f64| 0.5 - 0.1 * t;
    let a = traj(
        &times,
        &[
            ("xm1", &base),
            ("xm2", &base),
            ("xm3", &base),
            ("xm4", &base),
        ],
    );
    let off2 = |t: f64| base(t) + if t == 0.5 { 3e-6 } else { 0.0 };
    let off3 = |t: f64| base(t) + 1e-5 * t;
    let nan = |t: f64| if t == 1.0 { f64::NAN } else { base(t) };
    let b = traj(
        &times,
        &[
            ("xm1", &base),
            ("xm2", &off2),
            ("xm3", &off3),
            ("xm5", &nan),
        ],
    );
    (a, b)
}

#[test]
fn failures_are_ranked_and_named() {
    let (a, b) = failing_pair();
    let r = compare(&a, &b, &CompareOptions::default()).unwrap();
    assert!(!r.pass);
    assert_eq!(r.devices_compared, 3);
    assert_eq!(r.devices_failing, 2);
    assert_eq!(r.only_in_reference, ["xm4"]);
    assert_eq!(r.only_in_candidate, ["xm5"]);
    let order: Vec<&str> = r.worst.iter().map(|d| d.device.as_str()).collect();
    assert_eq!(order, ["xm3", "xm2", "xm1"]);
    // xm3 worst at t = 1: |diff| = 1e-5, allowed 1e-6 * 0.40001 + 1e-9.
    let w = &r.worst[0];
    assert_eq!(w.time, 1.0);
    assert!((w.max_abs_error - 1e-5).abs() < 1e-12);
    assert!((w.max_ratio - 1e-5 / (1e-6 * 0.40001 + 1e-9)).abs() < 1e-3);
    assert_eq!(w.failing_times, 4);
    assert_eq!(r.worst[1].failing_times, 1);
    assert_eq!(r.max_abs_error_device, "xm3");
    // Per-device tolerance relaxes exactly the named device.
    let mut opts = CompareOptions::default();
    opts.per_device.insert(
        "xm3".into(),
        Tolerance {
            reltol: 1e-4,
            abstol: 0.0,
        },
    );
    let r = compare(&a, &b, &opts).unwrap();
    assert_eq!(r.devices_failing, 1);
}

#[test]
fn nan_never_passes() {
    let times = grid(0.0, 0.5, 3);
    let a = traj(&times, &[("xm1", &|_| 0.5)]);
    let b = traj(
        &times,
        &[("xm1", &|t| if t == 0.5 { f64::NAN } else { 0.5 })],
    );
    let r = compare(&a, &b, &CompareOptions::default()).unwrap();
    assert!(!r.pass);
    assert_eq!(r.worst[0].time, 0.5);
    assert_eq!(r.worst[0].failing_times, 1);
}

#[test]
fn bad_inputs_are_errors() {
    assert!(Trajectory::new(vec![0.0, 1.0, 0.5], vec![], vec![]).is_err());
    assert!(Trajectory::new(vec![0.0, f64::NAN], vec![], vec![]).is_err());
    assert!(Trajectory::new(vec![0.0, 1.0], vec!["a".into()], vec![vec![1.0]]).is_err());
    assert!(
        Trajectory::new(
            vec![0.0],
            vec!["a".into(), "a".into()],
            vec![vec![1.0], vec![1.0]]
        )
        .is_err()
    );
    assert!(Trajectory::new(vec![], vec![], vec![]).is_err());
    let a = traj(&[0.0, 1.0], &[("x", &|t| t)]);
    let b = traj(&[2.0, 3.0], &[("x", &|t| t)]);
    let e = compare(&a, &b, &CompareOptions::default()).unwrap_err();
    assert!(e.message.contains("do not overlap"), "{e}");
}

#[test]
fn interpolation_at_edges_and_repeated_times() {
    let t = Trajectory::new(
        vec![0.0, 1.0, 1.0, 2.0],
        vec!["x".into()],
        vec![vec![0.0, 1.0, 5.0, 7.0]],
    )
    .unwrap();
    assert_eq!(t.value_at(0, -0.1), None);
    assert_eq!(t.value_at(0, 2.1), None);
    assert_eq!(t.value_at(0, 0.0), Some(0.0));
    assert_eq!(t.value_at(0, 0.5), Some(0.5));
    assert_eq!(t.value_at(0, 1.0), Some(5.0)); // the later sample at a repeated time
    assert_eq!(t.value_at(0, 1.5), Some(6.0));
    assert_eq!(t.value_at(0, 2.0), Some(7.0));
    assert_eq!(t.value_at(1, 1.0), None);
    // Public fields can be made inconsistent by hand: no panic, no value.
    let broken = Trajectory {
        times: vec![0.0, 1.0, 2.0],
        names: vec!["x".into()],
        series: vec![vec![0.0]],
    };
    assert_eq!(broken.value_at(0, 1.5), None);
}

#[test]
fn states_from_a_raw_plot() {
    let text = "Title: t\nPlotname: Transient Analysis\nFlags: real\nNo. Variables: 4\nNo. Points: 2\nVariables:\n\t0\ttime\ttime\n\t1\tv(x1.xm2.w)\tvoltage\n\t2\tv(a)\tvoltage\n\t3\tV(XM1.W)\tvoltage\nValues:\n 0\t1e-4\n\t0.5\n\t1\n\t0.25\n 1\t2e-4\n\t0.4\n\t1\n\t0.2\n";
    let f = RawFile::parse(text.as_bytes()).unwrap();
    let t = Trajectory::memristor_states(&f.plots[0]).unwrap();
    assert_eq!(t.names, ["x1.xm2", "xm1"]);
    assert_eq!(t.times, [1e-4, 2e-4]);
    assert_eq!(t.series, [vec![0.5, 0.4], vec![0.25, 0.2]]);
}

#[test]
fn report_rendering_snapshot() {
    let (a, b) = failing_pair();
    let r = compare(&a, &b, &CompareOptions::default()).unwrap();
    insta::assert_snapshot!("failing_report", r.render());
    insta::assert_json_snapshot!("failing_report_json", r);
    let ok = compare(&a, &a, &CompareOptions::default()).unwrap();
    insta::assert_snapshot!("passing_report", ok.render());
}
