//! Rank-one recovery (the general form of Prop. 2, docs/conventions.md) and its certificate.
//!
//! `w = W h / sqrt(h^H W h)`, `V' = V + W - w w^H`. This keeps `h^H W h` (the user's signal),
//! `W + V` (so power and every sensing quantity), makes the user's interference
//! `h^H (W - w w^H) h = 0`, and at every other direction can only lower the information power
//! (`a^H w w^H a <= a^H W a` by Cauchy-Schwarz in the `W` inner product) while raising the AN
//! power by the same amount. AN beams come from the eigendecomposition of `V'`.

use faer::{Col, Mat, Side, c64};
use isac_bounds::{PcrbModel, PcrbSetting, QuadratureSettings};
use isac_channel::scenario::SecureIsacScenario;
use serde::Serialize;

use crate::SdrError;
use crate::metrics::{covariance, eve_sinrs, power, quadratic, user_sinr};

/// Beams recovered from an SDP solution.
#[derive(Debug, Clone)]
pub struct RecoveredBeams {
    /// Information beam w (W^{1/2} in watts).
    pub w: Col<c64>,
    /// AN covariance `V'`.
    pub an_covariance: Mat<c64>,
    /// AN beams `v_k` with `sum v_k v_k^H = V'` (eigenvalues above 1e-12 of the largest).
    pub an_beams: Vec<Col<c64>>,
}

/// The recovery of the module doc, for any PSD `W`, `V` and user channel `h`.
pub fn recover_rank_one(h: &Col<c64>, w_cov: &Mat<c64>, v_cov: &Mat<c64>) -> RecoveredBeams {
    let n = h.nrows();
    let signal = quadratic(h, w_cov.as_ref());
    let w = if signal > 0.0 {
        let wh = w_cov * h;
        Col::from_fn(n, |i| wh[i] / signal.sqrt())
    } else {
        Col::zeros(n)
    };
    let raw = v_cov + w_cov - Mat::from_fn(n, n, |i, j| w[i] * w[j].conj());
    // Exact Hermitian symmetry for the eigensolver.
    let an_covariance = Mat::from_fn(n, n, |i, j| (raw[(i, j)] + raw[(j, i)].conj()) * 0.5);
    let an_beams = an_beams(&an_covariance);
    RecoveredBeams {
        w,
        an_covariance,
        an_beams,
    }
}

/// `sqrt(lambda_k) u_k` for the eigenpairs of `V` with `lambda_k > 1e-12 lambda_max`.
fn an_beams(v: &Mat<c64>) -> Vec<Col<c64>> {
    let Ok(evd) = v.self_adjoint_eigen(Side::Lower) else {
        return Vec::new();
    };
    let (u, s) = (evd.U(), evd.S());
    let n = v.nrows();
    let largest = (0..n).map(|k| s[k].re).fold(0.0, f64::max);
    (0..n)
        .rev()
        .filter(|&k| s[k].re > 1e-12 * largest && s[k].re > 0.0)
        .map(|k| Col::from_fn(n, |i| u[(i, k)] * s[k].re.sqrt()))
        .collect()
}

/// Every constraint of (P1) checked on recovered beams, against the SDP.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Certificate {
    /// User SINR of the recovered beams.
    pub user_sinr: f64,
    /// `f(gamma)` of the SDP.
    pub sdp_user_sinr: f64,
    /// `|user_sinr - sdp_user_sinr| / sdp_user_sinr`.
    pub user_sinr_gap: f64,
    /// `max_k SINR_E,k / gamma` (<= 1 when (39) holds).
    pub eve_sinr_ratio: f64,
    /// `(||w||^2 + tr V) / P` (<= 1 when (41) holds).
    pub power_ratio: f64,
    /// Closed-form PCRB bound (eq. 24) over Gamma (<= 1 when (42) holds).
    pub pcrb_ratio: f64,
    /// All of the above within `tolerance`.
    pub holds: bool,
    /// Relative tolerance used.
    pub tolerance: f64,
}

/// Checks recovered beams against (39), (41), (42) and the SDP value.
pub fn certify(
    s: &SecureIsacScenario,
    beams: &RecoveredBeams,
    gamma: f64,
    pcrb_max: f64,
    sdp_user_sinr: f64,
    tolerance: f64,
) -> Result<Certificate, SdrError> {
    let v = beams.an_covariance.as_ref();
    let user = user_sinr(s, &beams.w, v);
    let eve = eve_sinrs(s, &beams.w, v).into_iter().fold(0.0, f64::max);
    let model = PcrbModel::new(PcrbSetting::from_scenario(s), QuadratureSettings::default())?;
    let r = covariance(&beams.w, v);
    let pcrb = model.pcrb_upper_closed_form(r.as_ref(), s.qbar())?;
    let gap = (user - sdp_user_sinr).abs() / sdp_user_sinr.abs().max(f64::MIN_POSITIVE);
    let (eve_ratio, power_ratio, pcrb_ratio) = (
        eve / gamma,
        power(&beams.w, v) / s.tx_power(),
        pcrb / pcrb_max,
    );
    let holds = gap <= tolerance
        && eve_ratio <= 1.0 + tolerance
        && power_ratio <= 1.0 + tolerance
        && pcrb_ratio <= 1.0 + tolerance;
    Ok(Certificate {
        user_sinr: user,
        sdp_user_sinr,
        user_sinr_gap: gap,
        eve_sinr_ratio: eve_ratio,
        power_ratio,
        pcrb_ratio,
        holds,
        tolerance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::gain;
    use proptest::prelude::*;

    fn psd(v: &[f64], n: usize, rank: usize) -> Mat<c64> {
        let g = Mat::from_fn(n, rank, |i, j| {
            c64::new(v[2 * (i * rank + j)], v[2 * (i * rank + j) + 1])
        });
        &g * g.adjoint()
    }

    proptest! {
        #[test]
        fn recovery_keeps_signal_and_total_and_never_helps_an_eavesdropper(
            wv in prop::collection::vec(-1.0f64..1.0, 2 * 6 * 3),
            vv in prop::collection::vec(-1.0f64..1.0, 2 * 6 * 2),
            hv in prop::collection::vec(-1.0f64..1.0, 12),
            av in prop::collection::vec(-1.0f64..1.0, 12),
        ) {
            let n = 6;
            let (w_cov, v_cov) = (psd(&wv, n, 3), psd(&vv, n, 2));
            let h = Col::from_fn(n, |i| c64::new(hv[2 * i], hv[2 * i + 1]));
            let a = Col::from_fn(n, |i| c64::new(av[2 * i], av[2 * i + 1]));
            prop_assume!(quadratic(&h, w_cov.as_ref()) > 1e-6);
            let r = recover_rank_one(&h, &w_cov, &v_cov);
            let scale = 1.0 + w_cov.norm_l2() + v_cov.norm_l2();
            // h^H W h kept, and the user sees no extra interference.
            prop_assert!((gain(&h, &r.w) - quadratic(&h, w_cov.as_ref())).abs() <= 1e-9 * scale * scale);
            prop_assert!((quadratic(&h, r.an_covariance.as_ref()) - quadratic(&h, v_cov.as_ref())).abs() <= 1e-9 * scale * scale);
            // W + V kept.
            let total = covariance(&r.w, r.an_covariance.as_ref());
            prop_assert!((&total - (&w_cov + &v_cov)).norm_l2() <= 1e-10 * scale);
            // Any direction: information power can only drop, AN power only rise.
            prop_assert!(gain(&a, &r.w) <= quadratic(&a, w_cov.as_ref()) + 1e-9 * scale);
            prop_assert!(quadratic(&a, r.an_covariance.as_ref()) >= quadratic(&a, v_cov.as_ref()) - 1e-9 * scale);
            // The AN beams rebuild V' and V' is PSD.
            let rebuilt = r.an_beams.iter().fold(Mat::<c64>::zeros(n, n), |acc, b| acc + Mat::from_fn(n, n, |i, j| b[i] * b[j].conj()));
            prop_assert!((&rebuilt - &r.an_covariance).norm_l2() <= 1e-9 * scale);
        }
    }
}
