use super::*;
use crate::rng::stream;

const SHIPPED: &str = crate::scenario::shipped::TUAN2025_TOML;

/// Sample mean of `f` over `trials` draws of a 1 x 1 channel on every subcarrier.
fn empirical(line: DelayLine, trials: u64, f: impl Fn(&[Mat<c64>]) -> c64) -> c64 {
    (0..trials)
        .map(|t| f(&line.draw(&mut stream(5, [t, 0, 0]), 1, 1)))
        .sum::<c64>()
        / trials as f64
}

#[test]
fn delay_line_power_and_frequency_correlation_match_the_closed_form() {
    let trials = 20_000;
    // Standard error of a sample mean of |z|^2 or z w^* with unit-variance entries: <= 1/sqrt(T).
    let tol = 5.0 / (trials as f64).sqrt();
    for (n, l) in [(16, 16), (16, 4), (16, 1)] {
        let line = DelayLine::new(n, l).unwrap();
        for (a, b) in [(0, 0), (3, 3), (0, 1), (2, 7)] {
            let e = empirical(line, trials, |h| h[a][(0, 0)] * h[b][(0, 0)].conj());
            let c = line.correlation(a, b);
            assert!((e - c).norm() < tol, "N {n} L {l} ({a}, {b}): {e} vs {c}");
        }
    }
    // L = N: independent subcarriers; L = 1: flat fading.
    assert!(DelayLine::new(8, 8).unwrap().correlation(1, 5).norm() < 1e-12);
    assert!((DelayLine::new(8, 1).unwrap().correlation(1, 5) - 1.0).norm() < 1e-12);
}

/// The frequency response is the DFT of the taps drawn one matrix per tap (the draw order of
/// `Mat::from_fn`), here summed directly: the FFT agrees to rounding, for N a power of two,
/// a prime and a product of both.
#[test]
fn delay_line_frequency_response_is_the_dft_of_taps_drawn_matrix_by_matrix() {
    for (n, l, rows, cols) in [
        (8, 8, 2, 3),
        (8, 3, 3, 1),
        (5, 1, 1, 4),
        (12, 7, 2, 2),
        (64, 64, 2, 16),
    ] {
        let line = DelayLine::new(n, l).unwrap();
        let fast = line.draw(&mut stream(11, [n as u64, l as u64, 0]), rows, cols);
        let mut rng = stream(11, [n as u64, l as u64, 0]);
        let taps: Vec<Mat<c64>> = (0..l)
            .map(|_| Mat::from_fn(rows, cols, |_, _| complex_normal(&mut rng, 1.0 / l as f64)))
            .collect();
        assert_eq!(fast.len(), n);
        for (sc, h) in fast.iter().enumerate() {
            assert_eq!((h.nrows(), h.ncols()), (rows, cols));
            for (i, j) in (0..rows).flat_map(|i| (0..cols).map(move |j| (i, j))) {
                let mut direct = c64::new(0.0, 0.0);
                for (tap, g) in taps.iter().enumerate() {
                    let angle = -std::f64::consts::TAU * ((sc * tap) % n) as f64 / n as f64;
                    direct += g[(i, j)] * c64::cis(angle);
                }
                assert!(
                    (h[(i, j)] - direct).norm() < 1e-14 * n as f64,
                    "N {n} L {l} subcarrier {sc} ({i}, {j}): {} vs {direct}",
                    h[(i, j)]
                );
            }
        }
    }
}

#[test]
fn bad_delay_lines_are_errors() {
    assert!(DelayLine::new(4, 5).is_err());
    assert!(DelayLine::new(4, 0).is_err());
    assert!(DelayLine::new(0, 0).is_err());
}

#[test]
fn rician_keeps_unit_power_and_has_the_line_of_sight_as_mean() {
    let los = Mat::from_fn(3, 2, |i, j| c64::cis(0.3 * i as f64 + j as f64));
    let line = DelayLine::new(4, 4).unwrap();
    let k = 10.0;
    let trials = 20_000;
    let mut mean = c64::new(0.0, 0.0);
    let mut power = 0.0;
    for t in 0..trials {
        let h = rician(&line.draw(&mut stream(6, [t, 0, 0]), 3, 2), los.as_ref(), k);
        mean += h[2][(1, 0)];
        power += h[2][(1, 0)].norm_sqr();
    }
    let (mean, power) = (mean / trials as f64, power / trials as f64);
    let expected = los[(1, 0)] * (k / (k + 1.0)).sqrt();
    assert!((mean - expected).norm() < 5.0 * (1.0 / (k + 1.0) / trials as f64).sqrt());
    assert!((power - 1.0).abs() < 0.02, "{power}");
}

#[test]
fn realizations_are_seeded_sized_and_carry_the_csi_error() {
    let s = FriendlyJammingScenario::from_toml(SHIPPED).unwrap();
    let r = realize(&s, &EveModel::Rayleigh, 0.1, 3).unwrap();
    assert_eq!(r.users.len(), 64);
    assert_eq!((r.users[0].nrows(), r.users[0].ncols()), (2, 16));
    assert_eq!((r.eve[0].nrows(), r.eve[0].ncols()), (16, 2));
    // Same index, same draw; another index, another draw; the Rician Eve shares the users' draw.
    let again = realize(&s, &EveModel::Rician, 0.1, 3).unwrap();
    assert_eq!(r.users, again.users);
    assert_eq!(r.users_estimated, again.users_estimated);
    assert_ne!(r.eve, again.eve);
    assert_ne!(
        r.users,
        realize(&s, &EveModel::Rayleigh, 0.1, 4).unwrap().users
    );
    // The CSI error has variance rho: 64 subcarriers x 32 entries.
    let (sum, count) = r
        .users
        .iter()
        .zip(&r.users_estimated)
        .fold((0.0, 0.0), |(s, c), (h, e)| {
            let d = (0..2)
                .flat_map(|i| (0..16).map(move |j| (i, j)))
                .map(|(i, j)| (e[(i, j)] - h[(i, j)]).norm_sqr())
                .sum::<f64>();
            (s + d, c + 32.0)
        });
    assert!((sum / count / 0.1 - 1.0).abs() < 0.1, "{}", sum / count);
    // Perfect CSI and AoA: the estimates are the truth.
    let exact = realize(&s, &EveModel::Rayleigh, 0.0, 3).unwrap();
    assert_eq!(exact.users, exact.users_estimated);
    assert_eq!(exact.target_estimated, s.target());
}

#[test]
fn line_of_sight_eve_sees_the_target_steering_vector_and_the_same_users() {
    let base = FriendlyJammingScenario::from_toml(SHIPPED).unwrap();
    let with = |ne: usize, offset: f64| {
        let mut f = base.file().clone();
        f.set_subcarriers(4);
        f.system.eve_antennas = ne;
        f.channel.eve_offset_deg = offset;
        FriendlyJammingScenario::from_file(f).unwrap()
    };
    let (theta, phi) = base.target();
    for (ne, offset) in [(1, 0.0), (2, 0.0), (2, 5.0)] {
        let s = with(ne, offset);
        let a = s.tx().steering(theta + offset.to_radians(), phi).a;
        let los = realize(&s, &EveModel::Los, 0.0, 3).unwrap();
        let rayleigh = realize(&s, &EveModel::Rayleigh, 0.0, 3).unwrap();
        assert_eq!(los.users, rayleigh.users, "the users' draws do not move");
        for h in &los.eve {
            assert_eq!(h.ncols(), ne);
            for j in 0..ne {
                // Column j is a(theta + offset, phi) times one unit-modulus phase: |a^H h_j| = Nt.
                let inner: c64 = (0..a.nrows()).map(|i| a[i].conj() * h[(i, j)]).sum();
                let nt = a.nrows() as f64;
                assert!((inner.norm() - nt).abs() < 1e-9 * nt, "{inner}");
                assert!((h.col(j).squared_norm_l2() - nt).abs() < 1e-9 * nt);
            }
            // Rank one: every pair of columns is parallel.
            let sv = h.singular_values().unwrap();
            assert!(sv.iter().skip(1).all(|x| *x < 1e-9 * sv[0]), "{sv:?}");
        }
        assert!(
            los.eve.windows(2).all(|w| w[0] == w[1]),
            "flat over subcarriers"
        );
    }
}
