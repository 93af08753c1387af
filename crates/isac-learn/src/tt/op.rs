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
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, DispatchDevice, Flex, TensorMetadata, backend_extension};
use burn::tensor::{Device, TensorData, try_read_sync};

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

/// The extension: `y = W x + b` (`[batch, N] -> [batch, M]`) for the cores in the layout of
/// [`contraction`], flattened and concatenated with the bias (if `bias`) into `params` (one
/// input, so the autodiff node has two parents whatever the number of cores).
#[backend_extension(Flex, NdArray: cfg(feature = "ndarray"), Autodiff)]
pub(crate) trait TtContraction: Backend {
    fn tt_contract(
        x: FloatTensor<Self>,
        params: FloatTensor<Self>,
        in_factors: Vec<usize>,
        out_factors: Vec<usize>,
        ranks: Vec<usize>,
        bias: bool,
    ) -> FloatTensor<Self> {
        let shape = TtShape {
            in_factors,
            out_factors,
            ranks,
            bias,
        };
        forward::<Self>(x, params, shape).0
    }
}

impl TtContraction for Flex {}

#[cfg(feature = "ndarray")]
impl TtContraction for burn::backend::NdArray {}

/// Reads a float tensor to host memory as f32: its values and its leading dimension.
fn host<B: Backend>(t: FloatTensor<B>) -> (Vec<f32>, usize) {
    let rows = TensorMetadata::shape(&t)[0];
    let data = try_read_sync(B::float_into_data(t))
        .expect("CPU tensors read synchronously")
        .expect("CPU tensors read without error");
    let values = data
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("converted to f32");
    (values, rows)
}

fn upload<B: Backend, const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    device: &B::Device,
) -> FloatTensor<B> {
    B::float_from_data(TensorData::new(values, shape), device)
}

/// The contraction on host memory: `y` on the device of `x`, and what the backward pass needs.
fn forward<B: Backend>(
    x: FloatTensor<B>,
    params: FloatTensor<B>,
    shape: TtShape,
) -> (FloatTensor<B>, Saved) {
    let device = TensorMetadata::device(&x);
    let (x, batch) = host::<B>(x);
    let params = host::<B>(params).0;
    let (y, states) = contraction::forward(&shape, &x, batch, &params);
    let y = upload::<B, 2>(y, [batch, shape.d_output()], &device);
    let saved = Saved {
        shape,
        batch,
        params,
        states,
    };
    (y, saved)
}

/// What the backward step keeps: the shape, the parameters and the forward states on host
/// memory.
#[derive(Debug, Clone)]
struct Saved {
    shape: TtShape,
    batch: usize,
    params: Vec<f32>,
    states: Vec<Vec<f32>>,
}

#[derive(Debug)]
struct TtBackward;

impl<B: Backend> Backward<B, 2> for TtBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let device = TensorMetadata::device(&grad);
        let (dy, _) = host::<B>(grad);
        let [input, params] = ops.parents;
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
        if let Some(node) = params {
            let len = param_grads.len();
            grads.register::<B>(node.id, upload::<B, 1>(param_grads, [len], &device));
        }
    }
}

impl<B: Backend, C: CheckpointStrategy> TtContraction for Autodiff<B, C> {
    fn tt_contract(
        x: FloatTensor<Self>,
        params: FloatTensor<Self>,
        in_factors: Vec<usize>,
        out_factors: Vec<usize>,
        ranks: Vec<usize>,
        bias: bool,
    ) -> FloatTensor<Self> {
        let shape = TtShape {
            in_factors,
            out_factors,
            ranks,
            bias,
        };
        let (x, x_guard) = x.into_parts();
        let (params, params_guard) = params.into_parts();
        let (y, saved) = forward::<B>(x, params, shape);
        match TtBackward
            .prepare::<C>([x_guard, params_guard])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(saved, y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}
