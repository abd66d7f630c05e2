//! theory.md 4.1 (C1, effective memory, T3, T12), E3/E4 ground truth, and
//! the dual model (3.6, T13).

mod common;

use common::*;
use memnet_analysis::dense;
use memnet_analysis::dynamics::{Tolerance, integrate, simulate};
use memnet_analysis::memory::{
    check_charge_law, check_reduced_dynamics, conserved_charges, dual_rhs, memory_counts,
};
use memnet_analysis::model::Model;
use memnet_graph::OmegaOperator;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn projector(m: &Model) -> OmegaOperator {
    OmegaOperator::new(m.topo.clone()).unwrap()
}

/// E4 w(1) for alpha in {0, 0.1, -0.1} (theory.md section 6), to 1e-8:
/// validates the nodal right-hand side and the integrator the checks use.
#[test]
fn e4_ground_truth() {
    let cases: [(f64, [f64; 12]); 3] = [
        (
            0.0,
            [
                0.192864450516,
                0.257135549484,
                0.298135274209,
                0.344729176307,
                0.398135274209,
                0.455434807993,
                0.501700741492,
                0.551050234407,
                0.599113749893,
                0.649185508615,
                0.701700741492,
                0.750814491385,
            ],
        ),
        (
            0.1,
            [
                0.213803332611,
                0.283523580523,
                0.329662854622,
                0.381467391123,
                0.440179946430,
                0.502837143260,
                0.554306079916,
                0.608908499177,
                0.662205856533,
                0.717537170183,
                0.775340263531,
                0.829702115122,
            ],
        ),
        (
            -0.1,
            [
                0.173912252309,
                0.233264585808,
                0.269606178185,
                0.311482912240,
                0.360089919989,
                0.412547406501,
                0.454103371932,
                0.498698739414,
                0.542024675639,
                0.587337433992,
                0.635070855539,
                0.679434951259,
            ],
        ),
    ];
    for (alpha, want) in cases {
        let model = Model::from_network(&e4(alpha), 1.0).unwrap();
        let traj = simulate(&model, 1.0, 10, Tolerance::default()).unwrap();
        assert!(traj.exit.is_none());
        let (t, w) = traj.last();
        assert_eq!(t, 1.0);
        // The printed values have 12 decimals; 1e-8 is theory.md's tolerance.
        assert!(max_abs_diff(w, &want) < 1e-8, "alpha {alpha}: {w:?}");
        let proj = projector(&model);
        let q0 = conserved_charges(&model, &proj, &traj.states[0]);
        let q1 = conserved_charges(&model, &proj, w);
        // B w0 = (0.45, 0.45, 0.1, 0.7, 0.35, -0.3, 0.2, -0.55, -1.4) with
        // ground node 0 removed: rows 1..8.
        let bw0_full = [0.45, 0.45, 0.1, 0.7, 0.35, -0.3, 0.2, -0.55, -1.4];
        assert!(max_abs_diff(&q0, &bw0_full[1..]) < 1e-14, "{q0:?}");
        let e = alpha.exp();
        let pred: Vec<f64> = q0.iter().map(|q| e * q).collect();
        assert!(max_abs_diff(&q1, &pred) < 1e-9);
    }
}

/// E3 (triangle with a reversed edge) at t = 0.5 and 1.
#[test]
fn e3_ground_truth() {
    let model = Model::from_network(&e3(), 1.0).unwrap();
    let traj = simulate(&model, 1.0, 2, Tolerance::default()).unwrap();
    let want = [
        [0.462705391139, 0.362705391139, 0.337294608861],
        [0.424880949681, 0.324880949681, 0.375119050319],
    ];
    assert!(max_abs_diff(&traj.states[1], &want[0]) < 1e-9);
    assert!(max_abs_diff(&traj.states[2], &want[1]) < 1e-9);
}

#[test]
fn counts() {
    let c = memory_counts(&Model::from_network(&e4(0.0), 1.0).unwrap());
    assert_eq!(
        (c.nodes, c.edges, c.components, c.cycles, c.conserved),
        (9, 12, 1, 4, 8)
    );
    assert_eq!((c.dual_conserved, c.dual_effective_memory), (4, 8));
    let p = Params {
        xi: 1.0,
        alpha: 0.0,
        beta: 1.0,
    };
    let net = random_network(3, 3, p, 0.5);
    let c = memory_counts(&Model::from_network(&net, 1.0).unwrap());
    assert_eq!(c.components, 3);
    assert_eq!(c.nodes, 24);
    assert_eq!(c.cycles, net.edges.len() - 24 + 3);
    assert_eq!(c.conserved + c.effective_memory, net.edges.len());
}

/// T3 on 12 random graphs (several with 2-3 components): alpha = 0 gives
/// B w conserved to 1e-12 (RK preserves linear invariants); alpha != 0 the
/// e^{alpha t} law to 1e-8 (accurate integrator).
#[test]
fn charge_law_random_graphs() {
    for seed in 0..12u64 {
        let comps = 1 + (seed % 3) as usize;
        for alpha in [0.0, 0.3, -0.4] {
            let p = Params {
                xi: 3.7,
                alpha,
                beta: 1.0,
            };
            let net = random_network(seed, comps, p, 0.3);
            let model = Model::from_network(&net, 1.0).unwrap();
            let traj = simulate(&model, 1.0, 20, Tolerance::default()).unwrap();
            assert!(traj.times.len() > 2, "seed {seed}: left the box too early");
            let proj = projector(&model);
            let v = check_charge_law(&model, &proj, &traj);
            assert!(v.holds(), "seed {seed} alpha {alpha}: {v:?}");
            if alpha == 0.0 {
                let q0 = conserved_charges(&model, &proj, &traj.states[0]);
                let q1 = conserved_charges(&model, &proj, traj.last().1);
                assert!(max_abs_diff(&q0, &q1) < 1e-12);
            }
        }
    }
}

/// The check must fail when the law is broken: perturb one state of a
/// sample (off the cycle space) and the charge law is reported violated.
#[test]
fn charge_law_detects_violation() {
    let model = Model::from_network(&e4(0.0), 1.0).unwrap();
    let mut traj = simulate(&model, 1.0, 4, Tolerance::default()).unwrap();
    traj.states[2][0] += 1e-6;
    let v = check_charge_law(&model, &projector(&model), &traj);
    assert!(
        matches!(v, memnet_analysis::Verdict::Violated { .. }),
        "{v:?}"
    );
}

/// T12: the L-dimensional z-system reproduces the full solution to 1e-10.
#[test]
fn reduced_dynamics() {
    for alpha in [0.0, 0.1, -0.1] {
        let model = Model::from_network(&e4(alpha), 1.0).unwrap();
        let traj = simulate(&model, 1.0, 10, Tolerance::default()).unwrap();
        let v = check_reduced_dynamics(&model, &traj, Tolerance::default()).unwrap();
        assert!(v.holds(), "{v:?}");
    }
    for seed in 20..24 {
        let p = Params {
            xi: 3.7,
            alpha: 0.3,
            beta: 1.0,
        };
        let model = Model::from_network(&random_network(seed, 2, p, 0.3), 1.0).unwrap();
        let traj = simulate(&model, 0.5, 10, Tolerance::default()).unwrap();
        let v = check_reduced_dynamics(&model, &traj, Tolerance::default()).unwrap();
        assert!(v.holds(), "seed {seed}: {v:?}");
    }
}

/// T13: in the voltage-controlled dual, A w(t) = e^{alpha t} A w(0) to 1e-8.
#[test]
fn dual_model_conserves_cycle_charges() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let edges = random_edges(&mut rng, 8, 0.4);
    let p = Params {
        xi: 0.0,
        alpha: 0.0,
        beta: 1.0,
    };
    let m = edges.len();
    let net = network(8, &edges, &vec![0.5; m], &vec![0.0; m], p);
    let model = Model::from_network(&net, 1.0).unwrap();
    let obt = model.topo.omega_bt_dense().unwrap();
    let a = model.topo.cycle_basis().to_dense();
    let j = random_state(&mut rng, m, -1.0, 1.0);
    let w0 = random_state(&mut rng, m, 0.3, 0.7);
    for alpha in [0.0, 0.3] {
        let traj = integrate(
            |_, w, dw| {
                let f = dual_rhs(obt.as_ref(), w, &j, 2.0, alpha, 1.0, 1.0)?;
                dw.copy_from_slice(&f);
                Ok(())
            },
            &w0,
            0.5,
            5,
            Tolerance::default(),
            false,
        )
        .unwrap();
        let aw0 = dense::mat_vec(a.as_ref(), &w0);
        for (t, w) in traj.times.iter().zip(&traj.states) {
            let aw = dense::mat_vec(a.as_ref(), w);
            let pred: Vec<f64> = aw0.iter().map(|x| (alpha * t).exp() * x).collect();
            assert!(max_abs_diff(&aw, &pred) < 1e-8);
        }
        // The dual really moves: the cut-space part changes.
        assert!(max_abs_diff(traj.last().1, &w0) > 1e-3);
    }
}
