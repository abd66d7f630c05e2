//! The analysis against the other crates: networks from memnet-graph's T0
//! generator, and the analysis' own integrator against memnet-solver's
//! simulate (Dopri5) on the same network.

mod common;

use common::max_abs_diff;
use memnet_analysis::dynamics::{Tolerance, simulate};
use memnet_analysis::model::Model;
use memnet_analysis::{AnalyzeOptions, analyze};
use memnet_graph::{Device, Network, SeriesSource, random_connected_graph};
use memnet_spice::Source;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// memnet-graph's random_connected_graph with theory-style parameters
/// (R_on = 1, xi = 3, alpha = 0.2, beta = 1.3), random w0 and sources.
fn graph_network(seed: u64) -> Network {
    let mut net = random_connected_graph(seed, 8, 0.4);
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 1000);
    for (k, e) in net.edges.iter_mut().enumerate() {
        if let Device::Memristor(p) = &mut e.device {
            p.ron = 1.0;
            p.roff = 4.0;
            p.alpha = 0.2;
            p.beta = 1.3;
            p.w0 = rng.random_range(0.3..0.7);
        }
        e.source = Some(Box::new(SeriesSource {
            name: format!("vs{k}"),
            source: Source::dc(rng.random_range(-0.3..0.3)),
            sign: 1.0,
            loc: None,
        }));
    }
    net
}

#[test]
fn generator_networks_obey_every_law() {
    let opts = AnalyzeOptions {
        t_end: 0.5,
        jacobian: true,
        symmetries: true,
        lyapunov: true,
    };
    for seed in 0..10 {
        let net = graph_network(seed);
        assert!(net.n_edges() >= 8);
        let r = analyze(&net, &opts).unwrap();
        assert_eq!(r.counts.cycles, net.n_edges() - 8 + 1);
        assert!(r.trajectory.exit.is_none());
        assert!(r.conservation.verdict.holds(), "seed {seed}");
        assert!(r.flux_law.holds(), "seed {seed}");
        assert!(r.reduced_dynamics.holds(), "seed {seed}");
        for s in r.symmetries.as_ref().unwrap() {
            assert!(s.verdict.holds(), "seed {seed} {}: {:?}", s.name, s.verdict);
        }
        for j in &r.jacobian.as_ref().unwrap().states {
            assert!(j.finite_difference.holds() && j.j1.verdict.holds());
        }
        assert!(r.lyapunov.as_ref().unwrap()[0].monotone.holds());
    }
}

/// The two crates integrate the same equation independently; on E4 and on
/// generator networks they agree to 1e-8 (both adaptive at rtol <= 1e-10).
#[test]
fn agrees_with_solver_simulate() {
    let mut nets = vec![common::e4(0.1)];
    nets.extend((0..3).map(graph_network));
    for net in &nets {
        let model = Model::from_network(net, 1.0).unwrap();
        let ours = simulate(&model, 1.0, 4, Tolerance::default()).unwrap();
        let opts = memnet_solver::SimOptions {
            t_end: 1.0,
            method: memnet_solver::Method::Dopri5,
            rtol: 1e-11,
            atol: 1e-13,
            sample_dt: Some(0.25),
            ..Default::default()
        };
        let mut samples: Vec<(f64, Vec<f64>)> = Vec::new();
        memnet_solver::simulate(net, &opts, &mut samples, &mut |_| {}).unwrap();
        let (t, w) = samples.last().unwrap();
        assert_eq!(*t, 1.0);
        assert!(max_abs_diff(w, ours.last().1) < 1e-8);
    }
}
