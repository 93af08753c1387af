/// Every way a bound computation can be refused.
#[derive(Debug, thiserror::Error)]
pub enum BoundsError {
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
    /// The Fisher information matrix is not positive definite, so no CRB exists.
    #[error("the Fisher information matrix is singular or not positive definite")]
    SingularFim,
    /// An error from the channel layer (bad array or prior).
    #[error(transparent)]
    Channel(#[from] isac_channel::ChannelError),
}

pub(crate) fn check_square(
    what: &'static str,
    rows: usize,
    cols: usize,
    n: usize,
) -> Result<(), BoundsError> {
    if rows == n && cols == n {
        Ok(())
    } else {
        Err(BoundsError::Dimension {
            what,
            expected_rows: n,
            expected_cols: n,
            rows,
            cols,
        })
    }
}
