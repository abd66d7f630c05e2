//! Native device laws inside networks (docs/device-laws.md): the engine
//! runs a law linear in v with the same nodal solve as memnet's own law
//! and reports each state in its law's own variable. A device across an
//! ideal source reproduces the law-level worked examples; the engine
//! refuses what it cannot do yet, naming the device.

mod common;

use common::YAKOPCIC;
use memnet_graph::{Device, Edge, LawSpec, Network, PotentialConstraint};
use memnet_solver::device::yakopcic::{YakopcicDevice, YakopcicLaw};
use memnet_solver::{
    Bounds, DeviceLaw, MemoryRhs, Method, NullSink, OdeSystem, Sampling, SimOptions, SolveError,
    Stepper, integrate, simulate,
};
use memnet_spice::{Loc, Source};

/// One device of law `spec` between `n1` (its p pin) and ground, with an
/// ideal DC source `v1 n1 0 volts`.
fn across_source(spec: LawSpec, volts: f64) -> Network {
    Network {
        node_names: vec!["0".into(), "n1".into()],
        edges: vec![Edge {
            name: "xm1".into(),
            tail: 1,
            head: 0,
            device: Device::Native { spec: 0 },
            source: None,
            loc: Some(Loc::new("deck.cir", 3, 1)),
        }],
        constraints: vec![PotentialConstraint {
            name: "v1".into(),
            pos: 1,
            neg: 0,
            source: Source::dc(volts),
            loc: None,
        }],
        laws: vec![spec],
        ..Network::default()
    }
}

fn spec(law: &str, options: &[(&str, &str)], params: &[(&str, f64)]) -> LawSpec {
    common::law_spec(law, options, params)
}

/// The final state of a tight dopri5 run (rtol 1e-12) to `t_end`.
fn final_state(net: &Network, t_end: f64, bounds: Bounds) -> f64 {
    let mut samples: Vec<(f64, Vec<f64>)> = Vec::new();
    let opts = SimOptions {
        t_end,
        method: Method::Dopri5,
        dt: t_end * 1e-6,
        rtol: 1e-12,
        atol: 1e-22,
        bounds,
        sample_dt: Some(t_end / 4.0),
        ..SimOptions::default()
    };
    let report = simulate(net, &opts, &mut samples, &mut |_| {}).unwrap();
    assert_eq!(report.samples, 5);
    samples.last().unwrap().1[0]
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 5e-9 * want.abs(),
        "{what}: {got:.12e} vs {want:.12e}"
    );
}

#[test]
fn native_laws_in_a_network_reproduce_the_worked_examples() {
    // HP, Biolek's defaults, +1 V, 0.25 s (E1, E2 p = 2 in log-odds, E3).
    let hp = |window: &str, p: f64| spec("hp", &[("window", window)], &[("p", p)]);
    close(
        final_state(&across_source(hp("none", 1.0), 1.0), 0.25, Bounds::Clip),
        0.6011289709,
        "E1",
    );
    close(
        final_state(&across_source(hp("joglekar", 2.0), 1.0), 0.25, Bounds::Clip),
        0.5999373269,
        "E2 Joglekar p=2 (samples are x, not its log-odds)",
    );
    close(
        final_state(&across_source(hp("biolek", 1.0), 1.0), 0.25, Bounds::Clip),
        0.5356422867,
        "E3",
    );
    // TEAM, Xyce's regression set in SI units, +0.1 V, 10 ms (E7).
    let team = spec(
        "team",
        &[("window", "kvatinsky"), ("iv", "linear")],
        &[
            ("koff", 1.46e-18),
            ("kon", -4.68e-22),
            ("alphaoff", 10.0),
            ("alphaon", 10.0),
            ("wc", 1e-12),
        ],
    );
    close(
        final_state(&across_source(team, 0.1), 10e-3, Bounds::Clip),
        1.355861808e-10,
        "E7",
    );
    // XSPICE threshold law, +2 V: 8600 ohm at 2 ns; held at rmax by the
    // law's gate and by the bound rule at 5 ns (E11).
    let xspice = spec(
        "xspice",
        &[],
        &[
            ("rmin", 1e3),
            ("rmax", 10e3),
            ("rinit", 7e3),
            ("beta", 2e12),
            ("vt", 1.6),
        ],
    );
    let net = across_source(xspice, 2.0);
    close(final_state(&net, 2e-9, Bounds::Sticky), 8600.0, "E11");
    close(final_state(&net, 5e-9, Bounds::Sticky), 10e3, "E11 at rmax");
}

#[test]
fn bound_hits_use_each_laws_own_range() {
    // XSPICE device reaches rmax = 10k at 3.75 ns.
    let xspice = spec(
        "xspice",
        &[],
        &[
            ("rmin", 1e3),
            ("rmax", 10e3),
            ("rinit", 7e3),
            ("beta", 2e12),
            ("vt", 1.6),
        ],
    );
    let opts = SimOptions {
        t_end: 5e-9,
        method: Method::Rk4,
        dt: 1e-11,
        bounds: Bounds::Clip,
        sample_dt: Some(1e-9),
        ..SimOptions::default()
    };
    let report = simulate(
        &across_source(xspice, 2.0),
        &opts,
        &mut NullSink,
        &mut |_| {},
    )
    .unwrap();
    let hit = report.first_bound_hit.expect("reaches rmax");
    assert_eq!(hit.bound, 10e3);
    assert!((hit.t - 3.75e-9).abs() < 1e-11, "{}", hit.t);
    assert_eq!(report.w_max, 10e3);
    assert!(report.charge_drift.is_none());
}

#[test]
fn what_the_engine_cannot_do_yet_is_refused_with_the_device() {
    let opts = SimOptions {
        t_end: 1e-3,
        method: Method::Dopri5,
        ..SimOptions::default()
    };
    let run = |net: &Network, opts: &SimOptions| {
        simulate(net, opts, &mut NullSink, &mut |_| {})
            .unwrap_err()
            .to_string()
    };
    // A state outside a law's domain is named with the device.
    let yak = spec("yakopcic", &[], &[("xp", 1.5)]);
    let msg = run(&across_source(yak, 0.5), &opts);
    assert!(
        msg.contains("deck.cir:3:1") && msg.contains("xm1") && msg.contains("xp = 1.5"),
        "{msg}"
    );
    // Unknown parameters and options are named.
    let bad = spec("hp", &[("window", "hann")], &[]);
    assert!(run(&across_source(bad, 1.0), &opts).contains("window = hann"));
    let bad = spec("hp", &[], &[("rup", 1.0)]);
    let msg = run(&across_source(bad, 1.0), &opts);
    assert!(msg.contains("`rup` is not a parameter of law hp"), "{msg}");
    // The exact method is derived for memnet's linear law.
    let hp = spec("hp", &[], &[]);
    let exact = SimOptions {
        method: Method::Exact,
        ..opts.clone()
    };
    let err = simulate(&across_source(hp, 1.0), &exact, &mut NullSink, &mut |_| {}).unwrap_err();
    assert!(matches!(err, SolveError::ExactUnsupported(_)), "{err}");
}

/// A device of law `spec` behind a resistor `r` (ohm) across an ideal
/// DC source of `volts`: n1 -r-> n2 -device-> 0.
fn behind_resistor(spec: LawSpec, volts: f64, r: f64) -> Network {
    let mut net = across_source(spec, volts);
    net.node_names.push("n2".into());
    net.edges[0].tail = 2;
    net.edges.push(Edge {
        name: "r1".into(),
        tail: 1,
        head: 2,
        device: Device::Resistor { resistance: r },
        source: None,
        loc: None,
    });
    net
}

/// A Yakopcic device (current not linear in v) behind a 100 ohm resistor
/// across an ideal source: the engine's Newton on the node potentials
/// against a reference that solves the one-node circuit by bisection at
/// every state (V = R I(x, v) + v) and integrates dx/dt = rate(x, v).
#[test]
fn newton_solves_a_non_linear_law_behind_a_resistor() {
    const R: f64 = 100.0;
    for volts in [0.5, -0.5, 0.9] {
        let net = behind_resistor(spec("yakopcic", &[], YAKOPCIC), volts, R);
        let t_end = 1e-3;
        let mut samples: Vec<(f64, Vec<f64>)> = Vec::new();
        let opts = SimOptions {
            t_end,
            method: Method::Dopri5,
            dt: 1e-9,
            rtol: 1e-11,
            atol: 1e-13,
            sample_dt: Some(t_end),
            ..SimOptions::default()
        };
        let report = simulate(&net, &opts, &mut samples, &mut |_| {}).unwrap();
        // More than one factorisation per evaluation: Newton iterates.
        assert!(report.factorizations > report.rhs_evals, "{report:?}");
        let x_engine = samples.last().unwrap().1[0];

        let law = YakopcicLaw {
            devices: vec![YakopcicDevice::from_params(YAKOPCIC).unwrap()],
        };
        struct Reference<'a>(&'a YakopcicLaw, f64);
        impl OdeSystem for Reference<'_> {
            fn dim(&self) -> usize {
                1
            }
            fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), SolveError> {
                let (law, volts) = (self.0, self.1);
                let x = y[0].clamp(0.0, 1.0);
                let f = |v: f64| v + R * law.current(0, x, v).unwrap() - volts;
                let (mut lo, mut hi) = (volts.min(0.0), volts.max(0.0));
                for _ in 0..200 {
                    let mid = 0.5 * (lo + hi);
                    if f(mid) > 0.0 { hi = mid } else { lo = mid }
                }
                let v = 0.5 * (lo + hi);
                let i = law.current(0, x, v).unwrap();
                dy[0] = law.state_rate(0, x, v, i);
                Ok(())
            }
        }
        let mut y = [law.initial_state(0)];
        integrate(
            &mut Reference(&law, volts),
            &mut y,
            0.0,
            t_end,
            &Stepper::Dopri5 {
                rtol: 1e-11,
                atol: 1e-13,
                h0: Some(1e-9),
                h_max: None,
                norm: memnet_solver::ode::ErrorNorm::Rms,
            },
            &Sampling::Ends,
            &mut |_, _| Ok(()),
            &mut |_, _| Ok(()),
        )
        .unwrap();
        // Both integrate to rtol 1e-11; the engine's Newton stops at 1e-13 V.
        assert!(
            (x_engine - y[0]).abs() < 1e-8 * y[0],
            "{volts} V: engine {x_engine} vs reference {}",
            y[0]
        );
    }
}

/// A Newton evaluation allocates nothing either (see no_alloc.rs for the
/// linear law): its work vectors live in the right-hand side.
#[test]
fn newton_reuses_the_previous_voltages() {
    let net = behind_resistor(spec("yakopcic", &[], YAKOPCIC), 0.5, 100.0);
    let mut rhs = MemoryRhs::new(&net, net.tran_times(1e-3)).unwrap();
    let w = rhs.initial_state();
    let mut dw = vec![0.0; 1];
    rhs.eval(0.0, &w, &mut dw).unwrap();
    let first = rhs.newton_iterations();
    rhs.eval(0.0, &w, &mut dw).unwrap();
    // Warm start at the converged voltage: one iteration confirms it.
    assert_eq!(rhs.newton_iterations() - first, 1);
    assert!(first > 1);
}
