//! Exact time integrals of ngspice source waveforms, \int_0^t S(t') dt',
//! needed by the exact method (docs/exact-method.md): PULSE and PWL are
//! piecewise linear (integrated segment by segment, periods counted), SIN
//! has a closed form. The defaults (tr, tf, pw, per, freq) follow
//! [`memnet_spice::Waveform::value`] exactly.

use memnet_spice::circuit::{PulseTimes, sin_frequency};
use memnet_spice::{TranTimes, Waveform};

/// \int_0^t value(s) ds for t >= 0 (for t < 0, minus the integral over
/// [t, 0]).
pub fn integral(wf: &Waveform, t: f64, times: TranTimes) -> f64 {
    match *wf {
        Waveform::Dc(v) => v * t,
        Waveform::Pulse {
            v1,
            v2,
            td,
            tr,
            tf,
            pw,
            per,
            np,
        } => {
            let PulseTimes { tr, tf, pw, per } = PulseTimes::resolve(tr, tf, pw, per, times);
            // One period's shape integrated from its start to x.
            let shape = |x: f64| -> f64 {
                let mut acc = 0.0;
                let a = x.clamp(0.0, tr);
                if tr > 0.0 {
                    acc += v1 * a + (v2 - v1) * a * a / (2.0 * tr);
                }
                acc += v2 * (x - tr).clamp(0.0, pw);
                let b = (x - tr - pw).clamp(0.0, tf);
                if tf > 0.0 {
                    acc += v2 * b + (v1 - v2) * b * b / (2.0 * tf);
                }
                acc + v1 * (x - tr - pw - tf).max(0.0)
            };
            let before = v1 * t.min(td);
            if t <= td {
                return before;
            }
            let tt = t - td;
            if per <= 0.0 || tt < per {
                return before + shape(tt);
            }
            let k = (tt / per).floor();
            let full = shape(per);
            if let Some(n) = np.filter(|&n| n > 0)
                && k >= f64::from(n)
            {
                let n = f64::from(n);
                return before + n * full + v1 * (tt - n * per);
            }
            before + k * full + shape(tt - k * per)
        }
        Waveform::Sin {
            vo,
            va,
            freq,
            td,
            theta,
            phase,
        } => {
            let freq = sin_frequency(freq, times);
            let ph = phase.to_radians();
            let before = (vo + va * ph.sin()) * t.min(td);
            if t <= td {
                return before;
            }
            let tt = t - td;
            let om = std::f64::consts::TAU * freq;
            let den = theta * theta + om * om;
            // \int_0^T e^{-theta s} sin(om s + ph) ds.
            let osc = if den == 0.0 {
                ph.sin() * tt
            } else {
                let f = |s: f64| {
                    (-theta * s).exp() * (-theta * (om * s + ph).sin() - om * (om * s + ph).cos())
                        / den
                };
                f(tt) - f(0.0)
            };
            before + vo * tt + va * osc
        }
        Waveform::Pwl {
            ref points,
            repeat_from,
            delay,
        } => {
            pwl_antiderivative(points, repeat_from, t - delay)
                - pwl_antiderivative(points, repeat_from, -delay)
        }
    }
}

/// The first time strictly after `t` where the waveform (or its slope)
/// is not smooth: PULSE corners, PWL points, the SIN delay. Integrators
/// land on these like SPICE does, since an embedded error estimate cannot
/// see a kink inside a step.
pub fn next_breakpoint(wf: &Waveform, t: f64, times: TranTimes) -> Option<f64> {
    next_breakpoint_near(wf, t, times, &mut 0)
}

/// Whether a corner at `x` counts as after `t`: corners within rounding
/// distance of t are ignored (the one test of [`next_breakpoint`] and of
/// the memo built on it, `MemoryRhs::source_breakpoint`).
pub fn is_after(x: f64, t: f64) -> bool {
    x > t + 1e-12 * t.abs().max(1e-300)
}

/// [`next_breakpoint`] with a cursor into a PWL's points: the index of the
/// corner it gave last, tried first with the next two before a bisection.
/// The answer does not depend on the cursor; along a run the search is
/// O(1) and touches one cache line of a long table.
pub fn next_breakpoint_near(
    wf: &Waveform,
    t: f64,
    times: TranTimes,
    cursor: &mut usize,
) -> Option<f64> {
    let after = |x: f64| is_after(x, t);
    match *wf {
        Waveform::Dc(_) => None,
        Waveform::Sin { td, .. } => after(td).then_some(td),
        Waveform::Pulse {
            td,
            tr,
            tf,
            pw,
            per,
            np,
            ..
        } => {
            let PulseTimes { tr, tf, pw, per } = PulseTimes::resolve(tr, tf, pw, per, times);
            let corners = [0.0, tr, tr + pw, tr + pw + tf];
            if after(td) {
                return Some(td);
            }
            if per <= 0.0 {
                return corners.iter().map(|c| td + c).find(|&x| after(x));
            }
            let k0 = ((t - td) / per).floor().max(0.0);
            for k in [k0, k0 + 1.0] {
                if let Some(n) = np.filter(|&n| n > 0)
                    && k >= f64::from(n)
                {
                    return None;
                }
                // Corners past the period are cut off by the wrap.
                for c in corners
                    .iter()
                    .filter(|&&c| c < per)
                    .chain(std::iter::once(&per))
                {
                    let x = td + k * per + c;
                    if after(x) {
                        return Some(x);
                    }
                }
            }
            None
        }
        Waveform::Pwl {
            ref points,
            repeat_from,
            delay,
        } => {
            let (Some(&(_, _)), Some(&(tn, _))) = (points.first(), points.last()) else {
                return None;
            };
            let rel = t - delay;
            // Times are non-decreasing: the first corner after t is the
            // cursor's or one of the next two, else found by bisection, so
            // that a long PWL (a reservoir's input) costs O(1) per step
            // along a run and O(log points) at worst.
            let first_after = |j: usize| {
                j < points.len()
                    && after(points[j].0 + delay)
                    && (j == 0 || !after(points[j - 1].0 + delay))
            };
            let c = *cursor;
            let j = [c, c.saturating_add(1), c.saturating_add(2)]
                .into_iter()
                .find(|&j| first_after(j))
                .unwrap_or_else(|| points.partition_point(|p| !after(p.0 + delay)));
            *cursor = j;
            if let Some(p) = points.get(j) {
                return Some(p.0 + delay);
            }
            match repeat_from {
                Some(r) if tn > r => {
                    let period = tn - r;
                    let k0 = ((rel - tn) / period).floor().max(0.0);
                    for k in [k0, k0 + 1.0] {
                        let hit = points
                            .iter()
                            .map(|p| p.0)
                            .filter(|&x| x >= r)
                            .map(|x| x + (k + 1.0) * period + delay)
                            .find(|&x| after(x));
                        if hit.is_some() {
                            return hit;
                        }
                    }
                    None
                }
                _ => None,
            }
        }
    }
}

/// \int_{t0}^{x} of the PWL (times relative to its delay), any x.
fn pwl_antiderivative(points: &[(f64, f64)], repeat_from: Option<f64>, x: f64) -> f64 {
    let (Some(&(t0, v0)), Some(&(tn, vn))) = (points.first(), points.last()) else {
        return 0.0;
    };
    // Without repetition.
    let base = |x: f64| -> f64 {
        if x <= t0 {
            return v0 * (x - t0);
        }
        let mut acc = 0.0;
        for win in points.windows(2) {
            let ((ta, va), (tb, vb)) = (win[0], win[1]);
            if x <= ta {
                break;
            }
            if tb <= ta {
                continue;
            }
            if x >= tb {
                acc += 0.5 * (va + vb) * (tb - ta);
            } else {
                let vx = va + (vb - va) * (x - ta) / (tb - ta);
                acc += 0.5 * (va + vx) * (x - ta);
                return acc;
            }
        }
        acc + vn * (x - tn).max(0.0)
    };
    match repeat_from {
        Some(r) if x > tn && tn > r => {
            let period = tn - r;
            let d = x - tn;
            let k = (d / period).floor();
            let (b_tn, b_r) = (base(tn), base(r));
            b_tn + k * (b_tn - b_r) + base(r + (d - k * period)) - b_r
        }
        _ => base(x),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: TranTimes = TranTimes {
        tstep: 0.1,
        tstop: 10.0,
    };

    /// Composite Simpson on a fine grid; all test waveforms are
    /// continuous, so 2e4 panels give ~1e-12 accuracy except near kinks
    /// (O(h^2) locally: ~1e-9 here).
    fn numeric(wf: &Waveform, t: f64) -> f64 {
        let n = 20_000;
        let h = t / n as f64;
        let mut s = wf.value(0.0, T) + wf.value(t, T);
        for i in 1..n {
            let w = if i % 2 == 1 { 4.0 } else { 2.0 };
            s += w * wf.value(i as f64 * h, T);
        }
        s * h / 3.0
    }

    #[test]
    fn integrals_match_quadrature() {
        let wfs = [
            Waveform::Dc(0.7),
            Waveform::Pulse {
                v1: -0.2,
                v2: 1.0,
                td: 0.3,
                tr: Some(0.2),
                tf: Some(0.4),
                pw: Some(0.5),
                per: Some(2.0),
                np: None,
            },
            Waveform::Pulse {
                v1: 0.1,
                v2: 0.5,
                td: 0.0,
                tr: None,
                tf: None,
                pw: Some(0.3),
                per: Some(1.0),
                np: Some(2),
            },
            Waveform::Sin {
                vo: 0.1,
                va: 0.5,
                freq: Some(0.7),
                td: 0.4,
                theta: 0.3,
                phase: 0.0,
            },
            Waveform::Sin {
                vo: 0.0,
                va: 1.0,
                freq: None,
                td: 0.0,
                theta: 0.0,
                phase: 30.0,
            },
            // Repeats from 0.5 with v(2.0) = v(0.5): continuous.
            Waveform::Pwl {
                points: vec![(0.0, 0.0), (0.5, 1.0), (1.5, -0.5), (2.0, 1.0)],
                repeat_from: Some(0.5),
                delay: 0.25,
            },
            Waveform::Pwl {
                points: vec![(0.2, 0.3), (0.9, -1.0)],
                repeat_from: None,
                delay: 0.0,
            },
        ];
        for wf in &wfs {
            for t in [0.1, 0.77, 1.0, 2.5, 5.3] {
                let (a, b) = (integral(wf, t, T), numeric(wf, t));
                // Waveforms with kinks: Simpson's error there is O(h^2) =
                // 1e-8 * jump in slope; 1e-7 leaves margin.
                assert!((a - b).abs() < 1e-7, "{wf:?} t={t}: exact {a} numeric {b}");
            }
        }
    }

    #[test]
    fn discontinuous_repeat_by_hand() {
        // Delay 0.25: [0, 2.5] maps to [-0.25, 2.25]. Base over [0, 2]:
        // 0.25 + 0.25 - 0.125 = 0.375; the repeat restarts at v(0.5) = 1 and
        // reaches 0.625 at 2.25: 0.25 (1 + 0.625) / 2 = 0.203125.
        let w = Waveform::Pwl {
            points: vec![(0.0, 0.0), (0.5, 1.0), (1.5, -0.5), (2.0, 0.0)],
            repeat_from: Some(0.5),
            delay: 0.25,
        };
        assert!((integral(&w, 2.5, T) - 0.578125).abs() < 1e-15);
    }

    #[test]
    fn breakpoints_are_the_corners() {
        let p = Waveform::Pulse {
            v1: 0.0,
            v2: 1.0,
            td: 0.1,
            tr: Some(0.05),
            tf: Some(0.1),
            pw: Some(0.2),
            per: Some(0.6),
            np: None,
        };
        let mut t = 0.0;
        let mut got = Vec::new();
        while let Some(b) = next_breakpoint(&p, t, T) {
            if b > 1.5 {
                break;
            }
            got.push(b);
            t = b;
        }
        let want = [0.1, 0.15, 0.35, 0.45, 0.7, 0.75, 0.95, 1.05, 1.3, 1.35];
        assert_eq!(got.len(), want.len(), "{got:?}");
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
        let w = Waveform::Pwl {
            points: vec![(0.0, 0.0), (0.5, 1.0), (2.0, 0.0)],
            repeat_from: Some(0.5),
            delay: 0.25,
        };
        assert_eq!(next_breakpoint(&w, 0.3, T), Some(0.75));
        assert_eq!(next_breakpoint(&w, 0.75, T), Some(2.25));
        // Repeats: point 2.0 maps to 2.0 + 1.5 k (+ delay), 0.5 coincides.
        assert_eq!(next_breakpoint(&w, 2.25, T), Some(3.75));
        assert_eq!(next_breakpoint(&Waveform::Dc(1.0), 0.0, T), None);
    }

    /// next_breakpoint_near gives the first table point after t (a walk
    /// over the table), and next_breakpoint's answer past it, for any
    /// cursor: walking corner to corner, stepping forwards and backwards,
    /// at scrambled times, on a held-value table with short ramps, a
    /// repeated time and a repeating tail.
    #[test]
    fn cursor_breakpoints_are_the_corners() {
        let mut points = vec![(0.0, 0.0)];
        for n in 1..300 {
            points.push((n as f64 + 1e-4, (n % 7) as f64));
            points.push((n as f64 + 1.0, (n % 7) as f64));
        }
        points.push((300.0, 3.0));
        points.push((300.5, 1.0));
        let waves = [
            Waveform::Pwl {
                points: points.clone(),
                repeat_from: None,
                delay: 0.0,
            },
            Waveform::Pwl {
                points,
                repeat_from: Some(250.0),
                delay: 0.3,
            },
        ];
        for w in &waves {
            let Waveform::Pwl {
                ref points, delay, ..
            } = *w
            else {
                unreachable!()
            };
            // The first point after t by a walk, else the repetition's
            // corner (which no cursor touches).
            let want = |t: f64| {
                points
                    .iter()
                    .map(|p| p.0 + delay)
                    .find(|&x| is_after(x, t))
                    .or_else(|| next_breakpoint(w, t, T))
            };
            let mut cursor = 0;
            let mut t = 0.0;
            let mut corners = 0;
            while let Some(b) = next_breakpoint_near(w, t, T, &mut cursor) {
                assert_eq!(Some(b), want(t), "t = {t}");
                if b > 400.0 {
                    break;
                }
                t = b;
                corners += 1;
            }
            assert!(corners > 590, "{corners} corners");
            let forward: Vec<f64> = (0..8000).map(|k| k as f64 * 0.0491).collect();
            let backward: Vec<f64> = forward.iter().rev().copied().collect();
            let scrambled: Vec<f64> = (0..8000u64)
                .map(|k| ((k * 2_654_435_761) % 390_000) as f64 / 1000.0)
                .collect();
            for times in [&forward, &backward, &scrambled] {
                let mut cursor = usize::MAX;
                for &t in times.iter() {
                    assert_eq!(
                        next_breakpoint_near(w, t, T, &mut cursor),
                        want(t),
                        "t = {t}"
                    );
                }
            }
        }
    }
}
