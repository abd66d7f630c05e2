//! Generators: small networks as CSV snapshots, structural properties of
//! every family, drives, determinism, round trips through circuits and CSV.

use std::collections::HashSet;

use memnet_graph::{
    Device, DeviceDefaults, Drive, DriveMode, GenSpec, GraphKind, Network, Orientation,
    RandomSources, Topology, WInit, generate, random_connected_graph, read_csv, write_csv,
};

fn csv(net: &Network) -> String {
    let mut out = Vec::new();
    write_csv(net, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn spec(kind: GraphKind, seed: u64) -> GenSpec {
    let mut s = GenSpec::new(kind);
    s.seed = seed;
    s
}

fn degrees(net: &Network) -> Vec<usize> {
    let mut d = vec![0; net.n_nodes()];
    for e in &net.edges {
        d[e.tail] += 1;
        d[e.head] += 1;
    }
    d
}

fn is_simple(net: &Network) -> bool {
    let mut seen = HashSet::new();
    net.edges
        .iter()
        .all(|e| e.tail != e.head && seen.insert((e.tail.min(e.head), e.tail.max(e.head))))
}

#[test]
fn small_networks_snapshot() {
    let mut s = spec(
        GraphKind::Grid {
            rows: 2,
            cols: 3,
            diagonals: false,
        },
        1,
    );
    s.w_init = WInit::Uniform { lo: 0.2, hi: 0.8 };
    s.sources = vec![(0, 1.0)];
    insta::assert_snapshot!("grid_2x3", csv(&generate(&s).unwrap()));

    let s = spec(
        GraphKind::Grid {
            rows: 2,
            cols: 2,
            diagonals: true,
        },
        0,
    );
    insta::assert_snapshot!("grid_2x2_diagonals", csv(&generate(&s).unwrap()));

    let mut s = spec(GraphKind::Triangular { rows: 2, cols: 3 }, 0);
    s.random_sources = Some(RandomSources {
        count: 2,
        min: -1.0,
        max: 1.0,
    });
    s.w_init = WInit::NormalClipped {
        mean: 0.5,
        std: 0.2,
    };
    insta::assert_snapshot!("triangular_2x3", csv(&generate(&s).unwrap()));

    insta::assert_snapshot!(
        "random_connected_6",
        csv(&random_connected_graph(3, 6, 0.4))
    );
    let mut s = spec(GraphKind::Complete { n: 4 }, 0);
    s.orientation = Orientation::Random;
    s.device = DeviceDefaults {
        ron: 1.0,
        roff: 11.0,
        w0: 0.1,
        alpha: 0.5,
        beta: 10.0,
    };
    s.w_init = WInit::Constant { w: 0.25 };
    insta::assert_snapshot!("complete_4", csv(&generate(&s).unwrap()));
}

#[test]
fn lattice_counts() {
    for (rows, cols) in [(1, 1), (1, 5), (4, 7), (30, 20)] {
        let n = generate(&spec(
            GraphKind::Grid {
                rows,
                cols,
                diagonals: false,
            },
            0,
        ))
        .unwrap();
        assert_eq!(n.n_nodes(), rows * cols);
        assert_eq!(n.n_edges(), rows * (cols - 1) + cols * (rows - 1));
        let t = Topology::new(&n);
        assert_eq!(t.n_cycles(), (rows - 1) * (cols - 1));
        let d = generate(&spec(
            GraphKind::Grid {
                rows,
                cols,
                diagonals: true,
            },
            0,
        ))
        .unwrap();
        assert_eq!(
            d.n_edges(),
            n.n_edges() + 2 * (rows - 1) * (cols - 1),
            "king graph"
        );
        let tr = generate(&spec(GraphKind::Triangular { rows, cols }, 0)).unwrap();
        assert_eq!(tr.n_edges(), n.n_edges() + (rows - 1) * (cols - 1));
        // Planar triangulation: every interior face is a triangle.
        assert_eq!(Topology::new(&tr).n_cycles(), 2 * (rows - 1) * (cols - 1));
    }
}

#[test]
fn random_families_have_their_defining_properties() {
    // Erdos-Renyi: simple, edge count near p n(n-1)/2 (mean 4975, sd ~ 66:
    // +-400 is a 6-sigma band).
    let er = generate(&spec(GraphKind::ErdosRenyi { n: 200, p: 0.25 }, 7)).unwrap();
    assert!(is_simple(&er));
    assert!((er.n_edges() as i64 - 4975).abs() < 400, "{}", er.n_edges());
    assert!(er.edges.iter().all(|e| e.tail < e.head));

    for (n, d) in [(10, 3), (50, 4), (1000, 3), (30, 7)] {
        let rr = generate(&spec(GraphKind::RandomRegular { n, degree: d }, 11)).unwrap();
        assert!(is_simple(&rr));
        assert!(degrees(&rr).iter().all(|&x| x == d), "{n} {d}");
    }

    let ws = generate(&spec(
        GraphKind::WattsStrogatz {
            n: 100,
            k: 4,
            rewire: 0.2,
        },
        5,
    ))
    .unwrap();
    assert!(is_simple(&ws));
    assert_eq!(ws.n_edges(), 200);
    let ring = generate(&spec(
        GraphKind::WattsStrogatz {
            n: 100,
            k: 4,
            rewire: 0.0,
        },
        5,
    ))
    .unwrap();
    assert!(degrees(&ring).iter().all(|&x| x == 4));
    let rewired = ws
        .edges
        .iter()
        .filter(|e| {
            let d = (e.head + 100 - e.tail) % 100;
            !(d == 1 || d == 2 || d == 98 || d == 99)
        })
        .count();
    // About 0.2 * 200 = 40 rewired (binomial sd ~ 5.7).
    assert!((15..=65).contains(&rewired), "{rewired}");

    let rg = generate(&spec(
        GraphKind::RandomGeometric {
            n: 400,
            radius: 0.08,
        },
        3,
    ))
    .unwrap();
    assert!(is_simple(&rg));
    // Expected edges about n^2/2 * pi r^2 ~ 1600 less boundary losses.
    assert!((1000..1800).contains(&rg.n_edges()), "{}", rg.n_edges());

    let k = generate(&spec(GraphKind::Complete { n: 9 }, 0)).unwrap();
    assert_eq!(k.n_edges(), 36);
    assert!(is_simple(&k));

    // T0 graph: ring plus extras, connected, orientations mixed.
    let t0 = random_connected_graph(4, 40, 0.1);
    assert_eq!(Topology::new(&t0).n_components, 1);
    let forward = t0.edges.iter().filter(|e| e.tail < e.head).count();
    assert!(forward > 10 && forward < t0.n_edges() - 10);
}

#[test]
fn generation_is_reproducible_and_seed_dependent() {
    let s = |seed| {
        let mut s = spec(GraphKind::ErdosRenyi { n: 60, p: 0.1 }, seed);
        s.w_init = WInit::Uniform { lo: 0.0, hi: 1.0 };
        csv(&generate(&s).unwrap())
    };
    assert_eq!(s(1), s(1));
    assert_ne!(s(1), s(2));
}

#[test]
fn initial_values_follow_their_distribution() {
    let w = |init| {
        let mut s = spec(GraphKind::Complete { n: 60 }, 2);
        s.w_init = init;
        generate(&s)
            .unwrap()
            .edges
            .iter()
            .map(|e| match e.device {
                Device::Memristor(p) => p.w0,
                Device::Resistor { .. } | Device::Native { .. } => f64::NAN,
            })
            .collect::<Vec<f64>>()
    };
    let u = w(WInit::Uniform { lo: 0.3, hi: 0.4 });
    assert!(u.iter().all(|&x| (0.3..0.4).contains(&x)));
    let mean = u.iter().sum::<f64>() / u.len() as f64;
    assert!((mean - 0.35).abs() < 0.005, "{mean}");
    let nc = w(WInit::NormalClipped {
        mean: 0.9,
        std: 0.3,
    });
    assert!(nc.iter().all(|&x| x > 0.0 && x < 1.0));
    assert!(nc.contains(&(1.0 - 1e-6)), "clipping must occur");
}

#[test]
fn drives() {
    let grid = |drive| {
        let mut s = spec(
            GraphKind::Grid {
                rows: 3,
                cols: 4,
                diagonals: false,
            },
            0,
        );
        s.drive = drive;
        generate(&s).unwrap()
    };
    let n = grid(Drive::Terminals {
        a: 0,
        b: 11,
        voltage: 2.0,
        mode: DriveMode::Constraint,
    });
    assert_eq!(n.node_names[11], "0");
    assert_eq!(n.constraints.len(), 1);
    assert_eq!((n.constraints[0].pos, n.constraints[0].neg), (0, 11));
    let t = Topology::new(&n);
    assert_eq!(t.ground, vec![11]);

    let n = grid(Drive::Terminals {
        a: 0,
        b: 11,
        voltage: 2.0,
        mode: DriveMode::SeriesSource,
    });
    let e = n.edges.last().unwrap();
    assert_eq!((e.tail, e.head, n.n_edges()), (11, 0, 18));
    assert_eq!(e.source.as_ref().unwrap().source.dc, 2.0);

    let n = grid(Drive::Sides {
        voltage: 1.0,
        mode: DriveMode::Constraint,
    });
    // left column 0, 4, 8 at 1 V; right column 3 (ground), 7, 11 at 0 V.
    assert_eq!(n.node_names[3], "0");
    let c: Vec<(usize, usize, f64)> = n
        .constraints
        .iter()
        .map(|c| (c.pos, c.neg, c.source.dc))
        .collect();
    assert_eq!(
        c,
        vec![
            (0, 3, 1.0),
            (4, 3, 1.0),
            (8, 3, 1.0),
            (7, 3, 0.0),
            (11, 3, 0.0)
        ]
    );

    let n = grid(Drive::Sides {
        voltage: 1.0,
        mode: DriveMode::SeriesSource,
    });
    assert_eq!(n.n_nodes(), 13);
    assert_eq!(n.node_names[12], "0");
    assert_eq!(n.n_edges(), 17 + 6);
    let s = n.summary();
    assert_eq!((s.folded_sources, s.components), (3, 1));
}

#[test]
fn bad_specs_are_errors() {
    let bad = |s: GenSpec| generate(&s).unwrap_err().to_string();
    assert!(bad(spec(GraphKind::RandomRegular { n: 5, degree: 3 }, 0)).contains("n*d even"));
    assert!(
        bad(spec(
            GraphKind::WattsStrogatz {
                n: 10,
                k: 3,
                rewire: 0.1
            },
            0
        ))
        .contains("even k")
    );
    assert!(bad(spec(GraphKind::ErdosRenyi { n: 5, p: 1.5 }, 0)).contains("[0, 1]"));
    let mut s = spec(GraphKind::Complete { n: 3 }, 0);
    s.device.roff = -1.0;
    assert!(bad(s).contains("roff"));
    let mut s = spec(GraphKind::Complete { n: 3 }, 0);
    s.sources = vec![(3, 1.0)];
    assert!(bad(s).contains("only 3 edges"));
    let mut s = spec(GraphKind::Complete { n: 3 }, 0);
    s.drive = Drive::Sides {
        voltage: 1.0,
        mode: DriveMode::Constraint,
    };
    assert!(bad(s).contains("sides drive"));
}

/// The netlist written edge by edge from the network (`memnet generate`)
/// is byte for byte the one written from its whole circuit: with side
/// electrodes, terminals, series sources, random sources and a `.tran`.
#[test]
fn streamed_netlists_equal_whole_circuit_ones() {
    use memnet_spice::export::{CanonicalOptions, write_canonical_streamed, write_canonical_with};
    let opts = CanonicalOptions {
        include: Some("fixtures/spice/memristor.lib".into()),
    };
    for (kind, drive) in [
        (
            GraphKind::Grid {
                rows: 4,
                cols: 5,
                diagonals: true,
            },
            Drive::Sides {
                voltage: 1.0,
                mode: DriveMode::Constraint,
            },
        ),
        (
            GraphKind::Grid {
                rows: 3,
                cols: 3,
                diagonals: false,
            },
            Drive::Sides {
                voltage: -0.5,
                mode: DriveMode::SeriesSource,
            },
        ),
        (
            GraphKind::ErdosRenyi { n: 30, p: 0.2 },
            Drive::Terminals {
                a: 0,
                b: 7,
                voltage: 2.0,
                mode: DriveMode::Constraint,
            },
        ),
    ] {
        let mut s = spec(kind, 4);
        s.w_init = WInit::Uniform { lo: 0.1, hi: 0.9 };
        s.random_sources = Some(RandomSources {
            count: 3,
            min: -1.0,
            max: 1.0,
        });
        s.drive = drive;
        let mut net = generate(&s).unwrap();
        net.tran = Some(memnet_graph::TranSpec {
            tstep: 0.01,
            tstop: 1.0,
            tmax: None,
        });
        let mut whole = Vec::new();
        write_canonical_with(&net.to_circuit(), &opts, &mut whole).unwrap();
        let mut streamed = Vec::new();
        write_canonical_streamed(
            &net.circuit_frame(),
            &opts,
            |write| net.each_element(|e| write(&e)),
            &mut streamed,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            String::from_utf8(whole).unwrap()
        );
    }
}

/// generate -> to_circuit -> from_circuit gives the same network.
#[test]
fn circuit_round_trip() {
    let mut s = spec(
        GraphKind::Grid {
            rows: 4,
            cols: 5,
            diagonals: true,
        },
        9,
    );
    s.w_init = WInit::Uniform { lo: 0.1, hi: 0.9 };
    s.random_sources = Some(RandomSources {
        count: 6,
        min: -2.0,
        max: 2.0,
    });
    for drive in [
        Drive::Terminals {
            a: 0,
            b: 19,
            voltage: 1.5,
            mode: DriveMode::Constraint,
        },
        Drive::Sides {
            voltage: 1.0,
            mode: DriveMode::SeriesSource,
        },
    ] {
        s.drive = drive;
        let a = generate(&s).unwrap();
        let b = Network::from_circuit(&a.to_circuit()).unwrap();
        assert_eq!(a.summary(), b.summary());
        let mut names_a = a.node_names.clone();
        let mut names_b = b.node_names.clone();
        names_a.sort();
        names_b.sort();
        assert_eq!(names_a, names_b);
        let key = |n: &Network, k: usize| {
            let e = &n.edges[k];
            (
                e.name.clone(),
                n.node_names[e.tail].clone(),
                n.node_names[e.head].clone(),
                e.device,
                e.source.as_ref().map(|s| s.sign * s.source.dc),
            )
        };
        for k in 0..a.n_edges() {
            assert_eq!(key(&a, k), key(&b, k));
        }
        let c = |n: &Network| -> Vec<(String, String, f64)> {
            n.constraints
                .iter()
                .map(|c| {
                    (
                        n.node_names[c.pos].clone(),
                        n.node_names[c.neg].clone(),
                        c.source.dc,
                    )
                })
                .collect()
        };
        assert_eq!(c(&a), c(&b));
    }
}

#[test]
fn csv_round_trip_of_generated_network() {
    let mut s = spec(GraphKind::ErdosRenyi { n: 30, p: 0.2 }, 4);
    s.w_init = WInit::Uniform { lo: 0.0, hi: 1.0 };
    s.random_sources = Some(RandomSources {
        count: 5,
        min: -1.0,
        max: 1.0,
    });
    let a = generate(&s).unwrap();
    let text = csv(&a);
    let b = read_csv(&text, "g.csv", &DeviceDefaults::default()).unwrap();
    // Isolated nodes are not representable in an edge list; compare edges.
    assert_eq!(a.n_edges(), b.n_edges());
    for (x, y) in a.edges.iter().zip(&b.edges) {
        assert_eq!(a.node_names[x.tail], b.node_names[y.tail]);
        assert_eq!(a.node_names[x.head], b.node_names[y.head]);
        assert_eq!(x.device, y.device);
        assert_eq!(
            x.source.as_ref().map(|s| s.source.dc),
            y.source.as_ref().map(|s| s.source.dc)
        );
    }
    assert_eq!(csv(&b), text);
}

#[test]
fn large_grid_counts() {
    let n = generate(&spec(
        GraphKind::Grid {
            rows: 300,
            cols: 300,
            diagonals: false,
        },
        0,
    ))
    .unwrap();
    let t = Topology::new(&n);
    assert_eq!((t.n_nodes, t.n_edges), (90_000, 179_400));
    assert_eq!((t.n_components, t.n_cycles()), (1, 299 * 299));
    assert_eq!(t.chords.len(), 299 * 299);
}
