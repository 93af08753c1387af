use std::path::PathBuf;

/// Every way a channel model or scenario can be rejected.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// A parameter is outside its domain; `name` is the scenario key or argument name.
    #[error("`{name}` = {value} is invalid: {requirement}")]
    InvalidParameter {
        /// Scenario key (`target.prior_std_rad`) or argument name.
        name: String,
        /// The offending value as written.
        value: String,
        /// What the value must satisfy.
        requirement: String,
    },
    /// The scenario file could not be read.
    #[error("cannot read scenario file {path}: {source}")]
    Io {
        /// Path as given.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The scenario file is not valid TOML or does not match the schema (unknown or missing key).
    #[error("invalid scenario {path}: {message}")]
    Parse {
        /// Path as given (or `<string>`).
        path: PathBuf,
        /// One-line description with the line number.
        message: String,
    },
    /// A section another layer owns does not match that layer's schema.
    #[error("invalid scenario section [{section}]: {message}")]
    Section {
        /// The section's name.
        section: String,
        /// One-line description (the unknown, missing or mistyped key).
        message: String,
    },
}

impl ChannelError {
    /// An [`Self::InvalidParameter`] naming `name`, its `value` and the `requirement`.
    pub fn invalid(
        name: impl Into<String>,
        value: impl std::fmt::Display,
        requirement: impl Into<String>,
    ) -> Self {
        Self::InvalidParameter {
            name: name.into(),
            value: value.to_string(),
            requirement: requirement.into(),
        }
    }
}
