//! The learning layer's sections of a paper-003 scenario file, typed and validated here:
//! `[fim_estimator]` (the neural FIM estimator), `[training]` (Algorithm 1's optimiser) and
//! `[encoder]` (the encoders' shapes). `isac-channel` keeps them as written, so the physics
//! layer never learns; one TOML file still describes the whole scenario.

use isac_channel::scenario::{
    FriendlyJammingScenario, at_least, check, non_negative, open_unit, parse_section, positive_list,
};
use serde::{Deserialize, Serialize};

use crate::LearnError;

/// `[fim_estimator]`, `[training]` and `[encoder]` of a scenario, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnConfig {
    /// `[fim_estimator]`.
    pub fim_estimator: FimEstimatorSection,
    /// `[training]`.
    pub training: TrainingSection,
    /// `[encoder]`.
    pub encoder: EncoderSection,
}

impl LearnConfig {
    /// The scenario's three sections, parsed and validated.
    pub fn from_scenario(s: &FriendlyJammingScenario) -> Result<Self, LearnError> {
        let f = s.file();
        let config = Self {
            fim_estimator: parse_section("fim_estimator", &f.fim_estimator)?,
            training: parse_section("training", &f.training)?,
            encoder: parse_section("encoder", &f.encoder)?,
        };
        config.validate()?;
        Ok(config)
    }

    /// Every key in range (an error names the key and its value).
    pub fn validate(&self) -> Result<(), LearnError> {
        let f = &self.fim_estimator;
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

        let t = &self.training;
        open_unit("training.learning_rate", t.learning_rate)?;
        at_least("training.batch_size", t.batch_size, 1)?;
        non_negative("training.crlb_weight", t.crlb_weight)?;
        at_least("training.decoder_hidden", t.decoder_hidden, 1)?;
        non_negative("training.cross_entropy_weight", t.cross_entropy_weight)?;

        let n = &self.encoder;
        positive_list("encoder.fc_hidden", &n.fc_hidden)?;
        at_least("encoder.tt_rank", n.tt_rank, 1)?;
        at_least("encoder.dtte_core_width", n.dtte_core_width, 1)?;
        at_least("encoder.dtte_head_hidden", n.dtte_head_hidden, 1)?;
        if !(2..=32).contains(&n.tt_q_bits) {
            return Err(LearnError::invalid(
                "encoder.tt_q_bits",
                n.tt_q_bits,
                "must be in 2..=32",
            ));
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = isac_channel::scenario::shipped::TUAN2025_TOML;

    /// The error of the learning sections of `text` (whose physics must be valid).
    fn error_of(text: &str) -> String {
        let s = FriendlyJammingScenario::from_toml(text).expect("valid physics");
        LearnConfig::from_scenario(&s).unwrap_err().to_string()
    }

    #[test]
    fn the_shipped_sections_are_table_ii() {
        let s = FriendlyJammingScenario::from_toml(SHIPPED).unwrap();
        let c = LearnConfig::from_scenario(&s).unwrap();
        assert_eq!(c.training.batch_size, 128);
        assert_eq!(c.training.learning_rate, 1e-3);
        assert_eq!(c.training.decoder_hidden, 128);
        assert_eq!(c.fim_estimator.perturbations, 4);
        assert_eq!(c.fim_estimator.hidden, 128);
        assert_eq!(c.encoder.beam_structure, BeamStructure::Zf);
        assert_eq!(c.training.stage2_objective, Stage2Objective::FisherTrace);
    }

    #[test]
    fn unknown_missing_and_misspelt_keys_name_the_section_and_key() {
        for (from, to, named) in [
            ("hidden = 128", "hidden = 128\nwidth = 3", "width"),
            ("tt_rank = 8\n", "", "tt_rank"),
            ("design = \"star\"", "design = \"grid\"", "grid"),
            (
                "beam_structure = \"zf\"",
                "beam_structure = \"ZF\"",
                "`free`",
            ),
            (
                "stage2_objective = \"fisher_trace\"",
                "stage2_objective = \"fisher\"",
                "`target_power`",
            ),
        ] {
            assert!(SHIPPED.contains(from), "{from}");
            let msg = error_of(&SHIPPED.replacen(from, to, 1));
            assert!(msg.contains(named) && !msg.contains('\n'), "{msg}");
            assert!(msg.contains("section ["), "{msg}");
        }
    }

    #[test]
    fn out_of_range_values_name_key_and_value() {
        for (from, to, key) in [
            (
                "perturbations = 4",
                "perturbations = 2",
                "fim_estimator.perturbations",
            ),
            (
                "perturbation_scale_rad = 0.015",
                "perturbation_scale_rad = 0",
                "fim_estimator.perturbation_scale_rad",
            ),
            ("samples = 5000", "samples = 1", "fim_estimator.samples"),
            (
                "probe_power_fraction = 0.5",
                "probe_power_fraction = 1.5",
                "fim_estimator.probe_power_fraction",
            ),
            (
                "learning_rate = 0.001",
                "learning_rate = 1.5",
                "training.learning_rate",
            ),
            ("batch_size = 128", "batch_size = 0", "training.batch_size"),
            (
                "crlb_weight = 1.0",
                "crlb_weight = -1.0",
                "training.crlb_weight",
            ),
            (
                "fc_hidden = [256, 128]",
                "fc_hidden = []",
                "encoder.fc_hidden",
            ),
            ("tt_q_bits = 8\n", "tt_q_bits = 1\n", "encoder.tt_q_bits"),
        ] {
            let text = SHIPPED.replacen(from, to, 1);
            assert_ne!(text, SHIPPED, "{from}");
            let msg = error_of(&text);
            assert!(msg.contains(key) && !msg.contains('\n'), "{key}: {msg}");
        }
    }

    #[test]
    fn a_scenario_without_learning_sections_names_the_first_missing_one() {
        let physics = SHIPPED.split("\n[fim_estimator]").next().unwrap();
        let msg = error_of(physics);
        assert!(msg.contains("[fim_estimator]"), "{msg}");
    }
}
