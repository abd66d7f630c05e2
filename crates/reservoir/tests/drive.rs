//! The reservoir driver (apps.md B-T1): the states it reads at the end of
//! each period are those of the network run period by period with each
//! period's source values held as DC; virtual nodes are the states inside
//! the period; the features carry the bias and the input.

use memnet_graph::{Device, GenSpec, GraphKind, Network, SeriesSource, WInit, generate};
use memnet_reservoir::{EdgeDrive, drive};
use memnet_solver::{Method, MethodChoice, Probes, RunRequest, simulate_outputs};
use memnet_spice::{OptionStyle, Source};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn network() -> Network {
    let mut spec = GenSpec::new(GraphKind::RandomConnected { n: 8, p_extra: 0.4 });
    spec.seed = 3;
    spec.device.ron = 1.0;
    spec.device.roff = 11.0;
    spec.device.alpha = -0.2;
    spec.device.beta = 2.0;
    spec.w_init = WInit::Uniform { lo: 0.3, hi: 0.7 };
    generate(&spec).unwrap()
}

/// One period of DC sources from states `w`: the states at its end.
fn one_period(
    net: &Network,
    w: &[f64],
    sources: &[(usize, f64)],
    period: f64,
    steps: usize,
) -> Vec<f64> {
    let mut net = net.clone();
    let mut k = 0;
    for e in &mut net.edges {
        if let Device::Memristor(p) = &mut e.device {
            p.w0 = w[k];
            k += 1;
        }
    }
    for &(edge, v) in sources {
        net.edges[edge].source = Some(Box::new(SeriesSource {
            name: String::new(),
            source: Source::dc(v),
            sign: 1.0,
            loc: None,
        }));
    }
    let opts = RunRequest {
        t_end: Some(period),
        method: MethodChoice::Given(Method::Rk4),
        dt: Some(period / steps as f64),
        sample_dt: Some(period),
        ..RunRequest::default()
    }
    .options(&net, OptionStyle::Keyword)
    .unwrap();
    let mut rows: Vec<(f64, Vec<f64>)> = Vec::new();
    simulate_outputs(&net, &opts, &Probes::states(&net), &mut rows, &mut |_| {}).unwrap();
    rows.last().unwrap().1.clone()
}

#[test]
fn the_driven_states_are_the_period_by_period_states() {
    let net = network();
    let m = net.edges.len();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let edges: Vec<(usize, f64, f64)> = (0..m)
        .step_by(2)
        .map(|k| {
            (
                k,
                if rng.random::<bool>() { 1.0 } else { -1.0 },
                rng.random_range(-0.5..0.5),
            )
        })
        .collect();
    let d = EdgeDrive {
        edges: edges.clone(),
        gain: 2.0,
        centre: 0.25,
        period: 1.0,
        virtual_nodes: 2,
        steps_per_period: 20,
        read: None,
    };
    let u: Vec<f64> = (0..12).map(|_| rng.random_range(0.0..0.5)).collect();
    let x = drive(&net, &d, &u, &mut |_| std::ops::ControlFlow::Continue(())).unwrap();
    assert_eq!((x.rows, x.cols), (12, 2 + 2 * m));
    let mut w: Vec<f64> = net
        .edges
        .iter()
        .filter_map(|e| match &e.device {
            Device::Memristor(p) => Some(p.w0),
            _ => None,
        })
        .collect();
    let mut worst = 0.0f64;
    for (n, &un) in u.iter().enumerate() {
        assert_eq!(x.row(n)[..2], [1.0, un]);
        let values: Vec<(usize, f64)> = edges
            .iter()
            .map(|&(k, mk, b)| (k, b + 2.0 * mk * (un - 0.25)))
            .collect();
        // Halfway: the first virtual node.
        let half = one_period(&net, &w, &values, 0.5, 10);
        w = one_period(&net, &w, &values, 1.0, 20);
        for k in 0..m {
            worst = worst.max((x.row(n)[2 + k] - half[k]).abs());
            worst = worst.max((x.row(n)[2 + m + k] - w[k]).abs());
        }
    }
    // The drive's step between periods is a ramp of 1e-3 of an RK4 step
    // (5e-5 of a period): its effect on w is of that order times the rate.
    assert!(
        worst <= 1e-4,
        "driven and period-by-period states differ by {worst:e}"
    );
    // The input moved the states: not a constant run.
    let spread = (0..12)
        .map(|n| x.row(n)[2 + m])
        .fold(0.0f64, |a, b| a.max((b - x.row(0)[2 + m]).abs()));
    assert!(
        spread > 1e-3,
        "states did not respond to the input ({spread:e})"
    );
}

#[test]
fn bad_drives_are_errors() {
    let net = network();
    let base = EdgeDrive {
        edges: vec![(0, 1.0, 0.0)],
        gain: 1.0,
        centre: 0.0,
        period: 1.0,
        virtual_nodes: 3,
        steps_per_period: 10,
        read: None,
    };
    assert!(
        drive(&net, &base, &[0.1, 0.2], &mut |_| {
            std::ops::ControlFlow::Continue(())
        })
        .is_err(),
        "10 steps do not land on 3 nodes"
    );
    let far = EdgeDrive {
        edges: vec![(10_000, 1.0, 0.0)],
        virtual_nodes: 1,
        ..base.clone()
    };
    assert!(
        drive(
            &net,
            &far,
            &[0.1],
            &mut |_| std::ops::ControlFlow::Continue(())
        )
        .is_err()
    );
}
