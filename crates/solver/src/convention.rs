//! The map between the canonical form (ME) and the later papers' convention
//! (theory.md 3.7): x = 1 - w, chi = xi/(1+xi), beta' = beta (1+xi). At
//! alpha = 0 the two models coincide under this map; for alpha != 0 they
//! differ (alpha w vs -alpha x) and the map refuses.
//!
//! This is the ONE place the conversion is implemented.

use serde::Serialize;

/// Parameters in the later convention: R = R_off (1 - chi x),
/// dx/dt = -alpha x + (1/beta') (I - chi Omega X)^{-1} Omega S.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct XConvention {
    pub chi: f64,
    pub beta_prime: f64,
}

/// (xi, beta) of (ME) -> (chi, beta') at alpha = 0; `Err` if alpha != 0 or
/// xi <= -1.
pub fn to_x_convention(xi: f64, beta: f64, alpha: f64) -> Result<XConvention, String> {
    if alpha != 0.0 {
        return Err(format!(
            "alpha = {alpha}: the w and x conventions differ for alpha != 0 (docs/model.md)"
        ));
    }
    if !(xi > -1.0 && xi.is_finite()) {
        return Err(format!("xi = {xi} must be finite and > -1"));
    }
    Ok(XConvention {
        chi: xi / (1.0 + xi),
        beta_prime: beta * (1.0 + xi),
    })
}

/// Inverse map: (chi, beta') -> (xi, beta); chi < 1.
pub fn from_x_convention(c: XConvention) -> Result<(f64, f64), String> {
    if !(c.chi < 1.0 && c.chi.is_finite()) {
        return Err(format!("chi = {} must be finite and < 1", c.chi));
    }
    let xi = c.chi / (1.0 - c.chi);
    Ok((xi, c.beta_prime / (1.0 + xi)))
}

/// State map x = 1 - w (in place).
pub fn w_to_x(w: &mut [f64]) {
    for v in w {
        *v = 1.0 - *v;
    }
}
