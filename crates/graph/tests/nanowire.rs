//! Nanowire networks: a layout drawn by hand gives the junctions, nodes
//! and wire resistances computed by hand, in both representations; random
//! networks find exactly the crossings a brute-force search finds.

use memnet_graph::nanowire::{NanowireCircuit, Segment, from_wires};
use memnet_graph::{
    Device, Drive, DriveMode, Electrodes, GenSpec, GraphKind, NanowireSpec, Representation, Side,
    Spread, generate_with_layout,
};

fn sides() -> Vec<Electrodes> {
    [Side::Left, Side::Right]
        .into_iter()
        .map(|side| Electrodes {
            side,
            count: 1,
            spacing: 0.0,
        })
        .collect()
}

/// Six wires in a 10 x 10 um box: a horizontal one crossed by two
/// verticals, one reaching the left electrode, one the right, one alone.
fn hand_wires() -> Vec<Segment> {
    vec![
        [1.0, 5.0, 9.0, 5.0],
        [3.0, 1.0, 3.0, 9.0],
        [7.0, 1.0, 7.0, 9.0],
        [-1.0, 8.0, 2.0, 8.0],
        [8.0, 2.0, 11.0, 2.0],
        [0.5, 0.5, 1.5, 1.5],
    ]
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn names(c: &NanowireCircuit, pairs: &[(usize, usize)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|&(a, b)| (c.node_names[a].clone(), c.node_names[b].clone()))
        .collect()
}

#[test]
fn junction_representation_of_a_hand_drawn_layout() {
    let c = from_wires(
        (10.0, 10.0),
        hand_wires(),
        &sides(),
        Representation::Junctions,
    )
    .unwrap();
    assert_eq!(
        c.node_names,
        ["w0", "w1", "w2", "w3", "w4", "w5", "left0", "right0"]
    );
    assert_eq!(
        names(&c, &c.junctions),
        pairs(&[
            ("w0", "w1"),
            ("w0", "w2"),
            ("w3", "left0"),
            ("w4", "right0")
        ])
    );
    assert!(c.segments.is_empty());
    assert_eq!(c.positions[0], (5.0, 5.0));
    assert_eq!(c.positions[6], (0.0, 5.0));
    assert_eq!((c.left.clone(), c.right.clone()), (vec![6], vec![7]));
}

#[test]
fn multi_nodal_representation_of_a_hand_drawn_layout() {
    let (rho, d) = (22.6, 50.0);
    let c = from_wires(
        (10.0, 10.0),
        hand_wires(),
        &sides(),
        Representation::MultiNodal {
            resistivity: rho,
            diameter: d,
        },
    )
    .unwrap();
    assert_eq!(
        c.node_names,
        [
            "w0_0", "w0_1", "w1_0", "w2_0", "w3_0", "w4_0", "w5", "left0", "right0"
        ]
    );
    // Junction nodes sit at the crossings.
    assert_eq!(c.positions[0], (3.0, 5.0));
    assert_eq!(c.positions[1], (7.0, 5.0));
    assert_eq!(c.positions[4], (0.0, 8.0));
    assert_eq!(c.positions[5], (10.0, 2.0));
    assert_eq!(
        names(&c, &c.junctions),
        pairs(&[
            ("w0_0", "w1_0"),
            ("w0_1", "w2_0"),
            ("w3_0", "left0"),
            ("w4_0", "right0")
        ])
    );
    // One wire segment: 4 um of w0 between x = 3 and x = 7, R = rho s / A
    // = 22.6e-9 Ohm m * 4e-6 m / (pi/4 (50e-9 m)^2) = 46.04 Ohm.
    assert_eq!(c.segments.len(), 1);
    let (a, b, r) = c.segments[0];
    assert_eq!((a, b), (0, 1));
    let expected = 22.6e-9 * 4e-6 / (std::f64::consts::PI / 4.0 * 50e-9 * 50e-9);
    assert!((r - expected).abs() < 1e-12 * expected, "{r} vs {expected}");
    assert!((r - 46.04).abs() < 0.01);
}

#[test]
fn electrodes_follow_memnnetsims_spacing() {
    // Two electrodes on a 10 um left side with 2 um spacing: [1, 4], [6, 9].
    let c = from_wires(
        (10.0, 10.0),
        vec![],
        &[Electrodes {
            side: Side::Left,
            count: 2,
            spacing: 2.0,
        }],
        Representation::Junctions,
    )
    .unwrap();
    assert_eq!(c.lines, vec![[0.0, 1.0, 0.0, 4.0], [0.0, 6.0, 0.0, 9.0]]);
    assert_eq!(c.node_names, ["left0", "left1"]);
    let bad = from_wires(
        (10.0, 10.0),
        vec![],
        &[Electrodes {
            side: Side::Top,
            count: 5,
            spacing: 2.0,
        }],
        Representation::Junctions,
    );
    assert!(bad.unwrap_err().to_string().contains("leaves no electrode"));
}

fn random_spec(wires: usize, representation: Representation) -> GenSpec {
    let mut s = GenSpec::new(GraphKind::Nanowire(NanowireSpec {
        size: (30.0, 20.0),
        wires,
        length: Spread::Normal { mean: 7.0, sd: 1.5 },
        angle: Spread::Uniform {
            lo: 0.0,
            hi: std::f64::consts::PI,
        },
        electrodes: sides(),
        representation,
    }));
    s.seed = 11;
    s.drive = Drive::Sides {
        voltage: 1.0,
        mode: DriveMode::Constraint,
    };
    s
}

/// Every pair of drawn lines tested (O(n^2)) against the cell search.
fn brute_force_crossings(lines: &[Segment]) -> usize {
    let cross = |a: &Segment, b: &Segment| {
        let (rx, ry) = (a[2] - a[0], a[3] - a[1]);
        let (sx, sy) = (b[2] - b[0], b[3] - b[1]);
        let den = rx * sy - ry * sx;
        if den == 0.0 {
            return false;
        }
        let (qx, qy) = (b[0] - a[0], b[1] - a[1]);
        let t = (qx * sy - qy * sx) / den;
        let u = (qx * ry - qy * rx) / den;
        (0.0..=1.0).contains(&t) && (0.0..=1.0).contains(&u)
    };
    let n_wires = lines.len() - 2;
    let mut count = 0;
    for i in 0..lines.len() {
        for j in i + 1..lines.len() {
            // Electrodes do not join each other.
            if (i < n_wires || j < n_wires) && cross(&lines[i], &lines[j]) {
                count += 1;
            }
        }
    }
    count
}

#[test]
fn random_networks_find_every_crossing() {
    for wires in [1, 40, 300] {
        let (jda, layout) = generate_with_layout(&random_spec(wires, Representation::Junctions))
            .expect("junction network");
        let memristors = jda.edges.iter().filter(|e| e.device.is_memristor()).count();
        assert_eq!(
            memristors,
            brute_force_crossings(&layout.lines),
            "{wires} wires"
        );
        assert_eq!(layout.lines.len(), wires + 2);
        let (mnr, layout2) = generate_with_layout(&random_spec(
            wires,
            Representation::MultiNodal {
                resistivity: 22.6,
                diameter: 50.0,
            },
        ))
        .expect("multi-nodal network");
        // The same wires (same seed), the same junctions; every wire with
        // k junctions has k - 1 segments whose lengths add up to at most
        // the wire's length.
        assert_eq!(layout.lines, layout2.lines);
        let junctions = mnr.edges.iter().filter(|e| e.device.is_memristor()).count();
        assert_eq!(junctions, memristors);
        let per_um = 22.6e-15 / (std::f64::consts::PI / 4.0 * 2500e-18);
        let total: f64 = mnr
            .edges
            .iter()
            .filter_map(|e| match e.device {
                Device::Resistor { resistance } => Some(resistance / per_um),
                _ => None,
            })
            .sum();
        let length: f64 = layout.lines[..wires]
            .iter()
            .map(|l| ((l[2] - l[0]).powi(2) + (l[3] - l[1]).powi(2)).sqrt())
            .sum();
        assert!(total <= length * (1.0 + 1e-12), "{total} > {length}");
        assert_eq!(layout2.positions.len(), mnr.node_names.len());
    }
    // The drive: the left electrode held at 1 V against the grounded right.
    let (net, _) =
        generate_with_layout(&random_spec(300, Representation::Junctions)).expect("network");
    assert_eq!(net.constraints.len(), 1);
    assert_eq!(net.node_names[net.constraints[0].pos], "left0");
    assert_eq!(net.node_names[net.constraints[0].neg], "0");
}
