use super::*;
use faer::linalg::solvers::DenseSolveCore;
use isac_channel::rng::{complex_normal, stream};
use isac_design::null_space_projector;
use proptest::prelude::*;

fn random(rows: usize, cols: usize, seed: u64) -> Mat<c64> {
    let mut rng = stream(seed, [0; 3]);
    Mat::from_fn(rows, cols, |_, _| complex_normal(&mut rng, 1.0))
}

fn column(m: &Mat<c64>, j: usize) -> Col<c64> {
    Col::from_fn(m.nrows(), |i| m[(i, j)])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Eve's rank-one closed form against the log-determinant of eq. (28), by LU.
    #[test]
    fn eve_rate_is_the_log_determinant(seed in 0u64..10_000, ne in 1usize..4, jam in 0.0f64..5.0) {
        let (nt, k) = (6, 2);
        let eve = random(nt, ne, seed);
        let beams: Vec<Col<c64>> = (0..k).map(|j| column(&random(nt, 1, seed + 100 + j as u64), 0)).collect();
        let v = random(nt, 1, seed + 200);
        let q = &v * v.adjoint() * faer::Scale(c64::new(jam, 0.0));
        let rates = eve_rates(eve.as_ref(), &beams, q.as_ref(), 0.7);
        for (f, r) in beams.iter().zip(&rates) {
            let g = eve.adjoint() * f;
            let a = eve.adjoint() * &q * &eve + Mat::from_fn(ne, ne, |i, j| c64::new(if i == j { 0.7 } else { 0.0 }, 0.0));
            let inv = a.partial_piv_lu().inverse();
            let m = Mat::from_fn(ne, ne, |i, j| c64::new(if i == j { 1.0 } else { 0.0 }, 0.0)) + &inv * &g * g.adjoint();
            let det = m.determinant();
            prop_assert!((det.ln().re - r).abs() < 1e-9 * (1.0 + r.abs()), "{} vs {r}", det.ln().re);
        }
    }
}

#[test]
fn null_space_jamming_leaves_the_users_untouched_and_zf_removes_interference() {
    let (k, nt) = (2, 8);
    let h = random(k, nt, 3);
    // ZF beams: columns of H^H (H H^H)^-1, each scaled to power 2.
    let zf = h.adjoint() * (&h * h.adjoint()).partial_piv_lu().inverse();
    let beams: Vec<Col<c64>> = (0..k)
        .map(|j| {
            let c = column(&zf, j);
            let norm = c.norm_l2();
            Col::from_fn(nt, |i| c[i] * (2f64.sqrt() / norm))
        })
        .collect();
    let p = null_space_projector(h.as_ref()).unwrap();
    let jam = &p * faer::Scale(c64::new(5.0, 0.0));
    let with = user_rates(h.as_ref(), &beams, jam.as_ref(), 1.0);
    let without = user_rates(h.as_ref(), &beams, Mat::<c64>::zeros(nt, nt).as_ref(), 1.0);
    for kk in 0..k {
        // Interference-free: R_k = ln(1 + |h_k^H f_k|^2 / sigma^2) = ln(1 + 2 / ||zf_k||^2).
        let norm2 = column(&zf, kk).norm_l2().powi(2);
        let expected = (1.0 + 2.0 / norm2).ln();
        assert!((with[kk] - expected).abs() < 1e-9 && (without[kk] - expected).abs() < 1e-9);
    }
}

#[test]
fn secrecy_aggregates_and_confidence_interval() {
    assert_eq!(sum_secrecy(&[3.0, 1.0], &[1.0, 2.0]), 2.0);
    assert_eq!(worst_user_secrecy(&[3.0, 1.0], &[1.0, 2.0]), 0.0);
    let (m, h) = mean_ci95(&[1.0, 2.0, 3.0, 4.0]);
    // s = sqrt(5/3), half-width z s / 2.
    assert!((m - 2.5).abs() < 1e-15 && (h - Z95 * (5.0f64 / 3.0).sqrt() / 2.0).abs() < 1e-12);
    assert_eq!(mean_ci95(&[7.0]), (7.0, 0.0));
}

/// `Z95` against the normal law itself: the density integrated from 0 to `Z95` (composite
/// Simpson, error far below the tolerance) is 0.475.
#[test]
fn z95_is_the_two_sided_95_percent_normal_quantile() {
    let n = 20_000;
    let h = Z95 / n as f64;
    let phi = |x: f64| (-0.5 * x * x).exp() / std::f64::consts::TAU.sqrt();
    let inner: f64 = (1..n)
        .map(|i| phi(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 })
        .sum();
    let mass = h / 3.0 * (phi(0.0) + inner + phi(Z95));
    assert!((mass - 0.475).abs() < 1e-13, "{mass}");
}
