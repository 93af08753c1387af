//! Secure AN beamforming of Hou & Zhang by semidefinite relaxation.
//!
//! Owns: problem (P2.1R) after Charnes-Cooper for a fixed gamma, in normalised units with the
//! congruence preconditioning of `notes/paper1-secure-isac-pcrb.md`, solved by clarabel
//! (pure Rust, BLAS/LAPACK from `isac-lapack`); every solve reports clarabel's status,
//! residuals, iterations and time, and infeasible is a result.
//!
//! Must not: read files or print; choose what to do with a failed solve (the caller decides).

use isac_lapack as _;

mod error;
mod hermitian;
mod problem;

pub use error::SdrError;
pub use problem::{Formulation, SdpSolution, SecureBeamformingProblem, SolveStatus, SolverReport};
