//! Hardware impairments of paper 003 (Sec. III-F; docs/conventions.md, "Impairments"): transmit IQ imbalance
//! `x~ = mu x + nu x*` and per-antenna Wiener phase noise `phi[t] = phi[t - 1] + N(0, s^2)`.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::c64;
use crate::scenario::friendly_jamming::PhaseModel;

/// The widely linear IQ-imbalance coefficients.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IqImbalance {
    /// `mu = cos(dth / 2) + j eps sin(dth / 2)`.
    pub mu: c64,
    /// `nu = eps cos(dth / 2) - j sin(dth / 2)`.
    pub nu: c64,
}

impl IqImbalance {
    /// The coefficients for amplitude mismatch `epsilon` and phase mismatch `phase_rad`; both
    /// zero give ideal hardware (`mu = 1`, `nu = 0`).
    pub fn new(epsilon: f64, phase_rad: f64) -> Self {
        let (s, c) = (phase_rad / 2.0).sin_cos();
        Self {
            mu: c64::new(c, epsilon * s),
            nu: c64::new(epsilon * c, -s),
        }
    }

    /// `mu x + nu x*`.
    pub fn apply(&self, x: c64) -> c64 {
        self.mu * x + self.nu * x.conj()
    }
}

/// `steps` samples of independent Wiener phase processes on `antennas` oscillators, starting at
/// zero: `out[t][i] = phi_i[t + 1]`, increments N(0, `variance`).
pub fn wiener_phases<R: Rng + ?Sized>(
    rng: &mut R,
    antennas: usize,
    steps: usize,
    variance: f64,
) -> Vec<Vec<f64>> {
    let std = variance.max(0.0).sqrt();
    let mut phase = vec![0.0; antennas];
    (0..steps)
        .map(|_| {
            for p in &mut phase {
                let z: f64 = StandardNormal.sample(rng);
                *p += std * z;
            }
            phase.clone()
        })
        .collect()
}

/// One Wiener increment of the oscillator phase of each of `antennas` elements, variance
/// `variance`: independent per antenna, or one draw shared by the array
/// ([`PhaseModel::Common`], the paper's `y = e^{j phi} h^H x`).
pub fn oscillator_phases<R: Rng + ?Sized>(
    rng: &mut R,
    antennas: usize,
    variance: f64,
    model: PhaseModel,
) -> Vec<f64> {
    match model {
        PhaseModel::PerAntenna => wiener_phases(rng, antennas, 1, variance).remove(0),
        PhaseModel::Common => vec![wiener_phases(rng, 1, 1, variance)[0][0]; antennas],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    #[test]
    fn ideal_hardware_is_the_identity() {
        let iq = IqImbalance::new(0.0, 0.0);
        assert_eq!((iq.mu, iq.nu), (c64::new(1.0, 0.0), c64::new(0.0, 0.0)));
        let x = c64::new(0.3, -1.7);
        assert_eq!(iq.apply(x), x);
        let mut rng = stream(1, [0; 3]);
        assert!(
            wiener_phases(&mut rng, 4, 5, 0.0)
                .iter()
                .flatten()
                .all(|p| *p == 0.0)
        );
    }

    #[test]
    fn iq_imbalance_is_widely_linear_with_an_image_that_grows_with_the_mismatch() {
        // Real-linear in x (so fixed by its action on 1 and j), with the image x* weighted by
        // nu: a real input keeps |mu + nu|, an imaginary one |mu - nu|.
        let iq = IqImbalance::new(0.02, 1f64.to_radians());
        let (one, j) = (c64::new(1.0, 0.0), c64::new(0.0, 1.0));
        for x in [c64::new(0.4, -0.9), c64::new(-2.0, 0.1)] {
            let real_linear = iq.apply(one) * x.re + iq.apply(j) * x.im;
            assert!((iq.apply(x) - real_linear).norm() < 1e-14);
        }
        let image = |eps: f64, deg: f64| {
            let q = IqImbalance::new(eps, deg.to_radians());
            q.nu.norm_sqr() / q.mu.norm_sqr()
        };
        assert!(image(0.0, 0.0) == 0.0);
        assert!(image(0.02, 1.0) < image(0.05, 1.0) && image(0.02, 1.0) < image(0.02, 3.0));
    }

    #[test]
    fn a_common_phase_is_one_draw_for_the_whole_array() {
        let mut rng = stream(4, [0; 3]);
        let common = oscillator_phases(&mut rng, 6, 0.1, PhaseModel::Common);
        assert!(common[0] != 0.0 && common.iter().all(|p| *p == common[0]));
        let mut rng = stream(4, [0; 3]);
        let own = oscillator_phases(&mut rng, 6, 0.1, PhaseModel::PerAntenna);
        assert_eq!(own[0], common[0], "the same stream's first draw");
        assert!(own.windows(2).all(|w| w[0] != w[1]));
    }

    #[test]
    fn wiener_increments_have_the_given_variance() {
        let mut rng = stream(3, [0; 3]);
        let (antennas, steps, var) = (8, 4000, 0.05);
        let p = wiener_phases(&mut rng, antennas, steps, var);
        let mut sum2 = 0.0;
        for w in p.windows(2) {
            sum2 += w[1]
                .iter()
                .zip(&w[0])
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>();
        }
        let est = sum2 / ((steps - 1) * antennas) as f64;
        // 32k samples of a chi-square: relative std sqrt(2 / 32000) = 0.8%.
        assert!((est / var - 1.0).abs() < 0.04, "{est}");
    }
}
