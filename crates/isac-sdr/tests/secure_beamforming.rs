//! End-to-end checks of the SDR design on the paper's setting.

use isac_channel::scenario::SecureIsacScenario;
use isac_sdr::{Formulation, Scheme, SecureBeamformingProblem, SolveStatus, run_scheme};

fn scenario() -> SecureIsacScenario {
    SecureIsacScenario::from_path(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/hou2023.toml").as_ref(),
    )
    .unwrap()
}

#[test]
fn proposed_design_reaches_the_independent_reference() {
    // docs/conventions.md (paper 000): ~19.18 bit/s/Hz at gamma ~0.02 for Gamma = 2.68e-5
    // (independent solver stack, exact Qbar, sigma_theta = 0.01).
    let s = scenario();
    let out = run_scheme(&s, Scheme::Proposed, 2.68e-5, None).unwrap();
    assert_eq!(out.status, SolveStatus::Optimal);
    assert!(
        (out.secrecy_rate - 19.18).abs() < 0.02,
        "{}",
        out.secrecy_rate
    );
    let gamma = out.gamma.unwrap();
    assert!((0.005..0.08).contains(&gamma), "{gamma}");
    let cert = out.certificate.as_ref().unwrap();
    assert!(cert.holds, "{cert:?}");
    // The recovered beams lose nothing against the SDP value.
    assert!(out.secrecy_rate >= out.sdp_secrecy_rate.unwrap() - 1e-4);
    assert!(out.power <= s.tx_power() * (1.0 + 1e-6));
    assert!(
        out.pcrb <= out.pcrb_upper_closed_form * 1.05,
        "exact PCRB vs closed-form bound"
    );
    assert!(out.pcrb_upper_closed_form <= 2.68e-5 * (1.0 + 1e-4));
    assert!(out.an_beams.len() <= 4, "rank(V) <= min(K, Nt)");
}

#[test]
fn every_gamma_from_1e_6_to_1e6_solves() {
    let s = scenario();
    let p = SecureBeamformingProblem::new(&s, 2.68e-5, Formulation::Preconditioned, true).unwrap();
    for e in -12..=12 {
        let g = 10f64.powf(e as f64 / 2.0);
        let sol = p.solve(g).unwrap();
        assert_eq!(
            sol.status,
            SolveStatus::Optimal,
            "gamma {g}: {:?}",
            sol.report
        );
        assert!(sol.report.primal_residual < 1e-4 && sol.report.iterations > 0);
    }
}

#[test]
fn plain_and_preconditioned_formulations_agree_where_both_solve() {
    let s = scenario();
    let pre = SecureBeamformingProblem::new(&s, 1.6e-5, Formulation::Preconditioned, true).unwrap();
    let plain = SecureBeamformingProblem::new(&s, 1.6e-5, Formulation::Plain, true).unwrap();
    assert!(pre.reduced_dimension() < plain.reduced_dimension());
    let mut compared = 0;
    for g in [1e-4, 1e-2, 1.0, 1e2, 1e4] {
        let (a, b) = (pre.solve(g).unwrap(), plain.solve(g).unwrap());
        if a.status == SolveStatus::Optimal && b.status == SolveStatus::Optimal {
            compared += 1;
            let (ra, rb) = ((1.0 + a.user_sinr).log2(), (1.0 + b.user_sinr).log2());
            assert!((ra - rb).abs() < 2e-3, "gamma {g}: {ra} vs {rb}");
        }
    }
    assert!(compared >= 3, "only {compared} comparable points");
}

#[test]
fn an_unreachable_sensing_threshold_is_an_infeasible_result() {
    let s = scenario();
    let p = SecureBeamformingProblem::new(&s, 1e-6, Formulation::Preconditioned, true).unwrap();
    assert_eq!(p.solve(0.1).unwrap().status, SolveStatus::Infeasible);
    let out = run_scheme(&s, Scheme::Proposed, 1e-6, Some(0.1)).unwrap();
    assert_eq!(out.status, SolveStatus::Infeasible);
    assert_eq!(out.secrecy_rate, 0.0);
}

#[test]
fn benchmarks_behave_as_the_paper_and_conventions_say() {
    let s = scenario();
    // Benchmark 2 (no AN): infeasible or zero secrecy for Gamma <= 6e-5.
    let no_an = run_scheme(&s, Scheme::NoAn, 2.68e-5, None).unwrap();
    assert!(
        no_an.status == SolveStatus::Infeasible || no_an.secrecy_rate < 1e-3,
        "{:?} {}",
        no_an.status,
        no_an.secrecy_rate
    );
    assert!(no_an.an_covariance.norm_l2() == 0.0);
    // Benchmark 1 (MRT): its bound is ~5.4e-5, so infeasible at 2.68e-5 and feasible at 8e-5,
    // where it leaks everything (zero secrecy) because nothing protects it.
    let mrt = run_scheme(&s, Scheme::Mrt, 2.68e-5, None).unwrap();
    assert_eq!(mrt.status, SolveStatus::Infeasible);
    assert!((mrt.pcrb_upper_closed_form - 5.4e-5).abs() < 0.02 * 5.4e-5);
    assert!(
        (mrt.power - s.tx_power()).abs() < 1e-12,
        "MRT reports its beam even when infeasible"
    );
    let mrt = run_scheme(&s, Scheme::Mrt, 8e-5, None).unwrap();
    assert_eq!(mrt.status, SolveStatus::Optimal);
    assert_eq!(mrt.secrecy_rate, 0.0);
}

#[test]
fn invalid_arguments_are_errors_not_panics() {
    let s = scenario();
    assert!(SecureBeamformingProblem::new(&s, -1.0, Formulation::Preconditioned, true).is_err());
    let p = SecureBeamformingProblem::new(&s, 2.68e-5, Formulation::Preconditioned, true).unwrap();
    assert!(p.solve(0.0).is_err());
    assert!(p.solve(f64::NAN).is_err());
}

#[test]
fn a_session_reusing_the_solver_matches_one_shot_solves() {
    let s = scenario();
    let p = SecureBeamformingProblem::new(&s, 2.68e-5, Formulation::Preconditioned, true).unwrap();
    let mut session = p.session();
    for g in [1e-6, 1e-3, 0.02, 10.0, 1e6, 0.5] {
        let (a, b) = (session.solve(g).unwrap(), p.solve(g).unwrap());
        assert_eq!(a.status, b.status, "gamma {g}");
        assert!(
            (a.user_sinr - b.user_sinr).abs() <= 1e-9 * b.user_sinr.abs(),
            "gamma {g}: {} vs {}",
            a.user_sinr,
            b.user_sinr
        );
    }
    assert!(session.solve(-1.0).is_err());
}
