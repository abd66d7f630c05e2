//! The paper's dense formula (theory.md 3.3 item 1), a reference for tests
//! on small networks:
//!
//!   x = R_on i = (I + xi Omega W)^{-1} Omega S,
//!   dw/dt = alpha w - (1/beta) P x        (P: polarity, theory.md 3.5),
//!
//! with Omega = I - B_r^T (B_r B_r^T)^{-1} B_r (theory.md 2.4). Uniform
//! device parameters, series sources only. O(M^3) per evaluation.

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use memnet_graph::{Device, MemristorParams, Network};
use memnet_spice::TranTimes;

use crate::SolveError;
use crate::error::Element;
use crate::ode::OdeSystem;

/// The cycle-space projector Omega_A = I - B_r^T (B_r B_r^T)^{-1} B_r of the
/// network's edges (theory.md 2.4), with one ground row removed per
/// connected component.
pub fn omega_dense(net: &Network) -> Result<Mat<f64>, SolveError> {
    let n = net.n_nodes();
    let m = net.n_edges();
    // Components by union-find over edges; drop the lowest node of each.
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for e in &net.edges {
        if e.tail >= n || e.head >= n {
            return Err(SolveError::InvalidOption(format!(
                "edge `{}` refers to a missing node",
                e.name
            )));
        }
        let (a, b) = (find(&mut parent, e.tail), find(&mut parent, e.head));
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut row_of = vec![usize::MAX; n];
    let mut rows = 0;
    for (v, row) in row_of.iter_mut().enumerate() {
        if find(&mut parent, v) != v {
            *row = rows;
            rows += 1;
        }
    }
    let mut br = Mat::<f64>::zeros(rows, m);
    for (k, e) in net.edges.iter().enumerate() {
        if e.tail == e.head {
            continue;
        }
        if row_of[e.tail] != usize::MAX {
            br[(row_of[e.tail], k)] += 1.0;
        }
        if row_of[e.head] != usize::MAX {
            br[(row_of[e.head], k)] -= 1.0;
        }
    }
    let mut omega = Mat::<f64>::identity(m, m);
    if rows > 0 {
        let lap = &br * br.transpose();
        let llt = lap.llt(Side::Lower).map_err(|_| SolveError::Singular {
            node: String::new(),
            t: 0.0,
            reason: "reduced Laplacian B_r B_r^T is singular".into(),
        })?;
        let y = llt.solve(&br);
        omega -= br.transpose() * y;
    }
    Ok(omega)
}

/// Dense reference right-hand side; see the module documentation.
#[derive(Debug)]
pub struct DenseMemoryRhs {
    omega: Mat<f64>,
    params: MemristorParams,
    polarity: Vec<f64>,
    sources: Vec<Option<memnet_graph::SeriesSource>>,
    times: TranTimes,
    w0: Vec<f64>,
    s: Vec<f64>,
}

impl DenseMemoryRhs {
    /// Requires: every edge a memristor with the same ron, roff, alpha,
    /// beta; no current sources or voltage constraints.
    pub fn new(net: &Network, times: TranTimes) -> Result<Self, SolveError> {
        if let Some(j) = net.injections.first() {
            return Err(SolveError::InvalidDevice {
                element: Element::new(&j.name, j.loc.as_ref()),
                reason: "the dense reference handles series sources only".into(),
            });
        }
        if let Some(c) = net.constraints.first() {
            return Err(SolveError::InvalidDevice {
                element: Element::new(&c.name, c.loc.as_ref()),
                reason: "the dense reference handles series sources only".into(),
            });
        }
        let mut first: Option<MemristorParams> = None;
        let mut polarity = Vec::new();
        let mut w0 = Vec::new();
        for e in &net.edges {
            let Device::Memristor(p) = e.device else {
                return Err(SolveError::InvalidDevice {
                    element: Element::new(&e.name, e.loc.as_ref()),
                    reason: "the dense reference handles memristors only".into(),
                });
            };
            let f = *first.get_or_insert(p);
            if (f.ron, f.roff, f.alpha, f.beta) != (p.ron, p.roff, p.alpha, p.beta) {
                return Err(SolveError::InvalidDevice {
                    element: Element::new(&e.name, e.loc.as_ref()),
                    reason: "the dense reference needs uniform ron, roff, alpha, beta".into(),
                });
            }
            if !(p.ron > 0.0 && p.xi() > -1.0 && p.beta != 0.0) {
                return Err(SolveError::InvalidDevice {
                    element: Element::new(&e.name, e.loc.as_ref()),
                    reason: "needs ron > 0, xi > -1, beta != 0".into(),
                });
            }
            polarity.push(p.polarity);
            w0.push(p.w0);
        }
        let params = first.unwrap_or(MemristorParams {
            ron: 1.0,
            roff: 1.0,
            w0: 0.0,
            alpha: 0.0,
            beta: 1.0,
            polarity: 1.0,
        });
        Ok(DenseMemoryRhs {
            omega: omega_dense(net)?,
            params,
            polarity,
            sources: net
                .edges
                .iter()
                .map(|e| e.source.as_deref().cloned())
                .collect(),
            times,
            w0,
            s: vec![0.0; net.n_edges()],
        })
    }

    pub fn omega(&self) -> faer::MatRef<'_, f64> {
        self.omega.as_ref()
    }

    pub fn initial_state(&self) -> Vec<f64> {
        self.w0.clone()
    }

    /// Series source vector S(t) (volts, per edge).
    pub fn sources(&mut self, t: f64) -> &[f64] {
        for (s, src) in self.s.iter_mut().zip(&self.sources) {
            *s = src.as_ref().map_or(0.0, |src| src.value(t, self.times));
        }
        &self.s
    }

    /// x = (I + xi Omega W)^{-1} Omega S(t) (theory.md 3.2).
    pub fn x(&mut self, t: f64, w: &[f64]) -> Result<Vec<f64>, SolveError> {
        let m = self.w0.len();
        if w.len() != m {
            return Err(SolveError::DimensionMismatch {
                got: w.len(),
                want: m,
            });
        }
        let xi = self.params.xi();
        self.sources(t);
        let s = Mat::<f64>::from_fn(m, 1, |i, _| self.s[i]);
        let omega_s = &self.omega * &s;
        let a = Mat::<f64>::from_fn(m, m, |i, j| {
            (if i == j { 1.0 } else { 0.0 }) + xi * self.omega[(i, j)] * w[j]
        });
        let x = a.partial_piv_lu().solve(&omega_s);
        if (0..m).any(|i| !x[(i, 0)].is_finite()) {
            return Err(SolveError::Singular {
                node: String::new(),
                t,
                reason: "I + xi Omega W is singular".into(),
            });
        }
        Ok((0..m).map(|i| x[(i, 0)]).collect())
    }
}

impl OdeSystem for DenseMemoryRhs {
    fn dim(&self) -> usize {
        self.w0.len()
    }

    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), SolveError> {
        let x = self.x(t, y)?;
        let p = self.params;
        for k in 0..y.len() {
            dy[k] = p.alpha * y[k] - self.polarity[k] * x[k] / p.beta;
        }
        Ok(())
    }
}

/// x = (I + xi Omega W)^{-1} Omega S(t) for `net` (built from scratch;
/// waveform defaults from the network's `.tran`, else t_end = max(t, 1)).
pub fn dense_x(net: &Network, t: f64, w: &[f64]) -> Result<Vec<f64>, SolveError> {
    DenseMemoryRhs::new(net, net.tran_times(t.max(1.0)))?.x(t, w)
}

/// dw/dt by the dense formula (theory.md (ME) with polarity 3.5).
pub fn dense_memory_rhs(
    net: &Network,
    t: f64,
    w: &[f64],
    dw: &mut [f64],
) -> Result<(), SolveError> {
    let mut d = DenseMemoryRhs::new(net, net.tran_times(t.max(1.0)))?;
    if dw.len() != w.len() {
        return Err(SolveError::DimensionMismatch {
            got: dw.len(),
            want: w.len(),
        });
    }
    d.rhs(t, w, dw)
}
