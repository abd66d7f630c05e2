//! Write the benchmark's canonical grid netlist (n x n nodes, 2 n (n-1)
//! memristors) to a file, for timing and peak-memory runs of the importer:
//! `cargo run --release -p memnet-spice --example gen_grid -- 1001 grid.cir`
//! then `/usr/bin/time -v target/release/examples/import grid.cir --quiet`.

use std::fmt::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(n), Some(out)) = (
        args.get(1).and_then(|s| s.parse::<usize>().ok()),
        args.get(2),
    ) else {
        eprintln!("usage: gen_grid N OUT");
        std::process::exit(2);
    };
    let mut s = String::with_capacity(n * n * 150);
    s.push_str("generated canonical grid\n.param ron=1 roff=11\nV0 m0 0 DC 1\n");
    let node = |k: usize| {
        if k == 0 {
            "0".to_string()
        } else {
            format!("n{k}")
        }
    };
    let mut e = 0usize;
    for r in 0..n {
        for c in 0..n {
            let u = r * n + c;
            for v in [(c + 1 < n).then(|| u + 1), (r + 1 < n).then(|| u + n)]
                .into_iter()
                .flatten()
            {
                let tail = if e == 0 { "m0".to_string() } else { node(u) };
                let w0 = format!("{:.3}", 0.05 + 0.9 * ((e * 7919) % 1000) as f64 / 1000.0);
                let _ = writeln!(
                    s,
                    "XM{e} {tail} {} memristor ron=1 roff=11 w0={w0} alpha=0 beta=10",
                    node(v)
                );
                e += 1;
            }
        }
    }
    s.push_str(".tran 0.01 1\n.end\n");
    if let Err(e) = std::fs::write(out, s) {
        eprintln!("{out}: {e}");
        std::process::exit(1);
    }
}
