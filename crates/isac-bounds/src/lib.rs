//! Estimation bounds for secure ISAC.
//!
//! Owns: Gaussian quadrature over the angle prior, the Bayesian Fisher information matrix and
//! the posterior Cramer-Rao bound of Hou & Zhang (eqs. 10-24: exact PCRB, upper bound with
//! `Q` and `epsilon`, closed form with `Qbar`), and the deterministic Fisher information and
//! CRLBs of the UPA echo model of paper 003 (eqs. 8-9, 18), with the angle-information matrix
//! whose top null-space eigenvector is the sensing-guided jamming direction (`isac-design`).
//!
//! Must not: optimise beams, draw channels or read files. Inputs are arrays, priors and
//! transmit covariances from `isac-channel`; outputs are numbers and small matrices.
//!
//! # Example
//!
//! The PCRB (eq. 21) of isotropic transmission on the paper-000 scenario, below its upper bound
//! (eq. 23) and below the prior's variance (data never lose information):
//!
//! ```
//! use faer::{Mat, c64};
//! use isac_bounds::{PcrbModel, PcrbSetting, QuadratureSettings};
//!
//! let s = isac_channel::scenario::shipped::hou2023()?;
//! let model = PcrbModel::new(PcrbSetting::from_scenario(&s), QuadratureSettings::default())?;
//! let n = s.tx().elements();
//! let p = s.tx_power() / n as f64;
//! let r = Mat::<c64>::from_fn(n, n, |i, j| c64::new(if i == j { p } else { 0.0 }, 0.0));
//! let pcrb = model.pcrb(r.as_ref())?;
//! assert!(pcrb > 0.0 && pcrb <= model.pcrb_upper(r.as_ref())?);
//! assert!(pcrb <= s.prior().std().powi(2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod angle_fim;
mod error;
mod fim;
mod pcrb;
mod prior_information;
pub mod quadrature;

pub use angle_fim::{
    EchoGeometry, SensingChannel, angle_fim, angle_fim_waveform, angle_gain_fim,
    angle_information_matrix,
};
pub use error::BoundsError;
pub use fim::{crb_diagonal, crlb_scalar, fim_from_operators};
pub use pcrb::{PcrbModel, PcrbReport, PcrbSetting, QuadratureSettings, qbar};
pub use prior_information::{epsilon, prior_fisher_information};
