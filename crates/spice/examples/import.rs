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
        match memnet_spice::parse_file(Path::new(path)) {
            Ok(d) => println!("{} top-level statements", d.body.stmts.len()),
            Err(d) => {
                eprintln!("{}", d.render());
                std::process::exit(1);
            }
        }
        return;
    }
    match memnet_spice::import_file(Path::new(path), &memnet_spice::ImportOptions::default()) {
        Ok(c) if quiet => println!("{} elements", c.elements.len()),
        Ok(c) => print!("{}", memnet_spice::dump_circuit(&c)),
        Err(d) => {
            eprintln!("{}", d.render());
            std::process::exit(1);
        }
    }
}
