//! The sensing-guided friendly-jamming direction of paper 003 in closed form (notes): the unit
//! beam in the null space of the users' channel that maximises the Fisher-information trace
//! of the angles, `tr J = 2 c v^H M v` with `M = dG_theta^H dG_theta + dG_phi^H dG_phi`.
//! It is the principal eigenvector of `P M P`, `P` the projector onto the null space.

use faer::{Col, Mat, MatRef, Side, c64};

use crate::{BoundsError, SensingChannel};

/// Relative singular-value threshold below which a direction of `H^H` is treated as absent.
const RANK_TOLERANCE: f64 = 1e-12;

/// `P = I - H^H (H H^H)^+ H`, the orthogonal projector onto `{v : H v = 0}` for the users'
/// channel `H` (K x Nt, one row per user), computed from an SVD (rank-deficient H allowed).
pub fn null_space_projector(h: MatRef<'_, c64>) -> Result<Mat<c64>, BoundsError> {
    let nt = h.ncols();
    let svd = h
        .adjoint()
        .thin_svd()
        .map_err(|_| BoundsError::InvalidParameter {
            name: "users' channel",
            value: format!("{} x {}", h.nrows(), h.ncols()),
            requirement: "must have a singular value decomposition (finite entries)",
        })?;
    let (u, s) = (svd.U(), svd.S());
    let largest = (0..s.dim()).map(|k| s[k].re).fold(0.0, f64::max);
    let mut p = Mat::from_fn(nt, nt, |i, j| c64::new(if i == j { 1.0 } else { 0.0 }, 0.0));
    for k in (0..s.dim()).filter(|&k| s[k].re > RANK_TOLERANCE * largest) {
        for j in 0..nt {
            let ujk = u[(j, k)].conj();
            for i in 0..nt {
                p[(i, j)] -= u[(i, k)] * ujk;
            }
        }
    }
    Ok(p)
}

/// `M = dG_theta^H dG_theta + dG_phi^H dG_phi` (Nt x Nt): `v^H M v` is the angle-Fisher trace
/// per unit `2 c` of a beam `v`.
pub fn angle_information_matrix(ch: &SensingChannel) -> Mat<c64> {
    ch.d_theta.adjoint() * &ch.d_theta + ch.d_phi.adjoint() * &ch.d_phi
}

/// The closed-form optimum: a unit beam `v` with `H v = 0` maximising `v^H M v`, and that
/// maximum. `None`-like failure (an error) if the null space is empty (`K >= Nt` at full rank).
pub fn sensing_guided_jamming_direction(
    ch: &SensingChannel,
    users: MatRef<'_, c64>,
) -> Result<(Col<c64>, f64), BoundsError> {
    if users.ncols() != ch.g.ncols() {
        return Err(BoundsError::Dimension {
            what: "users' channel",
            expected_rows: users.nrows(),
            expected_cols: ch.g.ncols(),
            rows: users.nrows(),
            cols: users.ncols(),
        });
    }
    let p = null_space_projector(users)?;
    let m = angle_information_matrix(ch);
    let pmp = &p * &m * &p;
    let hermitian = Mat::from_fn(pmp.nrows(), pmp.ncols(), |i, j| {
        (pmp[(i, j)] + pmp[(j, i)].conj()) * 0.5
    });
    let evd = hermitian
        .self_adjoint_eigen(Side::Lower)
        .map_err(|_| BoundsError::SingularFim)?;
    let n = hermitian.nrows();
    let top = evd.S()[n - 1].re;
    // An empty null space leaves only rounding (relative to M) in P M P.
    if top.is_nan() || top <= RANK_TOLERANCE * m.norm_l2() {
        return Err(BoundsError::InvalidParameter {
            name: "users' channel",
            value: format!("{} users x {} antennas", users.nrows(), users.ncols()),
            requirement: "must leave a null space in which the echo carries angle information",
        });
    }
    Ok((evd.U().col(n - 1).to_owned(), top))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EchoGeometry;
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
    fn projector_is_idempotent_and_annihilates_the_users() {
        let v: Vec<f64> = (0..64)
            .map(|k| ((k * 37 % 29) as f64 - 14.0) / 9.0)
            .collect();
        let h = complex(&v, 2, 16);
        let p = null_space_projector(h.as_ref()).unwrap();
        assert!((&p * &p - &p).norm_l2() < 1e-12);
        assert!((&h * &p).norm_l2() < 1e-12);
        let trace: f64 = (0..16).map(|i| p[(i, i)].re).sum();
        assert!((trace - 14.0).abs() < 1e-12, "rank 16 - K");
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
