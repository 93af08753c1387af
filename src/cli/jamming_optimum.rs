//! `isac jamming-optimum --scenario FILE [--snr-db X] [--draws D] [--optimise-split] [--json]`:
//! the certified best null-space jamming covariance of paper 003 for the scenario's
//! distribution of Eve's channel, with the users' zero-forcing beams fixed and the joint CRLB
//! held below `CRLB_0`, beside isotropic null-space jamming.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use faer::{Col, Mat, c64};
use isac_bounds::{EchoGeometry, angle_fim, crb_diagonal};
use isac_channel::fading::realize;
use isac_channel::scenario::FriendlyJammingScenario;
use isac_design::zf_an;
use isac_eval::config::EvaluationSection;
use isac_eval::secrecy::mean_ci95;
use isac_sdr::{JammingOptimum, JammingProblem, OptimumSettings, OptimumStatus};
use serde::Serialize;

use super::{CliError, ComplexJson, matrix_json, outln, print_json};

/// The most Eve draws: each solver step costs D small solves (about 0.1 s per 2000 draws), and
/// twice this many channels are held in memory.
const MAX_DRAWS: usize = 100_000;

#[derive(Debug, Args)]
pub struct JammingOptimumArgs {
    /// Paper-003 scenario (TOML), e.g. scenarios/tuan2025.toml.
    #[arg(long, value_name = "FILE")]
    scenario: PathBuf,
    /// P_max / sigma^2 in dB (default: the scenario's system.p_max_db).
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    snr_db: Option<f64>,
    /// Eve draws to optimise over, and as many fresh ones to evaluate on (default 2000).
    #[arg(long, value_name = "D", default_value_t = 2000)]
    draws: usize,
    /// Also search the communication / jamming power split (golden section on the training
    /// draws' sum secrecy) instead of the scenario's `evaluation.an_power_fraction`.
    #[arg(long)]
    optimise_split: bool,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Output {
    status: &'static str,
    snr_db: f64,
    draws: usize,
    leakage_nats: f64,
    sum_secrecy_nats: f64,
    sum_secrecy_nats_ci95: f64,
    isotropic_secrecy_nats: f64,
    gap_nats: f64,
    iterations: usize,
    jamming_power: f64,
    jamming_rank: usize,
    target_jamming_gain: f64,
    crlb: f64,
    jamming_covariance: ComplexJson<Vec<Vec<f64>>>,
    seconds: f64,
}

/// `sum_k [R_k - R_E,k]^+` of one Eve draw (eq. 28; the users' channel `h` is K x Nt).
fn secrecy(h: &Mat<c64>, beams: &[Col<c64>], q: &Mat<c64>, eve: &Mat<c64>, noise: f64) -> f64 {
    let ne = eve.ncols();
    let mut a = eve.adjoint() * q * eve;
    for i in 0..ne {
        a[(i, i)] += c64::new(noise, 0.0);
    }
    let lu = a.partial_piv_lu();
    let mut total = 0.0;
    for (k, f) in beams.iter().enumerate() {
        let row = Col::from_fn(h.ncols(), |i| h[(k, i)].conj());
        let gain = |x: &Col<c64>| (row.adjoint() * x).norm_sqr();
        let interference: f64 = beams
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != k)
            .map(|(_, x)| gain(x))
            .sum();
        let jam = (row.adjoint() * q * &row).re;
        let user = (1.0 + gain(f) / (interference + jam + noise)).ln();
        let g = eve.adjoint() * f;
        let x = faer::linalg::solvers::Solve::solve(&lu, g.as_mat());
        let leak: f64 = (0..ne).map(|i| (g[i].conj() * x[(i, 0)]).re).sum();
        total += (user - (1.0 + leak).ln()).max(0.0);
    }
    total
}

/// One certified solve at a power split.
struct Solved {
    beams: Vec<Col<c64>>,
    problem: JammingProblem,
    opt: JammingOptimum,
    /// Mean sum secrecy on the training draws.
    training: f64,
}

/// Golden-section search of the jamming share in [0.02, 0.98] on the training draws' sum
/// secrecy (an infeasible split counts as minus infinity), 16 solves.
fn best_split(solve: &dyn Fn(f64) -> Result<Solved, CliError>) -> Result<Solved, CliError> {
    let score = |x: &Solved| {
        if x.opt.status == OptimumStatus::Infeasible {
            f64::NEG_INFINITY
        } else {
            x.training
        }
    };
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let (mut lo, mut hi) = (0.02, 0.98);
    let mut a = hi - ratio * (hi - lo);
    let mut b = lo + ratio * (hi - lo);
    let (mut sa, mut sb) = (solve(a)?, solve(b)?);
    for _ in 0..14 {
        if score(&sa) >= score(&sb) {
            hi = b;
            (b, sb) = (a, sa);
            a = hi - ratio * (hi - lo);
            sa = solve(a)?;
        } else {
            lo = a;
            (a, sa) = (b, sb);
            b = lo + ratio * (hi - lo);
            sb = solve(b)?;
        }
    }
    Ok(if score(&sa) >= score(&sb) { sa } else { sb })
}

pub fn run(args: &JammingOptimumArgs) -> Result<(), CliError> {
    let started = Instant::now();
    // One subcarrier: the design is per subcarrier, and realising all N would cost N times more.
    let mut file = FriendlyJammingScenario::from_path(&args.scenario)?
        .file()
        .clone();
    file.set_subcarriers(1);
    let s = FriendlyJammingScenario::from_file(file)?;
    let f = s.file();
    let snr_db = args.snr_db.unwrap_or(f.system.p_max_db);
    if !snr_db.is_finite() || snr_db.abs() > 300.0 {
        return Err(CliError::Input(format!(
            "--snr-db {snr_db} must be finite and within +-300 dB"
        )));
    }
    if !(2..=MAX_DRAWS).contains(&args.draws) {
        return Err(CliError::Input(format!(
            "--draws {} must be in 2..={MAX_DRAWS}",
            args.draws
        )));
    }
    let noise = f.system.noise_power;
    let power = s.subcarrier_power(snr_db);
    let ch = &f.channel;
    // The users' channel of realisation 0 (first subcarrier), fixed; Eve's draws 1..=D train,
    // D+1..=2D evaluate.
    let users = realize(&s, &ch.eve_model, 0.0, 0)?.users.remove(0);
    let eve = |range: std::ops::RangeInclusive<usize>| {
        range
            .map(|d| Ok(realize(&s, &ch.eve_model, 0.0, d as u64)?.eve.remove(0)))
            .collect::<Result<Vec<Mat<c64>>, CliError>>()
    };
    let (train, held_out) = (eve(1..=args.draws)?, eve(args.draws + 1..=2 * args.draws)?);
    let geometry = EchoGeometry {
        tx: s.tx(),
        rx: s.rx(),
    };
    let (theta, phi) = s.target();
    let sensing = geometry.channel(theta, phi);
    let scale = s.fim_scale() * s.snapshots();
    // The certified optimum with a share `fraction` of the power on jamming: the beams are
    // ZF_AN's, and the joint CRLB of beams plus jamming must meet CRLB_0 (enforced when the
    // unconstrained optimum misses it).
    let solve = |fraction: f64| -> Result<Solved, CliError> {
        let design = zf_an(users.as_ref(), power, fraction)?;
        let problem = JammingProblem::new(
            users.as_ref(),
            &design.beams,
            &train,
            noise,
            fraction * power,
        )?;
        let constraint = problem.crlb_constraint(&sensing, &design.beams, scale, s.crlb_max())?;
        let opt = problem.solve_constrained(&constraint, OptimumSettings::default())?;
        let training: f64 = train
            .iter()
            .map(|e| secrecy(&users, &design.beams, &opt.covariance, e, noise))
            .sum::<f64>()
            / train.len() as f64;
        Ok(Solved {
            beams: design.beams,
            problem,
            opt,
            training,
        })
    };
    let Solved {
        beams,
        problem,
        opt,
        ..
    } = if args.optimise_split {
        best_split(&solve)?
    } else {
        let share = EvaluationSection::from_scenario(&s)
            .map_err(|e| CliError::Input(e.to_string()))?
            .an_power_fraction;
        solve(share)?
    };
    let crlb_of = |q: &Mat<c64>| -> Result<f64, CliError> {
        let mut r = q.clone();
        for b in &beams {
            r += b * b.adjoint();
        }
        let j = angle_fim(&sensing, r.as_ref(), scale)?;
        Ok(crb_diagonal(j.as_ref()).map_or(f64::INFINITY, |d| d[0].max(d[1])))
    };
    let crlb = crlb_of(&opt.covariance)?;
    let status = match opt.status {
        OptimumStatus::Optimal => "optimal",
        OptimumStatus::IterationLimit => "iteration_limit",
        OptimumStatus::Infeasible => "infeasible",
    };
    let isotropic = problem.covariance(&problem.isotropic());
    let rates = |q: &Mat<c64>| -> Vec<f64> {
        held_out
            .iter()
            .map(|e| secrecy(&users, &beams, q, e, noise))
            .collect()
    };
    let (mean, ci) = mean_ci95(&rates(&opt.covariance));
    let (iso_mean, _) = mean_ci95(&rates(&isotropic));
    let evd = opt
        .covariance
        .self_adjoint_eigen(faer::Side::Lower)
        .map_err(|e| CliError::Internal(format!("{e:?}")))?;
    let nt = s.tx().elements();
    let top = evd.S()[nt - 1].re;
    let rank = (0..nt).filter(|&i| evd.S()[i].re > 1e-6 * top).count();
    let a = s.tx().steering(theta, phi).a;
    let toward = |q: &Mat<c64>| (a.adjoint() * q * &a).re;
    let out = Output {
        status,
        snr_db,
        draws: args.draws,
        leakage_nats: opt.leakage,
        sum_secrecy_nats: mean,
        sum_secrecy_nats_ci95: ci,
        isotropic_secrecy_nats: iso_mean,
        gap_nats: opt.gap,
        iterations: opt.iterations,
        jamming_power: (0..nt).map(|i| opt.covariance[(i, i)].re).sum(),
        jamming_rank: rank,
        target_jamming_gain: toward(&opt.covariance) / toward(&isotropic),
        crlb: 10.0 * crlb.log10(),
        jamming_covariance: matrix_json(&opt.covariance),
        seconds: started.elapsed().as_secs_f64(),
    };
    if args.json {
        return print_json(&out);
    }
    outln!(
        "best null-space jamming at {snr_db} dB over {} Eve draws ({}, {} steps, {:.2} s)",
        out.draws,
        out.status,
        out.iterations,
        out.seconds
    );
    let certificate = if out.gap_nats.is_finite() {
        format!("certified within {:.1e}", out.gap_nats)
    } else {
        "the unconstrained optimum (no covariance meets CRLB_0)".to_string()
    };
    outln!(
        "  Eve's leakage (training draws)   {:.6} nats, {certificate}",
        out.leakage_nats
    );
    outln!(
        "  sum secrecy (held-out draws)     {:.4} +- {:.4} nats (isotropic {:.4})",
        out.sum_secrecy_nats,
        out.sum_secrecy_nats_ci95,
        out.isotropic_secrecy_nats
    );
    outln!(
        "  jamming power {:.4}, rank {}, gain toward the target {:.3} x isotropic, CRLB {:.1} dB",
        out.jamming_power,
        out.jamming_rank,
        out.target_jamming_gain,
        out.crlb
    );
    Ok(())
}
