//! Robustness: thousands of deterministic mutations of every fixture
//! (truncations, byte flips, duplicated/deleted/swapped lines, inserted
//! special and non-ASCII characters) go through decode + import; none may
//! panic. (A stack overflow would abort the whole test binary, so this also
//! checks the depth limits.) The stable-Rust stand-in for the cargo-fuzz
//! target in fuzz/.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use memnet_spice::{DataTable, ImportOptions, UserMemristor, decode::decode, import_str};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const SPECIAL: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "'",
    "\"",
    "=",
    "+",
    "\n+",
    "*",
    ";",
    "$ ",
    "//",
    "\n",
    "\r\n",
    ",",
    "µ",
    "€",
    "\u{0}",
    "𝄞",
    "\u{feff}",
    ".subckt x a b\n",
    ".ends\n",
    ".param p={p}\n",
    "PARAMS:",
    "1e999",
    "-",
    "?",
    ":",
    "**",
    "^",
    ".include x.inc\n",
    ".lib l s\n",
    ".endl\n",
    ".control\n",
    ".endc\n",
    "X1 a b memristor\n",
    "meg",
    "x",
    "0",
    "gnd",
    "\t",
    "!",
    "&&",
    "||",
];

fn mutate(rng: &mut Rng, src: &[u8]) -> Vec<u8> {
    let mut b = src.to_vec();
    for _ in 0..1 + rng.below(3) {
        match rng.below(7) {
            0 => {
                let n = rng.below(b.len() + 1);
                b.truncate(n);
            }
            1 => {
                if !b.is_empty() {
                    let i = rng.below(b.len());
                    b[i] = (rng.next() & 0xff) as u8;
                }
            }
            2 | 3 => {
                let s = SPECIAL[rng.below(SPECIAL.len())].as_bytes();
                let i = rng.below(b.len() + 1);
                b.splice(i..i, s.iter().copied());
            }
            4 | 5 => {
                let mut lines: Vec<Vec<u8>> =
                    b.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
                let i = rng.below(lines.len());
                let j = rng.below(lines.len());
                match rng.below(3) {
                    0 => {
                        let l = lines[i].clone();
                        lines.insert(j, l);
                    }
                    1 => {
                        lines.remove(i);
                    }
                    _ => lines.swap(i, j),
                }
                b = lines.join(&b'\n');
            }
            _ => {
                if !b.is_empty() {
                    let i = rng.below(b.len());
                    let n = rng.below(8).min(b.len() - i);
                    b.drain(i..i + n);
                }
            }
        }
    }
    b
}

#[test]
fn mutated_fixtures_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/spice");
    let mut sources = Vec::new();
    for sub in [dir.clone(), dir.join("bad"), dir.join("inc")] {
        let Ok(rd) = std::fs::read_dir(&sub) else {
            continue;
        };
        for e in rd.filter_map(Result::ok) {
            let p = e.path();
            if p.is_file()
                && let Ok(b) = std::fs::read(&p)
            {
                sources.push(b);
            }
        }
    }
    sources.sort();
    assert!(sources.len() >= 40, "found {} fixture files", sources.len());
    let opts = ImportOptions {
        memristor_subckts: vec![UserMemristor {
            subckt: "mymem".into(),
            param_map: vec![("ron".into(), "rmin".into())],
        }],
        ..Default::default()
    };
    let default_opts = ImportOptions::default();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let per_file = 400;
    let mut ok = 0usize;
    let mut errors = 0usize;
    for src in &sources {
        for _ in 0..per_file {
            let m = mutate(&mut rng, src);
            // `--memristor-subckt mymem` only where the deck defines it
            // (elsewhere the option is an error and elaboration stops there).
            let opts = if src.windows(5).any(|w| w.eq_ignore_ascii_case(b"mymem")) {
                &opts
            } else {
                &default_opts
            };
            let r = catch_unwind(AssertUnwindSafe(|| {
                let (text, _) = decode(m.clone());
                let r = import_str(&text, "fuzz.cir", opts);
                if let Err(d) = &r {
                    // Rendering must not panic either (caret math on odd text).
                    let _ = d.render();
                }
                r.is_ok()
            }));
            match r {
                Ok(true) => ok += 1,
                Ok(false) => errors += 1,
                Err(_) => panic!("import panicked on input:\n{}", String::from_utf8_lossy(&m)),
            }
        }
    }
    let total = sources.len() * per_file;
    assert_eq!(ok + errors, total);
    // Sanity: mutations must exercise both outcomes.
    assert!(
        ok > total / 20 && errors > total / 20,
        "ok {ok}, errors {errors}"
    );
}

/// Table files (Xyce PEM's `fxpdata=`), mutated: a table or a located
/// error, never a panic; every accepted table is strictly increasing in x.
#[test]
fn mutated_tables_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/xyce");
    let mut sources = Vec::new();
    for name in ["fxp_table.csv", "fxm_table.csv"] {
        sources.push(std::fs::read(dir.join(name)).expect("table fixture"));
    }
    sources.push(b"# x f\n0 1\n0.5 0.25\n1 0\n".to_vec());
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let (mut ok, mut errors) = (0usize, 0usize);
    for src in &sources {
        for _ in 0..300 {
            let m = mutate(&mut rng, src);
            let (text, _) = decode(m.clone());
            let r = catch_unwind(AssertUnwindSafe(|| DataTable::parse("t.csv", &text)));
            match r {
                Ok(Ok(t)) => {
                    assert!(t.points.windows(2).all(|w| w[0].0 < w[1].0));
                    ok += 1;
                }
                Ok(Err((line, col, _))) => {
                    assert!(line >= 1 && col >= 1);
                    errors += 1;
                }
                Err(_) => panic!("table parse panicked on:\n{}", String::from_utf8_lossy(&m)),
            }
        }
    }
    assert!(ok > 0 && errors > 0, "ok {ok}, errors {errors}");
}

#[test]
fn a_deferred_card_costs_24_bytes_until_elaborated() {
    // The statement list of a ten-million-card netlist is held with its
    // text until elaboration; 32 bytes a card put the import over 3x.
    assert_eq!(std::mem::size_of::<memnet_spice::deck::Stmt>(), 24);
    // A card on a line too long for the short offsets is parsed at once
    // and imports as any other.
    let long = format!(
        "t\nr1 a 0 1 {}\nv1 a 0 1\n.end\n",
        " ".repeat(70_000) + "$ note"
    );
    let c = memnet_spice::import_str(&long, "t.cir", &Default::default()).unwrap();
    assert_eq!(c.elements.len(), 2);
    assert!(
        matches!(c.elements[0].kind, memnet_spice::ElementKind::Resistor { resistance } if resistance == 1.0)
    );
}
