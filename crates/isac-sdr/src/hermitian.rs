//! Complex Hermitian matrices as real decision variables, and their PSD constraint through
//! the real embedding `Z = A + jB  ->  [[A, -B], [B, A]]` (PSD iff Z is).
//!
//! Parameters of an `n x n` Hermitian `Z`, `n^2` reals: the diagonal `Z_ii` (index `i`), then
//! for each pair `i < j` (column-major over the upper triangle) `Re Z_ij` and `Im Z_ij`.

use faer::{Mat, c64};

/// Index of `Re Z_ij` (`Im Z_ij` is the next one) for `i < j`.
fn pair_index(n: usize, i: usize, j: usize) -> usize {
    debug_assert!(i < j);
    n + 2 * (j * (j - 1) / 2 + i)
}

/// Number of real parameters of an `n x n` Hermitian matrix.
pub fn parameter_count(n: usize) -> usize {
    n * n
}

/// Coefficients `c` with `tr(M Z) = c . params(Z)` for Hermitian `M` (eq. `Re` parts only).
pub fn trace_coefficients(m: &Mat<c64>) -> Vec<f64> {
    let n = m.nrows();
    let mut c = vec![0.0; parameter_count(n)];
    for j in 0..n {
        c[j] = m[(j, j)].re;
        for i in 0..j {
            // M_ij Z_ji + M_ji Z_ij = 2 (Re M_ij Re Z_ij + Im M_ij Im Z_ij) for Hermitian M, Z.
            let p = pair_index(n, i, j);
            c[p] = 2.0 * m[(i, j)].re;
            c[p + 1] = 2.0 * m[(i, j)].im;
        }
    }
    c
}

/// The Hermitian matrix of a parameter vector.
pub fn from_parameters(x: &[f64], n: usize) -> Mat<c64> {
    Mat::from_fn(n, n, |i, j| match i.cmp(&j) {
        std::cmp::Ordering::Equal => c64::new(x[i], 0.0),
        std::cmp::Ordering::Less => {
            let p = pair_index(n, i, j);
            c64::new(x[p], x[p + 1])
        }
        std::cmp::Ordering::Greater => {
            let p = pair_index(n, j, i);
            c64::new(x[p], -x[p + 1])
        }
    })
}

/// The parameter vector of a Hermitian matrix (its upper triangle is read).
#[cfg(test)]
pub fn to_parameters(z: &Mat<c64>) -> Vec<f64> {
    let n = z.nrows();
    let mut x = vec![0.0; parameter_count(n)];
    for j in 0..n {
        x[j] = z[(j, j)].re;
        for i in 0..j {
            let p = pair_index(n, i, j);
            x[p] = z[(i, j)].re;
            x[p + 1] = z[(i, j)].im;
        }
    }
    x
}

/// Entries `(svec row, parameter, coefficient)` of the map from the parameters to
/// `svec([[A, -B], [B, A]])`, clarabel's PSD-triangle vectorisation of a `2n x 2n` symmetric
/// matrix: upper triangle, column-major, off-diagonal entries times `sqrt 2`.
pub fn embedding_svec(n: usize) -> Vec<(usize, usize, f64)> {
    let mut out = Vec::new();
    for q in 0..2 * n {
        for p in 0..=q {
            let row = q * (q + 1) / 2 + p;
            let scale = if p == q {
                1.0
            } else {
                std::f64::consts::SQRT_2
            };
            let (i, j) = (p % n, q % n);
            let same_block = (p < n) == (q < n);
            let entry = if same_block {
                // A block: Re Z_ij, symmetric.
                match i.cmp(&j) {
                    std::cmp::Ordering::Equal => Some((i, 1.0)),
                    std::cmp::Ordering::Less => Some((pair_index(n, i, j), 1.0)),
                    std::cmp::Ordering::Greater => Some((pair_index(n, j, i), 1.0)),
                }
            } else {
                // Upper-right block (p < n <= q): -B_ij = -Im Z_ij.
                match i.cmp(&j) {
                    std::cmp::Ordering::Equal => None,
                    std::cmp::Ordering::Less => Some((pair_index(n, i, j) + 1, -1.0)),
                    std::cmp::Ordering::Greater => Some((pair_index(n, j, i) + 1, 1.0)),
                }
            };
            if let Some((param, coef)) = entry {
                out.push((row, param, scale * coef));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_hermitian(n: usize, seed: usize) -> Mat<c64> {
        let v = |i: usize, j: usize, s: usize| {
            (((i * 13 + j * 7 + s * 5 + seed) % 17) as f64 - 8.0) / 5.0
        };
        let a = Mat::from_fn(n, n, |i, j| c64::new(v(i, j, 1), v(i, j, 2)));
        Mat::from_fn(n, n, |i, j| a[(i, j)] + a[(j, i)].conj())
    }

    #[test]
    fn parameters_round_trip_and_trace_is_linear() {
        let (z, m) = (random_hermitian(5, 1), random_hermitian(5, 2));
        let x = to_parameters(&z);
        let back = from_parameters(&x, 5);
        assert!((0..5).all(|i| (0..5).all(|j| (back[(i, j)] - z[(i, j)]).norm() < 1e-15)));
        let direct: c64 = (0..5).map(|i| (&m * &z)[(i, i)]).sum();
        let via: f64 = trace_coefficients(&m)
            .iter()
            .zip(&x)
            .map(|(c, x)| c * x)
            .sum();
        assert!((direct.re - via).abs() < 1e-12 && direct.im.abs() < 1e-12);
    }

    #[test]
    fn embedding_reproduces_the_real_block_matrix() {
        let n = 4;
        let z = random_hermitian(n, 3);
        let x = to_parameters(&z);
        let mut svec = vec![0.0; 2 * n * (2 * n + 1) / 2];
        for (row, param, coef) in embedding_svec(n) {
            svec[row] += coef * x[param];
        }
        for q in 0..2 * n {
            for p in 0..=q {
                let (i, j) = (p % n, q % n);
                let expected = match (p < n, q < n) {
                    (true, true) | (false, false) => z[(i, j)].re,
                    (true, false) => -z[(i, j)].im,
                    (false, true) => unreachable!("p <= q"),
                };
                let scale = if p == q {
                    1.0
                } else {
                    std::f64::consts::SQRT_2
                };
                assert!(
                    (svec[q * (q + 1) / 2 + p] - scale * expected).abs() < 1e-14,
                    "({p},{q})"
                );
            }
        }
    }
}
