//! `isac`: secure integrated sensing and communication, reproduced and extended.
//!
//! This facade re-exports the workspace crates so that a user can depend on one crate;
//! each layer can also be used alone (`isac-channel`, `isac-bounds`, ...).
//! See `docs/architecture.md` for the layering.
//!
//! # Example
//!
//! ```
//! use isac::bounds::{PcrbModel, PcrbSetting, QuadratureSettings};
//! use isac::channel::scenario::SecureIsacScenario;
//! use isac::sdr::{Scheme, run_scheme};
//!
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/hou2023.toml");
//! let s = SecureIsacScenario::from_path(std::path::Path::new(path))?;
//! // The solver crate's design, checked with the bounds crate: the PCRB of R = w w^H + V is
//! // the one the solver reports.
//! let out = run_scheme(&s, Scheme::Proposed, s.pcrb_max(), None)?;
//! let model = PcrbModel::new(PcrbSetting::from_scenario(&s), QuadratureSettings::default())?;
//! let w = &out.w;
//! let r = faer::Mat::from_fn(w.nrows(), w.nrows(), |i, j| {
//!     w[i] * w[j].conj() + out.an_covariance[(i, j)]
//! });
//! assert!((model.pcrb(r.as_ref())? - out.pcrb).abs() <= 1e-9 * out.pcrb);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use isac_bounds as bounds;
pub use isac_channel as channel;
pub use isac_design as design;
pub use isac_learn as learn;
pub use isac_sdr as sdr;
