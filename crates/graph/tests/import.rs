//! Real netlist text through the spice crate's parser into networks:
//! summaries and every diagnostic snapshotted (insta).

use memnet_graph::{Network, NetworkError, Topology};
use memnet_spice::{ImportOptions, import_str};

fn import(text: &str) -> Result<Network, NetworkError> {
    let c = import_str(text, "t.cir", &ImportOptions::default()).expect("netlist should parse");
    Network::from_circuit(&c)
}

/// Edges as `name: tail -> head [S = value (source)]`, one per line.
fn describe(net: &Network) -> String {
    let mut s = String::new();
    for e in &net.edges {
        s.push_str(&format!(
            "{}: {} -> {}",
            e.name, net.node_names[e.tail], net.node_names[e.head]
        ));
        if let Some(src) = &e.source {
            s.push_str(&format!(" S = {} ({})", src.sign * src.source.dc, src.name));
        }
        s.push('\n');
    }
    for c in &net.constraints {
        s.push_str(&format!(
            "constraint {}: phi({}) - phi({}) = {}\n",
            c.name, net.node_names[c.pos], net.node_names[c.neg], c.source.dc
        ));
    }
    for j in &net.injections {
        s.push_str(&format!(
            "injection {}: {} -> {} {}\n",
            j.name, net.node_names[j.from], net.node_names[j.to], j.source.dc
        ));
    }
    s
}

fn render_err(text: &str) -> String {
    import(text).unwrap_err().render()
}

#[test]
fn folding_all_four_placements() {
    let net = import(
        "folding\n\
         V1 m1 u DC 0.3\n\
         X1 m1 v memristor ron=100 roff=16000 w0=0.4\n\
         V2 u m2 DC 0.3\n\
         X2 m2 v memristor ron=100 roff=16000 w0=0.4\n\
         X3 u m3 memristor ron=100 roff=16000 w0=0.4\n\
         V3 v m3 DC 0.3\n\
         X4 u m4 memristor ron=100 roff=16000 w0=0.4\n\
         V4 m4 v DC 0.3\n\
         R1 v 0 1k\n\
         V5 u 0 DC 1\n\
         I1 0 v DC 1m\n\
         .tran 1m 1\n\
         .end\n",
    )
    .unwrap();
    insta::assert_snapshot!(describe(&net), @r"
    x1: u -> v S = 0.3 (v1)
    x2: u -> v S = -0.3 (v2)
    x3: u -> v S = 0.3 (v3)
    x4: u -> v S = -0.3 (v4)
    r1: v -> 0
    constraint v5: phi(u) - phi(0) = 1
    injection i1: 0 -> v 0.001
    ");
    insta::assert_json_snapshot!("folding_summary", net.summary());
    assert_eq!(net.tran.map(|t| (t.tstep, t.tstop)), Some((1e-3, 1.0)));
}

#[test]
fn theory_examples_from_fixtures() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/spice/");
    let read = |f: &str| std::fs::read_to_string(format!("{dir}{f}")).unwrap();
    // E1: a self-loop at 0 with S = +0.1.
    let e1 = import(&read("e1_single.cir")).unwrap();
    assert_eq!(describe(&e1), "x1: 0 -> 0 S = 0.1 (v1)\n");
    // E4: 9 nodes, 12 edges in theory order, L = 4, S = e_0 on 0 -> 1.
    let e4 = import(&read("e4_grid.cir")).unwrap();
    let s = e4.summary();
    assert_eq!(
        (s.nodes, s.edges, s.cycles, s.folded_sources),
        (9, 12, 4, 1)
    );
    let pairs: Vec<(String, String)> = e4
        .edges
        .iter()
        .map(|e| (e4.node_names[e.tail].clone(), e4.node_names[e.head].clone()))
        .collect();
    let want = [
        (0, 1),
        (0, 3),
        (1, 2),
        (1, 4),
        (2, 5),
        (3, 4),
        (3, 6),
        (4, 5),
        (4, 7),
        (5, 8),
        (6, 7),
        (7, 8),
    ];
    for (got, want) in pairs.iter().zip(want) {
        assert_eq!(got, &(want.0.to_string(), want.1.to_string()));
    }
    let src = e4.edges[0].source.as_ref().unwrap();
    assert_eq!(src.sign * src.source.dc, 1.0);
    assert_eq!(Topology::new(&e4).ground, vec![0]);
}

#[test]
fn diagnostics_capacitor_controlled_unsupported() {
    insta::assert_snapshot!(render_err(
        "bad elements\n\
         V1 a 0 DC 1\n\
         X1 a b memristor\n\
         C1 b 0 1n\n\
         L1 b 0 1u\n\
         E1 c 0 b 0 2\n\
         G1 c 0 b 0 1m\n\
         B1 c 0 V=v(b)*2\n\
         D1 b 0 dmod\n\
         .model dmod d\n\
         R1 c 0 -5\n\
         .end\n"
    ));
}

#[test]
fn diagnostics_xyce_noisy_memristor() {
    insta::assert_snapshot!(render_err(
        "Xyce TEAM memristor (level 2) with telegraph noise\n\
         VS 1 0 DC 1\n\
         YMEMRISTOR MR1 1 0 MRM2\n\
         .MODEL MRM2 MEMRISTOR LEVEL=2 RON=50 ROFF=1000 RESNOISE=1\n\
         .END\n"
    ));
}

#[test]
fn diagnostics_voltage_loop_and_current_cut_set() {
    insta::assert_snapshot!(render_err(
        "loops and cuts\n\
         V1 a 0 DC 1\n\
         V2 b a DC 1\n\
         V3 b 0 DC 2\n\
         X1 a b memristor\n\
         X2 c d memristor\n\
         X3 d c memristor\n\
         I1 a c DC 1m\n\
         I2 e 0 DC 1m\n\
         .end\n"
    ));
}

#[test]
fn diagnostics_bad_memristor_parameters() {
    insta::assert_snapshot!(render_err(
        "bad params\n\
         X1 a 0 memristor ron=100 roff=-5\n\
         X2 a 0 memristor ron=0\n\
         X3 a 0 memristor w0=2\n\
         X4 a 0 memristor beta=0\n\
         .end\n"
    ));
}

/// A floating component is not an error; it is grounded at its lowest node.
#[test]
fn floating_component_is_grounded_automatically() {
    let net = import(
        "floating\n\
         V1 m a DC 1\n\
         X1 m b memristor\n\
         X2 b a memristor\n\
         X3 p q memristor\n\
         X4 q p memristor\n\
         .end\n",
    )
    .unwrap();
    let t = Topology::new(&net);
    assert_eq!(t.n_components, 2);
    let names: Vec<&str> = t
        .ground
        .iter()
        .map(|&g| net.node_names[g].as_str())
        .collect();
    assert_eq!(names, vec!["a", "p"]);
    assert_eq!(t.component_referenced, vec![false, false]);
}
