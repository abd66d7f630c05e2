//! Named outputs (docs/engine.md, "Outputs") against Tellegen's theorem:
//! in any circuit the powers absorbed by all elements sum to zero. With
//! SPICE's conventions that is
//!
//! ```text
//! sum over devices of p(device)
//!   + sum over voltage sources of V i(V)      (i through the source, + to -)
//!   + sum over current sources of (v(n+) - v(n-)) I = 0,
//! ```
//!
//! which checks every node potential (folded-away nodes too) and every
//! source current in ngspice's sign at once. Random circuits with fixed
//! seeds: memristors and resistors on a random connected graph, sources
//! folded into devices, ideal sources that tie nodes in chains (supernodes
//! of several members, grounded or floating) and a current source.

use memnet_graph::Network;
use memnet_solver::{Method, Probes, SimOptions, simulate_outputs};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

struct Deck {
    text: String,
    devices: Vec<String>,
    /// (name, value) of every voltage source.
    vsources: Vec<(String, f64)>,
    /// (name, n+, n-, value) of every current source.
    isources: Vec<(String, String, String, f64)>,
    /// (device, its nodes) of devices behind a folded series source: the
    /// potential of the folded-away node gives the device's voltage.
    folded: Vec<(String, String, String)>,
}

fn random_deck(seed: u64) -> Deck {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = rng.random_range(6..14);
    let node = |k: usize| {
        if k == 0 {
            "0".to_string()
        } else {
            format!("n{k}")
        }
    };
    let mut d = Deck {
        text: format!("tellegen {seed}\n"),
        devices: Vec::new(),
        vsources: Vec::new(),
        isources: Vec::new(),
        folded: Vec::new(),
    };
    let mut edges: Vec<(usize, usize)> = (1..n).map(|k| (rng.random_range(0..k), k)).collect();
    for _ in 0..n {
        let a = rng.random_range(0..n);
        let b = rng.random_range(0..n);
        if a != b {
            edges.push((a, b));
        }
    }
    for (k, &(a, b)) in edges.iter().enumerate() {
        let (a, b) = (node(a), node(b));
        let name = if rng.random_bool(0.6) {
            let w0: f64 = rng.random_range(0.1..0.9);
            let roff: f64 = rng.random_range(2.0..20.0);
            // Some devices get a series source through an internal node,
            // which the importer folds into the edge.
            if rng.random_bool(0.3) {
                let v: f64 = rng.random_range(-2.0..2.0);
                let mid = format!("m{k}");
                let (p, q) = if rng.random_bool(0.5) {
                    (&a, &mid)
                } else {
                    (&mid, &a)
                };
                d.text.push_str(&format!("vs{k} {p} {q} dc {v}\n"));
                d.vsources.push((format!("vs{k}"), v));
                // The folded node at either end of the device.
                let (first, second) = if rng.random_bool(0.5) {
                    (mid.clone(), b.clone())
                } else {
                    (b.clone(), mid.clone())
                };
                d.text.push_str(&format!(
                    "x{k} {first} {second} memristor ron=1 roff={roff} w0={w0}\n"
                ));
                d.folded.push((format!("x{k}"), first, second));
            } else {
                d.text.push_str(&format!(
                    "x{k} {a} {b} memristor ron=1 roff={roff} w0={w0}\n"
                ));
            }
            format!("x{k}")
        } else {
            let r: f64 = rng.random_range(0.5..5.0);
            d.text.push_str(&format!("r{k} {a} {b} {r}\n"));
            format!("r{k}")
        };
        d.devices.push(name);
    }
    // Ideal sources tying nodes: a chain n1 <- n2 <- n3 (floating or
    // grounded at its start), not foldable (the nodes have other
    // connections).
    let grounded = rng.random_bool(0.5);
    let chain: Vec<usize> = (1..4.min(n)).collect();
    if grounded {
        let v: f64 = rng.random_range(-1.0..1.0);
        d.text
            .push_str(&format!("vt0 {} 0 dc {v}\n", node(chain[0])));
        d.vsources.push(("vt0".into(), v));
    }
    for w in chain.windows(2) {
        let v: f64 = rng.random_range(-1.0..1.0);
        let name = format!("vt{}", w[1]);
        d.text
            .push_str(&format!("{name} {} {} dc {v}\n", node(w[1]), node(w[0])));
        d.vsources.push((name, v));
    }
    let i: f64 = rng.random_range(-0.5..0.5);
    let (p, q) = (node(n - 1), node(rng.random_range(0..n - 1)));
    d.text.push_str(&format!("i1 {p} {q} dc {i}\n"));
    d.isources.push(("i1".into(), p, q, i));
    d.text.push_str(".tran 0.01 0.1\n.end\n");
    d
}

#[test]
fn powers_balance_on_random_circuits() {
    let mut checked = 0;
    for seed in 0..24u64 {
        let d = random_deck(seed);
        let circuit = memnet_spice::import_str(&d.text, "t.cir", &Default::default()).unwrap();
        let net = match Network::from_circuit(&circuit) {
            Ok(n) => n,
            // A random draw can leave a node with only a current source,
            // which is a cut set: not a circuit to check.
            Err(e) => {
                assert!(e.render().contains("current"), "{}", e.render());
                continue;
            }
        };
        let mut items: Vec<String> = d.devices.iter().map(|n| format!("p({n})")).collect();
        items.extend(d.vsources.iter().map(|(n, _)| format!("i({n})")));
        for (_, p, q, _) in &d.isources {
            items.push(format!("v({p},{q})"));
        }
        for (x, mid, b) in &d.folded {
            items.push(format!("v({mid},{b})"));
            items.push(format!("i({x})"));
            items.push(format!("p({x})"));
        }
        let probes = Probes::parse(&net, &items).unwrap();
        let opts = SimOptions {
            t_end: 0.1,
            method: Method::Rk4,
            dt: 0.01,
            sample_dt: Some(0.05),
            ..SimOptions::default()
        };
        let mut samples: Vec<(f64, Vec<f64>)> = Vec::new();
        simulate_outputs(&net, &opts, &probes, &mut samples, &mut |_| {}).unwrap();
        assert_eq!(samples.len(), 3);
        let nd = d.devices.len();
        let nv = d.vsources.len();
        for (t, row) in &samples {
            let devices: f64 = row[..nd].iter().sum();
            let vs: f64 = d
                .vsources
                .iter()
                .zip(&row[nd..nd + nv])
                .map(|((_, v), i)| v * i)
                .sum();
            let ni = d.isources.len();
            let is: f64 = d
                .isources
                .iter()
                .zip(&row[nd + nv..nd + nv + ni])
                .map(|((_, _, _, i), v)| v * i)
                .sum();
            // A folded device: p = v(mid, b) i, with mid the folded node.
            let col = |name: &str| {
                let k = probes.names().iter().position(|n| n == name).unwrap();
                row[k]
            };
            for (x, mid, b) in &d.folded {
                let (v, i, p) = (
                    col(&format!("v({mid},{b})")),
                    col(&format!("i({x})")),
                    col(&format!("p({x})")),
                );
                assert!(
                    (v * i - p).abs() <= 1e-12 * (p.abs() + 1.0),
                    "seed {seed}: {x}: v {v} i {i} p {p}\n{}",
                    d.text
                );
            }
            let scale: f64 = row[..nd].iter().map(|p| p.abs()).sum::<f64>() + 1.0;
            let total = devices + vs + is;
            assert!(
                total.abs() <= 1e-12 * scale,
                "seed {seed}, t = {t}: powers sum to {total:e} (devices {devices}, \
                 voltage sources {vs}, current sources {is})\n{}",
                d.text
            );
        }
        checked += 1;
    }
    assert!(checked >= 16, "{checked} circuits checked");
}

/// Output names a user can write (`.print`, `--save`), mutated: a set of
/// outputs or an error naming the item, never a panic.
#[test]
fn output_names_never_panic() {
    let d = random_deck(3);
    let circuit = memnet_spice::import_str(&d.text, "t.cir", &Default::default()).unwrap();
    let net = Network::from_circuit(&circuit).unwrap();
    let seeds = [
        "v(n1)",
        "v(n1,n2)",
        "i(vt2)",
        "p(x0)",
        "n(x0_x)",
        "{v(n1)-v(n2)*2}",
        "{abs(i(vt2))/max(1,p(r1))}",
        "{v(n1) ? i(vt2) : 0}",
        "states",
        "v(n*)",
        "i(x?)",
        "p(*)",
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let alphabet: Vec<char> = "(){},:_!vinpx0123 +-*/?".chars().collect();
    let (mut ok, mut errors) = (0, 0);
    for _ in 0..3000 {
        let mut s: Vec<char> = seeds[rng.random_range(0..seeds.len())].chars().collect();
        for _ in 0..rng.random_range(0..4) {
            let k = rng.random_range(0..=s.len());
            match rng.random_range(0..3) {
                0 if k < s.len() => {
                    s.remove(k);
                }
                1 => s.insert(k, alphabet[rng.random_range(0..alphabet.len())]),
                _ => s.truncate(k),
            }
        }
        let item: String = s.into_iter().collect();
        match Probes::parse(&net, std::slice::from_ref(&item)) {
            Ok(p) => {
                assert!(!p.is_empty());
                ok += 1;
            }
            Err(e) => {
                assert!(!e.is_empty());
                errors += 1;
            }
        }
    }
    assert!(ok > 100 && errors > 100, "ok {ok}, errors {errors}");
}

/// HSPICE's wildcards in output cards (`.probe v(x*.*) i(v?)`): `*` any
/// run of characters, `?` one; the matches in circuit order, each once; a
/// pattern that matches nothing is reported, not an error.
#[test]
fn wildcards_expand_to_the_matching_outputs() {
    let deck = "\
wildcards
.subckt hpq plus minus
Vam plus p1 0
Gq 0 q value={I(Vam)}
Cq q 0 1 IC=0
Rq q 0 1e12
Rm p1 minus R={1k+1k*V(q)}
.ends hpq
V1 a 0 SIN(0 1 1)
V2 c 0 DC 0.5
R1 a b 100
Xm1 b 0 hpq
Xm2 c 0 hpq
.end
";
    let circuit = memnet_spice::import_str(deck, "t.cir", &Default::default()).unwrap();
    let net = Network::from_circuit(&circuit).unwrap();
    let names = |items: &[&str]| {
        let items: Vec<String> = items.iter().map(|s| s.to_string()).collect();
        let p = Probes::parse(&net, &items).unwrap();
        (
            p.names().iter().map(|n| n.to_string()).collect::<Vec<_>>(),
            p.unmatched().to_vec(),
        )
    };
    let (n, u) = names(&["v(x*.*)", "i(v?)", "i(x*.*)"]);
    assert_eq!(
        n,
        [
            "v(xm1.p1)",
            "v(xm1.q)",
            "v(xm2.p1)",
            "v(xm2.q)",
            "i(v1)",
            "i(v2)"
        ]
    );
    assert_eq!(u, ["i(x*.*)"]);
    let (n, _) = names(&["v(*)", "v(a)"]);
    assert!(n.contains(&"v(a)".to_string()) && n.contains(&"v(xm2.q)".to_string()));
    assert_eq!(n.iter().filter(|s| *s == "v(a)").count(), 1);
    let (n, _) = names(&["i(xm?)"]);
    assert_eq!(n, ["i(xm1)", "i(xm2)"]);
    let e = Probes::parse(&net, &["x*".to_string()]).unwrap_err();
    assert!(e.contains("wildcard"), "{e}");
    assert!(Probes::parse(&net, &["v(zz*)".to_string()]).is_err());
}

/// `simulate_from` with the network handed over (dropped when the outputs
/// are only the states) writes the same samples and report as with the
/// network borrowed, with outputs that need the network and without.
#[test]
fn owned_network_gives_the_borrowed_run() {
    let mut checked = 0;
    for seed in 0..12 {
        let d = random_deck(seed);
        let circuit = memnet_spice::import_str(&d.text, "t.cir", &Default::default()).unwrap();
        let Ok(net) = Network::from_circuit(&circuit) else {
            continue;
        };
        let mut named: Vec<String> = d.devices.iter().map(|n| format!("p({n})")).collect();
        named.extend(d.vsources.iter().map(|(n, _)| format!("i({n})")));
        for probes in [Probes::states(&net), Probes::parse(&net, &named).unwrap()] {
            for method in [Method::Rk4, Method::Exact] {
                let opts = SimOptions {
                    t_end: 0.1,
                    method,
                    dt: 0.01,
                    sample_dt: Some(0.05),
                    ..SimOptions::default()
                };
                let run = |owned: bool| {
                    let mut samples: Vec<(f64, Vec<f64>)> = Vec::new();
                    let mut go = |_: f64| std::ops::ControlFlow::Continue(());
                    let net = if owned {
                        std::borrow::Cow::Owned(net.clone())
                    } else {
                        std::borrow::Cow::Borrowed(&net)
                    };
                    let report = memnet_solver::simulate_from(
                        net,
                        &opts,
                        &probes,
                        &mut samples,
                        &mut go,
                        None,
                    )
                    .unwrap();
                    (samples, report.rhs_evals, report.w_mean)
                };
                let (owned, borrowed) = (run(true), run(false));
                assert_eq!(owned.0.len(), 3, "seed {seed}");
                assert_eq!(owned, borrowed, "seed {seed}, {method:?}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} runs compared");
}

/// The states go in without the duplicate table, which is built when a
/// later output arrives: a state named again, or all of them again, adds
/// nothing; a new output is added once.
#[test]
fn outputs_after_the_states_are_checked_against_them() {
    let d = random_deck(3);
    let circuit = memnet_spice::import_str(&d.text, "t.cir", &Default::default()).unwrap();
    let net = Network::from_circuit(&circuit).unwrap();
    let states = Probes::states(&net);
    let n = states.len();
    assert!(n > 1);
    let first = states.names()[0].to_string();
    let node = format!("v({})", net.node_names[1]);
    let items: Vec<String> = ["states", &first, &node, "states", &node]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let p = Probes::parse(&net, &items).unwrap();
    assert_eq!(p.len(), n + 1);
    assert_eq!(&p.names()[..n], states.names());
    assert_eq!(p.names()[n].as_str(), node);
}
