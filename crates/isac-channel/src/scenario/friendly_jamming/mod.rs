//! Scenario of Tuan et al. (paper 003): learned multicarrier secure ISAC with sensing-guided
//! friendly jamming. Every Table II value plus the choices of docs/conventions.md (paper 003).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{check, check_db, parse_toml, read_toml};
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
    /// `[fim_estimator]`.
    pub fim_estimator: FimEstimatorSection,
    /// `[training]`.
    pub training: TrainingSection,
    /// `[encoder]`.
    pub encoder: EncoderSection,
    /// `[evaluation]`.
    pub evaluation: EvaluationSection,
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
    /// `evaluation.band_subcarriers` slots B, the band's total power `B P_max` is split over the
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

/// How the FIM estimator places its perturbations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PerturbationDesign {
    /// `scale (cos(pi i / D), sin(pi i / D))`: deterministic, well-conditioned least squares.
    Star,
    /// `N(0, scale^2 I)`, seeded, as in the paper.
    Gaussian,
}

/// `[fim_estimator]`: the neural FIM estimator of eqs. (12)-(16).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FimEstimatorSection {
    /// Share of P_max given to the probing (jamming) beam.
    pub probe_power_fraction: f64,
    /// D, the number of perturbations (>= 3 for a 2 x 2 FIM).
    pub perturbations: usize,
    /// Perturbation scale in rad (star radius or Gaussian std).
    pub perturbation_scale_rad: f64,
    /// Perturbation design.
    pub design: PerturbationDesign,
    /// Echo samples per distribution and perturbation, for training and again for evaluation.
    pub samples: usize,
    /// Full-batch Adam steps of the discriminators.
    pub training_steps: usize,
    /// Adam learning rate of the discriminators.
    pub learning_rate: f64,
    /// Hidden width of each discriminator (Table II: 128).
    pub hidden: usize,
}

/// `[training]`: the autoencoder's optimiser (Table II).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSection {
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Batch size.
    pub batch_size: usize,
    /// Stage-1 (communication) iterations of Algorithm 1.
    pub stage1_iterations: usize,
    /// Stage-2 (friendly jamming) iterations of Algorithm 1 per channel realisation: candidate
    /// FJ beams probed, each accepted or rejected by the CRLB rule.
    pub stage2_iterations: usize,
    /// lambda, the CRLB weight of loss eq. (40).
    pub crlb_weight: f64,
    /// Weight of the decoders' cross-entropy beside the rate loss (stage 1).
    pub cross_entropy_weight: f64,
    /// Hidden width of each user's decoder (Table II: 128).
    pub decoder_hidden: usize,
    /// Robust training: every sample of a batch sees the `[impairments]` hardware.
    pub robust: bool,
    /// What stage 2 of Algorithm 1 steers the FJ beam toward.
    pub stage2_objective: Stage2Objective,
}

/// The objective of stage 2 (paper 003, Algorithm 1): where the steered FJ beam points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage2Objective {
    /// Eq. (17): ascend the trace of the angle FIM, `v^H M v` (the paper).
    FisherTrace,
    /// The most jamming power toward the sensed target: `P a / |P a|` in closed form (ours).
    TargetPower,
}

impl Stage2Objective {
    /// The TOML spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::FisherTrace => "fisher_trace",
            Self::TargetPower => "target_power",
        }
    }
}

/// `[evaluation]`: the sweeps of the figures and the held-out draws (our choices, see docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationSection {
    /// SNR axis `P_max / sigma^2` in dB (Figs. 3, 7, 8); training draws P uniformly over its range.
    pub snr_db: Vec<f64>,
    /// CRLB thresholds in dB of rad^2 (Fig. 6); training draws CRLB_0 uniformly over their range.
    pub crlb_db: Vec<f64>,
    /// Powers whose convergence Fig. 5 tracks, dB.
    pub convergence_p_db: Vec<f64>,
    /// Subcarrier counts N of Fig. 7.
    pub subcarrier_counts: Vec<usize>,
    /// Held-out channel realisations per point.
    pub draws: usize,
    /// Share of the power in isotropic artificial noise for DL_AN and ZF_AN.
    pub an_power_fraction: f64,
    /// Bit widths of the TT-Q encoders compared in Fig. 9 and Table III.
    pub tt_q_bits: Vec<u32>,
    /// Communication-only shares of the subcarriers in the non-overlapping allocation (Fig. 11).
    pub comm_fractions: Vec<f64>,
    /// B, the slots of the fixed band of `system.power_model = "fixed_band"` (Fig. 7).
    pub band_subcarriers: usize,
}

/// `[encoder]`: shapes of the FC, DTTE, pure-TT and TT-Q encoders (our choices, see docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncoderSection {
    /// Hidden widths of the FC encoder.
    pub fc_hidden: Vec<usize>,
    /// Inner TT rank of every TT layer.
    pub tt_rank: usize,
    /// Output width of the DTTE's TT core.
    pub dtte_core_width: usize,
    /// Hidden width of the DTTE's two-layer FC head.
    pub dtte_head_hidden: usize,
    /// Bit width of TT-Q.
    pub tt_q_bits: u32,
    /// How the encoder's outputs become the users' beams.
    pub beam_structure: BeamStructure,
}

/// The users' beams of the learned encoders (Fig. 3's ablation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BeamStructure {
    /// User k's beam is its unit zero-forcing direction times a learned complex gain (ours): the
    /// encoder learns powers and constellation points only.
    Zf,
    /// The encoder outputs the complex beams themselves, power-normalised by eq. (27), with no
    /// zero-forcing prior.
    Free,
}

impl BeamStructure {
    /// The label of the figures' CSVs (the TOML spelling).
    pub fn name(self) -> &'static str {
        match self {
            Self::Zf => "zf",
            Self::Free => "free",
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

fn at_least(key: &str, x: usize, min: usize) -> Result<(), ChannelError> {
    if (min..=MAX_COUNT).contains(&x) {
        Ok(())
    } else {
        Err(ChannelError::invalid(
            key,
            x,
            format!("must be in {min}..={MAX_COUNT}"),
        ))
    }
}

/// A non-empty list of sizes, each in `1..=MAX_COUNT`.
fn positive_list(key: &str, list: &[usize]) -> Result<(), ChannelError> {
    if list.is_empty() || list.iter().any(|&x| x == 0 || x > MAX_COUNT) {
        return Err(ChannelError::invalid(
            key,
            format!("{list:?}"),
            format!("needs at least one entry, each in 1..={MAX_COUNT}"),
        ));
    }
    Ok(())
}

/// The largest count any key may hold (sizes, samples, iterations, draws): far above any
/// realistic setting, it turns an absurd value into an error instead of an allocation failure.
pub const MAX_COUNT: usize = 1 << 24;

/// `x` in the open interval (0, 1).
fn open_unit(key: &str, x: f64) -> Result<f64, ChannelError> {
    check(key, x, |x| x > 0.0 && x < 1.0, "must be in (0, 1)")
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
        check(
            "channel.csi_error_var",
            c.csi_error_var,
            |x| x >= 0.0,
            "must be >= 0",
        )?;
        for &rho in &c.csi_error_vars {
            check(
                "channel.csi_error_vars",
                rho,
                |x| x >= 0.0,
                "each must be >= 0",
            )?;
        }
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
        for &v in &i.phase_noise_vars {
            check(
                "impairments.phase_noise_vars",
                v,
                |x| (0.0..=10.0).contains(&x),
                "each must be in [0, 10] rad^2",
            )?;
        }
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

        let f = &file.fim_estimator;
        check(
            "fim_estimator.probe_power_fraction",
            f.probe_power_fraction,
            |x| x > 0.0 && x <= 1.0,
            "must be in (0, 1]",
        )?;
        at_least("fim_estimator.perturbations", f.perturbations, 3)?;
        open_unit(
            "fim_estimator.perturbation_scale_rad",
            f.perturbation_scale_rad,
        )?;
        at_least("fim_estimator.samples", f.samples, 2)?;
        at_least("fim_estimator.training_steps", f.training_steps, 1)?;
        open_unit("fim_estimator.learning_rate", f.learning_rate)?;
        at_least("fim_estimator.hidden", f.hidden, 1)?;

        let t = &file.training;
        open_unit("training.learning_rate", t.learning_rate)?;
        at_least("training.batch_size", t.batch_size, 1)?;
        check(
            "training.crlb_weight",
            t.crlb_weight,
            |x| x >= 0.0,
            "must be >= 0",
        )?;

        at_least("training.decoder_hidden", t.decoder_hidden, 1)?;
        check(
            "training.cross_entropy_weight",
            t.cross_entropy_weight,
            |x| x >= 0.0,
            "must be >= 0",
        )?;

        let v = &file.evaluation;
        at_least("evaluation.band_subcarriers", v.band_subcarriers, 1)?;
        if s.power_model == PowerModel::FixedBand && s.subcarriers > v.band_subcarriers {
            return Err(ChannelError::invalid(
                "system.subcarriers",
                s.subcarriers,
                format!(
                    "must be at most evaluation.band_subcarriers = {} with the fixed-band power \
                     model",
                    v.band_subcarriers
                ),
            ));
        }
        for (key, list) in [
            ("evaluation.snr_db", &v.snr_db),
            ("evaluation.crlb_db", &v.crlb_db),
            ("evaluation.convergence_p_db", &v.convergence_p_db),
        ] {
            if list.is_empty() {
                return Err(ChannelError::invalid(key, "[]", "needs at least one value"));
            }
            for &x in list {
                check_db(key, x)?;
            }
        }
        positive_list("evaluation.subcarrier_counts", &v.subcarrier_counts)?;
        at_least("evaluation.draws", v.draws, 2)?;
        for &x in &v.comm_fractions {
            check(
                "evaluation.comm_fractions",
                x,
                |x| (0.0..=1.0).contains(&x),
                "each must be in [0, 1]",
            )?;
        }
        if v.tt_q_bits.iter().any(|b| !(2..=32).contains(b)) {
            return Err(ChannelError::invalid(
                "evaluation.tt_q_bits",
                format!("{:?}", v.tt_q_bits),
                "each must be in 2..=32",
            ));
        }
        check(
            "evaluation.an_power_fraction",
            v.an_power_fraction,
            |x| (0.0..1.0).contains(&x),
            "must be in [0, 1)",
        )?;

        let n = &file.encoder;
        positive_list("encoder.fc_hidden", &n.fc_hidden)?;
        at_least("encoder.tt_rank", n.tt_rank, 1)?;
        at_least("encoder.dtte_core_width", n.dtte_core_width, 1)?;
        at_least("encoder.dtte_head_hidden", n.dtte_head_hidden, 1)?;
        if !(2..=32).contains(&n.tt_q_bits) {
            return Err(ChannelError::invalid(
                "encoder.tt_q_bits",
                n.tt_q_bits,
                "must be in 2..=32",
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
                p * self.file.evaluation.band_subcarriers as f64
                    / self.file.system.subcarriers as f64
            }
        }
    }

    /// The subcarriers a frame's rates are averaged over: N, or the band's B slots with the
    /// fixed-band power model.
    pub fn rate_slots(&self) -> usize {
        match self.file.system.power_model {
            PowerModel::PerSubcarrier => self.file.system.subcarriers,
            PowerModel::FixedBand => self.file.evaluation.band_subcarriers,
        }
    }

    /// `c = |alpha|^2 / sigma_s^2`, the scale of the angle FIM (eq. 18) per snapshot.
    pub fn fim_scale(&self) -> f64 {
        db_to_linear(self.file.sensing.echo_gain_db) / self.file.sensing.noise_power
    }
}

#[cfg(test)]
mod tests;
