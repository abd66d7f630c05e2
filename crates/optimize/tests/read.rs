//! Instance readers on the shipped files and on malformed input, and the
//! exact conversions (apps.md A.1, A.8).

use std::path::PathBuf;

use memnet_optimize::{Format, Kind, Qubo, read_file, read_str};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/qubo")
        .join(name)
}

/// Reads an OR-Library instance straight from the token stream (a second,
/// independent reading): n and the (i, j, q) entries.
fn raw_bqp(text: &str, instance: usize) -> (usize, Vec<(usize, usize, f64)>) {
    let mut t = text
        .split_ascii_whitespace()
        .map(|s| s.parse::<f64>().unwrap());
    let k = t.next().unwrap() as usize;
    for idx in 1..=k {
        let n = t.next().unwrap() as usize;
        let m = t.next().unwrap() as usize;
        let entries: Vec<(usize, usize, f64)> = (0..m)
            .map(|_| {
                let i = t.next().unwrap() as usize;
                let j = t.next().unwrap() as usize;
                (i - 1, j - 1, t.next().unwrap())
            })
            .collect();
        if idx == instance {
            return (n, entries);
        }
    }
    unreachable!()
}

/// f(x) = sum q_ii x_i + 2 sum_{i<j} q_ij x_i x_j, from the raw entries.
fn bqp_value(entries: &[(usize, usize, f64)], x: &[bool]) -> f64 {
    entries
        .iter()
        .filter(|&&(i, j, _)| x[i] && x[j])
        .map(|&(i, j, q)| if i == j { q } else { 2.0 * q })
        .sum()
}

#[test]
fn bqp_instances_read_with_the_library_convention() {
    for (file, n, count) in [
        ("bqp50.txt", 50, 10),
        ("bqp100.txt", 100, 10),
        ("bqp250.txt", 250, 10),
    ] {
        let text = std::fs::read_to_string(fixture(file)).unwrap();
        for instance in [1, 7, count] {
            let inst = read_file(&fixture(file), None, Some(instance)).unwrap();
            assert_eq!(inst.format, Format::Bqp);
            assert_eq!((inst.instance, inst.instances), (Some(instance), count));
            let q = &inst.qubo;
            assert_eq!(q.n(), n);
            assert_eq!(q.kind, Kind::Bqp);
            assert!(q.maximize);
            let (_, entries) = raw_bqp(&text, instance);
            let off = entries.iter().filter(|e| e.0 != e.1).count();
            assert_eq!(q.n_pairs(), off, "{file} #{instance}");
            // Energies of known assignments: all ones, all zeros, seeded.
            let mut rng = ChaCha8Rng::seed_from_u64(instance as u64);
            let mut xs = vec![vec![true; n], vec![false; n]];
            xs.extend((0..5).map(|_| (0..n).map(|_| rng.random::<bool>()).collect()));
            for x in xs {
                let e = q.energy(&x);
                assert_eq!(
                    q.file_value(e),
                    bqp_value(&entries, &x),
                    "{file} #{instance}"
                );
            }
        }
    }
}

#[test]
fn a_bqp_file_with_several_instances_needs_one_chosen() {
    let err = read_file(&fixture("bqp50.txt"), None, None).unwrap_err();
    assert!(
        err.to_string()
            .contains("bqp50.txt:1:2: error: the file holds 10 instances"),
        "{err}"
    );
    let err = read_file(&fixture("bqp50.txt"), None, Some(11)).unwrap_err();
    assert!(err.to_string().contains("instances 1 to 10"), "{err}");
}

#[test]
fn gset_files_read_as_max_cut() {
    for file in ["g1.rud", "g6.rud"] {
        let text = std::fs::read_to_string(fixture(file)).unwrap();
        assert!(text.contains("\r\n"), "the copy keeps its CRLF line ends");
        let inst = read_file(&fixture(file), None, None).unwrap();
        assert_eq!(inst.format, Format::Rudy);
        let q = &inst.qubo;
        assert_eq!((q.n(), q.n_pairs(), q.kind), (800, 19176, Kind::MaxCut));
        let mut t = text
            .split_ascii_whitespace()
            .map(|s| s.parse::<f64>().unwrap());
        let (_, m) = (t.next(), t.next().unwrap() as usize);
        let edges: Vec<(usize, usize, f64)> = (0..m)
            .map(|_| {
                let i = t.next().unwrap() as usize - 1;
                let j = t.next().unwrap() as usize - 1;
                (i, j, t.next().unwrap())
            })
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..5 {
            let x: Vec<bool> = (0..800).map(|_| rng.random::<bool>()).collect();
            let cut: f64 = edges.iter().filter(|e| x[e.0] != x[e.1]).map(|e| e.2).sum();
            assert_eq!(-q.energy(&x), cut, "{file}");
        }
        assert_eq!(q.energy(&vec![false; 800]), 0.0);
    }
}

/// Ising and max-cut conversions against direct evaluation on every
/// configuration of small seeded instances.
#[test]
fn ising_and_max_cut_conversions_are_exact() {
    let n = 9;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let a: Vec<f64> = (0..n).map(|_| rng.random_range(-3.0..3.0)).collect();
    let mut k = Vec::new();
    let mut edges = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            if rng.random::<f64>() < 0.5 {
                k.push((i, j, rng.random_range(-2.0..2.0)));
            }
            if rng.random::<f64>() < 0.4 {
                edges.push((i, j, rng.random_range(-2i32..=3) as f64));
            }
        }
    }
    // A parallel edge: weights add.
    edges.push(edges[0]);
    let ising = Qubo::from_ising(&a, &k, 1.25, false).unwrap();
    let cut = Qubo::from_max_cut(n, &edges).unwrap();
    for bits in 0..1u32 << n {
        let x: Vec<bool> = (0..n).map(|i| bits >> i & 1 == 1).collect();
        let s: Vec<f64> = x.iter().map(|&b| if b { 1.0 } else { -1.0 }).collect();
        let e_ising = 1.25
            + (0..n).map(|i| a[i] * s[i]).sum::<f64>()
            + k.iter().map(|&(i, j, v)| v * s[i] * s[j]).sum::<f64>();
        assert!((ising.energy(&x) - e_ising).abs() <= 1e-12 * (1.0 + e_ising.abs()));
        let c: f64 = edges.iter().filter(|e| x[e.0] != x[e.1]).map(|e| e.2).sum();
        assert!((cut.energy(&x) + c).abs() <= 1e-12);
    }
}

const MEMNET_QUBO: &str = "# a small problem\nmemnet-qubo 1\nsense max\ndomain spin\nindex 0\nvariables 3\noffset 0.5\n0 2.0\n0 1 -1\n2 1 3 # pair (1, 2)\n2 2 4\n";

#[test]
fn memnet_format_carries_sense_domain_index_and_offset() {
    let inst = read_str(MEMNET_QUBO, "t.qubo", None, None).unwrap();
    assert_eq!(inst.format, Format::Memnet);
    let q = &inst.qubo;
    assert!(q.maximize);
    for bits in 0..8u32 {
        let x: Vec<bool> = (0..3).map(|i| bits >> i & 1 == 1).collect();
        let s: Vec<f64> = x.iter().map(|&b| if b { 1.0 } else { -1.0 }).collect();
        // F = 0.5 + 2 s0 - s0 s1 + 3 s1 s2 + 4 s2^2
        let f = 0.5 + 2.0 * s[0] - s[0] * s[1] + 3.0 * s[1] * s[2] + 4.0;
        assert_eq!(q.file_value(q.energy(&x)), f);
    }
    // binary, 1-based, minimised
    let text =
        "memnet-qubo 1\nsense min\ndomain binary\nindex 1\nvariables 2\noffset -1\n1 1 5\n1 2 -7\n";
    let q = read_str(text, "b.qubo", None, None).unwrap().qubo;
    assert_eq!(q.energy(&[true, true]), -3.0);
    assert_eq!(q.energy(&[true, false]), 4.0);
}

#[test]
fn malformed_files_are_located_errors() {
    let bqp = " 1\n 3 2\n 1 2 5\n 2 4 1\n";
    let cases: Vec<(&str, Option<Format>, &str)> = vec![
        (bqp, None, "x.txt:4:4: error: column 4 is out of range"),
        (
            " 1\n 3 2\n 1 2 5\n",
            None,
            "the file ends where row was expected",
        ),
        (
            " 1\n 3 2\n 1 2 5\n 2 1 4\n",
            None,
            "x.txt:4:2: error: entry (2, 1) = 4 but (1, 2) = 5 at line 3: Q must be symmetric",
        ),
        (
            " 1\n 2 1\n 1 2 5\n 7\n",
            None,
            "x.txt:4:2: error: unexpected `7`",
        ),
        (
            " 1\n 2 1\n 1 2 x\n",
            None,
            "x.txt:3:6: error: the entry: expected a number, got `x`",
        ),
        (
            "3 2\n1 2 1\n2 2 1\n",
            None,
            "x.txt:3:1: error: edge (2, 2) is a loop",
        ),
        (
            "3 3\n1 2 1\n2 3 1\n",
            None,
            "the file ends where node was expected",
        ),
        (
            "hello world\n",
            None,
            "x.txt:1:1: error: cannot tell the format",
        ),
        ("memnet-qubo 2\n", None, "x.txt:1:13: error: version `2`"),
        (
            "memnet-qubo 1\nsense min\n0 1\n",
            None,
            "x.txt:3:1: error: a term before the header is complete: missing domain, index, variables, offset",
        ),
        (
            "memnet-qubo 1\nsense min\ndomain binary\nindex 0\nvariables 2\noffset 0\n0 1 1\n1 0 2\n",
            None,
            "x.txt:8:1: error: pair (0, 1) is also at line 7",
        ),
        (
            "memnet-qubo 1\nsense min\ndomain binary\nindex 1\nvariables 2\noffset 0\n0 1 1\n",
            None,
            "x.txt:7:1: error: variable 0 is out of range",
        ),
        (
            "memnet-qubo 1\nsense up\n",
            None,
            "x.txt:2:7: error: sense: expected min or max, got `up`",
        ),
        (
            "{\"variable_ids\": [1], \"variable_domain\": \"spin\"}",
            None,
            "x.txt:1:",
        ),
        (
            "{\"variable_ids\": [1, 2], \"variable_domain\": \"spin\", \"scale\": 1, \"offset\": 0,\n \"linear_terms\": [], \"quadratic_terms\": [{\"id_tail\": 1, \"id_head\": 3, \"coeff\": 1}]}",
            None,
            "x.txt:2:23: error: quadratic_terms: id 3 is not in variable_ids",
        ),
    ];
    for (text, format, want) in cases {
        let err = read_str(text, "x.txt", format, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{text:?}\n  gave {err}\n  want {want}");
    }
}

#[test]
fn bqpjson_spin_problems_convert_by_the_ising_rule() {
    let text = r#"{"version": "1.0.0", "id": 0, "metadata": {}, "variable_ids": [4, 9, 2],
        "variable_domain": "spin", "scale": 2.0, "offset": 1.0,
        "linear_terms": [{"id": 4, "coeff": 0.5}, {"id": 2, "coeff": -1.0}],
        "quadratic_terms": [{"id_tail": 4, "id_head": 9, "coeff": 1.5}, {"id_tail": 2, "id_head": 9, "coeff": -0.25}]}"#;
    let q = read_str(text, "x.json", None, None).unwrap().qubo;
    for bits in 0..8u32 {
        let x: Vec<bool> = (0..3).map(|i| bits >> i & 1 == 1).collect();
        let s: Vec<f64> = x.iter().map(|&b| if b { 1.0 } else { -1.0 }).collect();
        let e = 2.0 * (0.5 * s[0] - s[2] + 1.5 * s[0] * s[1] - 0.25 * s[2] * s[1] + 1.0);
        assert!((q.energy(&x) - e).abs() < 1e-12);
    }
}
