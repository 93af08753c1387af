//! `isac`: secure integrated sensing and communication, reproduced and extended.
//!
//! This facade re-exports the workspace crates so that a user can depend on one crate;
//! each layer can also be used alone (`isac-channel`, `isac-bounds`, ...).
//! See `docs/architecture.md` for the layering.

pub use isac_bounds as bounds;
pub use isac_channel as channel;
pub use isac_learn as learn;
pub use isac_sdr as sdr;
