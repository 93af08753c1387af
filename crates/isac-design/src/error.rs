/// Every way a closed-form design can be refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DesignError {
    /// An input outside the design's domain: its name, its value, and what it must satisfy.
    #[error("`{0}` = {1} is invalid: {2}")]
    InvalidParameter(&'static str, String, &'static str),
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
