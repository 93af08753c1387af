//! Closed-form baselines of paper 003 (docs/conventions.md, "Baselines"): MRT-Equal and ZF + AN, for K
//! single-antenna users on one subcarrier. Each returns the user beams (power included) and the
//! jamming covariance, which is all the secrecy-rate evaluation needs.

use faer::{Col, Mat, MatRef, c64};
use isac_bounds::EchoGeometry;
use isac_channel::impairments::IqImbalance;

use crate::DesignError;
use crate::jamming::target_jamming_direction;
use crate::null_space::null_space_projector;

/// User beams `f_k` (power included) and the jamming covariance `Q` of one subcarrier.
#[derive(Debug, Clone)]
pub struct JammingDesign {
    /// `f_1..f_K`.
    pub beams: Vec<Col<c64>>,
    /// `Q` (Nt x Nt, Hermitian PSD): `zeta v v^H` for a steered beam, `p P / (Nt - K)` for
    /// isotropic AN in the null space.
    pub jamming: Mat<c64>,
}

impl JammingDesign {
    /// The jamming power radiated toward the direction `a` (transmit steering vector), `a^H Q a`,
    /// and that of isotropic jamming of the same power in the null space of projector `p`,
    /// `tr Q a^H p a / tr p`: their ratio is the design's target jamming gain (1 for isotropic
    /// jamming, `tr p` for the beam `p a / |p a|`).
    pub fn target_jamming(&self, a: &Col<c64>, p: MatRef<'_, c64>) -> (f64, f64) {
        let toward = (a.adjoint() * &self.jamming * a).re;
        let trace = |m: MatRef<'_, c64>| (0..m.nrows()).map(|i| m[(i, i)].re).sum::<f64>();
        let isotropic = trace(self.jamming.as_ref()) * (a.adjoint() * p * a).re / trace(p);
        (toward, isotropic)
    }

    /// The design through impaired hardware (paper 003 Sec. III-F): per-antenna oscillator phases
    /// `D = diag(e^{j phi})` and IQ imbalance, `x~ = mu D x + nu (D x)*`. For proper symbols the
    /// image is uncorrelated with every stream, so the users keep `mu D f_k` and the covariance of
    /// everything else, `|mu|^2 D Q D^H + |nu|^2 (D R D^H)*` with `R = sum_k f_k f_k^H + Q`,
    /// becomes the jamming. Ideal hardware (`mu = 1`, `nu = 0`, zero phases) returns the design
    /// unchanged.
    pub fn impaired(&self, iq: IqImbalance, phases: &[f64]) -> Self {
        let nt = self.jamming.nrows();
        let d: Vec<c64> = (0..nt)
            .map(|i| c64::cis(phases.get(i).copied().unwrap_or(0.0)))
            .collect();
        let rotate = |m: &Mat<c64>| Mat::from_fn(nt, nt, |i, j| d[i] * m[(i, j)] * d[j].conj());
        let mut r = self.jamming.clone();
        for f in &self.beams {
            r += f * f.adjoint();
        }
        let (q, r) = (rotate(&self.jamming), rotate(&r));
        let (mu2, nu2) = (iq.mu.norm_sqr(), iq.nu.norm_sqr());
        Self {
            beams: self
                .beams
                .iter()
                .map(|f| Col::from_fn(nt, |i| iq.mu * d[i] * f[i]))
                .collect(),
            jamming: Mat::from_fn(nt, nt, |i, j| q[(i, j)] * mu2 + r[(i, j)].conj() * nu2),
        }
    }
}

fn check_power(power: f64) -> Result<(), DesignError> {
    if power.is_finite() && power > 0.0 {
        Ok(())
    } else {
        Err(DesignError::InvalidParameter(
            "power",
            power.to_string(),
            "must be finite and > 0",
        ))
    }
}

/// `x` rescaled to squared norm `power`.
pub(crate) fn scaled(x: Col<c64>, power: f64) -> Col<c64> {
    let s = (power / x.norm_l2().powi(2)).sqrt();
    Col::from_fn(x.nrows(), |i| x[i] * s)
}

/// MRT-Equal (ref. \[2\]): MRT beams `f_k ~ h_k`, and one jamming/probing beam along `a(theta,
/// phi)` (the transmit direction of `G = b a^H`) projected on the users' null space; the power
/// `P` split equally over the K + 1 beams. `users` is K x Nt (row k is `h_k^H`).
pub fn mrt_equal(
    users: MatRef<'_, c64>,
    geometry: &EchoGeometry,
    target: (f64, f64),
    power: f64,
) -> Result<JammingDesign, DesignError> {
    check_power(power)?;
    let (k, nt) = (users.nrows(), users.ncols());
    let share = power / (k + 1) as f64;
    let beams = (0..k)
        .map(|u| scaled(Col::from_fn(nt, |i| users[(u, i)].conj()), share))
        .collect();
    let v = scaled(target_jamming_direction(users, geometry, target)?, share);
    Ok(JammingDesign {
        beams,
        jamming: &v * v.adjoint(),
    })
}

/// Mixed jamming with zero-forcing beams (ISAC_FJ_PLUS's closed form): the beams of
/// [`zf_an`] with `(1 - jam_fraction) P`, and `Q = jam_fraction P (beta v v^H + (1 - beta) P_N /
/// (Nt - K))` with `v` a unit beam in the users' null space. `beta = 0` is ZF_AN (isotropic),
/// `beta = 1` one steered beam.
pub fn zf_mixed(
    users: MatRef<'_, c64>,
    power: f64,
    jam_fraction: f64,
    steered: &Col<c64>,
    beta: f64,
) -> Result<JammingDesign, DesignError> {
    if !(0.0..=1.0).contains(&beta) {
        return Err(DesignError::InvalidParameter(
            "beta",
            beta.to_string(),
            "must be in [0, 1]",
        ));
    }
    if steered.nrows() != users.ncols() || (steered.norm_l2() - 1.0).abs() > 1e-9 {
        return Err(DesignError::InvalidParameter(
            "steered",
            format!("{} entries, norm {}", steered.nrows(), steered.norm_l2()),
            "must be a unit vector with one entry per transmit antenna",
        ));
    }
    let mut d = zf_an(users, power, jam_fraction)?;
    let steered_power = beta * jam_fraction * power;
    d.jamming = Mat::from_fn(users.ncols(), users.ncols(), |i, j| {
        d.jamming[(i, j)] * (1.0 - beta) + steered[i] * steered[j].conj() * steered_power
    });
    Ok(d)
}

/// ZF + AN (ref. \[12\]): zero-forcing beams `H^H (H H^H)^-1` (columns normalised, equal power
/// `(1 - an_fraction) P / K`) and isotropic artificial noise of power `an_fraction P` in the
/// users' null space. Needs `K < Nt` and full-rank `H`.
pub fn zf_an(
    users: MatRef<'_, c64>,
    power: f64,
    an_fraction: f64,
) -> Result<JammingDesign, DesignError> {
    check_power(power)?;
    if !(0.0..1.0).contains(&an_fraction) {
        return Err(DesignError::InvalidParameter(
            "an_fraction",
            an_fraction.to_string(),
            "must be in [0, 1)",
        ));
    }
    let (k, nt) = (users.nrows(), users.ncols());
    let gram = users * users.adjoint();
    let zf =
        users.adjoint() * faer::linalg::solvers::DenseSolveCore::inverse(&gram.partial_piv_lu());
    if !(0..nt).all(|i| (0..k).all(|j| zf[(i, j)].re.is_finite() && zf[(i, j)].im.is_finite())) {
        return Err(DesignError::InvalidParameter(
            "users",
            format!("{k} x {nt}"),
            "must have full row rank for zero forcing",
        ));
    }
    let share = (1.0 - an_fraction) * power / k as f64;
    let beams = (0..k)
        .map(|u| scaled(Col::from_fn(nt, |i| zf[(i, u)]), share))
        .collect();
    let p = null_space_projector(users)?;
    let dim = (0..nt).map(|i| p[(i, i)].re).sum::<f64>().round().max(1.0);
    let an = an_fraction * power / dim;
    Ok(JammingDesign {
        beams,
        jamming: Mat::from_fn(nt, nt, |i, j| p[(i, j)] * an),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use isac_channel::Upa;
    use isac_channel::rng::{complex_normal, stream};
    use proptest::prelude::*;

    #[test]
    fn ideal_hardware_leaves_a_design_exactly_unchanged() {
        let h = users(2, 6, 5);
        let d = zf_an(h.as_ref(), 100.0, 0.4).unwrap();
        let same = d.impaired(IqImbalance::new(0.0, 0.0), &[0.0; 6]);
        assert_eq!(same.jamming, d.jamming);
        for (a, b) in same.beams.iter().zip(&d.beams) {
            assert_eq!(a, b);
        }
    }

    #[test]
    fn impaired_covariance_matches_a_simulation_of_the_distorted_signal() {
        // x = sum_k f_k s_k + V eta with proper unit symbols; x~ = mu D x + nu (D x)*.
        let nt = 4;
        let h = users(2, nt, 6);
        let d = zf_an(h.as_ref(), 10.0, 0.5).unwrap();
        let iq = IqImbalance::new(0.1, 10f64.to_radians());
        let phases = [0.3, -0.5, 1.1, 0.0];
        let imp = d.impaired(iq, &phases);
        // V with V V^H = Q from the eigendecomposition of Q.
        let evd = d.jamming.self_adjoint_eigen(faer::Side::Lower).unwrap();
        let v = Mat::from_fn(nt, nt, |i, j| {
            evd.U()[(i, j)] * evd.S()[j].re.max(0.0).sqrt()
        });
        let mut rng = stream(8, [0; 3]);
        let samples = 40_000;
        let mut acc = Mat::<c64>::zeros(nt, nt);
        let mut cross = Col::<c64>::zeros(nt); // E[x~ s_1^*]: the first user's useful part
        for _ in 0..samples {
            let s: Vec<c64> = (0..2).map(|_| complex_normal(&mut rng, 1.0)).collect();
            let eta: Vec<c64> = (0..nt).map(|_| complex_normal(&mut rng, 1.0)).collect();
            let x = Col::from_fn(nt, |i| {
                d.beams[0][i] * s[0]
                    + d.beams[1][i] * s[1]
                    + (0..nt).map(|j| v[(i, j)] * eta[j]).sum::<c64>()
            });
            let y = Col::from_fn(nt, |i| {
                let dx = c64::cis(phases[i]) * x[i];
                iq.mu * dx + iq.nu * dx.conj()
            });
            acc += &y * y.adjoint();
            cross += Col::from_fn(nt, |i| y[i] * s[0].conj());
        }
        let total = |m: &JammingDesign| {
            let mut r = m.jamming.clone();
            for f in &m.beams {
                r += f * f.adjoint();
            }
            r
        };
        let model = total(&imp);
        let scale = model.norm_l2();
        let sampled = Mat::from_fn(nt, nt, |i, j| acc[(i, j)] / samples as f64);
        assert!((&sampled - &model).norm_l2() < 0.03 * scale, "covariance");
        let useful = Col::from_fn(nt, |i| cross[i] / samples as f64);
        assert!(
            (&useful - &imp.beams[0]).norm_l2() < 0.03 * imp.beams[0].norm_l2(),
            "stream"
        );
    }

    fn users(k: usize, nt: usize, seed: u64) -> Mat<c64> {
        let mut rng = stream(seed, [0; 3]);
        Mat::from_fn(k, nt, |_, _| complex_normal(&mut rng, 1.0))
    }

    fn total_power(d: &JammingDesign) -> f64 {
        d.beams.iter().map(|f| f.norm_l2().powi(2)).sum::<f64>()
            + (0..d.jamming.nrows())
                .map(|i| d.jamming[(i, i)].re)
                .sum::<f64>()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn baselines_meet_the_budget_and_spare_the_users(
            seed in 0u64..10_000, k in 1usize..4, power in 0.1f64..1e3, an in 0.0f64..0.9,
            th in -1.0f64..1.0, ph in -1.0f64..1.0,
        ) {
            let geometry = EchoGeometry { tx: Upa::new(4, 4, 0.5).unwrap(), rx: Upa::new(2, 2, 0.5).unwrap() };
            let h = users(k, 16, seed);
            for d in [mrt_equal(h.as_ref(), &geometry, (th, ph), power).unwrap(), zf_an(h.as_ref(), power, an).unwrap()] {
                prop_assert!((total_power(&d) / power - 1.0).abs() < 1e-9);
                // Jamming in the null space: h_k^H Q h_k = 0 for every user.
                let leak = &h * &d.jamming * h.adjoint();
                for u in 0..k {
                    prop_assert!(leak[(u, u)].norm() < 1e-9 * power, "{}", leak[(u, u)]);
                }
            }
            // ZF: no inter-user interference.
            let d = zf_an(h.as_ref(), power, an).unwrap();
            for (j, f) in d.beams.iter().enumerate() {
                let y = &h * f;
                for u in (0..k).filter(|&u| u != j) {
                    prop_assert!(y[u].norm() < 1e-9 * f.norm_l2() * 10.0);
                }
            }
        }
    }

    #[test]
    fn target_jamming_gain_is_one_for_isotropic_and_the_null_dimension_for_the_target_beam() {
        let geometry = EchoGeometry {
            tx: Upa::new(4, 4, 0.5).unwrap(),
            rx: Upa::new(2, 2, 0.5).unwrap(),
        };
        let target = (0.2, 0.3);
        let a = geometry.tx.steering(target.0, target.1).a;
        for seed in 0..5 {
            let h = users(2, 16, seed);
            let p = null_space_projector(h.as_ref()).unwrap();
            let ratio = |d: &JammingDesign| {
                let (toward, iso) = d.target_jamming(&a, p.as_ref());
                toward / iso
            };
            let v = target_jamming_direction(h.as_ref(), &geometry, target).unwrap();
            let isotropic = zf_an(h.as_ref(), 10.0, 0.5).unwrap();
            assert!((ratio(&isotropic) - 1.0).abs() < 1e-9);
            // The steered beam: a^H P a a^H P a / |P a|^2 over a^H P a / (Nt - K) = Nt - K.
            let steered = zf_mixed(h.as_ref(), 10.0, 0.5, &v, 1.0).unwrap();
            assert!((ratio(&steered) - 14.0).abs() < 1e-9, "{}", ratio(&steered));
            // A mix is linear in beta; beta = 0 is ZF_AN exactly.
            let half = zf_mixed(h.as_ref(), 10.0, 0.5, &v, 0.5).unwrap();
            assert!((ratio(&half) - 7.5).abs() < 1e-9);
            assert_eq!(
                zf_mixed(h.as_ref(), 10.0, 0.5, &v, 0.0).unwrap().jamming,
                isotropic.jamming
            );
            assert!((total_power(&half) / 10.0 - 1.0).abs() < 1e-12);
            // No other unit beam in the null space radiates more toward the target.
            let mut rng = stream(seed, [1, 0, 0]);
            for _ in 0..50 {
                let x = &p * Col::from_fn(16, |_| complex_normal(&mut rng, 1.0));
                let x = scaled(x, 1.0);
                let other = zf_mixed(h.as_ref(), 10.0, 0.5, &x, 1.0).unwrap();
                assert!(ratio(&other) <= ratio(&steered) + 1e-9);
            }
        }
        assert!(zf_mixed(users(2, 16, 0).as_ref(), 1.0, 0.5, &Col::zeros(16), 0.5).is_err());
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let h = users(2, 4, 1);
        assert!(zf_an(h.as_ref(), -1.0, 0.5).is_err());
        assert!(zf_an(h.as_ref(), 1.0, 1.0).is_err());
        let rank_deficient = Mat::from_fn(2, 4, |_, j| c64::new(j as f64, 0.0));
        assert!(zf_an(rank_deficient.as_ref(), 1.0, 0.5).is_err());
    }
}
