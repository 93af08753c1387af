//! Scenario of Hou & Zhang (paper 000): one user, one eavesdropping target at one of K angles.

use std::path::Path;

use faer::{Col, c64};
use serde::{Deserialize, Serialize};

use super::{check, check_db, parse_toml, read_toml};
use crate::units::{db_to_linear, dbm_to_watts};
use crate::{ChannelError, GaussianMixturePrior, Ula};

/// The file as written (`scenarios/hou2023.toml`); see the README for every key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecureIsacFile {
    /// Seed of every random stream derived from this scenario.
    pub seed: u64,
    /// `[array]`.
    pub array: ArraySection,
    /// `[target]`.
    pub target: TargetSection,
    /// `[user]`.
    pub user: UserSection,
    /// `[power]`.
    pub power: PowerSection,
    /// `[sensing]`.
    pub sensing: SensingSection,
}

/// `[array]`: the BS transmit and receive ULAs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArraySection {
    /// Nt.
    pub tx_antennas: usize,
    /// Nr.
    pub rx_antennas: usize,
    /// Delta, in wavelengths.
    pub spacing_wavelengths: f64,
}

/// `[target]`: the candidate target (eavesdropper) angles and their prior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSection {
    /// theta_k in degrees, each in (-90, 90).
    pub angles_deg: Vec<f64>,
    /// p_k, same length, `>= 0`, summing to 1.
    pub probabilities: Vec<f64>,
    /// sigma_theta of the Gaussian-mixture prior (eq. 9), rad.
    pub prior_std_rad: f64,
    /// |alpha_bar|, the smallest RCS magnitude.
    pub rcs_min: f64,
    /// One-way BS-target power loss in dB (`beta0 / r^2 = 10^(-loss/10)`).
    pub path_loss_db: f64,
}

/// `[user]`: line-of-sight user channel `h = sqrt(g_u) a(theta_u)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSection {
    /// theta_u in degrees, in (-90, 90).
    pub angle_deg: f64,
    /// Path loss in dB (`g_u = 10^(-loss/10)`).
    pub path_loss_db: f64,
}

/// `[power]`: transmit power and noise powers, dBm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerSection {
    /// P.
    pub tx_dbm: f64,
    /// sigma^2.
    pub noise_user_dbm: f64,
    /// sigma_E^2.
    pub noise_eve_dbm: f64,
    /// sigma_R^2.
    pub noise_radar_dbm: f64,
}

/// `[sensing]`: the PCRB threshold and the convention of Qbar in eq. (24).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensingSection {
    /// Gamma, rad^2.
    pub pcrb_max: f64,
    /// `"exact"` or `"paper"`.
    pub qbar: QbarConvention,
}

/// Which Qbar eq. (24) uses (see docs/conventions.md (paper 000)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QbarConvention {
    /// The exact sigma_theta -> 0 limit of Q with centred arrays:
    /// `sum_k p_k ||db/dtheta(theta_k)||^2 a_k a_k^H`.
    Exact,
    /// As printed: `rho0 sum_k p_k (cos 2 theta_k + 1) a_k a_k^H`, `rho0 = sum_{n=1}^{Nr} pi^2 Delta^2 (n-1)^2`.
    Paper,
}

/// A validated paper-000 scenario, in SI units and radians.
#[derive(Debug, Clone, PartialEq)]
pub struct SecureIsacScenario {
    file: SecureIsacFile,
    tx: Ula,
    rx: Ula,
    prior: GaussianMixturePrior,
}

fn angle_rad(key: &str, deg: f64) -> Result<f64, ChannelError> {
    check(
        key,
        deg,
        |d| d > -90.0 && d < 90.0,
        "must be in (-90, 90) degrees",
    )
    .map(f64::to_radians)
}

impl SecureIsacScenario {
    /// Reads, parses and validates a scenario file.
    pub fn from_path(path: &Path) -> Result<Self, ChannelError> {
        Self::from_file(read_toml(path)?)
    }

    /// Parses and validates TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ChannelError> {
        Self::from_file(parse_toml(text, Path::new("<string>"))?)
    }

    /// Validates a parsed file: every key in range, lengths consistent.
    pub fn from_file(file: SecureIsacFile) -> Result<Self, ChannelError> {
        let a = &file.array;
        if a.tx_antennas == 0 {
            return Err(ChannelError::invalid(
                "array.tx_antennas",
                0,
                "must be at least 1",
            ));
        }
        if a.rx_antennas == 0 {
            return Err(ChannelError::invalid(
                "array.rx_antennas",
                0,
                "must be at least 1",
            ));
        }
        let d = check(
            "array.spacing_wavelengths",
            a.spacing_wavelengths,
            |x| x > 0.0,
            "must be > 0",
        )?;
        let tx = Ula::new(a.tx_antennas, d)?;
        let rx = Ula::new(a.rx_antennas, d)?;

        let t = &file.target;
        if t.angles_deg.is_empty() {
            return Err(ChannelError::invalid(
                "target.angles_deg",
                "[]",
                "needs at least one angle",
            ));
        }
        if t.probabilities.len() != t.angles_deg.len() {
            return Err(ChannelError::invalid(
                "target.probabilities",
                format!("{:?}", t.probabilities),
                format!(
                    "must have the same length as target.angles_deg ({})",
                    t.angles_deg.len()
                ),
            ));
        }
        let means = t
            .angles_deg
            .iter()
            .map(|&x| angle_rad("target.angles_deg", x))
            .collect::<Result<Vec<_>, _>>()?;
        for &p in &t.probabilities {
            check("target.probabilities", p, |x| x >= 0.0, "each must be >= 0")?;
        }
        check(
            "target.prior_std_rad",
            t.prior_std_rad,
            |x| x > 0.0,
            "must be > 0",
        )?;
        check("target.rcs_min", t.rcs_min, |x| x > 0.0, "must be > 0")?;
        check_db("target.path_loss_db", t.path_loss_db)?;
        let prior = GaussianMixturePrior::new(means, t.probabilities.clone(), t.prior_std_rad)
            .map_err(|e| match e {
                ChannelError::InvalidParameter {
                    name,
                    value,
                    requirement,
                } => ChannelError::InvalidParameter {
                    name: format!("target.{name}"),
                    value,
                    requirement,
                },
                other => other,
            })?;

        angle_rad("user.angle_deg", file.user.angle_deg)?;
        check_db("user.path_loss_db", file.user.path_loss_db)?;
        let p = &file.power;
        for (key, x) in [
            ("power.tx_dbm", p.tx_dbm),
            ("power.noise_user_dbm", p.noise_user_dbm),
            ("power.noise_eve_dbm", p.noise_eve_dbm),
            ("power.noise_radar_dbm", p.noise_radar_dbm),
        ] {
            check_db(key, x)?;
        }
        check(
            "sensing.pcrb_max",
            file.sensing.pcrb_max,
            |x| x > 0.0,
            "must be > 0",
        )?;
        let scenario = Self {
            file,
            tx,
            rx,
            prior,
        };
        // Valid values can still combine out of the double range: |beta_bar|^2 enters the FIM.
        let t = &scenario.file.target;
        if !(scenario.beta_min().powi(2).is_normal() && scenario.eve_noise_term().is_normal()) {
            return Err(ChannelError::invalid(
                "target.rcs_min",
                format!(
                    "{} with target.path_loss_db = {}",
                    t.rcs_min, t.path_loss_db
                ),
                "gives |beta_bar|^2 outside the floating-point range",
            ));
        }
        Ok(scenario)
    }

    /// The file as parsed (for sidecars and reports).
    pub fn file(&self) -> &SecureIsacFile {
        &self.file
    }

    /// Seed of every random stream.
    pub fn seed(&self) -> u64 {
        self.file.seed
    }

    /// Transmit ULA (Nt).
    pub fn tx(&self) -> Ula {
        self.tx
    }

    /// Receive ULA (Nr).
    pub fn rx(&self) -> Ula {
        self.rx
    }

    /// Gaussian-mixture prior of the target angle (eq. 9), radians.
    pub fn prior(&self) -> &GaussianMixturePrior {
        &self.prior
    }

    /// Candidate angles theta_k in radians.
    pub fn target_angles(&self) -> &[f64] {
        self.prior.means()
    }

    /// One-way BS-target power gain `beta0 / r^2`.
    pub fn target_gain(&self) -> f64 {
        db_to_linear(-self.file.target.path_loss_db)
    }

    /// `|beta_bar| = (beta0 / r^2) |alpha_bar|`, the smallest reflection coefficient magnitude.
    pub fn beta_min(&self) -> f64 {
        self.target_gain() * self.file.target.rcs_min
    }

    /// User angle theta_u in radians.
    pub fn user_angle(&self) -> f64 {
        self.file.user.angle_deg.to_radians()
    }

    /// User channel power gain g_u.
    pub fn user_gain(&self) -> f64 {
        db_to_linear(-self.file.user.path_loss_db)
    }

    /// User channel `h = sqrt(g_u) a(theta_u)`.
    pub fn user_channel(&self) -> Col<c64> {
        let g = self.user_gain().sqrt();
        let a = self.tx.steering(self.user_angle());
        Col::from_fn(a.nrows(), |i| a[i] * g)
    }

    /// Transmit power P in watts.
    pub fn tx_power(&self) -> f64 {
        dbm_to_watts(self.file.power.tx_dbm)
    }

    /// User noise sigma^2 in watts.
    pub fn noise_user(&self) -> f64 {
        dbm_to_watts(self.file.power.noise_user_dbm)
    }

    /// Eavesdropper noise sigma_E^2 in watts.
    pub fn noise_eve(&self) -> f64 {
        dbm_to_watts(self.file.power.noise_eve_dbm)
    }

    /// The eavesdropper term of eq. (6), `sigma_E^2 r^2 / beta0`.
    pub fn eve_noise_term(&self) -> f64 {
        self.noise_eve() / self.target_gain()
    }

    /// Radar noise sigma_R^2 in watts.
    pub fn noise_radar(&self) -> f64 {
        dbm_to_watts(self.file.power.noise_radar_dbm)
    }

    /// Gamma, the PCRB threshold in rad^2.
    pub fn pcrb_max(&self) -> f64 {
        self.file.sensing.pcrb_max
    }

    /// Qbar convention of eq. (24).
    pub fn qbar(&self) -> QbarConvention {
        self.file.sensing.qbar
    }
}

#[cfg(test)]
mod tests;
