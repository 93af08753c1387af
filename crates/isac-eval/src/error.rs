use std::path::PathBuf;

/// Every way an experiment can fail.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// Invalid model or scenario input.
    #[error(transparent)]
    Channel(#[from] isac_channel::ChannelError),
    /// A bound could not be computed.
    #[error(transparent)]
    Bounds(#[from] isac_bounds::BoundsError),
    /// An SDR solve could not be set up.
    #[error(transparent)]
    Sdr(#[from] isac_sdr::SdrError),
    /// A closed-form design failed.
    #[error(transparent)]
    Design(#[from] isac_design::DesignError),
    /// A learned model or estimator failed.
    #[error(transparent)]
    Learn(#[from] isac_learn::LearnError),
    /// Writing an output failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// File being written.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// Drawing a figure failed.
    #[error("cannot draw {path}: {message}")]
    Plot {
        /// Figure being drawn.
        path: PathBuf,
        /// What the plotting backend said.
        message: String,
    },
    /// The posterior is too narrow for the grid estimator at this SNR.
    #[error("the MMSE grid would need {points:.3e} points (max {max}): posterior too narrow")]
    GridTooLarge {
        /// Points needed.
        points: f64,
        /// The cap.
        max: usize,
    },
    /// A cached unit (point, model, training log, calibration) could not be written or read
    /// back, or a model an evaluation needs is missing.
    #[error("cache: {0}")]
    Invalid(String),
    /// A `--shard` value that is not `I/N` with `1 <= I <= N`.
    #[error("bad shard {0}")]
    BadShard(String),
    /// Under `--shard`, this part's points are computed and stored; the rest belong to other
    /// parts (not a failure: `cargo xtask merge` joins the parts).
    #[error("shard part stored: {here} points here, {elsewhere} in other parts")]
    ShardPart {
        /// Points computed or found here.
        here: usize,
        /// Points left to the other parts.
        elsewhere: usize,
    },
    /// An experiment name that is not registered.
    #[error("unknown experiment `{0}` (see `cargo xtask reproduce --list`)")]
    UnknownExperiment(String),
}
