//! The reservoir driver (apps.md B-T1): the states it reads at the end of
//! each period are those of the network run period by period with each
//! period's source values held as DC; virtual nodes are the states inside
//! the period; the features carry the bias and the input.

use memnet_graph::{Device, GenSpec, GraphKind, Network, SeriesSource, WInit, generate};
use memnet_reservoir::{BiasRange, Drive, FeatureKinds, drive};
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

/// One period of DC sources from states `w`, integrated by the fixed-step
/// `method`: the states at its end.
fn one_period_by(
    net: &Network,
    w: &[f64],
    sources: &[(usize, f64)],
    period: f64,
    steps: usize,
    method: Method,
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
        method: MethodChoice::Given(method),
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

/// For each fixed-step integrator, with and without the reused
/// factorisation (CG to 1e-10 behind it).
#[test]
fn the_driven_states_are_the_period_by_period_states() {
    for method in [Method::Rk4, Method::Euler] {
        for reuse in [false, true] {
            driven_states_match(method, reuse, 0);
        }
    }
}

/// The input-side delay line: the j-th driven edge carries u[n - j mod 3],
/// its bias alone before the series reaches it.
#[test]
fn input_lags_delay_each_driven_source() {
    driven_states_match(Method::Rk4, false, 2);
    driven_states_match(Method::Euler, true, 2);
}

fn driven_states_match(method: Method, reuse_factorization: bool, input_lags: usize) {
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
    let d = Drive {
        edges: edges.clone(),
        gain: 2.0,
        centre: 0.25,
        virtual_nodes: 2,
        steps_per_period: 20,
        method,
        reuse_factorization,
        input_lags,
        ..Drive::new()
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
            .enumerate()
            .map(|(j, &(k, mk, b))| {
                let lagged = n.checked_sub(j % (input_lags + 1)).map(|s| u[s]);
                (k, lagged.map_or(b, |us| b + 2.0 * mk * (us - 0.25)))
            })
            .collect();
        // Halfway: the first virtual node.
        let half = one_period_by(&net, &w, &values, 0.5, 10, method);
        w = one_period_by(&net, &w, &values, 1.0, 20, method);
        for k in 0..m {
            worst = worst.max((x.row(n)[2 + k] - half[k]).abs());
            worst = worst.max((x.row(n)[2 + m + k] - w[k]).abs());
        }
    }
    // The drive's step between periods is a ramp of 1e-3 of an RK4 step
    // (5e-5 of a period): its effect on w is of that order times the rate.
    assert!(
        worst <= 1e-4,
        "{method:?} (reuse {reuse_factorization}): driven and period-by-period states differ by {worst:e}"
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
    let base = Drive {
        edges: vec![(0, 1.0, 0.0)],
        virtual_nodes: 3,
        ..Drive::new()
    };
    assert!(
        drive(&net, &base, &[0.1, 0.2], &mut |_| {
            std::ops::ControlFlow::Continue(())
        })
        .is_err(),
        "10 steps do not land on 3 nodes"
    );
    let adaptive = Drive {
        virtual_nodes: 1,
        method: Method::Dopri5,
        ..base.clone()
    };
    let err = drive(&net, &adaptive, &[0.1], &mut |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap_err();
    assert!(err.to_string().contains("rk4 or euler"), "{err}");
    let far = Drive {
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

/// The network's states, currents and potentials at the end of one DC
/// period from states `w` (the `one_period_by` run with more outputs).
fn one_period_outputs(
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
    let mut probes = Probes::states(&net);
    probes.append(Probes::device_currents(&net));
    probes.append(Probes::node_potentials(&net));
    let mut rows: Vec<(f64, Vec<f64>)> = Vec::new();
    simulate_outputs(&net, &opts, &probes, &mut rows, &mut |_| {}).unwrap();
    rows.last().unwrap().1.clone()
}

/// apps.md B-T1: the driver reads edge currents (x = R_on i) and node
/// potentials; at the end of a period they are those of the network with
/// that period's sources held, not the next period's (no look-ahead).
#[test]
fn currents_and_potentials_are_read_at_the_held_input() {
    let mut spec = GenSpec::new(GraphKind::RandomConnected { n: 7, p_extra: 0.4 });
    spec.seed = 5;
    spec.device.ron = 2.0;
    spec.device.roff = 22.0;
    spec.device.alpha = -0.1;
    spec.device.beta = 1.5;
    spec.w_init = WInit::Uniform { lo: 0.3, hi: 0.7 };
    let net = generate(&spec).unwrap();
    let m = net.edges.len();
    let nodes = Probes::node_potentials(&net).len();
    let edges: Vec<(usize, f64, f64)> = (0..m)
        .step_by(3)
        .map(|k| (k, if k % 2 == 0 { 1.0 } else { -1.0 }, 0.1 * k as f64 - 0.3))
        .collect();
    let d = Drive {
        edges: edges.clone(),
        gain: 1.5,
        centre: 0.25,
        steps_per_period: 20,
        features: FeatureKinds {
            states: true,
            currents: true,
            potentials: true,
        },
        ..Drive::new()
    };
    assert_eq!(d.snapshot_len(&net), 2 * m + nodes);
    let u = [0.1, 0.45, 0.0, 0.3, 0.5, 0.2];
    let x = drive(&net, &d, &u, &mut |_| std::ops::ControlFlow::Continue(())).unwrap();
    assert_eq!(x.cols, 2 + 2 * m + nodes);
    // The states-only drive reads the same states.
    let states_only = drive(
        &net,
        &Drive {
            features: FeatureKinds::default(),
            ..d.clone()
        },
        &u,
        &mut |_| std::ops::ControlFlow::Continue(()),
    )
    .unwrap();
    let mut w: Vec<f64> = net
        .edges
        .iter()
        .filter_map(|e| match &e.device {
            Device::Memristor(p) => Some(p.w0),
            _ => None,
        })
        .collect();
    let (mut worst, mut scale) = (0.0f64, 0.0f64);
    for (n, &un) in u.iter().enumerate() {
        let row = x.row(n);
        assert_eq!(&row[..2 + m], states_only.row(n));
        let values: Vec<(usize, f64)> = edges
            .iter()
            .map(|&(k, mk, b)| (k, b + 1.5 * mk * (un - 0.25)))
            .collect();
        let out = one_period_outputs(&net, &w, &values, 1.0, 20);
        w = out[..m].to_vec();
        for k in 0..m {
            // x = R_on i with R_on = 2.
            worst = worst.max((row[2 + m + k] - 2.0 * out[m + k]).abs());
            scale = scale.max(out[m + k].abs());
        }
        for j in 0..nodes {
            worst = worst.max((row[2 + 2 * m + j] - out[2 * m + j]).abs());
        }
    }
    assert!(scale > 1e-3, "no current flowed ({scale:e})");
    // As for the states: the 1e-3-step ramp between periods.
    assert!(worst <= 1e-4, "currents or potentials differ by {worst:e}");
}

const DECK: &str = "reservoir deck: a source in series and one to ground
V1 a 0 DC 0.2
XM1 a b memristor ron=1 roff=11 w0=0.4 alpha=-0.1 beta=2
XM2 b c memristor ron=1 roff=11 w0=0.6 alpha=-0.1 beta=2
XM3 c 0 memristor ron=1 roff=11 w0=0.5 alpha=-0.1 beta=2
XM4 b 0 memristor ron=1 roff=11 w0=0.3 alpha=-0.1 beta=2
V2 c 0 DC -0.1
.end
";

fn deck(text: &str) -> Network {
    let circuit = memnet_spice::import_str(text, "r.cir", &Default::default()).unwrap();
    Network::from_circuit(&circuit).unwrap()
}

fn run(net: &Network, d: &Drive, u: &[f64]) -> memnet_reservoir::Features {
    drive(net, d, u, &mut |_| std::ops::ControlFlow::Continue(())).unwrap()
}

/// Input modes 1 and 2 (apps.md B.3) on an imported deck: a netlist
/// source driven by name is the series source of its edge (its DC value
/// the bias, its polarity kept) or the potential it fixes; a driven node
/// carries exactly b + g m (u - centre).
#[test]
fn netlist_sources_and_nodes_carry_the_input() {
    let net = deck(DECK);
    let u = [0.3, -0.2, 0.5, 0.1, 0.0];
    let base = Drive {
        gain: 0.8,
        centre: 0.1,
        features: FeatureKinds::parse("states,potentials").unwrap(),
        ..Drive::new()
    };
    // V1 is folded into the edge of XM1: drive it by name and as an edge.
    let (k, sign) = net
        .edges
        .iter()
        .enumerate()
        .find_map(|(k, e)| {
            e.source
                .as_ref()
                .filter(|s| s.name == "v1")
                .map(|s| (k, s.sign))
        })
        .expect("V1 folded into an edge");
    let by_name = run(
        &net,
        &Drive {
            sources: vec![("V1".into(), -1.0)],
            ..base.clone()
        },
        &u,
    );
    let by_edge = run(
        &net,
        &Drive {
            edges: vec![(k, -sign, 0.2 * sign)],
            ..base.clone()
        },
        &u,
    );
    for n in 0..u.len() {
        for (a, b) in by_name.row(n).iter().zip(by_edge.row(n)) {
            assert!((a - b).abs() <= 1e-12, "row {n}: {a} vs {b}");
        }
    }
    // V2 fixes v(c): driven by name, v(c) is -0.1 + 0.8 m (u - 0.1).
    let names = {
        let mut p = Probes::states(&net);
        p.append(Probes::node_potentials(&net));
        p.names().to_vec()
    };
    let at = 2 + names.iter().position(|s| s == "v(c)").unwrap();
    let v2 = run(
        &net,
        &Drive {
            sources: vec![("v2".into(), 1.0)],
            ..base.clone()
        },
        &u,
    );
    for (n, &un) in u.iter().enumerate() {
        let want = -0.1 + 0.8 * (un - 0.1);
        assert!(
            (v2.row(n)[at] - want).abs() <= 1e-12,
            "v(c) = {}",
            v2.row(n)[at]
        );
    }
    // Without V2, driving node c with bias -0.1 is the same circuit.
    let open = deck(&DECK.replace("V2 c 0 DC -0.1\n", ""));
    let c = open.node_names.iter().position(|s| s == "c").unwrap();
    let by_node = run(
        &open,
        &Drive {
            nodes: vec![(c, 1.0, -0.1)],
            ..base.clone()
        },
        &u,
    );
    for n in 0..u.len() {
        let (a, b) = (v2.row(n), by_node.row(n));
        assert_eq!(a.len(), b.len());
        for (p, q) in a.iter().zip(b) {
            assert!((p - q).abs() <= 1e-12, "row {n}: {p} vs {q}");
        }
    }
    // Input lags count driven edges first, then named sources, then nodes:
    // with one edge ahead and input_lags 1, V2 (or node c) is the second
    // input and carries u[n-1], its bias alone at n = 0.
    let edge_of =
        |net: &Network, name: &str| net.edges.iter().position(|e| e.name == name).unwrap();
    let lagged = run(
        &net,
        &Drive {
            edges: vec![(edge_of(&net, "xm4"), 1.0, 0.05)],
            sources: vec![("v2".into(), 1.0)],
            input_lags: 1,
            ..base.clone()
        },
        &u,
    );
    for n in 0..u.len() {
        let want = if n == 0 {
            -0.1
        } else {
            -0.1 + 0.8 * (u[n - 1] - 0.1)
        };
        let got = lagged.row(n)[at];
        assert!(
            (got - want).abs() <= 1e-12,
            "n = {n}: v(c) = {got}, want {want}"
        );
    }
    let lagged_node = run(
        &open,
        &Drive {
            edges: vec![(edge_of(&open, "xm4"), 1.0, 0.05)],
            nodes: vec![(c, 1.0, -0.1)],
            input_lags: 1,
            ..base.clone()
        },
        &u,
    );
    for n in 0..u.len() {
        for (p, q) in lagged.row(n).iter().zip(lagged_node.row(n)) {
            assert!((p - q).abs() <= 1e-12, "row {n}: {p} vs {q}");
        }
    }
    // The input moved the states.
    assert!((v2.row(4)[2] - v2.row(0)[2]).abs() > 1e-4);
}

#[test]
fn bad_inputs_name_what_is_wrong() {
    let net = deck(DECK);
    let mut d = Drive::new();
    let err = d
        .set_inputs(&net, None, &[], &["nowhere".into()], 1.0, 1)
        .unwrap_err();
    assert!(err.contains("nowhere"), "{err}");
    assert!(d.set_inputs(&net, Some(0), &[], &[], 1.0, 1).is_err());
    d.set_inputs(&net, None, &["v9".into()], &[], 1.0, 1)
        .unwrap();
    let err = drive(&net, &d, &[0.1], &mut |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("v9"), "{err}");
    // Ground cannot be driven; nor can nothing.
    let ground = net.node_names.iter().position(|s| s == "0").unwrap();
    let g = Drive {
        nodes: vec![(ground, 1.0, 0.0)],
        ..Drive::new()
    };
    assert!(
        drive(&net, &g, &[0.1], &mut |_| std::ops::ControlFlow::Continue(
            ()
        ))
        .is_err()
    );
    assert!(
        drive(&net, &Drive::new(), &[0.1], &mut |_| {
            std::ops::ControlFlow::Continue(())
        })
        .is_err()
    );
    assert!(FeatureKinds::parse("states,charge").is_err());
    // With sources or nodes named, no edge is driven unless asked.
    d.set_inputs(&net, None, &["v1".into()], &[], 1.0, 1)
        .unwrap();
    assert!(d.edges.is_empty() && d.sources.len() == 1);
    d.set_inputs(&net, None, &[], &[], 1.0, 1).unwrap();
    assert_eq!(d.edges.len(), net.edges.len());
}

/// A generated network has no ground: driving two of its nodes sets their
/// potentials against a ground added for the purpose, and the difference
/// drives the network.
#[test]
fn nodes_of_a_network_without_ground_can_be_driven() {
    let net = network();
    assert!(!net.node_names.iter().any(|s| s == "0"));
    let mut d = Drive {
        gain: 1.0,
        centre: 0.0,
        features: FeatureKinds::parse("states,potentials").unwrap(),
        ..Drive::new()
    };
    d.set_inputs(&net, None, &[], &["n0".into(), "n5".into()], 0.5, 3)
        .unwrap();
    let u = [0.2, -0.4, 0.6];
    let x = run(&net, &d, &u);
    let m = Probes::states(&net).len();
    for (n, &un) in u.iter().enumerate() {
        for (j, node) in [0, 5].into_iter().enumerate() {
            let (_, mk, b) = d.nodes[j];
            let got = x.row(n)[2 + m + node];
            assert!((got - (b + mk * un)).abs() <= 1e-12, "v(n{node}) = {got}");
        }
    }
    assert!(
        (x.row(2)[2] - x.row(0)[2]).abs() > 1e-5,
        "the states did not move"
    );
}

/// Delayed copies (apps.md B.3 mode 3): the row of sample n holds the
/// snapshot of n, then those of n-1, ..., n-D, each exactly as the run
/// without delays read it, and zeros where n-k is before the first sample.
#[test]
fn delayed_copies_are_the_earlier_snapshots() {
    let net = network();
    let mut d = Drive {
        gain: 0.5,
        centre: 0.25,
        virtual_nodes: 2,
        ..Drive::new()
    };
    d.set_inputs(&net, Some(2), &[], &[], 1.0, 4).unwrap();
    let u: Vec<f64> = (0..9).map(|n| 0.05 * n as f64).collect();
    let plain = run(&net, &d, &u);
    let q = plain.cols - 2;
    let delayed = run(&net, &Drive { delays: 3, ..d }, &u);
    assert_eq!(delayed.cols, 2 + 4 * q);
    for n in 0..u.len() {
        let row = delayed.row(n);
        assert_eq!(&row[..2], &plain.row(n)[..2]);
        for lag in 0..=3 {
            let copy = &row[2 + lag * q..2 + (lag + 1) * q];
            if n >= lag {
                assert_eq!(copy, &plain.row(n - lag)[2..], "sample {n}, lag {lag}");
            } else {
                assert!(copy.iter().all(|&x| x == 0.0), "sample {n}, lag {lag}");
            }
        }
    }
}

/// A bias range: one number B is [-B, B] and draws what it always drew;
/// LO,HI draws inside [LO, HI]; a backward or non-numeric range is refused.
#[test]
fn bias_ranges_parse_and_bound_the_draws() {
    assert_eq!(BiasRange::parse("1").unwrap(), BiasRange::from(1.0));
    assert_eq!(
        BiasRange::parse("-2").unwrap(),
        BiasRange { lo: -2.0, hi: 2.0 }
    );
    let r = BiasRange::parse("-1, 0").unwrap();
    assert_eq!(r, BiasRange { lo: -1.0, hi: 0.0 });
    assert_eq!(
        Drive::seeded_edges(30, 1, 0.7, 9),
        Drive::seeded_edges(30, 1, BiasRange { lo: -0.7, hi: 0.7 }, 9)
    );
    let edges = Drive::seeded_edges(200, 1, r, 9);
    assert!(edges.iter().all(|&(_, _, b)| (-1.0..=0.0).contains(&b)));
    assert!(edges.iter().any(|&(_, _, b)| b < -0.5));
    let inputs = Drive::seeded_inputs(50, BiasRange { lo: 0.2, hi: 0.3 }, 9, 2);
    assert!(inputs.iter().all(|&(_, b)| (0.2..=0.3).contains(&b)));
    let mut d = Drive::new();
    let err = d
        .set_inputs(&network(), None, &[], &[], f64::NAN, 1)
        .unwrap_err();
    assert!(err.contains("finite"), "{err}");
    for bad in ["0,-1", "x", "1,", "nan", "inf,1"] {
        let err = BiasRange::parse(bad).unwrap_err();
        assert!(err.contains(bad), "{bad}: {err}");
    }
}
