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
    for (package, bench) in [("isac-bounds", "pcrb"), ("isac-sdr", "sdr")] {
        let status = Command::new(&cargo)
            .current_dir(workspace_root())
            .args(["bench", "-p", package, "--bench", bench])
            .status()
            .context("running cargo bench")?;
        if !status.success() {
            bail!("cargo bench -p {package} failed");
        }
    }
    // The whole Fig. 4 sweep, timed in-process at full size.
    let out = std::env::temp_dir().join(format!("isac-bench-{}", std::process::id()));
    let ctx = isac_eval::experiments::RunContext {
        out_dir: out.clone(),
        scenarios_dir: workspace_root().join("scenarios"),
        quick: false,
        seed: None,
        progress: &isac_eval::experiments::Silent,
    };
    let started = std::time::Instant::now();
    (isac_eval::experiments::find("hou2023-fig4")?.run)(&ctx)?;
    let fig4 = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&out);
    println!("\nGoals (release, this machine):");
    println!(
        "  exact PCRB of one covariance          <= 0.2 ms   (criterion: pcrb_exact_paper_setting above)"
    );
    println!(
        "  median SDP solve                      <= 5 ms     (criterion: sdr_paper_setting/one SDP solve)"
    );
    println!(
        "  one Gamma optimisation                <= 0.3 s    (criterion: sdr_paper_setting/one Gamma optimisation)"
    );
    println!(
        "  whole Fig. 4 sweep (rayon, {} threads) <= 2 s      measured {fig4:.2} s",
        rayon_threads()
    );
    Ok(())
}

fn rayon_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
