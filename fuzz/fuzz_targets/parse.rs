//! Fuzz parse + elaborate: any bytes (any encoding) must give a circuit or
//! a diagnostic, never a panic, hang or stack overflow; a circuit's output
//! cards are resolved against its network, and the streamed import (elements
//! handed to a network builder as they are elaborated, what the CLI does)
//! must agree with it: the same network or the same errors. The same bytes are also read as
//! a two-column table file (Xyce PEM's `fxpdata=`) and as a `PWL FILE=`
//! source file, the other text inputs a netlist can point at. Device laws are built and evaluated, so users'
//! subcircuit bodies go through the body compiler and its Newton. Then the bytes
//! become edges given as columns (what Python's `Network.from_edges` hands over),
//! an optimisation instance in each format `memnet optimize` reads, a
//! reservoir task's series file, a saved run as `memnet plot` reads it and
//! a `node,x,y` layout file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memnet_spice::{
    DataTable, ImportOptions, decode::decode, elaborate_into, import_str, parse_pwl_file,
};

fuzz_target!(|data: &[u8]| {
    let (text, _) = decode(data.to_vec());
    let whole = import_str(&text, "fuzz.cir", &ImportOptions::default());
    let mut builder = memnet_graph::NetworkBuilder::default();
    let streamed = memnet_spice::parse_str(&text, "fuzz.cir")
        .and_then(|deck| elaborate_into(deck, &ImportOptions::default(), &mut builder));
    match (&whole, streamed) {
        (Ok(c), Ok(frame)) => {
            let shown = |r: Result<memnet_graph::Network, memnet_graph::NetworkError>| match r {
                Ok(n) => format!("{n:?}"),
                Err(e) => e.render(),
            };
            assert_eq!(
                shown(memnet_graph::Network::from_circuit(c)),
                shown(builder.finish(&frame))
            );
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("the streamed import and the whole one disagree on success"),
    }
    match whole {
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
    // And as edges given as columns: node indices (some out of range) and
    // parameters from the same bytes read as f64 (NaN, inf, negative):
    // a network or an error, never a panic.
    if let Some((&n, rest)) = data.split_first() {
        let n = usize::from(n % 16);
        let m = rest.len().min(64) / 2;
        let tails: Vec<usize> = rest[..m].iter().map(|&b| usize::from(b % 17)).collect();
        let heads: Vec<usize> = rest[m..2 * m]
            .iter()
            .map(|&b| usize::from(b % 17))
            .collect();
        let nums: Vec<f64> = data
            .chunks_exact(8)
            .filter_map(|c| <[u8; 8]>::try_from(c).ok().map(f64::from_le_bytes))
            .collect();
        let col = |k: usize| (nums.len() >= (k + 1) * m).then(|| &nums[k * m..(k + 1) * m]);
        let cols = memnet_graph::EdgeColumns {
            node_names: (0..n).map(|i| format!("n{i}")).collect(),
            tails: &tails,
            heads: &heads,
            ron: col(0),
            w0: col(1),
            source: col(2),
            resistance: col(3),
            ..Default::default()
        };
        let _ = memnet_graph::network_from_columns(&cols, &memnet_graph::DeviceDefaults::default());
    }
    // And as a QUBO/max-cut instance in each format (bqp, rudy, memnet,
    // bqpjson, detected): a problem that can be evaluated and polished, or
    // a located error, never a panic.
    for format in [
        None,
        Some(memnet_optimize::Format::Bqp),
        Some(memnet_optimize::Format::Rudy),
        Some(memnet_optimize::Format::Memnet),
        Some(memnet_optimize::Format::Bqpjson),
    ] {
        if let Ok(inst) = memnet_optimize::read_str(&text, "fuzz.qubo", format, Some(1))
            .or_else(|_| memnet_optimize::read_str(&text, "fuzz.qubo", format, None))
        {
            let q = &inst.qubo;
            if q.n() <= 4096 {
                let mut x = vec![true; q.n()];
                let _ = q.energy(&x);
                q.polish(&mut x);
            }
        }
    }
    // And as a reservoir task's `t,u,y` series: a series or a located error.
    if let Ok(series) = memnet_reservoir::parse_series_csv(&text, "fuzz.csv") {
        assert_eq!(series.u.len(), series.y.len());
    }
    // And as `memnet reservoir --features`: the kinds or an error.
    if let Ok(k) = memnet_reservoir::FeatureKinds::parse(&text) {
        assert!(k.states || k.currents || k.potentials);
    }
    // And as a `node,x,y` layout file: finite positions or a located error.
    if let Ok(rows) = memnet_graph::layout::parse_node_positions(&text, "fuzz.csv") {
        assert!(
            rows.iter()
                .all(|(_, (x, y))| x.is_finite() && y.is_finite())
        );
    }
    // And as a saved run `memnet plot` reads (CSV, NPY, raw): rectangular
    // samples or a located error.
    for run in [
        memnet_solver::readback::parse_csv(data, "fuzz.csv"),
        memnet_solver::readback::parse_npy(data, None, "fuzz.npy"),
        memnet_solver::readback::parse_raw(data, "fuzz.raw"),
    ]
    .into_iter()
    .flatten()
    {
        assert_eq!(run.values.len(), run.times.len() * run.names.len());
    }
});
