//! Physical layer models shared by every other `isac` crate.
//!
//! Owns: antenna arrays (centred ULA and UPA) with steering vectors and their analytic
//! derivatives, the Gaussian-mixture angle prior of Hou & Zhang (eq. 9), the frequency-selective
//! fading of paper 003 (delay line, Rician Eve, CSI and AoA errors) and its hardware impairments
//! (IQ imbalance, Wiener phase noise), unit conversions, and the
//! scenario files (TOML, validated into typed values).
//!
//! Must not: compute bounds, solve optimisation problems or learn anything. It depends on
//! no other `isac` crate.

mod array;
mod covariance;
mod error;
pub mod fading;
pub mod impairments;
mod prior;
pub mod rng;
pub mod scenario;
pub mod units;

pub use array::{MAX_ELEMENTS, Ula, Upa, UpaSteering};
pub use covariance::{HERMITIAN_TOLERANCE, PSD_TOLERANCE, TransmitCovariance};
pub use error::ChannelError;
pub use prior::GaussianMixturePrior;

/// Complex double, the scalar of every channel vector (same type as `faer::c64`).
pub use faer::c64;
