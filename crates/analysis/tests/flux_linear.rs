//! theory.md 4.4 (C2, strong regime: T4, T10) and 4.3 (linear regime: T11).

mod common;

use common::*;
use memnet_analysis::Verdict;
use memnet_analysis::dynamics::{Tolerance, simulate};
use memnet_analysis::flux::{
    check_flux_law, check_strong_regime, flux_law_residual, strong_regime_error,
};
use memnet_analysis::linear::{check_linear_regime, expm};
use memnet_analysis::model::Model;
use memnet_graph::OmegaOperator;

fn projector(m: &Model) -> OmegaOperator {
    OmegaOperator::new(m.topo.clone()).unwrap()
}

/// T4: alpha = 0, t in {0.25, 0.5, 1}: the flux law holds to 1e-8, on E4
/// and 10 random graphs; and a wrong beta makes it fail.
#[test]
fn flux_law_alpha_zero() {
    let mut nets = vec![e4(0.0)];
    for seed in 0..10 {
        let p = Params {
            xi: 0.5 + seed as f64,
            alpha: 0.0,
            beta: 1.3,
        };
        nets.push(random_network(100 + seed, 1 + (seed % 2) as usize, p, 0.3));
    }
    for net in &nets {
        let model = Model::from_network(net, 1.0).unwrap();
        let traj = simulate(&model, 1.0, 4, Tolerance::default()).unwrap();
        assert!(traj.exit.is_none());
        let proj = projector(&model);
        for i in [1, 2, 4] {
            let r = flux_law_residual(
                &model,
                &proj,
                &traj.states[0],
                &traj.states[i],
                traj.times[i],
            );
            assert!(r < 1e-8, "t = {}: {r}", traj.times[i]);
        }
        assert!(check_flux_law(&model, &proj, &traj).holds());
        // Evaluated with the wrong time the law must not hold.
        let r = flux_law_residual(&model, &proj, &traj.states[0], &traj.states[4], 0.9);
        assert!(r > 1e-4, "{r}");
    }
}

/// The differential form for alpha != 0 (Simpson over 200 samples).
#[test]
fn flux_law_alpha_nonzero() {
    for alpha in [0.1, -0.1] {
        let model = Model::from_network(&e4(alpha), 1.0).unwrap();
        let traj = simulate(&model, 1.0, 200, Tolerance::default()).unwrap();
        let v = check_flux_law(&model, &projector(&model), &traj);
        assert!(v.holds(), "{v:?}");
    }
}

/// T10: S = 0.05 xi S_0, alpha = 0: the strong-regime error drops by about
/// 10x per decade of xi (theory.md table: 2.0e-2, 2.4e-3, 2.4e-4).
#[test]
fn strong_regime_scaling() {
    let mut errors = Vec::new();
    for xi in [10.0, 100.0, 1000.0] {
        let p = Params {
            xi,
            alpha: 0.0,
            beta: 1.0,
        };
        // A fixed random graph and S_0; S scaled with xi.
        let base = random_network(5, 1, p, 1.0);
        let mut net = base.clone();
        for e in &mut net.edges {
            if let Some(s) = &mut e.source {
                let v = 0.05 * xi * s.source.dc;
                s.source = memnet_spice::Source::dc(v);
            }
        }
        let model = Model::from_network(&net, 1.0).unwrap();
        let traj = simulate(&model, 1.0, 4, Tolerance::default()).unwrap();
        assert!(traj.exit.is_none(), "xi {xi}: left the box");
        let proj = projector(&model);
        let s = model.sources_vec(0.0);
        let err = strong_regime_error(
            &proj,
            &s,
            (0.0, xi, 1.0),
            &traj.states[0],
            traj.last().1,
            1.0,
        );
        eprintln!("xi {xi}: strong-regime error {err:.3e}");
        errors.push(err);
        assert!(matches!(
            check_strong_regime(&model, &proj, &traj),
            Verdict::Approximate { .. }
        ));
    }
    for w in errors.windows(2) {
        let ratio = w[0] / w[1];
        assert!((5.0..20.0).contains(&ratio), "{errors:?}");
    }
}

#[test]
fn expm_matches_scalar_and_rotation() {
    let a = faer::Mat::from_fn(2, 2, |i, j| match (i, j) {
        (0, 1) => -1.5,
        (1, 0) => 1.5,
        _ => 0.0,
    });
    let e = expm(a.as_ref());
    assert!((e[(0, 0)] - 1.5f64.cos()).abs() < 1e-14);
    assert!((e[(1, 0)] - 1.5f64.sin()).abs() < 1e-14);
}

/// T11: xi = 0 closed form exact to 1e-10; xi = 0.01 first order with an
/// O(xi^2) error (theory.md: 7.4e-6 at t = 1 on their graph).
#[test]
fn linear_regime() {
    for alpha in [0.0, 0.4, -0.4] {
        let p = Params {
            xi: 0.0,
            alpha,
            beta: 1.3,
        };
        let model = Model::from_network(&random_network(9, 1, p, 0.3), 1.0).unwrap();
        let traj = simulate(&model, 1.0, 4, Tolerance::default()).unwrap();
        let v = check_linear_regime(&model, &projector(&model), &traj);
        assert!(v.holds(), "{v:?}");
    }
    let mut errs = Vec::new();
    for xi in [0.01, 0.02] {
        let p = Params {
            xi,
            alpha: 0.2,
            beta: 1.0,
        };
        let model = Model::from_network(&random_network(9, 1, p, 0.3), 1.0).unwrap();
        let traj = simulate(&model, 1.0, 4, Tolerance::default()).unwrap();
        match check_linear_regime(&model, &projector(&model), &traj) {
            Verdict::Approximate {
                error,
                expected_order,
            } => {
                assert!(error < 10.0 * expected_order, "{error} vs {expected_order}");
                errs.push(error);
            }
            v => panic!("{v:?}"),
        }
    }
    // Doubling xi multiplies an O(xi^2) error by about 4.
    let ratio = errs[1] / errs[0];
    assert!((3.0..5.0).contains(&ratio), "{errs:?}");
}

/// T5: the algebraic ground truth from (C1) + (C2) by Newton matches the
/// ODE at t = 1 to 1e-8 (E4 and random graphs, one with per-device ron,
/// roff and beta).
#[test]
fn algebraic_ground_truth() {
    use memnet_analysis::flux::integrated_kirchhoff_solution;
    let mut nets = vec![e4(0.0)];
    for seed in 0..4u64 {
        let p = Params {
            xi: 3.7,
            alpha: 0.0,
            beta: 1.0,
        };
        let mut net = random_network(200 + seed, 1 + (seed % 2) as usize, p, 0.3);
        if seed == 3 {
            for (k, e) in net.edges.iter_mut().enumerate() {
                if let memnet_graph::Device::Memristor(mp) = &mut e.device {
                    mp.ron = 1.0 + 0.05 * k as f64;
                    mp.roff = mp.ron * (3.0 + 0.2 * k as f64);
                    mp.beta = 0.8 + 0.03 * k as f64;
                }
            }
        }
        nets.push(net);
    }
    for net in &nets {
        let model = Model::from_network(net, 1.0).unwrap();
        let traj = simulate(&model, 1.0, 1, Tolerance::default()).unwrap();
        assert!(traj.exit.is_none());
        let w_alg = integrated_kirchhoff_solution(&model, &traj.states[0], 1.0).unwrap();
        assert!(max_abs_diff(&w_alg, traj.last().1) < 1e-8);
    }
}

/// Time-dependent sources (SIN, PWL): C1 and C2 still hold (the source
/// integral by Simpson's rule), while the closed forms are not applicable.
#[test]
fn laws_with_time_dependent_sources() {
    use memnet_analysis::memory::check_charge_law;
    use memnet_spice::Waveform;
    let mut net = e4(0.0);
    if let Some(s) = &mut net.edges[0].source {
        s.source.waveform = Waveform::Sin {
            vo: 0.2,
            va: 1.0,
            freq: Some(2.0),
            td: 0.0,
            theta: 0.0,
            phase: 30.0,
        };
    }
    net.edges[5].source = Some(Box::new(memnet_graph::SeriesSource {
        name: "vp".into(),
        source: memnet_spice::Source {
            dc: 0.0,
            waveform: Waveform::Pwl {
                points: vec![(0.0, 0.0), (0.3, 0.8), (0.6, -0.4), (1.0, 0.0)],
                repeat_from: None,
                delay: 0.0,
            },
        },
        sign: -1.0,
        loc: None,
    }));
    let model = Model::from_network(&net, 1.0).unwrap();
    let traj = simulate(&model, 1.0, 8, Tolerance::default()).unwrap();
    assert!(traj.exit.is_none());
    let proj = projector(&model);
    assert!(check_charge_law(&model, &proj, &traj).holds());
    let v = check_flux_law(&model, &proj, &traj);
    assert!(v.holds(), "{v:?}");
    assert!(!check_linear_regime(&model, &proj, &traj).is_applicable());
}
