//! Fisher information of the Gaussian-mixture prior, Hou & Zhang eqs. (17)-(19).

use isac_channel::GaussianMixturePrior;

use crate::quadrature::{Integral, integrate_adaptive};

/// Relative tolerance of the adaptive quadrature for `epsilon`.
pub const EPSILON_REL_TOL: f64 = 1e-12;
/// Half-width, in prior standard deviations, integrated beyond the outermost means.
const TAIL_STDS: f64 = 40.0;

/// `epsilon` of eq. (19):
/// `int sum_{k<n} f_k f_n (theta_n - theta_k)^2 / sigma^4 / sum_m f_m dtheta`,
/// `f_k = p_k N(theta; theta_k, sigma^2)`, by adaptive Gauss-Legendre quadrature.
///
/// It is the information the mixture loses against `1 / sigma^2` because components overlap:
/// `[J_P]_thth = 1 / sigma^2 - epsilon`. Exponentially small for well separated means, but
/// computed, not assumed: the integrand is evaluated in log space so it never underflows to
/// a spurious zero while it is representable.
pub fn epsilon(prior: &GaussianMixturePrior) -> Integral {
    let s = prior.std();
    let means = prior.means();
    let s4 = s.powi(4);
    let integrand = |theta: f64| {
        let (r, log_pdf) = prior.responsibilities(theta);
        let pdf = log_pdf.exp();
        let mut acc = 0.0;
        for k in 0..means.len() {
            for n in k + 1..means.len() {
                // f_k f_n / sum f = r_k r_n p(theta).
                acc += r[k] * r[n] * (means[n] - means[k]).powi(2);
            }
        }
        acc * pdf / s4
    };
    let lo = means.iter().copied().fold(f64::INFINITY, f64::min) - TAIL_STDS * s;
    let hi = means.iter().copied().fold(f64::NEG_INFINITY, f64::max) + TAIL_STDS * s;
    integrate_adaptive(integrand, (lo, hi), s, EPSILON_REL_TOL, 0.0)
}

/// `[J_P]_thth = 1 / sigma^2 - epsilon`, eq. (19).
pub fn prior_fisher_information(prior: &GaussianMixturePrior) -> f64 {
    prior.std().powi(-2) - epsilon(prior).value
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `E[(d/dtheta ln p)^2]` by the trapezoid rule on a fine uniform grid (spectrally accurate
    /// for a smooth integrand that decays at both ends): independent of eq. (19).
    fn score_information(prior: &GaussianMixturePrior) -> f64 {
        let s = prior.std();
        let lo = prior.means().iter().copied().fold(f64::INFINITY, f64::min) - 30.0 * s;
        let hi = prior.means().iter().copied().fold(f64::NEG_INFINITY, f64::max) + 30.0 * s;
        let n = 400_000;
        let h = (hi - lo) / n as f64;
        (1..n)
            .map(|i| {
                let t = lo + i as f64 * h;
                prior.score(t).powi(2) * prior.pdf(t)
            })
            .sum::<f64>()
            * h
    }

    fn prior(deg: &[f64], p: &[f64], std: f64) -> GaussianMixturePrior {
        GaussianMixturePrior::new(deg.iter().map(|d| d.to_radians()).collect(), p.to_vec(), std).unwrap()
    }

    #[test]
    fn epsilon_closes_the_prior_information_identity() {
        for (pr, tol) in [
            (prior(&[-55.0, -35.0, 65.0, 45.0], &[0.2, 0.3, 0.1, 0.4], 0.1), 1e-12),
            (prior(&[-55.0, -35.0, 65.0, 45.0], &[0.2, 0.3, 0.1, 0.4], 0.2), 1e-12),
            (prior(&[0.0, 3.0], &[0.5, 0.5], 0.04), 1e-12),
        ] {
            let eps = epsilon(&pr);
            assert!(eps.value > 0.0);
            let lhs = pr.std().powi(-2) - eps.value;
            let rhs = score_information(&pr);
            assert!((lhs - rhs).abs() <= tol * pr.std().powi(-2), "{lhs} vs {rhs} (eps {eps:?})");
        }
    }

    #[test]
    fn epsilon_is_tiny_but_positive_for_the_paper_prior() {
        let eps = epsilon(&prior(&[-55.0, -35.0, 65.0, 45.0], &[0.2, 0.3, 0.1, 0.4], 0.01));
        assert!(eps.value > 0.0 && eps.value < 1e-40, "{eps:?}");
    }

    #[test]
    fn single_component_has_no_loss() {
        assert_eq!(epsilon(&prior(&[10.0], &[1.0], 0.05)).value, 0.0);
    }
}
