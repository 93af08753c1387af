//! Adam as Burn's `AdamConfig::new()` runs it (its defaults; no weight decay, AMSGrad or
//! clipping), with the updates of a whole module as one operation per [`MAX_GROUP`] parameters
//! (`adam/group.rs`): the CPU devices run a host loop per parameter, the cubecl devices one
//! kernel over the group (`adam/kernels.rs`, cargo feature `wgpu`; more where the device binds
//! fewer buffers), where Burn's `Adam` runs thirteen tensor operations per parameter (scalar
//! products, sums, square, square root, quotient). On wgpu every tensor operation and every
//! launch is host work on Burn's threads (docs/decisions.md, "What bounds a GPU step after its
//! kernels: host work"). ISAC_FJ/FC on lavapipe: 20 launches a step (two for Adam's seven
//! parameters: lavapipe binds fewer storage buffers than their 49) against 25 with an operation per parameter
//! and 24 with Burn's fused `Adam`, and about 0.2 ms less host work a step on cubecl's server
//! thread. On flex the update of a 256 x 256 layer takes 33 us against Burn's 148 us (one
//! thread), which the whole step does not show beyond the machine's noise.
//!
//! Per entry, in f32 and in Burn's order of operations (so the CPU loop equals Burn's `Adam`
//! bit for bit; tested), at step `t` with `c = sqrt(1 - b2^t)`:
//! `m1 = m1 b1 + g (1 - b1)`, `m2 = m2 b2 + g^2 (1 - b2)`,
//! `p = p - lr (m1 c / (1 - b1^t)) / (sqrt(m2) + eps c)`; the first step starts from zero
//! moments, which gives Burn's first step exactly. A parameter without a gradient keeps its
//! value and its moments, as in Burn. The state (each parameter's step count and moments) is the
//! optimizer's own: Burn's per-parameter `Optimizer` trait would see one parameter at a time.

// The extension macro expands code naming NdArray, deprecated in Burn 0.22 and kept reachable on
// purpose (see `CpuDevice`): its deprecation warning cannot be silenced on the items alone.
#![allow(deprecated)]

use std::collections::HashMap;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::{GradientsParams, LearningRate};
use burn::tensor::{Tensor, TensorData};

use crate::host::HostTensor;
use group::{Group, MAX_GROUP, Moved, MovedGroup, Operands};

mod group;
#[cfg(feature = "wgpu")]
mod kernels;

/// The scalars of one step: `[b1, 1 - b1, b2, 1 - b2, c / (1 - b1^t) (m1's scale), eps c, lr]`.
type Scalars = [f32; 7];

/// The extension: each parameter of `group` after one step from its gradient and moments.
#[backend_extension(
    Flex,
    NdArray: cfg(feature = "ndarray"),
    Cube: cfg(feature = "wgpu"),
    Fusion: cfg(feature = "fusion")
)]
pub(crate) trait AdamUpdate: Backend {
    #[fusion(meta = |group, _scalars| group::moved_metadata(group))]
    fn adam_update(#[extension_type] group: Group<Self>, scalars: Scalars) -> MovedGroup<Self>;
}

/// Implements the extension for a CPU backend with [`host_update`], parameter by parameter.
macro_rules! host_extension {
    ($backend:ty) => {
        impl AdamUpdate for $backend {
            fn adam_update(group: Group<Self>, scalars: Scalars) -> MovedGroup<Self> {
                let operands = group.into_vec().into_iter();
                MovedGroup::new(operands.map(|o| host_update::<Self>(o, scalars)).collect())
            }
        }
    };
}

host_extension!(Flex);
#[cfg(feature = "ndarray")]
host_extension!(burn::backend::NdArray);

/// One parameter's step over host memory, entry by entry, in Burn's order of f32 operations.
fn host_update<B: HostTensor>(
    Operands {
        param,
        grad,
        m1,
        m2,
    }: Operands<B>,
    [b1, c1, b2, c2, scale, eps, lr]: Scalars,
) -> Moved<B> {
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
    Moved {
        param: up(out),
        m1: up(m1),
        m2: up(m2),
    }
}

/// Burn's `Adam` at `AdamConfig::new()`'s settings, all of a module's parameters in one
/// operation per eight of them (module docs); the composed tensor operations on a device
/// that runs none.
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
    /// The optimizer of a whole module, with no moments yet.
    pub fn init(self) -> FusedAdamOptimizer {
        FusedAdamOptimizer {
            settings: self,
            moments: HashMap::new(),
        }
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

/// [`FusedAdam`] over a module: each parameter's step count and moments, by parameter.
#[derive(Debug)]
pub struct FusedAdamOptimizer {
    settings: FusedAdam,
    moments: HashMap<ParamId, Moments>,
}

/// One parameter's Adam state: its steps so far and both moments (its shape, on its device).
#[derive(Debug)]
struct Moments {
    time: usize,
    m1: FloatTensor<Dispatch>,
    m2: FloatTensor<Dispatch>,
}

impl FusedAdamOptimizer {
    /// `module` after one step at learning rate `lr` on `grads`: every parameter with a
    /// gradient moves (the others stay), on a device with the operation in one operation per
    /// eight parameters that share a step count (all of them, unless some had no
    /// gradient at an earlier step).
    pub fn step<M: Module>(&mut self, lr: LearningRate, module: M, grads: GradientsParams) -> M {
        let mut gather = Gather {
            optimizer: self,
            lr,
            grads,
            fused: Vec::new(),
            updated: HashMap::new(),
        };
        module.visit(&mut gather);
        let Gather {
            mut fused,
            mut updated,
            ..
        } = gather;
        // Groups of one step count (a stable sort keeps the module's order within each).
        fused.sort_by_key(|(_, time, _)| *time);
        let mut fused = fused.into_iter().peekable();
        while let Some(&(_, time, _)) = fused.peek() {
            let (mut ids, mut operands) = (Vec::new(), Vec::new());
            while let Some((id, _, o)) =
                fused.next_if(|(_, t, _)| *t == time && ids.len() < MAX_GROUP)
            {
                ids.push(id);
                operands.push(o);
            }
            let scalars = self.settings.scalars(time, lr);
            let moved = <Dispatch as AdamUpdate>::adam_update(Group::new(operands), scalars);
            for (id, Moved { param, m1, m2 }) in ids.into_iter().zip(moved.into_vec()) {
                updated.insert(id, param);
                self.moments.insert(id, Moments { time, m1, m2 });
            }
        }
        module.map(&mut Replace { updated })
    }
}

/// The first pass of [`FusedAdamOptimizer::step`]: each parameter's operands for the grouped
/// operation, or its step through the composed operations where the device runs none.
struct Gather<'a> {
    optimizer: &'a mut FusedAdamOptimizer,
    lr: LearningRate,
    grads: GradientsParams,
    /// `(parameter, its step count after this step, operands)`, in the module's order.
    fused: Vec<(ParamId, usize, Operands<Dispatch>)>,
    /// The new parameters: the composed path's here, the grouped operation's joining them.
    updated: HashMap<ParamId, FloatTensor<Dispatch>>,
}

impl ModuleVisitor for Gather<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(grad) = self.grads.remove::<D>(param.id) else {
            return;
        };
        let optimizer = &mut *self.optimizer;
        let (time, m1, m2) = match optimizer.moments.remove(&param.id) {
            Some(Moments { time, m1, m2 }) => (time, m1, m2),
            None => (
                0,
                grad.zeros_like().into_dispatch(),
                grad.zeros_like().into_dispatch(),
            ),
        };
        let (time, value) = (time + 1, param.val().inner());
        let settings = optimizer.settings;
        if !settings.composed && crate::cube::runs_fused(&value.device()) {
            let operands = Operands {
                param: value.into_dispatch(),
                grad: grad.into_dispatch(),
                m1,
                m2,
            };
            self.fused.push((param.id, time, operands));
        } else {
            let scalars = settings.scalars(time, self.lr);
            let [m1, m2] = [m1, m2].map(Tensor::<D>::from_dispatch);
            let (value, m1, m2) = adam_update_composed(value, grad, m1, m2, scalars);
            let [m1, m2] = [m1, m2].map(Tensor::into_dispatch);
            self.updated.insert(param.id, value.into_dispatch());
            optimizer.moments.insert(param.id, Moments { time, m1, m2 });
        }
    }
}

/// The second pass of [`FusedAdamOptimizer::step`]: each moved parameter's new value, with the
/// autodiff state of the value it replaces (as Burn's optimizers restore it).
struct Replace {
    updated: HashMap<ParamId, FloatTensor<Dispatch>>,
}

impl ModuleMapper for Replace {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(value) = self.updated.remove(&param.id) else {
            return param;
        };
        let (id, old, mapper) = param.consume();
        let mut value = Tensor::from_inner(Tensor::<D>::from_dispatch(value));
        if let Some(strategy) = old.gradient_checkpointing_strategy() {
            value = value.with_gradient_checkpointing_strategy(strategy);
        }
        if old.is_require_grad() {
            value = value.require_grad();
        }
        Param::from_mapped_value(id, value, mapper)
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
    use burn::optim::AdamConfig;
    use burn::tensor::Device;

    use super::*;
    use crate::tensor::values;
    use crate::testing::{assert_agree, kernel_devices, random_complex};
    use crate::{TtLinear, TtLinearConfig};

    /// Four two-core TT layers (two rank-3 cores and a bias each), the second frozen: nine
    /// parameters with gradients, one group of [`MAX_GROUP`] and one of one.
    #[derive(Module, Debug)]
    struct Stack {
        layers: Vec<TtLinear>,
    }

    impl Stack {
        fn forward(&self, x: Tensor<2>) -> Tensor<2> {
            let outputs = self.layers.iter().map(|l| l.forward(x.clone()));
            outputs.reduce(|a, b| a + b).expect("layers")
        }
    }

    /// Five Adam steps of a [`Stack`] by `step`: after each step, every layer's output at a fixed
    /// input (which every parameter moves).
    fn outputs(
        mut step: impl FnMut(Stack, GradientsParams) -> Stack,
        device: &Device,
    ) -> Vec<Vec<f32>> {
        let config = TtLinearConfig::new(vec![4, 4], vec![4, 3], 2);
        let rng = &mut isac_channel::rng::stream(3, [0; 3]);
        let layers = (0..4)
            .map(|i| {
                let layer = config.init(rng, device).expect("layer");
                if i == 1 { layer.no_grad() } else { layer }
            })
            .collect();
        let mut stack = Some(Stack { layers });
        let x = random_complex([8, 1, 16], 5, device).re.reshape([8, 16]);
        (0..5)
            .map(|_| {
                let s = stack.take().expect("a stack between steps");
                let loss = s.forward(x.clone()).sub_scalar(0.3).square().mean();
                let grads = GradientsParams::from_grads(loss.backward(), &s);
                let s = step(s, grads);
                let valid = s.valid();
                let mut out = Vec::new();
                for layer in &valid.layers {
                    out.extend(values(layer.forward(x.clone().inner())).expect("values"));
                }
                stack = Some(s);
                out
            })
            .collect()
    }

    /// Burn's `Adam` at `AdamConfig::new()`.
    fn burn_adam(device: &Device) -> Vec<Vec<f32>> {
        let mut adam = AdamConfig::new().init();
        outputs(|s, grads| adam.step(3e-2, s, grads), device)
    }

    /// On the CPU devices the host loop is Burn's `Adam` bit for bit (so models trained before it
    /// are unchanged), and so is the composed path; on the cubecl devices the kernel agrees with
    /// Burn's `Adam` within float tolerance. The frozen layer stays, the others move. Fails with
    /// any scalar of the step changed (e.g. the bias correction of the first moment left out, or
    /// `eps` not scaled by `c`), or with a group's parameters paired with another's results.
    #[test]
    fn fused_adam_is_burns_adam_on_cpu_and_wgpu() {
        for device in kernel_devices() {
            let burn = burn_adam(&device);
            let mut fused = FusedAdam::default().init();
            let fused = outputs(|s, grads| fused.step(3e-2, s, grads), &device);
            let what = format!("{device:?}");
            if crate::host::supports(&device) {
                assert_eq!(fused, burn, "{what}");
            } else {
                assert_agree(&fused, &burn, &what);
            }
            // The steps moved the trained layers, not the frozen one: the comparison is not
            // between unchanged weights.
            let width = burn[0].len() / 4;
            let layer = |step: usize, i: usize| &burn[step][i * width..(i + 1) * width];
            assert_eq!(layer(0, 1), layer(4, 1), "{what}");
            for i in [0, 2, 3] {
                assert_ne!(layer(0, i), layer(4, i), "{what}");
            }
        }
    }

    /// The composed step (devices without the operation) is Burn's `Adam` bit for bit.
    #[test]
    fn composed_adam_is_burns_adam() {
        let device = crate::CpuDevice::Flex.autodiff();
        let mut composed = FusedAdam {
            composed: true,
            ..FusedAdam::default()
        }
        .init();
        let composed = outputs(|s, grads| composed.step(3e-2, s, grads), &device);
        assert_eq!(composed, burn_adam(&device));
    }
}
