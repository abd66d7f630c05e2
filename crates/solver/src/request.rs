//! What a user asks of a run, before memnet's defaults are filled in: the
//! one place where the CLI (`memnet simulate`) and the Python package turn
//! their arguments into [`SimOptions`], so that both run the same
//! integration for the same request (the Python tests compare the two to
//! 1e-12).

use memnet_graph::{Device, Network};
use memnet_spice::OptionStyle;

use crate::ode::ErrorNorm;
use crate::run::{Bounds, Method, SimOptions};

/// `locate_switches: None` locates switches with dopri5 on networks of at
/// most this many devices with state, and steps across them on larger
/// ones. Measured (`cargo run --release -p memnet-solver --example measure
/// switches`, docs/engine.md "Switches"): at the default rtol 1e-8 blind
/// stepping misses the tolerance on grids of threshold or Yakopcic devices
/// by up to 1.7e5x (all but the 4-device Yakopcic grid), and located
/// switches come within it (all but the 760-device Yakopcic grid);
/// location costs 1.8-2.6x the evaluations on 4 devices, 2.5-8.1x on 12,
/// 3.8-31x on 40 and 12-575x on 760, because every switch of every device
/// ends a step.
pub const AUTO_LOCATE_MAX_DEVICES: usize = 16;

/// The method a user asks for: one of [`Method`], or `Auto`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MethodChoice {
    /// Dopri5 when the network holds a device of any law but memnet's
    /// linear law (their switches and fast excursions need a controlled
    /// step, as SPICE's), RK4 otherwise. A fixed step `dt` alone selects
    /// RK4; tolerances or switch location select Dopri5.
    #[default]
    Auto,
    Given(Method),
}

/// A run as requested: every field that is `None` takes memnet's default
/// from the network (its `.tran` card) or from [`SimOptions::default`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunRequest {
    /// End time; default the stop time of the netlist's `.tran`.
    pub t_end: Option<f64>,
    pub method: MethodChoice,
    /// Step of Euler and RK4, first step of the adaptive methods; default
    /// t_end / 1000.
    pub dt: Option<f64>,
    /// Tolerances of the adaptive methods; default 1e-8 and 1e-10.
    pub rtol: Option<f64>,
    pub atol: Option<f64>,
    /// Locate switches (`Some(true)`), step across them (`Some(false)`),
    /// or `None`: locate them with dopri5 on networks of at most
    /// [`AUTO_LOCATE_MAX_DEVICES`] devices with state.
    pub locate_switches: Option<bool>,
    /// Largest adaptive step; default the `.tran` maximum step.
    pub max_step: Option<f64>,
    /// Error norm of the adaptive methods; default RMS.
    pub error_norm: Option<ErrorNorm>,
    pub bounds: Bounds,
    /// Sample interval; default the `.tran` step, else t_end / 100.
    pub sample_dt: Option<f64>,
    /// Reuse factorisations as CG preconditioners
    /// ([`crate::FactorReuse`], its default settings).
    pub reuse_factorization: bool,
    /// Fill-reducing ordering ([`crate::Ordering::Auto`] by default).
    pub ordering: crate::Ordering,
}

impl RunRequest {
    /// The method `Auto` stands for on `net` (see [`MethodChoice::Auto`]).
    pub fn method_on(&self, net: &Network) -> Method {
        match self.method {
            MethodChoice::Given(m) => m,
            MethodChoice::Auto if self.rtol.is_some() || self.atol.is_some() => Method::Dopri5,
            MethodChoice::Auto if self.locate_switches == Some(true) => Method::Dopri5,
            MethodChoice::Auto if self.dt.is_some() => Method::Rk4,
            MethodChoice::Auto => {
                let other_law = net
                    .edges
                    .iter()
                    .any(|e| matches!(e.device, Device::Native { .. }));
                if other_law {
                    Method::Dopri5
                } else {
                    Method::Rk4
                }
            }
        }
    }

    /// The options of this request on `net`, or what is wrong with it, the
    /// options named in `style` (`--rtol` on the command line, `rtol` in
    /// Python).
    pub fn options(&self, net: &Network, style: OptionStyle) -> Result<SimOptions, String> {
        let spell = |name: &str| style.spell(name);
        let t_end = match (self.t_end, net.tran) {
            (Some(t), _) => t,
            (None, Some(tran)) => tran.tstop,
            (None, None) => {
                return Err(format!(
                    "no end time: give {} or put a `.tran` card in the netlist",
                    spell("t_end")
                ));
            }
        };
        if !(t_end.is_finite() && t_end > 0.0) {
            return Err(format!("end time must be positive and finite, got {t_end}"));
        }
        let positive = |name: &str, v: f64| -> Result<f64, String> {
            if v.is_finite() && v > 0.0 {
                Ok(v)
            } else {
                Err(format!(
                    "{} must be positive and finite, got {v}",
                    spell(name)
                ))
            }
        };
        let method = self.method_on(net);
        let name = format!("{method:?}").to_lowercase();
        if self.locate_switches == Some(true) && method != Method::Dopri5 {
            return Err(format!(
                "{} needs {} dopri5 (the other methods step across switches)",
                spell("locate_switches"),
                spell("method")
            ));
        }
        let adaptive = matches!(method, Method::Dopri5 | Method::Rosenbrock);
        if !adaptive && (self.rtol.is_some() || self.atol.is_some()) {
            return Err(format!(
                "{} and {} set the tolerances of dopri5 and rosenbrock; {name} takes fixed steps \
                 of {} instead (add {} dopri5 to integrate to a tolerance)",
                spell("rtol"),
                spell("atol"),
                spell("dt"),
                spell("method")
            ));
        }
        if !adaptive && self.error_norm.is_some_and(|n| n != ErrorNorm::Rms) {
            return Err(format!(
                "{} sizes the error estimate of dopri5 and rosenbrock; the fixed-step methods \
                 have none",
                spell("error_norm")
            ));
        }
        let dt = positive("dt", self.dt.unwrap_or(t_end / 1000.0))?;
        let sample_dt = match self.sample_dt {
            Some(s) => positive("sample_dt", s)?,
            None => net
                .tran
                .map(|t| t.tstep)
                .filter(|s| s.is_finite() && *s > 0.0)
                .unwrap_or(t_end / 100.0),
        };
        let defaults = SimOptions::default();
        Ok(SimOptions {
            t_end,
            method,
            dt,
            rtol: positive("rtol", self.rtol.unwrap_or(defaults.rtol))?,
            atol: positive("atol", self.atol.unwrap_or(defaults.atol))?,
            bounds: self.bounds,
            sample_dt: Some(sample_dt),
            locate_switches: self.locate_switches.unwrap_or_else(|| {
                method == Method::Dopri5 && net.n_stateful_devices() <= AUTO_LOCATE_MAX_DEVICES
            }),
            max_step: match self.max_step {
                Some(h) => Some(positive("max_step", h)?),
                None => net
                    .tran
                    .and_then(|t| t.tmax)
                    .filter(|h| h.is_finite() && *h > 0.0),
            },
            error_norm: self.error_norm.unwrap_or(ErrorNorm::Rms),
            factor_reuse: self.reuse_factorization.then(crate::FactorReuse::default),
            ordering: self.ordering,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use memnet_graph::{GenSpec, GraphKind, generate};

    #[test]
    fn auto_picks_rk4_for_the_linear_law_and_names_options_as_spelt() {
        let net = generate(&GenSpec::new(GraphKind::Grid {
            rows: 2,
            cols: 2,
            diagonals: false,
        }))
        .unwrap();
        let r = RunRequest {
            t_end: Some(1.0),
            ..Default::default()
        };
        let o = r.options(&net, OptionStyle::Flag).unwrap();
        assert_eq!(o.method, Method::Rk4);
        assert_eq!((o.dt, o.sample_dt), (1e-3, Some(1e-2)));
        let tol = RunRequest {
            rtol: Some(1e-6),
            ..r.clone()
        };
        assert_eq!(
            tol.options(&net, OptionStyle::Flag).unwrap().method,
            Method::Dopri5
        );
        let bad = RunRequest {
            method: MethodChoice::Given(Method::Euler),
            ..tol
        };
        let e = bad.options(&net, OptionStyle::Flag).unwrap_err();
        assert!(e.starts_with("--rtol and --atol set"), "{e}");
        let e = RunRequest::default()
            .options(&net, OptionStyle::Keyword)
            .unwrap_err();
        assert!(e.contains("give t_end"), "{e}");
    }

    /// Switches are located by default with dopri5 on small networks only;
    /// an explicit choice wins either way, and rk4 never locates.
    #[test]
    fn switches_are_located_by_default_on_small_networks_only() {
        let grid = |rows: usize| {
            generate(&GenSpec::new(GraphKind::Grid {
                rows,
                cols: rows,
                diagonals: false,
            }))
            .unwrap()
        };
        let (small, large) = (grid(3), grid(4));
        assert!(small.n_stateful_devices() <= AUTO_LOCATE_MAX_DEVICES);
        assert!(large.n_stateful_devices() > AUTO_LOCATE_MAX_DEVICES);
        let dopri = RunRequest {
            t_end: Some(1.0),
            method: MethodChoice::Given(Method::Dopri5),
            ..Default::default()
        };
        let located = |r: &RunRequest, net: &Network| {
            r.options(net, OptionStyle::Flag).unwrap().locate_switches
        };
        assert!(located(&dopri, &small));
        assert!(!located(&dopri, &large));
        let on = RunRequest {
            locate_switches: Some(true),
            ..dopri.clone()
        };
        let off = RunRequest {
            locate_switches: Some(false),
            ..dopri.clone()
        };
        assert!(located(&on, &large));
        assert!(!located(&off, &small));
        let rk4 = RunRequest {
            method: MethodChoice::Given(Method::Rk4),
            ..dopri
        };
        assert!(!located(&rk4, &small));
        let e = RunRequest {
            locate_switches: Some(true),
            ..rk4
        }
        .options(&small, OptionStyle::Flag)
        .unwrap_err();
        assert!(e.contains("--locate-switches needs"), "{e}");
    }
}
