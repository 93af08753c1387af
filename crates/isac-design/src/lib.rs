//! Closed-form transmit designs for secure ISAC, free of any solver.
//!
//! Owns: the users' null-space projector and zero-forcing directions, the paper-003 baselines
//! (ZF + AN, MRT-Equal) and the mixed steered/isotropic jamming covariance, the jamming
//! directions (sensing-guided, eq. 17; toward the target, `P a / |P a|`), the design of impaired
//! hardware, and [`SubcarrierDesign`]: the trait a new paper-003 scheme implements.
//!
//! Must not: solve optimisation problems (that is `isac-sdr`, which pins clarabel), learn, draw
//! channels or read files. It depends on `isac-channel` and `isac-bounds` only, so learned
//! and evaluation code can use it without linking a solver.
//!
//! # Example
//!
//! A design of our own beside ZF_AN: the same beams, all jamming on the beam toward the target.
//!
//! ```
//! use faer::{Mat, c64};
//! use isac_bounds::EchoGeometry;
//! use isac_channel::Upa;
//! use isac_design::{
//!     DesignError, DesignInput, JammingDesign, SubcarrierDesign, ZfAn, target_jamming_direction,
//!     zf_mixed,
//! };
//!
//! struct TowardTarget;
//! impl SubcarrierDesign for TowardTarget {
//!     fn name(&self) -> &str {
//!         "TOWARD_TARGET"
//!     }
//!     fn design(&self, x: &DesignInput<'_>) -> Result<JammingDesign, DesignError> {
//!         let v = target_jamming_direction(x.users, x.geometry, x.target)?;
//!         zf_mixed(x.users, x.power, 0.5, &v, 1.0)
//!     }
//! }
//!
//! let geometry = EchoGeometry { tx: Upa::new(4, 4, 0.5)?, rx: Upa::new(2, 2, 0.5)? };
//! let users = Mat::from_fn(2, 16, |i, j| c64::cis(((i + 1) * j * j) as f64 * 0.3));
//! let input = DesignInput {
//!     users: users.as_ref(),
//!     geometry: &geometry,
//!     target: (0.3, 0.1),
//!     power: 10.0,
//!     noise_power: 1.0,
//!     fim_scale: 1.0,
//!     crlb_max: 1e-3,
//!     subcarrier: 0,
//! };
//! let a = geometry.tx.steering(0.3, 0.1).a;
//! let toward = |d: &JammingDesign| (a.adjoint() * &d.jamming * &a).re;
//! let (ours, zf) = (TowardTarget.design(&input)?, ZfAn { an_fraction: 0.5 }.design(&input)?);
//! // Same jamming power, 14 = Nt - K times more of it toward the target.
//! assert!((toward(&ours) / toward(&zf) - 14.0).abs() < 1e-9);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod baselines;
mod error;
mod jamming;
mod null_space;
mod scheme;

pub use baselines::{JammingDesign, mrt_equal, zf_an, zf_mixed};
pub use error::DesignError;
pub use jamming::{sensing_guided_jamming_direction, target_jamming_direction};
pub use null_space::{null_space_projector, projector_and_zero_forcing, zero_forcing_directions};
pub use scheme::{DesignInput, MrtEqual, SubcarrierDesign, ZfAn};
