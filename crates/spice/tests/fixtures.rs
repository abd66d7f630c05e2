//! Snapshot every fixture netlist: the elaborated circuit of each file in
//! fixtures/spice/ and the rendered diagnostic of each file in
//! fixtures/spice/bad/. Paths in snapshots are relative to fixtures/spice
//! so they do not depend on the checkout location.

use std::path::{Path, PathBuf};

use memnet_spice::{ImportOptions, UserMemristor, dump_circuit, import_file};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/spice")
}

fn netlists(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "cir"));
    v.sort();
    v
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn good_fixtures_elaborate_and_match_snapshots() {
    let files = netlists(&fixture_dir());
    assert!(files.len() >= 25, "only {} fixtures", files.len());
    for f in &files {
        let c = import_file(f, &ImportOptions::default())
            .unwrap_or_else(|d| panic!("{}: {}", f.display(), d.render()));
        insta::assert_snapshot!(format!("good_{}", stem(f)), dump_circuit(&c));
    }
}

#[test]
fn user_memristor_options_turn_subcircuits_into_devices() {
    let dir = fixture_dir();
    let opts = ImportOptions {
        memristor_subckts: vec![UserMemristor {
            subckt: "MyMem".into(),
            param_map: UserMemristor::parse_param_map("ron=RMIN, roff=rmax, w0=xinit")
                .unwrap_or_default(),
        }],
        ..Default::default()
    };
    let c = import_file(&dir.join("user_memristor.cir"), &opts).map_err(|d| d.render());
    let c = c.unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!("user_mymem", dump_circuit(&c));

    let biolek = ImportOptions {
        memristor_subckts: vec![UserMemristor {
            subckt: "memristor_biolek".into(),
            param_map: UserMemristor::parse_param_map("ron=ron,roff=roff").unwrap_or_default(),
        }],
        ..Default::default()
    };
    let c = import_file(&dir.join("ltspice_biolek.cir"), &biolek).map_err(|d| d.render());
    let c = c.unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!("user_biolek", dump_circuit(&c));
}

/// A `--memristor-subckt` name the netlist does not define, or a `--param`
/// mapping to a parameter the definition does not declare, is an error
/// naming what exists: a typo must not fall back to defaults silently.
#[test]
fn user_memristor_options_reject_names_that_do_not_exist() {
    let file = fixture_dir().join("user_memristor.cir");
    let with = |subckt: &str, map: &str| ImportOptions {
        memristor_subckts: vec![UserMemristor {
            subckt: subckt.into(),
            param_map: UserMemristor::parse_param_map(map).unwrap_or_default(),
        }],
        ..Default::default()
    };
    let e = import_file(&file, &with("mymen", ""))
        .map(|_| ())
        .unwrap_err();
    assert!(
        e.message
            .contains("defines no subcircuit 'mymen' (it defines: mymem)"),
        "{}",
        e.message
    );
    let e = import_file(&file, &with("mymem", "ron=rmn"))
        .map(|_| ())
        .unwrap_err();
    assert!(
        e.message.contains(
            "user_memristor.cir:2:1) declares no parameter 'rmn' (it declares: rmin, rmax, \
             xinit, k)"
        ),
        "{}",
        e.message
    );
    // memnet's own name needs no definition.
    import_file(&file, &with("memristor", ""))
        .map_err(|d| d.render())
        .unwrap();
}

#[test]
fn bad_fixtures_fail_with_located_diagnostics() {
    let dir = fixture_dir().join("bad");
    let files = netlists(&dir);
    assert!(files.len() >= 15, "only {} bad fixtures", files.len());
    let prefix = format!("{}/", fixture_dir().display());
    for f in &files {
        let d = match import_file(f, &ImportOptions::default()) {
            Ok(_) => panic!("{} imported without error", f.display()),
            Err(d) => d,
        };
        // Every diagnostic names a real place: a line number and the text.
        assert!(d.loc.line >= 1, "{}: no line in {d:?}", f.display());
        assert!(
            d.line_text.is_some(),
            "{}: no source line in {d:?}",
            f.display()
        );
        let text = d.render().replace(&prefix, "");
        insta::assert_snapshot!(format!("bad_{}", stem(f)), text);
    }
}
