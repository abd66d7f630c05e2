//! `MemoryRhs::source_breakpoint` remembers the sources' next corner and
//! keeps a cursor per PWL source: whatever the order of the times asked, it
//! gives the minimum of `waveform::next_breakpoint` over every
//! time-dependent source (series, current and potential sources).

use memnet_graph::Network;
use memnet_solver::MemoryRhs;
use memnet_solver::waveform::next_breakpoint;
use memnet_spice::Waveform;

const DECK: &str = "sources of every kind, their corners interleaved
V1 a 0 PWL(0 0 0.3 1 0.31 0.5 1.2 0.5 1.25 -0.2 2.5 0)
V2 e b PULSE(0 1 0.1 0.05 0.05 0.2 0.7)
I1 0 c PWL(0 0 0.45 1e-3 0.9 0 0.9 2e-3 1.7 0)
V3 d 0 SIN(0 1 2 0.35)
V4 f c PWL(0 0.1 0.2 0.1 0.2 0.4 0.65 0.4 0.66 0.1 2.9 0.1)
XM1 a e memristor ron=1 roff=11 w0=0.4 alpha=0 beta=2
XM2 b c memristor ron=1 roff=11 w0=0.6 alpha=0 beta=2
XM3 c 0 memristor ron=1 roff=11 w0=0.5 alpha=0 beta=2
XM4 a c memristor ron=1 roff=11 w0=0.3 alpha=0 beta=2
XM5 c d memristor ron=1 roff=11 w0=0.5 alpha=0 beta=2
XM6 f b memristor ron=1 roff=11 w0=0.5 alpha=0 beta=2
.end
";

#[test]
fn remembered_corners_are_the_sources_next_corners() {
    let circuit = memnet_spice::import_str(DECK, "s.cir", &Default::default()).unwrap();
    let net = Network::from_circuit(&circuit).unwrap();
    let times = net.tran_times(3.0);
    let mut waves: Vec<&Waveform> = Vec::new();
    waves.extend(
        net.edges
            .iter()
            .filter_map(|e| e.source.as_ref())
            .map(|s| &s.source.waveform),
    );
    waves.extend(net.injections.iter().map(|j| &j.source.waveform));
    waves.extend(net.constraints.iter().map(|c| &c.source.waveform));
    // Series (PULSE, PWL), a current source and potential sources (PWL, SIN).
    let pwl = waves
        .iter()
        .filter(|w| matches!(w, Waveform::Pwl { .. }))
        .count();
    assert!(
        pwl >= 3 && waves.len() >= 5,
        "{} sources, {pwl} PWL",
        waves.len()
    );
    let want = |t: f64| {
        waves
            .iter()
            .filter_map(|w| next_breakpoint(w, t, times))
            .reduce(f64::min)
    };
    let rhs = MemoryRhs::new(&net, times).unwrap();
    // Corner to corner, as an integrator lands on them.
    let (mut t, mut corners) = (0.0, 0);
    while let Some(b) = rhs.source_breakpoint(t) {
        assert_eq!(Some(b), want(t), "t = {t}");
        assert!(b > t);
        if b > 3.0 {
            break;
        }
        t = b;
        corners += 1;
    }
    assert!(corners >= 20, "{corners} corners");
    let forward: Vec<f64> = (0..3000).map(|k| k as f64 * 1e-3).collect();
    let backward: Vec<f64> = forward.iter().rev().copied().collect();
    let scrambled: Vec<f64> = (0..3000u64)
        .map(|k| ((k * 2_654_435_761) % 3000) as f64 * 1e-3)
        .collect();
    // Steps that stop just short of a corner and then on it.
    let near: Vec<f64> = [0.3, 0.31, 0.45, 0.9, 1.2]
        .iter()
        .flat_map(|&c| [c - 1e-9, c - 1e-15, c, c + 1e-15, c + 1e-9])
        .collect();
    for ts in [&forward, &backward, &scrambled, &near] {
        for &t in ts.iter() {
            assert_eq!(rhs.source_breakpoint(t), want(t), "t = {t}");
        }
    }
}
