//! Echo samples of the nominal and perturbed distributions, as real feature tensors.

use burn::tensor::{Device, Tensor};
use isac_channel::rng::{complex_normal, stream};

use super::{FimEstimatorSettings, Probe};
use crate::LearnError;
use crate::tensor::from_values;

/// Stream index of the echo noise.
const STREAM_ECHO: u64 = 0x4543_484f; // "ECHO"

/// Samples for `D` perturbations: `train` is `[D, 2S, F]` (S nominal then S perturbed echoes),
/// `eval_p` and `eval_q` are fresh `[D, S, F]` sets. `F = 2 Nr` reals `[Re y, Im y]`,
/// standardised per perturbation with the mean and standard deviation of its nominal training
/// samples (a fixed invertible map, which leaves the divergence unchanged).
pub(super) struct EchoSets {
    pub train: Tensor<3>,
    pub eval_p: Tensor<3>,
    pub eval_q: Tensor<3>,
    pub samples: usize,
}

fn draw(probe: &Probe, delta: [f64; 2], samples: usize, seed: u64, key: [u64; 2]) -> Vec<f64> {
    let mu = probe.echo_mean(probe.theta + delta[0], probe.phi + delta[1]);
    let nr = mu.nrows();
    let mut rng = stream(seed, [STREAM_ECHO, key[0], key[1]]);
    let mut out = Vec::with_capacity(samples * 2 * nr);
    for _ in 0..samples {
        let y: Vec<_> = (0..nr)
            .map(|i| mu[i] + complex_normal(&mut rng, probe.noise))
            .collect();
        out.extend(y.iter().map(|z| z.re));
        out.extend(y.iter().map(|z| z.im));
    }
    out
}

impl EchoSets {
    pub fn sample(
        probe: &Probe,
        perturbations: &[[f64; 2]],
        settings: &FimEstimatorSettings,
        device: &Device,
    ) -> Result<Self, LearnError> {
        let s = settings.samples;
        let f = 2 * probe.geometry.rx.elements();
        let (mut train, mut eval_p, mut eval_q) = (Vec::new(), Vec::new(), Vec::new());
        for (i, &delta) in perturbations.iter().enumerate() {
            let i = i as u64;
            let sets = [
                draw(probe, [0.0, 0.0], s, settings.seed, [i, 0]),
                draw(probe, delta, s, settings.seed, [i, 1]),
                draw(probe, [0.0, 0.0], s, settings.seed, [i, 2]),
                draw(probe, delta, s, settings.seed, [i, 3]),
            ];
            let (mean, std) = moments(&sets[0], f);
            let standardise = |v: &[f64]| -> Vec<f32> {
                v.iter()
                    .enumerate()
                    .map(|(k, x)| ((x - mean[k % f]) / std[k % f]) as f32)
                    .collect()
            };
            train.extend(standardise(&sets[0]));
            train.extend(standardise(&sets[1]));
            eval_p.extend(standardise(&sets[2]));
            eval_q.extend(standardise(&sets[3]));
        }
        let d = perturbations.len();
        Ok(Self {
            train: from_values(train, [d, 2 * s, f], device)?,
            eval_p: from_values(eval_p, [d, s, f], device)?,
            eval_q: from_values(eval_q, [d, s, f], device)?,
            samples: s,
        })
    }
}

/// Per-feature mean and standard deviation of row-major samples with `f` features.
fn moments(v: &[f64], f: usize) -> (Vec<f64>, Vec<f64>) {
    let n = (v.len() / f) as f64;
    let mut mean = vec![0.0; f];
    for (k, x) in v.iter().enumerate() {
        mean[k % f] += x / n;
    }
    let mut var = vec![0.0; f];
    for (k, x) in v.iter().enumerate() {
        var[k % f] += (x - mean[k % f]).powi(2) / n;
    }
    (
        mean,
        var.into_iter()
            .map(|x| x.sqrt().max(f64::MIN_POSITIVE))
            .collect(),
    )
}
