//! Folding of series voltage sources and the import errors (theory.md 3.1),
//! on circuits built by hand.

use memnet_graph::{Device, Network, NetworkError, Topology};
use memnet_spice::{
    Circuit, Element, ElementKind, LinearLaw, Loc, Memristor, MemristorDialect, Source,
};

fn loc(line: u32) -> Loc {
    Loc::new("t.cir", line, 1)
}

fn el(line: u32, name: &str, nodes: &[&str], kind: ElementKind) -> Element {
    Element {
        name: name.into(),
        nodes: nodes.iter().map(|s| s.to_string()).collect(),
        kind,
        loc: loc(line),
    }
}

fn law() -> LinearLaw {
    LinearLaw {
        ron: 100.0,
        roff: 16000.0,
        w0: 0.5,
        alpha: 0.0,
        beta: 1.0,
    }
}

fn mem(line: u32, name: &str, p: &str, n: &str) -> Element {
    el(
        line,
        name,
        &[p, n],
        ElementKind::Memristor(Memristor {
            dialect: MemristorDialect::Canonical,
            law: Some(law()),
            params: Default::default(),
            tables: Vec::new(),
        }),
    )
}

fn v(line: u32, name: &str, p: &str, n: &str, val: f64) -> Element {
    el(
        line,
        name,
        &[p, n],
        ElementKind::VoltageSource(Source::dc(val)),
    )
}

fn i(line: u32, name: &str, p: &str, n: &str, val: f64) -> Element {
    el(
        line,
        name,
        &[p, n],
        ElementKind::CurrentSource(Source::dc(val)),
    )
}

fn r(line: u32, name: &str, p: &str, n: &str, val: f64) -> Element {
    el(
        line,
        name,
        &[p, n],
        ElementKind::Resistor { resistance: val },
    )
}

fn circuit(elements: Vec<Element>) -> Circuit {
    Circuit {
        title: "t".into(),
        elements,
        ..Circuit::default()
    }
}

/// The single edge of a folded pair, as (tail name, head name, S).
fn single_edge(elements: Vec<Element>) -> (String, String, f64) {
    let net = Network::from_circuit(&circuit(elements)).unwrap();
    assert_eq!(net.n_edges(), 1);
    assert!(net.constraints.is_empty(), "source should have folded");
    let e = &net.edges[0];
    let s = e.source.as_ref().expect("folded source");
    assert_eq!(s.name, "v1");
    // The internal node is gone.
    assert!(!net.node_names.iter().any(|n| n == "mid"));
    (
        net.node_names[e.tail].clone(),
        net.node_names[e.head].clone(),
        s.sign * s.source.dc,
    )
}

#[test]
fn fold_source_on_tail_side_both_polarities_and_orders() {
    let s = 0.3;
    // V1 mid u S + X1 mid v: walking u -> mid crosses n- -> n+, S = +S.
    let want = ("u".to_string(), "v".to_string(), s);
    assert_eq!(
        single_edge(vec![v(1, "v1", "mid", "u", s), mem(2, "x1", "mid", "v")]),
        want
    );
    assert_eq!(
        single_edge(vec![mem(1, "x1", "mid", "v"), v(2, "v1", "mid", "u", s)]),
        want
    );
    // V1 u mid S: crossing n+ -> n-, S = -S.
    let want = ("u".to_string(), "v".to_string(), -s);
    assert_eq!(
        single_edge(vec![v(1, "v1", "u", "mid", s), mem(2, "x1", "mid", "v")]),
        want
    );
    assert_eq!(
        single_edge(vec![mem(1, "x1", "mid", "v"), v(2, "v1", "u", "mid", s)]),
        want
    );
}

#[test]
fn fold_source_on_head_side_both_polarities_and_orders() {
    let s = 0.3;
    // X1 u mid + V1 v mid S: walking mid -> v crosses n- -> n+, S = +S.
    let want = ("u".to_string(), "v".to_string(), s);
    assert_eq!(
        single_edge(vec![mem(1, "x1", "u", "mid"), v(2, "v1", "v", "mid", s)]),
        want
    );
    assert_eq!(
        single_edge(vec![v(1, "v1", "v", "mid", s), mem(2, "x1", "u", "mid")]),
        want
    );
    let want = ("u".to_string(), "v".to_string(), -s);
    assert_eq!(
        single_edge(vec![mem(1, "x1", "u", "mid"), v(2, "v1", "mid", "v", s)]),
        want
    );
    assert_eq!(
        single_edge(vec![v(1, "v1", "mid", "v", s), mem(2, "x1", "u", "mid")]),
        want
    );
}

/// theory.md E1: X1 a 0 + V1 a 0 DC 0.1 is a self-loop at 0 with S = +0.1.
#[test]
fn e1_self_loop() {
    let net = Network::from_circuit(&circuit(vec![
        mem(1, "x1", "a", "0"),
        v(2, "v1", "a", "0", 0.1),
    ]))
    .unwrap();
    assert_eq!(net.node_names, vec!["0"]);
    let e = &net.edges[0];
    assert_eq!((e.tail, e.head), (0, 0));
    let s = e.source.as_ref().unwrap();
    assert_eq!(s.sign * s.source.dc, 0.1);
    let t = Topology::new(&net);
    assert_eq!((t.n_components, t.n_cycles()), (1, 1));
    assert_eq!(t.cycle_basis().to_dense()[(0, 0)], 1.0);
}

#[test]
fn unfoldable_sources_become_constraints() {
    // V1 drives node a against ground; a has three elements (not foldable).
    // V2 is between two nodes touched by several devices: a supernode.
    let net = Network::from_circuit(&circuit(vec![
        v(1, "v1", "a", "0", 1.0),
        mem(2, "x1", "a", "b"),
        mem(3, "x2", "a", "c"),
        v(4, "v2", "b", "c", 0.2),
        r(5, "r1", "b", "0", 50.0),
        r(6, "r2", "c", "0", 50.0),
        i(7, "i1", "b", "0", 1e-3),
    ]))
    .unwrap();
    assert_eq!(net.n_edges(), 4);
    assert_eq!(net.constraints.len(), 2);
    assert_eq!(net.injections.len(), 1);
    assert!(net.edges.iter().all(|e| e.source.is_none()));
    let c = &net.constraints[1];
    assert_eq!(
        (
            net.node_names[c.pos].as_str(),
            net.node_names[c.neg].as_str()
        ),
        ("b", "c")
    );
    assert!(matches!(net.edges[2].device, Device::Resistor { resistance } if resistance == 50.0));
    let s = net.summary();
    assert_eq!((s.nodes, s.edges, s.memristors, s.resistors), (4, 4, 2, 2));
    assert_eq!(
        (s.components, s.cycles, s.constraints, s.injections),
        (1, 1, 2, 1)
    );
}

#[test]
fn grounded_constraint_references_a_component() {
    // The memristor pair a-b never touches 0; only V1 ties a to ground.
    let net = Network::from_circuit(&circuit(vec![
        v(1, "v1", "a", "0", 1.0),
        mem(2, "x1", "a", "b"),
        mem(3, "x2", "b", "a"),
        mem(4, "x3", "c", "d"),
    ]))
    .unwrap();
    let t = Topology::new(&net);
    // Components: {0}, {a, b}, {c, d}.
    assert_eq!(t.n_components, 3);
    assert_eq!(t.component_referenced, vec![true, true, false]);
    assert_eq!(t.n_cycles(), 1);
}

fn errors(elements: Vec<Element>) -> Vec<String> {
    match Network::from_circuit(&circuit(elements)) {
        Err(NetworkError::Invalid(d)) => d.iter().map(|d| d.to_string()).collect(),
        other => panic!("expected errors, got {other:?}"),
    }
}

#[test]
fn voltage_source_loop_names_all_members() {
    let e = errors(vec![
        v(1, "v1", "a", "0", 1.0),
        v(2, "v2", "b", "a", 1.0),
        v(3, "v3", "b", "0", 2.0),
        mem(4, "x1", "a", "b"),
        mem(5, "x2", "b", "0"),
        mem(6, "x3", "a", "0"),
    ]);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("t.cir:3:1: "), "{}", e[0]);
    for name in ["`v1`", "`v2`", "`v3`", "t.cir:1:1", "t.cir:2:1"] {
        assert!(e[0].contains(name), "{} missing in {}", name, e[0]);
    }
}

#[test]
fn current_source_cut_set() {
    // Island {c, d} is connected to the rest only through i1.
    let e = errors(vec![
        mem(1, "x1", "a", "0"),
        mem(2, "x2", "c", "d"),
        i(3, "i1", "a", "c", 1e-3),
        i(4, "i2", "a", "0", 1e-3),
    ]);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("t.cir:3:1: current source `i1`"),
        "{}",
        e[0]
    );
    // A node touched only by a current source.
    let e = errors(vec![mem(1, "x1", "a", "0"), i(2, "i9", "a", "z", 1.0)]);
    assert!(e[0].contains("`i9`") && e[0].contains("`z`"), "{e:?}");
}

#[test]
fn unsupported_elements_are_reported_with_lines() {
    let mut xyce = mem(5, "ym1", "a", "0");
    if let ElementKind::Memristor(m) = &mut xyce.kind {
        m.law = None;
        m.dialect = MemristorDialect::Xyce {
            model: "mrm2".into(),
            level: 7,
        };
    }
    let e = errors(vec![
        el(
            1,
            "c1",
            &["a", "0"],
            ElementKind::Capacitor {
                capacitance: 1e-9,
                ic: None,
            },
        ),
        el(
            2,
            "l1",
            &["a", "0"],
            ElementKind::Inductor {
                inductance: 1e-9,
                ic: None,
            },
        ),
        el(3, "e1", &["a", "0"], ElementKind::Vcvs { gain: 2.0 }),
        el(
            4,
            "d1",
            &["a", "0"],
            ElementKind::Unsupported {
                what: "diode".into(),
                text: "a 0 dmod".into(),
            },
        ),
        xyce,
        r(6, "r1", "a", "0", -5.0),
        r(7, "r2", "a", "0", 0.0),
        v(8, "v1", "a", "0", f64::NAN),
    ]);
    assert_eq!(e.len(), 8, "{e:#?}");
    let want = [
        "t.cir:1:1: capacitor `c1` cannot be simulated",
        "t.cir:2:1: inductor `l1` cannot be simulated",
        "t.cir:3:1: E element `e1`",
        "t.cir:4:1: `d1` is a diode",
        "t.cir:5:1: `ym1`: Xyce memristor level 7 (model `mrm2`) is not a level memnet implements",
        "t.cir:6:1: resistor `r1`: resistance -5 must be",
        "t.cir:7:1: resistor `r2`: resistance 0 must be",
        "t.cir:8:1: source `v1` has a non-finite value",
    ];
    for (got, want) in e.iter().zip(want) {
        assert!(
            got.starts_with(want),
            "{got}\n  does not start with\n{want}"
        );
    }
}

#[test]
fn bad_memristor_parameters() {
    let bad = |f: fn(&mut LinearLaw)| {
        let mut m = mem(1, "x1", "a", "0");
        if let ElementKind::Memristor(mm) = &mut m.kind {
            f(mm.law.as_mut().unwrap());
        }
        errors(vec![m, mem(2, "x2", "a", "0")])
    };
    assert!(bad(|l| l.roff = -1.0)[0].contains("xi"));
    assert!(bad(|l| l.roff = 0.0)[0].contains("roff = 0 must be positive"));
    assert!(bad(|l| l.ron = 0.0)[0].contains("ron = 0 must be positive"));
    assert!(bad(|l| l.beta = f64::INFINITY)[0].contains("beta = inf is not a finite"));
    assert!(bad(|l| l.w0 = 1.5)[0].contains("w0 = 1.5"));
}

#[test]
fn to_circuit_round_trip_of_folded_sources() {
    let original = Network::from_circuit(&circuit(vec![
        v(1, "v1", "mid", "u", 0.3),
        mem(2, "x1", "mid", "v"),
        mem(3, "x2", "v", "m2"),
        v(4, "v2", "m2", "u", 0.7),
        mem(5, "x3", "u", "0"),
        mem(6, "x4", "v", "0"),
        mem(7, "x5", "q", "0"),
        v(8, "v3", "q", "0", 0.1),
        i(9, "i1", "u", "v", 1e-3),
        v(10, "v4", "u", "0", 1.0),
    ]))
    .unwrap();
    // v3 folds into x5 (self-loop at 0); v4 stays a constraint.
    assert_eq!(original.constraints.len(), 1);
    let back = Network::from_circuit(&original.to_circuit()).unwrap();
    assert_eq!(back.node_names, original.node_names);
    assert_eq!(back.n_edges(), original.n_edges());
    for (a, b) in original.edges.iter().zip(&back.edges) {
        assert_eq!(
            (a.tail, a.head, &a.name, a.device),
            (b.tail, b.head, &b.name, b.device)
        );
        let sa = a
            .source
            .as_ref()
            .map(|s| (s.name.clone(), s.sign * s.source.dc));
        let sb = b
            .source
            .as_ref()
            .map(|s| (s.name.clone(), s.sign * s.source.dc));
        assert_eq!(sa, sb);
    }
    assert_eq!(back.injections.len(), 1);
    assert_eq!(back.constraints.len(), 1);
}
