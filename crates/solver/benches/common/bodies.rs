//! The grid of the body-cost measurements, shared by `benches/bodies.rs`
//! (criterion) and `examples/measure.rs bodies` (the two laws interleaved
//! in one run): Biolek's HP subcircuit in the LTspice form of
//! tests/bodies.rs, and memnet's HP law with Biolek's window.

use memnet_graph::Network;

pub const BODY: &str = "\
.SUBCKT hpb plus minus PARAMS: Ron=100 Roff=16k Rinit=11k D=10n uv=10f p=2
Gx 0 x value={I(Emem)*uv*Ron/D**2*(1-(V(x)-stp(-I(Emem)))**(2*p))}
Cx x 0 1 IC={(Roff-Rinit)/(Roff-Ron)}
Raux x 0 1e30
Emem plus aux value={-I(Emem)*V(x)*(Roff-Ron)}
Roff aux minus {Roff}
.ENDS hpb
";
pub const NATIVE: &str =
    ".model hpb memristor law=hp window=biolek ron=100 roff=16k rinit=11k d=10n uv=10f p=2\n";

/// A rows x rows grid of devices between neighbouring nodes, driven at one
/// corner, grounded at the other.
pub fn grid(rows: usize, body: bool) -> Network {
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
