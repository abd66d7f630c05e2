//! NARMA10 on a memristive reservoir: a measurement, not a test.
//!
//!     cargo run --release -p memnet-reservoir --example narma -- [NODES] [P_EXTRA] [V] [GAIN] [BIAS] [ALPHA] [BETA] [SEED]
//!
//! A random connected graph (a ring plus chords with probability
//! P_EXTRA), memnet's linear law with R_on = 1, R_off = 11 (xi = 10),
//! every edge carrying a series source b_k + GAIN m_k (u - 0.25) with a
//! random +-1 mask and b_k uniform in [-BIAS, BIAS], one input per period
//! of 1 (10 RK4 steps), V virtual nodes; ridge readout as in apps.md B.2.

use std::time::Instant;

use memnet_graph::{GenSpec, GraphKind, WInit, generate};
use memnet_reservoir::{Drive, Split, Target, drive, read_series_csv, select_and_score};
use rand::{Rng, SeedableRng};

fn main() {
    let a: Vec<f64> = std::env::args()
        .skip(1)
        .map(|s| s.parse().expect("a number"))
        .collect();
    let get = |i: usize, d: f64| a.get(i).copied().unwrap_or(d);
    let (nodes, p_extra, v) = (get(0, 20.0) as usize, get(1, 0.25), get(2, 1.0) as usize);
    let (gain, bias, alpha, beta, seed) = (
        get(3, 0.5),
        get(4, 1.0),
        get(5, -0.2),
        get(6, 2.0),
        get(7, 1.0) as u64,
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/narma10/narma10_seed42.csv");
    let s = read_series_csv(&path).expect("fixture");
    let u = &s.u[..5200];
    let mut spec = GenSpec::new(GraphKind::RandomConnected { n: nodes, p_extra });
    spec.seed = seed;
    spec.device.ron = 1.0;
    spec.device.roff = 11.0;
    spec.device.alpha = alpha;
    spec.device.beta = beta;
    spec.w_init = WInit::Constant { w: 0.5 };
    let mut net = generate(&spec).expect("network");
    // Optional spread of time scales: alpha_k uniform in [ALPHA_MIN, ALPHA].
    if let Some(lo) = a.get(8) {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed + 200);
        for e in &mut net.edges {
            if let memnet_graph::Device::Memristor(p) = &mut e.device {
                p.alpha = r.random_range(*lo..=alpha);
            }
        }
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed + 100);
    let edges: Vec<(usize, f64, f64)> = (0..net.edges.len())
        .map(|k| {
            (
                k,
                if rng.random::<bool>() { 1.0 } else { -1.0 },
                rng.random_range(-bias..=bias),
            )
        })
        .collect();
    let d = Drive {
        edges,
        gain,
        centre: 0.25,
        virtual_nodes: v,
        ..Drive::new()
    };
    let start = Instant::now();
    let x = drive(&net, &d, u, &mut |_| std::ops::ControlFlow::Continue(())).expect("drive");
    let t_drive = start.elapsed().as_secs_f64();
    let grid = [1e-11, 1e-9, 1e-7, 1e-5, 1e-3, 1e-1];
    let score = select_and_score(&x, &s.targets(Target::Now), Split::NARMA10, &grid);
    println!(
        "{} memristors, {} features: NARMA10 y[t] test NRMSE {:.4} (validation {:.4}, lambda {:e}); drive {:.2} s",
        net.edges.len(),
        x.cols,
        score.test_nrmse,
        score.validation_nrmse,
        score.lambda,
        t_drive
    );
}
