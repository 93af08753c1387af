//! Subcommands of the `isac` binary and their error type.

mod encoders;
mod fim_estimate;
mod jamming_optimum;
mod pcrb;
mod secure_beamforming;
#[cfg(test)]
mod tests;

use std::path::Path;

use clap::{Parser, Subcommand};
use serde::Serialize;

/// Secure integrated sensing and communication: bounds, solvers, learned beamformers.
#[derive(Debug, Parser)]
#[command(name = "isac", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Posterior Cramer-Rao bound of a transmit covariance (Hou & Zhang, eqs. 10-24).
    Pcrb(pcrb::PcrbArgs),
    /// Secure AN beamforming under a PCRB constraint (Hou & Zhang, SDR): proposed, no-an, mrt.
    SecureBeamforming(secure_beamforming::SecureBeamformingArgs),
    /// Neural Fisher-information estimate of the scenario's probing beam vs the analytic FIM
    /// (Tuan et al., eqs. 12-16).
    FimEstimate(fim_estimate::FimEstimateArgs),
    /// FC, DTTE, pure-TT and TT-Q encoders: parameters, FLOPs, bytes, beside Table III.
    Encoders(encoders::EncodersArgs),
    /// The certified best null-space jamming covariance for the scenario's Eve (Tuan et al.,
    /// eq. 28 by Frank-Wolfe), beside isotropic jamming.
    JammingOptimum(jamming_optimum::JammingOptimumArgs),
}

/// A failure of a subcommand: bad input (exit 2) or an internal error (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The user's input is invalid: files, keys, values, sizes.
    #[error("{0}")]
    Input(String),
    /// Something failed that the input does not explain.
    #[error("internal error: {0}")]
    Internal(String),
    /// Standard output was closed by its reader (`isac ... | head`): not an error, the process
    /// stops quietly with exit 0.
    #[error("standard output closed")]
    Closed,
}

/// `println!` that reports a closed standard output as [`CliError::Closed`] instead of
/// panicking; use it in functions returning `Result<_, CliError>`.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::write_line(format_args!($($arg)*))?
    };
}
pub(crate) use outln;

/// One line on standard output.
pub(crate) fn write_line(args: std::fmt::Arguments<'_>) -> Result<(), CliError> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{args}").map_err(|e| match e.kind() {
        std::io::ErrorKind::BrokenPipe => CliError::Closed,
        _ => CliError::Internal(format!("cannot write to standard output: {e}")),
    })
}

impl CliError {
    /// Process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Input(_) => 2,
            Self::Internal(_) => 1,
            Self::Closed => 0,
        }
    }
}

impl From<isac_channel::ChannelError> for CliError {
    fn from(e: isac_channel::ChannelError) -> Self {
        Self::Input(e.to_string())
    }
}

impl From<isac_bounds::BoundsError> for CliError {
    fn from(e: isac_bounds::BoundsError) -> Self {
        match e {
            isac_bounds::BoundsError::Dimension { .. }
            | isac_bounds::BoundsError::InvalidParameter { .. }
            | isac_bounds::BoundsError::Channel(_) => Self::Input(e.to_string()),
            isac_bounds::BoundsError::SingularFim => Self::Internal(e.to_string()),
        }
    }
}

impl From<isac_design::DesignError> for CliError {
    fn from(e: isac_design::DesignError) -> Self {
        match e {
            isac_design::DesignError::Bounds(b) => b.into(),
            isac_design::DesignError::Eigen => Self::Internal(e.to_string()),
            _ => Self::Input(e.to_string()),
        }
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Pcrb(args) => pcrb::run(&args),
        Command::SecureBeamforming(args) => secure_beamforming::run(&args),
        Command::FimEstimate(args) => fim_estimate::run(&args),
        Command::Encoders(args) => encoders::run(&args),
        Command::JammingOptimum(args) => jamming_optimum::run(&args),
    }
}

impl From<isac_sdr::SdrError> for CliError {
    fn from(e: isac_sdr::SdrError) -> Self {
        match e {
            isac_sdr::SdrError::InvalidParameter { .. } => Self::Input(e.to_string()),
            isac_sdr::SdrError::Bounds(b) => b.into(),
            isac_sdr::SdrError::Design(d) => d.into(),
            isac_sdr::SdrError::Setup(_) => Self::Internal(e.to_string()),
        }
    }
}

/// A complex vector or matrix as `{"re": ..., "im": ...}`.
#[derive(Debug, Serialize)]
struct ComplexJson<T> {
    re: T,
    im: T,
}

fn vector_json(x: &faer::Col<faer::c64>) -> ComplexJson<Vec<f64>> {
    ComplexJson {
        re: (0..x.nrows()).map(|i| x[i].re).collect(),
        im: (0..x.nrows()).map(|i| x[i].im).collect(),
    }
}

fn matrix_json(m: &faer::Mat<faer::c64>) -> ComplexJson<Vec<Vec<f64>>> {
    let part = |f: fn(faer::c64) -> f64| {
        (0..m.nrows())
            .map(|i| (0..m.ncols()).map(|j| f(m[(i, j)])).collect())
            .collect()
    };
    ComplexJson {
        re: part(|z| z.re),
        im: part(|z| z.im),
    }
}

/// Reads a JSON file into `T`, as a one-line input error on failure.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Input(format!("cannot read {what} file {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| CliError::Input(format!("invalid {what} file {}: {e}", path.display())))
}

/// Prints one JSON object on stdout.
fn print_json(value: &impl Serialize) -> Result<(), CliError> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| CliError::Internal(e.to_string()))?;
    outln!("{text}");
    Ok(())
}
