//! Scenario of Tuan et al. (paper 003): learned multicarrier secure ISAC with sensing-guided
//! friendly jamming. Every Table II value plus the choices of docs/conventions.md (paper 003).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{at_least, check, check_db, check_each, non_negative, parse_toml, read_toml};
use crate::units::db_to_linear;
use crate::{ChannelError, Upa};

/// The file as written (`scenarios/tuan2025.toml`); see the README for every key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FriendlyJammingFile {
    /// Seed of every random stream derived from this scenario.
    pub seed: u64,
    /// `[system]`.
    pub system: SystemSection,
    /// `[sensing]`.
    pub sensing: SensingSection,
    /// `[channel]`.
    pub channel: ChannelSection,
    /// `[impairments]`.
    pub impairments: ImpairmentSection,
    /// `[fim_estimator]`, kept as written: `isac-learn` types and validates it.
    #[serde(default)]
    pub fim_estimator: toml::Table,
    /// `[training]`, kept as written: `isac-learn` types and validates it.
    #[serde(default)]
    pub training: toml::Table,
    /// `[encoder]`, kept as written: `isac-learn` types and validates it.
    #[serde(default)]
    pub encoder: toml::Table,
    /// `[evaluation]`, kept as written: `isac-eval` types and validates it.
    #[serde(default)]
    pub evaluation: toml::Table,
}

impl FriendlyJammingFile {
    /// The same file on `n` subcarriers: the communication-only share and the delay line are
    /// capped at `n` (the file still needs validating).
    pub fn set_subcarriers(&mut self, n: usize) {
        self.system.subcarriers = n;
        self.system.comm_subcarriers = self.system.comm_subcarriers.min(n);
        self.channel.taps = self.channel.taps.min(n);
    }
}

/// `[system]`: arrays, users, subcarriers, power (Table II).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemSection {
    /// BS transmit UPA `[Mx, My]` (Nt = Mx My).
    pub tx_shape: [usize; 2],
    /// Radar receive UPA `[Mx, My]` (Nr).
    pub rx_shape: [usize; 2],
    /// Element spacing of both arrays, in wavelengths.
    pub spacing_wavelengths: f64,
    /// K, single-antenna users.
    pub users: usize,
    /// Ne, eavesdropper antennas.
    pub eve_antennas: usize,
    /// N, subcarriers.
    pub subcarriers: usize,
    /// How subcarriers are shared between communication and sensing / jamming.
    pub allocation: Allocation,
    /// How the power budget `P_max` is shared over the subcarriers.
    pub power_model: PowerModel,
    /// |N_c|: the first subcarriers carry communication only in the non-overlapping allocation.
    pub comm_subcarriers: usize,
    /// B, the slots of the fixed band of `power_model = "fixed_band"` (Fig. 7).
    pub band_subcarriers: usize,
    /// M, the size of each user's message set (QPSK: 4).
    pub modulation_order: usize,
    /// sigma_n^2 at users and Eve.
    pub noise_power: f64,
    /// P_max in dB over unit noise.
    pub p_max_db: f64,
    /// `[theta, phi]` of the sensing target, degrees (azimuth, elevation).
    pub target_deg: [f64; 2],
}

/// Subcarrier allocation (paper 003 Secs. III and IV).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    /// Every subcarrier carries communication, sensing and jamming (Sec. III).
    Overlapping,
    /// The first `comm_subcarriers` carry communication only, the rest sensing and jamming only
    /// (Sec. IV, eq. 43).
    NonOverlapping,
    /// The first `comm_subcarriers` carry communication only, the rest communication, sensing
    /// and jamming (Fig. 11's "joint carriers"): with no communication-only subcarrier it is
    /// [`Allocation::Overlapping`].
    Hybrid,
}

impl Allocation {
    /// The label of the figures' CSVs (the TOML spelling).
    pub fn name(self) -> &'static str {
        match self {
            Self::Overlapping => "overlapping",
            Self::NonOverlapping => "non_overlapping",
            Self::Hybrid => "hybrid",
        }
    }

    /// Whether subcarrier `n` carries the users' beams when `comm` subcarriers are
    /// communication-only.
    pub fn carries_communication(self, n: usize, comm: usize) -> bool {
        match self {
            Self::Overlapping | Self::Hybrid => true,
            Self::NonOverlapping => n < comm,
        }
    }

    /// Whether subcarrier `n` carries sensing and jamming when `comm` subcarriers are
    /// communication-only.
    pub fn carries_jamming(self, n: usize, comm: usize) -> bool {
        match self {
            Self::Overlapping => true,
            Self::NonOverlapping | Self::Hybrid => n >= comm,
        }
    }
}

/// How `P_max` is shared over the N subcarriers (paper 003, eq. 27 and Fig. 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerModel {
    /// Eq. (27): each frame's mean power per subcarrier is `P_max` (the time-domain power by
    /// Parseval), and rates are averaged over the N subcarriers.
    PerSubcarrier,
    /// Fig. 7's reading: the N subcarriers are occupied inside a fixed band of
    /// `system.band_subcarriers` slots B, the band's total power `B P_max` is split over the
    /// N occupied ones, and rates are averaged over the B slots of the band.
    FixedBand,
}

impl PowerModel {
    /// The label of the figures' CSVs (the TOML spelling).
    pub fn name(self) -> &'static str {
        match self {
            Self::PerSubcarrier => "per_subcarrier",
            Self::FixedBand => "fixed_band",
        }
    }
}

/// `[sensing]`: the echo model and the CRLB constraint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensingSection {
    /// CRLB_0 for both angles, dB of rad^2 (-30 dB = 1e-3 rad^2).
    pub crlb_max_db: f64,
    /// Which CRLB the constraint uses.
    pub crlb: CrlbConvention,
    /// |alpha|^2, the round-trip gain of the target echo, dB.
    pub echo_gain_db: f64,
    /// sigma_s^2, radar receiver noise.
    pub noise_power: f64,
    /// T, echo snapshots per subcarrier in a frame: the frame's angle FIM is T times that of
    /// one snapshot (the neural estimator works per snapshot).
    pub snapshots: usize,
}

/// The CRLB of one angle (docs/conventions.md: the paper ignores the theta-phi coupling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CrlbConvention {
    /// `[J^-1]_ww`, the true bound.
    Joint,
    /// `1 / J_ww`, as printed.
    Paper,
}

/// Eavesdropper channel model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EveModel {
    /// i.i.d. CN(0, 1) entries (Table II).
    Rayleigh,
    /// Line of sight toward the sensing target plus Rayleigh scatter, K-factor `eve_k_factor_db`.
    Rician,
    /// Pure line of sight from the target's direction (offset by `eve_offset_deg` in azimuth):
    /// every antenna sees `a(theta + offset, phi)` times its own random phase, unit path gain.
    Los,
}

impl EveModel {
    /// The label of the figures' CSVs (the TOML spelling).
    pub fn name(self) -> &'static str {
        match self {
            Self::Rayleigh => "rayleigh",
            Self::Rician => "rician",
            Self::Los => "los",
        }
    }
}

/// `[channel]`: fading, CSI and AoA errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSection {
    /// Eve's channel model.
    pub eve_model: EveModel,
    /// Rician K-factor of Eve's channel in dB (used when `eve_model = "rician"`).
    pub eve_k_factor_db: f64,
    /// Eve's azimuth offset from the target, degrees: her line of sight (`rician`, `los`) comes
    /// from `(theta + offset, phi)`.
    pub eve_offset_deg: f64,
    /// L, taps of the delay line generating per-subcarrier channels (L = N: i.i.d. per subcarrier).
    pub taps: usize,
    /// rho, the CSI error variance of the estimated channel.
    pub csi_error_var: f64,
    /// The rho values of the CSI-error sweep (Fig. 8).
    pub csi_error_vars: Vec<f64>,
    /// Standard deviation of the AoA error of theta and phi, degrees.
    pub aoa_error_std_deg: f64,
}

/// `[impairments]`: the impaired hardware of Sec. III-F (Fig. 12 and robust training; every
/// other figure uses ideal hardware).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpairmentSection {
    /// Variances of the per-antenna Wiener phase-noise increment, rad^2 (Fig. 12's axis; robust
    /// training draws one uniformly over their range per sample).
    pub phase_noise_vars: Vec<f64>,
    /// IQ amplitude imbalance epsilon.
    pub iq_epsilon: f64,
    /// IQ phase imbalance, degrees.
    pub iq_phase_deg: f64,
    /// Whether the oscillator phase is common to the array or drawn per antenna.
    pub phase_model: PhaseModel,
}

/// The transmitter's oscillator phase noise (paper 003, Sec. III-F and Fig. 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseModel {
    /// The paper's `y = e^{j phi} h^H x`: one oscillator for the whole array. A common phase
    /// rotates signal, jamming and interference alike, so no rate of eq. (28) changes.
    Common,
    /// An independent Wiener phase per antenna (one oscillator per RF chain): harsher.
    PerAntenna,
}

impl PhaseModel {
    /// The label of the figures' CSVs (the TOML spelling).
    pub fn name(self) -> &'static str {
        match self {
            Self::Common => "common",
            Self::PerAntenna => "per_antenna",
        }
    }
}

/// A validated paper-003 scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct FriendlyJammingScenario {
    file: FriendlyJammingFile,
    tx: Upa,
    rx: Upa,
}

fn upa(key: &str, shape: [usize; 2], spacing: f64) -> Result<Upa, ChannelError> {
    Upa::new(shape[0], shape[1], spacing).map_err(|_| {
        ChannelError::invalid(key, format!("{shape:?}"), "needs >= 1 element per axis")
    })
}

impl FriendlyJammingScenario {
    /// Reads, parses and validates a scenario file.
    pub fn from_path(path: &Path) -> Result<Self, ChannelError> {
        Self::from_file(read_toml(path)?)
    }

    /// Parses and validates TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ChannelError> {
        Self::from_file(parse_toml(text, Path::new("<string>"))?)
    }

    /// Validates a parsed file: every key in range, sizes consistent.
    pub fn from_file(file: FriendlyJammingFile) -> Result<Self, ChannelError> {
        let s = &file.system;
        let d = check(
            "system.spacing_wavelengths",
            s.spacing_wavelengths,
            |x| x > 0.0,
            "must be > 0",
        )?;
        let tx = upa("system.tx_shape", s.tx_shape, d)?;
        let rx = upa("system.rx_shape", s.rx_shape, d)?;
        at_least("system.users", s.users, 1)?;
        if s.users >= tx.elements() {
            return Err(ChannelError::invalid(
                "system.users",
                s.users,
                format!(
                    "must be below Nt = {} so that the users' null space is not empty",
                    tx.elements()
                ),
            ));
        }
        at_least("system.eve_antennas", s.eve_antennas, 1)?;
        at_least("system.subcarriers", s.subcarriers, 1)?;
        if s.comm_subcarriers > s.subcarriers {
            return Err(ChannelError::invalid(
                "system.comm_subcarriers",
                s.comm_subcarriers,
                format!("must be at most system.subcarriers = {}", s.subcarriers),
            ));
        }
        at_least("system.modulation_order", s.modulation_order, 2)?;
        check(
            "system.noise_power",
            s.noise_power,
            |x| x > 0.0,
            "must be > 0",
        )?;
        check_db("system.p_max_db", s.p_max_db)?;
        check(
            "system.target_deg",
            s.target_deg[0],
            |x| x > -90.0 && x < 90.0,
            "theta must be in (-90, 90) degrees",
        )?;
        check(
            "system.target_deg",
            s.target_deg[1],
            |x| x > -90.0 && x < 90.0,
            "phi must be in (-90, 90) degrees",
        )?;

        let e = &file.sensing;
        check_db("sensing.crlb_max_db", e.crlb_max_db)?;
        check_db("sensing.echo_gain_db", e.echo_gain_db)?;
        check(
            "sensing.noise_power",
            e.noise_power,
            |x| x > 0.0,
            "must be > 0",
        )?;

        at_least("sensing.snapshots", e.snapshots, 1)?;

        let c = &file.channel;
        check_db("channel.eve_k_factor_db", c.eve_k_factor_db)?;
        check(
            "channel.eve_offset_deg",
            c.eve_offset_deg + s.target_deg[0],
            |x| x > -90.0 && x < 90.0,
            "Eve's azimuth theta + offset must be in (-90, 90) degrees",
        )?;
        at_least("channel.taps", c.taps, 1)?;
        if c.taps > s.subcarriers {
            return Err(ChannelError::invalid(
                "channel.taps",
                c.taps,
                format!("must be at most system.subcarriers = {}", s.subcarriers),
            ));
        }
        non_negative("channel.csi_error_var", c.csi_error_var)?;
        check_each(
            "channel.csi_error_vars",
            &c.csi_error_vars,
            |x| x >= 0.0,
            "each must be >= 0",
        )?;
        check(
            "channel.aoa_error_std_deg",
            c.aoa_error_std_deg,
            |x| (0.0..90.0).contains(&x),
            "must be in [0, 90) degrees",
        )?;

        let i = &file.impairments;
        if i.phase_noise_vars.is_empty() {
            return Err(ChannelError::invalid(
                "impairments.phase_noise_vars",
                "[]",
                "needs at least one value",
            ));
        }
        check_each(
            "impairments.phase_noise_vars",
            &i.phase_noise_vars,
            |x| (0.0..=10.0).contains(&x),
            "each must be in [0, 10] rad^2",
        )?;
        check(
            "impairments.iq_epsilon",
            i.iq_epsilon,
            |x| (0.0..1.0).contains(&x),
            "must be in [0, 1)",
        )?;
        check(
            "impairments.iq_phase_deg",
            i.iq_phase_deg,
            |x| x.abs() < 90.0,
            "must be in (-90, 90) degrees",
        )?;

        at_least("system.band_subcarriers", s.band_subcarriers, 1)?;
        if s.power_model == PowerModel::FixedBand && s.subcarriers > s.band_subcarriers {
            return Err(ChannelError::invalid(
                "system.subcarriers",
                s.subcarriers,
                format!(
                    "must be at most system.band_subcarriers = {} with the fixed-band power \
                     model",
                    s.band_subcarriers
                ),
            ));
        }
        Ok(Self { file, tx, rx })
    }

    /// The file as parsed (for sidecars and reports).
    pub fn file(&self) -> &FriendlyJammingFile {
        &self.file
    }

    /// Seed of every random stream.
    pub fn seed(&self) -> u64 {
        self.file.seed
    }

    /// BS transmit UPA (Nt elements).
    pub fn tx(&self) -> Upa {
        self.tx
    }

    /// Radar receive UPA (Nr elements).
    pub fn rx(&self) -> Upa {
        self.rx
    }

    /// K.
    pub fn users(&self) -> usize {
        self.file.system.users
    }

    /// N, subcarriers.
    pub fn subcarriers(&self) -> usize {
        self.file.system.subcarriers
    }

    /// Ne, Eve's antennas.
    pub fn eve_antennas(&self) -> usize {
        self.file.system.eve_antennas
    }

    /// M, the size of each user's message set.
    pub fn modulation_order(&self) -> usize {
        self.file.system.modulation_order
    }

    /// `sigma_n^2` at the users and Eve.
    pub fn noise_power(&self) -> f64 {
        self.file.system.noise_power
    }

    /// Which CRLB the sensing constraint bounds.
    pub fn crlb_convention(&self) -> CrlbConvention {
        self.file.sensing.crlb
    }

    /// Eve's channel model.
    pub fn eve_model(&self) -> EveModel {
        self.file.channel.eve_model
    }

    /// rho, the variance of the BS's CSI error.
    pub fn csi_error_var(&self) -> f64 {
        self.file.channel.csi_error_var
    }

    /// P_max, linear (unit noise).
    pub fn p_max(&self) -> f64 {
        db_to_linear(self.file.system.p_max_db)
    }

    /// `(theta, phi)` of the target in radians.
    pub fn target(&self) -> (f64, f64) {
        let [t, p] = self.file.system.target_deg;
        (t.to_radians(), p.to_radians())
    }

    /// CRLB_0 in rad^2.
    pub fn crlb_max(&self) -> f64 {
        db_to_linear(self.file.sensing.crlb_max_db)
    }

    /// T, echo snapshots per subcarrier.
    pub fn snapshots(&self) -> f64 {
        self.file.sensing.snapshots as f64
    }

    /// The mean power per occupied subcarrier of a frame at `P_max / sigma^2 = p_db` (eq. 27):
    /// `P_max` itself, or `P_max B / N` with the fixed-band power model.
    pub fn subcarrier_power(&self, p_db: f64) -> f64 {
        let p = db_to_linear(p_db);
        match self.file.system.power_model {
            PowerModel::PerSubcarrier => p,
            PowerModel::FixedBand => {
                p * self.file.system.band_subcarriers as f64 / self.file.system.subcarriers as f64
            }
        }
    }

    /// The subcarriers a frame's rates are averaged over: N, or the band's B slots with the
    /// fixed-band power model.
    pub fn rate_slots(&self) -> usize {
        match self.file.system.power_model {
            PowerModel::PerSubcarrier => self.file.system.subcarriers,
            PowerModel::FixedBand => self.file.system.band_subcarriers,
        }
    }

    /// `c = |alpha|^2 / sigma_s^2`, the scale of the angle FIM (eq. 18) per snapshot.
    pub fn fim_scale(&self) -> f64 {
        db_to_linear(self.file.sensing.echo_gain_db) / self.file.sensing.noise_power
    }
}

#[cfg(test)]
mod tests;
