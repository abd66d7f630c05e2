//! Running the memory equation over time with a time-stepping method:
//! bounds handling (clip, sticky, first hit), sample streaming and the run
//! report. The exact method ([`crate::exact`]) is dispatched from here.

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::time::Instant;

use memnet_graph::Network;

use crate::SolveError;
use crate::device::DeviceLaw;
use crate::memory::MemoryRhs;
use crate::ode::{OdeSystem, integrate};
use crate::probe::{ProbeScratch, Probes};
use crate::run::{
    BoundHit, Bounds, ChargeMonitor, Method, SampleSink, SimOptions, SimReport, w_stats,
};

/// The memory equation with a boundary rule; records the first bound hit.
pub(crate) struct Bounded<'a> {
    pub rhs: &'a mut MemoryRhs,
    pub hit: Option<BoundHit>,
    /// Where samples go, when this run writes them (see
    /// [`OdeSystem::observe_sample`]).
    pub out: Option<Outputs<'a>>,
    /// Locate the switches of the laws and the bound hits
    /// ([`OdeSystem::switches`]).
    pub locate_switches: bool,
}

/// A run's sample writer: the outputs, their sink and scratch.
pub(crate) struct Outputs<'a> {
    /// The network the probes name, or `None` when the samples are the
    /// states as integrated (no mapping, no solve).
    pub net: Option<&'a Network>,
    pub probes: &'a Probes,
    pub sink: &'a mut dyn SampleSink,
    pub native: Vec<f64>,
    pub scratch: ProbeScratch,
}

impl Bounded<'_> {
    /// The bounds of device `s`'s integrated state (each law's domain:
    /// [0, 1] for w and x, [x_on, x_off] for TEAM, [rmin, rmax] for the
    /// threshold law, unbounded for log-odds states).
    fn bounds(&self, s: usize) -> (f64, f64) {
        self.rhs.laws().state_bounds(s)
    }

    pub fn check_initial(&mut self, t: f64, w: &[f64]) {
        if let Some(s) = (0..self.rhs.n_memristors()).find(|&s| {
            let (lo, hi) = self.bounds(s);
            w[s] <= lo || w[s] >= hi
        }) {
            let (lo, hi) = self.bounds(s);
            let edge = self.rhs.state_edges()[s];
            self.hit = Some(BoundHit {
                t,
                edge,
                name: self.rhs.memristor_name(s).to_string(),
                bound: if w[s] <= lo { lo } else { hi },
            });
        }
    }
}

impl OdeSystem for Bounded<'_> {
    fn dim(&self) -> usize {
        self.rhs.dim()
    }

    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), SolveError> {
        self.rhs.eval(t, y, dy)
    }

    fn next_breakpoint(&self, t: f64) -> Option<f64> {
        self.rhs.source_breakpoint(t)
    }

    fn switch_count(&self) -> usize {
        if self.locate_switches {
            self.rhs.n_memristors() * self.rhs.switches_per_device()
        } else {
            0
        }
    }

    fn switches(&self, y: &[f64], g: &mut [f64]) {
        self.rhs.switches(y, g);
    }

    fn diagonal_jacobian(&mut self, _t: f64, y: &[f64], d: &mut [f64]) -> Result<(), SolveError> {
        self.rhs.rate_slopes(y, d);
        Ok(())
    }

    fn after_step(&mut self, t_old: f64, y_old: &[f64], t_new: f64, y: &mut [f64]) -> bool {
        let mut changed = false;
        // Extra states (a body's further capacitors) have no bounds.
        for s in 0..self.rhs.n_memristors() {
            let x = y[s];
            let (lo, hi) = self.bounds(s);
            if x > lo && x < hi {
                continue;
            }
            let bound = if x <= lo { lo } else { hi };
            let old = y_old[s];
            if old > lo && old < hi {
                let frac = ((old - bound) / (old - x)).clamp(0.0, 1.0);
                let t = t_old + frac * (t_new - t_old);
                if self.hit.as_ref().is_none_or(|h| t < h.t) {
                    self.hit = Some(BoundHit {
                        t,
                        edge: self.rhs.state_edges()[s],
                        name: self.rhs.memristor_name(s).to_string(),
                        bound,
                    });
                }
            }
            if x != bound && !x.is_nan() && bound.is_finite() {
                y[s] = bound;
                changed = true;
            }
        }
        changed
    }

    fn project_sample(&self, y: &mut [f64]) {
        let m = self.rhs.n_memristors();
        for (s, x) in y[..m].iter_mut().enumerate() {
            let (lo, hi) = self.bounds(s);
            *x = x.clamp(lo, hi);
        }
    }

    fn observe_sample(&mut self, t: f64, y: &[f64]) -> Result<(), SolveError> {
        let Some(out) = &mut self.out else {
            return Ok(());
        };
        let Some(net) = out.net else {
            let m = self.rhs.n_memristors();
            return out.sink.sample(t, &y[..m]).map_err(SolveError::Io);
        };
        // States in each law's own variable (log-odds mapped back), then
        // whatever else was asked for, from a solve at this state.
        for (d, (n, &x)) in out.native.iter_mut().zip(y).enumerate() {
            *n = self.rhs.laws().native_state(d, x);
        }
        self.rhs
            .probe(net, out.probes, t, y, &out.native, &mut out.scratch)?;
        out.sink
            .sample(t, &out.scratch.values)
            .map_err(SolveError::Io)
    }
}

/// Integrate the memory equation of `net` from t = 0 to `opts.t_end`,
/// streaming samples of every memristor state (in its law's own variable)
/// to `sink` and the current time to `progress`.
pub fn simulate(
    net: &Network,
    opts: &SimOptions,
    sink: &mut dyn SampleSink,
    progress: &mut dyn FnMut(f64),
) -> Result<SimReport, SolveError> {
    simulate_outputs(net, opts, &Probes::states(net), sink, progress)
}

/// Per device (state slot, in edge order), whether it holds state: false
/// for static devices ([`Network::is_static`]).
pub(crate) fn stateful_devices(net: &Network) -> Vec<bool> {
    (0..net.edges.len())
        .filter(|&k| net.edges[k].device.is_memristor())
        .map(|k| !net.is_static(k))
        .collect()
}

/// As [`simulate`], writing the outputs `probes` (node voltages, source
/// and device currents, states; [`Probes::names`] are the columns) at each
/// sample.
pub fn simulate_outputs(
    net: &Network,
    opts: &SimOptions,
    probes: &Probes,
    sink: &mut dyn SampleSink,
    progress: &mut dyn FnMut(f64),
) -> Result<SimReport, SolveError> {
    simulate_until(net, opts, probes, sink, &mut |t| {
        progress(t);
        ControlFlow::Continue(())
    })
}

/// As [`simulate_outputs`], with a `progress` that may stop the run after
/// any step or sample ([`SolveError::Interrupted`]; what was sampled so
/// far has reached the sink): how the Python package answers Ctrl-C.
pub fn simulate_until(
    net: &Network,
    opts: &SimOptions,
    probes: &Probes,
    sink: &mut dyn SampleSink,
    progress: &mut dyn FnMut(f64) -> ControlFlow<()>,
) -> Result<SimReport, SolveError> {
    simulate_from(Cow::Borrowed(net), opts, probes, sink, progress, None)
}

/// Where a resumed run begins: the time of an earlier run's last sample
/// and every device's state there, in its law's own variable, by state
/// slot (a static device's slot is ignored). [`resume_point`] reads one
/// from a saved run.
#[derive(Clone, Debug, PartialEq)]
pub struct ResumePoint {
    pub t: f64,
    pub states: Vec<f64>,
}

/// The point to continue `run` (a saved run of `net` with outputs
/// `probes`) from: its last complete sample. The run's columns must be
/// exactly `probes`' names and hold every device's state; a run whose
/// outputs were narrowed to leave states out cannot be continued.
pub fn resume_point(
    net: &Network,
    probes: &Probes,
    run: &crate::SavedRun,
) -> Result<ResumePoint, String> {
    // The first column that differs, or the first one only one side has.
    let (saved, ours) = (run.names.len(), probes.names().len());
    let differs = run
        .names
        .iter()
        .zip(probes.names())
        .position(|(a, b)| a != b)
        .or((saved != ours).then(|| saved.min(ours)));
    if let Some(k) = differs {
        let shown = |v: Option<&str>| v.map_or("nothing".to_string(), |s| format!("`{s}`"));
        return Err(format!(
            "its columns are not this run's outputs: column {} is {} where this run writes {} \
             (resume with the netlist and outputs that wrote it)",
            k + 1,
            shown(run.names.get(k).map(String::as_str)),
            shown(probes.names().get(k).map(|n| n.as_str())),
        ));
    }
    let Some(last) = run.times.len().checked_sub(1) else {
        return Err("it holds no complete sample to continue from".into());
    };
    let slots = net.edges.iter().filter(|e| e.device.is_memristor()).count();
    let mut states = vec![f64::NAN; slots];
    let row = run.row(last);
    for (c, d) in probes.state_columns() {
        states[d] = row[c];
    }
    let stateful = stateful_devices(net);
    if let Some(d) = (0..slots).find(|&d| stateful[d] && !states[d].is_finite()) {
        let name = crate::memristor_names(net).swap_remove(d);
        return Err(if probes.state_columns().any(|(_, s)| s == d) {
            format!("`{name}`'s last state is not a finite number")
        } else {
            format!(
                "it does not hold the state of `{name}` (its outputs were narrowed by .save, \
                 .print, .probe or --save); only a run that writes every state can be continued"
            )
        });
    }
    Ok(ResumePoint {
        t: run.times[last],
        states,
    })
}

/// Drops the first sample (a resumed run's start, which the earlier run
/// wrote already).
struct AfterFirst<'a> {
    inner: &'a mut dyn SampleSink,
    skipped: bool,
}

impl SampleSink for AfterFirst<'_> {
    fn sample(&mut self, t: f64, row: &[f64]) -> std::io::Result<()> {
        if self.skipped {
            self.inner.sample(t, row)
        } else {
            self.skipped = true;
            Ok(())
        }
    }
}

/// As [`simulate_until`], starting at `from` (an earlier run's last
/// sample, which is not written again) instead of t = 0 at the netlist's
/// initial state. The step grid of the fixed-step methods and the sample
/// times are counted from `from.t`, so a run resumed at one of its own
/// samples steps as the uninterrupted run did where that sample lies on
/// its step grid; the adaptive methods start with a fresh step size.
///
/// A network handed over (`Cow::Owned`) is dropped once the solver holds
/// what it needs, unless the outputs are more than the states: at ten
/// million devices that frees 1.4 GB before the first factorisation
/// (docs/engine.md, "Ten million devices").
pub fn simulate_from(
    net: Cow<'_, Network>,
    opts: &SimOptions,
    probes: &Probes,
    sink: &mut dyn SampleSink,
    progress: &mut dyn FnMut(f64) -> ControlFlow<()>,
    from: Option<&ResumePoint>,
) -> Result<SimReport, SolveError> {
    let start = Instant::now();
    let t0 = from.map_or(0.0, |f| f.t);
    if !(t0.is_finite() && t0 >= 0.0 && t0 <= opts.t_end) {
        return Err(SolveError::InvalidOption(format!(
            "a run resumed at t = {t0} must start inside [0, {}]",
            opts.t_end
        )));
    }
    if !(opts.t_end.is_finite() && opts.t_end >= 0.0) {
        return Err(SolveError::InvalidOption(format!(
            "end time {} must be finite and non-negative",
            opts.t_end
        )));
    }
    let mut rhs = MemoryRhs::with_ordering(&net, net.tran_times(opts.t_end), opts.ordering)?;
    let n = rhs.n_memristors();
    let dim = rhs.dim();
    let stateful = stateful_devices(&net);
    // Outputs other than the states as integrated need the network.
    let plain = probes.is_plain_states(n)
        && (opts.method == Method::Exact || !rhs.laws().any_transformed());
    let net = if plain {
        drop(net);
        None
    } else {
        Some(net)
    };
    let net = net.as_deref();
    if opts.method == Method::Exact {
        // The exact method needs no state to continue: each sample is
        // solved from t = 0; the samples up to t0 are skipped.
        let outputs = net.map(|net| (net, probes));
        let after = from.map(|f| f.t);
        return crate::exact::simulate_exact(&mut rhs, opts, outputs, sink, progress, start, after);
    }
    let stepper = opts.stepper()?;
    rhs.set_sticky(opts.bounds == Bounds::Sticky);
    rhs.set_clamp_resistance(true);
    rhs.set_factor_reuse(opts.factor_reuse);
    let mut w = match from {
        None => rhs.initial_state_at_operating_point()?,
        Some(f) => {
            if f.states.len() != n {
                return Err(SolveError::InvalidOption(format!(
                    "a resume point holds {} states, the network {n}",
                    f.states.len()
                )));
            }
            if dim > n {
                // A body's further capacitors are no output; they cannot
                // be read back.
                let d = rhs.device_of_component(n);
                return Err(SolveError::InvalidOption(format!(
                    "`{}` carries internal states besides its output state; such a run \
                     cannot be resumed",
                    rhs.memristor_name(d)
                )));
            }
            let mut w = rhs.initial_state();
            for d in 0..n {
                if stateful[d] {
                    w[d] = rhs.laws().internal_state(d, f.states[d]);
                }
            }
            w
        }
    };
    let mut monitor = ChargeMonitor::new_at(&rhs, t0, &w);
    let mut skip;
    let sink: &mut dyn SampleSink = if from.is_some() {
        skip = AfterFirst {
            inner: sink,
            skipped: false,
        };
        &mut skip
    } else {
        sink
    };
    let mut samples = 0u64;
    let mut bounded = Bounded {
        rhs: &mut rhs,
        hit: None,
        out: Some(Outputs {
            net,
            probes,
            sink,
            native: vec![0.0; n],
            scratch: ProbeScratch::default(),
        }),
        locate_switches: opts.locate_switches,
    };
    bounded.check_initial(t0, &w);
    let sampling = opts.sampling();
    let stats = {
        let mut on_sample = |t: f64, y: &[f64]| -> Result<(), SolveError> {
            samples += 1;
            monitor.observe(t, y);
            Ok(())
        };
        let mut on_step = |t: f64, _y: &[f64]| -> Result<(), SolveError> {
            match progress(t) {
                ControlFlow::Continue(()) => Ok(()),
                ControlFlow::Break(()) => Err(SolveError::Interrupted { t }),
            }
        };
        integrate(
            &mut bounded,
            &mut w,
            t0,
            opts.t_end,
            &stepper,
            &sampling,
            &mut on_sample,
            &mut on_step,
        )
    };
    // A step-size underflow names the device whose error estimate was
    // largest, at the last accepted state (which `w` holds).
    let stats = match stats {
        Err(SolveError::StepSizeUnderflow {
            t,
            h,
            component: Some(d),
        }) if d < dim => {
            let explicit = opts.method == Method::Dopri5;
            return Err(rhs.tolerance_not_met(t, h, &w, d, explicit, opts.locate_switches));
        }
        other => other?,
    };
    let hit = bounded.hit.take();
    // A resumed run's first sample was the earlier run's last.
    if from.is_some() {
        samples = samples.saturating_sub(1);
    }
    w.truncate(n);
    for (d, x) in w.iter_mut().enumerate() {
        *x = rhs.laws().native_state(d, *x);
    }
    // Static devices (diodes, selectors) hold no state: not counted.
    let w: Vec<f64> = w
        .iter()
        .zip(&stateful)
        .filter(|(_, s)| **s)
        .map(|(x, _)| *x)
        .collect();
    let (w_min, w_max, w_mean) = w_stats(&w);
    let (_, factor_nnz) = rhs.sparsity();
    let (cg_iterations, reused_solves) = rhs.reuse_counts();
    Ok(SimReport {
        method: opts.method,
        cg_iterations,
        reused_solves,
        memristors: w.len(),
        unknowns: rhs.n_unknowns(),
        factor_nnz,
        ordering: rhs.ordering_used(),
        steps: stats.steps,
        rejected_steps: stats.rejected_steps,
        switches_located: stats.switches_located,
        switch_retries: stats.switch_retries,
        rhs_evals: stats.rhs_evals,
        factorizations: rhs.factorizations(),
        newton_iterations: rhs.newton_iterations(),
        samples,
        wall_time_s: start.elapsed().as_secs_f64(),
        linear_law: rhs.laws().is_all_linear(),
        w_min,
        w_max,
        w_mean,
        first_bound_hit: hit,
        charge_drift: monitor.result(),
        charge_note: monitor.note.clone(),
    })
}
