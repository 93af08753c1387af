//! Angle Fisher information of the UPA echo model of paper 003 (eqs. 8-9, 18-21).
//!
//! Echo `Y = alpha G(theta, phi) S + N`, `G = b a^H` (Nr x Nt), `N ~ CN(0, sigma^2 I)`.

use faer::{Col, Mat, MatRef, c64};
use isac_channel::Upa;

use crate::error::check_square;
use crate::fim::fim_from_operators;
use crate::BoundsError;

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

/// 2 x 2 FIM of `(theta, phi)`, eq. (18): `J_ij = 2 c Re tr(R dG_i^H dG_j)` with
/// `c = |alpha|^2 / sigma^2` and `R` the transmit covariance summed over snapshots and
/// subcarriers (G is flat over subcarriers, so eq. 18's sum over n is a sum of R_n).
pub fn angle_fim(ch: &SensingChannel, r: MatRef<'_, c64>, scale: f64) -> Result<Mat<f64>, BoundsError> {
    check_square("transmit covariance", r.nrows(), r.ncols(), ch.g.ncols())?;
    Ok(fim_from_operators(&[ch.d_theta.clone(), ch.d_phi.clone()], r, scale))
}

/// The same FIM from the probing waveform `S` (Nt x T), eq. (19):
/// `J_ij = 2 c Re tr((dG_i S)^H dG_j S)`. Theorem 1: it depends on `S` only through `S S^H`.
pub fn angle_fim_waveform(ch: &SensingChannel, s: MatRef<'_, c64>, scale: f64) -> Result<Mat<f64>, BoundsError> {
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
