//! The benchmark's canonical grid netlist, shared by `benches/parse.rs` and
//! `examples/gen_grid.rs` (which writes it to a file for peak-memory runs).

use std::fmt::Write;

/// An n x n grid: node (r, c) is `n<r*n+c>` (node 0 is ground), edges to
/// the right and down, each a canonical memristor; one DC source.
pub fn grid_netlist(n: usize) -> String {
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
    s
}
