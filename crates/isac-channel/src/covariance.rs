//! Transmit covariance `R = E[x x^H]`: Hermitian positive semidefinite, in watts.

use faer::{Mat, MatRef, Side, c64};

use crate::ChannelError;

/// Relative tolerance of the Hermitian check: `max |R - R^H| <= tol * max |R|`.
pub const HERMITIAN_TOLERANCE: f64 = 1e-9;
/// Relative tolerance of the PSD check: `lambda_min >= -tol * lambda_max`.
pub const PSD_TOLERANCE: f64 = 1e-9;

/// A validated transmit covariance.
#[derive(Debug, Clone)]
pub struct TransmitCovariance(Mat<c64>);

impl TransmitCovariance {
    /// From row-major real and imaginary parts; rejects ragged or non-square input, non-finite
    /// entries, non-Hermitian and indefinite matrices.
    pub fn from_parts(re: &[Vec<f64>], im: &[Vec<f64>]) -> Result<Self, ChannelError> {
        let n = re.len();
        if n == 0 {
            return Err(ChannelError::invalid(
                "covariance.re",
                "[]",
                "must be a non-empty square matrix",
            ));
        }
        if im.len() != n {
            return Err(ChannelError::invalid(
                "covariance.im",
                format!("{} rows", im.len()),
                format!("must have as many rows as covariance.re ({n})"),
            ));
        }
        for (part, rows) in [("covariance.re", re), ("covariance.im", im)] {
            if let Some((i, row)) = rows.iter().enumerate().find(|(_, r)| r.len() != n) {
                return Err(ChannelError::invalid(
                    format!("{part}[{i}]"),
                    format!("{} entries", row.len()),
                    format!("every row must have {n} entries (square matrix)"),
                ));
            }
            if let Some(x) = rows.iter().flatten().find(|x| !x.is_finite()) {
                return Err(ChannelError::invalid(part, x, "entries must be finite"));
            }
        }
        Self::new(Mat::from_fn(n, n, |i, j| c64::new(re[i][j], im[i][j])))
    }

    /// Validates a square matrix as Hermitian PSD (tolerances above).
    pub fn new(r: Mat<c64>) -> Result<Self, ChannelError> {
        let n = r.nrows();
        if r.ncols() != n || n == 0 {
            return Err(ChannelError::invalid(
                "covariance",
                format!("{} x {}", r.nrows(), r.ncols()),
                "must be a non-empty square matrix",
            ));
        }
        let mut largest = 0.0f64;
        let mut asymmetry = 0.0f64;
        for i in 0..n {
            for j in 0..n {
                largest = largest.max(r[(i, j)].norm());
                asymmetry = asymmetry.max((r[(i, j)] - r[(j, i)].conj()).norm());
            }
        }
        if !largest.is_finite() {
            return Err(ChannelError::invalid(
                "covariance",
                "non-finite entry",
                "entries must be finite",
            ));
        }
        if asymmetry > HERMITIAN_TOLERANCE * largest {
            return Err(ChannelError::invalid(
                "covariance",
                format!("max |R - R^H| = {asymmetry:e} (max |R| = {largest:e})"),
                format!("must be Hermitian within relative tolerance {HERMITIAN_TOLERANCE:e}"),
            ));
        }
        let eig = r.self_adjoint_eigenvalues(Side::Lower).map_err(|_| {
            ChannelError::invalid(
                "covariance",
                "eigendecomposition failed",
                "must be Hermitian PSD",
            )
        })?;
        let (min, max) = (eig[0], eig[n - 1]);
        if min < -PSD_TOLERANCE * max.max(0.0) || (max <= 0.0 && min < 0.0) {
            return Err(ChannelError::invalid(
                "covariance",
                format!("smallest eigenvalue {min:e} (largest {max:e})"),
                format!(
                    "must be positive semidefinite (smallest eigenvalue >= -{PSD_TOLERANCE:e} x largest)"
                ),
            ));
        }
        Ok(Self(r))
    }

    /// Number of antennas.
    pub fn dim(&self) -> usize {
        self.0.nrows()
    }

    /// The matrix.
    pub fn as_ref(&self) -> MatRef<'_, c64> {
        self.0.as_ref()
    }

    /// Total transmit power `tr(R)` in watts.
    pub fn power(&self) -> f64 {
        (0..self.dim()).map(|i| self.0[(i, i)].re).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[&[f64]]) -> Vec<Vec<f64>> {
        v.iter().map(|r| r.to_vec()).collect()
    }

    #[test]
    fn accepts_psd_and_rejects_the_rest() {
        let re = rows(&[&[2.0, 1.0], &[1.0, 2.0]]);
        let im = rows(&[&[0.0, 0.5], &[-0.5, 0.0]]);
        let r = TransmitCovariance::from_parts(&re, &im).unwrap();
        assert_eq!(r.dim(), 2);
        assert!((r.power() - 4.0).abs() < 1e-15);
        // Not Hermitian: im not antisymmetric.
        let bad_im = rows(&[&[0.0, 0.5], &[0.5, 0.0]]);
        assert!(
            TransmitCovariance::from_parts(&re, &bad_im)
                .unwrap_err()
                .to_string()
                .contains("Hermitian")
        );
        // Indefinite: eigenvalues 3 and -1.
        let indefinite = rows(&[&[1.0, 2.0], &[2.0, 1.0]]);
        let zero = rows(&[&[0.0, 0.0], &[0.0, 0.0]]);
        assert!(
            TransmitCovariance::from_parts(&indefinite, &zero)
                .unwrap_err()
                .to_string()
                .contains("semidefinite")
        );
        // Ragged, mismatched, empty, non-finite.
        assert!(TransmitCovariance::from_parts(&rows(&[&[1.0, 0.0], &[0.0]]), &zero).is_err());
        assert!(TransmitCovariance::from_parts(&re, &rows(&[&[0.0, 0.0]])).is_err());
        assert!(TransmitCovariance::from_parts(&[], &[]).is_err());
        assert!(TransmitCovariance::from_parts(&rows(&[&[f64::NAN]]), &rows(&[&[0.0]])).is_err());
        // Zero matrix is PSD (no transmission).
        assert!(TransmitCovariance::from_parts(&zero, &zero).is_ok());
    }

    #[test]
    fn tolerances_are_relative() {
        // A tiny negative eigenvalue within 1e-9 of the largest passes; 1e-8 does not.
        let ok = TransmitCovariance::from_parts(
            &rows(&[&[1.0, 0.0], &[0.0, -1e-10]]),
            &rows(&[&[0.0, 0.0], &[0.0, 0.0]]),
        );
        assert!(ok.is_ok());
        let bad = TransmitCovariance::from_parts(
            &rows(&[&[1.0, 0.0], &[0.0, -1e-8]]),
            &rows(&[&[0.0, 0.0], &[0.0, 0.0]]),
        );
        assert!(bad.is_err());
    }
}
