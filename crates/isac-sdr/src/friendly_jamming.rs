//! Closed-form baselines of paper 003 (notes, "Baselines"): MRT-Equal and ZF + AN, for K
//! single-antenna users on one subcarrier. Each returns the user beams (power included) and the
//! jamming covariance, which is all the secrecy-rate evaluation needs.

use faer::{Col, Mat, MatRef, c64};
use isac_bounds::{EchoGeometry, null_space_projector};

use crate::SdrError;

/// User beams `f_k` (power included) and the jamming covariance `Q` of one subcarrier.
#[derive(Debug, Clone)]
pub struct JammingDesign {
    /// `f_1..f_K`.
    pub beams: Vec<Col<c64>>,
    /// `Q` (Nt x Nt, Hermitian PSD): `zeta v v^H` for a steered beam, `p P / (Nt - K)` for
    /// isotropic AN in the null space.
    pub jamming: Mat<c64>,
}

fn check_power(power: f64) -> Result<(), SdrError> {
    if power.is_finite() && power > 0.0 {
        Ok(())
    } else {
        Err(SdrError::InvalidParameter {
            name: "power",
            value: power.to_string(),
            requirement: "must be finite and > 0",
        })
    }
}

fn scaled(x: Col<c64>, power: f64) -> Col<c64> {
    let s = (power / x.norm_l2().powi(2)).sqrt();
    Col::from_fn(x.nrows(), |i| x[i] * s)
}

/// MRT-Equal (ref. [2]): MRT beams `f_k ~ h_k`, and one jamming/probing beam along `a(theta,
/// phi)` (the transmit direction of `G = b a^H`) projected on the users' null space; the power
/// `P` split equally over the K + 1 beams. `users` is K x Nt (row k is `h_k^H`).
pub fn mrt_equal(
    users: MatRef<'_, c64>,
    geometry: &EchoGeometry,
    target: (f64, f64),
    power: f64,
) -> Result<JammingDesign, SdrError> {
    check_power(power)?;
    let (k, nt) = (users.nrows(), users.ncols());
    let share = power / (k + 1) as f64;
    let beams = (0..k)
        .map(|u| scaled(Col::from_fn(nt, |i| users[(u, i)].conj()), share))
        .collect();
    let p = null_space_projector(users)?;
    let a = geometry.tx.steering(target.0, target.1).a;
    let v = &p * &a;
    if v.norm_l2() <= 1e-12 * a.norm_l2() {
        return Err(SdrError::InvalidParameter {
            name: "target",
            value: format!("{target:?}"),
            requirement: "must have a steering vector with a component in the users' null space",
        });
    }
    let v = scaled(v, share);
    Ok(JammingDesign {
        beams,
        jamming: &v * v.adjoint(),
    })
}

/// ZF + AN (ref. [12]): zero-forcing beams `H^H (H H^H)^-1` (columns normalised, equal power
/// `(1 - an_fraction) P / K`) and isotropic artificial noise of power `an_fraction P` in the
/// users' null space. Needs `K < Nt` and full-rank `H`.
pub fn zf_an(
    users: MatRef<'_, c64>,
    power: f64,
    an_fraction: f64,
) -> Result<JammingDesign, SdrError> {
    check_power(power)?;
    if !(0.0..1.0).contains(&an_fraction) {
        return Err(SdrError::InvalidParameter {
            name: "an_fraction",
            value: an_fraction.to_string(),
            requirement: "must be in [0, 1)",
        });
    }
    let (k, nt) = (users.nrows(), users.ncols());
    let gram = users * users.adjoint();
    let zf =
        users.adjoint() * faer::linalg::solvers::DenseSolveCore::inverse(&gram.partial_piv_lu());
    if !(0..nt).all(|i| (0..k).all(|j| zf[(i, j)].re.is_finite() && zf[(i, j)].im.is_finite())) {
        return Err(SdrError::InvalidParameter {
            name: "users",
            value: format!("{k} x {nt}"),
            requirement: "must have full row rank for zero forcing",
        });
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
    fn bad_inputs_are_typed_errors() {
        let h = users(2, 4, 1);
        assert!(zf_an(h.as_ref(), -1.0, 0.5).is_err());
        assert!(zf_an(h.as_ref(), 1.0, 1.0).is_err());
        let rank_deficient = Mat::from_fn(2, 4, |_, j| c64::new(j as f64, 0.0));
        assert!(zf_an(rank_deficient.as_ref(), 1.0, 0.5).is_err());
    }
}
