//! The exact mapping (apps.md A.2, A.3; acceptance A-T0): corner values,
//! the metric identity, the SPD form against a dense solve, descent of L,
//! and the published mappings' formulas.

use faer::Mat;
use faer::linalg::solvers::Solve;
use memnet_optimize::{
    Boundary, DiagonalRule, Mapping, MappingKind, Params, Qubo, QuboDynamics, Schedule,
};
use memnet_solver::{ErrorNorm, OdeSystem, Sampling, Stepper, integrate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod common;
use common::random_qubo;

/// max over the corners of |L(x) scale - (E(x) - c0)|.
fn max_corner_error(map: &Mapping, q: &Qubo, alpha: f64, scale: f64) -> f64 {
    let n = q.n();
    let mut scratch = vec![0.0; 2 * n];
    (0..1u32 << n)
        .map(|bits| {
            let x = corner(n, bits);
            let w: Vec<f64> = x.iter().map(|&b| b as u8 as f64).collect();
            (map.lyapunov(&w, alpha, 1.0, &mut scratch) * scale - (q.energy(&x) - q.c0)).abs()
        })
        .fold(0.0f64, f64::max)
}

fn corner(n: usize, bits: u32) -> Vec<bool> {
    (0..n).map(|k| bits >> k & 1 == 1).collect()
}

fn params() -> [Params; 3] {
    [
        Params::default(),
        Params {
            alpha: 1.3,
            beta: 0.7,
            xi: 4.0,
        },
        Params {
            alpha: 0.05,
            beta: 3.0,
            xi: 0.5,
        },
    ]
}

/// L(x) = E(x) - c0 on every corner, for several parameter sets, diagonal
/// rules and scalings: max |L - E| <= 1e-12 max|coef| (energies unscaled).
#[test]
fn the_functional_equals_the_energy_on_every_corner() {
    for (n, seed) in [(12, 1), (13, 2), (14, 3)] {
        let q = random_qubo(n, 0.4, seed);
        let coef = q.max_coefficient();
        for p in params() {
            for (rule, scale) in [
                (DiagonalRule::Lanczos, coef),
                (DiagonalRule::Gershgorin, 1.0),
                (DiagonalRule::Value(50.0), coef),
                (DiagonalRule::Metric(0.99), coef),
            ] {
                let map = Mapping::new(&q, MappingKind::Exact, p, rule, scale).unwrap();
                let worst = max_corner_error(&map, &q, p.alpha, scale);
                assert!(
                    worst <= 1e-12 * coef,
                    "n = {n}, {p:?}, {rule:?}: max |L - E| = {worst:e}"
                );
            }
        }
    }
}

fn dense_omega(map: &Mapping) -> Mat<f64> {
    let n = map.n();
    Mat::from_fn(n, n, |j, k| map.omega(j, k))
}

/// Omega is PSD with the Lanczos diagonal (its smallest eigenvalue is at
/// the margin, not below).
#[test]
fn the_lanczos_diagonal_makes_omega_positive_semidefinite() {
    for (n, seed) in [(14, 4), (60, 5), (200, 6)] {
        let q = random_qubo(n, 0.1, seed);
        let map = Mapping::new(
            &q,
            MappingKind::Exact,
            Params::default(),
            DiagonalRule::Lanczos,
            q.max_coefficient(),
        )
        .unwrap();
        let ev = dense_omega(&map)
            .self_adjoint_eigenvalues(faer::Side::Lower)
            .unwrap();
        let lmin = ev.iter().copied().fold(f64::INFINITY, f64::min);
        let lmax = ev.iter().copied().fold(0.0f64, |a, b| a.max(b.abs()));
        assert!(
            lmin >= -1e-12 * lmax,
            "n = {n}: lambda_min(Omega) = {lmin:e}"
        );
        // and c is not much larger than needed
        assert!(
            lmin <= 1e-3 * lmax,
            "n = {n}: lambda_min(Omega) = {lmin:e} of {lmax:e}"
        );
    }
}

/// The metric rule: Omega's smallest eigenvalue is -theta / xi (to the
/// Lanczos residual), so Omega is indefinite, yet the SPD form's matrix
/// I + xi R Omega R (R = diag(sqrt(w))) keeps its eigenvalues at or above
/// 1 - theta anywhere on the cube, and CG solves with it.
#[test]
fn the_metric_diagonal_keeps_the_metric_positive_definite() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    for (n, seed, alpha, xi, theta) in [
        (14, 4, 0.2, 1.0, 0.9),
        (60, 5, 20.0, 1.0, 0.99),
        (200, 6, 2.0, 3.0, 0.5),
    ] {
        let q = random_qubo(n, 0.1, seed);
        let p = Params {
            alpha,
            beta: 0.2,
            xi,
        };
        let map = Mapping::new(
            &q,
            MappingKind::Exact,
            p,
            DiagonalRule::Metric(theta),
            q.max_coefficient(),
        )
        .unwrap();
        let om = dense_omega(&map);
        let ev = om.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
        let lmin = ev.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(
            (lmin + theta / xi).abs() <= 1e-6,
            "n = {n}: lambda_min(Omega) = {lmin}, want {}",
            -theta / xi
        );
        for corner_heavy in [false, true] {
            // Random states, and states with most components at 1, where
            // the bound is tightest.
            let r: Vec<f64> = (0..n)
                .map(|_| {
                    if corner_heavy && rng.random::<f64>() < 0.8 {
                        1.0
                    } else {
                        rng.random::<f64>().sqrt()
                    }
                })
                .collect();
            let a = Mat::from_fn(n, n, |j, k| {
                f64::from(u8::from(j == k)) + xi * r[j] * om[(j, k)] * r[k]
            });
            let ev = a.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
            let amin = ev.iter().copied().fold(f64::INFINITY, f64::min);
            assert!(amin >= 1.0 - theta - 1e-6, "n = {n}: lambda_min = {amin}");
        }
    }
    assert!(
        Mapping::new(
            &random_qubo(5, 0.5, 1),
            MappingKind::Exact,
            Params::default(),
            DiagonalRule::Metric(1.0),
            1.0
        )
        .is_err()
    );
    // The published mappings scale Omega by another xi: the rule is for
    // the exact one only.
    assert!(
        Mapping::new(
            &random_qubo(5, 0.5, 1),
            MappingKind::LsMem,
            Params::default(),
            DiagonalRule::Metric(0.5),
            1.0
        )
        .is_err()
    );
}

/// (I + xi Omega W)^{-1} b by the SPD form and CG against a dense LU, at
/// random states including some w_k = 0 and w_k = 1.
#[test]
fn the_spd_form_matches_the_dense_solve() {
    for (n, seed) in [(12, 7), (40, 8), (150, 9)] {
        let q = random_qubo(n, 0.2, seed);
        for p in params() {
            let map = Mapping::new(
                &q,
                MappingKind::Exact,
                p,
                DiagonalRule::Lanczos,
                q.max_coefficient(),
            )
            .unwrap();
            let omega = dense_omega(&map);
            let mut sys = QuboDynamics::new(&map, Boundary::Clip, Schedule::None);
            sys.cg.tol = 1e-15;
            let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
            for trial in 0..4 {
                let w: Vec<f64> = (0..n)
                    .map(|k| match (trial, k % 5) {
                        (1.., 0) => 0.0,
                        (2.., 1) => 1.0,
                        _ => rng.random::<f64>(),
                    })
                    .collect();
                let a = Mat::from_fn(n, n, |i, j| {
                    (i == j) as u8 as f64 + p.xi * omega[(i, j)] * w[j]
                });
                let b = Mat::from_fn(n, 1, |i, _| map.b[i]);
                let dense = a.partial_piv_lu().solve(&b);
                let mut x = vec![0.0; n];
                sys.solve_x(0.0, &w, 1.0, &mut x).unwrap();
                let scale = (0..n).map(|i| dense[(i, 0)].abs()).fold(1.0f64, f64::max);
                for i in 0..n {
                    let d = (x[i] - dense[(i, 0)]).abs();
                    assert!(
                        d <= 1e-12 * scale,
                        "n = {n}, trial {trial}, x[{i}] off by {d:e}"
                    );
                }
            }
        }
    }
}

/// grad L at w (theory.md 4.6(b)).
fn grad_l(map: &Mapping, w: &[f64], p: Params) -> Vec<f64> {
    let n = w.len();
    let w2: Vec<f64> = w.iter().map(|x| x * x).collect();
    let mut ow2 = vec![0.0; n];
    map.omega_times(&w2, &mut ow2);
    (0..n)
        .map(|k| -p.alpha * w2[k] - p.alpha * p.xi * w[k] * ow2[k] + map.b[k] * w[k] / p.beta)
        .collect()
}

/// (W + xi W Omega W) f = -grad L at random interior points (apps.md A.2,
/// step 1), to 1e-12 relative.
#[test]
fn the_metric_identity_holds_at_interior_points() {
    for (n, seed) in [(12, 10), (80, 11)] {
        let q = random_qubo(n, 0.3, seed);
        for p in params() {
            let map = Mapping::new(
                &q,
                MappingKind::Exact,
                p,
                DiagonalRule::Lanczos,
                q.max_coefficient(),
            )
            .unwrap();
            let mut sys = QuboDynamics::new(&map, Boundary::Clip, Schedule::None);
            sys.cg.tol = 1e-15;
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for _ in 0..5 {
                let w: Vec<f64> = (0..n).map(|_| rng.random_range(0.01..0.99)).collect();
                let mut f = vec![0.0; n];
                sys.rhs(0.0, &w, &mut f).unwrap();
                // M f = W f + xi W Omega (W f)
                let wf: Vec<f64> = (0..n).map(|k| w[k] * f[k]).collect();
                let mut owf = vec![0.0; n];
                map.omega_times(&wf, &mut owf);
                let g = grad_l(&map, &w, p);
                // Round-off is relative to the terms summed, which cancel.
                let scale = (0..n)
                    .map(|k| wf[k].abs() + (p.xi * w[k] * owf[k]).abs() + g[k].abs())
                    .fold(1e-300f64, f64::max);
                for k in 0..n {
                    let mf = wf[k] + p.xi * w[k] * owf[k];
                    let d = (mf + g[k]).abs();
                    assert!(
                        d <= 1e-12 * scale,
                        "n = {n}, {p:?}: component {k} off by {d:e}"
                    );
                }
            }
        }
    }
}

/// L is non-increasing along an interior trajectory (every sample strictly
/// inside the cube), and along one with components held at 0 (sticky).
#[test]
fn the_functional_descends_along_trajectories() {
    for rule in [DiagonalRule::Lanczos, DiagonalRule::Metric(0.9)] {
        descends_with(rule);
    }
}

fn descends_with(rule: DiagonalRule) {
    let n = 30;
    let q = random_qubo(n, 0.3, 12);
    let p = Params::default();
    let map = Mapping::new(&q, MappingKind::Exact, p, rule, q.max_coefficient()).unwrap();
    let stepper = Stepper::Dopri5 {
        rtol: 1e-10,
        atol: 1e-13,
        h0: None,
        h_max: None,
        norm: ErrorNorm::Rms,
    };
    // Interior: a short run from the middle of the cube.
    let mut sys = QuboDynamics::new(&map, Boundary::Sticky, Schedule::None);
    sys.cg.tol = 1e-14;
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let mut w: Vec<f64> = (0..n).map(|_| rng.random_range(0.4..0.6)).collect();
    let mut samples: Vec<Vec<f64>> = Vec::new();
    integrate(
        &mut sys,
        &mut w,
        0.0,
        0.02,
        &stepper,
        &Sampling::Uniform(0.001),
        &mut |_, y| {
            samples.push(y.to_vec());
            Ok(())
        },
        &mut |_, _| Ok(()),
    )
    .unwrap();
    assert!(samples.len() >= 20);
    let mut scratch = vec![0.0; 2 * n];
    let ls: Vec<f64> = samples
        .iter()
        .map(|y| {
            assert!(y.iter().all(|&v| v > 0.0 && v < 1.0), "left the interior");
            map.lyapunov(y, p.alpha, 1.0, &mut scratch)
        })
        .collect();
    for k in 1..ls.len() {
        assert!(
            ls[k] <= ls[k - 1] + 1e-12 * ls[k - 1].abs(),
            "L rose at sample {k}: {ls:?}"
        );
    }
    assert!(ls[ls.len() - 1] < ls[0], "L did not move");

    // Components held at 0: start a third of them at 0 where their rate
    // points out, run long enough for more to reach 0.
    let mut sys = QuboDynamics::new(&map, Boundary::Sticky, Schedule::None);
    sys.cg.tol = 1e-14;
    let mut w: Vec<f64> = (0..n).map(|_| rng.random_range(0.2..0.8)).collect();
    let mut f = vec![0.0; n];
    sys.rhs(0.0, &w, &mut f).unwrap();
    let mut held = 0;
    for k in 0..n {
        if f[k] < 0.0 && held < n / 3 {
            w[k] = 0.0;
            held += 1;
        }
    }
    assert!(held > 0);
    let mut ls = Vec::new();
    integrate(
        &mut sys,
        &mut w,
        0.0,
        2.0,
        &stepper,
        &Sampling::Uniform(0.02),
        &mut |_, y| {
            // Only segments where nothing sits at 1 carry the guarantee.
            if y.iter().all(|&v| v < 1.0) {
                ls.push(map.lyapunov(y, p.alpha, 1.0, &mut vec![0.0; 2 * n]));
            }
            Ok(())
        },
        &mut |_, _| Ok(()),
    )
    .unwrap();
    assert!(ls.len() > 10);
    for k in 1..ls.len() {
        assert!(
            ls[k] <= ls[k - 1] + 1e-10 * ls[k - 1].abs(),
            "L rose at sample {k}"
        );
    }
}

/// The published formulas, as options, are what apps.md A.5 says they
/// are: Omega_jk = +J_jk / (2 alpha xi_m), Omega_kk = -lambda_min, b =
/// beta_m (alpha/2 + alpha xi_m c/3 + h), with ls_mem.jl's xi and beta
/// swapped in the mapping. Their corners are not the energy.
#[test]
fn the_published_mappings_reproduce_their_formulas() {
    let n = 10;
    let q = random_qubo(n, 0.5, 14);
    let p = Params {
        alpha: 0.2,
        beta: 0.3,
        xi: 1.5,
    };
    for (kind, xi_m, beta_m) in [
        (MappingKind::Published, p.xi, p.beta),
        (MappingKind::LsMem, p.beta, p.xi),
    ] {
        let map = Mapping::new(&q, kind, p, DiagonalRule::Lanczos, 1.0).unwrap();
        for (i, j, v) in q.pairs() {
            let want = v / (2.0 * p.alpha * xi_m);
            assert!((map.omega(i, j) - want).abs() <= 1e-15 * want.abs().max(1.0));
        }
        let ev = {
            let off = Mat::from_fn(n, n, |j, k| if j == k { 0.0 } else { map.omega(j, k) });
            off.self_adjoint_eigenvalues(faer::Side::Lower).unwrap()
        };
        let lmin = ev.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(
            (map.c + lmin).abs() <= 1e-9 * lmin.abs(),
            "c = {} vs -lambda_min {}",
            map.c,
            -lmin
        );
        for k in 0..n {
            let want = beta_m * (p.alpha / 2.0 + p.alpha * xi_m * map.c / 3.0 + q.h[k]);
            assert!((map.b[k] - want).abs() <= 1e-12 * want.abs().max(1.0));
        }
        let worst = max_corner_error(&map, &q, p.alpha, 1.0);
        assert!(
            worst > 1.0,
            "{kind:?}: the published corners should not be the energy"
        );
    }
}

/// The schedules' corner energies (apps.md A.6(6)): during a coupling ramp
/// or drive scaling the functional at a corner is the stated homotopy,
/// and at the end the energy.
#[test]
fn schedules_move_the_corner_energies_as_stated() {
    let n = 8;
    let q = random_qubo(n, 0.6, 15);
    let p = Params::default();
    let map = Mapping::new(&q, MappingKind::Exact, p, DiagonalRule::Lanczos, 1.0).unwrap();
    let c = map.c;
    let mut scratch = vec![0.0; 2 * n];
    for bits in 0..1u32 << n {
        let x = corner(n, bits);
        let w: Vec<f64> = x.iter().map(|&b| b as u8 as f64).collect();
        let pair: f64 = q
            .pairs()
            .filter(|&(i, j, _)| x[i] && x[j])
            .map(|(_, _, v)| v)
            .sum();
        for frac in [0.0, 0.3, 1.0] {
            let alpha = frac * p.alpha;
            let want = (alpha / p.alpha) * pair
                + (0..n)
                    .filter(|&k| x[k])
                    .map(|k| q.h[k] + (p.alpha - alpha) * (1.0 / 3.0 + p.xi * c / 4.0))
                    .sum::<f64>();
            let l = map.lyapunov(&w, alpha, 1.0, &mut scratch);
            assert!((l - want).abs() <= 1e-10 * want.abs().max(1.0));
            let s = 1.0 + 4.0 * frac;
            let want = pair
                + (0..n)
                    .filter(|&k| x[k])
                    .map(|k| s * q.h[k] + (s - 1.0) * (p.alpha / 3.0 + p.alpha * p.xi * c / 4.0))
                    .sum::<f64>();
            let l = map.lyapunov(&w, p.alpha, s, &mut scratch);
            assert!((l - want).abs() <= 1e-10 * want.abs().max(1.0));
        }
    }
}
