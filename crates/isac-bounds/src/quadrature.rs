//! Gauss-Hermite expectations under a normal law and adaptive Gauss-Legendre integration.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, OnceLock};

use gauss_quad::hermite::GaussHermite;
use gauss_quad::legendre::GaussLegendre;

use crate::BoundsError;

/// Gauss-Hermite rule rescaled to the standard normal: `E[f(Z)] ~ sum_i w_i f(z_i)`.
#[derive(Debug, Clone)]
pub struct NormalRule {
    points: Points,
}

/// Standard-normal nodes and weights of one rule.
type Points = Arc<Vec<(f64, f64)>>;

/// Rules already computed, by node count (Golub-Welsch costs ~0.1 ms for 48 nodes).
fn cache() -> &'static Mutex<HashMap<usize, Points>> {
    static CACHE: OnceLock<Mutex<HashMap<usize, Points>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

impl NormalRule {
    /// A rule with `nodes` points, exact for polynomials of degree `2 nodes - 1`.
    pub fn new(nodes: usize) -> Result<Self, BoundsError> {
        let n = NonZeroUsize::new(nodes).ok_or(BoundsError::InvalidParameter {
            name: "hermite_nodes",
            value: nodes.to_string(),
            requirement: "must be at least 1",
        })?;
        let mut cache = cache()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let points = cache
            .entry(nodes)
            .or_insert_with(|| {
                let scale = std::f64::consts::PI.sqrt();
                Arc::new(
                    GaussHermite::new(n)
                        .as_node_weight_pairs()
                        .iter()
                        .map(|&(x, w)| (std::f64::consts::SQRT_2 * x, w / scale))
                        .collect(),
                )
            })
            .clone();
        Ok(Self { points })
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Always false: a rule has at least one node.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Nodes and weights for `N(mean, std^2)`: `E[f(X)] ~ sum w f(x)`.
    pub fn points(&self, mean: f64, std: f64) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.points.iter().map(move |&(z, w)| (mean + std * z, w))
    }

    /// `E[f(X)]`, `X ~ N(mean, std^2)`.
    pub fn expectation(&self, mean: f64, std: f64, f: impl Fn(f64) -> f64) -> f64 {
        self.points(mean, std).map(|(x, w)| w * f(x)).sum()
    }
}

/// Result of an adaptive integration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Integral {
    /// Estimate of the integral.
    pub value: f64,
    /// Estimated absolute error (sum over panels of |coarse - refined|).
    pub error: f64,
    /// Number of integrand evaluations.
    pub evaluations: usize,
}

/// Gauss-Legendre order of one panel.
const PANEL_ORDER: usize = 10;
/// Refinement stops after this many panels even if the tolerance is not met.
const MAX_PANELS: usize = 100_000;

struct Panel {
    a: f64,
    b: f64,
    value: f64,
    error: f64,
}

/// `[a, b]` cut into equal panels no wider than `max_width`.
pub fn uniform_panels(a: f64, b: f64, max_width: f64) -> Vec<(f64, f64)> {
    let count = (((b - a) / max_width).ceil() as usize).clamp(1, MAX_PANELS);
    let width = (b - a) / count as f64;
    (0..count)
        .map(|i| (a + i as f64 * width, a + (i + 1) as f64 * width))
        .collect()
}

/// Adaptive Gauss-Legendre integration of `f` over the union of `initial` panels.
///
/// The caller's initial panels must be narrow wherever `f` has narrow peaks (a rule cannot
/// find a peak it steps over). Each panel is integrated once whole and once as two halves,
/// the halves are kept and `|whole - halves|` is the panel's error. The worst panel is
/// bisected until the summed error is below `max(abs_tol, rel_tol |value|)`.
pub fn integrate_adaptive(
    mut f: impl FnMut(f64) -> f64,
    initial: &[(f64, f64)],
    rel_tol: f64,
    abs_tol: f64,
) -> Integral {
    let rule = GaussLegendre::new(NonZeroUsize::new(PANEL_ORDER).expect("non-zero order"));
    let nodes = rule.as_node_weight_pairs();
    let mut evaluations = 0usize;
    let mut gl = |lo: f64, hi: f64| {
        evaluations += nodes.len();
        let (c, h) = (0.5 * (lo + hi), 0.5 * (hi - lo));
        h * nodes.iter().map(|&(x, w)| w * f(c + h * x)).sum::<f64>()
    };
    let mut panel = |lo: f64, hi: f64| {
        let whole = gl(lo, hi);
        let mid = 0.5 * (lo + hi);
        let halves = gl(lo, mid) + gl(mid, hi);
        Panel {
            a: lo,
            b: hi,
            value: halves,
            error: (whole - halves).abs(),
        }
    };
    let mut panels: Vec<Panel> = initial.iter().map(|&(lo, hi)| panel(lo, hi)).collect();
    if panels.is_empty() {
        return Integral {
            value: 0.0,
            error: 0.0,
            evaluations,
        };
    }
    loop {
        let value: f64 = panels.iter().map(|p| p.value).sum();
        let error: f64 = panels.iter().map(|p| p.error).sum();
        if error <= abs_tol.max(rel_tol * value.abs()) || panels.len() >= MAX_PANELS {
            return Integral {
                value,
                error,
                evaluations,
            };
        }
        let worst = panels
            .iter()
            .enumerate()
            .max_by(|x, y| x.1.error.total_cmp(&y.1.error))
            .map(|(i, _)| i)
            .expect("at least one panel");
        let p = panels.swap_remove(worst);
        let mid = 0.5 * (p.a + p.b);
        panels.push(panel(p.a, mid));
        panels.push(panel(mid, p.b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hermite_rule_reproduces_normal_moments() {
        // E[X^(2k)] = (2k-1)!! sigma^(2k) for X ~ N(0, sigma^2); exact for 2k <= 2n - 1.
        let rule = NormalRule::new(12).unwrap();
        let s = 0.3;
        let mut double_factorial = 1.0;
        for k in 1..=11u32 {
            double_factorial *= (2 * k - 1) as f64;
            let m = rule.expectation(0.0, s, |x| x.powi(2 * k as i32));
            let exact = double_factorial * s.powi(2 * k as i32);
            assert!((m - exact).abs() <= 1e-12 * exact, "k={k}: {m} vs {exact}");
        }
        // Shift: E[cos X] = cos(mu) exp(-sigma^2 / 2).
        let m = NormalRule::new(30).unwrap().expectation(0.4, 0.7, f64::cos);
        assert!((m - 0.4f64.cos() * (-0.245f64).exp()).abs() < 1e-14);
    }

    #[test]
    fn adaptive_integrates_narrow_peaks_and_smooth_functions() {
        // A narrow Gaussian far from the centre of a wide interval.
        let s = 1e-3;
        let g = |x: f64| {
            (-(x - 0.7).powi(2) / (2.0 * s * s)).exp() / (s * (2.0 * std::f64::consts::PI).sqrt())
        };
        let r = integrate_adaptive(g, &uniform_panels(-2.0, 2.0, s), 1e-13, 0.0);
        assert!((r.value - 1.0).abs() < 1e-12, "{r:?}");
        let r = integrate_adaptive(|x: f64| 1.0 / (1.0 + x * x), &[(0.0, 1.0)], 1e-14, 0.0);
        assert!(
            (r.value - std::f64::consts::FRAC_PI_4).abs() < 1e-14,
            "{r:?}"
        );
        assert!(r.error < 1e-13);
    }

    #[test]
    fn zero_nodes_is_an_error() {
        assert!(NormalRule::new(0).is_err());
    }
}
