//! Restarts, polish and metrics end to end, against exhaustive search.

use std::ops::ControlFlow;

use memnet_optimize::{
    Boundary, DiagonalRule, OptimizeOptions, Params, Qubo, Rounding, Schedule, StopRule,
    SweepScratch, optimize, tts99, wilson,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod common;

fn random_qubo(n: usize, seed: u64) -> Qubo {
    common::random_qubo(n, 0.3, seed)
}

fn exhaustive_min(q: &Qubo) -> f64 {
    (0..1u32 << q.n())
        .map(|bits| q.energy(&(0..q.n()).map(|k| bits >> k & 1 == 1).collect::<Vec<_>>()))
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn the_polish_ends_at_a_one_flip_local_minimum() {
    for seed in 0..5 {
        let q = random_qubo(40, seed);
        let mut rng = ChaCha8Rng::seed_from_u64(seed + 10);
        let mut x: Vec<bool> = (0..40).map(|_| rng.random()).collect();
        let before = q.energy(&x);
        let flips = q.polish(&mut x);
        let after = q.energy(&x);
        assert!(after <= before && (flips > 0) == (after < before));
        for k in 0..40 {
            let mut y = x.clone();
            y[k] = !y[k];
            assert!(q.energy(&y) >= after, "flip {k} still improves");
        }
    }
}

/// The threshold roundings one by one: [w > theta] for theta at every
/// distinct value of w and below all of them.
fn best_threshold(q: &Qubo, w: &[f64]) -> f64 {
    std::iter::once(f64::NEG_INFINITY)
        .chain(w.iter().copied())
        .map(|theta| q.energy(&w.iter().map(|&v| v > theta).collect::<Vec<_>>()))
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn sweep_rounding_is_the_best_threshold_and_never_worse_than_half() {
    let mut scratch = SweepScratch::default();
    for seed in 0..8 {
        let n = 10 + 4 * seed as usize;
        let q = random_qubo(n, seed);
        let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
        // Even seeds: few levels, so that ties (and states at the faces) occur.
        let w: Vec<f64> = (0..n)
            .map(|_| {
                if seed % 2 == 0 {
                    rng.random_range(0..5) as f64 / 4.0
                } else {
                    rng.random()
                }
            })
            .collect();
        let mut x = vec![false; n];
        let e = q.sweep_round(&w, &mut scratch, &mut x);
        assert_eq!(e, q.energy(&x));
        assert!((e - best_threshold(&q, &w)).abs() <= 1e-9 * e.abs().max(1.0));
        // The corner is a level set of w: no tie is split.
        let theta = (0..n)
            .filter(|&k| x[k])
            .map(|k| w[k])
            .fold(f64::INFINITY, f64::min);
        assert!((0..n).all(|k| x[k] == (w[k] >= theta)));
        let half: Vec<bool> = w.iter().map(|&v| v > 0.5).collect();
        assert!(e <= q.energy(&half));
        // Only the order of w matters: u = w^2 rounds to the same corner.
        let u: Vec<f64> = w.iter().map(|v| v * v).collect();
        let mut y = vec![true; n];
        assert_eq!(q.sweep_round(&u, &mut scratch, &mut y), e);
        assert_eq!(x, y);
    }
}

#[test]
fn sweep_rounding_lowers_each_restarts_corner_and_leaves_the_dynamics() {
    let q = random_qubo(30, 4);
    let run = |rounding| {
        let opts = OptimizeOptions {
            restarts: 6,
            rounding,
            // The metric rule leaves the state inside the cube at t_max.
            params: Params {
                alpha: 20.0,
                ..Params::default()
            },
            diagonal: DiagonalRule::Metric(0.99),
            stop: StopRule {
                t_max: 20.0,
                ..StopRule::default()
            },
            ..OptimizeOptions::default()
        };
        optimize(&q, &opts, &mut |_, _| ControlFlow::Continue(())).unwrap()
    };
    let (half, sweep) = (run(Rounding::Half), run(Rounding::Sweep));
    let mut lower = 0;
    for (h, s) in half.restarts.iter().zip(&sweep.restarts) {
        // The same trajectory (rounding does not feed back without --perturb).
        assert_eq!((h.t, h.rhs_evals), (s.t, s.rhs_evals));
        assert!(s.energy <= h.energy);
        lower += (s.energy < h.energy) as usize;
    }
    assert!(lower > 0, "the sweep never found a lower corner than 0.5");
    assert!(sweep.raw.best_energy <= half.raw.best_energy);
}

#[test]
fn restarts_report_what_they_found_and_the_polish_apart() {
    let q = random_qubo(12, 3);
    let e_min = exhaustive_min(&q);
    let opts = OptimizeOptions {
        restarts: 12,
        polish: true,
        best_known: Some(e_min),
        ..OptimizeOptions::default()
    };
    let mut seen = 0;
    let report = optimize(&q, &opts, &mut |done, _| {
        seen = done;
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(seen, 12);
    assert_eq!(report.restarts.len(), 12);
    assert!(report.polished);
    let polish = report.polish.as_ref().unwrap();
    // Every restart's reported energy is its corner's, never below the optimum.
    for r in &report.restarts {
        assert!(r.energy >= e_min && r.polished_energy.unwrap() <= r.energy);
        assert!(r.rhs_evals > 0 && r.cg_iterations > 0);
    }
    let raw_best = report
        .restarts
        .iter()
        .map(|r| r.energy)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(report.raw.best_energy, raw_best);
    let x: Vec<bool> = report.raw.assignment.iter().map(|&b| b == 1).collect();
    assert_eq!(q.energy(&x), raw_best);
    // On 12 variables the polished restarts find the optimum.
    assert_eq!(polish.best_energy, e_min);
    assert_eq!(report.best_energy, e_min);
    assert_eq!(polish.gap, Some(0.0));
    let hits = report
        .restarts
        .iter()
        .filter(|r| r.polished_energy.unwrap() <= e_min + 1e-9 * e_min.abs())
        .count();
    assert_eq!(polish.hits, Some(hits));
    // The same seed gives the same run.
    let again = optimize(&q, &opts, &mut |_, _| ControlFlow::Continue(())).unwrap();
    assert_eq!(again.raw.assignment, report.raw.assignment);
    assert_eq!(again.restarts[5].rhs_evals, report.restarts[5].rhs_evals);
}

#[test]
fn stopping_early_reports_the_restarts_done() {
    let q = random_qubo(10, 4);
    let opts = OptimizeOptions {
        restarts: 5,
        ..OptimizeOptions::default()
    };
    let report = optimize(&q, &opts, &mut |done, _| {
        if done == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert!(report.interrupted);
    assert_eq!(report.restarts.len(), 2);
}

#[test]
fn boundary_rules_and_schedules_end_at_corners() {
    let q = random_qubo(20, 5);
    for (boundary, schedule) in [
        (Boundary::Sticky, Schedule::None),
        (Boundary::Window, Schedule::None),
        (Boundary::Clip, Schedule::None),
        (
            Boundary::Sticky,
            Schedule::Drive {
                from: 0.0,
                t_ramp: 50.0,
            },
        ),
        (
            Boundary::Sticky,
            Schedule::Coupling {
                from: 0.2,
                t_ramp: 50.0,
            },
        ),
    ] {
        let opts = OptimizeOptions {
            restarts: 3,
            boundary,
            schedule,
            ..OptimizeOptions::default()
        };
        let report = optimize(&q, &opts, &mut |_, _| ControlFlow::Continue(())).unwrap();
        for r in &report.restarts {
            assert_ne!(
                r.stop,
                memnet_optimize::Stop::TimeLimit,
                "{boundary:?} {schedule:?}"
            );
            assert!(r.t >= schedule.t_done());
        }
    }
}

#[test]
fn metrics_follow_their_definitions() {
    // TTS99 (apps.md A.7)
    assert_eq!(tts99(0.0, 1.0), None);
    assert_eq!(tts99(0.995, 2.0), Some(2.0));
    let t = tts99(0.5, 1.0).unwrap();
    assert!((t - 0.01f64.ln() / 0.5f64.ln()).abs() < 1e-12);
    // Wilson 95 %: 1 of 20 gives about [0.009, 0.236].
    let (lo, hi) = wilson(0.05, 20.0);
    assert!(
        (lo - 0.0089).abs() < 1e-3 && (hi - 0.2361).abs() < 1e-3,
        "{lo} {hi}"
    );
    assert_eq!(wilson(0.0, 10.0).0, 0.0);
}

#[test]
fn bad_options_are_errors() {
    let q = random_qubo(5, 6);
    for opts in [
        OptimizeOptions {
            restarts: 0,
            ..OptimizeOptions::default()
        },
        OptimizeOptions {
            perturb: Some(1.5),
            ..OptimizeOptions::default()
        },
        OptimizeOptions {
            params: memnet_optimize::Params {
                alpha: -1.0,
                beta: 1.0,
                xi: 1.0,
            },
            ..OptimizeOptions::default()
        },
    ] {
        assert!(optimize(&q, &opts, &mut |_, _| ControlFlow::Continue(())).is_err());
    }
}
