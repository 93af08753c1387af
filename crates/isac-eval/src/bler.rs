//! Block-error-rate Monte Carlo (paper 003, Fig. 4): counting with a stop rule, Wilson 95%
//! intervals, nearest-point decisions on a constellation, and Eve's LMMSE combiner.

use faer::{Col, Mat, MatRef, c64};

use crate::secrecy::Z95;

/// Block errors counted so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlerCount {
    /// Blocks sent.
    pub blocks: u64,
    /// Blocks decoded wrongly.
    pub errors: u64,
}

impl BlerCount {
    /// The estimate `errors / blocks` (0 before any block).
    pub fn bler(&self) -> f64 {
        if self.blocks == 0 {
            0.0
        } else {
            self.errors as f64 / self.blocks as f64
        }
    }

    /// The Wilson score 95% interval of the BLER.
    pub fn wilson95(&self) -> (f64, f64) {
        wilson(self.errors, self.blocks, Z95)
    }
}

/// The Wilson score interval of a binomial proportion, `x` successes in `n` trials, at `z`.
pub fn wilson(x: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (x, n) = (x as f64, n as f64);
    let p = x / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Monte Carlo of several receivers over shared blocks: `batch(first_block, len)` returns the
/// block errors of every receiver on blocks `first_block..first_block + len`. A receiver stops
/// counting once it has `target_errors`; the run ends when all have, or at `max_blocks`.
pub fn run_until<E, F>(
    receivers: usize,
    target_errors: u64,
    max_blocks: u64,
    len: u64,
    mut batch: F,
) -> Result<Vec<BlerCount>, E>
where
    F: FnMut(u64, u64) -> Result<Vec<u64>, E>,
{
    let mut counts = vec![BlerCount::default(); receivers];
    let mut start = 0;
    while start < max_blocks && counts.iter().any(|c| c.errors < target_errors) {
        let n = len.max(1).min(max_blocks - start);
        for (c, e) in counts.iter_mut().zip(batch(start, n)?) {
            if c.errors < target_errors {
                c.errors += e;
                c.blocks += n;
            }
        }
        start += n;
    }
    Ok(counts)
}

/// Index of the constellation point nearest to `z`.
pub fn nearest_point(z: c64, constellation: &[c64]) -> usize {
    constellation
        .iter()
        .enumerate()
        .map(|(i, p)| (i, (z - p).norm_sqr()))
        .fold(
            (0, f64::INFINITY),
            |best, (i, d)| if d < best.1 { (i, d) } else { best },
        )
        .0
}

/// The LMMSE (max-SINR) combiner `w = R^-1 h` for a signal arriving along `h` in interference
/// plus noise of covariance `r` (Hermitian positive definite); scale-free, so the decision
/// statistic is `w^H y / (w^H h)`.
pub fn lmmse_combiner(h: &Col<c64>, r: MatRef<'_, c64>) -> Col<c64> {
    let x = faer::linalg::solvers::Solve::solve(&r.partial_piv_lu(), h.as_mat());
    Col::from_fn(h.nrows(), |i| x[(i, 0)])
}

/// `sum_j x_j x_j^H + noise I`: the covariance of independent unit-power streams along `x_j`.
pub fn covariance_of(streams: &[Col<c64>], noise: f64, dim: usize) -> Mat<c64> {
    let mut r = Mat::from_fn(dim, dim, |i, j| {
        c64::new(if i == j { noise } else { 0.0 }, 0.0)
    });
    for s in streams {
        r += s * s.adjoint();
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use isac_channel::rng::{complex_normal, stream};
    use rand::RngExt;

    #[test]
    fn wilson_matches_published_values() {
        // Wilson (1927) / standard tables at 95%: 0 of 10 -> [0, 0.2775]; 5 of 10 ->
        // [0.2366, 0.7634]; 10 of 10 -> [0.7225, 1].
        let close =
            |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).abs() < 1e-4 && (a.1 - b.1).abs() < 1e-4;
        assert!(close(wilson(0, 10, Z95), (0.0, 0.2775)));
        assert!(close(wilson(5, 10, Z95), (0.2366, 0.7634)));
        assert!(close(wilson(10, 10, Z95), (0.7225, 1.0)));
        assert_eq!(wilson(0, 0, Z95), (0.0, 1.0));
    }

    /// `Q(x)`, the Gaussian tail, by Simpson integration of the normal density (independent of
    /// everything under test).
    fn gaussian_tail(x: f64) -> f64 {
        // Simpson on [x, x + 12] of the standard normal density.
        let (a, b, n) = (x, x + 12.0, 20_000);
        let h = (b - a) / n as f64;
        let f = |t: f64| (-t * t / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let mut s = f(a) + f(b);
        for i in 1..n {
            s += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        s * h / 3.0
    }

    #[test]
    fn qpsk_over_awgn_matches_its_closed_form() {
        // Unit-energy QPSK, Es / N0 = snr: a block (one symbol) is wrong with probability
        // 1 - (1 - Q(sqrt(snr)))^2.
        let qpsk: Vec<c64> = (0..4)
            .map(|i| c64::cis(std::f64::consts::FRAC_PI_4 + i as f64 * std::f64::consts::FRAC_PI_2))
            .collect();
        for snr_db in [0.0, 4.0, 8.0] {
            let snr = isac_channel::units::db_to_linear(snr_db);
            let count = run_until(1, 2000, 400_000, 10_000, |first, n| {
                let mut rng = stream(9, [snr_db.to_bits(), first, 0]);
                let errors = (0..n)
                    .filter(|_| {
                        let m = rng.random_range(0..4);
                        let y = qpsk[m] + complex_normal(&mut rng, 1.0 / snr);
                        nearest_point(y, &qpsk) != m
                    })
                    .count() as u64;
                Ok::<_, ()>(vec![errors])
            })
            .unwrap()[0];
            let q = gaussian_tail(snr.sqrt());
            let exact = 1.0 - (1.0 - q).powi(2);
            let (lo, hi) = count.wilson95();
            assert!(
                lo <= exact && exact <= hi,
                "{snr_db} dB: {exact} not in [{lo}, {hi}] ({count:?})"
            );
            assert!(count.errors >= 2000 || count.blocks == 400_000);
        }
    }

    #[test]
    fn lmmse_combiner_reaches_the_max_sinr() {
        let mut rng = stream(4, [0; 3]);
        let h = Col::from_fn(3, |_| complex_normal(&mut rng, 1.0));
        let streams: Vec<Col<c64>> = (0..2)
            .map(|_| Col::from_fn(3, |_| complex_normal(&mut rng, 4.0)))
            .collect();
        let r = covariance_of(&streams, 0.5, 3);
        let w = lmmse_combiner(&h, r.as_ref());
        let sinr = |w: &Col<c64>| {
            let s = (w.adjoint() * &h).norm_sqr();
            let n = (w.adjoint() * &r * w).re;
            s / n
        };
        // Max SINR is h^H R^-1 h (closed form), and no random combiner beats w.
        let hr = (h.adjoint() * lmmse_combiner(&h, r.as_ref())).re;
        assert!((sinr(&w) - hr).abs() < 1e-9 * hr);
        for _ in 0..200 {
            let v = Col::from_fn(3, |_| complex_normal(&mut rng, 1.0));
            assert!(sinr(&v) <= sinr(&w) * (1.0 + 1e-12));
        }
    }
}
