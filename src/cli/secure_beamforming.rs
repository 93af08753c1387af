//! `isac secure-beamforming --scenario FILE [--pcrb-max GAMMA] [--gamma G]
//! [--scheme proposed|no-an|mrt] [--json]`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use isac_channel::scenario::SecureIsacScenario;
use isac_sdr::{Certificate, Scheme, SolveStatus, SolverReport, run_scheme};
use serde::Serialize;

use super::{CliError, ComplexJson, matrix_json, outln, print_json, vector_json};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SchemeArg {
    Proposed,
    NoAn,
    Mrt,
}

#[derive(Debug, Args)]
pub struct SecureBeamformingArgs {
    /// Paper-000 scenario (TOML), e.g. scenarios/hou2023.toml.
    #[arg(long, value_name = "FILE")]
    scenario: PathBuf,
    /// PCRB threshold Gamma (rad^2); overrides [sensing] pcrb_max.
    #[arg(long, value_name = "GAMMA")]
    pcrb_max: Option<f64>,
    /// Solve this single eavesdropper-SINR level gamma instead of searching (proposed, no-an).
    #[arg(long, value_name = "G")]
    gamma: Option<f64>,
    /// Transmit design.
    #[arg(long, value_enum, default_value = "proposed")]
    scheme: SchemeArg,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// The JSON contract of the command.
#[derive(Debug, Serialize)]
struct Output {
    status: SolveStatus,
    scheme: Scheme,
    gamma: Option<f64>,
    secrecy_rate: f64,
    sdp_secrecy_rate: Option<f64>,
    sinr_user: f64,
    sinr_eve: Vec<f64>,
    pcrb_upper_closed_form: f64,
    pcrb: f64,
    power: f64,
    w: ComplexJson<Vec<f64>>,
    an_covariance: ComplexJson<Vec<Vec<f64>>>,
    an_beams: Vec<ComplexJson<Vec<f64>>>,
    solves: usize,
    seconds: f64,
    solver: Option<SolverReport>,
    certificate: Option<Certificate>,
}

fn positive(name: &str, x: Option<f64>) -> Result<(), CliError> {
    match x {
        Some(v) if !(v.is_finite() && v > 0.0) => Err(CliError::Input(format!(
            "--{name} = {v} is invalid: must be finite and > 0"
        ))),
        _ => Ok(()),
    }
}

pub fn run(args: &SecureBeamformingArgs) -> Result<(), CliError> {
    positive("pcrb-max", args.pcrb_max)?;
    positive("gamma", args.gamma)?;
    let scheme = match args.scheme {
        SchemeArg::Proposed => Scheme::Proposed,
        SchemeArg::NoAn => Scheme::NoAn,
        SchemeArg::Mrt => Scheme::Mrt,
    };
    if scheme == Scheme::Mrt && args.gamma.is_some() {
        return Err(CliError::Input(
            "--gamma applies to --scheme proposed and no-an, not mrt".into(),
        ));
    }
    let scenario = SecureIsacScenario::from_path(&args.scenario)?;
    let pcrb_max = args.pcrb_max.unwrap_or(scenario.pcrb_max());
    let out = run_scheme(&scenario, scheme, pcrb_max, args.gamma)?;
    let output = Output {
        status: out.status,
        scheme,
        gamma: out.gamma,
        secrecy_rate: out.secrecy_rate,
        sdp_secrecy_rate: out.sdp_secrecy_rate,
        sinr_user: out.sinr_user,
        sinr_eve: out.sinr_eve.clone(),
        pcrb_upper_closed_form: out.pcrb_upper_closed_form,
        pcrb: out.pcrb,
        power: out.power,
        w: vector_json(&out.w),
        an_covariance: matrix_json(&out.an_covariance),
        an_beams: out.an_beams.iter().map(vector_json).collect(),
        solves: out.solves,
        seconds: out.seconds,
        solver: out.solver.clone(),
        certificate: out.certificate.clone(),
    };
    if args.json {
        return print_json(&output);
    }
    let db = |x: f64| 10.0 * x.log10();
    outln!(
        "Secure AN beamforming (Hou & Zhang), scheme {:?}, Gamma = {pcrb_max:e} rad^2",
        scheme
    );
    outln!("  status                        {:?}", out.status);
    if let Some(g) = out.gamma {
        outln!("  gamma (eve SINR level)        {g:.6e}");
    }
    outln!(
        "  secrecy rate (recovered)      {:.4} bit/s/Hz",
        out.secrecy_rate
    );
    if let Some(r) = out.sdp_secrecy_rate {
        outln!("  secrecy rate (SDP)            {r:.4} bit/s/Hz");
    }
    outln!(
        "  user SINR                     {:.2} dB",
        db(out.sinr_user)
    );
    for (th, e) in scenario.file().target.angles_deg.iter().zip(&out.sinr_eve) {
        outln!("  eve SINR at {th:>6.1} deg        {:.2} dB", db(*e));
    }
    outln!(
        "  PCRB bound (eq. 24) / exact   {:.4e} / {:.4e} rad^2",
        out.pcrb_upper_closed_form,
        out.pcrb
    );
    outln!(
        "  power                         {:.6e} W, {} AN beam(s)",
        out.power,
        out.an_beams.len()
    );
    if let Some(c) = &out.certificate {
        outln!(
            "  certificate                   {} (eve SINR/gamma {:.6}, power/P {:.6}, PCRB/Gamma {:.6})",
            if c.holds { "holds" } else { "FAILS" },
            c.eve_sinr_ratio,
            c.power_ratio,
            c.pcrb_ratio
        );
    }
    if let Some(r) = &out.solver {
        outln!(
            "  solver (last)                 {} ({} iterations, residuals {:.1e} / {:.1e})",
            r.clarabel_status,
            r.iterations,
            r.primal_residual,
            r.dual_residual
        );
    }
    outln!("  {} SDP solve(s) in {:.3} s", out.solves, out.seconds);
    Ok(())
}
