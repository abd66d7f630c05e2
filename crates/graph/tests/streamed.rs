//! The streamed import (elements handed to a `NetworkBuilder` as they are
//! elaborated, never held as a whole circuit) builds the same network, and
//! finds the same problems, as building it from the whole circuit.

use std::path::{Path, PathBuf};

use memnet_graph::{
    GenSpec, GraphKind, Network, NetworkBuilder, Topology, generate, random_connected_graph,
};
use memnet_spice::{ImportOptions, elaborate, elaborate_into, import_file, import_file_into};

fn netlists(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            netlists(&p, out);
        } else if p.extension().is_some_and(|e| e == "cir") {
            out.push(p);
        }
    }
}

/// Everything a network holds, in one comparable string.
fn shown(r: &Result<Network, memnet_graph::NetworkError>) -> String {
    match r {
        Ok(n) => format!("{n:?}"),
        Err(e) => format!("error: {}", e.render()),
    }
}

#[test]
fn every_fixture_builds_the_same_network_streamed() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures"));
    let mut files = Vec::new();
    netlists(root, &mut files);
    assert!(files.len() > 80, "fixtures found: {}", files.len());
    let opts = ImportOptions::default();
    let (mut compared, mut networks) = (0, 0);
    for f in &files {
        let whole = import_file(f, &opts);
        let mut builder = NetworkBuilder::default();
        let streamed = import_file_into(f, &opts, &mut builder);
        match (whole, streamed) {
            (Ok(c), Ok(frame)) => {
                assert!(frame.elements.is_empty(), "{}", f.display());
                assert_eq!(builder.element_count(), c.elements.len(), "{}", f.display());
                assert_eq!(frame.warnings, c.warnings, "{}", f.display());
                assert_eq!(frame.outputs, c.outputs, "{}", f.display());
                let a = Network::from_circuit(&c);
                let b = builder.finish(&frame);
                networks += usize::from(a.is_ok());
                assert_eq!(shown(&a), shown(&b), "{}", f.display());
                compared += 1;
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{}", f.display()),
            (a, b) => panic!(
                "{}: whole {:?}, streamed {:?}",
                f.display(),
                a.map(|_| ()),
                b.map(|_| ())
            ),
        }
    }
    // Enough of both kinds to mean something.
    assert!(compared > 60 && networks > 40, "{compared} {networks}");
}

fn streamed(text: &str) -> Result<Network, String> {
    let deck = memnet_spice::parse_str(text, "t.cir").map_err(|e| e.to_string())?;
    let mut b = NetworkBuilder::default();
    let frame =
        elaborate_into(deck, &ImportOptions::default(), &mut b).map_err(|e| e.to_string())?;
    b.finish(&frame).map_err(|e| e.render())
}

#[test]
fn duplicate_names_are_found_across_cards_already_handed_on() {
    // r1 has gone to the builder when R1 arrives: the message still names
    // the first one's place.
    let e = streamed("t\nr1 a 0 1\nv1 a 0 1\nR1 b 0 2\n.end\n").unwrap_err();
    assert!(
        e.contains("duplicate element name 'r1' (first at t.cir:2:1)"),
        "{e}"
    );
    // Inside instances, and a source (kept aside by the builder) first.
    let e = streamed("t\n.subckt s a b\nr1 a b 1\n.ends\nx1 n1 0 s\nvx n1 0 1\nx1 n2 0 s\n.end\n")
        .unwrap_err();
    assert!(e.contains("duplicate element name 'x1.r1'"), "{e}");
    let e = streamed("t\nv1 a 0 1\nr1 a 0 1\nV1 b 0 2\n.end\n").unwrap_err();
    assert!(
        e.contains("duplicate element name 'v1' (first at t.cir:2:1)"),
        "{e}"
    );
    // The same netlist without the duplicate builds, as the whole circuit does.
    let text = "t\nr1 a 0 1\nv1 a 0 1\nR2 b 0 2\nv2 b 0 1\n.end\n";
    let whole = memnet_spice::parse_str(text, "t.cir").unwrap();
    let c = elaborate(whole, &ImportOptions::default()).unwrap();
    assert_eq!(
        format!("{:?}", streamed(text).unwrap()),
        format!("{:?}", Network::from_circuit(&c).unwrap())
    );
}

#[test]
fn summary_counts_components_as_the_topology_does() {
    let gen_net = |kind: GraphKind, seed: u64| {
        let mut spec = GenSpec::new(kind);
        spec.seed = seed;
        generate(&spec).unwrap()
    };
    let mut nets = vec![
        gen_net(
            GraphKind::Grid {
                rows: 7,
                cols: 5,
                diagonals: false,
            },
            0,
        ),
        random_connected_graph(3, 60, 0.05),
    ];
    for seed in 0..4 {
        // Sparse enough to leave isolated nodes and several components.
        nets.push(gen_net(GraphKind::ErdosRenyi { n: 80, p: 0.01 }, seed));
    }
    for net in &nets {
        let topo = Topology::new(net);
        let with = memnet_graph::Summary::new(net, Some(&topo));
        let without = net.summary();
        assert_eq!(with, without);
        assert_eq!(without.components, topo.n_components);
        assert_eq!(without.cycles, topo.n_cycles());
    }
    assert!(nets.iter().any(|n| n.summary().components > 3));
}
