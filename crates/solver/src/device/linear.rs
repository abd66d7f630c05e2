//! memnet's linear law (docs/model.md; theory.md 1.1, 1.2, 3.5, 3.8).

use memnet_graph::MemristorParams;

use super::{DeviceFault, DeviceLaw, conductance_of};
use crate::SolveError;
use crate::error::invalid;

/// memnet's linear law (docs/model.md; theory.md 1.1, 1.2, 3.5, 3.8):
///
///   R(w) = ron (1 + xi w),   xi = roff/ron - 1,
///   dw/dt = alpha w - polarity ron i / beta.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinearLaw {
    pub ron: Vec<f64>,
    pub xi: Vec<f64>,
    pub alpha: Vec<f64>,
    pub beta: Vec<f64>,
    pub polarity: Vec<f64>,
    pub w0: Vec<f64>,
}

impl LinearLaw {
    /// Appends one device after checking its parameters (an error names
    /// the device `name` written at `loc`).
    pub fn push_checked(
        &mut self,
        p: &MemristorParams,
        name: &str,
        loc: Option<&memnet_spice::Loc>,
    ) -> Result<(), SolveError> {
        let bad = |r: String| invalid(name, loc, r);
        if !(p.ron.is_finite() && p.ron > 0.0) {
            return Err(bad(format!("ron = {} must be positive and finite", p.ron)));
        }
        if !(p.roff.is_finite() && p.roff > 0.0) {
            return Err(bad(format!(
                "roff = {} must be positive and finite (xi = {} must be > -1)",
                p.roff,
                p.xi()
            )));
        }
        if !(p.w0.is_finite() && (0.0..=1.0).contains(&p.w0)) {
            return Err(bad(format!("w0 = {} must lie in [0, 1]", p.w0)));
        }
        if !p.alpha.is_finite() {
            return Err(bad(format!("alpha = {} must be finite", p.alpha)));
        }
        if !(p.beta.is_finite() && p.beta != 0.0) {
            return Err(bad(format!(
                "beta = {} must be finite and non-zero",
                p.beta
            )));
        }
        if p.polarity != 1.0 && p.polarity != -1.0 {
            return Err(bad(format!("polarity = {} must be +1 or -1", p.polarity)));
        }
        self.ron.push(p.ron);
        self.xi.push(p.xi());
        self.alpha.push(p.alpha);
        self.beta.push(p.beta);
        self.polarity.push(p.polarity);
        self.w0.push(p.w0);
        Ok(())
    }

    /// R(w) = ron (1 + xi w) of device `d`.
    #[inline]
    pub fn resistance(&self, d: usize, w: f64) -> f64 {
        self.ron[d] * (1.0 + self.xi[d] * w)
    }

    /// Whether all devices share one alpha, and which.
    pub fn uniform_alpha(&self) -> Option<f64> {
        let a = *self.alpha.first()?;
        self.alpha.iter().all(|&x| x == a).then_some(a)
    }
}

impl DeviceLaw for LinearLaw {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn len(&self) -> usize {
        self.ron.len()
    }

    fn initial_state(&self, d: usize) -> f64 {
        self.w0[d]
    }

    fn linear_in_voltage(&self) -> bool {
        true
    }

    fn state_bounds(&self, _d: usize) -> (f64, f64) {
        (0.0, 1.0)
    }

    fn state_name(&self) -> &'static str {
        "w"
    }

    #[inline]
    fn conductance(&self, d: usize, w: f64, _v: f64) -> Result<f64, DeviceFault> {
        let r = self.resistance(d, w);
        conductance_of(r)
    }

    #[inline]
    fn current(&self, d: usize, w: f64, v: f64) -> Result<f64, DeviceFault> {
        Ok(self.conductance(d, w, v)? * v)
    }

    #[inline]
    fn state_rate(&self, d: usize, w: f64, _v: f64, i: f64) -> f64 {
        self.alpha[d] * w - self.polarity[d] * self.ron[d] * i / self.beta[d]
    }
}
