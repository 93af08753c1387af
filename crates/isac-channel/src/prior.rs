//! Gaussian-mixture angle prior, Hou & Zhang eq. (9).

use rand::Rng;
use rand::distr::weighted::WeightedIndex;
use rand_distr::{Distribution, Normal};

use crate::ChannelError;

/// Tolerance on `sum p_k = 1`.
pub const WEIGHT_SUM_TOLERANCE: f64 = 1e-9;

/// `p(theta) = sum_k p_k N(theta; theta_k, sigma^2)` with one common standard deviation.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianMixturePrior {
    means: Vec<f64>,
    weights: Vec<f64>,
    std: f64,
}

impl GaussianMixturePrior {
    /// Validates: same non-zero lengths, finite means, weights `>= 0` summing to 1 within
    /// `WEIGHT_SUM_TOLERANCE` (1e-9), `std > 0` and finite.
    pub fn new(means: Vec<f64>, weights: Vec<f64>, std: f64) -> Result<Self, ChannelError> {
        if means.is_empty() {
            return Err(ChannelError::invalid(
                "means",
                "[]",
                "needs at least one component",
            ));
        }
        if weights.len() != means.len() {
            return Err(ChannelError::invalid(
                "probabilities",
                format!("{} values", weights.len()),
                format!("must have one value per angle ({})", means.len()),
            ));
        }
        if let Some(m) = means.iter().find(|m| !m.is_finite()) {
            return Err(ChannelError::invalid("means", m, "must be finite"));
        }
        if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
            return Err(ChannelError::invalid(
                "probabilities",
                w,
                "must be finite and >= 0",
            ));
        }
        let total: f64 = weights.iter().sum();
        if (total - 1.0).abs() > WEIGHT_SUM_TOLERANCE {
            return Err(ChannelError::invalid(
                "probabilities",
                format!("{weights:?} (sum {total})"),
                format!("must sum to 1 within {WEIGHT_SUM_TOLERANCE:e}"),
            ));
        }
        if !(std.is_finite() && std > 0.0) {
            return Err(ChannelError::invalid(
                "prior_std_rad",
                std,
                "must be finite and > 0",
            ));
        }
        Ok(Self {
            means,
            weights,
            std,
        })
    }

    /// Component means `theta_k` (rad).
    pub fn means(&self) -> &[f64] {
        &self.means
    }

    /// Component weights `p_k`.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Common standard deviation `sigma_theta` (rad).
    pub fn std(&self) -> f64 {
        self.std
    }

    /// Same means and weights, another `sigma_theta`.
    pub fn with_std(&self, std: f64) -> Result<Self, ChannelError> {
        Self::new(self.means.clone(), self.weights.clone(), std)
    }

    /// `ln f_k(theta)` for each component, `f_k = p_k N(theta; theta_k, sigma^2)`.
    fn log_components(&self, theta: f64) -> impl Iterator<Item = f64> + '_ {
        let s = self.std;
        let log_norm = -(s * (2.0 * std::f64::consts::PI).sqrt()).ln();
        self.means
            .iter()
            .zip(&self.weights)
            .map(move |(m, p)| p.ln() + log_norm - (theta - m).powi(2) / (2.0 * s * s))
    }

    /// Responsibilities `f_k / sum_n f_n` and `ln sum_n f_n`, stable far in the tails.
    pub fn responsibilities(&self, theta: f64) -> (Vec<f64>, f64) {
        let logs: Vec<f64> = self.log_components(theta).collect();
        let max = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = logs.iter().map(|l| (l - max).exp()).sum();
        let log_pdf = max + sum.ln();
        (logs.iter().map(|l| (l - log_pdf).exp()).collect(), log_pdf)
    }

    /// `ln p(theta)`.
    pub fn log_pdf(&self, theta: f64) -> f64 {
        self.responsibilities(theta).1
    }

    /// `p(theta)`, eq. (9).
    pub fn pdf(&self, theta: f64) -> f64 {
        self.log_pdf(theta).exp()
    }

    /// Score `d/dtheta ln p(theta) = -sum_k r_k(theta) (theta - theta_k) / sigma^2`.
    pub fn score(&self, theta: f64) -> f64 {
        let (r, _) = self.responsibilities(theta);
        let s2 = self.std * self.std;
        -r.iter()
            .zip(&self.means)
            .map(|(rk, m)| rk * (theta - m))
            .sum::<f64>()
            / s2
    }

    /// One draw: a component by its weight, then Gaussian jitter.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        // Validated in `new`: weights are non-negative, finite and sum to 1.
        let pick = WeightedIndex::new(&self.weights).expect("validated weights");
        let k = pick.sample(rng);
        let jitter = Normal::new(0.0, self.std).expect("validated std");
        self.means[k] + jitter.sample(rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn paper_prior(std: f64) -> GaussianMixturePrior {
        let means = [-55.0f64, -35.0, 65.0, 45.0].map(f64::to_radians).to_vec();
        GaussianMixturePrior::new(means, vec![0.2, 0.3, 0.1, 0.4], std).unwrap()
    }

    #[test]
    fn pdf_is_normalised() {
        // Trapezoid over a fine grid: an independent check of the normalisation.
        let prior = paper_prior(0.05);
        let (a, b, n) = (-2.5, 2.5, 200_000);
        let h = (b - a) / n as f64;
        let integral: f64 = (0..=n).map(|i| prior.pdf(a + i as f64 * h)).sum::<f64>() * h;
        assert!((integral - 1.0).abs() < 1e-9, "{integral}");
    }

    #[test]
    fn score_matches_finite_difference_of_log_pdf() {
        let prior = paper_prior(0.1);
        for &th in &[-1.2, -0.8, -0.3, 0.0, 0.5, 0.95, 1.4] {
            let h = 1e-6;
            let fd = (prior.log_pdf(th + h) - prior.log_pdf(th - h)) / (2.0 * h);
            assert!(
                (fd - prior.score(th)).abs() < 1e-5 * (1.0 + fd.abs()),
                "{th}: {fd} vs {}",
                prior.score(th)
            );
        }
    }

    #[test]
    fn log_pdf_is_finite_far_in_the_tails() {
        let prior = paper_prior(0.001);
        assert!(prior.log_pdf(0.0).is_finite());
        assert!(prior.score(0.0).is_finite());
    }

    #[test]
    fn samples_have_the_mixture_moments() {
        let prior = paper_prior(0.01);
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let n = 200_000;
        let draws: Vec<f64> = (0..n).map(|_| prior.sample(&mut rng)).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let exact: f64 = prior
            .means()
            .iter()
            .zip(prior.weights())
            .map(|(m, p)| m * p)
            .sum();
        let var_exact: f64 = prior
            .means()
            .iter()
            .zip(prior.weights())
            .map(|(m, p)| p * (m * m + 0.01f64.powi(2)))
            .sum::<f64>()
            - exact * exact;
        // Five standard errors.
        assert!((mean - exact).abs() < 5.0 * (var_exact / n as f64).sqrt());
    }

    #[test]
    fn invalid_priors_are_rejected() {
        assert!(GaussianMixturePrior::new(vec![], vec![], 0.1).is_err());
        assert!(GaussianMixturePrior::new(vec![0.0], vec![0.5], 0.1).is_err());
        assert!(GaussianMixturePrior::new(vec![0.0, 1.0], vec![1.0], 0.1).is_err());
        assert!(GaussianMixturePrior::new(vec![0.0, 1.0], vec![1.5, -0.5], 0.1).is_err());
        assert!(GaussianMixturePrior::new(vec![0.0], vec![1.0], 0.0).is_err());
        assert!(GaussianMixturePrior::new(vec![f64::NAN], vec![1.0], 0.1).is_err());
    }
}
