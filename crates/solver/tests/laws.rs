//! Every device law against the worked examples of docs/device-laws.md
//! (numbers from the device-model specification: closed forms or
//! quadrature to 10 digits): one device across an ideal DC source V, so
//! v = V and the law's state equation is an ODE in its state alone,
//! integrated with the solver's Dormand-Prince 5(4) at rtol 1e-12 (the
//! unbounded laws run without bounds: TEAM's state is clamped to
//! [x_on, x_off] only in evaluation, which E7 and E8 never leave).
//! Tolerance: 5e-9 relative (the references carry 10 significant digits;
//! the integration error is below 1e-11).

mod common;

use memnet_graph::MemristorParams;
use memnet_solver::device::hp::{HpDevice, HpLaw, Window};

use memnet_solver::device::mmss::{MmssDevice, MmssLaw};
use memnet_solver::device::nlid::{NonlinearDriftDevice, NonlinearDriftLaw};
use memnet_solver::device::pem::PemLaw;
use memnet_solver::device::team::{Control, IvRelation, TeamDevice, TeamLaw};
use memnet_solver::device::threshold::{ThresholdDevice, ThresholdLaw};
use memnet_solver::device::xyce_team::{XyceTeamDevice, XyceTeamLaw};
use memnet_solver::device::yakopcic::{YakopcicDevice, YakopcicLaw};
use memnet_solver::{DeviceLaw, LinearLaw, OdeSystem, Sampling, SolveError, Stepper, integrate};

struct DcDevice<'a, L> {
    law: &'a L,
    v: f64,
}

impl<L: DeviceLaw> OdeSystem for DcDevice<'_, L> {
    fn dim(&self) -> usize {
        1
    }
    /// Evaluated at the state clamped to the law's bounds, as the engine
    /// does for the stages of a step that overshoots a bound.
    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), SolveError> {
        let (lo, hi) = self.law.state_bounds(0);
        let x = y[0].clamp(lo, hi);
        let i = self
            .law
            .current(0, x, self.v)
            .map_err(|f| SolveError::InvalidOption(format!("{f:?}")))?;
        dy[0] = self.law.state_rate(0, x, self.v, i);
        Ok(())
    }

    /// d(rate)/d(state) by a central difference, for Rosenbrock (whose
    /// order does not depend on it).
    fn diagonal_jacobian(&mut self, t: f64, y: &[f64], d: &mut [f64]) -> Result<(), SolveError> {
        let h = 1e-7 * y[0].abs().max(1e-6);
        let (mut up, mut down) = ([0.0], [0.0]);
        self.rhs(t, &[y[0] + h], &mut up)?;
        self.rhs(t, &[y[0] - h], &mut down)?;
        d[0] = (up[0] - down[0]) / (2.0 * h);
        Ok(())
    }
}

/// (state in the law's own variable, current) after `t_end` at DC `v`,
/// starting from the law's initial state; `scale` is the size of the
/// state (for the absolute tolerance).
fn dc<L: DeviceLaw>(law: &L, v: f64, t_end: f64, scale: f64) -> (f64, f64) {
    dc_from(law, law.initial_state(0), v, t_end, scale)
}

/// As [`dc`] from the internal state `y0`.
fn dc_from<L: DeviceLaw>(law: &L, y0: f64, v: f64, t_end: f64, scale: f64) -> (f64, f64) {
    let stepper = Stepper::Dopri5 {
        rtol: 1e-12,
        atol: 1e-14 * scale,
        h0: Some(t_end * 1e-6),
        h_max: None,
        norm: memnet_solver::ode::ErrorNorm::Rms,
    };
    let y = dc_try(law, y0, v, t_end, &stepper).unwrap();
    let i = law.current(0, y, v).unwrap();
    (law.native_state(0, y), i)
}

/// The internal state after `t_end` at DC `v` from `y0` with `stepper`.
fn dc_try<L: DeviceLaw>(
    law: &L,
    y0: f64,
    v: f64,
    t_end: f64,
    stepper: &Stepper,
) -> Result<f64, SolveError> {
    let mut y = [y0];
    integrate(
        &mut DcDevice { law, v },
        &mut y,
        0.0,
        t_end,
        stepper,
        &Sampling::Ends,
        &mut |_, _| Ok(()),
        &mut |_, _| Ok(()),
    )?;
    Ok(y[0])
}

fn close(got: f64, want: f64, what: &str) {
    let tol = 5e-9 * want.abs().max(1e-300);
    assert!(
        (got - want).abs() <= tol,
        "{what}: {got:.12e} vs {want:.12e}"
    );
}

/// Biolek's defaults: ron 100, roff 16k, D 10 nm, uv 1e-14 (k = 1e4),
/// rinit 11k (x0 = 5000/15900); V = +1 V, T = 0.25 s.
fn hp(window: &str, p: f64) -> HpLaw {
    HpLaw {
        devices: vec![HpDevice::from_params(&[("p", p)], window).unwrap()],
    }
}

#[test]
fn hp_linear_drift_with_windows_e1_to_e5() {
    let x = |law: HpLaw, v: f64| dc(&law, v, 0.25, 1.0).0;
    close(x(hp("none", 1.0), 1.0), 0.6011289709, "E1 no window");
    close(x(hp("joglekar", 1.0), 1.0), 0.5856528684, "E2 Joglekar p=1");
    close(x(hp("joglekar", 2.0), 1.0), 0.5999373269, "E2 Joglekar p=2");
    close(
        x(hp("joglekar", 10.0), 1.0),
        0.6011289708,
        "E2 Joglekar p=10",
    );
    close(x(hp("biolek", 1.0), 1.0), 0.5356422867, "E3 Biolek p=1");
    close(x(hp("biolek", 2.0), 1.0), 0.5840611450, "E3 Biolek p=2");
    close(x(hp("biolek", 10.0), 1.0), 0.6011278109, "E3 Biolek p=10");
    close(
        x(hp("prodromakis", 2.0), 1.0),
        0.4142315131,
        "E5 Prodromakis p=2",
    );
    // E1 in memnet's linear law (w = 1 - x, beta = D^2/uv): the same
    // device is ron 100, roff 16k, w0 = 1 - x0, alpha 0, beta 0.01.
    let mut linear = LinearLaw::default();
    let e1 = MemristorParams {
        ron: 100.0,
        roff: 16000.0,
        w0: 0.6855345912,
        alpha: 0.0,
        beta: 0.01,
        polarity: 1.0,
    };
    linear.push_checked(&e1, "E1", None).unwrap();
    close(
        dc(&linear, 1.0, 0.25, 1.0).0,
        0.3988710291,
        "E1 linear law w",
    );
    // E1's resistance: R = ron x + roff (1 - x).
    let law = hp("none", 1.0);
    let (x1, i1) = dc(&law, 1.0, 0.25, 1.0);
    close(1.0 / i1, 6442.049363, "E1 R");
    close(x1, 0.6011289709, "E1 x");
    // E4: starting at x = 1 and driven back.
    let at = |window: &str, x0: f64| {
        let mut law = hp(window, 1.0);
        law.devices[0].x0 = x0;
        dc_from(&law, law.initial_state(0), -1.0, 0.25, 1.0).0
    };
    assert_eq!(
        at("joglekar", 1.0),
        1.0,
        "E4: Joglekar at x = 1 is stuck by the law"
    );
    close(at("biolek", 1.0), 0.4856273313, "E4 Biolek from 1");
    close(
        at("joglekar", 1.0 - 1e-6),
        0.5803746048,
        "E4 Joglekar from 1 - 1e-6",
    );
    // Prodromakis (p = 1, j = 4) is Joglekar p = 1 (both 4x(1 - x)).
    let mut prod = hp("prodromakis", 1.0);
    prod.devices[0].window = Window::Prodromakis { p: 1.0, j: 4.0 };
    close(
        x(prod, 1.0),
        0.5856528684,
        "Prodromakis(1, 4) = Joglekar(1)",
    );
}

/// The reason for log-odds: under a strong drive 1 - x of a Joglekar
/// device falls far below double resolution, yet the law is
/// charge-controlled and returns to x0 when the drive reverses for as
/// long. In log-odds it does, to 1e-9.
#[test]
fn joglekar_state_returns_after_a_strong_symmetric_drive() {
    for p in [2.0, 5.0] {
        let law = hp("joglekar", p);
        let s0 = law.initial_state(0);
        // Integrate +5 V for 1 s, then -5 V for 1 s (internal state kept).
        let up = |s: f64, v: f64| {
            let mut y = [s];
            integrate(
                &mut DcDevice { law: &law, v },
                &mut y,
                0.0,
                1.0,
                &Stepper::Dopri5 {
                    rtol: 1e-12,
                    atol: 1e-12,
                    h0: Some(1e-6),
                    h_max: None,
                    norm: memnet_solver::ode::ErrorNorm::Rms,
                },
                &Sampling::Ends,
                &mut |_, _| Ok(()),
                &mut |_, _| Ok(()),
            )
            .unwrap();
            y[0]
        };
        let s1 = up(s0, 5.0);
        let x1 = law.native_state(0, s1);
        assert!(
            x1 == 1.0 || 1.0 - x1 < 1e-15,
            "p = {p}: saturated, x = {x1}"
        );
        assert!(s1.is_finite() && s1 > 30.0, "p = {p}: log-odds {s1}");
        let s2 = up(s1, -5.0);
        let x0 = law.native_state(0, s0);
        let x2 = law.native_state(0, s2);
        assert!(
            (x2 - x0).abs() < 1e-9,
            "p = {p}: back to {x2}, started at {x0}"
        );
    }
}

/// The model card of Xyce's TEAM regression netlist
/// (`memristorTEAM_test.cir`), SI units.
const XYCE_TEAM_SET: [(&str, f64); 9] = [
    ("ron", 50.0),
    ("roff", 1000.0),
    ("koff", 1.46e-18),
    ("kon", -4.68e-22),
    ("alphaoff", 10.0),
    ("alphaon", 10.0),
    ("ioff", 115e-6),
    ("ion", -8.9e-6),
    ("wc", 1e-12),
];

/// The regression set of Xyce's TEAM netlist in SI units (E7).
fn team_e7(iv: IvRelation) -> TeamLaw {
    let mut params = XYCE_TEAM_SET.to_vec();
    params.extend([("xon", 0.0), ("xoff", 3e-9), ("aon", 0.0), ("aoff", 3e-9)]);
    let dev = TeamDevice::from_params(&params, Control::Current, iv, true).unwrap();
    TeamLaw { devices: vec![dev] }
}

#[test]
fn team_e7_linear_and_exponential_resistance() {
    let (x, i) = dc(&team_e7(IvRelation::Linear), 0.1, 10e-3, 1e-9);
    close(x, 1.355861808e-10, "E7 linear x");
    close(i, 1.076013651e-3, "E7 linear i");
    close(0.1 / i, 92.93562391, "E7 linear R");
    let (x, i) = dc(&team_e7(IvRelation::Exponential), 0.1, 10e-3, 1e-9);
    close(x, 5.016603404e-10, "E7 exponential x");
    close(i, 1.211913469e-3, "E7 exponential i");
    // The asymptote (linear R): the drift dies where R = V/i_off, at
    // x = 2.588100687e-9 m; it moves just below, and not just above.
    let law = team_e7(IvRelation::Linear);
    let asymptote = 2.588100687e-9;
    let rate_at = |x: f64| law.state_rate(0, x, 0.1, law.current(0, x, 0.1).unwrap());
    assert!(
        rate_at(asymptote * (1.0 - 1e-8)) > 0.0,
        "E7 drifts below the asymptote"
    );
    assert_eq!(
        rate_at(asymptote * (1.0 + 1e-8)),
        0.0,
        "E7 dead above the asymptote"
    );
}

/// Xyce level 2, TEAM as Xyce codes it (E10): the regression set with
/// xscaling = 1e9 and wt = 4 is the paper's TEAM in nanometres (E7 x 1e9);
/// with every default (ion > 0, wt = 0) a device drifts at zero bias at
/// kon s (0/ion - 1)^3 = +8e-13 m/s.
#[test]
fn xyce_team_e10() {
    let mut params = XYCE_TEAM_SET.to_vec();
    params.extend([("xscaling", 1e9), ("wt", 4.0)]);
    let dev = XyceTeamDevice::from_params(&params).unwrap();
    let law = XyceTeamLaw { devices: vec![dev] };
    let (x, i) = dc(&law, 0.1, 10e-3, 1.0);
    close(x, 0.1355861808, "E10 x (nm)");
    close(i, 1.076013651e-3, "E10 i");

    let defaults = XyceTeamLaw {
        devices: vec![XyceTeamDevice::from_params(&[("x0", 1.5e-9)]).unwrap()],
    };
    assert_eq!(defaults.state_bounds(0), (f64::NEG_INFINITY, f64::INFINITY));
    let (x, _) = dc(&defaults, 0.0, 1e-3, 1e-9);
    close(x, 1.5e-9 + 8e-16, "E10 drift at zero bias (m)");
}

/// Xyce level 4, PEM (E13): a synthetic table f+ = 1 - x with the
/// regression decks' I-V parameters; x = 1 - 0.9 exp(-c1 G(0.8) T).
#[test]
fn pem_e13() {
    let table = std::sync::Arc::new(
        memnet_spice::DataTable::parse("synthetic", "# x, f+\n0,1\n1,0\n").unwrap(),
    );
    let mut law = PemLaw::default();
    law.push(
        &[
            ("i1", 85.37e-6),
            ("i2", 90.16e-6),
            ("v1", 0.265),
            ("v2", 0.265),
            ("g0", 130.72e-6),
            ("vp", 0.7),
            ("vn", 1.0),
            ("d1", 9.87),
            ("d2", -4.82),
            ("c1", 1000.0),
            ("c2", 1000.0),
            ("xo", 0.1),
        ],
        &[
            ("fxpdata".into(), table.clone()),
            ("fxmdata".into(), table.clone()),
        ],
    )
    .unwrap();
    assert_eq!(law.tables.len(), 1, "one table, shared");
    let (x, i) = dc(&law, 0.8, 10e-6, 1.0);
    close(x, 0.1150217799, "E13 x");
    close(i, 2.130575348e-4, "E13 i");
    // Past the table's last x, f+ is cut off; before the first x of the
    // f- table, f- is.
    assert_eq!(law.f_plus(0, 1.01), 0.0);
    assert_eq!(law.f_minus(0, -0.01), 0.0);
    assert_eq!(law.f_plus(0, -1.0), 2.0, "extrapolated below the table");
}

/// MemTorch's VTEAM set (E8).
fn vteam(kvatinsky: bool, extra: &[(&str, f64)]) -> TeamLaw {
    let mut given = vec![
        ("roff", 1000.0),
        ("ron", 50.0),
        ("kon", -10.0),
        ("koff", 5e-4),
        ("alphaon", 3.0),
        ("alphaoff", 1.0),
        ("von", -0.2),
        ("voff", 0.02),
        ("xon", 0.0),
        ("xoff", 3e-9),
    ];
    given.extend_from_slice(extra);
    let dev =
        TeamDevice::from_params(&given, Control::Voltage, IvRelation::Linear, kvatinsky).unwrap();
    TeamLaw { devices: vec![dev] }
}

#[test]
fn vteam_e8() {
    close(
        dc(&vteam(false, &[]), 0.1, 1e-6, 1e-9).0,
        2e-9,
        "E8 no window",
    );
    let windowed = vteam(true, &[("aoff", 3e-9), ("wc", 1e-10), ("aon", 0.0)]);
    close(
        dc(&windowed, 0.1, 1e-6, 1e-9).0,
        1.999995460e-9,
        "E8 Kvatinsky",
    );
    let back = vteam(false, &[("x0", 2e-9)]);
    close(dc(&back, -0.3, 1e-10, 1e-9).0, 1.875e-9, "E8 reset");
}

/// The Pershin-Di Ventra example parameters (E11).
fn threshold(alpha: f64) -> ThresholdLaw {
    let dev = ThresholdDevice::from_params(&[
        ("rmin", 1e3),
        ("rmax", 10e3),
        ("rinit", 7e3),
        ("alpha", alpha),
        ("beta", 2e12),
        ("vt", 1.6),
    ])
    .unwrap();
    ThresholdLaw { devices: vec![dev] }
}

#[test]
fn xspice_threshold_e11() {
    let r = |law: &ThresholdLaw, v: f64, t: f64| dc(law, v, t, 1e4).0;
    close(r(&threshold(0.0), 2.0, 2e-9), 8600.0, "E11 +2 V");
    close(r(&threshold(0.0), -2.0, 2e-9), 5400.0, "E11 -2 V");
    close(r(&threshold(0.0), 1.0, 2e-9), 7000.0, "E11 sub-threshold");
    close(r(&threshold(1e11), 1.0, 2e-9), 7200.0, "E11 alpha");
    // rmax is reached at 3.75 ns and the gate holds it there.
    close(r(&threshold(0.0), 2.0, 3.75e-9), 10e3, "E11 at rmax");
    let held = r(&threshold(0.0), 2.0, 5e-9);
    assert!((held - 10e3).abs() < 1e-6, "held at rmax: {held}");
}

#[test]
fn mmss_e12() {
    let law = |x0: f64| MmssLaw {
        devices: vec![MmssDevice::from_params(&[("x0", x0)]).unwrap()],
    };
    let (x, i) = dc(&law(0.0), 0.3, 1e-4, 1.0);
    close(x, 0.5334884661, "E12 x");
    close(i, 4.133953865e-4, "E12 i");
    let (x, i) = dc(&law(1.0), -0.3, 1e-4, 1.0);
    close(x, 0.4665115339, "E12 mirror x");
    close(i, -3.866046136e-4, "E12 mirror i");
    assert!(law(0.0).linear_in_voltage());
}

#[test]
fn yakopcic_e9() {
    let law = YakopcicLaw {
        devices: vec![YakopcicDevice::from_params(common::YAKOPCIC).unwrap()],
    };
    let (x, i) = dc(&law, 0.5, 1e-3, 1.0);
    close(x, 0.8697856542, "E9 +0.5 V x");
    close(i, 3.696974104e-3, "E9 +0.5 V i");
    close(dc(&law, -0.5, 1e-3, 1.0).0, 0.06720873182, "E9 -0.5 V x");
    assert!(!law.linear_in_voltage());
    // di/dv against a central difference.
    let (v, h) = (0.3, 1e-6);
    let num =
        (law.current(0, 0.4, v + h).unwrap() - law.current(0, 0.4, v - h).unwrap()) / (2.0 * h);
    let g = law.conductance(0, 0.4, v).unwrap();
    assert!((num - g).abs() < 1e-8 * g, "{num} vs {g}");
}

#[test]
fn nonlinear_drift_e6() {
    let law = |window: &str| NonlinearDriftLaw {
        devices: vec![NonlinearDriftDevice::from_params(&[("w0", 0.5)], window).unwrap()],
    };
    let (w, i) = dc(&law("none"), 0.9, 0.1, 1.0);
    close(w, 0.6016746331, "E6 no window");
    close(i, 0.3775585331, "E6 current");
    close(
        dc(&law("joglekar"), 0.9, 0.1, 1.0).0,
        0.6002959853,
        "E6 Joglekar p=1",
    );
    let (v, h) = (0.7, 1e-6);
    let l = law("none");
    let num = (l.current(0, 0.6, v + h).unwrap() - l.current(0, 0.6, v - h).unwrap()) / (2.0 * h);
    let g = l.conductance(0, 0.6, v).unwrap();
    assert!((num - g).abs() < 1e-7 * g, "{num} vs {g}");
}

/// Unusable parameters are refused with the parameter's name.
#[test]
fn bad_parameters_name_the_parameter() {
    let err = |r: Result<(), String>, name: &str| {
        let msg = r.unwrap_err();
        assert!(msg.starts_with(name), "{msg}");
    };
    err(
        HpDevice::from_params(&[("p", -1.0)], "joglekar").map(drop),
        "p = -1",
    );
    err(
        HpDevice::from_params(&[("ron", 0.0)], "none").map(drop),
        "ron = 0",
    );
    assert!(
        HpDevice::from_params(&[], "hann")
            .unwrap_err()
            .contains("hann")
    );
    err(
        TeamDevice::from_params(&[("ion", 1e-6)], Control::Current, IvRelation::Linear, true)
            .map(drop),
        "thresholds ion",
    );
    err(
        ThresholdDevice::from_params(&[("rmin", -1.0)]).map(drop),
        "rmin = -1",
    );
    err(
        YakopcicDevice::from_params(&[("xo", 0.1)]).map(drop),
        "xp = 1",
    );
    err(
        XyceTeamDevice::from_params(&[("wt", 5.0)]).map(drop),
        "wt = 5",
    );
    err(
        XyceTeamDevice::from_params(&[("wt", 1.0)]).map(drop),
        "p = 0.000115",
    );
    err(
        XyceTeamDevice::from_params(&[("ron", -1.0)]).map(drop),
        "ron = -1",
    );
    err(PemLaw::default().push(&[("v1", 0.0)], &[]), "v1 = 0");
    assert!(
        PemLaw::default()
            .push(&[], &[])
            .unwrap_err()
            .contains("table fxpdata is missing")
    );
    err(
        MmssDevice::from_params(&[("tau", 0.0)]).map(drop),
        "tau = 0",
    );
    err(
        NonlinearDriftDevice::from_params(&[("w0", 2.0)], "none").map(drop),
        "w0 = 2",
    );
}

/// E7's RESET (linear R, V = -0.3 V from x0 = 2.5 nm), through Xyce's
/// level 2 in nanometres (E10's equivalence), which neither clamps nor
/// bounds x: the state reaches 1.5 nm at t½ = 6.101268775e-5 s (checked as
/// |x(t½) - 1.5 nm| within the reference's 5e-9 relative in time times the
/// rate there), runs away, and creeps below a_on = 0 through Kvatinsky's
/// window to -3.703271300e-12 m at 1 ms (pitfall 5).
///
/// The runaway ends at rates near 1e16 nm/s against w_c = 1 pm: the
/// integrators take steps down to 6e-23 s (measured), below what double
/// precision resolves of t = 61 us (1.4e-20 s).
/// The drive is DC, so the law is autonomous: from t½ on it is integrated
/// in pieces that each start their clock at 0 (Rosenbrock, the window being
/// stiff), a piece that fails is retried 8x shorter and a piece that
/// succeeds lets the next one double.
#[test]
fn team_e7_reset_time_and_creep_below_a_on() {
    let mut params = XYCE_TEAM_SET.to_vec();
    params.extend([("xscaling", 1e9), ("wt", 4.0), ("x0", 2.5)]);
    let law = XyceTeamLaw {
        devices: vec![XyceTeamDevice::from_params(&params).unwrap()],
    };
    let (v, t_half, t_end) = (-0.3, 6.101268775e-5, 1e-3);
    let (mut x, i) = dc(&law, v, t_half, 1.0);
    let rate = law.state_rate(0, x, v, i).abs();
    let tol = 5e-9 * t_half * rate;
    assert!(
        (x - 1.5).abs() <= tol,
        "E7 RESET: x(t½) = {x:.12e} nm, off by {:.1e} (allowed {tol:.1e})",
        x - 1.5
    );
    let (mut t, mut piece) = (t_half, 1e-7f64);
    while t < t_end {
        let len = piece.min(t_end - t);
        let stepper = Stepper::Rosenbrock {
            rtol: 1e-10,
            atol: 1e-16,
            h0: Some(len * 1e-9),
            h_max: None,
            norm: memnet_solver::ode::ErrorNorm::Rms,
        };
        match dc_try(&law, x, v, len, &stepper) {
            Ok(next) => {
                (x, t) = (next, t + len);
                piece *= 2.0;
            }
            Err(e) => {
                piece /= 8.0;
                assert!(piece > 1e-15, "E7 RESET at t = {t:e}, x = {x:e} nm: {e}");
            }
        }
    }
    close(x * 1e-9, -3.703271300e-12, "E7 RESET x at 1 ms");
}
