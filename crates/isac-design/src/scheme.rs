//! The extension seam of paper 003's per-subcarrier designs: a scheme is anything that turns
//! what the BS knows on one subcarrier ([`DesignInput`]) into user beams and a jamming
//! covariance ([`JammingDesign`]). Our closed forms implement it; so can a user's own design,
//! which `isac-eval` then scores with the same secrecy metric, on the same held-out draws.

use faer::MatRef;
use faer::c64;
use isac_bounds::EchoGeometry;

use crate::{DesignError, JammingDesign, mrt_equal, zf_an};

/// What the BS knows when it designs subcarrier `n` of one draw (paper 003, Sec. II).
#[derive(Debug, Clone, Copy)]
pub struct DesignInput<'a> {
    /// The estimated users' channel `H^(n) + dH^(n)` (K x Nt, row k is `h_k^H`).
    pub users: MatRef<'a, c64>,
    /// The BS's transmit and echo-receive arrays.
    pub geometry: &'a EchoGeometry,
    /// The estimated target angles `(theta, phi)`, rad.
    pub target: (f64, f64),
    /// The subcarrier's transmit power budget `P`.
    pub power: f64,
    /// The receivers' noise power `sigma^2`.
    pub noise_power: f64,
    /// The echo scale the BS believes, snapshots included (`c` of eq. 18 times `T`).
    pub fim_scale: f64,
    /// The operating point's CRLB threshold `CRLB_0` (linear, rad^2).
    pub crlb_max: f64,
    /// The subcarrier index `n`.
    pub subcarrier: usize,
}

/// A paper-003 transmission design, one subcarrier at a time. Implementations must be pure
/// functions of their input (evaluation runs draws in parallel and in any order), and should
/// keep the jamming in the users' null space and within `power` (the evaluation reports what
/// leaks, but does not enforce it).
pub trait SubcarrierDesign: Send + Sync {
    /// The scheme's name in tables and figures.
    fn name(&self) -> &str;

    /// User beams (power included) and the jamming covariance for `input`.
    fn design(&self, input: &DesignInput<'_>) -> Result<JammingDesign, DesignError>;
}

/// ZF + AN (ref. \[12\]) as a [`SubcarrierDesign`]: [`zf_an`] with a fixed AN share.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZfAn {
    /// The share of the power spent on isotropic AN in the null space, in `[0, 1)`.
    pub an_fraction: f64,
}

impl SubcarrierDesign for ZfAn {
    fn name(&self) -> &str {
        "ZF_AN"
    }

    fn design(&self, input: &DesignInput<'_>) -> Result<JammingDesign, DesignError> {
        zf_an(input.users, input.power, self.an_fraction)
    }
}

/// MRT-Equal (ref. \[2\]) as a [`SubcarrierDesign`]: [`mrt_equal`] toward the estimated target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MrtEqual;

impl SubcarrierDesign for MrtEqual {
    fn name(&self) -> &str {
        "MRT_EQUAL"
    }

    fn design(&self, input: &DesignInput<'_>) -> Result<JammingDesign, DesignError> {
        mrt_equal(input.users, input.geometry, input.target, input.power)
    }
}
