//! Timings for the report (run in release):
//!   cargo run --release -p memnet-analysis --example perf [-- --big N]
//!
//! * the Jacobian at one state, dense path (jacobian_dense) and nodal
//!   column-by-column path (jacobian_columns), on grids with about 1,000
//!   and 10,000 edges;
//! * the conserved-quantity (C1) and flux-law (C2) checks on an N x N grid
//!   (default 1000 x 1000, about 2M edges): they need only the unweighted
//!   Laplacian factorisation plus one solve per sample.

use std::time::Instant;

use memnet_analysis::dynamics::{Tolerance, simulate};
use memnet_analysis::flux::check_flux_law;
use memnet_analysis::jacobian::{jacobian_columns, jacobian_dense};
use memnet_analysis::memory::check_charge_law;
use memnet_analysis::model::Model;
use memnet_graph::OmegaOperator;
use memnet_graph::{Device, Edge, MemristorParams, Network, SeriesSource};
use memnet_spice::Source;

/// rows x cols grid, edges in theory.md E4 order, xi = 10, beta = 10,
/// w0 in (0.3, 0.7) and small DC sources on every edge (deterministic).
fn grid(rows: usize, cols: usize) -> Network {
    let mut edges = Vec::new();
    let mut k = 0usize;
    let mut push = |t: usize, h: usize, edges: &mut Vec<Edge>| {
        let x = ((k * 2654435761) % 1000) as f64 / 1000.0;
        edges.push(Edge {
            name: format!("xm{k}").into(),
            tail: t,
            head: h,
            device: Device::Memristor(MemristorParams {
                ron: 1.0,
                roff: 11.0,
                w0: 0.3 + 0.4 * x,
                alpha: 0.0,
                beta: 10.0,
                polarity: 1.0,
            }),
            source: Some(Box::new(SeriesSource {
                name: String::new(),
                source: Source::dc(0.2 * (x - 0.5)),
                sign: 1.0,
                loc: None,
            })),
            loc: None,
        });
        k += 1;
    };
    for r in 0..rows {
        for c in 0..cols {
            let n = r * cols + c;
            if c + 1 < cols {
                push(n, n + 1, &mut edges);
            }
            if r + 1 < rows {
                push(n, n + cols, &mut edges);
            }
        }
    }
    Network {
        title: format!("{rows}x{cols} grid"),
        node_names: (0..rows * cols).map(|i| format!("n{i}")).collect(),
        edges,
        ..Default::default()
    }
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let big = args
        .iter()
        .position(|a| a == "--big")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000usize);
    let skip_dense_10k = args.iter().any(|a| a == "--no-dense-10k");

    for (rows, cols) in [(23, 23), (71, 71)] {
        let net = grid(rows, cols);
        let model = Model::from_network(&net, 1.0)?;
        let w = model.w0();
        let m = model.n_edges();
        let t = Instant::now();
        let mut trace = 0.0;
        jacobian_columns(&model, 0.0, &w, |j, col| trace += col[j])?;
        let t_nodal = secs(t);
        let t_dense = if m > 5000 && skip_dense_10k {
            f64::NAN
        } else {
            let t = Instant::now();
            let jd = jacobian_dense(&model, 0.0, &w)?;
            let el = secs(t);
            let tr: f64 = (0..m).map(|i| jd[(i, i)]).sum();
            assert!(
                (tr - trace).abs() <= 1e-9 * (1.0 + tr.abs()),
                "{tr} vs {trace}"
            );
            el
        };
        println!(
            "jacobian {rows}x{cols} grid, M = {m}: nodal columns {t_nodal:.3} s, dense {t_dense:.3} s"
        );
    }

    let t = Instant::now();
    let net = grid(big, big);
    let model = Model::from_network(&net, 1.0)?;
    drop(net);
    println!(
        "{big}x{big} grid: M = {}, N = {}, model built in {:.2} s",
        model.n_edges(),
        model.topo.n_nodes,
        secs(t)
    );
    // A short trajectory (the checks' input): Dopri5 to t = 1e-3.
    let t = Instant::now();
    let traj = simulate(
        &model,
        1e-3,
        2,
        Tolerance {
            rtol: 1e-8,
            atol: 1e-10,
        },
    )?;
    println!(
        "  trajectory to t = 1e-3: {} steps, {} rhs evaluations, {:.2} s",
        traj.steps,
        traj.rhs_evals,
        secs(t)
    );
    let t = Instant::now();
    let proj = OmegaOperator::new(model.topo.clone())?;
    let t_proj = secs(t);
    let t = Instant::now();
    let c1 = check_charge_law(&model, &proj, &traj);
    let t_c1 = secs(t);
    let t = Instant::now();
    let c2 = check_flux_law(&model, &proj, &traj);
    let t_c2 = secs(t);
    println!("  projector (unweighted Laplacian factorisation): {t_proj:.2} s");
    println!(
        "  charge law (C1), {} samples: {t_c1:.3} s, {}",
        traj.times.len(),
        c1.render()
    );
    println!(
        "  flux law (C2), {} samples: {t_c2:.3} s, {}",
        traj.times.len(),
        c2.render()
    );
    println!(
        "  conserved-quantity + flux-law checks incl. factorisation: {:.2} s",
        t_proj + t_c1 + t_c2
    );
    Ok(())
}
