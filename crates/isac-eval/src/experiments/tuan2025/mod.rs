//! Paper 003 end to end, part 1 (Figs. 3, 5, 6, 7, 8): models trained once per (scheme,
//! scenario variant) and cached as burnpack files, evaluated on held-out draws with every scheme
//! on the same draws, secrecy rates in nats averaged over subcarriers, 95% CIs.

mod allocation;
mod encoders;
mod eve_study;
mod figures;
mod hardware;
mod reliability;
mod sweep;

pub use allocation::fig11;
pub use encoders::{fig9, fig10, table3};
pub use eve_study::eve_study;
pub use figures::{fig3, fig5, fig6, fig7, fig8};
pub use hardware::fig12;
pub use reliability::fig4;

use std::path::PathBuf;

use faer::{Mat, c64};
use isac_channel::fading::realize;
use isac_channel::scenario::FriendlyJammingScenario;
use isac_channel::scenario::friendly_jamming::{Allocation, EveModel, PhaseModel, PowerModel};
use isac_design::{
    DesignError, DesignInput, JammingDesign, MrtEqual, SubcarrierDesign, ZfAn, zf_an,
};
use isac_learn::autoencoder::{
    Batch, Conditions, FimCalibration, Frame, RowDesign, Scheme, Setup, TrainedAutoencoder,
    TrainingLog, calibrate,
};
use isac_learn::{
    BeamStructure, EncoderKind, FimEstimatorSection, LearnConfig, ModelDevice, Stage2Objective,
};
use isac_sdr::{JammingProblem, OptimumSettings};
use rayon::prelude::*;

use std::time::Instant;

use super::points::all_units;
use super::{Progress, RunContext, publish_with};
use crate::EvalError;
use crate::config::EvaluationSection;
use crate::held_out::{DrawMetrics, HeldOut, jamming_sums, summarise};
pub use crate::held_out::{Hardware, PointSummary};
use crate::output::Csv;
use crate::output::{fnv1a, write_atomic};
use crate::plot::Panel;

/// A scheme evaluated in the figures: learned, or a closed-form baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Evaluated {
    /// One of the learned schemes.
    Learned(Scheme),
    /// Zero forcing plus isotropic AN (ref. \[12\]).
    ZfAn,
    /// MRT beams and a probing beam along `a(theta, phi)` in the null space (ref. \[2\]).
    MrtEqual,
    /// ZF_AN's beams and budget with the certified best null-space jamming covariance for Eve's
    /// distribution (`isac_sdr::JammingProblem`, [`OPT_Q_EVE_DRAWS`] training draws of her
    /// channel) under the CRLB as the BS enforces it, on the first [`OPT_Q_DRAWS`] held-out
    /// draws; where no jamming covariance meets the CRLB, the unconstrained optimum stands in.
    OptQ,
}

/// Eve's training draws of each OPT_Q solve (an eighth, at least 50, in a quick run).
pub const OPT_Q_EVE_DRAWS: usize = 300;

/// Held-out draws of OPT_Q (one certified solve each; an eighth, at least 16, in a quick run).
pub const OPT_Q_DRAWS: usize = 60;

/// Realisations of OPT_Q's Eve training draws start here (held-out ones start at 0).
const OPT_Q_TRAINING: u64 = 1 << 41;

impl Evaluated {
    /// The scheme's name in the figures.
    pub fn name(self) -> &'static str {
        match self {
            Self::Learned(s) => s.name(),
            Self::ZfAn => "ZF_AN",
            Self::MrtEqual => "MRT_EQUAL",
            Self::OptQ => "OPT_Q",
        }
    }
}

/// Shared state of the part-1 figures: the base scenario, the FIM calibration, model cache.
pub struct Lab<'a> {
    ctx: &'a RunContext<'a>,
    base: FriendlyJammingScenario,
    /// The base scenario's learning sections.
    learn: LearnConfig,
    /// The base scenario's `[evaluation]`.
    evaluation: EvaluationSection,
    seed: u64,
    calibration: FimCalibration,
    device: isac_learn::Device,
    /// Jamming toward the target and its isotropic reference of every evaluated point, by
    /// label, for the sidecars' `target_jamming_gain` (summed in sorted order, so the result
    /// does not depend on which thread finished first).
    jamming: std::sync::Mutex<std::collections::BTreeMap<String, Vec<(f64, f64)>>>,
}

/// The variant of the base scenario a model is trained and evaluated on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Variant {
    /// N.
    pub subcarriers: usize,
    /// Eve's channel model.
    pub eve: EveModel,
    /// rho.
    pub csi_error_var: f64,
    /// The encoder architecture of the model.
    pub encoder: EncoderKind,
    /// `Some((allocation, N_c / N))`: a non-overlapping or hybrid allocation with this
    /// communication-only share (`None`: the scenario's own).
    pub comm_fraction: Option<(Allocation, f64)>,
    /// Trained with the `[impairments]` hardware sampled per batch.
    pub robust: bool,
    /// The phase model of robust training (`None`: the scenario's own).
    pub phase_model: Option<PhaseModel>,
    /// The power model (`None`: the scenario's own).
    pub power_model: Option<PowerModel>,
    /// The users' beam structure (`None`: the scenario's own).
    pub beam_structure: Option<BeamStructure>,
    /// Stage 2's objective at deployment (`None`: the scenario's own; it does not change the
    /// trained model).
    pub stage2_objective: Option<Stage2Objective>,
    /// Ne (`None`: the scenario's own).
    pub eve_antennas: Option<usize>,
    /// Eve's Rician K-factor, dB (`None`: the scenario's own).
    pub eve_k_factor_db: Option<f64>,
    /// Eve's azimuth offset from the target, degrees (`None`: the scenario's own).
    pub eve_offset_deg: Option<f64>,
}

impl Variant {
    /// Single carrier, perfect CSI, FC encoder, overlapping allocation, ideal-hardware training.
    pub fn single_carrier(eve: EveModel) -> Self {
        Self {
            subcarriers: 1,
            eve,
            csi_error_var: 0.0,
            encoder: EncoderKind::Fc,
            comm_fraction: None,
            robust: false,
            phase_model: None,
            power_model: None,
            beam_structure: None,
            stage2_objective: None,
            eve_antennas: None,
            eve_k_factor_db: None,
            eve_offset_deg: None,
        }
    }
}

/// A cache key for results computed on `device`: models trained on another device differ in
/// float rounding, so they get their own files (flex keys stay as they were, so existing caches
/// remain valid).
fn keyed_by_device(key: String, device: ModelDevice) -> String {
    match device {
        ModelDevice::Flex => key,
        other => format!("{key}|{other}"),
    }
}

/// The physics of `s` as JSON, for cache keys: the file without the sections other layers own
/// (those enter a key typed, and only where they change the result).
fn physics_json(s: &FriendlyJammingScenario) -> String {
    let mut f = s.file().clone();
    for section in [
        &mut f.fim_estimator,
        &mut f.training,
        &mut f.encoder,
        &mut f.evaluation,
    ] {
        section.clear();
    }
    serde_json::to_string(&f).unwrap_or_default()
}

/// The echo-scale calibration of `base` with the estimator `settings`, computed once per
/// physics, settings, seed and `MODEL_REVISION` and cached beside the models (every paper-003
/// experiment needs it).
fn cached_calibration(
    ctx: &RunContext<'_>,
    base: &FriendlyJammingScenario,
    settings: &FimEstimatorSection,
    device: &isac_learn::Device,
) -> Result<FimCalibration, EvalError> {
    let key = keyed_by_device(
        format!(
            "{}|{}|{}",
            isac_learn::autoencoder::MODEL_REVISION,
            physics_json(base),
            serde_json::to_string(settings).unwrap_or_default()
        ),
        ctx.device,
    );
    let path = ctx
        .cache_dir()
        .join("tuan2025-models")
        .join(format!("calibration-{:016x}.json", fnv1a(key.as_bytes())));
    let cached = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    if let Some(c) = cached {
        return Ok(c);
    }
    let c = calibrate(base, settings, base.seed(), device)?;
    let text = serde_json::to_string(&c).map_err(|e| EvalError::Invalid(e.to_string()))?;
    write_atomic(&path, text.as_bytes())?;
    Ok(c)
}

impl<'a> Lab<'a> {
    /// Loads the scenario and calibrates the echo scale with the neural FIM estimator.
    pub fn new(ctx: &'a RunContext<'a>) -> Result<Self, EvalError> {
        let mut base =
            FriendlyJammingScenario::from_path(&ctx.scenarios_dir.join("tuan2025.toml"))?;
        if let Some(seed) = ctx.seed {
            let mut f = base.file().clone();
            f.seed = seed;
            base = FriendlyJammingScenario::from_file(f)?;
        }
        let device = ctx.device.open()?;
        let seed = base.seed();
        let learn = LearnConfig::from_scenario(&base)?;
        let evaluation = EvaluationSection::from_scenario(&base)?;
        let calibration = cached_calibration(ctx, &base, &learn.fim_estimator, &device)?;
        Ok(Self {
            ctx,
            base,
            learn,
            evaluation,
            seed,
            calibration,
            device,
            jamming: Default::default(),
        })
    }

    /// The base scenario.
    pub fn scenario(&self) -> &FriendlyJammingScenario {
        &self.base
    }

    /// The scenario's `[evaluation]`: the figures' sweeps.
    pub fn evaluation(&self) -> &EvaluationSection {
        &self.evaluation
    }

    /// The learning sections of a variant: robust training, the beam structure and stage 2's
    /// objective as it asks.
    pub fn learn_config(&self, v: Variant) -> LearnConfig {
        let mut c = self.learn.clone();
        c.training.robust = v.robust;
        if let Some(structure) = v.beam_structure {
            c.encoder.beam_structure = structure;
        }
        if let Some(objective) = v.stage2_objective {
            c.training.stage2_objective = objective;
        }
        c
    }

    /// The setup of `scheme` on variant `v` (the calibrated echo scale, the figures' task).
    pub fn setup(&self, scheme: Scheme, v: Variant) -> Result<Setup, EvalError> {
        Ok(Setup {
            scheme,
            encoder: v.encoder,
            scenario: self.variant(v)?,
            fim_scale: self.calibration.scale,
            config: self.learn_config(v),
            task: self.evaluation.task(),
        })
    }

    pub(super) fn progress(&self) -> &dyn Progress {
        self.ctx.progress
    }

    /// The scenario of a variant (N, Eve model, rho, ...). Settings that leave the model
    /// unchanged are written in one canonical form, so that every figure shares its cached
    /// model: the hybrid allocation with no communication-only subcarrier is the overlapping
    /// one (which has none), the fixed band filled by N = B subcarriers is the per-subcarrier
    /// power model, and only robust training depends on the phase model.
    pub fn variant(&self, v: Variant) -> Result<FriendlyJammingScenario, EvalError> {
        let mut f = self.base.file().clone();
        f.set_subcarriers(v.subcarriers);
        f.channel.eve_model = v.eve;
        f.channel.csi_error_var = v.csi_error_var;
        if let Some((allocation, share)) = v.comm_fraction {
            f.system.allocation = allocation;
            f.system.comm_subcarriers = (share * v.subcarriers as f64).round() as usize;
        }
        if f.system.allocation == Allocation::Hybrid && f.system.comm_subcarriers == 0 {
            f.system.allocation = Allocation::Overlapping;
        }
        if f.system.allocation == Allocation::Overlapping {
            f.system.comm_subcarriers = 0;
        }
        if let Some(model) = v.power_model {
            f.system.power_model = model;
        }
        if f.system.power_model == PowerModel::FixedBand
            && f.system.subcarriers == f.system.band_subcarriers
        {
            f.system.power_model = PowerModel::PerSubcarrier;
        }
        if let Some(model) = v.phase_model.filter(|_| v.robust) {
            f.impairments.phase_model = model;
        }
        if let Some(ne) = v.eve_antennas {
            f.system.eve_antennas = ne;
        }
        if let Some(k) = v.eve_k_factor_db {
            f.channel.eve_k_factor_db = k;
        }
        if let Some(offset) = v.eve_offset_deg {
            f.channel.eve_offset_deg = offset;
        }
        Ok(FriendlyJammingScenario::from_file(f)?)
    }

    /// `full`, or an eighth of it (at least `floor`) in a quick run.
    fn sized(&self, full: usize, floor: usize) -> usize {
        if self.ctx.quick {
            (full / 8).max(floor)
        } else {
            full
        }
    }

    fn iterations(&self) -> usize {
        self.sized(self.learn.training.stage1_iterations, 10)
    }

    fn draws(&self) -> usize {
        self.sized(self.evaluation.draws, 16)
    }

    /// The model's cache file stem and its key's hash (which also picks its shard). Stage 2's
    /// objective acts at deployment only, so models differing in it share a file.
    fn cache_path(&self, setup: &Setup) -> (PathBuf, u64) {
        let mut trained = setup.config.clone();
        trained.training.stage2_objective = Stage2Objective::FisherTrace;
        let key = format!(
            "{}|{}|{}|{}|{:?}|{}|{}|{}|{}",
            isac_learn::autoencoder::MODEL_REVISION,
            physics_json(&setup.scenario),
            serde_json::to_string(&trained).unwrap_or_default(),
            serde_json::to_string(&setup.task).unwrap_or_default(),
            setup.encoder,
            setup.scheme.name(),
            self.iterations(),
            setup.fim_scale.to_bits(),
            self.ctx.quick
        );
        let key = keyed_by_device(key, self.ctx.device);
        let hash = fnv1a(key.as_bytes());
        let path = self
            .ctx
            .cache_dir()
            .join("tuan2025-models")
            .join(format!("{}-{hash:016x}", setup.scheme.name()));
        (path, hash)
    }

    /// Trained models for `jobs` (trained in parallel, on lanes of the device,
    /// [`isac_learn::ModelDevice::on_lane`], or loaded from the cache), in order. On the CPU
    /// devices, models whose steps draw the same batches ([`Setup::shares_draws`]: a figure's
    /// schemes, encoders, beam structures and allocations on one scenario) train together on
    /// draws made once ([`TrainedAutoencoder::train_group`]; the same models as trained alone).
    /// With `--shard`, a model not in the cache is trained only by the part its key's hash
    /// selects, and the call ends in [`EvalError::ShardPart`] if any model is left to others.
    pub fn models(&self, jobs: &[(Scheme, Variant)]) -> Result<Vec<TrainedAutoencoder>, EvalError> {
        let setups: Vec<Setup> = jobs
            .iter()
            .map(|&(scheme, v)| self.setup(scheme, v))
            .collect::<Result<_, _>>()?;
        let iterations = self.iterations();
        self.progress()
            .start((iterations * setups.len()) as u64, "training");
        let mut models: Vec<Option<TrainedAutoencoder>> = Vec::with_capacity(setups.len());
        let mut groups: Vec<Vec<(usize, Setup)>> = Vec::new();
        // Jobs that ask again for a model already queued (Fig. 7's N = 64 in both power
        // models): (job, the job that trains it, the job's setup).
        let mut repeats: Vec<(usize, usize, Setup)> = Vec::new();
        let mut queued: Vec<(PathBuf, usize)> = Vec::new();
        let grouped = self.ctx.device.lane_limit() == 1;
        for (i, setup) in setups.into_iter().enumerate() {
            let (path, hash) = self.cache_path(&setup);
            if let Some(&(_, first)) = queued.iter().find(|(p, _)| *p == path) {
                repeats.push((i, first, setup));
                models.push(None);
                continue;
            }
            let (weights, log_path) = (path.with_extension("bpk"), path.with_extension("json"));
            if weights.exists() && log_path.exists() {
                let log: TrainingLog = std::fs::read_to_string(&log_path)
                    .ok()
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .ok_or_else(|| EvalError::Invalid(format!("{}", log_path.display())))?;
                let mut model = TrainedAutoencoder::load(setup, &weights, &self.device)?;
                model.log = log;
                self.progress().inc(iterations as u64);
                models.push(Some(model));
                continue;
            }
            models.push(None);
            if !self.ctx.owns(hash) {
                self.progress().inc(iterations as u64);
                continue;
            }
            queued.push((path, i));
            match groups
                .iter_mut()
                .find(|g| grouped && g[0].1.shares_draws(&setup))
            {
                Some(group) => group.push((i, setup)),
                None => groups.push(vec![(i, setup)]),
            }
        }
        let trained: Vec<Vec<(usize, TrainedAutoencoder)>> = groups
            .into_par_iter()
            .map(|group| self.train_group(group, iterations))
            .collect::<Result<_, _>>()?;
        for (i, model) in trained.into_iter().flatten() {
            models[i] = Some(model);
        }
        // The repeat keeps its own setup: what acts at deployment only (stage 2's objective)
        // is not in the model's cache key.
        for (i, first, setup) in repeats {
            self.progress().inc(iterations as u64);
            models[i] = models[first]
                .clone()
                .map(|m| TrainedAutoencoder { setup, ..m });
        }
        all_units(models)
    }

    /// [`TrainedAutoencoder::train_group`] of `group` (job index and setup) on a lane (on wgpu:
    /// runtimes of their own, one per four cores of the host, so that models trained side by
    /// side do not all queue behind one host thread), each model then on the shared device that
    /// evaluates it and written to the cache.
    fn train_group(
        &self,
        group: Vec<(usize, Setup)>,
        iterations: usize,
    ) -> Result<Vec<(usize, TrainedAutoencoder)>, EvalError> {
        // Every 20 steps: the held-out scoring at each convergence power (a forward pass each) then
        // costs about 6% of training (12% at every 10).
        let log_every = if self.ctx.quick { 5 } else { 20 };
        let (indices, setups): (Vec<usize>, Vec<Setup>) = group.into_iter().unzip();
        let models = self.ctx.device.on_lane(|lane| {
            let models = TrainedAutoencoder::train_group(
                setups,
                iterations,
                &self.evaluation.convergence_p_db,
                log_every,
                lane,
                &|| self.progress().inc(1),
            )?;
            Ok::<_, EvalError>(if *lane == self.device {
                models
            } else {
                models
                    .into_iter()
                    .map(|m| m.to_device(&self.device))
                    .collect()
            })
        })??;
        for model in &models {
            let path = self.cache_path(&model.setup).0;
            let (weights, log_path) = (path.with_extension("bpk"), path.with_extension("json"));
            if let Some(dir) = weights.parent() {
                std::fs::create_dir_all(dir).map_err(|source| EvalError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
            model.save(&weights)?;
            write_atomic(
                &log_path,
                serde_json::to_string(&model.log)
                    .map_err(|e| EvalError::Invalid(e.to_string()))?
                    .as_bytes(),
            )?;
        }
        Ok(indices.into_iter().zip(models).collect())
    }

    /// Evaluates `scheme` at each operating point on the same held-out draws `0..draws` of
    /// `variant`; `model` is the trained model of a learned scheme.
    pub fn evaluate(
        &self,
        scheme: Evaluated,
        model: Option<&TrainedAutoencoder>,
        variant: Variant,
        points: &[Conditions],
    ) -> Result<Vec<PointSummary>, EvalError> {
        self.evaluate_on(scheme, model, variant, points, None)
    }

    /// [`Self::evaluate`] through impaired hardware: IQ imbalance and per-antenna oscillator
    /// phases (one Wiener increment of `phase_noise_var`, seeded per draw) applied to every
    /// transmitted design.
    pub fn evaluate_on(
        &self,
        scheme: Evaluated,
        model: Option<&TrainedAutoencoder>,
        variant: Variant,
        points: &[Conditions],
        hardware: Option<Hardware>,
    ) -> Result<Vec<PointSummary>, EvalError> {
        let draws = match scheme {
            Evaluated::OptQ => self.opt_q_draws(),
            _ => self.draws(),
        };
        self.evaluate_draws(scheme, model, variant, points, hardware, draws)
    }

    /// The held-out draws OPT_Q is evaluated on (the first of everyone's).
    pub fn opt_q_draws(&self) -> usize {
        self.draws().min(self.sized(OPT_Q_DRAWS, 16))
    }

    /// Eve's training draws of each OPT_Q solve.
    pub fn opt_q_eve_draws(&self) -> usize {
        self.sized(OPT_Q_EVE_DRAWS, 50)
    }

    /// [`Self::evaluate_on`] on the first `draws` held-out draws.
    pub fn evaluate_draws(
        &self,
        scheme: Evaluated,
        model: Option<&TrainedAutoencoder>,
        variant: Variant,
        points: &[Conditions],
        hardware: Option<Hardware>,
        draws: usize,
    ) -> Result<Vec<PointSummary>, EvalError> {
        let scenario = self.variant(variant)?;
        let label = self.label(scheme, variant);
        let held_out = HeldOut {
            believed_fim_scale: self.calibration.scale,
            hardware,
            ..HeldOut::new(&scenario, draws)
        };
        // OPT_Q's Eve training draws depend on the scenario only: drawn once, shared by every
        // point and held-out draw.
        let eve_model = scenario.eve_model();
        let eve_training: Vec<Mat<c64>> = match scheme {
            Evaluated::OptQ => (0..self.opt_q_eve_draws() as u64)
                .map(|i| {
                    Ok(realize(&scenario, &eve_model, 0.0, OPT_Q_TRAINING + i)?.eve[0].clone())
                })
                .collect::<Result<_, EvalError>>()?,
            _ => Vec::new(),
        };
        let share = self.evaluation.an_power_fraction;
        let closed_form: Option<Box<dyn SubcarrierDesign>> = match scheme {
            Evaluated::Learned(_) => None,
            Evaluated::ZfAn => Some(Box::new(ZfAn { an_fraction: share })),
            Evaluated::MrtEqual => Some(Box::new(MrtEqual)),
            Evaluated::OptQ => Some(Box::new(OptQ {
                eve_training: &eve_training,
                an_fraction: share,
            })),
        };
        points
            .par_iter()
            .map(|&c| {
                let metrics = match (&closed_form, model) {
                    (Some(design), _) => held_out.draw_metrics(design.as_ref(), c)?,
                    (None, Some(m)) => self.learned(&held_out, m, c)?,
                    (None, None) => {
                        return Err(EvalError::Invalid(format!(
                            "no model for {}",
                            scheme.name()
                        )));
                    }
                };
                self.progress().inc(1);
                Ok(self.summarise(&label, &metrics))
            })
            .collect()
    }

    /// The label of `scheme` on `variant` in the sidecars: its name (ISAC_FJ_TARGET for ISAC_FJ
    /// steered by `target_power`), qualified by what the variant changes in the transmission or
    /// Eve's channel.
    pub fn label(&self, scheme: Evaluated, variant: Variant) -> String {
        let objective = self.learn_config(variant).training.stage2_objective;
        let mut name = match (scheme, objective) {
            (Evaluated::Learned(Scheme::IsacFj), Stage2Objective::TargetPower) => {
                "ISAC_FJ_TARGET".to_string()
            }
            (Evaluated::Learned(Scheme::IsacFjPlus), Stage2Objective::FisherTrace) => {
                "ISAC_FJ_PLUS (fisher_trace)".to_string()
            }
            _ => scheme.name().to_string(),
        };
        if variant.beam_structure == Some(BeamStructure::Free) {
            name += " (free)";
        }
        if variant.eve != self.base.eve_model() {
            name += &format!(" [{} Eve]", variant.eve.name());
        }
        name
    }

    /// A point's summary, its jamming also recorded under `label` for the sidecars.
    fn summarise(&self, label: &str, m: &[DrawMetrics]) -> PointSummary {
        if let Ok(mut map) = self.jamming.lock() {
            map.entry(label.to_string())
                .or_default()
                .push(jamming_sums(m));
        }
        summarise(m)
    }

    /// `target_jamming_gain` of every label evaluated so far (`null` without jamming).
    pub fn target_jamming_gains(&self) -> serde_json::Value {
        let map = self.jamming.lock().map(|m| m.clone()).unwrap_or_default();
        serde_json::Value::Object(
            map.into_iter()
                .map(|(label, mut points)| {
                    points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
                    let (toward, isotropic) = points
                        .iter()
                        .fold((0.0, 0.0), |acc, x| (acc.0 + x.0, acc.1 + x.1));
                    let gain = (isotropic > 0.0).then(|| toward / isotropic);
                    (label, serde_json::json!(gain))
                })
                .collect(),
        )
    }

    /// What the BS transmits on realisations `indices` at `c` with a learned model: the
    /// deployed frames (stage 2 included for ISAC_FJ), with their batch. Every evaluation of a
    /// learned scheme (secrecy, CRLB, BLER at the users and at Eve) sees these designs.
    pub(super) fn deployed(
        &self,
        model: &TrainedAutoencoder,
        indices: &[u64],
        c: Conditions,
    ) -> Result<(Batch, Vec<Frame>), EvalError> {
        let conditions = vec![c; indices.len()];
        let batch = Batch::new(&model.setup, indices, &conditions, self.seed, &self.device)?;
        let frames = model.deploy(&batch)?;
        Ok((batch, frames))
    }

    /// The deployed designs of held-out draws `0..draws` (one per subcarrier), by draw.
    fn learned_designs(
        &self,
        model: &TrainedAutoencoder,
        c: Conditions,
        draws: usize,
    ) -> Result<Vec<Vec<JammingDesign>>, EvalError> {
        let indices: Vec<u64> = (0..draws as u64).collect();
        let (_, frames) = self.deployed(model, &indices, c)?;
        Ok(frames
            .iter()
            .map(|frame| frame.rows.iter().map(covariance).collect())
            .collect())
    }

    fn learned(
        &self,
        held_out: &HeldOut<'_>,
        model: &TrainedAutoencoder,
        c: Conditions,
    ) -> Result<Vec<DrawMetrics>, EvalError> {
        let designs = self.learned_designs(model, c, held_out.draws)?;
        designs
            .par_iter()
            .enumerate()
            .map(|(d, designs)| {
                let r = held_out.realize(d as u64)?;
                held_out.metrics(&r, designs, c, d as u64)
            })
            .collect()
    }

    /// Writes a figure's CSV, SVG and sidecar under `<out>/tuan2025/<stem>.*`.
    pub fn publish(
        &self,
        name: &str,
        stem: &str,
        csv: &Csv,
        panels: &[Panel],
        started: Instant,
    ) -> Result<Vec<PathBuf>, EvalError> {
        let mut extra = serde_json::Map::new();
        extra.insert(
            "target_jamming_gain".to_string(),
            self.target_jamming_gains(),
        );
        publish_with(
            self.ctx,
            "tuan2025",
            name,
            stem,
            csv,
            panels,
            self.seed,
            started,
            self.base.file(),
            extra,
        )
    }

    /// The calibration of the echo scale.
    pub fn calibration(&self) -> FimCalibration {
        self.calibration
    }

    /// The seed in use.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Whether this is a quick run.
    pub fn quick(&self) -> bool {
        self.ctx.quick
    }
}

/// OPT_Q at one held-out draw: ZF_AN's beams and budget with the certified best null-space
/// jamming covariance for Eve's training draws under the CRLB as the BS enforces it.
struct OptQ<'a> {
    eve_training: &'a [Mat<c64>],
    an_fraction: f64,
}

impl SubcarrierDesign for OptQ<'_> {
    fn name(&self) -> &str {
        "OPT_Q"
    }

    fn design(&self, x: &DesignInput<'_>) -> Result<JammingDesign, DesignError> {
        let failed = |e: isac_sdr::SdrError| DesignError::Scheme {
            scheme: self.name().to_string(),
            reason: e.to_string(),
        };
        let mut d = zf_an(x.users, x.power, self.an_fraction)?;
        let problem = JammingProblem::new(
            x.users,
            &d.beams,
            self.eve_training,
            x.noise_power,
            self.an_fraction * x.power,
        )
        .map_err(failed)?;
        let constraint = problem
            .crlb_constraint(
                &x.geometry.channel(x.target.0, x.target.1),
                &d.beams,
                x.fim_scale,
                x.crlb_max,
            )
            .map_err(failed)?;
        d.jamming = problem
            .solve_constrained(&constraint, OptimumSettings::default())
            .map_err(failed)?
            .covariance;
        Ok(d)
    }
}

/// A learned row as a beams-plus-covariance design.
fn covariance(r: &RowDesign) -> JammingDesign {
    JammingDesign {
        beams: r.beams.clone(),
        jamming: &r.jamming * r.jamming.adjoint(),
    }
}

/// A quick run of the shipped scenarios into a per-process temporary directory named `tag`
/// (tests of this module and its figures).
#[cfg(test)]
pub(super) fn quick_context(tag: &str) -> RunContext<'static> {
    RunContext {
        quick: true,
        ..RunContext::new(
            std::env::temp_dir().join(format!("{tag}-{}", std::process::id())),
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios").into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrecy::{eve_rates, user_rates};
    use isac_bounds::{EchoGeometry, angle_fim};
    use isac_channel::impairments::IqImbalance;
    use isac_channel::rng::stream;
    use isac_design::mrt_equal;
    use isac_learn::autoencoder::crlbs;

    /// Models differing only in what acts at deployment, or in sections that do not train
    /// them, share a cache file; the physics and the trained settings do not.
    #[test]
    fn the_model_cache_key_holds_the_physics_and_what_trains_only() {
        let ctx = quick_context("isac-key");
        let lab = Lab::new(&ctx).unwrap();
        let base = lab
            .setup(Scheme::IsacFj, Variant::single_carrier(EveModel::Rayleigh))
            .unwrap();
        let key = |s: &Setup| lab.cache_path(s).1;
        let with_file =
            |edit: &dyn Fn(&mut isac_channel::scenario::friendly_jamming::FriendlyJammingFile)| {
                let mut f = base.scenario.file().clone();
                edit(&mut f);
                Setup {
                    scenario: FriendlyJammingScenario::from_file(f).unwrap(),
                    ..base.clone()
                }
            };
        // The raw sections of the file: typed configs and the task carry what matters.
        let steered = with_file(&|f| {
            f.training
                .insert("stage2_objective".into(), "target_power".into());
            f.evaluation.insert("draws".into(), 7i64.into());
        });
        assert_eq!(key(&base), key(&steered));
        let mut deployed = base.clone();
        deployed.config.training.stage2_objective = Stage2Objective::TargetPower;
        assert_eq!(key(&base), key(&deployed));
        // What changes the trained model changes the key.
        let mut robust = base.clone();
        robust.config.training.robust = true;
        assert_ne!(key(&base), key(&robust));
        let mut wider = base.clone();
        wider.task.p_db.1 += 1.0;
        assert_ne!(key(&base), key(&wider));
        let louder = with_file(&|f| f.sensing.echo_gain_db += 1.0);
        assert_ne!(key(&base), key(&louder));
        // Fig. 11's hybrid allocation without communication-only subcarriers is Fig. 7's
        // overlapping model, whatever count of them the unused field holds; the strict
        // partition is another model.
        let allocated = |allocation: Option<(Allocation, f64)>| {
            let v = Variant {
                subcarriers: 8,
                comm_fraction: allocation,
                ..Variant::single_carrier(EveModel::Rayleigh)
            };
            key(&lab.setup(Scheme::IsacFj, v).unwrap())
        };
        let overlapping = allocated(None);
        assert_eq!(overlapping, allocated(Some((Allocation::Hybrid, 0.0))));
        assert_eq!(overlapping, allocated(Some((Allocation::Overlapping, 0.5))));
        assert_ne!(overlapping, allocated(Some((Allocation::Hybrid, 0.5))));
        assert_ne!(
            overlapping,
            allocated(Some((Allocation::NonOverlapping, 0.5)))
        );
        let _ = std::fs::remove_dir_all(ctx.out_dir);
    }

    /// A job that asks again for a model of the same call gets that model, trained once (the
    /// same wall time in its log, which a second training would not reproduce), with its own
    /// deployment settings.
    #[test]
    fn a_repeated_job_is_trained_once() {
        let ctx = quick_context("isac-repeat");
        let lab = Lab::new(&ctx).unwrap();
        let v = Variant::single_carrier(EveModel::Rayleigh);
        let steered = Variant {
            stage2_objective: Some(Stage2Objective::TargetPower),
            ..v
        };
        let models = lab
            .models(&[
                (Scheme::IsacFj, v),
                (Scheme::AeFj, v),
                (Scheme::IsacFj, steered),
            ])
            .unwrap();
        assert_eq!(models[2].setup.scheme, Scheme::IsacFj);
        let objective = |m: &TrainedAutoencoder| m.setup.config.training.stage2_objective;
        assert_eq!(objective(&models[2]), Stage2Objective::TargetPower);
        assert_eq!(objective(&models[0]), Stage2Objective::FisherTrace);
        assert_eq!(models[2].log.seconds, models[0].log.seconds);
        assert_ne!(models[1].log.seconds, models[0].log.seconds);
        let _ = std::fs::remove_dir_all(ctx.out_dir);
    }

    #[test]
    fn ideal_hardware_reproduces_the_ideal_results_exactly() {
        // Closed-form schemes only: nothing is trained or written.
        let ctx = quick_context("isac-hw");
        let lab = Lab::new(&ctx).unwrap();
        let v = Variant {
            subcarriers: 2,
            csi_error_var: 0.1,
            ..Variant::single_carrier(EveModel::Rayleigh)
        };
        let points = [Conditions {
            p_db: 20.0,
            crlb_db: -30.0,
        }];
        let ideal = Hardware {
            iq: IqImbalance::new(0.0, 0.0),
            phase_noise_var: 0.0,
            phase_model: PhaseModel::PerAntenna,
        };
        let impaired = Hardware {
            iq: IqImbalance::new(0.02, 1f64.to_radians()),
            phase_noise_var: 0.1,
            phase_model: PhaseModel::PerAntenna,
        };
        for scheme in [Evaluated::ZfAn, Evaluated::MrtEqual] {
            let plain = lab.evaluate(scheme, None, v, &points).unwrap()[0];
            let same = lab
                .evaluate_on(scheme, None, v, &points, Some(ideal))
                .unwrap()[0];
            let worse = lab
                .evaluate_on(scheme, None, v, &points, Some(impaired))
                .unwrap()[0];
            assert_eq!(plain.sum_secrecy, same.sum_secrecy);
            assert_eq!(plain.eve_leakage, same.eve_leakage);
            assert!(worse.sum_secrecy.0 != plain.sum_secrecy.0);
            // A common phase costs nothing beyond the IQ imbalance.
            let common = |var: f64| {
                let hw = Hardware {
                    phase_noise_var: var,
                    phase_model: PhaseModel::Common,
                    ..impaired
                };
                lab.evaluate_on(scheme, None, v, &points, Some(hw)).unwrap()[0]
            };
            let (iq_only, phased) = (common(0.0), common(0.2));
            assert!((iq_only.sum_secrecy.0 - phased.sum_secrecy.0).abs() < 1e-9);
            assert!((iq_only.eve_leakage - phased.eve_leakage).abs() < 1e-9);
            assert!(
                iq_only.sum_secrecy.0 != plain.sum_secrecy.0,
                "the IQ imbalance acts"
            );
        }
    }

    /// The shipped sensing regime (scenario comments, docs/architecture.md): on one carrier at
    /// CRLB_0 = -30 dB, the design that ignores sensing (ZF beams, half the power isotropic in
    /// the null space) violates the constraint at 0 dB on almost every draw and meets it from
    /// 10 dB; a sensing design meets it at 0 dB; at 30 dB (Fig. 6) the same design is slack at
    /// -45 dB and no design reaches -65 dB.
    #[test]
    fn the_shipped_crlb_constraint_binds_at_low_snr_and_fig6_spans_slack_to_infeasible() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/tuan2025.toml");
        let base = FriendlyJammingScenario::from_path(std::path::Path::new(path)).unwrap();
        let mut f = base.file().clone();
        f.set_subcarriers(1);
        let s = FriendlyJammingScenario::from_file(f).unwrap();
        let geometry = EchoGeometry {
            tx: s.tx(),
            rx: s.rx(),
        };
        let (theta, phi) = s.target();
        let ch = geometry.channel(theta, phi);
        let scale = s.fim_scale() * s.snapshots();
        let worst_crlb_db = |r: &Mat<c64>| {
            let j = angle_fim(&ch, r.as_ref(), scale).unwrap();
            let c = crlbs(
                [[j[(0, 0)], j[(0, 1)]], [j[(1, 0)], j[(1, 1)]]],
                s.crlb_convention(),
            );
            10.0 * c[0].max(c[1]).log10()
        };
        let unconstrained = |p_db: f64| -> f64 {
            let draws = 200;
            let violated = (0..draws)
                .filter(|&d| {
                    let r = realize(&s, &EveModel::Rayleigh, 0.0, d).unwrap();
                    let x = zf_an(r.users[0].as_ref(), s.subcarrier_power(p_db), 0.5).unwrap();
                    let mut cov = x.jamming.clone();
                    for f in &x.beams {
                        cov += f * f.adjoint();
                    }
                    worst_crlb_db(&cov) > -30.0
                })
                .count();
            violated as f64 / draws as f64
        };
        assert!(unconstrained(0.0) > 0.95, "{}", unconstrained(0.0));
        assert!(unconstrained(10.0) < 0.05, "{}", unconstrained(10.0));
        // A sensing design at 0 dB: half the power on each angle's most informative beam.
        let top = |d: &Mat<c64>| {
            let e = (d.adjoint() * d)
                .self_adjoint_eigen(faer::Side::Lower)
                .unwrap();
            e.U().col(d.ncols() - 1).to_owned()
        };
        let (ut, up) = (top(&ch.d_theta), top(&ch.d_phi));
        let p = s.subcarrier_power(0.0);
        let sensing =
            (&ut * ut.adjoint() + &up * up.adjoint()) * faer::Scale(c64::new(p / 2.0, 0.0));
        assert!(
            worst_crlb_db(&sensing) <= -30.0,
            "{}",
            worst_crlb_db(&sensing)
        );
        // Fig. 6 at 30 dB: slack at -45 dB for the unconstrained design; -65 dB out of reach.
        let x = zf_an(
            realize(&s, &EveModel::Rayleigh, 0.0, 0).unwrap().users[0].as_ref(),
            s.subcarrier_power(30.0),
            0.5,
        )
        .unwrap();
        let mut cov = x.jamming.clone();
        for f in &x.beams {
            cov += f * f.adjoint();
        }
        assert!(worst_crlb_db(&cov) < -45.0, "{}", worst_crlb_db(&cov));
        let floor = 10.0 * figures::crlb_floor(&s, 30.0).log10();
        assert!(floor > -65.0 && floor < -55.0, "{floor}");
        // The floor is a bound: the sensing design at 30 dB stays above it.
        let strong = &sensing * faer::Scale(c64::new(1000.0, 0.0));
        assert!(worst_crlb_db(&strong) >= floor - 1e-9);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Eq. (28) under the paper's common phase `y = e^{j phi} h^H x`: every rate of every
        /// scheme, users' and Eve's, is the same for any phase, with or without IQ imbalance.
        #[test]
        fn a_common_phase_changes_no_rate(
            phi in -10.0f64..10.0,
            seed in 0u64..1000,
            eps in 0.0f64..0.2,
            iq_deg in -5.0f64..5.0,
        ) {
            use isac_channel::rng::complex_normal;
            let (nt, k, ne) = (6, 2, 2);
            let mut rng = stream(seed, [0; 3]);
            let users = Mat::from_fn(k, nt, |_, _| complex_normal(&mut rng, 1.0));
            let eve = Mat::from_fn(nt, ne, |_, _| complex_normal(&mut rng, 1.0));
            let geometry = EchoGeometry {
                tx: isac_channel::Upa::new(3, 2, 0.5).unwrap(),
                rx: isac_channel::Upa::new(2, 2, 0.5).unwrap(),
            };
            let designs = [
                zf_an(users.as_ref(), 100.0, 0.5).unwrap(),
                mrt_equal(users.as_ref(), &geometry, (0.2, 0.1), 100.0).unwrap(),
            ];
            for iq in [IqImbalance::new(0.0, 0.0), IqImbalance::new(eps, iq_deg.to_radians())] {
                for d in &designs {
                    let rates = |phase: f64| {
                        let x = d.impaired(iq, &vec![phase; nt]);
                        (
                            user_rates(users.as_ref(), &x.beams, x.jamming.as_ref(), 1.0),
                            eve_rates(eve.as_ref(), &x.beams, x.jamming.as_ref(), 1.0),
                        )
                    };
                    let (still, turned) = (rates(0.0), rates(phi));
                    for (a, b) in still.0.iter().zip(&turned.0).chain(still.1.iter().zip(&turned.1)) {
                        proptest::prop_assert!((a - b).abs() < 1e-9, "{a} vs {b}");
                    }
                }
            }
        }
    }
}
