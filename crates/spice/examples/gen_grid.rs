//! Write the benchmark's canonical grid netlist (n x n nodes, 2 n (n-1)
//! memristors) to a file, for timing and peak-memory runs of the importer:
//! `cargo run --release -p memnet-spice --example gen_grid -- 1001 grid.cir`
//! then `/usr/bin/time -v target/release/examples/import grid.cir --quiet`.

#[path = "../benches/common/mod.rs"]
mod common;

use common::grid_netlist;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(n), Some(out)) = (
        args.get(1).and_then(|s| s.parse::<usize>().ok()),
        args.get(2),
    ) else {
        eprintln!("usage: gen_grid N OUT");
        std::process::exit(2);
    };
    let s = grid_netlist(n);
    if let Err(e) = std::fs::write(out, s) {
        eprintln!("{out}: {e}");
        std::process::exit(1);
    }
}
