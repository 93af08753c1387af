//! Fisher information of a Gaussian echo with known waveform, and bounds from it.

use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, MatRef, Side, c64};

use crate::BoundsError;

/// `J_ij = 2 scale Re tr(R D_i^H D_j)` for mean derivatives `d mu / d omega_i = D_i x`.
///
/// This is the Fisher information of `y = mu(omega) + n`, `n ~ CN(0, sigma^2 I)`, summed over
/// snapshots whose sample covariance (sum of `x x^H`) is `R`, with `scale = 1 / sigma^2`
/// (paper 003 eq. 18; the data part of Hou & Zhang eqs. 13-15 for one `theta`).
pub fn fim_from_operators(operators: &[Mat<c64>], r: MatRef<'_, c64>, scale: f64) -> Mat<f64> {
    let products: Vec<Mat<c64>> = operators.iter().map(|d| d * r).collect();
    Mat::from_fn(operators.len(), operators.len(), |i, j| {
        // tr(R D_i^H D_j) = tr(D_j R D_i^H) = sum_ab (D_j R)_ab conj(D_i)_ab
        let (di, pj) = (&operators[i], &products[j]);
        let mut acc = c64::new(0.0, 0.0);
        for b in 0..di.ncols() {
            for a in 0..di.nrows() {
                acc += pj[(a, b)] * di[(a, b)].conj();
            }
        }
        2.0 * scale * acc.re
    })
}

/// Diagonal of `J^-1` (the joint CRB of each parameter), by Cholesky.
pub fn crb_diagonal(j: MatRef<'_, f64>) -> Result<Vec<f64>, BoundsError> {
    crate::error::check_square("Fisher information matrix", j.nrows(), j.ncols(), j.nrows())?;
    let llt = j.llt(Side::Lower).map_err(|_| BoundsError::SingularFim)?;
    let inverse = llt.inverse();
    let diag: Vec<f64> = (0..j.nrows()).map(|i| inverse[(i, i)]).collect();
    if diag.iter().all(|d| d.is_finite() && *d > 0.0) {
        Ok(diag)
    } else {
        Err(BoundsError::SingularFim)
    }
}

/// The paper's scalar CRLB `1 / J_ww` for each parameter (paper 003 eq. 9), which ignores
/// the coupling between parameters: a lower bound on the joint CRB `[J^-1]_ww`.
pub fn crlb_scalar(j: MatRef<'_, f64>) -> Vec<f64> {
    (0..j.nrows()).map(|i| 1.0 / j[(i, i)]).collect()
}
