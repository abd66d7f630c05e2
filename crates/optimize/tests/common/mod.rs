//! Shared by the optimiser's tests.

use memnet_optimize::{Kind, Qubo};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded QUBO like the OR-Library's: integer coefficients in [-100, 100]
/// on the diagonal and on each pair with probability `density`, c0 = 7.
pub fn random_qubo(n: usize, density: f64, seed: u64) -> Qubo {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let h: Vec<f64> = (0..n)
        .map(|_| rng.random_range(-100..=100) as f64)
        .collect();
    let mut pairs = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            if rng.random::<f64>() < density {
                pairs.push((i, j, rng.random_range(-100..=100) as f64));
            }
        }
    }
    Qubo::new(h, &pairs, 7.0, false, Kind::Qubo).unwrap()
}
