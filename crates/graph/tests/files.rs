//! Graph files: CSV and Matrix Market reading (fixtures/graph), CSV
//! writing, and the located errors.

use std::path::PathBuf;

use memnet_graph::{
    Device, DeviceDefaults, Network, Topology, read_csv, read_graph_file, read_mtx, write_csv,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/graph/"
    ))
    .join(name)
}

fn describe(net: &Network) -> String {
    let mut s = String::new();
    for e in &net.edges {
        let d = match e.device {
            Device::Memristor(p) => format!(
                "ron={} roff={} w0={} alpha={} beta={} pol={}",
                p.ron, p.roff, p.w0, p.alpha, p.beta, p.polarity
            ),
            Device::Resistor { resistance } => format!("R={resistance}"),
            Device::Native { spec } => format!("law {}", net.laws[spec as usize].law),
        };
        let src = e
            .source
            .as_ref()
            .map_or(String::new(), |s| format!(" S={}", s.sign * s.source.dc));
        s.push_str(&format!(
            "{} {:?} -> {:?} {d}{src}\n",
            e.name, net.node_names[e.tail], net.node_names[e.head]
        ));
    }
    s
}

#[test]
fn csv_fixture() {
    let net = read_graph_file(&fixture("small.csv"), &DeviceDefaults::default()).unwrap();
    insta::assert_snapshot!(describe(&net), @r#"
    xm0 "in" -> "mid, left" ron=100 roff=16000 w0=0.2 alpha=0 beta=1 pol=1 S=1.5
    xm1 "mid, left" -> "out" ron=200 roff=16000 w0=0.5 alpha=0 beta=1 pol=1
    xm2 "out" -> "0" ron=100 roff=16000 w0=0.9 alpha=0 beta=1 pol=1
    xm3 "in" -> "out" ron=100 roff=16000 w0=0.5 alpha=0 beta=1 pol=1
    xm4 "0" -> "in" ron=100 roff=16000 w0=0.5 alpha=0 beta=1 pol=1 S=-0.5
    "#);
    let t = Topology::new(&net);
    assert_eq!((t.n_nodes, t.n_cycles()), (4, 2));
    // The ground is the node labelled 0.
    assert_eq!(net.node_names[t.ground[0]], "0");
    // Writing and reading back is lossless (labels with commas are quoted).
    let mut out = Vec::new();
    write_csv(&net, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("\"mid, left\""));
    let back = read_csv(&text, "back.csv", &DeviceDefaults::default()).unwrap();
    assert_eq!(describe(&back), describe(&net));
}

#[test]
fn csv_defaults_are_used_for_missing_columns() {
    let d = DeviceDefaults {
        ron: 1.0,
        roff: 3.0,
        w0: 0.125,
        alpha: -0.5,
        beta: 2.0,
    };
    let net = read_csv("tail,head,resistance\na,b,\nb,a,47\n", "x.csv", &d).unwrap();
    assert_eq!(
        describe(&net),
        "xm0 \"a\" -> \"b\" ron=1 roff=3 w0=0.125 alpha=-0.5 beta=2 pol=1\n\
         r1 \"b\" -> \"a\" R=47\n"
    );
}

#[test]
fn csv_errors_name_file_line_and_column() {
    let d = DeviceDefaults::default();
    let err = |text: &str| read_csv(text, "g.csv", &d).unwrap_err().render();
    insta::assert_snapshot!(err("tail,head,ron,colour\na,b,1,red\n"), @r"
    g.csv:1:15: error: unknown column `colour` (expected tail, head, ron, roff, w0, alpha, beta, source, polarity, resistance)
    tail,head,ron,colour
                  ^
    ");
    insta::assert_snapshot!(err("tail,head,ron,w0\na,b,abc,0.5\nb,c,100,1.5\n,c\nd,e,1,\"0.5\n"), @r#"
    g.csv:2:5: error: column `ron`: `abc` is not a finite number
    a,b,abc,0.5
        ^
    g.csv:3:1: error: edge b -> c: w0 = 1.5 must lie in [0, 1]
    b,c,100,1.5
    ^
    g.csv:4:1: error: `tail` and `head` must not be empty
    ,c
    ^
    g.csv:5:7: error: unterminated quoted field
    d,e,1,"0.5
          ^
    "#);
    insta::assert_snapshot!(err("head,ron\n"), @r"
    g.csv:1:1: error: the header must name the columns `tail` and `head`
    head,ron
    ^
    ");
    insta::assert_snapshot!(err("tail,head,resistance,ron\na,b,-1,\nb,c,10,5\n"), @r"
    g.csv:2:5: error: resistance -1 must be a positive finite number
    a,b,-1,
        ^
    g.csv:3:8: error: a resistor edge (`resistance` given) cannot have memristor parameters
    b,c,10,5
           ^
    ");
}

#[test]
fn matrix_market_fixtures() {
    let d = DeviceDefaults::default();
    let net = read_graph_file(&fixture("small.mtx"), &d).unwrap();
    insta::assert_snapshot!(describe(&net), @r#"
    xm0 "1" -> "2" ron=200 roff=32000 w0=0.5 alpha=0 beta=1 pol=1
    xm1 "2" -> "3" ron=100 roff=16000 w0=0.5 alpha=0 beta=1 pol=1
    xm2 "3" -> "1" ron=100 roff=16000 w0=0.5 alpha=0 beta=1 pol=1
    "#);
    let sym = read_graph_file(&fixture("sym.mtx"), &d).unwrap();
    let pairs: Vec<(usize, usize)> = sym.edges.iter().map(|e| (e.tail, e.head)).collect();
    assert_eq!(pairs, vec![(1, 0), (2, 1), (3, 2), (3, 0)]);
    assert_eq!(Topology::new(&sym).n_cycles(), 1);
}

#[test]
fn matrix_market_errors() {
    let d = DeviceDefaults::default();
    let err = |text: &str| read_mtx(text, "m.mtx", &d).unwrap_err().render();
    insta::assert_snapshot!(err("%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n"), @r"
    m.mtx:1:1: error: `array` format is not supported; only `coordinate`
    %%MatrixMarket matrix array real general
    ^
    ");
    insta::assert_snapshot!(err("%%MatrixMarket matrix coordinate complex general\n"), @r"
    m.mtx:1:1: error: field `complex` is not supported (pattern, real or integer)
    %%MatrixMarket matrix coordinate complex general
    ^
    ");
    insta::assert_snapshot!(err("%%MatrixMarket matrix coordinate real general\n% c\n3 3 2\n1 2 1\n4 1 1\n"), @r"
    m.mtx:5:1: error: indices must be integers in 1..=3 and 1..=3
    4 1 1
    ^
    ");
    insta::assert_snapshot!(err("%%MatrixMarket matrix coordinate real general\n3 3 2\n1 2 -1\n"), @r"
    m.mtx:3:1: error: value `-1` must be a finite number >= 0 (a resistance scale)
    1 2 -1
    ^
    ");
    insta::assert_snapshot!(err("%%MatrixMarket matrix coordinate pattern general\n3 3 2\n1 2\n"), @r"
    m.mtx:2:1: error: 2 entries declared but only 1 found
    3 3 2
    ^
    ");
    let missing = read_graph_file(&fixture("nope.csv"), &d).unwrap_err();
    assert!(missing.to_string().contains("nope.csv"));
    let ext = read_graph_file(&fixture("small.txt"), &d).unwrap_err();
    assert!(ext.to_string().contains("expected .csv or .mtx"));
}

#[test]
fn write_csv_rejects_what_csv_cannot_hold() {
    let mut net = read_csv("tail,head\na,0\n", "x.csv", &DeviceDefaults::default()).unwrap();
    net.constraints.push(memnet_graph::PotentialConstraint {
        name: "v1".into(),
        pos: 0,
        neg: 1,
        source: memnet_spice::Source::dc(1.0),
        loc: None,
    });
    let e = write_csv(&net, Vec::new()).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("`v1`"));
}
