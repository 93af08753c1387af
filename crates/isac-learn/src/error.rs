use isac_bounds::BoundsError;
use isac_channel::ChannelError;

/// Every way a learned model or estimator can be rejected.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    /// A configuration value is outside its domain.
    #[error("`{name}` = {value} is invalid: {requirement}")]
    InvalidConfig {
        /// Configuration key or argument name.
        name: &'static str,
        /// The offending value.
        value: String,
        /// What the value must satisfy.
        requirement: String,
    },
    /// A tensor or vector has the wrong size.
    #[error("{what}: expected {expected} values, got {got}")]
    Size {
        /// What was passed.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// A device could not hand back tensor data, or training produced non-finite values.
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// A requested device is not compiled in or does not answer.
    #[error("device `{device}` is unavailable: {reason}")]
    DeviceUnavailable {
        /// The device's name (`--device`).
        device: &'static str,
        /// Why, with what to do about it.
        reason: String,
    },
    /// A model could not be saved or loaded.
    #[error("model store: {0}")]
    Store(String),
    /// A bound from `isac-bounds` failed.
    #[error(transparent)]
    Bounds(#[from] BoundsError),
    /// An error from a closed-form design.
    #[error(transparent)]
    Design(#[from] isac_design::DesignError),
    /// A channel model from `isac-channel` failed.
    #[error(transparent)]
    Channel(#[from] ChannelError),
}

impl LearnError {
    pub(crate) fn invalid(
        name: &'static str,
        value: impl std::fmt::Display,
        requirement: impl Into<String>,
    ) -> Self {
        Self::InvalidConfig {
            name,
            value: value.to_string(),
            requirement: requirement.into(),
        }
    }
}
