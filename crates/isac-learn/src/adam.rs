//! Adam as Burn's `AdamConfig::new()` runs it (its defaults; no weight decay, AMSGrad or
//! clipping), with each parameter's update as one operation: the CPU devices run one host loop,
//! the cubecl devices one kernel (`adam/kernels.rs`, cargo feature `wgpu`), where Burn's `Adam`
//! runs thirteen tensor operations per parameter (scalar products, sums, square, square root,
//! quotient). On wgpu every tensor operation is host work on Burn's threads before any kernel
//! runs (docs/decisions.md, "What bounds a GPU step after its kernels: host work"): measured on
//! lavapipe, this operation takes a quarter off the fusion thread's work at N = 1, for one kernel
//! per parameter tensor (ISAC_FJ/FC: 25 launches a step against 24 with Burn's fused `Adam`). On flex the update of a
//! 256 x 256 layer takes 33 us against Burn's 148 us (one thread), which the whole step does not
//! show beyond the machine's noise.
//!
//! Per entry, in f32 and in Burn's order of operations (so the CPU loop equals Burn's `Adam`
//! bit for bit; tested), at step `t` with `c = sqrt(1 - b2^t)`:
//! `m1 = m1 b1 + g (1 - b1)`, `m2 = m2 b2 + g^2 (1 - b2)`,
//! `p = p - lr (m1 c / (1 - b1^t)) / (sqrt(m2) + eps c)`; the first step starts from zero
//! moments, which gives Burn's first step exactly. The state is Burn's [`AdamState`], so records
//! are Burn's too.

// The extension macro expands code naming NdArray, deprecated in Burn 0.22 and kept reachable on
// purpose (see `CpuDevice`): its deprecation warning cannot be silenced on the items alone.
#![allow(deprecated)]

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::optim::{AdamState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer};
use burn::tensor::{Device, Tensor, TensorData};

use crate::host::HostTensor;

#[cfg(feature = "wgpu")]
mod kernels;

/// The scalars of one step: `[b1, 1 - b1, b2, 1 - b2, c / (1 - b1^t) (m1's scale), eps c, lr]`.
type Scalars = [f32; 7];

/// The extension: `(p, m1, m2)` after one step from the parameter `param`, its gradient `grad`
/// and the moments `m1`, `m2` (all of one shape).
#[backend_extension(
    Flex,
    NdArray: cfg(feature = "ndarray"),
    Cube: cfg(feature = "wgpu"),
    Fusion: cfg(feature = "wgpu")
)]
pub(crate) trait AdamUpdate: Backend {
    #[allow(clippy::type_complexity)]
    #[fusion(meta = |p, _g, m1, m2, _s| (p.clone(), m1.clone(), m2.clone()))]
    fn adam_update(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        m1: FloatTensor<Self>,
        m2: FloatTensor<Self>,
        scalars: Scalars,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

/// Implements the extension for a CPU backend with [`host_update`].
macro_rules! host_extension {
    ($backend:ty) => {
        impl AdamUpdate for $backend {
            fn adam_update(
                param: FloatTensor<Self>,
                grad: FloatTensor<Self>,
                m1: FloatTensor<Self>,
                m2: FloatTensor<Self>,
                scalars: Scalars,
            ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
                host_update::<Self>([param, grad, m1, m2], scalars)
            }
        }
    };
}

host_extension!(Flex);
#[cfg(feature = "ndarray")]
host_extension!(burn::backend::NdArray);

/// One step over host memory, entry by entry, in Burn's order of f32 operations.
fn host_update<B: HostTensor>(
    [param, grad, m1, m2]: [FloatTensor<B>; 4],
    [b1, c1, b2, c2, scale, eps, lr]: Scalars,
) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
    let (shape, device) = (param.shape(), TensorMetadata::device(&param));
    let [p, g, a, b] = [&param, &grad, &m1, &m2].map(|t| B::view(t));
    // Three passes over zipped slices, which the compiler vectorises (one pass with indexing and
    // pushes did not: slower than Burn's thirteen vectorised operations).
    let m1: Vec<f32> = a
        .iter()
        .zip(g.iter())
        .map(|(a, g)| a * b1 + g * c1)
        .collect();
    let m2: Vec<f32> = b
        .iter()
        .zip(g.iter())
        .map(|(b, g)| b * b2 + g * g * c2)
        .collect();
    let out: Vec<f32> = p
        .iter()
        .zip(&m1)
        .zip(&m2)
        .map(|((p, a), b)| p - a * scale / (b.sqrt() + eps) * lr)
        .collect();
    let up = |values: Vec<f32>| B::float_from_data(TensorData::new(values, shape.clone()), &device);
    (up(out), up(m1), up(m2))
}

/// Burn's `Adam` at `AdamConfig::new()`'s settings with one operation per parameter and step
/// (module docs); the composed tensor operations on a device that runs none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusedAdam {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    /// The composed tensor operations on every device (the tests' reference for the fallback).
    composed: bool,
}

impl Default for FusedAdam {
    /// `AdamConfig::new()`'s: `b1 = 0.9`, `b2 = 0.999`, `eps = 1e-5`.
    fn default() -> Self {
        Self {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-5,
            composed: false,
        }
    }
}

impl FusedAdam {
    /// The optimizer of a whole module.
    pub fn init(self) -> ModuleOptimizer {
        ModuleOptimizer::from(self)
    }

    /// The scalars of step `time` (from 1) at learning rate `lr`.
    fn scalars(&self, time: usize, lr: LearningRate) -> Scalars {
        let (b1, b2) = (self.beta_1, self.beta_2);
        let t = time as i32;
        let c = (1.0 - b2.powi(t)).sqrt();
        [
            b1,
            1.0 - b1,
            b2,
            1.0 - b2,
            c / (1.0 - b1.powi(t)),
            self.epsilon * c,
            lr as f32,
        ]
    }
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let (time, m1, m2) = match state {
            Some(s) => (s.momentum.time, s.momentum.moment_1, s.momentum.moment_2),
            None => (0, grad.zeros_like(), grad.zeros_like()),
        };
        let time = time + 1;
        let scalars = self.scalars(time, lr);
        let (p, m1, m2) = if !self.composed && crate::cube::runs_fused(&tensor.device()) {
            let (p, m1, m2) = <Dispatch as AdamUpdate>::adam_update(
                tensor.into_dispatch(),
                grad.into_dispatch(),
                m1.into_dispatch(),
                m2.into_dispatch(),
                scalars,
            );
            (
                Tensor::from_dispatch(p),
                Tensor::from_dispatch(m1),
                Tensor::from_dispatch(m2),
            )
        } else {
            adam_update_composed(tensor, grad, m1, m2, scalars)
        };
        let momentum = AdaptiveMomentumState::new(time, m1, m2);
        (p, Some(AdamState::new(momentum)))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.momentum = state.momentum.to_device(device);
        state
    }
}

/// The step as Burn's `Adam` composes it (its operations, in its order).
fn adam_update_composed<const D: usize>(
    param: Tensor<D>,
    grad: Tensor<D>,
    m1: Tensor<D>,
    m2: Tensor<D>,
    [b1, c1, b2, c2, scale, eps, lr]: Scalars,
) -> (Tensor<D>, Tensor<D>, Tensor<D>) {
    let m1 = m1.mul_scalar(b1).add(grad.clone().mul_scalar(c1));
    let m2 = m2.mul_scalar(b2).add(grad.square().mul_scalar(c2));
    let update = m1
        .clone()
        .mul_scalar(scale)
        .div(m2.clone().sqrt().add_scalar(eps));
    (param - update.mul_scalar(lr), m1, m2)
}

#[cfg(test)]
mod tests {
    use burn::module::Module;
    use burn::optim::{AdamConfig, GradientsParams};

    use super::*;
    use crate::tensor::values;
    use crate::testing::{assert_agree, kernel_devices, random_complex};
    use crate::{TtLinear, TtLinearConfig};

    /// Five Adam steps on a two-core TT layer (two rank-3 cores and a bias) from `optimizer`:
    /// after each step, the layer's output at a fixed input (which every parameter moves).
    fn outputs(optimizer: ModuleOptimizer, device: &Device) -> Vec<Vec<f32>> {
        let config = TtLinearConfig::new(vec![4, 4], vec![4, 3], 2);
        let rng = &mut isac_channel::rng::stream(3, [0; 3]);
        let mut layer: Option<TtLinear> = Some(config.init(rng, device).expect("layer"));
        let x = random_complex([8, 1, 16], 5, device).re.reshape([8, 16]);
        let mut optimizer = optimizer;
        (0..5)
            .map(|_| {
                let l = layer.take().expect("a layer between steps");
                let loss = l.forward(x.clone()).sub_scalar(0.3).square().mean();
                let grads = GradientsParams::from_grads(loss.backward(), &l);
                let l = optimizer.step(3e-2, l, grads);
                let out = values(l.valid().forward(x.clone().inner())).expect("values");
                layer = Some(l);
                out
            })
            .collect()
    }

    /// On the CPU devices the host loop is Burn's `Adam` bit for bit (so models trained before it
    /// are unchanged), and so is the composed path; on the cubecl devices the kernel agrees with
    /// Burn's `Adam` within float tolerance. Fails with any scalar of the step changed (e.g. the
    /// bias correction of the first moment left out, or `eps` not scaled by `c`).
    #[test]
    fn fused_adam_is_burns_adam_on_cpu_and_wgpu() {
        for device in kernel_devices() {
            let burn = outputs(AdamConfig::new().init(), &device);
            let fused = outputs(FusedAdam::default().init(), &device);
            let what = format!("{device:?}");
            if crate::host::supports(&device) {
                assert_eq!(fused, burn, "{what}");
            } else {
                assert_agree(&fused, &burn, &what);
            }
            // The steps moved the layer: the comparison is not between unchanged weights.
            assert_ne!(burn[0], burn[4], "{what}");
        }
    }

    /// The composed step (devices without the operation) is Burn's `Adam` bit for bit.
    #[test]
    fn composed_adam_is_burns_adam() {
        let device = crate::CpuDevice::Flex.autodiff();
        let burn = outputs(AdamConfig::new().init(), &device);
        let composed = FusedAdam {
            composed: true,
            ..FusedAdam::default()
        };
        let composed = outputs(composed.init(), &device);
        assert_eq!(composed, burn);
    }
}
