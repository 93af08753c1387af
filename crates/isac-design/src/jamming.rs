//! Jamming directions in the users' null space: the sensing-guided beam of paper 003 (eq. 17,
//! docs/conventions.md), the unit beam that maximises the angle-Fisher trace `tr J = 2 c v^H M v` with
//! `M = dG_theta^H dG_theta + dG_phi^H dG_phi` (the principal eigenvector of `P M P`), and the
//! beam with the most power toward the target, `P a / |P a|`.

use faer::{Col, Mat, MatRef, Side, c64};
use isac_bounds::{EchoGeometry, SensingChannel, angle_information_matrix};

use crate::DesignError;
use crate::baselines::scaled;
use crate::null_space::{RANK_TOLERANCE, null_space_projector};

/// The closed-form optimum: a unit beam `v` with `H v = 0` maximising `v^H M v`, and that
/// maximum. `None`-like failure (an error) if the null space is empty (`K >= Nt` at full rank).
pub fn sensing_guided_jamming_direction(
    ch: &SensingChannel,
    users: MatRef<'_, c64>,
) -> Result<(Col<c64>, f64), DesignError> {
    if users.ncols() != ch.g.ncols() {
        return Err(DesignError::InvalidParameter(
            "users' channel",
            format!("{} x {}", users.nrows(), users.ncols()),
            "must have one column per transmit antenna",
        ));
    }
    let p = null_space_projector(users)?;
    let m = angle_information_matrix(ch);
    let pmp = &p * &m * &p;
    let hermitian = Mat::from_fn(pmp.nrows(), pmp.ncols(), |i, j| {
        (pmp[(i, j)] + pmp[(j, i)].conj()) * 0.5
    });
    let evd = hermitian
        .self_adjoint_eigen(Side::Lower)
        .map_err(|_| DesignError::Eigen)?;
    let n = hermitian.nrows();
    let top = evd.S()[n - 1].re;
    // An empty null space leaves only rounding (relative to M) in P M P.
    if top.is_nan() || top <= RANK_TOLERANCE * m.norm_l2() {
        return Err(DesignError::InvalidParameter(
            "users' channel",
            format!("{} users x {} antennas", users.nrows(), users.ncols()),
            "must leave a null space in which the echo carries angle information",
        ));
    }
    Ok((evd.U().col(n - 1).to_owned(), top))
}

/// `P a / |P a|`: the unit beam in the users' null space with the most power toward the target
/// at `target = (theta, phi)` (the transmit direction `a` of `G = b a^H`; Cauchy-Schwarz).
pub fn target_jamming_direction(
    users: MatRef<'_, c64>,
    geometry: &EchoGeometry,
    target: (f64, f64),
) -> Result<Col<c64>, DesignError> {
    let p = null_space_projector(users)?;
    let a = geometry.tx.steering(target.0, target.1).a;
    let v = &p * &a;
    if v.norm_l2() <= 1e-12 * a.norm_l2() {
        return Err(DesignError::InvalidParameter(
            "target",
            format!("{target:?}"),
            "must have a steering vector with a component in the users' null space",
        ));
    }
    Ok(scaled(v, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use isac_bounds::EchoGeometry;
    use isac_channel::Upa;
    use proptest::prelude::*;

    fn complex(v: &[f64], rows: usize, cols: usize) -> Mat<c64> {
        Mat::from_fn(rows, cols, |i, j| {
            c64::new(v[2 * (i * cols + j)], v[2 * (i * cols + j) + 1])
        })
    }

    fn quadratic(v: &Col<c64>, m: &Mat<c64>) -> f64 {
        let mv = m * v;
        (0..v.nrows()).map(|i| v[i].conj() * mv[i]).sum::<c64>().re
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn closed_form_is_in_the_null_space_and_no_random_null_space_beam_beats_it(
            users in prop::collection::vec(-1.0f64..1.0, 2 * 2 * 16),
            probes in prop::collection::vec(-1.0f64..1.0, 2 * 16 * 20),
            th in -1.2f64..1.2, ph in -1.0f64..1.0,
        ) {
            let geometry = EchoGeometry { tx: Upa::new(4, 4, 0.5).unwrap(), rx: Upa::new(2, 2, 0.5).unwrap() };
            let ch = geometry.channel(th, ph);
            let h = complex(&users, 2, 16);
            let (v, best) = sensing_guided_jamming_direction(&ch, h.as_ref()).unwrap();
            // No interference at the users, unit norm.
            let leak = &h * &v;
            prop_assert!((0..2).all(|k| leak[k].norm() < 1e-9), "{leak:?}");
            prop_assert!((v.norm_l2() - 1.0).abs() < 1e-12);
            let m = angle_information_matrix(&ch);
            prop_assert!((quadratic(&v, &m) - best).abs() <= 1e-9 * best);
            // Random unit beams projected into the null space never do better.
            let p = null_space_projector(h.as_ref()).unwrap();
            let z = complex(&probes, 16, 20);
            for c in 0..20 {
                let w = &p * z.col(c);
                let norm = w.norm_l2();
                prop_assume!(norm > 1e-6);
                let w = Col::from_fn(16, |i| w[i] / norm);
                prop_assert!(quadratic(&w, &m) <= best * (1.0 + 1e-10));
            }
        }
    }

    #[test]
    fn a_full_rank_channel_leaves_no_jamming_direction() {
        let geometry = EchoGeometry {
            tx: Upa::new(2, 1, 0.5).unwrap(),
            rx: Upa::new(2, 1, 0.5).unwrap(),
        };
        let ch = geometry.channel(0.3, 0.1);
        let h = Mat::from_fn(2, 2, |i, j| c64::new(if i == j { 1.0 } else { 0.2 }, 0.0));
        assert!(sensing_guided_jamming_direction(&ch, h.as_ref()).is_err());
        assert!(sensing_guided_jamming_direction(&ch, Mat::<c64>::zeros(2, 3).as_ref()).is_err());
    }
}
