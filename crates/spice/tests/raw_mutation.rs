//! Deterministic mutation testing of the raw reader: truncations, byte
//! flips, insertions and absurd header counts must give an error or a
//! consistent file, never a panic or a huge allocation.

use memnet_spice::raw::{Columns, RawFile, ReadOptions};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../../fixtures/raw/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const FIXTURES: [&str; 9] = [
    "ltspice_synthetic.raw",
    "rc_tran_bin.raw",
    "rc_tran_ascii.raw",
    "rc_ac_ascii.raw",
    "rc_ac_bin.raw",
    "multi_ascii.raw",
    "multi_bin.raw",
    "batch_bin.raw",
    "quirky_ascii.raw",
];

/// Parses in both modes and checks what a successful parse promises.
fn check(bytes: &[u8]) -> (bool, bool) {
    let strict = RawFile::parse(bytes);
    let lenient = RawFile::parse_with(
        bytes,
        ReadOptions {
            allow_truncated: true,
        },
    );
    for f in [&strict, &lenient].into_iter().flatten() {
        assert!(!f.plots.is_empty());
        for p in &f.plots {
            assert!(!p.variables.is_empty());
            let lens: Vec<usize> = match &p.columns {
                Columns::Real(c) => c.iter().map(Vec::len).collect(),
                Columns::Complex(c) => c.iter().map(Vec::len).collect(),
            };
            assert_eq!(lens.len(), p.variables.len());
            assert!(lens.iter().all(|&l| l == p.n_points()), "ragged columns");
        }
    }
    if let Ok(f) = &strict {
        // Strict success: nothing truncated, and lenient reads the same.
        assert!(f.plots.iter().all(|p| !p.is_truncated()));
        // (Debug text, so that NaN read from flipped bytes compares equal.)
        let same = lenient
            .as_ref()
            .is_ok_and(|l| format!("{l:?}") == format!("{f:?}"));
        assert!(same, "lenient parse differs from strict parse");
    }
    if let Err(e) = &strict {
        assert!(e.byte <= bytes.len());
        assert!(e.line >= 1 && !e.message.is_empty());
    }
    (strict.is_ok(), lenient.is_ok())
}

#[test]
fn every_truncation() {
    for name in FIXTURES {
        let bytes = fixture(name);
        assert_eq!(check(&bytes), (true, true), "{name} must parse");
        let mut strict_ok = 0;
        for len in 0..bytes.len() {
            if check(&bytes[..len]).0 {
                strict_ok += 1;
            }
        }
        // Only cuts in trailing blanks (or between whole plots / whole ASCII
        // points with no declared count) may still parse strictly.
        assert!(
            strict_ok < bytes.len() / 4,
            "{name}: {strict_ok} truncations parsed strictly"
        );
    }
}

/// xorshift64: deterministic and dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn byte_flips_insertions_deletions() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let specials = [
        b'\n', b'\r', b'\t', b':', b',', b' ', b'0', b'9', b'-', b'e', 0u8, 0xff,
    ];
    for name in FIXTURES {
        let bytes = fixture(name);
        // Every position once with a bit flip.
        for i in 0..bytes.len() {
            let mut m = bytes.clone();
            m[i] ^= 1 << (i % 8);
            check(&m);
        }
        // Random multi-byte mutations.
        for _ in 0..2000 {
            let mut m = bytes.clone();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(m.len());
                match rng.below(4) {
                    0 => m[i] = specials[rng.below(specials.len())],
                    1 => m.insert(i, specials[rng.below(specials.len())]),
                    2 => {
                        m.remove(i);
                    }
                    _ => m[i] = rng.next() as u8,
                }
                if m.is_empty() {
                    break;
                }
            }
            check(&m);
        }
    }
}

#[test]
fn absurd_header_counts_do_not_allocate() {
    let text = String::from_utf8(fixture("rc_tran_ascii.raw")).unwrap();
    let bin = fixture("rc_tran_bin.raw");
    for huge in [
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999",
        "4611686018427387904",
    ] {
        let t = text.replace("No. Points: 59", &format!("No. Points: {huge}"));
        assert!(!check(t.as_bytes()).0);
        let t = text.replace("No. Variables: 4", &format!("No. Variables: {huge}"));
        assert!(!check(t.as_bytes()).0);
        let b =
            String::from_utf8_lossy(&bin).replace("No. Points: 59", &format!("No. Points: {huge}"));
        let mut m = b.as_bytes()[..bin.len() - 2000].to_vec();
        m.truncate(m.iter().position(|&c| c == b'B').unwrap_or(0)); // header only
        let mut with_data = String::from_utf8_lossy(&bin)
            .replace("No. Points: 59", &format!("No. Points: {huge}"))
            .into_bytes();
        with_data.truncate(with_data.len().min(400));
        check(&m);
        check(&with_data);
    }
    // A count of zero variables.
    let t = text.replace("No. Variables: 4", "No. Variables: 0");
    assert!(!check(t.as_bytes()).0);
}
