/// Every way the SDR layer refuses to work.
#[derive(Debug, thiserror::Error)]
pub enum SdrError {
    /// A parameter is outside its domain.
    #[error("`{name}` = {value} is invalid: {requirement}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// Value given.
        value: String,
        /// What it must satisfy.
        requirement: &'static str,
    },
    /// clarabel rejected the problem data (a bug in the formulation).
    #[error("clarabel rejected the problem: {0}")]
    Setup(String),
    /// An error from the bounds layer.
    #[error(transparent)]
    Bounds(#[from] isac_bounds::BoundsError),
    /// An error from a closed-form design.
    #[error(transparent)]
    Design(#[from] isac_design::DesignError),
}
