//! Fuzz parse + elaborate: any bytes (any encoding) must give a circuit or
//! a diagnostic, never a panic, hang or stack overflow; a circuit's output
//! cards are resolved against its network. The same bytes are also read as
//! a two-column table file (Xyce PEM's `fxpdata=`) and as a `PWL FILE=`
//! source file, the other text inputs a netlist can point at. Device laws are built and evaluated, so users'
//! subcircuit bodies go through the body compiler and its Newton.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memnet_spice::{DataTable, ImportOptions, decode::decode, import_str, parse_pwl_file};

fuzz_target!(|data: &[u8]| {
    let (text, _) = decode(data.to_vec());
    match import_str(&text, "fuzz.cir", &ImportOptions::default()) {
        Err(d) => {
            let _ = d.render();
        }
        // The output cards (`.print {expr}` ...) resolve against the network.
        Ok(c) => {
            if let Ok(net) = memnet_graph::Network::from_circuit(&c) {
                for card in &c.outputs {
                    let _ = memnet_solver::Probes::parse(&net, &card.items);
                }
                // Device laws, compiled subcircuit bodies included, are
                // built and evaluated: errors, never panics or hangs.
                if let Ok((laws, _)) = memnet_solver::device::Laws::from_network(&net) {
                    use memnet_solver::DeviceLaw;
                    for d in 0..laws.len().min(8) {
                        let x = laws.initial_state(d);
                        for v in [0.0, 0.7, -3.0] {
                            let _ = laws.current(d, x, v);
                            let _ = laws.conductance(d, x, v);
                            let _ = laws.state_rate(d, x, v, 0.0);
                        }
                    }
                }
            }
        }
    }
    if let Ok(t) = DataTable::parse("fuzz.csv", &text) {
        assert!(t.points.len() >= 2);
        assert!(t.points.windows(2).all(|w| w[0].0 < w[1].0));
    }
    // And as a `PWL FILE=` source file.
    if let Ok(p) = parse_pwl_file(&text) {
        assert!(!p.is_empty());
        assert!(p.windows(2).all(|w| w[0].0 <= w[1].0));
    }
});
