use super::*;
use crate::fim::{crb_diagonal, fim_from_operators};
use proptest::prelude::*;

fn paper_setting(std: f64) -> PcrbSetting {
    let means = [-55.0f64, -35.0, 65.0, 45.0].map(f64::to_radians).to_vec();
    PcrbSetting {
        tx: Ula::new(8, 0.5).unwrap(),
        rx: Ula::new(10, 0.5).unwrap(),
        prior: GaussianMixturePrior::new(means, vec![0.2, 0.3, 0.1, 0.4], std).unwrap(),
        beta: 7.1e-4,
        noise_radar: 1e-9,
    }
}

fn model(std: f64) -> PcrbModel {
    PcrbModel::new(paper_setting(std), QuadratureSettings::default()).unwrap()
}

/// `A A^H` scaled to trace `power`, from `2 n^2` reals.
fn psd_from(values: &[f64], n: usize, power: f64) -> Mat<c64> {
    let a = Mat::from_fn(n, n, |i, j| {
        c64::new(values[2 * (i * n + j)], values[2 * (i * n + j) + 1])
    });
    let r = &a * a.adjoint()
        + Mat::from_fn(n, n, |i, j| {
            if i == j {
                c64::new(1e-3, 0.0)
            } else {
                c64::new(0.0, 0.0)
            }
        });
    let tr: f64 = (0..n).map(|i| r[(i, i)].re).sum();
    Mat::from_fn(n, n, |i, j| r[(i, j)] * (power / tr))
}

fn psd_strategy(n: usize) -> impl Strategy<Value = Mat<c64>> {
    prop::collection::vec(-1.0f64..1.0, 2 * n * n).prop_map(move |v| psd_from(&v, n, 0.1))
}

fn rank_one(th: f64, power: f64) -> Mat<c64> {
    let a = Ula::new(8, 0.5).unwrap().steering(th);
    Mat::from_fn(8, 8, |i, j| a[i] * a[j].conj() * (power / 8.0))
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
}

#[test]
fn data_fim_equals_prior_average_of_the_deterministic_fim() {
    // Independent path: integrate the 3 x 3 FIM of mean derivatives (beta Mdot, M, j M) over
    // the prior with a different rule, instead of the precomputed g1, g2, g3 structure.
    for std in [0.01, 0.1] {
        let setting = paper_setting(std);
        let m = PcrbModel::new(setting.clone(), QuadratureSettings::default()).unwrap();
        let r = psd_from(
            &(0..128)
                .map(|k| ((k * 37 % 101) as f64 / 50.0) - 1.0)
                .collect::<Vec<_>>(),
            8,
            0.1,
        );
        let rule = NormalRule::new(90).unwrap();
        let mut expected = Mat::<f64>::zeros(3, 3);
        for (&mean, &p) in setting.prior.means().iter().zip(setting.prior.weights()) {
            for (th, w) in rule.points(mean, std) {
                let (a, da) = setting.tx.steering_and_derivative(th);
                let (b, db) = setting.rx.steering_and_derivative(th);
                let mm = Mat::from_fn(10, 8, |i, j| b[i] * a[j].conj());
                let md = Mat::from_fn(10, 8, |i, j| {
                    (db[i] * a[j].conj() + b[i] * da[j].conj()) * setting.beta
                });
                let jm = Mat::from_fn(10, 8, |i, j| mm[(i, j)] * c64::new(0.0, 1.0));
                let f = fim_from_operators(&[md, mm, jm], r.as_ref(), 1.0 / setting.noise_radar);
                expected += f * (p * w);
            }
        }
        expected[(0, 0)] += prior_fisher_information_for(&setting);
        let got = m.bayesian_fim(r.as_ref()).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let scale = expected[(i, i)].abs().max(expected[(j, j)].abs());
                assert!(
                    (got[i][j] - expected[(i, j)]).abs() <= 1e-10 * scale,
                    "({i},{j}) std {std}: {} vs {}",
                    got[i][j],
                    expected[(i, j)]
                );
            }
        }
    }
}

fn prior_fisher_information_for(s: &PcrbSetting) -> f64 {
    crate::prior_fisher_information(&s.prior)
}

#[test]
fn pcrb_is_the_first_diagonal_entry_of_the_inverse_fim() {
    let m = model(0.01);
    for r in [
        rank_one(0.3, 0.1),
        rank_one(-0.9, 0.1),
        psd_from(&[0.3; 128], 8, 0.1),
    ] {
        let j = m.bayesian_fim(r.as_ref()).unwrap();
        let jm = Mat::from_fn(3, 3, |a, b| j[a][b]);
        let inv = crb_diagonal(jm.as_ref()).unwrap();
        assert!(rel(m.pcrb(r.as_ref()).unwrap(), inv[0]) < 1e-9);
    }
}

#[test]
fn default_rule_is_converged_on_the_paper_setting() {
    for (std, tol) in [(0.01, 1e-12), (0.05, 1e-11), (0.1, 1e-10)] {
        let coarse = model(std);
        let fine = PcrbModel::new(
            paper_setting(std),
            QuadratureSettings { hermite_nodes: 160 },
        )
        .unwrap();
        for r in [
            rank_one(0.8, 0.1),
            rank_one(-0.7, 0.1),
            psd_from(&[0.5; 128], 8, 0.1),
        ] {
            let (a, b) = (
                coarse.pcrb(r.as_ref()).unwrap(),
                fine.pcrb(r.as_ref()).unwrap(),
            );
            assert!(rel(a, b) < tol, "std {std}: {a} vs {b}");
            let (a, b) = (
                coarse.pcrb_upper(r.as_ref()).unwrap(),
                fine.pcrb_upper(r.as_ref()).unwrap(),
            );
            assert!(rel(a, b) < tol, "std {std}: {a} vs {b}");
        }
    }
}

#[test]
fn closed_form_for_isotropic_transmission_matches_hand_formula() {
    // R = (P/Nt) I: tr(Qbar R) = P sum_k p_k ||bdot(theta_k)||^2 with
    // ||bdot||^2 = (pi Delta cos th)^2 * 330 for Nr = 10.
    let m = model(0.01);
    let (p, nt) = (0.1, 8.0);
    let r = Mat::from_fn(8, 8, |i, j| {
        if i == j {
            c64::new(p / nt, 0.0)
        } else {
            c64::new(0.0, 0.0)
        }
    });
    let s = m.setting();
    let tq: f64 = s
        .prior
        .means()
        .iter()
        .zip(s.prior.weights())
        .map(|(th, pk)| pk * (std::f64::consts::PI * 0.5 * th.cos()).powi(2) * 330.0 * p)
        .sum();
    let expected = 1.0 / (2.0 * s.beta.powi(2) / s.noise_radar * tq + 1e4);
    assert!(
        rel(
            m.pcrb_upper_closed_form(r.as_ref(), QbarConvention::Exact)
                .unwrap(),
            expected
        ) < 1e-12
    );
}

#[test]
fn paper_qbar_is_570_over_330_times_the_exact_one() {
    let m = model(0.01);
    let (e, p) = (m.qbar(QbarConvention::Exact), m.qbar(QbarConvention::Paper));
    for i in 0..8 {
        for j in 0..8 {
            assert!(
                (p[(i, j)] - e[(i, j)] * (570.0 / 330.0)).norm() < 1e-12 * (1.0 + e[(i, j)].norm())
            );
        }
    }
}

#[test]
fn wrong_covariance_size_is_an_error() {
    let m = model(0.01);
    let r = Mat::<c64>::zeros(7, 8);
    assert!(matches!(
        m.pcrb(r.as_ref()),
        Err(BoundsError::Dimension { .. })
    ));
    assert!(
        PcrbModel::new(
            PcrbSetting {
                beta: 0.0,
                ..paper_setting(0.01)
            },
            QuadratureSettings::default()
        )
        .is_err()
    );
    assert!(PcrbModel::new(paper_setting(0.01), QuadratureSettings { hermite_nodes: 0 }).is_err());
}

#[test]
fn zero_covariance_gives_the_prior_bound() {
    let m = model(0.1);
    let r = Mat::<c64>::zeros(8, 8);
    let expected = 1.0 / (100.0 - m.epsilon());
    assert!(rel(m.pcrb(r.as_ref()).unwrap(), expected) < 1e-14);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn pcrb_never_exceeds_its_upper_bound(r in psd_strategy(8), std in 0.005f64..0.2) {
        let m = model(std);
        let (p, u) = (m.pcrb(r.as_ref()).unwrap(), m.pcrb_upper(r.as_ref()).unwrap());
        prop_assert!(p <= u * (1.0 + 1e-12), "{p} > {u}");
    }

    #[test]
    fn bayesian_fim_is_symmetric_psd(r in psd_strategy(8), std in 0.005f64..0.2) {
        let j = model(std).bayesian_fim(r.as_ref()).unwrap();
        let jm = Mat::from_fn(3, 3, |a, b| j[a][b]);
        for (a, row) in j.iter().enumerate() {
            for (b, x) in row.iter().enumerate() {
                prop_assert_eq!(*x, j[b][a]);
            }
        }
        let eig = jm.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
        prop_assert!(eig[0] >= -1e-12 * eig[2], "{eig:?}");
    }

    #[test]
    fn pcrb_does_not_increase_when_power_is_added(r in psd_strategy(8), extra in psd_strategy(8), std in 0.005f64..0.2) {
        let m = model(std);
        let sum = &r + &extra;
        let (before, after) = (m.pcrb(r.as_ref()).unwrap(), m.pcrb(sum.as_ref()).unwrap());
        prop_assert!(after <= before * (1.0 + 1e-12), "{after} > {before}");
    }

    #[test]
    fn upper_bound_tends_to_the_closed_form(r in psd_strategy(8)) {
        // tr(Q R) -> tr(Qbar R) with error O(sigma^2), epsilon -> 0.
        let mut last = f64::INFINITY;
        for std in [1e-2, 1e-3, 1e-4] {
            let m = model(std);
            let tq = trace_product(m.q(), r.as_ref()).re;
            let tqbar = trace_product(m.qbar(QbarConvention::Exact), r.as_ref()).re;
            let err = rel(tq, tqbar);
            // The O(sigma^2) constant carries the squared phase slope (pi Delta (Nt - 1))^2 ~ 120.
            prop_assert!(err < 200.0 * std * std + 1e-13, "std {std}: {err}");
            prop_assert!(err <= last);
            last = err;
            prop_assert!(m.epsilon() < 1e-40);
            let u = m.pcrb_upper(r.as_ref()).unwrap();
            let c = m.pcrb_upper_closed_form(r.as_ref(), QbarConvention::Exact).unwrap();
            prop_assert!(rel(u, c) <= err + 1e-13);
        }
    }
}
