//! Seeded random streams: one independent ChaCha stream per (seed, indices).
//!
//! Work split across threads draws from `stream(seed, [point, trial, ..])`, so results do
//! not depend on the thread count or the order in which work items run.

use faer::c64;
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The generator of every seeded stream: ChaCha with 8 rounds. The streams drive simulations,
/// not cryptography, and ChaCha8 passes the same statistical tests as ChaCha20 while drawing a
/// normal in about 60% of the time (docs/decisions.md, "Random streams").
pub type Stream = ChaCha8Rng;

/// The [`Stream`] keyed by `seed` and three indices (distinct keys, independent streams).
pub fn stream(seed: u64, indices: [u64; 3]) -> Stream {
    let mut key = [0u8; 32];
    for (chunk, word) in key
        .chunks_exact_mut(8)
        .zip([seed, indices[0], indices[1], indices[2]])
    {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    Stream::from_seed(key)
}

/// One draw of `CN(0, variance)`: real and imaginary parts `N(0, variance / 2)`.
pub fn complex_normal<R: Rng + ?Sized>(rng: &mut R, variance: f64) -> c64 {
    let s = (0.5 * variance).sqrt();
    let re: f64 = StandardNormal.sample(rng);
    let im: f64 = StandardNormal.sample(rng);
    c64::new(s * re, s * im)
}

/// A uniform phase `exp(j U[0, 2 pi))`.
pub fn uniform_phase<R: Rng + ?Sized>(rng: &mut R) -> c64 {
    c64::cis(std::f64::consts::TAU * rng.random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| stream(1, [2, 3, 4]).random()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let x: u64 = stream(1, [2, 3, 4]).random();
        let y: u64 = stream(1, [2, 3, 5]).random();
        let z: u64 = stream(2, [2, 3, 4]).random();
        assert!(x != y && x != z && y != z);
    }

    #[test]
    fn complex_normal_has_the_requested_variance() {
        let mut rng = stream(9, [0, 0, 0]);
        let n = 100_000;
        let v: f64 = (0..n)
            .map(|_| complex_normal(&mut rng, 2.5).norm_sqr())
            .sum::<f64>()
            / n as f64;
        // |z|^2 is exponential with mean 2.5 and std 2.5: five standard errors.
        assert!((v - 2.5).abs() < 5.0 * 2.5 / (n as f64).sqrt(), "{v}");
    }
}
