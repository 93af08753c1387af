/// Every way a closed-form design can be refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DesignError {
    /// A matrix has the wrong shape for the arrays it is used with.
    #[error("{what} must be {expected_rows} x {expected_cols}, got {rows} x {cols}")]
    Dimension {
        /// Which matrix.
        what: &'static str,
        /// Rows required.
        expected_rows: usize,
        /// Columns required.
        expected_cols: usize,
        /// Rows given.
        rows: usize,
        /// Columns given.
        cols: usize,
    },
    /// A numerical parameter is outside its domain.
    #[error("`{name}` = {value} is invalid: {requirement}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// Value given.
        value: String,
        /// What it must satisfy.
        requirement: &'static str,
    },
    /// An eigendecomposition did not converge (non-finite entries).
    #[error("the eigendecomposition of a Hermitian matrix failed (non-finite entries)")]
    Eigen,
    /// A design defined outside this crate refused its input.
    #[error("design `{scheme}`: {reason}")]
    Scheme {
        /// The design's name.
        scheme: String,
        /// Why.
        reason: String,
    },
    /// An error from the bounds layer.
    #[error(transparent)]
    Bounds(#[from] isac_bounds::BoundsError),
}
