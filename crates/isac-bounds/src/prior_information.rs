//! Fisher information of the Gaussian-mixture prior, Hou & Zhang eqs. (17)-(19).

use isac_channel::GaussianMixturePrior;

use crate::quadrature::{Integral, integrate_adaptive, uniform_panels};

/// Tolerance of `epsilon`, relative to `1 / sigma^2`, the quantity it is subtracted from.
pub const EPSILON_TOL: f64 = 1e-14;
/// Half-width, in prior standard deviations, integrated beyond the outermost means.
const TAIL_STDS: f64 = 40.0;
/// Half-width, in prior standard deviations, of the finely cut window around each mean and
/// each pair midpoint (the only places the integrand of eq. 19 has mass).
const WINDOW_STDS: f64 = 8.0;
/// Widest initial panel inside a window, in prior standard deviations.
const PANEL_STDS: f64 = 4.0;

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
    let log_norm = -(s * (2.0 * std::f64::consts::PI).sqrt()).ln();
    let log_weights: Vec<f64> = prior.weights().iter().map(|p| p.ln() + log_norm).collect();
    let mut logs = vec![0.0; means.len()];
    let integrand = |theta: f64| {
        // ln f_k, then f_k f_n / sum f = exp(ln f_k + ln f_n - ln sum f): no underflow to 0
        // while the result is representable.
        for ((l, m), lw) in logs.iter_mut().zip(means).zip(&log_weights) {
            *l = lw - (theta - m).powi(2) / (2.0 * s * s);
        }
        let max = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let log_sum = max + logs.iter().map(|l| (l - max).exp()).sum::<f64>().ln();
        let mut acc = 0.0;
        for k in 0..means.len() {
            for n in k + 1..means.len() {
                acc += (logs[k] + logs[n] - log_sum).exp() * (means[n] - means[k]).powi(2);
            }
        }
        acc / s4
    };
    integrate_adaptive(
        integrand,
        &initial_panels(means, s),
        EPSILON_TOL,
        EPSILON_TOL / (s * s),
    )
}

/// Panels no wider than `PANEL_STDS sigma` within `WINDOW_STDS sigma` of every mean and pair
/// midpoint; one panel for each gap between windows and for each tail.
fn initial_panels(means: &[f64], s: f64) -> Vec<(f64, f64)> {
    let mut centres: Vec<f64> = means.to_vec();
    for (k, a) in means.iter().enumerate() {
        centres.extend(means[k + 1..].iter().map(|b| 0.5 * (a + b)));
    }
    centres.sort_by(f64::total_cmp);
    let mut windows: Vec<(f64, f64)> = Vec::new();
    for c in centres {
        let (lo, hi) = (c - WINDOW_STDS * s, c + WINDOW_STDS * s);
        match windows.last_mut() {
            Some(last) if lo <= last.1 => last.1 = hi,
            _ => windows.push((lo, hi)),
        }
    }
    let lo = means.iter().copied().fold(f64::INFINITY, f64::min) - TAIL_STDS * s;
    let hi = means.iter().copied().fold(f64::NEG_INFINITY, f64::max) + TAIL_STDS * s;
    let mut panels = vec![(lo, windows[0].0)];
    for (i, &(a, b)) in windows.iter().enumerate() {
        panels.extend(uniform_panels(a, b, PANEL_STDS * s));
        let next = windows.get(i + 1).map_or(hi, |w| w.0);
        panels.push((b, next));
    }
    panels
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
        let hi = prior
            .means()
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
            + 30.0 * s;
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
        GaussianMixturePrior::new(
            deg.iter().map(|d| d.to_radians()).collect(),
            p.to_vec(),
            std,
        )
        .unwrap()
    }

    #[test]
    fn epsilon_closes_the_prior_information_identity() {
        for (pr, tol) in [
            (
                prior(&[-55.0, -35.0, 65.0, 45.0], &[0.2, 0.3, 0.1, 0.4], 0.1),
                1e-12,
            ),
            (
                prior(&[-55.0, -35.0, 65.0, 45.0], &[0.2, 0.3, 0.1, 0.4], 0.2),
                1e-12,
            ),
            (prior(&[0.0, 3.0], &[0.5, 0.5], 0.04), 1e-12),
            (prior(&[-20.0, -19.0, 30.0], &[0.3, 0.3, 0.4], 0.001), 1e-12),
            (
                prior(&[-55.0, -35.0, 65.0, 45.0], &[0.2, 0.3, 0.1, 0.4], 0.003),
                1e-12,
            ),
        ] {
            let eps = epsilon(&pr);
            assert!(eps.value >= 0.0);
            let lhs = pr.std().powi(-2) - eps.value;
            let rhs = score_information(&pr);
            assert!(
                (lhs - rhs).abs() <= tol * pr.std().powi(-2),
                "{lhs} vs {rhs} (eps {eps:?})"
            );
        }
    }

    #[test]
    fn epsilon_is_tiny_but_positive_for_the_paper_prior() {
        let eps = epsilon(&prior(
            &[-55.0, -35.0, 65.0, 45.0],
            &[0.2, 0.3, 0.1, 0.4],
            0.01,
        ));
        assert!(eps.value > 0.0 && eps.value < 1e-40, "{eps:?}");
    }

    #[test]
    fn single_component_has_no_loss() {
        assert_eq!(epsilon(&prior(&[10.0], &[1.0], 0.05)).value, 0.0);
    }
}
