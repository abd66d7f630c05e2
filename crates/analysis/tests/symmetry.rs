//! theory.md 4.2 and T9: every symmetry holds to 1e-8 at t = 0.5 on the
//! random test graph (alpha = 0.4, xi = 3, beta = 1.3) and on E4; broken
//! transformations are reported violated.

mod common;

use common::*;
use memnet_analysis::Verdict;
use memnet_analysis::model::Model;
use memnet_analysis::symmetry::*;

#[test]
fn all_symmetries_hold_on_random_graphs() {
    for seed in [50u64, 51, 52] {
        let p = Params {
            xi: 3.0,
            alpha: 0.4,
            beta: 1.3,
        };
        let model =
            Model::from_network(&random_network(seed, 1 + (seed % 2) as usize, p, 0.3), 1.0)
                .unwrap();
        let checks = check_all(&model, 0.5, seed).unwrap();
        assert_eq!(checks.len(), 9);
        for c in &checks {
            assert!(c.verdict.holds(), "seed {seed} {}: {:?}", c.name, c.verdict);
        }
    }
}

#[test]
fn e4_symmetries() {
    let model = Model::from_network(&e4(0.1), 1.0).unwrap();
    for c in check_all(&model, 0.5, 1).unwrap() {
        if c.name == "affine(1,0.1)" {
            // a - xi b = 1 - 10 * 0.1 = 0: the map is singular on E4.
            assert!(matches!(c.verdict, Verdict::NotApplicable { .. }), "{c:?}");
        } else {
            assert!(c.verdict.holds(), "{}: {:?}", c.name, c.verdict);
        }
    }
}

/// Heterogeneous devices: the affine maps and gauge still hold (they are
/// stated per device), the dense orientation check is not applicable.
#[test]
fn heterogeneous_devices() {
    let p = Params {
        xi: 3.0,
        alpha: 0.4,
        beta: 1.3,
    };
    let mut net = random_network(60, 1, p, 0.3);
    for (k, e) in net.edges.iter_mut().enumerate() {
        if let memnet_graph::Device::Memristor(mp) = &mut e.device {
            mp.ron = 1.0 + 0.1 * k as f64;
            mp.roff = mp.ron * (2.0 + 0.3 * k as f64);
            mp.alpha = 0.1 * (k % 3) as f64 - 0.1;
        }
    }
    let model = Model::from_network(&net, 1.0).unwrap();
    for c in check_all(&model, 0.5, 3).unwrap() {
        if c.name == "orientation" {
            assert!(matches!(c.verdict, Verdict::NotApplicable { .. }));
        } else {
            assert!(c.verdict.holds(), "{}: {:?}", c.name, c.verdict);
        }
    }
}

/// The checks are not vacuous: the trajectories they compare do depend on
/// the sources. A source change that is not a gradient B^T phi (here: a
/// random perturbation of every S_k) moves w(t) by far more than the 1e-8
/// tolerance, so a wrong gauge (or scaling) rule would be reported.
#[test]
fn non_gauge_source_change_moves_the_trajectory() {
    let p = Params {
        xi: 3.0,
        alpha: 0.4,
        beta: 1.3,
    };
    let model = Model::from_network(&random_network(50, 1, p, 0.3), 1.0).unwrap();
    let mut wrong = model.clone();
    for (k, e) in wrong.edges.iter_mut().enumerate() {
        e.terms.push(memnet_analysis::model::SourceTerm {
            sign: 1.0,
            waveform: memnet_spice::Waveform::Dc(0.05 * ((k * 7919) % 13) as f64 - 0.3),
        });
    }
    let fwd = memnet_analysis::dynamics::simulate(&model, 0.5, 5, Default::default()).unwrap();
    let alt = memnet_analysis::dynamics::simulate(&wrong, 0.5, 5, Default::default()).unwrap();
    assert!(max_abs_diff(fwd.last().1, alt.last().1) > 1e-4);
}
