//! Saved runs read back (`memnet plot RESULT`): what the CSV and NPY sinks
//! and the raw writer store comes back bit for bit with its names, a file
//! cut short reads its complete samples, and malformed files are located
//! errors.

use memnet_solver::readback::{parse_csv, parse_npy, parse_raw};
use memnet_solver::{CsvSink, NpySink, SampleSink};
use memnet_spice::raw::RawWriter;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn samples() -> (Vec<String>, Vec<(f64, Vec<f64>)>) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let names = vec!["xm1".to_string(), "v(n1)".into(), "i(v1)".into()];
    let rows = (0..25)
        .map(|i| {
            let t = i as f64 * 0.1;
            (
                t,
                (0..3).map(|_| rng.random_range(-1e3..1e3) * 1e-7).collect(),
            )
        })
        .collect();
    (names, rows)
}

#[test]
fn each_format_reads_back_what_was_written() {
    let (names, rows) = samples();
    let mut csv = CsvSink::new(Vec::new(), &names).unwrap();
    let mut npy = NpySink::new(std::io::Cursor::new(Vec::new()), names.len()).unwrap();
    let vars = ["time", "v(xm1.w)", "v(n1)", "i(v1)"];
    let mut raw = RawWriter::create(
        std::io::Cursor::new(Vec::new()),
        "t",
        "Transient Analysis",
        &vars,
        true,
    )
    .unwrap();
    for (t, w) in &rows {
        csv.sample(*t, w).unwrap();
        npy.sample(*t, w).unwrap();
        let mut p = vec![*t];
        p.extend_from_slice(w);
        raw.write_point(&p).unwrap();
    }
    let csv = csv.into_inner().unwrap();
    let npy = npy.into_inner().into_inner();
    let raw = raw.finish().unwrap().into_inner();
    let runs = [
        parse_csv(&csv, "r.csv").unwrap(),
        parse_npy(&npy, Some(names.clone()), "r.npy").unwrap(),
        parse_raw(&raw, "r.raw").unwrap(),
    ];
    for run in &runs {
        assert_eq!(run.names, names);
        assert_eq!(run.times.len(), rows.len());
        for (i, (t, w)) in rows.iter().enumerate() {
            assert_eq!(run.times[i], *t);
            assert_eq!(run.row(i), &w[..]);
        }
    }
    assert_eq!(runs[0].column(1).nth(3), Some(rows[3].1[1]));
    // Without its sidecar an NPY file's columns are numbered.
    let anonymous = parse_npy(&npy, None, "r.npy").unwrap();
    assert_eq!(anonymous.names, ["col1", "col2", "col3"]);
    // Cut mid-row (an interrupted write): the complete samples remain.
    let cut_csv = &csv[..csv.len() - 7];
    assert_eq!(
        parse_csv(cut_csv, "r.csv").unwrap().times.len(),
        rows.len() - 1
    );
    let cut_npy = &npy[..npy.len() - 12];
    assert_eq!(
        parse_npy(cut_npy, Some(names.clone()), "r.npy")
            .unwrap()
            .times
            .len(),
        rows.len() - 1
    );
}

#[test]
fn malformed_files_are_located_errors() {
    let err = parse_csv(b"time,a\n0,1\n1,x\n", "r.csv").unwrap_err();
    assert_eq!(err, "r.csv:3:3: error: `x` is not a number");
    let err = parse_csv(b"time,a,b\n0,1\n", "r.csv").unwrap_err();
    assert!(err.starts_with("r.csv:2:1: error: 2 fields"), "{err}");
    let err = parse_csv(b"t,a\n0,1\n", "r.csv").unwrap_err();
    assert!(err.contains("`time`"), "{err}");
    let err = parse_csv(b"time,\"a\n0,1\n", "r.csv").unwrap_err();
    assert_eq!(err, "r.csv:1:6: error: unterminated quoted field");
    assert!(
        parse_npy(b"not numpy at all", None, "r.npy")
            .unwrap_err()
            .contains("magic")
    );
    let mut sink = NpySink::new(std::io::Cursor::new(Vec::new()), 2).unwrap();
    sink.sample(0.0, &[1.0, 2.0]).unwrap();
    let bytes = sink.into_inner().into_inner();
    let err = parse_npy(&bytes, Some(vec!["a".into()]), "r.npy").unwrap_err();
    assert!(
        err.contains("sidecar names 1 outputs, the array has 2"),
        "{err}"
    );
    assert!(parse_raw(b"Title: x\nPlotname: y\n", "r.raw").is_err());
    // Quoted names survive.
    let run = parse_csv(b"time,\"a,b\",\"q\"\"\"\n0,1,2\n", "r.csv").unwrap();
    assert_eq!(run.names, ["a,b", "q\""]);
}

/// Every prefix of a written file, and seeded byte corruptions of it, read
/// as a rectangular run or an error: never a panic (the fuzz target does
/// the same with arbitrary bytes).
#[test]
fn cut_and_corrupted_files_never_panic() {
    let (names, rows) = samples();
    let mut csv = CsvSink::new(Vec::new(), &names).unwrap();
    let mut npy = NpySink::new(std::io::Cursor::new(Vec::new()), names.len()).unwrap();
    let vars = ["time", "xm1", "v(n1)", "i(v1)"];
    let mut raw_b =
        RawWriter::create(std::io::Cursor::new(Vec::new()), "t", "Tran", &vars, true).unwrap();
    let mut raw_a =
        RawWriter::create(std::io::Cursor::new(Vec::new()), "t", "Tran", &vars, false).unwrap();
    for (t, w) in rows.iter().take(6) {
        csv.sample(*t, w).unwrap();
        npy.sample(*t, w).unwrap();
        let mut p = vec![*t];
        p.extend_from_slice(w);
        raw_b.write_point(&p).unwrap();
        raw_a.write_point(&p).unwrap();
    }
    let files = [
        csv.into_inner().unwrap(),
        npy.into_inner().into_inner(),
        raw_b.finish().unwrap().into_inner(),
        raw_a.finish().unwrap().into_inner(),
    ];
    let check = |bytes: &[u8]| {
        for run in [
            parse_csv(bytes, "r.csv"),
            parse_npy(bytes, None, "r.npy"),
            parse_raw(bytes, "r.raw"),
        ]
        .into_iter()
        .flatten()
        {
            assert_eq!(run.values.len(), run.times.len() * run.names.len());
        }
    };
    assert_eq!(parse_csv(&files[0], "r.csv").unwrap().times.len(), 6);
    assert_eq!(parse_npy(&files[1], None, "r.npy").unwrap().times.len(), 6);
    assert_eq!(parse_raw(&files[2], "r.raw").unwrap().times.len(), 6);
    assert_eq!(parse_raw(&files[3], "r.raw").unwrap().times.len(), 6);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for f in &files {
        for n in 0..=f.len() {
            check(&f[..n]);
        }
        for _ in 0..300 {
            let mut g = f.clone();
            for _ in 0..rng.random_range(1..4) {
                let i = rng.random_range(0..g.len());
                g[i] = rng.random();
            }
            check(&g);
        }
    }
}
