//! Semantics of the importer, checked with exact expectations: theory.md
//! fixtures, scoping, naming, sources, dialects, diagnostics.
//! Float comparisons use `==` where the value is a decimal literal parsed
//! once (correctly rounded, so exact) and 1e-15 relative where arithmetic
//! is involved (a few roundings of ~1.1e-16 each).

use std::path::{Path, PathBuf};

use memnet_spice::{
    Analysis, Circuit, DEFAULT_BETA, DEFAULT_ROFF, Element, ElementKind, ImportOptions, LinearLaw,
    MemristorDialect, UserMemristor, Waveform, import_file, import_str,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/spice")
        .join(name)
}

fn load(name: &str) -> Circuit {
    import_file(&fixture(name), &ImportOptions::default())
        .unwrap_or_else(|d| panic!("{name}: {}", d.render()))
}

fn parse(text: &str) -> Circuit {
    import_str(text, "t.cir", &ImportOptions::default())
        .unwrap_or_else(|d| panic!("{}", d.render()))
}

fn err(text: &str) -> String {
    match import_str(text, "t.cir", &ImportOptions::default()) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(d) => d.render(),
    }
}

fn el<'a>(c: &'a Circuit, name: &str) -> &'a Element {
    c.elements
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no element {name}"))
}

fn law(e: &Element) -> LinearLaw {
    match &e.kind {
        ElementKind::Memristor(m) => m.law.unwrap_or_else(|| panic!("{} has no law", e.name)),
        k => panic!("{} is a {}", e.name, k.name()),
    }
}

fn resistance(e: &Element) -> f64 {
    match e.kind {
        ElementKind::Resistor { resistance } => resistance,
        ref k => panic!("{} is a {}", e.name, k.name()),
    }
}

fn dc(e: &Element) -> f64 {
    match &e.kind {
        ElementKind::VoltageSource(s) | ElementKind::CurrentSource(s) => s.dc,
        k => panic!("{} is a {}", e.name, k.name()),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-15 * b.abs().max(1.0)
}

#[test]
fn theory_e1_is_a_self_loop_with_positive_source() {
    let c = load("e1_single.cir");
    assert_eq!(c.elements.len(), 2);
    let v = el(&c, "v1");
    assert_eq!(v.nodes, ["a", "0"]);
    assert_eq!(dc(v), 0.1);
    let x = el(&c, "x1");
    assert_eq!(x.nodes, ["a", "0"]);
    let l = law(x);
    assert_eq!(
        (l.ron, l.roff, l.w0, l.alpha, l.beta),
        (1.0, 2.0, 0.5, 0.0, 1.0)
    );
    assert_eq!(l.xi(), 1.0);
    match c.tran() {
        Some(Analysis::Tran { tstep, tstop, .. }) => assert_eq!((*tstep, *tstop), (0.01, 5.0)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn theory_e2_e3_edges_sources_and_states() {
    let c = load("e2_series.cir");
    assert_eq!(el(&c, "v0").nodes, ["m0", "0"]);
    assert_eq!(dc(el(&c, "v0")), 0.3);
    assert_eq!(el(&c, "xm0").nodes, ["m0", "1"]);
    assert_eq!(el(&c, "xm1").nodes, ["1", "0"]);
    assert_eq!(law(el(&c, "xm0")).w0, 0.6);
    assert_eq!(law(el(&c, "xm1")).w0, 0.2);
    assert_eq!(law(el(&c, "xm1")).xi(), 2.0);

    let c = load("e3_triangle.cir");
    let edges = [
        ("0", "1", 0.3, 0.5),
        ("1", "2", 0.2, 0.4),
        ("0", "2", 0.1, 0.3),
    ];
    for (k, (u, v, s, w0)) in edges.iter().enumerate() {
        let src = el(&c, &format!("v{k}"));
        let m = format!("m{k}");
        assert_eq!(src.nodes, [m.as_str(), u], "source of edge {k}");
        assert_eq!(dc(src), *s);
        let x = el(&c, &format!("xm{k}"));
        assert_eq!(x.nodes, [m.as_str(), v], "device of edge {k}");
        assert_eq!(law(x).w0, *w0);
        assert_eq!(law(x).xi(), 2.0);
    }
}

#[test]
fn theory_e4_grids_follow_the_edge_order() {
    let edges = [
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
    for (file, alpha) in [
        ("e4_grid.cir", 0.0),
        ("e4_grid_alpha_p01.cir", 0.1),
        ("e4_grid_alpha_m01.cir", -0.1),
    ] {
        let c = load(file);
        let mems: Vec<&Element> = c
            .elements
            .iter()
            .filter(|e| matches!(e.kind, ElementKind::Memristor(_)))
            .collect();
        assert_eq!(mems.len(), 12, "{file}");
        for (k, (u, v)) in edges.iter().enumerate() {
            let x = mems[k];
            assert_eq!(x.name, format!("xm{k}"), "{file}");
            let tail = if k == 0 {
                "m0".to_string()
            } else {
                u.to_string()
            };
            assert_eq!(x.nodes, [tail, v.to_string()], "{file} edge {k}");
            let l = law(x);
            assert!(
                close(l.w0, 0.2 + 0.05 * k as f64),
                "{file} w0_{k} = {}",
                l.w0
            );
            assert_eq!(
                (l.ron, l.roff, l.beta, l.alpha),
                (1.0, 11.0, 10.0, alpha),
                "{file}"
            );
            assert_eq!(l.xi(), 10.0);
        }
        let v0 = el(&c, "v0");
        assert_eq!(v0.nodes, ["m0", "0"]);
        assert_eq!(dc(v0), 1.0);
        assert_eq!(c.elements.len(), 13, "{file}: only V0 and the 12 devices");
    }
}

#[test]
fn scale_suffixes_are_case_insensitive_and_m_is_milli() {
    let c = load("case_insensitive.cir");
    assert_eq!(resistance(el(&c, "rbig")), 1e6);
    assert_eq!(resistance(el(&c, "rmilli")), 1e-3);
    assert_eq!(resistance(el(&c, "rmeg")), 1e6);
    assert!(close(resistance(el(&c, "rmil")), 10.0 * 25.4e-6));
    // GND and Gnd are ground; names are lower-case.
    assert_eq!(el(&c, "rbig").nodes, ["node_a", "0"]);
    assert_eq!(el(&c, "vsrc").nodes, ["node_b", "0"]);
}

#[test]
fn parameters_scope_lexically_with_instance_overrides() {
    let c = load("nested_subckts.cir");
    // x1: pair w1=0.3 r={rs}=50 -> cell r=50, rr = 100; w = 0.3.
    assert_eq!(resistance(el(&c, "x1.xc1.rser")), 100.0);
    assert_eq!(law(el(&c, "x1.xc1.xm")).w0, 0.3);
    // xc2 takes cell's default r=1k (rr = 2k) and w2 = 0.8 from pair's defaults.
    assert_eq!(resistance(el(&c, "x1.xc2.rser")), 2000.0);
    assert_eq!(law(el(&c, "x1.xc2.xm")).w0, 0.8);
    // The nested definition `half` sees pair's r: k*r = 3*50 (x1), 3*100 (x2).
    assert_eq!(resistance(el(&c, "x1.xh.rk")), 150.0);
    assert_eq!(resistance(el(&c, "x2.xh.rk")), 300.0);
    // Pins map to outer nodes, internal nodes get the instance path.
    assert_eq!(el(&c, "x1.xc1.rser").nodes, ["top", "x1.xc1.mid"]);
    assert_eq!(el(&c, "x1.xc1.xm").nodes, ["x1.xc1.mid", "x1.mid"]);
    assert_eq!(el(&c, "x2.xc2.xm").nodes, ["x2.xc2.mid", "0"]);
}

#[test]
fn functions_resolve_before_definition_and_shadow_locally() {
    let c = load("func_scopes.cir");
    assert_eq!(resistance(el(&c, "r1")), 6.0);
    assert_eq!(resistance(el(&c, "r2")), 5.0);
    assert_eq!(resistance(el(&c, "x1.r1")), 30.0);
    assert_eq!(resistance(el(&c, "x1.r2")), 3.0);
    assert_eq!(resistance(el(&c, "r3")), 2.0);
}

#[test]
fn expressions_in_parameters_evaluate() {
    let c = load("canonical_params.cir");
    let l = law(el(&c, "xm1"));
    assert_eq!(
        (l.ron, l.roff, l.w0, l.beta),
        (1000.0, 11000.0, 0.75, 2000.0)
    );
    assert_eq!(law(el(&c, "xm2")).alpha, -0.1);
    assert_eq!(resistance(el(&c, "r1")), 13000.0);
    assert_eq!(resistance(el(&c, "r2")), 17.0);
    assert_eq!(resistance(el(&c, "r3")), 206.0);
    let want = 10e3 + 2e6 + 3e-3 + 4e-6 + 5e-9 + 6e-12 + 7e-15 + 8e9 + 9e12 + 25.4e-6;
    assert!(close(resistance(el(&c, "r4")), want));
}

#[test]
fn includes_and_library_sections_resolve_relative_to_the_including_file() {
    let c = load("includes_main.cir");
    assert_eq!(dc(el(&c, "v1")), 0.5);
    assert_eq!(
        resistance(el(&c, "x1.r1")),
        1000.0,
        "section 'typical', not 'fast'"
    );
    let l = law(el(&c, "xm1"));
    assert_eq!((l.ron, l.roff), (2.0, 20.0));
    assert!(c.models.contains_key("dmod"));
    assert!(el(&c, "x1.r1").loc.file.ends_with("inc/cells.lib"));
    assert_eq!(el(&c, "x1.r1").loc.line, 4);
    // import_str resolves relative to the current directory (the crate
    // directory under cargo test).
    let c = parse(".title\n.include ../../fixtures/spice/inc/params.inc\nR1 a 0 {roff_inc}\n");
    assert_eq!(resistance(el(&c, "r1")), 20.0);
}

#[test]
fn encodings_give_the_same_circuit() {
    let a = load("utf16le_bom.cir");
    let b = load("utf16le_nobom.cir");
    assert_eq!(a.elements, {
        let mut e = b.elements.clone();
        for x in &mut e {
            x.loc.file = a.elements[0].loc.file.clone();
        }
        e
    });
    match el(&a, "c1").kind {
        ElementKind::Capacitor { capacitance, .. } => assert_eq!(capacitance, 4.7e-6),
        ref k => panic!("{k:?}"),
    }
    let l = load("latin1_micro.cir");
    match el(&l, "c2").kind {
        ElementKind::Capacitor { capacitance, .. } => assert_eq!(capacitance, 1e-5),
        ref k => panic!("{k:?}"),
    }
    match el(&l, "l1").kind {
        ElementKind::Inductor { inductance, .. } => assert_eq!(inductance, 2.5e-6),
        ref k => panic!("{k:?}"),
    }
}

#[test]
fn sources_keep_ngspice_waveforms() {
    let c = load("sources.cir");
    match &el(&c, "v4").kind {
        ElementKind::VoltageSource(s) => assert_eq!(
            s.waveform,
            Waveform::Pulse {
                v1: 0.0,
                v2: 5.0,
                td: 1e-6,
                tr: Some(2e-9),
                tf: Some(3e-9),
                pw: Some(4e-6),
                per: Some(1e-5),
                np: Some(3)
            }
        ),
        k => panic!("{k:?}"),
    }
    match &el(&c, "v6").kind {
        ElementKind::VoltageSource(s) => {
            assert_eq!(
                s.waveform,
                Waveform::Sin {
                    vo: 0.5,
                    va: 1.0,
                    freq: Some(1e3),
                    td: 1e-3,
                    theta: 10.0,
                    phase: 90.0
                }
            );
            // No DC given: the value at t = 0 (vo + va sin(phase)).
            assert!(close(s.dc, 1.5));
        }
        k => panic!("{k:?}"),
    }
    match &el(&c, "v8").kind {
        ElementKind::VoltageSource(s) => assert_eq!(
            s.waveform,
            Waveform::Pwl {
                points: vec![(0.0, 0.0), (1e-3, 1.0), (2e-3, 1.0), (3e-3, 0.0)],
                repeat_from: Some(0.0),
                delay: 1e-3
            }
        ),
        k => panic!("{k:?}"),
    }
    assert_eq!(dc(el(&c, "v3")), 1.0, "AC part ignored");
    assert_eq!(dc(el(&c, "v10")), 0.2, "explicit DC beside a waveform");
    assert_eq!(dc(el(&c, "v11")), 0.0, "AC-only source");
    assert_eq!(dc(el(&c, "i1")), 1e-3);
    match &el(&c, "v12").kind {
        ElementKind::Unsupported { what, .. } => assert!(what.contains("EXP"), "{what}"),
        k => panic!("{k:?}"),
    }
}

#[test]
fn memristor_dialects_keep_every_parameter() {
    let c = load("xyce_team.cir");
    let e = el(&c, "ymemristor!mr1");
    assert_eq!(e.nodes, ["1", "0"]);
    match &e.kind {
        ElementKind::Memristor(m) => {
            assert_eq!(
                m.dialect,
                MemristorDialect::Xyce {
                    model: "mrm2".into(),
                    level: 2
                }
            );
            assert!(m.law.is_none());
            assert_eq!(m.params.get("koff"), Some(&1.46e-9));
            assert_eq!(m.params.get("xo"), Some(&0.11), "instance parameter");
            assert_eq!(m.params.len(), 19);
        }
        k => panic!("{k:?}"),
    }
    let c = load("xspice_memristor.cir");
    for (name, nodes) in [("a1", ["in", "mid"]), ("a2", ["mid", "0"])] {
        let e = el(&c, name);
        assert_eq!(e.nodes, nodes);
        match &e.kind {
            ElementKind::Memristor(m) => {
                assert_eq!(
                    m.dialect,
                    MemristorDialect::Xspice {
                        model: "memr".into()
                    }
                );
                assert_eq!(m.params.get("rinit"), Some(&7000.0));
                assert_eq!(m.params.get("vt"), Some(&0.6));
            }
            k => panic!("{k:?}"),
        }
    }
    // A file's own `memristor` subckt gives defaults; instances still map
    // to the canonical device.
    let c = load("canonical_subckt_defaults.cir");
    let l = law(el(&c, "x1"));
    assert_eq!(
        (l.ron, l.roff, l.w0, l.alpha, l.beta),
        (10.0, 1000.0, 0.1, 0.0, 2.0)
    );
    let l = law(el(&c, "x2"));
    assert_eq!((l.roff, l.w0), (2000.0, 0.9));
    assert_eq!(c.elements.len(), 3, "the memristor body is not flattened");
}

#[test]
fn documented_defaults_apply_without_a_definition() {
    let c = parse("t\nX1 a 0 memristor\n");
    let l = law(el(&c, "x1"));
    assert_eq!(
        (l.ron, l.roff, l.w0, l.alpha, l.beta),
        (
            memnet_spice::DEFAULT_RON,
            memnet_spice::DEFAULT_ROFF,
            memnet_spice::DEFAULT_W0,
            memnet_spice::DEFAULT_ALPHA,
            memnet_spice::DEFAULT_BETA
        )
    );
    assert_eq!(
        (l.ron, l.roff, l.w0, l.alpha, l.beta),
        (100.0, 16000.0, 0.5, 0.0, 1.0)
    );
}

#[test]
fn user_memristor_mapping() {
    let opts = ImportOptions {
        memristor_subckts: vec![UserMemristor {
            subckt: "mymem".into(),
            param_map: vec![
                ("ron".into(), "rmin".into()),
                ("roff".into(), "rmax".into()),
            ],
        }],
        ..Default::default()
    };
    let c = import_file(&fixture("user_memristor.cir"), &opts)
        .unwrap_or_else(|d| panic!("{}", d.render()));
    let e = el(&c, "xu1");
    match &e.kind {
        ElementKind::Memristor(m) => {
            assert_eq!(
                m.dialect,
                MemristorDialect::UserSubckt {
                    subckt: "mymem".into()
                }
            );
            let l = m.law.unwrap_or_else(|| panic!("no law"));
            // rmin from the instance, rmax from the PARAMS: default, w0 unmapped -> default.
            assert_eq!((l.ron, l.roff, l.w0), (20.0, 1000.0, 0.5));
            assert_eq!(m.params.get("xinit"), Some(&0.4));
        }
        k => panic!("{k:?}"),
    }
    assert!(UserMemristor::parse_param_map("ron=a,bogus=b").is_err());
    assert!(UserMemristor::parse_param_map("ron").is_err());
    assert_eq!(
        UserMemristor::parse_param_map("RON=Rmin, w0 = X"),
        Ok(vec![
            ("ron".into(), "rmin".into()),
            ("w0".into(), "x".into())
        ])
    );
}

#[test]
fn warnings_report_unused_and_ignored_things() {
    let c = parse(
        "t\n.param used=1 unused=2\n.subckt lonely a b\nR1 a b 1\n.ends\nR1 a 0 {used}\n.probe v(a)\n.frobnicate\n",
    );
    let msgs: Vec<String> = c
        .warnings
        .iter()
        .map(|w| format!("{}: {}", w.loc.line, w.message))
        .collect();
    assert!(
        msgs.contains(&"2: parameter 'unused' is defined but never used".to_string()),
        "{msgs:?}"
    );
    assert!(
        msgs.contains(&"3: subcircuit 'lonely' is defined but never used".to_string()),
        "{msgs:?}"
    );
    // `.probe` is an output request now, not an ignored card.
    assert!(!msgs.iter().any(|m| m.starts_with("7:")), "{msgs:?}");
    assert_eq!(c.outputs.len(), 1);
    assert_eq!(c.outputs[0].items, ["v(a)"]);
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("8: unknown card '.frobnicate'")),
        "{msgs:?}"
    );
    assert!(!msgs.iter().any(|m| m.contains("'used'")), "{msgs:?}");
}

#[test]
fn title_end_and_comments() {
    let c = parse("R1 a 0 1 is the title, not a card\n* c\nR2 a 0 2 ; x\n.END\nR3 a 0 3\n");
    assert_eq!(c.title, "R1 a 0 1 is the title, not a card");
    assert_eq!(c.elements.len(), 1);
    assert_eq!(el(&c, "r2").loc.to_string(), "t.cir:3:1");
}

#[test]
fn diagnostics_render_file_line_column_and_caret() {
    let r = err("t\nV1 a 0 1\nR1 a 0 {2*nope}\n");
    assert_eq!(
        r,
        "t.cir:3:8: error: resistor r1: undefined parameter 'nope'\nR1 a 0 {2*nope}\n       ^"
    );
    let r = err("t\nR1 a 0\n+ {1+}\n");
    assert!(r.starts_with("t.cir:3:6: error: expected a value"), "{r}");
    let r = err("t\n\tR1 a 0 1.5.5\n");
    // Columns count characters (a tab is one); the caret keeps the tab.
    assert_eq!(
        r,
        "t.cir:2:9: error: malformed number '1.5.5'\n\tR1 a 0 1.5.5\n\t       ^"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let mut text = String::from("deep\n");
    for k in 0..400 {
        text.push_str(&format!(".subckt s{k} a b\nX1 a b s{}\n.ends\n", k + 1));
    }
    text.push_str(".subckt s400 a b\nR1 a b 1\n.ends\nX0 n 0 s0\n");
    let r = err(&text);
    assert!(r.contains("nested too deeply"), "{r}");
    let nested = format!(
        "t\n{}{}",
        ".subckt s a\n".repeat(50_000),
        ".ends\n".repeat(50_000)
    );
    let r = err(&nested);
    assert!(r.contains("definitions nested too deeply"), "{r}");
    let r = err(&format!(
        "t\nR1 a 0 {{{}1{}}}\n",
        "(".repeat(5000),
        ")".repeat(5000)
    ));
    assert!(r.contains("nested too deeply"), "{r}");
    let mut chain = String::from("t\n");
    for k in 0..3000 {
        chain.push_str(&format!(".param p{k}={{p{}+1}}\n", k + 1));
    }
    chain.push_str(".param p3000=0\nR1 n 0 {p0}\n");
    let r = err(&chain);
    assert!(r.contains("nested too deeply"), "{r}");
    // A chain within the limit evaluates.
    let mut chain = String::from("t\n");
    for k in 0..300 {
        chain.push_str(&format!(".param p{k}={{p{}+1}}\n", k + 1));
    }
    chain.push_str(".param p300=0\nR1 n 0 {p0}\n");
    assert_eq!(resistance(el(&parse(&chain), "r1")), 300.0);
    let r = err("t\n.param a={b} b={c} c={d} d={a}\nR1 n 0 {a}\n");
    assert!(r.contains("a -> b -> c -> d -> a"), "{r}");
}

#[test]
fn one_argument_lib_includes_an_existing_file_or_starts_a_section() {
    // LTspice: `.lib file` includes the whole file.
    let c = parse("t\n.lib ../../fixtures/spice/inc/params.inc\nR1 a 0 {vdrive}\n");
    assert_eq!(resistance(el(&c, "r1")), 0.5);
    // ngspice: `.lib name` ... `.endl` defines a section that is skipped
    // unless selected.
    let c = parse("t\n.lib sec\nR9 a 0 9\n.endl sec\nR1 a 0 1\n");
    assert_eq!(c.elements.len(), 1);
    assert_eq!(el(&c, "r1").name, "r1");
}

#[test]
fn parse_defers_top_level_cards_but_reports_their_errors_in_elaboration() {
    let deck = memnet_spice::parse_str("t\nR1 a 0 1.2.3\n", "t.cir");
    let deck = deck.unwrap_or_else(|d| panic!("{}", d.render()));
    assert!(matches!(
        deck.body.stmts[0],
        memnet_spice::deck::Stmt::Raw(_)
    ));
    let e = memnet_spice::elaborate(deck, &ImportOptions::default()).err();
    assert_eq!(
        e.map(|d| d.render()),
        Some("t.cir:2:8: error: malformed number '1.2.3'\nR1 a 0 1.2.3\n       ^".to_string())
    );
}

#[test]
fn local_models_initial_conditions_and_devices_flatten_with_the_instance() {
    let c = parse(
        "t\n.model mglob memristor level=3 a1=1\n.subckt cell p n\n.model mloc memristor level=2 ron=5\n\
         YMEMRISTOR mr p mid mloc\nYMEMRISTOR mg mid n mglob x0=0.2\n.ic v(mid)=0.25\n.ends\nX1 a 0 cell\nX2 a 0 cell\n",
    );
    assert!(c.models.contains_key("x1.mloc") && c.models.contains_key("x2.mloc"));
    assert!(c.models.contains_key("mglob"));
    let e = el(&c, "x2.ymemristor!mr");
    assert_eq!(e.nodes, ["a", "x2.mid"]);
    match &e.kind {
        ElementKind::Memristor(m) => assert_eq!(
            m.dialect,
            MemristorDialect::Xyce {
                model: "x2.mloc".into(),
                level: 2
            }
        ),
        k => panic!("{k:?}"),
    }
    match &el(&c, "x1.ymemristor!mg").kind {
        ElementKind::Memristor(m) => {
            assert_eq!(m.params.get("x0"), Some(&0.2));
            assert_eq!(m.params.get("a1"), Some(&1.0));
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(
        c.initial_conditions,
        [("x1.mid".to_string(), 0.25), ("x2.mid".to_string(), 0.25)]
    );
}

/// A user's own `.subckt memristor` is never replaced by memnet's law: its
/// body is compiled as written unless it is memnet's own, or the user asks
/// for memnet's law by name with --memristor-subckt.
#[test]
fn a_users_memristor_body_is_not_silently_replaced() {
    let own = memnet_spice::export::MEMRISTOR_LIB;
    let deck = |body: &str| format!("t\n{body}\nV1 a 0 1\nX1 a 0 memristor ron=5\n.end\n");
    let c = import_str(&deck(own), "own.cir", &ImportOptions::default())
        .unwrap_or_else(|d| panic!("{}", d.render()));
    assert_eq!(law(el(&c, "x1")).ron, 5.0);

    // One card changed (the window-less law with a different current).
    let theirs = own.replace("Bm p n I={V(p,n)/", "Bm p n I={2*V(p,n)/");
    assert_ne!(theirs, own);
    let c = import_str(&deck(&theirs), "theirs.cir", &ImportOptions::default())
        .unwrap_or_else(|d| panic!("{}", d.render()));
    match &el(&c, "x1").kind {
        ElementKind::Memristor(m) => match &m.dialect {
            memnet_spice::MemristorDialect::Body { body, ic } => {
                assert_eq!(body.subckt, "memristor");
                assert_eq!(body.elements.len(), 3, "{body:?}");
                assert_eq!(ic, &[Some(0.5)]);
                assert!(m.law.is_none());
            }
            d => panic!("a changed body became {d:?}"),
        },
        k => panic!("{k:?}"),
    }

    let opts = ImportOptions {
        memristor_subckts: vec![UserMemristor {
            subckt: "memristor".into(),
            param_map: vec![],
        }],
        ..Default::default()
    };
    let c = import_str(&deck(&theirs), "theirs.cir", &opts)
        .unwrap_or_else(|d| panic!("{}", d.render()));
    assert_eq!(law(el(&c, "x1")).ron, 5.0);
}

/// Without a `.tran` card, the first `tran` of a `.control` block is the
/// analysis, with the values `.csparam`, `let` and `set` give it (ngspice's
/// memristor examples: `tran $&deltime $&stime uic`); a reference with no
/// value is an error at its line.
#[test]
fn a_control_block_tran_is_the_analysis_when_there_is_no_tran_card() {
    let deck = |tran: &str| {
        format!(
            "control tran\n.param stime=10n\n.csparam stime={{stime}}\nV1 a 0 1\nR1 a 0 1k\n\
             .control\nset xbrushwidth=2\nlet deltime = stime/100\n{tran}\nplot v(a)\n.endc\n.end\n"
        )
    };
    let c = import_str(
        &deck("tran $&deltime $&stime uic"),
        "c.cir",
        &ImportOptions::default(),
    )
    .unwrap_or_else(|d| panic!("{}", d.render()));
    match c.analyses.as_slice() {
        [
            Analysis::Tran {
                tstep,
                tstop,
                uic,
                loc,
                ..
            },
        ] => {
            assert!((tstep - 1e-10).abs() < 1e-24 && (tstop - 1e-8).abs() < 1e-22);
            assert!(uic);
            assert_eq!(loc.line, 9);
        }
        a => panic!("{a:?}"),
    }
    assert!(
        c.warnings
            .iter()
            .any(|w| w.kind == "analysis from .control")
    );
    // A .tran card wins.
    let with_card = deck("tran 1 2").replace(".end\n", ".tran 1m 5m\n.end\n");
    let c = import_str(&with_card, "c.cir", &ImportOptions::default()).unwrap();
    assert!(matches!(c.analyses[..], [Analysis::Tran { tstop, .. }] if tstop == 5e-3));
    let e = import_str(&deck("tran $&dt 1u"), "c.cir", &ImportOptions::default()).unwrap_err();
    assert_eq!(e.loc.line, 9, "{}", e.message);
    assert!(e.message.contains("`$&dt` has no value"), "{}", e.message);
}

/// HSPICE writes functions as parameters: `.param f(x) = '...'` is a
/// `.func`, usable in behavioural values and in other parameters.
#[test]
fn hspice_function_parameters_are_functions() {
    let deck = "hspice functions\n.param win(x, p) = '1 - (2*x - 1)**(2*p)'\n\
                .param k = 'ternary_fcn(1 > 0, win(0.25, 1), 0)'\nV1 a 0 1\nR1 a 0 {1k*k}\n.end\n";
    let c = import_str(deck, "h.cir", &ImportOptions::default())
        .unwrap_or_else(|d| panic!("{}", d.render()));
    match el(&c, "r1").kind {
        ElementKind::Resistor { resistance } => assert!((resistance - 750.0).abs() < 1e-9),
        ref k => panic!("{k:?}"),
    }
}

/// `F` and `H` in their linear form are sources on a voltage source's
/// current (compiled inside memristor subcircuits), and so is POLY(1).
#[test]
fn current_controlled_sources() {
    let c = parse("fh\nVs a 0 0\nF1 b 0 Vs 2\nH1 c 0 vs 3k\nF2 d 0 poly(1) Vs 0 1\n.end\n");
    match &el(&c, "f1").kind {
        ElementKind::ExprSource { sets, value } => {
            assert_eq!(*sets, memnet_spice::Sets::Current);
            assert_eq!(value.to_string(), "(2e0*i(vs))");
        }
        k => panic!("F1: {k:?}"),
    }
    match &el(&c, "h1").kind {
        ElementKind::ExprSource { sets, value } => {
            assert_eq!(*sets, memnet_spice::Sets::Voltage);
            assert_eq!(value.to_string(), "(3e3*i(vs))");
        }
        k => panic!("H1: {k:?}"),
    }
    // POLY(1): p0 + p1 i(vs), in Horner form.
    match &el(&c, "f2").kind {
        ElementKind::ExprSource { value, .. } => {
            assert_eq!(value.to_string(), "(0e0+(i(vs)*1e0))");
        }
        k => panic!("F2: {k:?}"),
    }
}

/// A junction diode is ngspice's DC law of its model's is and n (a current
/// source on v(a,k)); a model parameter memnet does not simulate, or a
/// missing model, is an error on the diode's line.
#[test]
fn diodes() {
    let c = parse(
        "d\n.model dm d(is=1e-12 n=1.5)\n.subckt s a k\nD1 a k dm\nD2 a k dm 3\n\
         D3 a k dm area=2\n.ends s\nX1 a k s\nV1 a 0 1\nR1 k 0 1k\n.end\n",
    );
    // A two-pin subcircuit of diodes is a static device: its body.
    let body = |c: &Circuit, name: &str| match &el(c, name).kind {
        ElementKind::Memristor(m) => match &m.dialect {
            memnet_spice::MemristorDialect::Body { body, .. } => body.clone(),
            d => panic!("{name}: {d:?}"),
        },
        k => panic!("{name} is a {}", k.name()),
    };
    let x1 = body(&c, "x1");
    let text = |n: &str| match &x1.elements.iter().find(|e| e.name == n).unwrap().kind {
        ElementKind::ExprSource { sets, value } => {
            assert_eq!(*sets, memnet_spice::Sets::Current);
            value.to_string()
        }
        k => panic!("{n}: {k:?}"),
    };
    let d1 = text("d1");
    assert!(d1.contains("exp((v(a,k)/") && d1.contains("1e-12"), "{d1}");
    // At the top level a diode is a static device too.
    let top = parse("d\n.model dm d\nD1 a 0 dm\nV1 a 0 1\n.end\n");
    assert!(!body(&top, "d1").holds_state());
    assert!(text("d2").contains("3e-12"), "{}", text("d2"));
    assert!(text("d3").contains("2e-12"), "{}", text("d3"));
    let sub = |card: &str| {
        format!("d\n{card}\n.subckt s a k\nD1 a k dm\n.ends s\nX1 a k s\nV1 a 0 1\n.end\n")
    };
    // The depletion capacitance is a capacitor across the junction; the
    // diffusion charge is refused by name, and so is an impossible m.
    let c = parse(&sub(".model dm d(is=1e-12 cjo=1p)"));
    let x1 = body(&c, "x1");
    assert!(x1.holds_state(), "cjo makes the junction voltage a state");
    let cj = x1.elements.iter().find(|e| e.name == "d1#cj").unwrap();
    assert!(matches!(cj.kind, ElementKind::ExprCapacitor { .. }));
    let e = err(&sub(".model dm d(is=1e-12 tt=1n)"));
    assert!(e.contains(":4:") && e.contains("sets tt"), "{e}");
    let e = err(&sub(".model dm d(is=1e-12 cjo=1p m=1.5)"));
    assert!(e.contains(":4:") && e.contains("0 < m < 1"), "{e}");
    // What changes the law and memnet does not model is refused, not
    // ignored: recombination current, a nominal temperature off 27 C.
    let e = err(&sub(".model dm d(is=1e-12 isr=1n)"));
    assert!(e.contains(":4:") && e.contains("sets isr"), "{e}");
    let e = err(&sub(".model dm d(is=1e-12 tnom=25)"));
    assert!(e.contains(":4:") && e.contains("tnom = 25"), "{e}");
    parse(&sub(".model dm d(is=1e-12 tnom=27 xti=3 eg=1.11)"));
    let e = err(&sub(".model dm d(is=1e-12 rs=-1)"));
    assert!(
        e.contains(":4:") && e.contains("rs = -1 must not be negative"),
        "{e}"
    );
    // A series resistance (divided by the area) in front of the junction,
    // on an internal node named as ngspice names it.
    let c = parse(&sub(".model dm d(is=1e-12 rs=10)"));
    let x1 = body(&c, "x1");
    let local = |e: &memnet_spice::BodyElement| -> Vec<&str> {
        e.nodes
            .iter()
            .map(|&k| x1.nodes[k as usize].as_str())
            .collect()
    };
    let rs = x1.elements.iter().find(|e| e.name == "d1#rs").unwrap();
    assert!(matches!(rs.kind, ElementKind::Resistor { resistance } if resistance == 10.0));
    assert_eq!(local(rs), ["a", "d1#internal"]);
    let j = x1.elements.iter().find(|e| e.name == "d1").unwrap();
    assert_eq!(local(j), ["d1#internal", "k"]);
    let e = err(&sub("* no model"));
    assert!(e.contains(":4:") && e.contains("no model 'dm'"), "{e}");
}

fn pwl_of(c: &Circuit, name: &str) -> (Vec<(f64, f64)>, Option<f64>) {
    match &el(c, name).kind {
        ElementKind::VoltageSource(s) => match &s.waveform {
            Waveform::Pwl {
                points,
                repeat_from,
                ..
            } => (points.clone(), *repeat_from),
            w => panic!("{name}: {w:?}"),
        },
        k => panic!("{name} is a {}", k.name()),
    }
}

#[test]
fn pwl_file_sources_read_their_pairs_beside_the_netlist() {
    let c = load("pwl_file/pwl_file.cir");
    let (p1, _) = pwl_of(&c, "v1");
    assert_eq!(
        p1,
        vec![(0.0, 0.0), (1e-3, 1.5), (2.5e-3, -1.0), (3e-3, 0.0)]
    );
    let (p2, r2) = pwl_of(&c, "v2");
    assert_eq!(p2, vec![(0.0, 0.0), (1.0, 1.0), (2.0, 0.5)]);
    assert_eq!(r2, Some(0.0));
    // PSpice's scale factors multiply every time and every value.
    let (p3, _) = pwl_of(&c, "v3");
    assert_eq!(p3, vec![(0.0, 0.0), (1e-3, 2.0), (2e-3, 1.0)]);
}

#[test]
fn pwl_file_errors_name_the_file_line_and_column() {
    let e = import_file(&fixture("pwl_file/bad_row.cir"), &ImportOptions::default())
        .unwrap_err()
        .render();
    assert!(e.contains("bad_row.txt:2:1:"), "{e}");
    assert!(e.contains("found 3 fields"), "{e}");
    let e = err("t\nV1 a 0 PWL file=missing.txt\nR1 a 0 1\n.tran 1 2\n");
    assert!(
        e.contains("t.cir:2:17:") && e.contains("missing.txt' cannot be read"),
        "{e}"
    );
    let e = err("t\nV1 a 0 PWL(0 0 1 1) file=x.txt\nR1 a 0 1\n");
    assert!(e.contains("both a FILE and 4 inline values"), "{e}");
    let e = err("t\nV1 a 0 PWL file=\nR1 a 0 1\n");
    assert!(e.contains("PWL FILE needs a file name"), "{e}");
}

#[test]
fn pwl_file_text_format() {
    use memnet_spice::parse_pwl_file;
    assert_eq!(
        parse_pwl_file("; c\n0 1\n1u;2\n 2u , 3k \n").unwrap(),
        vec![(0.0, 1.0), (1e-6, 2.0), (2e-6, 3e3)]
    );
    assert_eq!(parse_pwl_file("0 1\n2 x\n").unwrap_err().0, 2);
    let (line, col, msg) = parse_pwl_file("1 1\n  0 2\n").unwrap_err();
    assert_eq!((line, col), (2, 3), "{msg}");
    assert!(parse_pwl_file("* nothing\n").is_err());
}

/// HSPICE's global ground `gnd!` (with or without `.global gnd!`) is node
/// 0, at the top level, in subcircuits and in `v()` reads, whose node names
/// may hold characters an identifier may not.
#[test]
fn hspice_gnd_bang_is_ground() {
    let c = parse(
        "t\n.global gnd!\n.subckt s p n\nR1 p gnd! {1k}\nB1 n gnd! V={v(p,gnd!)*2}\n.ends\nV1 a gnd! 1\nX1 a b s\nR2 b 0 1k\n.end\n",
    );
    assert_eq!(el(&c, "v1").nodes, ["a", "0"]);
    // The subcircuit is a static device; gnd! inside it is its ground.
    let ElementKind::Memristor(m) = &el(&c, "x1").kind else {
        panic!("{:?}", el(&c, "x1").kind);
    };
    let memnet_spice::MemristorDialect::Body { body, .. } = &m.dialect else {
        panic!("{:?}", m.dialect);
    };
    let r1 = body.elements.iter().find(|e| e.name == "r1").unwrap();
    assert_eq!(r1.nodes[1], 0);
    let b1 = body.elements.iter().find(|e| e.name == "b1").unwrap();
    assert_eq!(b1.nodes[1], 0);
    let ElementKind::ExprSource { value, .. } = &b1.kind else {
        panic!("{:?}", b1.kind);
    };
    assert!(value.to_string().contains("v(p,0)"), "{value}");
    assert!(memnet_spice::expr::parse_expr("v(n#1) + i(x1.vam)").is_ok());
}

/// A diode outside every memristor body (at the top level, or beside a
/// memristor in a cell subcircuit) and a two-pin subcircuit without state
/// whose current is behavioural become static devices: bodies with no
/// state. Diodes of one model share one body; a shorted diode is an error.
#[test]
fn diodes_and_stateless_selectors_outside_bodies_are_static_devices() {
    let c = parse(
        "t\n.model dm d(is=1e-12 n=1.5 rs=10)\n.model dn d(is=1e-14)\n\
         .subckt sel p n\nBs p n I={1n*(exp(v(p,n)/0.05)-1)}\n.ends\n\
         .subckt cell a b\nDc a m dm\nXq m b mem\n.ends\n\
         .subckt mem p n\nGx 0 x value={v(p,n)}\nCx x 0 1\nRm p n {1k}\n.ends\n\
         V1 in 0 1\nD1 in a dm\nD2 in b dm\nD3 in 0 dn\nXs in c sel\nXc in e cell\n\
         R1 a 0 1k\nR2 b 0 1k\nR3 c 0 1k\nR4 e 0 1k\n.end\n",
    );
    let body = |name: &str| match &el(&c, name).kind {
        ElementKind::Memristor(m) => match &m.dialect {
            memnet_spice::MemristorDialect::Body { body, .. } => body.clone(),
            d => panic!("{name}: {d:?}"),
        },
        k => panic!("{name} is a {}", k.name()),
    };
    let (d1, d2, d3) = (body("d1"), body("d2"), body("d3"));
    assert!(!d1.holds_state() && !d3.holds_state());
    assert!(std::sync::Arc::ptr_eq(&d1, &d2), "one model, one body");
    assert!(!std::sync::Arc::ptr_eq(&d1, &d3));
    // rs puts the junction behind the internal node, as ngspice names it.
    assert_eq!(d1.nodes, ["0", "a", "k", "internal"]);
    assert_eq!(d3.pins, [1, 0], "the cathode on ground");
    assert_eq!(el(&c, "d1").nodes, ["in", "a"]);
    assert!(!c.elements.iter().any(|e| e.name.contains("#rs")));
    assert!(!body("xs").holds_state());
    // In the cell: the diode is a static device, the memristor a body.
    assert!(!body("xc.dc").holds_state());
    assert!(body("xc.xq").holds_state());
    assert_eq!(el(&c, "xc.dc").nodes, ["in", "xc.m"]);
    let e = err("t\n.model dm d(is=1e-12)\nV1 a 0 1\nD1 a a dm\nR1 a 0 1\n.end\n");
    assert!(e.contains("d1") && e.contains("shorted"), "{e}");
}

/// A body whose E source sets its node from a test of that node's own
/// voltage (García-Redondo's `Estate s 0 value={IF(V(s)==voff, ...)}`
/// form) is a latch: a warning at the element, naming the node. A smooth
/// self-reference and a test of another node are not.
#[test]
fn a_latch_in_a_body_is_a_warning() {
    let deck = |es: &str| {
        format!(
            "latch\n.subckt m p n\nEp pp 0 value={{sdt(V(p,n)*V(p,n),0)}}\n{es}\n\
             Rm p n R={{1k + 9k*(1-V(s))}}\n.ends m\nV1 a 0 1\nX1 a 0 m\n.end\n"
        )
    };
    let latches = |es: &str| -> Vec<(u32, String)> {
        parse(&deck(es))
            .warnings
            .iter()
            .filter(|w| w.kind == "latch")
            .map(|w| (w.loc.line, w.message.clone()))
            .collect()
    };
    let w = latches("Es s 0 value={IF(V(s)==0, IF(V(pp)>0.1, 1, 0), 1)}");
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].0, 4);
    assert!(
        w[0].1.contains("es") && w[0].1.contains("`s`"),
        "{}",
        w[0].1
    );
    assert!(latches("Es s 0 value={0.5*V(s) + 0.5*V(pp)}").is_empty());
    assert!(latches("Es s 0 value={V(pp) > 0.1 ? 1 : 0}").is_empty());
}

/// memnet's own device without a `.subckt` (the form of generated
/// netlists): the law from the instance, a later value of a key winning,
/// defaults for the rest; keys that are not the law's kept and warned,
/// in name order.
#[test]
fn canonical_memristor_takes_its_law_from_the_instance() {
    let c = import_str(
        "t\nx1 a 0 memristor ron=10 w0=0.2 zeta=3 ron=20 alpha=0.5 eta=1\nv1 a 0 1\n.end\n",
        "t.cir",
        &ImportOptions::default(),
    )
    .expect("imports");
    let x = el(&c, "x1");
    let l = law(x);
    assert_eq!((l.ron, l.w0, l.alpha), (20.0, 0.2, 0.5));
    assert_eq!((l.roff, l.beta), (DEFAULT_ROFF, DEFAULT_BETA));
    let ElementKind::Memristor(m) = &x.kind else {
        panic!("not a memristor");
    };
    let kept: Vec<(&str, f64)> = m.params.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(kept, [("eta", 1.0), ("zeta", 3.0)]);
    let warned: Vec<&str> = c
        .warnings
        .iter()
        .filter(|w| w.kind == "unknown memristor parameter")
        .map(|w| w.message.as_str())
        .collect();
    assert_eq!(
        warned,
        [
            "memristor x1: unknown parameter 'eta' kept but unused",
            "memristor x1: unknown parameter 'zeta' kept but unused"
        ]
    );
}
