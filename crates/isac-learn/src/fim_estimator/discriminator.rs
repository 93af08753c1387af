//! `D` discriminators of Table II's shape (FC(F -> H) -> ReLU -> FC(H -> 1)), stored as one
//! batched module so that all perturbations train in the same large tensor ops.

use burn::backend::Dispatch;
use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use isac_channel::rng::stream;

use super::FimEstimatorSettings;
use super::bound::DvBound;
use super::echo::EchoSets;
use crate::init::{param, uniform};
use crate::tensor::values;
use crate::{FusedAdam, LearnError};

/// Stream index of the discriminator weights.
const STREAM_WEIGHTS: u64 = 0x5745_4947; // "WEIG"

#[derive(Module, Debug)]
struct DiscriminatorBank {
    w1: Param<Tensor<3>>,
    b1: Param<Tensor<3>>,
    w2: Param<Tensor<3>>,
    b2: Param<Tensor<3>>,
}

impl DiscriminatorBank {
    fn new(d: usize, features: usize, hidden: usize, seed: u64, device: &Device) -> Self {
        let mut rng = stream(seed, [STREAM_WEIGHTS, 0, 0]);
        let b1 = (6.0 / (features + hidden) as f64).sqrt();
        let b2 = (6.0 / (hidden + 1) as f64).sqrt();
        Self {
            w1: param(
                uniform(&mut rng, d * features * hidden, b1),
                [d, features, hidden],
                device,
            ),
            b1: param(vec![0.0; d * hidden], [d, 1, hidden], device),
            w2: param(uniform(&mut rng, d * hidden, b2), [d, hidden, 1], device),
            b2: param(vec![0.0; d], [d, 1, 1], device),
        }
    }

    /// The Donsker-Varadhan bound `[D, 1]` of every perturbation on samples `[D, 2S, F]` (`S`
    /// nominal, then `S` perturbed): one fused operation on the CPU devices ([`super::bound`]),
    /// composed tensor operations elsewhere or where the samples require a gradient.
    fn bound(&self, x: Tensor<3>, samples: usize) -> Tensor<2> {
        if x.is_require_grad() || !crate::host::supports(&x.device()) {
            return self.bound_composed(x, samples);
        }
        let parts = [
            x,
            self.w1.val(),
            self.b1.val(),
            self.w2.val(),
            self.b2.val(),
        ];
        let [x, w1, b1, w2, b2] = parts.map(|t| t.into_dispatch());
        Tensor::from_dispatch(<Dispatch as DvBound>::dv_bound(x, w1, b1, w2, b2, samples))
    }

    /// [`Self::bound`] in Burn tensor operations, for any device.
    fn bound_composed(&self, x: Tensor<3>, samples: usize) -> Tensor<2> {
        let t = self.forward(x);
        dv_bound(
            t.clone().narrow(1, 0, samples),
            t.narrow(1, samples, samples),
        )
    }

    /// `[D, S, F] -> [D, S]`: `T_i` applied to the samples of perturbation `i`.
    fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let h = relu(x.matmul(self.w1.val()) + self.b1.val());
        let t = h.matmul(self.w2.val()) + self.b2.val();
        let [d, s, _] = t.dims();
        t.reshape([d, s])
    }
}

/// `log (1/S sum_s exp(t_s))` per row of `[D, S]`, stabilised by the (detached) row maximum.
fn log_mean_exp(t: Tensor<2>) -> Tensor<2> {
    let m = t.clone().detach().max_dim(1);
    (t - m.clone()).exp().mean_dim(1).log() + m
}

/// The Donsker-Varadhan bound `E_P[T] - log E_Q[e^T]` per perturbation, `[D, 1]`.
fn dv_bound(tp: Tensor<2>, tq: Tensor<2>) -> Tensor<2> {
    tp.mean_dim(1) - log_mean_exp(tq)
}

/// Trains the bank full-batch with Adam on the training sets and returns the bound of each
/// perturbation on the held-out sets.
pub(super) fn train_and_evaluate(
    echoes: &EchoSets,
    settings: &FimEstimatorSettings,
    device: &Device,
) -> Result<Vec<f64>, LearnError> {
    let device = device.clone().autodiff();
    let [d, _, f] = echoes.train.dims();
    let s = echoes.samples;
    let train = echoes.train.clone().to_device(&device);
    let mut bank = DiscriminatorBank::new(d, f, settings.hidden, settings.seed, &device);
    let mut optimizer = FusedAdam::default().init();
    for _ in 0..settings.training_steps {
        let loss = -bank.bound(train.clone(), s).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &bank);
        bank = optimizer.step(settings.learning_rate, bank, grads);
    }
    let bank = bank.valid();
    let bound = dv_bound(
        bank.forward(echoes.eval_p.clone()),
        bank.forward(echoes.eval_q.clone()),
    );
    let v = values(bound)?;
    if v.iter().all(|x| x.is_finite()) {
        Ok(v.into_iter().map(f64::from).collect())
    } else {
        Err(LearnError::Numerical(format!(
            "the Donsker-Varadhan bound diverged ({v:?}); lower fim_estimator.learning_rate"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CpuDevice;
    use crate::testing::{assert_agree, random_complex};

    /// The fused bound (f32 host loops, hand-written backward) against the composed tensor
    /// operations differentiated by Burn: the bounds and the gradients of all four parameters,
    /// on every CPU device, with upstream weights of both signs. The shapes cover the fused
    /// loops' blocks (32 hidden units, 4 samples) whole and in part.
    #[test]
    fn the_fused_bound_equals_the_composed_one_with_gradients() {
        for device in CpuDevice::all() {
            let device = device.autodiff();
            for (d, s, f, h) in [(2, 7, 3, 5), (4, 40, 8, 16), (3, 9, 4, 72)] {
                let bank = DiscriminatorBank::new(d, f, h, 3, &device);
                let x = random_complex([d, 2 * s, f], 10 + s as u64, &device).re;
                let upstream = Tensor::<1>::from_floats([1.5, -0.7, 0.4, 2.0], &device)
                    .narrow(0, 0, d)
                    .reshape([d, 1]);
                let run = |fused: bool| {
                    let bound = if fused {
                        bank.bound(x.clone(), s)
                    } else {
                        bank.bound_composed(x.clone(), s)
                    };
                    let grads = (bound.clone() * upstream.clone()).sum().backward();
                    let grad = |p: &Param<Tensor<3>>| {
                        let g = p.val().grad(&grads).expect("a parameter's gradient");
                        values(g.reshape([-1])).unwrap()
                    };
                    vec![
                        values(bound.reshape([d])).unwrap(),
                        grad(&bank.w1),
                        grad(&bank.b1),
                        grad(&bank.w2),
                        grad(&bank.b2),
                    ]
                };
                let (mut fused, mut composed) = (run(true), run(false));
                // The bound does not change when a score shifts by a constant: b2's gradient is
                // zero (up to rounding) on both paths.
                for db2 in [fused.pop(), composed.pop()].map(Option::unwrap) {
                    assert!(db2.iter().all(|g| g.abs() < 1e-5), "{db2:?}");
                }
                assert_agree(&fused, &composed, &format!("{device:?} {d} {s}"));
            }
        }
    }
}
