//! A one-core [`super::TtLinear`] (a dense layer: the FC encoder's layers, DTTE's head) on the
//! cubecl devices (cargo feature `wgpu`): `y = W x + b`, then the ReLU if the layer has one,
//! from the flat weights (`W` row-major `[M, N]`, then the bias) as one operation with one
//! kernel each way. The composed path slices the core and the bias out of the flat parameter
//! (a copy forward, a fill and a slice assignment backward each), transposes the input and
//! output, and runs the product, the bias add, the ReLU and their backward passes as separate
//! kernels. A layer of several cores (TT, DTTE's core) runs here too, on the dense weights
//! formed from its cores (`materialised.rs`).
//!
//! Backward, for the upstream gradient `G` (`[batch, M]`) masked by the ReLU (`y > 0`, as
//! Burn's): `dx = G W`, `dW = G^T x`, `db = sum_batch G`, in one launch.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

use super::contraction::TtShape;

mod kernels;

/// The extension: `[batch, N] -> [batch, M]` for the flat `weights` (`M N` entries of `W`, then
/// `M` of the bias if `bias`).
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"), Autodiff)]
pub(crate) trait DenseLayer: Backend {
    #[fusion(dtype = x, shape = burn::tensor::Shape::new([x[0], *outputs]))]
    fn dense_layer(
        x: FloatTensor<Self>,
        weights: FloatTensor<Self>,
        outputs: usize,
        bias: bool,
        relu: bool,
    ) -> FloatTensor<Self>;
}

/// The backward pass of [`DenseLayer`]: `(dx, d weights)` for the upstream gradient of `y`, the
/// forward output (for the ReLU's mask); `dx` is left unwritten unless `input_grad`.
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"))]
pub(crate) trait DenseLayerGradient: Backend {
    #[allow(clippy::too_many_arguments)]
    #[fusion(meta = |x, weights, _y, _g, _bias, _relu, _input_grad| (x.clone(), weights.clone()))]
    fn dense_layer_gradient(
        x: FloatTensor<Self>,
        weights: FloatTensor<Self>,
        y: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        bias: bool,
        relu: bool,
        input_grad: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

/// Everything but the tensors.
#[derive(Debug, Clone, Copy)]
struct Settings {
    bias: bool,
    relu: bool,
}

// Training: one autodiff node whose parents are the input and the weights.
impl<B: DenseLayer + DenseLayerGradient, C: CheckpointStrategy> DenseLayer for Autodiff<B, C> {
    fn dense_layer(
        x: FloatTensor<Self>,
        weights: FloatTensor<Self>,
        outputs: usize,
        bias: bool,
        relu: bool,
    ) -> FloatTensor<Self> {
        let (x, x_node) = x.into_parts();
        let (weights, w_node) = weights.into_parts();
        let y = B::dense_layer(x.clone(), weights.clone(), outputs, bias, relu);
        let s = Settings { bias, relu };
        match DenseBackward
            .prepare::<C>([x_node, w_node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((x, weights, y.clone(), s), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}

/// The backward step of the node whose parents are the input and the weights.
#[derive(Debug)]
struct DenseBackward;

impl<B: DenseLayer + DenseLayerGradient> Backward<B, 2> for DenseBackward {
    type State = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, Settings);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<B>(&ops.node);
        let (x, weights, y, s) = ops.state;
        let [input, params] = ops.parents;
        let (dx, dw) =
            B::dense_layer_gradient(x, weights, y, upstream, s.bias, s.relu, input.is_some());
        if let Some(node) = input {
            grads.register::<B>(node.id, dx);
        }
        if let Some(node) = params {
            grads.register::<B>(node.id, dw);
        }
    }
}

/// The layer of shape `shape` with flat `weights` on `x` (a layer of several cores through its
/// dense weights, `materialised.rs`), or `None` where the composed path must run (not a cubecl
/// device, or an empty batch).
pub(super) fn dense_layer(shape: &TtShape, weights: Tensor<1>, x: &Tensor<2>) -> Option<Tensor<2>> {
    if x.dims()[0] == 0 || !crate::cube::supports(&x.device()) {
        return None;
    }
    let weights = match shape.in_factors.len() {
        1 => weights,
        _ => super::materialised::materialised(shape, weights),
    };
    Some(Tensor::from_dispatch(
        <Dispatch as DenseLayer>::dense_layer(
            x.clone().into_dispatch(),
            weights.into_dispatch(),
            shape.d_output(),
            shape.bias,
            shape.relu,
        ),
    ))
}
