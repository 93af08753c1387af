//! Multiuser secrecy rates of paper 003 (eq. 28 and Eve's MIMO leakage), in nats, on one
//! subcarrier, for any transmit design: user beams `f_k` (power included) and a jamming
//! covariance `Q` (a steered FJ beam `zeta v v^H`, isotropic AN in the null space, or zero).

use faer::{Col, Mat, MatRef, c64};
use isac_sdr::metrics::{gain, quadratic};

/// Eq. (28) in nats: `R_k = ln(1 + |h_k^H f_k|^2 / (sum_{j != k} |h_k^H f_j|^2 + h_k^H Q h_k +
/// sigma^2))` for each user; `users` is K x Nt with row k equal to `h_k^H`.
pub fn user_rates(
    users: MatRef<'_, c64>,
    beams: &[Col<c64>],
    jamming: MatRef<'_, c64>,
    noise: f64,
) -> Vec<f64> {
    (0..users.nrows())
        .map(|k| {
            // h_k (column) from the k-th row h_k^H.
            let h = Col::from_fn(users.ncols(), |i| users[(k, i)].conj());
            let signal = gain(&h, &beams[k]);
            let interference: f64 = beams
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != k)
                .map(|(_, f)| gain(&h, f))
                .sum();
            (1.0 + signal / (interference + quadratic(&h, jamming) + noise)).ln()
        })
        .collect()
}

/// Eve's rate on user k's stream in nats, `ln det(I + (H_E^H Q H_E + sigma_E^2 I)^-1 H_E^H f_k
/// f_k^H H_E)` (the paper's expression: jamming and noise are her interference), computed as
/// `ln(1 + g^H A^-1 g)` with `g = H_E^H f_k` because the signal term has rank one.
pub fn eve_rates(
    eve: MatRef<'_, c64>,
    beams: &[Col<c64>],
    jamming: MatRef<'_, c64>,
    noise: f64,
) -> Vec<f64> {
    let ne = eve.ncols();
    let a = eve.adjoint() * jamming * eve
        + Mat::from_fn(ne, ne, |i, j| {
            c64::new(if i == j { noise } else { 0.0 }, 0.0)
        });
    let lu = a.partial_piv_lu();
    beams
        .iter()
        .map(|f| {
            let g = eve.adjoint() * f;
            let x = faer::linalg::solvers::Solve::solve(&lu, g.as_mat());
            let q: c64 = (0..ne).map(|i| g[i].conj() * x[(i, 0)]).sum();
            (1.0 + q.re).ln()
        })
        .collect()
}

/// `sum_k [R_k - R_E,k]^+` (eq. 28 with eq. 29a's `[.]^+`).
pub fn sum_secrecy(user: &[f64], eve: &[f64]) -> f64 {
    user.iter().zip(eve).map(|(u, e)| (u - e).max(0.0)).sum()
}

/// `min_k [R_k - R_E,k]^+`, the worst user's secrecy rate (Fig. 7).
pub fn worst_user_secrecy(user: &[f64], eve: &[f64]) -> f64 {
    user.iter()
        .zip(eve)
        .map(|(u, e)| (u - e).max(0.0))
        .fold(f64::INFINITY, f64::min)
}

/// The two-sided 95% quantile of the standard normal law, `Phi^-1(0.975)`: the one z of every
/// confidence interval in this crate.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Sample mean and 95% confidence half-width (`Z95 s / sqrt(n)`; 0 for fewer than 2 samples).
pub fn mean_ci95(samples: &[f64]) -> (f64, f64) {
    let n = samples.len() as f64;
    let mean = samples.iter().sum::<f64>() / n;
    if samples.len() < 2 {
        return (mean, 0.0);
    }
    let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, Z95 * (var / n).sqrt())
}

#[cfg(test)]
mod tests;
