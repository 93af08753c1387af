//! The TT contraction as one Burn operation with a hand-written backward (a backend extension):
//! the autodiff graph records a single node for the whole layer instead of a matmul, reshape and
//! transpose per core, and the products run in faer's kernels (see [`super::contraction`]).
//!
//! Runs on the CPU backends (Flex, NdArray) and their autodiff devices;
//! [`crate::host::supports`] says whether a device can run it, and `TtLinear` falls back to
//! composed tensor operations elsewhere (GPU devices), so models need no change.

// The extension macro expands code naming NdArray, deprecated in Burn 0.22 and kept reachable on
// purpose (see `CpuDevice`): its deprecation warning cannot be silenced on the items alone.
#![allow(deprecated)]

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, TensorMetadata, backend_extension};

use super::contraction::{self, Tape, TtShape};
use crate::host::{HostTensor, upload};

/// The extension: `y = W x (+ b)`, then `max(y, 0)` if `relu` (`[batch, N] -> [batch, M]`), for
/// the flat parameter vector `weights` of [`contraction::TtShape::split`] (the cores in the
/// layout of [`contraction`], then the bias if `bias`), `in_factors` `n_1..n_q`, `out_factors`
/// `m_1..m_q` and ranks `r_0..r_q`.
#[backend_extension(Flex, NdArray: cfg(feature = "ndarray"), Autodiff)]
pub(crate) trait TtContraction: Backend {
    fn tt_linear(
        x: FloatTensor<Self>,
        weights: FloatTensor<Self>,
        in_factors: Vec<usize>,
        out_factors: Vec<usize>,
        ranks: Vec<usize>,
        bias: bool,
        relu: bool,
    ) -> FloatTensor<Self>;
}

/// Implements the extension for `$backend` by handing the input, the weights and the shape to
/// `$run`.
macro_rules! tt_contraction {
    ([$($generics:tt)*] $backend:ty => $run:expr) => {
        impl<$($generics)*> TtContraction for $backend {
            fn tt_linear(
                x: FloatTensor<Self>,
                weights: FloatTensor<Self>,
                in_factors: Vec<usize>,
                out_factors: Vec<usize>,
                ranks: Vec<usize>,
                bias: bool,
                relu: bool,
            ) -> FloatTensor<Self> {
                $run(x, weights, TtShape::new(in_factors, out_factors, ranks, bias, relu))
            }
        }
    };
}

// Inference on a CPU backend: the contraction on host memory, no graph.
tt_contraction!([] Flex => |x, w, s| forward::<Flex>(x, w, s).0);
#[cfg(feature = "ndarray")]
tt_contraction!([] burn::backend::NdArray => |x, w, s| forward::<burn::backend::NdArray>(x, w, s).0);
// Training: one autodiff node.
tt_contraction!([B: HostTensor, C: CheckpointStrategy] Autodiff<B, C> => tracked::<B, C>);

/// The contraction on host memory: `y` on the device of `x`, and what the backward pass needs.
fn forward<B: HostTensor>(
    x: FloatTensor<B>,
    weights: FloatTensor<B>,
    shape: TtShape,
) -> (FloatTensor<B>, Saved) {
    let device = TensorMetadata::device(&x);
    let batch = TensorMetadata::shape(&x)[0];
    let x = B::read(x);
    let params = B::read(weights);
    let (y, tape) = contraction::forward(&shape, x, batch, &params);
    let y = upload::<B, 2>(y, [batch, shape.d_output()], &device);
    let saved = Saved {
        shape,
        batch,
        params,
        tape,
    };
    (y, saved)
}

/// What the backward step keeps: the shape, the weights and the forward [`Tape`], on host
/// memory.
#[derive(Debug, Clone)]
struct Saved {
    shape: TtShape,
    batch: usize,
    params: Vec<f32>,
    tape: Tape,
}

/// The backward step of the node whose parents are the input and the weights.
#[derive(Debug)]
struct TtBackward;

impl<B: HostTensor> Backward<B, 2> for TtBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let device = TensorMetadata::device(&grad);
        let dy = B::read(grad);
        let [input, weights] = ops.parents;
        let s = ops.state;
        let (weight_grads, dx) =
            contraction::backward(&s.shape, s.batch, &s.params, s.tape, dy, input.is_some());
        if let (Some(node), Some(dx)) = (input, dx) {
            let g = upload::<B, 2>(dx, [s.batch, s.shape.d_input()], &device);
            grads.register::<B>(node.id, g);
        }
        if let Some(node) = weights {
            let g = upload::<B, 1>(weight_grads, [s.params.len()], &device);
            grads.register::<B>(node.id, g);
        }
    }
}

/// Records the contraction as one autodiff node whose parents are `x` and `weights`.
fn tracked<B: HostTensor, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    weights: FloatTensor<Autodiff<B, C>>,
    shape: TtShape,
) -> FloatTensor<Autodiff<B, C>> {
    let (x, x_guard) = x.into_parts();
    let (weights, w_guard) = weights.into_parts();
    let (y, saved) = forward::<B>(x, weights, shape);
    match TtBackward
        .prepare::<C>([x_guard, w_guard])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(saved, y),
        OpsKind::UnTracked(prep) => prep.finish(y),
    }
}
