//! `isac pcrb --scenario FILE --covariance FILE [--json]`.

use std::path::PathBuf;

use clap::Args;
use isac_bounds::{PcrbModel, PcrbSetting, QuadratureSettings};
use isac_channel::TransmitCovariance;
use isac_channel::scenario::SecureIsacScenario;
use serde::Deserialize;

use super::{CliError, outln, print_json, read_json};

#[derive(Debug, Args)]
pub struct PcrbArgs {
    /// Paper-000 scenario (TOML), e.g. scenarios/hou2023.toml.
    #[arg(long, value_name = "FILE")]
    scenario: PathBuf,
    /// Transmit covariance R in watts: JSON {"re": [[...]], "im": [[...]]}, Nt x Nt.
    #[arg(long, value_name = "FILE")]
    covariance: PathBuf,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// The covariance file's schema.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CovarianceFile {
    re: Vec<Vec<f64>>,
    im: Vec<Vec<f64>>,
}

pub fn run(args: &PcrbArgs) -> Result<(), CliError> {
    let scenario = SecureIsacScenario::from_path(&args.scenario)?;
    let file: CovarianceFile = read_json(&args.covariance, "covariance")?;
    let r = TransmitCovariance::from_parts(&file.re, &file.im)?;
    let nt = scenario.tx().elements();
    if r.dim() != nt {
        return Err(CliError::Input(format!(
            "covariance is {0} x {0} but the scenario has array.tx_antennas = {nt}",
            r.dim()
        )));
    }
    let model = PcrbModel::new(
        PcrbSetting::from_scenario(&scenario),
        QuadratureSettings::default(),
    )?;
    let report = model.report(r.as_ref(), scenario.qbar())?;
    if args.json {
        return print_json(&report);
    }
    outln!(
        "PCRB of the target angle (Hou & Zhang), scenario {}",
        args.scenario.display()
    );
    outln!("  transmit power tr(R)           {:>14.6e} W", r.power());
    outln!(
        "  PCRB, exact (eq. 21)           {:>14.6e} rad^2",
        report.pcrb
    );
    outln!(
        "  upper bound (eq. 23)           {:>14.6e} rad^2",
        report.pcrb_upper
    );
    outln!(
        "  closed form (eq. 24, {:<5})    {:>14.6e} rad^2",
        format!("{:?}", scenario.qbar()).to_lowercase(),
        report.pcrb_upper_closed_form
    );
    outln!(
        "  threshold Gamma                {:>14.6e} rad^2",
        scenario.pcrb_max()
    );
    outln!("  epsilon (eq. 19)               {:>14.6e}", report.epsilon);
    outln!("  Bayesian FIM of (theta, Re beta, Im beta), eq. 20:");
    for row in report.bayesian_fim {
        outln!(
            "    [{:>14.6e} {:>14.6e} {:>14.6e}]",
            row[0],
            row[1],
            row[2]
        );
    }
    Ok(())
}
