//! `isac fim-estimate --scenario FILE [--device DEVICE] [--json]`: the neural FIM estimator (paper 003,
//! eqs. 12-16) against the analytic FIM of the same probing beam.

use std::path::PathBuf;

use clap::Args;
use faer::Mat;
use isac_bounds::{crb_diagonal, crlb_scalar};
use isac_channel::scenario::FriendlyJammingScenario;
use isac_learn::fim_estimator::{FimEstimatorSettings, Probe, estimate, relative_frobenius_error};
use isac_learn::{LearnConfig, LearnError, ModelDevice};
use serde::Serialize;

use super::{CliError, ComplexJson, outln, print_json, vector_json};

#[derive(Debug, Args)]
pub struct FimEstimateArgs {
    /// Paper-003 scenario (TOML), e.g. scenarios/tuan2025.toml.
    #[arg(long, value_name = "FILE")]
    scenario: PathBuf,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// The device the discriminators train on: flex (default), ndarray, or wgpu (a GPU; build
    /// with `--features wgpu`).
    #[arg(long, value_name = "DEVICE", default_value = "flex")]
    device: ModelDevice,
}

/// CRLBs of (theta, phi): `theta`, `phi` are the paper's `1 / J_ww` (eq. 9); `joint` holds
/// `[J^-1]_ww` (null when J is singular).
#[derive(Debug, Serialize)]
struct Crlb {
    theta: f64,
    phi: f64,
    joint: Option<Joint>,
}

#[derive(Debug, Serialize)]
struct Joint {
    theta: f64,
    phi: f64,
}

#[derive(Debug, Serialize)]
struct Output {
    device: &'static str,
    theta_rad: f64,
    phi_rad: f64,
    tx_shape: [usize; 2],
    rx_shape: [usize; 2],
    spacing_wavelengths: f64,
    beam: ComplexJson<Vec<f64>>,
    fim_scale: f64,
    analytic_fim: [[f64; 2]; 2],
    estimated_fim: [[f64; 2]; 2],
    relative_error: f64,
    quadratic_approximation_error: f64,
    crlb_analytic: Crlb,
    crlb_estimated: Crlb,
    perturbations: usize,
    perturbation_vectors: Vec<[f64; 2]>,
    divergences: Vec<f64>,
    exact_divergences: Vec<f64>,
    samples: usize,
    training_steps: usize,
    seconds: f64,
}

fn crlb(j: [[f64; 2]; 2]) -> Crlb {
    let m = Mat::from_fn(2, 2, |a, b| j[a][b]);
    let scalar = crlb_scalar(m.as_ref());
    Crlb {
        theta: scalar[0],
        phi: scalar[1],
        joint: crb_diagonal(m.as_ref()).ok().map(|d| Joint {
            theta: d[0],
            phi: d[1],
        }),
    }
}

fn learn_error(e: LearnError) -> CliError {
    match e {
        LearnError::InvalidConfig { .. }
        | LearnError::Size { .. }
        | LearnError::Channel(_)
        | LearnError::DeviceUnavailable { .. } => CliError::Input(e.to_string()),
        LearnError::Bounds(b) => b.into(),
        LearnError::Design(d) => d.into(),
        LearnError::Numerical(_) | LearnError::Store(_) => CliError::Internal(e.to_string()),
    }
}

pub fn run(args: &FimEstimateArgs) -> Result<(), CliError> {
    let device = args.device.open().map_err(learn_error)?;
    let scenario = FriendlyJammingScenario::from_path(&args.scenario)?;
    let section = LearnConfig::from_scenario(&scenario)
        .map_err(learn_error)?
        .fim_estimator;
    let probe = Probe::new(&scenario, section.probe_power_fraction).map_err(learn_error)?;
    let settings = FimEstimatorSettings::new(&section, scenario.seed());
    let truth = probe.analytic_fim().map_err(learn_error)?;
    let e = estimate(&probe, &settings, &device).map_err(learn_error)?;
    let analytic = [
        [truth[(0, 0)], truth[(0, 1)]],
        [truth[(1, 0)], truth[(1, 1)]],
    ];
    let out = Output {
        device: args.device.name(),
        theta_rad: probe.theta,
        phi_rad: probe.phi,
        tx_shape: probe.geometry.tx.shape(),
        rx_shape: probe.geometry.rx.shape(),
        spacing_wavelengths: probe.geometry.tx.spacing(),
        beam: vector_json(&probe.beam),
        fim_scale: probe.fim_scale(),
        analytic_fim: analytic,
        estimated_fim: e.fim,
        relative_error: relative_frobenius_error(&e.fim, &truth),
        quadratic_approximation_error: relative_frobenius_error(&e.quadratic_fim, &truth),
        crlb_analytic: crlb(analytic),
        crlb_estimated: crlb(e.fim),
        perturbations: settings.perturbations,
        perturbation_vectors: e.perturbations.clone(),
        divergences: e.divergences.clone(),
        exact_divergences: e.exact_divergences.clone(),
        samples: settings.samples,
        training_steps: settings.training_steps,
        seconds: e.seconds,
    };
    if args.json {
        return print_json(&out);
    }
    outln!(
        "angle FIM at (theta, phi) = ({:.4}, {:.4}) rad, {} perturbations x {} samples, {:.2} s",
        out.theta_rad,
        out.phi_rad,
        out.perturbations,
        out.samples,
        out.seconds
    );
    for (name, j) in [
        ("analytic", out.analytic_fim),
        ("estimated", out.estimated_fim),
    ] {
        outln!(
            "  {name:<9} [[{:.4e}, {:.4e}], [{:.4e}, {:.4e}]]",
            j[0][0],
            j[0][1],
            j[1][0],
            j[1][1]
        );
    }
    outln!(
        "  relative Frobenius error {:.3} (quadratic approximation alone {:.4})",
        out.relative_error,
        out.quadratic_approximation_error
    );
    for (name, c) in [
        ("analytic", &out.crlb_analytic),
        ("estimated", &out.crlb_estimated),
    ] {
        let joint = c.joint.as_ref().map_or_else(
            || "singular".to_string(),
            |j| format!("{:.3e} / {:.3e}", j.theta, j.phi),
        );
        outln!(
            "  CRLB {name:<9} 1/J: {:.3e} / {:.3e} rad^2, joint: {joint}",
            c.theta,
            c.phi
        );
    }
    Ok(())
}
