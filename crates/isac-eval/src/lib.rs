//! Experiments of the `isac` workspace: Monte Carlo estimators, sweeps, CSV tables, figures
//! and the generated sections of `docs/results.md`.
//!
//! Owns: everything that turns models and bounds into numbers a reader compares with the
//! papers. Must not: define channel models, bounds or solvers (it calls the lower crates), or
//! write anywhere but the output directory it is given.

pub mod bler;
mod error;
pub mod experiments;
pub mod mmse;
pub mod output;
mod plot;
pub mod secrecy;

pub use error::EvalError;
