//! Neural Fisher-information estimation, eqs. (12)-(16).
//!
//! For each perturbation `delta_i` of `(theta, phi)`, a discriminator `T_i` is trained on echo
//! samples of the nominal distribution `P = p(y; w)` and the perturbed `Q = p(y; w + delta_i)`
//! to maximise the Donsker-Varadhan bound `E_P[T] - log E_Q[e^T]`, whose supremum is
//! `KL(P || Q) ~ delta_i^T J delta_i / 2` (eq. 12). The bound evaluated on fresh samples gives
//! `d_i`; least squares over the `D` perturbations (eqs. 14-15) gives the three entries of the
//! 2 x 2 FIM, and the PSD step (eq. 16, docs/conventions.md) makes it a valid information matrix.

mod bound;
mod discriminator;
mod echo;
mod least_squares;

use std::time::Instant;

use crate::config::{FimEstimatorSection, PerturbationDesign};
use burn::tensor::Device;
use faer::{Col, Mat, c64};
use isac_bounds::{EchoGeometry, angle_fim};
use isac_channel::rng::{complex_normal, stream};
use isac_channel::scenario::FriendlyJammingScenario;
use isac_design::sensing_guided_jamming_direction;
use rand_distr::{Distribution, StandardNormal};

use crate::LearnError;

pub use least_squares::{fim_from_divergences, project_psd};

/// Stream index of the users' channel drawn for the probing beam.
const STREAM_PROBE_CHANNEL: u64 = 0x5052_4f42; // "PROB"
/// Stream index of the Gaussian perturbation design.
const STREAM_PERTURBATIONS: u64 = 0x5045_5254; // "PERT"

/// Largest tensor the estimator trains on, in values (2^27, 512 MB of f32; the shipped settings
/// use 5 million): its activations are `[D, 2 samples, max(hidden, 2 N_r)]`, and sizes a
/// scenario allows can ask for far more, which must be an error rather than an allocation
/// failure.
pub const MAX_WORKING_SET: usize = 1 << 27;

/// Largest training run, in `training_steps x` [`MAX_WORKING_SET`]'s values (2^36, about 170
/// times the shipped settings' 80 x 5 million, minutes on one core): step counts a scenario
/// allows (up to 2^24) would otherwise train for days.
pub const MAX_TRAINING_WORK: usize = 1 << 36;

/// Settings of the estimator (scenario section `[fim_estimator]`).
#[derive(Debug, Clone, PartialEq)]
pub struct FimEstimatorSettings {
    /// D >= 3.
    pub perturbations: usize,
    /// Star radius or Gaussian standard deviation of the perturbations, rad.
    pub scale: f64,
    /// Perturbation design.
    pub design: PerturbationDesign,
    /// Echo samples per distribution and perturbation (training; evaluation uses as many fresh ones).
    pub samples: usize,
    /// Full-batch Adam steps.
    pub training_steps: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Hidden width of each discriminator.
    pub hidden: usize,
    /// Seed of the echo noise, perturbations and weights.
    pub seed: u64,
}

impl FimEstimatorSettings {
    /// The settings of a scenario's `[fim_estimator]` section, seeded by `seed`.
    pub fn new(f: &FimEstimatorSection, seed: u64) -> Self {
        Self {
            perturbations: f.perturbations,
            scale: f.perturbation_scale_rad,
            design: f.design,
            samples: f.samples,
            training_steps: f.training_steps,
            learning_rate: f.learning_rate,
            hidden: f.hidden,
            seed,
        }
    }

    fn validate(&self) -> Result<(), LearnError> {
        let checks: [(&'static str, f64, bool, &str); 6] = [
            (
                "perturbations",
                self.perturbations as f64,
                self.perturbations >= 3,
                "must be >= 3 for a 2 x 2 FIM",
            ),
            (
                "scale",
                self.scale,
                self.scale.is_finite() && self.scale > 0.0,
                "must be finite and > 0",
            ),
            (
                "samples",
                self.samples as f64,
                self.samples >= 2,
                "must be >= 2",
            ),
            (
                "training_steps",
                self.training_steps as f64,
                self.training_steps >= 1,
                "must be >= 1",
            ),
            (
                "learning_rate",
                self.learning_rate,
                self.learning_rate.is_finite() && self.learning_rate > 0.0,
                "must be finite and > 0",
            ),
            (
                "hidden",
                self.hidden as f64,
                self.hidden >= 1,
                "must be >= 1",
            ),
        ];
        for (name, value, ok, requirement) in checks {
            if !ok {
                return Err(LearnError::invalid(name, value, requirement));
            }
        }
        Ok(())
    }

    /// `delta_1..delta_D`: the star `scale (cos(pi i / D), sin(pi i / D))`, or seeded
    /// `N(0, scale^2 I)` draws as in the paper.
    pub fn perturbation_vectors(&self) -> Vec<[f64; 2]> {
        let d = self.perturbations;
        match self.design {
            PerturbationDesign::Star => (0..d)
                .map(|i| {
                    let (s, c) = (std::f64::consts::PI * i as f64 / d as f64).sin_cos();
                    [self.scale * c, self.scale * s]
                })
                .collect(),
            PerturbationDesign::Gaussian => {
                let mut rng = stream(self.seed, [STREAM_PERTURBATIONS, 0, 0]);
                (0..d)
                    .map(|_| {
                        let a: f64 = StandardNormal.sample(&mut rng);
                        let b: f64 = StandardNormal.sample(&mut rng);
                        [self.scale * a, self.scale * b]
                    })
                    .collect()
            }
        }
    }
}

/// A probing beam on the UPA echo model `y = alpha G(theta, phi) beam + n`, `n ~ CN(0, noise I)`.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Transmit and radar receive arrays.
    pub geometry: EchoGeometry,
    /// Target azimuth, rad.
    pub theta: f64,
    /// Target elevation, rad.
    pub phi: f64,
    /// The transmitted vector, power included.
    pub beam: Col<c64>,
    /// `|alpha|`, the echo amplitude.
    pub alpha: f64,
    /// `sigma_s^2`.
    pub noise: f64,
}

impl Probe {
    /// The scenario's probe: the closed-form sensing-guided jamming direction in the null space
    /// of a seeded i.i.d. CN(0, 1) draw of the users' channel (K x Nt), with power
    /// `probe_power_fraction * P_max` (`[fim_estimator]`).
    pub fn new(s: &FriendlyJammingScenario, probe_power_fraction: f64) -> Result<Self, LearnError> {
        let geometry = EchoGeometry {
            tx: s.tx(),
            rx: s.rx(),
        };
        let (theta, phi) = s.target();
        let nt = s.tx().elements();
        let mut rng = stream(s.seed(), [STREAM_PROBE_CHANNEL, 0, 0]);
        let users = Mat::from_fn(s.users(), nt, |_, _| complex_normal(&mut rng, 1.0));
        let (direction, _) =
            sensing_guided_jamming_direction(&geometry.channel(theta, phi), users.as_ref())?;
        let amplitude = (probe_power_fraction * s.p_max()).sqrt();
        let sensing = &s.file().sensing;
        Ok(Self {
            geometry,
            theta,
            phi,
            beam: Col::from_fn(nt, |i| direction[i] * amplitude),
            alpha: isac_channel::units::db_to_linear(sensing.echo_gain_db).sqrt(),
            noise: sensing.noise_power,
        })
    }

    /// `c = |alpha|^2 / sigma_s^2`: the analytic FIM is `J_ij = 2 c Re((d_i G b)^H (d_j G b))`.
    pub fn fim_scale(&self) -> f64 {
        self.alpha * self.alpha / self.noise
    }

    /// The analytic 2 x 2 FIM of `(theta, phi)` (eq. 18 with `R = b b^H`).
    pub fn analytic_fim(&self) -> Result<Mat<f64>, LearnError> {
        let r = &self.beam * self.beam.adjoint();
        Ok(angle_fim(
            &self.geometry.channel(self.theta, self.phi),
            r.as_ref(),
            self.fim_scale(),
        )?)
    }

    /// The noiseless echo `alpha G(theta, phi) beam`.
    pub fn echo_mean(&self, theta: f64, phi: f64) -> Col<c64> {
        let g = self.geometry.channel(theta, phi).g;
        let mut mu = &g * &self.beam;
        for i in 0..mu.nrows() {
            mu[i] *= self.alpha;
        }
        mu
    }

    /// The exact `KL(p(y; w) || p(y; w + delta)) = ||mu(w) - mu(w + delta)||^2 / sigma_s^2`.
    pub fn divergence(&self, delta: [f64; 2]) -> f64 {
        let (a, b) = (
            self.echo_mean(self.theta, self.phi),
            self.echo_mean(self.theta + delta[0], self.phi + delta[1]),
        );
        (0..a.nrows())
            .map(|i| (a[i] - b[i]).norm_sqr())
            .sum::<f64>()
            / self.noise
    }
}

/// The estimator's output.
#[derive(Debug, Clone, PartialEq)]
pub struct FimEstimate {
    /// The estimated FIM after the PSD step (eq. 16).
    pub fim: [[f64; 2]; 2],
    /// The least-squares FIM before the PSD step (eq. 15).
    pub least_squares: [[f64; 2]; 2],
    /// The FIM that least squares gives from the *exact* divergences: what a perfect
    /// discriminator would return, so its error is the quadratic-approximation error alone.
    pub quadratic_fim: [[f64; 2]; 2],
    /// `delta_i`.
    pub perturbations: Vec<[f64; 2]>,
    /// `d_i`, the Donsker-Varadhan bounds on held-out samples.
    pub divergences: Vec<f64>,
    /// The exact divergences `KL(P || Q_i)`.
    pub exact_divergences: Vec<f64>,
    /// Wall time of sampling, training and evaluation.
    pub seconds: f64,
}

/// The limits [`MAX_WORKING_SET`] and [`MAX_TRAINING_WORK`] for an echo of `rx_elements`
/// receive antennas, checked before anything is allocated or trained.
fn check_size(settings: &FimEstimatorSettings, rx_elements: usize) -> Result<(), LearnError> {
    let width = settings.hidden.max(2 * rx_elements);
    let working_set = settings
        .perturbations
        .saturating_mul(settings.samples.saturating_mul(2))
        .saturating_mul(width);
    if working_set > MAX_WORKING_SET {
        return Err(LearnError::invalid(
            "fim_estimator",
            format!(
                "D = {}, samples = {}, width {width}: {working_set} values per tensor",
                settings.perturbations, settings.samples
            ),
            format!("D x 2 samples x max(hidden, 2 N_r) must be at most {MAX_WORKING_SET}"),
        ));
    }
    let work = working_set.saturating_mul(settings.training_steps);
    if work > MAX_TRAINING_WORK {
        return Err(LearnError::invalid(
            "fim_estimator.training_steps",
            format!(
                "{} steps of {working_set} values: {work}",
                settings.training_steps
            ),
            format!(
                "training_steps x D x 2 samples x max(hidden, 2 N_r) must be at most {MAX_TRAINING_WORK}"
            ),
        ));
    }
    Ok(())
}

/// Runs the estimator on `device` (gradients are enabled on it for training).
pub fn estimate(
    probe: &Probe,
    settings: &FimEstimatorSettings,
    device: &Device,
) -> Result<FimEstimate, LearnError> {
    settings.validate()?;
    check_size(settings, probe.geometry.rx.elements())?;
    let started = Instant::now();
    let perturbations = settings.perturbation_vectors();
    let exact_divergences: Vec<f64> = perturbations.iter().map(|&d| probe.divergence(d)).collect();
    let quadratic_fim = fim_from_divergences(&perturbations, &exact_divergences)?;
    let echoes = echo::EchoSets::sample(probe, &perturbations, settings, device)?;
    let divergences = discriminator::train_and_evaluate(&echoes, settings, device)?;
    let least_squares = fim_from_divergences(&perturbations, &divergences)?;
    Ok(FimEstimate {
        fim: project_psd(least_squares),
        least_squares,
        quadratic_fim,
        perturbations,
        divergences,
        exact_divergences,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// `||A - B||_F / ||B||_F`.
pub fn relative_frobenius_error(estimate: &[[f64; 2]; 2], truth: &Mat<f64>) -> f64 {
    let mut num = 0.0;
    let mut den = 0.0;
    for i in 0..2 {
        for j in 0..2 {
            num += (estimate[i][j] - truth[(i, j)]).powi(2);
            den += truth[(i, j)].powi(2);
        }
    }
    (num / den).sqrt()
}

#[cfg(test)]
mod tests;
