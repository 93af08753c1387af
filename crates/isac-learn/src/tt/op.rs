//! The TT contraction as one Burn operation with a hand-written backward (a backend extension):
//! the autodiff graph records a single node for the whole layer instead of a matmul, reshape and
//! transpose per core, and the products run in faer's kernels (see [`super::contraction`]).
//!
//! Runs on the CPU backends (Flex, NdArray) and their autodiff devices; [`supports`] says
//! whether a device can run it, and `TtLinear` falls back to composed tensor operations
//! elsewhere (GPU devices), so models need no change.

// The extension macro expands code naming NdArray, deprecated in Burn 0.22 and kept reachable on
// purpose (see `CpuDevice`): its deprecation warning cannot be silenced on the items alone.
#![allow(deprecated)]

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, NodeGuard, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, DispatchDevice, Flex, TensorMetadata, backend_extension};
use burn::tensor::{Device, Shape, TensorData, try_read_sync};

use super::contraction::{self, TtShape};

/// Whether `device` runs the fused operation.
pub(crate) fn supports(device: &Device) -> bool {
    match device.as_dispatch().clone().inner() {
        DispatchDevice::Flex(_) => true,
        #[cfg(feature = "ndarray")]
        DispatchDevice::NdArray(_) => true,
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// The extension: `y = W x` or `y = W x + b` (`[batch, N] -> [batch, M]`) for the cores in the
/// layout of [`contraction`], flattened and concatenated into `cores` (one input whatever their
/// number), `in_factors` `n_1..n_q`, `out_factors` `m_1..m_q` and ranks `r_0..r_q`.
#[backend_extension(Flex, NdArray: cfg(feature = "ndarray"), Autodiff)]
pub(crate) trait TtContraction: Backend {
    fn tt_contract(
        x: FloatTensor<Self>,
        cores: FloatTensor<Self>,
        in_factors: Vec<usize>,
        out_factors: Vec<usize>,
        ranks: Vec<usize>,
    ) -> FloatTensor<Self>;

    fn tt_contract_biased(
        x: FloatTensor<Self>,
        cores: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        in_factors: Vec<usize>,
        out_factors: Vec<usize>,
        ranks: Vec<usize>,
    ) -> FloatTensor<Self>;
}

/// Implements the extension for `$backend` by handing the input, the parameter tensors (cores,
/// then the bias if any) and the shape to `$run`.
macro_rules! tt_contraction {
    ([$($generics:tt)*] $backend:ty => $run:expr) => {
        impl<$($generics)*> TtContraction for $backend {
            fn tt_contract(
                x: FloatTensor<Self>,
                cores: FloatTensor<Self>,
                in_factors: Vec<usize>,
                out_factors: Vec<usize>,
                ranks: Vec<usize>,
            ) -> FloatTensor<Self> {
                let shape = TtShape::new(in_factors, out_factors, ranks, false);
                $run(x, vec![cores], shape)
            }

            fn tt_contract_biased(
                x: FloatTensor<Self>,
                cores: FloatTensor<Self>,
                bias: FloatTensor<Self>,
                in_factors: Vec<usize>,
                out_factors: Vec<usize>,
                ranks: Vec<usize>,
            ) -> FloatTensor<Self> {
                let shape = TtShape::new(in_factors, out_factors, ranks, true);
                $run(x, vec![cores, bias], shape)
            }
        }
    };
}

// Inference on a CPU backend: the contraction on host memory, no graph.
tt_contraction!([] Flex => |x, p, s| forward::<Flex>(x, p, s).0);
#[cfg(feature = "ndarray")]
tt_contraction!([] burn::backend::NdArray => |x, p, s| forward::<burn::backend::NdArray>(x, p, s).0);
// Training: one autodiff node.
tt_contraction!([B: HostTensor, C: CheckpointStrategy] Autodiff<B, C> => tracked::<B, C>);

/// Reading a float tensor's values to host memory, row-major, as f32. Burn's generic
/// `into_data` copies a tensor that is still shared (a parameter, an activation the graph keeps)
/// element by element on NdArray (~25 ns per value): these read the storage directly.
pub(crate) trait HostTensor: Backend {
    fn read(t: FloatTensor<Self>) -> Vec<f32>;
}

impl HostTensor for Flex {
    fn read(t: FloatTensor<Self>) -> Vec<f32> {
        match t.as_slice::<f32>() {
            Some(values) => values.to_vec(),
            None => read_generic::<Self>(t),
        }
    }
}

#[cfg(feature = "ndarray")]
impl HostTensor for burn::backend::NdArray {
    fn read(t: FloatTensor<Self>) -> Vec<f32> {
        if let burn::backend::ndarray::NdArrayTensor::F32(storage) = &t {
            let view = storage.view();
            return match view.as_slice() {
                Some(values) => values.to_vec(),
                None => view.iter().copied().collect(),
            };
        }
        read_generic::<Self>(t)
    }
}

/// Any backend's tensor through `into_data` (a CPU backend reads synchronously).
fn read_generic<B: Backend>(t: FloatTensor<B>) -> Vec<f32> {
    try_read_sync(B::float_into_data(t))
        .expect("CPU tensors read synchronously")
        .expect("CPU tensors read without error")
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("converted to f32")
}

fn upload<B: Backend, const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    device: &B::Device,
) -> FloatTensor<B> {
    B::float_from_data(TensorData::new(values, shape), device)
}

/// The contraction on host memory, for the parameter tensors `params` (the flat cores, then the
/// bias if any): `y` on the device of `x`, and what the backward pass needs.
fn forward<B: HostTensor>(
    x: FloatTensor<B>,
    params: Vec<FloatTensor<B>>,
    shape: TtShape,
) -> (FloatTensor<B>, Saved) {
    let device = TensorMetadata::device(&x);
    let batch = TensorMetadata::shape(&x)[0];
    let x = B::read(x);
    let param_shapes = params.iter().map(TensorMetadata::shape).collect();
    let params: Vec<Vec<f32>> = params.into_iter().map(B::read).collect();
    let params = params.concat();
    let (y, states) = contraction::forward(&shape, x, batch, &params);
    let y = upload::<B, 2>(y, [batch, shape.d_output()], &device);
    let saved = Saved {
        shape,
        batch,
        params,
        param_shapes,
        states,
    };
    (y, saved)
}

/// What the backward step keeps: the shape, the parameters (concatenated, with the shape of
/// each input tensor) and the forward states, on host memory.
#[derive(Debug, Clone)]
struct Saved {
    shape: TtShape,
    batch: usize,
    params: Vec<f32>,
    param_shapes: Vec<Shape>,
    states: Vec<Vec<f32>>,
}

/// The backward step of a node with `N` parents: the input, then the parameter tensors.
#[derive(Debug)]
struct TtBackward<const N: usize>;

impl<B: HostTensor, const N: usize> Backward<B, N> for TtBackward<N> {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let device = TensorMetadata::device(&grad);
        let dy = B::read(grad);
        let (input, params) = ops.parents.split_first().expect("N >= 2");
        let s = ops.state;
        let (param_grads, dx) = contraction::backward(
            &s.shape,
            s.batch,
            &s.params,
            &s.states,
            &dy,
            input.is_some(),
        );
        if let (Some(node), Some(dx)) = (input, dx) {
            let g = upload::<B, 2>(dx, [s.batch, s.shape.d_input()], &device);
            grads.register::<B>(node.id, g);
        }
        let mut rest = param_grads.as_slice();
        for (node, shape) in params.iter().zip(s.param_shapes) {
            let (g, tail) = rest.split_at(shape.num_elements());
            rest = tail;
            if let Some(node) = node {
                let g = B::float_from_data(TensorData::new(g.to_vec(), shape), &device);
                grads.register::<B>(node.id, g);
            }
        }
    }
}

/// Records the contraction as one autodiff node whose parents are `x` and `params`.
fn tracked<B: HostTensor, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    params: Vec<FloatTensor<Autodiff<B, C>>>,
    shape: TtShape,
) -> FloatTensor<Autodiff<B, C>> {
    match params.len() {
        1 => tracked_with::<B, C, 2>(x, params, shape),
        2 => tracked_with::<B, C, 3>(x, params, shape),
        n => unreachable!("the cores and at most a bias, not {n} parameter tensors"),
    }
}

/// [`tracked`] with the number of parents `N` fixed.
fn tracked_with<B: HostTensor, C: CheckpointStrategy, const N: usize>(
    x: FloatTensor<Autodiff<B, C>>,
    params: Vec<FloatTensor<Autodiff<B, C>>>,
    shape: TtShape,
) -> FloatTensor<Autodiff<B, C>> {
    let (x, x_guard) = x.into_parts();
    let (params, guards): (Vec<_>, Vec<_>) = params.into_iter().map(|p| p.into_parts()).unzip();
    let guards: [NodeGuard; N] = std::iter::once(x_guard)
        .chain(guards)
        .collect::<Vec<_>>()
        .try_into()
        .expect("N = 1 + the number of parameter tensors");
    let (y, saved) = forward::<B>(x, params, shape);
    match TtBackward::<N>
        .prepare::<C>(guards)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(saved, y),
        OpsKind::UnTracked(prep) => prep.finish(y),
    }
}
