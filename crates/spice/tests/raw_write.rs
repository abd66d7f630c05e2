//! The raw writers: hermetic round trips through our reader, and (when
//! `ngspice` is on PATH) loading our files with real ngspice.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use memnet_spice::raw::{Columns, Plot, RawFile, RawWriter, ReadOptions, Variable};

/// Values that stress the number formatting: subnormal, huge, negative zero,
/// non-terminating binary fractions.
fn sample(p: usize, v: usize) -> f64 {
    match (p + v) % 5 {
        0 => (p as f64) * 0.1 + 1.0 / 3.0,
        1 => -(v as f64) * 1e-300 / 7.0,
        2 => 5e-324 * (p + 1) as f64,
        3 => 1.7976931348623157e308 / (v + 1) as f64,
        _ => -0.0,
    }
}

fn write_with_writer(binary: bool, points: usize) -> Vec<u8> {
    let names = ["time", "v(xm1.w)", "v(x1.xm2.w)", "i(v1)"];
    let mut w = RawWriter::create(
        Cursor::new(Vec::new()),
        "round trip",
        "Transient Analysis",
        &names,
        binary,
    )
    .unwrap();
    for p in 0..points {
        let row: Vec<f64> = (0..names.len())
            .map(|v| {
                if v == 0 {
                    p as f64 * 0.25
                } else {
                    sample(p, v)
                }
            })
            .collect();
        w.write_point(&row).unwrap();
    }
    assert_eq!(w.points(), points as u64);
    w.finish().unwrap().into_inner()
}

#[test]
fn streaming_writer_round_trips_exactly() {
    for binary in [true, false] {
        let bytes = write_with_writer(binary, 7);
        let f = RawFile::parse(&bytes).unwrap_or_else(|e| panic!("binary={binary}: {e}"));
        let p = &f.plots[0];
        assert_eq!(p.title, "round trip");
        assert_eq!(p.n_points(), 7);
        assert_eq!(p.declared_points, 7);
        assert_eq!(p.variables[0].kind, "time");
        assert_eq!(p.variables[1].kind, "voltage");
        assert_eq!(p.variables[3].kind, "current");
        for (v, var) in p.variables.iter().enumerate().skip(1) {
            let col = p.real(&var.name).unwrap();
            for (i, &x) in col.iter().enumerate() {
                // Bit-exact, including the sign of zero.
                assert_eq!(
                    x.to_bits(),
                    sample(i, v).to_bits(),
                    "binary={binary} {} point {i}",
                    var.name
                );
            }
        }
    }
}

#[test]
fn point_count_is_padded_and_rewritten() {
    let bytes = write_with_writer(false, 3);
    let text = String::from_utf8(bytes).unwrap();
    let line = text.lines().find(|l| l.starts_with("No. Points:")).unwrap();
    assert_eq!(line, format!("No. Points: {:<20}", 3));
}

#[test]
fn zero_points_and_wrong_width() {
    let f = RawFile::parse(&write_with_writer(true, 0)).unwrap();
    assert_eq!(f.plots[0].n_points(), 0);
    let mut w =
        RawWriter::create(Cursor::new(Vec::new()), "t", "p", &["time", "v(a)"], true).unwrap();
    assert!(w.write_point(&[1.0]).is_err());
    assert!(RawWriter::create(Cursor::new(Vec::new()), "t", "p", &[], true).is_err());
}

/// A run killed in the middle of a point: the count only covers whole points.
#[test]
fn interrupted_write_is_readable() {
    for binary in [true, false] {
        let mut bytes = write_with_writer(binary, 5);
        bytes.extend_from_slice(if binary {
            &[0x11u8; 13][..]
        } else {
            b" 5\t1.25e0\n\t3.3"
        });
        let f = RawFile::parse_with(
            &bytes,
            ReadOptions {
                allow_truncated: true,
            },
        )
        .unwrap();
        assert_eq!(f.plots[0].n_points(), 5, "binary={binary}");
        assert!(RawFile::parse(&bytes).is_err());
    }
}

/// Multi-plot, complex: `Plot::write` and the reader are inverse.
#[test]
fn whole_file_round_trip_real_and_complex() {
    let mut real = Plot::new_real(
        "t",
        "Transient Analysis",
        vec![Variable::named("time"), Variable::named("v(a)")],
    );
    real.columns = Columns::Real(vec![vec![0.0, 0.5, 1.0], vec![1.0 / 3.0, -2e-17, 6.02e23]]);
    let mut ac = Plot::new_real(
        "t",
        "AC Analysis",
        vec![Variable::named("frequency"), Variable::named("v(out)")],
    );
    ac.variables[0].extra = vec!["grid=3".into()];
    ac.columns = Columns::Complex(vec![
        vec![[1.0, 0.0], [10.0, 0.0]],
        vec![[0.1, -0.2], [1.0 / 7.0, -1e-300]],
    ]);
    ac.flags = vec!["complex".into()];
    let file = RawFile {
        plots: vec![real, ac],
    };
    for binary in [true, false] {
        let mut out = Vec::new();
        file.write(&mut out, binary).unwrap();
        let back = RawFile::parse(&out).unwrap_or_else(|e| panic!("binary={binary}: {e}"));
        let mut want = file.clone();
        for p in &mut want.plots {
            p.declared_points = p.n_points();
        }
        assert_eq!(back, want, "binary={binary}");
    }
}

fn ngspice_available() -> bool {
    Command::new("ngspice")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("raw_write");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// ngspice `load`s what RawWriter wrote (finished, or abandoned between
/// points), then writes it back as ASCII
/// (16 significant digits), which our reader compares to 1e-15 relative.
#[test]
fn ngspice_loads_streamed_files() {
    if !ngspice_available() {
        eprintln!("note: ngspice not on PATH, skipping ngspice_loads_streamed_files");
        return;
    }
    for binary in [true, false] {
        for interrupted in [false, true] {
            let tag = format!(
                "{}{}",
                if binary { "bin" } else { "ascii" },
                if interrupted { "_cut" } else { "" }
            );
            let raw = scratch(&format!("streamed_{tag}.raw"));
            let back = scratch(&format!("back_{tag}.raw"));
            let deck = scratch(&format!("load_{tag}.cir"));
            let names = ["time", "v(xm1.w)", "v(xm2.w)"];
            let mut w =
                RawWriter::create_file(&raw, "streamed", "Transient Analysis", &names, binary)
                    .unwrap();
            let value = |p: usize, v: usize| {
                if v == 0 {
                    p as f64 * 0.01
                } else {
                    (p as f64 * 0.37 + v as f64).sin() / 3.0
                }
            };
            for p in 0..50 {
                w.write_point(&[value(p, 0), value(p, 1), value(p, 2)])
                    .unwrap();
            }
            if interrupted {
                // Stopped between points without `finish` (no destructor
                // either): what is on disk must already be complete.
                std::mem::forget(w);
            } else {
                drop(w.finish().unwrap());
            }
            std::fs::write(
                &deck,
                format!(
                    "load test\n.control\nload {}\nset filetype=ascii\nwrite {} v(xm1.w) v(xm2.w)\nquit\n.endc\n.end\n",
                    raw.display(),
                    back.display()
                ),
            )
            .unwrap();
            let out = Command::new("ngspice")
                .arg("-b")
                .arg(&deck)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{tag}: ngspice failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let f = RawFile::read(&back, ReadOptions::default()).unwrap();
            let p = &f.plots[0];
            assert_eq!(p.n_points(), 50, "{tag}");
            for (v, name) in names.iter().enumerate() {
                let col = p
                    .real(name)
                    .unwrap_or_else(|| panic!("{tag}: {name} missing in {:?}", p.variables));
                for (i, &x) in col.iter().enumerate() {
                    let want = value(i, v);
                    assert!(
                        (x - want).abs() <= 1e-15 * want.abs().max(1e-300),
                        "{tag} {name}[{i}] = {x}, want {want}"
                    );
                }
            }
        }
    }
}
