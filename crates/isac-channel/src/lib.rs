//! Physical layer models shared by every other `isac` crate.
//!
//! Owns: antenna arrays (centred ULA and UPA) with steering vectors and their analytic
//! derivatives, the Gaussian-mixture angle prior of Hou & Zhang (eq. 9), the frequency-selective
//! fading of paper 003 (delay line, Rician Eve, CSI and AoA errors) and its hardware impairments
//! (IQ imbalance, Wiener phase noise), unit conversions, and the
//! scenario files (TOML; the physics sections validated into typed values, the sections of
//! other layers kept as written for their owners to type).
//!
//! Must not: compute bounds, solve optimisation problems or learn anything. It depends on
//! no other `isac` crate.
//!
//! # Example
//!
//! ```
//! use isac_channel::Ula;
//! use isac_channel::scenario::SecureIsacScenario;
//!
//! // An 8-antenna half-wavelength ULA: unit-modulus steering vector and its analytic
//! // derivative, which agrees with a central difference.
//! let ula = Ula::new(8, 0.5)?;
//! let (theta, h) = (0.3, 1e-6);
//! let (a, da) = ula.steering_and_derivative(theta);
//! let (plus, minus) = (ula.steering(theta + h), ula.steering(theta - h));
//! for i in 0..8 {
//!     assert!((a[i].norm() - 1.0).abs() < 1e-12);
//!     assert!(((plus[i] - minus[i]) / (2.0 * h) - da[i]).norm() < 1e-6);
//! }
//!
//! // Scenario files are validated into typed values; a bad one is an error naming the key.
//! // The papers' files ship inside this crate (`scenario::shipped`).
//! let text = isac_channel::scenario::shipped::HOU2023_TOML;
//! let s = SecureIsacScenario::from_toml(text)?;
//! assert_eq!(s.tx().elements(), 8);
//! let bad = SecureIsacScenario::from_toml(&text.replace("tx_antennas = 8", "tx_antennas = 0"));
//! assert!(bad.unwrap_err().to_string().contains("array.tx_antennas"));
//! # Ok::<(), isac_channel::ChannelError>(())
//! ```

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

pub use num_complex;
/// Complex double, the scalar of every public API of the workspace: num-complex's `Complex64`,
/// the ecosystem's complex type (and the very type `faer::c64` names), so code that builds a
/// channel or a covariance entry by entry needs num-complex, re-exported here, and no faer.
pub use num_complex::Complex64 as c64;
