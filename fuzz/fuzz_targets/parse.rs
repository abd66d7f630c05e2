//! Fuzz parse + elaborate: any bytes (any encoding) must give a circuit or
//! a diagnostic, never a panic, hang or stack overflow. The same bytes are
//! also read as a two-column table file (Xyce PEM's `fxpdata=`), the other
//! text input a netlist can point at.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memnet_spice::{DataTable, ImportOptions, decode::decode, import_str};

fuzz_target!(|data: &[u8]| {
    let (text, _) = decode(data.to_vec());
    if let Err(d) = import_str(&text, "fuzz.cir", &ImportOptions::default()) {
        let _ = d.render();
    }
    if let Ok(t) = DataTable::parse("fuzz.csv", &text) {
        assert!(t.points.len() >= 2);
        assert!(t.points.windows(2).all(|w| w[0].0 < w[1].0));
    }
});
