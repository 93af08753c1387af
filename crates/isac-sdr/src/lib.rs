//! Secure AN beamforming of Hou & Zhang by semidefinite relaxation.
//!
//! Owns: problem (P2.1R) after Charnes-Cooper for a fixed gamma, in normalised units with the
//! congruence preconditioning of docs/conventions.md (paper 000), solved by clarabel
//! (pure Rust, BLAS/LAPACK from `isac-lapack`); every solve reports clarabel's status,
//! residuals, iterations and time, and infeasible is a result.
//!
//! Also owns the closed-form baselines of paper 003 (MRT-Equal, ZF + AN) and the certified
//! optimum of its null-space jamming for a known distribution of Eve's channel (Frank–Wolfe).
//!
//! Must not: read files or print; choose what to do with a failed solve (the caller decides).
//!
//! # Example
//!
//! The proposed design (SDR, gamma search, rank-one recovery) on the paper-000 scenario meets the
//! power budget and the sensing constraint, and reports clarabel's status:
//!
//! ```
//! use isac_sdr::{Scheme, SolveStatus, run_scheme};
//!
//! let s = isac_channel::scenario::shipped::hou2023()?;
//! let out = run_scheme(&s, Scheme::Proposed, s.pcrb_max(), None)?;
//! assert_eq!(out.status, SolveStatus::Optimal);
//! assert!(out.power <= s.tx_power() * (1.0 + 1e-6));
//! assert!(out.pcrb_upper_closed_form <= s.pcrb_max() * (1.0 + 1e-3));
//! assert!(out.secrecy_rate > 0.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use isac_lapack as _;

mod error;
mod hermitian;
mod jamming_optimum;
pub mod metrics;
mod problem;
mod recovery;
mod schemes;
mod search;

pub use error::SdrError;
pub use jamming_optimum::{
    CrlbConstraint, JammingOptimum, JammingProblem, OptimumSettings, OptimumStatus,
};
pub use problem::{
    Formulation, SdpSolution, SecureBeamformingProblem, Session, SolveStatus, SolverReport,
};
pub use recovery::{Certificate, RecoveredBeams, certify, recover_rank_one};
pub use schemes::{CERTIFICATE_TOLERANCE, Scheme, SchemeOutcome, run_scheme};
pub use search::{Evaluation, SearchOutcome, SearchSettings, search_gamma};
