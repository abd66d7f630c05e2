//! Sample sinks (CSV, NPY) round trip and survive an interrupted run; user
//! errors name the element and its file:line.

mod common;

use std::io::Cursor;
use std::sync::Arc;

use memnet_graph::{Device, Injection, Network, PotentialConstraint};
use memnet_solver::*;
use memnet_spice::{Loc, Source};

fn grid() -> Network {
    let mut net = common::random_grid(4, 5, 3.0, 2.0, 7);
    for e in &mut net.edges {
        if let Some(s) = &mut e.source {
            s.source = Source::dc(0.2 * s.source.dc);
        }
    }
    net
}

fn opts(t_end: f64, sample_dt: f64) -> SimOptions {
    SimOptions {
        t_end,
        method: Method::Rk4,
        dt: 1e-2,
        sample_dt: Some(sample_dt),
        ..Default::default()
    }
}

fn reference(net: &Network, o: &SimOptions) -> Vec<(f64, Vec<f64>)> {
    let mut v = Vec::new();
    simulate(net, o, &mut v, &mut |_| {}).unwrap();
    v
}

fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(|x| x.parse::<f64>().unwrap()).collect())
        .collect();
    (header, rows)
}

/// Minimal NPY v1 reader: returns (shape, data).
fn parse_npy(bytes: &[u8]) -> ((usize, usize), Vec<f64>) {
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert_eq!((10 + hlen) % 64, 0, "header alignment");
    let header = std::str::from_utf8(&bytes[10..10 + hlen]).unwrap();
    assert!(header.contains("'descr': '<f8'") && header.contains("'fortran_order': False"));
    assert!(header.ends_with('\n'));
    let shape = &header[header.find("'shape': (").unwrap() + 10..];
    let shape = &shape[..shape.find(')').unwrap()];
    let mut it = shape.split(',').map(|s| s.trim().parse::<usize>().unwrap());
    let (r, c) = (it.next().unwrap(), it.next().unwrap());
    let data: Vec<f64> = bytes[10 + hlen..]
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    ((r, c), data)
}

#[test]
fn csv_round_trips_exactly() {
    let net = grid();
    let o = opts(1.0, 0.3);
    let want = reference(&net, &o);
    let names = memristor_names(&net);
    let mut sink = CsvSink::new(Vec::new(), &names).unwrap();
    simulate(&net, &o, &mut sink, &mut |_| {}).unwrap();
    let text = String::from_utf8(sink.into_inner().unwrap()).unwrap();
    let (header, rows) = parse_csv(&text);
    assert_eq!(header[0], "time");
    assert_eq!(&header[1..], &names[..]);
    // Samples at 0, 0.3, 0.6, 0.9 and exactly t_end = 1.
    let times: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(times, vec![0.0, 0.3, 0.6, 3.0 * 0.3, 1.0]);
    assert_eq!(rows.len(), want.len());
    for (row, (t, w)) in rows.iter().zip(&want) {
        assert_eq!(row[0].to_bits(), t.to_bits());
        for (a, b) in row[1..].iter().zip(w) {
            assert_eq!(a.to_bits(), b.to_bits(), "round trip");
        }
    }
    for x in [1e-300, -2.5e-7, 123456.789, 1e20, 0.1 + 0.2, -0.0] {
        assert_eq!(
            output::format_f64(x).parse::<f64>().unwrap().to_bits(),
            x.to_bits()
        );
    }
}

#[test]
fn npy_round_trips_and_names_go_to_sidecar() {
    let net = grid();
    let o = opts(1.0, 0.25);
    let want = reference(&net, &o);
    let dir = std::env::temp_dir().join(format!("memnet-solver-npy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("w.npy");
    let names = memristor_names(&net);
    let mut sink = NpySink::create(&path, &names).unwrap();
    simulate(&net, &o, &mut sink, &mut |_| {}).unwrap();
    drop(sink);
    let ((r, c), data) = parse_npy(&std::fs::read(&path).unwrap());
    assert_eq!((r, c), (want.len(), names.len() + 1));
    assert_eq!(data.len(), r * c);
    for (i, (t, w)) in want.iter().enumerate() {
        assert_eq!(data[i * c], *t);
        assert_eq!(&data[i * c + 1..(i + 1) * c], &w[..]);
    }
    let side: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(output::npy_sidecar_path(&path)).unwrap())
            .unwrap();
    let cols: Vec<String> = side["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(cols[0], "time");
    assert_eq!(&cols[1..], &names[..]);
    std::fs::remove_dir_all(&dir).ok();
}

/// Forwards `keep` samples, then fails like a killed writer would.
struct Interrupt<S> {
    inner: S,
    keep: usize,
}

impl<S: SampleSink> SampleSink for Interrupt<S> {
    fn sample(&mut self, t: f64, w: &[f64]) -> std::io::Result<()> {
        if self.keep == 0 {
            return Err(std::io::Error::other("interrupted"));
        }
        self.keep -= 1;
        self.inner.sample(t, w)
    }
}

#[test]
fn interrupted_runs_leave_readable_files() {
    let net = grid();
    let o = opts(1.0, 0.1);
    let want = reference(&net, &o);
    let names = memristor_names(&net);

    let mut csv = Interrupt {
        inner: CsvSink::new(Vec::new(), &names).unwrap(),
        keep: 4,
    };
    let err = simulate(&net, &o, &mut csv, &mut |_| {}).unwrap_err();
    assert!(matches!(err, SolveError::Io(_)), "{err}");
    // Dropping the sink mid-run: what was written is complete rows.
    let text = String::from_utf8(csv.inner.into_inner().unwrap()).unwrap();
    let (_, rows) = parse_csv(&text);
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[3][1..], want[3].1[..]);

    let mut npy = Interrupt {
        inner: NpySink::new(Cursor::new(Vec::new()), names.len()).unwrap(),
        keep: 3,
    };
    assert!(simulate(&net, &o, &mut npy, &mut |_| {}).is_err());
    let bytes = npy.inner.into_inner().into_inner();
    let ((r, c), data) = parse_npy(&bytes);
    assert_eq!((r, c), (3, names.len() + 1));
    assert_eq!(data.len(), 3 * c);
    assert_eq!(data[2 * c], want[2].0);
}

#[test]
fn progress_reports_increasing_times_up_to_t_end() {
    let net = grid();
    let mut ts = Vec::new();
    simulate(&net, &opts(0.5, 0.1), &mut NullSink, &mut |t| ts.push(t)).unwrap();
    assert!(ts.windows(2).all(|p| p[1] > p[0]));
    assert_eq!(*ts.last().unwrap(), 0.5);
    assert_eq!(ts.len(), 50);
}

// ------------------------------------------------------------- errors

fn located(net: &mut Network) {
    let file: Arc<str> = Arc::from("deck.cir");
    for (k, e) in net.edges.iter_mut().enumerate() {
        e.loc = Some(Loc {
            file: file.clone(),
            line: 10 + k as u32,
            col: 1,
        });
    }
}

#[test]
fn invalid_devices_are_named_with_their_line() {
    type Edit = fn(&mut memnet_graph::MemristorParams);
    let cases: [(&str, Edit); 5] = [
        ("roff", |p| p.roff = -0.5), // xi <= -1
        ("beta", |p| p.beta = 0.0),
        ("ron", |p| p.ron = f64::NAN),
        ("w0", |p| p.w0 = 1.5),
        ("alpha", |p| p.alpha = f64::INFINITY),
    ];
    for (what, f) in cases {
        let mut net = grid();
        located(&mut net);
        if let Device::Memristor(p) = &mut net.edges[3].device {
            f(p);
        }
        let err = simulate(&net, &SimOptions::default(), &mut NullSink, &mut |_| {}).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, SolveError::InvalidDevice { .. }), "{msg}");
        assert!(
            msg.contains("deck.cir:13:1") && msg.contains("xm3") && msg.contains(what),
            "{msg}"
        );
    }
    let mut net = grid();
    located(&mut net);
    net.edges[5].device = Device::Resistor { resistance: 0.0 };
    let msg = simulate(&net, &SimOptions::default(), &mut NullSink, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("deck.cir:15:1") && msg.contains("resistance"),
        "{msg}"
    );
}

#[test]
fn bad_options_and_topologies_are_errors() {
    let net = grid();
    for o in [
        SimOptions {
            dt: 0.0,
            ..opts(1.0, 0.1)
        },
        SimOptions {
            dt: -1e-3,
            ..opts(1.0, 0.1)
        },
        SimOptions {
            t_end: f64::NAN,
            ..opts(1.0, 0.1)
        },
        SimOptions {
            sample_dt: Some(0.0),
            ..opts(1.0, 0.1)
        },
        SimOptions {
            method: Method::Dopri5,
            rtol: 0.0,
            atol: 0.0,
            ..opts(1.0, 0.1)
        },
    ] {
        let err = simulate(&net, &o, &mut NullSink, &mut |_| {}).unwrap_err();
        assert!(matches!(err, SolveError::InvalidOption(_)), "{o:?}: {err}");
    }
    // A loop of ideal voltage sources.
    let mut looped = grid();
    for (name, pos, neg) in [("va", 1, 2), ("vb", 2, 3), ("vc", 3, 1)] {
        looped.constraints.push(PotentialConstraint {
            name: name.into(),
            pos,
            neg,
            source: Source::dc(1.0),
            loc: Some(Loc::new("deck.cir", 40, 1)),
        });
    }
    let msg = simulate(&looped, &SimOptions::default(), &mut NullSink, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("vc") && msg.contains("deck.cir:40:1") && msg.contains("loop"),
        "{msg}"
    );
    // A current source into a part with no return path.
    let mut floating = grid();
    floating.node_names.push("island".into());
    floating.injections.push(Injection {
        name: "i9".into(),
        from: 1,
        to: 20,
        source: Source::dc(1e-3),
        loc: Some(Loc::new("deck.cir", 50, 1)),
    });
    let msg = simulate(
        &floating,
        &SimOptions::default(),
        &mut NullSink,
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(msg.contains("i9") && msg.contains("deck.cir:50:1"), "{msg}");
}

#[test]
fn state_outside_the_domain_is_an_error_not_a_panic() {
    // xi = -0.9 (roff < ron) and w pushed beyond 1 by hand: 1 + xi w <= 0.
    let mut net = grid();
    located(&mut net);
    for e in &mut net.edges {
        if let Device::Memristor(p) = &mut e.device {
            p.roff = 0.1 * p.ron;
        }
    }
    let mut rhs = MemoryRhs::new(&net, net.tran_times(1.0)).unwrap();
    let mut w = rhs.initial_state();
    w[2] = 1.2;
    let mut dw = vec![0.0; w.len()];
    let msg = rhs.eval(0.0, &w, &mut dw).unwrap_err().to_string();
    assert!(
        msg.contains("xm2") && msg.contains("deck.cir:12:1"),
        "{msg}"
    );
    let mut short = vec![0.0; 3];
    assert!(matches!(
        rhs.eval(0.0, &w[..3], &mut short),
        Err(SolveError::DimensionMismatch { .. })
    ));
}

/// A run that cannot meet its tolerance says where and why: the device
/// with the largest error estimate, its line, its state and rate, and the
/// likely cause with what to change. Asked directly at chosen states of a
/// TEAM device (`MemoryRhs::tolerance_not_met` is what `simulate` calls
/// when Dopri5's step underflows; the underflow itself is tested in ode.rs).
#[test]
fn a_tolerance_that_cannot_be_met_names_the_device_and_why() {
    let deck = "team across a source\n\
        .model m memristor law=team ron=100 roff=16k xon=0 xoff=1 kon=-1e3 koff=1e3 \
        alphaon=0 alphaoff=0 ion=-10u ioff=10u window=none\n\
        vin in 0 dc 5\n\
        rs in a 1k\n\
        ymemristor x1 a 0 m x0=0.5\n\
        .end\n";
    let c = memnet_spice::import_str(deck, "team.cir", &Default::default()).unwrap();
    let net = Network::from_circuit(&c).unwrap();
    let mut rhs = MemoryRhs::new(&net, net.tran_times(1.0)).unwrap();
    let why = |rhs: &mut MemoryRhs, x: f64, located: bool| {
        let e = rhs.tolerance_not_met(0.5, 1e-15, &[x], 0, true, located);
        assert!(matches!(e, SolveError::ToleranceNotMet { .. }), "{e}");
        e.to_string()
    };
    // At the upper bound: the clip/sticky rule makes the rate jump.
    let msg = why(&mut rhs, 1.0, false);
    assert!(msg.starts_with("team.cir:5:1: ymemristor!x1:"), "{msg}");
    assert!(msg.contains("at a bound of its state"), "{msg}");
    assert!(msg.contains("rate 1e3/s"), "{msg}");
    // Inside: nothing singular, so the tolerance itself.
    let msg = why(&mut rhs, 0.5, false);
    assert!(msg.contains("loosen --rtol/--atol"), "{msg}");
    // Where the current sits on the threshold ioff = 10 uA (R(0.5) =
    // 8050 ohm behind 1k: 90.5 mV), the law's rate jumps.
    let at_threshold = deck.replace("dc 5", "dc 0.0905");
    let c = memnet_spice::import_str(&at_threshold, "team.cir", &Default::default()).unwrap();
    let net = Network::from_circuit(&c).unwrap();
    let mut rhs = MemoryRhs::new(&net, net.tran_times(1.0)).unwrap();
    let msg = why(&mut rhs, 0.5, false);
    assert!(msg.contains("at a switch of its law"), "{msg}");
    assert!(msg.contains("try --locate-switches"), "{msg}");
    let msg = why(&mut rhs, 0.5, true);
    assert!(!msg.contains("try --locate-switches"), "{msg}");
}
