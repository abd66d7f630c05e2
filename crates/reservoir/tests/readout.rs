//! The readout harness on the NARMA10 fixture (apps.md target B-T0): with
//! delay-line features it reproduces the reference test NRMSE to 1e-3.

use std::path::PathBuf;

use memnet_reservoir::{
    Split, Target, delay_line, narma10, nrmse, read_series_csv, select_and_score,
};

const GRID: [f64; 8] = [1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1e-1, 1.0, 10.0];

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/narma10/narma10_seed42.csv")
}

#[test]
fn the_fixture_is_the_narma10_recurrence_of_its_input() {
    let s = read_series_csv(&fixture()).unwrap();
    assert_eq!(s.u.len(), 5201);
    let y = narma10(&s.u);
    let worst = y
        .iter()
        .zip(&s.y)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f64, f64::max);
    assert!(
        worst <= 1e-15,
        "generated and fixture NARMA10 differ by {worst:e}"
    );
}

#[test]
fn delay_lines_reproduce_the_reference_figures() {
    let s = read_series_csv(&fixture()).unwrap();
    let u = &s.u[..5200];
    for (target, quadratic, want) in [
        (Target::Now, false, 0.6049),
        (Target::Now, true, 0.5436),
        (Target::Next, false, 0.5196),
        (Target::Next, true, 0.4180),
    ] {
        let x = delay_line(u, 10, quadratic);
        assert_eq!(x.cols, if quadratic { 78 } else { 12 });
        let y = s.targets(target);
        let score = select_and_score(&x, &y, Split::NARMA10, &GRID);
        assert!(
            (score.test_nrmse - want).abs() <= 1e-3,
            "{target:?}, quadratic {quadratic}: NRMSE {} (lambda {}), reference {want}",
            score.test_nrmse,
            score.lambda
        );
    }
}

#[test]
fn nrmse_is_zero_for_a_perfect_fit_and_one_for_the_mean() {
    let y = [1.0, 2.0, 4.0, 7.0];
    assert_eq!(nrmse(&y, &y), 0.0);
    let mean = [3.5; 4];
    assert!((nrmse(&y, &mean) - 1.0).abs() < 1e-15);
}

/// Jaeger's memory capacity of a delay line with taps 1..=9 of the
/// fixture's i.i.d. input: delays 1 to 9 are reproduced exactly (r_k^2 =
/// 1), longer ones not at all but for the chance correlation of a
/// 12-coefficient fit on 2 000 test samples (r_k^2 ~ 12/2000).
#[test]
fn the_memory_capacity_of_a_delay_line_is_its_length() {
    let s = read_series_csv(&fixture()).unwrap();
    let u = &s.u[..5200];
    let x = delay_line(u, 9, false);
    let mc = memnet_reservoir::memory_capacity(&x, u, Split::NARMA10, 40, &GRID).unwrap();
    assert_eq!(mc.curve.len(), 40);
    for (k, r2) in mc.curve.iter().enumerate() {
        if k < 9 {
            assert!(*r2 > 1.0 - 1e-9, "delay {}: r^2 = {r2}", k + 1);
        } else {
            assert!(*r2 < 0.02, "delay {}: r^2 = {r2}", k + 1);
        }
    }
    assert!(
        mc.total > 9.0 - 1e-8 && mc.total < 9.0 + 31.0 * 0.006,
        "MC = {}",
        mc.total
    );
    // Delays beyond the washout have no target on the first training row.
    assert!(memnet_reservoir::memory_capacity(&x, u, Split::NARMA10, 201, &GRID).is_err());
    assert!(memnet_reservoir::memory_capacity(&x, u, Split::NARMA10, 0, &GRID).is_err());
}
