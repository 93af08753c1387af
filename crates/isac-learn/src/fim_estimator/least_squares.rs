use faer::Mat;
use faer::linalg::solvers::Solve;

use crate::LearnError;

/// Eqs. (14)-(15): rows `u_i = [d1^2, d2^2, 2 d1 d2]`, `f = 2 (U^T U)^-1 U^T d`, returned as the
/// symmetric matrix `[[f1, f3], [f3, f2]]`. An error if the perturbations do not determine all
/// three entries (fewer than 3, or collinear).
pub fn fim_from_divergences(
    perturbations: &[[f64; 2]],
    divergences: &[f64],
) -> Result<[[f64; 2]; 2], LearnError> {
    if divergences.len() != perturbations.len() {
        return Err(LearnError::Size {
            what: "divergences",
            expected: perturbations.len(),
            got: divergences.len(),
        });
    }
    let u = Mat::from_fn(perturbations.len(), 3, |i, k| {
        let [a, b] = perturbations[i];
        [a * a, b * b, 2.0 * a * b][k]
    });
    let utu = u.transpose() * &u;
    let utd = Mat::from_fn(3, 1, |k, _| {
        (0..perturbations.len())
            .map(|i| u[(i, k)] * 2.0 * divergences[i])
            .sum::<f64>()
    });
    // Conditioning of the normal equations, relative to their scale.
    let evd = utu.self_adjoint_eigen(faer::Side::Lower).map_err(|_| {
        LearnError::Numerical("perturbation design has no eigendecomposition".into())
    })?;
    let (lo, hi) = (evd.S()[0].abs(), evd.S()[2].abs());
    if lo.is_nan() || lo <= 1e-10 * hi {
        return Err(LearnError::invalid(
            "perturbations",
            format!("{perturbations:?}"),
            "must span all three quadratic forms (at least 3, not collinear)",
        ));
    }
    let f = utu.partial_piv_lu().solve(&utd);
    Ok([[f[(0, 0)], f[(2, 0)]], [f[(2, 0)], f[(1, 0)]]])
}

/// Eq. (16) as in docs/conventions.md: the diagonal floored at 0, then the off-diagonal clipped into
/// `[-sqrt(J11 J22), sqrt(J11 J22)]`, the nearest PSD matrix with that diagonal.
pub fn project_psd(j: [[f64; 2]; 2]) -> [[f64; 2]; 2] {
    let (a, d) = (j[0][0].max(0.0), j[1][1].max(0.0));
    let bound = (a * d).sqrt();
    let b = j[0][1].clamp(-bound, bound);
    [[a, b], [b, d]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn exact_quadratic_divergences_recover_the_matrix(
            a in 0.1f64..10.0, d in 0.1f64..10.0, rho in -0.99f64..0.99,
            deltas in prop::collection::vec((-1.0f64..1.0, -1.0f64..1.0), 3..8),
        ) {
            let b = rho * (a * d).sqrt();
            let p: Vec<[f64; 2]> = deltas.iter().map(|&(x, y)| [x, y]).collect();
            let kl: Vec<f64> = p.iter().map(|&[x, y]| 0.5 * (a * x * x + 2.0 * b * x * y + d * y * y)).collect();
            match fim_from_divergences(&p, &kl) {
                Ok(j) => {
                    let scale = a.max(d);
                    prop_assert!((j[0][0] - a).abs() < 1e-6 * scale && (j[1][1] - d).abs() < 1e-6 * scale);
                    prop_assert!((j[0][1] - b).abs() < 1e-6 * scale && j[0][1] == j[1][0]);
                }
                Err(e) => prop_assert!(e.to_string().contains("perturbations")),
            }
        }

        #[test]
        fn projection_is_psd_and_keeps_psd_inputs(
            a in -5.0f64..5.0, d in -5.0f64..5.0, b in -10.0f64..10.0,
        ) {
            let p = project_psd([[a, b], [b, d]]);
            prop_assert!(p[0][0] >= 0.0 && p[1][1] >= 0.0);
            prop_assert!(p[0][0] * p[1][1] - p[0][1] * p[1][0] >= -1e-12);
            if a >= 0.0 && d >= 0.0 && b * b <= a * d {
                prop_assert_eq!(p, [[a, b], [b, d]]);
            }
        }
    }

    #[test]
    fn collinear_perturbations_are_rejected() {
        let p = [[0.1, 0.1], [0.2, 0.2], [-0.3, -0.3]];
        assert!(fim_from_divergences(&p, &[1.0, 2.0, 3.0]).is_err());
        assert!(fim_from_divergences(&p[..2], &[1.0, 2.0]).is_err());
    }
}
