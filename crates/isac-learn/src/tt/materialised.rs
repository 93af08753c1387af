//! A layer of several TT cores on the cubecl devices (cargo feature `wgpu`): its dense matrix
//! `W` of eq. (36) formed from the cores in one kernel, so that the layer runs as the one-core
//! layer of `dense.rs` (`y = W x + b`, the ReLU) on the flat dense weights (`W` row-major, then
//! the bias). The composed contraction ([`super::TtLinear::forward_composed`]) runs a batched
//! product, a reshape and their backward passes per core plus the slices of the flat parameter:
//! about 16 launches a step for DTTE's core, where this is one launch each way (the dense
//! layer's two come on top). Forming `W` costs `M N q r^2` multiply-adds, a few million for the
//! encoders: nothing on a GPU, where the launches are what a step pays.
//!
//! Backward, for the gradient `dW` of the dense weights: entry `C_k[(m, b), (a, n)]` of core
//! `k` gets `sum dW[i, j] L_a R_b` over the rows `i` whose digit `k` is `m` and the columns `j`
//! whose digit `k` is `n`, with `L = G_1[..] .. G_{k-1}[..]` (a row of `r_{k-1}`) and `R =
//! G_{k+1}[..] .. G_q[..]` (a column of `r_k`) at those digits; the bias's gradient passes
//! through.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

use super::contraction::TtShape;

mod kernels;

/// The layer's shape as the kernels read it (compile-time values): the factors, the ranks,
/// where each core starts in the flat parameter, and the row-major strides of the digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TtLayout {
    in_factors: Vec<usize>,
    out_factors: Vec<usize>,
    ranks: Vec<usize>,
    /// Start of core `k` in the flat parameter; one more entry: the bias's start.
    offsets: Vec<usize>,
    in_strides: Vec<usize>,
    out_strides: Vec<usize>,
    bias: bool,
}

impl TtLayout {
    fn new(shape: &TtShape) -> Self {
        let strides = |factors: &[usize]| -> Vec<usize> {
            (0..factors.len())
                .map(|k| factors[k + 1..].iter().product())
                .collect()
        };
        let mut offsets = vec![0];
        for length in shape.core_lengths() {
            offsets.push(offsets.last().copied().unwrap_or(0) + length);
        }
        Self {
            in_strides: strides(&shape.in_factors),
            out_strides: strides(&shape.out_factors),
            in_factors: shape.in_factors.clone(),
            out_factors: shape.out_factors.clone(),
            ranks: shape.ranks.clone(),
            offsets,
            bias: shape.bias,
        }
    }

    /// `M N`, then the bias's `M` if any: the length of the dense weights.
    fn dense_len(&self) -> usize {
        let (m, n) = (self.d_output(), self.in_factors.iter().product::<usize>());
        m * n + if self.bias { m } else { 0 }
    }

    fn d_output(&self) -> usize {
        self.out_factors.iter().product()
    }
}

/// The extension: the flat dense weights (`[M N (+ M)]`) of the flat TT weights `weights`.
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"), Autodiff)]
pub(crate) trait TtMaterialise: Backend {
    #[fusion(dtype = weights, shape = burn::tensor::Shape::new([layout.dense_len()]))]
    fn tt_materialise(weights: FloatTensor<Self>, layout: TtLayout) -> FloatTensor<Self>;
}

/// The backward pass of [`TtMaterialise`]: the gradient of the flat TT weights for the
/// gradient of the dense weights.
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"))]
pub(crate) trait TtMaterialiseGradient: Backend {
    #[fusion(dtype = weights, shape = weights)]
    fn tt_materialise_gradient(
        weights: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        layout: TtLayout,
    ) -> FloatTensor<Self>;
}

// Training: one autodiff node whose parent is the flat TT weights.
impl<B: TtMaterialise + TtMaterialiseGradient, C: CheckpointStrategy> TtMaterialise
    for Autodiff<B, C>
{
    fn tt_materialise(weights: FloatTensor<Self>, layout: TtLayout) -> FloatTensor<Self> {
        let (weights, node) = weights.into_parts();
        let out = B::tt_materialise(weights.clone(), layout.clone());
        match MaterialiseBackward
            .prepare::<C>([node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((weights, layout), out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }
}

/// The backward step of the node whose parent is the flat TT weights.
#[derive(Debug)]
struct MaterialiseBackward;

impl<B: TtMaterialise + TtMaterialiseGradient> Backward<B, 1> for MaterialiseBackward {
    type State = (FloatTensor<B>, TtLayout);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<B>(&ops.node);
        let (weights, layout) = ops.state;
        let [parent] = ops.parents;
        if let Some(node) = parent {
            grads.register::<B>(
                node.id,
                B::tt_materialise_gradient(weights, upstream, layout),
            );
        }
    }
}

/// The flat dense weights (`W` row-major, then the bias) of a layer of shape `shape` with flat
/// TT weights `weights`, on a cubecl device.
pub(super) fn materialised(shape: &TtShape, weights: Tensor<1>) -> Tensor<1> {
    Tensor::from_dispatch(<Dispatch as TtMaterialise>::tt_materialise(
        weights.into_dispatch(),
        TtLayout::new(shape),
    ))
}
