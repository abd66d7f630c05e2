//! A compiled subcircuit body against the native law of the same model
//! (issue 11 target: at most 3x per evaluation): Biolek's HP subcircuit
//! (the LTspice form of tests/bodies.rs) and memnet's HP law with Biolek's
//! window, (a) one device's current, di/dv and state rate, (a') the same
//! as the engine asks for them (conductance, then the rate from what the
//! conductance kept), (b) one right-hand side of a 10x10 grid of them.
//!
//! `cargo bench -p memnet-solver --bench bodies`

use criterion::{Criterion, criterion_group, criterion_main};
use memnet_graph::Network;
use memnet_solver::{DeviceLaw, Laws, MemoryRhs};
use std::hint::black_box;

const BODY: &str = "\
.SUBCKT hpb plus minus PARAMS: Ron=100 Roff=16k Rinit=11k D=10n uv=10f p=2
Gx 0 x value={I(Emem)*uv*Ron/D**2*(1-(V(x)-stp(-I(Emem)))**(2*p))}
Cx x 0 1 IC={(Roff-Rinit)/(Roff-Ron)}
Raux x 0 1e30
Emem plus aux value={-I(Emem)*V(x)*(Roff-Ron)}
Roff aux minus {Roff}
.ENDS hpb
";
const NATIVE: &str =
    ".model hpb memristor law=hp window=biolek ron=100 roff=16k rinit=11k d=10n uv=10f p=2\n";

/// A rows x rows grid of devices between neighbouring nodes, driven at one
/// corner, grounded at the other.
fn grid(rows: usize, body: bool) -> Network {
    let mut s = String::from("grid\n");
    s.push_str(if body { BODY } else { NATIVE });
    let node = |r: usize, c: usize| format!("n{r}_{c}");
    let mut k = 0;
    let mut dev = |s: &mut String, a: String, b: String| {
        k += 1;
        if body {
            s.push_str(&format!("X{k} {a} {b} hpb\n"));
        } else {
            s.push_str(&format!("ymemristor m{k} {a} {b} hpb\n"));
        }
    };
    for r in 0..rows {
        for c in 0..rows {
            if c + 1 < rows {
                dev(&mut s, node(r, c), node(r, c + 1));
            }
            if r + 1 < rows {
                dev(&mut s, node(r, c), node(r + 1, c));
            }
        }
    }
    s.push_str(&format!(
        "V1 {} 0 1\nR0 {} 0 1m\n.end\n",
        node(0, 0),
        node(rows - 1, rows - 1)
    ));
    let c = memnet_spice::import_str(&s, "grid.cir", &Default::default()).expect("deck");
    Network::from_circuit(&c).expect("network")
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("bodies");
    group.sample_size(20);
    group.measurement_time(std::time::Duration::from_secs(3));
    for (name, body) in [("body", true), ("native", false)] {
        let net = grid(10, body);
        let (laws, _) = Laws::from_network(&net).expect("laws");
        let x = laws.initial_state(0);
        group.bench_function(format!("law_eval_{name}"), |b| {
            b.iter(|| {
                let (i, g) = laws.current_and_conductance(0, x, black_box(0.3)).unwrap();
                black_box(g);
                black_box(laws.state_rate(0, x, 0.3, i))
            })
        });
        // As the engine evaluates a law linear in v: the conductance
        // before the network solve, the rate after it, sharing a memo.
        let mut memo = vec![0.0; laws.memo_len(0)];
        group.bench_function(format!("law_eval_engine_{name}"), |b| {
            b.iter(|| {
                let g = laws.conductance_keep(0, x, 0.0, &mut memo).unwrap();
                let v = black_box(0.3);
                black_box(laws.state_rate_kept(0, x, v, g * v, &memo))
            })
        });
        let mut rhs = MemoryRhs::new(&net, net.tran_times(1.0)).expect("rhs");
        let w = rhs.initial_state();
        let mut dw = vec![0.0; w.len()];
        group.bench_function(format!("rhs_grid10_{name}"), |b| {
            b.iter(|| rhs.eval(0.0, black_box(&w), &mut dw).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
