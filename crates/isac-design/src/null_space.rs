//! The users' null space and zero forcing (paper 003; docs/conventions.md, "Friendly jamming"): the projector `P`
//! every jamming design lives in, and the unit ZF directions of the users' beams.

use faer::{Mat, MatRef, c64};

use crate::DesignError;

/// Relative singular-value threshold below which a direction of `H^H` is treated as absent.
pub(crate) const RANK_TOLERANCE: f64 = 1e-12;

/// `P = I - H^H (H H^H)^+ H`, the orthogonal projector onto `{v : H v = 0}` for the users'
/// channel `H` (K x Nt, one row per user): from one K x K Cholesky factorisation of `H H^H`
/// where its pivots are well above rounding (every full-rank channel in practice), else from an
/// SVD (rank-deficient H allowed).
pub fn null_space_projector(h: MatRef<'_, c64>) -> Result<Mat<c64>, DesignError> {
    match gram_solution(h) {
        Some(x) => Ok(gram_projector(h, &x)),
        None => svd_projector(h),
    }
}

/// [`null_space_projector`] from an SVD of `H^H`, whatever the rank.
fn svd_projector(h: MatRef<'_, c64>) -> Result<Mat<c64>, DesignError> {
    let nt = h.ncols();
    let svd = h.adjoint().thin_svd().map_err(|_| {
        DesignError::InvalidParameter(
            "users' channel",
            format!("{} x {}", h.nrows(), h.ncols()),
            "must have a singular value decomposition (finite entries)",
        )
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

/// Smallest Cholesky pivot of `H H^H`, relative to its largest diagonal entry, for which
/// [`null_space_projector`] and [`projector_and_zero_forcing`] trust the Gram route (below it,
/// the SVD decides the rank).
const GRAM_PIVOT_TOLERANCE: f64 = 1e-8;

/// The null-space projector `P = I - H^H (H H^H)^-1 H` (Nt x Nt) and the unit ZF directions
/// (Nt x K) of an estimated channel, from one K x K Cholesky factorisation of `G = H H^H`: with
/// `X = G^-1 H`, `P = I - X^H H`, and user k's ZF direction is column k of `X^H` normalised (it
/// satisfies `h_j^H x = 0` for j != k and `h_k^H x = 1 > 0`, so it is `P_-k h_k / |P_-k h_k|`).
/// Three SVDs per row took most of a training batch; an ill-conditioned `H` still goes through
/// the SVD and [`zero_forcing_directions`], and a rank-deficient one (a user in the span of the
/// others) has no zero forcing: an error.
pub fn projector_and_zero_forcing(h: &Mat<c64>) -> Result<(Mat<c64>, Mat<c64>), DesignError> {
    let Some(x) = gram_solution(h.as_ref()) else {
        return Ok((svd_projector(h.as_ref())?, zero_forcing_directions(h)?));
    };
    let projector = gram_projector(h.as_ref(), &x);
    let nt = h.ncols();
    let norms: Vec<f64> = x
        .chunks_exact(nt)
        .map(|row| row.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt())
        .collect();
    let zero_forcing = Mat::from_fn(nt, h.nrows(), |i, u| x[u * nt + i].conj() / norms[u]);
    Ok((projector, zero_forcing))
}

/// `X = (H H^H)^-1 H` (K x Nt, row-major) from a Cholesky factorisation of the Gram matrix, or
/// `None` where a pivot falls below [`GRAM_PIVOT_TOLERANCE`] (the SVD then decides the rank).
/// Plain loops over contiguous rows: this runs for every row of every training batch, where
/// faer's general routines spent most of their time allocating and dispatching for 2 x 2
/// factors.
fn gram_solution(h: MatRef<'_, c64>) -> Option<Vec<c64>> {
    let (k, nt) = (h.nrows(), h.ncols());
    let zero = c64::new(0.0, 0.0);
    let rows: Vec<c64> = (0..k).flat_map(|r| h.row(r).iter().copied()).collect();
    let row = |r: usize| &rows[r * nt..(r + 1) * nt];
    // The lower triangle of G = H H^H, then its Cholesky factor L in place (row-major).
    let mut l = vec![zero; k * k];
    for r in 0..k {
        for c in 0..=r {
            l[r * k + c] = row(r).iter().zip(row(c)).map(|(a, b)| a * b.conj()).sum();
        }
    }
    let largest = (0..k).map(|i| l[i * k + i].re).fold(0.0, f64::max);
    for r in 0..k {
        for c in 0..=r {
            let m = l[r * k + c]
                - (0..c)
                    .map(|t| l[r * k + t] * l[c * k + t].conj())
                    .sum::<c64>();
            l[r * k + c] = if r == c {
                // NaN fails the comparison too: the SVD route reports non-finite entries.
                let trusted = m.re > GRAM_PIVOT_TOLERANCE * largest;
                if !trusted {
                    return None;
                }
                c64::new(m.re.sqrt(), 0.0)
            } else {
                m / l[c * k + c].re
            };
        }
    }
    // X solves L L^H X = H: forward substitution row by row (Y = L^-1 H), then backward.
    let mut x = rows;
    for r in 0..k {
        let (done, rest) = x.split_at_mut(r * nt);
        let target = &mut rest[..nt];
        for t in 0..r {
            let coef = l[r * k + t];
            for (y, z) in target.iter_mut().zip(&done[t * nt..(t + 1) * nt]) {
                *y -= coef * z;
            }
        }
        let pivot = l[r * k + r].re;
        target.iter_mut().for_each(|y| *y /= pivot);
    }
    for r in (0..k).rev() {
        let (head, done) = x.split_at_mut((r + 1) * nt);
        let target = &mut head[r * nt..];
        for t in r + 1..k {
            let coef = l[t * k + r].conj();
            for (y, z) in target.iter_mut().zip(&done[(t - r - 1) * nt..(t - r) * nt]) {
                *y -= coef * z;
            }
        }
        let pivot = l[r * k + r].re;
        target.iter_mut().for_each(|y| *y /= pivot);
    }
    Some(x)
}

/// `P = I - X^H H` for `X` of [`gram_solution`], column by column.
fn gram_projector(h: MatRef<'_, c64>, x: &[c64]) -> Mat<c64> {
    let (k, nt) = (h.nrows(), h.ncols());
    let mut p = Mat::<c64>::identity(nt, nt);
    for b in 0..nt {
        let column = p
            .col_mut(b)
            .try_as_col_major_mut()
            .expect("a fresh matrix is contiguous");
        let column = column.as_slice_mut();
        for r in 0..k {
            let coef = h[(r, b)];
            for (out, xr) in column.iter_mut().zip(&x[r * nt..(r + 1) * nt]) {
                *out -= xr.conj() * coef;
            }
        }
    }
    p
}

/// Below this share of `|h_k|` left outside the other users' span, user k's zero-forcing
/// direction is rounding noise: an error, not a direction.
const ZF_RESIDUAL_MIN: f64 = 1e-8;

/// Unit ZF directions (Nt x K): `P_-k h_k / |P_-k h_k|` with `P_-k` the projector onto the null
/// space of the other users' channels (MRT for a single user). A user whose channel lies in the
/// span of the others' (to 1e-8 of its norm: two users with the same channel, for example) has
/// no zero-forcing direction and is an error.
pub fn zero_forcing_directions(h: &Mat<c64>) -> Result<Mat<c64>, DesignError> {
    let (k, nt) = (h.nrows(), h.ncols());
    let mut z = Mat::<c64>::zeros(nt, k);
    for u in 0..k {
        let own = Mat::from_fn(nt, 1, |i, _| h[(u, i)].conj());
        let own_norm = own.norm_l2();
        let d = if k == 1 {
            own
        } else {
            let others = Mat::from_fn(k - 1, nt, |r, i| h[(if r < u { r } else { r + 1 }, i)]);
            null_space_projector(others.as_ref())? * own
        };
        let norm = d.norm_l2();
        if !(norm > ZF_RESIDUAL_MIN * own_norm && norm.is_finite()) {
            return Err(DesignError::InvalidParameter(
                "estimated channel",
                format!("user {u}"),
                "must not lie in the span of the other users' channels",
            ));
        }
        for i in 0..nt {
            z[(i, u)] = d[(i, 0)] / norm;
        }
    }
    Ok(z)
}

#[cfg(test)]
mod tests {
    use isac_channel::rng::{complex_normal, stream};

    use super::*;

    fn max_abs(a: &Mat<c64>, b: &Mat<c64>) -> f64 {
        (a - b).norm_max()
    }

    #[test]
    fn users_in_each_others_span_have_no_zero_forcing_direction() {
        let mut rng = stream(5, [0; 3]);
        let h = Mat::from_fn(2, 8, |_, _| complex_normal(&mut rng, 1.0));
        // The same channel twice: P_-k h_k is rounding noise, not a direction.
        let same = Mat::from_fn(2, 8, |_, i| h[(0, i)]);
        let msg = zero_forcing_directions(&same).unwrap_err().to_string();
        assert!(msg.contains("span"), "{msg}");
        let scaled = Mat::from_fn(2, 8, |u, i| h[(0, i)] * (1.0 + u as f64));
        assert!(zero_forcing_directions(&scaled).is_err());
        // Nearly collinear but distinct users keep exact zero forcing.
        let near = Mat::from_fn(2, 8, |u, i| h[(0, i)] + h[(1, i)] * (1e-3 * u as f64));
        let z = zero_forcing_directions(&near).unwrap();
        let leak: f64 = (0..8).map(|i| near[(1, i)] * z[(i, 0)]).sum::<c64>().norm();
        let gain: f64 = (0..8).map(|i| near[(0, i)] * z[(i, 0)]).sum::<c64>().norm();
        assert!(leak < 1e-9 * gain, "{leak} vs {gain}");
    }

    #[test]
    fn projector_is_idempotent_and_annihilates_the_users() {
        let mut rng = stream(3, [0; 3]);
        let h = Mat::from_fn(2, 16, |_, _| complex_normal(&mut rng, 1.0));
        let p = null_space_projector(h.as_ref()).unwrap();
        assert!((&p * &p - &p).norm_l2() < 1e-12);
        assert!((&h * &p).norm_l2() < 1e-12);
        let trace: f64 = (0..16).map(|i| p[(i, i)].re).sum();
        assert!((trace - 14.0).abs() < 1e-12, "rank 16 - K");
    }

    /// The Gram route against the SVD route on random full-rank channels (K = 1..4), and on a
    /// rank-deficient one (two equal users), where it falls back to the SVD.
    #[test]
    fn the_gram_route_equals_the_svd_route() {
        let mut rng = stream(11, [0; 3]);
        for k in 1..=4 {
            for _ in 0..20 {
                let h = Mat::from_fn(k, 16, |_, _| complex_normal(&mut rng, 1.0));
                let (p, z) = projector_and_zero_forcing(&h).unwrap();
                let svd = svd_projector(h.as_ref()).unwrap();
                assert!(max_abs(&p, &svd) < 1e-12);
                assert!(max_abs(&null_space_projector(h.as_ref()).unwrap(), &svd) < 1e-12);
                assert!(max_abs(&z, &zero_forcing_directions(&h).unwrap()) < 1e-12);
            }
        }
        // Ill-conditioned users (relative residual 1e-6, Cholesky pivot below its tolerance): the
        // SVD fallback, still exact zero forcing.
        let pair = Mat::from_fn(2, 16, |_, _| complex_normal(&mut rng, 1.0));
        let near = Mat::from_fn(2, 16, |u, j| {
            pair[(0, j)] + pair[(1, j)] * (1e-6 * u as f64)
        });
        let (p, z) = projector_and_zero_forcing(&near).unwrap();
        assert!(max_abs(&p, &svd_projector(near.as_ref()).unwrap()) < 1e-12);
        assert!(max_abs(&null_space_projector(near.as_ref()).unwrap(), &p) < 1e-12);
        let leak: f64 = (0..16)
            .map(|j| near[(1, j)] * z[(j, 0)])
            .sum::<c64>()
            .norm();
        assert!(leak < 1e-6, "{leak}");
        // The same user twice: the projector is the rank-one channel's, but zero forcing has no
        // answer, so the pair is an error.
        let row = Mat::from_fn(1, 16, |_, _| complex_normal(&mut rng, 1.0));
        let twice = Mat::from_fn(2, 16, |_, j| row[(0, j)]);
        assert!(
            max_abs(
                &null_space_projector(twice.as_ref()).unwrap(),
                &null_space_projector(row.as_ref()).unwrap()
            ) < 1e-12
        );
        assert!(projector_and_zero_forcing(&twice).is_err());
    }
}
