//! Where a network's nodes lie, for pictures: read from a `node,x,y` file
//! (what `memnet generate` writes beside a network) or, for small networks
//! without coordinates, a force-directed layout.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::network::Network;

/// A node's name (lower case) and where it lies.
pub type NodePosition = (String, (f64, f64));

/// Reads `node,x,y` rows after a header that names those columns (in any
/// order, more columns allowed). Errors are located `shown:line:column`.
pub fn parse_node_positions(text: &str, shown: &str) -> Result<Vec<NodePosition>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(format!(
            "{shown}:1:1: error: empty file (expected a `node,x,y` header)"
        ));
    };
    let cols: Vec<String> = header
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    let find = |name: &str| {
        cols.iter()
            .position(|c| c == name)
            .ok_or_else(|| format!("{shown}:1:1: error: the header has no `{name}` column"))
    };
    let (cn, cx, cy) = (find("node")?, find("x")?, find("y")?);
    let mut out = Vec::new();
    for (i, line) in lines {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != cols.len() {
            return Err(format!(
                "{shown}:{}:1: error: {} fields where the header has {}",
                i + 1,
                fields.len(),
                cols.len()
            ));
        }
        let col_of = |k: usize| fields[..k].iter().map(|f| f.len() + 1).sum::<usize>() + 1;
        let num = |k: usize| -> Result<f64, String> {
            let f = fields[k].trim();
            f.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    format!(
                        "{shown}:{}:{}: error: `{f}` is not a finite number",
                        i + 1,
                        col_of(k)
                    )
                })
        };
        out.push((fields[cn].trim().to_ascii_lowercase(), (num(cx)?, num(cy)?)));
    }
    Ok(out)
}

/// Fruchterman-Reingold (1991) in the unit square from seeded random
/// starts: edges pull as d^2/k, every pair pushes as k^2/d, the step is
/// capped by a temperature that cools linearly. O(n^2) per iteration, for
/// the small networks that have no coordinates of their own.
pub fn force_layout(net: &Network, seed: u64, iterations: usize) -> Vec<(f64, f64)> {
    let n = net.node_names.len();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pos: Vec<(f64, f64)> = (0..n).map(|_| (rng.random(), rng.random())).collect();
    if n < 2 {
        return pos;
    }
    let k = (1.0 / n as f64).sqrt();
    let mut disp = vec![(0.0f64, 0.0f64); n];
    for it in 0..iterations {
        let temp = 0.1 * (1.0 - it as f64 / iterations as f64);
        disp.iter_mut().for_each(|d| *d = (0.0, 0.0));
        for i in 0..n {
            for j in i + 1..n {
                let (dx, dy) = (pos[i].0 - pos[j].0, pos[i].1 - pos[j].1);
                let d2 = (dx * dx + dy * dy).max(1e-18);
                let f = k * k / d2;
                disp[i].0 += dx * f;
                disp[i].1 += dy * f;
                disp[j].0 -= dx * f;
                disp[j].1 -= dy * f;
            }
        }
        for e in &net.edges {
            let (a, b) = (e.tail, e.head);
            if a == b {
                continue;
            }
            let (dx, dy) = (pos[a].0 - pos[b].0, pos[a].1 - pos[b].1);
            let d = (dx * dx + dy * dy).sqrt().max(1e-9);
            let f = d / k;
            disp[a].0 -= dx * f;
            disp[a].1 -= dy * f;
            disp[b].0 += dx * f;
            disp[b].1 += dy * f;
        }
        for (p, d) in pos.iter_mut().zip(&disp) {
            let len = (d.0 * d.0 + d.1 * d.1).sqrt();
            if len > 0.0 {
                let s = len.min(temp) / len;
                p.0 += d.0 * s;
                p.1 += d.1 * s;
            }
        }
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_parse_with_located_errors() {
        let p = parse_node_positions("node,x,y\nn0,0,1\nN1,2.5,-1\n", "l.csv").unwrap();
        assert_eq!(
            p,
            vec![("n0".into(), (0.0, 1.0)), ("n1".into(), (2.5, -1.0))]
        );
        let e = parse_node_positions("node,x,y\nn0,0,zz\n", "l.csv").unwrap_err();
        assert_eq!(e, "l.csv:2:6: error: `zz` is not a finite number");
        assert!(
            parse_node_positions("a,b\n", "l.csv")
                .unwrap_err()
                .contains("`node`")
        );
    }

    #[test]
    fn force_layout_separates_a_path_evenly() {
        // A path of 5 nodes: neighbours end up closer than the two ends.
        let mut spec = crate::GenSpec::new(crate::GraphKind::Grid {
            rows: 1,
            cols: 5,
            diagonals: false,
        });
        spec.seed = 1;
        let net = crate::generate(&spec).unwrap();
        let p = force_layout(&net, 3, 300);
        let d = |a: usize, b: usize| ((p[a].0 - p[b].0).powi(2) + (p[a].1 - p[b].1).powi(2)).sqrt();
        for i in 0..4 {
            assert!(d(i, i + 1) < d(0, 4), "{p:?}");
        }
        assert!(p.iter().all(|q| q.0.is_finite() && q.1.is_finite()));
    }
}
