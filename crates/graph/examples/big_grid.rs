//! End-to-end scale check: generate an R x R grid (2 R (R - 1) edges),
//! write it as a canonical netlist, parse and elaborate it, fold it into a
//! network and build its topology. Prints the time of each stage.
//!
//! Run: `cargo run --release -p memnet-graph --example big_grid -- 1000 [--omega]`
//! under `/usr/bin/time -v` for the peak memory. `--omega` also factors the
//! unweighted reduced Laplacian (the implicit Omega operator) and applies
//! it once. `--direct` skips the netlist (generate -> topology only), to
//! measure this crate alone.

use std::sync::Arc;
use std::time::Instant;

use memnet_graph::{
    Drive, DriveMode, GenSpec, GraphKind, Network, OmegaOperator, Topology, generate,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let side: usize = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or(Ok(1000), |s| s.parse())?;
    let omega = args.iter().any(|a| a == "--omega");
    let direct = args.iter().any(|a| a == "--direct");
    let t_all = Instant::now();

    let t = Instant::now();
    let mut spec = GenSpec::new(GraphKind::Grid {
        rows: side,
        cols: side,
        diagonals: false,
    });
    spec.sources = vec![(0, 1.0)];
    spec.drive = Drive::Terminals {
        a: 0,
        b: side * side - 1,
        voltage: 1.0,
        mode: DriveMode::Constraint,
    };
    let generated = generate(&spec)?;
    println!(
        "generate         {:>8.3} s  ({} edges)",
        t.elapsed().as_secs_f64(),
        generated.n_edges()
    );

    let net = if direct {
        generated
    } else {
        through_netlist(generated)?
    };

    let t = Instant::now();
    let topo = Arc::new(Topology::new(&net));
    println!(
        "Topology::new    {:>8.3} s  (N={} M={} p={} L={})",
        t.elapsed().as_secs_f64(),
        topo.n_nodes,
        topo.n_edges,
        topo.n_components,
        topo.n_cycles()
    );

    if omega {
        let t = Instant::now();
        let op = OmegaOperator::new(topo.clone())?;
        println!(
            "Laplacian LLT    {:>8.3} s  {}",
            t.elapsed().as_secs_f64(),
            peak()
        );
        let t = Instant::now();
        let mut s = vec![0.0; topo.n_edges];
        s[0] = 1.0;
        let os = op.apply_omega(&s);
        println!(
            "apply_omega      {:>8.3} s  (Omega_00 = {:.6})",
            t.elapsed().as_secs_f64(),
            os[0]
        );
    }
    println!(
        "total            {:>8.3} s  {}",
        t_all.elapsed().as_secs_f64(),
        peak()
    );
    Ok(())
}

/// Peak resident memory so far (Linux `VmHWM`), for the stage printouts.
fn peak() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_string())
        })
        .map_or(String::new(), |kb| {
            format!("peak {} MB", kb.parse::<u64>().unwrap_or(0) >> 10)
        })
}

/// Network -> circuit -> canonical netlist text -> parse -> fold.
fn through_netlist(generated: Network) -> Result<Network, Box<dyn std::error::Error>> {
    let t = Instant::now();
    let circuit = generated.to_circuit();
    drop(generated);
    let mut text = Vec::new();
    memnet_spice::export::write_canonical(&circuit, &mut text)?;
    drop(circuit);
    let text = String::from_utf8(text)?;
    println!(
        "write netlist    {:>8.3} s  ({} MB)",
        t.elapsed().as_secs_f64(),
        text.len() >> 20
    );

    let t_e2e = Instant::now();
    let t = Instant::now();
    let circuit = memnet_spice::import_str(&text, "grid.cir", &Default::default())?;
    drop(text);
    println!(
        "parse+elaborate  {:>8.3} s  {}",
        t.elapsed().as_secs_f64(),
        peak()
    );

    let t = Instant::now();
    let net = Network::from_circuit(&circuit)?;
    drop(circuit);
    println!(
        "from_circuit     {:>8.3} s  {}",
        t.elapsed().as_secs_f64(),
        peak()
    );
    println!(
        "parse->network   {:>8.3} s  {}",
        t_e2e.elapsed().as_secs_f64(),
        peak()
    );
    Ok(net)
}
