//! Learned secure ISAC of paper 003 (Tuan et al.) on Burn 0.22.
//!
//! Owns: the tensor-train linear layer (eqs. 36-37) and its TT-Q quantisation, the FC, DTTE and
//! pure-TT encoders with exact power normalisation (eq. 27), the neural Fisher-information
//! estimator (eqs. 12-16: Donsker-Varadhan discriminators, least squares, PSD projection), and
//! complex tensors with the differentiable secrecy rates (eq. 28) that learning needs.
//! Models run on any Burn `Device`; [`CpuDevice`] names the two CPU backends this crate tests,
//! [`ModelDevice`] every device a user can ask for (the GPU one behind the feature `wgpu`).
//!
//! Owns the typed `[fim_estimator]`, `[training]` and `[encoder]` sections of a paper-003
//! scenario ([`LearnConfig`]).
//!
//! Must not: define channel or echo models (`isac-channel`), compute analytic bounds
//! (`isac-bounds`), or write files and figures (`isac-eval`). Parameters are initialised from
//! seeded ChaCha streams, never from a backend's global RNG, so a seed fixes every weight.
//!
//! # Example
//!
//! A tensor-train layer (eq. 36) on the default CPU device: a 64 x 64 map stored in 4 cores of
//! rank 2 (far fewer parameters than the dense 4160), whose contraction equals the dense `W x + b`:
//!
//! ```
//! use isac_learn::{CpuDevice, TtLinearConfig};
//!
//! let config = TtLinearConfig::new(vec![4, 4, 4], vec![4, 4, 4], 2);
//! let layer = config.init(&mut isac_channel::rng::stream(7, [0, 0, 0]), &CpuDevice::Flex.device())?;
//! assert!(config.parameters() < 64 * 64 + 64);
//! assert!(layer.dense_max_abs_error(8, 1)? < 1e-5);
//! # Ok::<(), isac_learn::LearnError>(())
//! ```

mod adam;
pub mod autoencoder;
mod complex;
pub mod config;
mod cube;
mod device;
mod encoder;
mod error;
pub mod fim_estimator;
mod handover;
mod host;
mod init;
mod packed;
mod power;
mod quantize;
mod tensor;
#[cfg(test)]
mod testing;
mod tt;

pub use adam::{FusedAdam, FusedAdamOptimizer};
pub use complex::{
    ComplexTensor, received_signal, received_signal_composed, secrecy_rate_gaps, secrecy_rates,
    secrecy_rates_composed,
};
pub use config::{
    BeamStructure, EncoderSection, FimEstimatorSection, LearnConfig, PerturbationDesign,
    Stage2Objective, TrainingSection,
};
pub use device::{
    CpuDevice, HOST_THREADS_PER_LANE, KernelLaunches, ModelDevice, WGPU_INIT_TIMEOUT,
};
pub use encoder::{Encoder, EncoderKind, EncoderShape, EncoderSummary, MAX_PARAMETERS};
pub use error::LearnError;
pub use power::normalize_power;
pub use quantize::{quantize_uniform, tt_q_bytes};
pub use tt::{MAX_DENSE_ENTRIES, TtLinear, TtLinearConfig, balanced_factors};

/// Burn's tensor and device types, re-exported so dependents need no direct `burn` dependency.
pub use burn::tensor::{Device, Tensor, TensorData};
