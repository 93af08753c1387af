use isac_channel::rng::{complex_normal, stream};

use super::*;
use isac_design::zf_an;

fn gaussian(rows: usize, cols: usize, seed: u64, index: u64) -> Mat<c64> {
    let mut rng = stream(seed, [index, 0, 0]);
    Mat::from_fn(rows, cols, |_, _| complex_normal(&mut rng, 1.0))
}

/// K users, ZF + AN beams at `power`, and D i.i.d. Rayleigh draws of an `ne`-antenna Eve.
fn rayleigh(nt: usize, k: usize, ne: usize, draws: u64, seed: u64) -> (Mat<c64>, JammingProblem) {
    let users = gaussian(k, nt, seed, 0);
    let design = zf_an(users.as_ref(), 100.0, 0.5).unwrap();
    let eve: Vec<Mat<c64>> = (1..=draws).map(|d| gaussian(nt, ne, seed, d)).collect();
    let problem = JammingProblem::new(users.as_ref(), &design.beams, &eve, 1.0, 50.0).unwrap();
    (users, problem)
}

/// A random Hermitian m x m matrix.
fn hermitian(m: usize, seed: u64) -> Mat<c64> {
    hermitian_part(&gaussian(m, m, seed, 99))
}

/// `ln det` of a Hermitian positive definite matrix from its eigenvalues.
fn log_det(a: &Mat<c64>) -> f64 {
    let evd = a.self_adjoint_eigen(Side::Lower).unwrap();
    (0..a.nrows()).map(|i| evd.S()[i].re.ln()).sum()
}

/// Eve's antenna count in draw `d` of the mixed problems: 1, 2 and 3 in turn.
fn mixed_antennas(d: u64) -> usize {
    1 + (d % 3) as usize
}

/// K = 2 users of `nt` antennas, ZF + AN beams, and D draws of Eve with 1, 2 and 3 antennas in
/// turn (the draws' blocks of different widths side by side).
fn mixed(nt: usize, draws: u64, seed: u64) -> (Mat<c64>, JammingProblem) {
    let users = gaussian(2, nt, seed, 0);
    let design = zf_an(users.as_ref(), 100.0, 0.5).unwrap();
    let eve: Vec<Mat<c64>> = (1..=draws)
        .map(|d| gaussian(nt, mixed_antennas(d), seed, d))
        .collect();
    let problem = JammingProblem::new(users.as_ref(), &design.beams, &eve, 1.0, 50.0).unwrap();
    (users, problem)
}

#[test]
fn the_leakage_is_the_log_det_of_eves_channel() {
    let (users, problem) = mixed(6, 4, 1);
    let s =
        problem.isotropic() + hermitian(problem.dimension(), 2) * faer::Scale(c64::new(0.5, 0.0));
    let q = problem.covariance(&s);
    let design = zf_an(users.as_ref(), 100.0, 0.5).unwrap();
    let mut direct = 0.0;
    for d in 1..=4 {
        let ne = mixed_antennas(d);
        let h = gaussian(6, ne, 1, d);
        let mut a = h.adjoint() * &q * &h;
        for i in 0..ne {
            a[(i, i)] += c64::new(1.0, 0.0);
        }
        let a = hermitian_part(&a);
        for f in &design.beams {
            let g = h.adjoint() * f;
            direct += log_det(&hermitian_part(&(&a + &g * g.adjoint()))) - log_det(&a);
        }
    }
    direct /= 4.0;
    assert!(
        (problem.leakage(&s) - direct).abs() < 1e-10 * direct,
        "{direct}"
    );
}

#[test]
fn the_gradient_matches_central_differences() {
    for (_, problem) in [rayleigh(6, 2, 2, 5, 3), mixed(6, 5, 4)] {
        let m = problem.dimension();
        let s = problem.isotropic();
        let (_, grad) = problem.leakage_and_gradient(&s);
        for seed in 0..3 {
            let d = hermitian(m, 10 + seed);
            let h = 1e-4;
            let plus = problem.leakage(&(&s + &d * faer::Scale(c64::new(h, 0.0))));
            let minus = problem.leakage(&(&s - &d * faer::Scale(c64::new(h, 0.0))));
            let fd = (plus - minus) / (2.0 * h);
            let analytic = inner(&grad, &d);
            assert!(
                (fd - analytic).abs() < 1e-6 * analytic.abs().max(1e-3),
                "{fd} vs {analytic}"
            );
        }
    }
}

#[test]
fn the_optimum_is_feasible_psd_and_in_the_null_space() {
    let (users, problem) = rayleigh(8, 3, 2, 50, 4);
    let opt = problem.solve(OptimumSettings::default()).unwrap();
    let q = &opt.covariance;
    let scale = q.norm_l2();
    let evd = q.self_adjoint_eigen(Side::Lower).unwrap();
    let top = evd.S()[q.nrows() - 1].re;
    assert!(evd.S()[0].re >= -1e-9 * top);
    assert!((&users * q).norm_l2() <= 1e-9 * scale);
    let power: f64 = (0..q.nrows()).map(|i| q[(i, i)].re).sum();
    assert!((power - 50.0).abs() <= 50.0 * 1e-9, "{power}");
    assert!(opt.gap >= 0.0 && opt.gap.is_finite());
}

#[test]
fn isotropic_jamming_is_optimal_against_a_rayleigh_eve() {
    // By symmetry the population optimum is isotropic; on a sample the solver may only gain
    // what the certificate at the isotropic point allows, and that certificate is small.
    let (_, problem) = rayleigh(6, 2, 2, 3000, 5);
    let iso = problem.isotropic();
    let (l_iso, grad) = problem.leakage_and_gradient(&iso);
    let gap_iso = problem.gap(&grad, &iso).unwrap();
    let opt = problem.solve(OptimumSettings::default()).unwrap();
    assert_eq!(opt.status, OptimumStatus::Optimal);
    assert!(opt.leakage <= l_iso + 1e-12);
    assert!(l_iso - opt.leakage <= gap_iso + 1e-12);
    assert!(gap_iso < 0.02 * l_iso, "{gap_iso} of {l_iso}");
}

#[test]
fn a_line_of_sight_eve_with_one_antenna_is_jammed_along_the_projected_steering_vector() {
    let (nt, k) = (6, 2);
    let users = gaussian(k, nt, 7, 0);
    let design = zf_an(users.as_ref(), 100.0, 0.5).unwrap();
    let a = gaussian(nt, 1, 7, 1);
    let eve: Vec<Mat<c64>> = (0..40)
        .map(|d| {
            let phase = c64::cis(0.37 * d as f64);
            &a * faer::Scale(phase * c64::new(0.8, 0.0))
        })
        .collect();
    let problem = JammingProblem::new(users.as_ref(), &design.beams, &eve, 1.0, 50.0).unwrap();
    let opt = problem.solve(OptimumSettings::default()).unwrap();
    assert_eq!(opt.status, OptimumStatus::Optimal);
    let p = null_space_projector(users.as_ref()).unwrap();
    let v = &p * &a;
    let v = &v * faer::Scale(c64::new(1.0 / v.norm_l2(), 0.0));
    let expected = (&v * v.adjoint()) * faer::Scale(c64::new(50.0, 0.0));
    let error = (&opt.covariance - &expected).norm_l2() / expected.norm_l2();
    assert!(error < 1e-3, "{error}");
}

#[test]
fn no_rank_one_or_rank_two_covariance_beats_the_certified_optimum() {
    // Nt = 4, K = 2: m = 2, where every S with tr S = P_J is P_J/2 (I + x X + y Y + z Z) for a
    // point of the unit ball (the sphere holds the rank-one ones); the leakage decreases with
    // the power, so the budget is spent.
    let (_, problem) = rayleigh(4, 2, 2, 12, 8);
    let opt = problem.solve(OptimumSettings::default()).unwrap();
    let mut rng = stream(9, [0; 3]);
    let mut best = f64::INFINITY;
    for i in 0..20_000 {
        // A direction from three normals; the radius of a uniform point of the ball from
        // |w|^2 ~ Exp(1) (1 - e^-E is uniform), or 1 for a rank-one point.
        let (u, v) = (complex_normal(&mut rng, 2.0), complex_normal(&mut rng, 2.0));
        let norm = (u.norm_sqr() + v.re * v.re).sqrt();
        let radius = if i % 2 == 0 {
            1.0
        } else {
            (1.0 - (-complex_normal(&mut rng, 1.0).norm_sqr()).exp()).cbrt()
        };
        let (x, y, z) = (
            radius * u.re / norm,
            radius * u.im / norm,
            radius * v.re / norm,
        );
        let h = 25.0;
        let s = Mat::from_fn(2, 2, |r, c| match (r, c) {
            (0, 0) => c64::new(h * (1.0 + z), 0.0),
            (1, 1) => c64::new(h * (1.0 - z), 0.0),
            (0, 1) => c64::new(h * x, -h * y),
            _ => c64::new(h * x, h * y),
        });
        best = best.min(problem.leakage(&s));
    }
    assert!(
        best >= opt.leakage - opt.gap - 1e-12,
        "{best} vs {}",
        opt.leakage
    );
    assert!(
        best - opt.leakage < 1e-2,
        "the search comes close: {best} vs {}",
        opt.leakage
    );
}

#[test]
fn bad_inputs_are_errors() {
    let users = gaussian(2, 4, 1, 0);
    let beams = zf_an(users.as_ref(), 1.0, 0.5).unwrap().beams;
    let eve = vec![gaussian(4, 2, 1, 1)];
    assert!(JammingProblem::new(users.as_ref(), &beams, &[], 1.0, 1.0).is_err());
    assert!(JammingProblem::new(users.as_ref(), &beams, &eve, 0.0, 1.0).is_err());
    assert!(JammingProblem::new(users.as_ref(), &beams, &eve, 1.0, f64::NAN).is_err());
    assert!(
        JammingProblem::new(users.as_ref(), &beams, &[gaussian(3, 2, 1, 1)], 1.0, 1.0).is_err()
    );
}

/// The echo geometry of an `Nt`-antenna instance (`Nt` even): an `Nt / 2 x 2` transmit and a
/// 2 x 2 receive array.
fn geometry(users: &Mat<c64>) -> isac_bounds::EchoGeometry {
    isac_bounds::EchoGeometry {
        tx: isac_channel::Upa::new(users.ncols() / 2, 2, 0.5).unwrap(),
        rx: isac_channel::Upa::new(2, 2, 0.5).unwrap(),
    }
}

/// A sensing constraint: the beams' FIM at `scale` and the operators of [`geometry`] toward
/// (0.3, 0.2) rad.
fn sensing(
    users: &Mat<c64>,
    problem: &JammingProblem,
    scale: f64,
    crlb_max: f64,
) -> CrlbConstraint {
    let geometry = geometry(users);
    let design = zf_an(users.as_ref(), 100.0, 0.5).unwrap();
    problem
        .crlb_constraint(&geometry.channel(0.3, 0.2), &design.beams, scale, crlb_max)
        .unwrap()
}

/// The largest of the two CRLBs of beams plus `Q = B S B^H`, from `angle_fim` directly.
fn direct_crlb(users: &Mat<c64>, problem: &JammingProblem, s: &Mat<c64>, scale: f64) -> f64 {
    let geometry = geometry(users);
    let design = zf_an(users.as_ref(), 100.0, 0.5).unwrap();
    let mut r = problem.covariance(s);
    for f in &design.beams {
        r += f * f.adjoint();
    }
    let j = isac_bounds::angle_fim(&geometry.channel(0.3, 0.2), r.as_ref(), scale).unwrap();
    let det = j[(0, 0)] * j[(1, 1)] - j[(0, 1)] * j[(1, 0)];
    (j[(1, 1)] / det).max(j[(0, 0)] / det)
}

#[test]
fn the_crlb_and_its_gradient_match_a_direct_fim_and_central_differences() {
    let (users, problem) = rayleigh(6, 2, 2, 5, 5);
    let c = sensing(&users, &problem, 1e-3, 1.0);
    let m = problem.dimension();
    let s = problem.isotropic() + hermitian(m, 6) * faer::Scale(c64::new(0.3, 0.0));
    let s = problem.project(&s).unwrap();
    let (value, grad) = c.crlbs_and_gradients(&s);
    let direct = direct_crlb(&users, &problem, &s, 1e-3);
    assert!((value[0].max(value[1]) - direct).abs() < 1e-10 * direct);
    for (w, g) in grad.iter().enumerate() {
        for seed in 0..3 {
            let d = hermitian(m, 20 + seed);
            let h = 1e-5;
            let plus = c.crlbs(&(&s + &d * faer::Scale(c64::new(h, 0.0))))[w];
            let minus = c.crlbs(&(&s - &d * faer::Scale(c64::new(h, 0.0))))[w];
            let fd = (plus - minus) / (2.0 * h);
            let analytic = inner(g, &d);
            assert!(
                (fd - analytic).abs() < 1e-6 * analytic.abs().max(1e-12 + 1e-3 * value[w]),
                "angle {w}: {fd} vs {analytic}"
            );
        }
    }
}

#[test]
fn the_constrained_optimum_is_feasible_active_and_certified() {
    let (users, problem) = rayleigh(6, 2, 2, 40, 7);
    let settings = OptimumSettings::default();
    let scale = 1e-3;
    let free = problem.solve(settings).unwrap();
    let m = problem.dimension();
    let b = problem.basis();
    let s_free = b.adjoint() * &free.covariance * b;
    let probe = sensing(&users, &problem, scale, 1.0);
    let c_free = probe.crlbs(&s_free);
    // A witness: all the budget on the beam of the most angle information.
    let info = &probe.d[0][0] + &probe.d[1][1];
    let evd = info.self_adjoint_eigen(Side::Lower).unwrap();
    let u = evd.U().col(m - 1).to_owned();
    let witness = (&u * u.adjoint()) * faer::Scale(c64::new(50.0, 0.0));
    let c_witness = probe.crlbs(&witness);
    let (worst_free, worst_witness) = (c_free[0].max(c_free[1]), c_witness[0].max(c_witness[1]));
    assert!(
        worst_witness < worst_free,
        "{worst_witness} vs {worst_free}"
    );
    let crlb_max = 0.5 * (worst_witness + worst_free);
    let c = sensing(&users, &problem, scale, crlb_max);
    let opt = problem.solve_constrained(&c, settings).unwrap();
    assert_eq!(opt.status, OptimumStatus::Optimal, "gap {}", opt.gap);
    let s = b.adjoint() * &opt.covariance * b;
    let crlb = direct_crlb(&users, &problem, &s, scale);
    assert!(crlb <= crlb_max * (1.0 + 1e-9), "{crlb} vs {crlb_max}");
    assert!(
        crlb >= crlb_max * (1.0 - 1e-3),
        "active: {crlb} vs {crlb_max}"
    );
    assert!(opt.leakage >= free.leakage - free.gap);
    assert!(opt.multipliers.iter().any(|x| *x > 0.0));
    // The certificate is honest: no feasible random design of the budget beats it by more.
    let mut beaten = 0;
    for seed in 0..300u64 {
        let g = gaussian(m, 1 + (seed % 3) as usize, 50, seed);
        let x = &g * g.adjoint();
        let trace: f64 = (0..m).map(|i| x[(i, i)].re).sum();
        let x = x * faer::Scale(c64::new(50.0 / trace, 0.0));
        let x = (&x + &witness) * faer::Scale(c64::new(0.5, 0.0));
        if c.crlbs(&x).iter().all(|v| *v <= crlb_max) {
            assert!(problem.leakage(&x) >= opt.leakage - opt.gap - 1e-12);
            beaten += 1;
        }
    }
    assert!(beaten > 10, "only {beaten} feasible random designs");
}

#[test]
fn an_unreachable_crlb_is_infeasible_and_a_slack_one_changes_nothing() {
    let (users, problem) = rayleigh(6, 2, 2, 20, 8);
    let settings = OptimumSettings::default();
    let slack = problem
        .solve_constrained(&sensing(&users, &problem, 1e-3, 1e6), settings)
        .unwrap();
    let free = problem.solve(settings).unwrap();
    assert_eq!(slack.covariance, free.covariance);
    assert_eq!(slack.multipliers, [0.0; 2]);
    let impossible = problem
        .solve_constrained(&sensing(&users, &problem, 1e-3, 1e-12), settings)
        .unwrap();
    assert_eq!(impossible.status, OptimumStatus::Infeasible);
}

/// The smallest worst-angle CRLB over every `S` of a two-dimensional null space, by a grid over
/// the full-budget ones (`S = P_J / 2 (I + x X + y Y + z Z)` with `|(x, y, z)| <= 1`, Pauli
/// matrices; more jamming never raises a CRLB, so the budget is spent at the optimum).
fn grid_min_crlb(users: &Mat<c64>, problem: &JammingProblem, scale: f64) -> f64 {
    let steps = 40;
    let half = problem.power / 2.0;
    let mut best = f64::INFINITY;
    for i in 0..=steps {
        for j in 0..=steps {
            for l in 0..=steps {
                let r = [i, j, l].map(|t| 2.0 * t as f64 / steps as f64 - 1.0);
                if r.iter().map(|x| x * x).sum::<f64>() > 1.0 {
                    continue;
                }
                let s = Mat::from_fn(2, 2, |a, b| match (a, b) {
                    (0, 0) => c64::new(half * (1.0 + r[2]), 0.0),
                    (1, 1) => c64::new(half * (1.0 - r[2]), 0.0),
                    (0, 1) => c64::new(half * r[0], -half * r[1]),
                    _ => c64::new(half * r[0], half * r[1]),
                });
                best = best.min(direct_crlb(users, problem, &s, scale));
            }
        }
    }
    best
}

#[test]
fn phase_one_decides_feasibility_where_the_diagonal_bound_cannot() {
    // Nt = 4, K = 2: a two-dimensional null space, small enough for a grid over every S.
    let (users, problem) = rayleigh(4, 2, 2, 10, 11);
    assert_eq!(problem.dimension(), 2);
    let scale = 1e-3;
    let best = grid_min_crlb(&users, &problem, scale);
    let settings = OptimumSettings::default();
    // Below the grid's best by 5%: no S meets it, yet each angle alone could be met (the
    // diagonal bound of `solve_constrained`'s quick proof passes).
    let impossible = sensing(&users, &problem, scale, 0.95 * best);
    let diagonal = problem.diagonal_bounds(&impossible).unwrap();
    assert!(diagonal.iter().all(|b| *b <= 0.95 * best), "{diagonal:?}");
    let start = problem.isotropic();
    let phase = problem.feasibility(&impossible, &start, settings).unwrap();
    assert_eq!(phase.verdict, feasibility::Feasibility::Infeasible);
    let opt = problem.solve_constrained(&impossible, settings).unwrap();
    assert_eq!(opt.status, OptimumStatus::Infeasible);
    // The unconstrained optimum stands in.
    assert_eq!(opt.covariance, problem.solve(settings).unwrap().covariance);
    // Above it by 5%: the grid's best point meets it, and phase one finds such a point.
    let reachable = sensing(&users, &problem, scale, 1.05 * best);
    let phase = problem.feasibility(&reachable, &start, settings).unwrap();
    assert_eq!(phase.verdict, feasibility::Feasibility::Feasible);
    let opt = problem.solve_constrained(&reachable, settings).unwrap();
    assert_eq!(opt.status, OptimumStatus::Optimal, "gap {}", opt.gap);
}

#[test]
fn the_small_solve_matches_faers_lu() {
    let n = 3;
    let a = gaussian(n, n, 4, 0);
    let b = gaussian(n, 2, 4, 1);
    let direct = faer::linalg::solvers::Solve::solve(&a.partial_piv_lu(), &b);
    let mut a_flat: Vec<c64> = (0..n * n).map(|at| a[(at % n, at / n)]).collect();
    let mut x: Vec<c64> = (0..n * 2).map(|at| b[(at % n, at / n)]).collect();
    super::solve_in_place(&mut a_flat, &mut x, n, 2);
    for (at, v) in x.iter().enumerate() {
        let d = direct[(at % n, at / n)];
        assert!(
            (v - d).norm() < 1e-12 * d.norm().max(1.0),
            "{at}: {v} vs {d}"
        );
    }
}
