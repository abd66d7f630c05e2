//! Symmetries of the dynamics (theory.md 4.2). Each checker transforms the
//! circuit, integrates both versions and reports the largest difference
//! between the predicted and the computed trajectory (T9: 1e-8 at t = 0.5).

use faer::Mat;
use serde::Serialize;

use crate::dense;
use crate::dynamics::{Evaluator, Tolerance, Trajectory, integrate};
use crate::error::AnalysisError;
use crate::memory::DENSE_LIMIT;
use crate::model::{EdgeKind, Model, SourceTerm};
use crate::verdict::Verdict;

/// Tolerance of every symmetry residual (theory.md T9), relative to 1 + max|w|.
pub const SYMMETRY_TOL: f64 = 1e-8;

/// Integration accuracy for the paired runs: well below [`SYMMETRY_TOL`].
const TIGHT: Tolerance = Tolerance {
    rtol: 1e-12,
    atol: 1e-14,
};

/// Samples per paired run.
const SAMPLES: usize = 10;

/// The orientation check factors a dense M x M matrix per right-hand side
/// evaluation, so it is limited to small networks.
pub const ORIENTATION_LIMIT: usize = 400;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SymmetryCheck {
    /// Short identifier (`gauge`, `cycle_basis`, `orientation`, `affine(-1,1)`, ...).
    pub name: String,
    /// The transformation and its predicted effect.
    pub statement: String,
    pub verdict: Verdict,
}

/// Deterministic pseudo-random numbers in [-1, 1) (splitmix64), so the
/// library needs no RNG dependency and reports are reproducible.
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(seed)
    }
    pub(crate) fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        2.0 * ((z >> 11) as f64 / (1u64 << 53) as f64) - 1.0
    }
}

/// Runs the nodal memory equation of `model` from `w0`, plus an optional
/// constant drift per state, without stopping at the bounds (transformed
/// variables need not lie in [0, 1]).
fn run(
    model: &Model,
    w0: &[f64],
    t: f64,
    drift: Option<&[f64]>,
) -> Result<Trajectory, AnalysisError> {
    let mut nodal = Evaluator::new(model)?;
    integrate(
        |t, w, dw| {
            nodal.rhs(t, w, dw)?;
            if let Some(d) = drift {
                dw.iter_mut().zip(d).for_each(|(a, b)| *a += b);
            }
            Ok(())
        },
        w0,
        t,
        SAMPLES,
        TIGHT,
        false,
    )
}

fn compare(a: &Trajectory, b: &Trajectory, map: impl Fn(&[f64]) -> Vec<f64>) -> f64 {
    let scale = 1.0
        + a.states
            .iter()
            .map(|w| dense::max_abs(w))
            .fold(0.0, f64::max);
    a.states
        .iter()
        .zip(&b.states)
        .map(|(wa, wb)| dense::max_abs_diff(&map(wa), wb))
        .fold(0.0, f64::max)
        / scale
}

fn with_params(model: &Model, f: impl Fn(&mut crate::model::DeviceParams)) -> Model {
    let mut m = model.clone();
    for e in &mut m.edges {
        if let EdgeKind::Memristor { params, .. } = &mut e.kind {
            f(params);
        }
    }
    m
}

fn scale_sources(model: &mut Model, lambda: f64) {
    for e in &mut model.edges {
        for term in &mut e.terms {
            term.sign *= lambda;
        }
    }
    for j in &mut model.injections {
        j.gain *= lambda;
    }
}

/// Gauge symmetry (theory.md 4.2 item 1): S -> S + B^T phi for a random node
/// potential phi leaves w(t) unchanged (Omega B^T = 0).
pub fn check_gauge(model: &Model, t: f64, seed: u64) -> Result<SymmetryCheck, AnalysisError> {
    let mut rng = SplitMix::new(seed);
    let phi: Vec<f64> = (0..model.topo.n_nodes).map(|_| rng.next_f64()).collect();
    let mut g = model.clone();
    for e in &mut g.edges {
        e.terms.push(SourceTerm {
            sign: 1.0,
            waveform: memnet_spice::Waveform::Dc(phi[e.tail] - phi[e.head]),
        });
    }
    let w0 = model.w0();
    let a = run(model, &w0, t, None)?;
    let b = run(&g, &w0, t, None)?;
    Ok(SymmetryCheck {
        name: "gauge".into(),
        statement: "S -> S + B^T phi (random phi) leaves w(t) unchanged".into(),
        verdict: Verdict::from_residual(compare(&a, &b, |w| w.to_vec()), SYMMETRY_TOL),
    })
}

/// Cycle-basis invariance (theory.md 4.2 item 2): Omega_A(T A) = Omega_A(A)
/// for a random invertible T, and the mesh currents
/// (TA)^T (TA R (TA)^T)^{-1} TA S equal the nodal ones at w(0) and w(t).
pub fn check_cycle_basis(model: &Model, t: f64, seed: u64) -> Result<SymmetryCheck, AnalysisError> {
    let name = "cycle_basis".to_string();
    let statement = "A -> T A (random invertible T) leaves Omega and the currents unchanged".into();
    let m = model.n_edges();
    if m > DENSE_LIMIT {
        return Ok(SymmetryCheck {
            name,
            statement,
            verdict: Verdict::na(format!("dense check limited to {DENSE_LIMIT} edges")),
        });
    }
    let a = model.topo.cycle_basis().to_dense();
    let l = a.nrows();
    if l == 0 {
        return Ok(SymmetryCheck {
            name,
            statement,
            verdict: Verdict::na("the circuit has no loops (L = 0)"),
        });
    }
    let mut rng = SplitMix::new(seed);
    // Diagonally dominant, hence invertible.
    let tm = Mat::from_fn(l, l, |i, j| {
        rng.next_f64() + if i == j { 2.0 * l as f64 } else { 0.0 }
    });
    let ta = &tm * &a;
    let o1 = dense::omega_from_cycles(a.as_ref())?;
    let o2 = dense::omega_from_cycles(ta.as_ref())?;
    let mut worst = (&o1 - &o2).norm_max();
    let traj = run(model, &model.w0(), t, None)?;
    let mut nodal = Evaluator::new(model)?;
    let zero_j = vec![0.0; model.topo.n_nodes];
    for (tt, w) in [traj.times[0], traj.last().0]
        .into_iter()
        .zip([traj.states[0].clone(), traj.last().1.to_vec()])
    {
        let s = model.sources_vec(tt);
        nodal.factor_at(&w)?;
        let mut i_nodal = vec![0.0; m];
        nodal.currents_for(&s, &zero_j, &mut i_nodal);
        let r: Vec<f64> = nodal.conductances().iter().map(|g| 1.0 / g).collect();
        let arat = Mat::from_fn(l, l, |p, q| {
            (0..m).map(|k| ta[(p, k)] * r[k] * ta[(q, k)]).sum()
        });
        let tas = Mat::from_fn(l, 1, |p, _| (0..m).map(|k| ta[(p, k)] * s[k]).sum::<f64>());
        let loop_j = dense::inverse(arat.as_ref()) * &tas;
        let i_mesh: Vec<f64> = (0..m)
            .map(|k| (0..l).map(|p| ta[(p, k)] * loop_j[(p, 0)]).sum())
            .collect();
        let scale = 1.0 + dense::max_abs(&i_nodal);
        worst = worst.max(dense::max_abs_diff(&i_mesh, &i_nodal) / scale);
    }
    Ok(SymmetryCheck {
        name,
        statement,
        verdict: Verdict::from_residual(worst, SYMMETRY_TOL),
    })
}

/// Orientation relabelling (theory.md 3.5, 4.2 item 3): with D = diag(+-1)
/// random, (Omega, S, P) -> (D Omega D, D S, D) gives the same w(t); the
/// currents become D x. Uses the dense form with explicit polarity P.
pub fn check_orientation(model: &Model, t: f64, seed: u64) -> Result<SymmetryCheck, AnalysisError> {
    let name = "orientation".to_string();
    let statement =
        "turning edges round (D = diag(+-1): Omega -> D Omega D, S -> D S, P -> D) leaves w(t) unchanged"
            .into();
    let na = |r: String| SymmetryCheck {
        name: name.clone(),
        statement: String::from(
            "turning edges round (D = diag(+-1): Omega -> D Omega D, S -> D S, P -> D) leaves w(t) unchanged",
        ),
        verdict: Verdict::na(r),
    };
    let Some(u) = model.uniform() else {
        return Ok(na(model.nonuniform_reason().unwrap_or_default()));
    };
    if let Some(r) = model.injection_reason() {
        return Ok(na(r));
    }
    let m = model.n_edges();
    if m > ORIENTATION_LIMIT {
        return Ok(na(format!(
            "dense check limited to {ORIENTATION_LIMIT} edges"
        )));
    }
    let obt = model.topo.omega_bt_dense()?;
    let omega = dense::omega_from_bt(obt.as_ref());
    let mut rng = SplitMix::new(seed);
    let d: Vec<f64> = (0..m)
        .map(|_| if rng.next_f64() < 0.0 { -1.0 } else { 1.0 })
        .collect();
    let omega_d = Mat::from_fn(m, m, |i, j| d[i] * omega[(i, j)] * d[j]);
    let rhs = |om: &Mat<f64>, p: &[f64], sign_s: &[f64]| {
        let om = om.clone();
        let p = p.to_vec();
        let sign_s = sign_s.to_vec();
        move |tt: f64, w: &[f64], dw: &mut [f64]| -> Result<(), AnalysisError> {
            let s: Vec<f64> = model
                .sources_vec(tt)
                .iter()
                .zip(&sign_s)
                .map(|(a, b)| a * b)
                .collect();
            let k = dense::memory_kernel(om.as_ref(), w, u.xi)?;
            let x = dense::mat_vec(k.as_ref(), &s);
            for i in 0..w.len() {
                dw[i] = u.alpha * w[i] - p[i] * u.ron * x[i] / (u.beta * u.ron);
            }
            Ok(())
        }
    };
    let ones = vec![1.0; m];
    let w0 = model.w0();
    let a = integrate(rhs(&omega, &ones, &ones), &w0, t, SAMPLES, TIGHT, false)?;
    let b = integrate(rhs(&omega_d, &d, &d), &w0, t, SAMPLES, TIGHT, false)?;
    let mut worst = compare(&a, &b, |w| w.to_vec());
    // Currents: x'(w) = D x(w) at the final state.
    let w_end = a.last().1;
    let s = model.sources_vec(a.last().0);
    let x = dense::mat_vec(
        dense::memory_kernel(omega.as_ref(), w_end, u.xi)?.as_ref(),
        &s,
    );
    let ds: Vec<f64> = s.iter().zip(&d).map(|(a, b)| a * b).collect();
    let xd = dense::mat_vec(
        dense::memory_kernel(omega_d.as_ref(), w_end, u.xi)?.as_ref(),
        &ds,
    );
    let dx: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a * b).collect();
    worst = worst.max(dense::max_abs_diff(&dx, &xd) / (1.0 + dense::max_abs(&x)));
    Ok(SymmetryCheck {
        name,
        statement,
        verdict: Verdict::from_residual(worst, SYMMETRY_TOL),
    })
}

/// Affine map u = a w + b (theory.md 4.2 item 4): u solves the memory
/// equation with xi' = xi/(a - xi b), beta' = beta (a - xi b)/a^2, the same
/// resistance (ron' = ron (a - xi b)/a) and the extra drift -alpha b.
/// (a, b) = (-1, 1) is the exchange R_on <-> R_off.
pub fn check_affine(model: &Model, t: f64, a: f64, b: f64) -> Result<SymmetryCheck, AnalysisError> {
    let name = format!("affine({a},{b})");
    let statement = format!(
        "u = {a} w + {b} solves the equation with xi' = xi/(a - xi b), beta' = beta (a - xi b)/a^2{}",
        if a == -1.0 && b == 1.0 {
            " (R_on <-> R_off)"
        } else {
            ""
        }
    );
    if a == 0.0 {
        return Ok(SymmetryCheck {
            name,
            statement,
            verdict: Verdict::na("a = 0 is not invertible"),
        });
    }
    if let Some(s) = (0..model.n_memristors()).find(|&s| (a - model.params(s).xi * b) == 0.0) {
        return Ok(SymmetryCheck {
            name,
            statement,
            verdict: Verdict::na(format!(
                "a - xi b = 0 for {} (xi = {}): the map is singular",
                model.memristor_name(s),
                model.params(s).xi
            )),
        });
    }
    let mapped = with_params(model, |p| {
        let c = a - p.xi * b;
        p.ron *= c / a;
        p.beta *= c / (a * a);
        p.xi /= c;
        p.w0 = a * p.w0 + b;
    });
    let drift: Vec<f64> = (0..model.n_memristors())
        .map(|s| -model.params(s).alpha * b)
        .collect();
    let ta = run(model, &model.w0(), t, None)?;
    let tb = run(&mapped, &mapped.w0(), t, Some(&drift))?;
    let resid = compare(&ta, &tb, |w| w.iter().map(|x| a * x + b).collect());
    Ok(SymmetryCheck {
        name,
        statement,
        verdict: Verdict::from_residual(resid, SYMMETRY_TOL),
    })
}

/// Time reversal (theory.md 4.2 item 5): integrate to t with (alpha, S), then
/// forward again for t with (-alpha, -S) (and -J): w returns to w(0).
pub fn check_time_reversal(model: &Model, t: f64) -> Result<SymmetryCheck, AnalysisError> {
    let name = "time_reversal".to_string();
    let statement = "w(t) with (alpha, S), then forward with (-alpha, -S), returns to w(0)".into();
    if let Some(r) = model.time_dependent_reason() {
        return Ok(SymmetryCheck {
            name,
            statement,
            verdict: Verdict::na(format!("{r}; reversal is checked for DC sources")),
        });
    }
    let w0 = model.w0();
    let fwd = run(model, &w0, t, None)?;
    let mut rev = with_params(model, |p| p.alpha = -p.alpha);
    scale_sources(&mut rev, -1.0);
    let back = run(&rev, fwd.last().1, t, None)?;
    let resid = dense::max_abs_diff(back.last().1, &w0) / (1.0 + dense::max_abs(&w0));
    Ok(SymmetryCheck {
        name,
        statement,
        verdict: Verdict::from_residual(resid, SYMMETRY_TOL),
    })
}

/// Trivial scalings (theory.md 4.2 item 6): (S, beta) -> (lambda S, lambda
/// beta) leaves w(t) unchanged; (alpha, beta) -> (lambda alpha, beta/lambda)
/// runs time lambda times faster.
pub fn check_scalings(
    model: &Model,
    t: f64,
    lambda: f64,
) -> Result<Vec<SymmetryCheck>, AnalysisError> {
    let w0 = model.w0();
    let base = run(model, &w0, t, None)?;
    let mut scaled = with_params(model, |p| p.beta *= lambda);
    scale_sources(&mut scaled, lambda);
    let sb = run(&scaled, &w0, t, None)?;
    let r1 = compare(&base, &sb, |w| w.to_vec());
    let fast = with_params(model, |p| {
        p.alpha *= lambda;
        p.beta /= lambda;
    });
    // Time-dependent sources would have to be rescaled in time too.
    let v2 = if let Some(r) = model.time_dependent_reason() {
        Verdict::na(format!("{r}; the time rescaling needs DC sources"))
    } else {
        let fb = run(&fast, &w0, t / lambda, None)?;
        Verdict::from_residual(compare(&base, &fb, |w| w.to_vec()), SYMMETRY_TOL)
    };
    Ok(vec![
        SymmetryCheck {
            name: format!("scale_sources({lambda})"),
            statement: format!("(S, beta) -> ({lambda} S, {lambda} beta) leaves w(t) unchanged"),
            verdict: Verdict::from_residual(r1, SYMMETRY_TOL),
        },
        SymmetryCheck {
            name: format!("scale_time({lambda})"),
            statement: format!(
                "(alpha, beta) -> ({lambda} alpha, beta/{lambda}) gives w(t/{lambda})"
            ),
            verdict: v2,
        },
    ])
}

/// All symmetry checks over [0, t] (theory.md 4.2, T9).
pub fn check_all(model: &Model, t: f64, seed: u64) -> Result<Vec<SymmetryCheck>, AnalysisError> {
    let mut out = vec![
        check_gauge(model, t, seed)?,
        check_cycle_basis(model, t, seed.wrapping_add(1))?,
        check_orientation(model, t, seed.wrapping_add(2))?,
    ];
    for (a, b) in [(-1.0, 1.0), (2.0, 0.0), (1.0, 0.1)] {
        out.push(check_affine(model, t, a, b)?);
    }
    out.push(check_time_reversal(model, t)?);
    out.extend(check_scalings(model, t, 2.0)?);
    Ok(out)
}
