//! The end-to-end autoencoder of paper 003 (Table II, eqs. 38-40, Algorithm 1) for K users over
//! N subcarriers (N = 1 is the single-carrier system of Sec. II).
//!
//! The encoder (FC or DTTE) maps each subcarrier's features and the users' one-hot messages to
//! K message-bearing beams and a candidate FJ beam; the FJ beam is projected into the null space
//! of the estimated channel, and the frame meets the power budget exactly (eq. 27). Each user's
//! decoder classifies its message from `[Re y_k, Im y_k]`. The schemes differ only in how the
//! jamming is transmitted and whether sensing enters the loss (docs/conventions.md, "Baselines").

mod batch;
mod budget;
mod decoders;
mod deploy;
mod fisher;
#[cfg(feature = "wgpu")]
mod hinge;
#[cfg(feature = "wgpu")]
mod isotropic;
#[cfg(feature = "wgpu")]
mod readouts;
mod stage2;
#[cfg(feature = "wgpu")]
mod total;
mod train;

use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor, TensorData};
use faer::{Col, Mat, c64};
use isac_channel::impairments::IqImbalance;
use isac_channel::rng::stream;
use isac_channel::scenario::FriendlyJammingScenario;
use isac_channel::scenario::friendly_jamming::{Allocation, CrlbConvention, FriendlyJammingFile};
use serde::{Deserialize, Serialize};

use crate::config::{BeamStructure, LearnConfig};

pub use batch::{Batch, Conditions};
use decoders::Decoders;
pub use deploy::{Frame, frame_power, null_space_projectors};
pub use fisher::SensingFactors;
pub use stage2::{FimCalibration, Stage2Outcome, Stage2Rule, calibrate, crlbs, refine_jamming};
pub use train::{ConvergencePoint, TrainedAutoencoder, Trainer, TrainingLog};

use crate::complex::{received_from, transmitted};
use crate::complex::{secrecy_gaps_of, stacked_secrecy_rates};
use crate::tensor::{from_values, values};
use crate::{
    ComplexTensor, Encoder, EncoderKind, EncoderShape, LearnError, received_signal,
    secrecy_rate_gaps,
};

/// Floor of divisors and logarithms: small enough to be inactive in practice, large enough that
/// its reciprocal squared (in gradients) stays finite in f32.
const FLOOR: f32 = 1e-15;

/// Revision of the model, its training and its cached training log: bump it whenever any of them
/// changes, so that model caches keyed on it (`isac-eval`) never reuse what older code wrote.
pub const MODEL_REVISION: u32 = 21;

/// Stream index of the model weights.
const STREAM_WEIGHTS: u64 = 0x4145_5747; // "AEWG"

/// The learned schemes compared in Figs. 3 and 6 (docs/conventions.md, "Baselines").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// The proposed scheme: one steered FJ beam in the null space, sensing in the loss, and the
    /// FJ direction refined by stage 2 of Algorithm 1.
    IsacFj,
    /// The same autoencoder with its (learned) jamming power spread isotropically over the null
    /// space, sensing in the loss.
    AeFj,
    /// Learned beams with classic isotropic AN of a fixed power share, no sensing term.
    DlAn,
    /// Ours: mixed jamming, a learned share `beta` (per subcarrier) of the FJ power on the
    /// steered beam and the rest isotropic in the null space, `Q = zeta (beta v v^H + (1 - beta)
    /// P / (Nt - K))`; `beta = 1` is ISAC_FJ's transmission, `beta = 0` AE_FJ's. Stage 2 refines
    /// its steered beam as ISAC_FJ's.
    IsacFjPlus,
}

impl Scheme {
    /// Every learned scheme.
    pub const ALL: [Self; 4] = [Self::IsacFj, Self::AeFj, Self::DlAn, Self::IsacFjPlus];

    /// The label of the figures' CSVs.
    pub fn name(self) -> &'static str {
        match self {
            Self::IsacFj => "ISAC_FJ",
            Self::AeFj => "AE_FJ",
            Self::DlAn => "DL_AN",
            Self::IsacFjPlus => "ISAC_FJ_PLUS",
        }
    }

    /// Columns of the jamming matrix `V` (`Q = V V^H`): one steered beam, the `Nt` columns of
    /// the scaled null-space projector, or both (mixed jamming, the steered beam first).
    pub fn jamming_columns(self, tx_antennas: usize) -> usize {
        match self {
            Self::IsacFj => 1,
            Self::AeFj | Self::DlAn => tx_antennas,
            Self::IsacFjPlus => 1 + tx_antennas,
        }
    }

    /// Whether stage 2 refines a steered FJ beam (the first jamming column) at deployment.
    pub fn steers(self) -> bool {
        matches!(self, Self::IsacFj | Self::IsacFjPlus)
    }

    /// Whether the CRLB term of eq. (40) is in the loss.
    pub fn senses(self) -> bool {
        !matches!(self, Self::DlAn)
    }
}

/// What a model is trained for: the scheme, the encoder and the scenario (which fixes N, the
/// Eve model, the CSI error, and every Table II value), plus the echo scale the BS believes.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The scheme.
    pub scheme: Scheme,
    /// The encoder architecture.
    pub encoder: EncoderKind,
    /// The scenario.
    pub scenario: FriendlyJammingScenario,
    /// `c_hat = |alpha|^2 / sigma_s^2` per snapshot, as calibrated by the neural FIM estimator
    /// (the frame's FIM is `T c_hat` times the covariance term).
    pub fim_scale: f64,
    /// The scenario's `[training]` and `[encoder]` (and `[fim_estimator]`) sections.
    pub config: LearnConfig,
    /// What the model serves: the ranges of its operating points, DL_AN's AN share.
    pub task: Task,
}

/// What the evaluation layer asks a model to serve: the ranges training draws `P` and `CRLB_0`
/// from (uniformly, so one model serves every point of a sweep), and DL_AN's share of isotropic
/// null-space AN (the figures give it ZF_AN's share).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// `(lowest, highest)` `P_max / sigma^2`, dB.
    pub p_db: (f64, f64),
    /// `(lowest, highest)` `CRLB_0`, dB of rad^2.
    pub crlb_db: (f64, f64),
    /// DL_AN's share of the power in isotropic null-space AN, in `[0, 1)`.
    pub an_fraction: f64,
}

impl Task {
    /// The task spanning the grids `p_db` and `crlb_db` (each from its smallest to its largest
    /// value).
    pub fn spanning(p_db: &[f64], crlb_db: &[f64], an_fraction: f64) -> Self {
        let range = |list: &[f64]| {
            list.iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                    (lo.min(x), hi.max(x))
                })
        };
        Self {
            p_db: range(p_db),
            crlb_db: range(crlb_db),
            an_fraction,
        }
    }
}

impl Setup {
    /// The encoder's input and output widths.
    pub fn shape(&self) -> EncoderShape {
        let s = &self.scenario;
        let shape = EncoderShape::new(s.users(), s.tx().elements(), s.modulation_order());
        match self.scheme {
            Scheme::IsacFjPlus => shape.with_mixing(),
            _ => shape,
        }
    }

    /// Whether a training step of `other` draws the same batch as this setup's (the same
    /// realisations, operating points, messages and noise; each scheme draws its own jamming
    /// symbols): the same scenario, task, batch size and robust training, whatever the scheme,
    /// encoder, beam structure or subcarrier allocation. [`TrainedAutoencoder::train_group`]
    /// draws such batches once.
    pub fn shares_draws(&self, other: &Setup) -> bool {
        self.drawn_scenario() == other.drawn_scenario()
            && self.task == other.task
            && self.frames_per_batch() == other.frames_per_batch()
            && self.config.training.robust == other.config.training.robust
            && self.shape().input == other.shape().input
    }

    /// The scenario as a batch's draws read it: the subcarrier allocation (which subcarriers
    /// carry data, jamming or both, Sec. IV) only masks the transmission, never a draw.
    fn drawn_scenario(&self) -> FriendlyJammingFile {
        let mut f = self.scenario.file().clone();
        f.system.allocation = Allocation::Overlapping;
        f.system.comm_subcarriers = 0;
        f
    }

    /// Frames per training batch: `batch_size / N`, at least 8 (and at most `batch_size`), so a
    /// step costs about the same at every N while power normalisation still sees whole frames.
    pub fn frames_per_batch(&self) -> usize {
        let b = self.config.training.batch_size;
        (b / self.scenario.subcarriers()).max(8).min(b)
    }

    /// `Nt - K`, the dimension of the users' null space (full-rank channels).
    fn null_dimension(&self) -> usize {
        self.scenario.tx().elements() - self.scenario.users()
    }
}

/// Encoder plus one decoder per user (Table II: `[Re y, Im y] -> 128 -> ReLU -> M`).
#[derive(Module, Debug)]
pub struct Autoencoder {
    encoder: Encoder,
    decoders: Decoders,
}

/// One transmission of a batch: beams and jamming columns of every row (powers included).
#[derive(Debug, Clone)]
pub struct Transmission {
    /// `[BN, Nt, K]`, column k is `f_k` (message-bearing).
    pub beams: ComplexTensor<3>,
    /// `[BN, Nt, J]`, the jamming covariance is `V V^H`.
    pub jamming: ComplexTensor<3>,
}

/// One row's transmission as f64 matrices (for evaluation and stage 2).
#[derive(Debug, Clone)]
pub struct RowDesign {
    /// `f_1..f_K`.
    pub beams: Vec<Col<c64>>,
    /// `V` (Nt x J).
    pub jamming: Mat<c64>,
}

/// The parts of loss eq. (40) for one batch (averages over samples).
#[derive(Debug, Clone)]
pub struct LossParts {
    /// The total, differentiable.
    pub total: Tensor<1>,
    /// The rows' secrecy rate gaps, behind [`LossParts::secrecy`] and
    /// [`LossParts::secrecy_clipped`].
    gaps: Gaps,
}

/// `R_k - R_E,k` of every row and user: `[BN, K]`, or the fused operation's stacked rates `[BN,
/// 2, K]` they are one weighted sum of.
#[derive(Debug, Clone)]
enum Gaps {
    Rows(Tensor<2>),
    Stacked(Tensor<3>),
}

impl LossParts {
    /// Sum over users of `R_k - R_E,k`, averaged over subcarriers and samples (nats).
    pub fn secrecy(&self) -> Tensor<1> {
        self.gaps.rows().sum_dim(1).mean()
    }

    /// Sum over users of `[R_k - R_E,k]^+`, averaged like [`LossParts::secrecy`] (the evaluation
    /// metric).
    ///
    /// Both are computed when asked, so that a training step, which reads only the total,
    /// launches none of them on a GPU.
    pub fn secrecy_clipped(&self) -> Tensor<1> {
        self.gaps.rows().clamp_min(0.0).sum_dim(1).mean()
    }
}

impl Gaps {
    /// `[BN, K]`.
    fn rows(&self) -> Tensor<2> {
        match self {
            Self::Rows(rows) => rows.clone(),
            Self::Stacked(rates) => secrecy_gaps_of(rates.clone()),
        }
    }
}

impl Autoencoder {
    /// A freshly initialised model (weights from the scenario's seed).
    pub fn new(setup: &Setup, device: &Device) -> Result<Self, LearnError> {
        let s = &setup.scenario;
        let mut rng = stream(s.seed(), [STREAM_WEIGHTS, setup.scheme as u64, 0]);
        let encoder = Encoder::new(
            setup.encoder,
            setup.shape(),
            &setup.config.encoder,
            &mut rng,
            device,
        )?;
        let hidden = setup.config.training.decoder_hidden;
        let m = s.modulation_order();
        let decoders = Decoders::new(&mut rng, s.users(), hidden, m, device);
        Ok(Self { encoder, decoders })
    }

    /// TT-Q (no retraining): the same model with every TT core of its encoder quantised to
    /// `bits` bits; an FC encoder is returned unchanged.
    pub fn quantized(&self, bits: u32) -> Result<Self, LearnError> {
        Ok(Self {
            encoder: self.encoder.quantized(bits)?,
            decoders: self.decoders.clone(),
        })
    }

    /// The transmission of a batch: encoder, FJ projection into the estimated null space, and
    /// the exact frame power budget of each sample (eq. 27).
    pub fn transmit(&self, setup: &Setup, batch: &Batch) -> Transmission {
        let s = &setup.scenario;
        let (k, nt) = (s.users(), s.tx().elements());
        let encoded = self.encoder.forward(batch.features.clone());
        let zero_forcing = match setup.config.encoder.beam_structure {
            BeamStructure::Zf => Some(&batch.zero_forcing),
            BeamStructure::Free => None,
        };
        let masks = allocation_masks(setup, batch);
        let planes = |budget: Tensor<2>, column: bool| {
            budgeted_planes(
                &encoded,
                zero_forcing,
                batch,
                &masks,
                budget,
                column,
                [k, nt],
            )
        };
        match setup.scheme {
            Scheme::IsacFj | Scheme::AeFj | Scheme::IsacFjPlus => {
                let (beams, steered) = planes(batch.power.clone(), true);
                let beta = match setup.scheme {
                    Scheme::IsacFj => Mixing::Steered,
                    Scheme::AeFj => Mixing::Isotropic,
                    _ => Mixing::Mixed(Box::new(encoded)),
                };
                let jamming = mixed_jamming(setup, batch, &steered, beta, masks.sense.as_ref());
                Transmission { beams, jamming }
            }
            Scheme::DlAn => {
                let share = setup.task.an_fraction;
                let (beams, _) = planes(batch.power.clone().mul_scalar(1.0 - share), false);
                let jamming = budget_jamming(setup, batch, share, masks.sense.as_ref());
                Transmission { beams, jamming }
            }
        }
    }

    /// The received `y_k = h_k^H (sum_j f_j + V eta) + n_k` of every row, `[BN, K, 2]` (real and
    /// imaginary parts), after each user's automatic gain control: divided by the square root of
    /// its mean received power `sum_j |h_k^H f_j|^2 + |h_k^H V|^2 + sigma^2`, so the decoders see
    /// the same scale at every power ([`received_signal`]). With `hardware`, the sent vector
    /// passes the impairments first: `mu D x + nu (D x)*`.
    pub fn receive(
        &self,
        tx: &Transmission,
        batch: &Batch,
        hardware: Option<(IqImbalance, &ComplexTensor<3>)>,
    ) -> Tensor<3> {
        let (users, noise) = (&batch.users, &batch.noise);
        let symbols = &batch.jamming_symbols;
        let Some((iq, phasors)) = hardware else {
            return received_signal(
                users,
                &tx.beams,
                &tx.jamming,
                symbols,
                noise,
                batch.noise_power,
            );
        };
        let d = phasors.mul(&transmitted(&tx.beams, &tx.jamming, symbols));
        let sent = d.times_complex(iq.mu).add(&d.conj().times_complex(iq.nu));
        received_from(
            users,
            &tx.beams,
            &tx.jamming,
            &sent,
            noise,
            batch.noise_power,
        )
    }

    /// Log-probabilities of every user's message, `[BN, M]` per user, from the received signals
    /// `[BN, K, 2]` of [`Autoencoder::receive`].
    pub fn decode(&self, y: &Tensor<3>) -> Vec<Tensor<2>> {
        let log_p = self.decoders.log_probabilities(y);
        let [k, bn, m] = log_p.dims();
        (0..k)
            .map(|u| log_p.clone().narrow(0, u, 1).reshape([bn, m]))
            .collect()
    }

    /// Every user's decided message on every row of a batch (`[user][row]`): the stage-1
    /// transmission, received on ideal hardware, decoded by maximum log-probability.
    pub fn decisions(&self, setup: &Setup, batch: &Batch) -> Result<Vec<Vec<usize>>, LearnError> {
        self.decide(&self.transmit(setup, batch), batch)
    }

    /// Every user's decided message on every row (`[user][row]`) when the BS sends `tx` (for
    /// example a deployed frame, [`Transmission::from_rows`]), received on ideal hardware.
    pub fn decide(&self, tx: &Transmission, batch: &Batch) -> Result<Vec<Vec<usize>>, LearnError> {
        let y = self.receive(tx, batch, None);
        self.decode(&y)
            .into_iter()
            .map(|lp| {
                lp.argmax(1)
                    .into_data()
                    .convert::<i64>()
                    .try_to_vec::<i64>()
                    .map(|v| v.into_iter().map(|g| g as usize).collect())
                    .map_err(|e| LearnError::Numerical(format!("cannot read decisions: {e:?}")))
            })
            .collect()
    }

    /// Loss eq. (40) on a batch: minus the secrecy rates (user rates of eq. 28 against Eve's
    /// leakage), the decoders' cross-entropy, and `lambda` times the hinge of the CRLB
    /// constraint `sum_w relu(ln CRLB_w - ln CRLB_0)` for the sensing schemes.
    pub fn loss(&self, setup: &Setup, batch: &Batch) -> LossParts {
        let f = setup.scenario.file();
        let sent = self.transmit(setup, batch);
        let i = &f.impairments;
        let hardware = batch.phasors.as_ref().map(|phasors| {
            (
                IqImbalance::new(i.iq_epsilon, i.iq_phase_deg.to_radians()),
                phasors,
            )
        });
        let tx = match hardware {
            Some((iq, phasors)) => sent.impaired(iq, phasors),
            None => sent.clone(),
        };
        let noise = f.system.noise_power;
        // On the cubecl devices, on ideal hardware, the three readouts in one operation.
        #[cfg(feature = "wgpu")]
        let joint = hardware.is_none().then(|| {
            readouts::readouts(
                &batch.users,
                &tx.beams,
                &tx.jamming,
                &batch.eve,
                &batch.jamming_symbols,
                &batch.noise,
                &batch.sensing,
                readouts::Noises {
                    user: noise as f32,
                    eve: noise as f32,
                    received: batch.noise_power as f32,
                },
            )
        });
        #[cfg(not(feature = "wgpu"))]
        let joint: Option<Option<(Tensor<3>, Tensor<3>, Tensor<2>)>> = None;
        let (rates, y, fim) = match joint.flatten() {
            Some((rates, y, fim)) => (Some(rates), Some(y), Some(fim)),
            None => (None, None, None),
        };
        let rates = rates.or_else(|| {
            stacked_secrecy_rates(
                &batch.users,
                &tx.beams,
                &tx.jamming,
                &batch.eve,
                noise,
                noise,
            )
        });
        let gaps = match rates {
            Some(rates) => Gaps::Stacked(rates),
            None => Gaps::Rows(secrecy_rate_gaps(
                &batch.users,
                &tx.beams,
                &tx.jamming,
                &batch.eve,
                noise,
                noise,
            )),
        };
        let y = y.unwrap_or_else(|| self.receive(&sent, batch, hardware));
        let hinge = setup.scheme.senses().then(|| {
            let scale = 2.0 * setup.fim_scale * setup.scenario.snapshots();
            crlb_hinge(&tx, batch, fim, scale, f.sensing.crlb)
        });
        let t = &setup.config.training;
        let (ce_weight, crlb_weight) = (t.cross_entropy_weight, t.crlb_weight);
        #[cfg(feature = "wgpu")]
        if let Gaps::Stacked(rates) = &gaps
            && let Some(losses) = self.decoders.losses(&y, &batch.one_hot)
        {
            let total = total::loss_total(rates, &losses, hinge.as_ref(), ce_weight, crlb_weight);
            return LossParts { total, gaps };
        }
        let secrecy = gaps.rows().sum_dim(1).mean();
        // Every user's cross-entropy, averaged over users and rows.
        let ce = self.decoders.cross_entropy(&y, &batch.one_hot);
        LossParts {
            total: total_composed(secrecy, ce, hinge, ce_weight, crlb_weight),
            gaps,
        }
    }
}

/// The total of loss eq. (40), `-secrecy + w_ce ce + w_crlb hinge` (the hinge where the scheme
/// senses), in Burn tensor operations (the cubecl devices run `total.rs` instead).
fn total_composed(
    secrecy: Tensor<1>,
    ce: Tensor<1>,
    hinge: Option<Tensor<1>>,
    ce_weight: f64,
    crlb_weight: f64,
) -> Tensor<1> {
    let total = -secrecy + ce.mul_scalar(ce_weight);
    match hinge {
        Some(h) => total + h.mul_scalar(crlb_weight),
        None => total,
    }
}

/// The beams and the FJ candidate after the allocation masks and eq. (27)'s budget `budget`
/// (`[B, 1]`), which covers the FJ column where `column` (the candidate is left unscaled
/// otherwise): from the encoder's output in one operation each way (`budget.rs`: host loops on
/// the CPU devices, kernels on the cubecl devices), composed ([`encoded_planes_composed`],
/// [`budgeted_planes_composed`]) where the data need gradients.
fn budgeted_planes(
    encoded: &Tensor<2>,
    zero_forcing: Option<&ComplexTensor<3>>,
    batch: &Batch,
    masks: &AllocationMasks,
    budget: Tensor<2>,
    column: bool,
    [k, nt]: [usize; 2],
) -> (ComplexTensor<3>, ComplexTensor<3>) {
    let (n, width) = (batch.subcarriers, 2 * (k + 1) * nt);
    if let Some((beams, candidate)) = budget::budgeted(
        encoded,
        zero_forcing,
        &batch.projectors,
        masks,
        &budget,
        column,
        n,
        k,
    ) {
        return masks.apply(beams, candidate);
    }
    let (beams, candidate) =
        encoded_planes_composed(encoded, width, zero_forcing, &batch.projectors, k, nt);
    let (beams, candidate) = masks.apply(beams, candidate);
    budgeted_planes_composed(beams, candidate, &budget, column, n)
}

/// The (masked) beams and FJ candidate scaled to `budget` (`[B, 1]`) by eq. (27), the candidate
/// only where `column` (it is then in the budget), for samples of `subcarriers` rows.
fn budgeted_planes_composed(
    beams: ComplexTensor<3>,
    candidate: ComplexTensor<3>,
    budget: &Tensor<2>,
    column: bool,
    subcarriers: usize,
) -> (ComplexTensor<3>, ComplexTensor<3>) {
    if !column {
        let scale = frame_scale_composed(&[&beams], budget, subcarriers);
        return (beams.times(&scale), candidate);
    }
    let scale = frame_scale_composed(&[&beams, &candidate], budget, subcarriers);
    (beams.times(&scale), candidate.times(&scale))
}

/// The beams before the power budget and the FJ candidate `P c` from the encoder's output
/// (`[BN, W]`, its first `width = 2 (K + 1) Nt` entries `[Re, Im] x [u_1 .. u_K, c] x Nt`), in
/// Burn tensor operations (the cubecl devices run `budget.rs` instead).
fn encoded_planes_composed(
    encoded: &Tensor<2>,
    width: usize,
    zero_forcing: Option<&ComplexTensor<3>>,
    projectors: &ComplexTensor<3>,
    k: usize,
    nt: usize,
) -> (ComplexTensor<3>, ComplexTensor<3>) {
    let bn = encoded.dims()[0];
    let out = encoded
        .clone()
        .narrow(1, 0, width)
        .reshape([bn, 2, k + 1, nt]);
    let part = |i: usize| -> Tensor<3> {
        out.clone()
            .narrow(1, i, 1)
            .reshape([bn, k + 1, nt])
            .swap_dims(1, 2)
    };
    let all = ComplexTensor {
        re: part(0),
        im: part(1),
    };
    let raw = all.narrow_columns(0, k);
    let beams = match zero_forcing {
        // Zero-forcing structure (our choice, docs/architecture.md): user k's beam is its unit
        // ZF direction z_k times a learned complex gain c_k = 1/sqrt(Nt) sum_i u_k[i] (power
        // and constellation point), f_k = z_k c_k. It leaves no interference at the other
        // users (perfect CSI) and no power in the null space, where it would reach only Eve;
        // and since h_k^H z_k is real and positive, user k receives its point unrotated.
        Some(zf) => {
            let gain = ComplexTensor {
                re: raw.re.sum_dim(1),
                im: raw.im.sum_dim(1),
            }
            .scale_by(1.0 / (nt as f64).sqrt());
            zf.mul(&gain)
        }
        // Free-form precoders: the encoder's columns are the beams (eq. 27 scales them below).
        None => raw,
    };
    (beams, projectors.matmul(&all.narrow_columns(k, 1)))
}

/// The steered share `beta` of the FJ power in [`mixed_jamming`].
enum Mixing {
    /// `beta = 1`: the steered beam alone (ISAC_FJ).
    Steered,
    /// `beta = 0`: isotropic in the null space (AE_FJ).
    Isotropic,
    /// `beta = sigmoid(s)` per row, the logit `s` in the last column of the encoder's output
    /// held here (`[BN, W]`; ISAC_FJ_PLUS).
    Mixed(Box<Tensor<2>>),
}

/// The jamming columns `V` of FJ power `zeta = |v|^2` (the steered column `v`, `[BN, Nt, 1]`):
/// `[sqrt(beta) v, sqrt((1 - beta) zeta / (Nt - K)) P]`, so `V V^H = beta v v^H + (1 - beta)
/// zeta P / (Nt - K)` since `P^2 = P`; the extreme shares keep only the column block they use.
fn mixed_jamming(
    setup: &Setup,
    batch: &Batch,
    steered: &ComplexTensor<3>,
    beta: Mixing,
    sense: Option<&Tensor<3>>,
) -> ComplexTensor<3> {
    let mixing = match beta {
        Mixing::Steered => return steered.clone(),
        Mixing::Isotropic => None,
        Mixing::Mixed(encoded) => Some(*encoded),
    };
    let null = setup.null_dimension();
    #[cfg(feature = "wgpu")]
    {
        let source = match &mixing {
            Some(encoded) => isotropic::Source::Mixed(steered, encoded),
            None => isotropic::Source::Candidate(steered),
        };
        if let Some(v) = isotropic::null_space_jamming(source, &batch.projectors, sense, null) {
            return v;
        }
    }
    mixed_jamming_composed(steered, &batch.projectors, mixing, sense, null)
}

/// DL_AN's AN: the share `share` of each sample's budget, isotropic in the null space (the
/// cubecl devices run `isotropic.rs`).
fn budget_jamming(
    setup: &Setup,
    batch: &Batch,
    share: f64,
    sense: Option<&Tensor<3>>,
) -> ComplexTensor<3> {
    let null = setup.null_dimension();
    #[cfg(feature = "wgpu")]
    {
        let source = isotropic::Source::Budget(&batch.power, share);
        if let Some(v) = isotropic::null_space_jamming(source, &batch.projectors, sense, null) {
            return v;
        }
    }
    budget_jamming_composed(&batch.power, &batch.projectors, share, sense, null)
}

/// `V = P a`, `a = sqrt(share p / D) m` per row of a sample of budget `p` (`budget`, `[B, 1]`;
/// `D` the null dimension `null`, `m` the mask `sense`), in Burn tensor operations.
fn budget_jamming_composed(
    budget: &Tensor<2>,
    projectors: &ComplexTensor<3>,
    share: f64,
    sense: Option<&Tensor<3>>,
    null: usize,
) -> ComplexTensor<3> {
    let subcarriers = projectors.re.dims()[0] / budget.dims()[0];
    let mut an = rows_of(budget.clone(), subcarriers)
        .mul_scalar(share / null as f64)
        .sqrt();
    if let Some(sense) = sense {
        an = an * sense.clone();
    }
    projectors.times(&an)
}

/// The jamming of [`mixed_jamming`] but the steered beam alone, in Burn tensor operations (the
/// cubecl devices run `isotropic.rs` instead): ISAC_FJ_PLUS's mix where `mixing` holds the
/// encoder's output, else AE_FJ's isotropic AN `P a`. `a = sqrt(zeta q / D + f) - sqrt(f)`
/// times the mask `sense` (`q = 1 - beta` in the mix, else 1, `D` the null dimension `null`,
/// `f = FLOOR / D`): `sqrt(x + f) - sqrt(f)` is exactly 0 at `x = 0` (a masked candidate, or a
/// zero isotropic share), with a finite gradient there.
fn mixed_jamming_composed(
    steered: &ComplexTensor<3>,
    projectors: &ComplexTensor<3>,
    mixing: Option<Tensor<2>>,
    sense: Option<&Tensor<3>>,
    null: usize,
) -> ComplexTensor<3> {
    let beta = mixing.map(|encoded| {
        let [bn, w] = encoded.dims();
        sigmoid(encoded.narrow(1, w - 1, 1)).reshape([bn, 1, 1])
    });
    let zeta: Tensor<3> = steered.abs2().sum_dim(1);
    let power = match &beta {
        Some(beta) => zeta * beta.clone().neg().add_scalar(1.0),
        None => zeta,
    };
    let floor = FLOOR / null as f32;
    let mut a = power
        .div_scalar(null as f64)
        .add_scalar(floor)
        .sqrt()
        .sub_scalar(floor.sqrt());
    if let Some(sense) = sense {
        a = a * sense.clone();
    }
    let isotropic = projectors.times(&a);
    match beta {
        Some(beta) => ComplexTensor::cat_columns(&[steered.times(&beta.sqrt()), isotropic]),
        None => isotropic,
    }
}

/// Row masks `[BN, 1, 1]` of the subcarrier allocation: 1 where a subcarrier carries the users'
/// beams (`comm`) or sensing and jamming (`sense`), 0 elsewhere; `None` where every subcarrier
/// does (so the hybrid allocation without communication-only subcarriers is exactly the
/// overlapping model).
struct AllocationMasks {
    comm: Option<Tensor<3>>,
    sense: Option<Tensor<3>>,
}

impl AllocationMasks {
    /// The beams and the FJ candidate with their masks applied.
    fn apply(
        &self,
        mut beams: ComplexTensor<3>,
        mut candidate: ComplexTensor<3>,
    ) -> (ComplexTensor<3>, ComplexTensor<3>) {
        if let Some(comm) = &self.comm {
            beams = beams.times(comm);
        }
        if let Some(sense) = &self.sense {
            candidate = candidate.times(sense);
        }
        (beams, candidate)
    }
}

fn allocation_masks(setup: &Setup, batch: &Batch) -> AllocationMasks {
    let system = &setup.scenario.file().system;
    let (b, n, comm) = (batch.samples, batch.subcarriers, system.comm_subcarriers);
    let device = batch.features.device();
    let mask = |carries: &dyn Fn(usize) -> bool| -> Option<Tensor<3>> {
        if (0..n).all(carries) {
            return None;
        }
        let values: Vec<f32> = (0..b * n)
            .map(|r| if carries(r % n) { 1.0 } else { 0.0 })
            .collect();
        Some(
            Tensor::<1>::from_data(TensorData::new(values, [b * n]), &device).reshape([
                b * n,
                1,
                1,
            ]),
        )
    };
    let a = system.allocation;
    AllocationMasks {
        comm: mask(&|sc| a.carries_communication(sc, comm)),
        sense: mask(&|sc| a.carries_jamming(sc, comm)),
    }
}

/// `[B, 1]` per-sample values repeated over the N rows of each sample, `[BN, 1, 1]`.
fn rows_of(per_sample: Tensor<2>, subcarriers: usize) -> Tensor<3> {
    let [b, _] = per_sample.dims();
    per_sample
        .repeat_dim(1, subcarriers)
        .reshape([b * subcarriers, 1, 1])
}

/// The factor `[BN, 1, 1]` that scales every sample's columns (those of every block in
/// `blocks`) to `budget` (`[B, 1]`) on average over its `subcarriers` rows (eq. 27).
fn frame_scale_composed(
    blocks: &[&ComplexTensor<3>],
    budget: &Tensor<2>,
    subcarriers: usize,
) -> Tensor<3> {
    let n = subcarriers;
    let b = budget.dims()[0];
    let row_power: Tensor<3> = blocks
        .iter()
        .map(|x| x.abs2().sum_dim(1).sum_dim(2))
        .reduce(|a, b| a + b)
        .expect("at least one block"); // [BN, 1, 1]
    let frame = row_power.reshape([b, n]).mean_dim(1); // [B, 1]
    rows_of((budget.clone() / frame.clamp_min(FLOOR)).sqrt(), n)
}

/// The CRLB hinge of loss eq. (40), `mean_b sum_w relu(ln CRLB_w - ln CRLB_0)`, from the frame's
/// angle FIM `J_ij = scale sum_n Re tr(R_n dG_i^H dG_j)`, `R_n` the whole transmitted covariance
/// (every transmitted signal is known to the BS and echoes from the target), at the estimated
/// angles: one kernel each way on the cubecl devices (`hinge.rs`), composed elsewhere; from the
/// FIM's rows `rows` (`[BN, 3]`) where they are already computed.
fn crlb_hinge(
    tx: &Transmission,
    batch: &Batch,
    rows: Option<Tensor<2>>,
    scale: f64,
    convention: CrlbConvention,
) -> Tensor<1> {
    let (n, log_max) = (batch.subcarriers, &batch.log_crlb_max);
    // [BN, 3]
    let rows = rows.or_else(|| fisher::angle_fim_rows(&batch.sensing, &tx.beams, &tx.jamming));
    #[cfg(feature = "wgpu")]
    if let Some(h) = rows
        .as_ref()
        .and_then(|rows| hinge::crlb_hinge(rows, log_max, n, scale, convention))
    {
        return h;
    }
    let entries = match rows {
        Some(rows) => [0, 1, 2].map(|i| rows.clone().narrow(1, i, 1)),
        None => fisher::angle_fim_composed(&batch.sensing, &tx.beams, &tx.jamming),
    };
    crlb_hinge_composed(&entries, log_max, n, scale, convention)
}

/// [`crlb_hinge`] in Burn tensor operations from the rows' FIM entries `[J_tt, J_pp, J_tp]`
/// (`[BN, 1]` each), samples of `subcarriers` rows, thresholds `log_max` (`[B, 1]`).
fn crlb_hinge_composed(
    entries: &[Tensor<2>; 3],
    log_max: &Tensor<2>,
    subcarriers: usize,
    scale: f64,
    convention: CrlbConvention,
) -> Tensor<1> {
    let b = entries[0].dims()[0] / subcarriers;
    let frame = |i: usize| -> Tensor<2> {
        entries[i]
            .clone()
            .reshape([b, subcarriers])
            .sum_dim(1)
            .mul_scalar(scale)
    };
    let j_tt = frame(0);
    let j_pp = frame(1);
    let tiny = FLOOR;
    let [log_t, log_p] = match convention {
        CrlbConvention::Paper => [-j_tt.clamp_min(tiny).log(), -j_pp.clamp_min(tiny).log()],
        CrlbConvention::Joint => {
            let j_tp = frame(2);
            // Cauchy-Schwarz makes det >= 0; rounding can cancel it, so floor it relatively.
            let prod = j_tt.clone() * j_pp.clone();
            let det = (prod.clone() - j_tp.square())
                .max_pair(prod.mul_scalar(1e-6))
                .clamp_min(FLOOR)
                .log();
            [
                j_pp.clamp_min(tiny).log() - det.clone(),
                j_tt.clamp_min(tiny).log() - det,
            ]
        }
    };
    let hinge = (log_t - log_max.clone()).clamp_min(0.0) + (log_p - log_max.clone()).clamp_min(0.0);
    hinge.mean()
}

impl ComplexTensor<3> {
    /// Columns `start..start + len` of the last dimension.
    pub fn narrow_columns(&self, start: usize, len: usize) -> Self {
        Self {
            re: self.re.clone().narrow(2, start, len),
            im: self.im.clone().narrow(2, start, len),
        }
    }

    /// Concatenation along the last dimension.
    pub fn cat_columns(parts: &[Self]) -> Self {
        Self {
            re: Tensor::cat(parts.iter().map(|p| p.re.clone()).collect(), 2),
            im: Tensor::cat(parts.iter().map(|p| p.im.clone()).collect(), 2),
        }
    }

    /// `self * c` for a complex scalar.
    pub fn times_complex(&self, c: c64) -> Self {
        Self {
            re: self.re.clone().mul_scalar(c.re) - self.im.clone().mul_scalar(c.im),
            im: self.re.clone().mul_scalar(c.im) + self.im.clone().mul_scalar(c.re),
        }
    }

    /// Every `[rows, cols]` matrix as f64 faer matrices.
    pub fn to_matrices(&self) -> Result<Vec<Mat<c64>>, LearnError> {
        let [len, rows, cols] = self.re.dims();
        let (re, im) = (values(self.re.clone())?, values(self.im.clone())?);
        Ok((0..len)
            .map(|m| {
                Mat::from_fn(rows, cols, |i, j| {
                    let at = (m * rows + i) * cols + j;
                    c64::new(f64::from(re[at]), f64::from(im[at]))
                })
            })
            .collect())
    }
}

impl Transmission {
    /// The transmission through impaired hardware: per-antenna oscillator phases `D` and IQ
    /// imbalance, `x~ = mu D x + nu (D x)*`. The images `nu (D f_k)*`, `nu (D V)*` are
    /// uncorrelated with the (proper) symbols, so they join the jamming columns; the users'
    /// streams keep `mu D f_k`.
    pub fn impaired(&self, iq: IqImbalance, phasors: &ComplexTensor<3>) -> Self {
        let mu = |x: &ComplexTensor<3>| x.times_complex(iq.mu);
        let image = |x: &ComplexTensor<3>| x.conj().times_complex(iq.nu);
        let (df, dv) = (phasors.mul(&self.beams), phasors.mul(&self.jamming));
        Self {
            beams: mu(&df),
            jamming: ComplexTensor::cat_columns(&[mu(&dv), image(&df), image(&dv)]),
        }
    }

    /// The transmission of f64 row designs (all with the same numbers of beams and jamming
    /// columns) as f32 tensors on `device`.
    pub fn from_rows(rows: &[RowDesign], device: &Device) -> Result<Self, LearnError> {
        let first = rows.first().ok_or(LearnError::Size {
            what: "transmission rows",
            expected: 1,
            got: 0,
        })?;
        let (nt, k, j) = (
            first.jamming.nrows(),
            first.beams.len(),
            first.jamming.ncols(),
        );
        if let Some(bad) = rows
            .iter()
            .find(|r| r.beams.len() != k || r.jamming.ncols() != j || r.jamming.nrows() != nt)
        {
            return Err(LearnError::Size {
                what: "jamming columns of every row",
                expected: j,
                got: bad.jamming.ncols(),
            });
        }
        let len = rows.len();
        let mut beams = [
            Vec::with_capacity(len * nt * k),
            Vec::with_capacity(len * nt * k),
        ];
        let mut jamming = [
            Vec::with_capacity(len * nt * j),
            Vec::with_capacity(len * nt * j),
        ];
        for r in rows {
            for i in 0..nt {
                for f in &r.beams {
                    beams[0].push(f[i].re as f32);
                    beams[1].push(f[i].im as f32);
                }
                for c in 0..j {
                    jamming[0].push(r.jamming[(i, c)].re as f32);
                    jamming[1].push(r.jamming[(i, c)].im as f32);
                }
            }
        }
        let [br, bi] = beams;
        let [jr, ji] = jamming;
        Ok(Self {
            beams: ComplexTensor {
                re: from_values(br, [len, nt, k], device)?,
                im: from_values(bi, [len, nt, k], device)?,
            },
            jamming: ComplexTensor {
                re: from_values(jr, [len, nt, j], device)?,
                im: from_values(ji, [len, nt, j], device)?,
            },
        })
    }

    /// Every row's design in f64.
    pub fn rows(&self) -> Result<Vec<RowDesign>, LearnError> {
        let beams = self.beams.to_matrices()?;
        let jamming = self.jamming.to_matrices()?;
        Ok(beams
            .into_iter()
            .zip(jamming)
            .map(|(f, v)| RowDesign {
                beams: (0..f.ncols()).map(|j| f.col(j).to_owned()).collect(),
                jamming: v,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests;
