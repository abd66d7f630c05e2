//! Fuzz parse + elaborate: any bytes (any encoding) must give a circuit or
//! a diagnostic, never a panic, hang or stack overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memnet_spice::{ImportOptions, decode::decode, import_str};

fuzz_target!(|data: &[u8]| {
    let (text, _) = decode(data.to_vec());
    if let Err(d) = import_str(&text, "fuzz.cir", &ImportOptions::default()) {
        let _ = d.render();
    }
});
