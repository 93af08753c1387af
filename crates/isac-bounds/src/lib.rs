//! Estimation bounds for secure ISAC.
//!
//! Owns: Gaussian quadrature over the angle prior, the Bayesian Fisher information matrix and
//! the posterior Cramer-Rao bound of Hou & Zhang (eqs. 10-24: exact PCRB, upper bound with
//! `Q` and `epsilon`, closed form with `Qbar`), and the deterministic Fisher information and
//! CRLBs of the UPA echo model of paper 003 (eqs. 8-9, 18), and the closed-form sensing-guided
//! jamming direction in the users' null space (the optimum the learned FJ is measured against).
//!
//! Must not: optimise beams, draw channels or read files. Inputs are arrays, priors and
//! transmit covariances from `isac-channel`; outputs are numbers and small matrices.

mod angle_fim;
mod error;
mod fim;
mod jamming;
mod pcrb;
mod prior_information;
pub mod quadrature;

pub use angle_fim::{EchoGeometry, SensingChannel, angle_fim, angle_fim_waveform, angle_gain_fim};
pub use error::BoundsError;
pub use fim::{crb_diagonal, crlb_scalar, fim_from_operators};
pub use jamming::{
    angle_information_matrix, null_space_projector, sensing_guided_jamming_direction,
};
pub use pcrb::{PcrbModel, PcrbReport, PcrbSetting, QuadratureSettings, qbar};
pub use prior_information::{epsilon, prior_fisher_information};
