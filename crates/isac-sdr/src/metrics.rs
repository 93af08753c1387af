//! SINRs, secrecy rate and beampattern of Hou & Zhang (eqs. 4, 6, 7), physical units.

use faer::{Col, Mat, MatRef, c64};
use isac_channel::scenario::SecureIsacScenario;

/// `x^H M x` (real for Hermitian `M`).
pub fn quadratic(x: &Col<c64>, m: MatRef<'_, c64>) -> f64 {
    let mx = m * x;
    (0..x.nrows()).map(|i| x[i].conj() * mx[i]).sum::<c64>().re
}

/// `|x^H w|^2`.
pub fn gain(x: &Col<c64>, w: &Col<c64>) -> f64 {
    (0..x.nrows())
        .map(|i| x[i].conj() * w[i])
        .sum::<c64>()
        .norm_sqr()
}

/// User SINR, eq. (4): `|h^H w|^2 / (h^H V h + sigma^2)`.
pub fn user_sinr(s: &SecureIsacScenario, w: &Col<c64>, v: MatRef<'_, c64>) -> f64 {
    let h = s.user_channel();
    gain(&h, w) / (quadratic(&h, v) + s.noise_user())
}

/// Eavesdropper SINR at every candidate angle, eq. (6).
pub fn eve_sinrs(s: &SecureIsacScenario, w: &Col<c64>, v: MatRef<'_, c64>) -> Vec<f64> {
    s.target_angles()
        .iter()
        .map(|&th| {
            let a = s.tx().steering(th);
            gain(&a, w) / (quadratic(&a, v) + s.eve_noise_term())
        })
        .collect()
}

/// Worst-case secrecy rate, eq. (7): `min_k [log2(1 + SINR) - log2(1 + SINR_E,k)]^+`, bit/s/Hz.
pub fn secrecy_rate(user: f64, eves: &[f64]) -> f64 {
    eves.iter()
        .map(|e| ((1.0 + user).log2() - (1.0 + e).log2()).max(0.0))
        .fold(f64::INFINITY, f64::min)
}

/// Transmit covariance `w w^H + V`.
pub fn covariance(w: &Col<c64>, v: MatRef<'_, c64>) -> Mat<c64> {
    Mat::from_fn(w.nrows(), w.nrows(), |i, j| w[i] * w[j].conj() + v[(i, j)])
}

/// Total power `||w||^2 + tr(V)`.
pub fn power(w: &Col<c64>, v: MatRef<'_, c64>) -> f64 {
    (0..w.nrows()).map(|i| w[i].norm_sqr() + v[(i, i)].re).sum()
}
