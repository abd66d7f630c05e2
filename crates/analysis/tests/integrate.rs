//! `dynamics::integrate` (the solver's Dormand-Prince 5(4) behind the
//! analysis's sampling and bound rules): samples on the requested grid,
//! recovery from a right-hand side that fails in a trial stage, errors at
//! the start, and the stop at the first exit from [0, 1].

use memnet_analysis::AnalysisError;
use memnet_analysis::dynamics::{Tolerance, integrate};

/// dy/dt = -1/y fails for y <= 0; y(t) = sqrt(1 - 2t) reaches 0 at t = 0.5.
fn inverse(_t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), AnalysisError> {
    if y[0] <= 0.0 {
        return Err(AnalysisError::Numerical("y <= 0".into()));
    }
    dy[0] = -1.0 / y[0];
    Ok(())
}

/// dy/dt = -y, undefined (an error) for y < 0, as a memristor's rhs is
/// for a non-positive resistance. Exact y = e^{-t} never gets there, but
/// the first trial steps (h0 = 2.5) have stages below 0.
fn decay(_t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), AnalysisError> {
    if y[0] < 0.0 {
        return Err(AnalysisError::Numerical("y < 0".into()));
    }
    dy[0] = -y[0];
    Ok(())
}

#[test]
fn samples_on_the_grid_and_recovers_from_failing_stages() {
    let traj = integrate(decay, &[1.0], 100.0, 4, Tolerance::default(), false).unwrap();
    assert_eq!(traj.times, vec![0.0, 25.0, 50.0, 75.0, 100.0]);
    assert!(traj.exit.is_none());
    // The failing stages were rejected, not accepted.
    assert!(traj.rejected > 0, "{traj:?}");
    for (t, y) in traj.times.iter().zip(&traj.states) {
        // rtol 1e-11, atol 1e-13 per step on a decaying solution: the
        // global error stays far below 1e-9.
        let exact = (-t).exp();
        assert!((y[0] - exact).abs() < 1e-9, "t = {t}: {} vs {exact}", y[0]);
    }
}

#[test]
fn failure_at_the_initial_state_is_an_error() {
    let r = integrate(inverse, &[-1.0], 1.0, 4, Tolerance::default(), false);
    assert_eq!(r.unwrap_err(), AnalysisError::Numerical("y <= 0".into()));
    let r = integrate(inverse, &[1.0], 0.0, 4, Tolerance::default(), false);
    assert!(matches!(r, Err(AnalysisError::Invalid(_))));
}

#[test]
fn stops_at_the_first_step_that_leaves_the_unit_box() {
    // dy/dt = 1 from 0.25: leaves [0, 1] at t = 0.75; steps end on the
    // samples (spacing 0.1), so the exit is recorded at t = 0.8 and the
    // last kept sample is t = 0.7.
    let f = |_t: f64, _y: &[f64], dy: &mut [f64]| {
        dy[0] = 1.0;
        Ok(())
    };
    let traj = integrate(f, &[0.25], 1.0, 10, Tolerance::default(), true).unwrap();
    let exit = traj.exit.as_ref().unwrap();
    assert_eq!(exit.state, 0);
    assert!((exit.t - 0.8).abs() < 1e-12, "{}", exit.t);
    let (t_last, y_last) = traj.last();
    assert!((t_last - 0.7).abs() < 1e-12, "{t_last}");
    assert!((y_last[0] - 0.95).abs() < 1e-12);
    assert_eq!(traj.times.len(), 8);
    assert!(traj.states.iter().all(|y| (0.0..=1.0).contains(&y[0])));
}
