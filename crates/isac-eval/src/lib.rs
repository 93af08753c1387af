//! Experiments of the `isac` workspace: Monte Carlo estimators, sweeps, CSV tables, figures
//! and the generated sections of `docs/results.md`.
//!
//! Owns: everything that turns models and bounds into numbers a reader compares with the
//! papers, and the typed `[evaluation]` section of a paper-003 scenario ([`config`]). Must not: define channel models, bounds or solvers (it calls the lower crates), or
//! write anywhere but the output directory it is given.
//!
//! # Example
//!
//! Run one registered experiment at quick size into a directory of your choice, and use a
//! Monte Carlo helper on its own:
//!
//! ```
//! use isac_eval::experiments::{RunContext, find};
//!
//! let out = std::env::temp_dir().join(format!("isac-eval-doc-{}", std::process::id()));
//! // The scenario files the experiments read: here the copies shipped in `isac-channel`.
//! let scenarios = out.join("scenarios");
//! std::fs::create_dir_all(&scenarios).unwrap();
//! let hou2023 = isac_channel::scenario::shipped::HOU2023_TOML;
//! std::fs::write(scenarios.join("hou2023.toml"), hou2023).unwrap();
//! let ctx = RunContext {
//!     quick: true,
//!     ..RunContext::new(out.clone(), scenarios)
//! };
//! let report = (find("hou2023-fig3")?.run)(&ctx)?;
//! assert!(report.files.iter().all(|f| f.exists()));
//! assert!(report.markdown.starts_with("## "));
//!
//! // The Wilson 95% interval of 3 block errors in 100 blocks contains 3%.
//! let (lo, hi) = isac_eval::bler::wilson(3, 100, isac_eval::secrecy::Z95);
//! assert!(lo < 0.03 && 0.03 < hi);
//! # std::fs::remove_dir_all(out).unwrap();
//! # Ok::<(), isac_eval::EvalError>(())
//! ```

pub mod bler;
pub mod config;
mod error;
pub mod experiments;
pub mod held_out;
pub mod mmse;
pub mod output;
mod plot;
pub mod secrecy;

pub use error::EvalError;
