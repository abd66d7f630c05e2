//! Import a netlist and print its flat circuit (or the diagnostic).
//! `cargo run --release -p memnet-spice --example import -- FILE [--quiet]`
//! `--quiet` prints only the element count (for timing/memory runs);
//! `--parse-only` stops after parsing (text -> Deck).

use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: import FILE [--quiet]");
        std::process::exit(2);
    };
    let quiet = args.iter().any(|a| a == "--quiet");
    if args.iter().any(|a| a == "--parse-only") {
        let t0 = std::time::Instant::now();
        match memnet_spice::parse_file(Path::new(path)) {
            Ok(d) => {
                let secs = t0.elapsed().as_secs_f64();
                let mb = std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1e6);
                println!(
                    "{} top-level statements; parse {secs:.3} s, {:.1} MB/s",
                    d.body.stmts.len(),
                    mb / secs
                );
                std::mem::forget(d);
            }
            Err(d) => {
                eprintln!("{}", d.render());
                std::process::exit(1);
            }
        }
        return;
    }
    let t0 = std::time::Instant::now();
    let r = memnet_spice::import_file(Path::new(path), &memnet_spice::ImportOptions::default());
    let secs = t0.elapsed().as_secs_f64();
    match r {
        Ok(c) if quiet => {
            let mb = std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1e6);
            println!(
                "{} elements; import {secs:.3} s, {:.1} MB/s",
                c.elements.len(),
                mb / secs
            );
            // Freeing millions of small allocations is not part of the import.
            std::mem::forget(c);
        }
        Ok(c) => print!("{}", memnet_spice::dump_circuit(&c)),
        Err(d) => {
            eprintln!("{}", d.render());
            std::process::exit(1);
        }
    }
}
