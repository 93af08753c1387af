//! `cargo xtask`: project automation (the rust-analyzer xtask pattern).
//!
//! - `cargo xtask reproduce [--quick] [--only NAME[,NAME]] [--out DIR] [--seed N] [--list]
//!   [--force] [--shard I/N]`
//! - `cargo xtask merge [--out DIR] [--force] DIR...`
//! - `cargo xtask bench [--json]`

mod bench;
mod reproduce;

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// mimalloc keeps freed pages for reuse: Burn allocates tens of MB per training step, which the
/// system allocator returns to the OS and faults back in (FIM estimator 4.3 s -> 1.9 s). Built
/// without transparent huge pages (the workspace's `no_thp`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Joins the output directories of `reproduce --shard I/N` into the files of a single run.
    Merge(reproduce::MergeArgs),
    /// Runs the release-mode benchmarks of the hot paths.
    Bench(bench::Args),
}

/// The workspace root: the parent of `xtask/` where cargo built this binary, or, for a binary
/// carried to a machine without a Rust toolchain (`scripts/gpu-check.sh --prepare`), the current
/// directory when the build's path is not a checkout there ([`root_of`]).
fn workspace_root() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace");
    root_of(built, std::env::current_dir().ok())
}

/// `built` if it holds the workspace's `scenarios/`, else `cwd` if that does, else `built` (whose
/// missing files then name the path the binary was built at).
fn root_of(built: &Path, cwd: Option<PathBuf>) -> PathBuf {
    let checkout = |dir: &Path| dir.join("scenarios").is_dir();
    if checkout(built) {
        return built.to_path_buf();
    }
    cwd.filter(|dir| checkout(dir))
        .unwrap_or_else(|| built.to_path_buf())
}

/// An error the command line explains (exit 2, as clap's usage errors).
#[derive(Debug)]
struct BadInput(String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// 2 for bad input (unknown experiment, shards that do not fit together), 1 for the rest.
fn exit_code(e: &anyhow::Error) -> u8 {
    use isac_eval::EvalError;
    let bad = e.downcast_ref::<BadInput>().is_some()
        || matches!(
            e.downcast_ref::<EvalError>(),
            Some(EvalError::UnknownExperiment(_) | EvalError::BadShard(_))
        );
    if bad { 2 } else { 1 }
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Task::Reproduce(args) => reproduce::run(&args),
        Task::Merge(args) => reproduce::merge(&args),
        Task::Bench(args) => bench::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Cli, root_of};
    use clap::CommandFactory;

    /// A carried binary finds the checkout it runs in; a built one keeps its own.
    #[test]
    fn the_root_is_the_build_checkout_or_else_the_current_one() {
        let base = std::env::temp_dir().join(format!("xtask-root-{}", std::process::id()));
        let (here, there) = (base.join("here"), base.join("there"));
        std::fs::create_dir_all(here.join("scenarios")).unwrap();
        std::fs::create_dir_all(&there).unwrap();
        let gone = base.join("gone");
        assert_eq!(root_of(&here, Some(there.clone())), here);
        assert_eq!(root_of(&gone, Some(here.clone())), here);
        assert_eq!(root_of(&gone, Some(there)), gone);
        assert_eq!(root_of(&gone, None), gone);
        std::fs::remove_dir_all(base).unwrap();
    }

    /// Every flag of every xtask command appears in the README (in sync with `--help`).
    #[test]
    fn readme_documents_every_xtask_flag() {
        let readme = include_str!("../../README.md");
        for sub in Cli::command().get_subcommands() {
            let name = sub.get_name();
            assert!(readme.contains(&format!("cargo xtask {name}")), "{name}");
            for flag in sub.get_arguments().filter_map(|a| a.get_long()) {
                if flag != "help" {
                    assert!(
                        readme.contains(&format!("`--{flag}")),
                        "cargo xtask {name} --{flag}"
                    );
                }
            }
        }
    }
}
