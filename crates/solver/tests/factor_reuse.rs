//! Fewer factorisations: an earlier factorisation preconditions conjugate
//! gradients on the present conductances ([`FactorReuse`]). The states
//! agree with one factorisation per evaluation to 1e-10 on grids, random
//! graphs (fixed seeds) and a nanowire network, while most evaluations do
//! without a factorisation of their own.

mod common;

use memnet_graph::{
    Drive, DriveMode, GenSpec, GraphKind, Network, SeriesSource, generate, random_connected_graph,
};
use memnet_solver::{FactorReuse, Method, NullSink, SimOptions, SimReport, simulate};
use memnet_spice::{Source, Waveform};

fn driven(mut net: Network, edge: usize) -> Network {
    net.edges[edge].source = Some(Box::new(SeriesSource {
        name: "vs".into(),
        source: Source {
            dc: 0.0,
            waveform: Waveform::Sin {
                vo: 0.0,
                va: 2.0,
                freq: Some(1.0),
                td: 0.0,
                theta: 0.0,
                phase: 0.0,
            },
        },
        sign: 1.0,
        loc: None,
    }));
    net
}

fn run(net: &Network, reuse: Option<FactorReuse>) -> (Vec<(f64, Vec<f64>)>, SimReport) {
    let opts = SimOptions {
        t_end: 1.0,
        method: Method::Rk4,
        dt: 2e-3,
        sample_dt: Some(0.05),
        factor_reuse: reuse,
        ..Default::default()
    };
    let mut out: Vec<(f64, Vec<f64>)> = Vec::new();
    let report = simulate(net, &opts, &mut out, &mut |_| {}).expect("runs");
    (out, report)
}

fn compare(net: &Network, what: &str) -> SimReport {
    let [r] = compare_each(net, what, [FactorReuse::default()]);
    r
}

/// [`compare`] for each setting of the reuse, against one direct run.
fn compare_each<const K: usize>(
    net: &Network,
    what: &str,
    settings: [FactorReuse; K],
) -> [SimReport; K] {
    let (direct, d) = run(net, None);
    settings.map(|reuse| {
        let what = format!("{what} ({reuse:?})");
        let (reused, r) = run(net, Some(reuse));
        assert_eq!(direct.len(), reused.len());
        let worst = direct
            .iter()
            .zip(&reused)
            .flat_map(|(a, b)| a.1.iter().zip(&b.1).map(|(x, y)| (x - y).abs()))
            .fold(0.0, f64::max);
        // The direct path's states are accurate to rounding; CG stops at a
        // relative residual of 1e-13, which keeps every current (and so
        // every rate) within ~1e-11 relative: over 500 steps the states
        // stay within 1e-10.
        assert!(worst < 1e-10, "{what}: states differ by {worst}");
        assert_eq!(d.rhs_evals, r.rhs_evals, "{what}: the same steps");
        assert!(
            r.factorizations < d.factorizations,
            "{what}: {} factorisations with reuse, {} without",
            r.factorizations,
            d.factorizations
        );
        assert!(r.reused_solves > 0);
        r
    })
}

#[test]
fn reused_factorisations_give_the_direct_states() {
    let grid = driven(common::random_grid(20, 20, 5.0, 1.0, 7), 3);
    let r = compare(&grid, "20x20 grid");
    // Most evaluations reuse a factor.
    assert!(r.factorizations * 4 < r.rhs_evals, "{r:?}");
    for seed in [1, 2, 3] {
        let net = driven(random_connected_graph(seed, 60, 0.08), 0);
        compare(&net, &format!("random graph seed {seed}"));
    }
    let mut spec = GenSpec::new(GraphKind::Nanowire(memnet_graph::NanowireSpec {
        size: (20.0, 20.0),
        wires: 120,
        length: memnet_graph::Spread::Fixed { value: 7.0 },
        angle: memnet_graph::Spread::Uniform {
            lo: 0.0,
            hi: std::f64::consts::PI,
        },
        electrodes: ["left", "right"]
            .iter()
            .map(|s| memnet_graph::Electrodes {
                side: if *s == "left" {
                    memnet_graph::Side::Left
                } else {
                    memnet_graph::Side::Right
                },
                count: 1,
                spacing: 0.0,
            })
            .collect(),
        representation: memnet_graph::Representation::MultiNodal {
            resistivity: 22.6,
            diameter: 50.0,
        },
    }));
    spec.drive = Drive::Sides {
        voltage: 1.0,
        mode: DriveMode::Constraint,
    };
    spec.seed = 5;
    let nanowires = generate(&spec).expect("nanowire network");
    compare(&nanowires, "multi-nodal nanowires");
    // (NullSink: the option is accepted by a run that writes nothing.)
    let opts = SimOptions {
        factor_reuse: Some(FactorReuse::default()),
        ..Default::default()
    };
    simulate(&grid, &opts, &mut NullSink, &mut |_| {}).unwrap();
}

/// CG starts from the last evaluation's potentials, which on a smooth run
/// are closer to the answer than the old factor's own solution: fewer CG
/// iterations, and so fewer refactorisations, than the cold start, with
/// the same states (a DC grid and the sine-driven one).
#[test]
fn reused_solves_start_from_the_last_potentials() {
    for (what, net) in [
        ("DC 20x20 grid", common::random_grid(20, 20, 5.0, 1.0, 7)),
        (
            "sine-driven 20x20 grid",
            driven(common::random_grid(20, 20, 5.0, 1.0, 8), 3),
        ),
    ] {
        let cold_start = FactorReuse {
            warm_start: false,
            ..Default::default()
        };
        let [warm, c] = compare_each(&net, what, [FactorReuse::default(), cold_start]);
        // (Measured: 6158 against 8994 iterations and 28 against 47
        // factorisations on the DC grid; 7118/9015 and 28/45 with the sine.)
        assert!(
            warm.cg_iterations < c.cg_iterations && warm.factorizations < c.factorizations,
            "{what}: warm {warm:?}, cold {c:?}"
        );
    }
}

/// The exact method's Newton steps with a reused factor (inexact: CG to
/// the forcing term min(1e-3, |F_k|/|F_1|), never tighter than 1e-13)
/// reach the same solution as with fresh ones.
#[test]
fn exact_newton_with_reused_factorisations() {
    let net = common::random_grid(25, 25, 5.0, 1.0, 3);
    let exact = |reuse: Option<FactorReuse>| {
        // (Before the first device reaches a bound.)
        let opts = SimOptions {
            t_end: 0.3,
            method: Method::Exact,
            sample_dt: Some(0.03),
            factor_reuse: reuse,
            ..Default::default()
        };
        let mut out: Vec<(f64, Vec<f64>)> = Vec::new();
        let report = simulate(&net, &opts, &mut out, &mut |_| {}).expect("exact runs");
        (out, report)
    };
    let (a, ra) = exact(None);
    let (b, rb) = exact(Some(FactorReuse::default()));
    let worst = a
        .iter()
        .zip(&b)
        .flat_map(|(x, y)| x.1.iter().zip(&y.1).map(|(p, q)| (p - q).abs()))
        .fold(0.0, f64::max);
    // Newton converges to 1e-14 in psi either way.
    assert!(worst < 1e-10, "exact states differ by {worst}");
    assert!(rb.factorizations < ra.factorizations, "{ra:?} {rb:?}");
    assert!(rb.reused_solves > 0);
}
