//! Canonical netlist export: exact text (snapshot), exact numbers, refusals.

use std::collections::BTreeMap;
use std::sync::Arc;

use memnet_spice::export::{
    CanonicalOptions, ExportError, spice_name, state_vector, write_canonical, write_canonical_with,
};
use memnet_spice::{
    Analysis, Circuit, Element, ElementKind, LinearLaw, Loc, Memristor, MemristorDialect, Source,
    Waveform,
};

fn loc(line: u32) -> Loc {
    Loc::new(Arc::<str>::from("hand.cir"), line, 1)
}

fn el(name: &str, nodes: &[&str], kind: ElementKind, line: u32) -> Element {
    Element {
        name: name.into(),
        nodes: nodes.iter().map(|s| s.to_string()).collect(),
        kind,
        loc: loc(line),
    }
}

fn memristor(law: Option<LinearLaw>, dialect: MemristorDialect) -> ElementKind {
    ElementKind::Memristor(Memristor {
        dialect,
        law,
        params: BTreeMap::new(),
        tables: Vec::new(),
    })
}

fn law(ron: f64, roff: f64, w0: f64, alpha: f64, beta: f64) -> LinearLaw {
    LinearLaw {
        ron,
        roff,
        w0,
        alpha,
        beta,
    }
}

fn mixed() -> Circuit {
    let mut c = Circuit {
        title: "mixed export test".into(),
        ..Default::default()
    };
    c.elements = vec![
        el(
            "v1",
            &["in", "0"],
            ElementKind::VoltageSource(Source::dc(1.5)),
            2,
        ),
        el(
            "v2",
            &["p", "0"],
            ElementKind::VoltageSource(Source {
                dc: 0.0,
                waveform: Waveform::Pulse {
                    v1: 0.0,
                    v2: 1.0,
                    td: 1e-3,
                    tr: None,
                    tf: None,
                    pw: Some(0.25),
                    per: None,
                    np: None,
                },
            }),
            3,
        ),
        el(
            "i1",
            &["0", "s"],
            ElementKind::CurrentSource(Source {
                dc: 0.0,
                waveform: Waveform::Sin {
                    vo: 0.0,
                    va: 2e-3,
                    freq: Some(50.0),
                    td: 0.0,
                    theta: 0.0,
                    phase: 90.0,
                },
            }),
            4,
        ),
        el(
            "v3",
            &["w", "0"],
            ElementKind::VoltageSource(Source {
                dc: 0.0,
                waveform: Waveform::Pwl {
                    points: vec![(0.0, 0.0), (0.5, 1.0), (1.0, -1.0)],
                    repeat_from: Some(0.0),
                    delay: 0.1,
                },
            }),
            5,
        ),
        el(
            "r1",
            &["in", "a"],
            ElementKind::Resistor {
                resistance: 1.0 / 3.0 * 1e3,
            },
            6,
        ),
        el(
            "x1.r3",
            &["a", "x1.mid"],
            ElementKind::Resistor { resistance: 4.7e3 },
            7,
        ),
        el(
            "c1",
            &["a", "0"],
            ElementKind::Capacitor {
                capacitance: 1e-12,
                ic: Some(0.5),
            },
            8,
        ),
        el(
            "l1",
            &["p", "s"],
            ElementKind::Inductor {
                inductance: 2e-6,
                ic: None,
            },
            9,
        ),
        el(
            "e1",
            &["b", "0", "a", "0"],
            ElementKind::Vcvs { gain: -2.0 },
            10,
        ),
        el(
            "g1",
            &["b", "0", "w", "0"],
            ElementKind::Vccs {
                transconductance: 1e-3,
            },
            11,
        ),
        el(
            "xm1",
            &["x1.mid", "0"],
            memristor(
                Some(law(100.0, 16000.0, 0.5, 0.0, 1.0)),
                MemristorDialect::Canonical,
            ),
            12,
        ),
        el(
            "x1.xm2",
            &["b", "w"],
            memristor(
                Some(law(1.0, 2.0, 0.1, -0.5, 1e-3)),
                MemristorDialect::UserSubckt {
                    subckt: "mem".into(),
                },
            ),
            13,
        ),
    ];
    c.initial_conditions = vec![("a".into(), 0.25)];
    c.options.insert("reltol".into(), "1e-4".into());
    c.analyses = vec![Analysis::Tran {
        tstep: 1e-3,
        tstop: 1.0,
        tstart: 0.0,
        tmax: Some(1e-4),
        uic: true,
        loc: loc(20),
    }];
    c
}

fn canonical(c: &Circuit) -> String {
    let mut out = Vec::new();
    write_canonical(c, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn mixed_circuit_snapshot() {
    insta::assert_snapshot!(canonical(&mixed()));
}

#[test]
fn include_only_when_asked() {
    let c = mixed();
    assert!(!canonical(&c).contains(".include"));
    let mut out = Vec::new();
    write_canonical_with(
        &c,
        &CanonicalOptions {
            include: Some("fixtures/spice/memristor.lib".into()),
        },
        &mut out,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text.lines().nth(1),
        Some(".include fixtures/spice/memristor.lib")
    );
}

#[test]
fn device_letter_prefix_for_flattened_names() {
    let c = mixed();
    let names: Vec<String> = c
        .elements
        .iter()
        .map(|e| spice_name(e).into_owned())
        .collect();
    assert!(names.contains(&"r.x1.r3".to_string()));
    assert!(names.contains(&"x1.xm2".to_string()));
    assert!(names.contains(&"r1".to_string()));
    assert_eq!(state_vector(&c.elements[10]), "v(xm1.w)");
    assert_eq!(state_vector(&c.elements[11]), "v(x1.xm2.w)");
    let odd = el(
        "m7",
        &["a", "b"],
        memristor(
            Some(law(1.0, 2.0, 0.5, 0.0, 1.0)),
            MemristorDialect::Canonical,
        ),
        1,
    );
    assert_eq!(spice_name(&odd), "x.m7");
}

/// Every number in the output parses back to the identical f64.
#[test]
fn numbers_round_trip_bit_exactly() {
    let values = [
        1.0 / 3.0,
        1e-300,
        6.02214076e23,
        5e-324,
        0.1 + 0.2,
        123_456_789.123_456_79,
        -2.5e-17,
    ];
    let mut c = Circuit {
        title: "numbers".into(),
        ..Default::default()
    };
    for (i, &v) in values.iter().enumerate() {
        c.elements.push(el(
            &format!("r{i}"),
            &["a", "0"],
            ElementKind::Resistor { resistance: v },
            i as u32 + 2,
        ));
    }
    let text = canonical(&c);
    let back: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with('r'))
        .map(|l| l.split_whitespace().nth(3).unwrap().parse::<f64>().unwrap())
        .collect();
    assert_eq!(back.len(), values.len());
    for (a, b) in values.iter().zip(&back) {
        assert_eq!(a.to_bits(), b.to_bits(), "{a} came back as {b}");
    }
}

fn err(c: &Circuit) -> ExportError {
    let mut out = Vec::new();
    match write_canonical(c, &mut out) {
        Ok(()) => panic!("export should fail:\n{}", String::from_utf8_lossy(&out)),
        Err(e) => e,
    }
}

#[test]
fn unexportable_elements_are_named_with_their_line() {
    let base = || Circuit {
        title: "refuse".into(),
        ..Default::default()
    };
    let mut c = base();
    c.elements.push(el(
        "d1",
        &["a", "0"],
        ElementKind::Unsupported {
            what: "diode".into(),
            text: "a 0 dmod".into(),
        },
        7,
    ));
    let e = err(&c).to_string();
    assert!(
        e.starts_with("hand.cir:7:1:") && e.contains("diode `d1`"),
        "{e}"
    );

    let mut c = base();
    c.elements.push(el(
        "b1",
        &["a", "0"],
        ElementKind::Behavioral { expr: "v=1".into() },
        3,
    ));
    let e = err(&c).to_string();
    assert!(e.starts_with("hand.cir:3:1:") && e.contains("`b1`"), "{e}");

    let mut c = base();
    c.elements.push(el(
        "ymemristor m1",
        &["a", "0"],
        memristor(
            None,
            MemristorDialect::Xyce {
                model: "mm".into(),
                level: 2,
            },
        ),
        4,
    ));
    let e = err(&c).to_string();
    assert!(
        e.starts_with("hand.cir:4:1:") && e.contains("is not written back"),
        "{e}"
    );

    let mut c = base();
    c.elements.push(el(
        "r1",
        &["a", "0"],
        ElementKind::Resistor {
            resistance: f64::NAN,
        },
        9,
    ));
    let e = err(&c).to_string();
    assert!(
        e.starts_with("hand.cir:9:1:") && e.contains("not a finite number"),
        "{e}"
    );

    let mut c = base();
    c.elements.push(el(
        "r1",
        &["a"],
        ElementKind::Resistor { resistance: 1.0 },
        5,
    ));
    assert!(err(&c).to_string().contains("has 1 nodes"));

    // A PULSE width left to default needs a .tran to mean anything.
    let mut c = base();
    c.elements.push(el(
        "v1",
        &["a", "0"],
        ElementKind::VoltageSource(Source {
            dc: 0.0,
            waveform: Waveform::Pulse {
                v1: 0.0,
                v2: 1.0,
                td: 0.0,
                tr: None,
                tf: None,
                pw: None,
                per: Some(1.0),
                np: None,
            },
        }),
        6,
    ));
    let e = err(&c).to_string();
    assert!(
        e.starts_with("hand.cir:6:1:") && e.contains("PULSE width"),
        "{e}"
    );
}

/// Streaming: a 2M-element network writes without building strings per line.
/// Checks the line count; prints the time (2M memristors: 0.6 s, 155 MB, dev profile).
#[test]
fn large_network_streams() {
    // `MEMNET_EXPORT_N=2000000` measures the 2M-element case.
    let n: usize = std::env::var("MEMNET_EXPORT_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let mut c = Circuit {
        title: "big".into(),
        ..Default::default()
    };
    c.elements.reserve(n);
    for i in 0..n {
        c.elements.push(el(
            &format!("xm{i}"),
            &[&format!("n{i}"), &format!("n{}", i + 1)],
            memristor(
                Some(law(100.0, 16000.0, 0.5, 0.0, 1.0)),
                MemristorDialect::Canonical,
            ),
            1,
        ));
    }
    struct Count(usize, usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            self.1 += b.iter().filter(|&&x| x == b'\n').count();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut sink = Count(0, 0);
    let start = std::time::Instant::now();
    write_canonical(&c, &mut sink).unwrap();
    eprintln!(
        "write_canonical: {n} memristors, {} bytes in {:.3} s",
        sink.0,
        start.elapsed().as_secs_f64()
    );
    assert_eq!(sink.1, n + 2); // title, elements, .end
}

/// write_canonical -> import_str gives the same circuit (names up to the
/// device-letter prefix, waveforms equal as functions of time), and
/// writing the imported circuit again gives the same text.
#[test]
fn canonical_round_trip_through_the_importer() {
    let c = mixed();
    let text = canonical(&c);
    let back = memnet_spice::import_str(&text, "exported.cir", &Default::default())
        .unwrap_or_else(|d| panic!("{}\n{text}", d.render()));
    assert_eq!(back.elements.len(), c.elements.len());
    let times = memnet_spice::TranTimes {
        tstep: 1e-3,
        tstop: 1.0,
    };
    for (a, b) in c.elements.iter().zip(&back.elements) {
        assert_eq!(spice_name(a), b.name.as_str());
        assert_eq!(a.nodes, b.nodes, "{}", a.name);
        match (&a.kind, &b.kind) {
            (ElementKind::Memristor(x), ElementKind::Memristor(y)) => {
                assert_eq!(x.law, y.law, "{}", a.name);
                assert_eq!(y.dialect, MemristorDialect::Canonical);
            }
            (ElementKind::VoltageSource(x), ElementKind::VoltageSource(y))
            | (ElementKind::CurrentSource(x), ElementKind::CurrentSource(y)) => {
                assert_eq!(x.dc, y.dc, "{}", a.name);
                for i in 0..=4000 {
                    let t = i as f64 * 2.5e-4;
                    let (u, v) = (x.waveform.value(t, times), y.waveform.value(t, times));
                    assert!(
                        (u - v).abs() <= 1e-15 * u.abs().max(1.0),
                        "{} at t={t}: {u} vs {v}",
                        a.name
                    );
                }
            }
            (x, y) => assert_eq!(x, y, "{}", a.name),
        }
    }
    assert_eq!(back.initial_conditions, c.initial_conditions);
    assert_eq!(back.options, c.options);
    let again = canonical(&back);
    assert_eq!(again, text);
}
