//! theory.md 4.5 and T8: analytic Jacobian vs finite differences, reality
//! of the spectrum (J1, J2), example E5, the fixed-point formula.

mod common;

use common::*;
use memnet_analysis::dense;
use memnet_analysis::dynamics::Evaluator;
use memnet_analysis::jacobian::*;
use memnet_analysis::model::Model;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn omega_of(model: &Model) -> faer::Mat<f64> {
    dense::omega_from_bt(model.topo.omega_bt_dense().unwrap().as_ref())
}

/// E5 with xi = -4: eig J = {-1.249041 +- 4.751955 i, 0.555282, 0, 0, 0}
/// (printed to 6 decimals, so 1e-6), and J1's hypothesis fails.
#[test]
fn e5_complex_pair() {
    let model = Model::from_network(&e5(1.0), 1.0).unwrap();
    let omega = omega_of(&model);
    let jac = jacobian_from_omega(omega.as_ref(), &E5_W, &E5_S, -4.0, 0.0, 1.0).unwrap();
    let ev = eigenvalues(jac.as_ref()).unwrap();
    let want = [
        (-1.249041, -4.751955),
        (-1.249041, 4.751955),
        (0.0, 0.0),
        (0.0, 0.0),
        (0.0, 0.0),
        (0.555282, 0.0),
    ];
    assert_eq!(ev.len(), 6);
    for (e, w) in ev.iter().zip(&want) {
        assert!(
            (e.0 - w.0).abs() < 1e-6 && (e.1 - w.1).abs() < 1e-6,
            "{ev:?}"
        );
    }
    // K is indefinite: eigenvalues {-0.8099, -0.5838, 0, 0, 0, 6.7783}.
    let k = dense::memory_kernel(omega.as_ref(), &E5_W, -4.0).unwrap();
    let kev = eigenvalues(k.as_ref()).unwrap();
    for (e, w) in kev.iter().zip([-0.8099, -0.5838, 0.0, 0.0, 0.0, 6.7783]) {
        assert!((e.0 - w).abs() < 1e-4, "{kev:?}");
    }
    let j1 = check_j1_from_omega(omega.as_ref(), &E5_W, -4.0, &ev).unwrap();
    assert!(!j1.hypothesis);
    assert!((j1.max_imag - 4.751955).abs() < 1e-6);
}

/// E5 with xi = +4 (all passive): eig J = {-0.398304, -0.207843, 0.190283, 0, 0, 0}, real.
#[test]
fn e5_passive_real() {
    let model = Model::from_network(&e5(4.0), 1.0).unwrap();
    let omega = omega_of(&model);
    let jac = jacobian_from_omega(omega.as_ref(), &E5_W, &E5_S, 4.0, 0.0, 1.0).unwrap();
    let ev = eigenvalues(jac.as_ref()).unwrap();
    let want = [-0.398304, -0.207843, 0.0, 0.0, 0.0, 0.190283];
    for (e, w) in ev.iter().zip(want) {
        assert!((e.0 - w).abs() < 1e-6 && e.1.abs() < 1e-10, "{ev:?}");
    }
    let j1 = check_j1_from_omega(omega.as_ref(), &E5_W, 4.0, &ev).unwrap();
    assert!(j1.hypothesis && j1.verdict.holds(), "{j1:?}");
    // The network-level dense and nodal paths give the same matrix.
    let jd = jacobian_dense(&model, 0.0, &E5_W).unwrap();
    let jn = jacobian_nodal(&model, 0.0, &E5_W).unwrap();
    assert!((&jd - &jac).norm_max() < 1e-12);
    assert!((&jn - &jac).norm_max() < 1e-12);
}

/// T8: analytic J vs central differences (h = 1e-6) to 1e-7, on random
/// graphs, uniform and per-device parameters, alpha != 0.
#[test]
fn jacobian_matches_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for seed in 0..10u64 {
        let p = Params {
            xi: 3.7,
            alpha: 0.3,
            beta: 1.3,
        };
        let mut net = random_network(seed, 1 + (seed % 2) as usize, p, 1.0);
        if seed % 3 == 0 {
            // Heterogeneous devices (theory.md 3.8).
            for e in &mut net.edges {
                if let memnet_graph::Device::Memristor(mp) = &mut e.device {
                    mp.ron = rng.random_range(0.5..2.0);
                    mp.roff = mp.ron * rng.random_range(2.0..20.0);
                    mp.alpha = rng.random_range(-0.5..0.5);
                    mp.beta = rng.random_range(0.5..2.0);
                }
            }
        }
        let model = Model::from_network(&net, 1.0).unwrap();
        let w = random_state(&mut rng, model.n_memristors(), 0.05, 0.95);
        let jac = jacobian_dense(&model, 0.0, &w).unwrap();
        let mut nodal = Evaluator::new(&model).unwrap();
        let fd = finite_difference_jacobian(|w, f| nodal.rhs(0.0, w, f), &w, 1e-6).unwrap();
        assert!(
            (&jac - &fd).norm_max() < 1e-7,
            "seed {seed}: {}",
            (&jac - &fd).norm_max()
        );
        let jn = jacobian_nodal(&model, 0.0, &w).unwrap();
        assert!((&jac - &jn).norm_max() < 1e-12);
    }
}

/// T8 / J1: all passive, 100 random states: max |Im eig J| < 1e-10.
/// All active (every 1 + xi w < 0) is real too.
#[test]
fn passive_and_active_spectra_are_real() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let p = Params {
        xi: 4.0,
        alpha: 0.0,
        beta: 1.0,
    };
    let model = Model::from_network(&random_network(1, 1, p, 1.0), 1.0).unwrap();
    let omega = omega_of(&model);
    let m = model.n_edges();
    let mut worst: f64 = 0.0;
    for _ in 0..100 {
        let w = random_state(&mut rng, m, 0.0, 1.0);
        let s = random_state(&mut rng, m, -1.0, 1.0);
        let jac = jacobian_from_omega(omega.as_ref(), &w, &s, 4.0, 0.0, 1.0).unwrap();
        worst = worst.max(max_imag(&eigenvalues(jac.as_ref()).unwrap()));
    }
    assert!(worst < 1e-10, "{worst}");
    let mut worst: f64 = 0.0;
    for _ in 0..50 {
        let w = random_state(&mut rng, m, 0.55, 1.0);
        let s = random_state(&mut rng, m, -1.0, 1.0);
        let jac = jacobian_from_omega(omega.as_ref(), &w, &s, -4.0, 0.0, 1.0).unwrap();
        let ev = eigenvalues(jac.as_ref()).unwrap();
        let j1 = check_j1_from_omega(omega.as_ref(), &w, -4.0, &ev).unwrap();
        assert!(j1.hypothesis);
        worst = worst.max(max_imag(&ev));
    }
    assert!(worst < 1e-9, "{worst}");
}

/// T8: eig(alpha (I + xi K W)) = alpha (1 + 2 xi lambda)/(1 + xi lambda) to 1e-10.
#[test]
fn fixed_point_formula() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let p = Params {
        xi: 3.0,
        alpha: 0.4,
        beta: 1.0,
    };
    let model = Model::from_network(&random_network(2, 1, p, 1.0), 1.0).unwrap();
    let omega = omega_of(&model);
    for _ in 0..10 {
        let w = random_state(&mut rng, model.n_edges(), 0.0, 1.0);
        let (formula, worst) = fixed_point_spectrum(omega.as_ref(), &w, 3.0, -0.7).unwrap();
        assert!(worst < 1e-10, "{worst}");
        // Bounds: between alpha and alpha (1 + 2 xi)/(1 + xi).
        let (lo, hi) = (-0.7 * 7.0 / 4.0, -0.7);
        assert!(formula.iter().all(|&f| f >= lo - 1e-12 && f <= hi + 1e-12));
    }
}

/// J2 with D >= 0 and mixed-sign alpha_k: the fixed-point matrix has a real
/// spectrum; with D indefinite and heterogeneous alpha, complex values appear.
#[test]
fn j2_reality() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let p = Params {
        xi: 1.0,
        alpha: 0.0,
        beta: 1.0,
    };
    let model = Model::from_network(&random_network(3, 1, p, 1.0), 1.0).unwrap();
    let omega = omega_of(&model);
    let m = model.n_edges();
    let mut worst: f64 = 0.0;
    let mut worst_mixed: f64 = 0.0;
    for _ in 0..200 {
        let w = random_state(&mut rng, m, 0.0, 1.0);
        let xi = random_state(&mut rng, m, 0.0, 10.0);
        let alpha = random_state(&mut rng, m, -1.0, 1.0);
        let j = j2_matrix(omega.as_ref(), &w, &xi, &alpha).unwrap();
        worst = worst.max(max_imag(&eigenvalues(j.as_ref()).unwrap()));
        let xi_mixed = random_state(&mut rng, m, -3.0, 3.0);
        let j = j2_matrix(omega.as_ref(), &w, &xi_mixed, &alpha).unwrap();
        worst_mixed = worst_mixed.max(max_imag(&eigenvalues(j.as_ref()).unwrap()));
    }
    assert!(worst < 1e-9, "{worst}");
    assert!(worst_mixed > 1e-3, "{worst_mixed}");
}

/// Newton finds the interior fixed point of E1-like dynamics with alpha < 0:
/// a single self-loop memristor, w* = 0.170820393250 (theory.md E1).
#[test]
fn fixed_point_newton_e1() {
    let net = network(
        1,
        &[(0, 0)],
        &[0.5],
        &[-0.1],
        Params {
            xi: 1.0,
            alpha: -0.5,
            beta: 1.0,
        },
    );
    let model = Model::from_network(&net, 1.0).unwrap();
    let wf = find_fixed_point(&model, &[0.5]).unwrap();
    assert!((wf[0] - 0.170820393250).abs() < 1e-11, "{wf:?}");
    let j = jacobian_dense(&model, 0.0, &wf).unwrap();
    // f'(w*) = -0.572949016875.
    assert!((j[(0, 0)] + 0.572949016875).abs() < 1e-11);
}
