//! Secure AN beamforming of Hou & Zhang by semidefinite relaxation.
//!
//! Owns: problem (P2.1R) after Charnes-Cooper for a fixed gamma, in normalised units with the
//! congruence preconditioning of docs/conventions.md (paper 000), solved by clarabel
//! (pure Rust, BLAS/LAPACK from `isac-lapack`); every solve reports clarabel's status,
//! residuals, iterations and time, and infeasible is a result.
//!
//! Also owns the certified optimum of paper 003's null-space jamming for a known distribution
//! of Eve's channel (Frank–Wolfe); paper 003's closed forms live in `isac-design`.
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
//!
//! // A design of one's own through the same report: MRT at half power, which ignores the
//! // sensing constraint and is therefore judged by its closed-form PCRB bound.
//! struct HalfMrt;
//! impl isac_sdr::SecureDesign for HalfMrt {
//!     fn name(&self) -> &str {
//!         "half-mrt"
//!     }
//!     fn design(
//!         &self,
//!         s: &isac_channel::scenario::SecureIsacScenario,
//!         _pcrb_max: f64,
//!         _gamma: Option<f64>,
//!     ) -> Result<isac_sdr::TransmitDesign, isac_sdr::SdrError> {
//!         let h = s.user_channel();
//!         let scale = (0.5 * s.tx_power()).sqrt() / h.norm_l2();
//!         let n = h.nrows();
//!         Ok(isac_sdr::TransmitDesign {
//!             status: SolveStatus::Optimal,
//!             gamma: None,
//!             beams: isac_sdr::RecoveredBeams {
//!                 w: faer::Col::from_fn(n, |i| h[i] * scale),
//!                 an_covariance: faer::Mat::zeros(n, n),
//!                 an_beams: Vec::new(),
//!             },
//!             sdp: None,
//!             enforces_sensing: false,
//!             solves: 0,
//!             solver: None,
//!         })
//!     }
//! }
//! let half = isac_sdr::evaluate_design(&s, &HalfMrt, s.pcrb_max(), None)?;
//! assert_eq!(half.name, "half-mrt");
//! assert!((half.power / s.tx_power() - 0.5).abs() < 1e-12);
//! // Less power toward the user: a lower SINR than full-power MRT.
//! let mrt = run_scheme(&s, Scheme::Mrt, s.pcrb_max(), None)?;
//! assert!(half.sinr_user < mrt.sinr_user);
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
pub use schemes::{
    CERTIFICATE_TOLERANCE, Scheme, SchemeOutcome, SecureDesign, TransmitDesign, evaluate_design,
    run_scheme,
};
pub use search::{Evaluation, SearchOutcome, SearchSettings, search_gamma};
