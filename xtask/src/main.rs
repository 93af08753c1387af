//! `cargo xtask`: project automation (the rust-analyzer xtask pattern).
//!
//! - `cargo xtask reproduce [--quick] [--only NAME[,NAME]] [--out DIR] [--seed N] [--list]`
//! - `cargo xtask bench`

mod reproduce;

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "xtask", about = "isac project automation")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Runs every figure and table of both papers into target/reproduce/ and docs/results.md.
    Reproduce(reproduce::Args),
    /// Runs the release-mode benchmarks of the hot paths.
    Bench,
}

/// The workspace root (parent of `xtask/`).
fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Task::Reproduce(args) => reproduce::run(&args),
        Task::Bench => bench(),
    }
}

fn bench() -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["bench", "-p", "isac-bounds", "--bench", "pcrb"])
        .status()
        .context("running cargo bench")?;
    if !status.success() {
        bail!("cargo bench failed");
    }
    println!(
        "\nGoals (issue: Workspace foundation): exact PCRB of one covariance <= 0.2 ms (release)."
    );
    Ok(())
}
