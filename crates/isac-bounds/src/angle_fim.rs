//! Angle Fisher information of the UPA echo model of paper 003 (eqs. 8-9, 18-21).
//!
//! Echo `Y = alpha G(theta, phi) S + N`, `G = b a^H` (Nr x Nt), `N ~ CN(0, sigma^2 I)`.

use faer::{Col, Mat, MatRef, c64};
use isac_channel::Upa;

use crate::BoundsError;
use crate::error::check_square;
use crate::fim::fim_from_operators;

/// Transmit and receive UPAs of the monostatic BS.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EchoGeometry {
    /// Transmit array (Nt elements).
    pub tx: Upa,
    /// Radar receive array (Nr elements).
    pub rx: Upa,
}

/// `G(theta, phi) = b a^H` and its partial derivatives.
#[derive(Debug, Clone)]
pub struct SensingChannel {
    /// `G`.
    pub g: Mat<c64>,
    /// `dG/dtheta = db_theta a^H + b da_theta^H`.
    pub d_theta: Mat<c64>,
    /// `dG/dphi`.
    pub d_phi: Mat<c64>,
}

fn outer(x: &Col<c64>, y: &Col<c64>) -> Mat<c64> {
    Mat::from_fn(x.nrows(), y.nrows(), |i, j| x[i] * y[j].conj())
}

impl EchoGeometry {
    /// `G` and its derivatives at `(theta, phi)`.
    pub fn channel(&self, theta: f64, phi: f64) -> SensingChannel {
        let a = self.tx.steering(theta, phi);
        let b = self.rx.steering(theta, phi);
        SensingChannel {
            g: outer(&b.a, &a.a),
            d_theta: outer(&b.d_theta, &a.a) + outer(&b.a, &a.d_theta),
            d_phi: outer(&b.d_phi, &a.a) + outer(&b.a, &a.d_phi),
        }
    }
}

/// `M = dG_theta^H dG_theta + dG_phi^H dG_phi` (Nt x Nt): `v^H M v` is the angle-Fisher trace
/// per unit `2 c` of a beam `v` (paper 003, eq. 17's objective for one jamming beam).
pub fn angle_information_matrix(ch: &SensingChannel) -> Mat<c64> {
    ch.d_theta.adjoint() * &ch.d_theta + ch.d_phi.adjoint() * &ch.d_phi
}

/// 2 x 2 FIM of `(theta, phi)`, eq. (18): `J_ij = 2 c Re tr(R dG_i^H dG_j)` with
/// `c = |alpha|^2 / sigma^2` and `R` the transmit covariance summed over snapshots and
/// subcarriers (G is flat over subcarriers, so eq. 18's sum over n is a sum of R_n).
pub fn angle_fim(
    ch: &SensingChannel,
    r: MatRef<'_, c64>,
    scale: f64,
) -> Result<Mat<f64>, BoundsError> {
    check_square("transmit covariance", r.nrows(), r.ncols(), ch.g.ncols())?;
    Ok(fim_from_operators(
        &[ch.d_theta.clone(), ch.d_phi.clone()],
        r,
        scale,
    ))
}

/// The same FIM from the probing waveform `S` (Nt x T), eq. (19):
/// `J_ij = 2 c Re tr((dG_i S)^H dG_j S)`. Theorem 1: it depends on `S` only through `S S^H`.
pub fn angle_fim_waveform(
    ch: &SensingChannel,
    s: MatRef<'_, c64>,
    scale: f64,
) -> Result<Mat<f64>, BoundsError> {
    if s.nrows() != ch.g.ncols() {
        return Err(BoundsError::Dimension {
            what: "probing waveform",
            expected_rows: ch.g.ncols(),
            expected_cols: s.ncols(),
            rows: s.nrows(),
            cols: s.ncols(),
        });
    }
    let mu = [&ch.d_theta * s, &ch.d_phi * s];
    Ok(Mat::from_fn(2, 2, |i, j| {
        let mut acc = c64::new(0.0, 0.0);
        for c in 0..mu[i].ncols() {
            for a in 0..mu[i].nrows() {
                acc += mu[i][(a, c)].conj() * mu[j][(a, c)];
            }
        }
        2.0 * scale * acc.re
    }))
}

/// 4 x 4 FIM of `(theta, phi, Re alpha, Im alpha)` with the gain unknown:
/// mean derivatives `alpha dG_theta`, `alpha dG_phi`, `G`, `j G`, scale `1 / sigma^2`.
pub fn angle_gain_fim(
    ch: &SensingChannel,
    r: MatRef<'_, c64>,
    alpha: c64,
    noise: f64,
) -> Result<Mat<f64>, BoundsError> {
    check_square("transmit covariance", r.nrows(), r.ncols(), ch.g.ncols())?;
    if !(noise.is_finite() && noise > 0.0) {
        return Err(BoundsError::InvalidParameter {
            name: "noise",
            value: noise.to_string(),
            requirement: "must be finite and > 0",
        });
    }
    let scaled = |m: &Mat<c64>, k: c64| Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] * k);
    let ops = [
        scaled(&ch.d_theta, alpha),
        scaled(&ch.d_phi, alpha),
        ch.g.clone(),
        scaled(&ch.g, c64::new(0.0, 1.0)),
    ];
    Ok(fim_from_operators(&ops, r, 1.0 / noise))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fim::{crb_diagonal, crlb_scalar};
    use faer::Side;
    use proptest::prelude::*;

    fn geometry() -> EchoGeometry {
        EchoGeometry {
            tx: Upa::new(4, 4, 0.5).unwrap(),
            rx: Upa::new(2, 2, 0.5).unwrap(),
        }
    }

    fn complex_mat(v: &[f64], rows: usize, cols: usize) -> Mat<c64> {
        Mat::from_fn(rows, cols, |i, j| {
            c64::new(v[2 * (i * cols + j)], v[2 * (i * cols + j) + 1])
        })
    }

    fn close(a: MatRef<'_, f64>, b: MatRef<'_, f64>, tol: f64) -> bool {
        let scale = (0..a.nrows()).map(|i| a[(i, i)].abs()).fold(0.0, f64::max);
        (0..a.nrows()).all(|i| (0..a.ncols()).all(|j| (a[(i, j)] - b[(i, j)]).abs() <= tol * scale))
    }

    fn waveform() -> impl Strategy<Value = Mat<c64>> {
        prop::collection::vec(-1.0f64..1.0, 2 * 16 * 5).prop_map(|v| complex_mat(&v, 16, 5))
    }

    fn hermitian(v: &[f64], n: usize) -> Mat<c64> {
        let a = complex_mat(v, n, n);
        Mat::from_fn(n, n, |i, j| a[(i, j)] + a[(j, i)].conj())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn fim_matches_finite_difference_of_the_echo_mean(
            s in waveform(), th in -1.2f64..1.2, ph in -1.2f64..1.2,
        ) {
            let g = geometry();
            let h = 1e-6;
            let mean = |t: f64, p: f64| &g.channel(t, p).g * &s;
            let d_t = (mean(th + h, ph) - mean(th - h, ph)) * faer::Scale(c64::new(0.5 / h, 0.0));
            let d_p = (mean(th, ph + h) - mean(th, ph - h)) * faer::Scale(c64::new(0.5 / h, 0.0));
            let d = [d_t, d_p];
            let fd = Mat::from_fn(2, 2, |i, j| {
                let mut acc = c64::new(0.0, 0.0);
                for c in 0..d[i].ncols() { for a in 0..d[i].nrows() { acc += d[i][(a, c)].conj() * d[j][(a, c)]; } }
                2.0 * 3.0 * acc.re
            });
            let r = &s * s.adjoint();
            let j = angle_fim(&g.channel(th, ph), r.as_ref(), 3.0).unwrap();
            prop_assert!(close(j.as_ref(), fd.as_ref(), 1e-6), "{j:?} vs {fd:?}");
        }

        #[test]
        fn theorem_1_only_the_covariance_matters(
            s in waveform(), u in prop::collection::vec(-1.0f64..1.0, 50),
            th in -1.2f64..1.2, ph in -1.2f64..1.2,
        ) {
            let ch = geometry().channel(th, ph);
            let unitary = hermitian(&u, 5).self_adjoint_eigen(Side::Lower).unwrap().U().to_owned();
            let su = &s * &unitary;
            let j_s = angle_fim_waveform(&ch, s.as_ref(), 1.0).unwrap();
            let j_su = angle_fim_waveform(&ch, su.as_ref(), 1.0).unwrap();
            let r = &s * s.adjoint();
            let j_r = angle_fim(&ch, r.as_ref(), 1.0).unwrap();
            prop_assert!(close(j_s.as_ref(), j_su.as_ref(), 1e-10));
            prop_assert!(close(j_s.as_ref(), j_r.as_ref(), 1e-10));
        }

        #[test]
        fn joint_crb_dominates_the_scalar_crlb_and_fims_are_psd(
            s in waveform(), th in -1.2f64..1.2, ph in -1.2f64..1.2,
            alpha_re in -1.0f64..1.0, alpha_im in -1.0f64..1.0,
        ) {
            let ch = geometry().channel(th, ph);
            let r = &s * s.adjoint();
            let alpha = c64::new(alpha_re, alpha_im);
            prop_assume!(alpha.norm() > 0.05);
            let j2 = angle_fim(&ch, r.as_ref(), alpha.norm_sqr() / 0.5).unwrap();
            let j4 = angle_gain_fim(&ch, r.as_ref(), alpha, 0.5).unwrap();
            for j in [&j2, &j4] {
                prop_assert!(close(j.as_ref(), j.transpose(), 1e-14));
                let eig = j.self_adjoint_eigenvalues(Side::Lower).unwrap();
                prop_assert!(eig[0] >= -1e-9 * eig[eig.len() - 1]);
            }
            // The angle block of the 4 x 4 FIM is the 2 x 2 FIM.
            prop_assert!(close(j4.as_ref().submatrix(0, 0, 2, 2), j2.as_ref(), 1e-10));
            let (scalar, joint2, joint4) = (crlb_scalar(j2.as_ref()), crb_diagonal(j2.as_ref()).unwrap(), crb_diagonal(j4.as_ref()).unwrap());
            for w in 0..2 {
                prop_assert!(joint2[w] >= scalar[w] * (1.0 - 1e-9));
                prop_assert!(joint4[w] >= joint2[w] * (1.0 - 1e-9));
            }
        }
    }

    #[test]
    fn dimension_errors() {
        let ch = geometry().channel(0.1, 0.2);
        assert!(angle_fim(&ch, Mat::<c64>::zeros(15, 15).as_ref(), 1.0).is_err());
        assert!(angle_fim_waveform(&ch, Mat::<c64>::zeros(15, 2).as_ref(), 1.0).is_err());
        assert!(
            angle_gain_fim(
                &ch,
                Mat::<c64>::zeros(16, 16).as_ref(),
                c64::new(1.0, 0.0),
                0.0
            )
            .is_err()
        );
        assert!(matches!(
            crb_diagonal(Mat::<f64>::zeros(2, 2).as_ref()),
            Err(BoundsError::SingularFim)
        ));
    }
}
